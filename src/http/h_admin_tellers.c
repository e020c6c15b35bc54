/* GET  /api/v1/admin/tellers                — the tellers the administrator sees [?bank=CODE]
 * POST /api/v1/admin/tellers                — {bank?, branch?, code, name, role, password}
 * POST /api/v1/admin/tellers/disable        — {teller}
 * POST /api/v1/admin/tellers/enable         — {teller}
 * POST /api/v1/admin/tellers/reset-password — {teller, password}: also clears a lock and
 *                                            ends the teller's tablet and console sessions
 *
 * The ids travel in the body, not the path: one exact route each, and no
 * teller code in an access log. An administrator changes tellers of a lower
 * role in their scope (a province admin anyone), never their own account. */
#include "app/app.h"
#include "data/tenant.h"
#include "foundation/log.h"
#include "http/admin.h"
#include "http/handlers.h"

#include <stdio.h>
#include <string.h>

static const struct tx_field F_ADD[] = {
    {"bank", TXF_STRING, false, ORG_CODE_MAX},
    {"branch", TXF_STRING, false, ORG_CODE_MAX},
    {"code", TXF_STRING, true, TELLER_CODE_MAX},
    {"name", TXF_STRING, true, TELLER_NAME_MAX},
    {"role", TXF_STRING, true, 20},
    {"password", TXF_STRING, true, TELLER_PW_MAX},
};

static const struct tx_field F_TELLER[] = {
    {"teller", TXF_STRING, true, TELLER_CODE_MAX},
};

static const struct tx_field F_RESET[] = {
    {"teller", TXF_STRING, true, TELLER_CODE_MAX},
    {"password", TXF_STRING, true, TELLER_PW_MAX},
};

static int teller_row(const struct teller *t, void *arg)
{
    struct admin_rows *r = arg;
    bool seen = admin_sees_branch(r->ar, t->bank_id, t->branch_id);
    return admin_rows_add(r, seen ? admin_teller_json(t) : NULL);
}

static int list_tellers(struct admin_rows *r, int64_t bank_id, int64_t branch_id)
{
    return teller_list(r->ar->conn, bank_id, branch_id, teller_row, r);
}

void h_admin_tellers(struct http_request *req, struct http_response *resp)
{
    static const struct admin_list tellers = {
        .key = "tellers", .what = "list tellers", .by_bank = true, .fetch = list_tellers};
    admin_list(req, resp, &tellers);
}

/* Where the new teller goes: bank and branch named (within the scope) or
 * the administrator's own; a branch manager's tellers go to their branch. */
static int placement(struct admin_req *ar, struct teller_new *t)
{
    struct bank b = {0};
    struct branch br = {0};
    const char *bank = admin_str(ar, "bank"), *branch = admin_str(ar, "branch");
    int rc = bank ? admin_find_bank(ar, bank, &b) : org_find_bank_id(ar->conn, ar->who.bank_id, &b);
    t->bank_id = b.id;
    t->branch_id = ar->who.role == ROLE_BRANCH_MANAGER ? ar->who.branch_id : 0;
    if (rc == ID_OK && branch) {
        rc = admin_find_branch(ar, b.id, branch, &br);
        t->branch_id = br.id;
    }
    return rc;
}

static void add_failed(struct admin_req *ar, int rc)
{
    if (rc == ID_BAD_INPUT)
        http_error(ar->resp, ZE_BAD_REQUEST,
                   "柜员号须为1到32位字母、数字、下划线或连字符；密码须为8到128位；"
                   "客户经理和网点负责人须指定网点");
    else if (rc == ID_CONFLICT)
        http_error(ar->resp, ZE_CONFLICT, "角色与所属机构不符，或网点不属于该法人行社");
    else if (rc == ID_EXISTS)
        http_error(ar->resp, ZE_EXISTS, "柜员号已被使用");
    else
        admin_fail(ar, rc, "add teller");
}

struct add_args {
    const char *actor;
    struct teller_new nt;
    struct teller t; /* out: the new teller */
};

/* store_run callback: the teller, read back for the answer. */
static int add_txn(struct store_conn *c, void *arg)
{
    struct add_args *a = arg;
    int rc = teller_add(c, a->actor, &a->nt, NULL);
    return rc == ID_OK ? teller_find(c, a->nt.code, &a->t) : rc;
}

