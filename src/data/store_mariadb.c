/* store_mariadb.c — the MariaDB backend of the store (a province's servers).
 *
 * One pooled store connection is one MariaDB session over libmariadb's
 * binary protocol: statements are server-side prepared once per connection
 * and cached by their SQL text, like the SQLite backend's. What keeps the
 * SQL and its meaning the same as on SQLite:
 *
 *  - Sessions run with sql_mode strict, time_zone UTC, utf8mb4 with the
 *    binary collation (text compares byte-wise, as on SQLite), and
 *    CLIENT_FOUND_ROWS (store_changes counts matched rows, as SQLite does).
 *  - Write transactions take one writer lock first, as SQLite's BEGIN
 *    IMMEDIATE does: the row of store_writer_lock, SELECTed FOR UPDATE, so
 *    writers of every node run one after another and a read-then-write
 *    races no other writer. The transaction's snapshot (REPEATABLE READ) is
 *    taken at its first plain read, after the lock, so it sees every write
 *    committed before. (The audit chain, which nearly every write extends,
 *    serialises writers anyway; without the lock they would deadlock on it
 *    instead.) A wait beyond innodb_lock_wait_timeout is STORE_BUSY. Reads
 *    outside a transaction are plain consistent reads.
 *  - Results are buffered client-side (mysql_stmt_store_result), so other
 *    statements may run on the connection while a result is being read.
 *  - DDL given to store_exec is rewritten word by word outside quotes:
 *    INTEGER PRIMARY KEY -> BIGINT AUTO_INCREMENT PRIMARY KEY, INTEGER ->
 *    BIGINT (SQLite's integers are 64-bit), TEXT -> LONGTEXT, BLOB ->
 *    LONGBLOB; statements separated by ';' run one by one. DDL commits
 *    implicitly on MariaDB: a migration is not atomic there.
 *  - Foreign keys written inline (`col BIGINT REFERENCES t (id)`) are
 *    accepted but not enforced by MariaDB; the code checks references itself.
 *
 * Servers: store_config.servers lists HOST:PORT; a connection goes to the
 * first that is writable (@@read_only = 0), else to the first that answers
 * (reads work, writes fail as STORE_BUSY). A connection that breaks, or
 * whose server refuses a write as read-only (a failover made another server
 * the primary), is reopened, the same way, at its next use outside a
 * transaction; what breaks inside one fails that transaction with
 * STORE_BUSY (STORE_ERR at COMMIT, whose outcome is then unknown: store_run
 * must not run it again).
 *
 * Status mapping: duplicate key, NOT NULL, CHECK and foreign-key errors are
 * STORE_CONSTRAINT; deadlock, lock wait timeout, a read-only server and a
 * lost or refused connection are STORE_BUSY; out of memory STORE_NOMEM;
 * everything else STORE_ERR with the server's message. */
#include "data/store_backend.h"
#include "foundation/secmem.h"

#include <ctype.h>
#include <errno.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_SERVERS 8
#define COL_INITIAL 64
#define DDL_MAX (64 * 1024)
#define REPLICA_RETRY_MS 5000

struct my_param {
    enum enum_field_types type;
    char *data; /* text or blob copy */
    unsigned long len;
    long long i;
};

struct my_col {
    char *data; /* NUL-terminated copy of the value */
    unsigned long cap;
    unsigned long len;
    my_bool is_null;
    my_bool error;
    enum store_type kind; /* of a non-NULL value, from the result's metadata */
};

struct my_stmt {
    struct store_stmt base; /* first: store.c sees only this */
    MYSQL_STMT *st;
    unsigned nparams;
    struct my_param *params;
    MYSQL_BIND *pbind;
    unsigned ncols;
    struct my_col *cols;
    MYSQL_BIND *cbind;
    bool executed;
    bool has_row;
};

struct my_server {
    char host[64];
    unsigned port;
};

struct my_conn {
    struct store_conn base; /* first: store.c sees only this */
    MYSQL *db;
    bool broken;         /* the session is gone: reopen before the next use */
    bool writable;       /* connected to a server with @@read_only = 0 */
    bool want_replica;   /* a replica's connection (open_read): read-only servers only */
    int64_t retry_at_ms; /* a replica's connection that failed: not before then */
    struct store_cache cache;
    int64_t last_id, changes;
    /* What a reopen needs; the password lives in locked memory. */
    struct my_server servers[MAX_SERVERS];
    int nservers;
    char database[65], user[65];
    char *password;
    int connect_timeout_s, lock_wait_s;
    char err[512];
};

static struct my_conn *conn_of(struct store_conn *c)
{
    return (struct my_conn *)c;
}

