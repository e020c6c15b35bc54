/* store_fault.c — the test-only "fault" backend (see data/store_fault.h).
 *
 * It keeps no connection or statement of its own: its open() returns the
 * SQLite backend's connection, which store.c then stamps with this
 * backend, so every call store.c dispatches comes here first and is passed
 * to the SQLite backend's function unless it is the one to fail. The SQLite
 * backend never dispatches through conn->be itself, so its internal calls
 * (BEGIN through its statement cache, for instance) are not counted twice. */
#include "data/store_fault.h"

#include "data/store_backend.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static struct {
    unsigned ops;
    long fail_at; /* 0: never */
    int status;
    bool persistent;
    long calls;
    long hits;
    bool first_in_txn;
    char first[320];   /* description of the first injected failure */
    char last_sql[96]; /* the SQL of the last prepare or exec, for descriptions */
    long open_stmts;   /* prepared and not finished */
} fs = {.ops = STORE_FAULT_ALL};

/* The message store_errmsg(c) shows after an injected failure on c. */
static _Thread_local const struct store_conn *fault_conn;
static _Thread_local char fault_msg[160];

static const struct store_backend *const real = &store_backend_sqlite;

static const char *op_name(unsigned op)
{
    switch (op) {
    case STORE_FAULT_BEGIN:
        return "begin";
    case STORE_FAULT_COMMIT:
        return "commit";
    case STORE_FAULT_EXEC:
        return "exec";
    case STORE_FAULT_PREPARE:
        return "prepare";
    case STORE_FAULT_BIND:
        return "bind";
    case STORE_FAULT_STEP:
        return "step";
    default:
        return "table_exists";
    }
}

/* Counts one call of op on c (sql: its text, when it has one) and decides
 * whether it fails: STORE_OK to pass it through, else the status to return. */
