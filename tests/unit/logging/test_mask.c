/* mask: the bank's display formats, rejections that leak nothing, and the
 * free-text scanner the logger runs on every message. */
#include "foundation/mask.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

typedef long (*mask_fn)(const char *, char *, size_t);

static void expect_mask(mask_fn fn, const char *in, const char *want)
{
    char out[128];
    assert_int_equal(fn(in, out, sizeof out), (long)strlen(want));
    assert_string_equal(out, want);
}

static void expect_reject(mask_fn fn, const char *in)
{
    char out[128];
    memset(out, 'A', sizeof out);
    assert_int_equal(fn(in, out, sizeof out), -1);
    assert_string_equal(out, "***");
}

static void id_no_formats(void **state)
{
    expect_mask(mask_id_no, "330102199001011234", "330102********1234");
    expect_mask(mask_id_no, "11010519491231002X", "110105********002X");
    expect_mask(mask_id_no, "11010519491231002x", "110105********002x");
    expect_mask(mask_id_no, "330102900101123", "330102*****1123");
}

static void id_no_rejects(void **state)
{
    expect_reject(mask_id_no, "");
    expect_reject(mask_id_no, "33010219900101123");   /* 17 */
    expect_reject(mask_id_no, "3301021990010112345"); /* 19 */
    expect_reject(mask_id_no, "3301021990010112X4");  /* X not last */
    expect_reject(mask_id_no, "33010219900101123Y");
    expect_reject(mask_id_no, "33010290010112X"); /* 15 never has X */
    expect_reject(mask_id_no, " 330102199001011234");
    expect_reject(mask_id_no, NULL);
}

static void card_formats(void **state)
{
    expect_mask(mask_card, "6222021234567891234", "6222 **** **** 1234");
    expect_mask(mask_card, "6222021234567891", "6222 **** **** 7891");
    expect_mask(mask_card, "62220212345678912", "6222 **** **** 8912");
    expect_mask(mask_card, "622202123456789123", "6222 **** **** 9123");
    expect_reject(mask_card, "622202123456789");      /* 15 */
    expect_reject(mask_card, "62220212345678912345"); /* 20 */
    expect_reject(mask_card, "6222 0212 3456 7891");
    expect_reject(mask_card, "622202123456789a");
}

static void phone_formats(void **state)
{
    expect_mask(mask_phone, "13812345678", "138****5678");
    expect_mask(mask_phone, "19912345678", "199****5678");
    expect_reject(mask_phone, "12812345678"); /* no 12x mobiles */
    expect_reject(mask_phone, "1381234567");
    expect_reject(mask_phone, "138123456789");
    expect_reject(mask_phone, "1381234567a");
    expect_reject(mask_phone, "+8613812345678");
}

static void name_formats(void **state)
{
    expect_mask(mask_name, "张", "*");
    expect_mask(mask_name, "张三", "张*");
    expect_mask(mask_name, "王小明", "王**");
    expect_mask(mask_name, "欧阳娜娜", "欧***");
    expect_mask(mask_name, "A", "*");
    expect_mask(mask_name, "Li Lei", "L*****");
    expect_mask(mask_name, "𠀀二", "𠀀*"); /* 4-byte first character */
    expect_reject(mask_name, "");
    expect_reject(mask_name, "\xE5\xBC"); /* cut in the middle of 张 */
    expect_reject(mask_name, "\xC0\xAF"); /* overlong '/' */
    expect_reject(mask_name, "\xED\xA0\x80");
    expect_reject(mask_name, "张\n三");
}

/* A result that does not fit must not be cut: the caller would get a prefix
 * of real data. */
static void too_small_buffers(void **state)
{
    char out[32];
    memset(out, 'A', sizeof out);
    assert_int_equal(mask_id_no("330102199001011234", out, 18), -1);
    assert_string_equal(out, "***");
    assert_int_equal(mask_id_no("330102199001011234", out, 19), 18);
    memset(out, 'A', sizeof out);
    assert_int_equal(mask_card("6222021234567891234", out, 19), -1);
    assert_string_equal(out, "***");
    assert_int_equal(mask_card("6222021234567891234", out, 20), 19);
    assert_int_equal(mask_phone("13812345678", out, 11), -1);
    assert_int_equal(mask_phone("13812345678", out, 12), 11);
    assert_int_equal(mask_name("欧阳娜娜", out, 6), -1); /* needs 3 + 3 + 1 */
    assert_string_equal(out, "***");
    assert_int_equal(mask_name("欧阳娜娜", out, 7), 6);
    memset(out, 'A', sizeof out);
    assert_int_equal(mask_phone("13812345678", out, 3), -1);
    assert_string_equal(out, ""); /* "***" does not fit: empty, not a prefix */
    assert_int_equal(mask_phone("13812345678", out, 0), -1);
    assert_int_equal(mask_phone("13812345678", NULL, 16), -1);
    assert_int_equal(mask_text("call 13812345678", out, 16), -1);
    assert_string_equal(out, "***");
    assert_int_equal(mask_text("call 13812345678", out, 17), 16);
    assert_string_equal(out, "call 138****5678");
}

