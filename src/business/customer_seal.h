/* customer_seal — customer data at rest: sealed under the KEK, found by
 * keyed hashes, so that a copy of the database (a backup, a replica, a
 * DBA's query) shows no ID number, phone number, address or household.
 *
 * Why sealed and not plain with masking on output: the auditors' question
 * is who can read the ID numbers of a bank's customers. Plain columns answer
 * "everyone with the database"; sealed ones answer "the server holding the
 * KEK (DATA/keys/kek, never in the database), and every read through it is
 * CUSTOMER_GET, which is audited".
 *
 * Lookup key. An exact search by ID number or phone cannot decrypt every
 * row, so each such identifier also gets a blind index
 *     hex(HMAC-SM3(K_idx, "<bank_id>|<what>|<value>")),
 *     K_idx = HMAC-SM3(KEK mac subkey, "zhanye customer index v1"),
 * what being "person" (ID number), "business" (USCC) or "phone". Without
 * the KEK the index cannot be computed (no dictionary of the 10^10 or so
 * plausible ID numbers can be run against it), and the bank id in it makes
 * the same person's index differ between banks: rows of two banks (two
 * shards) cannot be linked by it.
 *
 * Sealing is kek_seal (identity/kek.h: SM4-CBC + HMAC-SM3, encrypt then
 * MAC) of JSON text under a context naming the row ("cust|<bank>|<id>",
 * see customer_db.h), so a sealed value copied to another row or bank does
 * not open. Plaintext buffers are wiped before they are freed.
 *
 * Returns CS_OK, CS_CORRUPT (a sealed value does not open: tampered, moved,
 * or another KEK), or CS_ERR (memory, the crypto library, bad arguments). */
#ifndef ZHANYE_CUSTOMER_SEAL_H
#define ZHANYE_CUSTOMER_SEAL_H

#include "identity/kek.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum { CS_ERR = -1, CS_OK = 0, CS_CORRUPT = 1 };

#define CS_INDEX_HEX 64
#define CS_CONTEXT_MAX 96

/* The blind index of value (see above) into out. */
int cs_index(const struct kek *k, int64_t bank_id, const char *what, const char *value,
             char out[CS_INDEX_HEX + 1]);

/* Seals the compact JSON of j under context: *out malloc'd (*n bytes). */
int cs_seal_json(const struct kek *k, const char *context, const json_t *j, uint8_t **out,
                 size_t *n);
/* Opens what cs_seal_json sealed under context into *out (a new reference). */
int cs_open_json(const struct kek *k, const char *context, const uint8_t *in, size_t n,
                 json_t **out);

#endif
