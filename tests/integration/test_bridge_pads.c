/* zhanye-bridge as a process with the PIN pad, signature pad and
 * fingerprint reader (dev_pads_http.h) against three zhanye-devsims over
 * real pseudo-terminals, everything through the bridge's HTTP API: the
 * pairing token is required; the PIN key loads only with its check value;
 * a PIN block decrypts (the test's own SM4) to the ISO 9564 format-0 block
 * for the PAN and is never in the bridge's log; cancel, a short PIN and a
 * customer who keys nothing give their own errors; a signature answers a
 * PNG that decodes with the pad's size and the stroke JSON, and the SSE
 * stream carries signature.clear and the very points as signature.stroke
 * events; a fingerprint captured matches the same finger and not another,
 * no finger and a poor image give their errors; a pad whose port is
 * missing answers absent, one not configured has no routes. */
#include "bridgehttp.h"
#include "proc.h"

#include <cairo.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define PAN "6222021234567890128"

struct sim {
    const char *mode;
    pid_t pid;
    int port;
    char link[128];
    char log[128];
};

static char workdir[64];
static char auth_ok[160];
static char bridge_url[64];
static pid_t bridge_pid = -1;
static char bridge_log[128];
static struct sim sims[3] = {{.mode = "pin"}, {.mode = "sig"}, {.mode = "finger"}};
#define PIN (&sims[0])
#define SIG (&sims[1])
#define FINGER (&sims[2])

/* The devsim's default (demo) master key, docs/peripherals.md, and this
 * test's PIN key. */
static const uint8_t master_key[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                       0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10};
static const uint8_t pin_key[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                    0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x0F};

/* ---- HTTP ---- */

static struct bh_resp call_at(const char *base, const char *method, const char *path,
                              const char *body)
{
    char url[160];
    snprintf(url, sizeof url, "%s%s", base, path);
    return bh_http(method, url, auth_ok, NULL, body);
}

static struct bh_resp post(const char *path, const char *body)
{
    return call_at(bridge_url, "POST", path, body);
}

static void control(struct sim *s, const char *path, const char *body)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
    struct bh_resp r = bh_http("POST", url, NULL, NULL, body);
    assert_int_equal(r.status, 200);
    json_decref(r.body);
}

/* ---- processes ---- */

