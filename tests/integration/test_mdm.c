/* Mobile device management, part 1 (docs/api.md §1.21b), on the real daemon
 * with real ZY1 envelopes:
 *   - a device that never checked in works under the default policy (it
 *     does not require check-ins: the gate is not in everyone's way);
 *   - a rooted device's check-in is not compliant, and every business TX
 *     is refused with device_noncompliant and the violations until a
 *     compliant check-in; LOGIN, LOGOUT, SESSION_INFO and DEVICE_CHECKIN
 *     stay open meanwhile; every verdict is audited;
 *   - a policy of B02 (set through business/mdm_policy.h on the daemon's
 *     database) that requires check-ins gates B02's device that never
 *     checked in, judges B02's device by B02's rules, and never reaches
 *     B01's device, which keeps the default; the change is audited;
 *   - part 2: a refused device never makes a TX's prepare phase call the
 *     bank's other systems (CUSTOMER_PREFILL's CIS, here a dead address:
 *     its attempts are counted in /metrics), and the refusal is not the
 *     cseq's stored answer: once compliant, the same cseq runs for real;
 *   - the command queue (business/mdm_command.h): queued commands are
 *     delivered once in the next check-in, acknowledged done or failed with
 *     a reason, a short-lived one expires and is never delivered, another
 *     device's command is not_found, a lock ends the device's sessions when
 *     delivered, an unbind acknowledged done unbinds the device; every
 *     state change is audited. */
#include "business/mdm_command.h"
#include "business/mdm_policy.h"
#include "data/store.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "identity/audit.h"
#include "tablet.h"
#include "testd.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"

static struct testd D;
static struct tablet T1; /* demo01, B01/01 */
static struct tablet T2; /* demo02, B01 */
static struct tablet T3; /* demo03, B02/01 */
static struct store *DB;

#define REPORT(app, rooted)                                                                        \
    "{\"os\":\"Android 12\",\"app_version\":\"" app "\",\"apps\":[{\"id\":\"cn.zhanye\","          \
    "\"version\":\"" app "\"}],\"security\":{\"rooted\":" rooted ",\"usb_debug\":false,"           \
    "\"screen_lock\":true,\"encrypted\":true},\"network\":{\"wifi_ssid\":\"BANK\"},"               \
    "\"position\":{\"lat\":30.2,\"lon\":120.1}}"

static json_t *call(struct tablet *t, const char *tx, const char *data)
{
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(t, tx, data, NULL, &st, &plain);
    if (!a) {
        char *p = json_dumps(plain, JSON_COMPACT);
        fail_msg("%s: no sealed answer (%ld %s)", tx, st, p ? p : "");
    }
    json_decref(plain);
    return a;
}

static void expect(struct tablet *t, const char *tx, const char *data, const char *code)
{
    json_t *a = call(t, tx, data);
    if (strcmp(answer_code(a), code) != 0) {
        char *text = json_dumps(a, JSON_COMPACT);
        fail_msg("%s: want %s, got %s", tx, code, text);
    }
    json_decref(a);
}

/* The first violation's rule of a's data ("" for none). */
static const char *first_rule(json_t *a)
{
    json_t *v = json_array_get(json_object_get(json_object_get(a, "data"), "violations"), 0);
    const char *r = json_string_value(json_object_get(v, "rule"));
    return r ? r : "";
}

static int64_t db_int(const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return v;
}

/* The value of one series of the daemon's /metrics (0 when absent). */
static long metric(const char *series)
{
    char url[128];
    struct http_result r;
    snprintf(url, sizeof url, "%s/metrics", D.base);
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    long v = 0;
    for (const char *p = r.body; p && (p = strstr(p, series)) != NULL; p += strlen(series))
        if ((p == r.body || p[-1] == '\n') && p[strlen(series)] == ' ')
            v = strtol(p + strlen(series) + 1, NULL, 10);
    http_result_free(&r);
    return v;
}

#define CIS_ATTEMPTS "zhanye_egress_attempts_total{system=\"cis\"}"
#define PREFILL "{\"id_no\":\"11010519491231002X\"}"

static json_t *call_cseq(struct tablet *t, const char *tx, const char *data, const char *cseq)
{
    long st = 0;
    json_t *a = tablet_call(t, tx, data, cseq, &st, NULL);
    if (!a)
        fail_msg("%s: no sealed answer (%ld)", tx, st);
    return a;
}

static void open_before_any_checkin(void **state)
{
    (void)state;
    expect(&T1, "VISIT_TASKS", "{}", "OK");
    expect(&T1, "CUSTOMER_SEARCH", "{\"name\":\"张\"}", "OK");
}

