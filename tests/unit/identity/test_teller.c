/* Unit tests for identity/teller: Argon2id passwords, lockout after 5
 * failures and unlock after 15 minutes, change and reset, placement rules;
 * the console's own failure count and what it answers; check and count
 * atomic under parallel attempts on one database (several connections). */
#include "idtest.h"

#include <pthread.h>

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
                     11);
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
    assert_int_equal(teller_change_password(f->c, "demo01", PW, "short", NULL, NULL), ID_BAD_INPUT);
    assert_int_equal(teller_change_password(f->c, "demo01", PW, PW, NULL, NULL), ID_BAD_INPUT);
    assert_int_equal(teller_change_password(f->c, "demo01", "wrong-old", "New@Pass99", NULL, NULL),
                     ID_BAD_PASSWORD);
    assert_int_equal(q_int(f, "SELECT failed_logins FROM tellers WHERE code = 'demo01'"), 1);
    assert_int_equal(teller_change_password(f->c, "demo01", PW, "New@Pass99", NULL, NULL), ID_OK);
    assert_int_equal(teller_verify_password(f->c, "demo01", PW, NULL, &t), ID_BAD_PASSWORD);
    assert_int_equal(teller_verify_password(f->c, "demo01", "New@Pass99", NULL, &t), ID_OK);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = "
                              "'teller.password_changed' AND actor = 'teller:demo01'"),
                     1);
}

struct also_probe {
    int answer;        /* what the hook returns */
    int calls;         /* times it ran */
    int64_t teller_id; /* whom it was given */
    bool in_txn;       /* it ran inside a transaction */
};

static int also_hook(struct store_conn *c, const struct teller *t, void *arg)
{
    struct also_probe *p = arg;
    p->calls++;
    p->teller_id = t->id;
    p->in_txn = store_in_txn(c);
    return p->answer;
}

/* The hook commits with the change, in its transaction; when it fails the
 * change is rolled back whole: the old password still opens, no record. */
static void test_change_password_also(void **state)
{
    struct fx *f = *state;
    struct teller t;
    struct also_probe p = {.answer = ID_CONFLICT};
    const struct teller_pw_also also = {.fn = also_hook, .arg = &p};
    assert_int_equal(teller_change_password(f->c, "demo01", PW, "New@Pass99", NULL, &also),
                     ID_CONFLICT);
    assert_int_equal(p.calls, 1);
    assert_true(p.in_txn);
    assert_false(store_in_txn(f->c));
    assert_int_equal(teller_verify_password(f->c, "demo01", PW, NULL, &t), ID_OK);
    assert_int_equal(p.teller_id, t.id);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = "
                              "'teller.password_changed'"),
                     0);
    /* A wrong old password never reaches the hook. */
    assert_int_equal(teller_change_password(f->c, "demo01", "wrong-old", "New@Pass99", NULL, &also),
                     ID_BAD_PASSWORD);
    assert_int_equal(p.calls, 1);
    p.answer = ID_OK;
    assert_int_equal(teller_change_password(f->c, "demo01", PW, "New@Pass99", NULL, &also), ID_OK);
    assert_int_equal(p.calls, 2);
    assert_int_equal(teller_verify_password(f->c, "demo01", "New@Pass99", NULL, &t), ID_OK);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = "
                              "'teller.password_changed'"),
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
    assert_int_equal(all.n, 11);
    assert_int_equal(teller_list(f->c, bank_id(f, "B01"), 0, collect, &bank), ID_OK);
    assert_string_equal(bank.buf, "admin01 agent01 demo01 demo02 mgr01 ");
    assert_int_equal(teller_find(f->c, "demo03", &t), ID_OK);
    assert_int_equal(teller_list(f->c, t.bank_id, t.branch_id, collect, &branch), ID_OK);
    assert_string_equal(branch.buf, "demo03 mgr02 ");
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

/* ---- channels ------------------------------------------------------------------- */

/* Audit records of event on teller code for channel ch. */
static int64_t records(struct fx *f, const char *event, const char *code, enum teller_channel ch)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = '%s' AND target = '%s' AND "
             "instr(detail, '\"channel\":\"console\"') %s 0",
             event, code, ch == TELLER_CONSOLE ? ">" : "=");
    return q_int(f, sql);
}

/* A column of teller code's row. */
static int64_t column(struct fx *f, const char *col, const char *code)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s FROM tellers WHERE code = '%s'", col, code);
    return q_int(f, sql);
}

