/* The audit chain end to end: real flows over HTTP (activation, logins that
 * succeed and fail, a lockout, a revoked device, a single-sign-on kick,
 * console writes) each leave their record; `zhanye audit verify` passes;
 * then a record is changed, deleted, inserted, rehashed with plain SM3, the
 * tail cut, a checkpoint deleted or forged, with plain SQL on the database
 * (through the store API, on SQLite or MariaDB), exactly as someone with the
 * sqlite3 shell or the mariadb client (and without the
 * key files) would, and every time verify exits 1 naming the record. The
 * server signs checkpoints every 5 records and at its clean shutdown; a
 * missing key stops it; a data directory from before keyed audit is
 * re-chained at its first start, and refused if its chain is broken. */
#include "console.h"
#include "tablet.h"
#include "testd.h"

#include "channel/sm.h"
#include "data/store.h"
#include "foundation/codec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"

static struct testd D;

/* ---- the database, from outside ----------------------------------------------------- */

/* Runs sql (one or more statements, no parameters; each commits on its own)
 * on the database of d, through a store of its own (testd_store_open). */
static void raw_exec_in(const struct testd *d, const char *sql)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    assert_int_equal(testd_store_open(d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    if (store_exec(c, sql) != STORE_OK)
        fail_msg("%s: %s", sql, store_errmsg(c));
    store_release(c);
    store_close(st);
}

static void raw_exec(const char *sql)
{
    raw_exec_in(&D, sql);
}

/* The first integer of the first row of sql with text parameters p1, p2
 * (each bound when not NULL) on the database of d; -1 if none. */
static int64_t q_int_in(const struct testd *d, const char *sql, const char *p1, const char *p2)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t v = -1;
    assert_int_equal(testd_store_open(d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    if (store_prepare(c, sql, &s) != STORE_OK)
        fail_msg("%s: %s", sql, store_errmsg(c));
    if (p1)
        assert_int_equal(store_bind_text(s, 1, p1), STORE_OK);
    if (p2)
        assert_int_equal(store_bind_text(s, 2, p2), STORE_OK);
    if (store_step(s) == STORE_ROW && !store_col_is_null(s, 0))
        v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    store_close(st);
    return v;
}

static int64_t q_int(const char *sql, const char *p1, const char *p2)
{
    return q_int_in(&D, sql, p1, p2);
}

/* The text of the first column of the first row of sql into out; fails if none. */
static void q_text(const char *sql, char *out, size_t cap)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(testd_store_open(&D, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    if (store_prepare(c, sql, &s) != STORE_OK)
        fail_msg("%s: %s", sql, store_errmsg(c));
    if (store_step(s) != STORE_ROW || !store_col_text(s, 0))
        fail_msg("%s: no row", sql);
    snprintf(out, cap, "%s", store_col_text(s, 0));
    store_finish(s);
    store_release(c);
    store_close(st);
}

/* The seq of the newest record of event on target (whose detail contains
 * `has` when it is not NULL); fails if there is none. */
static int64_t record(const char *event, const char *target, const char *has)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT seq FROM audit_log WHERE event = ? AND target = ? AND "
             "instr(detail, '%s') > 0 ORDER BY seq DESC",
             has ? has : "");
    int64_t seq = q_int(sql, event, target);
    if (seq <= 0)
        fail_msg("no audit record %s on %s%s%s", event, target, has ? " with " : "",
                 has ? has : "");
    return seq;
}

/* ---- zhanye audit verify ---------------------------------------------------------------- */

/* Runs `zhanye audit verify --data DIR [--checkpoints FILE]`; returns its
 * exit status, its stdout and stderr in out (cap bytes). */
static int verify_with(const char *dir, const char *file, char *out, size_t cap)
{
    char *o = NULL, *e = NULL;
    int rc = file
                 ? run_zhanye(&o, &e, "audit", "verify", "--data", dir, "--checkpoints", file, NULL)
                 : run_zhanye(&o, &e, "audit", "verify", "--data", dir, NULL);
    snprintf(out, cap, "%s%s", o ? o : "", e ? e : "");
    free(o);
    free(e);
    return rc;
}

static int verify(char *out, size_t cap)
{
    return verify_with(D.dir, NULL, out, cap);
}

static void expect_intact(void)
{
    char out[2048];
    int rc = verify(out, sizeof out);
    if (rc != 0 || !strstr(out, "audit chain intact"))
        fail_msg("audit verify: exit %d: %s", rc, out);
}

static void expect_broken_with(const char *file, int64_t seq, const char *why)
{
    char out[2048], want[64];
    int rc = verify_with(D.dir, file, out, sizeof out);
    snprintf(want, sizeof want, "BROKEN at record %lld:", (long long)seq);
    if (rc != 1 || !strstr(out, want) || (why && !strstr(out, why)))
        fail_msg("audit verify: exit %d, want 1 naming record %lld (%s): %s", rc, (long long)seq,
                 why ? why : "", out);
}

static void expect_broken_at(int64_t seq, const char *why)
{
    expect_broken_with(NULL, seq, why);
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
        char sql[128];
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM audit_log WHERE seq = %lld AND actor = 'teller:admin01'",
                 (long long)seq);
        assert_int_equal(q_int(sql, NULL, NULL), 1);
    }
    record("device.revoked", a.st.dev, NULL);
    /* Nothing secret went in: no password, no activation code. */
    assert_int_equal(q_int("SELECT COUNT(*) FROM audit_log WHERE instr(detail, ?) > 0 OR "
                           "instr(detail, ?) > 0",
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
    /* UPDATE audit_log SET detail = ... as from the sqlite3 shell or the mariadb client */
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

/* A forged "teller.enabled" slipped in before the real record `at`, with a
 * sequence number between at - 1 and at. SQLite only: SQLite's dynamic typing
 * lets the BIGINT column seq hold at - 0.5 (read back as at - 1); MariaDB's
 * BIGINT cannot hold such a number, so there is no such forgery to detect. */
static void inserted_record(void **state)
{
    (void)state;
    char sql[768];
    if (testd_mariadb())
        skip();
    int64_t at = record("teller.disabled", "cm21", NULL);
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
}

/* Appended at the end with a made-up hash. */
static void appended_record(void **state)
{
    (void)state;
    char sql[768];
    int64_t last = q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL);
    snprintf(sql, sizeof sql,
             "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, detail, prev_hash, "
             "hash) SELECT seq + 1, ts, bank_id, 'cli:root', 'teller.added', 'ghost', '{}', hash, "
             "'3333333333333333333333333333333333333333333333333333333333333333' "
             "FROM audit_log WHERE seq = %lld",
             (long long)last);
    raw_exec(sql);
    expect_broken_at(last + 1, "altered");
    snprintf(sql, sizeof sql, "DELETE FROM audit_log WHERE seq = %lld", (long long)last + 1);
    raw_exec(sql);
    expect_intact();
}

/* ---- keyed chain and checkpoints ------------------------------------------------------------ */

/* Recomputes prev_hash and hash of every record from `from` on with plain
 * SM3 and the old label, as someone without the key would. */
struct rehash {
    int64_t from;
};

static int rehash_txn(struct store_conn *c, void *arg)
{
    static const char label[] = "zhanye audit v1\n";
    const struct rehash *r = arg;
    struct store_stmt *q = NULL, *u = NULL;
    uint8_t prev[SM3_LEN] = {0}, h[SM3_LEN];
    char hex[65];
    int rc = store_prepare(c,
                           "SELECT seq, ts, bank_id, actor, event, target, detail, prev_hash "
                           "FROM audit_log WHERE seq >= ? ORDER BY seq",
                           &q);
    if (rc != STORE_OK)
        return rc;
    store_bind_int64(q, 1, r->from);
    bool first = true;
    while ((rc = store_step(q)) == STORE_ROW) {
        char nums[3][24], heads[7][24];
        const char *fields[7];
        if (first)
            hex_decode(store_col_text(q, 7), 64, prev, SM3_LEN);
        first = false;
        for (int i = 0; i < 3; i++) {
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)store_col_int64(q, i));
            fields[i] = nums[i];
        }
        for (int i = 3; i < 7; i++)
            fields[i] = store_col_text(q, i);
        sm_part parts[16] = {{prev, SM3_LEN}, {label, sizeof label - 1}};
        for (int i = 0; i < 7; i++) {
            int n = snprintf(heads[i], sizeof heads[i], "%zu:", strlen(fields[i]));
            parts[2 + 2 * i] = (sm_part){heads[i], (size_t)n};
            parts[3 + 2 * i] = (sm_part){fields[i], strlen(fields[i])};
        }
        if (sm3_digest(parts, 16, h) != SM_OK)
            break;
        if ((rc = store_prepare(c, "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                                &u)) != STORE_OK)
            break;
        hex_encode(prev, SM3_LEN, hex, sizeof hex);
        store_bind_text(u, 1, hex);
        hex_encode(h, SM3_LEN, hex, sizeof hex);
        store_bind_text(u, 2, hex);
        store_bind_int64(u, 3, store_col_int64(q, 0));
        rc = store_step(u);
        store_finish(u);
        if (rc != STORE_DONE)
            break;
        memcpy(prev, h, SM3_LEN);
    }
    store_finish(q);
    return rc == STORE_DONE ? STORE_OK : rc;
}

static void sm3_rehash_from(const struct testd *d, int64_t from)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct rehash r = {.from = from};
    assert_int_equal(testd_store_open(d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    int rc = store_run(c, "test.sm3_rehash", rehash_txn, &r);
    if (rc != STORE_OK)
        fail_msg("rehash from %lld: %s: %s", (long long)from, store_rc_name(rc), store_errmsg(c));
    store_release(c);
    store_close(st);
}

static int64_t file_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int64_t n = 0;
    for (int ch; f && (ch = fgetc(f)) != EOF;)
        n += ch == '\n';
    if (f)
        fclose(f);
    return f ? n : -1;
}

static void copy_file(const char *from, const char *to)
{
    char buf[8192];
    FILE *in = fopen(from, "r"), *out = fopen(to, "w");
    assert_non_null(in);
    assert_non_null(out);
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static const char *cp_file(void)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/audit-checkpoints.jsonl", D.dir);
    return path;
}

/* [audit] checkpoint_every = 5: the server's thread signs each, the file gets each. */
static void checkpoints_every_n(void **state)
{
    (void)state;
    int64_t head = q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL);
    int64_t due = head / 5 * 5, rows = 0;
    assert_true(due >= 20); /* the flows above wrote that many */
    for (int i = 0; i < 200; i++) {
        rows = q_int("SELECT COUNT(*) FROM audit_checkpoints", NULL, NULL);
        if (q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL) >= due &&
            file_lines(cp_file()) == rows)
            break;
        usleep(50000);
    }
    assert_true(q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL) >= due);
    assert_true(rows >= 3); /* init's, and the server's along the way */
    assert_int_equal(file_lines(cp_file()), rows);
    /* Each signs a hash the chain holds. */
    assert_int_equal(q_int("SELECT COUNT(*) FROM audit_checkpoints c JOIN audit_log l ON "
                           "l.seq = c.seq AND l.hash = c.hash",
                           NULL, NULL),
                     rows);
    char out[2048], want[64];
    assert_int_equal(verify(out, sizeof out), 0);
    snprintf(want, sizeof want, "last checkpoint: seq %lld",
             (long long)q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL));
    if (!strstr(out, want))
        fail_msg("want \"%s\" in: %s", want, out);
}

