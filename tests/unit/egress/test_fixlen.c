/* fixlen: GBK/UTF-8 round trips, padding and alignment, and errors that
 * name the field instead of cutting a value. */
#include "egress/fixlen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* name(10, GBK) | id(6, int) | amt(8, amount 2) | tag(5, right '*') | note(8, UTF-8) */
static struct fixlen_field FIELDS[] = {
    {.name = "name", .key = "cust_name", .offset = 0, .length = 10, .enc = FIXLEN_GBK},
    {.name = "id", .offset = 10, .length = 6, .type = FIXLEN_INT, .align = FIXLEN_RIGHT},
    {.name = "amt",
     .offset = 16,
     .length = 8,
     .type = FIXLEN_AMOUNT,
     .align = FIXLEN_RIGHT,
     .scale = 2},
    {.name = "tag", .offset = 24, .length = 5, .align = FIXLEN_RIGHT, .pad = '*'},
    {.name = "note", .offset = 30, .length = 8}, /* byte 29 is filler */
};
static const struct fixlen_layout L = {"test", 38, 5, FIELDS};

static json_t *rec(const char *name)
{
    return json_pack("{s:s,s:i,s:s,s:s,s:s}", "cust_name", name, "id", 42, "amt", "12.5", "tag",
                     "ab", "note", "ok");
}

static void gbk_round_trip(void **state)
{
    static const struct {
        const char *utf8;
        const char *gbk;
    } NAMES[] = {{"张三", "\xD5\xC5\xC8\xFD"}, {"欧阳娜娜", "\xC5\xB7\xD1\xF4\xC4\xC8\xC4\xC8"}};
    assert_int_equal(fixlen_check(&L, NULL), 0);
    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[64];
        struct fixlen_error e;
        json_t *in = rec(NAMES[i].utf8);
        assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), 0);
        size_t gl = strlen(NAMES[i].gbk);
        assert_memory_equal(buf, NAMES[i].gbk, gl);
        for (size_t k = gl; k < 10; k++)
            assert_int_equal(buf[k], ' ');
        assert_memory_equal(buf + 10,
                            "000042"
                            "00001250"
                            "***ab"
                            " "
                            "ok      ",
                            28);
        json_t *out;
        assert_int_equal(fixlen_decode(&L, buf, 38, false, &out, &e), 0);
        assert_string_equal(json_string_value(json_object_get(out, "cust_name")), NAMES[i].utf8);
        assert_int_equal(json_integer_value(json_object_get(out, "id")), 42);
        assert_string_equal(json_string_value(json_object_get(out, "amt")), "12.50");
        assert_string_equal(json_string_value(json_object_get(out, "tag")), "ab");
        assert_string_equal(json_string_value(json_object_get(out, "note")), "ok");
        json_decref(out);
        json_decref(in);
    }
}

static void overflow_names_the_field(void **state)
{
    struct fixlen_field f[] = {{.name = "name", .offset = 0, .length = 6, .enc = FIXLEN_GBK}};
    struct fixlen_layout l = {"open_account request", 6, 1, f};
    uint8_t buf[16];
    struct fixlen_error e;
    json_t *in = json_pack("{s:s}", "name", "欧阳娜娜"); /* 8 bytes in GBK */
    assert_int_equal(fixlen_encode(&l, in, buf, sizeof buf, &e), -1);
    assert_string_equal(e.field, "name");
    assert_non_null(strstr(e.msg, "open_account request: field 'name'"));
    assert_non_null(strstr(e.msg, "8 bytes in GBK, the field holds 6"));
    assert_null(strstr(e.msg, "欧阳")); /* never the value itself */
    f[0].enc = FIXLEN_UTF8;
    f[0].length = 11;
    l.length = 11;
    assert_int_equal(fixlen_encode(&l, in, buf, sizeof buf, &e), -1); /* 12 bytes in UTF-8 */
    assert_non_null(strstr(e.msg, "12 bytes in UTF-8, the field holds 11"));
    json_decref(in);
}

static void numbers_never_lose_digits(void **state)
{
    uint8_t buf[64];
    struct fixlen_error e;
    json_t *in = rec("张三");
    json_object_set_new(in, "id", json_integer(1234567)); /* 7 digits in 6 */
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    assert_string_equal(e.field, "id");
    assert_non_null(strstr(e.msg, "7 digits"));
    json_object_set_new(in, "id", json_integer(1));
    json_object_set_new(in, "amt", json_string("1.005")); /* never rounded */
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    assert_string_equal(e.field, "amt");
    assert_non_null(strstr(e.msg, "3 decimals"));
    json_object_set_new(in, "amt", json_string("-3"));
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    json_object_set_new(in, "amt", json_string("1234567.89")); /* 9 digits in 8 */
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    json_object_set_new(in, "amt", json_integer(7));
    json_object_set_new(in, "id", json_integer(-1));
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    assert_string_equal(e.field, "id");
    json_object_set_new(in, "id", json_string("0042"));
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), 0);
    assert_memory_equal(buf + 10,
                        "000042"
                        "00000700",
                        14);
    json_decref(in);
}

static void text_that_cannot_be_written_is_an_error(void **state)
{
    uint8_t buf[64];
    struct fixlen_error e;
    json_t *in = rec("笑\xF0\x9F\x98\x80"); /* an emoji has no GBK code */
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    assert_string_equal(e.field, "name");
    assert_non_null(strstr(e.msg, "json 'cust_name'"));
    json_object_set_new(in, "cust_name", json_string("a\tb"));
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    assert_non_null(strstr(e.msg, "control character"));
    json_object_set_new(in, "cust_name", json_integer(5));
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    assert_non_null(strstr(e.msg, "must be a string"));
    json_object_del(in, "cust_name");
    FIELDS[0].required = true;
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), -1);
    assert_non_null(strstr(e.msg, "is required"));
    FIELDS[0].required = false;
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), 0); /* optional: blank */
    assert_memory_equal(buf, "          ", 10);
    json_decref(in);
}

