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
 *  - A read-only transaction whose envelope was sealed no later than the
 *    moment the process accepted it (ts <= accepted_ms: every envelope of a
 *    client whose clock agrees with ours, as sealing precedes sending) needs
 *    no record at all: the pair is kept in memory, and the process's accept
 *    time goes to nonce_journal_vouch. A new process refuses read-only
 *    envelopes sealed before nonce_db_reads_from() (401 stale: the client
 *    seals again), which is after the accept time of every such envelope the
 *    old process took: the new one's start, or, if the clock stepped back
 *    across the restart, the last vouched accept time + 1 ms (table
 *    replay_epoch, written by the journal thread with its batches and at
 *    least every second while reads come in). The one case left: a crash
 *    AND a clock stepping back lose at most the last second's vouchers.
 *  - Anything else that commits no transaction of its own (a read-only
 *    envelope sealed in our future, every refusal after step 11) hands its
 *    nonce to the journal (nonce_journal_add), a background thread that
 *    writes the pairs in batches (one database transaction every few
 *    milliseconds) so they take no write lock and wait for no disk. On a
 *    clean stop the journal is flushed; after a crash (power loss, SIGKILL)
 *    the pairs of at most the last flush interval are lost, so such an
 *    envelope could run once more within its time window: nothing it did
 *    committed, and only the device that sealed it can read the answer.
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
/* The time (Unix ms) from which this process vouches for the nonces of
 * read-only envelopes it keeps in memory only: max(now_ms, the last vouched
 * accept time + 1) into *from_ms. STORE_OK, or an error (*from_ms = now_ms). */
int nonce_db_reads_from(struct store *st, int64_t now_ms, int64_t *from_ms);
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
/* A read-only envelope with ts <= accepted_ms was accepted at accepted_ms
 * with its nonce in memory only (see above): the journal persists the
 * latest such time. Lock-free; NULL j is a no-op. */
void nonce_journal_vouch(struct nonce_journal *j, int64_t accepted_ms);
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