static void test_console_rules(void **state)
{
    struct fx *f = *state;
    struct teller t;
    /* Wrong passwords: bad_password every time, also for the one that locks. */
    for (int i = 0; i < TELLER_MAX_FAILURES; i++)
        assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", "wrong-pass", NULL, &t),
                         ID_BAD_PASSWORD);
    assert_true(column(f, "console_locked_until", "admin01") > clock_wall_ms());
    assert_int_equal(column(f, "console_failed_logins", "admin01"), 0);
    assert_int_equal(records(f, "login.failed", "admin01", TELLER_CONSOLE),
                     TELLER_MAX_FAILURES - 1);
    assert_int_equal(records(f, "teller.locked", "admin01", TELLER_CONSOLE), 1);
    /* Locked: a wrong password is still bad_password and counts nothing; the
     * right one is told the lock, which stays. */
    int64_t until = column(f, "console_locked_until", "admin01");
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", "wrong-pass", NULL, &t),
                     ID_BAD_PASSWORD);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", PW, NULL, &t), ID_LOCKED);
    assert_int_equal(column(f, "console_locked_until", "admin01"), until);
    assert_int_equal(column(f, "console_failed_logins", "admin01"), 0);
    assert_int_equal(records(f, "login.failed", "admin01", TELLER_CONSOLE),
                     TELLER_MAX_FAILURES - 1);
    /* The tablet channel never noticed. */
    assert_int_equal(column(f, "failed_logins", "admin01"), 0);
    assert_int_equal(teller_verify_password(f->c, "admin01", PW, NULL, &t), ID_OK);
    assert_false(teller_locked_on(&t, TELLER_TABLET, clock_wall_ms()));
    assert_true(teller_locked_on(&t, TELLER_CONSOLE, clock_wall_ms()));
    assert_true(teller_locked(&t, clock_wall_ms()));
    /* The lock runs out; the count starts again. */
    clock_set_offset_ms(15 * MIN_MS + 1000);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", "wrong-pass", NULL, &t),
                     ID_BAD_PASSWORD);
    assert_int_equal(column(f, "console_failed_logins", "admin01"), 1);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", PW, NULL, &t), ID_OK);
    assert_int_equal(t.console_failed_logins, 0);
    assert_int_equal(t.console_locked_until, 0);

    /* A tablet lock leaves the console open. */
    for (int i = 0; i < TELLER_MAX_FAILURES; i++)
        teller_verify_password(f->c, "admin01", "wrong-pass", NULL, &t);
    assert_int_equal(teller_verify_password(f->c, "admin01", PW, NULL, &t), ID_LOCKED);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", PW, NULL, &t), ID_OK);
    assert_int_equal(records(f, "teller.locked", "admin01", TELLER_TABLET), 1);

    /* Unknown and malformed codes. */
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "nobody", PW, NULL, &t), ID_NOT_FOUND);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "bad code", PW, NULL, &t), ID_BAD_INPUT);
    assert_int_equal(teller_verify(f->c, (enum teller_channel)7, "admin01", PW, NULL, &t),
                     ID_BAD_INPUT);
}

static void test_console_disabled(void **state)
{
    struct fx *f = *state;
    struct teller t;
    assert_int_equal(TX(f, teller_set_active(f->c, ACTOR, "admin02", false)), ID_OK);
    /* Disabled: a wrong password is only bad_password, and counts nothing. */
    for (int i = 0; i < TELLER_MAX_FAILURES + 1; i++)
        assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin02", "wrong-pass", NULL, &t),
                         ID_BAD_PASSWORD);
    assert_int_equal(column(f, "console_failed_logins", "admin02"), 0);
    assert_int_equal(column(f, "console_locked_until", "admin02"), 0);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin02", PW, NULL, &t), ID_DISABLED);
    /* The tablet says so before the password, as it always did. */
    assert_int_equal(teller_verify_password(f->c, "admin02", "wrong-pass", NULL, &t), ID_DISABLED);
    assert_int_equal(TX(f, teller_set_active(f->c, ACTOR, "admin02", true)), ID_OK);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin02", PW, NULL, &t), ID_OK);
}

