/* attach_check — the pure checks of an attachment upload (attach.h): no
 * database, no keys, so that they are unit-tested and fuzzed on their own
 * (tests/unit/business/test_attach_check.c, tests/fuzz/fuzz_attach.c).
 *
 *   kinds       "photo" (JPEG or PNG) and "document" (PDF);
 *   types       told by the content's first bytes, never by a name or a
 *               client's word: JPEG FF D8 FF, PNG 89 50 4E 47 0D 0A 1A 0A,
 *               PDF "%PDF-";
 *   chunks      an upload of size bytes is cut into ATTACH_CHUNK_BYTES
 *               pieces, index 0..n-1; every piece is full but the last,
 *               which holds the rest (1..ATTACH_CHUNK_BYTES bytes), so the
 *               length of each piece is known from (size, index) alone;
 *   digests     SM3 as 64 hex digits (either case; kept lowercase);
 *   names       a file name: 1..ATTACH_NAME_MAX bytes of UTF-8 without
 *               control characters;
 *   references  a business reference (a link to 办理业务): 1..40 of
 *               [A-Za-z0-9_-].
 *
 * Functions return what their comment says; none allocates. */
#ifndef ZHANYE_ATTACH_CHECK_H
#define ZHANYE_ATTACH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATTACH_CHUNK_BYTES (256 * 1024) /* raw bytes of a full chunk */
#define ATTACH_CHUNK_B64 349528         /* base64 text of a full chunk: 4 * ceil(n / 3) */
#define ATTACH_SM3_HEX 64
#define ATTACH_NAME_MAX 100
#define ATTACH_REF_MAX 40

enum attach_kind { AK_NONE = 0, AK_PHOTO = 1, AK_DOCUMENT = 2 };
enum attach_type { AT_NONE = 0, AT_JPEG = 1, AT_PNG = 2, AT_PDF = 3 };

/* The kind named s ("photo", "document"), or AK_NONE. */
enum attach_kind ac_kind_parse(const char *s);
/* "photo" / "document"; "" for AK_NONE. */
const char *ac_kind_name(enum attach_kind k);

/* The type of content starting with p[0..n), or AT_NONE. */
enum attach_type ac_sniff(const uint8_t *p, size_t n);
/* "image/jpeg", "image/png", "application/pdf"; "" for AT_NONE. */
const char *ac_mime(enum attach_type t);
/* True when content of type t may be stored as kind k. */
bool ac_type_fits(enum attach_kind k, enum attach_type t);

/* Normalises 64 hex digits of s into out (lowercase, NUL-terminated).
 * true, or false if s is not exactly 64 hex digits. */
bool ac_sm3_norm(const char *s, char out[ATTACH_SM3_HEX + 1]);

/* Chunks of an upload of size bytes (size >= 1), 0 for size < 1. */
int64_t ac_chunks(int64_t size);
/* The length of chunk index of an upload of size bytes; 0 if index is not
 * one of its chunks. */
size_t ac_chunk_len(int64_t size, int64_t index);

enum { AC_OK = 0, AC_BAD_BASE64 = -1, AC_BAD_LENGTH = -2 };
/* Decodes the base64 text b64[0..len) of chunk index of an upload of size
 * bytes into out (cap >= the chunk's length). AC_OK with *n its length;
 * AC_BAD_LENGTH when the text is not as long as the padded base64 of that
 * chunk's length (or index is out of range, or cap is short);
 * AC_BAD_BASE64 when the text of the right length is not strict RFC 4648
 * base64 (codec.h: bad characters, padding or trailing bits). */
int ac_chunk_decode(const char *b64, size_t len, int64_t size, int64_t index, uint8_t *out,
                    size_t cap, size_t *n);

/* A file name as above. */
bool ac_name_ok(const char *s);
/* A business reference as above. */
bool ac_ref_ok(const char *s);

#endif
