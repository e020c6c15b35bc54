/* voucher_sign — the voucher signing key, the signature of an issued
 * voucher, and finding a voucher's id in a PDF.
 *
 * KEY. Vouchers are signed with a key of their own, not the ZY1 server key
 * of the keyring nor the audit checkpoint key: each key signs one kind of
 * statement, so a key rotated or compromised in one role touches nothing
 * else, and a voucher key can be handed to an archive's verifier (its
 * public half) without saying anything about the channel. It lives beside
 * the KEK in [channel] key_dir:
 *   voucher-sign.key  SM2 private key, PKCS#8 PEM, mode 0600 (refused when
 *                     group or others can read it);
 *   voucher-sign.pub  its public key 04||x||y as 130 hex digits (0644), for
 *                     verifiers outside the server.
 * `zhanye init` creates them, and the server at start-up creates them when
 * missing (a data directory from before vouchers); never overwritten. The
 * composition root loads the key and hands it to business code in
 * struct tx_env (channel/tx.h).
 *
 * SIGNATURE. The SM2 signature (GB/T 32918.2, SM3, the default identifier;
 * channel/sm.h, OpenSSL EVP) of the message
 *     "zhanye voucher v1\n" || id || "\n" || SM3(PDF)   (32 raw bytes)
 * so a signature is bound to the voucher's id as well as to its bytes; it
 * is DER, at most SM2_SIG_MAX bytes, kept beside the PDF (detached: the
 * PDF is exactly the bytes hashed).
 *
 * ID IN A PDF. The renderer (voucher_pdf.h) writes "zhanye-voucher:<id>" as
 * the PDF's Keywords (the id ends at ")", or at " recording-sm3:" which a
 * recorded business's voucher goes on with: its hash); vsign_find_id
 * reads it back from any bytes (outside
 * input: bounded scan, no allocation), so `zhanye voucher verify FILE` and
 * VOUCHER_VERIFY can say which voucher an altered file claims to be.
 *
 * Returns VS_OK, VS_BAD (signature does not verify, id not found, bad
 * arguments), VS_EXISTS (vsign_key_create: both files there), VS_ERR (I/O,
 * the crypto library). */
#ifndef ZHANYE_VOUCHER_SIGN_H
#define ZHANYE_VOUCHER_SIGN_H

#include "channel/sm.h"

#include <stddef.h>
#include <stdint.h>

enum { VS_ERR = -1, VS_OK = 0, VS_BAD = 1, VS_EXISTS = 2 };

#define VOUCHER_KEY_FILE "voucher-sign.key"
#define VOUCHER_PUB_FILE "voucher-sign.pub"
#define VOUCHER_ID_MAX 40 /* "V<bank>-<n>" */

/* Creates key_dir (0700) if needed, the key file (0600) if missing and the
 * public file from it if missing. VS_OK if it created one, VS_EXISTS if
 * both were there. */
int vsign_key_create(const char *key_dir);
/* Loads key_dir's private key (its public half is derived). VS_BAD if the
 * file is missing, unsafe (group/other readable) or not an SM2 key. */
int vsign_key_load(const char *key_dir, sm2_key **out);

int vsign_sign(const sm2_key *k, const char *id, const uint8_t sm3[SM3_LEN], uint8_t *sig,
               size_t cap, size_t *siglen);
int vsign_verify(const sm2_key *k, const char *id, const uint8_t sm3[SM3_LEN], const uint8_t *sig,
                 size_t siglen);

/* The id in pdf[0..n) (see above) into id; VS_BAD if there is none. */
int vsign_find_id(const uint8_t *pdf, size_t n, char id[VOUCHER_ID_MAX + 1]);

#endif
