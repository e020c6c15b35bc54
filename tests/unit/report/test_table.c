/* The exported table (report/table.h) and its writers: cells taken by dot
 * path and typed; CSV per RFC 4180 with a BOM, numbers unquoted, formulas
 * neutralised; XLSX a zip archive holding the sheet. */
#include "report/table.h"
#include "report/table_csv.h"
#include "report/table_xlsx.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const struct rt_column COLS[] = {
    {.path = "code", .title = "代码", .type = RT_TEXT},
    {.path = "f.n", .title = "笔数", .type = RT_INT},
    {.path = "f.r", .title = "比率", .type = RT_NUM},
    {.path = "f.amount", .title = "金额(元)", .type = RT_NUM, .div = 100},
};

static void fill(struct rt_table *t, const char *rows)
{
    json_t *src = json_loads(rows, 0, NULL);
    assert_non_null(src);
    assert_int_equal(rt_init(t, "表", COLS, 4), RT_OK);
    assert_int_equal(rt_fill(t, src, NULL), RT_OK);
    json_decref(src);
}

static char *csv_of(const char *rows)
{
    struct rt_table t;
    fill(&t, rows);
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(rt_csv(&t, &out, &len), RT_OK);
    assert_int_equal(strlen(out), len);
    rt_free(&t);
    return out;
}

static void csv_plain(void **state)
{
    (void)state;
    char *s = csv_of("[{\"code\":\"B01\",\"f\":{\"n\":3,\"r\":0.25,\"amount\":12345}},"
                     "{\"code\":\"B02\"}]");
    assert_string_equal(s, "\xEF\xBB\xBF"
                           "代码,笔数,比率,金额(元)\r\n"
                           "B01,3,0.25,123.45\r\n"
                           "B02,,,\r\n");
    free(s);
}

static void csv_quoting(void **state)
{
    (void)state;
    char *s = csv_of("[{\"code\":\"a,b\"},{\"code\":\"say \\\"hi\\\"\"},{\"code\":\"two\\nlines\"},"
                     "{\"code\":42}]");
    assert_string_equal(s, "\xEF\xBB\xBF"
                           "代码,笔数,比率,金额(元)\r\n"
                           "\"a,b\",,,\r\n"
                           "\"say \"\"hi\"\"\",,,\r\n"
                           "\"two\nlines\",,,\r\n"
                           "42,,,\r\n");
    free(s);
}

static void csv_formulas(void **state)
{
    (void)state;
    char *s =
        csv_of("[{\"code\":\"=1+1\"},{\"code\":\"+86\"},{\"code\":\"-2\"},{\"code\":\"@SUM(A1)\"},"
               "{\"code\":\"a=b\"}]");
    assert_string_equal(s, "\xEF\xBB\xBF"
                           "代码,笔数,比率,金额(元)\r\n"
                           "'=1+1,,,\r\n"
                           "'+86,,,\r\n"
                           "'-2,,,\r\n"
                           "'@SUM(A1),,,\r\n"
                           "a=b,,,\r\n");
    free(s);
    /* A negative number is a number, not a formula. */
    s = csv_of("[{\"code\":\"x\",\"f\":{\"n\":-3}}]");
    assert_non_null(strstr(s, "x,-3,,\r\n"));
    free(s);
}

static void xlsx_is_a_zip(void **state)
{
    (void)state;
    struct rt_table t;
    fill(&t, "[{\"code\":\"=1+1\",\"f\":{\"n\":3}}]");
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(rt_xlsx(&t, NULL, &out, &len), RT_OK);
    assert_true(len > 100);
    assert_memory_equal(out, "PK\x03\x04", 4);
    free(out);
    rt_free(&t);
}

static void paths(void **state)
{
    (void)state;
    json_t *o = json_loads("{\"a\":{\"b\":{\"c\":7}}}", 0, NULL);
    assert_int_equal(json_integer_value(rt_path(o, "a.b.c")), 7);
    assert_null(rt_path(o, "a.x.c"));
    assert_null(rt_path(o, "a.b.c.d"));
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_plain),    cmocka_unit_test(csv_quoting),
        cmocka_unit_test(csv_formulas), cmocka_unit_test(xlsx_is_a_zip),
        cmocka_unit_test(paths),
    };
    return cmocka_run_group_tests_name("report_table", tests, NULL, NULL);
}
