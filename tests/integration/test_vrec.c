/* Recorded calls (双录, business/vrec.h) with a real Janus started by the
 * test (scripts/janus-run.sh, a temp dir, a free loopback port, an API
 * secret of its own) and the real daemon; the calls are driven with
 * `zhanye vrec` (the module's C API behind it). The media side (a browser
 * publishing, the processed file, playback) is tests/web/test_video_record.mjs.
 *   - no consent: refused (vrec_no_consent), nothing written, no room;
 *   - with consent: the room exists in Janus (asked through Janus's own
 *     API), the row is `recording`, consent and start audited; the same
 *     call again: exists;
 *   - finished with no media: the room is gone from Janus, the row `empty`,
 *     audited vrec.empty; finishing again: conflict;
 *   - the console lists it for B01's admin (the consent's who, when and
 *     text version), not for B02's (?bank=B01: 404); playing an empty
 *     recording is 404; a client manager's session is refused;
 *   - Janus down: media_unavailable, nothing written.
 * Skipped (77) only when janus or janus-pp-rec is not installed. */
#include "console.h"
#include "data/store.h"
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
#define SECRET "it-vrec-secret"

static struct testd D;
static struct store *DB;
static pid_t JANUS;
static char JDIR[PATH_MAX];
static char JURL[128];

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

/* One Janus API request with the secret; the parsed answer. */
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

static int64_t count(const char *sql)
{
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

/* zhanye vrec OP --data DIR --bank B01 ARGS...; the exit status, stdout and stderr. */
static int vrec(char **out, char **err, const char *op, const char *call, const char *extra1,
                const char *extra2)
{
    return run_zhanye(out, err, "vrec", op, "--data", D.dir, "--bank", "B01", "--call", call,
                      "--biz", "B0100120261201", "--customer", "1", extra1, extra2, NULL);
}

#define CONSENT                                                                                    \
    "--consent-by", "teller:demo01", "--consent-at", "1764547200000", "--consent-version",         \
        "vrec-consent-v1"

static int start_call(const char *call, char **out, char **err)
{
    return run_zhanye(out, err, "vrec", "start", "--data", D.dir, "--bank", "B01", "--call", call,
                      "--biz", "B0100120261201", "--customer", "1", CONSENT, NULL);
}

static void no_consent_refused(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(vrec(&out, &err, "start", "call-a", NULL, NULL), 1);
    assert_non_null(strstr(err, "vrec_no_consent"));
    free(out);
    free(err);
    /* half a consent is none */
    assert_int_equal(vrec(&out, &err, "start", "call-a", "--consent-by", "teller:demo01"), 1);
    assert_non_null(strstr(err, "vrec_no_consent"));
    free(out);
    free(err);
    assert_int_equal(count("SELECT COUNT(*) FROM video_recordings"), 0);
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE event LIKE 'vrec.%'"), 0);
}

static void recorded_room_lifecycle(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(start_call("call-b", &out, &err), 0);
    json_t *room = json_loads(out, 0, NULL);
    assert_non_null(room);
    uint64_t r = (uint64_t)json_integer_value(json_object_get(room, "room"));
    assert_int_equal(strlen(json_string_value(json_object_get(room, "pin"))), 16);
    json_decref(room);
    free(out);
    free(err);
    assert_true(room_exists(r));
    assert_int_equal(
        count("SELECT COUNT(*) FROM video_recordings WHERE call_id = 'call-b' AND state = "
              "'recording' AND consent_by = 'teller:demo01' AND consent_version = "
              "'vrec-consent-v1' AND consent_at = 1764547200000"),
        1);
    assert_int_equal(
        count("SELECT COUNT(*) FROM audit_log WHERE event IN ('vrec.consented', 'vrec.started')"),
        2);
    /* the same call again */
    assert_int_equal(start_call("call-b", &out, &err), 1);
    assert_non_null(strstr(err, "exists"));
    free(out);
    free(err);
    assert_int_equal(vrec(&out, &err, "keepalive", "call-b", NULL, NULL), 0);
    free(out);
    free(err);
    /* finished with nothing published: empty, the room gone */
    assert_int_equal(vrec(&out, &err, "finish", "call-b", NULL, NULL), 0);
    json_t *res = json_loads(out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(res, "state")), "empty");
    json_decref(res);
    free(out);
    free(err);
    assert_false(room_exists(r));
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE event = 'vrec.empty'"), 1);
    assert_int_equal(vrec(&out, &err, "finish", "call-b", NULL, NULL), 1);
    assert_non_null(strstr(err, "conflict"));
    free(out);
    free(err);
    assert_int_equal(vrec(&out, &err, "finish", "call-none", NULL, NULL), 1);
    assert_non_null(strstr(err, "not_found"));
    free(out);
    free(err);
}

