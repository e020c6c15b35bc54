/* Replays and duplicates across restarts (spec v1.1, amendments 3 and 4):
 * an envelope captured before a restart or a crash is refused after it;
 * stored answers are sealed at rest, run once under concurrent duplicates,
 * and die with the device's binding; a server serial number is spent only
 * on an authenticated envelope. */
#include "data/store.h"
#include "foundation/clock.h"
#include "tablet.h"
#include "zyc_http.h"
#include "testd.h"

#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#define PW "Demo@1234"

struct fx {
    struct testd d;
    struct tablet t; /* demo01, activated and logged in */
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
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
    tablet_free(&f->t);
    testd_cleanup(&f->d);
    return 0;
}

/* Seals tx with the fixture's session and data (NULL: {}), optional cseq. */
static char *seal(struct tablet *t, const char *tx, const char *data, const char *cseq,
                  zy1_call *call)
{
    char *body = NULL;
    size_t len;
    json_t *p = json_pack("{s:o}", "data", json_loads(data ? data : "{}", 0, NULL));
    if (t->sid[0] && strcmp(tx, "LOGIN") != 0)
        json_object_set_new(p, "sid", json_string(t->sid));
    if (cseq)
        json_object_set_new(p, "cseq", json_string(cseq));
    char *text = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    assert_non_null(text);
    assert_int_equal(tablet_seal(t, tx, NULL, text, call, &body, &len), 0);
    free(text);
    return body;
}

/* Posts body; the status, and the plain error code or the sealed answer's code. */
static long post(struct tablet *t, const char *tx, const char *body, const zy1_call *call,
                 char *code, size_t cap, json_t **answer)
{
    long status = 0;
    char *resp = NULL;
    assert_int_equal(tablet_post(t, tx, body, strlen(body), &status, &resp), 0);
    json_t *ans = status == 200 ? tablet_open(call, resp) : NULL;
    json_t *j = ans ? NULL : json_loads(resp, 0, NULL);
    const char *c = ans ? answer_code(ans)
                        : json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(code, cap, "%s", c ? c : "");
    json_decref(j);
    if (answer)
        *answer = ans;
    else
        json_decref(ans);
    free(resp);
    return status;
}

static void restart(struct fx *f, bool crash)
{
    if (crash) {
        kill(f->d.pid, SIGKILL);
        waitpid(f->d.pid, NULL, 0);
        f->d.pid = 0;
    } else {
        assert_int_equal(testd_stop(&f->d), 0);
    }
    assert_int_equal(testd_start(&f->d), 0);
    snprintf(f->t.st.url, sizeof f->t.st.url, "%s", f->d.base);
}

/* Seals SESSION_INFO with the fixture's session at ts. */
static char *seal_info_at(struct tablet *t, int64_t ts, zy1_call *call)
{
    char payload[400], *body = NULL;
    size_t len;
    snprintf(payload, sizeof payload, "{\"sid\":\"%s\",\"data\":{}}", t->sid);
    assert_int_equal(
        zyc_seal(&t->st, "SESSION_INFO", NULL, payload, strlen(payload), ts, call, &body, &len),
        ZY1_OK);
    return body;
}

/* A read-only envelope captured before a restart, clean or a crash right
 * after its answer, is refused after it: sealed before the new process
 * vouches for reads, 401 stale (the client seals again); its nonce was
 * kept in memory only. */
static void replay_after_restart(void **state)
{
    struct fx *f = *state;
    for (int crash = 0; crash <= 1; crash++) {
        zy1_call call;
        char code[64];
        char *body = seal(&f->t, "SESSION_INFO", NULL, NULL, &call);
        assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 200);
        assert_string_equal(code, "OK");
        restart(f, crash);
        assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 401);
        assert_string_equal(code, "stale");
        free(body);
        zy1_call_wipe(&call);
        /* a new envelope is served */
        body = seal(&f->t, "SESSION_INFO", NULL, NULL, &call);
        assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 200);
        assert_string_equal(code, "OK");
        free(body);
        zy1_call_wipe(&call);
    }
}

