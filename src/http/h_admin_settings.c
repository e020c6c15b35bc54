/* POST /api/v1/admin/banks/settings — a bank's own settings:
 *   {"bank"?, "attach_max_bytes"} -> 200 {"settings": {"bank", "attach_max_bytes"}}
 *
 * attach_max_bytes: the bank's limit on one attachment in bytes
 * (business/attach_limit.h: 1024..64M), or 0 to remove it (then
 * [business] attach_max_bytes applies; answered null). A bank admin sets
 * their own bank's ("bank" absent or their own); the province names the
 * bank; anyone else is 403 forbidden, another bank 404 not_found. Written
 * in the bank's shard (data/shard.h), fence checked, audited there
 * (bank.settings_changed); 503 unavailable while the bank is being moved.
 * The same as `zhanye bank set --attach-max-bytes`. */
#include "app/app.h"
#include "business/attach_limit.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/handlers.h"

static const struct tx_field F_SETTINGS[] = {
    {.name = "bank", .type = TXF_STRING, .max = ORG_CODE_MAX},
    {.name = "attach_max_bytes", .type = TXF_INT, .required = true},
};

enum { MOVING = 30 }; /* positive: store_run rolls back */

struct settings_args {
    int64_t bank_id, teller_id, max_bytes;
    const char *actor;
};

/* store_run callback on the bank's shard. */
static int settings_txn(struct store_conn *c, void *arg)
{
    struct settings_args *x = arg;
    int rc = shard_fence(c, x->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE)
        return MOVING;
    if (rc != SHARD_HERE)
        return rc;
    struct scope sc = {x->bank_id, 0, x->teller_id, ROLE_BANK_ADMIN};
    struct tenant_conn *tc = NULL;
    rc = tenant_open(c, &sc, &tc);
    if (rc == STORE_OK)
        rc = attach_limit_set(tc, x->actor, x->max_bytes, clock_wall_ms());
    tenant_close(tc);
    return rc;
}

/* The bank: the named one (in the administrator's sight), or their own. */
static int settings_bank(struct admin_req *ar, struct bank *b)
{
    const char *code = admin_str(ar, "bank");
    if (code)
        return admin_find_bank(ar, code, b);
    if (ar->who.role == ROLE_PROVINCE_ADMIN)
        return ID_BAD_INPUT; /* say which bank */
    return org_find_bank_id(ar->conn, ar->who.bank_id, b);
}

void h_admin_bank_settings(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct bank b;
    if (!admin_open(req, resp, ADMIN_WRITE, F_SETTINGS, sizeof F_SETTINGS / sizeof F_SETTINGS[0],
                    &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN && ar.who.role != ROLE_BANK_ADMIN) {
        admin_forbidden(&ar);
        goto out;
    }
    json_int_t max = json_integer_value(json_object_get(ar.in, "attach_max_bytes"));
    if (max < 0 || (max && max < ATTACH_LIMIT_MIN) || max > ATTACH_LIMIT_MAX) {
        http_error(resp, ZE_BAD_REQUEST, "attach_max_bytes: 须为1024到67108864之间的字节数，或0");
        goto out;
    }
    int rc = settings_bank(&ar, &b);
    if (rc == ID_OK && b.kind != ORG_BANK)
        rc = ID_BAD_INPUT;
    if (rc != ID_OK) {
        admin_fail(&ar, rc, "bank settings");
        goto out;
    }
    struct settings_args x = {
        .bank_id = b.id, .teller_id = ar.who.teller_id, .max_bytes = max, .actor = ar.actor};
    struct store *st = shards_route(ar.app->shards, b.id, NULL);
    struct store_conn *c = st == ar.app->store ? ar.conn : NULL;
    rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "admin.bank_settings", settings_txn, &x);
    if (c && c != ar.conn)
        store_release(c);
    if (rc == STORE_OK)
        http_json(resp, 200,
                  json_pack("{s:{s:s, s:o}}", "settings", "bank", b.code, "attach_max_bytes",
                            max ? json_integer(max) : json_null()));
    else
        admin_fail(&ar, rc == MOVING ? STORE_BUSY : rc, "bank settings");
out:
    admin_close(&ar);
}
