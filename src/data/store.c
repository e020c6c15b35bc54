/* store.c — the backend-independent half of the store: backend selection,
 * the connection pool, thin dispatch to the backend, and migrations. */
#include "data/store.h"

#include "data/migrations.h"
#include "data/store_backend.h"
#include "foundation/clock.h"
#include "foundation/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Upper bound that catches garbage in a config, far above any sane pool. */
#define STORE_POOL_MAX 1024
#define MIGRATION_NAME_MAX 100

struct store {
    const struct store_backend *be;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct store_conn **conns; /* every connection, for close */
    int n;
    struct store_conn *free_list;
    int nfree;
    int acquire_timeout_ms;
    struct store_conn **readers; /* replica connections (store_read_conn) */
    int nreaders;
    struct store_conn *reader_free;
    int nreader_free;
    int replica_wait_ms;
    store_change_fn on_change; /* store_on_change */
    void *on_change_arg;
    _Atomic uint64_t gen[STORE_NTAGS]; /* store_generation */
};

static const struct store_backend *const backends[] = {
    &store_backend_sqlite,
    &store_backend_mariadb,
};

/* Backends added with store_register_backend (tests only, in practice). */
#define STORE_REGISTERED_MAX 8
static const struct store_backend *registered[STORE_REGISTERED_MAX];
static int nregistered;
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;

static _Thread_local char thread_err[512];

static void vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    static const char ellipsis[] = "...";
    int n = vsnprintf(buf, size, fmt, ap);
    if (n < 0) {
        snprintf(buf, size, "(unformattable message)");
        return;
    }
    if ((size_t)n >= size && size > sizeof ellipsis)
        memcpy(buf + size - sizeof ellipsis, ellipsis, sizeof ellipsis);
}

void store_be_format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(buf, size, fmt, ap);
    va_end(ap);
}

void store_be_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(thread_err, sizeof thread_err, fmt, ap);
    va_end(ap);
}

const char *store_rc_name(int rc)
{
    switch (rc) {
    case STORE_OK:
        return "STORE_OK";
    case STORE_ROW:
        return "STORE_ROW";
    case STORE_DONE:
        return "STORE_DONE";
    case STORE_ERR:
        return "STORE_ERR";
    case STORE_BUSY:
        return "STORE_BUSY";
    case STORE_CONSTRAINT:
        return "STORE_CONSTRAINT";
    case STORE_NOMEM:
        return "STORE_NOMEM";
    default:
        return "STORE_UNKNOWN";
    }
}

/* ---- opening and the pool ---------------------------------------------- */

/* The registered backend called name; the caller holds registry_mu. */
static const struct store_backend *find_registered(const char *name)
{
    for (int i = 0; i < nregistered; i++)
        if (strcmp(registered[i]->name, name) == 0)
            return registered[i];
    return NULL;
}

static const struct store_backend *find_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

static const struct store_backend *find_backend(const char *name)
{
    /* An unset backend means the embedded default. */
    if (!name || !*name)
        name = "sqlite";
    const struct store_backend *be = find_builtin(name);
    if (be)
        return be;
    pthread_mutex_lock(&registry_mu);
    be = find_registered(name);
    pthread_mutex_unlock(&registry_mu);
    return be;
}

int store_register_backend(const struct store_backend *be)
{
    int rc = STORE_ERR;
    if (!be || !be->name || !*be->name || find_builtin(be->name))
        return rc;
    pthread_mutex_lock(&registry_mu);
    if (nregistered < STORE_REGISTERED_MAX && !find_registered(be->name)) {
        registered[nregistered++] = be;
        rc = STORE_OK;
    }
    pthread_mutex_unlock(&registry_mu);
    return rc;
}

static int check_config(const struct store_config *cfg)
{
    if (!cfg) {
        store_be_error("store_open: no configuration");
        return STORE_ERR;
    }
    if (cfg->pool_size < 1 || cfg->pool_size > STORE_POOL_MAX) {
        store_be_error("store_open: pool_size %d is outside 1..%d", cfg->pool_size, STORE_POOL_MAX);
        return STORE_ERR;
    }
    if (cfg->busy_timeout_ms < 0) {
        store_be_error("store_open: busy_timeout_ms %d is negative", cfg->busy_timeout_ms);
        return STORE_ERR;
    }
    return STORE_OK;
}

static void close_conns(struct store *st)
{
    for (int i = 0; i < st->n; i++)
        st->be->close(st->conns[i]);
    st->n = 0;
    for (int i = 0; i < st->nreaders; i++)
        st->be->close(st->readers[i]);
    st->nreaders = 0;
    free(st->readers);
    st->readers = NULL;
}

