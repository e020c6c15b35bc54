/* Unit tests for data/store on the SQLite backend, each in a fresh temp dir,
 * and (ZHANYE_TEST_STORE=mariadb, data_store_mariadb) the same contract on a
 * private MariaDB server, each in a fresh database; the transaction runner
 * store_run on the test-only "fault" backend, which produces the busy and
 * failing statements the runner must handle. */
#include "data/migrations.h"
#include "data/store.h"
#include "data/store_backend.h"
#include "data/store_fault.h"
#include "mariadb.h"
#include "testd.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct fx {
    char dir[64];
    char path[128];
    char db[65]; /* mariadb: this test's database */
    struct store *st;
};

static struct store_config config(const struct fx *f, int pool, int busy_ms)
{
    const struct mariadb_srv *m = testd_mariadb_server();
    if (!m)
        return (struct store_config){
            .backend = "sqlite", .path = f->path, .pool_size = pool, .busy_timeout_ms = busy_ms};
    return (struct store_config){.backend = "mariadb",
                                 .pool_size = pool,
                                 .busy_timeout_ms = busy_ms,
                                 .servers = m->servers,
                                 .database = f->db,
                                 .user = m->user,
                                 .password = m->password};
}

/* What only the SQLite backend has (files, PRAGMAs, the fault backend's wrapping). */
#define SQLITE_ONLY()                                                                              \
    do {                                                                                           \
        if (testd_mariadb())                                                                       \
            skip();                                                                                \
    } while (0)

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

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/zhanye-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/zhanye.db", f->dir);
    static unsigned serial;
    snprintf(f->db, sizeof f->db, "zt_store_%d_%u", (int)getpid(), ++serial);
    if (testd_mariadb() &&
        (!testd_mariadb_server() || mariadb_create_db(testd_mariadb_server(), f->db) != 0)) {
        remove_dir(f->dir);
        free(f);
        return -1;
    }
    struct store_config cfg = config(f, 4, 5000);
    if (store_open(&cfg, &f->st) != STORE_OK || store_migrate(f->st) != STORE_OK) {
        fprintf(stderr, "setup: %s\n", store_errmsg(NULL));
        store_close(f->st);
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
    store_close(f->st);
    remove_dir(f->dir);
    free(f);
    return 0;
}

/* Runs parameterless SQL that yields one integer. */
static int64_t query_int(struct store_conn *c, const char *sql)
{
    struct store_stmt *s = NULL;
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    return v;
}

static void create_items(struct store *st)
{
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    assert_int_equal(store_exec(c, "CREATE TABLE items ("
                                   "id INTEGER PRIMARY KEY, "
                                   "name VARCHAR(100) NOT NULL UNIQUE, "
                                   "data BLOB, "
                                   "amount BIGINT, "
                                   "note TEXT)"),
                     STORE_OK);
    store_release(c);
}

static int last_version(void)
{
    size_t n = 0;
    const struct migration *m = migrations_list(&n);
    return n ? m[n - 1].version : 0;
}

static void test_migrate_idempotent(void **state)
{
    struct fx *f = *state;
    size_t n = 0;
    migrations_list(&n);
    assert_true(n >= 1);
    assert_int_equal(store_schema_version(f->st), last_version());
    assert_int_equal(store_migrate(f->st), STORE_OK);
    assert_int_equal(store_migrate(f->st), STORE_OK);
    assert_int_equal(store_schema_version(f->st), last_version());

    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM schema_migrations"), (int64_t)n);
    assert_true(query_int(c, "SELECT MIN(applied_at) FROM schema_migrations") > 0);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM seq_blocks"), 0);
    store_release(c);

    /* A reopened database stays at its version and migrates to a no-op. */
    store_close(f->st);
    struct store_config cfg = config(f, 2, 5000);
    assert_int_equal(store_open(&cfg, &f->st), STORE_OK);
    assert_int_equal(store_schema_version(f->st), last_version());
    assert_int_equal(store_migrate(f->st), STORE_OK);
    assert_int_equal(store_schema_version(f->st), last_version());
}

static void test_schema_version_empty(void **state)
{
    SQLITE_ONLY();
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/empty.db", f->dir);
    struct store_config cfg = {.backend = "sqlite", .path = path, .pool_size = 1};
    struct store *st = NULL;
    assert_int_equal(store_open(&cfg, &st), STORE_OK);
    assert_int_equal(store_schema_version(st), 0);
    assert_int_equal(store_ping(st), STORE_OK);
    store_close(st);
}

