/* store_backend — the private seam between store.c and one database backend.
 *
 * Not for callers of the store: they use data/store.h only. A backend
 * (store_sqlite.c now, store_mariadb.c later) fills one `struct
 * store_backend` and embeds `struct store_conn` / `struct store_stmt` as the
 * FIRST member of its own connection and statement structs, so store.c can
 * dispatch through c->be without knowing the backend's layout.
 *
 * store.c checks arguments for NULL before dispatching, so backend
 * functions may assume non-NULL connection, statement and SQL pointers.
 * Every backend function reports failure as an enum store_rc and leaves a
 * message for its errmsg(). */
#ifndef ZHANYE_STORE_BACKEND_H
#define ZHANYE_STORE_BACKEND_H

#include "data/store.h"

struct store_backend;

struct store_conn {
    const struct store_backend *be;
    struct store *owner;          /* the pool this connection returns to */
    struct store_conn *next_free; /* pool free list; owned by store.c */
    bool in_txn;                  /* between a successful begin and commit/rollback */
    bool replica;                 /* opened with open_read: a replica's, reads only */
    int last_err;                 /* store_last_error; owned by store.c */
    unsigned dirty;               /* store_tag bits marked in the open transaction */
};

struct store_stmt {
    struct store_conn *conn;
    /* The statement cache's (store_cache.c); a backend leaves them alone. */
    char *cache_sql; /* the cache key (owned); NULL: not cached, freed at finish */
    uint64_t cache_hash;
    bool in_use;
    struct store_stmt *cache_next;
};

/* ---- the per-connection statement cache both backends keep --------------
 *
 * A connection keeps up to STORE_CACHE_MAX prepared statements keyed by
 * their SQL text, so a statement the code runs again is not parsed again;
 * SQL built at run time cannot grow it forever: statements beyond the bound
 * are prepared and freed per use. A cached statement is lent to one user at
 * a time (in_use); a second user of the same text while it is lent gets a
 * statement of its own, uncached. Not thread-safe: a connection has one user. */
#define STORE_CACHE_MAX 256
#define STORE_CACHE_BUCKETS 64

struct store_cache {
    struct store_stmt *buckets[STORE_CACHE_BUCKETS];
    int n;
};

uint64_t store_cache_hash(const char *sql);
/* A cached statement of sql (hash h) that is not lent, now lent; or NULL. */
struct store_stmt *store_cache_take(struct store_cache *k, const char *sql, uint64_t h);
/* After a successful prepare of sql: lends s and caches it if there is room
 * (a failed copy of the key only leaves it uncached). */
void store_cache_admit(struct store_cache *k, struct store_stmt *s, const char *sql, uint64_t h);
/* At finish: true if s is cached (now free for the next user), false if it
 * is not and the backend must free it. */
bool store_cache_release(struct store_stmt *s);
/* True if a cached statement is lent. */
bool store_cache_busy(const struct store_cache *k);
/* Frees every cached statement with free_stmt (after dropping its key). */
void store_cache_clear(struct store_cache *k, void (*free_stmt)(struct store_stmt *s));

struct store_backend {
    const char *name; /* the value of store_config.backend that selects it */
    /* Opens one connection; on failure describes it with store_be_error(). */
    int (*open)(const struct store_config *cfg, struct store_conn **out);
    void (*close)(struct store_conn *c);
    /* Makes a returned connection clean for its next user: rolls back a
     * transaction the previous user left open. */
    void (*reset)(struct store_conn *c);
    int (*begin)(struct store_conn *c);
    int (*commit)(struct store_conn *c);
    int (*rollback)(struct store_conn *c);
    int (*exec)(struct store_conn *c, const char *sql);
    int (*prepare)(struct store_conn *c, const char *sql, struct store_stmt **out);
    int (*bind_text)(struct store_stmt *s, int idx, const char *v);
    int (*bind_int64)(struct store_stmt *s, int idx, int64_t v);
    int (*bind_blob)(struct store_stmt *s, int idx, const void *v, size_t n);
    int (*bind_null)(struct store_stmt *s, int idx);
    int (*step)(struct store_stmt *s);
    const char *(*col_text)(struct store_stmt *s, int col);
    int64_t (*col_int64)(struct store_stmt *s, int col);
    const void *(*col_blob)(struct store_stmt *s, int col, size_t *len);
    bool (*col_is_null)(struct store_stmt *s, int col);
    int (*col_count)(struct store_stmt *s);
    enum store_type (*col_type)(struct store_stmt *s, int col);
    void (*finish)(struct store_stmt *s);
    int64_t (*last_insert_id)(struct store_conn *c);
    int64_t (*changes)(struct store_conn *c);
    const char *(*errmsg)(struct store_conn *c);
    /* Sets *exists; the catalogue query differs per backend. */
    int (*table_exists)(struct store_conn *c, const char *table, bool *exists);
    /* Takes (take) or gives back the database-wide lock that serialises
     * migrations of several processes, where a transaction cannot (DDL
     * commits implicitly on MariaDB). NULL: the write transaction of each
     * migration is enough (SQLite). */
    int (*schema_lock)(struct store_conn *c, bool take);
    /* Replicas (NULL: the backend has none). open_read makes a connection to
     * a read-only server; one that cannot connect now is still made and
     * tries again later (so a replica that comes back is used again).
     * position writes the primary's replication position (c: a primary
     * connection) as text; catch_up waits up to wait_ms until c's replica
     * has applied position: STORE_OK, or STORE_BUSY (lagging, stopped,
     * unreachable). */
    int (*open_read)(const struct store_config *cfg, struct store_conn **out);
    int (*position)(struct store_conn *c, char *out, size_t cap);
    int (*catch_up)(struct store_conn *c, const char *position, int wait_ms);
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_mariadb;

/* Adds a backend that store_open() selects by its name, beside the built-in
 * ones (sqlite). For backends that live outside the core library: the
 * test-only fault-injecting backend (data/store_fault.h) registers itself
 * with it; the production binary registers nothing. Call it before the
 * store_open() that names the backend (a constructor is fine); be must stay
 * valid for the life of the process. STORE_OK, or STORE_ERR if be or its
 * name is NULL, the name is taken, or the table (8 entries) is full. */
int store_register_backend(const struct store_backend *be);

/* Records a message for failures that have no connection to carry it
 * (store_open, store_migrate); read back with store_errmsg(NULL).
 * Per thread. Long messages end in "..." rather than being cut silently. */
void store_be_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* snprintf into buf that marks truncation with a trailing "...". */
void store_be_format(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
