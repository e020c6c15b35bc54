/* Unit tests for data/mariadb_admin: the GTID comparison a failover decides
 * on, and the refusals that need no server (a malformed list or target, a
 * target not listed, a target that does not answer). */
#include "data/mariadb_admin.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int lacks(const char *have, const char *want, char *what)
{
    return mdba_gtid_lacks(have, want, what, 128);
}

static void gtid_holds_what_it_reached(void **state)
{
    (void)state;
    char what[128] = "";
    assert_int_equal(lacks("", "", what), 0);
    assert_int_equal(lacks("0-1-5", "", what), 0);
    assert_int_equal(lacks("0-1-5", "0-1-5", what), 0);
    assert_int_equal(lacks("0-1-9", "0-1-5", what), 0);
    /* server ids are not compared: a promotion changes them, not the order */
    assert_int_equal(lacks("0-3-10", "0-1-9", what), 0);
    assert_int_equal(lacks("0-1-5,1-2-3", "1-2-3", what), 0);
    assert_int_equal(lacks("1-2-3, 0-1-5", "0-1-4,1-7-2", what), 0);
    assert_int_equal(lacks("0-1-5\n", "0-1-5", what), 0);
}

static void gtid_lacks_names_the_domain(void **state)
{
    (void)state;
    char what[128] = "";
    assert_int_equal(lacks("0-1-5", "0-1-6", what), 1);
    assert_string_equal(what, "domain 0: has 0-1-5, lacks up to 0-1-6");
    assert_int_equal(lacks("0-1-5,1-2-3", "0-1-5,1-2-4", what), 1);
    assert_string_equal(what, "domain 1: has 1-2-3, lacks up to 1-2-4");
    assert_int_equal(lacks("0-1-5", "0-1-5,2-1-1", what), 1);
    assert_string_equal(what, "domain 2: has none, lacks up to 2-1-1");
    assert_int_equal(lacks("", "0-1-1", what), 1);
    assert_string_equal(what, "domain 0: has none, lacks up to 0-1-1");
    assert_int_equal(lacks("0-3-10", "0-1-11", NULL), 1); /* what may be NULL */
}

static void gtid_malformed(void **state)
{
    (void)state;
    char what[128] = "";
    assert_int_equal(lacks("0-1", "0-1-1", what), -1);
    assert_int_equal(lacks("0-1-1", "a-b-c", what), -1);
    assert_int_equal(lacks("0-1-5x", "0-1-1", what), -1);
    assert_int_equal(lacks("0-1-1", "-1-1-1", what), -1);
    assert_int_equal(lacks("0-1-99999999999999999999999", "0-1-1", what), -1);
}

static void quiet(void *arg, const char *line)
{
    (void)line;
    ++*(int *)arg;
}

static void refusals_without_a_server(void **state)
{
    (void)state;
    int lines = 0;
    struct mdba_options o = {.admin_user = "admin",
                             .admin_password = "",
                             .repl_user = "repl",
                             .repl_password = "",
                             .connect_timeout_s = 1,
                             .wait_s = 1,
                             .say = quiet,
                             .say_arg = &lines};
    struct mdba_cluster c;
    assert_int_equal(mdba_open(&c, "127.0.0.1", &o), MDBA_USAGE);
    assert_non_null(strstr(mdba_error(&c), "is not HOST:PORT"));
    mdba_close(&c);
    assert_int_equal(mdba_open(&c, "", &o), MDBA_USAGE);
    mdba_close(&c);
    /* Port 1 on loopback: nothing listens, the connection is refused. */
    assert_int_equal(mdba_open(&c, "127.0.0.1:1", &o), MDBA_OK);
    assert_int_equal(c.n, 1);
    assert_false(c.s[0].reachable);
    assert_true(c.s[0].error[0] != '\0');
    assert_int_equal(mdba_failover(&c, "standby"), MDBA_USAGE);
    assert_int_equal(mdba_failover(&c, "127.0.0.1:2"), MDBA_REFUSED);
    assert_non_null(strstr(mdba_error(&c), "not one of the configured servers (127.0.0.1:1)"));
    assert_int_equal(mdba_failover(&c, "127.0.0.1:1"), MDBA_REFUSED);
    assert_non_null(strstr(mdba_error(&c), "127.0.0.1:1 does not answer"));
    assert_int_equal(lines, 0); /* nothing was done, so nothing was said */
    mdba_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gtid_holds_what_it_reached),
        cmocka_unit_test(gtid_lacks_names_the_domain),
        cmocka_unit_test(gtid_malformed),
        cmocka_unit_test(refusals_without_a_server),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