struct migrator {
    struct store *st;
    int rc;
};

static void *migrate_worker(void *arg)
{
    struct migrator *w = arg;
    w->rc = store_migrate(w->st);
    return NULL;
}

static void test_concurrent_migrate(void **state)
{
    SQLITE_ONLY();
    /* Two stores on one fresh file stand in for two processes. */
    struct fx *f = *state;
    char path[160];
    snprintf(path, sizeof path, "%s/twice.db", f->dir);
    struct store_config cfg = {
        .backend = "sqlite", .path = path, .pool_size = 1, .busy_timeout_ms = 10000};
    struct migrator w[2] = {{NULL, -99}, {NULL, -99}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(store_open(&cfg, &w[i].st), STORE_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, migrate_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].rc, STORE_OK);
    }
    struct store_conn *c = NULL;
    size_t n = 0;
    migrations_list(&n);
    assert_int_equal(store_acquire(w[1].st, &c), STORE_OK);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM schema_migrations"), (int64_t)n);
    store_release(c);
    for (int i = 0; i < 2; i++)
        store_close(w[i].st);
}

static int64_t insert_item(struct store_conn *c, const char *name, const void *data, size_t n,
                           const int64_t *amount, const char *note)
{
    struct store_stmt *s = NULL;
    int rc =
        store_prepare(c, "INSERT INTO items (name, data, amount, note) VALUES (?, ?, ?, ?)", &s);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(store_bind_text(s, 1, name), STORE_OK);
    assert_int_equal(data ? store_bind_blob(s, 2, data, n) : store_bind_null(s, 2), STORE_OK);
    assert_int_equal(amount ? store_bind_int64(s, 3, *amount) : store_bind_null(s, 3), STORE_OK);
    assert_int_equal(store_bind_text(s, 4, note), STORE_OK);
    rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? store_last_insert_id(c) : rc;
}