static struct my_stmt *stmt_of(struct store_stmt *s)
{
    return (struct my_stmt *)s;
}

/* ---- errors --------------------------------------------------------------- */

static bool is_connection_error(unsigned e)
{
    return e == 2002 || e == 2003 || e == 2006 || e == 2013 || e == 2055 || e == 1927 ||
           e == ER_CONNECTION_KILLED || e == ER_SERVER_SHUTDOWN;
}

static int map_errno(unsigned e)
{
    switch (e) {
    case 0:
        return STORE_OK;
    case ER_DUP_ENTRY:
    case ER_DUP_ENTRY_WITH_KEY_NAME:
    case ER_BAD_NULL_ERROR:
    case ER_NO_REFERENCED_ROW:
    case ER_ROW_IS_REFERENCED:
    case ER_NO_REFERENCED_ROW_2:
    case ER_ROW_IS_REFERENCED_2:
    case ER_CONSTRAINT_FAILED:
        return STORE_CONSTRAINT;
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_OPTION_PREVENTS_STATEMENT: /* a read-only server: not the primary (now) */
        return STORE_BUSY;
    case 2008: /* CR_OUT_OF_MEMORY */
        return STORE_NOMEM;
    default:
        return is_connection_error(e) ? STORE_BUSY : STORE_ERR;
    }
}

/* Keeps the message of failure e; returns it as a store status. */
static int fail_with(struct my_conn *c, unsigned e, const char *msg)
{
    /* A server that refuses writes is no longer (or not yet) the primary:
     * the session is opened again at its next use, on the writable one. */
    if (is_connection_error(e) || e == ER_OPTION_PREVENTS_STATEMENT)
        c->broken = true;
    store_be_format(c->err, sizeof c->err, "%s (mariadb error %u)", msg && *msg ? msg : "?", e);
    return map_errno(e);
}

static int fail_conn(struct my_conn *c)
{
    return fail_with(c, mysql_errno(c->db), mysql_error(c->db));
}

static int fail_stmt(struct my_stmt *s)
{
    return fail_with(conn_of(s->base.conn), mysql_stmt_errno(s->st), mysql_stmt_error(s->st));
}

static int fail_msg(struct my_conn *c, int rc, const char *msg)
{
    store_be_format(c->err, sizeof c->err, "%s", msg);
    return rc;
}

/* ---- statements ----------------------------------------------------------- */

static void clear_params(struct my_stmt *e)
{
    for (unsigned i = 0; i < e->nparams; i++) {
        free(e->params[i].data);
        e->params[i] = (struct my_param){.type = MYSQL_TYPE_NULL};
    }
}

static void free_entry(struct my_stmt *e)
{
    if (!e)
        return;
    if (e->st)
        mysql_stmt_close(e->st);
    clear_params(e);
    for (unsigned i = 0; i < e->ncols; i++)
        free(e->cols[i].data);
    free(e->params);
    free(e->pbind);
    free(e->cols);
    free(e->cbind);
    free(e);
}

static void free_cached(struct store_stmt *s)
{
    free_entry(stmt_of(s));
}

/* ---- connecting ------------------------------------------------------------ */

static int parse_servers(struct my_conn *c, const char *list)
{
    c->nservers = 0;
    for (const char *p = list ? list : ""; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        const char *colon = memrchr(p, ':', n);
        size_t hn = colon ? (size_t)(colon - p) : 0;
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (c->nservers == MAX_SERVERS || !colon || hn == 0 || hn >= sizeof c->servers[0].host ||
            end != p + n || port < 1 || port > 65535) {
            store_be_error("mariadb: [store] servers: \"%.*s\" is not HOST:PORT (at most %d)",
                           (int)n, p, MAX_SERVERS);
            return STORE_ERR;
        }
        struct my_server *s = &c->servers[c->nservers++];
        memcpy(s->host, p, hn);
        s->host[hn] = '\0';
        s->port = (unsigned)port;
        p += n;
    }
    if (c->nservers == 0) {
        store_be_error("mariadb: [store] servers is empty; list the servers as HOST:PORT");
        return STORE_ERR;
    }
    return STORE_OK;
}

static int simple_query(struct my_conn *c, const char *sql)
{
    if (mysql_real_query(c->db, sql, (unsigned long)strlen(sql)) != 0)
        return fail_conn(c);
    MYSQL_RES *r = mysql_store_result(c->db);
    if (r)
        mysql_free_result(r);
    else if (mysql_field_count(c->db) != 0)
        return fail_conn(c);
    return STORE_OK;
}

