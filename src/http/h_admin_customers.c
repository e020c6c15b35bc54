/* The back office's customers (docs/api.md §2.3, docs/console.md "Back office"):
 *
 *   GET /api/v1/admin/customers?q=&bank=&limit=
 *     -> 200 {"customers": [{"bank", "customer_id", "kind", "name", "id_masked",
 *             "phone_masked", "branch", "branch_name", "created_at"}], "more"}
 *     q: an ID number, a USCC or a mobile number (exactly, through the
 *     blind indexes, as CUSTOMER_SEARCH), else a name prefix; empty: every
 *     customer by name. Masked identifiers only; a list is not audited.
 *   GET /api/v1/admin/customers/get?id=&bank=
 *     -> 200 {"customer": {record with the full ID number and phone,
 *             "customer_id", "version", "bank", "branch", "branch_name",
 *             "teller", "created_at", "updated_at"}, "tags": [code],
 *             "visits": [...], "tasks": [...], "businesses": [...],
 *             "attachments": [...], "vouchers": [...]}
 *     audited customer.viewed in the bank's shard (target customer:<id>,
 *     {"found", "channel":"console"}) in the transaction that reads it.
 *
 * Scope: the bank (?bank=, else one's own; a province admin lists every
 * bank and names the bank of a record); a branch manager sees the customers
 * their branch created (the record's branch_id). Anything else is 404
 * not_found exactly like a missing id. */
#include "app/app.h"
#include "business/attach_db.h"
#include "business/customer_db.h"
#include "business/customer_id.h"
#include "business/tag_db.h"
#include "business/visit_admin.h"
#include "business/voucher_db.h"
#include "business/wf_db.h"
#include "channel/zy1.h"
#include "foundation/clock.h"
#include "http/admin_bank.h"
#include "http/handlers.h"
#include "identity/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define SCAN_MAX 2000 /* rows a list reads to fill a branch manager's page */

static int32_t today(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* ---- the list ------------------------------------------------------------------------- */

struct search {
    struct admin_req *ar;
    char bank[ORG_CODE_MAX + 1];
    enum cdb_by by;
    char value[CP_NAME_MAX + CS_INDEX_HEX + 1];
    json_t *list;
    int limit, n;
    bool more;
};

static int search_row(const struct cdb_row *r, void *arg)
{
    struct search *s = arg;
    if (!admin_bank_row_visible(s->ar, r->branch_id))
        return 0;
    if (s->n >= s->limit) {
        s->more = true;
        return 1;
    }
    char bc[ORG_CODE_MAX + 1], bn[ORG_NAME_MAX + 1];
    admin_bank_branch(s->ar, r->branch_id, bc, bn);
    json_t *row = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "bank", s->bank,
                            "customer_id", (json_int_t)r->id, "kind", r->kind, "name", r->name,
                            "id_masked", r->id_masked, "phone_masked", r->phone_masked, "branch",
                            bc, "branch_name", bn, "created_at", (json_int_t)r->created_at);
    s->n++;
    return row && json_array_append_new(s->list, row) == 0 ? 0 : STORE_NOMEM;
}

static int search_bank(struct tenant_conn *tc, void *arg)
{
    struct search *s = arg;
    int rc = cdb_search(tc, s->by, s->value, SCAN_MAX, search_row, s);
    return rc == 1 ? CDB_OK : rc;
}

/* What q asks for in bank_id: 0 with s->by and s->value. */
static int search_key(struct admin_req *ar, const char *q, int64_t bank_id, struct search *s)
{
    char norm[CID_LEN + 1];
    const char *what = NULL;
    if (cid_mobile(q, norm) == CID_OK) {
        s->by = CDB_BY_PHONE;
        what = "phone";
    } else if (cid_resident(q, today(), norm) == CID_OK) {
        s->by = CDB_BY_ID;
        what = "person";
    } else if (cid_uscc(q, norm) == CID_OK) {
        s->by = CDB_BY_ID;
        what = "business";
    }
    if (!what) {
        s->by = CDB_BY_NAME;
        snprintf(s->value, sizeof s->value, "%s", q);
        return 0;
    }
    return cs_index(&ar->app->kek, bank_id, what, norm, s->value) == CS_OK ? 0 : STORE_ERR;
}

