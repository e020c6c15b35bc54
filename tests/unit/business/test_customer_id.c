/* customer_id: GB 11643 resident ID numbers (region, birth date, ISO 7064
 * MOD 11-2 check character), GB 32100 unified social credit codes and
 * mobile numbers, valid and invalid, checked against the standards'
 * published examples and numbers built by hand. */
#include "business/customer_id.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define TODAY 20260315

static int resident(const char *in)
{
    char out[CID_LEN + 1] = "untouched";
    int rc = cid_resident(in, TODAY, out);
    if (rc != CID_OK)
        assert_string_equal(out, "untouched"); /* nothing written on a refusal */
    return rc;
}

static void resident_valid(void **state)
{
    (void)state;
    char out[CID_LEN + 1];
    /* GB 11643-1999's own example, check character X. */
    assert_int_equal(cid_resident("11010519491231002X", TODAY, out), CID_OK);
    assert_string_equal(out, "11010519491231002X");
    /* lowercase x is normalised. */
    assert_int_equal(cid_resident("11010519491231002x", TODAY, out), CID_OK);
    assert_string_equal(out, "11010519491231002X");
    /* The standard's other example, born 1880. */
    assert_int_equal(cid_resident("440524188001010014", TODAY, out), CID_OK);
    assert_int_equal(resident("330102199001011234"), CID_OK);
    assert_int_equal(resident("520102197805050024"), CID_OK);
    /* 29 February of a leap year, and of 2000 (divisible by 400). */
    assert_int_equal(resident("330102200002290015"), CID_OK);
    /* Hong Kong residents' residence permit: 810000. */
    assert_int_equal(resident("810000199001010019"), CID_OK);
    /* Birth date and sex from the number. */
    assert_int_equal(cid_birth("11010519491231002X"), 19491231);
    assert_int_equal(cid_sex("11010519491231002X"), 'F');
    assert_int_equal(cid_sex("330102199001011234"), 'M');
}

static void resident_invalid(void **state)
{
    (void)state;
    /* Length: 17, 19, the old 15-digit form, empty, NULL. */
    assert_int_equal(resident("33010219900101123"), CID_LENGTH);
    assert_int_equal(resident("3301021990010112345"), CID_LENGTH);
    assert_int_equal(resident("330102900101123"), CID_LENGTH);
    assert_int_equal(resident(""), CID_LENGTH);
    assert_int_equal(resident(NULL), CID_LENGTH);
    /* Characters: a letter inside, X anywhere but last, a space. */
    assert_int_equal(resident("3301021990A1011234"), CID_CHARS);
    assert_int_equal(resident("33010219900101123Y"), CID_CHARS);
    assert_int_equal(resident("X30102199001011234"), CID_CHARS);
    assert_int_equal(resident("330102 99001011234"), CID_CHARS);
    /* Region: no such province (00, 10, 99), the province itself, an HK
     * permit with a district code. */
    assert_int_equal(resident("000102199001011234"), CID_REGION);
    assert_int_equal(resident("100102199001011234"), CID_REGION);
    assert_int_equal(resident("990102199001011234"), CID_REGION);
    assert_int_equal(resident("110000199001010013"), CID_REGION);
    assert_int_equal(resident("810102199001011234"), CID_REGION);
    /* Birth date: 30 February, 29 February 1999, month 13, day 00, day 32,
     * 31 September, before 1850, after today (2099). */
    assert_int_equal(resident("330102199002300011"), CID_DATE);
    assert_int_equal(resident("430121199902290018"), CID_DATE);
    assert_int_equal(resident("330102199013010011"), CID_DATE);
    assert_int_equal(resident("330102199001000011"), CID_DATE);
    assert_int_equal(resident("330102199001320011"), CID_DATE);
    assert_int_equal(resident("330102199009310011"), CID_DATE);
    assert_int_equal(resident("330102184912310011"), CID_DATE);
    assert_int_equal(resident("330102209912310012"), CID_DATE);
    /* Check character: every wrong one of a valid number. */
    const char *const checks = "0123456789X";
    for (const char *p = checks; *p; p++) {
        char id[CID_LEN + 1] = "11010519491231002X";
        id[17] = *p;
        assert_int_equal(resident(id), *p == 'X' ? CID_OK : CID_CHECK);
    }
    /* One digit changed: the check character catches it. */
    assert_int_equal(resident("330102199001011243"), CID_CHECK);
    assert_int_equal(resident("330102199001011235"), CID_CHECK);
}