/* Change a record and rehash the rest with SM3: the old code passed this. */
static void sm3_rehash_detected(void **state)
{
    (void)state;
    char sql[512];
    int64_t seq = record("login.failed", "demo01", NULL);
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq >= %lld;"
             "UPDATE audit_log SET detail = '{\"failures\":0}' WHERE seq = %lld",
             (long long)seq, (long long)seq);
    raw_exec(sql);
    sm3_rehash_from(&D, seq);
    expect_broken_at(seq, "rehashed without the key");
    snprintf(sql, sizeof sql,
             "DELETE FROM audit_log WHERE seq >= %lld; INSERT INTO audit_log SELECT * FROM saved;"
             "DROP TABLE saved",
             (long long)seq);
    raw_exec(sql);
    expect_intact();
}

/* `zhanye audit checkpoint`, then the tail cut down below it. */
static void truncated_tail_detected(void **state)
{
    (void)state;
    char *out = NULL, sql[512];
    assert_int_equal(run_zhanye(&out, NULL, "audit", "checkpoint", "--data", D.dir, NULL), 0);
    int64_t head = q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL);
    char want[64];
    snprintf(want, sizeof want, "seq %lld", (long long)head);
    if (!strstr(out, want))
        fail_msg("audit checkpoint: want %s in: %s", want, out);
    free(out);
    assert_int_equal(q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL), head);
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq >= %lld;"
             "DELETE FROM audit_log WHERE seq >= %lld",
             (long long)head - 2, (long long)head - 2);
    raw_exec(sql);
    expect_broken_at(head - 2, "tail was cut off");
    raw_exec("INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");
    expect_intact();
}

