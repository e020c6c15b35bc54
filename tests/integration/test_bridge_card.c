/* zhanye-bridge as a process with the bank card reader (dev_card_http.h)
 * on a private pcscd with Debian's vsmartcard vpcd driver, the card played
 * by `zhanye-devsim card --vpcd` (support/pcscrig.h, as it_card_reader), all
 * through the bridge's HTTP API: the pairing token is required; with no
 * card the read answers no_card; a card put in is announced on the SSE
 * stream as card.inserted, reads with its PAN, expiry, sequence, AID, name
 * and label, and is never in the bridge's log unmasked; pulled out, it is
 * announced as card.removed; a card whose PAN fails Luhn answers bad_card,
 * one pulled out during the read removed;
 * the magnetic-stripe route answers a swiped track 2 and refuses a bad one;
 * a bridge started without --card has no bank card routes. */
#include "dev_card.h"
#include "pcscrig.h"
#include "bridgehttp.h"
#include "proc.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
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

#define READER PCSCRIG_READER
#define PAN "6217000010001234569"

static char dir[] = "/tmp/zybcardXXXXXX";
static char pcscd_log[300], bridge_log[300], bridge_url[64], auth_ok[160];
static char vpcd_addr[64];
static pid_t pcscd_pid = -1, bridge_pid = -1, card_pid = -1;

/* ---- HTTP ---- */

static struct bh_resp call(const char *method, const char *path, const char *body)
{
    return bh_http_at(bridge_url, method, path, auth_ok, body);
}

/* ---- SSE ---- */

/* ---- processes ---- */

/* A bridge; with_card adds --card-reader READER. *url its base. */
static pid_t start_bridge(bool with_card, const char *log, char *url, size_t cap)
{
    char idcard[350], tokf[350];
    snprintf(idcard, sizeof idcard, "%s/no-idcard", dir);
    snprintf(tokf, sizeof tokf, "%s/token", dir);
    char *argv[16] = {getenv("ZHANYE_BRIDGE_BIN"),
                      "--listen",
                      "127.0.0.1:0",
                      "--idcard-port",
                      idcard,
                      "--token-file",
                      tokf,
                      "--poll-ms",
                      "0",
                      "--timeout-ms",
                      "10000"};
    int n = 11;
    if (with_card) {
        argv[n++] = "--card-reader";
        argv[n++] = READER;
    }
    argv[n] = NULL;
    pid_t pid = proc_spawn(argv, log, true);
    char line[1024];
    if (pid < 0 || proc_wait_line("it_bridge_card", log, "listening on", line, sizeof line) != 0)
        return -1;
    const char *h = strstr(line, "http://");
    snprintf(url, cap, "%.*s", (int)strcspn(h, " \n"), h);
    return pid;
}

