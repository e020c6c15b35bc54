/* zhanye-bridge as a process against zhanye-devsim's ID-card reader over a
 * real pseudo-terminal: a card read with every field decoded (Chinese text,
 * photo bytes intact), no card, every corrupted-frame kind (bad_frame, and
 * the next read works), a stalled reader (timeout), no reader at all
 * (absent), two concurrent reads (one busy), the pairing token (401, file
 * created 0600, a loose one refused), origins (403, CORS preflight), a
 * --listen other than 127.0.0.1 refused, and the SSE stream
 * delivering idcard.present when a card is placed. */
#include "bridgehttp.h"
#include "proc.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define TIMEOUT_MS 3000
#define ORIGIN "http://127.0.0.1:8080"

static char workdir[64];
static char token[128];
static char auth_ok[160]; /* "Bearer TOKEN" */
static char bridge_url[64], control_url[64];
static pid_t devsim_pid = -1, bridge_pid = -1;
static char bridge_log[128], devsim_log[128];

/* ---- processes ---- */

static pid_t start_bridge(const char *port_path, const char *token_file, const char *log, char *url,
                          size_t cap)
{
    char *argv[] = {getenv("ZHANYE_BRIDGE_BIN"),
                    "--listen",
                    "127.0.0.1:0",
                    "--idcard-port",
                    (char *)port_path,
                    "--token-file",
                    (char *)token_file,
                    "--origin",
                    ORIGIN,
                    "--timeout-ms",
                    "3000",
                    "--poll-ms",
                    "200",
                    NULL};
    pid_t pid = proc_spawn(argv, log, true);
    char line[1024];
    if (pid < 0 || proc_wait_line("it_bridge_idcard", log, "listening on", line, sizeof line) != 0)
        return -1;
    const char *h = strstr(line, "http://");
    snprintf(url, cap, "%.*s", (int)strcspn(h, " \n"), h);
    return pid;
}

static int setup(void **state)
{
    (void)state;
    snprintf(workdir, sizeof workdir, "/tmp/zybridgeXXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    char link[128], tokf[128], line[1024];
    snprintf(link, sizeof link, "%s/idcard", workdir);
    snprintf(tokf, sizeof tokf, "%s/token", workdir);
    snprintf(devsim_log, sizeof devsim_log, "%s/devsim.log", workdir);
    snprintf(bridge_log, sizeof bridge_log, "%s/bridge.log", workdir);
    char *dargv[] = {getenv("ZHANYE_DEVSIM_BIN"), "idcard", "--pty-link", link, NULL};
    devsim_pid = proc_spawn(dargv, devsim_log, true);
    if (devsim_pid < 0 ||
        proc_wait_line("it_bridge_idcard", devsim_log, "control http://", line, sizeof line) != 0)
        return -1;
    const char *h = strstr(line, "control http://") + strlen("control ");
    snprintf(control_url, sizeof control_url, "%.*s", (int)strcspn(h, " \n"), h);
    bridge_pid = start_bridge(link, tokf, bridge_log, bridge_url, sizeof bridge_url);
    if (bridge_pid < 0)
        return -1;
    FILE *f = fopen(tokf, "r");
    if (!f || !fgets(token, sizeof token, f))
        return -1;
    fclose(f);
    token[strcspn(token, "\n")] = '\0';
    snprintf(auth_ok, sizeof auth_ok, "Bearer %s", token);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int rc = 0;
    if (proc_stop(bridge_pid) != 0) {
        proc_print_tail("bridge", bridge_log, 0);
        rc = -1;
    }
    if (proc_stop(devsim_pid) != 0) {
        proc_print_tail("devsim", devsim_log, 0);
        rc = -1;
    }
    proc_rm_rf(workdir);
    return rc;
}

/* ---- HTTP ---- */

static struct bh_resp bridge_get(const char *path)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", bridge_url, path);
    return bh_http("GET", url, auth_ok, NULL, NULL);
}