static int sim_start(struct sim *s)
{
    for (int attempt = 0; attempt < 5; attempt++) {
        s->port = proc_pick_port();
        snprintf(s->link, sizeof s->link, "%s/%s.tty", workdir, s->mode);
        snprintf(s->log, sizeof s->log, "%s/%s.log", workdir, s->mode);
        char ctl[64];
        snprintf(ctl, sizeof ctl, "127.0.0.1:%d", s->port);
        char *argv[] = {getenv("ZHANYE_DEVSIM_BIN"),
                        (char *)s->mode,
                        "--pty-link",
                        s->link,
                        "--control",
                        ctl,
                        NULL};
        s->pid = proc_spawn(argv, s->log, true);
        if (s->pid < 0)
            return -1;
        for (int i = 0; i < 200; i++) {
            struct stat sb;
            if (proc_log_has(s->log, 0, "control") && stat(s->link, &sb) == 0)
                return 0;
            int st;
            if (waitpid(s->pid, &st, WNOHANG) == s->pid)
                break; /* the port was taken: try another */
            proc_sleep_ms(50);
        }
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    return -1;
}

/* A bridge with the pads given (NULL: option left out); *url its base. */
static pid_t start_bridge(const char *pin, const char *sig, const char *finger, const char *log,
                          char *url, size_t cap)
{
    char idcard[128], tokf[128];
    snprintf(idcard, sizeof idcard, "%s/no-idcard", workdir);
    snprintf(tokf, sizeof tokf, "%s/token", workdir);
    char *argv[20] = {getenv("ZHANYE_BRIDGE_BIN"),
                      "--listen",
                      "127.0.0.1:0",
                      "--idcard-port",
                      idcard,
                      "--token-file",
                      tokf,
                      "--poll-ms",
                      "0"};
    int n = 9;
    const char *opt[3] = {"--pin-port", "--sig-port", "--finger-port"};
    const char *val[3] = {pin, sig, finger};
    for (int i = 0; i < 3; i++)
        if (val[i]) {
            argv[n++] = (char *)opt[i];
            argv[n++] = (char *)val[i];
        }
    argv[n] = NULL;
    pid_t pid = proc_spawn(argv, log, true);
    char line[1024];
    if (pid < 0 || proc_wait_line("it_bridge_pads", log, "listening on", line, sizeof line) != 0)
        return -1;
    const char *h = strstr(line, "http://");
    snprintf(url, cap, "%.*s", (int)strcspn(h, " \n"), h);
    return pid;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(workdir, sizeof workdir, "/tmp/zybpadsXXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    for (int i = 0; i < 3; i++)
        if (sim_start(&sims[i]) != 0) {
            fprintf(stderr, "cannot start devsim %s\n", sims[i].mode);
            return -1;
        }
    snprintf(bridge_log, sizeof bridge_log, "%s/bridge.log", workdir);
    bridge_pid =
        start_bridge(PIN->link, SIG->link, FINGER->link, bridge_log, bridge_url, sizeof bridge_url);
    if (bridge_pid < 0)
        return -1;
    char tokf[128], token[128];
    snprintf(tokf, sizeof tokf, "%s/token", workdir);
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
    for (int i = 0; i < 3; i++)
        if (proc_stop(sims[i].pid) != 0) {
            proc_print_tail(sims[i].mode, sims[i].log, 0);
            rc = -1;
        }
    proc_rm_rf(workdir);
    curl_global_cleanup();
    return rc;
}

/* ---- SM4 ---- */

static void sm4(const uint8_t key[16], const uint8_t in[16], uint8_t out[16], int enc)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0;
    assert_int_equal(EVP_CipherInit_ex(c, EVP_sm4_ecb(), NULL, key, NULL, enc), 1);
    EVP_CIPHER_CTX_set_padding(c, 0);
    assert_int_equal(EVP_CipherUpdate(c, out, &len, in, 16), 1);
    assert_int_equal(len, 16);
    EVP_CIPHER_CTX_free(c);
}

static void unhex(const char *h, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(h), 2 * n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(sscanf(h + 2 * i, "%2hhx", &out[i]), 1);
}

static void tohex(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02X", in[i]);
}

/* ---- tests ---- */

static void token_required_and_health(void **state)
{
    (void)state;
    char url[160];
    snprintf(url, sizeof url, "%s/v1/pin", bridge_url);
    bh_expect_error(bh_http("POST", url, NULL, NULL, "{\"pan\":\"" PAN "\"}"), 401, "unauthorized");
    snprintf(url, sizeof url, "%s/v1/finger/capture", bridge_url);
    bh_expect_error(bh_http("POST", url, "Bearer wrong-token-wrong-token", NULL, "{}"), 401,
                    "unauthorized");
    json_t *h = bh_expect_ok(call_at(bridge_url, "GET", "/v1/health", NULL));
    const char *want[] = {"pin", "signature", "finger"};
    for (size_t k = 0; k < 3; k++) {
        bool seen = false;
        json_t *devs = json_object_get(h, "devices");
        for (size_t i = 0; i < json_array_size(devs); i++) {
            json_t *d = json_array_get(devs, i);
            if (strcmp(json_string_value(json_object_get(d, "name")), want[k]) == 0) {
                assert_string_equal(json_string_value(json_object_get(d, "state")), "ready");
                seen = true;
            }
        }
        assert_true(seen);
    }
    json_decref(h);
}

static void pin_block_over_http(void **state)
{
    (void)state;
    control(PIN, "/reset", NULL);
    uint8_t enc[16], kcv[16], zero[16] = {0};
    sm4(master_key, pin_key, enc, 1);
    sm4(pin_key, zero, kcv, 1);
    char ehex[33], khex[9], body[128];
    tohex(enc, 16, ehex);
    /* no key yet */
    control(PIN, "/script", "{\"pin\":\"123456\"}");
    bh_expect_error(post("/v1/pin", "{\"pan\":\"" PAN "\",\"timeout_s\":5}"), 503, "no_key");
    /* a wrong check value: refused */
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"kcv\":\"DEADBEEF\"}", ehex);
    bh_expect_error(post("/v1/pin/key", body), 422, "key_check");
    tohex(kcv, 4, khex);
    snprintf(body, sizeof body, "{\"key\":\"%s\",\"kcv\":\"%s\"}", ehex, khex);
    json_t *r = bh_expect_ok(post("/v1/pin/key", body));
    assert_true(json_is_true(json_object_get(r, "loaded")));
    json_decref(r);

    r = bh_expect_ok(post("/v1/pin", "{\"pan\":\"" PAN "\",\"min\":4,\"max\":12,\"timeout_s\":5}"));
    assert_string_equal(json_string_value(json_object_get(r, "format")), "iso0");
    const char *blk = json_string_value(json_object_get(r, "pin_block"));
    assert_non_null(blk);
    uint8_t ct[16], pt[16], want[16], pinf[8], panf[8];
    unhex(blk, ct, 16);
    sm4(pin_key, ct, pt, 0);
    unhex("06123456FFFFFFFF", pinf, 8);
    unhex("0000123456789012", panf, 8);
    for (int i = 0; i < 8; i++)
        want[i] = pinf[i] ^ panf[i];
    memset(want + 8, 0xFF, 8);
    assert_memory_equal(pt, want, 16);
    /* the PIN block is never logged */
    assert_false(proc_log_has(bridge_log, 0, blk));
    json_decref(r);

    /* the customer presses cancel */
    control(PIN, "/script", "{\"pin\":\"123456\",\"cancel\":true}");
    bh_expect_error(post("/v1/pin", "{\"pan\":\"" PAN "\",\"timeout_s\":5}"), 409, "cancelled");
    /* too short */
    control(PIN, "/script", "{\"pin\":\"123\"}");
    bh_expect_error(post("/v1/pin", "{\"pan\":\"" PAN "\",\"timeout_s\":5}"), 422, "pin_too_short");
    /* the customer keys nothing within timeout_s */
    control(PIN, "/reset", NULL);
    bh_expect_error(post("/v1/pin", "{\"pan\":\"" PAN "\",\"timeout_s\":1}"), 408, "no_input");
    json_decref(bh_expect_ok(post("/v1/pin/key", body)));
    /* bad requests */
    bh_expect_error(post("/v1/pin", "{\"timeout_s\":5}"), 400, "bad_request");
    bh_expect_error(post("/v1/pin", "{\"pan\":\"12\",\"timeout_s\":5}"), 400, "bad_request");
    bh_expect_error(post("/v1/pin", "{\"pan\":\"" PAN "\",\"timeout_s\":0}"), 400, "bad_request");
    /* and the pad works again */
    control(PIN, "/script", "{\"pin\":\"123456\"}");
    r = bh_expect_ok(post("/v1/pin", "{\"pan\":\"" PAN "\",\"timeout_s\":5}"));
    json_decref(r);
}