/* The database's checkpoints deleted: the shipped copy of the file still has them. */
static void deleted_checkpoint_caught_with_shipped_file(void **state)
{
    (void)state;
    char shipped[PATH_MAX + 32], sql[512];
    snprintf(shipped, sizeof shipped, "%s.shipped", D.dir);
    copy_file(cp_file(), shipped);
    int64_t last = q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL);
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM audit_checkpoints WHERE seq = %lld;"
             "DELETE FROM audit_checkpoints WHERE seq = %lld",
             (long long)last, (long long)last);
    raw_exec(sql);
    expect_broken_with(shipped, last, "missing from the database (deleted)");
    raw_exec("INSERT INTO audit_checkpoints SELECT * FROM saved; DROP TABLE saved");
    char out[2048];
    int rc = verify_with(D.dir, shipped, out, sizeof out);
    if (rc != 0 || !strstr(out, "audit chain intact"))
        fail_msg("verify --checkpoints: exit %d: %s", rc, out);
    unlink(shipped);
}

static void forged_checkpoint_detected(void **state)
{
    (void)state;
    char sql[768];
    int64_t last = q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL);
    /* The last hex digit of the signature turned: a signature no key made. */
    char sig[200];
    snprintf(sql, sizeof sql, "SELECT sig FROM audit_checkpoints WHERE seq = %lld",
             (long long)last);
    q_text(sql, sig, sizeof sig);
    size_t n = strlen(sig);
    assert_true(n > 0);
    sig[n - 1] = sig[n - 1] == '0' ? '1' : '0';
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM audit_checkpoints WHERE seq = %lld;"
             "UPDATE audit_checkpoints SET sig = '%s' WHERE seq = %lld",
             (long long)last, sig, (long long)last);
    raw_exec(sql);
    expect_broken_at(last, "signature does not verify");
    snprintf(sql, sizeof sql,
             "DELETE FROM audit_checkpoints WHERE seq = %lld;"
             "INSERT INTO audit_checkpoints SELECT * FROM saved; DROP TABLE saved",
             (long long)last);
    raw_exec(sql);
    expect_intact();
}

