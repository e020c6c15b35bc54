/* kek — the key-encryption key that protects secrets at rest.
 *
 * The KEK is 32 random bytes kept as 64 hex characters (and a newline) in
 * key_dir/kek (DATA/keys/kek), mode 0600, created once with O_EXCL by
 * `zhanye init`. It never enters the database or the log. kek_load() derives
 * two subkeys with HMAC-SM3 under distinct labels ("zhanye kek enc" → the
 * SM4 key, first 16 bytes; "zhanye kek mac" → the HMAC-SM3 key) and wipes
 * the master; struct kek holds only the subkeys.
 *
 * Sealed format: 0x01 (version) || IV (16 random bytes) || SM4-CBC(PKCS#7)
 * ciphertext || HMAC-SM3(mac key, "zhanye kek seal v1" || len(context) as 4
 * bytes big-endian || context || version || IV || ciphertext). Encrypt then
 * MAC; kek_open checks the MAC in constant time before decrypting. context
 * names what is sealed and where ("ds|<dev>", "act|<teller id>"), so a
 * sealed value copied to another row does not open there.
 *
 * Device secrets and activation codes are sealed; the caller wipes every
 * plaintext buffer (secmem_wipe) and the struct kek itself (kek_wipe). */
#ifndef ZHANYE_KEK_H
#define ZHANYE_KEK_H

#include "identity/identity.h"

#include <stddef.h>
#include <stdint.h>

#define KEK_LEN 32
#define KEK_FILE "kek"
#define KEK_OVERHEAD (1 + 16 + 32) /* version, IV, MAC; plus padding 1..16 */

struct kek {
    uint8_t enc[16];
    uint8_t mac[32];
};

/* key_dir/kek into out; -1 if it does not fit. */
int kek_path(const char *key_dir, char *out, size_t cap);
/* Creates key_dir (0700) if needed and a new KEK file there (O_EXCL, 0600).
 * ID_EXISTS if the file exists (it is never overwritten), ID_ERR on an I/O
 * or RNG failure (errno set). */
int kek_create(const char *key_dir);
/* Reads the KEK file at path. ID_NOT_FOUND if it is missing, ID_BAD_INPUT
 * if it is not a regular file, is readable by group or others, or does not
 * hold exactly 64 hex digits (and an optional newline); ID_ERR on I/O. */
int kek_load(const char *path, struct kek *out);
void kek_wipe(struct kek *k);

/* Sealed size of n plaintext bytes. */
size_t kek_sealed_len(size_t n);
/* out needs kek_sealed_len(n) bytes; ID_BAD_INPUT if cap is short. */
int kek_seal(const struct kek *k, const char *context, const uint8_t *plain, size_t n, uint8_t *out,
             size_t cap, size_t *outlen);
/* out needs n - KEK_OVERHEAD bytes (the plaintext is 1..16 shorter). ID_CORRUPT if the MAC does
 * not verify (tampered, other context or other KEK), ID_BAD_INPUT if the
 * input is malformed or cap is short. */
int kek_open(const struct kek *k, const char *context, const uint8_t *in, size_t n, uint8_t *out,
             size_t cap, size_t *outlen);

#endif
