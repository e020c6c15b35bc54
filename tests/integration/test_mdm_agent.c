/* Device management, part 2, end to end: the management API
 * (/api/v1/admin/mdm/...) and the reference agent `zhanye call
 * --checkin-loop` against the real daemon:
 *   - a policy is set (every member checked, the bad one named, nothing
 *     stored; versioned, audited) and read back; another bank's is 404;
 *   - commands queued by B01's admin reach the agent at its next check-in:
 *     a wipe acknowledged done (the agent's cache is gone), an update_app
 *     failed with the agent's reason, a short-lived one expires and is
 *     never delivered; the states are what the console lists;
 *   - B02's admin cannot command, nor list the commands of, a B01 device
 *     (404, like a missing one);
 *   - the devices' compliance as the console shows it;
 *   - a lock ends the agent's session (it logs in again, then its pending
 *     acknowledgement arrives); an unbind acknowledged done ends the device
 *     (the agent forgets its secret; the device is unbound). */
#include "console.h"
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
#define REPORT                                                                                     \
    "{\"os\":\"Android 12\",\"app_version\":\"1.2.0\",\"apps\":[],\"security\":{\"rooted\":false," \
    "\"usb_debug\":false,\"screen_lock\":true,\"encrypted\":true}}"

static struct testd D;
static struct console A1; /* admin01, B01 */
static struct console A2; /* admin02, B02 */
static char STATE[PATH_MAX + 16], REPORT_FILE[PATH_MAX + 16], DEV[33];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void login_cli(void)
{
    char *out = NULL;
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", STATE, "LOGIN", "--data",
                                "{\"teller\":\"demo01\",\"password\":\"" PW "\"}", NULL),
                     0);
    free(out);
}

/* The agent's rounds; its stdout (caller frees). */
static char *agent(int rounds, int want)
{
    char *out = NULL, n[16];
    snprintf(n, sizeof n, "%d", rounds);
    int rc = run_zhanye(&out, NULL, "call", "--state", STATE, "--checkin-loop", n, "--report",
                        REPORT_FILE, NULL);
    if (rc != want)
        fail_msg("agent: exit %d, want %d: %s", rc, want, out ? out : "");
    return out;
}

static void must_contain(const char *text, const char *needle)
{
    if (!text || !strstr(text, needle))
        fail_msg("\"%s\" not in:\n%s", needle, text ? text : "(null)");
}

/* Queues kind (extra: more JSON members, "" for none); the command's id. */
static int64_t command(struct console *c, const char *kind, const char *extra, long want)
{
    char body[256];
    json_t *a = NULL;
    snprintf(body, sizeof body, "{\"dev\":\"%s\",\"kind\":\"%s\"%s}", DEV, kind, extra);
    long st = console_post(c, "/api/v1/admin/mdm/commands", body, &a);
    if (st != want)
        fail_msg("POST commands %s: %ld, want %ld (%s)", kind, st, want, console_err(a));
    int64_t id = json_integer_value(json_object_get(json_object_get(a, "command"), "id"));
    if (want == 201)
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(a, "command"), "state")), "queued");
    json_decref(a);
    return id;
}

/* The console's row of command id: its state (and reason into reason). */
static const char *state_of(int64_t id, char *reason, size_t cap)
{
    static char state[16];
    char path[128];
    json_t *a = NULL;
    snprintf(path, sizeof path, "/api/v1/admin/mdm/commands?dev=%s", DEV);
    assert_int_equal(console_get(&A1, path, &a), 200);
    size_t i;
    json_t *row;
    state[0] = '\0';
    json_array_foreach(json_object_get(a, "commands"), i, row)
    {
        if (json_integer_value(json_object_get(row, "id")) == id) {
            snprintf(state, sizeof state, "%s", json_string_value(json_object_get(row, "state")));
            if (reason)
                snprintf(reason, cap, "%s", json_string_value(json_object_get(row, "reason")));
        }
    }
    json_decref(a);
    return state;
}

