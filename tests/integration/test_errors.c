/* Error answers come from the table (foundation/errcode.h): against a real
 * daemon, each kind of answer — the HTTP front, the console, the ZY1
 * pipeline's plain errors and its sealed ones — carries the table's code,
 * the table's HTTP status and the table's message, or the detail that
 * overrides the message where one is needed. */
#include "foundation/errcode.h"
#include "console.h"
#include "tablet.h"
#include "testd.h"

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

static int setup(void **state)
{
    (void)state;
    return testd_init(&D, NULL) || testd_start(&D) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    testd_cleanup(&D);
    return 0;
}

/* A plain answer {"error":{"code","message"}}: e's status, code and
 * message (detail when given, else the table's). */
static void expect_plain(long status, json_t *body, enum ze e, const char *detail)
{
    json_t *err = json_object_get(body, "error");
    const char *code = json_string_value(json_object_get(err, "code"));
    const char *msg = json_string_value(json_object_get(err, "message"));
    if (status != ze_http(e) || !code || strcmp(code, ze_code(e)) != 0 || !msg ||
        strcmp(msg, ze_message(e, detail)) != 0)
        fail_msg("got %ld %s \"%s\", want %d %s \"%s\"", status, code ? code : "-", msg ? msg : "-",
                 ze_http(e), ze_code(e), ze_message(e, detail));
}

static void expect_raw(const char *method, const char *path, enum ze e)
{
    char url[256];
    struct http_result r;
    snprintf(url, sizeof url, "%s%s", D.base, path);
    assert_int_equal(http_do(method, url, NULL, 0, &r), 0);
    json_t *body = json_loadb(r.body, r.len, 0, NULL);
    expect_plain(r.status, body, e, NULL);
    json_decref(body);
    http_result_free(&r);
}

static void front_answers(void **state)
{
    (void)state;
    expect_raw("GET", "/no/such/path", ZE_NOT_FOUND);
    expect_raw("DELETE", "/healthz", ZE_METHOD_NOT_ALLOWED);
}

static void console_answers(void **state)
{
    (void)state;
    struct console c = {0};
    json_t *a = NULL;
    long st = console_raw(&D, "GET", "/api/v1/admin/me", NULL, NULL, NULL, 0, &a);
    expect_plain(st, a, ZE_UNAUTHENTICATED, NULL);
    json_decref(a);

    assert_int_equal(console_login(&c, &D, "admin01", "Wrong@1234"), ze_http(ZE_BAD_PASSWORD));
    assert_int_equal(console_login(&c, &D, "admin01", PW), 200);
    /* A bank admin may not reload the flow rules: the table's message. */
    a = NULL;
    st = console_post(&c, "/api/v1/admin/flow/reload", NULL, &a);
    expect_plain(st, a, ZE_FORBIDDEN, NULL);
    json_decref(a);
    /* Nor act on their own account: the detail says so. */
    a = NULL;
    st = console_post(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"admin01\"}", &a);
    expect_plain(st, a, ZE_FORBIDDEN, "不能在管理台操作自己的账号");
    json_decref(a);
    /* A short password: weak_password naming the bounds. */
    a = NULL;
    st = console_post(&c, "/api/v1/admin/tellers/reset-password",
                      "{\"teller\":\"demo02\",\"password\":\"short\"}", &a);
    expect_plain(st, a, ZE_WEAK_PASSWORD, "新密码须为8到128位");
    json_decref(a);
    /* An unknown member: bad_request naming it. */
    a = NULL;
    st = console_post(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"demo02\",\"x\":1}", &a);
    expect_plain(st, a, ZE_BAD_REQUEST, "data.x: unknown member");
    json_decref(a);
}

/* The plain error of a ZY1 call. */
static void expect_tx_plain(struct tablet *t, enum ze e)
{
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(t, "SESSION_INFO", NULL, NULL, &st, &plain);
    if (a)
        fail_msg("a sealed %s, want the plain %s", answer_code(a), ze_code(e));
    expect_plain(st, plain, e, NULL);
    json_decref(plain);
}

static void tx_plain_answers(void **state)
{
    (void)state;
    struct tablet t = {0};
    struct console c = {0};
    assert_int_equal(tablet_activate(&t, &D, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    /* A device id the server does not know. */
    char dev[sizeof t.st.dev];
    memcpy(dev, t.st.dev, sizeof dev);
    assert_int_equal(zyc_device_id_new(t.st.dev), ZYC_OK);
    expect_tx_plain(&t, ZE_DEVICE_UNKNOWN);
    memcpy(t.st.dev, dev, sizeof dev);
    /* Revoked on the console. */
    char body[96];
    snprintf(body, sizeof body, "{\"dev\":\"%s\"}", t.st.dev);
    assert_int_equal(console_login(&c, &D, "admin01", PW), 200);
    assert_int_equal(console_post(&c, "/api/v1/admin/devices/revoke", body, NULL), 200);
    expect_tx_plain(&t, ZE_DEVICE_BLOCKED);
    tablet_free(&t);
}

/* A sealed answer: e's code, the message (detail or the table's). */
static void expect_sealed(json_t *a, enum ze e, const char *detail)
{
    const char *msg = json_string_value(json_object_get(a, "message"));
    if (!a || strcmp(answer_code(a), ze_code(e)) != 0 || !msg ||
        strcmp(msg, ze_message(e, detail)) != 0)
        fail_msg("got %s \"%s\", want %s \"%s\"", a ? answer_code(a) : "(plain)", msg ? msg : "-",
                 ze_code(e), ze_message(e, detail));
}

static void tx_sealed_answers(void **state)
{
    (void)state;
    struct tablet t = {0};
    long st = 0;
    assert_int_equal(tablet_activate(&t, &D, "demo03"), 0);
    json_t *a = tablet_call(&t, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_int_equal(st, 200);
    expect_sealed(a, ZE_SESSION_INVALID, NULL);
    json_decref(a);

    assert_int_equal(tablet_login(&t, "demo03", PW), 0);
    a = tablet_call(&t, "PASSWORD_CHANGE",
                    "{\"old_password\":\"" PW "\",\"new_password\":\"short\"}", NULL, &st, NULL);
    expect_sealed(a, ZE_WEAK_PASSWORD, "新密码须为8到128位，且不能与原密码相同");
    json_decref(a);
    /* Wrong old passwords: bad_password naming the old one, until the lock
     * (the table's message, the same as LOGIN's). */
    const char *chg = "{\"old_password\":\"Wrong@1234\",\"new_password\":\"Other@1234\"}";
    a = tablet_call(&t, "PASSWORD_CHANGE", chg, NULL, &st, NULL);
    expect_sealed(a, ZE_BAD_PASSWORD, "原密码错误");
    for (int i = 0; i < 10 && a && strcmp(answer_code(a), ze_code(ZE_BAD_PASSWORD)) == 0; i++) {
        json_decref(a);
        a = tablet_call(&t, "PASSWORD_CHANGE", chg, NULL, &st, NULL);
    }
    expect_sealed(a, ZE_TELLER_LOCKED, NULL);
    json_decref(a);
    tablet_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(front_answers),
        cmocka_unit_test(console_answers),
        cmocka_unit_test(tx_plain_answers),
        cmocka_unit_test(tx_sealed_answers),
    };
    return cmocka_run_group_tests_name("errors", tests, setup, teardown);
}
