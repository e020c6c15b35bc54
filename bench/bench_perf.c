/* bench_perf DIR — what a performance summary costs with 10 thousand and
 * with 1 million visits behind it (business/perf.h, perf_summary.h).
 *
 * For each size, a private SQLite database in DIR (migrated as the server
 * does) gets the counter rows that many visits leave: a bank of 20
 * branches and 200 client managers, the visits spread at random over the
 * 365 days up to 2026-11-30, each with its outcome, one in ten creating a
 * customer, one in three showing three products, one in fifteen accepted.
 * The rows are the ones perf_add would write (day, week and month rows per
 * teller and metric, and per branch under teller 0), summed in memory and inserted in one
 * transaction, which is what makes the 1M fill take seconds, not hours.
 *
 * Then, timed (median of ITERATIONS or of those that fit in 2 s, at least
 * 20; microseconds), what PERF_SUMMARY does
 * for one client manager: the month containing 2026-11-30 and the one
 * before, read and turned into the answer's JSON (perf_summary_us_*); and
 * what the bank's report reads for one day (perf_summary_bank_us_*).
 * Prints "name value" lines: perf_rows_10k, perf_rows_1m, perf_fill_s_1m,
 * perf_summary_us_10k, perf_summary_us_1m, perf_summary_ratio (1m / 10k;
 * about 1: the cost does not grow with the visits), and the bank's pair. */
#include "business/perf_summary.h"
#include "data/store.h"
#include "data/tenant.h"
#include "foundation/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BRANCHES 20
#define TELLERS 200
#define DAYS 365
#define LAST_DAY 20261130
#define ITERATIONS 2000
#define BUDGET_NS 2000000000ULL
#define NMETRICS 9

static const char *const METRICS[NMETRICS] = {"visits",
                                              "visits_met",
                                              "visits_not_home",
                                              "visits_refused",
                                              "visits_interested",
                                              "visits_done",
                                              "customers_created",
                                              "recommendations_made",
                                              "recommendations_accepted"};

static int32_t DATES[DAYS];

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Row t of the sums: tellers 0..TELLERS-1, then the branches' sums. */
#define ROWS (TELLERS + BRANCHES)

struct fill {
    int32_t *n; /* [ROWS][DAYS][NMETRICS] */
    int64_t rows;
};

static int branch_of(int t)
{
    return t < TELLERS ? t / (TELLERS / BRANCHES) + 1 : t - TELLERS + 1;
}

static int32_t *cell(int32_t *n, int t, int d, int m)
{
    return &n[((size_t)t * DAYS + (size_t)d) * NMETRICS + (size_t)m];
}

static int insert(struct store_conn *c, int t, char kind, int32_t start, int m, int64_t qty)
{
    const char kind_s[2] = {kind, '\0'};
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO perf_counters (bank_id, branch_id, teller_id, "
                           "period_kind, period_start, metric, qty, amount) "
                           "VALUES (1, ?, ?, ?, ?, ?, ?, 0)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, branch_of(t));
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, t < TELLERS ? t + 1 : 0);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, kind_s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, start);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 5, METRICS[m]);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 6, qty);
    if (rc == STORE_OK)
        rc = store_step(s) == STORE_DONE ? STORE_OK : STORE_ERR;
    store_finish(s);
    return rc;
}

/* store_run callback: every row of the sums in f. */
static int write_rows(struct store_conn *c, void *arg)
{
    struct fill *f = arg;
    static const char kinds[] = {'d', 'w', 'm'};
    f->rows = 0;
    for (int t = 0; t < ROWS; t++)
        for (int m = 0; m < NMETRICS; m++)
            for (size_t k = 0; k < sizeof kinds; k++) {
                int64_t sum = 0;
                int32_t start = perf_period_start(kinds[k], DATES[0]);
                for (int d = 0; d <= DAYS; d++) {
                    int32_t s = d < DAYS ? perf_period_start(kinds[k], DATES[d]) : 0;
                    if (s != start) { /* the period ended: its row */
                        if (sum) {
                            int rc = insert(c, t, kinds[k], start, m, sum);
                            if (rc != STORE_OK)
                                return rc;
                            f->rows++;
                        }
                        sum = 0;
                        start = s;
                    }
                    if (d < DAYS)
                        sum += *cell(f->n, t, d, m);
                }
            }
    return STORE_OK;
}

static int open_db(const char *dir, const char *name, struct store **st)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.db", dir, name);
    remove(path);
    struct store_config cfg = {
        .backend = "sqlite", .path = path, .pool_size = 1, .busy_timeout_ms = 5000};
    if (store_open(&cfg, st) != STORE_OK || store_migrate(*st) != STORE_OK) {
        fprintf(stderr, "bench_perf: cannot open %s\n", path);
        return -1;
    }
    return 0;
}

