/* pads: the bridge's PIN pad, signature pad and fingerprint modules
 * (client/bridge/dev_*.h) against zhanye-devsim over real pseudo-terminals,
 * the simulators scripted through their control API (sims/dev/devsim.h).
 *
 * PIN: the key loads under the master key only with the right check value;
 * a PIN block for a PAN decrypts (here, with the test's own copy of the PIN
 * key through OpenSSL EVP) to the ISO 9564 format 0 block + 8 x 0xFF that
 * the core simulator expects, or to the format-4-style SM4 block; cancel,
 * no input, a short PIN, a stalled pad, a corrupt frame each give their own
 * error and the link works again afterwards. Signature: samples arrive in
 * order through the callback, a clear voids the earlier ones, the PNG
 * decodes with the pad's size and ink on it, the JSON holds the strokes.
 * Fingerprint: capture + match (same finger high, another low), no finger,
 * poor quality, stall. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bridge/dev_finger.h"
#include "bridge/dev_pin.h"
#include "bridge/dev_sig.h"
#include "egress/egress.h"
#include "foundation/config.h"
#include "foundation/metrics.h"
#include "proc.h"
#include "simproc.h"

#include <cairo.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct sim {
    const char *mode;
    pid_t pid;
    int port;
    char link[256];
    char log[256];
    struct pad_link l;
};

static char workdir[64];
static struct simproc core = {.mode = "core"};
static struct sim sims[3] = {{.mode = "pin"}, {.mode = "sig"}, {.mode = "finger"}};
#define PIN (&sims[0])
#define SIG (&sims[1])
#define FINGER (&sims[2])

/* The demo master key of docs/peripherals.md (the devsim's default) and
 * this test's PIN key. */
static const uint8_t master_key[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                       0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10};
static const uint8_t pin_key[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                    0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xF0, 0x0F};

static size_t sink(char *p, size_t sz, size_t n, void *arg)
{
    json_t **out = arg;
    json_decref(*out);
    *out = json_loadb(p, sz * n, 0, NULL);
    return sz * n;
}

/* A control request; the JSON answer or NULL (not up, not 200). */
static json_t *control(struct sim *s, const char *method, const char *path, const char *body)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
    CURL *c = curl_easy_init();
    json_t *out = NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK ||
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
        json_decref(out);
        out = NULL;
    }
    curl_easy_cleanup(c);
    return out;
}

static void script(struct sim *s, const char *body)
{
    json_t *r = control(s, "POST", "/script", body);
    assert_non_null(r);
    json_decref(r);
}

static void reset(struct sim *s)
{
    json_t *r = control(s, "POST", "/reset", NULL);
    assert_non_null(r);
    json_decref(r);
}