/* A read-only envelope sealed in the server's future (a tablet clock ahead,
 * inside the window) would pass the start-time rule of a next process: its
 * nonce is recorded durably, and it is refused as a replay after a restart. */
static void read_sealed_ahead_is_recorded(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    char code[64];
    char *body = seal_info_at(&f->t, clock_wall_ms() + 120000, &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 200);
    assert_string_equal(code, "OK");
    restart(f, false);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 409);
    assert_string_equal(code, "replay");
    free(body);
    zy1_call_wipe(&call);
}

/* A writing envelope answered just before a SIGKILL is refused after it:
 * its nonce committed with its work. */
static void replay_after_crash(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    char code[64];
    char *body = seal(&f->t, "LOGOUT", NULL, NULL, &call);
    assert_int_equal(post(&f->t, "LOGOUT", body, &call, code, sizeof code, NULL), 200);
    assert_string_equal(code, "OK");
    restart(f, true);
    assert_int_equal(post(&f->t, "LOGOUT", body, &call, code, sizeof code, NULL), 409);
    assert_string_equal(code, "replay");
    free(body);
    zy1_call_wipe(&call);
    assert_int_equal(tablet_login(&f->t, "demo01", PW), 0);
}

/* The daemon's database, through a store of the test's own. */
static struct store *open_db(const struct fx *f)
{
    struct store *st = NULL;
    assert_int_equal(testd_store_open(&f->d, &st), 0);
    return st;
}

/* True if any stored answer of dev contains needle in its bytes. */
static bool stored_contains(struct store *h, const char *dev, const char *needle)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    bool found = false;
    assert_int_equal(store_acquire(h, &c), STORE_OK);
    assert_int_equal(store_prepare(c, "SELECT answer FROM tx_answers WHERE dev = ?", &s), STORE_OK);
    store_bind_text(s, 1, dev);
    while (store_step(s) == STORE_ROW) {
        size_t n = 0, k = strlen(needle);
        const char *b = store_col_blob(s, 0, &n);
        for (size_t i = 0; b && i + k <= n && !found; i++)
            found = memcmp(b + i, needle, k) == 0;
    }
    store_finish(s);
    store_release(c);
    return found;
}

static int count(struct store *h, const char *sql, const char *arg)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int n = -1;
    assert_int_equal(store_acquire(h, &c), STORE_OK);
    if (store_prepare(c, sql, &s) == STORE_OK) {
        if (arg)
            store_bind_text(s, 1, arg);
        if (store_step(s) == STORE_ROW)
            n = (int)store_col_int64(s, 0);
    }
    store_finish(s);
    store_release(c);
    return n;
}

static void exec_sql(const struct fx *f, const char *sql)
{
    struct store *h = open_db(f);
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(h, &c), STORE_OK);
    assert_int_equal(store_exec(c, sql), STORE_OK);
    store_release(c);
    store_close(h);
}

/* The server's clock behind the last read a process accepted (it stepped
 * back across the restart): read-only envelopes sealed before that moment
 * stay refused, so none taken before the restart runs again. */
static void clock_behind_vouched_reads(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    char code[64];
    char *body = seal(&f->t, "SESSION_INFO", NULL, NULL, &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 200);
    free(body);
    zy1_call_wipe(&call);
    assert_int_equal(testd_stop(&f->d), 0);
    /* the journal wrote the accept time on the clean stop */
    struct store *h = open_db(f);
    assert_true(count(h, "SELECT COUNT(*) FROM replay_epoch WHERE reads_until > 0", NULL) == 1);
    store_close(h);
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE replay_epoch SET reads_until = %lld WHERE id = 1",
             (long long)(clock_wall_ms() + 60000));
    exec_sql(f, sql);
    assert_int_equal(testd_start(&f->d), 0);
    snprintf(f->t.st.url, sizeof f->t.st.url, "%s", f->d.base);
    body = seal(&f->t, "SESSION_INFO", NULL, NULL, &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 401);
    assert_string_equal(code, "stale");
    free(body);
    zy1_call_wipe(&call);
    /* a write is not concerned: its nonce is durable */
    assert_int_equal(tablet_login(&f->t, "demo01", PW), 0);
    exec_sql(f, "UPDATE replay_epoch SET reads_until = 0 WHERE id = 1");
    restart(f, false);
    body = seal(&f->t, "SESSION_INFO", NULL, NULL, &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 200);
    free(body);
    zy1_call_wipe(&call);
}

