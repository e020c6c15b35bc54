/* The console's Operations screens end to end on a real daemon: the live
 * SSE stream (GET /api/v1/admin/live) and the editing of flow rules and
 * downstream limits (docs/api.md §2.3). A rule lowered through the API
 * refuses at once (no restart) what it admitted before, the stream's ticks
 * count those refusals, the change is validated, audited, and survives a
 * restart; a stream ends when its session does; at most HTTP_MAX_STREAMS
 * streams are open at once. */
#include "console.h"
#include "testd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define MAX_STREAMS 8 /* HTTP_MAX_STREAMS (http/server.h) */

static struct testd D;

/* A downstream system that is never called: its limits are what is edited. */
static const char EXTRA[] = "[egress.core]\naddress = tcp://127.0.0.1:9\n";

static int setup(void **state)
{
    (void)state;
    return testd_init(&D, EXTRA) || testd_start(&D) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    testd_cleanup(&D);
    return 0;
}

static void login(struct console *c, const char *teller)
{
    long st = console_login(c, &D, teller, PW);
    if (st != 200 || !c->cookie[0])
        fail_msg("login %s: %ld", teller, st);
}

static json_t *post(struct console *c, const char *path, const char *body, long want,
                    const char *want_err)
{
    json_t *a = NULL;
    long st = console_post(c, path, body, &a);
    if (st != want || (want_err && strcmp(console_err(a), want_err) != 0))
        fail_msg("POST %s %s: got %ld %s, want %ld %s", path, body, st, console_err(a), want,
                 want_err ? want_err : "");
    return a;
}

static json_t *get(struct console *c, const char *path, long want)
{
    json_t *a = NULL;
    long st = console_get(c, path, &a);
    if (st != want)
        fail_msg("GET %s: got %ld %s, want %ld", path, st, console_err(a), want);
    return a;
}

/* The item of array key whose member field is value (borrowed), or NULL. */
static json_t *item(json_t *ans, const char *key, const char *field, const char *value)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(ans, key), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, field)), value) == 0)
            return it;
    }
    return NULL;
}

/* One unknown-TX request with a junk body: flow decides it from the path
 * (default rule) before anything is parsed. Returns the status. */
static long junk_tx(void)
{
    char url[128];
    snprintf(url, sizeof url, "%s/api/v1/tx/NOPE", D.base);
    struct http_result r = {0};
    long st = http_do("POST", url, "x", 1, &r) == 0 ? r.status : 0;
    http_result_free(&r);
    return st;
}

/* ---- reading the SSE stream -------------------------------------------------- */

struct sse {
    char buf[1 << 20];
    size_t len;
    bool (*until)(struct sse *s); /* stop reading when true */
    json_t *last;                 /* the last tick's data */
    bool ended;                   /* an `event: end` came */
    int ticks;
};

/* Parses the complete events in buf (each ends with a blank line). */
static void parse_events(struct sse *s)
{
    char *p = s->buf, *end;
    while ((end = strstr(p, "\n\n")) != NULL) {
        *end = '\0';
        if (strncmp(p, "event: tick\ndata: ", 18) == 0) {
            json_decref(s->last);
            s->last = json_loads(p + 18, 0, NULL);
            s->ticks++;
        } else if (strncmp(p, "event: end", 10) == 0) {
            s->ended = true;
        }
        p = end + 2;
    }
    size_t rest = s->len - (size_t)(p - s->buf);
    memmove(s->buf, p, rest);
    s->len = rest;
    s->buf[s->len] = '\0';
}

static size_t on_bytes(char *ptr, size_t size, size_t n, void *arg)
{
    struct sse *s = arg;
    size_t k = size * n;
    if (s->len + k >= sizeof s->buf)
        return 0;
    memcpy(s->buf + s->len, ptr, k);
    s->len += k;
    s->buf[s->len] = '\0';
    parse_events(s);
    return s->until(s) ? 0 : k; /* 0 aborts the transfer: done */
}

/* Reads the stream of c until s->until says so (or timeout_s); the status. */
static long read_stream(struct console *c, struct sse *s, long timeout_s)
{
    char url[160], cookie[96];
    snprintf(url, sizeof url, "%s/api/v1/admin/live", D.base);
    snprintf(cookie, sizeof cookie, "zs=%s", c->cookie);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    (void)curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(h);
    return st;
}

static json_t *tick_rule(struct sse *s, const char *tx)
{
    return s->last ? item(s->last, "flow", "tx", tx) : NULL;
}

