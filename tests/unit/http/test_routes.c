/* routes: the platform's route table keeps the front's policy — one route
 * per method and path, no body on GET routes, the management API's writes on
 * the small admin limit (but the app store's upload, spooled to a file),
 * HEAD only beside a GET of the same path, flow control on the ZY1 route (by TX) and on the
 * console login (ADMIN_LOGIN) only, /metrics restricted. */
#include "http/handlers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void table_keeps_the_policy(void **state)
{
    size_t n;
    const struct http_route *r = routes_table(&n);
    assert_true(n > 10);
    int flow_routes = 0, restricted = 0;
    for (size_t i = 0; i < n; i++) {
        assert_non_null(r[i].fn);
        assert_non_null(r[i].label);
        assert_true(strcmp(r[i].method, "GET") == 0 || strcmp(r[i].method, "POST") == 0 ||
                    strcmp(r[i].method, "HEAD") == 0);
        if (strcmp(r[i].method, "HEAD") == 0) {
            bool get = false;
            for (size_t j = 0; j < n; j++)
                get = get || (strcmp(r[j].method, "GET") == 0 &&
                              strcmp(r[j].path, r[i].path) == 0 && r[j].fn == r[i].fn);
            if (!get || r[i].body != HTTP_BODY_NONE)
                fail_msg("HEAD %s: not the twin of a GET route", r[i].path);
        }
        if (r[i].body == HTTP_BODY_FILE)
            assert_string_equal(r[i].path, "/api/v1/admin/store/packages");
        for (size_t j = 0; j < i; j++)
            if (strcmp(r[i].method, r[j].method) == 0 && strcmp(r[i].path, r[j].path) == 0)
                fail_msg("two routes for %s %s", r[i].method, r[i].path);
        if (strcmp(r[i].method, "GET") == 0 && r[i].body != HTTP_BODY_NONE)
            fail_msg("GET %s takes a body", r[i].path);
        if (starts(r[i].path, "/api/v1/admin/") && strcmp(r[i].method, "POST") == 0) {
            assert_true(r[i].body == HTTP_BODY_ADMIN || r[i].body == HTTP_BODY_FILE);
            assert_true(r[i].offload);
        }
        if (r[i].body == HTTP_BODY_TX)
            assert_string_equal(r[i].path, "/api/v1/tx/");
        if (r[i].flow_arg || r[i].flow_key) {
            flow_routes++;
            if (r[i].flow_arg) {
                assert_string_equal(r[i].path, "/api/v1/tx/");
                assert_true(r[i].prefix);
            } else {
                assert_string_equal(r[i].path, "/api/v1/admin/login");
                assert_string_equal(r[i].flow_key, "ADMIN_LOGIN");
            }
        }
        if (r[i].restricted) {
            restricted++;
            assert_string_equal(r[i].path, "/metrics");
        }
    }
    assert_int_equal(flow_routes, 2);
    assert_int_equal(restricted, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_keeps_the_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
