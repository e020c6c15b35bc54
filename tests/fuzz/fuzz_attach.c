/* fuzz_attach — the attachment checks on arbitrary bytes (attach_check.h),
 * against independent oracles:
 *   - ac_chunk_decode of the bytes as base64 text for a chunk of the length
 *     the input says: a chunk it accepts has exactly that length and
 *     encodes back to the very same text (strict, canonical base64), and
 *     one it refuses for its characters has the right length of text;
 *   - ac_sniff agrees with a byte-wise comparison to the three signatures,
 *     and ac_type_fits with the kinds' lists;
 *   - ac_sm3_norm accepts exactly 64 hex digits, and its output again
 *     unchanged; ac_name_ok and ac_ref_ok never read past the string. */
#include "business/attach_check.h"
#include "foundation/codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static enum attach_type oracle_type(const uint8_t *p, size_t n)
{
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return AT_JPEG;
    if (n >= 8 && p[0] == 0x89 && p[1] == 'P' && p[2] == 'N' && p[3] == 'G' && p[4] == 0x0D &&
        p[5] == 0x0A && p[6] == 0x1A && p[7] == 0x0A)
        return AT_PNG;
    if (n >= 5 && memcmp(p, "%PDF-", 5) == 0)
        return AT_PDF;
    return AT_NONE;
}

static bool oracle_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0')
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum attach_type t = ac_sniff(data, size);
    CHECK(t == oracle_type(data, size));
    CHECK(ac_type_fits(AK_PHOTO, t) == (t == AT_JPEG || t == AT_PNG));
    CHECK(ac_type_fits(AK_DOCUMENT, t) == (t == AT_PDF));
    if (size < 3)
        return 0;
    /* The first three bytes choose the upload's size and the chunk. */
    int64_t usize = 1 + (((int64_t)data[0] << 8 | data[1]) % (3 * ATTACH_CHUNK_BYTES));
    int64_t index = data[2] % 4;
    const char *text = (const char *)data + 3;
    size_t len = size - 3;
    char *z = malloc(len + 1);
    uint8_t *out = malloc(ATTACH_CHUNK_BYTES);
    if (!z || !out) {
        free(z);
        free(out);
        return 0;
    }
    memcpy(z, text, len);
    z[len] = '\0';
    size_t n = 0, want = ac_chunk_len(usize, index);
    int rc = ac_chunk_decode(z, len, usize, index, out, ATTACH_CHUNK_BYTES, &n);
    if (rc == AC_OK) {
        CHECK(n == want && want > 0);
        char *back = malloc(b64_encoded_len(n) + 1);
        CHECK(back && b64_encode(out, n, back, b64_encoded_len(n) + 1) == (long)len);
        CHECK(memcmp(back, z, len) == 0);
        free(back);
    } else if (rc == AC_BAD_BASE64) {
        CHECK(want > 0 && len == b64_encoded_len(want));
    } else {
        CHECK(rc == AC_BAD_LENGTH && n == 0);
    }
    char hex[ATTACH_SM3_HEX + 1], again[ATTACH_SM3_HEX + 1];
    bool ok = ac_sm3_norm(z, hex);
    CHECK(ok == oracle_hex64(z));
    if (ok) {
        CHECK(ac_sm3_norm(hex, again) && strcmp(hex, again) == 0);
        for (size_t i = 0; i < 64; i++)
            CHECK(!(hex[i] >= 'A' && hex[i] <= 'F'));
    }
    (void)ac_name_ok(z);
    (void)ac_ref_ok(z);
    (void)ac_kind_parse(z);
    free(z);
    free(out);
    return 0;
}
