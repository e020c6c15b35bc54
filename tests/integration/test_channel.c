/* ZY1 end to end: real envelopes against a real daemon, a negative test for
 * every row of the spec's check table, replay from 8 threads, single sign-on,
 * idempotent cseq across a restart, activation lockout. */
#include "data/store.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "tablet.h"
#include "testd.h"

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"

struct fx {
    struct testd d;
    struct tablet t; /* demo01, activated and logged in */
};

static int setup(void **state)
{
    static struct fx f;
    if (testd_init(&f.d, NULL) || testd_start(&f.d))
        return -1;
    if (tablet_activate(&f.t, &f.d, "demo01") || tablet_login(&f.t, "demo01", PW))
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    tablet_free(&f->t);
    testd_cleanup(&f->d);
    return 0;
}

/* Seals SESSION_INFO for the fixture's session. */
static char *seal_info(struct tablet *t, const char *tx, zy1_call *call, size_t *len)
{
    char payload[400], *body = NULL;
    snprintf(payload, sizeof payload, "{\"sid\":\"%s\",\"data\":{}}", t->sid);
    assert_int_equal(tablet_seal(t, tx, NULL, payload, call, &body, len), 0);
    return body;
}

/* Posts body to tx; returns the status, the plain error code in code. */
static long post(struct tablet *t, const char *tx, const char *body, char *code, size_t cap)
{
    long status = 0;
    char *resp = NULL;
    assert_int_equal(tablet_post(t, tx, body, strlen(body), &status, &resp), 0);
    json_t *j = json_loads(resp, 0, NULL);
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(code, cap, "%s", c ? c : "");
    json_decref(j);
    free(resp);
    return status;
}

static void session_info_works(void **state)
{
    struct fx *f = *state;
    long st;
    /* The first call reads the session from the database, the second finds
     * it in the cache: both show the whole teller. */
    for (int i = 0; i < 2; i++) {
        json_t *a = tablet_call(&f->t, "SESSION_INFO", NULL, NULL, &st, NULL);
        assert_non_null(a);
        assert_string_equal(answer_code(a), "OK");
        json_t *tl = json_object_get(json_object_get(a, "data"), "teller");
        assert_string_equal(json_string_value(json_object_get(tl, "code")), "demo01");
        assert_string_equal(json_string_value(json_object_get(tl, "name")), "张晓明");
        assert_string_equal(json_string_value(json_object_get(tl, "role")), "client_manager");
        assert_string_equal(json_string_value(json_object_get(tl, "bank")), "B01");
        assert_string_equal(json_string_value(json_object_get(tl, "branch")), "01");
        assert_int_equal(strlen(json_string_value(json_object_get(a, "srvseq"))), 20);
        json_decref(a);
    }
}

/* Replaces member key of the body with the value fn makes of it. */
static char *mutate(const char *body, const char *key, void (*fn)(json_t *obj, const char *key))
{
    json_t *j = json_loads(body, 0, NULL);
    fn(j, key);
    char *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return out;
}

/* Flips one bit of the decoded bytes of a base64 member. */
static void flip_b64(json_t *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j, key));
    uint8_t buf[512];
    char enc[800];
    long n = b64_decode(v, strlen(v), buf, sizeof buf);
    assert_true(n > 0);
    buf[n / 2] ^= 0x10;
    b64_encode(buf, (size_t)n, enc, sizeof enc);
    json_object_set_new(j, key, json_string(enc));
}

static void ts_plus_one(json_t *j, const char *key)
{
    json_object_set_new(j, key, json_integer(json_integer_value(json_object_get(j, key)) + 1));
}

static void other_kid(json_t *j, const char *key)
{
    json_object_set_new(j, key, json_string("k9"));
}

static void other_dev(json_t *j, const char *key)
{
    json_object_set_new(j, key, json_string("00112233445566778899aabbccddeeff"));
}

static void extra_member(json_t *j, const char *key)
{
    json_object_set_new(j, key, json_string("x"));
}

