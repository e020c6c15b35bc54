/* store — the platform's only door to its database.
 *
 * A `struct store` is one database (a pool of connections); a thread takes a
 * `struct store_conn` with store_acquire() for the duration of one unit of
 * work and gives it back with store_release(). Statements use `?`
 * placeholders and the SQL subset that runs on both SQLite and MariaDB
 * (no AUTOINCREMENT, no INSERT OR REPLACE, no RETURNING; use
 * store_last_insert_id()). Prepared statements are cached per connection,
 * so preparing the same SQL text twice is cheap.
 *
 * Backends: "sqlite" (embedded default: WAL, synchronous=FULL, busy
 * timeout) and "mariadb" (store_mariadb.c: InnoDB, one writer at a time
 * through a lock row, the same SQL with a few type words rewritten in DDL).
 * Every function returns a status code from enum store_rc; nothing aborts. */
#ifndef ZHANYE_STORE_H
#define ZHANYE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_rc {
    STORE_OK = 0,
    STORE_ROW = 1,         /* store_step: a row is available */
    STORE_DONE = 2,        /* store_step: no more rows */
    STORE_ERR = -1,        /* any other failure; see store_errmsg() */
    STORE_BUSY = -2,       /* locked beyond the busy timeout */
    STORE_CONSTRAINT = -3, /* unique/foreign-key/check violation */
    STORE_NOMEM = -4,
};

struct store_config {
    const char *backend; /* "sqlite" (also when NULL or ""), "mariadb"; others: STORE_ERR */
    const char *path;    /* sqlite: database file */
    int pool_size;       /* connections kept open (>= 1) */
    int busy_timeout_ms; /* sqlite busy timeout; mariadb: innodb_lock_wait_timeout (s, >= 1) */
    /* How long store_acquire waits for a free connection before STORE_BUSY;
     * 0 = the default, STORE_ACQUIRE_DEFAULT_MS. */
    int acquire_timeout_ms;
    /* mariadb: "HOST:PORT[,HOST:PORT...]" (the writable one among them is
     * used), the database (created, utf8mb4 with binary collation, if it is
     * missing and the account may), the account and its password (read only
     * during store_open; the caller wipes it), the connect timeout (0: 2000). */
    const char *servers;
    const char *database;
    const char *user;
    const char *password;
    int connect_timeout_ms;
    /* mariadb: connections kept to replicas (read-only servers among
     * servers) for store_read_conn; 0: reads stay on the primary. How long
     * a replica may take to catch up before a read goes to the primary
     * instead (0: 100 ms). */
    int read_pool_size;
    int replica_wait_ms;
};

#define STORE_ACQUIRE_DEFAULT_MS 2000
/* How many times store_run calls its callback when the database answers busy. */
#define STORE_RUN_ATTEMPTS 3

struct store;
struct store_conn;
struct store_stmt;

int store_open(const struct store_config *cfg, struct store **out);
void store_close(struct store *st);
/* A cheap round trip (SELECT 1) for readiness checks. */
int store_ping(struct store *st);

/* Takes a connection, waiting up to the pool's acquire_timeout_ms if all
 * are in use: STORE_OK, or STORE_BUSY when none came free in time (callers
 * answer 503 `unavailable`; nothing waits forever). store_release() rolls
 * back a transaction left open. store_close() waits until all are released. */
int store_acquire(struct store *st, struct store_conn **out);
void store_release(struct store_conn *c);

/* ---- reads on replicas ------------------------------------------------------
 *
 * For a read outside any transaction that may run on a replica: *out gets a
 * replica's connection that has applied everything the primary had
 * committed when this was called (its position is read on c, a connection
 * of the primary outside a transaction; the replica waits for it up to
 * replica_wait_ms), so a client reads its own writes whichever node wrote
 * them. Otherwise *out = c: the store has no replica (SQLite, or none
 * configured), none is free or reachable, or none caught up in time (a
 * replica lagging beyond the bound is skipped). Always STORE_OK when c is
 * not NULL. A replica's connection refuses store_begin and store_run
 * (STORE_ERR). Give it back with store_release_read(c, *out), which does
 * nothing when *out is c. */
int store_read_conn(struct store_conn *c, struct store_conn **out);
void store_release_read(struct store_conn *c, struct store_conn *r);
/* True for a connection that store_read_conn took from a replica. */
bool store_conn_is_replica(const struct store_conn *c);

int store_begin(struct store_conn *c); /* immediate write transaction on sqlite */
int store_commit(struct store_conn *c);
int store_rollback(struct store_conn *c);

