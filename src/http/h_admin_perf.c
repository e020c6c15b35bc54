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
 * bad_request; a client manager 403 forbidden. Counts only.
 *
 * The drill-down to the manager: branch=CODE (of bank=CODE for a province
 * administrator; of their own bank otherwise) adds
 *   "tellers": [{"code", "name", "current": F, "previous": F}]
 * — the branch's tellers (those who work there now, and any other who has
 * counters of the period there), read from their own counter rows; "banks"
 * then holds that bank with that branch only. A branch outside the scope
 * (a branch manager asking for another branch) is 404 not_found. */
#include "app/app.h"
#include "business/perf_summary.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/admin_perf.h"
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    int64_t bank_id, branch_id, teller_id;
    struct perf_figures f[2]; /* the period, the one before */
};

struct report {
    struct admin_req *ar;
    struct scope sc;
    enum perf_level level;
    bool tellers; /* the drill-down: read PERF_TELLERS as well */
    char kind;
    int32_t start[2];
    int which; /* the period being read */
    struct entry *v;
    size_t n, cap;
    int databases;
};

static struct entry *entry_of(struct report *r, int64_t bank_id, int64_t branch_id,
                              int64_t teller_id)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].bank_id == bank_id && r->v[i].branch_id == branch_id &&
            r->v[i].teller_id == teller_id)
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
    *e = (struct entry){.bank_id = bank_id, .branch_id = branch_id, .teller_id = teller_id};
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
    struct entry *e = entry_of(r, row->bank_id, row->branch_id, row->teller_id);
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
    for (r->which = 0; rc == STORE_OK && r->which < 2; r->which++) {
        rc = perf_read(tc, r->level, r->kind, r->start[r->which], add_row, r);
        if (rc == STORE_OK && r->tellers)
            rc = perf_read(tc, PERF_TELLERS, r->kind, r->start[r->which], add_row, r);
    }
    tenant_close(tc);
    store_release_read(c, reader);
    store_release(c);
    r->databases++;
    return rc;
}

/* Adds the entries matching (bank, branch; branch -1: any) into f[2]: the
 * sums (teller 0), never the drill-down's teller rows. */
static int sum(const struct report *r, int64_t bank_id, int64_t branch_id, struct perf_figures f[2])
{
    int rc = PERF_OK;
    for (size_t i = 0; i < r->n && rc == PERF_OK; i++)
        if (r->v[i].bank_id == bank_id && r->v[i].teller_id == 0 &&
            (branch_id < 0 || r->v[i].branch_id == branch_id))
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
    int64_t only_bank;   /* 0: every bank in the scope */
    int64_t only_branch; /* the drill-down's branch; 0: every branch in the scope */
    json_t *banks, *branches, *tellers;
    struct perf_figures total[2];
};

static int branch_row(const struct branch *b, void *arg)
{
    struct out *o = arg;
    if (!admin_sees_branch(o->r->ar, b->bank_id, b->id) ||
        (o->only_branch && b->id != o->only_branch))
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

/* One teller's row of the drill-down, from their counter entries (zeros without). */
static int teller_row(struct out *o, const struct teller *t)
{
    struct report *r = o->r;
    struct perf_figures f[2];
    json_t *row = json_pack("{s:s, s:s}", "code", t->code, "name", t->name);
    int rc = row ? init2(f) : STORE_NOMEM;
    for (size_t i = 0; i < r->n && rc == PERF_OK; i++)
        if (r->v[i].teller_id == t->id && r->v[i].branch_id == o->only_branch)
            for (int k = 0; k < 2 && rc == PERF_OK; k++)
                rc = perf_figures_merge(&f[k], &r->v[i].f[k]);
    if (rc == PERF_OK)
        rc = put_figures(row, f);
    free2(f);
    if (rc == PERF_OK && json_array_append_new(o->tellers, row) != 0)
        return STORE_NOMEM;
    if (rc != PERF_OK)
        json_decref(row);
    return rc;
}

static bool listed(const json_t *tellers, const char *code)
{
    size_t i;
    json_t *v;
    json_array_foreach(tellers, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "code")), code) == 0)
            return true;
    }
    return false;
}

static int branch_teller(const struct teller *t, void *arg)
{
    return teller_row(arg, t);
}

