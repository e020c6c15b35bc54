/* POST /api/v1/admin/visits/tasks — a branch manager gives one of their
 * client managers a visit task:
 *   {"teller", "customer_id", "date"?, "note"?, "product"?, "lat"?, "lon"?}
 * -> 201 {"task": {"task_id", "teller", "customer_id", "date"}}.
 *
 * Branch managers only (403 forbidden for any other role). The teller is
 * found in the manager's scope (their branch: another branch's or bank's
 * teller is 404 not_found like one that does not exist) and must be an
 * active client manager (400 bad_request naming teller). The customer is
 * one of the bank's (404 customer_not_found otherwise, another bank's
 * alike). The task is written in the bank's shard (data/shard.h), fence
 * checked, with its audit record visit.assigned (business/visit.h); 503
 * unavailable while the bank is being moved. */
#include "app/app.h"
#include "business/visit.h"
#include "business/visit_admin.h"
#include "business/visit_input.h"
#include "foundation/clock.h"
#include "http/admin_bank.h"
#include "identity/audit.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "http/admin.h"
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct tx_field F_ASSIGN[] = {
    {.name = "teller", .type = TXF_STRING, .required = true, .max = TELLER_CODE_MAX},
    {.name = "customer_id", .type = TXF_INT, .required = true},
    {.name = "date", .type = TXF_STRING, .max = 10},
    {.name = "note", .type = TXF_STRING, .max = VI_STEP_MAX + 64},
    {.name = "product", .type = TXF_STRING, .max = VI_PRODUCT_MAX},
    {.name = "lat", .type = TXF_NUMBER},
    {.name = "lon", .type = TXF_NUMBER},
};

enum { MOVING = 30, NO_CUSTOMER = 31 }; /* positive: store_run rolls back */

struct assign_args {
    const struct admin_session *who;
    struct visit_assign a;
    int64_t task_id;
};

/* store_run callback on the bank's shard. */
static int assign_txn(struct store_conn *c, void *arg)
{
    struct assign_args *x = arg;
    int rc = shard_fence(c, x->who->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE)
        return MOVING;
    if (rc != SHARD_HERE)
        return rc;
    struct scope sc = {x->who->bank_id, x->who->branch_id, x->who->teller_id, x->who->role};
    struct tenant_conn *tc = NULL;
    rc = tenant_open(c, &sc, &tc);
    if (rc == STORE_OK)
        rc = visit_assign(tc, &x->a, &x->task_id);
    tenant_close(tc);
    return rc == VISIT_NO_CUSTOMER ? NO_CUSTOMER : rc;
}

static void bad(struct admin_req *ar, const struct vi_error *e)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", e->field, e->msg);
    http_error(ar->resp, ZE_BAD_REQUEST, msg);
}

/* The members' values; false with the answer set. */
static bool inputs(struct admin_req *ar, struct assign_args *x, char **note)
{
    struct vi_error e = {0};
    json_t *in = ar->in, *d = json_object_get(in, "date"), *p = json_object_get(in, "product");
    x->a.day = visit_today();
    x->a.customer_id = json_integer_value(json_object_get(in, "customer_id"));
    int rc = VI_OK;
    if (x->a.customer_id < 1) {
        snprintf(e.field, sizeof e.field, "customer_id");
        snprintf(e.msg, sizeof e.msg, "须为正整数");
        rc = VI_BAD;
    }
    if (rc == VI_OK && d)
        rc = vi_date(d, "date", &x->a.day, &e);
    if (rc == VI_OK)
        rc = vi_text(json_object_get(in, "note"), "note", VI_STEP_MAX, false, note, &e);
    if (rc == VI_OK && p)
        rc = vi_product(p, "product", &e);
    if (rc == VI_OK)
        rc = vi_position(in, false, &x->a.lat, &x->a.lon, &x->a.has_pos, &e);
    if (rc != VI_OK) {
        bad(ar, &e);
        return false;
    }
    x->a.note = *note;
    x->a.product = json_string_value(p);
    return true;
}

void h_admin_visit_assign(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_WRITE, F_ASSIGN, sizeof F_ASSIGN / sizeof F_ASSIGN[0], &ar))
        return;
    struct teller t;
    char *note = NULL;
    struct assign_args x = {.who = &ar.who};
    x.a.actor = ar.actor;
    if (ar.who.role != ROLE_BRANCH_MANAGER) {
        admin_forbidden(&ar);
        goto out;
    }
    int rc = admin_find_teller(&ar, admin_str(&ar, "teller"), &t);
    if (rc != ID_OK) {
        admin_fail(&ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "find teller");
        goto out;
    }
    if (t.role != ROLE_CLIENT_MANAGER || !t.active || t.branch_id != ar.who.branch_id) {
        http_error(resp, ZE_BAD_REQUEST, "teller: 须为本网点在岗的客户经理");
        goto out;
    }
    if (!inputs(&ar, &x, &note))
        goto out;
    x.a.teller_id = t.id;
    struct store *st = shards_route(ar.app->shards, ar.who.bank_id, NULL);
    struct store_conn *c = st == ar.app->store ? ar.conn : NULL;
    rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "admin.visit_assign", assign_txn, &x);
    if (c && c != ar.conn)
        store_release(c);
    if (rc == NO_CUSTOMER) {
        http_error(resp, ZE_CUSTOMER_NOT_FOUND, NULL);
    } else if (rc == STORE_OK) {
        char date[11];
        vi_day_text(x.a.day, date);
        http_json(resp, 201,
                  json_pack("{s:{s:I, s:s, s:I, s:s}}", "task", "task_id", (json_int_t)x.task_id,
                            "teller", t.code, "customer_id", (json_int_t)x.a.customer_id, "date",
                            date));
    } else {
        admin_fail(&ar, rc == MOVING ? STORE_BUSY : rc, "assign a visit task");
    }
