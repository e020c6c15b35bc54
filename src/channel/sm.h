/* sm — the Chinese national primitives ZY1 needs, all through OpenSSL 3 EVP.
 *
 * SM3 digest, HMAC-SM3, SM4-CBC with PKCS#7 padding, SM2 public-key
 * encryption, SM2 signatures (the audit log's checkpoints) and SM2 key
 * handling. Nothing here is hand-written crypto: this
 * module only adapts encodings (SM2 ciphertext raw C1||C3||C2 <-> GM/T 0009
 * DER) and caches the fetched algorithm objects, because an implicit fetch on
 * every call costs more than the SM4/SM3 work of a small message.
 *
 * Every function returns an sm_status; outputs are only meaningful on SM_OK.
 * Output buffers are sized by the caller and a short buffer is SM_BAD, never a
 * truncation. All functions are thread-safe; an sm2_key may be shared by
 * threads once loaded. */
#ifndef ZHANYE_SM_H
#define ZHANYE_SM_H

#include <stddef.h>
#include <stdint.h>

#define SM3_LEN 32
#define SM4_KEY_LEN 16
#define SM4_BLOCK 16
#define SM2_PUB_LEN 65          /* 04 || x || y */
#define SM2_C1C3_LEN 97         /* raw ciphertext overhead: C1 (65) + C3 (32) */
#define SM2_DER_MAX_OVERHEAD 16 /* SEQUENCE and the four TLV headers, worst case */
#define SM2_SIG_MAX 72          /* DER SM2Signature: SEQUENCE of two INTEGERs of <= 33 bytes */
/* The default distinguishing identifier of GB/T 32918.2 (GM/T 0009 §10),
 * hashed into Z_A before the message. */
#define SM2_DEFAULT_ID "1234567812345678"

typedef enum {
    SM_OK = 0,
    SM_BAD = 1,   /* input rejected: malformed, wrong key, bad padding, short buffer */
    SM_NOMEM = 2, /* allocation failed */
    SM_ERR = 3,   /* the library failed (algorithm not available, RNG, I/O) */
} sm_status;

/* One piece of a message that is hashed or MACed without concatenating. */
typedef struct {
    const void *p;
    size_t n;
} sm_part;

/* Fetches the algorithms once; every other function calls it itself, so this
 * is only needed to fail early at start-up. */
sm_status sm_init(void);

sm_status sm3_digest(const sm_part *parts, size_t nparts, uint8_t out[SM3_LEN]);
/* SM3 of a message that arrives in pieces (a file streamed to disk):
 * sm3_stream_new, any number of sm3_stream_update, then sm3_stream_final,
 * which writes the digest and frees the stream; sm3_stream_free (NULL-safe)
 * drops one that is not finished. One thread at a time per stream. */
typedef struct sm3_stream sm3_stream;
sm_status sm3_stream_new(sm3_stream **out);
sm_status sm3_stream_update(sm3_stream *s, const void *p, size_t n);
sm_status sm3_stream_final(sm3_stream *s, uint8_t out[SM3_LEN]);
void sm3_stream_free(sm3_stream *s);
/* HMAC-SM3 (RFC 2104) of the concatenation of parts. */
sm_status sm_hmac(const uint8_t *key, size_t klen, const sm_part *parts, size_t nparts,
                  uint8_t out[SM3_LEN]);
/* One message of sm_hmac_each: the concatenation of parts. */
typedef struct {
    const sm_part *parts;
    size_t nparts;
} sm_hmac_msg;
/* HMAC-SM3 under one key of each of nmsgs messages, out[i] for msgs[i]: the
 * same tags as nmsgs sm_hmac calls, with the key's pads hashed once.
 * SM_BAD: nmsgs 0 or a NULL array; SM_NOMEM, SM_ERR: OpenSSL failed (the
 * outputs are then unspecified). */
sm_status sm_hmac_each(const uint8_t *key, size_t klen, const sm_hmac_msg *msgs, size_t nmsgs,
                       uint8_t (*out)[SM3_LEN]);

/* Ciphertext size of n plaintext bytes after PKCS#7 padding. */
size_t sm4_cbc_padded_len(size_t n);
/* out needs sm4_cbc_padded_len(n) bytes. */
sm_status sm4_cbc_encrypt(const uint8_t key[SM4_KEY_LEN], const uint8_t iv[SM4_BLOCK],
                          const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);
/* n must be a non-zero multiple of 16; out needs n bytes. A bad padding is
 * SM_BAD (callers verify a MAC first, so this is not a padding oracle). */
