/* admin.c — session, CSRF, input and scope helpers of the management API
 * (see admin.h). */
#include "http/admin.h"

#include "app/app.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/secmem.h"

#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <strings.h>

/* ---- request checks ------------------------------------------------------------ */

/* A browser sends Origin with every cross-site POST (and fetch); a page of
 * another site therefore names itself here. Without the header (curl, old
 * GET navigations) SameSite=Strict and the CSRF token still hold. */
bool admin_origin_ok(struct http_request *req, struct http_response *resp)
{
    const char *origin = http_header(req, "Origin");
    if (!origin)
        return true;
    const char *host = http_header(req, "Host");
    const char *sep = strstr(origin, "://");
    bool ok = host && sep && strcasecmp(sep + 3, host) == 0;
    if (!ok) {
        log_warn("admin.bad_origin", "refused a console request from another origin (%s)",
                 req->client_ip);
        http_error(resp, ZE_BAD_ORIGIN, NULL);
    }
    return ok;
}

/* application/json, with or without parameters (charset). */
static bool json_content_type(const struct http_request *req)
{
    static const char want[] = "application/json";
    const char *ct = http_header(req, "Content-Type");
    size_t n = sizeof want - 1;
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

bool admin_json_in(struct http_request *req, struct http_response *resp,
                   const struct tx_field *fields, size_t n, json_t **out)
{
    char err[160];
    json_error_t jerr;
    *out = NULL;
    if (!json_content_type(req)) {
        http_error(resp, ZE_UNSUPPORTED_MEDIA_TYPE, NULL);
        return false;
    }
    json_t *j = req->body && req->body_len
                    ? json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr)
                    : json_object();
    if (!json_is_object(j)) {
        json_decref(j);
        http_error(resp, ZE_BAD_REQUEST, "请求体须为 JSON 对象");
        return false;
    }
    /* The schema check of the transactions, for the same rules: types,
     * lengths, required members, nothing unknown. */
    struct tx_def def = {.code = "ADMIN", .fields = fields, .nfields = n};
    if (tx_validate(&def, j, err, sizeof err) != 0) {
        json_decref(j);
        http_error(resp, ZE_BAD_REQUEST, err);
        return false;
    }
    *out = j;
    return true;
}

bool admin_cookie_token(const struct http_request *req, char out[ADMIN_TOKEN_LEN + 1])
{
    static const char name[] = ADMIN_COOKIE "=";
    const char *p = http_header(req, "Cookie");
    out[0] = '\0';
    while (p && *p) {
        p += strspn(p, " ;");
        size_t len = strcspn(p, ";");
        if (strncmp(p, name, sizeof name - 1) == 0) {
            size_t vlen = len - (sizeof name - 1);
            if (vlen != ADMIN_TOKEN_LEN)
                return false;
            memcpy(out, p + sizeof name - 1, vlen);
            out[vlen] = '\0';
            return admin_token_valid(out);
        }
        p += len;
    }
    return false;
}

