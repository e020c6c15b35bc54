/* store_fault — TEST-ONLY fault injection for the store, in the manner of
 * SQLite's own test harness ("fail the Nth malloc", I/O-error loops).
 *
 * The backend "fault" wraps the SQLite backend: every connection is a real
 * SQLite connection, and every call is passed through, except that the Nth
 * counted call (and, when persistent, every counted call after it) fails
 * with a chosen status without reaching SQLite. A test loops N = 1, 2, 3 ...
 * over a write path until the path completes without meeting the fault, and
 * checks after each failing run that nothing was half-written.
 *
 * Counted calls are the ones that can fail: begin, commit, exec, prepare,
 * bind_* (text, int64, blob, null), step and table_exists. open, close,
 * reset, rollback, finish and the column readers are passed through
 * uncounted: they cannot report a failure, or (rollback) their failure is
 * ignored by every caller and a real backend's failed rollback ends in a
 * reset of the connection anyway. The count is process-wide (all
 * connections, all threads), so a loop counts exactly the calls of the code
 * it runs as long as nothing else uses a fault store meanwhile.
 *
 * After an injected failure store_errmsg(conn) reads "injected fault: ..."
 * until the next real failure on that connection.
 *
 * Not part of the production binary: store_fault.c is compiled only into
 * the tests' static library (tests/meson.build), linked whole, which
 * registers the backend with store_register_backend() before main() runs.
 * Select it with store_config.backend = STORE_FAULT_BACKEND. zhanye.conf
 * cannot name it (`[store] backend` accepts sqlite only). */
#ifndef ZHANYE_STORE_FAULT_H
#define ZHANYE_STORE_FAULT_H

#include <stdbool.h>
#include <stddef.h>

#define STORE_FAULT_BACKEND "fault"

/* The operations that count, for store_fault_arm_ops (a bit mask). */
enum store_fault_op {
    STORE_FAULT_BEGIN = 1 << 0,
    STORE_FAULT_COMMIT = 1 << 1,
    STORE_FAULT_EXEC = 1 << 2,
    STORE_FAULT_PREPARE = 1 << 3,
    STORE_FAULT_BIND = 1 << 4, /* all four bind_* */
    STORE_FAULT_STEP = 1 << 5,
    STORE_FAULT_TABLE_EXISTS = 1 << 6,
    STORE_FAULT_ALL = (1 << 7) - 1,
};

/* Starts a new count from zero: the nth counted call from now fails with
 * status (a negative enum store_rc: STORE_ERR, STORE_BUSY, STORE_CONSTRAINT,
 * STORE_NOMEM); with persistent, every counted call after it fails too.
 * n = 0 counts without ever failing (the fault-free run). */
void store_fault_arm(long n, int status, bool persistent);
/* The same, counting only the operations in ops (enum store_fault_op). */
void store_fault_arm_ops(unsigned ops, long n, int status, bool persistent);
/* Stops failing; the counters keep their values. */
void store_fault_disarm(void);
/* Counted calls since the last arm. */
long store_fault_calls(void);
/* Failures injected since the last arm (0: the run never met the fault). */
long store_fault_hits(void);
/* The first injected failure since the last arm, for test messages:
 * "call 7: step (STORE_BUSY) in a transaction; last SQL: UPDATE ...";
 * "" when none. */
void store_fault_describe(char *buf, size_t cap);
/* True if the first injected failure since the last arm hit a connection
 * inside a transaction, or its begin or commit. */
bool store_fault_hit_in_txn(void);
/* Statements prepared through the backend and not finished yet, over the
 * life of the process: 0 whenever no caller holds a statement. A path that
 * loses a statement on an error branch leaves it in use in the connection's
 * cache, with its read snapshot (a stale view of the database) held. */
long store_fault_open_statements(void);

#endif