out:
    free(note);
    admin_close(&ar);
}

/* ---- POST /api/v1/admin/visits/tasks/reassign ---------------------------------------------
 *
 * {"task_id", "teller"} -> 200 {"task": {"task_id", "teller", "from"}}: a
 * branch manager gives an open task of their branch to another active
 * client manager of the branch. 403 forbidden for other roles; 404
 * not_found for a task that is not their branch's (or not their bank's, or
 * missing) and for a teller outside the branch; 400 bad_request naming
 * teller when it is no active client manager; 409 conflict for a task
 * already done. Audited visit.reassigned in the bank's shard (target
 * visit_task:<id>, {"from", "to"}: the teller ids). */

static const struct tx_field F_REASSIGN[] = {
    {.name = "task_id", .type = TXF_INT, .required = true},
    {.name = "teller", .type = TXF_STRING, .required = true, .max = TELLER_CODE_MAX},
};

enum { TASK_GONE = 32, TASK_DONE = 33 };

struct reassign_args {
    struct admin_req *ar;
    int64_t task_id, to, from;
};

static int reassign_txn(struct tenant_conn *tc, void *arg)
{
    struct reassign_args *x = arg;
    struct vdb_task t;
    int rc = vdb_task_get(tc, x->task_id, &t);
    if (rc == VDB_NONE)
        return TASK_GONE;
    if (rc != VDB_OK)
        return rc;
    bool mine = t.branch_id == x->ar->who.branch_id, open = strcmp(t.status, "open") == 0;
    x->from = t.teller_id;
    vdb_task_free(&t);
    if (!mine)
        return TASK_GONE;
    if (!open)
        return TASK_DONE;
    rc = vadm_task_reassign(tc, x->task_id, x->to, x->ar->who.branch_id, clock_wall_ms());
    if (rc == VDB_NONE)
        return TASK_DONE;
    if (rc != VDB_OK)
        return rc;
    char target[40];
    snprintf(target, sizeof target, "visit_task:%lld", (long long)x->task_id);
    rc = audit_tenantf(tc, x->ar->actor, "visit.reassigned", target, "{s:I, s:I}", "from",
                       (json_int_t)x->from, "to", (json_int_t)x->to);
    return rc == ID_OK ? VDB_OK : rc;
}

void h_admin_visit_reassign(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_WRITE, F_REASSIGN, sizeof F_REASSIGN / sizeof F_REASSIGN[0],
                    &ar))
        return;
    struct teller t, from;
    struct reassign_args x = {.ar = &ar};
    x.task_id = json_integer_value(json_object_get(ar.in, "task_id"));
    if (ar.who.role != ROLE_BRANCH_MANAGER) {
        admin_forbidden(&ar);
        goto out;
    }
    int rc = admin_find_teller(&ar, admin_str(&ar, "teller"), &t);
    if (rc != ID_OK) {
        admin_fail(&ar, rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc, "find teller");
        goto out;
    }
    if (t.role != ROLE_CLIENT_MANAGER || !t.active || t.branch_id != ar.who.branch_id) {
        http_error(resp, ZE_BAD_REQUEST, "teller: 须为本网点在岗的客户经理");
        goto out;
    }
    x.to = t.id;
    rc = x.task_id > 0
             ? admin_bank_txn(&ar, ar.who.bank_id, "admin.visit_reassign", reassign_txn, &x)
             : TASK_GONE;
    if (rc == TASK_GONE) {
        http_error(resp, ZE_NOT_FOUND, NULL);
    } else if (rc == TASK_DONE) {
        http_error(resp, ZE_CONFLICT, "任务已完成，不能改派");
    } else if (rc == STORE_OK) {
        if (teller_find_id(ar.conn, x.from, &from) != ID_OK)
            from.code[0] = '\0';
        http_json(resp, 200,
                  json_pack("{s:{s:I, s:s, s:s}}", "task", "task_id", (json_int_t)x.task_id,
                            "teller", t.code, "from", from.code));
    } else {
        admin_fail(&ar, rc, "reassign a visit task");
    }
out:
    admin_close(&ar);
}