/* The first column of the first row of a parameterless query, as text into
 * out (NULL reads as ""); STORE_ERR when there is no row or it is too long. */
static int query_text(struct my_conn *c, const char *sql, char *out, size_t cap)
{
    if (mysql_real_query(c->db, sql, (unsigned long)strlen(sql)) != 0)
        return fail_conn(c);
    MYSQL_RES *r = mysql_store_result(c->db);
    if (!r)
        return fail_conn(c);
    MYSQL_ROW row = mysql_fetch_row(r);
    const char *v = row && row[0] ? row[0] : "";
    int rc = row && strlen(v) < cap ? STORE_OK : fail_msg(c, STORE_ERR, "no value");
    if (rc == STORE_OK)
        snprintf(out, cap, "%s", v);
    mysql_free_result(r);
    return rc;
}

/* One integer answer of a parameterless query; NULL is no value. */
static int query_int(struct my_conn *c, const char *sql, long long *out)
{
    char v[32];
    int rc = query_text(c, sql, v, sizeof v);
    if (rc == STORE_OK && !v[0])
        rc = fail_msg(c, STORE_ERR, "no value");
    if (rc == STORE_OK)
        *out = strtoll(v, NULL, 10);
    return rc;
}

static MYSQL *new_handle(const struct my_conn *c)
{
    MYSQL *db = mysql_init(NULL);
    if (!db)
        return NULL;
    unsigned t = (unsigned)c->connect_timeout_s;
    unsigned rw = 30;
    my_bool off = 0;
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    mysql_options(db, MYSQL_OPT_RECONNECT, &off); /* a silent reconnect loses the session */
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    return db;
}

/* The database, created if missing (and if the account may). */
static int use_database(struct my_conn *c)
{
    if (mysql_select_db(c->db, c->database) == 0)
        return STORE_OK;
    if (mysql_errno(c->db) != ER_BAD_DB_ERROR)
        return fail_conn(c);
    char sql[160];
    snprintf(sql, sizeof sql,
             "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
             c->database);
    int rc = simple_query(c, sql);
    if (rc == STORE_OK && mysql_select_db(c->db, c->database) != 0)
        rc = fail_conn(c);
    return rc;
}

static int set_session(struct my_conn *c)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
             "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', time_zone = '+00:00', "
             "collation_connection = 'utf8mb4_bin', innodb_lock_wait_timeout = %d",
             c->lock_wait_s);
    int rc = simple_query(c, sql);
    /* SET ... TRANSACTION cannot share a statement with other variables. */
    if (rc == STORE_OK)
        rc = simple_query(c, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    /* A replica gets the writer lock's table from its primary. */
    if (rc == STORE_OK && c->writable)
        rc = simple_query(c, "CREATE TABLE IF NOT EXISTS store_writer_lock (id INT PRIMARY KEY) "
                             "ENGINE=InnoDB");
    if (rc == STORE_OK && c->writable)
        rc = simple_query(c, "INSERT IGNORE INTO store_writer_lock (id) VALUES (1)");
    return rc;
}

/* Opens c->db on the first read-only server (a replica) that answers. */
static int connect_replica(struct my_conn *c)
{
    char first_err[256] = "";
    for (int i = 0; i < c->nservers; i++) {
        MYSQL *db = new_handle(c);
        if (!db)
            return fail_msg(c, STORE_NOMEM, "mariadb: out of memory");
        const struct my_server *s = &c->servers[i];
        long long ro = 0;
        c->db = db;
        if (mysql_real_connect(db, s->host, c->user, c->password, NULL, s->port, NULL,
                               CLIENT_FOUND_ROWS) &&
            query_int(c, "SELECT @@global.read_only", &ro) == STORE_OK && ro == 1) {
            c->writable = false;
            return STORE_OK;
        }
        if (!first_err[0] && mysql_errno(db))
            snprintf(first_err, sizeof first_err, "%s:%u: %s", s->host, s->port, mysql_error(db));
        c->db = NULL;
        mysql_close(db);
    }
    return fail_msg(c, STORE_BUSY, first_err[0] ? first_err : "no replica among the servers");
}

