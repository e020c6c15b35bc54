/* Unit tests for identity/teller: Argon2id passwords, lockout after 5
 * failures and unlock after 15 minutes, change and reset, placement rules. */
#include "idtest.h"

#define MIN_MS (60 * 1000)

static void test_verify(void **state)
{
    struct fx *f = *state;
    struct teller t;
    assert_int_equal(teller_verify_password(f->c, "demo01", PW, NULL, &t), ID_OK);
    assert_string_equal(t.code, "demo01");
    assert_string_equal(t.bank_code, "B01");
    assert_string_equal(t.branch_code, "01");
    assert_int_equal(t.role, ROLE_CLIENT_MANAGER);
    assert_true(t.active);
    assert_int_equal(teller_verify_password(f->c, "prov01", PW, NULL, &t), ID_OK);
    assert_int_equal(t.role, ROLE_PROVINCE_ADMIN);
    assert_string_equal(t.bank_code, "P00");
    assert_string_equal(t.branch_code, "");

    assert_int_equal(teller_verify_password(f->c, "demo01", "wrong-pass", NULL, &t),
                     ID_BAD_PASSWORD);
    assert_int_equal(teller_verify_password(f->c, "nobody", PW, NULL, &t), ID_NOT_FOUND);
    assert_int_equal(teller_verify_password(f->c, "bad code", PW, NULL, &t), ID_BAD_INPUT);
    /* Case matters: codes are compared byte for byte. */
    assert_int_equal(teller_verify_password(f->c, "DEMO01", PW, NULL, &t), ID_NOT_FOUND);

    /* Stored as Argon2id with the documented parameters, never the password. */
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM tellers WHERE pw_hash LIKE "
                              "'$argon2id$v=19$m=19456,t=2,p=1$%'"),
                     7);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM tellers WHERE pw_hash LIKE '%Demo@1234%'"), 0);
}

static void test_lockout_and_unlock(void **state)
{
    struct fx *f = *state;
    struct teller t;
    for (int i = 1; i < TELLER_MAX_FAILURES; i++)
        assert_int_equal(teller_verify_password(f->c, "demo02", "wrong-pass", NULL, &t),
                         ID_BAD_PASSWORD);
    /* The fifth failure locks; then even the right password is refused. */
    assert_int_equal(teller_verify_password(f->c, "demo02", "wrong-pass", NULL, &t), ID_LOCKED);
    assert_int_equal(teller_verify_password(f->c, "demo02", PW, NULL, &t), ID_LOCKED);
    clock_set_offset_ms(14 * MIN_MS);
    assert_int_equal(teller_verify_password(f->c, "demo02", PW, NULL, &t), ID_LOCKED);
    clock_set_offset_ms(15 * MIN_MS + 1000);
    assert_int_equal(teller_verify_password(f->c, "demo02", PW, NULL, &t), ID_OK);
    assert_int_equal(t.failed_logins, 0);
    /* The count starts again from zero. */
    assert_int_equal(teller_verify_password(f->c, "demo02", "wrong-pass", NULL, &t),
                     ID_BAD_PASSWORD);
    /* Other tellers were never affected. */
    assert_int_equal(teller_verify_password(f->c, "demo01", PW, NULL, &t), ID_OK);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'teller.locked' "
                              "AND target = 'demo02'"),
                     1);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'login.failed'"), 5);
}

static void test_success_resets_count(void **state)
{
    struct fx *f = *state;
    struct teller t;
    for (int i = 0; i < 4; i++)
        assert_int_equal(teller_verify_password(f->c, "demo03", "nope-nope", NULL, &t),
                         ID_BAD_PASSWORD);
    assert_int_equal(teller_verify_password(f->c, "demo03", PW, NULL, &t), ID_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(teller_verify_password(f->c, "demo03", "nope-nope", NULL, &t),
                         ID_BAD_PASSWORD);
}

static void test_custom_policy(void **state)
{
    struct fx *f = *state;
    struct teller t;
    struct lockout pol = {2, 1000};
    assert_int_equal(teller_verify_password(f->c, "demo04", "nope-nope", &pol, &t),
                     ID_BAD_PASSWORD);
    assert_int_equal(teller_verify_password(f->c, "demo04", "nope-nope", &pol, &t), ID_LOCKED);
    assert_int_equal(teller_verify_password(f->c, "demo04", PW, &pol, &t), ID_LOCKED);
    clock_set_offset_ms(1500);
    assert_int_equal(teller_verify_password(f->c, "demo04", PW, &pol, &t), ID_OK);
    struct lockout bad = {0, 1000};
    assert_int_equal(teller_verify_password(f->c, "demo04", PW, &bad, &t), ID_BAD_INPUT);
}

static void test_change_password(void **state)
{
    struct fx *f = *state;
    struct teller t;
    assert_int_equal(teller_change_password(f->c, "demo01", PW, "short", NULL), ID_BAD_INPUT);
    assert_int_equal(teller_change_password(f->c, "demo01", PW, PW, NULL), ID_BAD_INPUT);
    assert_int_equal(teller_change_password(f->c, "demo01", "wrong-old", "New@Pass99", NULL),
                     ID_BAD_PASSWORD);
    assert_int_equal(q_int(f, "SELECT failed_logins FROM tellers WHERE code = 'demo01'"), 1);
    assert_int_equal(teller_change_password(f->c, "demo01", PW, "New@Pass99", NULL), ID_OK);
    assert_int_equal(teller_verify_password(f->c, "demo01", PW, NULL, &t), ID_BAD_PASSWORD);
    assert_int_equal(teller_verify_password(f->c, "demo01", "New@Pass99", NULL, &t), ID_OK);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = "
                              "'teller.password_changed' AND actor = 'teller:demo01'"),
                     1);
}