static int sim_start(struct sim *s)
{
    const char *bin = getenv("ZHANYE_DEVSIM_BIN");
    if (!bin)
        return -1;
    for (int attempt = 0; attempt < 5; attempt++) {
        s->port = proc_pick_port();
        snprintf(s->link, sizeof s->link, "%s/%s.tty", workdir, s->mode);
        snprintf(s->log, sizeof s->log, "%s/%s.log", workdir, s->mode);
        char ctl[64];
        snprintf(ctl, sizeof ctl, "127.0.0.1:%d", s->port);
        char *argv[] = {(char *)bin, (char *)s->mode, "--pty-link", s->link, "--control", ctl,
                        NULL};
        s->pid = proc_spawn(argv, s->log, true);
        if (s->pid < 0)
            return -1;
        for (int i = 0; i < 200; i++) {
            json_t *st = control(s, "GET", "/state", NULL);
            struct stat sb;
            if (st && stat(s->link, &sb) == 0) {
                json_decref(st);
                return pad_link_open(&s->l, s->link) == PAD_OK ? 0 : -1;
            }
            json_decref(st);
            int status;
            if (waitpid(s->pid, &status, WNOHANG) == s->pid)
                break; /* the port was taken: try another */
            proc_sleep_ms(50);
        }
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    return -1;
}

static int sim_stop(struct sim *s)
{
    pad_link_close(&s->l);
    if (s->pid <= 0)
        return 0;
    kill(s->pid, SIGTERM);
    int status = 0;
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        proc_print_tail(s->mode, s->log, 0);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(workdir, sizeof workdir, "/tmp/zypadsXXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    for (int i = 0; i < 3; i++)
        if (sim_start(&sims[i]) != 0) {
            fprintf(stderr, "cannot start devsim %s\n", sims[i].mode);
            return -1;
        }
    if (simproc_start(&core, workdir) != 0) {
        fprintf(stderr, "cannot start the core simulator (ZHANYE_SIM_BIN?)\n");
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    int rc = 0;
    for (int i = 0; i < 3; i++)
        rc |= sim_stop(&sims[i]);
    if (simproc_stop(&core) != 0)
        rc = -1;
    metrics_shutdown();
    proc_rm_rf(workdir);
    curl_global_cleanup();
    return rc;
}

/* ---- the test's own SM4 and PIN block layouts ---- */

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

static void load_pin_key(void)
{
    uint8_t enc[16], kcv[16], zero[16] = {0};
    sm4(master_key, pin_key, enc, 1);
    sm4(pin_key, zero, kcv, 1);
    assert_int_equal(dev_pin_load_key(&PIN->l, enc, kcv, 3000), PAD_OK);
}

static pad_status pin_block(const char *pan, enum dev_pin_format fmt, int timeout_s,
                            char out[DEV_PIN_BLOCK_HEX])
{
    struct dev_pin_request rq = {
        .pan = pan, .format = fmt, .min_len = 4, .max_len = 12, .timeout_s = timeout_s};
    return dev_pin_block(&PIN->l, &rq, out);
}

/* ---- PIN pad ---- */

static void test_pin_key_loading(void **state)
{
    reset(PIN);
    char out[DEV_PIN_BLOCK_HEX];
    script(PIN, "{\"pin\":\"123456\"}");
    /* No PIN key yet. */
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_ENOKEY);
    assert_string_equal(out, "");
    /* A wrong check value: refused, nothing loaded. */
    uint8_t enc[16], kcv[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    sm4(master_key, pin_key, enc, 1);
    assert_int_equal(dev_pin_load_key(&PIN->l, enc, kcv, 3000), PAD_EKEYCHECK);
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_ENOKEY);
    /* The right one. */
    load_pin_key();
    json_t *st = control(PIN, "GET", "/state", NULL);
    assert_true(json_is_true(json_object_get(st, "key_loaded")));
    json_decref(st);
}

static void test_pin_block_iso0(void **state)
{
    reset(PIN);
    load_pin_key();
    script(PIN, "{\"pin\":\"123456\"}");
    char out[DEV_PIN_BLOCK_HEX];
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_OK);
    assert_int_equal(strlen(out), 32);
    uint8_t ct[16], pt[16], want[16];
    unhex(out, ct, 16);
    sm4(pin_key, ct, pt, 0);
    /* PIN field 06123456FFFFFFFF XOR PAN field 0000 + 123456789012 (the 12
     * digits before the check digit 8), then eight FF. */
    uint8_t pinf[8], panf[8];
    unhex("06123456FFFFFFFF", pinf, 8);
    unhex("0000123456789012", panf, 8);
    for (int i = 0; i < 8; i++)
        want[i] = pinf[i] ^ panf[i];
    memset(want + 8, 0xFF, 8);
    assert_memory_equal(pt, want, 16);
    /* Deterministic: the same PIN and PAN give the same block; another PAN
     * another block. */
    char again[DEV_PIN_BLOCK_HEX], other[DEV_PIN_BLOCK_HEX];
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, again), PAD_OK);
    assert_string_equal(out, again);
    assert_int_equal(pin_block("6222029999567890121", DEV_PIN_ISO0, 5, other), PAD_OK);
    assert_string_not_equal(out, other);
}