/* Opens c->db on the first writable server, else on the first that answered. */
static int connect_any(struct my_conn *c)
{
    MYSQL *fallback = NULL;
    char first_err[256] = "";
    for (int i = 0; i < c->nservers; i++) {
        MYSQL *db = new_handle(c);
        if (!db)
            return fail_msg(c, STORE_NOMEM, "mariadb: out of memory");
        const struct my_server *s = &c->servers[i];
        if (!mysql_real_connect(db, s->host, c->user, c->password, NULL, s->port, NULL,
                                CLIENT_FOUND_ROWS)) {
            if (!first_err[0])
                snprintf(first_err, sizeof first_err, "%s:%u: %s", s->host, s->port,
                         mysql_error(db));
            mysql_close(db);
            continue;
        }
        c->db = db;
        long long ro = 1;
        int rc = query_int(c, "SELECT @@global.read_only", &ro);
        c->db = NULL;
        if (rc == STORE_OK && ro == 0) {
            if (fallback)
                mysql_close(fallback);
            c->db = db;
            c->writable = true;
            return STORE_OK;
        }
        if (!fallback)
            fallback = db;
        else
            mysql_close(db);
    }
    if (fallback) {
        c->db = fallback;
        c->writable = false;
        return STORE_OK;
    }
    return fail_msg(c, STORE_BUSY, first_err[0] ? first_err : "no server answered");
}

static int open_session(struct my_conn *c)
{
    int rc = c->want_replica ? connect_replica(c) : connect_any(c);
    if (rc == STORE_OK)
        rc = use_database(c);
    if (rc == STORE_OK)
        rc = set_session(c);
    if (rc != STORE_OK && c->db) {
        mysql_close(c->db);
        c->db = NULL;
    }
    c->broken = rc != STORE_OK;
    return rc;
}

/* Before a use outside a transaction: a broken session is opened again. */
static int ensure_open(struct my_conn *c)
{
    if (!c->broken)
        return STORE_OK;
    if (c->base.in_txn || store_cache_busy(&c->cache))
        return fail_msg(c, STORE_BUSY, "mariadb: the connection to the server was lost");
    /* A missing replica is looked for again now and then, not at every read. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (c->want_replica && now_ms < c->retry_at_ms)
        return fail_msg(c, STORE_BUSY, "mariadb: no replica reachable (retrying shortly)");
    store_cache_clear(&c->cache, free_cached);
    if (c->db)
        mysql_close(c->db);
    c->db = NULL;
    int rc = open_session(c);
    if (rc != STORE_OK && c->want_replica)
        c->retry_at_ms = now_ms + REPLICA_RETRY_MS;
    return rc;
}

static void my_close(struct store_conn *sc)
{
    struct my_conn *c = conn_of(sc);
    if (!c)
        return;
    store_cache_clear(&c->cache, free_cached);
    if (c->db)
        mysql_close(c->db);
    if (c->password) {
        secmem_wipe(c->password, strlen(c->password));
        free(c->password);
    }
    free(c);
}

static int open_generic(const struct store_config *cfg, bool replica, struct store_conn **out)
{
    struct my_conn *c = calloc(1, sizeof *c);
    if (!c) {
        store_be_error("mariadb: out of memory");
        return STORE_NOMEM;
    }
    int rc = parse_servers(c, cfg->servers);
    if (rc != STORE_OK)
        goto out;
    const char *db = cfg->database && *cfg->database ? cfg->database : "zhanye";
    const char *user = cfg->user && *cfg->user ? cfg->user : "zhanye";
    if (strlen(db) >= sizeof c->database || strlen(user) >= sizeof c->user ||
        strspn(db, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
            strlen(db)) {
        store_be_error("mariadb: database \"%s\" or user \"%s\" is not a plain name", db, user);
        rc = STORE_ERR;
        goto out;
    }
    snprintf(c->database, sizeof c->database, "%s", db);
    snprintf(c->user, sizeof c->user, "%s", user);
    c->password = strdup(cfg->password ? cfg->password : "");
    if (!c->password) {
        rc = STORE_NOMEM;
        store_be_error("mariadb: out of memory");
        goto out;
    }
    int ct = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 2000;
    c->connect_timeout_s = (ct + 999) / 1000;
    c->lock_wait_s = cfg->busy_timeout_ms > 0 ? (cfg->busy_timeout_ms + 999) / 1000 : 1;
    c->want_replica = replica;
    c->broken = true; /* until open_session succeeds */
    rc = ensure_open(c);
    /* A replica may be down now and come back: its connection waits for it. */
    if (rc == STORE_BUSY && replica)
        rc = STORE_OK;
    if (rc != STORE_OK)
        store_be_error("mariadb %s/%s: %s", cfg->servers, c->database, c->err);
out:
    if (rc == STORE_OK)
        *out = &c->base;
    else
        my_close(&c->base);
    return rc;
}

static int my_open(const struct store_config *cfg, struct store_conn **out)
{
    return open_generic(cfg, false, out);
}

static int my_open_read(const struct store_config *cfg, struct store_conn **out)
{
    return open_generic(cfg, true, out);
}

