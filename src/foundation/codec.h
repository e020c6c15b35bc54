/* codec — base64 (RFC 4648 §4, padded, no line breaks) and lowercase hex.
 *
 * Decoders are strict: any character outside the alphabet, bad padding or
 * non-canonical trailing bits is an error (-1), never silently skipped, so a
 * bit flip in an envelope field is always detected. Output buffers are sized
 * by the caller; a too-small buffer is an error, not a truncation. */
#ifndef ZHANYE_CODEC_H
#define ZHANYE_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* Length of the base64 text for n bytes (without NUL). */
size_t b64_encoded_len(size_t n);
/* Upper bound of decoded bytes for a base64 text of length n. */
size_t b64_decoded_max(size_t n);
/* Writes NUL-terminated base64 of in[0..n) into out (cap bytes incl. NUL).
 * Returns the text length, or -1 if cap is too small. */
long b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
/* Decodes text[0..len) into out (cap bytes). Returns the byte count or -1. */
long b64_decode(const char *text, size_t len, uint8_t *out, size_t cap);

/* Lowercase hex of in[0..n) into out (cap >= 2n+1). Returns 2n or -1. */
long hex_encode(const uint8_t *in, size_t n, char *out, size_t cap);
/* Decodes hex (either case) into out. Returns the byte count or -1. */
long hex_decode(const char *text, size_t len, uint8_t *out, size_t cap);
/* The value of one hex digit (either case), or -1 if c is none. */
int hex_val(unsigned char c);

#endif