static void test_new_password_clears_both(void **state)
{
    struct fx *f = *state;
    struct teller t;
    for (int i = 0; i < TELLER_MAX_FAILURES; i++) {
        teller_verify_password(f->c, "admin01", "wrong-pass", NULL, &t);
        teller_verify(f->c, TELLER_CONSOLE, "admin01", "wrong-pass", NULL, &t);
    }
    assert_int_equal(teller_verify_password(f->c, "admin01", PW, NULL, &t), ID_LOCKED);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", PW, NULL, &t), ID_LOCKED);
    assert_int_equal(TX(f, teller_reset_password(f->c, ACTOR, "admin01", "Reset@Pass1")), ID_OK);
    assert_int_equal(teller_verify_password(f->c, "admin01", "Reset@Pass1", NULL, &t), ID_OK);
    assert_int_equal(teller_verify(f->c, TELLER_CONSOLE, "admin01", "Reset@Pass1", NULL, &t),
                     ID_OK);
    /* A change clears the console's count as well. */
    teller_verify(f->c, TELLER_CONSOLE, "admin01", "wrong-pass", NULL, &t);
    assert_int_equal(column(f, "console_failed_logins", "admin01"), 1);
    assert_int_equal(
        teller_change_password(f->c, "admin01", "Reset@Pass1", "Other@Pass2", NULL, NULL), ID_OK);
    assert_int_equal(column(f, "console_failed_logins", "admin01"), 0);
}

/* The three steps with the connection given back during Argon2, as the
 * console runs them. */
static int attempt(struct store *st, enum teller_channel ch, const char *code, const char *pw,
                   struct teller *out)
{
    struct teller_attempt a;
    struct store_conn *c = NULL;
    int rc = store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    rc = teller_attempt_load(c, ch, code, pw, &a);
    store_release(c);
    if (rc == ID_OK) {
        teller_attempt_check(&a, pw);
        rc = store_acquire(st, &c);
        if (rc == STORE_OK) {
            rc = teller_attempt_record(c, &a, NULL, out);
            store_release(c);
        }
    }
    teller_attempt_wipe(&a);
    return rc;
}

/* An attempt checked before a lock and recorded after it: a right password
 * does not lift the lock, a wrong one is not counted. */
static void race_on(struct fx *f, enum teller_channel ch, const char *code)
{
    struct teller_attempt right, wrong;
    struct teller t;
    struct store_conn *c2 = NULL;
    assert_int_equal(store_acquire(f->st, &c2), STORE_OK);
    assert_int_equal(teller_attempt_load(f->c, ch, code, PW, &right), ID_OK);
    assert_int_equal(right.state, ID_OK);
    teller_attempt_check(&right, PW);
    assert_int_equal(right.verdict, ID_OK);
    assert_int_equal(teller_attempt_load(f->c, ch, code, "wrong-pass", &wrong), ID_OK);
    teller_attempt_check(&wrong, "wrong-pass");
    assert_int_equal(wrong.verdict, ID_BAD_PASSWORD);
    /* Meanwhile, on another connection, the channel is locked. */
    for (int i = 0; i < TELLER_MAX_FAILURES; i++)
        teller_verify(c2, ch, code, "wrong-pass", NULL, &t);
    store_release(c2);
    const char *until_col = ch == TELLER_CONSOLE ? "console_locked_until" : "locked_until";
    int64_t until = column(f, until_col, code);
    assert_true(until > clock_wall_ms());

    assert_int_equal(teller_attempt_record(f->c, &right, NULL, &t), ID_LOCKED);
    assert_int_equal(teller_attempt_record(f->c, &wrong, NULL, &t),
                     ch == TELLER_CONSOLE ? ID_BAD_PASSWORD : ID_LOCKED);
    assert_int_equal(column(f, until_col, code), until);
    assert_int_equal(records(f, "login.failed", code, ch), TELLER_MAX_FAILURES - 1);
    assert_int_equal(records(f, "teller.locked", code, ch), 1);
    teller_attempt_wipe(&right);
    teller_attempt_wipe(&wrong);
}

static void test_record_after_lock(void **state)
{
    struct fx *f = *state;
    race_on(f, TELLER_TABLET, "demo01");
    race_on(f, TELLER_CONSOLE, "admin01");
    struct teller_attempt a;
    struct teller t;
    /* The steps keep each channel's early answers. */
    assert_int_equal(teller_attempt_load(f->c, TELLER_TABLET, "demo01", PW, &a), ID_OK);
    assert_int_equal(a.state, ID_LOCKED);
    teller_attempt_check(&a, PW);
    assert_int_equal(teller_attempt_record(f->c, &a, NULL, &t), ID_LOCKED);
    assert_int_equal(teller_attempt_load(f->c, TELLER_CONSOLE, "nobody", PW, &a), ID_OK);
    assert_int_equal(a.state, ID_NOT_FOUND);
    teller_attempt_check(&a, PW);
    assert_int_equal(teller_attempt_record(NULL, &a, NULL, &t), ID_NOT_FOUND);
    /* An attempt never checked is not recorded. */
    assert_int_equal(teller_attempt_load(f->c, TELLER_TABLET, "demo03", PW, &a), ID_OK);
    assert_int_equal(a.state, ID_OK);
    assert_int_equal(teller_attempt_record(f->c, &a, NULL, &t), ID_ERR);
    teller_attempt_wipe(&a);
}

