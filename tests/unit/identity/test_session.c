/* Unit tests for identity/session: tokens stored hashed, single sign-on,
 * idle and absolute expiry, logout, device binding. */
#include "channel/sm.h"
#include "foundation/codec.h"

#include "idtest.h"

#define S_MS 1000LL

static void setup_device(struct fx *f, const char *tlr, const char *dev)
{
    assert_int_equal(activate(f, tlr, dev, 1, NULL), ID_OK);
}

static void test_create_and_check(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1], key[65], sql[200];
    struct session s;
    setup_device(f, "demo01", DEV_A);
    assert_int_equal(login(f, "demo01", DEV_A, 1800, 8 * 3600, sid), ID_OK);
    assert_int_equal(strlen(sid), SESSION_TOKEN_LEN);
    assert_int_equal(session_check(f->c, sid, DEV_A, &s), ID_OK);
    assert_string_equal(s.teller_code, "demo01");
    assert_string_equal(s.dev, DEV_A);
    assert_int_equal(s.bank_id, bank_id(f, "B01"));
    assert_true(s.branch_id > 0);
    assert_int_equal(s.role, ROLE_CLIENT_MANAGER);
    assert_int_equal(s.idle_ms, 1800 * S_MS);

    /* Only SM3(token) is stored. */
    uint8_t h[SM3_LEN];
    sm_part p = {sid, SESSION_TOKEN_LEN};
    assert_int_equal(sm3_digest(&p, 1, h), SM_OK);
    hex_encode(h, sizeof h, key, sizeof key);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM sessions WHERE sid = '%s'", key);
    assert_int_equal(q_int(f, sql), 1);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM sessions WHERE sid = '%s'", sid);
    assert_int_equal(q_int(f, sql), 0);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'session.created'"), 1);
}

static void test_single_sign_on(void **state)
{
    struct fx *f = *state;
    char s1[SESSION_TOKEN_LEN + 1], s2[SESSION_TOKEN_LEN + 1], other[SESSION_TOKEN_LEN + 1];
    struct session s;
    setup_device(f, "demo01", DEV_A);
    setup_device(f, "demo02", DEV_B);
    assert_int_equal(login(f, "demo01", DEV_A, 1800, 3600, s1), ID_OK);
    assert_int_equal(login(f, "demo02", DEV_B, 1800, 3600, other), ID_OK);
    assert_int_equal(login(f, "demo01", DEV_A, 1800, 3600, s2), ID_OK);
    assert_string_not_equal(s1, s2);
    assert_int_equal(session_check(f->c, s1, DEV_A, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "signed_in_elsewhere");
    assert_int_equal(session_check(f->c, s2, DEV_A, &s), ID_OK);
    /* Another teller's session is untouched. */
    assert_int_equal(session_check(f->c, other, DEV_B, &s), ID_OK);
    /* The kick has its own audit record. */
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'session.ended' AND "
                              "target = 'demo01' AND actor = 'teller:demo01' AND detail = "
                              "'{\"dev\":\"" DEV_A "\",\"reason\":\"signed_in_elsewhere\"}'"),
                     1);
}

static void test_idle_expiry(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct session s;
    setup_device(f, "demo03", DEV_C);
    assert_int_equal(login(f, "demo03", DEV_C, 60, 3600, sid), ID_OK);
    clock_set_offset_ms(59 * S_MS);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_OK); /* activity moves the idle end */
    clock_set_offset_ms(118 * S_MS);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_OK);
    clock_set_offset_ms(180 * S_MS);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_EXPIRED);
    assert_string_equal(s.end_reason, "idle_timeout");
    clock_set_offset_ms(0); /* and it stays over, whatever the clock says */
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_EXPIRED);
}

static void test_absolute_expiry(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct session s;
    setup_device(f, "demo03", DEV_C);
    assert_int_equal(login(f, "demo03", DEV_C, 600, 900, sid), ID_OK);
    clock_set_offset_ms(500 * S_MS);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_OK);
    clock_set_offset_ms(899 * S_MS);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_OK);
    clock_set_offset_ms(901 * S_MS);
    assert_int_equal(session_check(f->c, sid, DEV_C, &s), ID_EXPIRED);
    assert_string_equal(s.end_reason, "absolute_timeout");
}

