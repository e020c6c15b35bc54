/* Unit tests for data/seq on a migrated SQLite store in a fresh temp dir. */
#include "data/seq.h"
#include "data/store.h"
#include "foundation/clock.h"

#include <ctype.h>
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define NODE 7
#define BLOCK 100
#define DAY_MS (24LL * 3600 * 1000)

struct fx {
    char dir[64];
    char path[128];
    struct store *st;
    struct seq *q;
};

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[512];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int open_store(struct fx *f)
{
    struct store_config cfg = {
        .backend = "sqlite", .path = f->path, .pool_size = 4, .busy_timeout_ms = 10000};
    int rc = store_open(&cfg, &f->st);
    if (rc == STORE_OK)
        rc = store_migrate(f->st);
    if (rc == STORE_OK)
        rc = seq_open(f->st, NODE, BLOCK, &f->q);
    if (rc != STORE_OK)
        fprintf(stderr, "open_store: %s\n", store_errmsg(NULL));
    return rc;
}

static void close_store(struct fx *f)
{
    seq_close(f->q);
    store_close(f->st);
    f->q = NULL;
    f->st = NULL;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/zhanye-seq-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/zhanye.db", f->dir);
    if (open_store(f) != STORE_OK) {
        close_store(f);
        remove_dir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    clock_set_offset_ms(0);
    close_store(f);
    remove_dir(f->dir);
    free(f);
    return 0;
}

/* The local date as YYYYMMDD text, as seq computes it. */
static void local_date(char out[9], int64_t offset_ms)
{
    time_t t = (time_t)((clock_wall_ms() + offset_ms) / 1000);
    struct tm tm;
    assert_non_null(localtime_r(&t, &tm));
    assert_int_equal(strftime(out, 9, "%Y%m%d", &tm), 8);
}

static void next(struct fx *f, const char *name, char out[SEQ_LEN + 1])
{
    int rc = seq_next(f->q, name, out);
    if (rc != STORE_OK)
        fail_msg("seq_next: %s: %s", store_rc_name(rc), store_errmsg(NULL));
}

static void test_format(void **state)
{
    struct fx *f = *state;
    char s[SEQ_LEN + 1], before[9], after[9];
    /* Reading the date on both sides of the call guards against midnight. */
    local_date(before, 0);
    next(f, "srv", s);
    local_date(after, 0);
    assert_int_equal(strlen(s), SEQ_LEN);
    for (int i = 0; i < SEQ_LEN; i++)
        assert_true(isdigit((unsigned char)s[i]));
    assert_true(memcmp(s, before, 8) == 0 || memcmp(s, after, 8) == 0);
    assert_memory_equal(s + 8, "07", 2);
    assert_memory_equal(s + 10, "0000000001", 10); /* counters start at 1 */
}

static void test_increasing(void **state)
{
    struct fx *f = *state;
    char prev[SEQ_LEN + 1] = "", cur[SEQ_LEN + 1];
    for (int i = 0; i < 10000; i++) {
        next(f, "srv", cur);
        if (strcmp(prev, cur) >= 0)
            fail_msg("not increasing at %d: %s then %s", i, prev, cur);
        memcpy(prev, cur, sizeof cur);
    }
}

static void test_names_independent(void **state)
{
    struct fx *f = *state;
    char a1[SEQ_LEN + 1], a2[SEQ_LEN + 1], b1[SEQ_LEN + 1];
    next(f, "srv", a1);
    next(f, "voucher", b1);
    next(f, "srv", a2);
    assert_string_equal(b1 + 10, "0000000001");
    assert_true(strcmp(a1, a2) < 0);

    char s[SEQ_LEN + 1];
    char longname[40];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(seq_next(f->q, "", s), STORE_ERR);
    assert_int_equal(seq_next(f->q, longname, s), STORE_ERR);
    longname[32] = '\0'; /* exactly the column width is fine */
    assert_int_equal(seq_next(f->q, longname, s), STORE_OK);

    struct seq *bad = NULL;
    assert_int_equal(seq_open(f->st, 100, BLOCK, &bad), STORE_ERR);
    assert_null(bad);
    assert_int_equal(seq_open(f->st, 1, 0, &bad), STORE_ERR);
}

enum { THREADS = 4, PER_THREAD = 5000 };

struct worker {
    struct seq *q;
    const char *name;
    char (*out)[SEQ_LEN + 1];
    int n;
    int rc;
};

static void *seq_worker(void *arg)
{
    struct worker *w = arg;
    w->rc = STORE_OK;
    for (int i = 0; i < w->n && w->rc == STORE_OK; i++)
        w->rc = seq_next(w->q, w->name, w->out[i]);
    return NULL;
}

static int cmp_serial(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Runs the workers, checks each one's serials increase and all are unique. */
static void run_workers(struct worker *w, int n)
{
    pthread_t th[THREADS];
    size_t total = 0;
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_create(&th[i], NULL, seq_worker, &w[i]), 0);
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].rc, STORE_OK);
        for (int j = 1; j < w[i].n; j++)
            assert_true(strcmp(w[i].out[j - 1], w[i].out[j]) < 0);
        total += (size_t)w[i].n;
    }
    char(*all)[SEQ_LEN + 1] = calloc(total, sizeof *all);
    assert_non_null(all);
    size_t k = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < w[i].n; j++)
            memcpy(all[k++], w[i].out[j], SEQ_LEN + 1);
    qsort(all, total, sizeof *all, cmp_serial);
    for (size_t j = 1; j < total; j++)
        if (strcmp(all[j - 1], all[j]) == 0)
            fail_msg("duplicate serial %s", all[j]);
    free(all);
}