static void expect_after(struct fx *f, const char *key, void (*fn)(json_t *, const char *),
                         long want_status, const char *want_code)
{
    zy1_call call;
    size_t len;
    char code[64];
    char *body = seal_info(&f->t, "SESSION_INFO", &call, &len);
    char *bad = mutate(body, key, fn);
    long st = post(&f->t, "SESSION_INFO", bad, code, sizeof code);
    if (st != want_status || strcmp(code, want_code) != 0)
        fail_msg("mutating %s: got %ld %s, want %ld %s", key, st, code, want_status, want_code);
    free(bad);
    free(body);
    zy1_call_wipe(&call);
}

static void every_field_is_protected(void **state)
{
    struct fx *f = *state;
    expect_after(f, "kid", other_kid, 401, "unknown_key");
    expect_after(f, "dev", other_dev, 403, "device_unknown");
    expect_after(f, "ts", ts_plus_one, 401, "bad_mac");
    expect_after(f, "nonce", flip_b64, 401, "bad_mac");
    expect_after(f, "ek", flip_b64, 401, "bad_mac");
    expect_after(f, "iv", flip_b64, 401, "bad_mac");
    expect_after(f, "ct", flip_b64, 401, "bad_mac");
    expect_after(f, "mac", flip_b64, 401, "bad_mac");
    expect_after(f, "extra", extra_member, 400, "bad_envelope");
    expect_after(f, "tlr", extra_member, 400, "bad_envelope");
}

static void malformed_and_unknown(void **state)
{
    struct fx *f = *state;
    char code[64];
    assert_int_equal(post(&f->t, "SESSION_INFO", "{not json", code, sizeof code), 400);
    assert_string_equal(code, "bad_envelope");
    assert_int_equal(post(&f->t, "SESSION_INFO", "[]", code, sizeof code), 400);
    zy1_call call;
    size_t len;
    char *body = seal_info(&f->t, "NO_SUCH_TX", &call, &len);
    assert_int_equal(post(&f->t, "NO_SUCH_TX", body, code, sizeof code), 404);
    assert_string_equal(code, "unknown_tx");
    free(body);
    zy1_call_wipe(&call);
}

static void moved_to_another_tx(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    size_t len;
    char code[64];
    char *body = seal_info(&f->t, "SESSION_INFO", &call, &len);
    assert_int_equal(post(&f->t, "LOGOUT", body, code, sizeof code), 401);
    assert_string_equal(code, "bad_mac");
    assert_int_equal(post(&f->t, "DEVICE_ACTIVATE", body, code, sizeof code), 400);
    assert_string_equal(code, "bad_envelope");
    free(body);
    zy1_call_wipe(&call);
}

static void stale_either_side(void **state)
{
    struct fx *f = *state;
    for (int sign = -1; sign <= 1; sign += 2) {
        zy1_call call;
        char *body = NULL, payload[400], *resp = NULL;
        size_t len;
        long st;
        snprintf(payload, sizeof payload, "{\"sid\":\"%s\",\"data\":{}}", f->t.sid);
        int64_t ts = clock_wall_ms() + sign * 301000;
        assert_int_equal(zyc_seal(&f->t.st, "SESSION_INFO", NULL, payload, strlen(payload), ts,
                                  &call, &body, &len),
                         ZY1_OK);
        assert_int_equal(tablet_post(&f->t, "SESSION_INFO", body, len, &st, &resp), 0);
        assert_int_equal(st, 401);
        json_t *j = json_loads(resp, 0, NULL);
        json_t *e = json_object_get(j, "error");
        assert_string_equal(json_string_value(json_object_get(e, "code")), "stale");
        assert_true(json_integer_value(json_object_get(e, "server_ts")) > 0);
        json_decref(j);
        free(resp);
        free(body);
        zy1_call_wipe(&call);
    }
}

static void replay_is_refused(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    size_t len;
    char code[64];
    char *body = seal_info(&f->t, "SESSION_INFO", &call, &len);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, code, sizeof code), 200);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, code, sizeof code), 409);
    assert_string_equal(code, "replay");
    free(body);
    zy1_call_wipe(&call);
}