static void test_logout(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct session s;
    setup_device(f, "demo04", DEV_A);
    assert_int_equal(login(f, "demo04", DEV_A, 600, 900, sid), ID_OK);
    assert_int_equal(TX(f, session_end(f->c, sid, "logged_out")), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_A, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "logged_out");
    assert_int_equal(TX(f, session_end(f->c, sid, "logged_out")), ID_NOT_FOUND);
    assert_int_equal(TX(f, session_end(f->c, sid, "Bad Reason")), ID_BAD_INPUT);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'session.ended'"), 1);
}

static void test_unknown_and_wrong_device(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct session s;
    setup_device(f, "demo01", DEV_A);
    assert_int_equal(login(f, "demo01", DEV_A, 600, 900, sid), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_B, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "unknown");
    assert_int_equal(session_check(f->c, sid, DEV_A, &s), ID_OK); /* still live for its device */
    char forged[SESSION_TOKEN_LEN + 1];
    memcpy(forged, sid, sizeof forged);
    forged[0] = forged[0] == 'a' ? 'b' : 'a';
    assert_int_equal(session_check(f->c, forged, DEV_A, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "unknown");
    assert_int_equal(session_check(f->c, "short", DEV_A, &s), ID_INVALID);
    assert_int_equal(session_check(f->c, NULL, DEV_A, &s), ID_INVALID);
}

static void test_create_needs_bound_device(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct teller t;
    setup_device(f, "demo01", DEV_A);
    assert_int_equal(teller_verify_password(f->c, "demo02", PW, NULL, &t), ID_OK);
    assert_int_equal(TX(f, session_create(f->c, &t, DEV_A, 600, 900, sid)), ID_CONFLICT);
    assert_int_equal(TX(f, session_create(f->c, &t, DEV_B, 600, 900, sid)), ID_NOT_FOUND);
    assert_int_equal(TX(f, session_create(f->c, &t, DEV_A, 0, 900, sid)), ID_BAD_INPUT);
    assert_int_equal(TX(f, binding_revoke(f->c, ACTOR, DEV_A)), ID_OK);
    assert_int_equal(teller_verify_password(f->c, "demo01", PW, NULL, &t), ID_OK);
    assert_int_equal(TX(f, session_create(f->c, &t, DEV_A, 600, 900, sid)), ID_DISABLED);
}

static void test_disabled_teller(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1];
    struct session s;
    setup_device(f, "demo02", DEV_B);
    assert_int_equal(login(f, "demo02", DEV_B, 600, 900, sid), ID_OK);
    assert_int_equal(TX(f, teller_set_active(f->c, ACTOR, "demo02", false)), ID_OK);
    assert_int_equal(session_check(f->c, sid, DEV_B, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "teller_disabled");
}

/* session_end_teller ends every live session of the teller, however many
 * (more than one batch here), one audit record each, in the caller's
 * transaction; other tellers' sessions stay. */
static void test_end_teller(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1], other[SESSION_TOKEN_LEN + 1], sql[400];
    struct session s;
    struct teller t;
    int64_t ended = -1;
    setup_device(f, "demo01", DEV_A);
    setup_device(f, "demo02", DEV_B);
    assert_int_equal(login(f, "demo01", DEV_A, 1800, 3600, sid), ID_OK);
    assert_int_equal(login(f, "demo02", DEV_B, 1800, 3600, other), ID_OK);
    assert_int_equal(teller_find(f->c, "demo01", &t), ID_OK);
    /* 20 more live rows of demo01 (as left by an older node, say). */
    for (int i = 0; i < 20; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO sessions (sid, bank_id, teller_id, dev, created_at, last_seen, "
                 "idle_ms, expires_at) VALUES ('%064d', %lld, %lld, '" DEV_A "', %d, %d, 600000, "
                 "%lld)",
                 i, (long long)t.bank_id, (long long)t.id, i, i,
                 (long long)clock_wall_ms() + 3600000);
        assert_int_equal(store_exec(f->c, sql), STORE_OK);
    }
    int64_t before = q_int(f, "SELECT COUNT(*) FROM audit_log");
    assert_int_equal(TX(f, session_end_teller(f->c, t.id, "password_reset", &ended)), ID_OK);
    assert_int_equal(ended, 21);
    assert_int_equal(session_check(f->c, sid, DEV_A, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "password_reset");
    assert_int_equal(q_int(f,
                           "SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL AND teller_id = "
                           "(SELECT id FROM tellers WHERE code = 'demo01')"),
                     0);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log") - before, 21);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'session.ended' AND "
                              "target = 'demo01' AND actor = 'system' AND detail = "
                              "'{\"dev\":\"" DEV_A "\",\"reason\":\"password_reset\"}'"),
                     21);
    assert_int_equal(session_check(f->c, other, DEV_B, &s), ID_OK);
    /* Nothing left: nothing ended, nothing audited. */
    assert_int_equal(TX(f, session_end_teller(f->c, t.id, "password_reset", &ended)), ID_OK);
    assert_int_equal(ended, 0);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log") - before, 21);
    assert_int_equal(TX(f, session_end_teller(f->c, t.id, "Bad Reason", NULL)), ID_BAD_INPUT);
    assert_int_equal(TX(f, session_end_teller(f->c, 0, "password_reset", NULL)), ID_BAD_INPUT);
}

