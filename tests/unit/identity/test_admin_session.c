/* Unit tests for identity/admin_session: console roles only, tokens stored
 * hashed, the derived CSRF token, logout, expiry, and a teller disabled or
 * demoted while logged in. */
#include "channel/sm.h"
#include "data/tenant.h"
#include "foundation/codec.h"
#include "identity/admin_session.h"

#include "idtest.h"

#define S_MS 1000LL

static int open_console(struct fx *f, const char *code, int idle_s, int abs_s,
                        char token[ADMIN_TOKEN_LEN + 1])
{
    struct teller t;
    int rc = teller_find(f->c, code, &t);
    return rc == ID_OK ? TX(f, admin_session_create(f->c, &t, "10.0.0.9", idle_s, abs_s, token))
                       : rc;
}

static void test_create_and_check(void **state)
{
    struct fx *f = *state;
    char token[ADMIN_TOKEN_LEN + 1], key[65], sql[200];
    struct admin_session s;
    assert_int_equal(open_console(f, "admin01", 1800, 3600, token), ID_OK);
    assert_true(admin_token_valid(token));
    assert_int_equal(admin_session_check(f->c, token, &s), ID_OK);
    assert_string_equal(s.teller_code, "admin01");
    assert_string_equal(s.bank_code, "B01");
    assert_string_equal(s.branch_code, "");
    assert_int_equal(s.role, ROLE_BANK_ADMIN);
    assert_int_equal(s.bank_id, bank_id(f, "B01"));
    assert_int_equal(s.idle_ms, 1800 * S_MS);

    /* Only SM3(token) is stored. */
    uint8_t h[SM3_LEN];
    sm_part p = {token, ADMIN_TOKEN_LEN};
    assert_int_equal(sm3_digest(&p, 1, h), SM_OK);
    hex_encode(h, sizeof h, key, sizeof key);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM admin_sessions WHERE sid = '%s'", key);
    assert_int_equal(q_int(f, sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM admin_sessions WHERE sid = '%s'", token);
    assert_int_equal(q_int(f, sql), 0);
    assert_int_equal(
        q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'admin.session_created' AND "
                 "actor = 'teller:admin01'"),
        1);
    /* Two consoles at once are fine. */
    char second[ADMIN_TOKEN_LEN + 1];
    assert_int_equal(open_console(f, "admin01", 1800, 3600, second), ID_OK);
    assert_string_not_equal(token, second);
    assert_int_equal(admin_session_check(f->c, token, &s), ID_OK);
}

static void test_roles(void **state)
{
    struct fx *f = *state;
    char token[ADMIN_TOKEN_LEN + 1];
    assert_false(admin_role_allowed(ROLE_CLIENT_MANAGER));
    assert_false(admin_role_allowed(ROLE_NONE));
    assert_true(admin_role_allowed(ROLE_BRANCH_MANAGER));
    assert_true(admin_role_allowed(ROLE_BANK_ADMIN));
    assert_true(admin_role_allowed(ROLE_PROVINCE_ADMIN));
    assert_int_equal(open_console(f, "demo01", 1800, 3600, token), ID_BAD_INPUT);
    assert_int_equal(open_console(f, "prov01", 0, 3600, token), ID_BAD_INPUT);
    assert_int_equal(open_console(f, "prov01", 1800, SESSION_MAX_S + 1, token), ID_BAD_INPUT);
    assert_int_equal(open_console(f, "prov01", 1800, 3600, token), ID_OK);
}

static void test_csrf(void **state)
{
    struct fx *f = *state;
    char a[ADMIN_TOKEN_LEN + 1], b[ADMIN_TOKEN_LEN + 1];
    char ca[ADMIN_CSRF_LEN + 1], ca2[ADMIN_CSRF_LEN + 1], cb[ADMIN_CSRF_LEN + 1];
    assert_int_equal(open_console(f, "admin01", 1800, 3600, a), ID_OK);
    assert_int_equal(open_console(f, "admin02", 1800, 3600, b), ID_OK);
    assert_int_equal(admin_csrf(a, ca), ID_OK);
    assert_int_equal(admin_csrf(a, ca2), ID_OK);
    assert_int_equal(admin_csrf(b, cb), ID_OK);
    assert_int_equal(strlen(ca), ADMIN_CSRF_LEN);
    assert_string_equal(ca, ca2);
    assert_string_not_equal(ca, cb);
    assert_string_not_equal(ca, a);
    assert_true(admin_token_valid(ca)); /* same alphabet: header-safe */
    assert_int_equal(admin_csrf("short", ca), ID_BAD_INPUT);
    assert_string_equal(ca, "");
}

static void test_logout_and_unknown(void **state)
{
    struct fx *f = *state;
    char token[ADMIN_TOKEN_LEN + 1];
    struct admin_session s;
    assert_int_equal(open_console(f, "admin02", 1800, 3600, token), ID_OK);
    assert_int_equal(TX(f, admin_session_end(f->c, token, "logged_out")), ID_OK);
    assert_int_equal(admin_session_check(f->c, token, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "logged_out");
    assert_int_equal(TX(f, admin_session_end(f->c, token, "logged_out")), ID_NOT_FOUND);
    assert_int_equal(admin_session_check(f->c, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &s), ID_INVALID);
    assert_string_equal(s.end_reason, "unknown");
    assert_int_equal(admin_session_check(f->c, "bad token", &s), ID_INVALID);
    assert_int_equal(admin_session_check(f->c, NULL, &s), ID_INVALID);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'admin.session_ended'"),
                     1);
}

static void test_expiry(void **state)
{
    struct fx *f = *state;
    char idle[ADMIN_TOKEN_LEN + 1], abs_[ADMIN_TOKEN_LEN + 1];
    struct admin_session s;
    assert_int_equal(open_console(f, "admin01", 600, 3600, idle), ID_OK);
    assert_int_equal(open_console(f, "prov01", 3000, 3600, abs_), ID_OK);
    clock_set_offset_ms(500 * S_MS);
    assert_int_equal(admin_session_check(f->c, idle, &s), ID_OK); /* activity */
    assert_int_equal(admin_session_check(f->c, abs_, &s), ID_OK);
    clock_set_offset_ms(1050 * S_MS);
    assert_int_equal(admin_session_check(f->c, idle, &s), ID_OK);
    clock_set_offset_ms(1700 * S_MS);
    assert_int_equal(admin_session_check(f->c, idle, &s), ID_EXPIRED);
    assert_string_equal(s.end_reason, "idle_timeout");
    assert_int_equal(admin_session_check(f->c, abs_, &s), ID_OK);
    clock_set_offset_ms(3601 * S_MS);
    assert_int_equal(admin_session_check(f->c, abs_, &s), ID_EXPIRED);
    assert_string_equal(s.end_reason, "absolute_timeout");
    assert_int_equal(admin_session_check(f->c, abs_, &s), ID_EXPIRED);
}

static void test_disabled_or_demoted(void **state)
{
    struct fx *f = *state;
    char token[ADMIN_TOKEN_LEN + 1], t2[ADMIN_TOKEN_LEN + 1];
    struct admin_session s;
    assert_int_equal(open_console(f, "admin01", 1800, 3600, token), ID_OK);
    assert_int_equal(TX(f, teller_set_active(f->c, ACTOR, "admin01", false)), ID_OK);
    assert_int_equal(admin_session_check(f->c, token, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "teller_disabled");
    assert_int_equal(TX(f, teller_set_active(f->c, ACTOR, "admin01", true)), ID_OK);
    assert_int_equal(admin_session_check(f->c, token, &s), ID_INVALID); /* ended for good */

    assert_int_equal(open_console(f, "admin02", 1800, 3600, t2), ID_OK);
    assert_int_equal(store_exec(f->c, "UPDATE tellers SET role = 'client_manager', branch_id = "
                                      "(SELECT MIN(id) FROM branches) WHERE code = 'admin02'"),
                     STORE_OK);
    assert_int_equal(admin_session_check(f->c, t2, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "role_revoked");
}

/* admin_session_end_teller ends every console of the teller, one audit
 * record each; another administrator's console stays. */
static void test_end_teller(void **state)
{
    struct fx *f = *state;
    char t1[ADMIN_TOKEN_LEN + 1], t2[ADMIN_TOKEN_LEN + 1], p[ADMIN_TOKEN_LEN + 1];
    struct admin_session s;
    struct teller t;
    int64_t ended = -1;
    assert_int_equal(open_console(f, "admin01", 1800, 3600, t1), ID_OK);
    assert_int_equal(open_console(f, "admin01", 1800, 3600, t2), ID_OK);
    assert_int_equal(open_console(f, "prov01", 1800, 3600, p), ID_OK);
    assert_int_equal(teller_find(f->c, "admin01", &t), ID_OK);
    assert_int_equal(TX(f, admin_session_end_teller(f->c, t.id, "password_reset", &ended)), ID_OK);
    assert_int_equal(ended, 2);
    assert_int_equal(admin_session_check(f->c, t1, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "password_reset");
    assert_int_equal(admin_session_check(f->c, t2, &s), ID_INVALID);
    assert_int_equal(admin_session_check(f->c, p, &s), ID_OK);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'admin.session_ended' "
                              "AND target = 'admin01' AND actor = 'system' AND "
                              "detail = '{\"reason\":\"password_reset\"}'"),
                     2);
    assert_int_equal(TX(f, admin_session_end_teller(f->c, t.id, "password_reset", &ended)), ID_OK);
    assert_int_equal(ended, 0);
    assert_int_equal(TX(f, admin_session_end_teller(f->c, t.id, "", NULL)), ID_BAD_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_check, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_roles, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_csrf, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_logout_and_unknown, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_expiry, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_disabled_or_demoted, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_end_teller, fx_setup_demo, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
