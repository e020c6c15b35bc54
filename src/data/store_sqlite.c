/* store_sqlite.c — the embedded SQLite backend of the store.
 *
 * Each connection is used by one thread at a time (the pool guarantees it),
 * so connections are opened NOMUTEX and skip SQLite's own locking. Writers
 * take the database lock at BEGIN (IMMEDIATE) so a transaction never fails
 * half-way with a lock upgrade; WAL lets readers run beside one writer. */
#include "data/store_backend.h"

#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct sq_stmt {
    struct store_stmt base; /* first: store.c sees only this */
    sqlite3_stmt *st;
};

struct sq_conn {
    struct store_conn base; /* first: store.c sees only this */
    sqlite3 *db;
    struct store_cache cache;
    int64_t busy_timeout_ms;
    int64_t busy_since_ms; /* when the current wait for a lock began */
    char err[512];
};

static struct sq_conn *conn_of(struct store_conn *c)
{
    return (struct sq_conn *)c;
}

static struct sq_stmt *stmt_of(struct store_stmt *s)
{
    return (struct sq_stmt *)s;
}

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return STORE_OK;
    case SQLITE_ROW:
        return STORE_ROW;
    case SQLITE_DONE:
        return STORE_DONE;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_BUSY;
    case SQLITE_CONSTRAINT:
        return STORE_CONSTRAINT;
    case SQLITE_NOMEM:
        return STORE_NOMEM;
    default:
        return STORE_ERR;
    }
}

#define SQLITE_CHUNK_BYTES (4 * 1024 * 1024)
#define BUSY_STEP_US 250
/* Keeps the message of failure rc; returns rc as a store status. */
static int fail(struct sq_conn *c, int rc, const char *detail)
{
    store_be_format(c->err, sizeof c->err, "%s (%s)", detail ? detail : sqlite3_errmsg(c->db),
                    sqlite3_errstr(rc));
    return map_rc(rc);
}

/* ---- statements -------------------------------------------------------- */

/* True if the text after the first statement holds another statement;
 * store_prepare runs exactly one and must not drop the rest silently. */
static int check_tail(struct sq_conn *c, const char *tail)
{
    sqlite3_stmt *extra = NULL;
    int rc = sqlite3_prepare_v2(c->db, tail, -1, &extra, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, NULL);
    if (extra) {
        sqlite3_finalize(extra);
        return fail(c, SQLITE_MISUSE, "store_prepare takes one statement; use store_exec");
    }
    return STORE_OK;
}

static void free_entry(struct sq_stmt *e)
{
    sqlite3_finalize(e->st);
    free(e);
}

static void free_cached(struct store_stmt *s)
{
    free_entry(stmt_of(s));
}

static int prepare_new(struct sq_conn *c, const char *sql, uint64_t h, struct sq_stmt **out)
{
    const char *tail = NULL;
    bool cache = c->cache.n < STORE_CACHE_MAX;
    struct sq_stmt *e = calloc(1, sizeof *e);
    int rc = STORE_NOMEM;
    if (!e)
        goto out;
    rc = sqlite3_prepare_v3(c->db, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, &e->st, &tail);
    if (rc != SQLITE_OK) {
        rc = fail(c, rc, NULL);
        goto out;
    }
    if (!e->st) {
        rc = fail(c, SQLITE_MISUSE, "store_prepare: no SQL statement in the text");
        goto out;
    }
    rc = check_tail(c, tail);
    if (rc != STORE_OK)
        goto out;
    e->base.conn = &c->base;
    store_cache_admit(&c->cache, &e->base, sql, h);
    *out = e;
out:
    if (rc == STORE_NOMEM)
        store_be_format(c->err, sizeof c->err, "store_prepare: out of memory");
    if (rc != STORE_OK && e)
        free_entry(e);
    return rc;
}

static int sq_prepare(struct store_conn *sc, const char *sql, struct store_stmt **out)
{
    struct sq_conn *c = conn_of(sc);
    uint64_t h = store_cache_hash(sql);
    struct sq_stmt *e = stmt_of(store_cache_take(&c->cache, sql, h));
    int rc = STORE_OK;
    if (!e)
        rc = prepare_new(c, sql, h, &e);
    if (rc == STORE_OK)
        *out = &e->base;
    return rc;
}

static void sq_finish(struct store_stmt *s)
{
    struct sq_stmt *e = stmt_of(s);
    sqlite3_reset(e->st);
    sqlite3_clear_bindings(e->st);
    if (!store_cache_release(s))
        free_entry(e);
}

/* ---- connections ------------------------------------------------------- */

/* Runs one cached, parameterless statement to completion. */
static int run_simple(struct sq_conn *c, const char *sql)
{
    struct store_stmt *s = NULL;
    int rc = sq_prepare(&c->base, sql, &s);
    if (rc != STORE_OK)
        return rc;
    int src = sqlite3_step(stmt_of(s)->st);
    rc = src == SQLITE_DONE || src == SQLITE_ROW ? STORE_OK : fail(c, src, NULL);
    sq_finish(s);
    return rc;
}