static int64_t want_refused;

static bool refused_reached(struct sse *s)
{
    json_t *r = tick_rule(s, "default");
    return r && json_integer_value(json_object_get(r, "refused_total")) >= want_refused;
}

static bool two_ticks(struct sse *s)
{
    return s->ticks >= 2;
}

static bool ended(struct sse *s)
{
    return s->ended;
}

/* ---- the tests --------------------------------------------------------------- */

static void only_province_admins(void **state)
{
    (void)state;
    struct console b, p;
    login(&b, "admin01");
    login(&p, "prov01");
    json_t *a = get(&b, "/api/v1/admin/live", 403);
    assert_string_equal(console_err(a), "forbidden");
    json_decref(a);
    json_decref(get(&b, "/api/v1/admin/flow/rules", 403));
    json_decref(
        post(&b, "/api/v1/admin/flow/rules", "{\"tx\":\"default\",\"rate\":5}", 403, "forbidden"));
    json_decref(post(&b, "/api/v1/admin/egress/limits", "{\"system\":\"core\",\"queue\":5}", 403,
                     "forbidden"));
    /* Without a session: 401, never a stream. */
    char url[160];
    snprintf(url, sizeof url, "%s/api/v1/admin/live", D.base);
    struct http_result r = {0};
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 401);
    http_result_free(&r);
    /* A province admin's stream: ticks every second with the rules and systems. */
    struct sse *s = calloc(1, sizeof *s);
    s->until = two_ticks;
    assert_int_equal(read_stream(&p, s, 20), 200);
    assert_true(s->ticks >= 2);
    assert_non_null(tick_rule(s, "default"));
    assert_non_null(tick_rule(s, "LOGIN"));
    json_t *core = item(s->last, "egress", "system", "core");
    assert_non_null(core);
    assert_string_equal(json_string_value(json_object_get(core, "breaker")), "closed");
    assert_true(json_integer_value(json_object_get(s->last, "interval_ms")) > 0);
    json_decref(s->last);
    free(s);
}

static void rule_validated(void **state)
{
    (void)state;
    struct console p;
    login(&p, "prov01");
    static const struct {
        const char *body, *member;
    } BAD[] = {
        {"{\"tx\":\"default\",\"rate\":0}", "rate"},
        {"{\"tx\":\"default\",\"burst\":-1}", "burst"},
        {"{\"tx\":\"default\",\"max_concurrent\":100001}", "max_concurrent"},
        {"{\"tx\":\"default\",\"max_wait_ms\":600001}", "max_wait_ms"},
        {"{\"tx\":\"default\",\"scope\":\"galaxy\"}", "scope"},
        {"{\"tx\":\"no such\",\"rate\":5}", "tx"},
        {"{\"tx\":\"default\"}", "values"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        json_t *a = post(&p, "/api/v1/admin/flow/rules", BAD[i].body, 400, "bad_request");
        json_t *e = json_object_get(a, "error");
        if (strcmp(json_string_value(json_object_get(e, "member")), BAD[i].member) != 0)
            fail_msg("%s: member %s", BAD[i].body, json_string_value(json_object_get(e, "member")));
        json_decref(a);
    }
    /* An unknown key is refused by the schema. */
    json_decref(post(&p, "/api/v1/admin/flow/rules", "{\"tx\":\"default\",\"colour\":1}", 400,
                     "bad_request"));
    /* Nothing stored by any of them. */
    json_t *a = get(&p, "/api/v1/admin/flow/rules", 200);
    json_t *def = item(a, "rules", "tx", "default");
    assert_int_equal(json_object_size(json_object_get(def, "overrides")), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(def, "source"), "rate")),
                        "built-in");
    json_decref(a);
}

/* Admitted before; lowered through the API, refused at once; the stream
 * counts the refusals; audited; kept across a restart; removed again. */