static void expect_text(const char *in, const char *want)
{
    char out[512];
    assert_int_equal(mask_text(in, out, sizeof out), (long)strlen(in));
    assert_string_equal(out, want);
}

static void text_in_chinese(void **state)
{
    expect_text("客户张三，身份证330102199001011234，卡号6222021234567891234，手机13812345678。",
                "客户张三，身份证330102********1234，卡号6222***********1234，手机138****5678。");
    expect_text("旧身份证330102900101123已换发", "旧身份证330102*****1123已换发");
    expect_text("证件11010519491231002X核验通过", "证件110105********002X核验通过");
    expect_text("13812345678", "138****5678");
    expect_text("tel +8613812345678", "tel +86138****5678");
    expect_text("tel +86 138-1234-5678", "tel +86 138-****-5678");
    expect_text("8612812345678", "8612812345678"); /* 13 digits, no mobile inside */
    expect_text("a=13812345678,b=13912345678;", "a=138****5678,b=139****5678;");
    expect_text("(6222021234567891)", "(6222********7891)");
    expect_text("card_62220212345678912", "card_6222*********8912");
}

static void text_grouped_numbers(void **state)
{
    expect_text("卡号 6222 0212 3456 7891 234 已绑定", "卡号 6222 **** **** ***1 234 已绑定");
    expect_text("card 6222-0212-3456-7891.", "card 6222-****-****-7891.");
    expect_text("tel 138 1234 5678", "tel 138 **** 5678");
    expect_text("tel 138-1234-5678 ok", "tel 138-****-5678 ok");
    expect_text("id 330102 19900101 123X", "id 330102 ******** 123X");
    /* Mixed separators are not one number; each run is judged alone. */
    expect_text("6222 0212-3456 7891", "6222 0212-3456 7891");
    /* A phone followed by another number still masks. */
    expect_text("13812345678 1234", "138****5678 1234");
    expect_text("2024-01-15 13812345678", "2024-01-15 138****5678");
    /* Four groups of four read as a card even inside a longer grouping:
     * masking too much is the safe side. */
    expect_text("1234 5678 9012 3456 7890 1", "1234 **** **** 3456 7890 1");
}

/* Digits glued to letters are hashes, trace ids, keys: not PII. */
static void text_adjacent_letters(void **state)
{
    expect_text("tx13812345678", "tx13812345678");
    expect_text("13812345678ab", "13812345678ab");
    expect_text("sha=ab330102199001011234ff", "sha=ab330102199001011234ff");
    expect_text("33010219900101123Xy", "33010219900101123Xy");
    expect_text("330102199001011234X", "330102199001011234X");
}

static void text_not_pii(void **state)
{
    expect_text("order 12345678901234567890 ok", "order 12345678901234567890 ok"); /* 20 */
    expect_text("n=123456789012345678901234567890", "n=123456789012345678901234567890");
    expect_text("12812345678", "12812345678");       /* 11 digits, not a mobile */
    expect_text("138123456789", "138123456789");     /* 12 */
    expect_text("12345678901234", "12345678901234"); /* 14 */
    expect_text("ts 2024-01-15T10:00:00Z", "ts 2024-01-15T10:00:00Z");
    expect_text("", "");
    expect_text("无数字的中文", "无数字的中文");
}

/* Non-ASCII bytes, even malformed ones, pass through untouched. */
static void text_keeps_utf8(void **state)
{
    expect_text("\xE6\x89\x8B"
                "13812345678\xE6",
                "\xE6\x89\x8B"
                "138****5678\xE6");
    expect_text("\xFF"
                "13812345678",
                "\xFF"
                "138****5678");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(id_no_formats),         cmocka_unit_test(id_no_rejects),
        cmocka_unit_test(card_formats),          cmocka_unit_test(phone_formats),
        cmocka_unit_test(name_formats),          cmocka_unit_test(too_small_buffers),
        cmocka_unit_test(text_in_chinese),       cmocka_unit_test(text_grouped_numbers),
        cmocka_unit_test(text_adjacent_letters), cmocka_unit_test(text_not_pii),
        cmocka_unit_test(text_keeps_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
