/* bench_report DATA — fills a data directory (made by `zhanye init
 * --demo-org`) with a province of BANKS banks and a year of their
 * performance counters, for scripts/bench.sh to time the console's
 * province-wide report and today board on a real `zhanye serve`
 * (report_province_year_ms, report_today_ms: the endpoints themselves,
 * over HTTP on loopback).
 *
 * The banks B03..B80 are added next to the demo's B01 and B02, every bank
 * with BRANCHES branches (the demo's get the missing ones), through the
 * directory's own functions (identity/org.h). The counters are the rows
 * perf_add would have left (business/perf.h): per branch, TELLERS client
 * managers working five days a week and the branch's sums (teller 0) every
 * day, each with NMETRICS metrics, as day, week and month rows over the
 * 365 days up to today; one transaction per bank. Prints "name value"
 * lines: report_rows, report_fill_s. */
#include "app/app.h"
#include "business/perf.h"
#include "data/store.h"
#include "foundation/clock.h"
#include "identity/org.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BANKS 80
#define BRANCHES 6
#define TELLERS 3
#define DAYS 365
#define NMETRICS 6
#define ACTOR "system:bench"

static const char *const METRICS[NMETRICS] = {"visits",
                                              "customers_created",
                                              "info_members",
                                              "recommendations_made",
                                              "recommendations_accepted",
                                              "business:loan"};

static int32_t DATES[DAYS];

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

struct bank_fill {
    int64_t bank_id;
    int64_t branches[BRANCHES + 4];
    int nbranches;
    int64_t rows;
};

static int add_branch_id(const struct branch *b, void *arg)
{
    struct bank_fill *f = arg;
    if (f->nbranches < BRANCHES)
        f->branches[f->nbranches++] = b->id;
    return 0;
}

/* store_run callback: the bank of index arg's ->bank_id (0: add it) and its branches. */
struct org_arg {
    int index; /* 1..BANKS */
    struct bank_fill *f;
};

static int org_txn(struct store_conn *c, void *arg)
{
    struct org_arg *a = arg;
    char code[16], name[64];
    snprintf(code, sizeof code, "B%02d", a->index);
    struct bank b;
    int rc = org_find_bank(c, code, &b);
    if (rc == ID_NOT_FOUND) {
        snprintf(name, sizeof name, "压测农商银行%02d", a->index);
        rc = org_add_bank(c, ACTOR, code, name, &b.id);
    }
    a->f->bank_id = b.id;
    a->f->nbranches = 0;
    if (rc == ID_OK)
        rc = org_list_branches(c, b.id, add_branch_id, a->f);
    for (int i = a->f->nbranches; rc == ID_OK && i < BRANCHES; i++) {
        int64_t id = 0;
        snprintf(code, sizeof code, "%02d", i + 1);
        snprintf(name, sizeof name, "第%02d支行", i + 1);
        rc = org_add_branch(c, ACTOR, b.id, code, name, &id);
        if (rc == ID_EXISTS) { /* a demo branch of that code: listed already */
            rc = ID_OK;
            continue;
        }
        a->f->branches[a->f->nbranches++] = id;
    }
    return rc;
}

