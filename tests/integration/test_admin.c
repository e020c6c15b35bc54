/* The management API end to end over HTTP: console login and sessions,
 * CSRF / Content-Type / Origin rules, the role rules of every resource, and
 * the flows that reach the tablets through real ZY1 envelopes (a ticket
 * issued on the console activates a tablet; revoke and unbind stop it; a
 * reset password is the one LOGIN accepts). */
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

static void login(struct console *c, const char *teller, const char *pw)
{
    long st = console_login(c, &D, teller, pw);
    if (st != 200 || !c->cookie[0])
        fail_msg("login %s: %ld", teller, st);
}

/* POST expecting status (and error code when want_err is not NULL). */
static json_t *post(struct console *c, const char *path, const char *body, long want,
                    const char *want_err)
{
    json_t *a = NULL;
    long st = console_post(c, path, body, &a);
    if (st != want || (want_err && strcmp(console_err(a), want_err) != 0))
        fail_msg("POST %s %s: got %ld %s, want %ld %s", path, body ? body : "{}", st,
                 console_err(a), want, want_err ? want_err : "");
    return a;
}

static void post_ok(struct console *c, const char *path, const char *body, long want)
{
    json_decref(post(c, path, body, want, NULL));
}

static void post_err(struct console *c, const char *path, const char *body, long want,
                     const char *err)
{
    json_decref(post(c, path, body, want, err));
}

static json_t *get(struct console *c, const char *path, long want)
{
    json_t *a = NULL;
    long st = console_get(c, path, &a);
    if (st != want)
        fail_msg("GET %s: got %ld %s, want %ld", path, st, console_err(a), want);
    return a;
}

/* True when the array key of ans has an item whose field is value. */
static bool has(json_t *ans, const char *key, const char *field, const char *value)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(ans, key), i, it)
    {
        const char *v = json_string_value(json_object_get(it, field));
        if (v && strcmp(v, value) == 0)
            return true;
    }
    return false;
}

static size_t count(json_t *ans, const char *key)
{
    return json_array_size(json_object_get(ans, key));
}

static void login_me_logout(void **state)
{
    (void)state;
    struct console c;
    char line[256];
    login(&c, "admin01", PW);
    assert_int_equal(strlen(c.cookie), 32);
    assert_int_equal(strlen(c.csrf), 32);
    json_t *me = get(&c, "/api/v1/admin/me", 200);
    json_t *t = json_object_get(me, "teller");
    assert_string_equal(json_string_value(json_object_get(t, "code")), "admin01");
    assert_string_equal(json_string_value(json_object_get(t, "role")), "bank_admin");
    assert_string_equal(json_string_value(json_object_get(t, "bank")), "B01");
    assert_string_equal(json_string_value(json_object_get(me, "csrf_token")), c.csrf);
    json_decref(me);

    /* Logout clears the cookie and ends the session for good. */
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "Cookie: zs=%s", c.cookie);
    snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", c.csrf);
    const char *const hdrs[] = {cookie, csrf, "Content-Type: application/json", NULL};
    assert_int_equal(
        console_raw(&D, "POST", "/api/v1/admin/logout", hdrs, "", line, sizeof line, NULL), 200);
    assert_non_null(strstr(line, "zs=;"));
    assert_non_null(strstr(line, "Max-Age=0"));
    json_t *a = get(&c, "/api/v1/admin/me", 401);
    assert_string_equal(console_err(a), "unauthenticated");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "reason")),
                        "logged_out");
    json_decref(a);
}

static void cookie_attributes(void **state)
{
    (void)state;
    char line[256];
    const char *const hdrs[] = {"Content-Type: application/json", NULL};
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", hdrs,
                                 "{\"teller\":\"prov01\",\"password\":\"" PW "\"}", line,
                                 sizeof line, NULL),
                     200);
    assert_true(strncmp(line, "zs=", 3) == 0);
    assert_non_null(strstr(line, "; HttpOnly"));
    assert_non_null(strstr(line, "; SameSite=Strict"));
    /* Path is /api/v1/admin, explicit or as the default path of the login URL. */
    const char *path = strstr(line, "Path=");
    if (path)
        assert_true(strncmp(path, "Path=/api/v1/admin", 18) == 0);
}

