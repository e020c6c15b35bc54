/* GET /api/v1/admin/reports/performance?period=day|week|month&date=YYYY-MM-DD&bank=CODE
 * — the performance figures (business/perf_summary.h) of the period that
 * contains date (default today, China Standard Time) and of the one
 * before, in the administrator's scope, read from the counters of every
 * database the scope's banks live in (bank shards, data/shard.h):
 *   {"period": P, "previous_period": P,
 *    "banks": [{"code", "name", "shard", "current": F, "previous": F,
 *               "branches": [{"code", "name", "current": F, "previous": F}]}],
 *    "total": {"current": F, "previous": F}, "databases": N}
 * A province administrator gets every bank (read across every shard and
 * merged; "branches" empty), or with bank=CODE that bank per branch; a bank
 * administrator their bank per branch; a branch manager their branch. A
 * bank outside the scope is 404 not_found; a bad period or date 400
 * bad_request; a client manager 403 forbidden. Counts only. */
#include "app/app.h"
#include "business/perf_summary.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/handlers.h"

#include <stdlib.h>

struct entry {
    int64_t bank_id, branch_id;
    struct perf_figures f[2]; /* the period, the one before */
};

struct report {
    struct admin_req *ar;
    struct scope sc;
    enum perf_level level;
    char kind;
    int32_t start[2];
    int which; /* the period being read */
    struct entry *v;
    size_t n, cap;
    int databases;
};

static struct entry *entry_of(struct report *r, int64_t bank_id, int64_t branch_id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].bank_id == bank_id && r->v[i].branch_id == branch_id)
            return &r->v[i];
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct entry *v = realloc(r->v, cap * sizeof *v);
        if (!v)
            return NULL;
        r->v = v;
        r->cap = cap;
    }
    struct entry *e = &r->v[r->n];
    *e = (struct entry){.bank_id = bank_id, .branch_id = branch_id};
    if (perf_figures_init(&e->f[0]) != PERF_OK || perf_figures_init(&e->f[1]) != PERF_OK) {
        perf_figures_free(&e->f[0]);
        return NULL;
    }
    r->n++;
    return e;
}

static int add_row(const struct perf_row *row, void *arg)
{
    struct report *r = arg;
    struct entry *e = entry_of(r, row->bank_id, row->branch_id);
    return e ? perf_figures_add(&e->f[r->which], row) : STORE_NOMEM;
}

/* One database: both periods' counters in the report's scope. */
static int read_db(const char *name, struct store *st, void *arg)
{
    (void)name;
    struct report *r = arg;
    struct store_conn *c = NULL, *reader = NULL;
    struct tenant_conn *tc = NULL;
    int rc = store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    store_read_conn(c, &reader); /* a replica that has what the primary had now */
    rc = tenant_open(reader, &r->sc, &tc);
    for (r->which = 0; rc == STORE_OK && r->which < 2; r->which++)
        rc = perf_read(tc, r->level, r->kind, r->start[r->which], add_row, r);
    tenant_close(tc);
    store_release_read(c, reader);
    store_release(c);
    r->databases++;
    return rc;
}

/* Adds the entries matching (bank, branch; branch -1: any) into f[2]. */
static int sum(const struct report *r, int64_t bank_id, int64_t branch_id, struct perf_figures f[2])
{
    int rc = PERF_OK;
    for (size_t i = 0; i < r->n && rc == PERF_OK; i++)
        if (r->v[i].bank_id == bank_id && (branch_id < 0 || r->v[i].branch_id == branch_id))
            for (int k = 0; k < 2 && rc == PERF_OK; k++)
                rc = perf_figures_merge(&f[k], &r->v[i].f[k]);
    return rc;
}

/* {"current": F, "previous": F} members added to obj. */
static int put_figures(json_t *obj, const struct perf_figures f[2])
{
    json_t *cur = perf_figures_json(&f[0]), *prev = perf_figures_json(&f[1]);
    if (!obj || !cur || !prev) {
        json_decref(cur);
        json_decref(prev);
        return STORE_NOMEM;
    }
    json_object_set_new(obj, "current", cur);
    json_object_set_new(obj, "previous", prev);
    return PERF_OK;
}

static int init2(struct perf_figures f[2])
{
    int rc = perf_figures_init(&f[0]);
    return rc == PERF_OK ? perf_figures_init(&f[1]) : rc;
}

static void free2(struct perf_figures f[2])
{
    perf_figures_free(&f[0]);
    perf_figures_free(&f[1]);
}

struct out {
    struct report *r;
    int64_t only_bank; /* 0: every bank in the scope */
    json_t *banks, *branches;
    struct perf_figures total[2];
};