/* The stored answer of a LOGIN holds a session id: sealed at rest, yet a
 * retry with its cseq gets it back. */
static void stored_login_is_sealed(void **state)
{
    struct fx *f = *state;
    long st;
    const char *data = "{\"teller\":\"demo01\",\"password\":\"" PW "\"}";
    json_t *a1 = tablet_call(&f->t, "LOGIN", data, "login-1", &st, NULL);
    json_t *a2 = tablet_call(&f->t, "LOGIN", data, "login-1", &st, NULL);
    assert_string_equal(answer_code(a1), "OK");
    const char *sid = json_string_value(json_object_get(json_object_get(a1, "data"), "sid"));
    assert_non_null(sid);
    assert_string_equal(sid,
                        json_string_value(json_object_get(json_object_get(a2, "data"), "sid")));
    struct store *h = open_db(f);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM tx_answers WHERE dev = ?", f->t.st.dev), 1);
    assert_false(stored_contains(h, f->t.st.dev, sid));
    assert_false(stored_contains(h, f->t.st.dev, "\"sid\""));
    store_close(h);
    snprintf(f->t.sid, sizeof f->t.sid, "%s", sid);
    json_decref(a1);
    json_decref(a2);
}

struct dup {
    const char *url;
    char *body;
    zy1_call call;
    long status;
    char sid[80];
};

static void *send_dup(void *arg)
{
    struct dup *d = arg;
    struct http_result r = {0};
    if (http_do("POST", d->url, d->body, strlen(d->body), &r) == 0) {
        d->status = r.status;
        json_t *ans = r.status == 200 ? tablet_open(&d->call, r.body) : NULL;
        const char *sid = json_string_value(json_object_get(json_object_get(ans, "data"), "sid"));
        snprintf(d->sid, sizeof d->sid, "%s", sid ? sid : answer_code(ans));
        json_decref(ans);
    }
    http_result_free(&r);
    return NULL;
}

/* Eight concurrent duplicates of one LOGIN (same cseq, each its own
 * envelope): the work runs once, all get the same session. */
static void concurrent_duplicates_run_once(void **state)
{
    struct fx *f = *state;
    enum { N = 8 };
    struct dup d[N];
    pthread_t th[N];
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/tx/LOGIN", f->d.base);
    struct store *h = open_db(f);
    const char *created = "SELECT COUNT(*) FROM audit_log WHERE event = 'session.created'";
    int before = count(h, created, NULL);
    for (int i = 0; i < N; i++) {
        d[i] = (struct dup){.url = url};
        d[i].body = seal(&f->t, "LOGIN", "{\"teller\":\"demo01\",\"password\":\"" PW "\"}",
                         "login-dup", &d[i].call);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, send_dup, &d[i]), 0);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        assert_int_equal(d[i].status, 200);
        assert_int_equal(strlen(d[i].sid), 64);
        assert_string_equal(d[i].sid, d[0].sid);
        free(d[i].body);
        zy1_call_wipe(&d[i].call);
    }
    assert_int_equal(count(h, created, NULL), before + 1);
    store_close(h);
    snprintf(f->t.sid, sizeof f->t.sid, "%s", d[0].sid);
}

/* Only an authenticated envelope spends a serial number: forged envelopes
 * between two good ones leave the serials consecutive. */