/* ---- the transaction runner ------------------------------------------------
 *
 * Every write transaction of the platform runs through store_run(), like GNU
 * Taler's TEH_DB_run_transaction: one place that begins, commits, rolls back
 * and retries, instead of a hand-written BEGIN/COMMIT at each call site.
 *
 * store_run(c, name, fn, arg) begins a write transaction on c (which must not
 * be inside one), calls fn(c, arg), and then:
 *   - fn returned STORE_OK (0): commits. A failed commit is treated like the
 *     same status returned by fn (a busy commit is retried).
 *   - fn returned STORE_BUSY (lock timeout, deadlock): rolls back and calls fn
 *     again, at most STORE_RUN_ATTEMPTS times in all, with a short growing
 *     pause; a BEGIN that is busy counts the same.
 *   - fn returned anything else (a negative store_rc, or a positive outcome of
 *     the caller's own enum such as "not found" or "wrong password"): rolls
 *     back and returns that value unchanged.
 * Returns STORE_OK after a commit, else the value above; STORE_ERR if c is
 * NULL or already inside a transaction (a nested store_run is a bug).
 *
 * The callback's contract:
 *   - it does all its database work on c, inside the transaction, and does
 *     not begin, commit or roll back itself;
 *   - it may be called more than once: before its first statement it resets
 *     whatever it writes into arg, and it has no effect outside the database
 *     (no log line claiming success, no answer sent, no counter bumped) that a
 *     retry would repeat or a rollback would make false; such effects belong
 *     to the caller, after store_run returned STORE_OK;
 *   - to keep an outcome and still commit (e.g. a wrong password is counted
 *     and the count must persist), it returns STORE_OK and reports the outcome
 *     through arg.
 * name labels the transaction in the log when it fails or is retried. */
typedef int (*store_txn_fn)(struct store_conn *c, void *arg);
int store_run(struct store_conn *c, const char *name, store_txn_fn fn, void *arg);
/* ---- change generations ---------------------------------------------------
 *
 * What a process caches from the database (e.g. device and session records on
 * the request path) is valid while the generation of its tag is unchanged.
 * A writer calls store_mark_changed(c, tag) after a write that could make
 * such a cache wrong; the tag's generation goes up when that write is
 * committed (at once outside a transaction; never for a rollback). A reader
 * takes store_generation() BEFORE it reads the database and keeps it with
 * what it caches: a write that commits in between makes it stale at once.
 * Only this process's writes are seen: writes of other processes (the CLI,
 * other nodes) need a time bound on the cache as well. */
enum store_tag { STORE_TAG_IDENTITY = 0, STORE_NTAGS };
void store_mark_changed(struct store_conn *c, enum store_tag tag);
uint64_t store_generation(struct store *st, enum store_tag tag);
/* fn(arg, tags) runs after every commit that raised generations (tags: a
 * bit per store_tag), on the committing thread, outside any transaction:
 * how a process tells the other nodes (e.g. a counter in Redis). Set it
 * once, before the store is shared between threads; NULL removes it. */
typedef void (*store_change_fn)(void *arg, unsigned tags);
void store_on_change(struct store *st, store_change_fn fn, void *arg);

/* The status of the latest call on c that failed (store_exec, store_prepare,
 * store_step) since c was acquired or its transaction began; 0 if none. For
 * a caller whose callee reports only "failed": STORE_BUSY then means the
 * database is out of reach or locked for now (answer `unavailable`, retry),
 * anything else a fault. */
int store_last_error(const struct store_conn *c);

/* True while c is inside a transaction begun by store_begin or store_run. */
bool store_in_txn(const struct store_conn *c);

/* Runs one or more statements without parameters (DDL, PRAGMA-free SQL). */
int store_exec(struct store_conn *c, const char *sql);

int store_prepare(struct store_conn *c, const char *sql, struct store_stmt **out);
int store_bind_text(struct store_stmt *s, int idx, const char *v); /* idx from 1; NULL binds NULL */
int store_bind_int64(struct store_stmt *s, int idx, int64_t v);
int store_bind_blob(struct store_stmt *s, int idx, const void *v, size_t n);
int store_bind_null(struct store_stmt *s, int idx);
int store_step(struct store_stmt *s);                      /* STORE_ROW, STORE_DONE or an error */
const char *store_col_text(struct store_stmt *s, int col); /* col from 0; NULL for SQL NULL */
int64_t store_col_int64(struct store_stmt *s, int col);
const void *store_col_blob(struct store_stmt *s, int col, size_t *len);
bool store_col_is_null(struct store_stmt *s, int col);
/* What a generic copy of rows needs (data/shard_move.c): the number of
 * columns of a statement's result (0 for one that returns none), and the
 * storage class of column col of the current row. */
enum store_type { STORE_T_NULL = 0, STORE_T_INT, STORE_T_TEXT, STORE_T_BLOB };
int store_col_count(struct store_stmt *s);
enum store_type store_col_type(struct store_stmt *s, int col);
/* Resets and returns the statement to the connection's cache. */
void store_finish(struct store_stmt *s);

int64_t store_last_insert_id(struct store_conn *c);
int64_t store_changes(struct store_conn *c);
/* Message of the connection's last failure. store_errmsg(NULL) gives the
 * calling thread's last failure that had no connection to carry it
 * (store_open, store_migrate, store_schema_version, seq_*). */
const char *store_errmsg(struct store_conn *c);
/* Name of a status code, for logs. */
const char *store_rc_name(int rc);

/* Applies every numbered migration not yet recorded in schema_migrations,
 * each in its own transaction. Returns STORE_OK or the failing status. */
int store_migrate(struct store *st);
/* Highest applied migration version (0 for an empty database), or < 0 on error. */
int store_schema_version(struct store *st);

#endif
