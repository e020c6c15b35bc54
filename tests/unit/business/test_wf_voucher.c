/* The voucher step's fields (business/wf_voucher.h): built generically from
 * the done steps' out through the label table — the account number under
 * 账号, the card number masked, fen shown as 元, arrays joined, booleans
 * 是/否, an unknown member under its own name, each member once, and what
 * the voucher shows apart (name, ID number) or technical counters left out. */
#include "business/wf_voucher.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *value(const struct voucher_field *f, size_t n, const char *label)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].label, label) == 0)
            return f[i].value;
    return NULL;
}

static void debit_outs_give_the_account_and_masked_card(void **state)
{
    (void)state;
    json_t *outs = json_loads(
        "{\"idcard\":{\"name\":\"赵*\",\"id_no\":\"440106********4416\"},"
        "\"idcheck\":{\"result\":\"match\",\"photo_returned\":true},"
        "\"face\":{\"score\":91.5,\"threshold\":80},"
        "\"customer\":{\"customer_id\":7,\"cust_no\":\"C000000000000042\",\"created\":true},"
        "\"account\":{\"account_no\":\"6228480000000012345\"},"
        "\"card\":{\"card_no\":\"6228480000000099994\"},"
        "\"pin\":{\"pin_set\":true},"
        "\"signature\":{\"strokes\":2,\"image_bytes\":120}}",
        0, NULL);
    assert_non_null(outs);
    struct wf_voucher_buf *buf = calloc(1, sizeof *buf);
    struct voucher_field f[VOUCHER_FIELDS_MAX];
    size_t n = wf_voucher_fields(outs, buf, f);
    assert_string_equal(value(f, n, "账号"), "6228480000000012345");
    const char *card = value(f, n, "卡号");
    assert_non_null(card);
    assert_null(strstr(card, "0000000099994")); /* masked */
    assert_int_equal(strlen(card), 19);
    assert_memory_equal(card, "6228", 4);
    assert_string_equal(value(f, n, "客户号"), "C000000000000042");
    assert_string_equal(value(f, n, "联网核查"), "match");
    /* shown apart or technical: not fields */
    for (size_t i = 0; i < n; i++) {
        assert_null(strstr(f[i].value, "赵"));
        assert_string_not_equal(f[i].label, "score");
        assert_string_not_equal(f[i].label, "strokes");
        assert_string_not_equal(f[i].label, "id_no");
    }
    assert_int_equal(n, 4);
    json_decref(outs);
    free(buf);
}

static void formats_unknown_members_and_duplicates(void **state)
{
    (void)state;
    json_t *outs = json_loads("{\"apply\":{\"amount\":12345607,\"term_months\":36,"
                              "\"purpose\":\"经营周转\",\"products\":[\"手机银行\",\"网上银行\"],"
                              "\"limit\":5000000,\"insured\":false,\"extra\":{\"x\":1},"
                              "\"policy_no\":\"P-77\"},"
                              "\"again\":{\"amount\":1,\"status\":\"已激活\"}}",
                              0, NULL);
    assert_non_null(outs);
    struct wf_voucher_buf *buf = calloc(1, sizeof *buf);
    struct voucher_field f[VOUCHER_FIELDS_MAX];
    size_t n = wf_voucher_fields(outs, buf, f);
    assert_string_equal(value(f, n, "金额"), "123456.07 元"); /* the first one only */
    assert_string_equal(value(f, n, "期限(月)"), "36");
    assert_string_equal(value(f, n, "用途"), "经营周转");
    assert_string_equal(value(f, n, "签约产品"), "手机银行、网上银行");
    assert_string_equal(value(f, n, "额度"), "50000.00 元");
    assert_string_equal(value(f, n, "insured"), "否");
    assert_string_equal(value(f, n, "policy_no"), "P-77");
    assert_string_equal(value(f, n, "状态"), "已激活");
    assert_null(value(f, n, "extra")); /* objects are left out */
    assert_int_equal(n, 8);
    json_decref(outs);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debit_outs_give_the_account_and_masked_card),
        cmocka_unit_test(formats_unknown_members_and_duplicates),
    };
    return cmocka_run_group_tests_name("wf_voucher", tests, NULL, NULL);
}
