/* Fault loops over the identity layer's write paths (tests/support/
 * faultloop.h): teller creation, activation codes, device activation,
 * password checks and login. For every N the store fails at its Nth call
 * (error once, busy once, busy for ever, out of memory for ever); every
 * failed run must leave the database exactly as it was, the audit chain
 * intact, nothing open, and the next try must work; every run that
 * succeeds must equal the fault-free run. */
#include "data/seq.h"
#include "data/store_fault.h"
#include "faultloop.h"
#include "foundation/secmem.h"
#include "identity/admin_session.h"
#include "identity/audit.h"

#include "idtest.h"

#define NEW_TELLER "fault01"
#define WRONG_PW "Wrong@1234"

/* A store status is a failure; another outcome than the expected one is wrong. */
static int verdict(int rc, int expected)
{
    return rc == expected ? FAULTOP_OK : rc < 0 ? FAULTOP_FAILED : FAULTOP_WRONG;
}

struct fctx {
    struct fx *f;
    struct store_conn *c; /* on the fault store, for the whole run */
    const char *teller;
    const char *dev;
    const char *password;
    const char *expect; /* run_verify: the outcome that counts as success */
    int max_devices;
};

static int open_conn(struct faultloop *fl, void *p)
{
    struct fctx *x = p;
    return store_acquire(fl->st, &x->c) == STORE_OK ? 0 : -1;
}

static void close_conn(struct faultloop *fl, void *p)
{
    struct fctx *x = p;
    store_release(x->c);
    x->c = NULL;
}

/* Hands the fixture's database over to the loop: closes the fixture's
 * store (the template must be a closed file). */
static void take_template(struct fx *f, struct faultloop *fl)
{
    store_release(f->c);
    f->c = NULL;
    store_close(f->st);
    f->st = NULL;
    assert_int_equal(faultloop_init(fl, f->db, 2), 0);
}

static void report(const struct faultloop *fl, const char *what)
{
    print_message(
        "%s: %ld store calls, %ld runs with a fault, %ld succeeded despite a one-shot busy\n", what,
        fl->calls, fl->runs, fl->retried);
    assert_true(fl->calls > 0 && fl->runs >= 4 * fl->calls);
}

/* ---- the template's state, written through store_run ---------------------- */

struct issue_arg {
    const struct kek *kek;
    const char *teller;
    char code[ACT_CODE_LEN + 1];
    int64_t expires;
};

static int issue_cb(struct store_conn *c, void *p)
{
    struct issue_arg *a = p;
    a->code[0] = '\0';
    return activation_issue(c, a->kek, ACTOR, a->teller, a->code, &a->expires);
}

struct activate_arg {
    const struct kek *kek;
    const struct ticket *t;
    const char *dev;
    int max_devices;
    uint8_t ds[DS_LEN];
};

static int activate_cb(struct store_conn *c, void *p)
{
    struct activate_arg *a = p;
    secmem_wipe(a->ds, sizeof a->ds);
    return binding_activate(c, a->kek, a->t, a->dev, "Pad", "Android 14", "1.0", "10.0.0.1",
                            a->max_devices, a->ds);
}

struct session_arg {
    const struct teller *t;
    const char *dev;
    char sid[SESSION_TOKEN_LEN + 1];
};

static int session_cb(struct store_conn *c, void *p)
{
    struct session_arg *a = p;
    a->sid[0] = '\0';
    return session_create(c, a->t, a->dev, 1800, 8 * 3600, a->sid);
}

static int issue_code(struct store_conn *c, const struct kek *k, const char *teller)
{
    struct issue_arg a = {.kek = k, .teller = teller};
    int rc = store_run(c, "test.issue", issue_cb, &a);
    secmem_wipe(a.code, sizeof a.code);
    return rc;
}

/* activation_lookup + binding_activate, as the pipeline does them. */
static int activate_dev(struct store_conn *c, const struct kek *k, const char *teller,
                        const char *dev, int max_devices)
{
    struct activate_arg a = {.kek = k, .dev = dev, .max_devices = max_devices};
    struct ticket t;
    int rc = activation_lookup(c, k, teller, &t);
    a.t = &t;
    if (rc == ID_OK)
        rc = store_run(c, "test.activate", activate_cb, &a);
    ticket_wipe(&t);
    secmem_wipe(a.ds, sizeof a.ds);
    return rc;
}

