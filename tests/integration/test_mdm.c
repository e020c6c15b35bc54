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
 *     B01's device, which keeps the default; the change is audited. */
#include "business/mdm_policy.h"
#include "data/store.h"
#include "data/tenant.h"
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

#include <cmocka.h>

#define PW "Demo@1234"

static struct testd D;
static struct tablet T1; /* demo01, B01/01 */
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
    char keys[PATH_MAX + 8], cp[PATH_MAX], err[512];
    if (testd_init(&D, NULL) || testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    /* The policy is set here, through business/mdm_policy.h: its audit
     * record needs the daemon's audit keys. */
    snprintf(keys, sizeof keys, "%s/keys", D.dir);
    struct audit_options o = {.key_dir = keys, .checkpoint_file = cp, .checkpoint_every = 1000};
    if (audit_checkpoint_path(D.dir, cp, sizeof cp) != 0 ||
        audit_open(&o, err, sizeof err) != ID_OK)
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
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
    };
    return cmocka_run_group_tests_name("mdm", tests, setup, teardown);
}