/* Replica connections, when the backend has replicas and some are wanted. */
static int open_readers(struct store *st, const struct store_config *cfg)
{
    st->replica_wait_ms = cfg->replica_wait_ms > 0 ? cfg->replica_wait_ms : 100;
    if (!st->be->open_read || cfg->read_pool_size <= 0)
        return STORE_OK;
    if (cfg->read_pool_size > STORE_POOL_MAX) {
        store_be_error("store_open: read_pool_size %d is outside 0..%d", cfg->read_pool_size,
                       STORE_POOL_MAX);
        return STORE_ERR;
    }
    st->readers = calloc((size_t)cfg->read_pool_size, sizeof *st->readers);
    if (!st->readers)
        return STORE_NOMEM;
    for (int i = 0; i < cfg->read_pool_size; i++) {
        struct store_conn *c = NULL;
        int rc = st->be->open_read(cfg, &c);
        if (rc != STORE_OK)
            return rc;
        c->be = st->be;
        c->owner = st;
        c->replica = true;
        c->next_free = st->reader_free;
        st->reader_free = c;
        st->readers[st->nreaders++] = c;
        st->nreader_free++;
    }
    return STORE_OK;
}

static int open_conns(struct store *st, const struct store_config *cfg)
{
    for (int i = 0; i < cfg->pool_size; i++) {
        struct store_conn *c = NULL;
        int rc = st->be->open(cfg, &c);
        if (rc != STORE_OK)
            return rc;
        c->be = st->be;
        c->owner = st;
        c->next_free = st->free_list;
        st->free_list = c;
        st->conns[st->n++] = c;
        st->nfree++;
    }
    return STORE_OK;
}

int store_open(const struct store_config *cfg, struct store **out)
{
    int rc = STORE_ERR;
    struct store *st = NULL;
    const struct store_backend *be = NULL;
    bool sync_ready = false;

    thread_err[0] = '\0';
    if (!out) {
        store_be_error("store_open: no output pointer");
        return STORE_ERR;
    }
    *out = NULL;
    rc = check_config(cfg);
    if (rc != STORE_OK)
        goto out;
    be = find_backend(cfg->backend);
    if (!be) {
        store_be_error("store_open: unknown backend \"%s\" (available: sqlite, mariadb)",
                       cfg->backend);
        rc = STORE_ERR;
        goto out;
    }
    rc = STORE_NOMEM;
    st = calloc(1, sizeof *st);
    if (!st)
        goto out;
    st->be = be;
    st->acquire_timeout_ms =
        cfg->acquire_timeout_ms > 0 ? cfg->acquire_timeout_ms : STORE_ACQUIRE_DEFAULT_MS;
    st->conns = calloc((size_t)cfg->pool_size, sizeof *st->conns);
    if (!st->conns)
        goto out;
    if (pthread_mutex_init(&st->mu, NULL) != 0)
        goto out;
    pthread_condattr_t ca;
    bool ca_ok = pthread_condattr_init(&ca) == 0;
    int crc = ca_ok ? pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) : -1;
    if (crc == 0)
        crc = pthread_cond_init(&st->cv, &ca);
    if (ca_ok)
        pthread_condattr_destroy(&ca);
    if (crc != 0) {
        pthread_mutex_destroy(&st->mu);
        goto out;
    }
    sync_ready = true;
    rc = open_conns(st, cfg);
    if (rc == STORE_OK)
        rc = open_readers(st, cfg);
out:
    if (rc == STORE_NOMEM && !thread_err[0])
        store_be_error("store_open: out of memory");
    if (rc == STORE_OK) {
        *out = st;
    } else if (st) {
        close_conns(st);
        if (sync_ready) {
            pthread_cond_destroy(&st->cv);
            pthread_mutex_destroy(&st->mu);
        }
        free(st->conns);
        free(st);
    }
    return rc;
}

/* Waits for every connection to come back first: closing one that a thread
 * still uses would pull the database out from under it. */
void store_close(struct store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    while (st->nfree < st->n || st->nreader_free < st->nreaders)
        pthread_cond_wait(&st->cv, &st->mu);
    pthread_mutex_unlock(&st->mu);
    close_conns(st);
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st->conns);
    free(st);
}