static void login_refusals(void **state)
{
    (void)state;
    json_t *a = NULL;
    const char *const json_ct[] = {"Content-Type: application/json", NULL};
    const char *const text_ct[] = {"Content-Type: text/plain", NULL};
    const char *const evil[] = {"Content-Type: application/json", "Origin: http://evil.example",
                                NULL};
    /* client managers work on tablets only: the right password is answered
     * exactly like a wrong one and like an unknown code */
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", json_ct,
                                 "{\"teller\":\"demo01\",\"password\":\"" PW "\"}", NULL, 0, &a),
                     401);
    char *right = json_dumps(a, JSON_SORT_KEYS);
    json_decref(a);
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", json_ct,
                                 "{\"teller\":\"demo01\",\"password\":\"wrong-password\"}", NULL, 0,
                                 &a),
                     401);
    char *wrong = json_dumps(a, JSON_SORT_KEYS);
    json_decref(a);
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", json_ct,
                                 "{\"teller\":\"nobody99\",\"password\":\"" PW "\"}", NULL, 0, &a),
                     401);
    char *unknown = json_dumps(a, JSON_SORT_KEYS);
    json_decref(a);
    assert_non_null(strstr(right, "\"bad_password\""));
    assert_string_equal(right, wrong);
    assert_string_equal(right, unknown);
    free(right);
    free(wrong);
    free(unknown);
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", json_ct,
                                 "{\"teller\":\"admin01\"}", NULL, 0, &a),
                     400);
    json_decref(a);
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", text_ct,
                                 "{\"teller\":\"admin01\",\"password\":\"" PW "\"}", NULL, 0, &a),
                     415);
    json_decref(a);
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", evil,
                                 "{\"teller\":\"admin01\",\"password\":\"" PW "\"}", NULL, 0, &a),
                     403);
    assert_string_equal(console_err(a), "bad_origin");
    json_decref(a);
}