/* ---- signature + SSE ---- */

/* The points of the signature.stroke events after the last
 * signature.clear, appended to pts (as [stroke,x,y,p,t]); their count. */
static size_t sse_points(struct bh_sse *s, json_t *pts)
{
    char *text = bh_sse_text(s);
    assert_non_null(text);
    const char *from = text, *c;
    while ((c = strstr(from, "event: signature.clear")))
        from = c + 1;
    for (const char *e = strstr(from, "event: signature.stroke"); e;
         e = strstr(e + 1, "event: signature.stroke")) {
        const char *d = strstr(e, "data: ");
        assert_non_null(d);
        d += 6;
        json_t *j = json_loadb(d, strcspn(d, "\n"), 0, NULL);
        assert_non_null(j);
        json_array_extend(pts, json_object_get(j, "points"));
        json_decref(j);
    }
    free(text);
    return json_array_size(pts);
}

struct rd {
    const unsigned char *p;
    size_t n, off;
};

static cairo_status_t png_read(void *closure, unsigned char *data, unsigned int len)
{
    struct rd *r = closure;
    if (r->off + len > r->n)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->p + r->off, len);
    r->off += len;
    return CAIRO_STATUS_SUCCESS;
}

static size_t b64_decode_simple(const char *in, unsigned char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        const char *p = strchr(tbl, *in);
        assert_non_null(p);
        acc = acc << 6 | (uint32_t)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}

