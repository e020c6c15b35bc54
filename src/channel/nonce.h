/* nonce — ZY1's anti-replay memory (spec steps 8 and 11).
 *
 * Remembers (dev, nonce) pairs for keep_ms (at least twice the timestamp
 * window, so an envelope that is still inside the window is always still
 * remembered). nonce_seen() is the cheap early check before any SM2 work;
 * nonce_record() is the atomic insert after the MAC has been verified: of
 * any number of concurrent requests with the same pair exactly one gets
 * NONCE_OK. Behind an interface: in-process (sharded hash with expiry) for
 * the embedded default; a Redis backend (SET NX PX) comes later. */
#ifndef ZHANYE_NONCE_H
#define ZHANYE_NONCE_H

#include <stdbool.h>
#include <stdint.h>

#define NONCE_DEV_LEN 16 /* decoded device id */
#define NONCE_LEN 16

enum nonce_rc { NONCE_OK = 0, NONCE_REPLAY = 1, NONCE_ERR = -1 };

struct nonce_store;

int nonce_mem_open(int64_t keep_ms, struct nonce_store **out);
void nonce_close(struct nonce_store *ns);
/* True if the pair was recorded and has not expired. */
bool nonce_seen(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                const uint8_t nonce[NONCE_LEN], int64_t now_ms);
/* Records the pair; NONCE_REPLAY if it is already there. */
int nonce_record(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                 const uint8_t nonce[NONCE_LEN], int64_t now_ms);
/* Pairs currently remembered (for metrics). */
int64_t nonce_count(struct nonce_store *ns);

#endif