/* GET /api/v1/admin/audit/verify says the same as the CLI. */
static void admin_endpoint_reports(void **state)
{
    (void)state;
    struct console adm;
    json_t *a = NULL;
    char sql[256];
    assert_int_equal(console_login(&adm, &D, "prov01", PW), 200); /* the province verifies */
    /* Signs the head now (the checkpointer may be signing it too: one of them does). */
    assert_int_equal(run_zhanye(NULL, NULL, "audit", "checkpoint", "--data", D.dir, NULL), 0);
    int64_t head = q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL);
    assert_int_equal(console_get(&adm, "/api/v1/admin/audit/verify", &a), 200);
    assert_true(json_is_true(json_object_get(a, "intact")));
    assert_int_equal(json_integer_value(json_object_get(a, "records")), head);
    json_t *lc = json_object_get(a, "last_checkpoint");
    assert_int_equal(json_integer_value(json_object_get(lc, "seq")), head);
    char cq[128];
    snprintf(cq, sizeof cq, "SELECT COUNT(*) FROM audit_checkpoints WHERE seq = %lld AND hash = ?",
             (long long)head);
    assert_int_equal(q_int(cq, json_string_value(json_object_get(lc, "hash")), NULL), 1);
    assert_true(json_integer_value(json_object_get(lc, "ts")) > 0);
    json_decref(a);
    /* The tail cut down to below the last checkpoint. */
    int64_t last = q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL);
    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq >= %lld;"
             "DELETE FROM audit_log WHERE seq >= %lld",
             (long long)last, (long long)last);
    raw_exec(sql);
    assert_int_equal(console_get(&adm, "/api/v1/admin/audit/verify", &a), 200);
    assert_true(json_is_false(json_object_get(a, "intact")));
    assert_int_equal(json_integer_value(json_object_get(a, "first_bad")), last);
    assert_non_null(strstr(json_string_value(json_object_get(a, "reason")), "tail was cut off"));
    json_decref(a);
    raw_exec("INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");
    expect_intact();
}

