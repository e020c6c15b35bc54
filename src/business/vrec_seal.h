/* vrec_seal — a recording's track sealed at rest, chunk by chunk, with the
 * KEK's sealing (identity/kek.h: SM4-CBC then HMAC-SM3, per value), so
 * that any byte range can be opened without the rest (playback with HTTP
 * Range).
 *
 * File format: "ZYVREC01" (8 bytes) || the clear size (8 bytes, big
 * endian) || chunk 0 || chunk 1 || ..., chunk i being kek_seal of clear
 * bytes [i*VREC_CHUNK, min((i+1)*VREC_CHUNK, size)) under the context
 * "<ctx>|<size>|<i>". Every chunk but the last has the same sealed length,
 * so chunk i starts at a known offset; the size and the index in each
 * context make a truncated, reordered or spliced file fail to open, and
 * ctx (e.g. "vrec|<bank>|<recording id>|<track>") one moved to another
 * recording. */
#ifndef ZHANYE_VREC_SEAL_H
#define ZHANYE_VREC_SEAL_H

#include "identity/kek.h"

#include <stddef.h>
#include <stdint.h>

#define VREC_CHUNK 65536
#define VREC_SEAL_MAX (4LL << 30) /* the largest track: 4 GiB */

/* Seals the clear file src into dst (created O_EXCL, mode 0600, fsync'd):
 * the clear bytes' SM3 as 64 hex digits into sm3_hex and their count into
 * *size. 0, or -1 with msg (dst removed). src empty or above VREC_SEAL_MAX: -1. */
int vrec_seal_file(const struct kek *k, const char *ctx, const char *src, const char *dst,
                   char sm3_hex[65], int64_t *size, char *msg, size_t cap);
/* Clear bytes [off, off + len) of the sealed file path, whose clear size is
 * size (the stored one; the header must say the same), into *out (malloc'd,
 * len bytes; the caller wipes and frees). 0, or -1 when the range is
 * outside [0, size), the file is unreadable, or a chunk does not open
 * (tampered, moved, another KEK: logged). */
int vrec_open_range(const struct kek *k, const char *ctx, const char *path, int64_t size,
                    int64_t off, size_t len, uint8_t **out);

#endif