struct racer {
    const struct testd *d;
    const char *body;
    long status;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    char url[128];
    snprintf(url, sizeof url, "%s/api/v1/tx/SESSION_INFO", r->d->base);
    struct http_result res;
    if (http_do("POST", url, r->body, strlen(r->body), &res) == 0)
        r->status = res.status;
    http_result_free(&res);
    return NULL;
}

static void same_envelope_from_8_threads(void **state)
{
    struct fx *f = *state;
    for (int round = 0; round < 5; round++) {
        zy1_call call;
        size_t len;
        char *body = seal_info(&f->t, "SESSION_INFO", &call, &len);
        pthread_t th[8];
        struct racer r[8];
        for (int i = 0; i < 8; i++) {
            r[i] = (struct racer){.d = &f->d, .body = body};
            pthread_create(&th[i], NULL, race, &r[i]);
        }
        int ok = 0, replay = 0;
        for (int i = 0; i < 8; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].status == 200;
            replay += r[i].status == 409;
        }
        assert_int_equal(ok, 1);
        assert_int_equal(replay, 7);
        free(body);
        zy1_call_wipe(&call);
    }
}

static void bad_payload_is_sealed(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    char *body = NULL, *resp = NULL;
    size_t len;
    long st;
    assert_int_equal(tablet_seal(&f->t, "SESSION_INFO", NULL, "not json", &call, &body, &len), 0);
    assert_int_equal(tablet_post(&f->t, "SESSION_INFO", body, len, &st, &resp), 0);
    assert_int_equal(st, 200);
    json_t *a = tablet_open(&call, resp);
    assert_non_null(a);
    assert_string_equal(answer_code(a), "bad_payload");
    json_decref(a);
    free(body);
    free(resp);
    zy1_call_wipe(&call);
}

static void no_session_is_refused(void **state)
{
    struct fx *f = *state;
    struct tablet t2 = f->t;
    long st;
    t2.sid[0] = '\0';
    json_t *a = tablet_call(&t2, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_non_null(a);
    assert_string_equal(answer_code(a), "session_invalid");
    json_decref(a);
    strcpy(t2.sid, "not-a-session");
    a = tablet_call(&t2, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(a), "session_invalid");
    json_decref(a);
}

static void input_schema_is_enforced(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *a = tablet_call(&f->t, "PASSWORD_CHANGE", "{\"old_password\":1}", NULL, &st, NULL);
    assert_non_null(a);
    assert_string_equal(answer_code(a), "bad_request");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "old_password"));
    json_decref(a);
}

static int count_rows(struct store_conn *c, const char *sql)
{
    struct store_stmt *s = NULL;
    int n = -1;
    if (store_prepare(c, sql, &s) == STORE_OK && store_step(s) == STORE_ROW)
        n = (int)store_col_int64(s, 0);
    store_finish(s);
    return n;
}