/* Fills st with the counters of visits visits; the rows written in *rows. */
static int fill(struct store *st, long visits, int64_t *rows)
{
    struct fill f = {.n = calloc((size_t)ROWS * DAYS * NMETRICS, sizeof(int32_t))};
    if (!f.n)
        return -1;
    for (long v = 0; v < visits; v++) {
        int t = (int)(rnd() % TELLERS), d = (int)(rnd() % DAYS);
        uint64_t r = rnd();
        for (int k = 0; k < 2; k++, t = TELLERS + branch_of(t) - 1) { /* the teller, the branch */
            (*cell(f.n, t, d, 0))++;
            (*cell(f.n, t, d, 1 + (int)(r % 5)))++;
            if (r / 5 % 10 == 0)
                (*cell(f.n, t, d, 6))++;
            if (r / 50 % 3 == 0)
                *cell(f.n, t, d, 7) += 3;
            if (r / 150 % 15 == 0)
                (*cell(f.n, t, d, 8))++;
        }
    }
    struct store_conn *c = NULL;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "bench_perf.fill", write_rows, &f);
    store_release(c);
    free(f.n);
    *rows = f.rows;
    return rc == STORE_OK ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* One summary as PERF_SUMMARY makes it: both periods, the answer's JSON. */
static int one_summary(struct tenant_conn *tc, enum perf_level level, char kind)
{
    int32_t start = perf_period_start(kind, LAST_DAY);
    int32_t starts[2] = {start, perf_period_prev(kind, start)};
    int rc = PERF_OK;
    for (int i = 0; i < 2 && rc == PERF_OK; i++) {
        struct perf_figures f;
        rc = perf_figures_init(&f);
        if (rc == PERF_OK)
            rc = perf_summary(tc, level, kind, starts[i], &f);
        json_t *j = rc == PERF_OK ? perf_figures_json(&f) : NULL;
        if (rc == PERF_OK && !j)
            rc = STORE_NOMEM;
        json_decref(j);
        perf_figures_free(&f);
    }
    return rc;
}

/* Median microseconds of one_summary at level in st. */
static double time_summary(struct store *st, enum perf_level level, char kind)
{
    struct store_conn *c = NULL;
    struct tenant_conn *tc = NULL;
    struct scope sc = {.bank_id = 1,
                       .branch_id = level == PERF_MINE ? 1 : 0,
                       .teller_id = 1,
                       .role = level == PERF_MINE ? ROLE_CLIENT_MANAGER : ROLE_BANK_ADMIN};
    uint64_t *ns = calloc(ITERATIONS, sizeof *ns);
    double us = -1;
    if (ns && store_acquire(st, &c) == STORE_OK && tenant_open(c, &sc, &tc) == STORE_OK) {
        int ok = 1;
        for (int i = 0; i < 5 && ok; i++) /* warm the statement cache and the pages */
            ok = one_summary(tc, level, kind) == PERF_OK;
        /* ITERATIONS, or fewer when they would take over BUDGET_NS. */
        uint64_t begin = clock_mono_ns();
        int n = 0;
        for (; n < ITERATIONS && ok && (n < 20 || clock_mono_ns() - begin < BUDGET_NS); n++) {
            uint64_t t0 = clock_mono_ns();
            ok = one_summary(tc, level, kind) == PERF_OK;
            ns[n] = clock_mono_ns() - t0;
        }
        if (ok) {
            qsort(ns, (size_t)n, sizeof *ns, cmp_u64);
            us = (double)ns[n / 2] / 1000.0;
        }
    }
    tenant_close(tc);
    if (c)
        store_release(c);
    free(ns);
    return us;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_perf DIR\n");
        return 2;
    }
    DATES[DAYS - 1] = LAST_DAY;
    for (int d = DAYS - 1; d > 0; d--)
        DATES[d - 1] = perf_period_prev('d', DATES[d]);
    static const struct {
        const char *name;
        long visits;
    } sizes[] = {{"10k", 10000}, {"1m", 1000000}};
    double mine[2], bank[2];
    for (int i = 0; i < 2; i++) {
        struct store *st = NULL;
        int64_t rows = 0;
        if (open_db(argv[1], sizes[i].name, &st) != 0)
            return 1;
        uint64_t t0 = clock_mono_ns();
        if (fill(st, sizes[i].visits, &rows) != 0) {
            fprintf(stderr, "bench_perf: the fill failed\n");
            store_close(st);
            return 1;
        }
        double fill_s = (double)(clock_mono_ns() - t0) / 1e9;
        mine[i] = time_summary(st, PERF_MINE, 'm');
        bank[i] = time_summary(st, PERF_BANK, 'd');
        store_close(st);
        if (mine[i] < 0 || bank[i] < 0) {
            fprintf(stderr, "bench_perf: the summary failed\n");
            return 1;
        }
        printf("perf_rows_%s %lld\n", sizes[i].name, (long long)rows);
        printf("perf_fill_s_%s %.2f\n", sizes[i].name, fill_s);
    }
    printf("perf_summary_us_10k %.1f\n", mine[0]);
    printf("perf_summary_us_1m %.1f\n", mine[1]);
    printf("perf_summary_ratio %.2f\n", mine[1] / mine[0]);
    printf("perf_summary_bank_us_10k %.1f\n", bank[0]);
    printf("perf_summary_bank_us_1m %.1f\n", bank[1]);
    printf("perf_summary_bank_ratio %.2f\n", bank[1] / bank[0]);
    return 0;
}
