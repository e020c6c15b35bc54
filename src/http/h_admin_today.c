/* GET /api/v1/admin/reports/today[?bank=CODE] — the live board: today's
 * figures (China Standard Time) of the administrator's scope, read from
 * the counters through the performance report's own code (admin_perf.h),
 * and the latest completed businesses:
 *   {"date": "YYYY-MM-DD", "level": "bank"|"branch",
 *    "total": F, "units": [{"code", "name", F members...}],
 *    "latest": [{"biz_no", "kind", "amount" (fen), "bank", "branch"
 *                (names), "completed_at" (Unix ms)}], "databases": N}
 * "units" are the banks for a province administrator (without bank=),
 * else the branches of the bank (a branch manager: theirs). "latest" holds
 * at most TODAY_LATEST businesses completed today (among each bank's
 * TODAY_LATEST newest completed ones), newest first: no
 * customer, no teller, nothing personal. Scope and roles as the report's:
 * a bank outside the scope is 404 not_found, a client manager 403. */
#include "app/app.h"
#include "business/perf.h"
#include "business/wf.h"
#include "business/wf_db.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/admin_perf.h"
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#define TODAY_LATEST 20

struct latest {
    struct admin_req *ar;
    const struct bank *bank;
    int32_t today;
    json_t *list; /* unsorted; the newest TODAY_LATEST kept at the end */
};

/* The amount a completed business counted (its kind's, from its steps' keep). */
static int64_t amount_of(struct tenant_conn *tc, const struct kek *k, const struct wdb_biz *b)
{
    const struct wf_kind *kind = wf_kind_find(b->kind);
    if (!kind || !kind->amount)
        return 0;
    struct wdb_step steps[WF_MAX_STEPS];
    memset(steps, 0, sizeof steps);
    int64_t amount = 0;
    json_t *state = json_object();
    if (state && wdb_steps(tc, k, b, steps) == WDB_OK) {
        for (size_t i = 0; i < kind->nsteps && i < WF_MAX_STEPS; i++)
            if (steps[i].keep)
                json_object_set(state, kind->steps[i].name, steps[i].keep);
        amount = kind->amount(state);
    }
    wdb_steps_free(steps);
    json_decref(state);
    return amount;
}

struct biz_arg {
    struct latest *l;
    struct tenant_conn *tc;
};

static int biz_row(const struct wdb_biz *b, void *arg)
{
    struct biz_arg *a = arg;
    struct latest *l = a->l;
    /* Ids are in creation order, not completion order: skip, never stop. */
    if (perf_day_of(b->updated_at) != l->today ||
        !admin_sees_branch(l->ar, l->bank->id, b->branch_id))
        return 0;
    struct branch br = {0};
    if (org_find_branch_id(l->ar->conn, b->branch_id, &br) != ID_OK)
        br.name[0] = '\0';
    json_t *row =
        json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "biz_no", b->biz_no, "kind", b->kind, "amount",
                  (json_int_t)amount_of(a->tc, &l->ar->app->kek, b), "bank", l->bank->name,
                  "branch", br.name, "completed_at", (json_int_t)b->updated_at);
    return row && json_array_append_new(l->list, row) == 0 ? 0 : STORE_NOMEM;
}

/* One bank's latest completed businesses, from its shard. */
static int bank_latest(const struct bank *b, void *arg)
{
    struct latest *l = arg;
    if (b->kind != ORG_BANK || !admin_sees_bank(l->ar, b->id))
        return 0;
    const struct admin_session *w = &l->ar->who;
    struct scope sc = {
        .bank_id = b->id, .branch_id = w->branch_id, .teller_id = w->teller_id, .role = w->role};
    struct store_conn *c = NULL, *reader = NULL;
    struct tenant_conn *tc = NULL;
    int rc = store_acquire(shards_route(l->ar->app->shards, b->id, NULL), &c);
    if (rc != STORE_OK)
        return rc;
    store_read_conn(c, &reader);
    rc = tenant_open(reader, &sc, &tc);
    l->bank = b;
    struct biz_arg a = {.l = l, .tc = tc};
    if (rc == STORE_OK)
        rc = wdb_list(tc, 0, "completed", "", 0, TODAY_LATEST, biz_row, &a);
    tenant_close(tc);
    store_release_read(c, reader);
    store_release(c);
    return rc;
}

static int newest_first(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "completed_at"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "completed_at"));
    return a < b ? 1 : a > b ? -1 : 0;
}

/* list sorted newest first and cut to TODAY_LATEST, as a new array. */
static json_t *newest(json_t *list)
{
    size_t n = json_array_size(list);
    json_t **v = calloc(n ? n : 1, sizeof *v);
    json_t *out = json_array();
    if (!v || !out) {
        free(v);
        json_decref(out);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(list, i);
    qsort(v, n, sizeof *v, newest_first);
    for (size_t i = 0; i < n && i < TODAY_LATEST; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

/* {"code","name", F...} of each unit of the report (banks, or the one bank's branches). */
static json_t *units_of(const json_t *rep, const char **level)
{
    const json_t *banks = json_object_get(rep, "banks");
    const json_t *one = json_array_size(banks) == 1 ? json_array_get(banks, 0) : NULL;
    const json_t *src = one ? json_object_get(one, "branches") : banks;
    *level = one ? "branch" : "bank";
    json_t *out = json_array();
    size_t i;
    const json_t *u;
    json_array_foreach(src, i, u)
    {
        json_t *row = json_deep_copy(json_object_get(u, "current"));
        if (!row || !out)
            break;
        json_object_set(row, "code", json_object_get(u, "code"));
        json_object_set(row, "name", json_object_get(u, "name"));
        json_array_append_new(out, row);
    }
    return out;
}

void h_admin_report_today(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open_report(req, resp, &ar))
        return;
    int32_t today = perf_day_of(clock_wall_ms());
    json_t *rep = NULL, *latest = NULL;
    struct latest l = {.ar = &ar, .today = today, .list = json_array()};
    int64_t bank = 0;
    int rc = l.list ? admin_perf_answer(&ar, 'd', today, &rep) : STORE_NOMEM;
    if (rc == ID_OK)
        rc = admin_list_bank(&ar, &bank);
    if (rc == ID_OK) {
        if (bank) {
            struct bank b;
            rc = org_find_bank_id(ar.conn, bank, &b);
            if (rc == ID_OK)
                rc = bank_latest(&b, &l);
        } else
            rc = org_list_banks(ar.conn, bank_latest, &l);
    }
    if (rc == ID_OK && !(latest = newest(l.list)))
        rc = STORE_NOMEM;
    if (rc == ID_OK) {
        char date[11];
        const char *level = "bank";
        perf_date_text(today, date);
        json_t *units = units_of(rep, &level);
        http_json(resp, 200,
                  json_pack("{s:s, s:s, s:O, s:o, s:o, s:O}", "date", date, "level", level, "total",
                            json_object_get(json_object_get(rep, "total"), "current"), "units",
                            units, "latest", latest, "databases",
                            json_object_get(rep, "databases")));
        latest = NULL;
    } else
        admin_fail(&ar, rc, "report today");
    json_decref(latest);
    json_decref(l.list);
    json_decref(rep);
    admin_close(&ar);
}