static void csrf_content_type_origin(void **state)
{
    (void)state;
    struct console c;
    char cookie[128], csrf[128], origin[128];
    json_t *a = NULL;
    login(&c, "admin01", PW);
    snprintf(cookie, sizeof cookie, "Cookie: zs=%s", c.cookie);
    snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", c.csrf);
    snprintf(origin, sizeof origin, "Origin: %s", D.base);
    const char *body = "{\"teller\":\"demo01\"}";
    struct {
        const char *hdrs[5];
        long status;
        const char *err;
    } cases[] = {
        {{cookie, "Content-Type: application/json", NULL}, 403, "csrf"},
        {{cookie, "X-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
          "Content-Type: application/json", NULL},
         403,
         "csrf"},
        {{cookie, csrf, "Content-Type: text/plain", NULL}, 415, "unsupported_media_type"},
        {{cookie, csrf, "Content-Type: application/x-www-form-urlencoded", NULL},
         415,
         "unsupported_media_type"},
        {{csrf, "Content-Type: application/json", NULL}, 401, "unauthenticated"},
        {{"Cookie: zs=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", csrf, "Content-Type: application/json",
          NULL},
         401,
         "unauthenticated"},
        {{cookie, csrf, "Content-Type: application/json", "Origin: http://evil.example", NULL},
         403,
         "bad_origin"},
        {{cookie, csrf, "Content-Type: application/json", "Origin: null", NULL}, 403, "bad_origin"},
        {{cookie, csrf, "Content-Type: application/json; charset=utf-8", origin, NULL}, 201, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long st =
            console_raw(&D, "POST", "/api/v1/admin/tickets", cases[i].hdrs, body, NULL, 0, &a);
        if (st != cases[i].status || strcmp(console_err(a), cases[i].err) != 0)
            fail_msg("case %zu: got %ld %s, want %ld %s", i, st, console_err(a), cases[i].status,
                     cases[i].err);
        json_decref(a);
    }
    /* A read from another origin is refused as well. */
    const char *const evil_get[] = {cookie, "Origin: http://evil.example", NULL};
    assert_int_equal(console_raw(&D, "GET", "/api/v1/admin/me", evil_get, NULL, NULL, 0, NULL),
                     403);
    /* Malformed bodies and unknown members. */
    post_err(&c, "/api/v1/admin/tickets", "[1]", 400, "bad_request");
    post_err(&c, "/api/v1/admin/tickets", "{\"teller\":\"demo01\",\"x\":1}", 400, "bad_request");
    post_err(&c, "/api/v1/admin/tickets", "{\"teller\":1}", 400, "bad_request");
}

static void province_admin(void **state)
{
    (void)state;
    struct console p, b3;
    login(&p, "prov01", PW);
    json_t *a = get(&p, "/api/v1/admin/banks", 200);
    assert_int_equal(count(a, "banks"), 3);
    assert_true(has(a, "banks", "code", "P00") && has(a, "banks", "code", "B02"));
    json_decref(a);
    post_ok(&p, "/api/v1/admin/banks", "{\"code\":\"B03\",\"name\":\"远山农商银行\"}", 201);
    post_err(&p, "/api/v1/admin/banks", "{\"code\":\"B03\",\"name\":\"重复\"}", 409, "exists");
    post_err(&p, "/api/v1/admin/banks", "{\"code\":\"B 4\",\"name\":\"x\"}", 400, "bad_request");
    post_ok(&p, "/api/v1/admin/branches", "{\"bank\":\"B03\",\"code\":\"01\",\"name\":\"一支行\"}",
            201);
    post_err(&p, "/api/v1/admin/branches", "{\"code\":\"09\",\"name\":\"无行\"}", 400,
             "bad_request");
    post_err(&p, "/api/v1/admin/branches", "{\"bank\":\"P00\",\"code\":\"01\",\"name\":\"省\"}",
             409, "conflict");
    post_ok(&p, "/api/v1/admin/tellers",
            "{\"bank\":\"B03\",\"code\":\"admin03\",\"name\":\"远山管理员\",\"role\":\"bank_"
            "admin\",\"password\":\"" PW "\"}",
            201);
    a = get(&p, "/api/v1/admin/tellers?bank=B03", 200);
    assert_int_equal(count(a, "tellers"), 1);
    json_decref(a);

    /* The new bank's admin sees that bank only. */
    login(&b3, "admin03", PW);
    a = get(&b3, "/api/v1/admin/banks", 200);
    assert_int_equal(count(a, "banks"), 1);
    assert_true(has(a, "banks", "code", "B03"));
    json_decref(a);
    a = get(&b3, "/api/v1/admin/tellers", 200);
    assert_int_equal(count(a, "tellers"), 1);
    json_decref(a);
}

static void bank_admin(void **state)
{
    (void)state;
    struct console c;
    login(&c, "admin01", PW);
    post_err(&c, "/api/v1/admin/banks", "{\"code\":\"B09\",\"name\":\"x\"}", 403, "forbidden");
    json_t *a =
        post(&c, "/api/v1/admin/branches", "{\"code\":\"03\",\"name\":\"新街支行\"}", 201, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "branch"), "bank")),
                        "B01");
    json_decref(a);
    post_err(&c, "/api/v1/admin/branches", "{\"bank\":\"B02\",\"code\":\"05\",\"name\":\"x\"}", 404,
             "not_found");
    post_ok(&c, "/api/v1/admin/tellers",
            "{\"branch\":\"01\",\"code\":\"bm01\",\"name\":\"城关负责人\",\"role\":\"branch_"
            "manager\",\"password\":\"" PW "\"}",
            201);
    post_err(&c, "/api/v1/admin/tellers",
             "{\"code\":\"ba01\",\"name\":\"x\",\"role\":\"bank_admin\",\"password\":\"" PW "\"}",
             403, "forbidden");
    post_err(&c, "/api/v1/admin/tellers",
             "{\"code\":\"cm99\",\"name\":\"x\",\"role\":\"client_manager\",\"password\":\"" PW
             "\"}",
             400, "bad_request"); /* a client manager needs a branch */
    post_err(&c, "/api/v1/admin/tellers",
             "{\"code\":\"cm99\",\"name\":\"x\",\"role\":\"root\",\"branch\":\"01\",\"password\":"
             "\"" PW "\"}",
             400, "bad_request");
    post_err(&c, "/api/v1/admin/tellers",
             "{\"branch\":\"01\",\"code\":\"demo03\",\"name\":\"x\",\"role\":\"client_manager\","
             "\"password\":\"" PW "\"}",
             409, "exists"); /* teller codes are unique in the whole deployment */
    post_err(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"admin01\"}", 403, "forbidden");
    a = post(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"demo02\"}", 200, NULL);
    assert_false(json_boolean_value(json_object_get(json_object_get(a, "teller"), "active")));
    json_decref(a);
    post_ok(&c, "/api/v1/admin/tellers/enable", "{\"teller\":\"demo02\"}", 200);
    post_err(&c, "/api/v1/admin/tellers/reset-password",
             "{\"teller\":\"demo02\",\"password\":\"short\"}", 400, "weak_password");
    a = get(&c, "/api/v1/admin/tellers", 200);
    assert_true(has(a, "tellers", "code", "bm01") && has(a, "tellers", "code", "demo02"));
    assert_false(has(a, "tellers", "code", "demo03") || has(a, "tellers", "code", "prov01"));
    json_decref(a);
}