static void bad_records_are_errors(void **state)
{
    uint8_t buf[64];
    struct fixlen_error e;
    json_t *in = rec("张三"), *out = NULL;
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), 0);
    json_decref(in);
    assert_int_equal(fixlen_decode(&L, buf, 37, false, &out, &e), -1); /* one byte short */
    assert_null(out);
    assert_int_equal(fixlen_decode(&L, buf, 39, true, &out, &e), -1); /* too long */
    buf[12] = 'x';
    assert_int_equal(fixlen_decode(&L, buf, 38, false, &out, &e), -1);
    assert_string_equal(e.field, "id");
    assert_non_null(strstr(e.msg, "is not a number"));
    buf[12] = '0';
    buf[0] = 0xFF; /* not GBK */
    assert_int_equal(fixlen_decode(&L, buf, 38, false, &out, &e), -1);
    assert_string_equal(e.field, "name");
    buf[0] = 0xD5;
    buf[3] = 0x01; /* a control byte inside the text */
    assert_int_equal(fixlen_decode(&L, buf, 38, false, &out, &e), -1);
    assert_non_null(strstr(e.msg, "control character"));
}

static void partial_records_keep_whole_fields(void **state)
{
    uint8_t buf[64];
    struct fixlen_error e;
    json_t *in = rec("张三"), *out = NULL;
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), 0);
    assert_int_equal(fixlen_decode(&L, buf, 20, true, &out, &e), 0);
    assert_non_null(json_object_get(out, "id"));
    assert_null(json_object_get(out, "amt")); /* cut: left out, not half-read */
    json_decref(out);
    json_decref(in);
}

static void layouts_are_checked(void **state)
{
    struct fixlen_error e;
    struct fixlen_field f[] = {
        {.name = "a", .offset = 0, .length = 4},
        {.name = "b", .offset = 3, .length = 4},
    };
    struct fixlen_layout l = {"bad", 10, 2, f};
    assert_int_equal(fixlen_check(&l, &e), -1);
    assert_string_equal(e.field, "b");
    f[1].offset = 8; /* past the end */
    assert_int_equal(fixlen_check(&l, &e), -1);
    f[1].offset = 4;
    snprintf(f[1].name, sizeof f[1].name, "a");
    assert_int_equal(fixlen_check(&l, &e), -1);
    assert_non_null(strstr(e.msg, "appears twice"));
    snprintf(f[1].name, sizeof f[1].name, "b");
    f[1].type = FIXLEN_INT;
    f[1].enc = FIXLEN_GBK;
    assert_int_equal(fixlen_check(&l, &e), -1);
    f[1].enc = FIXLEN_UTF8;
    assert_int_equal(fixlen_check(&l, &e), 0);
}

static void convert_is_strict(void **state)
{
    char *out;
    size_t n;
    assert_int_equal(fixlen_convert(FIXLEN_UTF8, FIXLEN_GBK, "张三", 6, &out, &n), 0);
    assert_int_equal(n, 4);
    free(out);
    assert_int_equal(fixlen_convert(FIXLEN_UTF8, FIXLEN_UTF8, "\xC0\x80", 2, &out, &n), -1);
    assert_int_equal(fixlen_convert(FIXLEN_UTF8, FIXLEN_UTF8, "\xED\xA0\x80", 3, &out, &n), -1);
    assert_int_equal(fixlen_convert(FIXLEN_UTF8, FIXLEN_GBK, "\xE5\xBC", 2, &out, &n), -1);
    assert_int_equal(fixlen_convert(FIXLEN_GBK, FIXLEN_UTF8, "\xD5", 1, &out, &n), -1);
}

/* GBK's single byte 0x80 is the euro sign, three bytes in UTF-8: a field of
 * them that encodes must decode (found by fuzz_fixlen). */
static void euro_signs_round_trip(void **state)
{
    char *out;
    size_t n;
    assert_int_equal(
        fixlen_convert(FIXLEN_GBK, FIXLEN_UTF8, "\x80\x80\x80\x80\x80\x80", 6, &out, &n), 0);
    assert_int_equal(n, 18);
    assert_string_equal(out, "€€€€€€");
    free(out);
    uint8_t buf[64];
    struct fixlen_error e;
    json_t *in = json_pack("{s:s}", "cust_name", "€€€€€€€€€€"), *back;
    assert_int_equal(fixlen_encode(&L, in, buf, sizeof buf, &e), 0);
    assert_memory_equal(buf, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 10);
    assert_int_equal(fixlen_decode(&L, buf, 38, false, &back, &e), 0);
    assert_string_equal(json_string_value(json_object_get(back, "cust_name")), "€€€€€€€€€€");
    json_decref(back);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gbk_round_trip),
        cmocka_unit_test(overflow_names_the_field),
        cmocka_unit_test(numbers_never_lose_digits),
        cmocka_unit_test(text_that_cannot_be_written_is_an_error),
        cmocka_unit_test(bad_records_are_errors),
        cmocka_unit_test(partial_records_keep_whole_fields),
        cmocka_unit_test(layouts_are_checked),
        cmocka_unit_test(convert_is_strict),
        cmocka_unit_test(euro_signs_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
