/* The audit chain end to end: real flows over HTTP (activation, logins that
 * succeed and fail, a lockout, a revoked device, a single-sign-on kick,
 * console writes) each leave their record; `zhanye audit verify` passes;
 * then a record is changed, deleted and inserted with the SQLite C API on
 * the database file, exactly as someone with the sqlite3 shell would, and
 * every time verify exits 1 naming the record. */
#include "console.h"
#include "tablet.h"
#include "testd.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PW "Demo@1234"

static struct testd D;
static char DB[4200];

/* ---- the database, from outside ----------------------------------------------------- */

static void raw_exec(const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(DB, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

/* The first integer of the first row of sql with text parameters p1, p2 (may be NULL); -1 if none.
 */
static int64_t q_int(const char *sql, const char *p1, const char *p2)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(DB, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (p1)
        sqlite3_bind_text(s, 1, p1, -1, SQLITE_TRANSIENT);
    if (p2)
        sqlite3_bind_text(s, 2, p2, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* The seq of the newest record of event on target (whose detail contains
 * `has` when it is not NULL); fails if there is none. */
static int64_t record(const char *event, const char *target, const char *has)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT seq FROM audit_log WHERE event = ?1 AND target = ?2 AND "
             "instr(detail, '%s') > 0 ORDER BY seq DESC",
             has ? has : "");
    int64_t seq = q_int(sql, event, target);
    if (seq <= 0)
        fail_msg("no audit record %s on %s%s%s", event, target, has ? " with " : "",
                 has ? has : "");
    return seq;
}

/* ---- zhanye audit verify ---------------------------------------------------------------- */

/* Runs the CLI; returns its exit status, its stdout in out (cap bytes). */
static int verify(char *out, size_t cap)
{
    char *o = NULL, *e = NULL;
    int rc = run_zhanye(&o, &e, "audit", "verify", "--data", D.dir, NULL);
    snprintf(out, cap, "%s%s", o ? o : "", e ? e : "");
    free(o);
    free(e);
    return rc;
}

static void expect_intact(void)
{
    char out[1024];
    int rc = verify(out, sizeof out);
    if (rc != 0 || !strstr(out, "audit chain intact"))
        fail_msg("audit verify: exit %d: %s", rc, out);
}

static void expect_broken_at(int64_t seq, const char *why)
{
    char out[1024], want[64];
    int rc = verify(out, sizeof out);
    snprintf(want, sizeof want, "BROKEN at record %lld:", (long long)seq);
    if (rc != 1 || !strstr(out, want) || (why && !strstr(out, why)))
        fail_msg("audit verify: exit %d, want 1 naming record %lld (%s): %s", rc, (long long)seq,
                 why ? why : "", out);
}

/* ---- the flows ---------------------------------------------------------------------------- */

static void flows_leave_records(void **state)
{
    (void)state;
    struct tablet a, b, c;
    struct console adm;
    long st;

    /* activation, login ok, login failed */
    assert_int_equal(tablet_activate(&a, &D, "demo01"), 0);
    assert_int_equal(tablet_login(&a, "demo01", PW), 0);
    assert_int_not_equal(tablet_login(&a, "demo01", "Wrong@1234"), 0);
    record("activation.issued", "demo01", NULL);
    record("activation.used", "demo01", a.st.dev);
    record("device.activated", a.st.dev, "\"teller\":\"demo01\"");
    record("session.created", "demo01", a.st.dev);
    record("login.failed", "demo01", "\"failures\":1");

    /* lockout */
    assert_int_equal(tablet_activate(&b, &D, "demo02"), 0);
    for (int i = 0; i < 5; i++)
        assert_int_not_equal(tablet_login(&b, "demo02", "Wrong@1234"), 0);
    record("teller.locked", "demo02", "\"failures\":5");

    /* single sign-on: demo03 on two tablets (max_devices = 2) */
    assert_int_equal(tablet_activate(&c, &D, "demo03"), 0);
    struct tablet c2;
    assert_int_equal(tablet_activate(&c2, &D, "demo03"), 0);
    assert_int_equal(tablet_login(&c, "demo03", PW), 0);
    assert_int_equal(tablet_login(&c2, "demo03", PW), 0);
    json_t *ans = tablet_call(&c, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(ans), "session_invalid");
    json_decref(ans);
    char kicked[128];
    snprintf(kicked, sizeof kicked, "{\"dev\":\"%s\",\"reason\":\"signed_in_elsewhere\"}",
             c.st.dev);
    record("session.ended", "demo03", kicked);

    /* revoke (CLI) and console writes */
    char *out = NULL;
    assert_int_equal(
        run_zhanye(&out, NULL, "device", "revoke", "--data", D.dir, "--dev", c2.st.dev, NULL), 0);
    free(out);
    record("device.revoked", c2.st.dev, "\"sessions_ended\":1");
    assert_int_equal(console_login(&adm, &D, "admin01", PW), 200);
    record("admin.session_created", "admin01", NULL);
    assert_int_equal(console_post(&adm, "/api/v1/admin/tellers",
                                  "{\"branch\":\"01\",\"code\":\"cm21\",\"name\":\"审计测试\","
                                  "\"role\":\"client_manager\",\"password\":\"" PW "\"}",
                                  NULL),
                     201);
    assert_int_equal(
        console_post(&adm, "/api/v1/admin/tellers/disable", "{\"teller\":\"cm21\"}", NULL), 200);
    assert_int_equal(console_post(&adm, "/api/v1/admin/tellers/reset-password",
                                  "{\"teller\":\"demo02\",\"password\":\"Reset@12345\"}", NULL),
                     200);
    assert_int_equal(console_post(&adm, "/api/v1/admin/tickets", "{\"teller\":\"demo01\"}", NULL),
                     201);
    char dev_body[96];
    snprintf(dev_body, sizeof dev_body, "{\"dev\":\"%s\"}", a.st.dev);
    assert_int_equal(console_post(&adm, "/api/v1/admin/devices/revoke", dev_body, NULL), 200);
    assert_int_equal(console_post(&adm, "/api/v1/admin/logout", NULL, NULL), 200);
    static const char *const console_events[][2] = {
        {"teller.added", "cm21"},
        {"teller.disabled", "cm21"},
        {"teller.password_reset", "demo02"},
        {"activation.issued", "demo01"},
        {"admin.session_ended", "admin01"},
    };
    for (size_t i = 0; i < sizeof console_events / sizeof console_events[0]; i++) {
        int64_t seq = record(console_events[i][0], console_events[i][1], NULL);
        char s[24];
        snprintf(s, sizeof s, "%lld", (long long)seq);
        assert_int_equal(q_int("SELECT COUNT(*) FROM audit_log WHERE seq = CAST(?1 AS INTEGER) "
                               "AND actor = 'teller:admin01'",
                               s, NULL),
                         1);
    }
    record("device.revoked", a.st.dev, NULL);
    /* Nothing secret went in: no password, no activation code. */
    assert_int_equal(q_int("SELECT COUNT(*) FROM audit_log WHERE instr(detail, ?1) > 0 OR "
                           "instr(detail, ?2) > 0",
                           PW, "Reset@12345"),
                     0);
    tablet_free(&a);
    tablet_free(&b);
    tablet_free(&c);
    tablet_free(&c2);
    expect_intact();
}

/* ---- tampering ------------------------------------------------------------------------------ */

static void altered_record(void **state)
{
    (void)state;
    char sql[512];
    int64_t seq = record("login.failed", "demo01", NULL);
    /* UPDATE audit_log SET detail = ... as from the sqlite3 shell */
    snprintf(sql, sizeof sql, "UPDATE audit_log SET detail = '{\"failures\":0}' WHERE seq = %lld",
             (long long)seq);
    raw_exec(sql);
    expect_broken_at(seq, "altered");
    snprintf(sql, sizeof sql, "UPDATE audit_log SET detail = '{\"failures\":1}' WHERE seq = %lld",
             (long long)seq);
    raw_exec(sql);
    expect_intact();
}

static void deleted_record(void **state)
{
    (void)state;
    char sql[512];
    int64_t seq = record("teller.locked", "demo02", NULL);
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = %lld;"
             "DELETE FROM audit_log WHERE seq = %lld",
             (long long)seq, (long long)seq);
    raw_exec(sql);
    expect_broken_at(seq, "deleted");
    raw_exec("INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");
    expect_intact();
}

static void inserted_record(void **state)
{
    (void)state;
    char sql[768];
    int64_t at = record("teller.disabled", "cm21", NULL);
    /* A forged "teller.enabled" slipped in before the real record `at`. */
    snprintf(sql, sizeof sql,
             "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, detail, prev_hash, "
             "hash) SELECT %lld - 0.5, ts, bank_id, actor, 'teller.enabled', target, '{}', "
             "prev_hash, hash FROM audit_log WHERE seq = %lld",
             (long long)at, (long long)at);
    raw_exec(sql);
    expect_broken_at(at, "inserted");
    snprintf(sql, sizeof sql, "DELETE FROM audit_log WHERE seq = %lld - 0.5", (long long)at);
    raw_exec(sql);
    expect_intact();

    /* Appended at the end with a made-up hash. */
    int64_t last = q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL);
    snprintf(sql, sizeof sql,
             "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, detail, prev_hash, "
             "hash) SELECT seq + 1, ts, bank_id, 'cli:root', 'teller.added', 'ghost', '{}', hash, "
             "'3333333333333333333333333333333333333333333333333333333333333333' "
             "FROM audit_log WHERE seq = %lld",
             (long long)last);
    raw_exec(sql);
    expect_broken_at(last + 1, "altered");
}

/* ---- fixture ----------------------------------------------------------------------------------
 */

static int setup(void **state)
{
    (void)state;
    if (testd_init(&D, "[identity]\nmax_devices = 2") || testd_start(&D))
        return -1;
    snprintf(DB, sizeof DB, "%s/zhanye.db", D.dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flows_leave_records),
        cmocka_unit_test(altered_record),
        cmocka_unit_test(deleted_record),
        cmocka_unit_test(inserted_record),
    };
    return cmocka_run_group_tests_name("audit", tests, setup, teardown);
}