/* teller_verify_password + session_create, as LOGIN does them. */
static int login_dev(struct store_conn *c, const char *teller, const char *dev)
{
    struct teller t;
    int rc = teller_verify_password(c, teller, PW, NULL, &t);
    struct session_arg a = {.t = &t, .dev = dev};
    if (rc == ID_OK)
        rc = store_run(c, "test.login", session_cb, &a);
    secmem_wipe(a.sid, sizeof a.sid);
    return rc;
}

/* demo01 with DEV_A active and logged in: what activation and login replace. */
static void seed_active_device(struct fx *f)
{
    assert_int_equal(issue_code(f->c, &f->kek, "demo01"), ID_OK);
    assert_int_equal(activate_dev(f->c, &f->kek, "demo01", DEV_A, 1), ID_OK);
    assert_int_equal(login_dev(f->c, "demo01", DEV_A), ID_OK);
}

/* ---- teller creation ---------------------------------------------------- */

struct add_arg {
    struct teller_new t;
    int64_t id;
};

static int add_cb(struct store_conn *c, void *p)
{
    struct add_arg *a = p;
    a->id = 0;
    return teller_add(c, ACTOR, &a->t, &a->id);
}

static int run_teller_add(struct faultloop *fl, void *p, char *out, size_t cap)
{
    struct fctx *x = p;
    struct bank b = {0};
    struct branch br = {0};
    int rc = org_find_bank(x->c, "B01", &b);
    if (rc == ID_OK)
        rc = org_find_branch(x->c, b.id, "01", &br);
    struct add_arg a = {
        .t = {b.id, br.id, NEW_TELLER, "故障测试员", ROLE_CLIENT_MANAGER, PW},
    };
    if (rc == ID_OK)
        rc = store_run(x->c, "test.teller_add", add_cb, &a);
    snprintf(out, cap, "%s id=%lld", id_rc_name(rc), (long long)a.id);
    return verdict(rc, ID_OK);
}

