/* Bank shards (data/shard.h, data/shard_move.h) on three real SQLite
 * databases: a directory ("main") and shards s1 and s2. Placement by
 * configuration and by the directory's rows; the fence; a move that copies
 * every value with its class, verifies, switches, and leaves the other
 * bank alone; a move that fails at every step of the target's work leaves
 * the bank where it was and writable, and the same move then succeeds; a
 * move cut off after the directory switched is finished by running it
 * again. The table moved is tx_answers (text, integer, blob and NULL
 * values), restricted by a condition as the CLI restricts it. */
#include "data/shard.h"
#include "data/shard_move.h"
#include "data/store.h"
#include "data/store_fault.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct fx {
    char dir[64];
    struct store *main, *s1, *s2;
    struct shards *sh;
};

static const struct shard_table TABLES[] = {{.name = "tx_answers", .where = "tx <> 'LOGIN'"}};

static struct store *open_db(const struct fx *f, const char *name, const char *backend)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.db", f->dir, name);
    struct store_config cfg = {
        .backend = backend, .path = path, .pool_size = 3, .busy_timeout_ms = 2000};
    struct store *st = NULL;
    if (store_open(&cfg, &st) != STORE_OK || store_migrate(st) != STORE_OK) {
        fprintf(stderr, "open %s: %s\n", name, store_errmsg(NULL));
        store_close(st);
        return NULL;
    }
    return st;
}

static int exec_on(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK) {
        rc = store_exec(c, sql);
        store_release(c);
    }
    return rc;
}

static int64_t count_on(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = -1;
    if (store_acquire(st, &c) != STORE_OK)
        return -1;
    if (store_prepare(c, sql, &s) == STORE_OK && store_step(s) == STORE_ROW)
        n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

static int fence_on(struct store *st, int64_t bank)
{
    struct store_conn *c = NULL;
    if (store_acquire(st, &c) != STORE_OK)
        return -100;
    int rc = shard_fence(c, bank);
    store_release(c);
    return rc;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* Bank 1 (B01) and bank 2 (B02) placed in s1 by configuration, each with
 * answers: a blob, a NULL (pending), Chinese text; and a LOGIN answer of
 * bank 1 that the condition keeps out of every move. s2 opens with the
 * fault backend, so its work can be made to fail. */
static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    snprintf(f.dir, sizeof f.dir, "/tmp/zhanye-shard-XXXXXX");
    if (!mkdtemp(f.dir) || !(f.main = open_db(&f, "main", "sqlite")) ||
        !(f.s1 = open_db(&f, "s1", "sqlite")) ||
        !(f.s2 = open_db(&f, STORE_FAULT_BACKEND, STORE_FAULT_BACKEND)))
        return -1;
    if (exec_on(f.main, "INSERT INTO banks (id, code, name, kind, status, created_at) VALUES "
                        "(1, 'B01', '一行', 'bank', 'active', 1), (2, 'B02', '二行', 'bank', "
                        "'active', 1), (3, 'B03', '三行', 'bank', 'active', 1)") != STORE_OK)
        return -1;
    if (exec_on(f.s1, "INSERT INTO tx_answers (dev, tx, cseq, bank_id, state, answer, created_at) "
                      "VALUES ('d1', 'CUSTOMER_CREATE', 'c1', 1, 'done', X'00ff10', 5), "
                      "('d1', 'CUSTOMER_CREATE', 'c2', 1, 'pending', NULL, 6), "
                      "('d1', 'VISIT', '走访', 1, 'done', X'', 7), "
                      "('d1', 'LOGIN', 'c3', 1, 'done', X'01', 8), "
                      "('d2', 'CUSTOMER_CREATE', 'c1', 2, 'done', X'02', 9)") != STORE_OK)
        return -1;
    if (shards_new(f.main, &f.sh) != STORE_OK || shards_add(f.sh, "s1", f.s1, "B01, B02") ||
        shards_add(f.sh, "s2", f.s2, NULL) || shards_reload(f.sh) != STORE_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_fault_disarm();
    shards_free(f->sh);
    store_close(f->main);
    store_close(f->s1);
    store_close(f->s2);
    remove_dir(f->dir);
    return 0;
}

static void test_placement(void **state)
{
    struct fx *f = *state;
    char name[SHARD_NAME_MAX + 1];
    assert_ptr_equal(shards_route(f->sh, 1, name), f->s1);
    assert_string_equal(name, "s1");
    assert_ptr_equal(shards_route(f->sh, 3, name), f->main); /* listed nowhere */
    assert_string_equal(name, SHARD_MAIN);
    assert_ptr_equal(shards_route(f->sh, 99, NULL), f->main);
    assert_int_equal(shards_count(f->sh), 2);
    /* A directory row wins over the configuration. */
    assert_int_equal(
        exec_on(f->main, "INSERT INTO bank_shards (bank_id, shard, moved_at) VALUES (3, 's2', 1)"),
        STORE_OK);
    assert_int_equal(shards_reload(f->sh), STORE_OK);
    assert_ptr_equal(shards_route(f->sh, 3, NULL), f->s2);
    /* A row naming a shard nobody defined is refused; the map stays. */
    assert_int_equal(exec_on(f->main, "UPDATE bank_shards SET shard = 'nowhere' WHERE bank_id = 3"),
                     STORE_OK);
    assert_int_equal(shards_reload(f->sh), STORE_ERR);
    assert_non_null(strstr(store_errmsg(NULL), "nowhere"));
    assert_ptr_equal(shards_route(f->sh, 3, NULL), f->s2);
    /* Bad definitions. */
    assert_int_equal(shards_add(f->sh, "s1", f->s1, NULL), STORE_ERR);
    assert_int_equal(shards_add(f->sh, SHARD_MAIN, f->s1, NULL), STORE_ERR);
    assert_int_equal(shards_add(f->sh, "bad name", f->s1, NULL), STORE_ERR);
    assert_int_equal(shards_add(f->sh, "s3", f->s1, "B04 B01"), STORE_ERR);
    assert_non_null(strstr(store_errmsg(NULL), "B01"));
}

static void test_fence(void **state)
{
    struct fx *f = *state;
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->s1, &c), STORE_OK);
    assert_int_equal(shard_fence(c, 1), SHARD_HERE);
    assert_int_equal(shard_fence_set(c, 1, "moving", 1), STORE_OK);
    assert_int_equal(shard_fence(c, 1), SHARD_MOVING);
    assert_int_equal(shard_fence_set(c, 1, "gone", 2), STORE_OK);
    assert_int_equal(shard_fence(c, 1), SHARD_GONE);
    assert_int_equal(shard_fence_set(c, 1, "active", 3), STORE_OK);
    assert_int_equal(shard_fence(c, 1), SHARD_HERE);
    assert_int_equal(shard_fence_set(c, 1, "sideways", 3), STORE_CONSTRAINT);
    assert_int_equal(shard_fence_set(c, 1, NULL, 4), STORE_OK);
    assert_int_equal(shard_fence(c, 2), SHARD_HERE);
    store_release(c);
}