/* The core simulator's default zone PIN key (sims/sim_main.c), loaded as
 * the pad's PIN key: the pad's block for a card the core issued is
 * accepted by the core's set-PIN (sims/sim_core.c decrypts and checks the
 * format-0 layout); a block for another PAN is refused (2003). */
static enum egress_kind core_call(struct egress *eg, const char *step, json_t *in, char *want,
                                  const char *member, size_t cap)
{
    json_t *out = NULL;
    struct egress_error e;
    enum egress_kind k = egress_call(eg, step, in, &out, &e);
    json_decref(in);
    if (k == EGRESS_OK && member)
        snprintf(want, cap, "%s", json_string_value(json_object_get(out, member)));
    else if (k != EGRESS_OK && want)
        snprintf(want, cap, "%s", e.code);
    json_decref(out);
    return k;
}

static void test_pin_block_accepted_by_core(void **state)
{
    static const uint8_t zpk[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                    0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10};
    uint8_t enc[16], kcv[16], zero[16] = {0};
    sm4(master_key, zpk, enc, 1);
    sm4(zpk, zero, kcv, 1);
    reset(PIN);
    assert_int_equal(dev_pin_load_key(&PIN->l, enc, kcv, 3000), PAD_OK);

    char path[128], err[512], confdir[512];
    snprintf(path, sizeof path, "%s/zhanye.conf", workdir);
    snprintf(confdir, sizeof confdir, "%s/conf", getenv("ZHANYE_SRC"));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "[egress.core]\naddress = tcp://127.0.0.1:%d\nrequired = true\n", core.port);
    fclose(f);
    struct config cfg;
    if (config_load(&cfg, workdir, path, err, sizeof err) != 0)
        fail_msg("config: %s", err);
    struct egress *eg = NULL;
    if (egress_open(&cfg, confdir, &eg, err, sizeof err) != 0)
        fail_msg("egress_open: %s", err);

    char id[32], cust[32], acct[32], pan[32], code[32];
    snprintf(id, sizeof id, "11010119850512%04d", (int)(getpid() % 10000));
    assert_int_equal(
        core_call(eg, "customer_create",
                  json_pack("{s:s,s:s,s:s,s:s,s:s}", "id_type", "01", "id_no", id, "name", "张三",
                            "mobile", "13600136000", "address", "北京市东城区"),
                  cust, "cust_no", sizeof cust),
        EGRESS_OK);
    assert_int_equal(core_call(eg, "open_account",
                               json_pack("{s:s,s:s,s:s}", "cust_no", cust, "currency", "CNY",
                                         "product", "SAV001"),
                               acct, "account_no", sizeof acct),
                     EGRESS_OK);
    assert_int_equal(core_call(eg, "issue_card",
                               json_pack("{s:s,s:s}", "account_no", acct, "card_product", "DEBIT1"),
                               pan, "card_no", sizeof pan),
                     EGRESS_OK);

    script(PIN, "{\"pin\":\"147258\"}");
    char blk[DEV_PIN_BLOCK_HEX], other[DEV_PIN_BLOCK_HEX];
    assert_int_equal(pin_block(pan, DEV_PIN_ISO0, 5, blk), PAD_OK);
    assert_int_equal(core_call(eg, "set_pin",
                               json_pack("{s:s,s:s}", "card_no", pan, "pin_block", blk), NULL, NULL,
                               0),
                     EGRESS_OK);
    /* A block made for another PAN does not decode to a PIN for this card. */
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, other), PAD_OK);
    assert_int_equal(core_call(eg, "set_pin",
                               json_pack("{s:s,s:s}", "card_no", pan, "pin_block", other), code,
                               NULL, sizeof code),
                     EGRESS_E_BUSINESS);
    assert_string_equal(code, "2003");
    egress_close(eg);
    config_free(&cfg);
}

