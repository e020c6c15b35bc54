/* dbsnap — test support: every row of every table of a SQLite database, to
 * prove that a failed write left nothing behind.
 *
 * A snapshot is read through a read-only SQLite connection of its own, so it
 * sees exactly what is committed, whatever the store's connections (and a
 * fault injected into them) are doing. Tables come in name order (SQLite's
 * own sqlite_* tables left out), rows in rowid order (insertion order on a
 * database that started from the same file), each cell as SQL quote() text,
 * so NULL, integers, text and blobs all compare exactly.
 *
 * Table replay_nonces is left out: a consumed envelope stays consumed
 * whatever happened to its work (spec step 11), so a failed request may
 * rightly leave its nonce recorded. */
#ifndef ZHANYE_DBSNAP_H
#define ZHANYE_DBSNAP_H

#include <stdbool.h>
#include <stddef.h>

struct dbsnap;

/* NULL on failure, with the reason on stderr. */
struct dbsnap *dbsnap_take(const char *db_path);
void dbsnap_free(struct dbsnap *s);
/* Rows of table in the snapshot, or -1 if it has no such table. */
long dbsnap_rows(const struct dbsnap *s, const char *table);
/* Rows of table whose column col holds the SQL quote() text value (e.g.
 * "'pending'"); -1 if there is no such table or column. */
long dbsnap_count(const struct dbsnap *s, const char *table, const char *col, const char *value);

/* True if a and b hold the same tables, columns, rows and cells; else
 * false with the first difference described in why. */
bool dbsnap_equal(const struct dbsnap *a, const struct dbsnap *b, char *why, size_t cap);
/* Compares a run's snapshot with the outcome of a fault-free run. ref1 and
 * ref2 are two fault-free runs from the same starting file, made at
 * different (test-clock) times: a cell that differs between them holds a
 * time or a random value (a token, a salt, a hash over a timestamp) and is
 * not compared; every other cell, and the shape (tables, columns, row
 * counts), must be the same in run as in ref1. False with why otherwise. */
bool dbsnap_like(const struct dbsnap *run, const struct dbsnap *ref1, const struct dbsnap *ref2,
                 char *why, size_t cap);

/* The same as dbsnap_like, except that table is compared with base's
 * (exactly) instead: "the fault-free outcome without what it added to
 * table". */
bool dbsnap_like_but(const struct dbsnap *run, const struct dbsnap *ref1, const struct dbsnap *ref2,
                     const struct dbsnap *base, const char *table, char *why, size_t cap);

/* True if no connection holds the database's write lock now (a BEGIN
 * IMMEDIATE on a connection of its own succeeds at once): a write path
 * must not leave a transaction open behind it. */
bool dbsnap_unlocked(const char *db_path);
/* Copies the file from to the file to (replacing it) and removes to's
 * -wal and -shm files: restores a database that no connection has open. 0
 * on success. */
int dbsnap_copy_db(const char *from, const char *to);

#endif