static void assert_moved(struct fx *f)
{
    assert_ptr_equal(shards_route(f->sh, 1, NULL), f->s2);
    assert_int_equal(fence_on(f->s1, 1), SHARD_GONE);
    assert_int_equal(fence_on(f->s2, 1), SHARD_HERE);
    assert_int_equal(count_on(f->s2, "SELECT COUNT(*) FROM tx_answers WHERE bank_id = 1"), 3);
    assert_int_equal(count_on(f->s1, "SELECT COUNT(*) FROM tx_answers WHERE bank_id = 1 AND tx "
                                     "<> 'LOGIN'"),
                     0);
    /* Kept out by the condition, and the other bank untouched. */
    assert_int_equal(count_on(f->s1, "SELECT COUNT(*) FROM tx_answers WHERE tx = 'LOGIN'"), 1);
    assert_int_equal(count_on(f->s1, "SELECT COUNT(*) FROM tx_answers WHERE bank_id = 2"), 1);
    assert_int_equal(count_on(f->s2, "SELECT COUNT(*) FROM tx_answers WHERE bank_id = 2"), 0);
    /* Every value with its class. */
    assert_int_equal(count_on(f->s2, "SELECT COUNT(*) FROM tx_answers WHERE cseq = 'c1' AND "
                                     "answer = X'00ff10' AND created_at = 5"),
                     1);
    assert_int_equal(
        count_on(f->s2, "SELECT COUNT(*) FROM tx_answers WHERE cseq = 'c2' AND answer IS NULL"), 1);
    assert_int_equal(count_on(f->s2, "SELECT COUNT(*) FROM tx_answers WHERE cseq = '走访' AND "
                                     "typeof(answer) = 'blob' AND length(answer) = 0"),
                     1);
    assert_int_equal(
        count_on(f->main, "SELECT COUNT(*) FROM bank_shards WHERE bank_id = 1 AND shard = 's2'"),
        1);
}