static void serial_only_after_authentication(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *a1 = tablet_call(&f->t, "SESSION_INFO", NULL, NULL, &st, NULL);
    for (int i = 0; i < 10; i++) {
        zy1_call call;
        char code[64];
        char *body = seal(&f->t, "SESSION_INFO", NULL, NULL, &call);
        char *mac = strstr(body, "\"mac\":\"");
        assert_non_null(mac);
        mac[7] = mac[7] == 'A' ? 'B' : 'A';
        assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code, NULL), 401);
        free(body);
        zy1_call_wipe(&call);
    }
    json_t *a2 = tablet_call(&f->t, "SESSION_INFO", NULL, NULL, &st, NULL);
    const char *s1 = json_string_value(json_object_get(a1, "srvseq"));
    const char *s2 = json_string_value(json_object_get(a2, "srvseq"));
    assert_non_null(s1);
    assert_non_null(s2);
    size_t n = strlen(s1);
    assert_true(n > 10);
    assert_int_equal(strtoll(s2 + n - 10, NULL, 10) - strtoll(s1 + n - 10, NULL, 10), 1);
    json_decref(a1);
    json_decref(a2);
}

/* Unbinding drops the device's stored answers, secrets included. */
static void answers_die_with_the_binding(void **state)
{
    struct fx *f = *state;
    long st;
    json_t *a = tablet_call(&f->t, "SESSION_INFO", NULL, "info-1", &st, NULL);
    assert_string_equal(answer_code(a), "OK");
    json_decref(a);
    struct store *h = open_db(f);
    /* a read's answer: stored by the journal's next batch */
    const char *q = "SELECT COUNT(*) FROM tx_answers WHERE dev = ? AND cseq = 'info-1'";
    for (int i = 0; i < 150 && count(h, q, f->t.st.dev) == 0; i++) {
        struct timespec nap = {0, 20 * 1000000L};
        nanosleep(&nap, NULL);
    }
    assert_int_equal(count(h, q, f->t.st.dev), 1);
    char *out = NULL;
    assert_int_equal(
        run_zhanye(&out, NULL, "device", "unbind", "--data", f->d.dir, "--dev", f->t.st.dev, NULL),
        0);
    free(out);
    assert_int_equal(count(h, "SELECT COUNT(*) FROM tx_answers WHERE dev = ?", f->t.st.dev), 0);
    store_close(h);
}

/* SESSION_INFO with cseq: the answer's code and srvseq. */
static void info_answer(struct tablet *t, const char *cseq, char code[64], char srvseq[64])
{
    long st = 0;
    json_t *a = tablet_call(t, "SESSION_INFO", NULL, cseq, &st, NULL);
    const char *c = a ? answer_code(a) : NULL;
    const char *s = a ? json_string_value(json_object_get(a, "srvseq")) : NULL;
    snprintf(code, 64, "%s", c ? c : "");
    snprintf(srvseq, 64, "%s", s ? s : "");
    json_decref(a);
}

/* A read-only TX's answer to a cseq is stored through the journal: while
 * another connection holds the database's write lock it still answers at
 * once, a retry meanwhile gets the same answer from the journal's queue,
 * and once the lock is gone the answer is in tx_answers for later retries. */
static void read_answers_need_no_write_lock(void **state)
{
    struct fx *f = *state;
    char code[64], s1[64], s2[64];
    struct store *h = open_db(f);
    struct store_conn *c = NULL;
    const char *q = "SELECT COUNT(*) FROM tx_answers WHERE dev = ? AND cseq = 'ro-1'";
    assert_int_equal(store_acquire(h, &c), STORE_OK);
    assert_int_equal(store_begin(c), STORE_OK); /* the write lock, on either backend */
    info_answer(&f->t, "ro-1", code, s1);
    assert_string_equal(code, "OK");
    assert_true(s1[0]);
    info_answer(&f->t, "ro-1", code, s2);
    assert_string_equal(code, "OK");
    assert_string_equal(s2, s1);
    assert_int_equal(store_rollback(c), STORE_OK);
    store_release(c);
    long n = 0;
    for (int i = 0; i < 150 && (n = count(h, q, f->t.st.dev)) == 0; i++) {
        struct timespec nap = {0, 20 * 1000000L};
        nanosleep(&nap, NULL);
    }
    assert_int_equal(n, 1);
    restart(f, false);
    info_answer(&f->t, "ro-1", code, s2);
    assert_string_equal(code, "OK");
    assert_string_equal(s2, s1);
    assert_int_equal(count(h, q, f->t.st.dev), 1);
    store_close(h);
}

