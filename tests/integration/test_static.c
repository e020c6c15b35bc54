/* The web apps' files served by a real daemon (`zhanye serve --web DIR`,
 * http/static.h, docs/api.md "Web apps"), on a web root the test writes:
 *
 *  - 200 with the file's bytes, its ETag (the first 16 hex of the SM3 of
 *    the bytes, computed here with OpenSSL), the apps' CSP on pages; `/`
 *    is the tablet's index.html, `/console/` the console's;
 *  - If-None-Match with the ETag: 304 without a body;
 *  - Cache-Control immutable only for `?v=` equal to the current hash,
 *    no-cache otherwise (a stale `?v=`, no `?v=`); the API keeps no-store;
 *  - the .gz sibling only to a client that accepts gzip;
 *  - HEAD: the headers without a body; POST: 405 with Allow; an unknown
 *    path and every traversal form (.., %2e%2e, %00, backslash, over-long): 404;
 *  - every app's manifest.json carries X-Manifest-Signature: the server's
 *    SM2 signature (its first key, as /api/v1/pubkey lists it) of the SM3
 *    of the bytes served, which the client library verifies, and which a
 *    byte changed does not match; SIGHUP signs the new manifest;
 *  - SIGHUP reads the root again: a changed file has a new ETag;
 *  - a missing --web root: serve and --check-config exit 2 naming it. */
#include "channel/sm.h"
#include "foundation/codec.h"
#include "testd.h"
#include "zyc_pkg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>

#include <cmocka.h>

static struct testd d;
static char root[PATH_MAX + 16];

/* --- files -------------------------------------------------------------------- */