int store_acquire(struct store *st, struct store_conn **out)
{
    if (!st || !out)
        return STORE_ERR;
    *out = NULL;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += st->acquire_timeout_ms / 1000;
    until.tv_nsec += (long)(st->acquire_timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->mu);
    while (!st->free_list) {
        if (pthread_cond_timedwait(&st->cv, &st->mu, &until) != 0 && !st->free_list) {
            pthread_mutex_unlock(&st->mu);
            store_be_error("store_acquire: no free connection within %d ms (pool of %d)",
                           st->acquire_timeout_ms, st->n);
            return STORE_BUSY;
        }
    }
    struct store_conn *c = st->free_list;
    st->free_list = c->next_free;
    st->nfree--;
    pthread_mutex_unlock(&st->mu);
    c->next_free = NULL;
    *out = c;
    return STORE_OK;
}

void store_release(struct store_conn *c)
{
    if (!c)
        return;
    struct store *st = c->owner;
    c->be->reset(c);
    c->in_txn = false;
    c->dirty = 0;
    c->last_err = 0;
    pthread_mutex_lock(&st->mu);
    if (c->replica) {
        c->next_free = st->reader_free;
        st->reader_free = c;
        st->nreader_free++;
    } else {
        c->next_free = st->free_list;
        st->free_list = c;
        st->nfree++;
    }
    /* Broadcast: store_close waits for "all free", acquirers for "one free". */
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

int store_ping(struct store *st)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int rc = store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    rc = store_prepare(c, "SELECT 1", &s);
    if (rc != STORE_OK)
        goto out;
    rc = store_step(s);
    if (rc == STORE_ROW)
        rc = store_col_int64(s, 0) == 1 ? STORE_OK : STORE_ERR;
    else if (rc == STORE_DONE)
        rc = STORE_ERR;
out:
    store_finish(s);
    store_release(c);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------- */

/* A free replica connection, or NULL: a read never waits for one. */
static struct store_conn *take_reader(struct store *st)
{
    pthread_mutex_lock(&st->mu);
    struct store_conn *r = st->reader_free;
    if (r) {
        st->reader_free = r->next_free;
        st->nreader_free--;
        r->next_free = NULL;
    }
    pthread_mutex_unlock(&st->mu);
    return r;
}

int store_read_conn(struct store_conn *c, struct store_conn **out)
{
    if (!out)
        return STORE_ERR;
    *out = c;
    if (!c)
        return STORE_ERR;
    struct store *st = c->owner;
    if (st->nreaders == 0 || c->replica || c->in_txn)
        return STORE_OK;
    char pos[512];
    if (c->be->position(c, pos, sizeof pos) != STORE_OK)
        return STORE_OK;
    struct store_conn *r = take_reader(st);
    if (!r)
        return STORE_OK;
    if (r->be->catch_up(r, pos, st->replica_wait_ms) != STORE_OK) {
        store_release(r);
        return STORE_OK;
    }
    *out = r;
    return STORE_OK;
}

void store_release_read(struct store_conn *c, struct store_conn *r)
{
    if (r && r != c)
        store_release(r);
}

bool store_conn_is_replica(const struct store_conn *c)
{
    return c && c->replica;
}

int store_begin(struct store_conn *c)
{
    if (!c)
        return STORE_ERR;
    if (c->replica) {
        store_be_error("store_begin: a replica's connection is for reads only");
        return STORE_ERR;
    }
    c->last_err = 0;
    int rc = c->be->begin(c);
    if (rc == STORE_OK)
        c->in_txn = true;
    return rc;
}

/* The generations of the tags c marked go up (after a commit). */
static void bump_marked(struct store_conn *c)
{
    unsigned tags = c->dirty;
    for (int t = 0; t < STORE_NTAGS; t++)
        if (tags & (1u << t))
            atomic_fetch_add(&c->owner->gen[t], 1);
    c->dirty = 0;
    if (tags && c->owner->on_change)
        c->owner->on_change(c->owner->on_change_arg, tags);
}

void store_on_change(struct store *st, store_change_fn fn, void *arg)
{
    if (st) {
        st->on_change = fn;
        st->on_change_arg = arg;
    }
}

int store_commit(struct store_conn *c)
{
    if (!c)
        return STORE_ERR;
    int rc = c->be->commit(c);
    if (rc == STORE_OK) {
        c->in_txn = false;
        bump_marked(c);
    }
    return rc;
}

int store_rollback(struct store_conn *c)
{
    if (!c)
        return STORE_ERR;
    c->in_txn = false;
    c->dirty = 0;
    return c->be->rollback(c);
}

void store_mark_changed(struct store_conn *c, enum store_tag tag)
{
    if (!c || (unsigned)tag >= STORE_NTAGS)
        return;
    c->dirty |= 1u << tag;
    if (!c->in_txn)
        bump_marked(c);
}

uint64_t store_generation(struct store *st, enum store_tag tag)
{
    return st && (unsigned)tag < STORE_NTAGS ? atomic_load(&st->gen[tag]) : 0;
}

bool store_in_txn(const struct store_conn *c)
{
    return c && c->in_txn;
}

/* 1 ms, 4 ms, ...: long enough for a competing writer to commit. */
static void pause_before_retry(int attempt)
{
    struct timespec ts = {0, 1000000L << (2 * (attempt - 1))};
    nanosleep(&ts, NULL);
}

int store_run(struct store_conn *c, const char *name, store_txn_fn fn, void *arg)
{
    if (!c || !fn || c->in_txn) {
        log_error("store.run", "%s: %s", name ? name : "?",
                  c && c->in_txn ? "already inside a transaction" : "no connection or callback");
        return STORE_ERR;
    }
    int rc = STORE_BUSY;
    for (int attempt = 1; attempt <= STORE_RUN_ATTEMPTS; attempt++) {
        if (attempt > 1)
            pause_before_retry(attempt - 1);
        rc = store_begin(c);
        if (rc == STORE_OK)
            rc = fn(c, arg);
        if (rc == STORE_OK && c->in_txn)
            rc = store_commit(c);
        if (rc == STORE_OK)
            return STORE_OK;
        if (c->in_txn)
            store_rollback(c);
        if (rc != STORE_BUSY)
            return rc;
        log_warn("store.busy", "%s: database busy (attempt %d of %d): %s", name ? name : "?",
                 attempt, STORE_RUN_ATTEMPTS, store_errmsg(c));
    }
    return rc;
}

/* Keeps a failure's status for store_last_error; returns rc. */
static int noted(struct store_conn *c, int rc)
{
    if (rc < 0 && c)
        c->last_err = rc;
    return rc;
}

int store_last_error(const struct store_conn *c)
{
    return c ? c->last_err : STORE_ERR;
}

int store_exec(struct store_conn *c, const char *sql)
{
    return c && sql ? noted(c, c->be->exec(c, sql)) : STORE_ERR;
}

int store_prepare(struct store_conn *c, const char *sql, struct store_stmt **out)
{
    if (!out)
        return STORE_ERR;
    *out = NULL;
    return c && sql ? noted(c, c->be->prepare(c, sql, out)) : STORE_ERR;
}

int store_bind_text(struct store_stmt *s, int idx, const char *v)
{
    return s ? s->conn->be->bind_text(s, idx, v) : STORE_ERR;
}

int store_bind_int64(struct store_stmt *s, int idx, int64_t v)
{
    return s ? s->conn->be->bind_int64(s, idx, v) : STORE_ERR;
}

int store_bind_blob(struct store_stmt *s, int idx, const void *v, size_t n)
{
    if (!s || (!v && n > 0))
        return STORE_ERR;
    return s->conn->be->bind_blob(s, idx, v, n);
}

int store_bind_null(struct store_stmt *s, int idx)
{
    return s ? s->conn->be->bind_null(s, idx) : STORE_ERR;
}

int store_step(struct store_stmt *s)
{
    return s ? noted(s->conn, s->conn->be->step(s)) : STORE_ERR;
}

const char *store_col_text(struct store_stmt *s, int col)
{
    return s ? s->conn->be->col_text(s, col) : NULL;
}

int64_t store_col_int64(struct store_stmt *s, int col)
{
    return s ? s->conn->be->col_int64(s, col) : 0;
}

const void *store_col_blob(struct store_stmt *s, int col, size_t *len)
{
    size_t dummy;
    if (!len)
        len = &dummy;
    *len = 0;
    return s ? s->conn->be->col_blob(s, col, len) : NULL;
}

int store_col_count(struct store_stmt *s)
{
    return s ? s->conn->be->col_count(s) : 0;
}

enum store_type store_col_type(struct store_stmt *s, int col)
{
    return s ? s->conn->be->col_type(s, col) : STORE_T_NULL;
}

bool store_col_is_null(struct store_stmt *s, int col)
{
    return s ? s->conn->be->col_is_null(s, col) : true;
}

void store_finish(struct store_stmt *s)
{
    if (s)
        s->conn->be->finish(s);
}

int64_t store_last_insert_id(struct store_conn *c)
{
    return c ? c->be->last_insert_id(c) : 0;
}

int64_t store_changes(struct store_conn *c)
{
    return c ? c->be->changes(c) : 0;
}

const char *store_errmsg(struct store_conn *c)
{
    return c ? c->be->errmsg(c) : thread_err;
}

/* ---- migrations -------------------------------------------------------- */

static const char create_migrations_sql[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                            "version INTEGER PRIMARY KEY, "
                                            "name VARCHAR(100) NOT NULL, "
                                            "applied_at BIGINT NOT NULL)";

/* A list that is not strictly ascending would make "applied up to N"
 * meaningless, so refuse it before touching the database. */
static int check_migration_list(const struct migration *m, size_t n)
{
    int prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].version <= prev || !m[i].name || !m[i].sql ||
            strlen(m[i].name) > MIGRATION_NAME_MAX) {
            store_be_error("migration list entry %zu (version %d) is malformed or out of order", i,
                           m[i].version);
            return STORE_ERR;
        }
        prev = m[i].version;
    }
    return STORE_OK;
}