static void signature_over_http_and_sse(void **state)
{
    (void)state;
    struct bh_sse *s = bh_sse_open(bridge_url, auth_ok);
    assert_non_null(s);
    assert_true(bh_sse_has(s, "event: hello", 5000));

    control(SIG, "/reset", NULL);
    json_t *s1 = json_array(), *s2 = json_array();
    for (int i = 0; i < 50; i++)
        json_array_append_new(s1, json_pack("[iii]", 20 + 4 * i, 20 + 2 * i, 200 + 10 * i));
    for (int i = 0; i < 10; i++)
        json_array_append_new(s2, json_pack("[iii]", 100 + 5 * i, 150, 800));
    json_t *o = json_pack("{s:[oo],s:b}", "strokes", s1, s2, "clear_first", 1);
    char *sc = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    control(SIG, "/script", sc);
    free(sc);

    json_t *r =
        bh_expect_ok(post("/v1/signature", "{\"width\":320,\"height\":200,\"timeout_s\":5}"));
    /* the PNG decodes with the pad's size */
    const char *png64 = json_string_value(json_object_get(r, "png"));
    assert_non_null(png64);
    unsigned char *png = malloc(strlen(png64));
    size_t n = b64_decode_simple(png64, png);
    struct rd rd = {.p = png, .n = n};
    cairo_surface_t *img = cairo_image_surface_create_from_png_stream(png_read, &rd);
    assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(img), 320);
    assert_int_equal(cairo_image_surface_get_height(img), 200);
    cairo_surface_destroy(img);
    free(png);
    /* the module's stroke JSON */
    json_t *strokes = json_object_get(json_object_get(r, "strokes"), "strokes");
    assert_int_equal(json_array_size(strokes), 2);
    assert_int_equal(json_array_size(json_array_get(strokes, 0)), 50);
    assert_int_equal(json_array_size(json_array_get(strokes, 1)), 10);

    /* the SSE stream: a clear, then the 60 points in order, the same as
     * the answer's */
    assert_true(bh_sse_has(s, "event: signature.clear", 5000));
    json_t *pts = json_array();
    for (int w = 0; w < 100 && sse_points(s, pts) < 60; w++) {
        json_array_clear(pts);
        proc_sleep_ms(50);
    }
    assert_int_equal(json_array_size(pts), 60);
    for (size_t i = 0; i < 60; i++) {
        json_t *p = json_array_get(pts, i);
        size_t st = i < 50 ? 0 : 1, k = i < 50 ? i : i - 50;
        json_t *q = json_array_get(json_array_get(strokes, st), k); /* [x,y,p,t] */
        assert_int_equal(json_integer_value(json_array_get(p, 0)), (json_int_t)st);
        for (size_t f = 0; f < 4; f++)
            assert_int_equal(json_integer_value(json_array_get(p, f + 1)),
                             json_integer_value(json_array_get(q, f)));
    }
    json_decref(pts);
    json_decref(r);

    /* the customer cancels */
    control(SIG, "/script", "{\"cancel\":true}");
    bh_expect_error(post("/v1/signature", "{\"width\":320,\"height\":200,\"timeout_s\":5}"), 409,
                    "cancelled");
    bh_expect_error(post("/v1/signature", "{\"width\":0,\"height\":200}"), 400, "bad_request");

    bh_sse_close(s);
}