static void test_crud(void **state)
{
    struct fx *f = *state;
    create_items(f->st);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);

    static const unsigned char blob[] = {0x00, 0xff, 0x10, 0x00, 0x7f};
    const char *chinese = "张三 · 田野银行 ¥1,234.56";
    int64_t big = INT64_MAX, small = INT64_MIN;
    char name[32];
    /* The binding must copy: the buffer changes before the step. */
    struct store_stmt *s = NULL;
    snprintf(name, sizeof name, "transient");
    assert_int_equal(store_prepare(c, "INSERT INTO items (name) VALUES (?)", &s), STORE_OK);
    assert_int_equal(store_bind_text(s, 1, name), STORE_OK);
    memset(name, 'X', sizeof name - 1);
    assert_int_equal(store_step(s), STORE_DONE);
    store_finish(s);

    int64_t id1 = insert_item(c, chinese, blob, sizeof blob, &big, NULL);
    int64_t id2 = insert_item(c, "second", "", 0, &small, "中文备注");
    assert_true(id1 > 0 && id2 > id1);
    assert_int_equal(store_changes(c), 1);

    assert_int_equal(
        store_prepare(c, "SELECT name, data, amount, note FROM items WHERE id = ?", &s), STORE_OK);
    assert_int_equal(store_bind_int64(s, 1, id1), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    assert_string_equal(store_col_text(s, 0), chinese);
    size_t len = 0;
    const void *p = store_col_blob(s, 1, &len);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(p, blob, sizeof blob);
    assert_true(store_col_int64(s, 2) == INT64_MAX);
    assert_true(store_col_is_null(s, 3));
    assert_null(store_col_text(s, 3));
    /* What a generic row copy reads: the count and each value's class. */
    assert_int_equal(store_col_count(s), 4);
    assert_int_equal(store_col_type(s, 0), STORE_T_TEXT);
    assert_int_equal(store_col_type(s, 1), STORE_T_BLOB);
    assert_int_equal(store_col_type(s, 2), STORE_T_INT);
    assert_int_equal(store_col_type(s, 3), STORE_T_NULL);
    assert_int_equal(store_step(s), STORE_DONE);
    store_finish(s);

    assert_int_equal(
        store_prepare(c, "SELECT name, data, amount, note FROM items WHERE id = ?", &s), STORE_OK);
    assert_int_equal(store_bind_int64(s, 1, id2), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    assert_false(store_col_is_null(s, 1)); /* an empty blob is a value, not NULL */
    store_col_blob(s, 1, &len);
    assert_int_equal(len, 0);
    assert_true(store_col_int64(s, 2) == INT64_MIN);
    assert_string_equal(store_col_text(s, 3), "中文备注");
    store_finish(s);

    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items WHERE name = 'transient'"), 1);

    assert_int_equal(store_prepare(c, "UPDATE items SET amount = amount - ? WHERE id = ?", &s),
                     STORE_OK);
    assert_int_equal(store_bind_int64(s, 1, 1), STORE_OK);
    assert_int_equal(store_bind_int64(s, 2, id1), STORE_OK);
    assert_int_equal(store_step(s), STORE_DONE);
    store_finish(s);
    assert_int_equal(store_changes(c), 1);
    assert_int_equal(store_prepare(c, "SELECT amount FROM items WHERE id = ?", &s), STORE_OK);
    assert_int_equal(store_bind_int64(s, 1, id1), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    assert_true(store_col_int64(s, 0) == INT64_MAX - 1);
    store_finish(s);

    assert_int_equal(store_exec(c, "DELETE FROM items"), STORE_OK);
    assert_int_equal(store_changes(c), 3);
    store_release(c);
}

static void test_constraint(void **state)
{
    struct fx *f = *state;
    create_items(f->st);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_true(insert_item(c, "dup", NULL, 0, NULL, NULL) > 0);
    assert_int_equal(insert_item(c, "dup", NULL, 0, NULL, NULL), STORE_CONSTRAINT);
    assert_true(strlen(store_errmsg(c)) > 0);
    assert_int_equal(insert_item(c, NULL, NULL, 0, NULL, NULL), STORE_CONSTRAINT); /* NOT NULL */

    /* Foreign keys are enforced (PRAGMA foreign_keys=ON on every connection). */
    assert_int_equal(store_exec(c, "CREATE TABLE child (id INTEGER PRIMARY KEY, "
                                   "item_id INTEGER NOT NULL REFERENCES items(id))"),
                     STORE_OK);
    assert_int_equal(store_exec(c, "INSERT INTO child (item_id) VALUES (424242)"),
                     STORE_CONSTRAINT);
    store_release(c);
}

static void test_rollback(void **state)
{
    struct fx *f = *state;
    create_items(f->st);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_int_equal(store_begin(c), STORE_OK);
    assert_true(insert_item(c, "gone", NULL, 0, NULL, NULL) > 0);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 1);
    assert_int_equal(store_rollback(c), STORE_OK);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 0);
    assert_int_equal(store_rollback(c), STORE_OK); /* nothing open: harmless */

    assert_int_equal(store_begin(c), STORE_OK);
    assert_true(insert_item(c, "kept", NULL, 0, NULL, NULL) > 0);
    assert_int_equal(store_commit(c), STORE_OK);

    /* A connection released mid-transaction comes back clean. */
    assert_int_equal(store_begin(c), STORE_OK);
    assert_true(insert_item(c, "abandoned", NULL, 0, NULL, NULL) > 0);
    store_release(c);
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 1);
    assert_int_equal(store_begin(c), STORE_OK);
    assert_int_equal(store_commit(c), STORE_OK);
    store_release(c);
}

static void test_stmt_cache(void **state)
{
    struct fx *f = *state;
    create_items(f->st);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_int_equal(store_begin(c), STORE_OK);
    for (int i = 0; i < 5000; i++) {
        char name[32];
        int64_t amount = (int64_t)i * 1000003;
        snprintf(name, sizeof name, "n%d", i);
        int64_t id = insert_item(c, name, &i, sizeof i, &amount, NULL);
        assert_true(id > 0);
        struct store_stmt *s = NULL;
        assert_int_equal(store_prepare(c, "SELECT name, amount FROM items WHERE id = ?", &s),
                         STORE_OK);
        assert_int_equal(store_bind_int64(s, 1, id), STORE_OK);
        assert_int_equal(store_step(s), STORE_ROW);
        assert_string_equal(store_col_text(s, 0), name);
        assert_true(store_col_int64(s, 1) == amount);
        store_finish(s);
    }
    assert_int_equal(store_commit(c), STORE_OK);

    /* The same SQL in use twice at once gets two statements; both work. */
    const char *sql = "SELECT amount FROM items WHERE name = ?";
    struct store_stmt *a = NULL, *b = NULL, *again = NULL;
    assert_int_equal(store_prepare(c, sql, &a), STORE_OK);
    assert_int_equal(store_bind_text(a, 1, "n7"), STORE_OK);
    assert_int_equal(store_step(a), STORE_ROW);
    assert_int_equal(store_prepare(c, sql, &b), STORE_OK);
    assert_ptr_not_equal(a, b);
    assert_int_equal(store_bind_text(b, 1, "n9"), STORE_OK);
    assert_int_equal(store_step(b), STORE_ROW);
    assert_true(store_col_int64(a, 0) == 7 * 1000003);
    assert_true(store_col_int64(b, 0) == 9 * 1000003);
    store_finish(a);
    store_finish(b);
    /* Finished statements come back from the cache with bindings cleared. */
    assert_int_equal(store_prepare(c, sql, &again), STORE_OK);
    assert_true(again == a || again == b);
    assert_int_equal(store_step(again), STORE_DONE); /* ? is NULL again: no row */
    store_finish(again);
    store_release(c);
}