/* The drill-down: the branch's tellers now, then those with counters there who moved on. */
static int tellers_out(struct out *o, int64_t bank_id)
{
    struct report *r = o->r;
    int rc = teller_list(r->ar->conn, bank_id, o->only_branch, branch_teller, o);
    for (size_t i = 0; i < r->n && rc == ID_OK; i++) {
        struct teller t;
        if (r->v[i].teller_id == 0 || r->v[i].branch_id != o->only_branch)
            continue;
        rc = teller_find_id(r->ar->conn, r->v[i].teller_id, &t);
        if (rc == ID_NOT_FOUND) {
            rc = ID_OK;
            continue;
        }
        if (rc == ID_OK && !listed(o->tellers, t.code))
            rc = teller_row(o, &t);
    }
    return rc;
}

/* The drill-down's branch (?branch=CODE) in the bank, within the scope: its id in
 * *branch (0 without the argument). */
static int plan_branch(struct admin_req *ar, struct report *r, int64_t bank, int64_t *branch)
{
    const char *code = admin_query(ar->req, "branch");
    *branch = 0;
    if (!code)
        return ID_OK;
    struct branch b;
    /* A province administrator names the bank; the others have their own. */
    int rc = bank ? admin_find_branch(ar, bank, code, &b) : ID_NOT_FOUND;
    if (rc != ID_OK)
        return rc;
    *branch = b.id;
    r->sc.branch_id = b.id;
    r->tellers = true;
    return ID_OK;
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

int admin_perf_answer(struct admin_req *ar, char kind, int32_t day, json_t **out)
{
    struct report r = {.ar = ar, .kind = kind};
    struct out o = {.r = &r, .banks = json_array()};
    int64_t bank = 0, branch = 0;
    int rc = plan(ar, &r, &bank);
    if (rc == ID_OK)
        rc = plan_branch(ar, &r, bank ? bank : ar->who.bank_id, &branch);
    o.tellers = branch ? json_array() : NULL;
    if (rc == ID_OK && branch && !o.tellers)
        rc = STORE_NOMEM;
    if (rc == ID_OK && kind != 'd' && kind != 'w' && kind != 'm')
        rc = ID_BAD_INPUT;
    if (rc == ID_OK)
        rc = o.banks ? init2(o.total) : STORE_NOMEM;
    if (rc == ID_OK) {
        r.start[0] = perf_period_start(r.kind, day);
        r.start[1] = perf_period_prev(r.kind, r.start[0]);
        struct shards *sh = ar->app->shards;
        rc = r.level == PERF_PROVINCE ? shards_each(sh, read_db, &r)
                                      : read_db(NULL, shards_route(sh, r.sc.bank_id, NULL), &r);
    }
    o.only_bank = bank;
    o.only_branch = branch;
    if (rc == ID_OK)
        rc = org_list_banks(ar->conn, bank_row, &o);
    if (rc == ID_OK && branch)
        rc = tellers_out(&o, r.sc.bank_id);
    json_t *total = rc == ID_OK ? json_object() : NULL;
    if (rc == ID_OK)
        rc = put_figures(total, o.total);
    *out = NULL;
    if (rc == ID_OK) {
        *out =
            json_pack("{s:o, s:o, s:O, s:o, s:i}", "period", perf_period_json(r.kind, r.start[0]),
                      "previous_period", perf_period_json(r.kind, r.start[1]), "banks", o.banks,
                      "total", total, "databases", r.databases);
        total = NULL;
        if (*out && o.tellers)
            json_object_set(*out, "tellers", o.tellers);
        rc = *out ? ID_OK : STORE_NOMEM;
    }
    json_decref(total);
    json_decref(o.banks);
    json_decref(o.tellers);
    free2(o.total);
    for (size_t i = 0; i < r.n; i++)
        free2(r.v[i].f);
    free(r.v);
    return rc;
}

void h_admin_report_performance(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open_report(req, resp, &ar))
        return;
    const char *date = admin_query(req, "date");
    int32_t day = perf_day_of(clock_wall_ms());
    char kind = perf_kind_parse(admin_query(req, "period"));
    json_t *ans = NULL;
    int rc = !kind || (date && perf_date_parse(date, &day) != 0)
                 ? ID_BAD_INPUT
                 : admin_perf_answer(&ar, kind, day, &ans);
    if (rc == ID_OK)
        http_json(resp, 200, ans);
    else
        admin_fail(&ar, rc, "report performance");
    admin_close(&ar);
}