static void finger_capture_and_match(void **state)
{
    (void)state;
    control(FINGER, "/reset", NULL);
    control(FINGER, "/script", "{\"finger\":3}");
    json_t *r = bh_expect_ok(post("/v1/finger/capture", "{\"timeout_s\":5}"));
    const char *tpl = json_string_value(json_object_get(r, "template"));
    assert_non_null(tpl);
    assert_true(strlen(tpl) > 0);
    json_t *body = json_pack("{s:s,s:i}", "template", tpl, "timeout_s", 5);
    char *b = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    json_decref(r);
    /* the same finger */
    r = bh_expect_ok(post("/v1/finger/match", b));
    assert_true(json_integer_value(json_object_get(r, "score")) >= 600);
    assert_true(json_is_true(json_object_get(r, "match")));
    json_decref(r);
    /* another finger */
    control(FINGER, "/script", "{\"finger\":5}");
    r = bh_expect_ok(post("/v1/finger/match", b));
    assert_true(json_integer_value(json_object_get(r, "score")) < 600);
    assert_true(json_is_false(json_object_get(r, "match")));
    json_decref(r);
    free(b);
    /* no template, or not base64 */
    bh_expect_error(post("/v1/finger/match", "{\"timeout_s\":5}"), 400, "bad_request");
    bh_expect_error(post("/v1/finger/match", "{\"template\":\"!!\"}"), 400, "bad_request");
    /* nobody puts a finger on the sensor */
    control(FINGER, "/reset", NULL);
    bh_expect_error(post("/v1/finger/capture", "{\"timeout_s\":1}"), 408, "no_finger");
    /* poor quality */
    control(FINGER, "/script", "{\"finger\":2,\"quality\":\"poor\"}");
    bh_expect_error(post("/v1/finger/capture", "{\"timeout_s\":5}"), 422, "poor_quality");
}

static void missing_port_absent_unset_not_found(void **state)
{
    (void)state;
    char log[128], url[64], nope[128];
    snprintf(log, sizeof log, "%s/bridge2.log", workdir);
    snprintf(nope, sizeof nope, "%s/no-such-tty", workdir);
    pid_t pid = start_bridge(nope, NULL, NULL, log, url, sizeof url);
    assert_true(pid > 0);
    bh_expect_error(call_at(url, "POST", "/v1/pin", "{\"pan\":\"" PAN "\",\"timeout_s\":5}"), 503,
                    "absent");
    json_t *h = bh_expect_ok(call_at(url, "GET", "/v1/health", NULL));
    json_t *devs = json_object_get(h, "devices");
    bool pin = false;
    for (size_t i = 0; i < json_array_size(devs); i++) {
        json_t *d = json_array_get(devs, i);
        const char *name = json_string_value(json_object_get(d, "name"));
        assert_string_not_equal(name, "signature");
        assert_string_not_equal(name, "finger");
        if (strcmp(name, "pin") == 0) {
            assert_string_equal(json_string_value(json_object_get(d, "state")), "absent");
            pin = true;
        }
    }
    assert_true(pin);
    json_decref(h);
    /* not configured: no such route */
    bh_expect_error(call_at(url, "POST", "/v1/signature", "{\"width\":10,\"height\":10}"), 404,
                    "not_found");
    bh_expect_error(call_at(url, "POST", "/v1/finger/capture", "{}"), 404, "not_found");
    assert_int_equal(proc_stop(pid), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_required_and_health),
        cmocka_unit_test(pin_block_over_http),
        cmocka_unit_test(signature_over_http_and_sse),
        cmocka_unit_test(finger_capture_and_match),
        cmocka_unit_test(missing_port_absent_unset_not_found),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