static void test_pin_block_sm4_16(void **state)
{
    reset(PIN);
    load_pin_key();
    script(PIN, "{\"pin\":\"8642\"}");
    char out[DEV_PIN_BLOCK_HEX];
    const char *pan = "6222021234567890128"; /* 19 digits */
    assert_int_equal(pin_block(pan, DEV_PIN_SM4_16, 5, out), PAD_OK);
    uint8_t ct[16], mid[16], pf[16], panf[16], want[8];
    unhex(out, ct, 16);
    /* C = E(K, E(K, PIN field) XOR PAN field). PAN field: 19 - 12 = 7,
     * the 19 digits, zero fill; PIN field: 4, length 4, 8642, ten A
     * nibbles, eight random bytes. */
    unhex("76222021234567890128000000000000", panf, 16);
    sm4(pin_key, ct, mid, 0);
    for (int i = 0; i < 16; i++)
        mid[i] ^= panf[i];
    sm4(pin_key, mid, pf, 0);
    unhex("448642AAAAAAAAAA", want, 8);
    assert_memory_equal(pf, want, 8);
    /* The random fill: the same PIN gives another block each time. */
    char again[DEV_PIN_BLOCK_HEX];
    assert_int_equal(pin_block(pan, DEV_PIN_SM4_16, 5, again), PAD_OK);
    assert_string_not_equal(out, again);
}

static void test_pin_errors(void **state)
{
    char out[DEV_PIN_BLOCK_HEX];
    reset(PIN);
    load_pin_key();
    /* The customer presses cancel (one-shot). */
    script(PIN, "{\"pin\":\"123456\",\"cancel\":true}");
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_ECANCELLED);
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_OK);
    /* Too short: the pad refuses it. */
    script(PIN, "{\"pin\":\"123\"}");
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_ESHORT);
    assert_string_equal(out, "");
    /* The customer keys nothing: the pad's own timeout. */
    reset(PIN);
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 1, out), PAD_ENOINPUT);
    /* A corrupt reply frame: a bad frame, and the next request works. */
    script(PIN, "{\"pin\":\"123456\",\"corrupt\":1}");
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_EFRAME);
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_OK);
    /* A stalled pad: the bridge's own timeout. */
    script(PIN, "{\"stall\":true}");
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 1, out), PAD_ETIMEOUT);
    script(PIN, "{\"stall\":null}");
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 5, out), PAD_OK);
    /* Bad requests never reach the pad. */
    json_t *st = control(PIN, "GET", "/state", NULL);
    json_int_t before = json_integer_value(json_object_get(st, "commands"));
    json_decref(st);
    assert_int_equal(pin_block("62220212345", DEV_PIN_ISO0, 5, out), PAD_EPARAM);
    assert_int_equal(pin_block("622202123456789012X", DEV_PIN_ISO0, 5, out), PAD_EPARAM);
    assert_int_equal(pin_block("6222021234567890128", DEV_PIN_ISO0, 0, out), PAD_EPARAM);
    st = control(PIN, "GET", "/state", NULL);
    assert_int_equal(json_integer_value(json_object_get(st, "commands")), before);
    json_decref(st);
}

static void test_absent(void **state)
{
    struct pad_link l;
    char path[128];
    snprintf(path, sizeof path, "%s/no-such-tty", workdir);
    assert_int_equal(pad_link_open(&l, path), PAD_EABSENT);
}

/* ---- signature pad ---- */

struct seen {
    struct dev_sig_point p[256];
    size_t n;
    int clears;
};

