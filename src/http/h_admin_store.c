/* The app store's management endpoints (docs/api.md §2.3 "App store"),
 * province admin only:
 *
 * POST /api/v1/admin/store/packages?app=&kind=&version=[&min_version=]
 *      [&notes=][&rollout=][&banks=B01,B02 | &branches=B01/0101,...]
 *      — the package's bytes as the body (application/octet-stream, up to
 *      [appstore] max_package_bytes), spooled to DATA/store/ and hashed by
 *      the server as they arrive (server.h HTTP_BODY_FILE); signed here
 *      (SM2, the server's first live key, over the 32-byte SM3), moved to
 *      DATA/store/<sm3>, then its row and audit record store.package_added
 *      committed. 201 {"package"}.
 * GET  /api/v1/admin/store/packages — every package, newest first.
 * POST /api/v1/admin/store/packages/withdraw {"id"} — no device is offered
 *      or may download it any more; audit store.package_withdrawn. */
#include "app/app.h"
#include "appstore/package.h"
#include "channel/sm.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/audit.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The package as the console sees it: targets by code. */
static json_t *package_json(struct store_conn *c, const struct pkg *p)
{
    static const char *const TARGET[] = {"all", "banks", "branches"};
    json_t *targets = json_array();
    for (int i = 0; targets && i < p->ntargets; i++) {
        struct bank b;
        struct branch br;
        char code[2 * ORG_CODE_MAX + 2];
        if (org_find_bank_id(c, p->targets[i].bank_id, &b) != ID_OK)
            continue;
        if (p->targets[i].branch_id > 0 &&
            org_find_branch_id(c, p->targets[i].branch_id, &br) == ID_OK)
            snprintf(code, sizeof code, "%s/%s", b.code, br.code);
        else
            snprintf(code, sizeof code, "%s", b.code);
        json_array_append_new(targets, json_string(code));
    }
    return json_pack("{s:I,s:s,s:s,s:s,s:s*,s:s,s:s,s:o,s:i,s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:o*}",
                     "id", (json_int_t)p->id, "app", p->app, "kind", p->kind, "version", p->version,
                     "min_version", p->min_version[0] ? p->min_version : NULL, "notes", p->notes,
                     "target", TARGET[p->target], "targets", targets, "rollout_percent",
                     p->rollout_percent, "size", (json_int_t)p->size, "sm3", p->sm3, "signature",
                     p->signature, "kid", p->sig_kid, "state", p->active ? "active" : "withdrawn",
                     "created_by", p->created_by, "created_at", (json_int_t)p->created_at,
                     "withdrawn_at", p->withdrawn_at ? json_integer(p->withdrawn_at) : NULL);
}

static bool province_only(struct admin_req *ar)
{
    if (ar->who.role == ROLE_PROVINCE_ADMIN)
        return true;
    admin_forbidden(ar);
    return false;
}

/* ---- upload ------------------------------------------------------------------ */

static bool bad(struct admin_req *ar, const char *what)
{
    char msg[160];
    snprintf(msg, sizeof msg, "参数不正确：%s", what);
    http_error(ar->resp, ZE_BAD_REQUEST, msg);
    return false;
}

/* One target of a comma-separated list: "B01" (banks) or "B01/0101" (branches). */
static bool parse_target(struct admin_req *ar, const char *item, size_t n, bool branch,
                         struct pkg_target_row *out)
{
    char code[2 * ORG_CODE_MAX + 2];
    if (n == 0 || n >= sizeof code)
        return false;
    memcpy(code, item, n);
    code[n] = '\0';
    char *slash = strchr(code, '/');
    if (branch != (slash != NULL))
        return false;
    if (slash)
        *slash = '\0';
    struct bank b;
    struct branch br;
    if (org_find_bank(ar->conn, code, &b) != ID_OK || b.kind != ORG_BANK)
        return false;
    *out = (struct pkg_target_row){.bank_id = b.id};
    if (slash) {
        if (org_find_branch(ar->conn, b.id, slash + 1, &br) != ID_OK)
            return false;
        out->branch_id = br.id;
    }
    return true;
}

