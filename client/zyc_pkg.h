/* zyc_pkg — the client's check of an app-store package before it installs
 * it (docs/api.md §1.21d).
 *
 * A package comes with the SM3 of its bytes (64 hex digits) and the
 * server's SM2 signature of that 32-byte SM3 (base64 of DER, GB/T 32918.2
 * with the default identifier), made with the server key the device pinned
 * at activation (zyc_state.pub_b64). The check hashes the bytes itself,
 * compares with the announced SM3, and verifies the signature over the
 * digest it computed, so neither altered bytes nor an altered hash or
 * signature pass. Thread-safe; nothing to free. */
#ifndef ZHANYE_ZYC_PKG_H
#define ZHANYE_ZYC_PKG_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    ZYC_PKG_OK = 0,
    ZYC_PKG_IO,            /* the file could not be read (errno is kept) */
    ZYC_PKG_BAD_ARG,       /* a key, hash or signature that is not well-formed */
    ZYC_PKG_HASH_MISMATCH, /* the bytes' SM3 is not the announced one */
    ZYC_PKG_BAD_SIGNATURE, /* the signature does not verify under the pinned key */
    ZYC_PKG_INTERNAL,      /* the crypto library failed */
} zyc_pkg_status;

/* The bytes p[0..n). */
zyc_pkg_status zyc_pkg_verify_mem(const char *pub_b64, const uint8_t *p, size_t n,
                                  const char *sm3_hex, const char *sig_b64);
/* The file at path, read in pieces (never whole in memory). */
zyc_pkg_status zyc_pkg_verify_file(const char *pub_b64, const char *path, const char *sm3_hex,
                                   const char *sig_b64);
/* A short English name of s, for messages. */
const char *zyc_pkg_status_name(zyc_pkg_status s);

#endif