static void rooted_refused_until_compliant(void **state)
{
    (void)state;
    int64_t audited = db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'mdm.checkin'");
    json_t *a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "true"));
    assert_string_equal(answer_code(a), "OK");
    json_t *d = json_object_get(a, "data");
    assert_true(json_is_false(json_object_get(d, "compliant")));
    assert_string_equal(first_rule(a), "rooted");
    assert_int_equal(json_integer_value(json_object_get(d, "policy_version")), 0);
    assert_true(json_is_true(json_object_get(json_object_get(d, "policy"), "rooted_refused")));
    assert_int_equal(json_array_size(json_object_get(d, "commands")), 0);
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'mdm.checkin'"),
                     audited + 1);

    /* Every business TX is refused, sealed, with the violations. */
    a = call(&T1, "VISIT_TASKS", "{}");
    assert_string_equal(answer_code(a), "device_noncompliant");
    assert_string_equal(first_rule(a), "rooted");
    json_decref(a);
    expect(&T1, "CUSTOMER_SEARCH", "{\"name\":\"张\"}", "device_noncompliant");
    expect(&T1, "PERF_SUMMARY", "{\"period\":\"month\"}", "device_noncompliant");

    /* What it needs to recover stays open. */
    expect(&T1, "SESSION_INFO", NULL, "OK");
    expect(&T1, "LOGOUT", NULL, "OK");
    assert_int_equal(tablet_login(&T1, "demo01", PW), 0);
    expect(&T1, "VISIT_TASKS", "{}", "device_noncompliant"); /* a new session changes nothing */
    a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    assert_string_equal(answer_code(a), "OK");
    assert_true(json_is_true(json_object_get(json_object_get(a, "data"), "compliant")));
    assert_int_equal(json_array_size(json_object_get(json_object_get(a, "data"), "violations")), 0);
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'mdm.checkin'"),
                     audited + 2);
    expect(&T1, "VISIT_TASKS", "{}", "OK");
    expect(&T1, "CUSTOMER_SEARCH", "{\"name\":\"张\"}", "OK");
}

/* Part 2's gate fixes: before prepare, and never the cseq's stored answer. */
static void refused_before_prepare_and_not_stored(void **state)
{
    (void)state;
    json_t *a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "true"));
    assert_true(json_is_false(json_object_get(json_object_get(a, "data"), "compliant")));
    json_decref(a);
    long attempts = metric(CIS_ATTEMPTS);
    a = call_cseq(&T1, "CUSTOMER_PREFILL", PREFILL, "mdm-prefill-1");
    assert_string_equal(answer_code(a), "device_noncompliant");
    assert_string_equal(first_rule(a), "rooted");
    json_decref(a);
    assert_int_equal(metric(CIS_ATTEMPTS), attempts); /* the CIS was never asked */

    a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    assert_true(json_is_true(json_object_get(json_object_get(a, "data"), "compliant")));
    json_decref(a);
    /* The same cseq now runs for real: the CIS is asked (dead: manual). */
    a = call_cseq(&T1, "CUSTOMER_PREFILL", PREFILL, "mdm-prefill-1");
    assert_string_equal(answer_code(a), "OK");
    assert_true(json_is_true(json_object_get(json_object_get(a, "data"), "manual")));
    json_decref(a);
    assert_true(metric(CIS_ATTEMPTS) > attempts);
}

struct queue_arg {
    int64_t bank_id;
    const char *dev, *kind;
    int64_t ttl_s, id;
};

static int queue_txn(struct store_conn *c, void *arg)
{
    struct queue_arg *q = arg;
    struct scope sc = {.bank_id = q->bank_id, .role = ROLE_BANK_ADMIN};
    struct tenant_conn *t = NULL;
    int rc = tenant_open(c, &sc, &t);
    if (rc == STORE_OK)
        rc = mdm_command_queue(t, q->dev, 0, q->kind, NULL, q->ttl_s, "test:mdm", clock_wall_ms(),
                               &q->id) == MDMC_OK
                 ? STORE_OK
                 : STORE_ERR;
    tenant_close(t);
    return rc;
}

/* Queues kind for t's device (through business/mdm_command.h): its id. */
static int64_t queue(struct tablet *t, const char *bank, const char *kind, int64_t ttl_s)
{
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT id FROM banks WHERE code = '%s'", bank);
    struct queue_arg q = {.bank_id = db_int(sql), .dev = t->st.dev, .kind = kind, .ttl_s = ttl_s};
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    int rc = store_run(c, "test.mdm_queue", queue_txn, &q);
    store_release(c);
    assert_int_equal(rc, STORE_OK);
    return q.id;
}

