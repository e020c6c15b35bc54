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
 * timeout); "mariadb" comes later behind the same functions.
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
    const char *backend; /* "sqlite" (also when NULL or ""); others fail with STORE_ERR */
    const char *path;    /* sqlite: database file */
    int pool_size;       /* connections kept open (>= 1) */
    int busy_timeout_ms; /* sqlite busy timeout */
};

struct store;
struct store_conn;
struct store_stmt;

int store_open(const struct store_config *cfg, struct store **out);
void store_close(struct store *st);
/* A cheap round trip (SELECT 1) for readiness checks. */
int store_ping(struct store *st);

/* Takes a connection, waiting if all are in use. store_release() rolls back
 * a transaction left open. store_close() waits until all are released. */
int store_acquire(struct store *st, struct store_conn **out);
void store_release(struct store_conn *c);

int store_begin(struct store_conn *c); /* immediate write transaction on sqlite */
int store_commit(struct store_conn *c);
int store_rollback(struct store_conn *c);

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