/* Without keys/audit.key nothing verifies, nothing appends: one clear line. */
static void key_missing_clear_error(void **state)
{
    (void)state;
    char key[PATH_MAX + 32], moved[PATH_MAX + 48], out[2048];
    char *o = NULL, *e = NULL;
    snprintf(key, sizeof key, "%s/keys/audit.key", D.dir);
    snprintf(moved, sizeof moved, "%s.moved", key);
    assert_int_equal(rename(key, moved), 0);
    int rc = verify(out, sizeof out);
    if (rc != 1 || !strstr(out, "audit.key: missing"))
        fail_msg("verify without the key: exit %d: %s", rc, out);
    int64_t before = q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL);
    rc = run_zhanye(&o, &e, "teller", "enable", "--data", D.dir, "--code", "cm21", NULL);
    if (rc != 1 || !e || !strstr(e, "audit.key: missing"))
        fail_msg("teller enable without the key: exit %d: %s", rc, e ? e : "");
    free(o);
    free(e);
    assert_int_equal(q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL), before);
    assert_int_equal(q_int("SELECT COUNT(*) FROM tellers WHERE code = 'cm21' AND status = "
                           "'disabled'",
                           NULL, NULL),
                     1);
    assert_int_equal(rename(moved, key), 0);
    expect_intact();
}

/* SIGTERM: the head is signed on the way out. Then a server without its key does not start. */
static void clean_shutdown_checkpoint(void **state)
{
    (void)state;
    struct console adm;
    /* One more record, until the head is past the last checkpoint (with
     * checkpoint_every = 5 a record may land right on one, and under load
     * the timed checkpoint may sign it first: another record then). */
    int64_t head = 0;
    bool past = false;
    for (int i = 0; i < 20 && !past; i++) {
        assert_int_equal(console_login(&adm, &D, "admin01", PW), 200);
        head = q_int("SELECT MAX(seq) FROM audit_log", NULL, NULL);
        past = q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL) < head;
    }
    /* (not queried again: the checkpointer thread may sign the head any
     * moment now, which the stop below must do in any case) */
    assert_true(past);
    assert_int_equal(testd_stop(&D), 0);
    assert_int_equal(q_int("SELECT MAX(seq) FROM audit_checkpoints", NULL, NULL), head);
    assert_int_equal(file_lines(cp_file()),
                     q_int("SELECT COUNT(*) FROM audit_checkpoints", NULL, NULL));
    expect_intact();

    char key[PATH_MAX + 32], moved[PATH_MAX + 48];
    char *o = NULL, *e = NULL;
    snprintf(key, sizeof key, "%s/keys/audit.key", D.dir);
    snprintf(moved, sizeof moved, "%s.moved", key);
    assert_int_equal(rename(key, moved), 0);
    int rc = run_zhanye(&o, &e, "serve", "--data", D.dir, "--listen", "127.0.0.1:0", NULL);
    if (rc != 1 || !e || !strstr(e, "audit.key: missing"))
        fail_msg("serve without the key: exit %d: %s", rc, e ? e : "");
    free(o);
    free(e);
    assert_int_equal(rename(moved, key), 0);
}

/* A data directory from before keyed audit: no audit keys, no checkpoints,
 * an SM3 chain. The first start with the keys re-chains it; a broken one
 * stops the start. */