static void policy_set_and_read(void **s)
{
    (void)s;
    json_t *a = NULL;
    assert_int_equal(console_post(&A1, "/api/v1/admin/mdm/policy",
                                  "{\"rules\":{\"min_app\":\"1.0.0\",\"min_os\":5}}", &a),
                     400);
    assert_string_equal(console_err(a), "bad_request");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "member")),
                        "rules.min_os");
    json_decref(a);
    assert_int_equal(
        console_post(&A1, "/api/v1/admin/mdm/policy", "{\"rules\":{\"colour\":1}}", &a), 400);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "member")),
                        "rules.colour");
    json_decref(a);
    assert_int_equal(console_post(&A1, "/api/v1/admin/mdm/policy",
                                  "{\"rules\":{\"min_app\":\"1.1.0\",\"rooted_refused\":true,"
                                  "\"max_offline_days\":3}}",
                                  &a),
                     200);
    json_t *p = json_object_get(a, "policy");
    assert_int_equal(json_integer_value(json_object_get(p, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(p, "bank")), "B01");
    json_decref(a);
    assert_int_equal(console_get(&A1, "/api/v1/admin/mdm/policy", &a), 200);
    p = json_object_get(a, "policy");
    assert_int_equal(json_integer_value(json_object_get(p, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(p, "rules"), "min_app")),
                        "1.1.0");
    json_decref(a);
    /* Another bank's policy: 404 like a missing bank; B02 keeps the default. */
    assert_int_equal(console_get(&A2, "/api/v1/admin/mdm/policy?bank=B01", &a), 404);
    json_decref(a);
    assert_int_equal(
        console_post(&A2, "/api/v1/admin/mdm/policy", "{\"bank\":\"B01\",\"rules\":{}}", &a), 404);
    json_decref(a);
    assert_int_equal(console_get(&A2, "/api/v1/admin/mdm/policy", &a), 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "policy"), "version")),
                     0);
    json_decref(a);
}

static void commands_delivered_failed_expired(void **s)
{
    (void)s;
    char cache[PATH_MAX + 32], reason[256];
    snprintf(cache, sizeof cache, "%s.cache", STATE);
    write_file(cache, "{\"drafts\":[1,2,3]}");
    int64_t wipe = command(&A1, "wipe", "", 201);
    int64_t update = command(&A1, "update_app", ",\"args\":{\"version\":\"2.0.0\"}", 201);
    int64_t brief = command(&A1, "refresh_policy", ",\"ttl_s\":1", 201);
    command(&A1, "reboot", "", 400);
    command(&A1, "wipe", ",\"ttl_s\":0", 400);
    struct timespec nap = {1, 300000000L};
    nanosleep(&nap, NULL);
    assert_string_equal(state_of(brief, NULL, 0), "expired"); /* reads as expired at once */

    char *out = agent(1, 0);
    must_contain(out, "commands=2");
    char line[96];
    snprintf(line, sizeof line, "agent: command %lld wipe", (long long)wipe);
    must_contain(out, line);
    snprintf(line, sizeof line, "agent: ack %lld done: OK", (long long)wipe);
    must_contain(out, line);
    snprintf(line, sizeof line, "agent: ack %lld failed: OK", (long long)update);
    must_contain(out, line);
    free(out);
    assert_false(exists(cache));
    assert_string_equal(state_of(wipe, NULL, 0), "done");
    assert_string_equal(state_of(update, reason, sizeof reason), "failed");
    assert_string_equal(reason, "zhanye call 不能安装应用");
    assert_string_equal(state_of(brief, NULL, 0), "expired");

    out = agent(1, 0); /* the expired one never comes */
    must_contain(out, "commands=0");
    free(out);
}

static void other_bank_cannot_command(void **s)
{
    (void)s;
    char path[128];
    json_t *a = NULL;
    command(&A2, "wipe", "", 404);
    snprintf(path, sizeof path, "/api/v1/admin/mdm/commands?dev=%s", DEV);
    assert_int_equal(console_get(&A2, path, &a), 404);
    json_decref(a);
    /* B02's list has none of B01's commands. */
    assert_int_equal(console_get(&A2, "/api/v1/admin/mdm/commands", &a), 200);
    assert_int_equal(json_array_size(json_object_get(a, "commands")), 0);
    json_decref(a);
}