static void on_point(void *arg, enum dev_sig_event ev, const struct dev_sig_point *p)
{
    struct seen *s = arg;
    if (ev == DEV_SIG_CLEAR) {
        s->clears++;
        s->n = 0;
        return;
    }
    assert_non_null(p);
    assert_true(s->n < 256);
    s->p[s->n++] = *p;
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

/* Two strokes: a diagonal of 50 samples (two frames' worth with the next)
 * and a short horizontal one. */
static char *strokes_script(bool clear_first)
{
    json_t *s1 = json_array(), *s2 = json_array();
    for (int i = 0; i < 50; i++)
        json_array_append_new(s1, json_pack("[iii]", 20 + 4 * i, 20 + 2 * i, 200 + 10 * i));
    for (int i = 0; i < 10; i++)
        json_array_append_new(s2, json_pack("[iii]", 100 + 5 * i, 150, 800));
    json_t *o = json_pack("{s:[oo]}", "strokes", s1, s2);
    if (clear_first)
        json_object_set_new(o, "clear_first", json_true());
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

static void test_sig_capture(void **state)
{
    reset(SIG);
    char *sc = strokes_script(false);
    script(SIG, sc);
    free(sc);
    struct seen seen = {0};
    struct dev_sig_result r;
    assert_int_equal(dev_sig_capture(&SIG->l, 320, 200, 5, on_point, &seen, &r), PAD_OK);
    /* Delivered in order through the callback, the same as the result. */
    assert_int_equal(seen.n, 60);
    assert_int_equal(r.npoints, 60);
    assert_int_equal(seen.clears, 0);
    for (size_t i = 0; i < 60; i++) {
        assert_int_equal(seen.p[i].stroke, i < 50 ? 0 : 1);
        assert_int_equal(seen.p[i].x, i < 50 ? 20 + 4 * i : 100 + 5 * (i - 50));
        if (i > 0)
            assert_true(seen.p[i].t_ms > seen.p[i - 1].t_ms);
        assert_memory_equal(&seen.p[i], &r.points[i], sizeof r.points[i]);
    }
    /* The PNG decodes, with the pad's size and ink on a white ground. */
    struct rd rd = {.p = r.png, .n = r.png_len};
    cairo_surface_t *img = cairo_image_surface_create_from_png_stream(png_read, &rd);
    assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(img), 320);
    assert_int_equal(cairo_image_surface_get_height(img), 200);
    cairo_surface_flush(img);
    const unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    long ink = 0;
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 320; x++) {
            uint32_t v;
            memcpy(&v, px + y * stride + 4 * x, 4);
            ink += (v & 0xFFFFFF) != 0xFFFFFF;
        }
    /* A sample of the first stroke is inked, a far corner is not. */
    uint32_t on, off;
    memcpy(&on, px + 60 * stride + 4 * 100, 4); /* sample 20: (100, 60) */
    memcpy(&off, px + 199 * stride + 4 * 319, 4);
    assert_int_not_equal(on & 0xFFFFFF, 0xFFFFFF);
    assert_int_equal(off & 0xFFFFFF, 0xFFFFFF);
    cairo_surface_destroy(img);
    assert_true(ink > 100);
    /* The stroke data as JSON. */
    json_t *j = json_loads(r.json, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "width")), 320);
    json_t *strokes = json_object_get(j, "strokes");
    assert_int_equal(json_array_size(strokes), 2);
    assert_int_equal(json_array_size(json_array_get(strokes, 0)), 50);
    json_t *last = json_array_get(json_array_get(strokes, 1), 9);
    assert_int_equal(json_integer_value(json_array_get(last, 0)), 145);
    assert_int_equal(json_integer_value(json_array_get(last, 2)), 800);
    json_decref(j);
    dev_sig_result_free(&r);
}

