/* A recorded call (双录) end to end through both halves, with a real Janus
 * (scripts/janus-run.sh) and the real daemon (its watcher thread,
 * app/vwatch.h), real ZY1 envelopes and the real console API:
 *   - the customer's consent comes with VIDEO_CALL_REQUEST (without it:
 *     vrec_no_consent, nothing queued);
 *   - the agent's take starts the recording: the call names it
 *     (recording_id), its row is `recording` with the call's business,
 *     customer and the consent (teller, text version), the room exists in
 *     Janus;
 *   - joining the recording is the call's own: another client manager's
 *     VIDEO_RECORD_JOIN is video_call_not_found, an agent of B02's
 *     record-join is 404; the teller's own offer reaches Janus (a bogus
 *     SDP: Janus refuses it, media_unavailable);
 *   - the watcher keeps Janus's session alive past its 60 s idle timeout
 *     (only with ZHANYE_SLOW_TESTS set: 70 s);
 *   - the hang-up: the watcher finishes the recording off the request path
 *     (`empty`: no media was sent; audited vrec.empty by "system"), the
 *     room is gone from Janus.
 * Skipped (77) only when janus or janus-pp-rec is not installed. */
#include "console.h"
#include "data/store.h"
#include "tablet.h"
#include "testd.h"

#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define SECRET "it-vrec-call-secret"

static struct testd D;
static struct store *DB;
static pid_t JANUS;
static char JDIR[PATH_MAX];
static char JURL[128];
static struct tablet T1, T2;
static struct console A1, A2;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &n) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static json_t *janus(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *body = json_vpack_ex(NULL, 0, fmt, ap);
    va_end(ap);
    json_object_set_new(body, "transaction", json_string("t"));
    json_object_set_new(body, "apisecret", json_string(SECRET));
    char *text = json_dumps(body, JSON_COMPACT), url[256];
    json_decref(body);
    snprintf(url, sizeof url, "%s%s", JURL, path);
    struct http_result r;
    json_t *out = NULL;
    if (http_do("POST", url, text, strlen(text), &r) == 0) {
        out = json_loads(r.body ? r.body : "", 0, NULL);
        http_result_free(&r);
    }
    free(text);
    return out;
}

static bool room_exists(uint64_t room)
{
    json_t *s = janus("", "{s:s}", "janus", "create");
    json_int_t sid = json_integer_value(json_object_get(json_object_get(s, "data"), "id"));
    json_decref(s);
    char p[64];
    snprintf(p, sizeof p, "/%lld", (long long)sid);
    json_t *h = janus(p, "{s:s, s:s}", "janus", "attach", "plugin", "janus.plugin.videoroom");
    json_int_t hid = json_integer_value(json_object_get(json_object_get(h, "data"), "id"));
    json_decref(h);
    snprintf(p, sizeof p, "/%lld/%lld", (long long)sid, (long long)hid);
    json_t *e = janus(p, "{s:s, s:{s:s, s:I}}", "janus", "message", "body", "request", "exists",
                      "room", (json_int_t)room);
    bool yes = json_is_true(
        json_object_get(json_object_get(json_object_get(e, "plugindata"), "data"), "exists"));
    assert_non_null(e);
    json_decref(e);
    snprintf(p, sizeof p, "/%lld", (long long)sid);
    json_decref(janus(p, "{s:s}", "janus", "destroy"));
    return yes;
}

