/* GET /api/v1/admin/visits?bank=&teller=&from=&to=&limit= — the back office's
 * visit records (docs/api.md §2.3):
 *   -> 200 {"tasks": [{"bank", "task_id", "date", "source", "status", "teller",
 *           "teller_name", "branch", "branch_name", "customer_id", "customer_name",
 *           "note", "visit_id"}],
 *          "visits": [{"bank", "visit_id", "task_id", "customer_id", "customer_name",
 *           "teller", "teller_name", "branch", "branch_name", "at", "outcome",
 *           "next_step", "far", "distance_m"?}]}
 * from / to: YYYY-MM-DD (China time), inclusive: tasks by their day, visits
 * by when they took place. teller: a teller code in the scope (404
 * otherwise). A branch manager sees the tasks and visits of their branch
 * (the row's branch_id: the branch of the client manager the task is
 * given to, or who checked in). Visit notes are free text a manager wrote
 * and are not listed here (the customer's page shows them, audited). */
#include "app/app.h"
#include "business/customer_db.h"
#include "business/visit_admin.h"
#include "business/visit_input.h"
#include "http/admin_bank.h"
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 100
#define LIST_MAX 500

struct acc {
    struct admin_req *ar;
    struct tenant_conn *tc;
    char bank[ORG_CODE_MAX + 1];
    struct vadm_filter f;
    json_t *tasks, *visits;
};

static void customer_name(struct tenant_conn *tc, int64_t id, char out[CP_NAME_MAX + 1])
{
    struct cdb_row r;
    out[0] = '\0';
    if (id > 0 && cdb_get(tc, id, &r) == CDB_OK) {
        snprintf(out, CP_NAME_MAX + 1, "%s", r.name);
        cdb_row_free(&r);
    }
}

static int task_row(const struct vdb_task *t, void *arg)
{
    struct acc *a = arg;
    char tc[TELLER_CODE_MAX + 1], tn[TELLER_NAME_MAX + 1], bc[ORG_CODE_MAX + 1],
        bn[ORG_NAME_MAX + 1], cn[CP_NAME_MAX + 1], date[11];
    admin_bank_teller(a->ar, t->teller_id, tc, tn);
    admin_bank_branch(a->ar, t->branch_id, bc, bn);
    customer_name(a->tc, t->customer_id, cn);
    if (!cn[0] && t->target) { /* a grid household: its name as the grid gave it */
        json_t *tg = json_loads(t->target, 0, NULL);
        const char *hn =
            json_string_value(json_object_get(json_object_get(tg, "household"), "name"));
        snprintf(cn, sizeof cn, "%s", hn ? hn : "");
        json_decref(tg);
    }
    vi_day_text(t->day, date);
    json_t *row =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I}", "bank",
                  a->bank, "task_id", (json_int_t)t->id, "date", date, "source", t->source,
                  "status", t->status, "teller", tc, "teller_name", tn, "branch", bc, "branch_name",
                  bn, "customer_id", (json_int_t)t->customer_id, "customer_name", cn, "note",
                  t->note, "visit_id", (json_int_t)t->visit_id);
    return row && json_array_append_new(a->tasks, row) == 0 ? 0 : STORE_NOMEM;
}

static int visit_row(const struct vdb_visit *v, void *arg)
{
    struct acc *a = arg;
    char tc[TELLER_CODE_MAX + 1], tn[TELLER_NAME_MAX + 1], bc[ORG_CODE_MAX + 1],
        bn[ORG_NAME_MAX + 1], cn[CP_NAME_MAX + 1];
    admin_bank_teller(a->ar, v->teller_id, tc, tn);
    admin_bank_branch(a->ar, v->branch_id, bc, bn);
    customer_name(a->tc, v->customer_id, cn);
    json_t *row = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:b}",
                            "bank", a->bank, "visit_id", (json_int_t)v->id, "task_id",
                            (json_int_t)v->task_id, "customer_id", (json_int_t)v->customer_id,
                            "customer_name", cn, "teller", tc, "teller_name", tn, "branch", bc,
                            "branch_name", bn, "at", (json_int_t)v->at, "outcome", v->outcome,
                            "next_step", v->next_step ? v->next_step : "", "far", v->far);
    if (row && v->has_distance)
        json_object_set_new(row, "distance_m", json_integer(v->distance_m));
    return row && json_array_append_new(a->visits, row) == 0 ? 0 : STORE_NOMEM;
}