void h_admin_customers(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    int64_t ids[ADMIN_BANKS_MAX];
    size_t n = 0;
    const char *q = admin_query(req, "q"), *lim = admin_query(req, "limit");
    struct search s = {.ar = &ar, .list = json_array(), .limit = lim ? atoi(lim) : LIST_DEFAULT};
    if (!q)
        q = "";
    if (strlen(q) > CP_NAME_MAX || s.limit < 1 || s.limit > LIST_MAX) {
        http_error(resp, ZE_BAD_REQUEST, strlen(q) > CP_NAME_MAX ? "q: 过长" : "limit: 1..200");
        goto out;
    }
    int rc = s.list ? admin_bank_ids(&ar, ids, &n) : STORE_NOMEM;
    for (size_t i = 0; rc == ID_OK && i < n && !s.more; i++) {
        char bn[ORG_NAME_MAX + 1];
        admin_bank_names(&ar, ids[i], s.bank, bn);
        rc = search_key(&ar, q, ids[i], &s);
        if (rc == 0)
            rc = admin_bank_read(&ar, ids[i], search_bank, &s);
    }
    if (rc == ID_OK)
        http_json(resp, 200, json_pack("{s:O, s:b}", "customers", s.list, "more", s.more));
    else
        admin_fail(&ar, rc, "list customers");
out:
    json_decref(s.list);
    admin_close(&ar);
}

/* ---- one customer ---------------------------------------------------------------------- */

struct view {
    struct admin_req *ar;
    int64_t id;
    bool found;
    json_t *out; /* the answer; rebuilt on every run of the transaction */
};

static int tag_row(const struct tdb_row *r, void *arg)
{
    return json_array_append_new(arg, json_string(r->code)) == 0 ? 0 : STORE_NOMEM;
}

static int visit_row(const struct vdb_visit *v, void *arg)
{
    json_t *row = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:b}", "visit_id", (json_int_t)v->id,
                            "task_id", (json_int_t)v->task_id, "at", (json_int_t)v->at, "outcome",
                            v->outcome, "notes", v->notes ? v->notes : "", "next_step",
                            v->next_step ? v->next_step : "", "far", v->far);
    return row && json_array_append_new(arg, row) == 0 ? 0 : STORE_NOMEM;
}

static int task_row(const struct vdb_task *t, void *arg)
{
    json_t *row = json_pack("{s:I, s:i, s:s, s:s, s:s}", "task_id", (json_int_t)t->id, "date",
                            (int)t->day, "source", t->source, "status", t->status, "note", t->note);
    return row && json_array_append_new(arg, row) == 0 ? 0 : STORE_NOMEM;
}

struct bizs {
    int64_t customer_id;
    json_t *list;
};

static int biz_row(const struct wdb_biz *b, void *arg)
{
    struct bizs *x = arg;
    if (b->customer_id != x->customer_id)
        return 0;
    json_t *row = json_pack("{s:s, s:s, s:s, s:I}", "biz_no", b->biz_no, "kind", b->kind, "status",
                            b->status, "created_at", (json_int_t)b->created_at);
    return row && json_array_append_new(x->list, row) == 0 ? 0 : STORE_NOMEM;
}

static int attach_row(const struct adb_row *r, void *arg)
{
    json_t *row = json_pack("{s:I, s:s, s:s, s:I, s:s, s:I}", "attachment_id", (json_int_t)r->id,
                            "kind", r->kind, "mime", r->mime, "size", (json_int_t)r->size, "sm3",
                            r->sm3, "stored_at", (json_int_t)r->stored_at);
    return row && json_array_append_new(arg, row) == 0 ? 0 : STORE_NOMEM;
}

struct vouchers {
    int64_t bank_id;
    json_t *list;
};

static int voucher_row(const struct vcdb_row *r, void *arg)
{
    struct vouchers *x = arg;
    char id[64];
    vcdb_id_format(x->bank_id, r->id, id, sizeof id);
    json_t *row = json_pack("{s:s, s:s, s:s, s:I}", "voucher_id", id, "kind", r->kind, "serial",
                            r->serial, "issued_at", (json_int_t)r->issued_at);
    return row && json_array_append_new(x->list, row) == 0 ? 0 : STORE_NOMEM;
}