static void branch_manager(void **state)
{
    (void)state;
    struct console c;
    login(&c, "bm01", PW);
    json_t *a = get(&c, "/api/v1/admin/tellers", 200);
    assert_true(has(a, "tellers", "code", "demo01") && has(a, "tellers", "code", "bm01"));
    assert_false(has(a, "tellers", "code", "demo02") || has(a, "tellers", "code", "admin01"));
    json_decref(a);
    a = get(&c, "/api/v1/admin/banks", 200);
    assert_int_equal(count(a, "banks"), 1);
    json_decref(a);
    a = get(&c, "/api/v1/admin/branches", 200);
    assert_int_equal(count(a, "branches"), 1);
    assert_true(has(a, "branches", "code", "01"));
    json_decref(a);
    post_err(&c, "/api/v1/admin/banks", "{\"code\":\"B09\",\"name\":\"x\"}", 403, "forbidden");
    post_err(&c, "/api/v1/admin/branches", "{\"code\":\"09\",\"name\":\"x\"}", 403, "forbidden");
    a = post(&c, "/api/v1/admin/tellers",
             "{\"code\":\"cm11\",\"name\":\"新员工\",\"role\":\"client_manager\",\"password\":"
             "\"" PW "\"}",
             201, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "teller"), "branch")),
                        "01");
    json_decref(a);
    post_err(&c, "/api/v1/admin/tellers",
             "{\"branch\":\"02\",\"code\":\"cm12\",\"name\":\"x\",\"role\":\"client_manager\","
             "\"password\":\"" PW "\"}",
             404, "not_found");
    post_err(&c, "/api/v1/admin/tellers",
             "{\"code\":\"bm09\",\"name\":\"x\",\"role\":\"branch_manager\",\"password\":\"" PW
             "\"}",
             403, "forbidden");
    post_err(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"demo02\"}", 404, "not_found");
    post_err(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"admin01\"}", 404, "not_found");
    post_ok(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"cm11\"}", 200);
    post_err(&c, "/api/v1/admin/tickets", "{\"teller\":\"demo02\"}", 404, "not_found");
    a = get(&c, "/api/v1/admin/audit/verify", 403);
    json_decref(a);
    /* The branch's records only: about its tellers and their devices. */
    a = get(&c, "/api/v1/admin/audit/records", 200);
    assert_true(count(a, "records") > 0);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(a, "records"), i, r)
    {
        const char *target = json_string_value(json_object_get(r, "target"));
        assert_true(strcmp(target, "demo02") != 0 && strcmp(target, "admin01") != 0);
    }
    json_decref(a);
}

static void lockout_and_reset(void **state)
{
    (void)state;
    struct console c, adm;
    login(&adm, "admin01", PW);
    post_ok(&adm, "/api/v1/admin/tellers",
            "{\"branch\":\"02\",\"code\":\"bm02\",\"name\":\"河东负责人\",\"role\":\"branch_"
            "manager\",\"password\":\"" PW "\"}",
            201);
    /* The console tells nothing on a wrong password, not even the failure
     * that locks; the lock is told to the right password only. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(console_login(&c, &D, "bm02", "Wrong@1234"), 401);
    assert_int_equal(console_login(&c, &D, "bm02", "Wrong@1234"), 401);
    json_t *l = NULL;
    const char *const json_ct[] = {"Content-Type: application/json", NULL};
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", json_ct,
                                 "{\"teller\":\"bm02\",\"password\":\"" PW "\"}", NULL, 0, &l),
                     403); /* locked: even the right one */
    assert_string_equal(console_err(l), "teller_locked");
    json_decref(l);
    json_t *a = get(&adm, "/api/v1/admin/tellers", 200);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(a, "tellers"), i,
                       t) if (strcmp(json_string_value(json_object_get(t, "code")), "bm02") == 0)
        assert_true(json_boolean_value(json_object_get(t, "locked")));
    json_decref(a);
    post_ok(&adm, "/api/v1/admin/tellers/reset-password",
            "{\"teller\":\"bm02\",\"password\":\"Reset@12345\"}", 200);
    assert_int_equal(console_login(&c, &D, "bm02", "Reset@12345"), 200);
}

/* Console and tablet count failures apart: a flood of console logins no
 * longer locks anyone out of the field, and a tablet lock leaves the
 * console open. */