/* Its own daemon: two devices for one teller, revocation, restart. */
static void sso_cseq_revoke_restart(void **state)
{
    (void)state;
    struct testd d;
    struct tablet a, b;
    long st;
    assert_int_equal(testd_init(&d, "[identity]\nmax_devices = 2\ncache_ttl_ms = 300"), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&a, &d, "demo02"), 0);
    assert_int_equal(tablet_activate(&b, &d, "demo02"), 0);
    assert_int_equal(tablet_login(&a, "demo02", PW), 0);
    assert_int_equal(tablet_login(&b, "demo02", PW), 0);

    /* Single sign-on: b's login ended a's session. */
    json_t *ans = tablet_call(&a, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(ans), "session_invalid");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ans, "data"), "reason")),
                        "signed_in_elsewhere");
    json_decref(ans);

    /* cseq: the retry returns the stored answer; nothing runs twice. */
    const char *chg = "{\"old_password\":\"" PW "\",\"new_password\":\"Neu@12345\"}";
    json_t *r1 = tablet_call(&b, "PASSWORD_CHANGE", chg, "c-1", &st, NULL);
    json_t *r2 = tablet_call(&b, "PASSWORD_CHANGE", chg, "c-1", &st, NULL);
    assert_string_equal(answer_code(r1), "OK");
    assert_string_equal(answer_code(r2), "OK");
    assert_string_equal(json_string_value(json_object_get(r1, "srvseq")),
                        json_string_value(json_object_get(r2, "srvseq")));
    /* ...also after a restart. */
    assert_int_equal(testd_stop(&d), 0);
    assert_int_equal(testd_start(&d), 0);
    snprintf(b.st.url, sizeof b.st.url, "%s", d.base);
    snprintf(a.st.url, sizeof a.st.url, "%s", d.base);
    json_t *r3 = tablet_call(&b, "PASSWORD_CHANGE", chg, "c-1", &st, NULL);
    assert_string_equal(json_string_value(json_object_get(r1, "srvseq")),
                        json_string_value(json_object_get(r3, "srvseq")));
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    assert_int_equal(tablet_login(&b, "demo02", "Neu@12345"), 0);

    /* Revoked: refused before any cryptography. */
    char *out = NULL;
    assert_int_equal(
        run_zhanye(&out, NULL, "device", "revoke", "--data", d.dir, "--dev", b.st.dev, NULL), 0);
    free(out);
    /* Another process's write reaches the server's cache of device records
     * within [identity] cache_ttl_ms (its own writes at once). */
    usleep(400 * 1000);
    json_t *plain = NULL;
    ans = tablet_call(&b, "SESSION_INFO", NULL, NULL, &st, &plain);
    assert_null(ans);
    assert_int_equal(st, 403);
    assert_string_equal(json_string_value(json_object_get(json_object_get(plain, "error"), "code")),
                        "device_blocked");
    json_decref(plain);
    /* The revoked device's stored answers went with its binding; a's new
     * login leaves one to purge. */
    const char *login = "{\"teller\":\"demo02\",\"password\":\"Neu@12345\"}";
    ans = tablet_call(&a, "LOGIN", login, "a-login", &st, NULL);
    assert_string_equal(answer_code(ans), "OK");
    json_decref(ans);
    /* purge: ended sessions and stored answers older than the cutoff go;
     * live sessions stay; the audit chain stays intact. */
    struct store *db = NULL;
    struct store_conn *h = NULL;
    assert_int_equal(testd_store_open(&d, &db), 0);
    assert_int_equal(store_acquire(db, &h), STORE_OK);
    assert_int_equal(store_exec(h, "UPDATE sessions SET ended_at = ended_at - 3000000000 "
                                   "WHERE ended_at IS NOT NULL;"
                                   "UPDATE tx_answers SET created_at = created_at - 3000000000"),
                     STORE_OK);
    assert_int_equal(run_zhanye(&out, NULL, "purge", "--data", d.dir, "--days", "30", NULL), 0);
    assert_non_null(strstr(out, " 1 stored answers"));
    free(out);
    assert_int_equal(count_rows(h, "SELECT COUNT(*) FROM sessions WHERE ended_at IS NOT NULL"), 0);
    assert_int_equal(count_rows(h, "SELECT COUNT(*) FROM tx_answers"), 0);
    store_release(h);
    store_close(db);
    assert_int_equal(run_zhanye(&out, NULL, "audit", "verify", "--data", d.dir, NULL), 0);
    free(out);
    assert_int_equal(run_zhanye(NULL, NULL, "purge", "--data", d.dir, "--days", "0", NULL), 2);
    tablet_free(&a);
    tablet_free(&b);
    testd_cleanup(&d);
}

