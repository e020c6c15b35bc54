/* mdm_eval: every rule of a device policy both ways (the report that keeps
 * it and the one that breaks it), version comparison, and the default
 * policy (rooted never compliant; a well-kept device compliant). */
#include "business/mdm_eval.h"
#include "business/mdm_policy.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The rules report breaks under policy (both JSON texts), as "a,b,". */
static void rules(const char *policy, const char *report, char *out, size_t cap)
{
    json_t *p = json_loads(policy, 0, NULL), *r = json_loads(report, 0, NULL);
    assert_non_null(p);
    assert_non_null(r);
    json_t *v = mdm_evaluate(p, r);
    assert_non_null(v);
    out[0] = '\0';
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        assert_non_null(json_string_value(json_object_get(e, "detail")));
        strncat(out, json_string_value(json_object_get(e, "rule")), cap - strlen(out) - 2);
        strcat(out, ",");
    }
    json_decref(v);
    json_decref(p);
    json_decref(r);
}

static void expect(const char *policy, const char *report, const char *want)
{
    char got[512];
    rules(policy, report, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("policy %s report %s: got '%s', want '%s'", policy, report, got, want);
}

static void versions(void **state)
{
    (void)state;
    assert_true(mdm_version_cmp("1.4.10", "1.4.9") > 0);
    assert_true(mdm_version_cmp("1.4", "1.4.0") == 0);
    assert_true(mdm_version_cmp("Android 12.1", "12") > 0);
    assert_true(mdm_version_cmp("7", "7.0.1") < 0);
    assert_true(mdm_version_cmp("abc", "1") < 0);
    assert_true(mdm_version_cmp("2", "10") < 0);
}

static void version_rules(void **state)
{
    (void)state;
    expect("{\"min_os\":\"8.0\"}", "{\"os\":\"Android 8.1\"}", "");
    expect("{\"min_os\":\"8.0\"}", "{\"os\":\"Android 7.1\"}", "os_version,");
    expect("{\"min_os\":\"8.0\"}", "{}", "os_version,");
    expect("{\"min_app\":\"1.2.0\"}", "{\"app_version\":\"1.10.0\"}", "");
    expect("{\"min_app\":\"1.2.0\"}", "{\"app_version\":\"1.1.9\"}", "app_version,");
}

static void app_rules(void **state)
{
    (void)state;
    const char *deny = "{\"apps_denied\":[\"com.bad\"]}";
    expect(deny, "{\"apps\":[{\"id\":\"com.good\",\"version\":\"1\"}]}", "");
    expect(deny, "{\"apps\":[{\"id\":\"com.good\"},{\"id\":\"com.bad\"}]}", "app_denied,");
    const char *allow = "{\"apps_allowed\":[\"com.a\",\"com.b\"]}";
    expect(allow, "{\"apps\":[{\"id\":\"com.a\"},{\"id\":\"com.b\"}]}", "");
    expect(allow, "{\"apps\":[{\"id\":\"com.a\"},{\"id\":\"com.x\"}]}", "app_not_allowed,");
    /* An empty allow list allows any app. */
    expect("{\"apps_allowed\":[]}", "{\"apps\":[{\"id\":\"com.x\"}]}", "");
}

static void security_rules(void **state)
{
    (void)state;
    expect("{\"usb_transfer\":false}", "{\"security\":{\"usb_debug\":false}}", "");
    expect("{\"usb_transfer\":false}", "{\"security\":{\"usb_debug\":true}}", "usb,");
    expect("{\"usb_transfer\":true}", "{\"security\":{\"usb_debug\":true}}", "");
    expect("{\"bluetooth\":false}", "{\"security\":{\"bluetooth\":false}}", "");
    expect("{\"bluetooth\":false}", "{\"security\":{\"bluetooth\":true}}", "bluetooth,");
    expect("{\"screen_lock\":true}", "{\"security\":{\"screen_lock\":true}}", "");
    expect("{\"screen_lock\":true}", "{\"security\":{\"screen_lock\":false}}", "screen_lock,");
    expect("{\"screen_lock\":false}", "{\"security\":{\"screen_lock\":false}}", "");
    expect("{\"screen_lock_timeout_s\":300}", "{\"security\":{\"screen_lock_timeout_s\":60}}", "");
    expect("{\"screen_lock_timeout_s\":300}", "{\"security\":{\"screen_lock_timeout_s\":600}}",
           "screen_lock_timeout,");
    expect("{\"encryption\":true}", "{\"security\":{\"encrypted\":true}}", "");
    expect("{\"encryption\":true}", "{\"security\":{\"encrypted\":false}}", "encryption,");
    expect("{\"rooted_refused\":true}", "{\"security\":{\"rooted\":false}}", "");
    expect("{\"rooted_refused\":true}", "{\"security\":{\"rooted\":true}}", "rooted,");
    /* Not reporting it is not "not rooted". */
    expect("{\"rooted_refused\":true}", "{\"security\":{}}", "rooted,");
    expect("{\"rooted_refused\":false}", "{\"security\":{\"rooted\":true}}", "");
}

static void network_rules(void **state)
{
    (void)state;
    const char *wifi = "{\"wifi_allowed\":[\"BANK-WLAN\"]}";
    expect(wifi, "{\"network\":{\"wifi_ssid\":\"BANK-WLAN\"}}", "");
    expect(wifi, "{\"network\":{\"wifi_ssid\":\"CAFE\"}}", "wifi,");
    expect(wifi, "{\"network\":{}}", ""); /* on mobile data */
    const char *kinds = "{\"networks_allowed\":[\"wifi\"]}";
    expect(kinds, "{\"network\":{\"type\":\"wifi\"}}", "");
    expect(kinds, "{\"network\":{\"type\":\"cellular\"}}", "network,");
    expect(kinds, "{\"network\":{}}", ""); /* the type unreported: an optional fact */
    const char *vpn = "{\"vpn_required\":true}";
    expect(vpn, "{\"network\":{\"vpn\":true}}", "");
    expect(vpn, "{\"network\":{\"vpn\":false}}", "vpn,");
    expect(vpn, "{\"network\":{}}", "vpn,"); /* unreported is not connected */
    expect("{\"vpn_required\":false}", "{\"network\":{\"vpn\":false}}", "");
}

/* The work area: a county town's centre with 5 km around it. 0.01 degree of
 * latitude is about 1.11 km. */
static void geofence_rule(void **state)
{
    (void)state;
    const char *area = "{\"geofence\":{\"lat\":30.0,\"lng\":120.0,\"radius_m\":5000}}";
    expect(area, "{\"position\":{\"lat\":30.0,\"lng\":120.0}}", "");
    expect(area, "{\"position\":{\"lat\":30.04,\"lng\":120.0}}", "");          /* 4.4 km */
    expect(area, "{\"position\":{\"lat\":30.05,\"lng\":120.0}}", "geofence,"); /* 5.6 km */
    expect(area, "{\"position\":{\"lat\":29.0,\"lng\":120.0}}", "geofence,");
    expect(area, "{}", "geofence,");                          /* no position: not shown inside */
    expect("{}", "{\"position\":{\"lat\":0,\"lng\":0}}", ""); /* no fence set */
    /* What a policy may say of it. */
    const char *why = NULL;
    json_t *bad = json_loads("{\"geofence\":{\"lat\":91,\"lng\":0,\"radius_m\":10}}", 0, NULL);
    assert_string_equal(mdm_policy_bad_member(bad, &why), "geofence");
    json_decref(bad);
    bad = json_loads("{\"geofence\":{\"lat\":30,\"lng\":120,\"radius_m\":0}}", 0, NULL);
    assert_string_equal(mdm_policy_bad_member(bad, &why), "geofence");
    json_decref(bad);
    json_t *good = json_loads(area, 0, NULL);
    assert_null(mdm_policy_bad_member(good, &why));
    json_decref(good);
}

static const char GOOD[] =
    "{\"os\":\"Android 12\",\"app_version\":\"1.2.0\",\"apps\":[{\"id\":\"cn.zhanye\","
    "\"version\":\"1.2.0\"}],\"security\":{\"rooted\":false,\"usb_debug\":false,"
    "\"screen_lock\":true,\"encrypted\":true},\"network\":{\"wifi_ssid\":\"X\"}}";

static void default_policy(void **state)
{
    (void)state;
    json_t *p = mdm_policy_default();
    assert_non_null(p);
    assert_true(mdm_policy_valid(p));
    assert_true(json_is_true(json_object_get(p, "rooted_refused")));
    assert_true(json_is_false(json_object_get(p, "require_checkin")));
    char *text = json_dumps(p, 0);
    json_decref(p);
    expect(text, GOOD, "");
    json_t *r = json_loads(GOOD, 0, NULL);
    json_object_set_new(json_object_get(r, "security"), "rooted", json_true());
    char *rooted = json_dumps(r, 0);
    expect(text, rooted, "rooted,");
    free(rooted);
    json_decref(r);
    free(text);
}

static void validity(void **state)
{
    (void)state;
    const char *good[] = {"{}", "{\"min_os\":\"8\",\"require_checkin\":true}",
                          "{\"apps_denied\":[\"a\"],\"checkin_interval_s\":60}"};
    const char *bad[] = {"[]",
                         "{\"nope\":1}",
                         "{\"min_os\":\"x\"}",
                         "{\"usb_transfer\":1}",
                         "{\"apps_denied\":[1]}",
                         "{\"checkin_interval_s\":-1}"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_t *p = json_loads(good[i], 0, NULL);
        assert_true(mdm_policy_valid(p));
        json_decref(p);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *p = json_loads(bad[i], 0, NULL);
        if (mdm_policy_valid(p))
            fail_msg("accepted %s", bad[i]);
        json_decref(p);
    }
}

/* The console's error names the first bad member (mdm_policy_bad_member). */
static void bad_member_named(void **state)
{
    (void)state;
    const char *why = NULL;
    json_t *p = json_loads("{\"min_app\":\"1.0\",\"max_offline_days\":-1}", 0, NULL);
    assert_string_equal(mdm_policy_bad_member(p, &why), "max_offline_days");
    assert_non_null(strstr(why, "非负整数"));
    json_decref(p);
    p = json_loads("{\"colour\":true}", 0, NULL);
    assert_string_equal(mdm_policy_bad_member(p, &why), "colour");
    json_decref(p);
    p = json_loads("[]", 0, NULL);
    assert_string_equal(mdm_policy_bad_member(p, &why), "policy");
    json_decref(p);
    p = mdm_policy_default();
    assert_null(mdm_policy_bad_member(p, &why));
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions),         cmocka_unit_test(version_rules),
        cmocka_unit_test(app_rules),        cmocka_unit_test(security_rules),
        cmocka_unit_test(network_rules),    cmocka_unit_test(geofence_rule),
        cmocka_unit_test(default_policy),   cmocka_unit_test(validity),
        cmocka_unit_test(bad_member_named),
    };
    return cmocka_run_group_tests_name("mdm_eval", tests, NULL, NULL);
}