static void rule_applied_live_and_kept(void **state)
{
    (void)state;
    struct console p;
    login(&p, "prov01");
    /* Admitted by flow: the junk is then refused as a bad envelope (400). */
    for (int i = 0; i < 3; i++)
        assert_int_equal(junk_tx(), 400);

    json_t *a = post(&p, "/api/v1/admin/flow/rules",
                     "{\"tx\":\"default\",\"rate\":1,\"burst\":1,\"queue\":0}", 200, NULL);
    json_t *def = item(a, "rules", "tx", "default");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(def, "values"), "rate")),
                     1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(def, "source"), "rate")),
                        "console");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(def, "source"), "max_concurrent")),
        "built-in");
    json_decref(a);

    /* Refused now, without a restart: a burst of 1, no queue. */
    int refused = 0;
    const int N = 12;
    for (int i = 0; i < N; i++)
        refused += junk_tx() == 429;
    assert_true(refused >= N - 2);

    /* The stream's ticks count them. */
    struct sse *s = calloc(1, sizeof *s);
    want_refused = refused;
    s->until = refused_reached;
    assert_int_equal(read_stream(&p, s, 20), 200);
    json_t *r = tick_rule(s, "default");
    assert_non_null(r);
    assert_true(json_integer_value(json_object_get(r, "refused_total")) >= refused);
    assert_true(json_integer_value(json_object_get(json_object_get(r, "refused"), "rate")) >=
                refused);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "limits"), "rate")), 1);
    json_decref(s->last);
    free(s);

    /* Audited with old and new values. */
    a = get(&p, "/api/v1/admin/audit/records?limit=50", 200);
    json_t *rec = item(a, "records", "event", "flow.rule_changed");
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "target")), "default");
    json_t *detail = json_object_get(rec, "detail");
    if (json_is_string(detail))
        detail = json_loads(json_string_value(detail), 0, NULL);
    else
        json_incref(detail);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(detail, "old"), "rate")),
                     1000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(detail, "new"), "rate")),
                        "1");
    json_decref(detail);
    json_decref(a);

    /* Kept across a restart (the database, not the process). */
    assert_int_equal(testd_stop(&D), 0);
    assert_int_equal(testd_start(&D), 0);
    login(&p, "prov01");
    a = get(&p, "/api/v1/admin/flow/rules", 200);
    def = item(a, "rules", "tx", "default");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(def, "values"), "rate")),
                     1);
    json_decref(a);
    refused = 0;
    for (int i = 0; i < N; i++)
        refused += junk_tx() == 429;
    assert_true(refused >= N - 2);

    /* Removed: zhanye.conf's values again, at once. */
    a = post(&p, "/api/v1/admin/flow/rules/reset", "{\"tx\":\"default\"}", 200, NULL);
    def = item(a, "rules", "tx", "default");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(def, "values"), "rate")),
                     1000);
    assert_int_equal(json_object_size(json_object_get(def, "overrides")), 0);
    json_decref(a);
    for (int i = 0; i < 3; i++)
        assert_int_equal(junk_tx(), 400);
}

/* A second node on the same database applies a change made on the first
 * within its poll (OVERRIDES_POLL_MS = 2 s), without a reload or restart. */
static void reaches_the_other_node(void **state)
{
    (void)state;
    struct testd b = D; /* a second `zhanye serve` on D's data directory */
    b.pid = 0;
    assert_int_equal(testd_start(&b), 0);
    struct console p, q;
    login(&p, "prov01");
    long st = console_login(&q, &b, "prov01", PW);
    assert_int_equal(st, 200);
    json_decref(
        post(&p, "/api/v1/admin/flow/rules", "{\"tx\":\"CUSTOMER_GET\",\"rate\":3}", 200, NULL));
    int64_t rate = 0;
    for (int i = 0; i < 100 && rate != 3; i++) {
        json_t *a = get(&q, "/api/v1/admin/flow/rules", 200);
        json_t *r = item(a, "rules", "tx", "CUSTOMER_GET");
        rate = r ? json_integer_value(json_object_get(json_object_get(r, "values"), "rate")) : 0;
        json_decref(a);
        if (rate != 3)
            usleep(100 * 1000);
    }
    assert_int_equal(rate, 3);
    json_decref(post(&p, "/api/v1/admin/flow/rules/reset", "{\"tx\":\"CUSTOMER_GET\"}", 200, NULL));
    testd_stop(&b);
}