static void legacy_directory_upgraded(void **state)
{
    (void)state;
    struct testd L;
    char path[PATH_MAX + 64], out[2048];
    char *o = NULL, *e = NULL;
    assert_int_equal(testd_init(&L, NULL), 0);
    sm3_rehash_from(&L, 1);
    raw_exec_in(&L, "DELETE FROM audit_checkpoints");
    static const char *const gone[] = {"audit-checkpoints.jsonl", "keys/audit.key",
                                       "keys/audit-sign.key", "keys/audit-sign.pub"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", L.dir, gone[i]);
        assert_int_equal(unlink(path), 0);
    }
    /* No key: a clear refusal that says what to run. */
    int rc = run_zhanye(&o, &e, "serve", "--data", L.dir, "--listen", "127.0.0.1:0", NULL);
    if (rc != 1 || !e || !strstr(e, "audit.key: missing") || !strstr(e, "zhanye audit keygen"))
        fail_msg("serve of a legacy directory without keys: exit %d: %s", rc, e ? e : "");
    free(o);
    free(e);
    assert_int_equal(run_zhanye(NULL, NULL, "audit", "keygen", "--data", L.dir, NULL), 0);
    rc = verify_with(L.dir, NULL, out, sizeof out);
    if (rc != 0 || !strstr(out, "UNKEYED"))
        fail_msg("verify of a legacy chain: exit %d: %s", rc, out);

    /* Broken as a legacy chain: never re-chained, the server does not start. */
    raw_exec_in(&L, "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = 3;"
                    "UPDATE audit_log SET target = 'someone' WHERE seq = 3");
    o = e = NULL;
    rc = run_zhanye(&o, &e, "serve", "--data", L.dir, "--listen", "127.0.0.1:0", NULL);
    if (rc != 1 || !e || !strstr(e, "broken at record 3"))
        fail_msg("serve of a broken legacy chain: exit %d: %s", rc, e ? e : "");
    free(o);
    free(e);
    raw_exec_in(&L, "DELETE FROM audit_log WHERE seq = 3;"
                    "INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");

    /* Intact: re-chained under the key at the first start, with its own record. */
    int64_t n = q_int_in(&L, "SELECT MAX(seq) FROM audit_log", NULL, NULL);
    assert_int_equal(testd_start(&L), 0);
    /* An answer first: SIGTERM before the main thread waits for it is not ours to test. */
    long st = 0;
    json_decref(http_get_json(&L, "/healthz", &st));
    assert_int_equal(st, 200);
    assert_int_equal(testd_stop(&L), 0);
    rc = verify_with(L.dir, NULL, out, sizeof out);
    char want[64];
    snprintf(want, sizeof want, "audit chain intact: %lld records", (long long)n + 1);
    if (rc != 0 || !strstr(out, want))
        fail_msg("verify after the upgrade: exit %d, want \"%s\": %s", rc, want, out);
    snprintf(want, sizeof want, "last checkpoint: seq %lld", (long long)n + 1);
    if (!strstr(out, want))
        fail_msg("verify after the upgrade: want \"%s\": %s", want, out);
    snprintf(path, sizeof path, "%s/audit-checkpoints.jsonl", L.dir);
    assert_int_equal(file_lines(path), 1);
    assert_int_equal(q_int_in(&L,
                              "SELECT seq FROM audit_log WHERE event = 'audit.rekeyed' AND "
                              "actor = 'system'",
                              NULL, NULL),
                     n + 1);
    testd_cleanup(&L);
}

/* ---- fixture ----------------------------------------------------------------------------------
 */

static int setup(void **state)
{
    (void)state;
    if (testd_init(&D, "[identity]\nmax_devices = 2\n[audit]\ncheckpoint_every = 5") ||
        testd_start(&D))
        return -1;
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
        cmocka_unit_test(appended_record),
        cmocka_unit_test(checkpoints_every_n),
        cmocka_unit_test(sm3_rehash_detected),
        cmocka_unit_test(truncated_tail_detected),
        cmocka_unit_test(deleted_checkpoint_caught_with_shipped_file),
        cmocka_unit_test(forged_checkpoint_detected),
        cmocka_unit_test(admin_endpoint_reports),
        cmocka_unit_test(key_missing_clear_error),
        cmocka_unit_test(clean_shutdown_checkpoint),
        cmocka_unit_test(legacy_directory_upgraded),
    };
    return cmocka_run_group_tests_name("audit", tests, setup, teardown);
}
