/* The rule language of tags (business/tag_rule.h): what parses, what is
 * refused with which line and column, how rules evaluate on facts (null
 * semantics included), the bounds, the canonical form; and the built-in
 * catalogs (tag_catalog.h, product.h) check, with a catalog's bad rule named
 * by its path and position. */
#include "business/product.h"
#include "business/tag_catalog.h"
#include "business/tag_rule.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_t *FACTS;

static bool eval_text(const char *text)
{
    struct tag_rule *r = NULL;
    struct tr_error e;
    if (tr_parse(text, strlen(text), &r, &e) != TR_OK)
        fail_msg("%s: %s", text, e.msg);
    bool v = tr_eval(r, FACTS);
    tr_free(r);
    return v;
}

static void refused(const char *text, int line, int col, const char *what)
{
    struct tag_rule *r = NULL;
    struct tr_error e;
    if (tr_parse(text, strlen(text), &r, &e) != TR_BAD)
        fail_msg("accepted: %s", text);
    assert_null(r);
    if (e.line != line || e.col != col || !strstr(e.msg, what))
        fail_msg("%s: got %d:%d %s, want %d:%d %s", text, e.line, e.col, e.msg, line, col, what);
}

static void evaluates(void **state)
{
    (void)state;
    assert_true(eval_text("age >= 40 and age < 41"));
    assert_true(eval_text("occupation = \"farmer\""));
    assert_false(eval_text("occupation != \"farmer\""));
    assert_true(eval_text("occupation in [\"farmer\", \"self_employed\"]"));
    assert_false(eval_text("occupation not in [\"farmer\"]"));
    assert_true(eval_text("\"deposit\" in products and not (\"loan\" in products)"));
    assert_true(eval_text("assets >= 150000 and assets.land = 100000"));
    assert_true(eval_text("household.size = 3 or false"));
    assert_true(eval_text("age in [39, 40.0, 41]"));
    assert_true(eval_text("(age > 100 or income_band = \"30k_100k\") = true"));
    assert_true(eval_text("-1 < 0.5"));
    assert_true(eval_text("sex = \"F\" and kind = \"person\""));
    assert_true(eval_text("occupation = \"far\\\"mer\" or true"));
    /* Visit and grid facts absent: null; comparisons false, not (...) true. */
    assert_false(eval_text("grid.lead_score >= 0"));
    assert_false(eval_text("grid.lead_score < 0"));
    assert_true(eval_text("not (visit.last_outcome = \"interested\")"));
    assert_true(eval_text("visit.last_outcome = null and age != null"));
    assert_false(eval_text("visit.count in [0, 1]"));
    assert_false(eval_text("turnover != 5"));
    /* Line breaks between tokens. */
    assert_true(eval_text("age > 30\n  and\n  occupation = \"farmer\""));
}

static void refuses_with_position(void **state)
{
    (void)state;
    refused("agee > 3", 1, 1, "未知变量 agee");
    refused("age > 3 and\n  acres >= 10", 2, 3, "未知变量 acres");
    refused("age > \"x\"", 1, 5, "类型不符");
    refused("occupation < \"b\"", 1, 12, "类型不符");
    refused("age", 1, 1, "规则");
    refused("age > 3 and income_band", 1, 13, "'and' 两边");
    refused("not age", 1, 5, "'not' 的对象");
    refused("(age > 3", 1, 9, "')'");
    refused("age > 3 age > 4", 1, 9, "多余的内容");
    refused("", 1, 1, "规则为空");
    refused("age > 3 & age < 5", 1, 9, "无法识别");
    refused("Age > 3", 1, 1, "无法识别");
    refused("\"x\" in [1, 2]", 1, 9, "字符串常量");
    refused("age in [1 2]", 1, 11, "','");
    refused("age in products", 1, 5, "类型不符");
    refused("products = products", 1, 10, "类型不符");
    refused("age > 1234567890123456", 1, 7, "无法识别");
    refused("occupation = \"a\nb\"", 1, 14, "无法识别");
    refused("age not > 3", 1, 9, "'in'");
}