/* journal_mode answers with the mode in force, which is not WAL when the
 * file system or an in-memory path refuses it; report that, don't ignore it. */
static int set_wal(struct sq_conn *c)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, NULL);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = fail(c, rc, NULL);
    } else {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        rc = mode && strcasecmp(mode, "wal") == 0 ? STORE_OK
                                                  : fail(c, SQLITE_ERROR, "WAL journal refused");
    }
    sqlite3_finalize(st);
    return rc;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SQLite's busy handler: waits for another connection's lock in steps of
 * BUSY_STEP_US up to busy_timeout_ms. SQLite's own (sqlite3_busy_timeout)
 * sleeps 1, 2, 5, 10 ... 100 ms, so a wait for a write that holds the lock
 * 2 ms often lasts 8 ms or more; a thread that serves requests should go on
 * as soon as the lock is free. */
static int on_busy(void *arg, int count)
{
    struct sq_conn *c = arg;
    int64_t now = mono_ms();
    if (count == 0)
        c->busy_since_ms = now;
    if (now - c->busy_since_ms >= c->busy_timeout_ms)
        return 0;
    struct timespec nap = {0, BUSY_STEP_US * 1000L};
    nanosleep(&nap, NULL);
    return 1;
}

static int configure(struct sq_conn *c, const struct store_config *cfg)
{
    int rc = sqlite3_extended_result_codes(c->db, 1);
    c->busy_timeout_ms = cfg->busy_timeout_ms;
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_handler(c->db, on_busy, c);
    if (rc != SQLITE_OK)
        return fail(c, rc, NULL);
    rc = set_wal(c);
    if (rc != STORE_OK)
        return rc;
    /* mmap: pages are read from the mapping rather than with a pread() per
     * page miss (every connection's cache misses after another one wrote). */
    rc = sqlite3_exec(c->db,
                      "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                      "PRAGMA mmap_size=268435456",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail(c, rc, NULL);
    /* The file grows by whole chunks: each growth makes every connection
     * map it again (munmap, mmap, page faults), so rarely rather than at
     * each checkpoint that adds a few pages. */
    int chunk = SQLITE_CHUNK_BYTES;
    rc = sqlite3_file_control(c->db, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
    return rc == SQLITE_OK ? STORE_OK : fail(c, rc, NULL);
}

static void sq_close(struct store_conn *sc)
{
    struct sq_conn *c = conn_of(sc);
    if (!c)
        return;
    store_cache_clear(&c->cache, free_cached);
    /* v2: a statement a caller never finished must not keep the file open. */
    sqlite3_close_v2(c->db);
    free(c);
}

static int sq_open(const struct store_config *cfg, struct store_conn **out)
{
    struct sq_conn *c = NULL;
    int rc = STORE_ERR;
    if (!cfg->path || !*cfg->path) {
        store_be_error("sqlite: no database path configured");
        goto out;
    }
    if (!sqlite3_threadsafe()) {
        store_be_error("sqlite: library built without thread support");
        goto out;
    }
    rc = STORE_NOMEM;
    c = calloc(1, sizeof *c);
    if (!c)
        goto out;
    rc = sqlite3_open_v2(cfg->path, &c->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    rc = rc == SQLITE_OK ? configure(c, cfg) : fail(c, rc, NULL);
    if (rc != STORE_OK)
        store_be_error("sqlite: opening %s: %s", cfg->path, c->err);
out:
    if (rc == STORE_OK) {
        *out = &c->base;
    } else {
        if (rc == STORE_NOMEM && !c)
            store_be_error("sqlite: out of memory");
        sq_close(c ? &c->base : NULL);
    }
    return rc;
}

static int sq_rollback(struct store_conn *sc)
{
    struct sq_conn *c = conn_of(sc);
    /* SQLite already rolled back on some errors (full disk, I/O, NOMEM);
     * the caller's rollback then has nothing left to do. */
    if (sqlite3_get_autocommit(c->db))
        return STORE_OK;
    return run_simple(c, "ROLLBACK");
}

static void sq_reset(struct store_conn *sc)
{
    sq_rollback(sc);
}

static int sq_begin(struct store_conn *sc)
{
    return run_simple(conn_of(sc), "BEGIN IMMEDIATE");
}

static int sq_commit(struct store_conn *sc)
{
    return run_simple(conn_of(sc), "COMMIT");
}

static int sq_exec(struct store_conn *sc, const char *sql)
{
    struct sq_conn *c = conn_of(sc);
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        rc = fail(c, rc, msg);
    sqlite3_free(msg);
    return rc;
}

/* ---- binding and reading ----------------------------------------------- */

static int bound(struct store_stmt *s, int rc)
{
    return rc == SQLITE_OK ? STORE_OK : fail(conn_of(s->conn), rc, NULL);
}

/* TRANSIENT everywhere: callers' buffers may die before the step. */
static int sq_bind_text(struct store_stmt *s, int idx, const char *v)
{
    return bound(s, sqlite3_bind_text(stmt_of(s)->st, idx, v, -1, SQLITE_TRANSIENT));
}

static int sq_bind_int64(struct store_stmt *s, int idx, int64_t v)
{
    return bound(s, sqlite3_bind_int64(stmt_of(s)->st, idx, v));
}

/* A zero-length blob is a value, not NULL; sqlite3_bind_blob would turn a
 * NULL pointer into SQL NULL. */
static int sq_bind_blob(struct store_stmt *s, int idx, const void *v, size_t n)
{
    sqlite3_stmt *st = stmt_of(s)->st;
    if (n == 0)
        return bound(s, sqlite3_bind_zeroblob(st, idx, 0));
    return bound(s, sqlite3_bind_blob64(st, idx, v, n, SQLITE_TRANSIENT));
}

static int sq_bind_null(struct store_stmt *s, int idx)
{
    return bound(s, sqlite3_bind_null(stmt_of(s)->st, idx));
}

static int sq_step(struct store_stmt *s)
{
    int rc = sqlite3_step(stmt_of(s)->st);
    if (rc == SQLITE_ROW)
        return STORE_ROW;
    if (rc == SQLITE_DONE)
        return STORE_DONE;
    return fail(conn_of(s->conn), rc, NULL);
}

/* SQLite leaves columns outside the current row undefined; answer "NULL". */
static sqlite3_stmt *row_col(struct store_stmt *s, int col)
{
    sqlite3_stmt *st = stmt_of(s)->st;
    return col >= 0 && col < sqlite3_data_count(st) ? st : NULL;
}

static const char *sq_col_text(struct store_stmt *s, int col)
{
    sqlite3_stmt *st = row_col(s, col);
    return st ? (const char *)sqlite3_column_text(st, col) : NULL;
}

static int64_t sq_col_int64(struct store_stmt *s, int col)
{
    sqlite3_stmt *st = row_col(s, col);
    return st ? sqlite3_column_int64(st, col) : 0;
}

static const void *sq_col_blob(struct store_stmt *s, int col, size_t *len)
{
    sqlite3_stmt *st = row_col(s, col);
    if (!st)
        return NULL;
    const void *p = sqlite3_column_blob(st, col); /* before _bytes, per SQLite */
    *len = (size_t)sqlite3_column_bytes(st, col);
    return p;
}

static int sq_col_count(struct store_stmt *s)
{
    return sqlite3_column_count(stmt_of(s)->st);
}

static enum store_type sq_col_type(struct store_stmt *s, int col)
{
    switch (sqlite3_column_type(stmt_of(s)->st, col)) {
    case SQLITE_INTEGER:
        return STORE_T_INT;
    case SQLITE_BLOB:
        return STORE_T_BLOB;
    case SQLITE_NULL:
        return STORE_T_NULL;
    default:
        return STORE_T_TEXT; /* TEXT, and REAL, which the schema does not use */
    }
}

static bool sq_col_is_null(struct store_stmt *s, int col)
{
    sqlite3_stmt *st = row_col(s, col);
    return !st || sqlite3_column_type(st, col) == SQLITE_NULL;
}

static int64_t sq_last_insert_id(struct store_conn *sc)
{
    return sqlite3_last_insert_rowid(conn_of(sc)->db);
}

static int64_t sq_changes(struct store_conn *sc)
{
    return sqlite3_changes64(conn_of(sc)->db);
}

static const char *sq_errmsg(struct store_conn *sc)
{
    return conn_of(sc)->err;
}

static int sq_table_exists(struct store_conn *sc, const char *table, bool *exists)
{
    struct store_stmt *s = NULL;
    int rc = sq_prepare(sc, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", &s);
    if (rc != STORE_OK)
        return rc;
    rc = sq_bind_text(s, 1, table);
    if (rc == STORE_OK)
        rc = sq_step(s);
    if (rc == STORE_ROW || rc == STORE_DONE) {
        *exists = rc == STORE_ROW;
        rc = STORE_OK;
    }
    sq_finish(s);
    return rc;
}

const struct store_backend store_backend_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .reset = sq_reset,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .bind_text = sq_bind_text,
    .bind_int64 = sq_bind_int64,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_text = sq_col_text,
    .col_int64 = sq_col_int64,
    .col_blob = sq_col_blob,
    .col_is_null = sq_col_is_null,
    .col_count = sq_col_count,
    .col_type = sq_col_type,
    .finish = sq_finish,
    .last_insert_id = sq_last_insert_id,
    .changes = sq_changes,
    .errmsg = sq_errmsg,
    .table_exists = sq_table_exists,
};