/* ---- preparing ------------------------------------------------------------- */

/* The storage class a column's values have, as SQLite would give them. */
static enum store_type kind_of(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
        return STORE_T_INT;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VAR_STRING:
        return f->charsetnr == 63 ? STORE_T_BLOB : STORE_T_TEXT; /* 63: binary */
    default:
        return STORE_T_TEXT;
    }
}

static int setup_binds(struct my_stmt *e)
{
    e->nparams = (unsigned)mysql_stmt_param_count(e->st);
    if (e->nparams) {
        e->params = calloc(e->nparams, sizeof *e->params);
        e->pbind = calloc(e->nparams, sizeof *e->pbind);
        if (!e->params || !e->pbind)
            return STORE_NOMEM;
        for (unsigned i = 0; i < e->nparams; i++)
            e->params[i].type = MYSQL_TYPE_NULL;
    }
    MYSQL_RES *meta = mysql_stmt_result_metadata(e->st);
    if (!meta)
        return STORE_OK;
    e->ncols = mysql_num_fields(meta);
    e->cols = calloc(e->ncols, sizeof *e->cols);
    e->cbind = calloc(e->ncols, sizeof *e->cbind);
    if (!e->cols || !e->cbind) {
        mysql_free_result(meta);
        return STORE_NOMEM;
    }
    MYSQL_FIELD *fields = mysql_fetch_fields(meta);
    for (unsigned i = 0; i < e->ncols; i++)
        e->cols[i].kind = kind_of(&fields[i]);
    mysql_free_result(meta);
    for (unsigned i = 0; i < e->ncols; i++) {
        struct my_col *col = &e->cols[i];
        if (!(col->data = malloc(COL_INITIAL)))
            return STORE_NOMEM;
        col->cap = COL_INITIAL;
        e->cbind[i] = (MYSQL_BIND){
            .buffer_type = MYSQL_TYPE_STRING,
            .buffer = col->data,
            .buffer_length = COL_INITIAL - 1,
            .length = &col->len,
            .is_null = &col->is_null,
            .error = &col->error,
        };
    }
    return STORE_OK;
}

static int my_prepare(struct store_conn *sc, const char *sql, struct store_stmt **out)
{
    struct my_conn *c = conn_of(sc);
    int rc = ensure_open(c);
    if (rc != STORE_OK)
        return rc;
    uint64_t h = store_cache_hash(sql);
    struct my_stmt *e = stmt_of(store_cache_take(&c->cache, sql, h));
    if (e) {
        *out = &e->base;
        return STORE_OK;
    }
    rc = STORE_NOMEM;
    e = calloc(1, sizeof *e);
    if (!e || !(e->st = mysql_stmt_init(c->db)))
        goto out;
    e->base.conn = sc; /* before a failure: fail_stmt marks the connection broken */
    /* One statement, as on SQLite: a trailing ';' (and blanks) is no second one. */
    size_t n = strlen(sql);
    while (n && strchr(" \t\r\n", sql[n - 1]))
        n--;
    if (n && sql[n - 1] == ';')
        n--;
    if (mysql_stmt_prepare(e->st, sql, (unsigned long)n) != 0) {
        rc = fail_stmt(e);
        goto out;
    }
    rc = setup_binds(e);
    if (rc != STORE_OK)
        goto out;
    store_cache_admit(&c->cache, &e->base, sql, h);
    *out = &e->base;
out:
    if (rc == STORE_NOMEM)
        fail_msg(c, rc, "store_prepare: out of memory");
    if (rc != STORE_OK)
        free_entry(e);
    return rc;
}

static void my_finish(struct store_stmt *s)
{
    struct my_stmt *e = stmt_of(s);
    if (e->executed)
        mysql_stmt_free_result(e->st);
    e->executed = e->has_row = false;
    clear_params(e);
    if (!store_cache_release(s))
        free_entry(e);
}

/* ---- binding ---------------------------------------------------------------- */

static struct my_param *param(struct store_stmt *s, int idx)
{
    struct my_stmt *e = stmt_of(s);
    if (idx < 1 || (unsigned)idx > e->nparams) {
        fail_msg(conn_of(s->conn), STORE_ERR, "store_bind: parameter index out of range");
        return NULL;
    }
    struct my_param *p = &e->params[idx - 1];
    free(p->data);
    *p = (struct my_param){.type = MYSQL_TYPE_NULL};
    return p;
}