static void bounds(void **state)
{
    (void)state;
    char text[TR_TEXT_MAX + 64];
    /* Nesting. */
    size_t n = 0;
    for (int i = 0; i < TR_DEPTH_MAX + 2; i++)
        text[n++] = '(';
    n += (size_t)snprintf(text + n, sizeof text - n, "age > 1");
    for (int i = 0; i < TR_DEPTH_MAX + 2; i++)
        text[n++] = ')';
    text[n] = '\0';
    struct tag_rule *r = NULL;
    struct tr_error e;
    assert_int_equal(tr_parse(text, n, &r, &e), TR_BAD);
    assert_non_null(strstr(e.msg, "嵌套过深"));
    /* Length. */
    memset(text, ' ', TR_TEXT_MAX + 1);
    memcpy(text, "true", 4);
    assert_int_equal(tr_parse(text, TR_TEXT_MAX + 1, &r, &e), TR_BAD);
    assert_non_null(strstr(e.msg, "过长"));
    assert_int_equal(tr_parse(text, TR_TEXT_MAX, &r, &e), TR_OK);
    tr_free(r);
    /* Nodes: "age > 1 or " repeated. */
    n = 0;
    while (n + 20 < TR_TEXT_MAX)
        n += (size_t)snprintf(text + n, sizeof text - n, "%sage>1", n ? " or " : "");
    assert_int_equal(tr_parse(text, n, &r, &e), TR_BAD);
    assert_non_null(strstr(e.msg, "过于复杂"));
    /* A list of more than TR_LIST_MAX items. */
    n = (size_t)snprintf(text, sizeof text, "age in [");
    for (int i = 0; i <= TR_LIST_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%d", i ? "," : "", i);
    n += (size_t)snprintf(text + n, sizeof text - n, "]");
    assert_int_equal(tr_parse(text, n, &r, &e), TR_BAD);
    assert_non_null(strstr(e.msg, "列表最多"));
}

static void canonical_form(void **state)
{
    (void)state;
    const char *text = "not age >= 18 and \"loan\" in products or occupation not in "
                       "[\"farmer\", \"a\\\\b\"] and assets.land > 0.25";
    struct tag_rule *r = NULL, *r2 = NULL;
    char a[2048], b[2048];
    assert_int_equal(tr_parse(text, strlen(text), &r, NULL), TR_OK);
    assert_true(tr_format(r, a, sizeof a) > 0);
    assert_string_equal(a, "( ( ( not ( age >= 18 ) ) and ( \"loan\" in products ) ) or ( ( "
                           "occupation not in [\"farmer\", \"a\\\\b\"] ) and ( assets.land > "
                           "0.25 ) ) )");
    assert_int_equal(tr_parse(a, strlen(a), &r2, NULL), TR_OK);
    assert_true(tr_format(r2, b, sizeof b) > 0);
    assert_string_equal(a, b);
    assert_int_equal(tr_eval(r, FACTS), tr_eval(r2, FACTS));
    assert_int_equal(tr_format(r, a, 10), -1);
    tr_free(r);
    tr_free(r2);
}

static void catalogs(void **state)
{
    (void)state;
    struct tag_catalog tags;
    struct product_catalog products;
    assert_int_equal(tag_catalog_builtin(&tags), TC_OK);
    assert_true(tags.builtin && tags.n >= 10);
    assert_non_null(tag_catalog_find(&tags, "farmer"));
    assert_int_equal(product_catalog_builtin(&products), TC_OK);
    const char *want[] = {"存款",     "贷款",     "借记卡",   "信用卡",
                          "手机银行", "代理保险", "代理基金", "社保卡"};
    assert_int_equal(products.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < products.n; i++)
        assert_string_equal(products.v[i].name, want[i]);
    product_catalog_free(&products);
    /* A bad rule names its entry, line and column; nothing is kept. */
    struct tag_catalog out;
    struct tc_error e;
    json_t *j = json_loads("[{\"code\":\"a\",\"name\":\"甲\",\"kind\":\"manual\"},"
                           "{\"code\":\"b\",\"name\":\"乙\",\"kind\":\"rule\",\"rule\":\"age > 1 "
                           "and\\nagee < 3\"}]",
                           0, NULL);
    assert_int_equal(tag_catalog_check(j, "tags", &out, &e), TC_BAD);
    assert_string_equal(e.field, "tags[1].rule");
    assert_non_null(strstr(e.msg, "第2行第1列"));
    assert_int_equal(out.n, 0);
    json_decref(j);
    static const struct {
        const char *json, *field;
    } bad[] = {
        {"[{\"code\":\"A\",\"name\":\"甲\",\"kind\":\"manual\"}]", "tags[0].code"},
        {"[{\"code\":\"a\",\"name\":\"\",\"kind\":\"manual\"}]", "tags[0].name"},
        {"[{\"code\":\"a\",\"name\":\"甲\",\"kind\":\"auto\"}]", "tags[0].kind"},
        {"[{\"code\":\"a\",\"name\":\"甲\",\"kind\":\"rule\"}]", "tags[0].rule"},
        {"[{\"code\":\"a\",\"name\":\"甲\",\"kind\":\"manual\",\"rule\":\"true\"}]",
         "tags[0].rule"},
        {"[{\"code\":\"a\",\"name\":\"甲\",\"kind\":\"manual\",\"x\":1}]", "tags[0].x"},
        {"[{\"code\":\"a\",\"name\":\"甲\",\"kind\":\"manual\"},{\"code\":\"a\",\"name\":\"乙\","
         "\"kind\":\"manual\"}]",
         "tags[1].code"},
        {"[1]", "tags[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = json_loads(bad[i].json, 0, NULL);
        assert_int_equal(tag_catalog_check(j, "tags", &out, &e), TC_BAD);
        assert_string_equal(e.field, bad[i].field);
        json_decref(j);
    }
    static const struct {
        const char *json, *field;
    } badp[] = {
        {"[{\"code\":\"p\",\"name\":\"产\",\"category\":\"toy\"}]", "products[0].category"},
        {"[{\"code\":\"p\",\"name\":\"产\",\"category\":\"loan\",\"base\":101}]",
         "products[0].base"},
        {"[{\"code\":\"p\",\"name\":\"产\",\"category\":\"loan\",\"targets\":{\"farmer\":101}}]",
         "products[0].targets.farmer"},
        {"[{\"code\":\"p\",\"name\":\"产\",\"category\":\"loan\",\"targets\":{\"zz\":1}}]",
         "products[0].targets.zz"},
        {"[{\"code\":\"p!\",\"name\":\"产\",\"category\":\"loan\"}]", "products[0].code"},
    };
    for (size_t i = 0; i < sizeof badp / sizeof badp[0]; i++) {
        j = json_loads(badp[i].json, 0, NULL);
        assert_int_equal(product_catalog_check(j, "products", &tags, &products, &e), TC_BAD);
        assert_string_equal(e.field, badp[i].field);
        json_decref(j);
    }
    tag_catalog_free(&tags);
}

static int setup(void **state)
{
    (void)state;
    FACTS = json_loads("{\"kind\":\"person\",\"age\":40,\"sex\":\"F\",\"occupation\":\"farmer\","
                       "\"income_band\":\"30k_100k\",\"household.size\":3,\"assets\":150000,"
                       "\"assets.land\":100000,\"assets.deposit\":50000,\"products\":"
                       "[\"deposit\"]}",
                       0, NULL);
    return FACTS ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(FACTS);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(evaluates), cmocka_unit_test(refuses_with_position),
        cmocka_unit_test(bounds),    cmocka_unit_test(canonical_form),
        cmocka_unit_test(catalogs),
    };
    return cmocka_run_group_tests_name("tag_rule", tests, setup, teardown);
}