static int is_applied(struct store_conn *c, int version, bool *applied)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT 1 FROM schema_migrations WHERE version = ?", &s);
    if (rc != STORE_OK)
        goto out;
    rc = store_bind_int64(s, 1, version);
    if (rc != STORE_OK)
        goto out;
    rc = store_step(s);
    if (rc == STORE_ROW || rc == STORE_DONE) {
        *applied = rc == STORE_ROW;
        rc = STORE_OK;
    }
out:
    store_finish(s);
    return rc;
}

static int record_migration(struct store_conn *c, const struct migration *m)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(
        c, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, m->version);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, m->name);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, clock_wall_ms());
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_DONE)
        rc = STORE_OK;
    store_finish(s);
    return rc;
}

/* Applies m in its own write transaction. The check before BEGIN keeps an
 * up-to-date database free of write locks; the check after BEGIN is the one
 * that counts when two processes migrate at once (the second waits on the
 * write lock, then finds the row the first committed). */
static int apply_one(struct store_conn *c, const struct migration *m)
{
    bool applied = false;
    int rc = is_applied(c, m->version, &applied);
    if (rc != STORE_OK || applied)
        goto out;
    rc = store_begin(c);
    if (rc != STORE_OK)
        goto out;
    rc = is_applied(c, m->version, &applied);
    if (rc == STORE_OK && !applied)
        rc = store_exec(c, m->sql);
    if (rc == STORE_OK && !applied)
        rc = record_migration(c, m);
    if (rc == STORE_OK)
        rc = store_commit(c);
out:
    if (rc != STORE_OK) {
        store_be_error("migration %d (%s): %s: %s", m->version, m->name, store_rc_name(rc),
                       store_errmsg(c));
        store_rollback(c);
    }
    return rc;
}