/* A writing TX stuck on the database's write lock, on another thread. */
struct stuck {
    struct tablet *t;
    _Atomic bool done;
    char code[64];
};

static void *checkin(void *arg)
{
    struct stuck *w = arg;
    long st = 0;
    json_t *a = tablet_call(w->t, "DEVICE_CHECKIN",
                            "{\"os\":\"Android 13\",\"app_version\":\"1.0.0\","
                            "\"security\":{\"rooted\":false}}",
                            "stuck-1", &st, NULL);
    snprintf(w->code, sizeof w->code, "%s", a ? answer_code(a) : "none");
    json_decref(a);
    atomic_store(&w->done, true);
    return NULL;
}

/* On the embedded database a read-only TX runs on the HTTP thread that took
 * it ([server] inline_reads): with the only executor thread ([server]
 * workers = 1) held by a write that waits for the database's write lock,
 * SESSION_INFO is still answered while that write waits. */
static void reads_pass_a_blocked_executor(void **state)
{
    (void)state;
    const char *backend = getenv("ZHANYE_TEST_STORE");
    if (backend && strcmp(backend, "mariadb") == 0)
        skip(); /* reads go to the executor there */
    struct testd d;
    struct tablet t, t2;
    memset(&t, 0, sizeof t);
    memset(&t2, 0, sizeof t2);
    assert_int_equal(testd_init(&d, "[server]\nworkers = 1\n"), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    t2 = t; /* the same device and session, its own connection */
    t2.http = zyc_http_new();
    assert_non_null(t2.http);
    struct store *h = NULL;
    struct store_conn *c = NULL;
    assert_int_equal(testd_store_open(&d, &h), 0);
    assert_int_equal(store_acquire(h, &c), STORE_OK);
    assert_int_equal(store_begin(c), STORE_OK); /* the write lock, on either backend */
    struct stuck w = {.t = &t2};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, checkin, &w), 0);
    struct timespec nap = {0, 300 * 1000000L}; /* the write reaches the executor */
    nanosleep(&nap, NULL);
    char code[64], srvseq[64];
    info_answer(&t, NULL, code, srvseq);
    bool write_waiting = !atomic_load(&w.done);
    assert_int_equal(store_rollback(c), STORE_OK);
    store_release(c);
    pthread_join(th, NULL);
    store_close(h);
    zyc_http_free(t2.http);
    tablet_free(&t);
    testd_cleanup(&d);
    assert_string_equal(code, "OK");
    assert_true(write_waiting);
    assert_string_equal(w.code, "OK"); /* and the write went through once the lock was free */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replay_after_restart),
        cmocka_unit_test(read_sealed_ahead_is_recorded),
        cmocka_unit_test(clock_behind_vouched_reads),
        cmocka_unit_test(replay_after_crash),
        cmocka_unit_test(stored_login_is_sealed),
        cmocka_unit_test(concurrent_duplicates_run_once),
        cmocka_unit_test(serial_only_after_authentication),
        cmocka_unit_test(read_answers_need_no_write_lock),
        cmocka_unit_test(answers_die_with_the_binding),
        cmocka_unit_test(reads_pass_a_blocked_executor),
    };
    return cmocka_run_group_tests_name("replay", tests, setup, teardown);
}