static void channels_lock_apart(void **state)
{
    (void)state;
    struct console adm, c;
    struct tablet t3, t4, cm;
    login(&adm, "admin01", PW);
    post_ok(&adm, "/api/v1/admin/tellers",
            "{\"branch\":\"01\",\"code\":\"bm03\",\"name\":\"甲\",\"role\":\"branch_"
            "manager\",\"password\":\"" PW "\"}",
            201);
    post_ok(&adm, "/api/v1/admin/tellers",
            "{\"branch\":\"01\",\"code\":\"bm04\",\"name\":\"乙\",\"role\":\"branch_"
            "manager\",\"password\":\"" PW "\"}",
            201);
    assert_int_equal(tablet_activate(&t3, &D, "bm03"), 0);
    assert_int_equal(tablet_activate(&t4, &D, "bm04"), 0);
    assert_int_equal(tablet_activate(&cm, &D, "demo03"), 0);

    /* bm03 locked on the console: the tablet still logs in. */
    for (int i = 0; i < 6; i++)
        assert_int_equal(console_login(&c, &D, "bm03", "Wrong@1234"), 401);
    assert_int_equal(console_login(&c, &D, "bm03", PW), 403);
    assert_int_equal(tablet_login(&t3, "bm03", PW), 0);

    /* bm04 locked on the tablet: the console still opens. */
    for (int i = 0; i < 5; i++)
        assert_int_not_equal(tablet_login(&t4, "bm04", "Wrong@1234"), 0);
    assert_int_not_equal(tablet_login(&t4, "bm04", PW), 0);
    assert_int_equal(console_login(&c, &D, "bm04", PW), 200);

    /* A client manager cannot be locked out of the field from the console,
     * whatever is sent there. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(console_login(&c, &D, "demo03", i % 2 ? PW : "Wrong@1234"), 401);
    assert_int_equal(tablet_login(&cm, "demo03", PW), 0);
    tablet_free(&t3);
    tablet_free(&t4);
    tablet_free(&cm);
}

/* A disabled teller is told so only with the right password, and wrong
 * passwords sent meanwhile count nothing. */
static void disabled_told_to_right_password(void **state)
{
    (void)state;
    struct console adm, c;
    json_t *a = NULL;
    const char *const json_ct[] = {"Content-Type: application/json", NULL};
    login(&adm, "admin01", PW);
    post_ok(&adm, "/api/v1/admin/tellers",
            "{\"branch\":\"01\",\"code\":\"bm05\",\"name\":\"丙\",\"role\":\"branch_"
            "manager\",\"password\":\"" PW "\"}",
            201);
    post_ok(&adm, "/api/v1/admin/tellers/disable", "{\"teller\":\"bm05\"}", 200);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", json_ct,
                                     "{\"teller\":\"bm05\",\"password\":\"Wrong@1234\"}", NULL, 0,
                                     &a),
                         401);
        assert_string_equal(console_err(a), "bad_password");
        json_decref(a);
    }
    assert_int_equal(console_raw(&D, "POST", "/api/v1/admin/login", json_ct,
                                 "{\"teller\":\"bm05\",\"password\":\"" PW "\"}", NULL, 0, &a),
                     403);
    assert_string_equal(console_err(a), "teller_disabled");
    json_decref(a);
    post_ok(&adm, "/api/v1/admin/tellers/enable", "{\"teller\":\"bm05\"}", 200);
    assert_int_equal(console_login(&c, &D, "bm05", PW), 200); /* not locked by them */
}

