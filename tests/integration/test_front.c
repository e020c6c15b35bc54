/* The HTTP front's policy over real sockets, against a real daemon:
 *
 *  - before the body: an unknown path is 404 and a known path with the wrong
 *    method 405 with Allow, a body too large for its route (16K on the
 *    management API, none on GET routes) 413, all answered without a byte of
 *    the body; 2,000 connections that announce large bodies and never send
 *    them get those answers and hold no buffered memory;
 *  - the global buffer cap: a request whose Content-Length does not fit gets
 *    503 overloaded at once while smaller ones (a real tablet activation)
 *    still pass; a chunked body is counted as it arrives; every reservation
 *    comes back when its request ends;
 *  - security headers on every answer, HSTS and the Secure cookie only with
 *    an https public_url;
 *  - /metrics only for the peers of metrics_allow (another loopback address
 *    plays the outsider), X-Forwarded-For believed only from trusted_proxies;
 *  - console logins under flood: flow's built-in ADMIN_LOGIN rule keeps at
 *    most 2 password checks running, the excess gets 429, /readyz stays 200. */
#include "console.h"
#include "tablet.h"
#include "testd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define HOLD 28672 /* Content-Length of a request left waiting for its body */

/* --- raw HTTP over one socket ------------------------------------------------- */

/* A TCP connection to the daemon from source address src (NULL: any). */
static int dial(const struct testd *d, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (src) {
        struct sockaddr_in me = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &me.sin_addr);
        if (bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_str(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one answer (headers and its Content-Length of body) into buf, or
 * until EOF; returns its status, 0 when none came within timeout_ms. */
static long read_answer(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;
    buf[0] = '\0';
    for (;;) {
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strcasestr(buf, "\r\nContent-Length:");
            size_t body = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
            if (len >= (size_t)(end + 4 - buf) + body)
                break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (len + 1 >= cap || poll(&p, 1, timeout_ms) <= 0)
            break;
        ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    long st = 0;
    if (strncmp(buf, "HTTP/1.", 7) == 0 && strstr(buf, "\r\n\r\n"))
        st = strtol(buf + 9, NULL, 10);
    return st;
}

/* The value of header name in a raw answer into out; false if absent. */
static bool raw_header(const char *answer, const char *name, char *out, size_t cap)
{
    char needle[80];
    snprintf(needle, sizeof needle, "\r\n%s:", name);
    const char *h = strcasestr(answer, needle);
    const char *end = strstr(answer, "\r\n\r\n");
    if (!h || (end && h > end))
        return false;
    h += strlen(needle);
    while (*h == ' ')
        h++;
    size_t n = strcspn(h, "\r\n");
    snprintf(out, cap, "%.*s", (int)n, h);
    return true;
}

/* The error.code of a raw answer's JSON body, or "". */
static const char *raw_code(const char *answer, char *out, size_t cap)
{
    const char *body = strstr(answer, "\r\n\r\n");
    json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(out, cap, "%s", c ? c : "");
    json_decref(j);
    return out;
}

/* Sends the request head and nothing of its body; returns the status of the
 * answer, which must come without the body. */
static long head_only(const struct testd *d, const char *head, char *ans, size_t cap)
{
    int fd = dial(d, NULL);
    assert_true(fd >= 0);
    assert_true(send_str(fd, head, strlen(head)));
    long st = read_answer(fd, ans, cap, 10000);
    close(fd);
    return st;
}

/* --- HTTP through libcurl, every answer header kept ---------------------------- */

struct hres {
    long status;
    char headers[4096];
    size_t hlen;
    char *body;
    size_t blen;
};

static size_t on_hdr(char *data, size_t size, size_t nmemb, void *user)
{
    struct hres *r = user;
    size_t n = size * nmemb;
    if (r->hlen + n < sizeof r->headers) {
        memcpy(r->headers + r->hlen, data, n);
        r->hlen += n;
        r->headers[r->hlen] = '\0';
    }
    return n;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *user)
{
    struct hres *r = user;
    size_t n = size * nmemb;
    char *p = realloc(r->body, r->blen + n + 1);
    if (!p)
        return 0;
    memcpy(p + r->blen, data, n);
    r->blen += n;
    p[r->blen] = '\0';
    r->body = p;
    return n;
}

/* One request from source address src (NULL: the default) with extra header
 * lines (NULL-terminated, may be NULL). Returns the status (0: no answer). */
static long hreq(const struct testd *d, const char *src, const char *method, const char *path,
                 const char *const *headers, const char *body, struct hres *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[256], iface[64];
    snprintf(url, sizeof url, "%s%s", d->base, path);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_hdr);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (src) {
        snprintf(iface, sizeof iface, "host!%s", src);
        curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
    }
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r->status;
}

static void hres_free(struct hres *r)
{
    free(r->body);
    r->body = NULL;
}

/* The value of header name in r (the last one), or NULL. */
static const char *hres_header(const struct hres *r, const char *name, char *out, size_t cap)
{
    const char *found = NULL;
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
            found = p + nl + 1;
    if (!found)
        return NULL;
    while (*found == ' ')
        found++;
    snprintf(out, cap, "%.*s", (int)strcspn(found, "\r\n"), found);
    return out;
}

static const char *hres_code(const struct hres *r, char *out, size_t cap)
{
    json_t *j = r->body ? json_loads(r->body, 0, NULL) : NULL;
    const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(out, cap, "%s", c ? c : "");
    json_decref(j);
    return out;
}

/* A series' value in /metrics (read from 127.0.0.1), -1 if absent. */
static long long metric(const struct testd *d, const char *series)
{
    struct hres r;
    long long v = -1;
    if (hreq(d, NULL, "GET", "/metrics", NULL, NULL, &r) == 200 && r.body) {
        char needle[256];
        snprintf(needle, sizeof needle, "\n%s ", series);
        const char *p = strstr(r.body, needle);
        if (p)
            v = strtoll(p + strlen(needle), NULL, 10);
    }
    hres_free(&r);
    return v;
}

/* Waits up to 10 s for a series to read want. */
static long long await_metric(const struct testd *d, const char *series, long long want)
{
    long long v = -1;
    for (int i = 0; i < 500; i++) {
        v = metric(d, series);
        if (v == want)
            break;
        usleep(20 * 1000);
    }
    return v;
}

/* --- the daemons ------------------------------------------------------------- */

static struct testd D;     /* defaults but a small buffer_limit */
static struct testd HTTPS; /* https public_url, metrics for 127.0.0.2, proxy 127.0.0.1 */

static int setup(void **state)
{
    (void)state;
    return testd_init(&D, "[server]\nbuffer_limit = 64K\n") || testd_start(&D) ? -1 : 0;
}

static int setup_https(void **state)
{
    (void)state;
    return testd_init(&HTTPS, "[server]\npublic_url = https://zhanye.example\n"
                              "metrics_allow = 127.0.0.2\ntrusted_proxies = 127.0.0.1\n") ||
                   testd_start(&HTTPS)
               ? -1
               : 0;
}

static int teardown(void **state)
{
    (void)state;
    testd_cleanup(&D);
    return 0;
}

static int teardown_https(void **state)
{
    (void)state;
    testd_cleanup(&HTTPS);
    return 0;
}

/* --- before the body ------------------------------------------------------------ */

static void expect_head(const char *head, long want_status, const char *want_code,
                        const char *want_allow)
{
    char ans[8192], code[64], allow[64];
    long st = head_only(&D, head, ans, sizeof ans);
    if (st != want_status || strcmp(raw_code(ans, code, sizeof code), want_code) != 0)
        fail_msg("%.40s...: got %ld %s, want %ld %s", head, st, code, want_status, want_code);
    if (want_allow) {
        assert_true(raw_header(ans, "Allow", allow, sizeof allow));
        assert_string_equal(allow, want_allow);
    } else {
        assert_false(raw_header(ans, "Allow", allow, sizeof allow));
    }
}

/* Every answer below comes while the body (4 MiB announced, under the ZY1
 * route's 8M) is still unsent. */
static void route_policy_before_the_body(void **state)
{
    (void)state;
    expect_head("POST /no/such/path HTTP/1.1\r\nHost: t\r\nContent-Length: 4194304\r\n\r\n", 404,
                "not_found", NULL);
    expect_head("POST /api/v1/tx/ HTTP/1.1\r\nHost: t\r\nContent-Length: 4194304\r\n\r\n", 404,
                "not_found", NULL);
    expect_head("POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 4194304\r\n\r\n", 405,
                "method_not_allowed", "GET");
    expect_head("GET /api/v1/admin/login HTTP/1.1\r\nHost: t\r\n\r\n", 405, "method_not_allowed",
                "POST");
    expect_head("GET /api/v1/tx/LOGIN HTTP/1.1\r\nHost: t\r\n\r\n", 405, "method_not_allowed",
                "POST");
    expect_head("DELETE /api/v1/admin/banks HTTP/1.1\r\nHost: t\r\nContent-Length: 4194304\r\n\r\n",
                405, "method_not_allowed", "GET, POST");
    /* The management API's writes take 16K; its reads, like every GET, none. */
    expect_head("POST /api/v1/admin/tellers HTTP/1.1\r\nHost: t\r\nContent-Length: 16385\r\n\r\n",
                413, "too_large", NULL);
    expect_head("POST /api/v1/admin/login HTTP/1.1\r\nHost: t\r\nContent-Length: 4194304\r\n\r\n",
                413, "too_large", NULL);
    expect_head("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n", 413, "too_large",
                NULL);
    expect_head("GET /api/v1/admin/me HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                413, "too_large", NULL);
    /* The ZY1 route keeps body_limit (8M). */
    expect_head("POST /api/v1/tx/LOGIN HTTP/1.1\r\nHost: t\r\nContent-Length: 8388609\r\n\r\n", 413,
                "too_large", NULL);
    /* A GET without a body, and a body within the admin limit, still pass. */
    char ans[8192];
    assert_int_equal(head_only(&D, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", ans, sizeof ans),
                     200);
    struct hres r;
    char code[64];
    const char *const json[] = {"Content-Type: application/json", NULL};
    assert_int_equal(hreq(&D, NULL, "POST", "/api/v1/admin/tellers", json, "{}", &r), 401);
    assert_string_equal(hres_code(&r, code, sizeof code), "unauthenticated");
    hres_free(&r);
    /* Its 2 bytes come back when it completes, just after the answer. */
    assert_int_equal(await_metric(&D, "zhanye_http_buffered_bytes", 0), 0);
}

/* A chunked body over its route's limit: 413 once it ends; far over it the
 * connection is closed. Nothing stays reserved. */
static void chunked_bodies_are_counted(void **state)
{
    (void)state;
    enum { N = 20000 };
    char *body = malloc(N + 64);
    assert_non_null(body);
    memset(body, 'x', N);
    int fd = dial(&D, NULL);
    assert_true(fd >= 0);
    const char head[] = "POST /api/v1/admin/tellers HTTP/1.1\r\nHost: t\r\n"
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    char size[16], ans[8192], code[64];
    snprintf(size, sizeof size, "%x\r\n", N);
    assert_true(send_str(fd, head, strlen(head)));
    assert_true(send_str(fd, size, strlen(size)));
    assert_true(send_str(fd, body, N));
    assert_true(send_str(fd, "\r\n0\r\n\r\n", 7));
    assert_int_equal(read_answer(fd, ans, sizeof ans, 10000), 413);
    assert_string_equal(raw_code(ans, code, sizeof code), "too_large");
    close(fd);

    /* 1 MiB more than the limit: never answered, the connection ends. */
    fd = dial(&D, NULL);
    assert_true(fd >= 0);
    assert_true(send_str(fd, head, strlen(head)));
    bool cut = false;
    for (int i = 0; i < 64 && !cut; i++)
        cut =
            !send_str(fd, "4000\r\n", 6) || !send_str(fd, body, 16384) || !send_str(fd, "\r\n", 2);
    long st = read_answer(fd, ans, sizeof ans, 10000);
    assert_true(cut || st == 0);
    close(fd);
    free(body);
    assert_int_equal(await_metric(&D, "zhanye_http_buffered_bytes", 0), 0);
    long hs;
    json_decref(http_get_json(&D, "/healthz", &hs));
    assert_int_equal(hs, 200);
}

/* 2,000 connections announce 4 MiB bodies, half to an unknown path, half to
 * a management route, and never send them: all are answered from their
 * headers and none reserves a byte. */
static void slow_connections_hold_nothing(void **state)
{
    (void)state;
    enum { NCONN = 2000 };
    static int fds[NCONN];
    char head[256];
    for (int i = 0; i < NCONN; i++) {
        fds[i] = dial(&D, NULL);
        if (fds[i] < 0)
            fail_msg("connection %d: %s", i, strerror(errno));
        snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: 4194304\r\n\r\n",
                 i % 2 ? "/api/v1/admin/branches" : "/uploads/big");
        assert_true(send_str(fds[i], head, strlen(head)));
    }
    assert_int_equal(metric(&D, "zhanye_http_buffered_bytes"), 0);
    int n404 = 0, n413 = 0;
    for (int i = 0; i < NCONN; i++) {
        char ans[4096];
        long st = read_answer(fds[i], ans, sizeof ans, 10000);
        n404 += st == 404 && i % 2 == 0;
        n413 += st == 413 && i % 2 == 1;
        close(fds[i]);
    }
    assert_int_equal(n404, NCONN / 2);
    assert_int_equal(n413, NCONN / 2);
    assert_int_equal(metric(&D, "zhanye_http_buffered_bytes"), 0);
}

/* buffer_limit = 64K: two requests waiting for 28K bodies hold 56K; a third
 * is refused 503 at once, as is one of 1 MiB on its own, and a chunked body
 * once it outgrows what is left; a real tablet activation still passes.
 * When the waiting requests go, so do their reservations. */
static void buffer_cap_refuses_at_once(void **state)
{
    (void)state;
    char head[256], ans[8192], code[64], retry[16];
    snprintf(head, sizeof head,
             "POST /api/v1/tx/SESSION_INFO HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
             HOLD);
    int hold[2];
    for (int i = 0; i < 2; i++) {
        hold[i] = dial(&D, NULL);
        assert_true(hold[i] >= 0);
        assert_true(send_str(hold[i], head, strlen(head)));
    }
    assert_int_equal(await_metric(&D, "zhanye_http_buffered_bytes", 2 * HOLD), 2 * HOLD);

    assert_int_equal(head_only(&D, head, ans, sizeof ans), 503);
    assert_string_equal(raw_code(ans, code, sizeof code), "overloaded");
    assert_true(raw_header(ans, "Retry-After", retry, sizeof retry));
    assert_string_equal(retry, "1");
    assert_int_equal(head_only(&D,
                               "POST /api/v1/tx/SESSION_INFO HTTP/1.1\r\nHost: t\r\n"
                               "Content-Length: 1048576\r\n\r\n",
                               ans, sizeof ans),
                     503);

    /* Chunked: 16K in 4K chunks does not fit in the 8K left. */
    int fd = dial(&D, NULL);
    assert_true(fd >= 0);
    const char chead[] = "POST /api/v1/tx/SESSION_INFO HTTP/1.1\r\nHost: t\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n";
    static char chunk[4096];
    memset(chunk, 'y', sizeof chunk);
    assert_true(send_str(fd, chead, strlen(chead)));
    for (int i = 0; i < 4; i++)
        assert_true(send_str(fd, "1000\r\n", 6) && send_str(fd, chunk, sizeof chunk) &&
                    send_str(fd, "\r\n", 2));
    assert_true(send_str(fd, "0\r\n\r\n", 5));
    assert_int_equal(read_answer(fd, ans, sizeof ans, 10000), 503);
    assert_string_equal(raw_code(ans, code, sizeof code), "overloaded");
    close(fd);
    assert_int_equal(await_metric(&D, "zhanye_http_buffered_bytes", 2 * HOLD), 2 * HOLD);

    /* A small transaction fits in what is left. */
    struct tablet t;
    assert_int_equal(tablet_activate(&t, &D, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    tablet_free(&t);

    for (int i = 0; i < 2; i++)
        close(hold[i]);
    assert_int_equal(await_metric(&D, "zhanye_http_buffered_bytes", 0), 0);
    /* With the room back, the same request is read and answered by its handler. */
    char *body = malloc(HOLD);
    assert_non_null(body);
    memset(body, 'z', HOLD);
    fd = dial(&D, NULL);
    assert_true(send_str(fd, head, strlen(head)) && send_str(fd, body, HOLD));
    long st = read_answer(fd, ans, sizeof ans, 10000);
    assert_int_equal(st, 400);
    assert_string_equal(raw_code(ans, code, sizeof code), "bad_envelope");
    close(fd);
    free(body);
    assert_int_equal(await_metric(&D, "zhanye_http_buffered_bytes", 0), 0);
}

/* --- headers ---------------------------------------------------------------------- */

static void expect_security_headers(const struct hres *r, bool https)
{
    char v[128];
    assert_non_null(hres_header(r, "X-Content-Type-Options", v, sizeof v));
    assert_string_equal(v, "nosniff");
    assert_non_null(hres_header(r, "Content-Security-Policy", v, sizeof v));
    assert_string_equal(v, "frame-ancestors 'none'");
    assert_non_null(hres_header(r, "X-Frame-Options", v, sizeof v));
    assert_string_equal(v, "DENY");
    if (https) {
        assert_non_null(hres_header(r, "Strict-Transport-Security", v, sizeof v));
        assert_string_equal(v, "max-age=31536000");
    } else {
        assert_null(hres_header(r, "Strict-Transport-Security", v, sizeof v));
    }
}

/* Answers of every kind: inline handler, 404, 405, 413 and 503 before the
 * body, a handler on the executor, /metrics (or its 403), a flow refusal. */
static void security_headers_everywhere(const struct testd *d, bool https)
{
    static const struct {
        const char *method, *path, *body;
        long status;
    } cases[] = {
        {.method = "GET", .path = "/healthz", .status = 200},
        {.method = "GET", .path = "/readyz", .status = 200},
        {.method = "GET", .path = "/api/v1/pubkey", .status = 200},
        {.method = "GET", .path = "/nope", .status = 404},
        {.method = "PUT", .path = "/readyz", .status = 405},
        {.method = "GET", .path = "/healthz", .body = "x", .status = 413},
        {.method = "GET", .path = "/api/v1/admin/me", .status = 401},
        {.method = "POST", .path = "/api/v1/tx/LOGIN", .body = "{}", .status = 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hres r;
        long st = hreq(d, NULL, cases[i].method, cases[i].path, NULL, cases[i].body, &r);
        if (st != cases[i].status)
            fail_msg("%s %s: %ld, want %ld", cases[i].method, cases[i].path, st, cases[i].status);
        expect_security_headers(&r, https);
        hres_free(&r);
    }
    struct hres r;
    long st = hreq(d, NULL, "GET", "/metrics", NULL, NULL, &r);
    assert_true(st == 200 || st == 403);
    expect_security_headers(&r, https);
    hres_free(&r);
}

/* A console session's cookie line. */
static void cookie_of_login(const struct testd *d, char *line, size_t cap)
{
    const char *const json[] = {"Content-Type: application/json", NULL};
    struct hres r;
    assert_int_equal(hreq(d, NULL, "POST", "/api/v1/admin/login", json,
                          "{\"teller\":\"prov01\",\"password\":\"" PW "\"}", &r),
                     200);
    assert_non_null(hres_header(&r, "Set-Cookie", line, cap));
    expect_security_headers(&r, d == &HTTPS);
    hres_free(&r);
}

static void headers_over_http(void **state)
{
    (void)state;
    security_headers_everywhere(&D, false);
    char line[256];
    cookie_of_login(&D, line, sizeof line);
    assert_non_null(strstr(line, "; HttpOnly; SameSite=Strict"));
    assert_non_null(strstr(line, "; Path=/api/v1/admin"));
    assert_null(strstr(line, "Secure"));
    /* Early refusals too (raw: curl would send the body). */
    char ans[8192], v[64];
    assert_int_equal(head_only(&D, "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 9999999\r\n\r\n",
                               ans, sizeof ans),
                     404);
    assert_true(raw_header(ans, "X-Frame-Options", v, sizeof v));
    assert_false(raw_header(ans, "Strict-Transport-Security", v, sizeof v));
}

static void headers_over_https(void **state)
{
    (void)state;
    security_headers_everywhere(&HTTPS, true);
    char line[256];
    cookie_of_login(&HTTPS, line, sizeof line);
    assert_non_null(strstr(line, "; HttpOnly; SameSite=Strict"));
    assert_non_null(strstr(line, "; Secure"));
    /* Logout clears it with the same attributes. */
    struct console c;
    assert_int_equal(console_login(&c, &HTTPS, "prov01", PW), 200);
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "Cookie: zs=%s", c.cookie);
    snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", c.csrf);
    const char *const hdrs[] = {cookie, csrf, "Content-Type: application/json", NULL};
    struct hres r;
    assert_int_equal(hreq(&HTTPS, NULL, "POST", "/api/v1/admin/logout", hdrs, "{}", &r), 200);
    assert_non_null(hres_header(&r, "Set-Cookie", line, sizeof line));
    assert_non_null(strstr(line, "Max-Age=0"));
    assert_non_null(strstr(line, "; Secure"));
    hres_free(&r);
    char ans[8192], v[64];
    assert_int_equal(head_only(&HTTPS,
                               "GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n", ans,
                               sizeof ans),
                     413);
    assert_true(raw_header(ans, "Strict-Transport-Security", v, sizeof v));
}

/* --- addresses -------------------------------------------------------------------- */

/* metrics_allow = 127.0.0.2: 127.0.0.1 is refused, even naming 127.0.0.2 in
 * X-Forwarded-For through a trusted proxy (the peer decides). */
static void metrics_only_for_allowed_peers(void **state)
{
    (void)state;
    struct hres r;
    char code[64];
    assert_int_equal(hreq(&HTTPS, NULL, "GET", "/metrics", NULL, NULL, &r), 403);
    assert_string_equal(hres_code(&r, code, sizeof code), "forbidden");
    hres_free(&r);
    const char *const xff[] = {"X-Forwarded-For: 127.0.0.2", NULL};
    assert_int_equal(hreq(&HTTPS, NULL, "GET", "/metrics", xff, NULL, &r), 403);
    hres_free(&r);
    /* The earlier tests' connections release their reservations as they
     * complete, which may be a moment after their answers came back. */
    bool drained = false;
    for (int i = 0; i < 50 && !drained; i++) {
        assert_int_equal(hreq(&HTTPS, "127.0.0.2", "GET", "/metrics", NULL, NULL, &r), 200);
        drained = strstr(r.body, "zhanye_http_buffered_bytes 0") != NULL;
        hres_free(&r);
        if (!drained)
            usleep(100 * 1000);
    }
    assert_true(drained);
    assert_int_equal(hreq(&HTTPS, "127.0.0.3", "GET", "/metrics", NULL, NULL, &r), 403);
    hres_free(&r);
    /* Other routes answer everyone. */
    assert_int_equal(hreq(&HTTPS, "127.0.0.3", "GET", "/healthz", NULL, NULL, &r), 200);
    hres_free(&r);
}

/* The addr of the newest admin.session_created audit records, newest first. */
static int session_addrs(char addrs[][64], int max)
{
    struct console c;
    long st = 429;
    for (int i = 0; i < 50 && st == 429; i++) {
        st = console_login(&c, &HTTPS, "prov01", PW);
        if (st == 429)
            usleep(200 * 1000);
    }
    if (st != 200)
        fail_msg("console login: %ld", st);
    json_t *a = NULL;
    assert_int_equal(console_get(&c, "/api/v1/admin/audit/records?limit=500", &a), 200);
    int n = 0;
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(a, "records"), i, rec)
    {
        const char *ev = json_string_value(json_object_get(rec, "event"));
        const char *addr =
            json_string_value(json_object_get(json_object_get(rec, "detail"), "addr"));
        if (n < max && ev && addr && strcmp(ev, "admin.session_created") == 0)
            snprintf(addrs[n++], 64, "%s", addr);
    }
    json_decref(a);
    return n;
}

/* A console login from src with X-Forwarded-For xff (NULL: none). */
static void login_via(const char *src, const char *xff)
{
    char hdr[256];
    snprintf(hdr, sizeof hdr, "X-Forwarded-For: %s", xff ? xff : "");
    const char *const with[] = {"Content-Type: application/json", hdr, NULL};
    const char *const without[] = {"Content-Type: application/json", NULL};
    long st = 429;
    /* ADMIN_LOGIN admits 5 a second after a burst of 10: wait for a token. */
    for (int i = 0; i < 50 && st == 429; i++) {
        struct hres r;
        st = hreq(&HTTPS, src, "POST", "/api/v1/admin/login", xff ? with : without,
                  "{\"teller\":\"prov01\",\"password\":\"" PW "\"}", &r);
        hres_free(&r);
        if (st == 429)
            usleep(200 * 1000);
    }
    if (st != 200)
        fail_msg("login from %s (%s): %ld", src ? src : "default", xff ? xff : "-", st);
}

/* trusted_proxies = 127.0.0.1: its X-Forwarded-For names the client (the
 * rightmost entry it did not add itself); anyone else's is ignored, and a
 * malformed one leaves the peer. The audit record of the session shows it. */
static void forwarded_for_only_from_trusted_proxies(void **state)
{
    (void)state;
    login_via("127.0.0.1", "6.6.6.6, 203.0.113.7");
    login_via("127.0.0.2", "198.51.100.1");
    login_via("127.0.0.1", "unknown, 203.0.113.8");
    login_via("127.0.0.1", "2001:db8::5, 127.0.0.1");
    login_via("127.0.0.3", NULL);
    char addrs[8][64];
    /* The newest is the login session_addrs itself opens, from 127.0.0.1. */
    assert_true(session_addrs(addrs, 8) >= 6);
    assert_string_equal(addrs[0], "127.0.0.1");
    assert_string_equal(addrs[1], "127.0.0.3");
    assert_string_equal(addrs[2], "2001:db8::5");
    assert_string_equal(addrs[3], "127.0.0.1");
    assert_string_equal(addrs[4], "127.0.0.2");
    assert_string_equal(addrs[5], "203.0.113.7");
}

/* --- console login flood ------------------------------------------------------------ */

#define FLOOD_THREADS 24
#define FLOOD_EACH 4

struct flood {
    pthread_barrier_t *start;
    int thread;
    int n401, n429, other;
    bool wait_header; /* every answer had X-Queue-Wait-Ms */
};

static atomic_bool flood_over;

static void *flood_login(void *arg)
{
    struct flood *f = arg;
    const char *const json[] = {"Content-Type: application/json", NULL};
    char body[128], code[64], v[32];
    f->wait_header = true;
    pthread_barrier_wait(f->start);
    for (int i = 0; i < FLOOD_EACH; i++) {
        /* Unknown tellers: a full (dummy) Argon2id check each, no lockout. */
        snprintf(body, sizeof body, "{\"teller\":\"nobody%02d\",\"password\":\"wrong-%d\"}",
                 f->thread, i);
        struct hres r;
        long st = hreq(&D, NULL, "POST", "/api/v1/admin/login", json, body, &r);
        if (st == 401 && strcmp(hres_code(&r, code, sizeof code), "bad_password") == 0)
            f->n401++;
        else if (st == 429 && strcmp(hres_code(&r, code, sizeof code), "busy") == 0 &&
                 hres_header(&r, "Retry-After", v, sizeof v))
            f->n429++;
        else
            f->other++;
        if (!hres_header(&r, "X-Queue-Wait-Ms", v, sizeof v))
            f->wait_header = false;
        hres_free(&r);
    }
    return NULL;
}

struct watch {
    long long max_running;
    int samples, ready_ok, ready_bad;
};

/* Samples the rule's running count and /readyz until the flood is over. */
static void *watch_flood(void *arg)
{
    struct watch *w = arg;
    while (!atomic_load(&flood_over)) {
        long long running = metric(&D, "zhanye_flow_in_flight{tx=\"ADMIN_LOGIN\"}");
        if (running > w->max_running)
            w->max_running = running;
        w->samples++;
        long st;
        json_decref(http_get_json(&D, "/readyz", &st));
        if (st == 200)
            w->ready_ok++;
        else
            w->ready_bad++;
        usleep(5 * 1000);
    }
    return NULL;
}

static void console_login_flood_is_bounded(void **state)
{
    (void)state;
    long long offered0 = metric(&D, "zhanye_flow_offered_total{tx=\"ADMIN_LOGIN\"}");
    if (offered0 < 0)
        offered0 = 0;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, FLOOD_THREADS);
    pthread_t th[FLOOD_THREADS], wt;
    struct flood f[FLOOD_THREADS];
    struct watch w = {.max_running = -1};
    atomic_store(&flood_over, false);
    pthread_create(&wt, NULL, watch_flood, &w);
    for (int i = 0; i < FLOOD_THREADS; i++) {
        f[i] = (struct flood){.start = &start, .thread = i};
        pthread_create(&th[i], NULL, flood_login, &f[i]);
    }
    int n401 = 0, n429 = 0, other = 0;
    bool wait_header = true;
    for (int i = 0; i < FLOOD_THREADS; i++) {
        pthread_join(th[i], NULL);
        n401 += f[i].n401;
        n429 += f[i].n429;
        other += f[i].other;
        wait_header = wait_header && f[i].wait_header;
    }
    atomic_store(&flood_over, true);
    pthread_join(wt, NULL);
    pthread_barrier_destroy(&start);

    assert_int_equal(other, 0);
    assert_int_equal(n401 + n429, FLOOD_THREADS * FLOOD_EACH);
    assert_true(n401 >= 1);
    assert_true(n429 >= 1); /* 24 at once against 2 running + 16 waiting */
    assert_true(wait_header);
    /* Never more than max_concurrent (2) checks running; /readyz always 200. */
    assert_true(w.samples > 0);
    assert_true(w.max_running >= 0 && w.max_running <= 2);
    assert_int_equal(w.ready_bad, 0);
    /* The server's books: every login offered to the rule, each admitted or
     * refused, and nothing left running. */
    long long offered = metric(&D, "zhanye_flow_offered_total{tx=\"ADMIN_LOGIN\"}");
    long long admitted = metric(&D, "zhanye_flow_admitted_total{tx=\"ADMIN_LOGIN\"}");
    assert_int_equal(offered - offered0, FLOOD_THREADS * FLOOD_EACH);
    assert_true(admitted >= n401);
    assert_int_equal(await_metric(&D, "zhanye_flow_in_flight{tx=\"ADMIN_LOGIN\"}", 0), 0);
    /* A TX named like the fixed key is not counted against it. */
    struct hres r;
    hreq(&D, NULL, "POST", "/api/v1/tx/ADMIN_LOGIN", NULL, "{}", &r);
    hres_free(&r);
    assert_int_equal(metric(&D, "zhanye_flow_offered_total{tx=\"ADMIN_LOGIN\"}"), offered);
    /* The flood over, a login works again (the bucket refills at 5/s). */
    struct console c;
    long st = 429;
    for (int i = 0; i < 50 && st == 429; i++) {
        st = console_login(&c, &D, "prov01", PW);
        if (st == 429)
            usleep(200 * 1000);
    }
    assert_int_equal(st, 200);
}

int main(void)
{
    /* 2,000 connections, on both ends (the daemon inherits the limit). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
        rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(route_policy_before_the_body),
        cmocka_unit_test(chunked_bodies_are_counted),
        cmocka_unit_test(slow_connections_hold_nothing),
        cmocka_unit_test(buffer_cap_refuses_at_once),
        cmocka_unit_test(headers_over_http),
        cmocka_unit_test(console_login_flood_is_bounded),
    };
    const struct CMUnitTest https[] = {
        cmocka_unit_test(headers_over_https),
        cmocka_unit_test(metrics_only_for_allowed_peers),
        cmocka_unit_test(forwarded_for_only_from_trusted_proxies),
    };
    int failed = cmocka_run_group_tests_name("front", plain, setup, teardown);
    failed += cmocka_run_group_tests_name("front_https", https, setup_https, teardown_https);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