static void control(const char *method, const char *path, const char *body)
{
    char url[128];
    snprintf(url, sizeof url, "%s%s", control_url, path);
    struct bh_resp r = bh_http(method, url, NULL, NULL, body);
    assert_int_equal(r.status, 200);
    json_decref(r.body);
}

static void expect_card(struct bh_resp r, const char *name)
{
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.body, "name")), name);
    json_decref(r.body);
}

/* ---- tests ---- */

static void token_file_and_auth(void **state)
{
    (void)state;
    char tokf[128];
    snprintf(tokf, sizeof tokf, "%s/token", workdir);
    struct stat st;
    assert_int_equal(stat(tokf, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(strlen(token), 64);
    assert_true(proc_log_has(bridge_log, 0, "(created)"));

    char url[128];
    snprintf(url, sizeof url, "%s/v1/health", bridge_url);
    bh_expect_error(bh_http("GET", url, NULL, NULL, NULL), 401, "unauthorized");
    bh_expect_error(
        bh_http("GET", url, "Bearer 0000000000000000000000000000000000000000", NULL, NULL), 401,
        "unauthorized");
    char wrong[160];
    snprintf(wrong, sizeof wrong, "Bearer %.63s", token); /* one character short */
    bh_expect_error(bh_http("GET", url, wrong, NULL, NULL), 401, "unauthorized");
    snprintf(url, sizeof url, "%s/v1/idcard", bridge_url);
    bh_expect_error(bh_http("GET", url, "Basic abc", NULL, NULL), 401, "unauthorized");

    struct bh_resp r = bridge_get("/v1/health");
    assert_int_equal(r.status, 200);
    json_t *dev = json_array_get(json_object_get(r.body, "devices"), 0);
    assert_string_equal(json_string_value(json_object_get(dev, "name")), "idcard");
    assert_string_equal(json_string_value(json_object_get(dev, "state")), "ready");
    json_decref(r.body);
}

static void origins(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof url, "%s/v1/health", bridge_url);
    bh_expect_error(bh_http("GET", url, auth_ok, "http://evil.example", NULL), 403,
                    "forbidden_origin");
    bh_expect_error(bh_http("GET", url, auth_ok, "http://127.0.0.1:8081", NULL), 403,
                    "forbidden_origin");
    struct bh_resp r = bh_http("GET", url, auth_ok, ORIGIN, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.acao, ORIGIN);
    json_decref(r.body);
    /* the preflight: no token needed, allowed origins only */
    r = bh_http("OPTIONS", url, NULL, ORIGIN, NULL);
    assert_int_equal(r.status, 204);
    assert_string_equal(r.acao, ORIGIN);
    json_decref(r.body);
    r = bh_http("OPTIONS", url, NULL, "http://evil.example", NULL);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.acao, "");
    json_decref(r.body);
}

static void read_card(void **state)
{
    (void)state;
    uint8_t photo[1024];
    for (size_t i = 0; i < sizeof photo; i++)
        photo[i] = (uint8_t)(255 - (i * 13) % 256);
    char b64[1400]; /* base64 by hand, independent of the bridge's codec */
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < sizeof photo; i += 3) {
        uint32_t v = (uint32_t)photo[i] << 16;
        if (i + 1 < sizeof photo)
            v |= (uint32_t)photo[i + 1] << 8;
        if (i + 2 < sizeof photo)
            v |= photo[i + 2];
        b64[o++] = al[v >> 18 & 63];
        b64[o++] = al[v >> 12 & 63];
        b64[o++] = i + 1 < sizeof photo ? al[v >> 6 & 63] : '=';
        b64[o++] = i + 2 < sizeof photo ? al[v & 63] : '=';
    }
    b64[o] = '\0';
    json_t *card = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "name", "乌云其木格",
                             "sex_code", "2", "nation_code", "02", "birth", "19491231", "address",
                             "内蒙古自治区呼和浩特市新城区中山东路8号", "id_no",
                             "11010519491231002X", "issuer", "呼和浩特市公安局新城分局",
                             "valid_from", "20150601", "valid_to", "长期", "photo_b64", b64);
    char *body = json_dumps(card, 0);
    control("POST", "/card", body);
    free(body);
    json_decref(card);

    struct bh_resp r = bridge_get("/v1/idcard");
    assert_int_equal(r.status, 200);
    const struct {
        const char *k, *v;
    } want[] = {
        {"name", "乌云其木格"},
        {"sex", "女"},
        {"nation", "蒙古"},
        {"birth", "19491231"},
        {"address", "内蒙古自治区呼和浩特市新城区中山东路8号"},
        {"id_no", "11010519491231002X"},
        {"issuer", "呼和浩特市公安局新城分局"},
        {"valid_from", "20150601"},
        {"valid_to", "长期"},
        {"photo_wlt", b64},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(json_string_value(json_object_get(r.body, want[i].k)), want[i].v);
    json_decref(r.body);
}