struct worker {
    struct store *st;
    int id;
    int rc;
};

enum { TXNS = 100, ROWS_PER_TXN = 5 };

static void *insert_worker(void *arg)
{
    struct worker *w = arg;
    struct store_conn *c = NULL;
    w->rc = store_acquire(w->st, &c);
    for (int t = 0; t < TXNS && w->rc == STORE_OK; t++) {
        w->rc = store_begin(c);
        for (int r = 0; r < ROWS_PER_TXN && w->rc == STORE_OK; r++) {
            struct store_stmt *s = NULL;
            char name[48];
            snprintf(name, sizeof name, "w%d-%d-%d", w->id, t, r);
            w->rc = store_prepare(c, "INSERT INTO items (name, amount) VALUES (?, ?)", &s);
            if (w->rc == STORE_OK)
                w->rc = store_bind_text(s, 1, name);
            if (w->rc == STORE_OK)
                w->rc = store_bind_int64(s, 2, w->id);
            if (w->rc == STORE_OK)
                w->rc = store_step(s) == STORE_DONE ? STORE_OK : STORE_ERR;
            store_finish(s);
        }
        w->rc = w->rc == STORE_OK ? store_commit(c) : store_rollback(c);
    }
    store_release(c);
    return NULL;
}

static void test_pool_threads(void **state)
{
    struct fx *f = *state;
    create_items(f->st);
    store_close(f->st);
    struct store_config cfg = config(f, 2, 10000);
    assert_int_equal(store_open(&cfg, &f->st), STORE_OK);

    struct worker w[2] = {{f->st, 1, -99}, {f->st, 2, -99}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, insert_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].rc, STORE_OK);
    }
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 2 * TXNS * ROWS_PER_TXN);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items WHERE amount = 2"),
                     TXNS * ROWS_PER_TXN);
    store_release(c);
}

struct waiter {
    struct store *st;
    atomic_int got;
};

static void *acquire_waiter(void *arg)
{
    struct waiter *w = arg;
    struct store_conn *c = NULL;
    if (store_acquire(w->st, &c) == STORE_OK) {
        atomic_store(&w->got, 1);
        store_release(c);
    }
    return NULL;
}

static void test_acquire_waits(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    struct store_config cfg = config(f, 1, 1000);
    assert_int_equal(store_open(&cfg, &f->st), STORE_OK);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    struct waiter w = {.st = f->st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, acquire_waiter, &w), 0);
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    assert_int_equal(atomic_load(&w.got), 0);
    store_release(c);
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&w.got), 1);
}

static void test_busy(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    struct store_config cfg = config(f, 2, 50);
    assert_int_equal(store_open(&cfg, &f->st), STORE_OK);
    struct store_conn *a = NULL, *b = NULL;
    assert_int_equal(store_acquire(f->st, &a), STORE_OK);
    assert_int_equal(store_acquire(f->st, &b), STORE_OK);
    assert_int_equal(store_begin(a), STORE_OK);
    assert_int_equal(store_begin(b), STORE_BUSY);
    assert_int_equal(store_commit(a), STORE_OK);
    assert_int_equal(store_begin(b), STORE_OK);
    assert_int_equal(store_commit(b), STORE_OK);
    store_release(a);
    store_release(b);
}

struct late_commit {
    struct store_conn *c;
    _Atomic int committed;
};

static void *commit_later(void *arg)
{
    struct late_commit *l = arg;
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    atomic_store(&l->committed, store_commit(l->c) == STORE_OK ? 1 : -1);
    return NULL;
}