static int count(unsigned op, const struct store_conn *c, const char *sql)
{
    int rc = STORE_OK;
    pthread_mutex_lock(&mu);
    if (sql)
        snprintf(fs.last_sql, sizeof fs.last_sql, "%s", sql);
    if (fs.ops & op) {
        long n = ++fs.calls;
        if (fs.fail_at > 0 && (n == fs.fail_at || (fs.persistent && n > fs.fail_at))) {
            rc = fs.status;
            if (fs.hits++ == 0) {
                fs.first_in_txn = c->in_txn || op == STORE_FAULT_BEGIN;
                snprintf(fs.first, sizeof fs.first, "call %ld: %s (%s)%s; last SQL: %s", n,
                         op_name(op), store_rc_name(rc), fs.first_in_txn ? " in a transaction" : "",
                         fs.last_sql);
            }
            snprintf(fault_msg, sizeof fault_msg, "injected fault: %s failed with %s at call %ld",
                     op_name(op), store_rc_name(rc), n);
            fault_conn = c;
        }
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

/* A real failure replaces an injected one as the connection's last message. */
static int passed(const struct store_conn *c, int rc)
{
    if (rc < 0 && fault_conn == c)
        fault_conn = NULL;
    return rc;
}

void store_fault_arm_ops(unsigned ops, long n, int status, bool persistent)
{
    pthread_mutex_lock(&mu);
    fs.ops = ops & STORE_FAULT_ALL;
    fs.fail_at = n > 0 ? n : 0;
    fs.status = status < 0 ? status : STORE_ERR;
    fs.persistent = persistent;
    fs.calls = 0;
    fs.hits = 0;
    fs.first_in_txn = false;
    fs.first[0] = '\0';
    pthread_mutex_unlock(&mu);
}

void store_fault_arm(long n, int status, bool persistent)
{
    store_fault_arm_ops(STORE_FAULT_ALL, n, status, persistent);
}

void store_fault_disarm(void)
{
    pthread_mutex_lock(&mu);
    fs.fail_at = 0;
    pthread_mutex_unlock(&mu);
}

long store_fault_calls(void)
{
    pthread_mutex_lock(&mu);
    long n = fs.calls;
    pthread_mutex_unlock(&mu);
    return n;
}

long store_fault_hits(void)
{
    pthread_mutex_lock(&mu);
    long n = fs.hits;
    pthread_mutex_unlock(&mu);
    return n;
}

void store_fault_describe(char *buf, size_t cap)
{
    if (!buf || !cap)
        return;
    pthread_mutex_lock(&mu);
    snprintf(buf, cap, "%s", fs.first);
    pthread_mutex_unlock(&mu);
}

long store_fault_open_statements(void)
{
    pthread_mutex_lock(&mu);
    long n = fs.open_stmts;
    pthread_mutex_unlock(&mu);
    return n;
}

static void add_open(long d)
{
    pthread_mutex_lock(&mu);
    fs.open_stmts += d;
    pthread_mutex_unlock(&mu);
}

bool store_fault_hit_in_txn(void)
{
    pthread_mutex_lock(&mu);
    bool b = fs.hits > 0 && fs.first_in_txn;
    pthread_mutex_unlock(&mu);
    return b;
}

/* ---- the backend: count, then fail or pass through ------------------------ */

static int f_open(const struct store_config *cfg, struct store_conn **out)
{
    return real->open(cfg, out);
}

static void f_close(struct store_conn *c)
{
    if (fault_conn == c)
        fault_conn = NULL;
    real->close(c);
}

static void f_reset(struct store_conn *c)
{
    real->reset(c);
}

static int f_begin(struct store_conn *c)
{
    int rc = count(STORE_FAULT_BEGIN, c, NULL);
    return rc ? rc : passed(c, real->begin(c));
}

static int f_commit(struct store_conn *c)
{
    int rc = count(STORE_FAULT_COMMIT, c, NULL);
    return rc ? rc : passed(c, real->commit(c));
}

static int f_rollback(struct store_conn *c)
{
    return real->rollback(c);
}

static int f_exec(struct store_conn *c, const char *sql)
{
    int rc = count(STORE_FAULT_EXEC, c, sql);
    return rc ? rc : passed(c, real->exec(c, sql));
}

static int f_prepare(struct store_conn *c, const char *sql, struct store_stmt **out)
{
    int rc = count(STORE_FAULT_PREPARE, c, sql);
    if (rc == STORE_OK)
        rc = passed(c, real->prepare(c, sql, out));
    if (rc == STORE_OK)
        add_open(1);
    return rc;
}

static int f_bind_text(struct store_stmt *s, int idx, const char *v)
{
    int rc = count(STORE_FAULT_BIND, s->conn, NULL);
    return rc ? rc : passed(s->conn, real->bind_text(s, idx, v));
}

static int f_bind_int64(struct store_stmt *s, int idx, int64_t v)
{
    int rc = count(STORE_FAULT_BIND, s->conn, NULL);
    return rc ? rc : passed(s->conn, real->bind_int64(s, idx, v));
}

static int f_bind_blob(struct store_stmt *s, int idx, const void *v, size_t n)
{
    int rc = count(STORE_FAULT_BIND, s->conn, NULL);
    return rc ? rc : passed(s->conn, real->bind_blob(s, idx, v, n));
}

static int f_bind_null(struct store_stmt *s, int idx)
{
    int rc = count(STORE_FAULT_BIND, s->conn, NULL);
    return rc ? rc : passed(s->conn, real->bind_null(s, idx));
}

static int f_step(struct store_stmt *s)
{
    int rc = count(STORE_FAULT_STEP, s->conn, NULL);
    return rc ? rc : passed(s->conn, real->step(s));
}

static const char *f_col_text(struct store_stmt *s, int col)
{
    return real->col_text(s, col);
}

static int64_t f_col_int64(struct store_stmt *s, int col)
{
    return real->col_int64(s, col);
}

static const void *f_col_blob(struct store_stmt *s, int col, size_t *len)
{
    return real->col_blob(s, col, len);
}

static int f_col_count(struct store_stmt *s)
{
    return real->col_count(s);
}

static enum store_type f_col_type(struct store_stmt *s, int col)
{
    return real->col_type(s, col);
}

static bool f_col_is_null(struct store_stmt *s, int col)
{
    return real->col_is_null(s, col);
}

static void f_finish(struct store_stmt *s)
{
    add_open(-1);
    real->finish(s);
}

static int64_t f_last_insert_id(struct store_conn *c)
{
    return real->last_insert_id(c);
}

static int64_t f_changes(struct store_conn *c)
{
    return real->changes(c);
}

static const char *f_errmsg(struct store_conn *c)
{
    return fault_conn == c ? fault_msg : real->errmsg(c);
}

static int f_table_exists(struct store_conn *c, const char *table, bool *exists)
{
    int rc = count(STORE_FAULT_TABLE_EXISTS, c, NULL);
    return rc ? rc : passed(c, real->table_exists(c, table, exists));
}

static const struct store_backend store_backend_fault = {
    .name = STORE_FAULT_BACKEND,
    .open = f_open,
    .close = f_close,
    .reset = f_reset,
    .begin = f_begin,
    .commit = f_commit,
    .rollback = f_rollback,
    .exec = f_exec,
    .prepare = f_prepare,
    .bind_text = f_bind_text,
    .bind_int64 = f_bind_int64,
    .bind_blob = f_bind_blob,
    .bind_null = f_bind_null,
    .step = f_step,
    .col_text = f_col_text,
    .col_int64 = f_col_int64,
    .col_blob = f_col_blob,
    .col_is_null = f_col_is_null,
    .col_count = f_col_count,
    .col_type = f_col_type,
    .finish = f_finish,
    .last_insert_id = f_last_insert_id,
    .changes = f_changes,
    .errmsg = f_errmsg,
    .table_exists = f_table_exists,
};

/* Registers the backend before main(); the library is linked whole. */
__attribute__((constructor)) static void register_fault_backend(void)
{
    if (store_register_backend(&store_backend_fault) != STORE_OK)
        fprintf(stderr, "store_fault: cannot register the \"%s\" backend\n", STORE_FAULT_BACKEND);
}