static int uscc(const char *in)
{
    char out[CID_LEN + 1];
    return cid_uscc(in, out);
}

static void uscc_cases(void **state)
{
    (void)state;
    char out[CID_LEN + 1];
    /* A published code (check character 3), and built ones. */
    assert_int_equal(cid_uscc("91350100M000100Y43", out), CID_OK);
    assert_string_equal(out, "91350100M000100Y43");
    assert_int_equal(uscc("913101157895123458"), CID_OK);
    assert_int_equal(uscc("12330100002512345J"), CID_OK);
    assert_int_equal(uscc("92330102MA2H3K5L6J"), CID_OK);
    /* Lowercase is normalised. */
    assert_int_equal(cid_uscc("91350100m000100y43", out), CID_OK);
    assert_string_equal(out, "91350100M000100Y43");
    /* Every other check character is refused. */
    for (const char *p = "0123456789ABCDEFGHJKLMNPQRTUWXY"; *p; p++) {
        char code[CID_LEN + 1] = "91350100M000100Y43";
        code[17] = *p;
        assert_int_equal(uscc(code), *p == '3' ? CID_OK : CID_CHECK);
    }
    /* Length, alphabet (I, O, S, V, Z are not in it), region digits,
     * registration authority. */
    assert_int_equal(uscc("91350100M000100Y4"), CID_LENGTH);
    assert_int_equal(uscc(NULL), CID_LENGTH);
    assert_int_equal(uscc("91350100I000100Y43"), CID_CHARS);
    assert_int_equal(uscc("91350100O000100Y43"), CID_CHARS);
    assert_int_equal(uscc("91350100S000100Y43"), CID_CHARS);
    assert_int_equal(uscc("9135010-M000100Y43"), CID_CHARS);
    assert_int_equal(uscc("913501A0M000100Y43"), CID_CHARS);
    assert_int_equal(uscc("01350100M000100Y43"), CID_AUTHORITY);
    assert_int_equal(uscc("B1350100M000100Y43"), CID_AUTHORITY);
}

static void mobile_cases(void **state)
{
    (void)state;
    char out[CID_PHONE_LEN + 1];
    assert_int_equal(cid_mobile("13812345678", out), CID_OK);
    assert_string_equal(out, "13812345678");
    assert_int_equal(cid_mobile("19912345678", out), CID_OK);
    assert_int_equal(cid_mobile("1381234567", out), CID_LENGTH);
    assert_int_equal(cid_mobile("138123456789", out), CID_LENGTH);
    assert_int_equal(cid_mobile("+8613812345", out), CID_CHARS);
    assert_int_equal(cid_mobile("1381234567a", out), CID_CHARS);
    assert_int_equal(cid_mobile("12812345678", out), CID_REGION);
    assert_int_equal(cid_mobile("23812345678", out), CID_REGION);
    assert_int_equal(cid_mobile(NULL, out), CID_LENGTH);
}

static void messages(void **state)
{
    (void)state;
    for (int rc = CID_OK; rc <= CID_AUTHORITY; rc++)
        assert_true((unsigned char)cid_message(rc)[0] >= 0x80); /* Chinese, never NULL */
    assert_non_null(cid_message(99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resident_valid), cmocka_unit_test(resident_invalid),
        cmocka_unit_test(uscc_cases),     cmocka_unit_test(mobile_cases),
        cmocka_unit_test(messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