/* The record and what hangs on it, into v->out. */
static int view_parts(struct tenant_conn *tc, struct view *v, const struct cdb_row *r)
{
    struct admin_req *ar = v->ar;
    int64_t bank_id = tenant_scope(tc)->bank_id;
    json_t *rec = NULL;
    int rc = cdb_load(tc, &ar->app->kek, v->id, &rec);
    if (rc != CDB_OK)
        return rc == CDB_NONE ? CDB_NONE : STORE_ERR;
    char bc[ORG_CODE_MAX + 1], bn[ORG_NAME_MAX + 1], tc_[TELLER_CODE_MAX + 1],
        tn[TELLER_NAME_MAX + 1], bank[ORG_CODE_MAX + 1], bankn[ORG_NAME_MAX + 1];
    admin_bank_branch(ar, r->branch_id, bc, bn);
    admin_bank_teller(ar, r->teller_id, tc_, tn);
    admin_bank_names(ar, bank_id, bank, bankn);
    json_object_set_new(rec, "customer_id", json_integer(v->id));
    json_object_set_new(rec, "version", json_integer(r->version));
    json_object_set_new(rec, "bank", json_string(bank));
    json_object_set_new(rec, "branch", json_string(bc));
    json_object_set_new(rec, "branch_name", json_string(bn));
    json_object_set_new(rec, "teller", json_string(tc_));
    json_object_set_new(rec, "created_at", json_integer(r->created_at));
    json_object_set_new(rec, "updated_at", json_integer(r->updated_at));
    char ref[24];
    snprintf(ref, sizeof ref, "%lld", (long long)v->id);
    struct vadm_filter f = {.customer_id = v->id, .limit = 100};
    struct bizs b = {v->id, json_array()};
    struct vouchers vc = {bank_id, json_array()};
    json_t *tags = json_array(), *visits = json_array(), *tasks = json_array(), *att = json_array();
    rc = tags && visits && tasks && att && b.list && vc.list ? STORE_OK : STORE_NOMEM;
    if (rc == STORE_OK)
        rc = tdb_list(tc, v->id, NULL, tag_row, tags);
    if (rc == STORE_OK)
        rc = vadm_visits(tc, &f, visit_row, visits);
    if (rc == STORE_OK)
        rc = vadm_tasks(tc, &f, task_row, tasks);
    if (rc == STORE_OK)
        rc = wdb_list(tc, 0, "", "", 0, SCAN_MAX, biz_row, &b);
    if (rc == STORE_OK)
        rc = adb_list_linked(tc, "customer", ref, 100, attach_row, att);
    if (rc == STORE_OK)
        rc = vcdb_list(tc, v->id, 100, voucher_row, &vc);
    json_decref(v->out);
    v->out = rc == STORE_OK
                 ? json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "customer", rec, "tags", tags,
                             "visits", visits, "tasks", tasks, "businesses", b.list, "attachments",
                             att, "vouchers", vc.list)
                 : NULL;
    if (rc != STORE_OK) {
        zy1_json_wipe(rec);
        json_decref(rec);
        json_decref(tags);
        json_decref(visits);
        json_decref(tasks);
        json_decref(att);
        json_decref(b.list);
        json_decref(vc.list);
    }
    return rc == STORE_OK && !v->out ? STORE_NOMEM : rc;
}

/* admin_bank_txn callback: the read and its audit record. */
static int view_txn(struct tenant_conn *tc, void *arg)
{
    struct view *v = arg;
    struct cdb_row r;
    char target[40];
    snprintf(target, sizeof target, "customer:%lld", (long long)v->id);
    int rc = cdb_get(tc, v->id, &r);
    if (rc == CDB_OK) {
        v->found = admin_bank_row_visible(v->ar, r.branch_id);
        rc = v->found ? view_parts(tc, v, &r) : CDB_OK;
        cdb_row_free(&r);
    } else if (rc == CDB_NONE) {
        v->found = false;
        rc = CDB_OK;
    }
    if (rc != CDB_OK)
        return rc;
    rc = audit_tenantf(tc, v->ar->actor, "customer.viewed", v->found ? target : "customer:-",
                       "{s:b, s:s}", "found", v->found, "channel", "console");
    return rc == ID_OK ? CDB_OK : rc;
}

void h_admin_customer_get(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    int64_t bank_id = 0;
    const char *id = admin_query(req, "id");
    struct view v = {.ar = &ar, .id = id ? atoll(id) : 0};
    if (!admin_bank_one(&ar, &bank_id))
        goto out;
    if (v.id < 1) {
        http_error(resp, ZE_NOT_FOUND, NULL);
        goto out;
    }
    int rc = admin_bank_txn(&ar, bank_id, "admin.customer_view", view_txn, &v);
    if (rc == STORE_OK && v.found && v.out) {
        http_json(resp, 200, v.out);
        v.out = NULL;
    } else if (rc == STORE_OK) {
        http_error(resp, ZE_NOT_FOUND, NULL);
    } else {
        admin_fail(&ar, rc, "view a customer");
    }
out:
    if (v.out) {
        zy1_json_wipe(v.out);
        json_decref(v.out);
    }
    admin_close(&ar);
}
