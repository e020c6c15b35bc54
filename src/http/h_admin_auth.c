/* POST /api/v1/admin/login  — {teller, password}: a console session cookie and its CSRF token
 * POST /api/v1/admin/logout — ends the session, clears the cookie
 * GET  /api/v1/admin/me     — who is logged in, and the CSRF token again (after a reload)
 *
 * The password check is the tablets' (teller_verify_password): the same
 * lockout counts console and tablet failures together. Only branch
 * managers, bank admins and province admins may open a console. */
#include "app/app.h"
#include "data/tenant.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/audit.h"

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
        http_error(resp, 500, "internal", "内部错误");
        return;
    }
    http_json(resp, 200,
              json_pack("{s:o,s:s,s:I,s:I}", "teller", who, "csrf_token", csrf, "expires_at",
                        (json_int_t)w->expires_at, "idle_timeout_s",
                        (json_int_t)(w->idle_ms / 1000)));
    secmem_wipe(csrf, sizeof csrf);
}

/* Answers a failed password check; the same words for an unknown teller
 * and a wrong password, so the console reveals no teller codes. */
static void refuse_login(struct http_response *resp, int rc)
{
    if (rc == ID_LOCKED)
        http_error(resp, 403, "teller_locked",
                   "密码错误次数过多，柜员已锁定，请稍后再试或联系管理员");
    else if (rc == ID_DISABLED)
        http_error(resp, 403, "teller_disabled", "柜员已停用");
    else if (rc == ID_BAD_PASSWORD || rc == ID_NOT_FOUND || rc == ID_BAD_INPUT)
        http_error(resp, 401, "bad_password", "柜员号或密码错误");
    else
        http_error(resp, 500, "internal", "内部错误");
}

/* A teller without console access knew the password: recorded, refused. */
static void refuse_role(struct store_conn *c, struct http_request *req, struct http_response *resp,
                        const struct teller *t)
{
    char actor[ADMIN_ACTOR_MAX];
    snprintf(actor, sizeof actor, "teller:%s", t->code);
    int rc = store_begin(c);
    if (rc == STORE_OK)
        rc = audit_appendf(c, t->bank_id, actor, "admin.login_refused", t->code, "{s:s, s:s}",
                           "role", role_name(t->role), "addr", req->client_ip);
    if (rc == ID_OK)
        rc = store_commit(c);
    if (rc != ID_OK)
        store_rollback(c);
    log_warn("admin.login_refused", "teller %s (%s) may not use the console", t->code,
             role_name(t->role));
    http_error(resp, 403, "forbidden", "该角色无权登录管理台");
}

static void open_session(struct app *a, struct store_conn *c, struct http_request *req,
                         struct http_response *resp, const struct teller *t)
{
    char token[ADMIN_TOKEN_LEN + 1];
    struct admin_session who;
    const struct config *cfg = &a->cfg;
    int rc = store_begin(c);
    if (rc == STORE_OK)
        rc = admin_session_create(c, t, req->client_ip, cfg->identity.idle_timeout_s,
                                  cfg->identity.absolute_timeout_s, token);
    if (rc == ID_OK)
        rc = store_commit(c);
    if (rc != ID_OK)
        store_rollback(c);
    else /* read back as every later request will see it */
        rc = admin_session_check(c, token, &who);
    if (rc != ID_OK) {
        log_error("admin.login", "teller %s: cannot open a console session: %s", t->code,
                  id_rc_name(rc));
        http_error(resp, rc == STORE_BUSY ? 503 : 500, "internal", "内部错误，请稍后重试");
    } else if (!set_cookie(resp, token, false)) {
        http_error(resp, 500, "internal", "内部错误");
    } else {
        log_info("admin.login", "teller %s opened a console session from %s", t->code,
                 req->client_ip);
        answer_session(resp, &who, token);
    }
    secmem_wipe(token, sizeof token);
}

void h_admin_login(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->app;
    struct store_conn *c = NULL;
    struct teller t;
    json_t *in = NULL;
    if (!admin_origin_ok(req, resp) || !admin_json_in(req, resp, F_LOGIN, 2, &in))
        goto out;
    if (store_acquire(a->store, &c) != STORE_OK) {
        http_error(resp, 503, "unavailable", "服务暂不可用");
        goto out;
    }
    struct lockout policy = {
        .max_failures = a->cfg.identity.max_failures,
        .lock_ms = (int64_t)a->cfg.identity.lock_minutes * 60000,
    };
    int rc =
        teller_verify_password(c, json_string_value(json_object_get(in, "teller")),
                               json_string_value(json_object_get(in, "password")), &policy, &t);
    if (rc != ID_OK)
        refuse_login(resp, rc);
    else if (!admin_role_allowed(t.role))
        refuse_role(c, req, resp, &t);
    else
        open_session(a, c, req, resp, &t);
out:
    admin_wipe_secret(req, in, "password");
    json_decref(in);
    if (c)
        store_release(c);
}

void h_admin_logout(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_WRITE, NULL, 0, &ar))
        return;
    if (!admin_begin(&ar))
        goto out;
    int rc = admin_session_end(ar.conn, ar.token, "logged_out");
    if (!admin_commit(&ar, rc))
        admin_fail(&ar, rc, "logout");
    else if (!set_cookie(resp, "", true))
        http_error(resp, 500, "internal", "内部错误");
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