static void test_threads(void **state)
{
    struct fx *f = *state;
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.q = f->q, .name = "srv", .n = PER_THREAD};
        w[i].out = calloc(PER_THREAD, sizeof *w[i].out);
        assert_non_null(w[i].out);
    }
    run_workers(w, THREADS);
    for (int i = 0; i < THREADS; i++)
        free(w[i].out);
}

/* Two seq objects on one node and database stand in for two processes
 * sharing the file: the write transaction keeps their blocks apart. */
static void test_two_instances(void **state)
{
    struct fx *f = *state;
    struct seq *other = NULL;
    assert_int_equal(seq_open(f->st, NODE, 37, &other), STORE_OK);
    struct worker w[2];
    for (int i = 0; i < 2; i++) {
        w[i] = (struct worker){.q = i ? other : f->q, .name = "voucher", .n = 3000};
        w[i].out = calloc(3000, sizeof *w[i].out);
        assert_non_null(w[i].out);
    }
    run_workers(w, 2);
    for (int i = 0; i < 2; i++)
        free(w[i].out);
    seq_close(other);
}

static void test_restart(void **state)
{
    struct fx *f = *state;
    char last[SEQ_LEN + 1], s[SEQ_LEN + 1];
    for (int i = 0; i < 250; i++)
        next(f, "srv", last);

    /* A new seq object alone: the rest of the reserved block is skipped. */
    seq_close(f->q);
    assert_int_equal(seq_open(f->st, NODE, BLOCK, &f->q), STORE_OK);
    next(f, "srv", s);
    assert_true(strcmp(s, last) > 0);
    assert_string_equal(s + 10, "0000000301"); /* blocks of 100 from 1: 1..100, .., 201..300 */

    /* A full restart of store and seq. */
    memcpy(last, s, sizeof s);
    close_store(f);
    assert_int_equal(open_store(f), STORE_OK);
    next(f, "srv", s);
    assert_true(strcmp(s, last) > 0);
    assert_string_equal(s + 10, "0000000401");
}

static void test_clock_back(void **state)
{
    struct fx *f = *state;
    char s1[SEQ_LEN + 1], s2[SEQ_LEN + 1], s3[SEQ_LEN + 1], s4[SEQ_LEN + 1], s5[SEQ_LEN + 1];
    char plus2[9];
    next(f, "srv", s1);

    clock_set_offset_ms(-3 * DAY_MS);
    next(f, "srv", s2);
    assert_true(strcmp(s2, s1) > 0);
    assert_memory_equal(s2, s1, 8);

    /* Restarted while the clock is back: the persisted date still wins. */
    close_store(f);
    assert_int_equal(open_store(f), STORE_OK);
    next(f, "srv", s3);
    assert_true(strcmp(s3, s2) > 0);
    assert_memory_equal(s3, s1, 8);

    /* Forward two days, then back to now: the date never returns. */
    clock_set_offset_ms(2 * DAY_MS);
    local_date(plus2, 0);
    next(f, "srv", s4);
    assert_true(strcmp(s4, s3) > 0);
    assert_memory_equal(s4, plus2, 8);
    clock_set_offset_ms(0);
    close_store(f);
    assert_int_equal(open_store(f), STORE_OK);
    next(f, "srv", s5);
    assert_true(strcmp(s5, s4) > 0);
    assert_memory_equal(s5, plus2, 8);
}

static void test_exhaustion(void **state)
{
    struct fx *f = *state;
    char s[SEQ_LEN + 1];
    next(f, "srv", s);
    /* Pretend almost every counter of this name and node is spent. */
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_int_equal(store_exec(c, "UPDATE seq_blocks SET next_value = 9999999998 "
                                   "WHERE name = 'srv' AND node = 7"),
                     STORE_OK);
    assert_int_equal(store_changes(c), 1);
    store_release(c);
    seq_close(f->q);
    assert_int_equal(seq_open(f->st, NODE, BLOCK, &f->q), STORE_OK);

    next(f, "srv", s);
    assert_string_equal(s + 10, "9999999998");
    next(f, "srv", s);
    assert_string_equal(s + 10, "9999999999");
    assert_int_equal(seq_next(f->q, "srv", s), STORE_ERR); /* never wraps */
    assert_non_null(strstr(store_errmsg(NULL), "exhausted"));
    assert_int_equal(seq_next(f->q, "srv", s), STORE_ERR);
    next(f, "other", s); /* other names are unaffected */
}

static void test_unmigrated(void **state)
{
    struct fx *f = *state;
    char path[160], s[SEQ_LEN + 1];
    snprintf(path, sizeof path, "%s/bare.db", f->dir);
    struct store_config cfg = {.backend = "sqlite", .path = path, .pool_size = 1};
    struct store *st = NULL;
    struct seq *q = NULL;
    assert_int_equal(store_open(&cfg, &st), STORE_OK);
    assert_int_equal(seq_open(st, 1, 10, &q), STORE_OK);
    assert_int_equal(seq_next(q, "srv", s), STORE_ERR);
    assert_non_null(strstr(store_errmsg(NULL), "seq_blocks"));
    seq_close(q);
    store_close(st);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_format),     T(test_increasing),    T(test_names_independent),
        T(test_threads),    T(test_two_instances), T(test_restart),
        T(test_clock_back), T(test_exhaustion),    T(test_unmigrated),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
