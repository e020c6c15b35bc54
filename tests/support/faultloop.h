/* faultloop — test support: SQLite-style fault loops over a write path.
 *
 * For one operation on one prepared database (the template), and for each
 * fault mode (error once, busy once, busy for ever, out of memory for
 * ever), faultloop_run() runs the operation with the store failing at its
 * Nth counted call (data/store_fault.h), for N = 1, 2, 3 ... until a run
 * completes without meeting the fault. Every run starts from a fresh copy
 * of the template, on a store reopened through the "fault" backend, at the
 * same test-clock time. After every run it checks that
 *   - no transaction is left open (the write lock is free) and no
 *     statement is left unfinished;
 *   - the audit chain verifies (audit_verify);
 *   - a failed run left the database exactly as it was before the run (a
 *     dump of every row of every table, tests/support/dbsnap.h);
 *   - a successful run (the fault missed, or a busy was retried) has the
 *     same outcome and database as a fault-free run (for an operation
 *     whose answer is stored apart, answer_table, possibly without that
 *     answer). Two fault-free
 *     reference runs two test-clock minutes apart tell which cells hold
 *     times and random values, which are not compared (dbsnap_like);
 *   - the process is still usable after a failure: the same operation run
 *     again, fault-free, on the same store and connections, gives the
 *     reference outcome (catches a connection left in a transaction, a
 *     statement left mid-step, an in-memory copy gone stale).
 * that a failed run reported a failure, not a wrong verdict (see run),
 * and, when every transaction of the operation goes through store_run
 * (op->retried), that a one-shot STORE_BUSY met inside a transaction was
 * retried: the run succeeded. Leaks are ASan's (detect_leaks=1).
 * A failed check ends the test with a message naming the operation, the
 * mode, N, the failing call ("call 7: step (STORE_BUSY) in a transaction;
 * last SQL: UPDATE ...") and what differed. */
#ifndef ZHANYE_FAULTLOOP_H
#define ZHANYE_FAULTLOOP_H

#include "data/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct faultloop;

enum { FAULTOP_OK = 0, FAULTOP_FAILED = 1, FAULTOP_WRONG = -1 };

/* The operation under test. ctx is the test's own. */
struct faultop {
    const char *name;
    /* Runs the operation once and describes its outcome in out: codes and
     * ids, deterministically (no times or random values). Returns
     * FAULTOP_OK for the expected outcome, FAULTOP_FAILED for a failure
     * that reports the store's trouble as such (a negative store status,
     * an "internal" or "unavailable" answer), FAULTOP_WRONG for any other
     * outcome: a store failure passed off as a verdict ("not found", "bad
     * password", "session invalid") is a bug the loop reports. */
    int (*run)(struct faultloop *fl, void *ctx, char *out, size_t cap);
    /* Called after the store was opened (and before it is closed) for
     * every run: takes connections, opens what sits on the store. May be
     * NULL. open returns 0 on success. */
    int (*open)(struct faultloop *fl, void *ctx);
    void (*close)(struct faultloop *fl, void *ctx);
    /* Every transaction of the operation runs through store_run. */
    bool retried;
    /* NULL, or the table the operation stores its answer in, in a last
     * transaction of its own after its work has committed (the ZY1
     * pipeline's own_transaction handlers, channel/tx.h): a run that
     * succeeds may then also leave exactly the fault-free run's database
     * without the rows it added to that table (the answer was sent but
     * not stored for a retry). */
    const char *answer_table;
};

struct faultloop {
    char db[512];   /* the database the runs use */
    char tmpl[528]; /* its template: db + ".tmpl" */
    int pool;       /* connections of the fault store */
    struct store *st;
    int64_t t0; /* the test-clock time every run starts at */
    /* Counts of the last faultloop_run, for the test's own assertions. */
    long calls;      /* counted store calls of a fault-free run */
    long runs;       /* runs with a fault */
    long retried;    /* runs that met a one-shot busy and succeeded */
    long unanswered; /* runs that succeeded without storing their answer */
    long stmts0;     /* private: statements open when the run started */
};

/* Takes the database at db_path (no connection may have it open) as the
 * template. 0 on success. */
int faultloop_init(struct faultloop *fl, const char *db_path, int pool);
/* Runs the loops; fails the current cmocka test on the first broken check.
 * Leaves the store closed and the template in place of the database. */
void faultloop_run(struct faultloop *fl, const struct faultop *op, void *ctx);
/* Sets the test clock so that clock_wall_ms() reads t now. */
void faultloop_clock(int64_t t);
/* Removes the template. */
void faultloop_done(struct faultloop *fl);

#endif