static void no_card(void **state)
{
    (void)state;
    control("DELETE", "/card", NULL);
    bh_expect_error(bridge_get("/v1/idcard"), 404, "no_card");
    control("POST", "/card", "{}");
    expect_card(bridge_get("/v1/idcard"), "张三");
}

static void corrupted_frames(void **state)
{
    (void)state;
    control("POST", "/card", "{}");
    static const char *const kinds[] = {"checksum", "length",   "truncate",
                                        "status",   "preamble", "oversize"};
    static const char *const on[] = {"read", "select"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char f[128];
        /* on read or select: the poller sends find cards of its own, which
         * could take a one-shot fault meant for this request */
        snprintf(f, sizeof f, "{\"corrupt\":\"%s\",\"on\":\"%s\"}", kinds[i], on[i % 2]);
        control("POST", "/fault", f);
        struct bh_resp r = bridge_get("/v1/idcard");
        if (r.status != 502)
            fprintf(stderr, "kind %s on %s\n", kinds[i], on[i % 2]);
        bh_expect_error(r, 502, "bad_frame");
        expect_card(bridge_get("/v1/idcard"), "张三");
    }
    control("POST", "/fault", "{}");
}

static void stall_times_out(void **state)
{
    (void)state;
    control("POST", "/card", "{}");
    control("POST", "/fault", "{\"stall\":true}");
    double t0 = proc_now_ms();
    bh_expect_error(bridge_get("/v1/idcard"), 504, "timeout");
    double took = proc_now_ms() - t0;
    /* the deadline is the bound: not before it, and not long after */
    assert_true(took >= TIMEOUT_MS - 100);
    assert_true(took < TIMEOUT_MS + 5000);
    control("POST", "/fault", "{}");
    expect_card(bridge_get("/v1/idcard"), "张三");
}

static void *read_in_thread(void *arg)
{
    struct bh_resp *r = arg;
    *r = bridge_get("/v1/idcard");
    return NULL;
}

static void concurrent_reads_busy(void **state)
{
    (void)state;
    control("POST", "/card", "{}");
    /* each reply takes 300 ms: a read (three exchanges) about a second */
    control("POST", "/fault", "{\"delay_ms\":300}");
    struct bh_resp a = {0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_in_thread, &a), 0);
    proc_sleep_ms(250);
    struct bh_resp b = bridge_get("/v1/idcard");
    pthread_join(t, NULL);
    control("POST", "/fault", "{}");
    /* normally the thread's read came first; under load it may be second */
    if (a.status == 409) {
        struct bh_resp x = a;
        a = b;
        b = x;
    }
    expect_card(a, "张三");
    bh_expect_error(b, 409, "busy");
}

