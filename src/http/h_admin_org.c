/* GET  /api/v1/admin/banks     — the banks the administrator sees
 * POST /api/v1/admin/banks     — {code, name}: a new bank (province admin only)
 * GET  /api/v1/admin/branches  — the branches the administrator sees [?bank=CODE]
 * POST /api/v1/admin/branches  — {bank?, code, name}: a new branch (bank or province admin)
 *
 * Branch managers read their own bank and branch only. */
#include "app/app.h"
#include "data/tenant.h"
#include "http/admin.h"
#include "http/handlers.h"

#include <string.h>

static const struct tx_field F_BANK[] = {
    {"code", TXF_STRING, true, ORG_CODE_MAX},
    {"name", TXF_STRING, true, ORG_NAME_MAX},
};

static const struct tx_field F_BRANCH[] = {
    {"bank", TXF_STRING, false, ORG_CODE_MAX},
    {"code", TXF_STRING, true, ORG_CODE_MAX},
    {"name", TXF_STRING, true, ORG_NAME_MAX},
};

static int bank_row(const struct bank *b, void *arg)
{
    struct admin_rows *r = arg;
    return admin_rows_add(r, admin_sees_bank(r->ar, b->id) ? admin_bank_json(b) : NULL);
}

static int list_banks(struct admin_rows *r, int64_t bank_id, int64_t branch_id)
{
    (void)bank_id;
    (void)branch_id;
    return org_list_banks(r->ar->conn, bank_row, r);
}

void h_admin_banks(struct http_request *req, struct http_response *resp)
{
    static const struct admin_list banks = {
        .key = "banks", .what = "list banks", .by_bank = false, .fetch = list_banks};
    admin_list(req, resp, &banks);
}

struct bank_add_args {
    const char *actor, *code, *name;
    struct bank b; /* out: the new bank */
};

/* store_run callback: the bank, read back for the answer. */
static int bank_add_txn(struct store_conn *c, void *arg)
{
    struct bank_add_args *a = arg;
    int rc = org_add_bank(c, a->actor, a->code, a->name, NULL);
    return rc == ID_OK ? org_find_bank(c, a->code, &a->b) : rc;
}

void h_admin_bank_add(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_WRITE, F_BANK, 2, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN) {
        admin_forbidden(&ar);
        goto out;
    }
    struct bank_add_args a = {
        .actor = ar.actor, .code = admin_str(&ar, "code"), .name = admin_str(&ar, "name")};
    if (admin_run(&ar, "add bank", bank_add_txn, &a, NULL))
        http_json(resp, 201, json_pack("{s:o}", "bank", admin_bank_json(&a.b)));
out:
    admin_close(&ar);
}

static json_t *branch_json(const struct branch *br, const char *bank_code)
{
    return json_pack("{s:s,s:s,s:s,s:b,s:I}", "bank", bank_code, "code", br->code, "name", br->name,
                     "active", br->active, "created_at", (json_int_t)br->created_at);
}

static int branch_row(const struct branch *br, void *arg)
{
    struct admin_rows *r = arg;
    struct bank b;
    if (!admin_sees_branch(r->ar, br->bank_id, br->id))
        return 0;
    int rc = org_find_bank_id(r->ar->conn, br->bank_id, &b);
    return rc == ID_OK ? admin_rows_add(r, branch_json(br, b.code)) : rc;
}

static int list_branches(struct admin_rows *r, int64_t bank_id, int64_t branch_id)
{
    (void)branch_id; /* a branch manager sees their own branch: admin_sees_branch */
    return org_list_branches(r->ar->conn, bank_id, branch_row, r);
}

void h_admin_branches(struct http_request *req, struct http_response *resp)
{
    static const struct admin_list branches = {
        .key = "branches", .what = "list branches", .by_bank = true, .fetch = list_branches};
    admin_list(req, resp, &branches);
}

/* The bank a new branch goes to: the named one, or the bank admin's own. */
static int branch_bank(struct admin_req *ar, struct bank *b)
{
    const char *code = admin_str(ar, "bank");
    if (code)
        return admin_find_bank(ar, code, b);
    if (ar->who.role == ROLE_PROVINCE_ADMIN)
        return ID_BAD_INPUT; /* the province has no branches: say which bank */
    return org_find_bank_id(ar->conn, ar->who.bank_id, b);
}

struct branch_add_args {
    const char *actor, *code, *name;
    int64_t bank_id;
    struct branch br; /* out: the new branch */
};

/* store_run callback: the branch, read back for the answer. */
static int branch_add_txn(struct store_conn *c, void *arg)
{
    struct branch_add_args *a = arg;
    int rc = org_add_branch(c, a->actor, a->bank_id, a->code, a->name, NULL);
    return rc == ID_OK ? org_find_branch(c, a->bank_id, a->code, &a->br) : rc;
}

void h_admin_branch_add(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct bank b;
    if (!admin_open(req, resp, ADMIN_WRITE, F_BRANCH, 3, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN && ar.who.role != ROLE_BANK_ADMIN) {
        admin_forbidden(&ar);
        goto out;
    }
    int rc = branch_bank(&ar, &b);
    if (rc != ID_OK) {
        admin_fail(&ar, rc, "add branch");
        goto out;
    }
    struct branch_add_args a = {.actor = ar.actor,
                                .code = admin_str(&ar, "code"),
                                .name = admin_str(&ar, "name"),
                                .bank_id = b.id};
    if (admin_run(&ar, "add branch", branch_add_txn, &a, NULL))
        http_json(resp, 201, json_pack("{s:o}", "branch", branch_json(&a.br, b.code)));
out:
    admin_close(&ar);
}
