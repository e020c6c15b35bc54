/* The egress gateway's file transfer (egress_put_file / egress_get_file)
 * against the paperless simulator (zhanye-sim paperless, an FTP server) run
 * as a real process on loopback: the delivery receipt and its SM3, reading
 * back, names refused before anything is sent, a receipt that does not
 * match, the simulator down (connect error, breaker open, recovery), a
 * stalled server (the deadline holds), injected 451s retried, wrong
 * passwords, routing and status. */
#include "egress/egress.h"
#include "foundation/clock.h"
#include "foundation/config.h"
#include "foundation/metrics.h"
#include "simproc.h"
#include "testd.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* Deadlines may be overrun by this much (ASan, a loaded box). */
#define SLACK_MS 250

static struct simproc pl = {.mode = "paperless"};
static char confdir[512];
static char workdir[64];

static int setup_all(void **state)
{
    snprintf(workdir, sizeof workdir, "/tmp/zhanye-eftp-XXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    src_path("conf", confdir, sizeof confdir);
    if (simproc_start(&pl, workdir) != 0) {
        fprintf(stderr, "cannot start the paperless simulator (ZHANYE_SIM_BIN?)\n");
        return -1;
    }
    return 0;
}

static int teardown_all(void **state)
{
    int rc = simproc_stop(&pl) != 0 ? -1 : 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
    if (system(cmd) != 0)
        rc = -1;
    metrics_shutdown();
    return rc;
}

static int reset_sim(void **state)
{
    simproc_reset(&pl);
    return 0;
}

/* A gateway with [egress.paperless] at the simulator, password from a 0600
 * file (pw; NULL = the demo password), over appended to the section. */
static struct egress *open_gw(const char *pw, int pw_mode, const char *over, struct config *cfg)
{
    char path[128], pwpath[128], err[512];
    snprintf(pwpath, sizeof pwpath, "%s/paperless.password", workdir);
    unlink(pwpath);
    int fd = open(pwpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    const char *p = pw ? pw : "paperless-demo\n";
    assert_int_equal(write(fd, p, strlen(p)), (ssize_t)strlen(p));
    close(fd);
    assert_int_equal(chmod(pwpath, (mode_t)pw_mode), 0);
    snprintf(path, sizeof path, "%s/zhanye.conf", workdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[egress.paperless]\naddress = ftp://127.0.0.1:%d\nuser = zhanye\n"
            "password_file = paperless.password\ncall_timeout_ms = 3000\n%s\n"
            "[egress.face]\naddress = http://127.0.0.1:1\n",
            pl.port, over ? over : "");
    fclose(f);
    if (config_load(cfg, workdir, path, err, sizeof err) != 0)
        fail_msg("config: %s", err);
    struct egress *eg = NULL;
    if (egress_open(cfg, confdir, &eg, err, sizeof err) != 0)
        fail_msg("egress_open: %s", err);
    return eg;
}

static void close_gw(struct egress *eg, struct config *cfg)
{
    egress_close(eg);
    config_free(cfg);
}

static double ms_since(uint64_t t0)
{
    return (double)(clock_mono_ns() - t0) / 1e6;
}

/* SM3 computed here with OpenSSL, independently of the gateway and the simulator. */
static void sm3_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t d[32];
    unsigned len = 0;
    EVP_MD *md = EVP_MD_fetch(NULL, "SM3", NULL);
    assert_non_null(md);
    assert_int_equal(EVP_Digest(p, n, d, &len, md, NULL), 1);
    EVP_MD_free(md);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static uint8_t *pdf_bytes(size_t n, unsigned seed)
{
    uint8_t *b = malloc(n);
    assert_non_null(b);
    memcpy(b, "%PDF-1.7\n", 9);
    for (size_t i = 9; i < n; i++)
        b[i] = (uint8_t)((i * 131u + seed) ^ (i >> 7)); /* zeros, CRs and LFs included */
    return b;
}

static void put_get_and_receipt(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, 0600, NULL, &cfg);
    struct egress_error e;
    size_t n = 300000;
    uint8_t *data = pdf_bytes(n, 7);
    char want[65];
    sm3_hex(data, n, want);
    json_t *rc = NULL;
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", "VCH-20261130-0001.pdf", data, n, &rc, &e),
        EGRESS_OK);
    assert_non_null(rc);
    assert_string_equal(json_string_value(json_object_get(rc, "name")), "VCH-20261130-0001.pdf");
    assert_int_equal(json_integer_value(json_object_get(rc, "size")), (json_int_t)n);
    assert_string_equal(json_string_value(json_object_get(rc, "sm3")), want);
    assert_memory_equal(json_string_value(json_object_get(rc, "receipt_no")), "PL", 2);
    assert_non_null(json_string_value(json_object_get(rc, "received_at")));
    json_decref(rc);
    assert_int_equal(e.attempts, 1);

    /* The simulator kept exactly these bytes in DATA/paperless/inbox/. */
    char path[256];
    snprintf(path, sizeof path, "%s/paperless/inbox/VCH-20261130-0001.pdf", pl.dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, (off_t)n);

    uint8_t *got = NULL;
    size_t gn = 0;
    assert_int_equal(egress_get_file(eg, "voucher_deliver", "VCH-20261130-0001.pdf", &got, &gn, &e),
                     EGRESS_OK);
    assert_int_equal(gn, n);
    assert_memory_equal(got, data, n);
    free(got);

    /* The same name again overwrites; the receipt is the new one's. */
    uint8_t small[5] = {'%', 'P', 'D', 'F', 0};
    sm3_hex(small, sizeof small, want);
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", "VCH-20261130-0001.pdf", small, 5, &rc, &e),
        EGRESS_OK);
    assert_int_equal(json_integer_value(json_object_get(rc, "size")), 5);
    assert_string_equal(json_string_value(json_object_get(rc, "sm3")), want);
    json_decref(rc);

    /* An empty file is a file; a missing one is the system's refusal. */
    assert_int_equal(egress_put_file(eg, "voucher_deliver", "empty.pdf", NULL, 0, NULL, &e),
                     EGRESS_OK);
    assert_int_equal(egress_get_file(eg, "voucher_deliver", "nope.pdf", &got, &gn, &e),
                     EGRESS_E_REJECTED);
    assert_null(got);
    assert_int_equal(gn, 0);
    free(data);
    close_gw(eg, &cfg);
}

