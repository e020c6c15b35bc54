/* GET /api/v1/admin/mdm/devices — the managed devices of a bank with their
 * compliance: ?bank=CODE ->
 *   200 {"devices":[{"dev","status","bank","teller","model","os","app",...
 *        (as GET /devices), "branch_id", "compliance": null (never checked
 *        in) or {"checked_at","compliant","violations","policy_version",
 *        "os","app_version"}}]}
 * The devices come from the directory (identity/device.h), in the
 * administrator's scope (a branch manager: their branch's); their verdicts
 * from the bank's shard (business/mdm_device.h). A province admin names the
 * bank (400 without ?bank=); a bank outside the scope is 404. */
#include "app/app.h"
#include "business/mdm_device.h"
#include "business/mdm_policy.h"
#include "http/admin.h"
#include "http/admin_bank.h"
#include "http/handlers.h"

static int rows_fn(struct tenant_conn *tc, void *arg)
{
    json_t **rows = arg;
    return mdm_device_rows(tc, rows) == MDM_OK ? STORE_OK : STORE_ERR;
}

struct devices {
    struct admin_req *ar;
    json_t *list, *verdicts;
};

static int device_row(const struct device *d, void *arg)
{
    struct devices *x = arg;
    if (!admin_sees_branch(x->ar, d->bank_id, d->branch_id))
        return 0;
    json_t *row = admin_device_json(d);
    json_t *v = json_object_get(x->verdicts, d->dev);
    if (!row || json_object_set_new(row, "branch_id", json_integer(d->branch_id)) != 0 ||
        json_object_set_new(row, "compliance", v ? json_incref(v) : json_null()) != 0 ||
        json_array_append_new(x->list, row) != 0)
        return ID_ERR;
    return 0;
}

void h_admin_mdm_devices(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    int64_t bank_id = 0;
    struct devices x = {.ar = &ar};
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (!admin_bank_one(&ar, &bank_id))
        goto out;
    int rc = admin_bank_read(&ar, bank_id, rows_fn, &x.verdicts);
    x.list = json_array();
    if (rc == STORE_OK && !x.list)
        rc = STORE_NOMEM;
    if (rc == STORE_OK)
        rc = device_list_branch(ar.conn, bank_id, admin_list_branch(&ar), device_row, &x);
    if (rc == ID_OK) {
        http_json(resp, 200, json_pack("{s:O}", "devices", x.list));
    } else {
        admin_fail(&ar, rc, "list managed devices");
    }
out:
    json_decref(x.list);
    json_decref(x.verdicts);
    admin_close(&ar);
}