static void test_move(void **state)
{
    struct fx *f = *state;
    struct shard_move_report rep;
    assert_int_equal(shard_move(f->sh, 1, "s2", TABLES, 1, 100, &rep), STORE_OK);
    assert_string_equal(rep.from, "s1");
    assert_string_equal(rep.to, "s2");
    assert_false(rep.resumed);
    assert_int_equal(rep.rows, 3);
    assert_string_equal(rep.table[0].name, "tx_answers");
    assert_int_equal(strlen(rep.table[0].digest), 64);
    assert_moved(f);
    /* Again: it is there already. */
    assert_int_equal(shard_move(f->sh, 1, "s2", TABLES, 1, 101, &rep), STORE_ERR);
    assert_non_null(strstr(store_errmsg(NULL), "already"));
    /* Back to s1, where its fence said gone: active again. */
    assert_int_equal(shard_move(f->sh, 1, "s1", TABLES, 1, 102, &rep), STORE_OK);
    assert_ptr_equal(shards_route(f->sh, 1, NULL), f->s1);
    assert_int_equal(fence_on(f->s1, 1), SHARD_HERE);
    assert_int_equal(fence_on(f->s2, 1), SHARD_GONE);
    assert_int_equal(count_on(f->s1, "SELECT COUNT(*) FROM tx_answers WHERE bank_id = 1"), 4);
    /* Unknown shard, bad table. */
    assert_int_equal(shard_move(f->sh, 1, "s9", TABLES, 1, 103, &rep), STORE_ERR);
    const struct shard_table bad = {.name = "tx_answers; DROP TABLE banks"};
    assert_int_equal(shard_move(f->sh, 1, "s2", &bad, 1, 103, &rep), STORE_ERR);
}

/* Fails the Nth counted call of the target's work, N = 1, 2, ... until the
 * move completes: after every failed run the bank is still in s1, writable
 * (no fence), with all its rows, and s2 holds none of them. */
static void test_move_faults(void **state)
{
    struct fx *f = *state;
    struct shard_move_report rep;
    int failures = 0;
    for (long n = 1; n < 500; n++) {
        store_fault_arm(n, STORE_ERR, false);
        int rc = shard_move(f->sh, 1, "s2", TABLES, 1, 200 + n, &rep);
        long hits = store_fault_hits();
        store_fault_disarm();
        if (rc == STORE_OK) {
            assert_int_equal(hits, 0);
            break;
        }
        failures++;
        if (hits == 0)
            fail_msg("run %ld failed without meeting the fault: %s", n, store_errmsg(NULL));
        char name[SHARD_NAME_MAX + 1];
        shards_route(f->sh, 1, name);
        if (strcmp(name, "s1") != 0) {
            /* The fault hit after the directory switched (the target's
             * fence or nothing of the source): running again finishes it. */
            assert_int_equal(shard_move(f->sh, 1, "s2", TABLES, 1, 900, &rep), STORE_OK);
            break;
        }
        assert_int_equal(fence_on(f->s1, 1), SHARD_HERE);
        assert_int_equal(count_on(f->s1, "SELECT COUNT(*) FROM tx_answers WHERE bank_id = 1"), 4);
        assert_int_equal(count_on(f->s2, "SELECT COUNT(*) FROM tx_answers WHERE bank_id = 1"), 0);
    }
    assert_true(failures > 5);
    assert_int_equal(store_fault_open_statements(), 0);
    assert_moved(f);
}

/* Cut off after the directory switched: the source still says moving and
 * holds the rows. Running the move again finishes the source. */
static void test_move_resumed(void **state)
{
    struct fx *f = *state;
    struct shard_move_report rep;
    assert_int_equal(shard_move(f->sh, 1, "s2", TABLES, 1, 300, &rep), STORE_OK);
    /* Put the source back to the state a crash after the switch leaves. */
    assert_int_equal(exec_on(f->s1, "INSERT INTO tx_answers (dev, tx, cseq, bank_id, state, "
                                    "answer, created_at) VALUES ('d1', 'CUSTOMER_CREATE', 'c1', "
                                    "1, 'done', X'00ff10', 5)"),
                     STORE_OK);
    assert_int_equal(exec_on(f->s1, "UPDATE shard_banks SET state = 'moving' WHERE bank_id = 1"),
                     STORE_OK);
    assert_int_equal(shard_move(f->sh, 1, "s2", TABLES, 1, 301, &rep), STORE_OK);
    assert_true(rep.resumed);
    assert_string_equal(rep.from, "s1");
    assert_moved(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_placement), T(test_fence), T(test_move), T(test_move_faults), T(test_move_resumed),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
