/* GET  /api/v1/admin/mdm/policy — a bank's (or branch's) device policy
 *   ?bank=CODE&branch=CODE -> 200 {"policy":{"bank","branch","version","rules"}}
 * POST /api/v1/admin/mdm/policy — {"bank"?, "branch"?, "rules"} -> 200 the same
 *
 * The policy read is the one the bank's devices of that branch get
 * (business/mdm_policy.h: the branch's newest, else the bank's, else the
 * built-in default, version 0); without ?branch= the bank's. A branch
 * manager reads their own branch's (its ?branch= defaulted). The write
 * stores the next version of the bank's (branch absent) or the branch's
 * policy, every member checked first (400 bad_request, error.member
 * "rules.<member>" naming the first bad one, nothing stored), audited
 * mdm.policy_set in the bank's shard. bank_admin their own bank (bank
 * absent or their own), province_admin names the bank; others 403; a bank
 * or branch outside the scope 404. */
#include "app/app.h"
#include "business/mdm_policy.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/admin_bank.h"
#include "http/handlers.h"

#include <stdio.h>
#include <string.h>

static const struct tx_field F_POLICY[] = {
    {.name = "bank", .type = TXF_STRING, .max = ORG_CODE_MAX},
    {.name = "branch", .type = TXF_STRING, .max = ORG_CODE_MAX},
    {.name = "rules", .type = TXF_OBJECT, .required = true},
};

struct policy_args {
    int64_t branch_id;
    const json_t *rules; /* the write's */
    const char *actor;
    json_t *policy; /* out */
    int64_t version;
};

static int read_fn(struct tenant_conn *tc, void *arg)
{
    struct policy_args *x = arg;
    json_decref(x->policy);
    return mdm_policy_get(tc, x->branch_id, &x->policy, &x->version) == MDM_OK ? STORE_OK
                                                                               : STORE_ERR;
}

static int write_fn(struct tenant_conn *tc, void *arg)
{
    struct policy_args *x = arg;
    int rc = mdm_policy_set(tc, x->branch_id, x->rules, x->actor, clock_wall_ms(), &x->version);
    return rc == MDM_OK ? read_fn(tc, arg) : STORE_ERR;
}

/* The branch named by code (NULL: the bank's, or a branch manager's own):
 * *branch_id, code into out. false with the answer set. */
static bool policy_branch(struct admin_req *ar, int64_t bank_id, const char *code,
                          int64_t *branch_id, char out[ORG_CODE_MAX + 1])
{
    struct branch br;
    *branch_id = 0;
    out[0] = '\0';
    if (!code && ar->who.role == ROLE_BRANCH_MANAGER) {
        *branch_id = ar->who.branch_id;
        snprintf(out, ORG_CODE_MAX + 1, "%s", ar->who.branch_code);
        return true;
    }
    if (!code || !code[0])
        return true;
    int rc = admin_find_branch(ar, bank_id, code, &br);
    if (rc != ID_OK) {
        admin_fail(ar, rc, "find branch");
        return false;
    }
    *branch_id = br.id;
    snprintf(out, ORG_CODE_MAX + 1, "%s", br.code);
    return true;
}

static void answer(struct admin_req *ar, int64_t bank_id, const char *branch, struct policy_args *x)
{
    char code[ORG_CODE_MAX + 1], name[ORG_NAME_MAX + 1];
    admin_bank_names(ar, bank_id, code, name);
    http_json(ar->resp, 200,
              json_pack("{s:{s:s, s:s?, s:I, s:O}}", "policy", "bank", code, "branch",
                        branch[0] ? branch : NULL, "version", (json_int_t)x->version, "rules",
                        x->policy));
}

void h_admin_mdm_policy(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    int64_t bank_id = 0;
    char branch[ORG_CODE_MAX + 1];
    struct policy_args x = {0};
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (admin_bank_one(&ar, &bank_id) &&
        policy_branch(&ar, bank_id, admin_query(req, "branch"), &x.branch_id, branch)) {
        int rc = admin_bank_read(&ar, bank_id, read_fn, &x);
        if (rc == STORE_OK)
            answer(&ar, bank_id, branch, &x);
        else
            admin_fail(&ar, rc, "read device policy");
    }
    json_decref(x.policy);
    admin_close(&ar);
}

/* The bank a write names: the body's (in sight), or a bank admin's own. */
static int write_bank(struct admin_req *ar, int64_t *bank_id)
{
    struct bank b;
    const char *code = admin_str(ar, "bank");
    int rc = code ? admin_find_bank(ar, code, &b) : ID_OK;
    if (!code && ar->who.role == ROLE_PROVINCE_ADMIN)
        return ID_BAD_INPUT; /* say which bank */
    if (rc == ID_OK && code && b.kind != ORG_BANK)
        rc = ID_NOT_FOUND;
    *bank_id = code ? b.id : ar->who.bank_id;
    return rc;
}

void h_admin_mdm_policy_set(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    int64_t bank_id = 0;
    char branch[ORG_CODE_MAX + 1], member[96];
    struct policy_args x = {.actor = NULL};
    const char *why = NULL;
    if (!admin_open(req, resp, ADMIN_WRITE, F_POLICY, sizeof F_POLICY / sizeof F_POLICY[0], &ar))
        return;
    x.actor = ar.actor;
    x.rules = json_object_get(ar.in, "rules");
    const char *bad = mdm_policy_bad_member(x.rules, &why);
    int rc;
    if (ar.who.role != ROLE_PROVINCE_ADMIN && ar.who.role != ROLE_BANK_ADMIN) {
        admin_forbidden(&ar);
    } else if ((rc = write_bank(&ar, &bank_id)) != ID_OK) {
        if (rc == ID_BAD_INPUT)
            http_error_ex(resp, ZE_BAD_REQUEST, "bank: 请指定法人行社",
                          json_pack("{s:s}", "member", "bank"));
        else
            admin_fail(&ar, rc, "find bank");
    } else if (policy_branch(&ar, bank_id, admin_str(&ar, "branch"), &x.branch_id, branch)) {
        if (bad) {
            snprintf(member, sizeof member, "rules.%s", bad);
            char msg[256];
            snprintf(msg, sizeof msg, "%s: %s", member, why);
            http_error_ex(resp, ZE_BAD_REQUEST, msg, json_pack("{s:s}", "member", member));
        } else if ((rc = admin_bank_txn(&ar, bank_id, "admin.mdm_policy", write_fn, &x)) ==
                   STORE_OK) {
            answer(&ar, bank_id, branch, &x);
        } else {
            admin_fail(&ar, rc, "set device policy");
        }
    }
    json_decref(x.policy);
    admin_close(&ar);
}