/* ---- parallel attempts ------------------------------------------------------------ */

#define PARALLEL 40
#define RIGHT_EVERY 10 /* with racing right passwords: every 10th thread */

struct racer {
    struct store *st;
    pthread_barrier_t *go;
    enum teller_channel ch;
    const char *code;
    const char *pw;
    int rc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct teller t;
    struct store_conn *c = NULL;
    if (r->ch == TELLER_TABLET) { /* the ZY1 pipeline: one connection throughout */
        r->rc = store_acquire(r->st, &c);
        pthread_barrier_wait(r->go);
        if (r->rc == STORE_OK)
            r->rc = teller_verify_password(c, r->code, r->pw, NULL, &t);
        store_release(c);
    } else { /* the console: none held during Argon2 */
        pthread_barrier_wait(r->go);
        r->rc = attempt(r->st, r->ch, r->code, r->pw, &t);
    }
    return NULL;
}

/* PARALLEL attempts at once on their own connections, wrong passwords (and
 * with_right: a right one every RIGHT_EVERY). */
static void run_race(struct fx *f, enum teller_channel ch, const char *code, bool with_right)
{
    struct store *st = NULL;
    struct store_config cfg = {
        .backend = "sqlite", .path = f->db, .pool_size = PARALLEL, .busy_timeout_ms = 30000};
    pthread_t th[PARALLEL];
    struct racer r[PARALLEL];
    pthread_barrier_t go;
    assert_int_equal(store_open(&cfg, &st), STORE_OK);
    assert_int_equal(pthread_barrier_init(&go, NULL, PARALLEL), 0);
    for (int i = 0; i < PARALLEL; i++) {
        r[i] = (struct racer){.st = st,
                              .go = &go,
                              .ch = ch,
                              .code = code,
                              .pw = with_right && i % RIGHT_EVERY == 0 ? PW : "wrong-pass"};
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < PARALLEL; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    store_close(st);
    for (int i = 0; i < PARALLEL; i++) {
        int rc = r[i].rc;
        if (strcmp(r[i].pw, PW) == 0)
            assert_true(rc == ID_OK || rc == ID_LOCKED);
        else
            assert_true(rc == ID_BAD_PASSWORD || rc == ID_LOCKED);
    }
}

/* However many attempts race, one lock period counts at most max_failures
 * failures (one teller.locked, max - 1 login.failed), and right passwords
 * racing them never lift the lock. */
static void test_parallel_attempts(void **state)
{
    struct fx *f = *state;
    const struct {
        enum teller_channel ch;
        const char *code;
        const char *until_col;
        bool with_right;
    } cases[] = {
        {TELLER_TABLET, "demo01", "locked_until", false},
        {TELLER_CONSOLE, "admin01", "console_locked_until", false},
        {TELLER_TABLET, "demo02", "locked_until", true},
        {TELLER_CONSOLE, "admin02", "console_locked_until", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_race(f, cases[i].ch, cases[i].code, cases[i].with_right);
        assert_int_equal(records(f, "teller.locked", cases[i].code, cases[i].ch), 1);
        if (!cases[i].with_right)
            assert_int_equal(records(f, "login.failed", cases[i].code, cases[i].ch),
                             TELLER_MAX_FAILURES - 1);
        assert_true(column(f, cases[i].until_col, cases[i].code) > clock_wall_ms());
        /* the other channel is untouched */
        assert_int_equal(records(f, "teller.locked", cases[i].code,
                                 cases[i].ch == TELLER_TABLET ? TELLER_CONSOLE : TELLER_TABLET),
                         0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lockout_and_unlock, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_success_resets_count, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_custom_policy, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_change_password, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_change_password_also, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_reset_clears_lock, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_disabled, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_add_rules, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_own_transaction, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_console_rules, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_console_disabled, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_new_password_clears_both, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_record_after_lock, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_parallel_attempts, fx_setup_demo, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
