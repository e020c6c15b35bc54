/* GET  /api/v1/admin/devices        — the tablets the administrator sees [?bank=CODE]
 * POST /api/v1/admin/devices/revoke — {dev}: lost or stolen; stops at once
 * POST /api/v1/admin/devices/unbind — {dev}: handed back; stops at once
 * POST /api/v1/admin/tickets        — {teller}: a one-time activation code, shown once
 * POST /api/v1/admin/tickets/cancel — {teller}: the teller's unused codes withdrawn
 *
 * A device is in the scope of its teller, and changed under the same rule
 * as the teller (admin_may_manage). */
#include "app/app.h"
#include "foundation/secmem.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/binding.h"

#include <string.h>

static const struct tx_field F_DEV[] = {
    {"dev", TXF_STRING, true, DEV_HEX_LEN},
};

static const struct tx_field F_TICKET[] = {
    {"teller", TXF_STRING, true, TELLER_CODE_MAX},
};

static int device_row(const struct device *d, void *arg)
{
    struct admin_rows *r = arg;
    bool seen = admin_sees_branch(r->ar, d->bank_id, d->branch_id);
    return admin_rows_add(r, seen ? admin_device_json(d) : NULL);
}

static int list_devices(struct admin_rows *r, int64_t bank_id, int64_t branch_id)
{
    return device_list_branch(r->ar->conn, bank_id, branch_id, device_row, r);
}

void h_admin_devices(struct http_request *req, struct http_response *resp)
{
    static const struct admin_list devices = {
        .key = "devices", .what = "list devices", .by_bank = true, .fetch = list_devices};
    admin_list(req, resp, &devices);
}

/* The device named by the body, in scope, of a teller the administrator
 * may manage; false with the answer set otherwise. */
static bool target(struct admin_req *ar, struct device *d)
{
    struct teller t;
    int rc = admin_find_device(ar, admin_str(ar, "dev"), d);
    if (rc == ID_OK)
        rc = teller_find_id(ar->conn, d->teller_id, &t);
    if (rc != ID_OK) {
        admin_fail(ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "find device");
        return false;
    }
    return admin_may_manage(ar, &t);
}

struct take_out_args {
    const char *actor;
    char dev[DEV_HEX_LEN + 1];
    bool revoke;
    struct device after; /* the device as the transaction left it */
};

/* store_run callback: revoke or unbind (its sessions end), then read it back. */
static int take_out_txn(struct store_conn *c, void *arg)
{
    struct take_out_args *a = arg;
    int rc = a->revoke ? binding_revoke(c, a->actor, a->dev) : binding_unbind(c, a->actor, a->dev);
    return rc == ID_OK ? device_get(c, a->dev, &a->after) : rc;
}

static void take_out(struct http_request *req, struct http_response *resp, bool revoke)
{
    struct admin_req ar;
    struct device d;
    if (!admin_open(req, resp, ADMIN_WRITE, F_DEV, 1, &ar))
        return;
    if (target(&ar, &d)) {
        struct take_out_args a = {.actor = ar.actor, .revoke = revoke};
        memcpy(a.dev, d.dev, sizeof a.dev);
        if (admin_run(&ar, revoke ? "revoke device" : "unbind device", take_out_txn, &a, NULL))
            http_json(resp, 200, json_pack("{s:o}", "device", admin_device_json(&a.after)));
    }
    admin_close(&ar);
}

void h_admin_device_revoke(struct http_request *req, struct http_response *resp)
{
    take_out(req, resp, true);
}

void h_admin_device_unbind(struct http_request *req, struct http_response *resp)
{
    take_out(req, resp, false);
}

struct ticket_args {
    const struct kek *kek;
    const char *actor, *teller;
    char code[ACT_CODE_LEN + 1]; /* out: a secret, wiped by the caller */
    int64_t expires;             /* out */
};

/* store_run callback: the new code (replacing an unused earlier one). */
static int ticket_txn(struct store_conn *c, void *arg)
{
    struct ticket_args *a = arg;
    a->expires = 0;
    return activation_issue(c, a->kek, a->actor, a->teller, a->code, &a->expires);
}

struct cancel_args {
    const char *actor, *teller;
    int64_t cancelled; /* out */
};

/* store_run callback: the teller's unused codes withdrawn. */
static int cancel_txn(struct store_conn *c, void *arg)
{
    struct cancel_args *a = arg;
    return activation_cancel(c, a->actor, a->teller, &a->cancelled);
}

void h_admin_ticket_cancel(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct teller t;
    if (!admin_open(req, resp, ADMIN_WRITE, F_TICKET, 1, &ar))
        return;
    int rc = admin_find_teller(&ar, admin_str(&ar, "teller"), &t);
    struct cancel_args a = {.actor = ar.actor, .teller = t.code};
    if (rc != ID_OK)
        admin_fail(&ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "cancel ticket");
    else if (admin_may_manage(&ar, &t) && admin_run(&ar, "cancel ticket", cancel_txn, &a, NULL))
        http_json(resp, 200,
                  json_pack("{s:s,s:I}", "teller", t.code, "cancelled", (json_int_t)a.cancelled));
    admin_close(&ar);
}

void h_admin_ticket_issue(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct teller t;
    if (!admin_open(req, resp, ADMIN_WRITE, F_TICKET, 1, &ar))
        return;
    int rc = admin_find_teller(&ar, admin_str(&ar, "teller"), &t);
    struct ticket_args a = {.kek = &ar.app->kek, .actor = ar.actor, .teller = t.code};
    if (rc != ID_OK)
        admin_fail(&ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "issue ticket");
    else if (admin_may_manage(&ar, &t) && admin_run(&ar, "issue ticket", ticket_txn, &a, NULL))
        http_json(resp, 201,
                  json_pack("{s:s,s:s,s:I}", "teller", t.code, "code", a.code, "expires_at",
                            (json_int_t)a.expires));
    secmem_wipe(a.code, sizeof a.code);
    admin_close(&ar);
}