static void absent_reader(void **state)
{
    (void)state;
    char port[128], tokf[128], log[128], url[64];
    snprintf(port, sizeof port, "%s/no-such-port", workdir);
    snprintf(tokf, sizeof tokf, "%s/token", workdir); /* the same token, now read */
    snprintf(log, sizeof log, "%s/bridge2.log", workdir);
    pid_t pid = start_bridge(port, tokf, log, url, sizeof url);
    assert_true(pid > 0);
    assert_false(proc_log_has(log, 0, "(created)"));
    char u[128];
    snprintf(u, sizeof u, "%s/v1/idcard", url);
    bh_expect_error(bh_http("GET", u, auth_ok, NULL, NULL), 503, "absent");
    snprintf(u, sizeof u, "%s/v1/health", url);
    struct bh_resp r = bh_http("GET", u, auth_ok, NULL, NULL);
    assert_int_equal(r.status, 200);
    json_t *dev = json_array_get(json_object_get(r.body, "devices"), 0);
    assert_string_equal(json_string_value(json_object_get(dev, "state")), "absent");
    json_decref(r.body);
    assert_int_equal(proc_stop(pid), 0);
}

static int run_to_exit(char **argv, const char *log)
{
    pid_t pid = proc_spawn(argv, log, true);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void start_refusals(void **state)
{
    (void)state;
    char log[128], tokf[128], loose[128], port[128];
    snprintf(log, sizeof log, "%s/refusals.log", workdir);
    snprintf(tokf, sizeof tokf, "%s/token", workdir);
    snprintf(port, sizeof port, "%s/idcard", workdir);
    static const char *const addrs[] = {"0.0.0.0:0",   "192.168.1.10:19300", "localhost:19300",
                                        "[::1]:19300", "127.0.0.2:19300",    "127.0.0.1"};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        char *argv[] = {getenv("ZHANYE_BRIDGE_BIN"),
                        "--listen",
                        (char *)addrs[i],
                        "--idcard-port",
                        port,
                        "--token-file",
                        tokf,
                        NULL};
        long from = proc_file_size(log);
        assert_int_equal(run_to_exit(argv, log), 2);
        assert_true(proc_log_has(log, from, "127.0.0.1 only"));
    }
    /* a token file others may read is refused, and left as it is */
    snprintf(loose, sizeof loose, "%s/loose.token", workdir);
    FILE *f = fopen(loose, "w");
    assert_non_null(f);
    fputs("0123456789abcdef0123456789abcdef\n", f);
    fclose(f);
    assert_int_equal(chmod(loose, 0644), 0);
    char *argv[] = {getenv("ZHANYE_BRIDGE_BIN"),
                    "--listen",
                    "127.0.0.1:0",
                    "--idcard-port",
                    port,
                    "--token-file",
                    loose,
                    NULL};
    long from = proc_file_size(log);
    assert_int_equal(run_to_exit(argv, log), 1);
    assert_true(proc_log_has(log, from, "chmod 600"));
}

static void sse_present(void **state)
{
    (void)state;
    control("DELETE", "/card", NULL);
    proc_sleep_ms(800); /* the poller (200 ms) sees the reader empty */
    struct bh_sse *s = bh_sse_open(bridge_url, auth_ok);
    assert_non_null(s);
    assert_true(bh_sse_has(s, "event: hello", 10000));
    assert_false(bh_sse_has(s, "event: idcard.present", 600)); /* nothing yet */
    control("POST", "/card", "{}");
    bool got = bh_sse_has(s, "event: idcard.present", 10000);
    control("DELETE", "/card", NULL);
    bool removed = bh_sse_has(s, "event: idcard.removed", 10000);
    if (!got || !removed) {
        char *text = bh_sse_text(s);
        fprintf(stderr, "stream: %s\n", text ? text : "");
        free(text);
    }
    bh_sse_close(s);
    assert_true(got);
    assert_true(removed);
}

int main(void)
{
    if (!getenv("ZHANYE_BRIDGE_BIN") || !getenv("ZHANYE_DEVSIM_BIN")) {
        fprintf(stderr, "ZHANYE_BRIDGE_BIN / ZHANYE_DEVSIM_BIN not set\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_file_and_auth),
        cmocka_unit_test(origins),
        cmocka_unit_test(read_card),
        cmocka_unit_test(no_card),
        cmocka_unit_test(corrupted_frames),
        cmocka_unit_test(stall_times_out),
        cmocka_unit_test(concurrent_reads_busy),
        cmocka_unit_test(absent_reader),
        cmocka_unit_test(sse_present),
        cmocka_unit_test(start_refusals),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