static int read_bank(struct tenant_conn *tc, void *arg)
{
    struct acc *a = arg;
    a->tc = tc;
    int rc = vadm_tasks(tc, &a->f, task_row, a);
    if (rc == VDB_OK)
        rc = vadm_visits(tc, &a->f, visit_row, a);
    return rc;
}

/* A YYYY-MM-DD argument into *day; false with the answer set. */
static bool day_arg(struct admin_req *ar, const char *name, int32_t *day)
{
    const char *s = admin_query(ar->req, name);
    if (!s || !s[0])
        return true;
    struct vi_error e = {0};
    json_t *j = json_string(s);
    int rc = j ? vi_date(j, name, day, &e) : VI_BAD;
    json_decref(j);
    if (rc == VI_OK)
        return true;
    char msg[160];
    snprintf(msg, sizeof msg, "%s: 日期格式为 YYYY-MM-DD", name);
    http_error(ar->resp, ZE_BAD_REQUEST, msg);
    return false;
}

/* Unix ms of 00:00 China Standard Time (UTC+8) of a YYYYMMDD day. */
static int64_t day_start_ms(int32_t day)
{
    int y = day / 10000, m = day / 100 % 100, d = day % 100;
    /* days from the civil date (Howard Hinnant's algorithm) */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return (days * 86400 - 8 * 3600) * 1000;
}

void h_admin_visits(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    const char *lim = admin_query(req, "limit"), *teller = admin_query(req, "teller");
    struct acc a = {.ar = &ar, .tasks = json_array(), .visits = json_array()};
    a.f.limit = lim ? atoi(lim) : LIST_DEFAULT;
    a.f.branch_id = admin_list_branch(&ar);
    int64_t ids[ADMIN_BANKS_MAX];
    size_t n = 0;
    if (a.f.limit < 1 || a.f.limit > LIST_MAX) {
        http_error(resp, ZE_BAD_REQUEST, "limit: 1..500");
        goto out;
    }
    if (!day_arg(&ar, "from", &a.f.day_from) || !day_arg(&ar, "to", &a.f.day_to))
        goto out;
    a.f.at_from = a.f.day_from ? day_start_ms(a.f.day_from) : 0;
    a.f.at_to = a.f.day_to ? day_start_ms(a.f.day_to) + 86400000 : 0;
    int rc = a.tasks && a.visits ? admin_bank_ids(&ar, ids, &n) : STORE_NOMEM;
    if (rc == ID_OK && teller && teller[0]) {
        struct teller t = {0};
        rc = admin_find_teller(&ar, teller, &t);
        rc = rc == ID_BAD_INPUT ? ID_NOT_FOUND : rc;
        a.f.teller_id = t.id;
        ids[0] = t.bank_id; /* a teller's records are in their bank */
        n = rc == ID_OK ? 1 : 0;
    }
    for (size_t i = 0; rc == ID_OK && i < n; i++) {
        char bn[ORG_NAME_MAX + 1];
        admin_bank_names(&ar, ids[i], a.bank, bn);
        rc = admin_bank_read(&ar, ids[i], read_bank, &a);
    }
    if (rc == ID_OK)
        http_json(resp, 200, json_pack("{s:O, s:O}", "tasks", a.tasks, "visits", a.visits));
    else
        admin_fail(&ar, rc, "list visits");
out:
    json_decref(a.tasks);
    json_decref(a.visits);
    admin_close(&ar);
}