static void devices_and_tickets(void **state)
{
    (void)state;
    struct console c;
    struct tablet t1, t2;
    char answer[64];
    long st;
    login(&c, "admin01", PW);

    /* A code issued on the console activates a tablet over ZY1. */
    json_t *a = post(&c, "/api/v1/admin/tickets", "{\"teller\":\"demo01\"}", 201, NULL);
    const char *code = json_string_value(json_object_get(a, "code"));
    assert_non_null(code);
    assert_int_equal(strlen(code), 9);
    assert_int_equal(tablet_activate_code(&t1, &D, "demo01", code, answer, sizeof answer), 0);
    json_decref(a);
    assert_int_equal(tablet_login(&t1, "demo01", PW), 0);
    a = get(&c, "/api/v1/admin/devices", 200);
    assert_true(has(a, "devices", "dev", t1.st.dev));
    json_decref(a);

    /* Revoked on the console: the tablet stops at once. */
    char body[128];
    snprintf(body, sizeof body, "{\"dev\":\"%s\"}", t1.st.dev);
    a = post(&c, "/api/v1/admin/devices/revoke", body, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "device"), "status")),
                        "revoked");
    json_decref(a);
    json_t *plain = NULL;
    assert_null(tablet_call(&t1, "SESSION_INFO", NULL, NULL, &st, &plain));
    assert_int_equal(st, 403);
    assert_string_equal(console_err(plain), "device_blocked");
    json_decref(plain);
    post_err(&c, "/api/v1/admin/devices/revoke", body, 409, "not_active");

    /* A second tablet, unbound. */
    a = post(&c, "/api/v1/admin/tickets", "{\"teller\":\"demo01\"}", 201, NULL);
    assert_int_equal(tablet_activate_code(&t2, &D, "demo01",
                                          json_string_value(json_object_get(a, "code")), answer,
                                          sizeof answer),
                     0);
    json_decref(a);
    snprintf(body, sizeof body, "{\"dev\":\"%s\"}", t2.st.dev);
    post_ok(&c, "/api/v1/admin/devices/unbind", body, 200);
    assert_null(tablet_call(&t2, "SESSION_INFO", NULL, NULL, &st, NULL));
    assert_int_equal(st, 403);
    post_err(&c, "/api/v1/admin/devices/unbind", "{\"dev\":\"not-hex\"}", 404, "not_found");

    /* A code cancelled on the console (the slip was lost) activates nothing. */
    a = post(&c, "/api/v1/admin/tickets", "{\"teller\":\"demo01\"}", 201, NULL);
    char lost[16];
    snprintf(lost, sizeof lost, "%s", json_string_value(json_object_get(a, "code")));
    json_decref(a);
    a = post(&c, "/api/v1/admin/tickets/cancel", "{\"teller\":\"demo01\"}", 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(a, "cancelled")), 1);
    json_decref(a);
    struct tablet t3;
    assert_int_not_equal(tablet_activate_code(&t3, &D, "demo01", lost, answer, sizeof answer), 0);
    tablet_free(&t3);
    a = post(&c, "/api/v1/admin/tickets/cancel", "{\"teller\":\"demo01\"}", 200, NULL);
    assert_int_equal(json_integer_value(json_object_get(a, "cancelled")), 0);
    json_decref(a);
    post_err(&c, "/api/v1/admin/tickets/cancel", "{\"teller\":\"demo03\"}", 404, "not_found");
    post_err(&c, "/api/v1/admin/tickets/cancel", "{\"teller\":\"nobody\"}", 404, "not_found");
    a = get(&c, "/api/v1/admin/audit/records?limit=20", 200);
    char *text = json_dumps(a, JSON_COMPACT);
    assert_non_null(strstr(text, "activation.cancelled"));
    free(text);
    json_decref(a);

    /* No code for a disabled teller. */
    post_ok(&c, "/api/v1/admin/tellers/disable", "{\"teller\":\"demo02\"}", 200);
    post_err(&c, "/api/v1/admin/tickets", "{\"teller\":\"demo02\"}", 409, "not_active");
    post_ok(&c, "/api/v1/admin/tellers/enable", "{\"teller\":\"demo02\"}", 200);
    tablet_free(&t1);
    tablet_free(&t2);
}

static void reset_password_reaches_tablet(void **state)
{
    (void)state;
    struct console c;
    struct tablet t;
    login(&c, "admin01", PW);
    json_t *a = post(&c, "/api/v1/admin/tickets", "{\"teller\":\"demo02\"}", 201, NULL);
    assert_int_equal(tablet_activate_code(&t, &D, "demo02",
                                          json_string_value(json_object_get(a, "code")), NULL, 0),
                     0);
    json_decref(a);
    post_ok(&c, "/api/v1/admin/tellers/reset-password",
            "{\"teller\":\"demo02\",\"password\":\"Neu@12345\"}", 200);
    assert_int_not_equal(tablet_login(&t, "demo02", PW), 0);
    assert_int_equal(tablet_login(&t, "demo02", "Neu@12345"), 0);
    tablet_free(&t);
}

/* An administrator's password reset ends the teller's tablet and console
 * sessions at once (reason password_reset), in the reset's transaction. */