/* One row (the store's statement cache keeps the statement prepared). */
static int insert(struct store_conn *c, const struct bank_fill *f, int64_t branch, int64_t teller,
                  char kind, int32_t start, int m, int64_t qty, int64_t amount)
{
    const char kind_s[2] = {kind, '\0'};
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO perf_counters (bank_id, branch_id, teller_id, period_kind, "
                           "period_start, metric, qty, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, f->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, branch);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, teller);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, kind_s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, start);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 6, METRICS[m]);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, qty);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 8, amount);
    if (rc == STORE_OK)
        rc = store_step(s) == STORE_DONE ? STORE_OK : STORE_ERR;
    store_finish(s);
    return rc;
}

/* One unit's (a teller's, or the branch's sums) rows of the year: the
 * daily figures in q[DAYS][NMETRICS] (and amounts in a), summed per period. */
static int unit_rows(struct store_conn *s, struct bank_fill *f, int64_t branch, int64_t teller,
                     int64_t (*q)[NMETRICS], int64_t (*a)[NMETRICS])
{
    static const char kinds[] = {'d', 'w', 'm'};
    for (int m = 0; m < NMETRICS; m++)
        for (size_t k = 0; k < sizeof kinds; k++) {
            int64_t sq = 0, sa = 0;
            int32_t start = perf_period_start(kinds[k], DATES[0]);
            for (int d = 0; d <= DAYS; d++) {
                int32_t st = d < DAYS ? perf_period_start(kinds[k], DATES[d]) : 0;
                if (st != start) {
                    if (sq) {
                        int rc = insert(s, f, branch, teller, kinds[k], start, m, sq, sa);
                        if (rc != STORE_OK)
                            return rc;
                        f->rows++;
                    }
                    sq = sa = 0;
                    start = st;
                }
                if (d < DAYS) {
                    sq += q[d][m];
                    sa += a[d][m];
                }
            }
        }
    return STORE_OK;
}

/* store_run callback: the bank's counters. */
static int fill_txn(struct store_conn *c, void *arg)
{
    struct bank_fill *f = arg;
    static int64_t q[TELLERS + 1][DAYS][NMETRICS], a[TELLERS + 1][DAYS][NMETRICS];
    int rc = STORE_OK;
    f->rows = 0;
    for (int b = 0; rc == STORE_OK && b < f->nbranches; b++) {
        memset(q, 0, sizeof q);
        memset(a, 0, sizeof a);
        for (int t = 1; t <= TELLERS; t++)
            for (int d = 0; d < DAYS; d++) {
                if ((d + 3) % 7 >= 5) /* the weekend */
                    continue;
                uint64_t r = rnd();
                int64_t v[NMETRICS] = {(int64_t)(r % 6),        (int64_t)(r / 6 % 3),
                                       (int64_t)(r / 18 % 7),   (int64_t)(r / 126 % 9),
                                       (int64_t)(r / 1134 % 3), (int64_t)(r / 3402 % 2)};
                for (int m = 0; m < NMETRICS; m++) {
                    int64_t amount = m == 2   ? v[m] ? PERF_INFO_MEMBERS : 0
                                     : m == 5 ? v[m] * (int64_t)(rnd() % 5000000)
                                              : 0;
                    q[t][d][m] += v[m];
                    a[t][d][m] += amount;
                    q[0][d][m] += v[m];
                    a[0][d][m] += amount;
                }
            }
        for (int t = 0; rc == STORE_OK && t <= TELLERS; t++)
            rc = unit_rows(c, f, f->branches[b], t ? 1000 * f->branches[b] + t : 0, q[t], a[t]);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_report DATA\n");
        return 2;
    }
    struct app app;
    char err[512];
    memset(&app, 0, sizeof app);
    if (app_open(&app, argv[1], err, sizeof err) != APP_OK) {
        fprintf(stderr, "bench_report: %s\n", err);
        return 1;
    }
    DATES[DAYS - 1] = perf_day_of(clock_wall_ms());
    for (int d = DAYS - 1; d > 0; d--)
        DATES[d - 1] = perf_period_prev('d', DATES[d]);
    uint64_t t0 = clock_mono_ns();
    int64_t rows = 0;
    int rc = STORE_OK;
    for (int i = 1; rc == STORE_OK && i <= BANKS; i++) {
        struct bank_fill f = {0};
        struct org_arg oa = {.index = i, .f = &f};
        struct store_conn *c = NULL;
        rc = store_acquire(app.store, &c);
        if (rc == STORE_OK)
            rc = store_run(c, "bench_report.org", org_txn, &oa);
        if (rc == STORE_OK)
            rc = store_run(c, "bench_report.fill", fill_txn, &f);
        if (c)
            store_release(c);
        rows += f.rows;
    }
    if (rc != STORE_OK) {
        fprintf(stderr, "bench_report: the fill failed (%d)\n", rc);
        app_close(&app);
        return 1;
    }
    printf("report_rows %lld\n", (long long)rows);
    printf("report_fill_s %.1f\n", (double)(clock_mono_ns() - t0) / 1e9);
    app_close(&app);
    return 0;
}
