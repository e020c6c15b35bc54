/* attach_check: magic bytes (JPEG, PNG, PDF and near misses), kinds and
 * the types they take, SM3 hex forms, chunk arithmetic at the chunk
 * boundaries, strict base64 of a chunk (length, characters, padding,
 * trailing bits), file names and business references. */
#include "business/attach_check.h"
#include "foundation/codec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void magic_bytes(void **state)
{
    (void)state;
    static const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00};
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0x00};
    static const uint8_t pdf[] = "%PDF-1.7\n";
    assert_int_equal(ac_sniff(jpeg, sizeof jpeg), AT_JPEG);
    assert_int_equal(ac_sniff(jpeg, 3), AT_JPEG);
    assert_int_equal(ac_sniff(jpeg, 2), AT_NONE); /* too short to tell */
    assert_int_equal(ac_sniff(png, sizeof png), AT_PNG);
    assert_int_equal(ac_sniff(png, 7), AT_NONE);
    assert_int_equal(ac_sniff(pdf, 5), AT_PDF);
    assert_int_equal(ac_sniff(pdf, 4), AT_NONE);
    /* Near misses: one byte off each. */
    static const uint8_t jpeg_off[] = {0xFF, 0xD8, 0xFE};
    static const uint8_t png_off[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0B};
    static const uint8_t pdf_lower[] = "%pdf-";
    static const uint8_t gif[] = "GIF89a";
    assert_int_equal(ac_sniff(jpeg_off, sizeof jpeg_off), AT_NONE);
    assert_int_equal(ac_sniff(png_off, sizeof png_off), AT_NONE);
    assert_int_equal(ac_sniff(pdf_lower, 5), AT_NONE);
    assert_int_equal(ac_sniff(gif, 6), AT_NONE);
    assert_int_equal(ac_sniff(NULL, 10), AT_NONE);
    assert_string_equal(ac_mime(AT_JPEG), "image/jpeg");
    assert_string_equal(ac_mime(AT_PNG), "image/png");
    assert_string_equal(ac_mime(AT_PDF), "application/pdf");
    assert_string_equal(ac_mime(AT_NONE), "");
}

static void kinds(void **state)
{
    (void)state;
    assert_int_equal(ac_kind_parse("photo"), AK_PHOTO);
    assert_int_equal(ac_kind_parse("document"), AK_DOCUMENT);
    assert_int_equal(ac_kind_parse("Photo"), AK_NONE);
    assert_int_equal(ac_kind_parse(""), AK_NONE);
    assert_int_equal(ac_kind_parse(NULL), AK_NONE);
    assert_string_equal(ac_kind_name(AK_DOCUMENT), "document");
    assert_true(ac_type_fits(AK_PHOTO, AT_JPEG));
    assert_true(ac_type_fits(AK_PHOTO, AT_PNG));
    assert_false(ac_type_fits(AK_PHOTO, AT_PDF));
    assert_true(ac_type_fits(AK_DOCUMENT, AT_PDF));
    assert_false(ac_type_fits(AK_DOCUMENT, AT_PNG));
    assert_false(ac_type_fits(AK_DOCUMENT, AT_NONE));
    assert_false(ac_type_fits(AK_NONE, AT_JPEG));
}