static void devices_with_compliance(void **s)
{
    (void)s;
    json_t *a = NULL;
    assert_int_equal(console_get(&A1, "/api/v1/admin/mdm/devices", &a), 200);
    size_t i;
    json_t *row, *mine = NULL;
    json_array_foreach(json_object_get(a, "devices"), i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "dev")), DEV) == 0)
            mine = row;
    }
    assert_non_null(mine);
    json_t *c = json_object_get(mine, "compliance");
    assert_true(json_is_true(json_object_get(c, "compliant")));
    assert_string_equal(json_string_value(json_object_get(c, "app_version")), "1.2.0");
    assert_int_equal(json_integer_value(json_object_get(c, "policy_version")), 1);
    assert_true(json_integer_value(json_object_get(c, "checked_at")) > 0);
    json_decref(a);
    /* Not in B02's list. */
    assert_int_equal(console_get(&A2, "/api/v1/admin/mdm/devices", &a), 200);
    json_array_foreach(json_object_get(a, "devices"), i, row)
    {
        assert_string_not_equal(json_string_value(json_object_get(row, "dev")), DEV);
    }
    json_decref(a);
}

static void lock_then_login_then_ack(void **s)
{
    (void)s;
    int64_t lock = command(&A1, "lock", "", 201);
    char *out = agent(1, 0);
    must_contain(out, "session dropped");
    free(out);
    assert_string_equal(state_of(lock, NULL, 0), "delivered");
    /* No check-in without a session (the server ended it too: it_mdm). */
    out = agent(1, 1);
    must_contain(out, "no session");
    free(out);
    login_cli();
    out = agent(1, 0);
    char line[96];
    snprintf(line, sizeof line, "agent: ack %lld done: OK", (long long)lock);
    must_contain(out, line);
    free(out);
    assert_string_equal(state_of(lock, NULL, 0), "done");
}

static void unbind_ends_the_device(void **s)
{
    (void)s;
    int64_t unbind = command(&A1, "unbind", "", 201);
    char *out = agent(3, 0);
    must_contain(out, "device secret forgotten");
    assert_null(strstr(out, "round 2")); /* it stopped */
    free(out);
    assert_false(exists(STATE));
    assert_string_equal(state_of(unbind, NULL, 0), "done");
    json_t *a = NULL;
    assert_int_equal(console_get(&A1, "/api/v1/admin/devices", &a), 200);
    size_t i;
    json_t *row;
    const char *status = "";
    json_array_foreach(json_object_get(a, "devices"), i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "dev")), DEV) == 0)
            status = json_string_value(json_object_get(row, "status"));
    }
    assert_string_equal(status, "unbound");
    json_decref(a);
    command(&A1, "wipe", "", 409); /* not active any more */
}

static int setup(void **s)
{
    (void)s;
    char code[32];
    char *out = NULL;
    if (testd_init(&D, NULL) || testd_start(&D))
        return -1;
    if (console_login(&A1, &D, "admin01", PW) != 200 ||
        console_login(&A2, &D, "admin02", PW) != 200)
        return -1;
    snprintf(STATE, sizeof STATE, "%s/agent.json", D.dir);
    snprintf(REPORT_FILE, sizeof REPORT_FILE, "%s/report.json", D.dir);
    FILE *f = fopen(REPORT_FILE, "w");
    if (!f)
        return -1;
    fputs(REPORT, f);
    fclose(f);
    if (tablet_issue_code(&D, "demo01", code, sizeof code) != 0 ||
        run_zhanye(&out, NULL, "call", "--state", STATE, "--server", D.base, "--activate", code,
                   "--teller", "demo01", NULL) != 0)
        return -1;
    free(out);
    json_t *st = json_load_file(STATE, 0, NULL);
    const char *dev = json_string_value(json_object_get(st, "dev"));
    if (!dev || strlen(dev) != 32)
        return -1;
    snprintf(DEV, sizeof DEV, "%s", dev);
    json_decref(st);
    out = NULL;
    if (run_zhanye(&out, NULL, "call", "--state", STATE, "LOGIN", "--data",
                   "{\"teller\":\"demo01\",\"password\":\"" PW "\"}", NULL) != 0)
        return -1;
    free(out);
    return 0;
}

static int teardown(void **s)
{
    (void)s;
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_set_and_read),
        cmocka_unit_test(commands_delivered_failed_expired),
        cmocka_unit_test(other_bank_cannot_command),
        cmocka_unit_test(devices_with_compliance),
        cmocka_unit_test(lock_then_login_then_ack),
        cmocka_unit_test(unbind_ends_the_device),
    };
    return cmocka_run_group_tests_name("mdm_agent", tests, setup, teardown);
}
