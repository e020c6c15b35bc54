/* POST /api/v1/admin/login  — {teller, password}: a console session cookie and its CSRF token
 * POST /api/v1/admin/logout — ends the session, clears the cookie
 * GET  /api/v1/admin/me     — who is logged in, and the CSRF token again (after a reload)
 *
 * The password check is the tablets' (same Argon2id hashes) on the console's
 * own channel (identity/teller.h, TELLER_CONSOLE): console failures count
 * and lock apart from the tablets', so a flood of console logins never locks
 * a client manager out of the field. Only branch managers, bank admins and
 * province admins may open a console; for anyone else the console answers as
 * for a wrong password (after the same Argon2id work) and counts nothing.
 * No answer tells that a teller code exists: a locked or disabled teller is
 * told so only when the password given is right.
 *
 * No database connection is held during Argon2id: one short acquire reads
 * the teller, the password is checked with none held, and a second acquire
 * records the outcome and opens the session. A pool that stays exhausted
 * (store_acquire times out) answers 503 `unavailable`. */
#include "app/app.h"
#include "data/tenant.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "http/admin.h"
#include "http/handlers.h"

#include <stdio.h>
#include <string.h>

#define COOKIE_PATH "; Path=/api/v1/admin"
#define COOKIE_ATTRS "; HttpOnly; SameSite=Strict"
#define COOKIE_SECURE "; Secure"

static const struct tx_field F_LOGIN[] = {
    {"teller", TXF_STRING, true, TELLER_CODE_MAX},
    {"password", TXF_STRING, true, TELLER_PW_MAX},
};

/* Set-Cookie for value (clear: expires it at once); Secure when the
 * console is served over https ([server] public_url). */
static bool set_cookie(struct http_response *resp, const char *value, bool clear)
{
    char line[sizeof resp->headers[0].value];
    const char *age = clear ? "; Max-Age=0" : "";
    int n = snprintf(line, sizeof line, "%s=%s%s%s%s%s", ADMIN_COOKIE, value, age, COOKIE_PATH,
                     COOKIE_ATTRS, resp->https ? COOKIE_SECURE : "");
    bool ok = n > 0 && (size_t)n < sizeof line && http_add_header(resp, "Set-Cookie", line) == 0;
    secmem_wipe(line, sizeof line);
    return ok;
}

/* The answer of login and me: who, the CSRF token, the timeouts. */
static void answer_session(struct http_response *resp, const struct admin_session *w,
                           const char *token)
{
    char csrf[ADMIN_CSRF_LEN + 1];
    json_t *who =
        json_pack("{s:s,s:s,s:s,s:s,s:s}", "code", w->teller_code, "name", w->teller_name, "role",
                  role_name(w->role), "bank", w->bank_code, "branch", w->branch_code);
    if (!who || admin_csrf(token, csrf) != ID_OK) {
        json_decref(who);
        http_error(resp, ZE_INTERNAL, NULL);
        return;
    }
    http_json(resp, 200,
              json_pack("{s:o,s:s,s:I,s:I}", "teller", who, "csrf_token", csrf, "expires_at",
                        (json_int_t)w->expires_at, "idle_timeout_s",
                        (json_int_t)(w->idle_ms / 1000)));
    secmem_wipe(csrf, sizeof csrf);
}

/* Answers a refused login. A wrong password, an unknown teller and a role
 * without console access get the same words, so the console reveals no
 * teller codes; teller_attempt_record tells a lock or a disabled teller
 * only to the right password. */
static void refuse_login(struct http_response *resp, int rc)
{
    if (rc == ID_LOCKED)
        http_error(resp, ZE_TELLER_LOCKED, NULL);
    else if (rc == ID_DISABLED)
        http_error(resp, ZE_TELLER_DISABLED, NULL);
    else if (rc == ID_BAD_PASSWORD || rc == ID_NOT_FOUND || rc == ID_BAD_INPUT)
        http_error(resp, ZE_BAD_PASSWORD, NULL);
    else if (rc == STORE_BUSY)
        http_error(resp, ZE_UNAVAILABLE, NULL);
    else
        http_error(resp, ZE_INTERNAL, NULL);
}

/* A teller without console access: the attempt is dropped (nothing counted,
 * nothing written, so neither the answer nor its timing tells whether the
 * password was right) and answered as a wrong password. The log, which no
 * caller reads, notes a right one. */
static void refuse_role(struct http_request *req, struct http_response *resp,
                        const struct teller_attempt *at)
{
    if (at->verdict == ID_OK)
        log_warn("admin.login_refused", "teller %s (%s) may not use the console (from %s)",
                 at->t.code, role_name(at->t.role), req->client_ip);
    refuse_login(resp, ID_BAD_PASSWORD);
}

