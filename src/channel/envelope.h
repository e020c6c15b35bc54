/* envelope — strict parsing of ZY1 message bodies (spec/secure-channel.md).
 *
 * zy1_envelope_parse() is check step 2: the body must be one JSON object with
 * exactly the request members, every field well formed and of the right
 * decoded length, else ZY1_BAD_ENVELOPE. Nothing is cryptographically checked
 * here. The parsed envelope keeps each field's text (the MAC covers the texts,
 * not the decoded bytes) and the decoded bytes. Any input, however malformed,
 * yields a status and never a crash; a parsed object must be released with
 * the matching *_free() whatever the status.
 *
 * Field texts are the JSON string values after unescaping. The alphabets
 * allowed are printable ASCII, so an escaped form ("\/" in base64) and the
 * plain form denote the same text: that text is what the MAC covers. */
#ifndef ZHANYE_ENVELOPE_H
#define ZHANYE_ENVELOPE_H

#include "channel/sm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status of every ZY1 operation. The names map onto the spec's error codes:
 * bad_envelope, bad_mac (SM2 unwrap and MAC failures are never told apart),
 * bad_payload. */
typedef enum {
    ZY1_OK = 0,
    ZY1_BAD_ENVELOPE, /* step 2: body malformed; or a response body on the client */
    ZY1_BAD_MAC,      /* steps 9-10: unwrap failed or the MAC does not match */
    ZY1_BAD_PAYLOAD,  /* step 12: decryption, padding or payload JSON */
    ZY1_BAD_ARG,      /* the caller passed something out of contract */
    ZY1_NOMEM,
    ZY1_INTERNAL, /* the crypto library failed */
} zy1_status;

#define ZY1_NONCE_LEN 16
#define ZY1_IV_LEN 16
#define ZY1_MAC_LEN 32
#define ZY1_S_LEN 32
#define ZY1_EK_MAX 200 /* decoded ek bytes; DER of a 32-byte S is at most 141 */
#define ZY1_ID_MAX 32  /* kid and tlr */
#define ZY1_DEV_LEN 32 /* hex characters */
#define ZY1_TX_MAX 32
#define ZY1_TS_TEXT_MAX 21 /* decimal int64 and the NUL */

/* A field text: not NUL-terminated in general, owned by the parsed object. */
typedef struct {
    const char *p;
    size_t n;
} zy1_text;

struct json_t;

/* A parsed envelope owns its texts: the body's copy (text, the common form)
 * or jansson's tree (root), one of them NULL; ct is non-NULL exactly when
 * the parse succeeded. */
typedef struct {
    struct json_t *root;
    char *text;
    zy1_text kid, dev, tlr; /* tlr.p is NULL when absent */
    zy1_text nonce_b64, ek_b64, iv_b64, ct_b64, mac_b64;
    int64_t ts;
    char ts_text[ZY1_TS_TEXT_MAX]; /* ts in decimal, as the MAC covers it */
    uint8_t nonce[ZY1_NONCE_LEN];
    uint8_t ek[ZY1_EK_MAX];
    size_t ek_len;
    sm2_ct_form ek_form;
    uint8_t iv[ZY1_IV_LEN];
    uint8_t *ct; /* heap, ct_len bytes: a non-zero multiple of 16 */
    size_t ct_len;
    uint8_t mac[ZY1_MAC_LEN];
} zy1_envelope;

typedef struct {
    struct json_t *root;
    char *text;
    zy1_text iv_b64, ct_b64, mac_b64;
    int64_t ts;
    char ts_text[ZY1_TS_TEXT_MAX];
    uint8_t iv[ZY1_IV_LEN];
    uint8_t *ct;
    size_t ct_len;
    uint8_t mac[ZY1_MAC_LEN];
} zy1_response;

/* Request body {"v","kid","dev","tlr"?,"ts","nonce","ek","iv","ct","mac"}.
 * The common form (a flat object of plain ASCII strings and integers, as
 * clients send it) is read without jansson; anything else by jansson. */
zy1_status zy1_envelope_parse(const char *body, size_t len, zy1_envelope *env);
/* The same, read by jansson whatever the form: what every body must read
 * the same as (tests, tests/fuzz/fuzz_envelope.c). */
zy1_status zy1_envelope_parse_jansson(const char *body, size_t len, zy1_envelope *env);
void zy1_envelope_free(zy1_envelope *env);

/* The part of step 2 that needs the TX from the path: tlr is present exactly
 * for DEVICE_ACTIVATE. ZY1_BAD_ENVELOPE otherwise (ZY1_BAD_ARG for a TX that
 * is not even well formed). */
zy1_status zy1_envelope_check_tx(const zy1_envelope *env, const char *tx);

/* Response body {"v","ts","iv","ct","mac"} (client side). */
zy1_status zy1_response_parse(const char *body, size_t len, zy1_response *rsp);
zy1_status zy1_response_parse_jansson(const char *body, size_t len, zy1_response *rsp);
void zy1_response_free(zy1_response *rsp);

/* TX code: [A-Z][A-Z0-9_]{1,31}. */
bool zy1_tx_valid(const char *tx);
/* kid: [A-Za-z0-9._-]{1,32}; tlr: [A-Za-z0-9_-]{1,32}; dev: 32 lowercase hex. */
bool zy1_kid_valid(const char *s, size_t n);
bool zy1_tlr_valid(const char *s, size_t n);
bool zy1_dev_valid(const char *s, size_t n);

#endif