/* Within busy_timeout_ms a writer waits for the lock (the store's busy
 * handler on SQLite, innodb_lock_wait_timeout on MariaDB) and goes on once
 * the holder has committed. */
static void test_busy_waits_for_the_lock(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    struct store_config cfg = config(f, 2, 5000);
    assert_int_equal(store_open(&cfg, &f->st), STORE_OK);
    struct store_conn *a = NULL, *b = NULL;
    assert_int_equal(store_acquire(f->st, &a), STORE_OK);
    assert_int_equal(store_acquire(f->st, &b), STORE_OK);
    assert_int_equal(store_begin(a), STORE_OK);
    struct late_commit l = {.c = a};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, commit_later, &l), 0);
    int rc = store_begin(b);
    int committed = atomic_load(&l.committed);
    pthread_join(th, NULL);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(committed, 1); /* b got the lock only once a let it go */
    assert_int_equal(store_commit(b), STORE_OK);
    store_release(a);
    store_release(b);
}

static void test_bad_sql(void **state)
{
    struct fx *f = *state;
    create_items(f->st);
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    assert_int_equal(store_prepare(c, "SELEC name FRM items", &s), STORE_ERR);
    assert_null(s);
    assert_non_null(
        strstr(store_errmsg(c), "syntax")); /* SQLite: "syntax error", MariaDB: "SQL syntax" */
    assert_int_equal(store_prepare(c, "SELECT nope FROM items", &s), STORE_ERR);
    assert_non_null(strstr(store_errmsg(c), "nope"));
    assert_int_equal(store_exec(c, "CREATE TABLE"), STORE_ERR);
    assert_true(strlen(store_errmsg(c)) > 0);
    /* A second statement would be dropped silently; refuse it. */
    assert_int_equal(store_prepare(c, "SELECT 1; SELECT 2", &s), STORE_ERR);
    assert_int_equal(store_prepare(c, "   ", &s), STORE_ERR);
    assert_int_equal(store_prepare(c, "SELECT 1;  ", &s), STORE_OK);
    assert_int_equal(store_bind_int64(s, 5, 1), STORE_ERR); /* no such parameter */
    store_finish(s);
    assert_int_equal(store_exec(c, "INSERT INTO items (name) VALUES ('a'); SELECT 1"), STORE_OK);
    store_release(c);
}

static void test_unknown_backend(void **state)
{
    struct fx *f = *state;
    struct store_config cfg = {.backend = "oracle", .path = f->path, .pool_size = 1};
    struct store *st = (struct store *)&cfg; /* must be overwritten with NULL */
    assert_int_equal(store_open(&cfg, &st), STORE_ERR);
    assert_null(st);
    assert_non_null(strstr(store_errmsg(NULL), "\"oracle\""));

    /* mariadb without servers: refused, naming the key to set. */
    cfg.backend = "mariadb";
    assert_int_equal(store_open(&cfg, &st), STORE_ERR);
    assert_null(st);
    assert_non_null(strstr(store_errmsg(NULL), "servers"));

    cfg.backend = "sqlite";
    cfg.pool_size = 0;
    assert_int_equal(store_open(&cfg, &st), STORE_ERR);
    assert_non_null(strstr(store_errmsg(NULL), "pool_size"));

    cfg.pool_size = 1;
    cfg.path = "/nonexistent-dir-zhanye/x.db";
    assert_int_equal(store_open(&cfg, &st), STORE_ERR);
    assert_null(st);
    assert_non_null(strstr(store_errmsg(NULL), "/nonexistent-dir-zhanye/x.db"));
    assert_string_equal(store_rc_name(STORE_CONSTRAINT), "STORE_CONSTRAINT");
    assert_string_equal(store_rc_name(12345), "STORE_UNKNOWN");
}

static void test_pragmas(void **state)
{
    SQLITE_ONLY();
    struct fx *f = *state;
    struct store_conn *c[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_acquire(f->st, &c[i]), STORE_OK);
        struct store_stmt *s = NULL;
        assert_int_equal(store_prepare(c[i], "PRAGMA journal_mode", &s), STORE_OK);
        assert_int_equal(store_step(s), STORE_ROW);
        assert_string_equal(store_col_text(s, 0), "wal");
        store_finish(s);
        assert_int_equal(query_int(c[i], "PRAGMA synchronous"), 2);
        assert_int_equal(query_int(c[i], "PRAGMA foreign_keys"), 1);
        /* busy_timeout_ms is the store's own busy handler's (PRAGMA
         * busy_timeout reads 0 then): test_busy_waits_for_the_lock */
    }
    for (int i = 0; i < 4; i++)
        store_release(c[i]);
    assert_int_equal(store_ping(f->st), STORE_OK);
}