/* store_run callback: a new console session, read back as every later
 * request will see it. */
struct new_session {
    const struct teller *t;
    const char *addr;
    int idle_s;
    int absolute_s;
    char token[ADMIN_TOKEN_LEN + 1];
    struct admin_session who;
};

static int session_txn(struct store_conn *c, void *arg)
{
    struct new_session *n = arg;
    secmem_wipe(n->token, sizeof n->token);
    int rc = admin_session_create(c, n->t, n->addr, n->idle_s, n->absolute_s, n->token);
    if (rc == ID_OK)
        rc = admin_session_check(c, n->token, &n->who);
    return rc;
}

static void open_session(struct app *a, struct store_conn *c, struct http_request *req,
                         struct http_response *resp, const struct teller *t)
{
    struct new_session n = {
        .t = t,
        .addr = req->client_ip,
        .idle_s = a->cfg.identity.idle_timeout_s,
        .absolute_s = a->cfg.identity.absolute_timeout_s,
    };
    int rc = store_run(c, "admin.login", session_txn, &n);
    if (rc == ID_DISABLED || rc == ID_BAD_INPUT || rc == STORE_BUSY) {
        refuse_login(resp, rc); /* disabled or role revoked since the check; busy */
    } else if (rc != ID_OK) {
        log_error("admin.login", "teller %s: cannot open a console session: %s", t->code,
                  id_rc_name(rc));
        http_error(resp, ZE_INTERNAL, NULL);
    } else if (!set_cookie(resp, n.token, false)) {
        http_error(resp, ZE_INTERNAL, NULL);
    } else {
        log_info("admin.login", "teller %s opened a console session from %s", t->code,
                 req->client_ip);
        answer_session(resp, &n.who, n.token);
    }
    secmem_wipe(n.token, sizeof n.token);
}

/* Reads the teller on a connection held for that read only. */
static int load(struct app *a, const char *code, const char *pw, struct teller_attempt *at)
{
    struct store_conn *c = NULL;
    int rc = store_acquire(a->store, &c);
    if (rc != STORE_OK)
        return rc;
    rc = teller_attempt_load(c, TELLER_CONSOLE, code, pw, at);
    store_release(c);
    return rc;
}

void h_admin_login(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->app;
    struct store_conn *c = NULL;
    struct teller_attempt at = {.state = ID_ERR};
    struct teller t;
    json_t *in = NULL;
    if (!admin_origin_ok(req, resp) || !admin_json_in(req, resp, F_LOGIN, 2, &in))
        goto out;
    const char *code = json_string_value(json_object_get(in, "teller"));
    const char *pw = json_string_value(json_object_get(in, "password"));
    struct lockout policy = {
        .max_failures = a->cfg.identity.max_failures,
        .lock_ms = (int64_t)a->cfg.identity.lock_minutes * 60000,
    };
    int rc = load(a, code, pw, &at);
    if (rc != ID_OK) {
        refuse_login(resp, rc);
        goto out;
    }
    teller_attempt_check(&at, pw); /* Argon2id: no connection held */
    if (at.state == ID_OK && !admin_role_allowed(at.t.role)) {
        refuse_role(req, resp, &at);
        goto out;
    }
    if (at.state != ID_OK) { /* unknown code, malformed input: the final answer */
        refuse_login(resp, at.state);
        goto out;
    }
    rc = store_acquire(a->store, &c);
    if (rc == STORE_OK)
        rc = teller_attempt_record(c, &at, &policy, &t);
    if (rc != ID_OK)
        refuse_login(resp, rc);
    else
        open_session(a, c, req, resp, &t);
out:
    teller_attempt_wipe(&at);
    admin_wipe_secret(req, in, "password");
    json_decref(in);
    if (c)
        store_release(c);
}

/* store_run callback: the session of the cookie ends; arg is its token. */
static int logout_txn(struct store_conn *c, void *arg)
{
    return admin_session_end(c, arg, "logged_out");
}

void h_admin_logout(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_WRITE, NULL, 0, &ar))
        return;
    if (!admin_run(&ar, "logout", logout_txn, ar.token, NULL))
        goto out;
    if (!set_cookie(resp, "", true))
        http_error(resp, ZE_INTERNAL, NULL);
    else
        http_json(resp, 200, json_pack("{s:s}", "status", "logged_out"));
out:
    admin_close(&ar);
}

void h_admin_me(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    answer_session(resp, &ar.who, ar.token);
    admin_close(&ar);
}