static int bind_bytes(struct store_stmt *s, int idx, const void *v, size_t n,
                      enum enum_field_types type)
{
    struct my_param *p = param(s, idx);
    if (!p)
        return STORE_ERR;
    if (!(p->data = malloc(n ? n : 1)))
        return fail_msg(conn_of(s->conn), STORE_NOMEM, "store_bind: out of memory");
    if (n)
        memcpy(p->data, v, n);
    p->len = (unsigned long)n;
    p->type = type;
    return STORE_OK;
}

static int my_bind_text(struct store_stmt *s, int idx, const char *v)
{
    if (!v) {
        struct my_param *p = param(s, idx);
        return p ? STORE_OK : STORE_ERR;
    }
    return bind_bytes(s, idx, v, strlen(v), MYSQL_TYPE_STRING);
}

static int my_bind_blob(struct store_stmt *s, int idx, const void *v, size_t n)
{
    return bind_bytes(s, idx, v, n, MYSQL_TYPE_BLOB);
}

static int my_bind_int64(struct store_stmt *s, int idx, int64_t v)
{
    struct my_param *p = param(s, idx);
    if (!p)
        return STORE_ERR;
    p->type = MYSQL_TYPE_LONGLONG;
    p->i = v;
    return STORE_OK;
}

static int my_bind_null(struct store_stmt *s, int idx)
{
    return param(s, idx) ? STORE_OK : STORE_ERR;
}

/* ---- stepping ---------------------------------------------------------------- */

static int execute(struct my_stmt *e)
{
    struct my_conn *c = conn_of(e->base.conn);
    for (unsigned i = 0; i < e->nparams; i++) {
        struct my_param *p = &e->params[i];
        MYSQL_BIND *b = &e->pbind[i];
        *b = (MYSQL_BIND){.buffer_type = p->type};
        if (p->type == MYSQL_TYPE_LONGLONG) {
            b->buffer = &p->i;
        } else if (p->type != MYSQL_TYPE_NULL) {
            b->buffer = p->data;
            b->buffer_length = p->len;
            b->length = &p->len;
        }
    }
    if (e->nparams && mysql_stmt_bind_param(e->st, e->pbind) != 0)
        return fail_stmt(e);
    if (mysql_stmt_execute(e->st) != 0)
        return fail_stmt(e);
    e->executed = true;
    c->changes = (int64_t)mysql_stmt_affected_rows(e->st);
    uint64_t id = mysql_stmt_insert_id(e->st);
    if (id)
        c->last_id = (int64_t)id;
    if (e->ncols == 0)
        return STORE_OK;
    if (mysql_stmt_bind_result(e->st, e->cbind) != 0 || mysql_stmt_store_result(e->st) != 0)
        return fail_stmt(e);
    return STORE_OK;
}

/* A value longer than its buffer: grow the buffer, fetch the column again.
 * The result binding is renewed once the whole row is read (renewing it
 * here would reset what the fetch reported for the columns after i). */
static int refetch(struct my_stmt *e, unsigned i)
{
    struct my_col *col = &e->cols[i];
    char *bigger = realloc(col->data, col->len + 1);
    if (!bigger)
        return fail_msg(conn_of(e->base.conn), STORE_NOMEM, "store_step: out of memory");
    col->data = bigger;
    col->cap = col->len + 1;
    e->cbind[i].buffer = col->data;
    e->cbind[i].buffer_length = col->cap - 1;
    MYSQL_BIND one = e->cbind[i];
    return mysql_stmt_fetch_column(e->st, &one, i, 0) == 0 ? STORE_OK : fail_stmt(e);
}

static int my_step(struct store_stmt *s)
{
    struct my_stmt *e = stmt_of(s);
    if (!e->executed) {
        int rc = execute(e);
        if (rc != STORE_OK)
            return rc;
        if (e->ncols == 0)
            return STORE_DONE;
    } else if (e->ncols == 0) {
        return STORE_DONE;
    }
    e->has_row = false;
    int f = mysql_stmt_fetch(e->st);
    if (f == MYSQL_NO_DATA)
        return STORE_DONE;
    if (f == 1)
        return fail_stmt(e);
    bool grown = false;
    for (unsigned i = 0; i < e->ncols; i++) {
        struct my_col *col = &e->cols[i];
        if (!col->is_null && col->len >= col->cap) {
            int rc = refetch(e, i);
            if (rc != STORE_OK)
                return rc;
            grown = true;
        }
        if (!col->is_null)
            col->data[col->len] = '\0';
    }
    if (grown && mysql_stmt_bind_result(e->st, e->cbind) != 0)
        return fail_stmt(e);
    e->has_row = true;
    return STORE_ROW;
}