static void activation_code_locks_after_5(void **state)
{
    struct fx *f = *state;
    struct tablet t;
    char code[32];
    long st;
    assert_int_equal(tablet_new(&t, &f->d, "demo03"), 0);
    assert_int_equal(tablet_issue_code(&f->d, "demo03", code, sizeof code), 0);
    const char *payload = "{\"data\":{\"device\":{\"model\":\"T\",\"os\":\"x\",\"app\":\"1\"}}}";
    for (int i = 0; i < 5; i++) {
        zy1_call call;
        char *body = NULL, *resp = NULL;
        size_t len;
        assert_int_equal(
            tablet_seal(&t, "DEVICE_ACTIVATE", "WRNG-C2DE", payload, &call, &body, &len), 0);
        assert_int_equal(tablet_post(&t, "DEVICE_ACTIVATE", body, len, &st, &resp), 0);
        assert_int_equal(st, 401);
        free(body);
        free(resp);
        zy1_call_wipe(&call);
    }
    /* Now even the right code is refused. */
    zy1_call call;
    char *body = NULL, *resp = NULL;
    size_t len;
    assert_int_equal(tablet_seal(&t, "DEVICE_ACTIVATE", code, payload, &call, &body, &len), 0);
    assert_int_equal(tablet_post(&t, "DEVICE_ACTIVATE", body, len, &st, &resp), 0);
    assert_int_equal(st, 403);
    assert_non_null(strstr(resp, "device_blocked"));
    free(body);
    free(resp);
    zy1_call_wipe(&call);
    tablet_free(&t);
}

static void logout_ends_session(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *a = tablet_call(&f->t, "LOGOUT", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(a), "OK");
    json_decref(a);
    a = tablet_call(&f->t, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(a), "session_invalid");
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "data"), "reason")),
                        "logged_out");
    json_decref(a);
}