static void console_scope(void **state)
{
    (void)state;
    struct console a, b, m;
    json_t *j = NULL;
    assert_int_equal(console_login(&a, &D, "admin01", PW), 200);
    assert_int_equal(console_get(&a, "/api/v1/admin/recordings", &j), 200);
    json_t *rows = json_object_get(j, "recordings"), *row, *found = NULL;
    size_t i;
    json_array_foreach(rows, i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "call_id")), "call-b") == 0)
            found = row;
    }
    assert_non_null(found);
    assert_string_equal(json_string_value(json_object_get(found, "state")), "empty");
    assert_string_equal(json_string_value(json_object_get(found, "bank")), "B01");
    json_t *consent = json_object_get(found, "consent");
    assert_string_equal(json_string_value(json_object_get(consent, "by")), "teller:demo01");
    assert_string_equal(json_string_value(json_object_get(consent, "text_version")),
                        "vrec-consent-v1");
    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/recordings/play?id=%lld&track=0",
             (long long)json_integer_value(json_object_get(found, "id")));
    json_decref(j);
    j = NULL;
    assert_int_equal(console_get(&a, path, &j), 404); /* nothing stored */
    json_decref(j);
    j = NULL;
    assert_int_equal(count("SELECT COUNT(*) FROM audit_log WHERE event = 'vrec.viewed'"), 1);

    assert_int_equal(console_login(&b, &D, "admin02", PW), 200);
    assert_int_equal(console_get(&b, "/api/v1/admin/recordings", &j), 200);
    assert_int_equal(json_array_size(json_object_get(j, "recordings")), 0);
    json_decref(j);
    j = NULL;
    assert_int_equal(console_get(&b, "/api/v1/admin/recordings?bank=B01", &j), 404);
    json_decref(j);
    j = NULL;
    assert_int_equal(console_get(&b, "/api/v1/admin/recordings/play?bank=B01&id=1&track=0", &j),
                     404);
    json_decref(j);
    j = NULL;
    /* a branch manager is not among the roles */
    char *out = NULL, *err = NULL;
    assert_int_equal(run_zhanye(&out, &err, "teller", "add", "--data", D.dir, "--bank", "B01",
                                "--branch", "01", "--code", "mgr09", "--name", "网点经理", "--role",
                                "branch_manager", "--password", "Mgr@20260", NULL),
                     0);
    free(out);
    free(err);
    assert_int_equal(console_login(&m, &D, "mgr09", "Mgr@20260"), 200);
    assert_int_equal(console_get(&m, "/api/v1/admin/recordings", &j), 403);
    json_decref(j);
}

static void janus_down(void **state)
{
    (void)state;
    kill(JANUS, SIGTERM);
    waitpid(JANUS, NULL, 0);
    JANUS = 0;
    char *out = NULL, *err = NULL;
    assert_int_equal(start_call("call-c", &out, &err), 1);
    assert_non_null(strstr(err, "media_unavailable"));
    free(out);
    free(err);
    assert_int_equal(count("SELECT COUNT(*) FROM video_recordings WHERE call_id = 'call-c'"), 0);
}

static int setup(void **state)
{
    (void)state;
    char script[PATH_MAX], conf[512], port[16];
    int p = free_port();
    snprintf(JDIR, sizeof JDIR, "/tmp/it_vrec_janus_XXXXXX");
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
    snprintf(conf, sizeof conf, "[video]\njanus_url = %s\njanus_api_secret = %s\n", JURL, SECRET);
    if (testd_init_demo(&D, conf) || testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
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
        cmocka_unit_test(no_consent_refused),
        cmocka_unit_test(recorded_room_lifecycle),
        cmocka_unit_test(console_scope),
        cmocka_unit_test(janus_down),
    };
    return cmocka_run_group_tests_name("vrec", tests, setup, teardown);
}