static void reset_password_ends_sessions(void **state)
{
    (void)state;
    struct console adm, own;
    struct tablet t;
    long st;
    login(&adm, "admin01", PW);
    post_ok(&adm, "/api/v1/admin/tellers",
            "{\"branch\":\"01\",\"code\":\"bm06\",\"name\":\"重置测试\",\"role\":\"branch_"
            "manager\",\"password\":\"" PW "\"}",
            201);
    json_t *a = post(&adm, "/api/v1/admin/tickets", "{\"teller\":\"bm06\"}", 201, NULL);
    assert_int_equal(tablet_activate_code(&t, &D, "bm06",
                                          json_string_value(json_object_get(a, "code")), NULL, 0),
                     0);
    json_decref(a);
    assert_int_equal(tablet_login(&t, "bm06", PW), 0);
    login(&own, "bm06", PW);
    json_decref(get(&own, "/api/v1/admin/me", 200));
    json_t *ans = tablet_call(&t, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(ans), "OK");
    json_decref(ans);

    post_ok(&adm, "/api/v1/admin/tellers/reset-password",
            "{\"teller\":\"bm06\",\"password\":\"Reset@12345\"}", 200);
    ans = tablet_call(&t, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(ans), "session_invalid");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ans, "data"), "reason")),
                        "password_reset");
    json_decref(ans);
    a = get(&own, "/api/v1/admin/me", 401);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "reason")),
                        "password_reset");
    json_decref(a);
    /* The administrator's own console session is untouched. */
    json_decref(get(&adm, "/api/v1/admin/me", 200));
    /* The new password opens both again. */
    assert_int_equal(tablet_login(&t, "bm06", "Reset@12345"), 0);
    login(&own, "bm06", "Reset@12345");
    tablet_free(&t);
}

/* A teller's own PASSWORD_CHANGE on the tablet ends their console sessions
 * (reason password_changed) in the change's transaction, and keeps the
 * tablet session that made it. */
static void password_change_ends_other_sessions(void **state)
{
    (void)state;
    struct console adm, own, own2;
    struct tablet t;
    long st;
    login(&adm, "admin01", PW);
    post_ok(&adm, "/api/v1/admin/tellers",
            "{\"branch\":\"02\",\"code\":\"bm07\",\"name\":\"改密测试\",\"role\":\"branch_"
            "manager\",\"password\":\"" PW "\"}",
            201);
    json_t *a = post(&adm, "/api/v1/admin/tickets", "{\"teller\":\"bm07\"}", 201, NULL);
    assert_int_equal(tablet_activate_code(&t, &D, "bm07",
                                          json_string_value(json_object_get(a, "code")), NULL, 0),
                     0);
    json_decref(a);
    assert_int_equal(tablet_login(&t, "bm07", PW), 0);
    login(&own, "bm07", PW);
    login(&own2, "bm07", PW);
    json_decref(get(&own, "/api/v1/admin/me", 200));
    json_decref(get(&own2, "/api/v1/admin/me", 200));

    json_t *ans = tablet_call(&t, "PASSWORD_CHANGE",
                              "{\"old_password\":\"" PW "\",\"new_password\":\"Chg@12345\"}",
                              "pw-bm07", &st, NULL);
    assert_string_equal(answer_code(ans), "OK");
    json_decref(ans);
    /* Both console sessions ended, saying why. */
    a = get(&own, "/api/v1/admin/me", 401);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "reason")),
                        "password_changed");
    json_decref(a);
    a = get(&own2, "/api/v1/admin/me", 401);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "reason")),
                        "password_changed");
    json_decref(a);
    /* The tablet session that made the change goes on. */
    ans = tablet_call(&t, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(ans), "OK");
    json_decref(ans);
    /* Another teller's console is untouched; the new password opens the console. */
    json_decref(get(&adm, "/api/v1/admin/me", 200));
    assert_int_equal(console_login(&own, &D, "bm07", PW), 401);
    login(&own, "bm07", "Chg@12345");
    json_decref(get(&own, "/api/v1/admin/me", 200));
    /* A wrong old password changes nothing and ends nothing. */
    ans = tablet_call(&t, "PASSWORD_CHANGE",
                      "{\"old_password\":\"Wrong@1234\",\"new_password\":\"Chg@67890\"}",
                      "pw-bm07-2", &st, NULL);
    assert_string_equal(answer_code(ans), "bad_password");
    json_decref(ans);
    json_decref(get(&own, "/api/v1/admin/me", 200));
    tablet_free(&t);
}