static void test_reset_clears_lock(void **state)
{
    struct fx *f = *state;
    struct teller t;
    for (int i = 0; i < TELLER_MAX_FAILURES; i++)
        teller_verify_password(f->c, "demo02", "wrong-pass", NULL, &t);
    assert_int_equal(teller_verify_password(f->c, "demo02", PW, NULL, &t), ID_LOCKED);
    assert_int_equal(TX(f, teller_reset_password(f->c, ACTOR, "demo02", "short")), ID_BAD_INPUT);
    assert_int_equal(TX(f, teller_reset_password(f->c, ACTOR, "nobody", "Reset@Pass1")),
                     ID_NOT_FOUND);
    assert_int_equal(TX(f, teller_reset_password(f->c, ACTOR, "demo02", "Reset@Pass1")), ID_OK);
    assert_int_equal(teller_verify_password(f->c, "demo02", "Reset@Pass1", NULL, &t), ID_OK);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = "
                              "'teller.password_reset' AND actor = 'test'"),
                     1);
}

static void test_disabled(void **state)
{
    struct fx *f = *state;
    struct teller t;
    assert_int_equal(TX(f, teller_set_active(f->c, ACTOR, "demo03", false)), ID_OK);
    assert_int_equal(teller_verify_password(f->c, "demo03", PW, NULL, &t), ID_DISABLED);
    assert_int_equal(TX(f, teller_set_active(f->c, ACTOR, "demo03", true)), ID_OK);
    assert_int_equal(teller_verify_password(f->c, "demo03", PW, NULL, &t), ID_OK);
}

static void test_add_rules(void **state)
{
    struct fx *f = *state;
    struct branch b01_01, b02_01;
    int64_t b01 = bank_id(f, "B01"), b02 = bank_id(f, "B02"), p00 = bank_id(f, "P00");
    assert_int_equal(org_find_branch(f->c, b01, "01", &b01_01), ID_OK);
    assert_int_equal(org_find_branch(f->c, b02, "01", &b02_01), ID_OK);
    struct teller_new ok = {b01, b01_01.id, "t-100_x", "新员工", ROLE_CLIENT_MANAGER, PW};
    struct teller_new t = ok;
    t.code = "demo01";
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_EXISTS);
    t = ok;
    t.code = "has space";
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_BAD_INPUT);
    t = ok;
    t.code = "a23456789012345678901234567890123"; /* 33 */
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_BAD_INPUT);
    t = ok;
    t.branch_id = 0; /* a client manager needs a branch */
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_BAD_INPUT);
    t = ok;
    t.branch_id = b02_01.id; /* another bank's branch */
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_CONFLICT);
    t = ok;
    t.role = ROLE_PROVINCE_ADMIN; /* only in the province */
    t.branch_id = 0;
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_CONFLICT);
    t.bank_id = p00;
    t.code = "prov02";
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_OK);
    t = ok;
    t.password = "short";
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_BAD_INPUT);
    t = ok;
    t.name = "bad\nname";
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &t, NULL)), ID_BAD_INPUT);
    int64_t id = 0;
    assert_int_equal(TX(f, teller_add(f->c, ACTOR, &ok, &id)), ID_OK);
    struct teller found;
    assert_int_equal(teller_find_id(f->c, id, &found), ID_OK);
    assert_string_equal(found.name, "新员工");
    assert_string_equal(found.branch_code, "01");
}

struct names {
    char buf[256];
    int n;
};

static int collect(const struct teller *t, void *arg)
{
    struct names *ns = arg;
    strncat(ns->buf, t->code, sizeof ns->buf - strlen(ns->buf) - 1);
    strncat(ns->buf, " ", sizeof ns->buf - strlen(ns->buf) - 1);
    ns->n++;
    return 0;
}

static void test_list(void **state)
{
    struct fx *f = *state;
    struct names all = {"", 0}, bank = {"", 0}, branch = {"", 0};
    struct teller t;
    assert_int_equal(teller_list(f->c, 0, 0, collect, &all), ID_OK);
    assert_int_equal(all.n, 7);
    assert_int_equal(teller_list(f->c, bank_id(f, "B01"), 0, collect, &bank), ID_OK);
    assert_string_equal(bank.buf, "admin01 demo01 demo02 ");
    assert_int_equal(teller_find(f->c, "demo03", &t), ID_OK);
    assert_int_equal(teller_list(f->c, t.bank_id, t.branch_id, collect, &branch), ID_OK);
    assert_string_equal(branch.buf, "demo03 ");
    assert_int_equal(teller_list(f->c, -1, 0, collect, &branch), ID_BAD_INPUT);
    assert_false(teller_locked(&t, clock_wall_ms()));
    t.locked_until = clock_wall_ms() + 1000;
    assert_true(teller_locked(&t, clock_wall_ms()));
}

static void test_own_transaction(void **state)
{
    struct fx *f = *state;
    struct teller t;
    /* Inside a caller's transaction the failure could be rolled back: refused. */
    assert_int_equal(store_begin(f->c), STORE_OK);
    assert_true(teller_verify_password(f->c, "demo01", "wrong-pass", NULL, &t) < 0);
    store_rollback(f->c);
    assert_int_equal(teller_verify_password(f->c, "demo01", PW, NULL, &t), ID_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lockout_and_unlock, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_success_resets_count, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_custom_policy, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_change_password, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reset_clears_lock, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_disabled, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_add_rules, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_own_transaction, fx_setup_demo, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