static struct my_col *row_col(struct store_stmt *s, int col)
{
    struct my_stmt *e = stmt_of(s);
    if (!e->has_row || col < 0 || (unsigned)col >= e->ncols || e->cols[col].is_null)
        return NULL;
    return &e->cols[col];
}

static const char *my_col_text(struct store_stmt *s, int col)
{
    struct my_col *c = row_col(s, col);
    return c ? c->data : NULL;
}

static int64_t my_col_int64(struct store_stmt *s, int col)
{
    struct my_col *c = row_col(s, col);
    return c ? (int64_t)strtoll(c->data, NULL, 10) : 0;
}

static const void *my_col_blob(struct store_stmt *s, int col, size_t *len)
{
    struct my_col *c = row_col(s, col);
    if (!c)
        return NULL;
    *len = c->len;
    return c->data;
}

static int my_col_count(struct store_stmt *s)
{
    return (int)stmt_of(s)->ncols;
}

static enum store_type my_col_type(struct store_stmt *s, int col)
{
    struct my_col *c = row_col(s, col);
    return c ? c->kind : STORE_T_NULL;
}

static bool my_col_is_null(struct store_stmt *s, int col)
{
    return row_col(s, col) == NULL;
}

/* ---- transactions and DDL ---------------------------------------------------- */

static int my_begin(struct store_conn *sc)
{
    struct my_conn *c = conn_of(sc);
    int rc = ensure_open(c);
    if (rc == STORE_OK)
        rc = simple_query(c, "START TRANSACTION");
    if (rc == STORE_OK) {
        rc = simple_query(c, "SELECT id FROM store_writer_lock WHERE id = 1 FOR UPDATE");
        if (rc != STORE_OK && !c->broken)
            simple_query(c, "ROLLBACK");
    }
    return rc;
}

static int my_commit(struct store_conn *sc)
{
    struct my_conn *c = conn_of(sc);
    int rc = simple_query(c, "COMMIT");
    if (rc != STORE_OK && c->broken)
        /* It may or may not have committed: never run it again blindly. */
        return fail_msg(c, STORE_ERR, "mariadb: connection lost at COMMIT; outcome unknown");
    return rc;
}

static int my_rollback(struct store_conn *sc)
{
    struct my_conn *c = conn_of(sc);
    if (c->broken) /* the server rolled back when the session ended */
        return STORE_OK;
    return simple_query(c, "ROLLBACK");
}

/* Only a transaction left open needs a round trip to end it. */
static void my_reset(struct store_conn *sc)
{
    if (sc->in_txn)
        my_rollback(sc);
}

static bool word_at(const char *p, const char *start, const char *w, size_t n)
{
    return strncasecmp(p, w, n) == 0 &&
           (p == start || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
           !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/* SQLite's type words in DDL as MariaDB's (see the top of the file). */
static int rewrite_ddl(const char *in, char *out, size_t cap)
{
    static const struct {
        const char *from, *to;
    } WORDS[] = {
        {.from = "INTEGER PRIMARY KEY", .to = "BIGINT AUTO_INCREMENT PRIMARY KEY"},
        {.from = "INTEGER", .to = "BIGINT"},
        {.from = "TEXT", .to = "LONGTEXT"},
        {.from = "BLOB", .to = "LONGBLOB"},
    };
    size_t o = 0;
    char quote = 0;
    for (const char *p = in; *p;) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"' || *p == '`') {
            quote = *p;
        } else {
            bool done = false;
            for (size_t i = 0; i < sizeof WORDS / sizeof WORDS[0] && !done; i++) {
                size_t n = strlen(WORDS[i].from);
                if (word_at(p, in, WORDS[i].from, n)) {
                    size_t m = strlen(WORDS[i].to);
                    if (o + m >= cap)
                        return -1;
                    memcpy(out + o, WORDS[i].to, m);
                    o += m;
                    p += n;
                    done = true;
                }
            }
            if (done)
                continue;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = *p++;
    }
    out[o] = '\0';
    return 0;
}

/* Runs the ';'-separated statements of sql one by one. */
static int my_exec(struct store_conn *sc, const char *sql)
{
    struct my_conn *c = conn_of(sc);
    int rc = ensure_open(c);
    if (rc != STORE_OK)
        return rc;
    char *buf = malloc(DDL_MAX);
    if (!buf)
        return fail_msg(c, STORE_NOMEM, "store_exec: out of memory");
    if (rewrite_ddl(sql, buf, DDL_MAX) != 0) {
        free(buf);
        return fail_msg(c, STORE_ERR, "store_exec: SQL text too long");
    }
    char quote = 0, *start = buf;
    for (char *p = buf;; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            if (*p)
                continue;
        } else if (*p == '\'' || *p == '"' || *p == '`') {
            quote = *p;
            continue;
        }
        if (*p != ';' && *p != '\0')
            continue;
        char end = *p;
        *p = '\0';
        if (start[strspn(start, " \t\r\n")] != '\0') {
            rc = simple_query(c, start);
            /* As sqlite3_changes: the rows of the last INSERT, UPDATE or DELETE. */
            if (rc == STORE_OK && mysql_field_count(c->db) == 0) {
                c->changes = (int64_t)mysql_affected_rows(c->db);
                if (mysql_insert_id(c->db))
                    c->last_id = (int64_t)mysql_insert_id(c->db);
            }
        }
        if (rc != STORE_OK || end == '\0')
            break;
        start = p + 1;
    }
    free(buf);
    return rc;
}