static bool parse_targets(struct admin_req *ar, struct pkg *p)
{
    const char *banks = admin_query(ar->req, "banks");
    const char *branches = admin_query(ar->req, "branches");
    if (banks && branches)
        return bad(ar, "banks 与 branches 只能选一个");
    const char *list = banks ? banks : branches;
    p->target = banks ? PKG_TARGET_BANKS : branches ? PKG_TARGET_BRANCHES : PKG_TARGET_ALL;
    for (const char *s = list; s && *s;) {
        size_t n = strcspn(s, ",");
        if (p->ntargets == PKG_TARGETS_MAX ||
            !parse_target(ar, s, n, branches != NULL, &p->targets[p->ntargets]))
            return bad(ar, banks ? "banks（法人行社代码，逗号分隔）"
                                 : "branches（法人行社代码/网点代码，逗号分隔）");
        p->ntargets++;
        s += n + (s[n] == ',');
    }
    if (list && p->ntargets == 0)
        return bad(ar, banks ? "banks" : "branches");
    return true;
}

static bool parse_meta(struct admin_req *ar, struct pkg *p)
{
    const char *app = admin_query(ar->req, "app");
    const char *kind = admin_query(ar->req, "kind");
    const char *version = admin_query(ar->req, "version");
    const char *min = admin_query(ar->req, "min_version");
    const char *notes = admin_query(ar->req, "notes");
    const char *rollout = admin_query(ar->req, "rollout");
    if (!pkg_valid_app(app))
        return bad(ar, "app（如 zhanye.tablet）");
    if (!pkg_valid_kind(kind))
        return bad(ar, "kind（h5 或 apk）");
    if ((p->version_code = pkg_version_code(version)) < 0)
        return bad(ar, "version（主版本.次版本.修订号）");
    if (min && *min &&
        ((p->min_version_code = pkg_version_code(min)) < 0 ||
         p->min_version_code > p->version_code))
        return bad(ar, "min_version（不高于 version 的版本号）");
    if (notes && strlen(notes) > PKG_NOTES_MAX)
        return bad(ar, "notes（过长）");
    char *end = NULL;
    long pct = rollout && *rollout ? strtol(rollout, &end, 10) : 100;
    if ((end && *end) || pct < 0 || pct > 100)
        return bad(ar, "rollout（0–100）");
    snprintf(p->app, sizeof p->app, "%s", app);
    snprintf(p->kind, sizeof p->kind, "%s", kind);
    snprintf(p->version, sizeof p->version, "%s", version);
    snprintf(p->min_version, sizeof p->min_version, "%s", min && *min ? min : "");
    snprintf(p->notes, sizeof p->notes, "%s", notes ? notes : "");
    p->rollout_percent = (int)pct;
    return parse_targets(ar, p);
}

/* The SM3 as hex and its SM2 signature under the server's first live key
 * (the one tablets pin at activation: GET /api/v1/pubkey lists it first). */
static bool sign_package(struct admin_req *ar, const uint8_t sm3[SM3_LEN], struct pkg *p)
{
    const struct keyring *kr = &ar->app->keys;
    uint8_t sig[SM2_SIG_MAX];
    size_t siglen = 0;
    sm_part part = {sm3, SM3_LEN};
    if (kr->n < 1 || sm2_sign(kr->keys[0].key, &part, 1, sig, sizeof sig, &siglen) != SM_OK ||
        b64_encode(sig, siglen, p->signature, sizeof p->signature) < 0) {
        log_error("store.sign", "cannot sign a package");
        http_error(ar->resp, ZE_INTERNAL, NULL);
        return false;
    }
    hex_encode(sm3, SM3_LEN, p->sm3, sizeof p->sm3);
    snprintf(p->sig_kid, sizeof p->sig_kid, "%s", kr->keys[0].kid);
    return true;
}

struct add_args {
    struct pkg *p;
};

static int add_txn(struct store_conn *c, void *arg)
{
    struct add_args *a = arg;
    int rc = pkg_add(c, a->p);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)a->p->id);
    if (rc == ID_OK)
        rc = audit_appendf(c, 0, a->p->created_by, "store.package_added", id,
                           "{s:s,s:s,s:s,s:I,s:s,s:i,s:s*}", "app", a->p->app, "version",
                           a->p->version, "sm3", a->p->sm3, "size", (json_int_t)a->p->size, "kind",
                           a->p->kind, "rollout_percent", a->p->rollout_percent, "min_version",
                           a->p->min_version[0] ? a->p->min_version : NULL);
    return rc;
}

static void add_refused(struct admin_req *ar, int rc)
{
    if (rc == ID_EXISTS)
        http_error(ar->resp, ZE_EXISTS, "该应用的这个版本已上传过，请使用新的版本号");
    else
        admin_fail(ar, rc, "add a package");
}