/* Inserts a card: the emulator with extra arguments (NULL-terminated). */
static void insert(const char *extra, ...)
{
    char *argv[16] = {getenv("ZHANYE_DEVSIM_BIN"), "card", "--vpcd", vpcd_addr};
    int n = 4;
    va_list ap;
    va_start(ap, extra);
    for (const char *a = extra; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    char lg[350];
    snprintf(lg, sizeof lg, "%s/devsim.log", dir);
    card_pid = proc_spawn(argv, lg, true);
    assert_true(card_pid > 0);
}

/* Pulls the card (if any) and waits until the reader has seen it go. */
static int pull_card(void **state)
{
    (void)state;
    if (card_pid > 0) {
        kill(card_pid, SIGTERM);
        waitpid(card_pid, NULL, 0);
        card_pid = -1;
        enum card_presence st = CARD_STATE_PRESENT;
        card_wait(READER, 15000, &st, NULL, 0);
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!getenv("ZHANYE_DEVSIM_BIN") || !getenv("ZHANYE_BRIDGE_BIN") || !mkdtemp(dir))
        return -1;
    /* sets PCSCLITE_CSOCK_NAME, which the bridge inherits */
    if (pcscrig_start(dir, &pcscd_pid, vpcd_addr, sizeof vpcd_addr, pcscd_log, sizeof pcscd_log) !=
        0)
        return -1;
    snprintf(bridge_log, sizeof bridge_log, "%s/bridge.log", dir);
    bridge_pid = start_bridge(true, bridge_log, bridge_url, sizeof bridge_url);
    if (bridge_pid < 0)
        return -1;
    char tokf[350], token[128];
    snprintf(tokf, sizeof tokf, "%s/token", dir);
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
    pull_card(NULL);
    if (proc_stop(bridge_pid) != 0) { /* the poller stops at close */
        proc_print_tail("bridge", bridge_log, 0);
        rc = -1;
    }
    pcscrig_stop(pcscd_pid);
    if (!getenv("CARD_KEEP"))
        proc_rm_rf(dir);
    curl_global_cleanup();
    return rc;
}

/* ---- tests ---- */

static void token_required_and_health(void **state)
{
    (void)state;
    bh_expect_error(bh_http_at(bridge_url, "GET", "/v1/bankcard", NULL, NULL), 401, "unauthorized");
    bh_expect_error(bh_http_at(bridge_url, "POST", "/v1/bankcard/track2",
                               "Bearer wrong-token-wrong", "{\"track2\":\";" PAN "=3112?\"}"),
                    401, "unauthorized");
    json_t *h = bh_expect_ok(call("GET", "/v1/health", NULL));
    char *t = json_dumps(h, 0);
    assert_non_null(strstr(t, "\"card\""));
    free(t);
    json_decref(h);
}

static void no_card(void **state)
{
    (void)state;
    bh_expect_error(call("GET", "/v1/bankcard?timeout_ms=500", NULL), 404, "no_card");
    bh_expect_error(call("GET", "/v1/bankcard?timeout_ms=-1", NULL), 400, "bad_request");
}

static void reads_card_with_events(void **state)
{
    (void)state;
    struct bh_sse *s = bh_sse_open(bridge_url, auth_ok);
    assert_non_null(s);
    proc_sleep_ms(500); /* the stream is open and the poller has looked */
    insert(NULL);
    assert_true(bh_sse_has(s, "event: card.inserted", 15000));
    json_t *r = bh_expect_ok(call("GET", "/v1/bankcard?timeout_ms=10000", NULL));
    assert_string_equal(bh_str(r, "pan"), PAN);
    assert_string_equal(bh_str(r, "expiry"), "3112");
    assert_string_equal(bh_str(r, "seq"), "01");
    assert_string_equal(bh_str(r, "aid"), "A000000333010101");
    assert_string_equal(bh_str(r, "name"), "ZHANG/SAN");
    assert_string_equal(bh_str(r, "label"), "PBOC DEBIT");
    assert_string_equal(bh_str(r, "source"), "ic");
    json_decref(r);
    pull_card(NULL);
    assert_true(bh_sse_has(s, "event: card.removed", 15000));
    bh_sse_close(s);
    /* the PAN is never logged in clear */
    assert_false(proc_log_has(bridge_log, 0, PAN));
    assert_true(proc_log_has(bridge_log, 0, "card.read"));
}

static void luhn_failure_is_bad_card(void **state)
{
    (void)state;
    insert("--fault", "luhn", NULL);
    bh_expect_error(call("GET", "/v1/bankcard?timeout_ms=10000", NULL), 422, "bad_card");
}

static void pulled_out_mid_read_is_removed(void **state)
{
    (void)state;
    insert("--fault", "remove", NULL);
    bh_expect_error(call("GET", "/v1/bankcard?timeout_ms=10000", NULL), 409, "removed");
}

static void track2_route(void **state)
{
    (void)state;
    json_t *r = bh_expect_ok(
        call("POST", "/v1/bankcard/track2", "{\"track2\":\";" PAN "=31121010000000000000?\"}"));
    assert_string_equal(bh_str(r, "pan"), PAN);
    assert_string_equal(bh_str(r, "expiry"), "3112");
    assert_string_equal(bh_str(r, "source"), "msr");
    assert_null(json_object_get(r, "aid"));
    json_decref(r);
    /* the last digit changed: Luhn fails */
    bh_expect_error(call("POST", "/v1/bankcard/track2",
                         "{\"track2\":\";6217000010001234568=31121010000000000000?\"}"),
                    422, "bad_card");
    bh_expect_error(call("POST", "/v1/bankcard/track2", "{\"pan\":\"x\"}"), 400, "bad_request");
    assert_false(proc_log_has(bridge_log, 0, PAN));
}

static void without_card_option_no_routes(void **state)
{
    (void)state;
    char log[350], url[64];
    snprintf(log, sizeof log, "%s/bridge2.log", dir);
    pid_t pid = start_bridge(false, log, url, sizeof url);
    assert_true(pid > 0);
    struct bh_resp r = bh_http_at(url, "GET", "/v1/bankcard", auth_ok, NULL);
    assert_int_equal(r.status, 404);
    json_decref(r.body);
    assert_int_equal(proc_stop(pid), 0);
}

int main(void)
{
    char why[200];
    if (pcscrig_probe(why, sizeof why) != 0) {
        fprintf(stderr, "skipped: %s\n", why);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(token_required_and_health, pull_card),
        cmocka_unit_test_teardown(no_card, pull_card),
        cmocka_unit_test_teardown(reads_card_with_events, pull_card),
        cmocka_unit_test_teardown(luhn_failure_is_bad_card, pull_card),
        cmocka_unit_test_teardown(pulled_out_mid_read_is_removed, pull_card),
        cmocka_unit_test_teardown(track2_route, pull_card),
        cmocka_unit_test_teardown(without_card_option_no_routes, pull_card),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