static void disabled_admin_loses_console(void **state)
{
    (void)state;
    struct console p, b;
    login(&p, "prov01", PW);
    login(&b, "bm01", PW);
    post_ok(&p, "/api/v1/admin/tellers/disable", "{\"teller\":\"bm01\"}", 200);
    json_t *a = get(&b, "/api/v1/admin/me", 401);
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "error"), "reason")),
                        "teller_disabled");
    json_decref(a);
    post_ok(&p, "/api/v1/admin/tellers/enable", "{\"teller\":\"bm01\"}", 200);
    /* The ended session stays ended. */
    json_decref(get(&b, "/api/v1/admin/me", 401));
}

static void audit_endpoints(void **state)
{
    (void)state;
    struct console p, c;
    login(&p, "prov01", PW);
    login(&c, "admin01", PW);
    json_t *a = get(&p, "/api/v1/admin/audit/verify", 200);
    assert_true(json_boolean_value(json_object_get(a, "intact")));
    assert_true(json_integer_value(json_object_get(a, "records")) > 20);
    json_decref(a);
    json_decref(get(&c, "/api/v1/admin/audit/verify", 403));

    /* A bank admin's records are all of one bank, none of B02's. */
    a = get(&c, "/api/v1/admin/audit/records?limit=500", 200);
    json_t *first = json_array_get(json_object_get(a, "records"), 0);
    json_int_t bank = json_integer_value(json_object_get(first, "bank_id"));
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(a, "records"), i, r)
    {
        assert_int_equal(json_integer_value(json_object_get(r, "bank_id")), bank);
        assert_true(json_is_object(json_object_get(r, "detail")));
    }
    assert_false(has(a, "records", "target", "demo03") || has(a, "records", "target", "admin02"));
    json_decref(a);
    json_decref(get(&c, "/api/v1/admin/audit/records?bank=B02", 404));
    json_decref(get(&c, "/api/v1/admin/audit/records?limit=0", 400));
    json_decref(get(&c, "/api/v1/admin/audit/records?before=x", 400));

    /* Paging: before=SEQ gives older records only. */
    a = get(&p, "/api/v1/admin/audit/records?limit=5", 200);
    assert_int_equal(count(a, "records"), 5);
    json_int_t last = json_integer_value(
        json_object_get(json_array_get(json_object_get(a, "records"), 4), "seq"));
    json_decref(a);
    char path[96];
    snprintf(path, sizeof path, "/api/v1/admin/audit/records?limit=2&before=%lld", (long long)last);
    a = get(&p, path, 200);
    assert_int_equal(count(a, "records"), 2);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(a, "records"), 0), "seq")),
                     last - 1);
    json_decref(a);
    a = get(&p, "/api/v1/admin/audit/records?bank=B02", 200);
    assert_true(has(a, "records", "target", "demo03"));
    json_decref(a);
}

static void flow_reload(void **state)
{
    (void)state;
    struct console p, c;
    login(&p, "prov01", PW);
    login(&c, "admin01", PW);
    json_t *a = post(&p, "/api/v1/admin/flow/reload", NULL, 200, NULL);
    assert_string_equal(json_string_value(json_object_get(a, "status")), "reloaded");
    json_decref(a);
    post_err(&c, "/api/v1/admin/flow/reload", NULL, 403, "forbidden");
}

static void egress_status_for_operators(void **state)
{
    (void)state;
    struct console p, c;
    login(&p, "prov01", PW);
    login(&c, "admin01", PW);
    json_t *a = get(&p, "/api/v1/admin/egress", 200);
    assert_true(json_is_object(json_object_get(a, "systems")));
    assert_true(json_is_true(json_object_get(a, "ready")));
    json_decref(a);
    json_decref(get(&c, "/api/v1/admin/egress", 403));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_me_logout),
        cmocka_unit_test(cookie_attributes),
        cmocka_unit_test(login_refusals),
        cmocka_unit_test(csrf_content_type_origin),
        cmocka_unit_test(province_admin),
        cmocka_unit_test(bank_admin),
        cmocka_unit_test(branch_manager),
        cmocka_unit_test(lockout_and_reset),
        cmocka_unit_test(channels_lock_apart),
        cmocka_unit_test(disabled_told_to_right_password),
        cmocka_unit_test(devices_and_tickets),
        cmocka_unit_test(reset_password_reaches_tablet),
        cmocka_unit_test(reset_password_ends_sessions),
        cmocka_unit_test(password_change_ends_other_sessions),
        cmocka_unit_test(disabled_admin_loses_console),
        cmocka_unit_test(audit_endpoints),
        cmocka_unit_test(flow_reload),
        cmocka_unit_test(egress_status_for_operators),
    };
    return cmocka_run_group_tests_name("admin", tests, setup, teardown);
}
