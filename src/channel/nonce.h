/* nonce — ZY1's anti-replay memory (spec steps 8 and 11).
 *
 * Remembers (dev, nonce) pairs for keep_ms (at least twice the timestamp
 * window, so an envelope that is still inside the window is always still
 * remembered). nonce_seen() is the cheap early check before any SM2 work;
 * nonce_record() is the atomic insert after the MAC has been verified: of
 * any number of concurrent requests with the same pair exactly one gets
 * NONCE_OK. In-process (sharded hash with expiry); with nonce_share() the
 * nodes of a province also share the pairs through Redis, so an envelope
 * taken by one node is refused by every other at once. */
#ifndef ZHANYE_NONCE_H
#define ZHANYE_NONCE_H

#include <stdbool.h>
#include <stdint.h>

#define NONCE_DEV_LEN 16 /* decoded device id */
#define NONCE_LEN 16

enum nonce_rc {
    NONCE_OK = 0,
    NONCE_REPLAY = 1,
    NONCE_ERR = -1,
    NONCE_UNAVAILABLE = -2, /* shared: Redis did not answer; nothing recorded (503) */
};

struct nonce_store;
struct redis;

int nonce_mem_open(int64_t keep_ms, struct nonce_store **out);
void nonce_close(struct nonce_store *ns);
/* True if the pair was recorded and has not expired. */
bool nonce_seen(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                const uint8_t nonce[NONCE_LEN], int64_t now_ms);
/* From now on nonce_record() first records each pair in Redis as the key
 * "n:" + dev as 32 lowercase hex + ":" + nonce as 32 lowercase hex (after
 * r's prefix), value "1", SET NX PX keep_ms: the pair is taken by the
 * first node to record it. Call once, after nonce_db_restore() (the pairs
 * restored from the database stay local) and before any request; r
 * outlives ns. */
void nonce_share(struct nonce_store *ns, struct redis *r);
/* Records the pair: NONCE_OK; NONCE_REPLAY if it is already there (here,
 * or shared: in Redis); NONCE_UNAVAILABLE (shared only) when Redis cannot
 * say, and then the pair is not recorded anywhere; NONCE_ERR (no memory). */
/* nonce_record that also gives, when shared through Redis, the cluster's
 * change generation read in the same round trip (REDIS_KEY_CHANGES; 0 when
 * not shared or never bumped). cluster_gen may be NULL. */
int nonce_record_gen(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                     const uint8_t nonce[NONCE_LEN], int64_t now_ms, uint64_t *cluster_gen);
int nonce_record(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                 const uint8_t nonce[NONCE_LEN], int64_t now_ms);
/* Pairs currently remembered (for metrics). */
int64_t nonce_count(struct nonce_store *ns);

#endif