const char *admin_query(const struct http_request *req, const char *name)
{
    /* server.h offers headers only; the arguments come from the same MHD
     * connection, read-only. */
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *admin_str(const struct admin_req *ar, const char *key)
{
    return json_string_value(json_object_get(ar->in, key));
}

void admin_wipe_secret(struct http_request *req, json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    if (json_is_string(v))
        secmem_wipe((void *)(uintptr_t)json_string_value(v), json_string_length(v));
    /* The server's copy of the body is a heap buffer of its own, freed
     * after the handler: overwritten here rather than left for reuse. */
    if (req->body && req->body_len)
        secmem_wipe((void *)(uintptr_t)req->body, req->body_len);
}

/* An upload's Content-Type: application/octet-stream (parameters allowed). */
static bool octet_stream(const struct http_request *req, struct http_response *resp)
{
    const char *ct = http_header(req, "Content-Type");
    static const char want[] = "application/octet-stream";
    if (ct && strncasecmp(ct, want, sizeof want - 1) == 0 &&
        (ct[sizeof want - 1] == '\0' || ct[sizeof want - 1] == ';'))
        return true;
    http_error(resp, ZE_UNSUPPORTED_MEDIA_TYPE, NULL);
    return false;
}

/* ---- the session --------------------------------------------------------------- */

/* A video agent's console does remote video calls and nothing else: the
 * endpoints under /api/v1/admin/video, and its own session. */
static bool video_agent_route(const char *route)
{
    static const char *const OPEN[] = {"/api/v1/admin/me", "/api/v1/admin/logout"};
    if (!route)
        return false;
    if (strncmp(route, "/api/v1/admin/video/", 20) == 0)
        return true;
    for (size_t i = 0; i < sizeof OPEN / sizeof OPEN[0]; i++)
        if (strcmp(route, OPEN[i]) == 0)
            return true;
    return false;
}

static bool check_session(struct admin_req *ar)
{
    if (!admin_cookie_token(ar->req, ar->token)) {
        http_error(ar->resp, ZE_UNAUTHENTICATED, NULL);
        return false;
    }
    int rc = admin_session_check(ar->conn, ar->token, &ar->who);
    if (rc == ID_OK && ar->who.role == ROLE_VIDEO_AGENT && !video_agent_route(ar->req->route)) {
        admin_forbidden(ar);
        return false;
    }
    if (rc == ID_OK) {
        snprintf(ar->actor, sizeof ar->actor, "teller:%s", ar->who.teller_code);
        return true;
    }
    if (rc == ID_INVALID || rc == ID_EXPIRED)
        http_error_ex(ar->resp, ZE_UNAUTHENTICATED,
                      rc == ID_EXPIRED ? "登录已超时，请重新登录" : NULL,
                      json_pack("{s:s}", "reason", ar->who.end_reason));
    else
        admin_fail(ar, rc, "session check");
    return false;
}

static bool check_csrf(struct admin_req *ar)
{
    char want[ADMIN_CSRF_LEN + 1];
    const char *got = http_header(ar->req, "X-CSRF-Token");
    bool ok = admin_csrf(ar->token, want) == ID_OK && got &&
              strnlen(got, ADMIN_CSRF_LEN + 1) == ADMIN_CSRF_LEN &&
              secmem_equal(got, want, ADMIN_CSRF_LEN);
    secmem_wipe(want, sizeof want);
    if (!ok) {
        log_warn("admin.csrf", "teller %s: a write without the right CSRF token (%s)",
                 ar->who.teller_code, ar->req->client_ip);
        http_error(ar->resp, ZE_CSRF, NULL);
    }
    return ok;
}

bool admin_open(struct http_request *req, struct http_response *resp, enum admin_access acc,
                const struct tx_field *fields, size_t n, struct admin_req *ar)
{
    memset(ar, 0, sizeof *ar);
    ar->app = req->app;
    ar->req = req;
    ar->resp = resp;
    if (!admin_origin_ok(req, resp))
        return false;
    if (store_acquire(ar->app->store, &ar->conn) != STORE_OK) {
        http_error(resp, ZE_UNAVAILABLE, NULL);
        return false;
    }
    bool ok = check_session(ar);
    if (ok && acc == ADMIN_WRITE)
        ok = check_csrf(ar) && admin_json_in(req, resp, fields, n, &ar->in);
    if (ok && acc == ADMIN_UPLOAD)
        ok = check_csrf(ar) && octet_stream(req, resp);
    if (!ok)
        admin_close(ar);
    return ok;
}

void admin_close(struct admin_req *ar)
{
    json_decref(ar->in);
    ar->in = NULL;
    if (ar->conn)
        store_release(ar->conn);
    ar->conn = NULL;
    secmem_wipe(ar->token, sizeof ar->token);
}

/* ---- scope --------------------------------------------------------------------- */

bool admin_sees_bank(const struct admin_req *ar, int64_t bank_id)
{
    return ar->who.role == ROLE_PROVINCE_ADMIN || bank_id == ar->who.bank_id;
}

bool admin_sees_branch(const struct admin_req *ar, int64_t bank_id, int64_t branch_id)
{
    if (ar->who.role == ROLE_PROVINCE_ADMIN)
        return true;
    if (bank_id != ar->who.bank_id)
        return false;
    return ar->who.role == ROLE_BANK_ADMIN ||
           (ar->who.branch_id != 0 && branch_id == ar->who.branch_id);
}

bool admin_may_grant(const struct admin_req *ar, int role)
{
    return role_name(role) &&
           (ar->who.role == ROLE_PROVINCE_ADMIN || role_rank(role) < role_rank(ar->who.role));
}

bool admin_may_manage(struct admin_req *ar, const struct teller *t)
{
    if (t->id == ar->who.teller_id) {
        http_error(ar->resp, ZE_FORBIDDEN, "不能在管理台操作自己的账号");
        return false;
    }
    if (ar->who.role != ROLE_PROVINCE_ADMIN && role_rank(t->role) >= role_rank(ar->who.role)) {
        admin_forbidden(ar);
        return false;
    }
    return true;
}

int admin_list_bank(struct admin_req *ar, int64_t *bank_id)
{
    struct bank b;
    const char *code = admin_query(ar->req, "bank");
    *bank_id = ar->who.role == ROLE_PROVINCE_ADMIN ? 0 : ar->who.bank_id;
    int rc = code ? admin_find_bank(ar, code, &b) : ID_OK;
    if (rc == ID_OK && code)
        *bank_id = b.id;
    return rc;
}

int64_t admin_list_branch(const struct admin_req *ar)
{
    return ar->who.role == ROLE_BRANCH_MANAGER ? ar->who.branch_id : 0;
}

int admin_find_bank(struct admin_req *ar, const char *code, struct bank *out)
{
    int rc = org_find_bank(ar->conn, code, out);
    return rc == ID_OK && !admin_sees_bank(ar, out->id) ? ID_NOT_FOUND : rc;
}

int admin_find_branch(struct admin_req *ar, int64_t bank_id, const char *code, struct branch *out)
{
    int rc = org_find_branch(ar->conn, bank_id, code, out);
    return rc == ID_OK && !admin_sees_branch(ar, out->bank_id, out->id) ? ID_NOT_FOUND : rc;
}

int admin_find_teller(struct admin_req *ar, const char *code, struct teller *out)
{
    int rc = teller_find(ar->conn, code, out);
    return rc == ID_OK && !admin_sees_branch(ar, out->bank_id, out->branch_id) ? ID_NOT_FOUND : rc;
}

int admin_find_device(struct admin_req *ar, const char *dev, struct device *out)
{
    int rc = device_get(ar->conn, dev, out);
    return rc == ID_OK && !admin_sees_branch(ar, out->bank_id, out->branch_id) ? ID_NOT_FOUND : rc;
}

/* ---- lists --------------------------------------------------------------------- */

int admin_rows_add(struct admin_rows *r, json_t *row)
{
    if (row)
        json_array_append_new(r->list, row);
    return 0;
}

void admin_list(struct http_request *req, struct http_response *resp, const struct admin_list *l)
{
    struct admin_req ar;
    int64_t bank_id = 0, branch_id = 0;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    struct admin_rows r = {.ar = &ar, .list = json_array()};
    int rc = l->by_bank ? admin_list_bank(&ar, &bank_id) : ID_OK;
    if (l->by_bank)
        branch_id = admin_list_branch(&ar);
    /* The rows may come from a replica that has what the primary had now. */
    struct store_conn *primary = ar.conn, *reader = NULL;
    store_read_conn(primary, &reader);
    ar.conn = reader;
    if (rc == ID_OK)
        rc = r.list ? l->fetch(&r, bank_id, branch_id) : STORE_NOMEM;
    ar.conn = primary;
    store_release_read(primary, reader);
    if (rc == ID_OK)
        http_json(resp, 200, json_pack("{s:O}", l->key, r.list));
    else
        admin_fail(&ar, rc, l->what);
    json_decref(r.list);
    admin_close(&ar);
}

/* ---- writes and answers -------------------------------------------------------- */

bool admin_run(struct admin_req *ar, const char *what, store_txn_fn fn, void *arg,
               admin_refuse_fn refuse)
{
    int rc = store_run(ar->conn, what, fn, arg);
    if (rc == ID_OK)
        return true;
    if (refuse)
        refuse(ar, rc);
    else
        admin_fail(ar, rc, what);
    return false;
}

/* The code of an identity status that refuses a console request. */
static enum ze refusal_of(int rc)
{
    switch (rc) {
    case ID_NOT_FOUND:
        return ZE_NOT_FOUND;
    case ID_EXISTS:
        return ZE_EXISTS;
    case ID_CONFLICT:
        return ZE_CONFLICT;
    case ID_DISABLED:
        return ZE_NOT_ACTIVE;
    case ID_BAD_INPUT:
        return ZE_BAD_REQUEST;
    case STORE_BUSY:
        return ZE_UNAVAILABLE;
    default:
        return ZE_INTERNAL;
    }
}

void admin_fail(struct admin_req *ar, int rc, const char *what)
{
    enum ze e = refusal_of(rc);
    if (e == ZE_INTERNAL)
        log_error("admin.failed", "%s by %s: %s%s%s", what, ar->actor, id_rc_name(rc),
                  rc < 0 ? ": " : "", rc < 0 ? store_errmsg(ar->conn) : "");
    http_error(ar->resp, e, NULL);
}

void admin_forbidden(struct admin_req *ar)
{
    http_error(ar->resp, ZE_FORBIDDEN, NULL);
}

bool admin_open_report(struct http_request *req, struct http_response *resp, struct admin_req *ar)
{
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, ar))
        return false;
    if (ar->who.role == ROLE_PROVINCE_ADMIN || ar->who.role == ROLE_BANK_ADMIN ||
        ar->who.role == ROLE_BRANCH_MANAGER)
        return true;
    admin_forbidden(ar);
    admin_close(ar);
    return false;
}

/* ---- rows ---------------------------------------------------------------------- */

json_t *admin_teller_json(const struct teller *t)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:i,s:I,s:I}", "code", t->code, "name", t->name,
                     "role", role_name(t->role), "bank", t->bank_code, "branch", t->branch_code,
                     "active", t->active, "locked", teller_locked(t, clock_wall_ms()),
                     "failed_logins", t->failed_logins, "created_at", (json_int_t)t->created_at,
                     "pw_changed_at", (json_int_t)t->pw_changed_at);
}

json_t *admin_bank_json(const struct bank *b)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:I}", "code", b->code, "name", b->name, "kind",
                     b->kind == ORG_PROVINCE ? "province" : "bank", "active", b->active,
                     "created_at", (json_int_t)b->created_at);
}

json_t *admin_device_json(const struct device *d)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "dev", d->dev, "status",
                     device_status_name(d->status), "bank", d->bank_code, "teller", d->teller_code,
                     "model", d->model, "os", d->os, "app", d->app, "last_addr", d->last_addr,
                     "first_seen", (json_int_t)d->first_seen, "last_seen", (json_int_t)d->last_seen,
                     "activated_at", (json_int_t)d->activated_at, "revoked_at",
                     (json_int_t)d->revoked_at);
}
