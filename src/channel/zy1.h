/* zy1 — the ZY1 protocol steps (spec/secure-channel.md), one function each,
 * because the server interleaves them with its own lookups:
 *
 *   step 2   zy1_envelope_parse + zy1_envelope_check_tx   (envelope.h)
 *   5-8      server: ts window, kid -> sm2_key, dev -> F, nonce not seen
 *   9-10     zy1_authenticate (= zy1_unwrap, zy1_derive, zy1_verify_mac)
 *   11       server: record the nonce
 *   12       zy1_decrypt_payload
 *   answer   zy1_seal_response
 *
 * and the client side: zy1_seal_request, then zy1_open_response (which
 * checks the MAC before it decrypts anything).
 *
 * Secrets (S, F, DS, derived keys) live only in caller-owned buffers that the
 * caller wipes (zy1_keys_wipe, zy1_call_wipe, secmem_wipe for F); every
 * temporary copy made here is wiped on every path. Unwrap and MAC failures
 * are both ZY1_BAD_MAC so that the caller cannot leak which one happened.
 * Returned texts are malloc'd and NUL-terminated; release them with free(). */
#ifndef ZHANYE_ZY1_H
#define ZHANYE_ZY1_H

#include "channel/envelope.h"
#include "channel/sm.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>

#define ZY1_F_LEN 32
#define ZY1_CSEQ_MAX 64
#define ZY1_SID_MAX 256
#define ZY1_NONCE_B64_LEN 24
#define ZY1_ACTIVATE_TX "DEVICE_ACTIVATE"

/* The spec's error code for a status ("bad_envelope", "bad_mac", ...). */
const char *zy1_status_code(zy1_status st);

/* Per-request keys. Kenc/Kmac protect the request, Renc/Rmac the response. */
typedef struct {
    uint8_t kenc[SM4_KEY_LEN];
    uint8_t kmac[SM3_LEN];
    uint8_t renc[SM4_KEY_LEN];
    uint8_t rmac[SM3_LEN];
} zy1_keys;

void zy1_keys_wipe(zy1_keys *k);

/* F for DEVICE_ACTIVATE: SM3("ZY1 act" || tlr || "|" || code), code as typed
 * (printable ASCII, 1..64 characters). The caller wipes F. */
zy1_status zy1_activation_factor(const char *tlr, const char *code, uint8_t F[ZY1_F_LEN]);

/* Step 9: S from ek in any of its three encodings; anything but exactly 32
 * bytes of S is ZY1_BAD_MAC. S is wiped on failure. */
zy1_status zy1_unwrap(const sm2_key *key, const uint8_t *ek, size_t ek_len, uint8_t S[ZY1_S_LEN]);
zy1_status zy1_derive(const uint8_t S[ZY1_S_LEN], const uint8_t F[ZY1_F_LEN], zy1_keys *k);

/* The MAC input M of a request as one text, for diagnostics and tests; the
 * verification itself streams M into the HMAC without building it. */
zy1_status zy1_mac_input(const char *tx, const zy1_envelope *env, char **out, size_t *len);
/* Step 10: HMAC(Kmac, M) compared in constant time with env->mac. */
zy1_status zy1_verify_mac(const char *tx, const zy1_envelope *env, const zy1_keys *k);
/* Steps 9 and 10 in one call; k is filled only on ZY1_OK (wiped otherwise).
 * A failed unwrap still derives and MACs (with S = 0) before it answers
 * ZY1_BAD_MAC, so neither the status nor the timing tells the two apart. */
zy1_status zy1_authenticate(const sm2_key *key, const char *tx, const zy1_envelope *env,
                            const uint8_t F[ZY1_F_LEN], zy1_keys *k);

/* The decrypted payload {"sid"?, "cseq"?, "data": {...}}; no other member. */
typedef struct {
    struct json_t *root; /* owns everything below */
    zy1_text sid;        /* p NULL when absent; printable ASCII, 1..256 */
    zy1_text cseq;       /* p NULL when absent; [A-Za-z0-9_-]{1,64} */
    struct json_t *data; /* borrowed from root; always an object */
} zy1_payload;

/* Step 12. Release p with zy1_payload_free whatever the status. */
zy1_status zy1_decrypt_payload(const zy1_envelope *env, const zy1_keys *k, zy1_payload *p);
/* Wipes every string of the payload (passwords, session ids, customer data),
 * then frees it. */
void zy1_payload_free(zy1_payload *p);
/* Overwrites every string value in j with zeros, in place:
 * for JSON that held secrets, before json_decref. NULL is a no-op. */
void zy1_json_wipe(json_t *j);

/* The sealed answer {"v":1,"ts","iv","ct","mac"} to a request with this tx
 * and nonce text. iv is NULL except in tests (then 16 fixed bytes). */
zy1_status zy1_seal_response(const zy1_keys *k, const char *tx, const char *nonce_b64, int64_t ts,
                             const char *plaintext, size_t n, const uint8_t *iv, char **body,
                             size_t *body_len);
/* The response MAC input "ZY1R\nTX\nnonce\nts\niv\nct" of a parsed response. */
zy1_status zy1_response_mac_input(const char *tx, const char *nonce_b64, const zy1_response *rsp,
                                  char **out, size_t *len);

/* ---- client side -------------------------------------------------------- */

typedef struct {
    const char *tx;
    const char *kid;
    const char *dev;
    const char *tlr;  /* DEVICE_ACTIVATE only; NULL otherwise */
    const uint8_t *F; /* 32 bytes: DS, or the activation factor */
    int64_t ts;       /* client clock, ms since the epoch */
} zy1_request_params;

/* Values a test fixes instead of drawing them; NULL members are random. With
 * ek set, S is not encrypted and ek is sent as given (S must then be set). */
typedef struct {
    const uint8_t *S, *nonce, *iv;
    const uint8_t *ek;
    size_t ek_len;
} zy1_fixed;

/* What a client keeps between sealing a request and opening its answer. */
typedef struct {
    char tx[ZY1_TX_MAX + 1];
    char nonce_b64[ZY1_NONCE_B64_LEN + 1];
    zy1_keys keys;
} zy1_call;

void zy1_call_wipe(zy1_call *call);

/* Seals payload[0..n) for the server key pub; the body goes to *body. */
zy1_status zy1_seal_request(const sm2_key *pub, const zy1_request_params *rp, const char *payload,
                            size_t n, zy1_call *call, char **body, size_t *body_len);
zy1_status zy1_seal_request_fixed(const sm2_key *pub, const zy1_request_params *rp,
                                  const char *payload, size_t n, const zy1_fixed *fx,
                                  zy1_call *call, char **body, size_t *body_len);

/* Verifies the response MAC, then decrypts: ZY1_BAD_ENVELOPE for a body that
 * is not a sealed response (e.g. a plain {"error":...}), ZY1_BAD_MAC, then
 * ZY1_BAD_PAYLOAD. *plaintext is NULL unless ZY1_OK. ts (may be NULL) gets
 * the server's clock from the response. */
zy1_status zy1_open_response(const zy1_call *call, const char *body, size_t len, char **plaintext,
                             size_t *pt_len, int64_t *ts);

#endif
