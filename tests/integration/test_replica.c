/* Reads on a replica (MariaDB only): store_read_conn on a real primary and
 * a real replica started by the test.
 *
 *  - a caught-up replica serves the read, and it sees the write committed
 *    on the primary just before (reading one's own writes);
 *  - a replica that stops applying is skipped: the read goes to the
 *    primary, and still sees the write; once it applies again it serves;
 *  - a replica's connection refuses a write transaction;
 *  - a stopped replica server is skipped, quickly, and the reads go on. */
#include "data/store.h"
#include "mariadb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct mariadb_srv P, R;
static struct store *ST;

static int setup(void **state)
{
    (void)state;
    if (mariadb_start(&P) != 0)
        return -1;
    if (mariadb_create_db(&P, "zt_replica") != 0 || mariadb_start_replica(&P, 2, &R) != 0)
        return -1;
    char servers[80];
    snprintf(servers, sizeof servers, "%s,%s", P.servers, R.servers);
    struct store_config cfg = {
        .backend = "mariadb",
        .pool_size = 2,
        .busy_timeout_ms = 5000,
        .servers = servers,
        .database = "zt_replica",
        .user = P.user,
        .password = P.password,
        .read_pool_size = 2,
        .replica_wait_ms = 300,
    };
    if (store_open(&cfg, &ST) != STORE_OK) {
        fprintf(stderr, "store_open: %s\n", store_errmsg(NULL));
        return -1;
    }
    return store_migrate(ST) == STORE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    store_close(ST);
    mariadb_stop(&R);
    mariadb_stop(&P);
    return 0;
}

static int insert_txn(struct store_conn *c, void *arg)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, "INSERT INTO seq_blocks (name, node, next_value, last_day) VALUES (?, 1, 1, 0)", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, arg);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

static int64_t one_int(struct store_conn *c, const char *sql, const char *param)
{
    struct store_stmt *s = NULL;
    int64_t v = -1;
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    if (param)
        assert_int_equal(store_bind_text(s, 1, param), STORE_OK);
    if (store_step(s) == STORE_ROW)
        v = store_col_int64(s, 0);
    store_finish(s);
    return v;
}

/* Writes name on the primary, then reads through store_read_conn: which
 * server answered (its server_id) and whether the row was there. */
static int64_t write_then_read(const char *name, bool *seen)
{
    struct store_conn *c = NULL, *r = NULL;
    assert_int_equal(store_acquire(ST, &c), STORE_OK);
    assert_int_equal(store_run(c, "test.insert", insert_txn, (void *)name), STORE_OK);
    assert_int_equal(store_read_conn(c, &r), STORE_OK);
    assert_non_null(r);
    int64_t id = one_int(r, "SELECT @@server_id", NULL);
    *seen = one_int(r, "SELECT COUNT(*) FROM seq_blocks WHERE name = ?", name) == 1;
    assert_true(store_conn_is_replica(r) == (r != c));
    store_release_read(c, r);
    store_release(c);
    return id;
}

static void a_caught_up_replica_serves_its_reads(void **state)
{
    (void)state;
    bool seen = false;
    assert_int_equal(write_then_read("a1", &seen), 2);
    assert_true(seen);
}

static void a_replica_that_stops_applying_is_skipped(void **state)
{
    (void)state;
    bool seen = false;
    assert_int_equal(mariadb_admin_exec(&R, "STOP SLAVE SQL_THREAD"), 0);
    assert_int_equal(write_then_read("b1", &seen), 1); /* the primary answered */
    assert_true(seen);
    assert_int_equal(mariadb_admin_exec(&R, "START SLAVE SQL_THREAD"), 0);
    assert_int_equal(write_then_read("b2", &seen), 2);
    assert_true(seen);
}

static void a_replica_connection_refuses_writes(void **state)
{
    (void)state;
    struct store_conn *c = NULL, *r = NULL;
    assert_int_equal(store_acquire(ST, &c), STORE_OK);
    assert_int_equal(store_read_conn(c, &r), STORE_OK);
    assert_true(store_conn_is_replica(r));
    assert_int_equal(store_run(r, "test.insert", insert_txn, "c1"), STORE_ERR);
    store_release_read(c, r);
    assert_int_equal(one_int(c, "SELECT COUNT(*) FROM seq_blocks WHERE name = ?", "c1"), 0);
    store_release(c);
}

static void a_stopped_replica_is_skipped(void **state)
{
    (void)state;
    mariadb_stop(&R);
    bool seen = false;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "d%d", i);
        assert_int_equal(write_then_read(name, &seen), 1);
        assert_true(seen);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Not a timing test: only that a dead replica is not waited for at
     * every read (it is looked for again every few seconds). */
    print_message("5 reads with the replica down: %.0f ms\n",
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_caught_up_replica_serves_its_reads),
        cmocka_unit_test(a_replica_that_stops_applying_is_skipped),
        cmocka_unit_test(a_replica_connection_refuses_writes),
        cmocka_unit_test(a_stopped_replica_is_skipped),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