/* ---- the rest ----------------------------------------------------------------- */

static int64_t my_last_insert_id(struct store_conn *sc)
{
    return conn_of(sc)->last_id;
}

static int64_t my_changes(struct store_conn *sc)
{
    return conn_of(sc)->changes;
}

static const char *my_errmsg(struct store_conn *sc)
{
    return conn_of(sc)->err;
}

static int my_table_exists(struct store_conn *sc, const char *table, bool *exists)
{
    struct store_stmt *s = NULL;
    int rc = my_prepare(sc,
                        "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() "
                        "AND table_name = ?",
                        &s);
    if (rc != STORE_OK)
        return rc;
    rc = my_bind_text(s, 1, table);
    if (rc == STORE_OK)
        rc = my_step(s);
    if (rc == STORE_ROW || rc == STORE_DONE) {
        *exists = rc == STORE_ROW;
        rc = STORE_OK;
    }
    my_finish(s);
    return rc;
}

/* The primary's binlog position: a GTID list such as "0-1-42". */
static int my_position(struct store_conn *sc, char *out, size_t cap)
{
    struct my_conn *c = conn_of(sc);
    int rc = ensure_open(c);
    return rc == STORE_OK ? query_text(c, "SELECT @@global.gtid_binlog_pos", out, cap) : rc;
}

/* MASTER_GTID_WAIT: 0 once the replica has applied position, -1 on timeout. */
static int my_catch_up(struct store_conn *sc, const char *position, int wait_ms)
{
    struct my_conn *c = conn_of(sc);
    if (strspn(position, "0123456789-,") != strlen(position))
        return fail_msg(c, STORE_ERR, "mariadb: a malformed GTID position");
    int rc = ensure_open(c);
    if (rc != STORE_OK || !*position)
        return rc;
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT('%s', %d.%03d)", position, wait_ms / 1000,
             wait_ms % 1000);
    long long got = -1;
    rc = query_int(c, sql, &got);
    return rc != STORE_OK ? rc : got == 0 ? STORE_OK : fail_msg(c, STORE_BUSY, "replica lagging");
}

/* A named lock of the server, held by this session: other nodes migrating
 * at the same time wait here (up to a minute), then find the work done. */
static int my_schema_lock(struct store_conn *sc, bool take)
{
    struct my_conn *c = conn_of(sc);
    long long got = 0;
    int rc = query_int(
        c, take ? "SELECT GET_LOCK('zhanye.schema', 60)" : "SELECT RELEASE_LOCK('zhanye.schema')",
        &got);
    if (rc == STORE_OK && take && got != 1)
        rc = fail_msg(c, STORE_BUSY, "another process held the migration lock for 60 s");
    return take ? rc : STORE_OK;
}

const struct store_backend store_backend_mariadb = {
    .name = "mariadb",
    .open = my_open,
    .close = my_close,
    .reset = my_reset,
    .begin = my_begin,
    .commit = my_commit,
    .rollback = my_rollback,
    .exec = my_exec,
    .prepare = my_prepare,
    .bind_text = my_bind_text,
    .bind_int64 = my_bind_int64,
    .bind_blob = my_bind_blob,
    .bind_null = my_bind_null,
    .step = my_step,
    .col_text = my_col_text,
    .col_int64 = my_col_int64,
    .col_blob = my_col_blob,
    .col_is_null = my_col_is_null,
    .col_count = my_col_count,
    .col_type = my_col_type,
    .finish = my_finish,
    .last_insert_id = my_last_insert_id,
    .changes = my_changes,
    .errmsg = my_errmsg,
    .table_exists = my_table_exists,
    .schema_lock = my_schema_lock,
    .open_read = my_open_read,
    .position = my_position,
    .catch_up = my_catch_up,
};