static json_t *commands_of(json_t *a)
{
    return json_object_get(json_object_get(a, "data"), "commands");
}

static int64_t audited(const char *event)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM audit_log WHERE event = '%s'", event);
    return db_int(sql);
}

static void ack(struct tablet *t, int64_t id, const char *result, const char *code)
{
    char data[160];
    snprintf(data, sizeof data, "{\"id\":%lld,\"result\":\"%s\",\"reason\":\"存储空间不足\"}",
             (long long)id, result);
    expect(t, "DEVICE_COMMAND_ACK", data, code);
}

static void commands_delivered_acked_expired(void **state)
{
    (void)state;
    int64_t queued = audited("mdm.command_queued");
    int64_t wipe = queue(&T1, "B01", "wipe", 0);
    int64_t refresh = queue(&T1, "B01", "refresh_policy", 0);
    int64_t brief = queue(&T1, "B01", "update_app", 1); /* expires in a second */
    assert_int_equal(audited("mdm.command_queued"), queued + 3);
    struct timespec nap = {1, 300000000L};
    nanosleep(&nap, NULL);

    json_t *a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    json_t *cmds = commands_of(a);
    assert_int_equal(json_array_size(cmds), 2); /* the expired one is never delivered */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(cmds, 0), "id")), wipe);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cmds, 0), "kind")),
                        "wipe");
    assert_true(json_integer_value(json_object_get(json_array_get(cmds, 0), "expires_at")) >
                clock_wall_ms());
    assert_int_equal(json_integer_value(json_object_get(json_array_get(cmds, 1), "id")), refresh);
    json_decref(a);
    assert_int_equal(audited("mdm.command_delivered"), 2);
    assert_int_equal(audited("mdm.command_expired"), 1);
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM mdm_commands WHERE id = %lld AND state = "
             "'expired'",
             (long long)brief);
    assert_int_equal(db_int(sql), 1);

    /* Delivered once: the next check-in carries none. */
    a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    assert_int_equal(json_array_size(commands_of(a)), 0);
    json_decref(a);

    ack(&T1, wipe, "done", "OK");
    ack(&T1, wipe, "done", "OK");         /* the same again: OK, nothing written */
    ack(&T1, wipe, "failed", "conflict"); /* not the other way */
    ack(&T1, refresh, "failed", "OK");
    ack(&T1, brief, "done", "conflict"); /* expired */
    ack(&T1, 999999, "done", "not_found");
    ack(&T1, wipe, "maybe", "bad_request");
    assert_int_equal(audited("mdm.command_done"), 1);
    assert_int_equal(audited("mdm.command_failed"), 1);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM mdm_commands WHERE id = %lld AND state = "
             "'failed' AND reason = '存储空间不足'",
             (long long)refresh);
    assert_int_equal(db_int(sql), 1);

    /* Another device's command is not_found, and another bank's (ids are
     * per bank: B02 has no command 4; B01's 4 is demo02's). */
    int64_t other = queue(&T2, "B01", "wipe", 0);
    assert_int_equal(other, 4);
    ack(&T1, other, "done", "not_found");
    ack(&T3, other, "done", "not_found");
    a = call(&T2, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    assert_int_equal(json_array_size(commands_of(a)), 1);
    json_decref(a);
    ack(&T2, other, "done", "OK");
}

/* A lock ends the device's sessions when delivered; an unbind acknowledged
 * done unbinds it. */
static void lock_and_unbind(void **state)
{
    (void)state;
    int64_t lock = queue(&T1, "B01", "lock", 0);
    json_t *a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    assert_string_equal(answer_code(a), "OK");
    assert_int_equal(json_array_size(commands_of(a)), 1);
    json_decref(a);
    expect(&T1, "VISIT_TASKS", "{}", "session_invalid"); /* the teller logs in again */
    assert_int_equal(audited("device.locked"), 1);
    assert_int_equal(tablet_login(&T1, "demo01", PW), 0);
    ack(&T1, lock, "done", "OK");
    expect(&T1, "VISIT_TASKS", "{}", "OK");

    int64_t unbind = queue(&T1, "B01", "unbind", 0);
    a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    assert_int_equal(json_array_size(commands_of(a)), 1);
    json_decref(a);
    expect(&T1, "VISIT_TASKS", "{}", "OK"); /* not before the acknowledgement */
    ack(&T1, unbind, "done", "OK");
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM devices WHERE dev = '%s' AND status = 'unbound'", T1.st.dev);
    assert_int_equal(db_int(sql), 1);
    long st = 0;
    json_t *plain = NULL;
    a = tablet_call(&T1, "VISIT_TASKS", "{}", NULL, &st, &plain);
    assert_null(a); /* the device is gone: a plain refusal */
    json_decref(plain);
}