sm_status sm4_cbc_decrypt(const uint8_t key[SM4_KEY_LEN], const uint8_t iv[SM4_BLOCK],
                          const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);

/* SM2 key: a private key pair, or a public key only. Opaque. */
typedef struct sm2_key sm2_key;

/* Unencrypted PEM private key (PKCS#8 or SEC1, a parameters block before it
 * is skipped) on the SM2 curve; a key on another curve is SM_BAD. */
sm_status sm2_key_load_pem(const char *path, sm2_key **out);
/* DER private key (SEC1 ECPrivateKey or PKCS#8) on the SM2 curve. */
sm_status sm2_key_load_der(const uint8_t *der, size_t n, sm2_key **out);
sm_status sm2_key_generate(sm2_key **out);
/* Writes the private key as PKCS#8 PEM to a new file created with mode 0600;
 * an existing file is SM_BAD (never overwritten). */
sm_status sm2_key_write_pem(const sm2_key *k, const char *path);
/* Public key from 04 || x || y; the point must lie on the curve. */
sm_status sm2_key_from_pub(const uint8_t pub[SM2_PUB_LEN], sm2_key **out);
sm_status sm2_key_export_pub(const sm2_key *k, uint8_t pub[SM2_PUB_LEN]);
void sm2_key_free(sm2_key *k);

/* Encodings of an SM2 ciphertext accepted on the wire. The DER one is GM/T
 * 0009 SM2Cipher ::= SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING,
 * C2 OCTET STRING }, which is also what OpenSSL reads and writes. */
typedef enum {
    SM2_CT_INVALID = 0,
    SM2_CT_RAW65, /* 04 || x || y || C3 || C2 */
    SM2_CT_RAW64, /* x || y || C3 || C2 (C1 without the 04) */
    SM2_CT_DER,   /* SM2Cipher */
} sm2_ct_form;

/* Which encoding ct[0..n) is. c2_len is the plaintext length the caller
 * expects, or 0 for "any" (then only the raw form with the 04 is recognised,
 * since 04||x... and x... cannot be told apart without a length). DER must be
 * strict DER (minimal lengths and integers, nothing trailing) with a 32-byte
 * C3 and is tried first when ct starts with 0x30, so a raw text that starts
 * with 0x30 is read as raw unless it is a complete DER SM2Cipher. */
sm2_ct_form sm2_ct_classify(const uint8_t *ct, size_t n, size_t c2_len);
/* Canonical raw form 04||x||y||C3||C2 of any accepted encoding; out needs
 * SM2_C1C3_LEN + C2 length bytes (n + 65 always suffices). */
sm_status sm2_ct_to_raw(const uint8_t *ct, size_t n, size_t c2_len, uint8_t *out, size_t cap,
                        size_t *outlen);
/* Canonical DER form of any accepted encoding; out needs at most
 * SM2_C1C3_LEN + C2 length + SM2_DER_MAX_OVERHEAD bytes. */
sm_status sm2_ct_to_der(const uint8_t *ct, size_t n, size_t c2_len, uint8_t *out, size_t cap,
                        size_t *outlen);

/* SM2 encryption with SM3; out receives the raw 04||x||y||C3||C2 form
 * (SM2_C1C3_LEN + n bytes). */
sm_status sm2_encrypt(const sm2_key *pub, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                      size_t *outlen);
/* Decrypts a ciphertext in any of the three encodings (c2_len as for
 * sm2_ct_classify). out needs the plaintext length. */
sm_status sm2_decrypt(const sm2_key *k, const uint8_t *ct, size_t n, size_t c2_len, uint8_t *out,
                      size_t cap, size_t *outlen);

/* SM2 signature (GB/T 32918.2) with SM3 over the concatenation of parts,
 * Z_A computed with SM2_DEFAULT_ID (set explicitly: OpenSSL releases differ
 * in the identifier they use when none is given). sig receives the DER
 * SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER } (GM/T 0009), at most
 * SM2_SIG_MAX bytes; k must be a private key. */
sm_status sm2_sign(const sm2_key *k, const sm_part *parts, size_t nparts, uint8_t *sig, size_t cap,
                   size_t *siglen);
/* SM_OK if sig is a valid signature of parts under k's public key (same
 * identifier), SM_BAD if it is not or is malformed, SM_ERR/SM_NOMEM if the
 * library failed. */
sm_status sm2_verify(const sm2_key *k, const sm_part *parts, size_t nparts, const uint8_t *sig,
                     size_t siglen);

#endif