/* ---- store_run ----------------------------------------------------------- */

/* Reopens the fixture's database through the fault backend (pool of 1).
 * That backend wraps SQLite: on MariaDB the test is skipped (store_run's
 * logic is the backend-independent half, store.c). */
static void reopen_fault(struct fx *f)
{
    SQLITE_ONLY();
    store_close(f->st);
    struct store_config cfg = config(f, 1, 50);
    cfg.backend = STORE_FAULT_BACKEND;
    assert_int_equal(store_open(&cfg, &f->st), STORE_OK);
    create_items(f->st);
    store_fault_arm(0, STORE_OK, false);
}

/* Inserts an item by name; its id, or the failing status (no asserts: the
 * fault backend makes any of these calls fail). */
static int64_t try_insert(struct store_conn *c, const char *name)
{
    struct store_stmt *s = NULL;
    int rc =
        store_prepare(c, "INSERT INTO items (name, data, amount, note) VALUES (?, ?, ?, ?)", &s);
    for (int i = 1; rc == STORE_OK && i <= 4; i++)
        rc = i == 1 ? store_bind_text(s, 1, name) : store_bind_null(s, i);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? store_last_insert_id(c) : rc;
}

struct run_arg {
    const char *name; /* the item the callback inserts */
    int result;       /* what the callback returns after inserting */
    int calls;        /* how often store_run called it */
    int64_t id;       /* reset at the start of each call, as the contract asks */
    bool saw_txn;     /* every call ran inside a transaction */
};

static int insert_cb(struct store_conn *c, void *p)
{
    struct run_arg *a = p;
    a->calls++;
    a->id = 0;
    a->saw_txn = (a->calls == 1 || a->saw_txn) && store_in_txn(c);
    int64_t id = try_insert(c, a->name);
    if (id < 0)
        return (int)id;
    a->id = id;
    return a->result;
}

static int64_t count_items(struct store *st)
{
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    int64_t n = query_int(c, "SELECT COUNT(*) FROM items");
    store_release(c);
    return n;
}

static void test_run_commits(void **state)
{
    struct fx *f = *state;
    reopen_fault(f);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    struct run_arg a = {.name = "one", .result = STORE_OK};
    assert_int_equal(store_run(c, "test.commit", insert_cb, &a), STORE_OK);
    assert_int_equal(a.calls, 1);
    assert_true(a.saw_txn && a.id > 0);
    assert_false(store_in_txn(c));
    store_release(c);
    /* Committed: visible on another connection after the release. */
    assert_int_equal(count_items(f->st), 1);
}

static void test_run_rolls_back(void **state)
{
    struct fx *f = *state;
    reopen_fault(f);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    /* A positive outcome of the caller's own enum: rolled back, passed through. */
    struct run_arg a = {.name = "outcome", .result = 42};
    assert_int_equal(store_run(c, "test.outcome", insert_cb, &a), 42);
    assert_int_equal(a.calls, 1);
    assert_false(store_in_txn(c));
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 0);
    /* Errors of every kind: rolled back, passed through, not retried. */
    const int errors[] = {STORE_ERR, STORE_CONSTRAINT, STORE_NOMEM};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        a = (struct run_arg){.name = "error", .result = errors[i]};
        assert_int_equal(store_run(c, "test.error", insert_cb, &a), errors[i]);
        assert_int_equal(a.calls, 1);
        assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 0);
    }
    /* A statement failing inside the callback (the second step: the insert). */
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        a = (struct run_arg){.name = "failing", .result = STORE_OK};
        store_fault_arm_ops(STORE_FAULT_STEP, 1, errors[i], false);
        assert_int_equal(store_run(c, "test.fault", insert_cb, &a), errors[i]);
        assert_int_equal(store_fault_hits(), 1);
        assert_int_equal(a.calls, 1);
        assert_non_null(strstr(store_errmsg(c), "injected fault"));
        store_fault_disarm();
        assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 0);
    }
    /* A failing commit is the callback's failure: nothing stays. */
    a = (struct run_arg){.name = "no commit", .result = STORE_OK};
    store_fault_arm_ops(STORE_FAULT_COMMIT, 1, STORE_ERR, true);
    assert_int_equal(store_run(c, "test.commit_fails", insert_cb, &a), STORE_ERR);
    assert_int_equal(a.calls, 1);
    store_fault_disarm();
    assert_false(store_in_txn(c));
    store_release(c);
    assert_int_equal(count_items(f->st), 0);
}

