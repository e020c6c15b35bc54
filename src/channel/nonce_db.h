/* nonce_db — the durable half of ZY1's anti-replay memory (spec steps 8 and
 * 11, v1.1 amendment 3: they hold across a restart of the server).
 *
 * The in-process nonce store (nonce.h) answers every check; this module
 * keeps the same (dev, nonce) pairs in the database (table replay_nonces)
 * until they expire, and loads them back into a new process before it
 * serves. Where a record is written decides what survives a crash:
 *
 *  - A transaction that changes anything records its nonce with
 *    nonce_db_insert() inside the very database transaction of its work: the
 *    work and the nonce commit together or not at all, so no crash can let
 *    the same envelope change anything twice. STORE_CONSTRAINT from the
 *    insert means another process recorded the pair first: a replay.
 *  - A transaction that only reads hands its nonce to the journal
 *    (nonce_journal_add), a background thread that writes the pairs in
 *    batches (one database transaction every few milliseconds) so reads take
 *    no write lock and wait for no disk. On a clean stop the journal is
 *    flushed; after a crash (power loss, SIGKILL) the pairs of at most the
 *    last flush interval are lost, so such a read-only envelope could run
 *    once more within its time window: it changes nothing, and only the
 *    device that sealed it can read the answer.
 *
 * Expired rows are deleted by the journal thread (every PURGE_EVERY_MS).
 *
 * The journal also stores the answers of read-only TXs that carry a cseq
 * (spec step 14): a retry must get the same answer, but nothing such a TX
 * did needs to be on disk before it answers, so it costs no transaction of
 * its own (and no wait for the disk). nonce_journal_answer_put queues the
 * sealed answer, which the next batch writes with idem_put on the store the
 * caller names (the directory, or the bank's shard); until then
 * nonce_journal_answer_get finds it, so a retry that arrives meanwhile gets
 * it too. Of two concurrent duplicates, the first queued is the answer of
 * both. A crash loses the answers of at most the last flush interval: a
 * retry of one of them runs the read again. */
#ifndef ZHANYE_NONCE_DB_H
#define ZHANYE_NONCE_DB_H

#include "channel/nonce.h"
#include "data/store.h"

#include <stdint.h>

#define NONCE_JOURNAL_FLUSH_MS 50
#define NONCE_JOURNAL_MAX 65536 /* queued pairs; beyond, callers insert themselves */

/* Records (dev as 32 lowercase hex, nonce) until expires_ms, in the caller's
 * transaction. STORE_OK, STORE_CONSTRAINT if already recorded, or an error. */
int nonce_db_insert(struct store_conn *c, const char *dev, const uint8_t nonce[NONCE_LEN],
                    int64_t expires_ms);
/* Loads every unexpired pair into ns (oldest first). *loaded gets how many. */
int nonce_db_restore(struct store *st, struct nonce_store *ns, int64_t keep_ms, int64_t now_ms,
                     int64_t *loaded);

struct nonce_journal;

/* Starts the journal thread on st. 0, or -1. */
int nonce_journal_open(struct store *st, struct nonce_journal **out);
/* Queues a pair. 0, or -1 when the queue is full or closing (the caller then
 * records it with nonce_db_insert in a transaction of its own). */
int nonce_journal_add(struct nonce_journal *j, const char *dev, const uint8_t nonce[NONCE_LEN],
                      int64_t expires_ms);
/* A read-only TX's stored answer, sealed (see above). dev, tx and cseq as
 * the request names them; created_ms when it was made. */
struct journal_answer {
    struct store *st; /* where idem_get looks for it; alive as long as the journal */
    int64_t bank_id;
    const char *dev, *tx, *cseq;
    const uint8_t *sealed;
    size_t len;
    int64_t created_ms;
};

#define NONCE_JOURNAL_ANSWERS_MAX 4096 /* queued answers; beyond, callers store them */

/* Queues a copy of a unless an answer of the same (dev, tx, cseq) made at or
 * after since_ms is queued already. 0: queued; 1: one was, *winner is a
 * malloc'd copy of it (*winner_len bytes), to be answered instead; -1: the
 * queue is full or closing, or out of memory (the caller stores it itself). */
int nonce_journal_answer_put(struct nonce_journal *j, const struct journal_answer *a,
                             int64_t since_ms, uint8_t **winner, size_t *winner_len);
/* The queued answer of (dev, tx, cseq) made at or after since_ms: 1 with
 * *sealed (malloc'd, *len bytes), or 0 (none queued, or out of memory). */
int nonce_journal_answer_get(struct nonce_journal *j, const char *dev, const char *tx,
                             const char *cseq, int64_t since_ms, uint8_t **sealed, size_t *len);
/* Waits until everything queued so far is written (tests, shutdown). */
void nonce_journal_flush(struct nonce_journal *j);
/* Flushes, stops the thread, frees. NULL is a no-op. */
void nonce_journal_close(struct nonce_journal *j);

#endif