static void test_teller_add(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f};
    take_template(f, &fl);
    const struct faultop op = {.name = "teller_add",
                               .run = run_teller_add,
                               .open = open_conn,
                               .close = close_conn,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

/* ---- activation codes and device activation ------------------------------ */

static int run_issue(struct faultloop *fl, void *p, char *out, size_t cap)
{
    struct fctx *x = p;
    int rc = issue_code(x->c, &x->f->kek, x->teller);
    snprintf(out, cap, "%s", id_rc_name(rc));
    return verdict(rc, ID_OK);
}

static void test_activation_issue(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f, .teller = "demo01"};
    /* A live code to supersede. */
    assert_int_equal(issue_code(f->c, &f->kek, "demo01"), ID_OK);
    take_template(f, &fl);
    const struct faultop op = {.name = "activation_issue",
                               .run = run_issue,
                               .open = open_conn,
                               .close = close_conn,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

static int run_activate(struct faultloop *fl, void *p, char *out, size_t cap)
{
    struct fctx *x = p;
    int rc = activate_dev(x->c, &x->f->kek, x->teller, x->dev, x->max_devices);
    snprintf(out, cap, "%s", id_rc_name(rc));
    return verdict(rc, ID_OK);
}

/* A new tablet replaces the teller's logged-in one: the old device is
 * revoked and its session ended, in the same transaction. */
static void test_device_activate_replaces(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f, .teller = "demo01", .dev = DEV_B, .max_devices = 1};
    seed_active_device(f);
    assert_int_equal(issue_code(f->c, &f->kek, "demo01"), ID_OK);
    take_template(f, &fl);
    const struct faultop op = {.name = "device_activate (replacing)",
                               .run = run_activate,
                               .open = open_conn,
                               .close = close_conn,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

/* The same tablet activated again: its old sessions end. */
static void test_device_reactivate(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f, .teller = "demo01", .dev = DEV_A, .max_devices = 1};
    seed_active_device(f);
    assert_int_equal(issue_code(f->c, &f->kek, "demo01"), ID_OK);
    take_template(f, &fl);
    const struct faultop op = {.name = "device_activate (same device)",
                               .run = run_activate,
                               .open = open_conn,
                               .close = close_conn,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

/* ---- passwords and login ------------------------------------------------- */

static int run_login(struct faultloop *fl, void *p, char *out, size_t cap)
{
    struct fctx *x = p;
    int rc = login_dev(x->c, x->teller, x->dev);
    snprintf(out, cap, "%s", id_rc_name(rc));
    return verdict(rc, ID_OK);
}

/* A clean teller logs in again on the same tablet: the old session is
 * ended (single sign-on) and a new one created, in one store_run. */
static void test_login(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f, .teller = "demo01", .dev = DEV_A};
    seed_active_device(f);
    take_template(f, &fl);
    const struct faultop op = {
        .name = "login", .run = run_login, .open = open_conn, .close = close_conn, .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

/* teller_verify_password alone; x->password must give the outcome named
 * x->expect ("ok", "bad_password", "locked"). */
static int run_verify(struct faultloop *fl, void *p, char *out, size_t cap)
{
    struct fctx *x = p;
    struct teller t;
    int rc = teller_verify_password(x->c, x->teller, x->password, NULL, &t);
    snprintf(out, cap, "%s", id_rc_name(rc));
    return strcmp(id_rc_name(rc), x->expect) == 0 ? FAULTOP_OK
           : rc < 0                               ? FAULTOP_FAILED
                                                  : FAULTOP_WRONG;
}

/* n wrong passwords for teller, straight on the fixture's store. */
static void fail_logins(struct fx *f, const char *teller, int n)
{
    struct teller t;
    for (int i = 0; i < n; i++)
        assert_int_equal(teller_verify_password(f->c, teller, WRONG_PW, NULL, &t), ID_BAD_PASSWORD);
}

/* A wrong password is counted (failed_logins + 1, login.failed audited) in
 * the function's own transaction: a failed run leaves nothing, a run that
 * answers bad_password leaves exactly the fault-free count. That
 * transaction is a store_run, so a one-shot busy is retried. */
static void test_wrong_password(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f, .teller = "demo01", .password = WRONG_PW, .expect = "bad_password"};
    fail_logins(f, "demo01", 1);
    take_template(f, &fl);
    const struct faultop op = {.name = "wrong password",
                               .run = run_verify,
                               .open = open_conn,
                               .close = close_conn,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

/* The failure that reaches the limit locks the teller (teller.locked audited). */
static void test_wrong_password_locks(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f, .teller = "demo01", .password = WRONG_PW, .expect = "locked"};
    fail_logins(f, "demo01", TELLER_MAX_FAILURES - 1);
    take_template(f, &fl);
    const struct faultop op = {.name = "wrong password that locks",
                               .run = run_verify,
                               .open = open_conn,
                               .close = close_conn,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

/* The right password after failures resets the count. */
static void test_right_password_resets(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct fctx x = {.f = f, .teller = "demo01", .password = PW, .expect = "ok"};
    fail_logins(f, "demo01", 2);
    take_template(f, &fl);
    const struct faultop op = {.name = "right password resets",
                               .run = run_verify,
                               .open = open_conn,
                               .close = close_conn,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
}

/* ---- a teller's own password change ------------------------------------------ */

#define NEW_PW "Field@5678"

struct pwctx {
    struct store_conn *c;
    char sid[SESSION_TOKEN_LEN + 1]; /* the tablet session making the change */
};

static int pw_open(struct faultloop *fl, void *p)
{
    struct pwctx *x = p;
    return store_acquire(fl->st, &x->c) == STORE_OK ? 0 : -1;
}

static void pw_close(struct faultloop *fl, void *p)
{
    struct pwctx *x = p;
    store_release(x->c);
    x->c = NULL;
}

struct ended {
    const char *keep;
    int64_t tablets, consoles;
};

/* What PASSWORD_CHANGE commits with the change (identity/tx_identity.c). */
static int end_others(struct store_conn *c, const struct teller *t, void *arg)
{
    struct ended *e = arg;
    e->tablets = e->consoles = 0;
    int rc = session_end_teller_except(c, t->id, e->keep, "password_changed", &e->tablets);
    if (rc == ID_OK)
        rc = admin_session_end_teller(c, t->id, "password_changed", &e->consoles);
    return rc;
}

static int run_pw_change(struct faultloop *fl, void *p, char *out, size_t cap)
{
    struct pwctx *x = p;
    struct ended e = {.keep = x->sid};
    const struct teller_pw_also also = {.fn = end_others, .arg = &e};
    int rc = teller_change_password(x->c, "admin01", PW, NEW_PW, NULL, &also);
    snprintf(out, cap, "%s tablets=%lld consoles=%lld", id_rc_name(rc),
             rc == ID_OK ? (long long)e.tablets : -1LL, rc == ID_OK ? (long long)e.consoles : -1LL);
    /* The other tablet session and the console session, not the kept one. */
    if (rc == ID_OK && (e.tablets != 1 || e.consoles != 1))
        return FAULTOP_WRONG;
    return verdict(rc, ID_OK);
}

struct console_arg {
    const struct teller *t;
    char token[ADMIN_TOKEN_LEN + 1];
};

static int console_cb(struct store_conn *c, void *p)
{
    struct console_arg *a = p;
    a->token[0] = '\0';
    return admin_session_create(c, a->t, "10.0.0.9", 1800, 8 * 3600, a->token);
}

/* The new hash, its record and the end of the teller's console session and
 * other tablet session commit together in one store_run (a one-shot busy is
 * retried), or nothing does: a failed run leaves the password and every
 * session as they were. */
static void test_password_change_ends_others(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct pwctx x = {.c = NULL};
    struct teller t;
    struct console_arg ca;
    char sql[400];
    assert_int_equal(issue_code(f->c, &f->kek, "admin01"), ID_OK);
    assert_int_equal(activate_dev(f->c, &f->kek, "admin01", DEV_B, 1), ID_OK);
    assert_int_equal(teller_find(f->c, "admin01", &t), ID_OK);
    struct session_arg sa = {.t = &t, .dev = DEV_B};
    assert_int_equal(store_run(f->c, "test.login", session_cb, &sa), ID_OK);
    memcpy(x.sid, sa.sid, sizeof x.sid);
    ca.t = &t;
    assert_int_equal(store_run(f->c, "test.console", console_cb, &ca), ID_OK);
    /* Another live tablet session of the teller, older (as another node may leave). */
    snprintf(sql, sizeof sql,
             "INSERT INTO sessions (sid, bank_id, teller_id, dev, created_at, last_seen, idle_ms, "
             "expires_at) VALUES ('%064d', %lld, %lld, '" DEV_B "', 1, 1, 600000, %lld)",
             7, (long long)t.bank_id, (long long)t.id, (long long)clock_wall_ms() + 3600000);
    assert_int_equal(store_exec(f->c, sql), STORE_OK);
    take_template(f, &fl);
    const struct faultop op = {.name = "password change ending other sessions",
                               .run = run_pw_change,
                               .open = pw_open,
                               .close = pw_close,
                               .retried = true};
    faultloop_run(&fl, &op, &x);
    report(&fl, op.name);
    faultloop_done(&fl);
    secmem_wipe(&x, sizeof x);
    secmem_wipe(&ca, sizeof ca);
    secmem_wipe(&sa, sizeof sa);
}

/* ---- serial numbers ------------------------------------------------------ */

/* A fresh seq on the fault store takes the next block (seq_blocks row
 * updated) and issues its first serial: the block reservation is one
 * store_run, so a one-shot busy is retried. The outcome is the counter
 * part only (the date part follows the clock). */
static int run_seq(struct faultloop *fl, void *p, char *out, size_t cap)
{
    (void)p;
    struct seq *q = NULL;
    char serial[SEQ_LEN + 1] = "";
    int rc = seq_open(fl->st, 7, 100, &q);
    if (rc == STORE_OK)
        rc = seq_next(q, "srv", serial);
    seq_close(q);
    snprintf(out, cap, "%s counter=%s", store_rc_name(rc), rc == STORE_OK ? serial + 10 : "-");
    return rc == STORE_OK ? FAULTOP_OK : rc < 0 ? FAULTOP_FAILED : FAULTOP_WRONG;
}

static void test_seq_reserve(void **state)
{
    struct fx *f = *state;
    struct faultloop fl;
    struct seq *q = NULL;
    char serial[SEQ_LEN + 1];
    /* A block already taken: the run updates the row rather than inserting it. */
    assert_int_equal(seq_open(f->st, 7, 100, &q), STORE_OK);
    assert_int_equal(seq_next(q, "srv", serial), STORE_OK);
    seq_close(q);
    take_template(f, &fl);
    const struct faultop op = {.name = "seq block reservation", .run = run_seq, .retried = true};
    faultloop_run(&fl, &op, NULL);
    report(&fl, op.name);
    faultloop_done(&fl);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup_demo, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_teller_add),
        T(test_activation_issue),
        T(test_device_activate_replaces),
        T(test_device_reactivate),
        T(test_login),
        T(test_wrong_password),
        T(test_wrong_password_locks),
        T(test_right_password_resets),
        T(test_password_change_ends_others),
        T(test_seq_reserve),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
