/* answer_cache — copies of stored ZY1 answers in Redis: the cseq fast path
 * (ZY1 step 14; channel/idem.h keeps the answers themselves).
 *
 * A retry of an answered cseq (a double tap, a resend after a lost answer)
 * is served from the copy without a database transaction. The database
 * (tx_answers) stays the system of record: a copy is written only after
 * the transaction that stored the answer committed (or when an answer is
 * found there), nothing acknowledged exists only here, and a miss or Redis
 * not answering falls back to the database.
 *
 * What is copied is what idem stores: the answer sealed under the KEK by
 * the caller, who opens a copy with the same KEK context as a stored
 * answer (dev, TX, cseq), so a copy put under another key does not open.
 * Never plaintext.
 *
 * Key: "a:" DEV ":" BIND ":" TX ":" CSEQ (after the client's prefix), value
 * the sealed bytes, PX ttl. BIND is 16 hex digits of HMAC-SM3 keyed by the
 * binding's device secret DS over a fixed label: one-way (it tells nothing
 * of DS), and new at every activation, since each issues a new DS. So the
 * copies of an earlier binding, whose stored answers idem_drop_device
 * dropped with it (unbind, revoke, re-activation), are never found again
 * and expire with their TTL: nothing has to reach Redis when a binding
 * ends (the CLI has no Redis client; Redis may be down then), and a
 * request only ever finds copies made under the DS that verified its MAC.
 *
 * Bounds: a copy larger than ANSWER_CACHE_MAX bytes is not written. Safe
 * from any thread (data/redis.h). */
#ifndef ZHANYE_ANSWER_CACHE_H
#define ZHANYE_ANSWER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANSWER_CACHE_MAX (1u << 20)
#define ANSWER_CACHE_DS_LEN 32

struct redis;
struct answer_cache;

enum answer_cache_rc {
    ANSWER_HIT = 0,          /* *sealed holds the copy */
    ANSWER_MISS = 1,         /* no copy (never written, expired, another binding) */
    ANSWER_UNAVAILABLE = -2, /* Redis did not answer, or out of memory: ask the database */
};

/* Whose answer: the device, its binding's DS, the TX and the cseq. */
struct answer_key {
    const char *dev;   /* 32 lowercase hex digits */
    const uint8_t *ds; /* ANSWER_CACHE_DS_LEN bytes, secret */
    const char *tx;    /* the TX code */
    const char *cseq;  /* [A-Za-z0-9_-]{1,64} */
};

/* The cache on r with copies kept ttl_s seconds. r NULL or ttl_s <= 0: the
 * cache is off and *out is NULL (every call below accepts NULL: get misses,
 * put does nothing). 0, or -1 (out of memory). */
int answer_cache_open(struct redis *r, int64_t ttl_s, struct answer_cache **out);
/* NULL is a no-op; r must outlive the cache. */
void answer_cache_close(struct answer_cache *ac);
/* True when the cache is on. */
bool answer_cache_on(const struct answer_cache *ac);

/* The copy of k's answer: ANSWER_HIT with *sealed (malloc'd, *len bytes;
 * the caller frees), ANSWER_MISS, or ANSWER_UNAVAILABLE. */
int answer_cache_get(struct answer_cache *ac, const struct answer_key *k, uint8_t **sealed,
                     size_t *len);
/* Writes the copy of k's committed answer (sealed, len bytes). A failure
 * only logs (answer_cache.write_failed, at most once a second) and counts
 * zhanye_tx_answer_cache_write_failures_total: the database has it. */
void answer_cache_put(struct answer_cache *ac, const struct answer_key *k, const uint8_t *sealed,
                      size_t len);
/* Deletes k's copy (one that did not open under the KEK); failures ignored. */
void answer_cache_drop(struct answer_cache *ac, const struct answer_key *k);

#endif