static int branch_row(const struct branch *b, void *arg)
{
    struct out *o = arg;
    if (!admin_sees_branch(o->r->ar, b->bank_id, b->id))
        return 0;
    struct perf_figures f[2];
    json_t *row = json_pack("{s:s, s:s}", "code", b->code, "name", b->name);
    int rc = init2(f);
    if (rc == PERF_OK)
        rc = sum(o->r, b->bank_id, b->id, f);
    if (rc == PERF_OK)
        rc = put_figures(row, f);
    free2(f);
    if (rc == PERF_OK && json_array_append_new(o->branches, row) != 0)
        return STORE_NOMEM;
    if (rc != PERF_OK)
        json_decref(row);
    return rc;
}

static int bank_row(const struct bank *b, void *arg)
{
    struct out *o = arg;
    struct report *r = o->r;
    if (b->kind != ORG_BANK || !admin_sees_bank(r->ar, b->id) ||
        (o->only_bank && b->id != o->only_bank))
        return 0;
    struct perf_figures f[2];
    char shard[SHARD_NAME_MAX + 1];
    shards_route(r->ar->app->shards, b->id, shard);
    json_t *row = json_pack("{s:s, s:s, s:s}", "code", b->code, "name", b->name, "shard", shard);
    o->branches = json_array();
    int rc = row && o->branches ? init2(f) : STORE_NOMEM;
    /* A branch manager's bank is their branch's figures, nothing more. */
    if (rc == PERF_OK)
        rc = sum(r, b->id, r->level == PERF_BRANCH ? r->sc.branch_id : -1, f);
    if (rc == PERF_OK && r->level != PERF_PROVINCE)
        rc = org_list_branches(r->ar->conn, b->id, branch_row, o);
    if (rc == PERF_OK)
        rc = put_figures(row, f);
    if (rc == PERF_OK) {
        json_object_set_new(row, "branches", o->branches);
        o->branches = NULL;
        for (int k = 0; k < 2 && rc == PERF_OK; k++)
            rc = perf_figures_merge(&o->total[k], &f[k]);
    }
    free2(f);
    json_decref(o->branches);
    o->branches = NULL;
    if (rc == PERF_OK && json_array_append_new(o->banks, row) != 0)
        return STORE_NOMEM;
    if (rc != PERF_OK)
        json_decref(row);
    return rc;
}

/* The report's scope and level for the administrator; the bank they narrowed to in *bank. */
static int plan(struct admin_req *ar, struct report *r, int64_t *bank)
{
    const struct admin_session *w = &ar->who;
    int rc = admin_list_bank(ar, bank);
    if (rc != ID_OK)
        return rc;
    r->sc = (struct scope){.bank_id = *bank ? *bank : w->bank_id,
                           .branch_id = 0,
                           .teller_id = w->teller_id,
                           .role = w->role};
    if (w->role == ROLE_BRANCH_MANAGER && w->branch_id) {
        r->sc.branch_id = w->branch_id;
        r->level = PERF_BRANCH;
    } else {
        r->level = *bank ? PERF_BANK : PERF_PROVINCE;
    }
    return ID_OK;
}

void h_admin_report_performance(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN && ar.who.role != ROLE_BANK_ADMIN &&
        ar.who.role != ROLE_BRANCH_MANAGER) {
        admin_forbidden(&ar);
        admin_close(&ar);
        return;
    }
    struct report r = {.ar = &ar};
    struct out o = {.r = &r, .banks = json_array()};
    const char *date = admin_query(req, "date");
    int32_t day = perf_day_of(clock_wall_ms());
    int64_t bank = 0;
    int rc = plan(&ar, &r, &bank);
    r.kind = perf_kind_parse(admin_query(req, "period"));
    if (rc == ID_OK && (!r.kind || (date && perf_date_parse(date, &day) != 0)))
        rc = ID_BAD_INPUT;
    if (rc == ID_OK)
        rc = o.banks ? init2(o.total) : STORE_NOMEM;
    if (rc == ID_OK) {
        r.start[0] = perf_period_start(r.kind, day);
        r.start[1] = perf_period_prev(r.kind, r.start[0]);
        struct shards *sh = ar.app->shards;
        rc = r.level == PERF_PROVINCE ? shards_each(sh, read_db, &r)
                                      : read_db(NULL, shards_route(sh, r.sc.bank_id, NULL), &r);
    }
    o.only_bank = bank;
    if (rc == ID_OK)
        rc = org_list_banks(ar.conn, bank_row, &o);
    json_t *total = rc == ID_OK ? json_object() : NULL;
    if (rc == ID_OK)
        rc = put_figures(total, o.total);
    if (rc == ID_OK)
        http_json(resp, 200,
                  json_pack("{s:o, s:o, s:O, s:o, s:i}", "period",
                            perf_period_json(r.kind, r.start[0]), "previous_period",
                            perf_period_json(r.kind, r.start[1]), "banks", o.banks, "total", total,
                            "databases", r.databases));
    else {
        json_decref(total);
        admin_fail(&ar, rc, "report performance");
    }
    json_decref(o.banks);
    free2(o.total);
    for (size_t i = 0; i < r.n; i++)
        free2(r.v[i].f);
    free(r.v);
    admin_close(&ar);
}