void h_admin_store_upload(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct pkg *p = calloc(1, sizeof *p);
    if (!p) {
        http_error(resp, ZE_INTERNAL, NULL);
        return;
    }
    if (!admin_open(req, resp, ADMIN_UPLOAD, NULL, 0, &ar)) {
        free(p);
        return;
    }
    char path[PATH_MAX];
    if (!province_only(&ar) || !parse_meta(&ar, p))
        goto out;
    if (!req->spool_path || req->body_len == 0) {
        bad(&ar, "请求体应为安装包内容");
        goto out;
    }
    if (!sign_package(&ar, req->spool_sm3, p))
        goto out;
    p->size = (int64_t)req->body_len;
    p->created_at = clock_wall_ms();
    snprintf(p->created_by, sizeof p->created_by, "%s", ar.actor);
    /* Content-addressed: the same bytes land on the same name. */
    if (pkg_file_path(ar.app->cfg.data_dir, p->sm3, path, sizeof path) != 0 ||
        rename(req->spool_path, path) != 0) {
        log_error("store.upload", "cannot keep the package as %s: %s", path, strerror(errno));
        http_error(resp, ZE_UNAVAILABLE, NULL);
        goto out;
    }
    struct add_args a = {.p = p};
    if (admin_run(&ar, "add a package", add_txn, &a, add_refused)) {
        log_info("store.upload", "package %lld: %s %s (%lld bytes) by %s", (long long)p->id, p->app,
                 p->version, (long long)p->size, ar.actor);
        http_json(resp, 201, json_pack("{s:o}", "package", package_json(ar.conn, p)));
    } else if (pkg_sm3_used(ar.conn, p->sm3) == ID_NOT_FOUND) {
        (void)unlink(path); /* refused, and no other package has these bytes */
    }
out:
    admin_close(&ar);
    free(p);
}

/* ---- list and withdraw --------------------------------------------------------- */

struct list_args {
    struct store_conn *c;
    json_t *list;
};

static int list_row(const struct pkg *row, void *arg)
{
    struct list_args *l = arg;
    struct pkg *p = malloc(sizeof *p);
    if (!p)
        return STORE_NOMEM;
    int rc = pkg_get(l->c, row->id, p); /* with its targets */
    if (rc == ID_OK)
        json_array_append_new(l->list, package_json(l->c, p));
    free(p);
    return rc;
}

void h_admin_store_packages(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (province_only(&ar)) {
        struct list_args l = {.c = ar.conn, .list = json_array()};
        int rc = pkg_list(ar.conn, list_row, &l);
        if (rc == ID_OK)
            http_json(resp, 200, json_pack("{s:o}", "packages", l.list));
        else {
            json_decref(l.list);
            admin_fail(&ar, rc, "list packages");
        }
    }
    admin_close(&ar);
}

static const struct tx_field F_WITHDRAW[] = {
    {"id", TXF_INT, true, 0},
};

struct withdraw_args {
    const char *actor;
    int64_t id;
    struct pkg *p;
};

static int withdraw_txn(struct store_conn *c, void *arg)
{
    struct withdraw_args *a = arg;
    int rc = pkg_withdraw(c, a->id, clock_wall_ms());
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)a->id);
    if (rc == ID_OK)
        rc = pkg_get(c, a->id, a->p);
    if (rc == ID_OK)
        rc = audit_appendf(c, 0, a->actor, "store.package_withdrawn", id, "{s:s,s:s}", "app",
                           a->p->app, "version", a->p->version);
    return rc;
}

static void withdraw_refused(struct admin_req *ar, int rc)
{
    if (rc == ID_CONFLICT)
        http_error(ar->resp, ZE_CONFLICT, "该安装包已下架");
    else
        admin_fail(ar, rc, "withdraw a package");
}

void h_admin_store_withdraw(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_WRITE, F_WITHDRAW, 1, &ar))
        return;
    struct pkg *p = calloc(1, sizeof *p);
    if (!p)
        http_error(resp, ZE_INTERNAL, NULL);
    else if (province_only(&ar)) {
        struct withdraw_args a = {
            .actor = ar.actor, .id = json_integer_value(json_object_get(ar.in, "id")), .p = p};
        if (admin_run(&ar, "withdraw a package", withdraw_txn, &a, withdraw_refused))
            http_json(resp, 200, json_pack("{s:o}", "package", package_json(ar.conn, p)));
    }
    free(p);
    admin_close(&ar);
}
