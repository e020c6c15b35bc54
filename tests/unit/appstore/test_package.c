/* package: version strings and their order, app ids and kinds. */
#include "appstore/package.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void test_version_codes(void **state)
{
    (void)state;
    assert_int_equal(pkg_version_code("1.2.3"), 1002003);
    assert_int_equal(pkg_version_code("1.2"), 1002000);
    assert_int_equal(pkg_version_code("7"), 7000000);
    assert_int_equal(pkg_version_code("0.0.0"), 0);
    assert_int_equal(pkg_version_code("9999.999.999"), 9999999999LL);
    /* the order is numeric, not textual */
    assert_true(pkg_version_code("1.10.0") > pkg_version_code("1.9.9"));
    assert_true(pkg_version_code("2.0") > pkg_version_code("1.999.999"));
    const char *bad[] = {"",       "1.",    ".1",  "1..2",   "1.2.3.4", "01.2", "1.02",
                         "1.1000", "10000", "a.b", "1.2-rc", " 1.2",    "-1",   NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(pkg_version_code(bad[i]), -1);
    assert_int_equal(pkg_version_code(NULL), -1);
}

static void test_app_and_kind(void **state)
{
    (void)state;
    assert_true(pkg_valid_app("zhanye.tablet"));
    assert_true(pkg_valid_app("zhanye.shell"));
    assert_false(pkg_valid_app("Zhanye"));
    assert_false(pkg_valid_app("1app"));
    assert_false(pkg_valid_app("a/b"));
    assert_false(pkg_valid_app(""));
    assert_false(pkg_valid_app(NULL));
    assert_true(pkg_valid_kind("h5"));
    assert_true(pkg_valid_kind("apk"));
    assert_false(pkg_valid_kind("zip"));
    char path[64];
    assert_int_equal(pkg_file_path("/d", "ab", path, sizeof path), 0);
    assert_string_equal(path, "/d/store/ab");
    assert_int_equal(pkg_file_path("/d", "ab", path, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_codes),
        cmocka_unit_test(test_app_and_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