static void write_file(const char *rel, const void *p, size_t n)
{
    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    mkdir(root, 0755);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void sm3_16(const void *p, size_t n, char out[17])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    assert_int_equal(EVP_Digest(p, n, md, &mdlen, EVP_sm3(), NULL), 1);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char INDEX[] = "<!doctype html><title>展业</title><script src=\"/assets/app.js\">"
                            "</script>";
static const char CONSOLE[] = "<!doctype html><title>console</title>";
static const char GZ[] = "\x1f\x8b these stand for the gzip bytes";
static char app_js[4096];

/* --- raw HTTP ----------------------------------------------------------------- */

struct answer {
    int status;
    char head[4096];
    char *body;
    size_t len;
};

/* One request over a fresh connection, the target sent as it is. */
static void req(const char *method, const char *target, const char *headers, struct answer *a)
{
    memset(a, 0, sizeof *a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d.port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    char out[8192];
    int n = snprintf(out, sizeof out, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s\r\n",
                     method, target, headers ? headers : "");
    assert_true(n > 0 && (size_t)n < sizeof out);
    assert_int_equal(send(fd, out, (size_t)n, MSG_NOSIGNAL), n);
    size_t cap = 1 << 16, len = 0;
    char *in = malloc(cap);
    assert_non_null(in);
    for (;;) {
        if (len + 4096 > cap) {
            char *bigger = realloc(in, cap *= 2);
            assert_non_null(bigger);
            in = bigger;
        }
        ssize_t r = recv(fd, in + len, cap - len - 1, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    in[len] = '\0';
    char *end = strstr(in, "\r\n\r\n");
    assert_non_null(end);
    size_t hl = (size_t)(end - in);
    assert_true(hl < sizeof a->head);
    memcpy(a->head, in, hl);
    a->head[hl] = '\0';
    assert_int_equal(sscanf(in, "HTTP/1.1 %d", &a->status), 1);
    a->len = len - hl - 4;
    a->body = malloc(a->len + 1);
    memcpy(a->body, end + 4, a->len);
    a->body[a->len] = '\0';
    free(in);
}

/* The value of header name in a (case-insensitive name), or "" */
static const char *hdr(const struct answer *a, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = a->head; (p = strstr(p, "\r\n")); p += 2) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ')
                v++;
            size_t n = strcspn(v, "\r");
            snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
            break;
        }
    }
    return out;
}

static void done(struct answer *a)
{
    free(a->body);
    a->body = NULL;
}

/* --- setup ------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (testd_init(&d, NULL) != 0)
        return -1;
    snprintf(root, sizeof root, "%s/webroot", d.dir);
    for (size_t i = 0; i < sizeof app_js - 1; i++)
        app_js[i] = (char)('a' + i % 26);
    write_file("tablet/index.html", INDEX, strlen(INDEX));
    write_file("tablet/assets/app.js", app_js, strlen(app_js));
    write_file("tablet/assets/app.js.gz", GZ, sizeof GZ - 1);
    write_file("tablet/manifest.json", "{}", 2);
    write_file("console/index.html", CONSOLE, strlen(CONSOLE));
    if (snprintf(d.web, sizeof d.web, "%s", root) >= (int)sizeof d.web)
        return -1;
    return testd_start(&d);
}

static int teardown(void **state)
{
    (void)state;
    testd_cleanup(&d);
    return 0;
}

/* --- tests -------------------------------------------------------------------- */

static void serves_bytes_with_etag(void **state)
{
    (void)state;
    char h[512], want[32], hash[17];
    struct answer a;
    req("GET", "/", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.len, strlen(INDEX));
    assert_memory_equal(a.body, INDEX, a.len);
    sm3_16(INDEX, strlen(INDEX), hash);
    snprintf(want, sizeof want, "\"%s\"", hash);
    assert_string_equal(hdr(&a, "ETag", h, sizeof h), want);
    assert_string_equal(hdr(&a, "Content-Type", h, sizeof h), "text/html; charset=utf-8");
    assert_non_null(strstr(hdr(&a, "Content-Security-Policy", h, sizeof h), "script-src 'self'"));
    assert_string_equal(hdr(&a, "X-Content-Type-Options", h, sizeof h), "nosniff");
    done(&a);

    req("GET", "/assets/app.js", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.len, strlen(app_js));
    assert_memory_equal(a.body, app_js, a.len);
    assert_string_equal(hdr(&a, "Content-Type", h, sizeof h), "text/javascript; charset=utf-8");
    assert_string_equal(hdr(&a, "Content-Security-Policy", h, sizeof h), "frame-ancestors 'none'");
    done(&a);

    req("GET", "/console/", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_memory_equal(a.body, CONSOLE, strlen(CONSOLE));
    done(&a);
}

static void if_none_match_is_304(void **state)
{
    (void)state;
    char h[256], hash[17], inm[80];
    sm3_16(app_js, strlen(app_js), hash);
    snprintf(inm, sizeof inm, "If-None-Match: \"%s\"\r\n", hash);
    struct answer a;
    req("GET", "/assets/app.js", inm, &a);
    assert_int_equal(a.status, 304);
    assert_int_equal(a.len, 0);
    assert_non_null(strstr(hdr(&a, "ETag", h, sizeof h), hash));
    done(&a);
    req("GET", "/assets/app.js", "If-None-Match: \"0000000000000000\"\r\n", &a);
    assert_int_equal(a.status, 200);
    done(&a);
}

static void immutable_only_with_the_current_hash(void **state)
{
    (void)state;
    char h[256], hash[17], target[128];
    sm3_16(app_js, strlen(app_js), hash);
    struct answer a;
    snprintf(target, sizeof target, "/assets/app.js?v=%s", hash);
    req("GET", target, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(hdr(&a, "Cache-Control", h, sizeof h),
                        "public, max-age=31536000, immutable");
    done(&a);
    req("GET", "/assets/app.js?v=0123456789abcdef", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(hdr(&a, "Cache-Control", h, sizeof h), "no-cache");
    done(&a);
    req("GET", "/assets/app.js", NULL, &a);
    assert_string_equal(hdr(&a, "Cache-Control", h, sizeof h), "no-cache");
    done(&a);
    req("GET", "/manifest.json", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(hdr(&a, "Cache-Control", h, sizeof h), "no-cache");
    done(&a);
    req("GET", "/healthz", NULL, &a);
    assert_string_equal(hdr(&a, "Cache-Control", h, sizeof h), "no-store");
    done(&a);
}

static void gzip_only_when_accepted(void **state)
{
    (void)state;
    char h[256];
    struct answer a;
    req("GET", "/assets/app.js", "Accept-Encoding: gzip, deflate\r\n", &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(hdr(&a, "Content-Encoding", h, sizeof h), "gzip");
    assert_string_equal(hdr(&a, "Vary", h, sizeof h), "Accept-Encoding");
    assert_int_equal(a.len, sizeof GZ - 1);
    assert_memory_equal(a.body, GZ, a.len);
    done(&a);
    req("GET", "/assets/app.js", "Accept-Encoding: deflate, gzip;q=0\r\n", &a);
    assert_string_equal(hdr(&a, "Content-Encoding", h, sizeof h), "");
    assert_int_equal(a.len, strlen(app_js));
    done(&a);
    req("GET", "/assets/app.js", NULL, &a);
    assert_string_equal(hdr(&a, "Content-Encoding", h, sizeof h), "");
    assert_int_equal(a.len, strlen(app_js));
    done(&a);
    /* The sibling is no file of its own. */
    req("GET", "/assets/app.js.gz", NULL, &a);
    assert_int_equal(a.status, 404);
    done(&a);
}

static void head_post_and_unknown(void **state)
{
    (void)state;
    char h[256], len[32];
    struct answer a;
    req("HEAD", "/assets/app.js", NULL, &a);
    assert_int_equal(a.status, 200);
    assert_int_equal(a.len, 0);
    snprintf(len, sizeof len, "%zu", strlen(app_js));
    assert_string_equal(hdr(&a, "Content-Length", h, sizeof h), len);
    done(&a);
    req("POST", "/assets/app.js", "Content-Length: 0\r\n", &a);
    assert_int_equal(a.status, 405);
    assert_string_equal(hdr(&a, "Allow", h, sizeof h), "GET, HEAD");
    done(&a);
    req("GET", "/assets/nothing.js", NULL, &a);
    assert_int_equal(a.status, 404);
    assert_non_null(strstr(a.body, "not_found"));
    done(&a);
    req("POST", "/nothing", "Content-Length: 0\r\n", &a);
    assert_int_equal(a.status, 404);
    done(&a);
}

static void traversal_is_404(void **state)
{
    (void)state;
    static const char *const FORMS[] = {
        "/assets/../index.html",
        "/assets/%2e%2e/index.html",
        "/assets/%2E%2E/manifest.json",
        "/index.html%00.js",
        "/assets\\app.js",
        "/assets%5capp.js",
        "/../webroot/tablet/index.html",
        "/%2e%2e/%2e%2e/etc/passwd",
        "//etc/passwd",
        "/console/../index.html",
    };
    struct answer a;
    for (size_t i = 0; i < sizeof FORMS / sizeof FORMS[0]; i++) {
        req("GET", FORMS[i], NULL, &a);
        if (a.status != 404)
            fail_msg("%s: %d", FORMS[i], a.status);
        done(&a);
    }
    char *longp = malloc(3000);
    assert_non_null(longp);
    memset(longp, 'a', 2999);
    longp[0] = '/';
    longp[2999] = '\0';
    req("GET", longp, NULL, &a);
    assert_true(a.status == 404 || a.status == 414 || a.status == 431);
    done(&a);
    free(longp);
}

/* The manifest at path as served, checked against its signature header
 * under the server's published key; want is its expected body. */
static void manifest_verifies(const char *path, const char *want)
{
    long st = 0;
    json_t *keys = http_get_json(&d, "/api/v1/pubkey", &st);
    const char *pub =
        json_string_value(json_object_get(json_array_get(json_object_get(keys, "keys"), 0), "pub"));
    assert_non_null(pub);
    struct answer a = {0};
    char sig[256], hex[65];
    uint8_t h[SM3_LEN];
    req("GET", path, NULL, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, want);
    hdr(&a, "X-Manifest-Signature", sig, sizeof sig);
    assert_true(strlen(sig) > 60);
    sm_part part = {a.body, a.len};
    assert_int_equal(sm3_digest(&part, 1, h), SM_OK);
    hex_encode(h, SM3_LEN, hex, sizeof hex);
    assert_int_equal(zyc_pkg_verify_mem(pub, (const uint8_t *)a.body, a.len, hex, sig), ZYC_PKG_OK);
    /* one byte changed: its own SM3 does not carry this signature */
    a.body[0] ^= 1;
    sm_part changed = {a.body, a.len};
    assert_int_equal(sm3_digest(&changed, 1, h), SM_OK);
    hex_encode(h, SM3_LEN, hex, sizeof hex);
    assert_int_equal(zyc_pkg_verify_mem(pub, (const uint8_t *)a.body, a.len, hex, sig),
                     ZYC_PKG_BAD_SIGNATURE);
    done(&a);
    /* the other files carry none */
    req("GET", "/index.html", NULL, &a);
    assert_string_equal(hdr(&a, "X-Manifest-Signature", sig, sizeof sig), "");
    done(&a);
    json_decref(keys);
}

static void manifest_is_signed(void **state)
{
    (void)state;
    manifest_verifies("/manifest.json", "{}");
}

static void sighup_reloads_files(void **state)
{
    (void)state;
    char h[256], hash[17], want[32];
    static const char NEW[] = "console.log('version 2');";
    write_file("tablet/assets/app.js", NEW, strlen(NEW));
    char gz[PATH_MAX * 2];
    snprintf(gz, sizeof gz, "%s/tablet/assets/app.js.gz", root);
    assert_int_equal(unlink(gz), 0);
    sm3_16(NEW, strlen(NEW), hash);
    snprintf(want, sizeof want, "\"%s\"", hash);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    struct answer a = {0};
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        req("GET", "/assets/app.js", "Accept-Encoding: gzip\r\n", &a);
        seen = strcmp(hdr(&a, "ETag", h, sizeof h), want) == 0;
        if (seen) {
            assert_int_equal(a.len, strlen(NEW));
            assert_memory_equal(a.body, NEW, a.len);
        }
        done(&a);
        if (!seen)
            nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    }
    assert_true(seen);
    /* the new manifest is signed anew */
    static const char M2[] = "{\"version\":\"2\"}";
    write_file("tablet/manifest.json", M2, strlen(M2));
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        req("GET", "/manifest.json", NULL, &a);
        seen = strcmp(a.body, M2) == 0;
        done(&a);
        if (!seen)
            nanosleep(&(struct timespec){.tv_nsec = 50000000}, NULL);
    }
    assert_true(seen);
    manifest_verifies("/manifest.json", M2);
}

static void missing_root_exits_2(void **state)
{
    (void)state;
    struct testd t;
    assert_int_equal(testd_init(&t, NULL), 0);
    char *out = NULL, *err = NULL;
    char missing[PATH_MAX + 16];
    snprintf(missing, sizeof missing, "%s/no-such-web", t.dir);
    int rc = run_zhanye(&out, &err, "serve", "--data", t.dir, "--listen", "127.0.0.1:0", "--web",
                        missing, NULL);
    assert_int_equal(rc, 2);
    assert_non_null(err);
    assert_non_null(strstr(err, missing));
    free(out);
    free(err);
    out = err = NULL;
    rc = run_zhanye(&out, &err, "serve", "--data", t.dir, "--web", missing, "--check-config", NULL);
    assert_int_equal(rc, 2);
    assert_non_null(err);
    assert_non_null(strstr(err, missing));
    free(out);
    free(err);
    testd_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serves_bytes_with_etag),
        cmocka_unit_test(if_none_match_is_304),
        cmocka_unit_test(immutable_only_with_the_current_hash),
        cmocka_unit_test(gzip_only_when_accepted),
        cmocka_unit_test(head_post_and_unknown),
        cmocka_unit_test(traversal_is_404),
        cmocka_unit_test(manifest_is_signed),
        cmocka_unit_test(sighup_reloads_files),
        cmocka_unit_test(missing_root_exits_2),
    };
    return cmocka_run_group_tests_name("static", tests, setup, teardown) ? 1 : 0;
}