/* Idle timeout: a session unused for longer than idle_timeout_s expires. */
static void idle_session_expires(void **state)
{
    (void)state;
    struct testd d;
    struct tablet t;
    long st;
    assert_int_equal(testd_init(&d, "[identity]\nidle_timeout_s = 1"), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo04"), 0);
    assert_int_equal(tablet_login(&t, "demo04", PW), 0);
    sleep(2);
    json_t *a = tablet_call(&t, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(a), "session_expired");
    json_decref(a);
    tablet_free(&t);
    testd_cleanup(&d);
}

/* Rotation: two kids live at once; an envelope under either opens; a kid
 * taken out of [channel] keys is refused with unknown_key. */
static void key_rotation(void **state)
{
    (void)state;
    struct testd d;
    struct tablet t;
    long st;
    char *out = NULL, conf[PATH_MAX + 16];
    assert_int_equal(testd_init(&d, NULL), 0);
    assert_int_equal(run_zhanye(&out, NULL, "keygen", "--data", d.dir, "--kid", "k2", NULL), 0);
    free(out);
    assert_int_equal(run_zhanye(NULL, NULL, "keygen", "--data", d.dir, "--kid", "k2", NULL), 1);
    snprintf(conf, sizeof conf, "%s/zhanye.conf", d.dir);
    FILE *f = fopen(conf, "a");
    fputs("\n[channel]\nkeys = k1, k2\n", f);
    fclose(f);
    assert_int_equal(testd_start(&d), 0);
    json_t *keys = http_get_json(&d, "/api/v1/pubkey", &st);
    assert_int_equal(json_array_size(json_object_get(keys, "keys")), 2);
    assert_int_equal(tablet_activate(&t, &d, "demo03"), 0); /* pins k1, the first */
    assert_string_equal(t.st.kid, "k1");
    assert_int_equal(tablet_login(&t, "demo03", PW), 0);
    /* Re-pin to k2 as a tablet does after rotation. */
    json_t *k2 = json_array_get(json_object_get(keys, "keys"), 1);
    snprintf(t.st.kid, sizeof t.st.kid, "%s", json_string_value(json_object_get(k2, "kid")));
    snprintf(t.st.pub_b64, sizeof t.st.pub_b64, "%s",
             json_string_value(json_object_get(k2, "pub")));
    json_decref(keys);
    json_t *a = tablet_call(&t, "SESSION_INFO", NULL, NULL, &st, NULL);
    assert_string_equal(answer_code(a), "OK");
    json_decref(a);
    /* k2 retired: only k1 live again. */
    assert_int_equal(testd_stop(&d), 0);
    f = fopen(conf, "a");
    fputs("\n[channel]\nkeys = k1\n", f);
    fclose(f);
    assert_int_equal(testd_start(&d), 0);
    snprintf(t.st.url, sizeof t.st.url, "%s", d.base);
    json_t *plain = NULL;
    a = tablet_call(&t, "SESSION_INFO", NULL, NULL, &st, &plain);
    assert_null(a);
    assert_int_equal(st, 401);
    assert_string_equal(json_string_value(json_object_get(json_object_get(plain, "error"), "code")),
                        "unknown_key");
    json_decref(plain);
    tablet_free(&t);
    testd_cleanup(&d);
}

/* The code as a person types it: lower case, a space for the dash. */
static void typed_code(const char *code, char *out, size_t cap)
{
    size_t i = 0;
    for (; code[i] && i + 1 < cap; i++)
        out[i] = code[i] == '-' ? ' ' : (char)tolower((unsigned char)code[i]);
    out[i] = '\0';
}

/* The command-line tablet: activate (the code typed in lower case with a
 * space, ZY1 amendment 5), log in, call, log out. */
static void cli_tablet(void **state)
{
    struct fx *f = *state;
    char code[32], typed[32], state_file[PATH_MAX + 16], login[128];
    char *out = NULL, *err = NULL;
    assert_int_equal(tablet_issue_code(&f->d, "demo02", code, sizeof code), 0);
    snprintf(state_file, sizeof state_file, "%s/cli-tablet.json", f->d.dir);
    /* A code that cannot be one the server issued is refused before anything
     * is sent: the server named is not even there. */
    assert_int_equal(run_zhanye(&out, &err, "call", "--state", state_file, "--server",
                                "http://127.0.0.1:1", "--activate", "k7qx 9pr", "--teller",
                                "demo02", NULL),
                     2);
    assert_non_null(strstr(err, "not an activation code"));
    assert_null(strstr(err, "cannot fetch"));
    free(out), free(err);
    typed_code(code, typed, sizeof typed);
    assert_string_not_equal(typed, code);
    assert_non_null(strchr(typed, ' '));
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", state_file, "--server", f->d.base,
                                "--activate", typed, "--teller", "demo02", NULL),
                     0);
    assert_non_null(strstr(out, "\"device_secret\""));
    free(out);
    snprintf(login, sizeof login, "{\"teller\":\"demo02\",\"password\":\"%s\"}", PW);
    assert_int_equal(
        run_zhanye(&out, NULL, "call", "--state", state_file, "LOGIN", "--data", login, NULL), 0);
    free(out);
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", state_file, "SESSION_INFO", NULL),
                     0);
    assert_non_null(strstr(out, "\"demo02\""));
    free(out);
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", state_file, "LOGOUT", NULL), 0);
    free(out);
    assert_int_equal(run_zhanye(&out, NULL, "call", "--state", state_file, "SESSION_INFO", NULL),
                     1);
    assert_non_null(strstr(out, "session_invalid"));
    free(out);
    assert_int_equal(run_zhanye(NULL, NULL, "call", "--state", state_file, NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(session_info_works),
        cmocka_unit_test(every_field_is_protected),
        cmocka_unit_test(malformed_and_unknown),
        cmocka_unit_test(moved_to_another_tx),
        cmocka_unit_test(stale_either_side),
        cmocka_unit_test(replay_is_refused),
        cmocka_unit_test(same_envelope_from_8_threads),
        cmocka_unit_test(bad_payload_is_sealed),
        cmocka_unit_test(no_session_is_refused),
        cmocka_unit_test(input_schema_is_enforced),
        cmocka_unit_test(activation_code_locks_after_5),
        cmocka_unit_test(logout_ends_session),
        cmocka_unit_test(cli_tablet),
    };
    const struct CMUnitTest solo[] = {
        cmocka_unit_test(sso_cseq_revoke_restart),
        cmocka_unit_test(idle_session_expires),
        cmocka_unit_test(key_rotation),
    };
    int failed = cmocka_run_group_tests_name("channel", tests, setup, teardown);
    failed += cmocka_run_group_tests_name("channel_lifecycle", solo, NULL, NULL);
    return failed ? 1 : 0;
}