static void bad_names_are_refused_before_sending(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, 0600, NULL, &cfg);
    struct egress_error e;
    static const char *const BAD[] = {
        "a/b.pdf",
        "../x.pdf",
        "x..pdf",
        ".hidden",
        "",
        "x\r\nDELE y.pdf",
        "tab\there",
        "a\\b",
        "0123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789012345678901234567890123456789"};
    long long before = simproc_stat(&pl, "requests");
    json_t *sentinel = json_object(), *rc = sentinel; /* set to NULL by the call */
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        assert_int_equal(
            egress_put_file(eg, "voucher_deliver", BAD[i], (const uint8_t *)"x", 1, &rc, &e),
            EGRESS_E_MAPPING);
        assert_null(rc);
        assert_string_equal(e.field, "name");
        assert_int_equal(e.attempts, 0);
        uint8_t *got = NULL;
        size_t gn = 0;
        assert_int_equal(egress_get_file(eg, "voucher_deliver", BAD[i], &got, &gn, &e),
                         EGRESS_E_MAPPING);
    }
    assert_int_equal(simproc_stat(&pl, "requests"), before);
    json_decref(sentinel);
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", NULL, (const uint8_t *)"x", 1, NULL, &e),
        EGRESS_E_MAPPING);
    close_gw(eg, &cfg);
}

static void receipt_mismatch_and_missing(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, 0600, "retries = 0", &cfg);
    struct egress_error e;
    json_t *rc = NULL;
    assert_int_equal(egress_put_file(eg, "voucher_deliver", "VCH-BADRECEIPT.pdf",
                                     (const uint8_t *)"%PDF-x", 6, &rc, &e),
                     EGRESS_E_PROTOCOL);
    assert_null(rc);
    assert_string_equal(e.field, "sm3");
    assert_non_null(strstr(e.message, "SM3"));
    assert_int_equal(egress_put_file(eg, "voucher_deliver", "VCH-NORECEIPT.pdf",
                                     (const uint8_t *)"%PDF-x", 6, &rc, &e),
                     EGRESS_E_PROTOCOL);
    assert_null(rc);
    assert_string_equal(e.field, "receipt");
    close_gw(eg, &cfg);
}

#define BREAKER_CONF                                                                               \
    "breaker_window = 10\nbreaker_min_calls = 4\nbreaker_failure_rate = 50\n"                      \
    "breaker_open_ms = 300\nbreaker_half_open_calls = 1\nretries = 0\ncall_timeout_ms = 2000\n"

static void down_breaker_opens_and_recovers(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, 0600, BREAKER_CONF, &cfg);
    struct egress_error e;
    const uint8_t *d = (const uint8_t *)"%PDF";
    simproc_fault(&pl, "{\"refuse\":true}");
    for (int i = 0; i < 4; i++) {
        assert_int_equal(egress_put_file(eg, "voucher_deliver", "v.pdf", d, 4, NULL, &e),
                         EGRESS_E_CONNECT);
        assert_int_equal(e.attempts, 1);
    }
    /* Four failures of four: the breaker is open and nothing is tried. */
    assert_int_equal(egress_put_file(eg, "voucher_deliver", "v.pdf", d, 4, NULL, &e),
                     EGRESS_E_OPEN);
    assert_int_equal(e.attempts, 0);
    json_t *st = egress_status(eg);
    json_t *sys = json_object_get(json_object_get(st, "systems"), "paperless");
    assert_string_equal(json_string_value(json_object_get(sys, "protocol")), "ftp");
    assert_string_equal(json_string_value(json_object_get(sys, "breaker")), "open");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(sys, "errors"), "connect")),
                     4);
    json_decref(st);
    /* Back up: after breaker_open_ms one probe goes through and closes it. */
    simproc_fault(&pl, "{}");
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 350000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(egress_put_file(eg, "voucher_deliver", "v.pdf", d, 4, NULL, &e), EGRESS_OK);
    st = egress_status(eg);
    sys = json_object_get(json_object_get(st, "systems"), "paperless");
    assert_string_equal(json_string_value(json_object_get(sys, "breaker")), "closed");
    json_decref(st);
    char *m = metrics_render(NULL);
    assert_non_null(strstr(m, "zhanye_egress_errors_total{system=\"paperless\",kind=\"connect\"}"));
    assert_non_null(strstr(m, "zhanye_egress_attempts_total{system=\"paperless\"}"));
    free(m);
    close_gw(eg, &cfg);
}