static int64_t count(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int64_t count(const char *fmt, ...)
{
    char sql[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = -1;
    if (store_acquire(DB, &c) == STORE_OK && store_prepare(c, sql, &s) == STORE_OK &&
        store_step(s) == STORE_ROW)
        n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
{
    char data[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
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

static json_t *data_of(json_t *a)
{
    return json_object_get(a, "data");
}

static int64_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void expect_code(json_t *a, const char *code)
{
    if (strcmp(answer_code(a), code) != 0) {
        char *text = json_dumps(a, JSON_COMPACT);
        fail_msg("want %s: %s", code, text);
    }
}

static json_t *cpost(struct console *c, long want, const char *path, const char *body)
{
    json_t *a = NULL;
    long st = console_post(c, path, body, &a);
    if (st != want) {
        char *text = json_dumps(a, JSON_COMPACT);
        fail_msg("POST %s: want %ld, got %ld %s", path, want, st, text ? text : "");
    }
    return a;
}

static void recorded_call(void **state)
{
    (void)state;
    json_t *l = call(&T1, "BIZ_LIST", "{\"kind\":\"agency\"}");
    expect_code(l, "OK");
    json_t *b = json_array_get(json_object_get(data_of(l), "items"), 0);
    assert_non_null(b);
    int64_t biz = num(b, "biz_id"), cust = num(b, "customer_id");
    char biz_no[40];
    snprintf(biz_no, sizeof biz_no, "%s", str(b, "biz_no"));
    json_decref(l);

    json_t *a =
        call(&T1, "VIDEO_CALL_REQUEST", "{\"reason\":\"双录\",\"biz_id\":%lld}", (long long)biz);
    expect_code(a, "vrec_no_consent");
    json_decref(a);
    assert_int_equal(count("SELECT COUNT(*) FROM video_calls"), 0);
    a = call(&T1, "VIDEO_CALL_REQUEST",
             "{\"reason\":\"双录\",\"biz_id\":%lld,\"consent\":{\"text_version\":\"vrec-v1\"}}",
             (long long)biz);
    expect_code(a, "OK");
    int64_t id = num(data_of(a), "call_id");
    json_decref(a);

    /* the take starts the recording */
    json_t *t = cpost(&A1, 200, "/api/v1/admin/video/take", NULL);
    json_t *c = json_object_get(t, "call");
    assert_int_equal(num(c, "call_id"), id);
    assert_true(str(c, "recording_id")[0] != '\0');
    json_decref(t);
    assert_int_equal(count("SELECT COUNT(*) FROM video_recordings WHERE call_id = '%lld' AND "
                           "state = 'recording' AND customer_id = %lld AND consent_version = "
                           "'vrec-v1' AND consent_by LIKE 'teller:%%' AND biz_no <> ''",
                           (long long)id, (long long)cust),
                     1);
    if (biz_no[0])
        assert_int_equal(count("SELECT COUNT(*) FROM video_recordings WHERE call_id = '%lld' AND "
                               "biz_no = '%s'",
                               (long long)id, biz_no),
                         1);
    uint64_t room =
        (uint64_t)count("SELECT room FROM video_recordings WHERE call_id = '%lld'", (long long)id);
    assert_true(room_exists(room));

    /* joining is the call's own */
    a = call(&T2, "VIDEO_RECORD_JOIN", "{\"call_id\":%lld,\"sdp\":\"v=0\"}", (long long)id);
    expect_code(a, "video_call_not_found");
    json_decref(a);
    char body[96];
    snprintf(body, sizeof body, "{\"call_id\":%lld,\"sdp\":\"v=0\"}", (long long)id);
    json_decref(cpost(&A2, 404, "/api/v1/admin/video/record-join", body));
    /* the teller's own offer reaches Janus, which refuses a bogus SDP */
    a = call(&T1, "VIDEO_RECORD_JOIN", "{\"call_id\":%lld,\"sdp\":\"v=0\"}", (long long)id);
    expect_code(a, "media_unavailable");
    json_decref(a);
    json_decref(cpost(&A1, 503, "/api/v1/admin/video/record-join", body));

    if (getenv("ZHANYE_SLOW_TESTS")) {
        /* past Janus's 60 s session timeout: the watcher's keepalives hold it */
        for (int i = 0; i < 14; i++) {
            json_decref(call(&T1, "VIDEO_CALL_STATUS", "{\"call_id\":%lld}", (long long)id));
            sleep(5);
        }
        assert_true(room_exists(room));
    }

    /* the hang-up: the watcher finishes it */
    a = call(&T1, "VIDEO_CALL_END", "{\"call_id\":%lld}", (long long)id);
    expect_code(a, "OK");
    json_decref(a);
    int64_t done = 0;
    for (int i = 0; i < 600 && done != 1; i++) {
        done = count("SELECT COUNT(*) FROM video_recordings WHERE call_id = '%lld' AND state = "
                     "'empty'",
                     (long long)id);
        if (done != 1)
            usleep(100 * 1000);
    }
    assert_int_equal(done, 1);
    assert_false(room_exists(room));
    assert_int_equal(
        count("SELECT COUNT(*) FROM audit_log WHERE event = 'vrec.empty' AND actor = 'system'"), 1);
}

static int setup(void **state)
{
    (void)state;
    char script[PATH_MAX], conf[512], port[16];
    int p = free_port();
    snprintf(JDIR, sizeof JDIR, "/tmp/it_vcall_janus_XXXXXX");
    if (p < 0 || !mkdtemp(JDIR))
        return -1;
    snprintf(port, sizeof port, "%d", p);
    snprintf(JURL, sizeof JURL, "http://127.0.0.1:%d/janus", p);
    src_path("scripts/janus-run.sh", script, sizeof script);
    JANUS = fork();
    if (JANUS == 0) {
        execl(script, script, JDIR, port, SECRET, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        json_t *info = janus("", "{s:s}", "janus", "info");
        bool up = info != NULL;
        json_decref(info);
        if (up)
            break;
        usleep(100 * 1000);
    }
    snprintf(conf, sizeof conf,
             "[video]\njanus_url = %s\njanus_api_secret = %s\nreconnect_window_s = 600\n", JURL,
             SECRET);
    if (testd_init_demo(&D, conf) || testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T2, &D, "demo02") || tablet_login(&T2, "demo02", PW))
        return -1;
    if (console_login(&A1, &D, "agent01", PW) != 200 ||
        console_login(&A2, &D, "agent02", PW) != 200)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T2);
    if (JANUS > 0) {
        kill(JANUS, SIGTERM);
        waitpid(JANUS, NULL, 0);
    }
    store_close(DB);
    testd_cleanup(&D);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", JDIR);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    if (system("command -v janus >/dev/null && command -v janus-pp-rec >/dev/null") != 0) {
        printf("skip: no janus or janus-pp-rec (Debian janus, janus-tools; scripts/deps.sh)\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recorded_call),
    };
    return cmocka_run_group_tests_name("video_recorded", tests, setup, teardown);
}