/* session_end_teller_except ends every live session of the teller but the
 * one named, however many (more than one batch), one audit record each;
 * the kept one stays live, other tellers' sessions too. */
static void test_end_teller_except(void **state)
{
    struct fx *f = *state;
    char sid[SESSION_TOKEN_LEN + 1], other[SESSION_TOKEN_LEN + 1], sql[400];
    struct session s;
    struct teller t;
    int64_t ended = -1;
    setup_device(f, "demo01", DEV_A);
    setup_device(f, "demo02", DEV_B);
    assert_int_equal(login(f, "demo01", DEV_A, 1800, 3600, sid), ID_OK);
    assert_int_equal(login(f, "demo02", DEV_B, 1800, 3600, other), ID_OK);
    assert_int_equal(teller_find(f->c, "demo01", &t), ID_OK);
    /* 20 more live rows of demo01, older than the kept one. */
    for (int i = 0; i < 20; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO sessions (sid, bank_id, teller_id, dev, created_at, last_seen, "
                 "idle_ms, expires_at) VALUES ('%064d', %lld, %lld, '" DEV_A "', %d, %d, 600000, "
                 "%lld)",
                 i, (long long)t.bank_id, (long long)t.id, i, i,
                 (long long)clock_wall_ms() + 3600000);
        assert_int_equal(store_exec(f->c, sql), STORE_OK);
    }
    int64_t before = q_int(f, "SELECT COUNT(*) FROM audit_log");
    assert_int_equal(TX(f, session_end_teller_except(f->c, t.id, sid, "password_changed", &ended)),
                     ID_OK);
    assert_int_equal(ended, 20);
    assert_int_equal(session_check(f->c, sid, DEV_A, &s), ID_OK);
    assert_int_equal(q_int(f,
                           "SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL AND teller_id = "
                           "(SELECT id FROM tellers WHERE code = 'demo01')"),
                     1);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM sessions WHERE end_reason = "
                              "'password_changed'"),
                     20);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'session.ended' AND "
                              "target = 'demo01' AND actor = 'system' AND detail = "
                              "'{\"dev\":\"" DEV_A "\",\"reason\":\"password_changed\"}'"),
                     20);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log") - before, 20);
    assert_int_equal(session_check(f->c, other, DEV_B, &s), ID_OK);
    /* Only the kept one left: nothing ended, nothing audited. */
    assert_int_equal(TX(f, session_end_teller_except(f->c, t.id, sid, "password_changed", &ended)),
                     ID_OK);
    assert_int_equal(ended, 0);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log") - before, 20);
    /* Another teller's token keeps nothing of this one's. */
    assert_int_equal(
        TX(f, session_end_teller_except(f->c, t.id, other, "password_changed", &ended)), ID_OK);
    assert_int_equal(ended, 1);
    assert_int_equal(session_check(f->c, sid, DEV_A, &s), ID_INVALID);
    assert_string_equal(s.end_reason, "password_changed");
    assert_int_equal(session_check(f->c, other, DEV_B, &s), ID_OK);
    assert_int_equal(
        TX(f, session_end_teller_except(f->c, t.id, "not-a-token", "password_changed", NULL)),
        ID_BAD_INPUT);
    assert_int_equal(TX(f, session_end_teller_except(f->c, t.id, NULL, "password_changed", NULL)),
                     ID_BAD_INPUT);
    assert_int_equal(TX(f, session_end_teller_except(f->c, t.id, sid, "Bad Reason", NULL)),
                     ID_BAD_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_check, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_single_sign_on, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_idle_expiry, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_absolute_expiry, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_logout, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_wrong_device, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_create_needs_bound_device, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_disabled_teller, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_end_teller, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_end_teller_except, fx_setup_demo, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