static void stalled_server_deadline_holds(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, 0600, "call_timeout_ms = 600\nretries = 0", &cfg);
    struct egress_error e;
    simproc_fault(&pl, "{\"stall\":true}");
    uint64_t t0 = clock_mono_ns();
    json_t *rc = NULL;
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", "s.pdf", (const uint8_t *)"%PDF", 4, &rc, &e),
        EGRESS_E_TIMEOUT);
    double took = ms_since(t0);
    assert_null(rc);
    if (took > 600 + SLACK_MS)
        fail_msg("the upload outlived its 600 ms deadline: %.0f ms", took);
    uint8_t *got = NULL;
    size_t gn = 0;
    t0 = clock_mono_ns();
    assert_int_equal(egress_get_file(eg, "voucher_deliver", "s.pdf", &got, &gn, &e),
                     EGRESS_E_TIMEOUT);
    took = ms_since(t0);
    if (took > 600 + SLACK_MS)
        fail_msg("the download outlived its 600 ms deadline: %.0f ms", took);
    simproc_fault(&pl, "{}");
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", "s.pdf", (const uint8_t *)"%PDF", 4, NULL, &e),
        EGRESS_OK);
    close_gw(eg, &cfg);
}

static void injected_errors_are_retried(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, 0600, "retries = 2\nretry_budget_pct = 100", &cfg);
    struct egress_error e;
    simproc_fault(&pl, "{\"error_rate\":1}");
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", "r.pdf", (const uint8_t *)"%PDF", 4, NULL, &e),
        EGRESS_E_REMOTE);
    assert_int_equal(e.attempts, 3); /* an upload overwrites: always retried */
    assert_true(simproc_stat(&pl, "errors_injected") >= 3);
    simproc_fault(&pl, "{\"malformed\":\"reply\"}");
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", "r.pdf", (const uint8_t *)"%PDF", 4, NULL, &e),
        EGRESS_E_PROTOCOL);
    simproc_fault(&pl, "{}");
    close_gw(eg, &cfg);
}

static void login_and_routing(void **state)
{
    struct config cfg;
    struct egress_error e;
    /* A wrong password: the system refuses the login. */
    struct egress *eg = open_gw("wrong\n", 0600, "retries = 0", &cfg);
    assert_int_equal(
        egress_put_file(eg, "voucher_deliver", "l.pdf", (const uint8_t *)"%PDF", 4, NULL, &e),
        EGRESS_E_REJECTED);
    /* A file step through egress_call, a JSON step through put_file, no step. */
    json_t *out = NULL;
    assert_int_equal(egress_call(eg, "voucher_deliver", NULL, &out, &e), EGRESS_E_ROUTE);
    assert_int_equal(
        egress_put_file(eg, "face_compare", "l.pdf", (const uint8_t *)"%PDF", 4, NULL, &e),
        EGRESS_E_ROUTE);
    assert_int_equal(egress_put_file(eg, "nope", "l.pdf", (const uint8_t *)"%PDF", 4, NULL, &e),
                     EGRESS_E_ROUTE);
    close_gw(eg, &cfg);
    /* A password file others may read is refused at start. */
    char path[128], err[512];
    struct egress *bad = NULL;
    snprintf(path, sizeof path, "%s/paperless.password", workdir);
    assert_int_equal(chmod(path, 0644), 0);
    snprintf(path, sizeof path, "%s/zhanye.conf", workdir);
    assert_int_equal(config_load(&cfg, workdir, path, err, sizeof err), 0);
    assert_int_equal(egress_open(&cfg, confdir, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "password_file"));
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(put_get_and_receipt, reset_sim),
        cmocka_unit_test_setup(bad_names_are_refused_before_sending, reset_sim),
        cmocka_unit_test_setup(receipt_mismatch_and_missing, reset_sim),
        cmocka_unit_test_setup(down_breaker_opens_and_recovers, reset_sim),
        cmocka_unit_test_setup(stalled_server_deadline_holds, reset_sim),
        cmocka_unit_test_setup(injected_errors_are_retried, reset_sim),
        cmocka_unit_test_setup(login_and_routing, reset_sim),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
