/* idem — idempotent submissions (ZY1 step 14, spec v1.1 amendment 4).
 *
 * When a payload carries `cseq`, the answer to (dev, TX, cseq) is stored and
 * a retry (a double tap, or a resend after a lost answer, also after a
 * restart) gets the stored answer again: nothing runs twice. The answer is
 * stored as the caller gives it: the pipeline seals it under the KEK first
 * (it may hold a device secret or a session id), so this module only keeps
 * opaque bytes (table tx_answers).
 *
 * Two ways to use it, by how the transaction's work commits:
 *
 *  - Work in one database transaction (most TXs): idem_get, then the work,
 *    then idem_put, all inside one store_run. Two concurrent duplicates
 *    serialise on the database (SQLite's write lock); on a backend where both
 *    reach idem_put, the loser's INSERT fails with STORE_CONSTRAINT, which the
 *    caller returns as STORE_BUSY so that store_run retries and idem_get then
 *    finds the winner's answer.
 *
 *  - Work that commits in several transactions of its own (LOGIN and
 *    PASSWORD_CHANGE, which must persist a counted wrong password): first
 *    idem_claim in a transaction of its own. IDEM_NEW: this request holds the
 *    claim, runs the work, then stores the answer with idem_finish, or
 *    drops the claim with idem_release if the work failed. IDEM_PENDING: a
 *    concurrent duplicate holds it; poll idem_get until the answer is there.
 *    A claim older than stale_ms is taken over (its holder died), and so is
 *    one this process abandoned (idem_abandon: the work failed and so did
 *    dropping the claim, e.g. the database was down), so that a retry on
 *    this node runs again at once instead of waiting for it to go stale.
 *
 * Stored answers die with the device's binding: idem_drop_device() when the
 * device is unbound or activated again, so an old cseq runs again after.
 *
 * Return codes: the store_rc values of data/store.h, plus the enum below. */
#ifndef ZHANYE_IDEM_H
#define ZHANYE_IDEM_H

#include "data/store.h"

#include <stddef.h>
#include <stdint.h>

enum idem_rc {
    IDEM_NEW = 10,     /* idem_claim: the claim is ours */
    IDEM_DONE = 11,    /* an answer is stored: *answer is it */
    IDEM_PENDING = 12, /* idem_claim / idem_get: a duplicate is still running */
};

/* The stored answer of (dev, tx, cseq). IDEM_DONE with *answer (malloc'd,
 * *len bytes), IDEM_PENDING (claimed, no answer yet), STORE_DONE when there
 * is none, or an error. */
int idem_get(struct store_conn *c, const char *dev, const char *tx, const char *cseq,
             uint8_t **answer, size_t *len);
/* The same, ignoring a row stored before since_ms (as if there were none):
 * for the answers of read-only TXs, which the journal may write after the
 * device was unbound or activated again (channel/nonce_db.h). */
int idem_get_since(struct store_conn *c, const char *dev, const char *tx, const char *cseq,
                   int64_t since_ms, uint8_t **answer, size_t *len);
/* Stores an answer (state done). STORE_OK, STORE_CONSTRAINT if a row exists. */
int idem_put(struct store_conn *c, int64_t bank_id, const char *dev, const char *tx,
             const char *cseq, const uint8_t *answer, size_t len, int64_t now_ms);
/* Inside a transaction: IDEM_NEW (claimed), IDEM_DONE (*answer set),
 * IDEM_PENDING, or an error. */
int idem_claim(struct store_conn *c, int64_t bank_id, const char *dev, const char *tx,
               const char *cseq, int64_t now_ms, int64_t stale_ms, uint8_t **answer, size_t *len);
/* The claim's answer: STORE_OK, or STORE_DONE if the claim is gone (taken over). */
int idem_finish(struct store_conn *c, const char *dev, const char *tx, const char *cseq,
                const uint8_t *answer, size_t len);
/* Drops a pending claim (the work failed and wrote nothing). */
int idem_release(struct store_conn *c, const char *dev, const char *tx, const char *cseq);
/* Notes in this process that its claim on (dev, tx, cseq) is dead: the work
 * failed and idem_release failed too. The next idem_claim of the same key
 * here takes it over whatever its age. Bounded memory (the oldest notes go
 * first); safe from any thread. */
void idem_abandon(const char *dev, const char *tx, const char *cseq);
/* Drops every stored answer and claim of dev; *n (may be NULL) gets how many. */
int idem_drop_device(struct store_conn *c, const char *dev, int64_t *n);

#endif
