#include "appstore/tx_store.h"
#include "appstore/dltoken.h"
#include "appstore/package.h"
#include "appstore/rollout.h"
#include "identity/identity.h"
#include "foundation/clock.h"
#include "foundation/log.h"

#include <stdio.h>
#include <string.h>

/* The first package of the walk (highest version first) that reaches dev. */
struct pick {
    const char *dev;
    struct pkg p;
    bool found;
};

static int pick_one(const struct pkg *p, void *arg)
{
    struct pick *k = arg;
    if (!pkg_rollout_includes(p->id, k->dev, p->rollout_percent))
        return 0;
    k->p = *p;
    k->found = true;
    return 1; /* stop */
}

static json_t *package_json(const struct pkg *p, const char *token, int64_t exp_s)
{
    char url[96 + DLTOKEN_MAX];
    snprintf(url, sizeof url, "/api/v1/store/packages/%lld?token=%s", (long long)p->id, token);
    return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s*,s:I,s:s,s:s,s:s,s:s,s:I}", "id", (json_int_t)p->id,
                     "app", p->app, "kind", p->kind, "version", p->version, "notes", p->notes,
                     "min_version", p->min_version[0] ? p->min_version : NULL, "size",
                     (json_int_t)p->size, "sm3", p->sm3, "signature", p->signature, "kid",
                     p->sig_kid, "url", url, "token_expires_at", (json_int_t)(exp_s * 1000));
}

static enum tx_result tx_app_latest(struct tx_ctx *c)
{
    const char *app = json_string_value(json_object_get(c->in, "app"));
    const char *version = json_string_value(json_object_get(c->in, "version"));
    int64_t have = pkg_version_code(version);
    if (!pkg_valid_app(app)) {
        tx_failf(c, ZE_BAD_REQUEST, "应用标识不正确：app");
        return TX_COMMIT;
    }
    if (have < 0) {
        tx_failf(c, ZE_BAD_REQUEST, "版本号格式不正确（应为 主版本.次版本.修订号）：version");
        return TX_COMMIT;
    }
    if (!c->env->store_token_key)
        return TX_ROLLBACK;
    struct pick k = {.dev = c->dev};
    int rc = pkg_for_device(c->conn, app, c->bank_id, c->branch_id, pick_one, &k);
    if (rc != ID_OK && rc != 1) {
        log_error("store.latest", "cannot read the packages of %s: %s", app, store_rc_name(rc));
        return TX_ROLLBACK;
    }
    bool update = k.found && k.p.version_code > have;
    bool forced = update && k.p.min_version_code > have;
    json_t *pkg = json_null();
    if (update) {
        int64_t exp_s = clock_wall_ms() / 1000 + c->env->store_token_ttl_s;
        char token[DLTOKEN_MAX + 1];
        if (dltoken_mint(c->env->store_token_key, k.p.id, c->dev, exp_s, token) != 0)
            return TX_ROLLBACK;
        pkg = package_json(&k.p, token, exp_s);
        if (!pkg)
            return TX_ROLLBACK;
    }
    json_object_set_new(c->out, "update", json_boolean(update));
    json_object_set_new(c->out, "forced", json_boolean(forced));
    json_object_set_new(c->out, "package", pkg);
    return TX_COMMIT;
}

static const struct tx_field F_APP_LATEST[] = {
    {"app", TXF_STRING, true, PKG_APP_MAX},
    {"version", TXF_STRING, true, PKG_VERSION_MAX},
};

const struct tx_def TX_APP_LATEST = {
    .code = "APP_LATEST",
    .fn = tx_app_latest,
    .needs_session = true,
    .read_only = true,
    .mdm_open = true,
    .fields = F_APP_LATEST,
    .nfields = sizeof F_APP_LATEST / sizeof F_APP_LATEST[0],
};
