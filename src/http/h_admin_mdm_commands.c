/* POST /api/v1/admin/mdm/commands — {"dev","kind","args"?,"ttl_s"?} ->
 *   201 {"command":{"id","dev","branch_id","kind","args","state","reason",
 *        "actor","created_at","expires_at","delivered_at","closed_at"}}
 * GET  /api/v1/admin/mdm/commands — ?bank=CODE&dev=D&limit=N ->
 *   200 {"commands":[the same, newest first]}
 *
 * A command is queued for a device (business/mdm_command.h) in its bank's
 * shard, audited mdm.command_queued (actor the administrator), and
 * delivered at the device's next DEVICE_CHECKIN. Writes: bank_admin and
 * province_admin under the manage rule on the device's teller (as
 * /devices/unbind); a branch manager reads their branch's commands only
 * (POST 403). A device outside the scope is 404 like a missing one; a
 * device that is not active is 409 not_active; a kind that is not one of
 * the five, args that are not an object, or ttl_s outside 1..2592000 are
 * 400 naming the member. */
#include "app/app.h"
#include "business/mdm_command.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/admin_bank.h"
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

static const struct tx_field F_COMMAND[] = {
    {.name = "dev", .type = TXF_STRING, .required = true, .max = DEV_HEX_LEN},
    {.name = "kind", .type = TXF_STRING, .required = true, .max = MDMC_KIND_MAX},
    {.name = "args", .type = TXF_OBJECT},
    {.name = "ttl_s", .type = TXF_INT},
};

struct cmd_args {
    const struct device *d;
    const char *kind, *actor, *dev; /* dev: the list's filter */
    const json_t *args;
    int64_t ttl_s, id, branch_id;
    int limit;
    json_t *rows; /* out */
};

static int queue_fn(struct tenant_conn *tc, void *arg)
{
    struct cmd_args *x = arg;
    int64_t now = clock_wall_ms();
    json_decref(x->rows);
    x->rows = NULL;
    if (mdm_command_queue(tc, x->d->dev, x->d->branch_id, x->kind, x->args, x->ttl_s, x->actor, now,
                          &x->id) != MDMC_OK ||
        mdm_command_list(tc, x->d->dev, 0, now, 1, &x->rows) != MDMC_OK)
        return STORE_ERR;
    return STORE_OK;
}

static int list_fn(struct tenant_conn *tc, void *arg)
{
    struct cmd_args *x = arg;
    json_decref(x->rows);
    x->rows = NULL;
    return mdm_command_list(tc, x->dev, x->branch_id, clock_wall_ms(), x->limit, &x->rows) ==
                   MDMC_OK
               ? STORE_OK
               : STORE_ERR;
}

static void bad(struct admin_req *ar, const char *member, const char *msg)
{
    http_error_ex(ar->resp, ZE_BAD_REQUEST, msg, json_pack("{s:s}", "member", member));
}

void h_admin_mdm_command(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct device d;
    struct teller t;
    struct cmd_args x = {0};
    if (!admin_open(req, resp, ADMIN_WRITE, F_COMMAND, sizeof F_COMMAND / sizeof F_COMMAND[0], &ar))
        return;
    x.kind = admin_str(&ar, "kind");
    x.args = json_object_get(ar.in, "args");
    x.ttl_s = json_integer_value(json_object_get(ar.in, "ttl_s"));
    x.actor = ar.actor;
    x.d = &d;
    int rc = admin_find_device(&ar, admin_str(&ar, "dev"), &d);
    if (rc == ID_OK)
        rc = teller_find_id(ar.conn, d.teller_id, &t);
    if (rc != ID_OK) {
        admin_fail(&ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "find device");
        goto out;
    }
    if (ar.who.role == ROLE_BRANCH_MANAGER) {
        admin_forbidden(&ar);
        goto out;
    }
    if (!admin_may_manage(&ar, &t))
        goto out;
    if (!mdm_command_kind_valid(x.kind)) {
        bad(&ar, "kind", "kind: 须为 lock、wipe、refresh_policy、update_app 或 unbind");
        goto out;
    }
    if (json_object_get(ar.in, "ttl_s") && (x.ttl_s < 1 || x.ttl_s > MDMC_TTL_MAX_S)) {
        bad(&ar, "ttl_s", "ttl_s: 须为1到2592000之间的秒数");
        goto out;
    }
    if (d.status != DEVICE_ACTIVE) {
        admin_fail(&ar, ID_DISABLED, "command a device");
        goto out;
    }
    rc = admin_bank_txn(&ar, d.bank_id, "admin.mdm_command", queue_fn, &x);
    if (rc == STORE_OK)
        http_json(resp, 201, json_pack("{s:O}", "command", json_array_get(x.rows, 0)));
    else
        admin_fail(&ar, rc, "queue a device command");
out:
    json_decref(x.rows);
    admin_close(&ar);
}

void h_admin_mdm_commands(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct device d;
    int64_t bank_id = 0;
    struct cmd_args x = {0};
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    const char *dev = admin_query(req, "dev"), *limit = admin_query(req, "limit");
    x.limit = limit ? atoi(limit) : 200;
    x.branch_id = admin_list_branch(&ar);
    if (x.limit < 1 || x.limit > 500) {
        bad(&ar, "limit", "limit: 须为1到500之间的整数");
        goto out;
    }
    if (dev) {
        int rc = admin_find_device(&ar, dev, &d);
        if (rc != ID_OK) {
            admin_fail(&ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "find device");
            goto out;
        }
        bank_id = d.bank_id;
        x.dev = d.dev;
    } else if (!admin_bank_one(&ar, &bank_id)) {
        goto out;
    }
    int rc = admin_bank_read(&ar, bank_id, list_fn, &x);
    if (rc == STORE_OK)
        http_json(resp, 200, json_pack("{s:O}", "commands", x.rows));
    else
        admin_fail(&ar, rc, "list device commands");
out:
    json_decref(x.rows);
    admin_close(&ar);
}