static void egress_limits(void **state)
{
    (void)state;
    struct console p;
    login(&p, "prov01");
    json_decref(post(&p, "/api/v1/admin/egress/limits",
                     "{\"system\":\"core\",\"max_concurrent\":0}", 400, "bad_request"));
    json_decref(post(&p, "/api/v1/admin/egress/limits", "{\"system\":\"nope\",\"queue\":1}", 404,
                     "not_found"));
    /* Not changeable live: refused by the schema. */
    json_decref(post(&p, "/api/v1/admin/egress/limits",
                     "{\"system\":\"core\",\"breaker_window\":5}", 400, "bad_request"));
    json_t *a =
        post(&p, "/api/v1/admin/egress/limits",
             "{\"system\":\"core\",\"max_concurrent\":3,\"call_timeout_ms\":900}", 200, NULL);
    json_t *core = item(a, "systems", "system", "core");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(core, "values"), "max_concurrent")), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(core, "source"), "max_concurrent")),
        "console");
    json_decref(a);
    /* Applied: the running connector says so. */
    a = get(&p, "/api/v1/admin/egress", 200);
    core = json_object_get(json_object_get(a, "systems"), "core");
    assert_int_equal(json_integer_value(json_object_get(core, "max_concurrent")), 3);
    assert_int_equal(json_integer_value(json_object_get(core, "call_timeout_ms")), 900);
    json_decref(a);
    a = get(&p, "/api/v1/admin/audit/records?limit=50", 200);
    assert_non_null(item(a, "records", "event", "egress.limits_changed"));
    json_decref(a);
    json_decref(post(&p, "/api/v1/admin/egress/limits/reset",
                     "{\"system\":\"core\",\"keys\":[\"max_concurrent\"]}", 200, NULL));
    a = get(&p, "/api/v1/admin/egress", 200);
    core = json_object_get(json_object_get(a, "systems"), "core");
    assert_int_equal(json_integer_value(json_object_get(core, "max_concurrent")), 16);
    assert_int_equal(json_integer_value(json_object_get(core, "call_timeout_ms")), 900);
    json_decref(a);
}

static void stream_ends_with_session(void **state)
{
    (void)state;
    struct console p, q;
    login(&p, "prov01");
    login(&q, "prov01");
    /* q's session ends by logout while its stream is open: read in a child. */
    pid_t pid = fork();
    if (pid == 0) {
        sleep(2);
        json_t *a = NULL;
        long st = console_post(&q, "/api/v1/admin/logout", NULL, &a);
        json_decref(a);
        _exit(st == 200 ? 0 : 1);
    }
    struct sse *s = calloc(1, sizeof *s);
    s->until = ended;
    time_t t0 = time(NULL);
    assert_int_equal(read_stream(&q, s, 30), 200);
    assert_true(s->ended);
    assert_true(time(NULL) - t0 < 25);
    int wst = 0;
    waitpid(pid, &wst, 0);
    assert_int_equal(WEXITSTATUS(wst), 0);
    json_decref(s->last);
    free(s);
    /* p's session is untouched. */
    json_decref(get(&p, "/api/v1/admin/me", 200));
}

/* A raw connection holding a stream open: the fd, after the 200's headers. */
static int open_raw_stream(struct console *c)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)D.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET /api/v1/admin/live HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: zs=%s\r\n\r\n",
                     c->cookie);
    if (write(fd, req, (size_t)n) != n)
        return -1;
    char buf[256];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    if (got < 12 || strncmp(buf, "HTTP/1.1 200", 12) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void streams_bounded(void **state)
{
    (void)state;
    struct console p;
    login(&p, "prov01");
    int fds[MAX_STREAMS];
    for (int i = 0; i < MAX_STREAMS; i++) {
        fds[i] = open_raw_stream(&p);
        assert_true(fds[i] >= 0);
    }
    json_t *a = get(&p, "/api/v1/admin/live", 503);
    assert_string_equal(console_err(a), "overloaded");
    json_decref(a);
    /* Other requests go on meanwhile. */
    json_decref(get(&p, "/api/v1/admin/me", 200));
    for (int i = 0; i < MAX_STREAMS; i++)
        close(fds[i]);
    /* The closed streams are noticed within a few ticks; then a new one opens. */
    struct sse *s = calloc(1, sizeof *s);
    s->until = two_ticks;
    long st = 0;
    for (int tries = 0; tries < 20 && st != 200; tries++) {
        st = read_stream(&p, s, 5);
        if (st != 200)
            sleep(1);
    }
    assert_int_equal(st, 200);
    json_decref(s->last);
    free(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(only_province_admins),
        cmocka_unit_test(rule_validated),
        cmocka_unit_test(rule_applied_live_and_kept),
        cmocka_unit_test(reaches_the_other_node),
        cmocka_unit_test(egress_limits),
        cmocka_unit_test(stream_ends_with_session),
        cmocka_unit_test(streams_bounded), // one per line
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