static void sm3_forms(void **state)
{
    (void)state;
    char out[ATTACH_SM3_HEX + 1];
    const char *hex = "66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0";
    assert_true(ac_sm3_norm(hex, out));
    assert_string_equal(out, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    assert_false(ac_sm3_norm("66c7", out));
    assert_false(ac_sm3_norm(NULL, out));
    char bad[ATTACH_SM3_HEX + 2];
    memset(bad, 'a', sizeof bad - 1);
    bad[sizeof bad - 1] = '\0';
    assert_false(ac_sm3_norm(bad, out)); /* 65 digits */
    bad[ATTACH_SM3_HEX] = '\0';
    assert_true(ac_sm3_norm(bad, out));
    bad[10] = 'g';
    assert_false(ac_sm3_norm(bad, out));
}

static void chunk_arithmetic(void **state)
{
    (void)state;
    const int64_t C = ATTACH_CHUNK_BYTES;
    assert_int_equal(ac_chunks(0), 0);
    assert_int_equal(ac_chunks(-5), 0);
    assert_int_equal(ac_chunks(1), 1);
    assert_int_equal(ac_chunks(C), 1);
    assert_int_equal(ac_chunks(C + 1), 2);
    assert_int_equal(ac_chunks(10 * 1024 * 1024), 40);
    assert_int_equal(ac_chunk_len(C + 1, 0), C);
    assert_int_equal(ac_chunk_len(C + 1, 1), 1);
    assert_int_equal(ac_chunk_len(C + 1, 2), 0);
    assert_int_equal(ac_chunk_len(C + 1, -1), 0);
    assert_int_equal(ac_chunk_len(2 * C, 1), C);
    assert_int_equal(ac_chunk_len(100, 0), 100);
    assert_int_equal(b64_encoded_len(C), ATTACH_CHUNK_B64);
}

static void chunk_base64(void **state)
{
    (void)state;
    uint8_t raw[10] = {0xFF, 0xD8, 0xFF, 1, 2, 3, 4, 5, 6, 7}, out[64];
    char text[32];
    size_t n = 99;
    assert_true(b64_encode(raw, sizeof raw, text, sizeof text) > 0); /* 16 chars, "==" */
    assert_int_equal(ac_chunk_decode(text, strlen(text), 10, 0, out, sizeof out, &n), AC_OK);
    assert_int_equal(n, 10);
    assert_memory_equal(out, raw, 10);
    /* The wrong length for this chunk: the size says 11, or 9. */
    assert_int_equal(ac_chunk_decode(text, strlen(text), 11, 0, out, sizeof out, &n),
                     AC_BAD_LENGTH);
    assert_int_equal(n, 0);
    assert_int_equal(ac_chunk_decode(text, strlen(text), 9, 0, out, sizeof out, &n), AC_BAD_LENGTH);
    /* Index outside the upload, short buffer, no text. */
    assert_int_equal(ac_chunk_decode(text, strlen(text), 10, 1, out, sizeof out, &n),
                     AC_BAD_LENGTH);
    assert_int_equal(ac_chunk_decode(text, strlen(text), 10, 0, out, 9, &n), AC_BAD_LENGTH);
    assert_int_equal(ac_chunk_decode(NULL, 0, 10, 0, out, sizeof out, &n), AC_BAD_LENGTH);
    /* The right length, not base64: a bad character, padding in the
     * middle, non-canonical trailing bits, missing padding. */
    char t[32];
    strcpy(t, text);
    t[3] = '*';
    assert_int_equal(ac_chunk_decode(t, strlen(t), 10, 0, out, sizeof out, &n), AC_BAD_BASE64);
    strcpy(t, text);
    t[4] = '=';
    assert_int_equal(ac_chunk_decode(t, strlen(t), 10, 0, out, sizeof out, &n), AC_BAD_BASE64);
    strcpy(t, text);
    assert_int_equal(t[14], '=');
    t[13] = (char)(t[13] == 'A' ? 'B' : t[13] + 1); /* trailing bits no longer zero */
    assert_int_equal(ac_chunk_decode(t, strlen(t), 10, 0, out, sizeof out, &n), AC_BAD_BASE64);
    /* No padding: base64 of 12 bytes, not of this chunk's 10. */
    strcpy(t, text);
    t[14] = 'A';
    t[15] = 'A';
    assert_int_equal(ac_chunk_decode(t, strlen(t), 10, 0, out, sizeof out, &n), AC_BAD_LENGTH);
    /* Whitespace is not skipped. */
    strcpy(t, text);
    t[0] = ' ';
    assert_int_equal(ac_chunk_decode(t, strlen(t), 10, 0, out, sizeof out, &n), AC_BAD_BASE64);
}

static void names_and_refs(void **state)
{
    (void)state;
    assert_true(ac_name_ok("门头照.jpg"));
    assert_true(ac_name_ok("a"));
    assert_false(ac_name_ok(""));
    assert_false(ac_name_ok(NULL));
    assert_false(ac_name_ok("a\tb"));
    assert_false(ac_name_ok("a\x7f"));
    assert_false(ac_name_ok("a\xc2\x85"));        /* U+0085, a C1 control */
    assert_false(ac_name_ok("a\xc0\xaf"));        /* overlong */
    assert_false(ac_name_ok("\xe9\x97\xa8\xe5")); /* cut short */
    char longname[ATTACH_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(ac_name_ok(longname));
    longname[ATTACH_NAME_MAX] = '\0';
    assert_true(ac_name_ok(longname));
    assert_true(ac_ref_ok("LOAN-2026_0042"));
    assert_false(ac_ref_ok(""));
    assert_false(ac_ref_ok("a b"));
    assert_false(ac_ref_ok("贷款1"));
    assert_false(ac_ref_ok("12345678901234567890123456789012345678901"));
    assert_true(ac_ref_ok("1234567890123456789012345678901234567890"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(magic_bytes),  cmocka_unit_test(kinds),
        cmocka_unit_test(sm3_forms),    cmocka_unit_test(chunk_arithmetic),
        cmocka_unit_test(chunk_base64), cmocka_unit_test(names_and_refs),
    };
    return cmocka_run_group_tests_name("attach_check", tests, NULL, NULL);
}