void h_admin_teller_add(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_WRITE, F_ADD, sizeof F_ADD / sizeof F_ADD[0], &ar)) {
        admin_wipe_secret(req, NULL, "password");
        return;
    }
    struct add_args a = {.actor = ar.actor,
                         .nt = {.code = admin_str(&ar, "code"),
                                .name = admin_str(&ar, "name"),
                                .role = role_parse(admin_str(&ar, "role")),
                                .password = admin_str(&ar, "password")}};
    int rc = placement(&ar, &a.nt);
    if (rc != ID_OK)
        admin_fail(&ar, rc, "add teller");
    else if (a.nt.role == ROLE_NONE)
        http_error(resp, ZE_BAD_REQUEST, "未知角色");
    else if (!admin_may_grant(&ar, a.nt.role))
        admin_forbidden(&ar);
    else if (admin_run(&ar, "add teller", add_txn, &a, add_failed))
        http_json(resp, 201, json_pack("{s:o}", "teller", admin_teller_json(&a.t)));
    admin_wipe_secret(req, ar.in, "password");
    admin_close(&ar);
}

/* The teller named by the body, found in scope and changeable by the
 * administrator; false with the answer set otherwise. */
static bool target(struct admin_req *ar, struct teller *t)
{
    int rc = admin_find_teller(ar, admin_str(ar, "teller"), t);
    if (rc != ID_OK) {
        admin_fail(ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "find teller");
        return false;
    }
    return admin_may_manage(ar, t);
}

struct active_args {
    const char *actor, *code;
    bool active;
    struct teller t; /* out: the teller after the change */
};

/* store_run callback: enable or disable, read back for the answer. */
static int active_txn(struct store_conn *c, void *arg)
{
    struct active_args *a = arg;
    int rc = teller_set_active(c, a->actor, a->code, a->active);
    return rc == ID_OK ? teller_find(c, a->code, &a->t) : rc;
}

static void set_active(struct http_request *req, struct http_response *resp, bool active)
{
    struct admin_req ar;
    struct teller t;
    if (!admin_open(req, resp, ADMIN_WRITE, F_TELLER, 1, &ar))
        return;
    if (target(&ar, &t)) {
        struct active_args a = {.actor = ar.actor, .code = t.code, .active = active};
        if (admin_run(&ar, active ? "enable teller" : "disable teller", active_txn, &a, NULL))
            http_json(resp, 200, json_pack("{s:o}", "teller", admin_teller_json(&a.t)));
    }
    admin_close(&ar);
}

void h_admin_teller_disable(struct http_request *req, struct http_response *resp)
{
    set_active(req, resp, false);
}

void h_admin_teller_enable(struct http_request *req, struct http_response *resp)
{
    set_active(req, resp, true);
}

struct reset_args {
    const char *actor;
    const struct teller *t;
    const char *password;
};

/* store_run callback: the new password, and with it the end of the
 * teller's tablet and console sessions (reason "password_reset"). */
static int reset_txn(struct store_conn *c, void *arg)
{
    const struct reset_args *a = arg;
    int rc = teller_reset_password(c, a->actor, a->t->code, a->password);
    if (rc == ID_OK)
        rc = session_end_teller(c, a->t->id, "password_reset", NULL);
    if (rc == ID_OK)
        rc = admin_session_end_teller(c, a->t->id, "password_reset", NULL);
    return rc;
}

/* weak_password, naming the bounds; the other refusals of a reset as usual. */
static void reset_refused(struct admin_req *ar, int rc)
{
    char why[96];
    if (rc != ID_BAD_INPUT) {
        admin_fail(ar, rc, "reset password");
        return;
    }
    snprintf(why, sizeof why, "新密码须为%d到%d位", TELLER_PW_MIN, TELLER_PW_MAX);
    http_error(ar->resp, ZE_WEAK_PASSWORD, why);
}

void h_admin_teller_reset(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct teller t;
    if (!admin_open(req, resp, ADMIN_WRITE, F_RESET, 2, &ar)) {
        admin_wipe_secret(req, NULL, "password");
        return;
    }
    if (target(&ar, &t)) {
        struct reset_args a = {.actor = ar.actor, .t = &t, .password = admin_str(&ar, "password")};
        if (admin_run(&ar, "reset password", reset_txn, &a, reset_refused))
            http_json(resp, 200, json_pack("{s:s,s:s}", "teller", t.code, "status", "reset"));
    }
    admin_wipe_secret(req, ar.in, "password");
    admin_close(&ar);
}
