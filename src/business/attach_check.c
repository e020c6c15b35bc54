/* attach_check.c — kinds, magic bytes, chunk arithmetic and input forms of
 * attachments (see attach_check.h). */
#include "business/attach_check.h"

#include "foundation/codec.h"
#include "foundation/text.h"

#include <string.h>

enum attach_kind ac_kind_parse(const char *s)
{
    if (!s)
        return AK_NONE;
    if (strcmp(s, "photo") == 0)
        return AK_PHOTO;
    if (strcmp(s, "document") == 0)
        return AK_DOCUMENT;
    return AK_NONE;
}

const char *ac_kind_name(enum attach_kind k)
{
    switch (k) {
    case AK_PHOTO:
        return "photo";
    case AK_DOCUMENT:
        return "document";
    default:
        return "";
    }
}

enum attach_type ac_sniff(const uint8_t *p, size_t n)
{
    static const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF};
    static const uint8_t png[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    static const uint8_t pdf[] = {'%', 'P', 'D', 'F', '-'};
    if (!p)
        return AT_NONE;
    if (n >= sizeof jpeg && memcmp(p, jpeg, sizeof jpeg) == 0)
        return AT_JPEG;
    if (n >= sizeof png && memcmp(p, png, sizeof png) == 0)
        return AT_PNG;
    if (n >= sizeof pdf && memcmp(p, pdf, sizeof pdf) == 0)
        return AT_PDF;
    return AT_NONE;
}

const char *ac_mime(enum attach_type t)
{
    switch (t) {
    case AT_JPEG:
        return "image/jpeg";
    case AT_PNG:
        return "image/png";
    case AT_PDF:
        return "application/pdf";
    default:
        return "";
    }
}

bool ac_type_fits(enum attach_kind k, enum attach_type t)
{
    if (k == AK_PHOTO)
        return t == AT_JPEG || t == AT_PNG;
    if (k == AK_DOCUMENT)
        return t == AT_PDF;
    return false;
}

bool ac_sm3_norm(const char *s, char out[ATTACH_SM3_HEX + 1])
{
    if (!s || strlen(s) != ATTACH_SM3_HEX)
        return false;
    for (size_t i = 0; i < ATTACH_SM3_HEX; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        out[i] = c;
    }
    out[ATTACH_SM3_HEX] = '\0';
    return true;
}

int64_t ac_chunks(int64_t size)
{
    if (size < 1)
        return 0;
    return (size - 1) / ATTACH_CHUNK_BYTES + 1;
}

size_t ac_chunk_len(int64_t size, int64_t index)
{
    int64_t n = ac_chunks(size);
    if (index < 0 || index >= n)
        return 0;
    if (index < n - 1)
        return ATTACH_CHUNK_BYTES;
    return (size_t)(size - (n - 1) * (int64_t)ATTACH_CHUNK_BYTES);
}

int ac_chunk_decode(const char *b64, size_t len, int64_t size, int64_t index, uint8_t *out,
                    size_t cap, size_t *n)
{
    *n = 0;
    size_t want = ac_chunk_len(size, index);
    if (want == 0 || cap < want)
        return AC_BAD_LENGTH;
    /* Padded base64 of want bytes is exactly this long. */
    if (!b64 || len != b64_encoded_len(want))
        return AC_BAD_LENGTH;
    long got = b64_decode(b64, len, out, cap);
    if (got < 0)
        return AC_BAD_BASE64;
    if ((size_t)got != want)
        return AC_BAD_LENGTH;
    *n = want;
    return AC_OK;
}

bool ac_name_ok(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n < 1 || n > ATTACH_NAME_MAX)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x20 || p[i] == 0x7F)
            return false;
        size_t k = utf8_seq_len(p + i, n - i);
        if (k == 0)
            return false;
        /* C1 controls, U+0080..U+009F: C2 80..C2 9F */
        if (k == 2 && p[i] == 0xC2 && p[i + 1] < 0xA0)
            return false;
        i += k;
    }
    return true;
}

bool ac_ref_ok(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n < 1 || n > ATTACH_REF_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}