int store_migrate(struct store *st)
{
    size_t n = 0;
    const struct migration *list = migrations_list(&n);
    struct store_conn *c = NULL;
    thread_err[0] = '\0';
    int rc = check_migration_list(list, n);
    if (rc != STORE_OK)
        return rc;
    rc = store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    if (c->be->schema_lock && (rc = c->be->schema_lock(c, true)) != STORE_OK) {
        store_be_error("taking the migration lock: %s", store_errmsg(c));
        goto out;
    }
    rc = store_exec(c, create_migrations_sql);
    if (rc != STORE_OK)
        store_be_error("creating schema_migrations: %s", store_errmsg(c));
    for (size_t i = 0; i < n && rc == STORE_OK; i++)
        rc = apply_one(c, &list[i]);
    if (c->be->schema_lock)
        c->be->schema_lock(c, false);
out:
    store_release(c);
    return rc;
}

int store_schema_version(struct store *st)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    bool exists = false;
    int rc = store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    rc = c->be->table_exists(c, "schema_migrations", &exists);
    if (rc != STORE_OK || !exists)
        goto out;
    rc = store_prepare(c, "SELECT MAX(version) FROM schema_migrations", &s);
    if (rc != STORE_OK)
        goto out;
    rc = store_step(s);
    if (rc == STORE_ROW) {
        int64_t v = store_col_int64(s, 0); /* MAX of no rows is NULL, read as 0 */
        rc = v >= 0 && v <= INT32_MAX ? (int)v : STORE_ERR;
    } else if (rc == STORE_DONE) {
        rc = STORE_ERR;
    }
out:
    if (rc < 0)
        store_be_error("store_schema_version: %s", store_errmsg(c));
    store_finish(s);
    store_release(c);
    return rc;
}