static void test_run_busy_retried(void **state)
{
    struct fx *f = *state;
    reopen_fault(f);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);

    /* A busy BEGIN, for ever: STORE_RUN_ATTEMPTS tries, the callback never runs. */
    struct run_arg a = {.name = "never", .result = STORE_OK};
    store_fault_arm_ops(STORE_FAULT_BEGIN, 1, STORE_BUSY, true);
    assert_int_equal(store_run(c, "test.busy_begin", insert_cb, &a), STORE_BUSY);
    assert_int_equal(store_fault_calls(), STORE_RUN_ATTEMPTS);
    assert_int_equal(a.calls, 0);

    /* A busy COMMIT, for ever: the callback runs STORE_RUN_ATTEMPTS times. */
    a = (struct run_arg){.name = "busy commit", .result = STORE_OK};
    store_fault_arm_ops(STORE_FAULT_COMMIT, 1, STORE_BUSY, true);
    assert_int_equal(store_run(c, "test.busy_commit", insert_cb, &a), STORE_BUSY);
    assert_int_equal(store_fault_calls(), STORE_RUN_ATTEMPTS);
    assert_int_equal(a.calls, STORE_RUN_ATTEMPTS);
    store_fault_disarm();
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 0);

    /* The callback itself answers busy every time: at most STORE_RUN_ATTEMPTS calls. */
    a = (struct run_arg){.name = "busy cb", .result = STORE_BUSY};
    assert_int_equal(store_run(c, "test.busy_cb", insert_cb, &a), STORE_BUSY);
    assert_int_equal(a.calls, STORE_RUN_ATTEMPTS);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 0);

    /* Busy once (BEGIN, a statement, COMMIT): the retry succeeds and the
     * outcome is exactly one row, as without the fault. */
    const unsigned ops[] = {STORE_FAULT_BEGIN, STORE_FAULT_STEP, STORE_FAULT_COMMIT};
    const char *names[] = {"once begin", "once step", "once commit"};
    for (size_t i = 0; i < 3; i++) {
        a = (struct run_arg){.name = names[i], .result = STORE_OK};
        store_fault_arm_ops(ops[i], 1, STORE_BUSY, false);
        assert_int_equal(store_run(c, "test.busy_once", insert_cb, &a), STORE_OK);
        assert_int_equal(store_fault_hits(), 1);
        assert_int_equal(a.calls, ops[i] == STORE_FAULT_BEGIN ? 1 : 2);
        assert_true(a.saw_txn && a.id > 0);
    }
    store_fault_disarm();
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 3);
    store_release(c);
}

static int nested_cb(struct store_conn *c, void *p)
{
    struct run_arg *inner = p;
    /* A nested runner is a bug: refused, and the inner callback never runs. */
    int rc = store_run(c, "test.inner", insert_cb, inner);
    inner->result = rc;
    return try_insert(c, "outer") > 0 ? STORE_OK : STORE_ERR;
}

/* MariaDB: the server ends a pooled session (a failover fenced its server
 * and killed the sessions there, or an operator did): the next store_run on
 * that connection opens a new session and commits, on its second attempt. */
static void test_run_after_killed_session(void **state)
{
    struct fx *f = *state;
    if (!testd_mariadb())
        skip();
    create_items(f->st);
    struct store_conn *a = NULL, *b = NULL;
    assert_int_equal(store_acquire(f->st, &a), STORE_OK);
    assert_int_equal(store_acquire(f->st, &b), STORE_OK);
    int64_t id = query_int(a, "SELECT CONNECTION_ID()");
    assert_int_equal(query_int(a, "SELECT COUNT(*) FROM items"), 0); /* a cached statement */
    struct run_arg r = {.name = "before", .result = STORE_OK};
    assert_int_equal(store_run(a, "test.before", insert_cb, &r), STORE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "KILL CONNECTION %lld", (long long)id);
    assert_int_equal(store_exec(b, sql), STORE_OK);
    r = (struct run_arg){.name = "after", .result = STORE_OK};
    assert_int_equal(store_run(a, "test.after_kill", insert_cb, &r), STORE_OK);
    assert_true(r.id > 0);
    assert_true(query_int(a, "SELECT CONNECTION_ID()") != id);
    store_release(a);
    store_release(b);
    assert_int_equal(count_items(f->st), 2);
}