static void test_sig_clear_and_errors(void **state)
{
    reset(SIG);
    char *sc = strokes_script(true);
    script(SIG, sc);
    free(sc);
    struct seen seen = {0};
    struct dev_sig_result r;
    assert_int_equal(dev_sig_capture(&SIG->l, 320, 200, 5, on_point, &seen, &r), PAD_OK);
    assert_int_equal(seen.clears, 1);
    assert_int_equal(seen.n, 60);
    assert_int_equal(r.npoints, 60); /* the stroke before the clear is gone */
    dev_sig_result_free(&r);

    script(SIG, "{\"cancel\":true}");
    assert_int_equal(dev_sig_capture(&SIG->l, 320, 200, 5, NULL, NULL, &r), PAD_ECANCELLED);
    assert_null(r.png);
    /* The first points frame corrupt. */
    script(SIG, "{\"corrupt\":1}");
    assert_int_equal(dev_sig_capture(&SIG->l, 320, 200, 5, NULL, NULL, &r), PAD_EFRAME);
    /* A sample outside the pad. */
    assert_int_equal(dev_sig_capture(&SIG->l, 100, 100, 5, NULL, NULL, &r), PAD_EFRAME);
    /* Nobody signs. */
    reset(SIG);
    assert_int_equal(dev_sig_capture(&SIG->l, 320, 200, 1, NULL, NULL, &r), PAD_ENOINPUT);
    script(SIG, "{\"stall\":true}");
    assert_int_equal(dev_sig_capture(&SIG->l, 320, 200, 1, NULL, NULL, &r), PAD_ETIMEOUT);
    reset(SIG);
}

/* ---- fingerprint ---- */

static void test_finger_capture_match(void **state)
{
    reset(FINGER);
    script(FINGER, "{\"finger\":3}");
    uint8_t tpl[DEV_FINGER_TEMPLATE_MAX];
    size_t n = 0;
    assert_int_equal(dev_finger_capture(&FINGER->l, 5, tpl, sizeof tpl, &n), PAD_OK);
    assert_true(n > 0);
    int score = -1;
    assert_int_equal(dev_finger_match(&FINGER->l, 5, tpl, n, &score), PAD_OK);
    assert_true(score >= DEV_FINGER_MATCH_THRESHOLD);
    script(FINGER, "{\"finger\":5}");
    assert_int_equal(dev_finger_match(&FINGER->l, 5, tpl, n, &score), PAD_OK);
    assert_true(score < DEV_FINGER_MATCH_THRESHOLD);
    /* A template the device cannot read. */
    uint8_t junk[16] = {0};
    assert_int_equal(dev_finger_match(&FINGER->l, 5, junk, sizeof junk, &score), PAD_EPARAM);
    /* A buffer too small for the template. */
    assert_int_equal(dev_finger_capture(&FINGER->l, 5, tpl, 10, &n), PAD_EPARAM);
}

static void test_finger_errors(void **state)
{
    uint8_t tpl[DEV_FINGER_TEMPLATE_MAX];
    size_t n = 0;
    reset(FINGER);
    assert_int_equal(dev_finger_capture(&FINGER->l, 1, tpl, sizeof tpl, &n), PAD_ENOFINGER);
    script(FINGER, "{\"finger\":2,\"quality\":\"poor\"}");
    assert_int_equal(dev_finger_capture(&FINGER->l, 5, tpl, sizeof tpl, &n), PAD_EQUALITY);
    script(FINGER, "{\"quality\":null,\"corrupt\":1}");
    assert_int_equal(dev_finger_capture(&FINGER->l, 5, tpl, sizeof tpl, &n), PAD_EFRAME);
    script(FINGER, "{\"stall\":true}");
    assert_int_equal(dev_finger_capture(&FINGER->l, 1, tpl, sizeof tpl, &n), PAD_ETIMEOUT);
    script(FINGER, "{\"stall\":null}");
    assert_int_equal(dev_finger_capture(&FINGER->l, 5, tpl, sizeof tpl, &n), PAD_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pin_key_loading),
        cmocka_unit_test(test_pin_block_iso0),
        cmocka_unit_test(test_pin_block_sm4_16),
        cmocka_unit_test(test_pin_block_accepted_by_core),
        cmocka_unit_test(test_pin_errors),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_sig_capture),
        cmocka_unit_test(test_sig_clear_and_errors),
        cmocka_unit_test(test_finger_capture_match),
        cmocka_unit_test(test_finger_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