struct set_arg {
    int64_t bank_id;
    const char *policy;
    int64_t version;
};

static int set_policy(struct store_conn *c, void *arg)
{
    struct set_arg *s = arg;
    struct scope sc = {.bank_id = s->bank_id, .role = ROLE_BANK_ADMIN};
    struct tenant_conn *t = NULL;
    json_t *p = json_loads(s->policy, 0, NULL);
    int rc = tenant_open(c, &sc, &t);
    if (rc == STORE_OK)
        rc = mdm_policy_set(t, 0, p, "test:mdm", 1, &s->version) == MDM_OK ? STORE_OK : STORE_ERR;
    tenant_close(t);
    json_decref(p);
    return rc;
}

static void policy_of_its_own_bank(void **state)
{
    (void)state;
    struct set_arg s = {
        .bank_id = db_int("SELECT id FROM banks WHERE code = 'B02'"),
        .policy = "{\"min_app\":\"9.0\",\"rooted_refused\":true,\"require_checkin\":true,"
                  "\"checkin_interval_s\":3600}",
    };
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    int rc = store_run(c, "test.mdm", set_policy, &s);
    store_release(c);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(s.version, 1);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'mdm.policy_set'"), 1);

    /* B02's policy requires check-ins: demo03 never checked in. */
    json_t *a = call(&T3, "VISIT_TASKS", "{}");
    assert_string_equal(answer_code(a), "device_noncompliant");
    assert_string_equal(first_rule(a), "checkin_overdue");
    json_decref(a);
    /* Judged by B02's rules. */
    a = call(&T3, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    assert_string_equal(answer_code(a), "OK");
    assert_string_equal(first_rule(a), "app_version");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(a, "data"), "policy_version")), 1);
    json_decref(a);
    expect(&T3, "VISIT_TASKS", "{}", "device_noncompliant");
    a = call(&T3, "DEVICE_CHECKIN", REPORT("9.1.0", "false"));
    assert_true(json_is_true(json_object_get(json_object_get(a, "data"), "compliant")));
    json_decref(a);
    expect(&T3, "VISIT_TASKS", "{}", "OK");

    /* B01's device keeps B01's (default) policy: never B02's. */
    a = call(&T1, "DEVICE_CHECKIN", REPORT("1.2.0", "false"));
    json_t *d = json_object_get(a, "data");
    assert_true(json_is_true(json_object_get(d, "compliant")));
    assert_int_equal(json_integer_value(json_object_get(d, "policy_version")), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(d, "policy"), "min_app")),
                        "1.0.0");
    json_decref(a);
    expect(&T1, "VISIT_TASKS", "{}", "OK");
}

static int setup(void **state)
{
    (void)state;
    char keys[PATH_MAX + 8], cp[PATH_MAX], err[512], src[PATH_MAX], link[PATH_MAX + 8];
    /* The CIS at an address where nothing listens: each prepare phase that
     * asks it counts an attempt, and answers manual. */
    static const char conf[] = "[egress.cis]\naddress = http://127.0.0.1:9\n"
                               "call_timeout_ms = 500\nretries = 0\n";
    if (testd_init(&D, conf))
        return -1;
    snprintf(link, sizeof link, "%s/conf", D.dir);
    if (symlink(src_path("conf", src, sizeof src), link) != 0 || testd_start(&D) ||
        testd_store_open(&D, &DB))
        return -1;
    /* The policy is set here, through business/mdm_policy.h: its audit
     * record needs the daemon's audit keys. */
    snprintf(keys, sizeof keys, "%s/keys", D.dir);
    struct audit_options o = {.key_dir = keys, .checkpoint_file = cp, .checkpoint_every = 1000};
    if (audit_checkpoint_path(D.dir, cp, sizeof cp) != 0 ||
        audit_open(&o, err, sizeof err) != ID_OK)
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T2, &D, "demo02") || tablet_login(&T2, "demo02", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T2);
    tablet_free(&T3);
    store_close(DB);
    audit_close();
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_before_any_checkin),
        cmocka_unit_test(rooted_refused_until_compliant),
        cmocka_unit_test(policy_of_its_own_bank),
        cmocka_unit_test(refused_before_prepare_and_not_stored),
        cmocka_unit_test(commands_delivered_acked_expired),
        cmocka_unit_test(lock_and_unbind),
    };
    return cmocka_run_group_tests_name("mdm", tests, setup, teardown);
}