static void test_run_nested_refused(void **state)
{
    struct fx *f = *state;
    reopen_fault(f);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    struct run_arg inner = {.name = "inner", .result = STORE_OK};
    assert_int_equal(store_run(c, "test.outer", nested_cb, &inner), STORE_OK);
    assert_int_equal(inner.result, STORE_ERR);
    assert_int_equal(inner.calls, 0);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 1); /* the outer's row */
    /* Inside a hand-opened transaction, and without a connection or callback. */
    assert_int_equal(store_begin(c), STORE_OK);
    assert_int_equal(store_run(c, "test.in_begin", insert_cb, &inner), STORE_ERR);
    assert_int_equal(inner.calls, 0);
    assert_true(store_in_txn(c)); /* the caller's transaction is left alone */
    assert_int_equal(store_rollback(c), STORE_OK);
    assert_int_equal(store_run(NULL, "test.null", insert_cb, &inner), STORE_ERR);
    assert_int_equal(store_run(c, "test.null", NULL, &inner), STORE_ERR);
    store_release(c);
}

/* The fault backend itself: registered, counting, failing from N on. */
static void test_fault_backend(void **state)
{
    SQLITE_ONLY();
    struct fx *f = *state;
    static const struct store_backend clash = {.name = "sqlite"};
    static const struct store_backend again = {.name = STORE_FAULT_BACKEND};
    assert_int_equal(store_register_backend(&clash), STORE_ERR);
    assert_int_equal(store_register_backend(&again), STORE_ERR);
    assert_int_equal(store_register_backend(NULL), STORE_ERR);
    reopen_fault(f);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(f->st, &c), STORE_OK);
    /* prepare, bind, step: three counted calls; finish and column reads are not. */
    store_fault_arm(0, STORE_OK, false);
    assert_true(try_insert(c, "counted") > 0);
    assert_int_equal(store_fault_calls(), 1 + 4 + 1);
    assert_int_equal(store_fault_hits(), 0);
    /* Persistent from call 2: the first bind and everything after fail. */
    store_fault_arm(2, STORE_NOMEM, true);
    assert_int_equal(try_insert(c, "never"), STORE_NOMEM);
    assert_int_equal(store_exec(c, "SELECT 1"), STORE_NOMEM);
    assert_int_equal(store_fault_hits(), 2);
    char where[320];
    store_fault_describe(where, sizeof where);
    assert_non_null(strstr(where, "call 2: bind (STORE_NOMEM)"));
    assert_non_null(strstr(where, "INSERT INTO items"));
    assert_false(store_fault_hit_in_txn());
    store_fault_disarm();
    assert_int_equal(store_exec(c, "SELECT 1"), STORE_OK);
    assert_int_equal(store_fault_hits(), 2);
    assert_int_equal(query_int(c, "SELECT COUNT(*) FROM items"), 1);
    /* One-shot: only the nth fails. */
    store_fault_arm(1, STORE_ERR, false);
    assert_int_equal(store_exec(c, "INSERT INTO items (name) VALUES ('x')"), STORE_ERR);
    assert_int_equal(store_exec(c, "INSERT INTO items (name) VALUES ('y')"), STORE_OK);
    assert_int_equal(store_fault_hits(), 1);
    /* A real failure replaces the injected message. */
    assert_int_equal(store_exec(c, "INSERT INTO items (name) VALUES ('y')"), STORE_CONSTRAINT);
    assert_null(strstr(store_errmsg(c), "injected"));
    store_release(c);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_migrate_idempotent),
        T(test_schema_version_empty),
        T(test_concurrent_migrate),
        T(test_crud),
        T(test_constraint),
        T(test_rollback),
        T(test_stmt_cache),
        T(test_pool_threads),
        T(test_acquire_waits),
        T(test_busy),
        T(test_busy_waits_for_the_lock),
        T(test_bad_sql),
        T(test_unknown_backend),
        T(test_pragmas),
        T(test_run_commits),
        T(test_run_rolls_back),
        T(test_run_busy_retried),
        T(test_run_after_killed_session),
        T(test_run_nested_refused),
        T(test_fault_backend),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
