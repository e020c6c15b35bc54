/* The egress gateway against the simulators, run as real processes
 * ($ZHANYE_SIM_BIN) on loopback: conversions (GBK names through core
 * banking), the breaker opening on the configured call and recovering
 * through a half-open probe, the bulkhead seen from the simulator's side,
 * deadlines, malformed replies, retries, refusals and restarts, metrics. */
#include "egress/egress.h"
#include "foundation/clock.h"
#include "foundation/config.h"
#include "foundation/metrics.h"
#include "simproc.h"
#include "testd.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

/* Deadlines may be overrun by this much (ASan, a loaded CI box). */
#define SLACK_MS 50

/* ---- simulator processes ---- */

enum { CORE, IDCHECK, FACE, CARD, SOCIAL, LOAN, NSIMS };
static struct simproc sims[NSIMS] = {{.mode = "core"}, {.mode = "idcheck"}, {.mode = "face"},
                                     {.mode = "card"}, {.mode = "social"},  {.mode = "loan"}};
static char confdir[512];
static char workdir[64];

static int setup_all(void **state)
{
    snprintf(workdir, sizeof workdir, "/tmp/zhanye-egress-XXXXXX");
    if (!mkdtemp(workdir))
        return -1;
    src_path("conf", confdir, sizeof confdir);
    for (int i = 0; i < NSIMS; i++)
        if (simproc_start(&sims[i], workdir) != 0) {
            fprintf(stderr, "cannot start simulator %s (ZHANYE_SIM_BIN?)\n", sims[i].mode);
            return -1;
        }
    return 0;
}

static int teardown_all(void **state)
{
    int rc = 0;
    for (int i = 0; i < NSIMS; i++)
        if (simproc_stop(&sims[i]) != 0) {
            fprintf(stderr, "simulator %s did not exit cleanly\n", sims[i].mode);
            rc = -1;
        }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
    if (system(cmd) != 0)
        rc = -1;
    metrics_shutdown();
    return rc;
}

static int reset_sims(void **state)
{
    for (int i = 0; i < NSIMS; i++)
        simproc_reset(&sims[i]);
    return 0;
}

/* ---- the gateway under test ---- */

/* Opens a gateway whose every system points at its simulator; over is
 * appended to each [egress.X] section (e.g. "call_timeout_ms = 300\n"). */
static struct egress *open_gw(const char *over, struct config *cfg)
{
    static const char *const NAMES[NSIMS] = {"core", "idcheck", "face", "card", "social", "loan"};
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/zhanye.conf", workdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < NSIMS; i++)
        fprintf(f, "[egress.%s]\naddress = %s://127.0.0.1:%d\nrequired = %s\n%s\n", NAMES[i],
                i == CORE ? "tcp" : "http", sims[i].port, i == CORE ? "true" : "false",
                over ? over : "");
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

static enum egress_kind call(struct egress *eg, const char *step, json_t *in, json_t **out,
                             struct egress_error *e)
{
    enum egress_kind k = egress_call(eg, step, in, out, e);
    json_decref(in);
    return k;
}

static const char *breaker_of(struct egress *eg, const char *sys)
{
    static char s[16];
    json_t *st = egress_status(eg);
    snprintf(s, sizeof s, "%s",
             json_string_value(
                 json_object_get(json_object_get(json_object_get(st, "systems"), sys), "breaker")));
    json_decref(st);
    return s;
}

/* ---- conversions ---- */

/* ISO 9564 format 0 + eight 0xFF, SM4-ECB under the simulator's default ZPK. */
static void pin_block(const char *pan, const char *pin, char hex[33])
{
    static const uint8_t ZPK[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
                                    0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10};
    uint8_t blk[16], ct[32];
    memset(blk, 0xFF, sizeof blk);
    size_t pl = strlen(pin), cl = strlen(pan);
    blk[0] = (uint8_t)pl;
    for (size_t i = 0; i < 14; i++) {
        uint8_t nib = i < pl ? (uint8_t)(pin[i] - '0') : 0x0F;
        blk[1 + i / 2] = (uint8_t)(i % 2 ? (blk[1 + i / 2] & 0xF0) | nib : (nib << 4) | 0x0F);
    }
    for (int i = 0; i < 12; i++) {
        uint8_t d = (uint8_t)(pan[cl - 13 + (size_t)i] - '0');
        blk[2 + i / 2] ^= (uint8_t)(i % 2 ? d : d << 4);
    }
    int n = 0, n2 = 0;
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(x, EVP_sm4_ecb(), NULL, ZPK, NULL);
    EVP_CIPHER_CTX_set_padding(x, 0);
    EVP_EncryptUpdate(x, ct, &n, blk, 16);
    EVP_EncryptFinal_ex(x, ct + n, &n2);
    EVP_CIPHER_CTX_free(x);
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02X", ct[i]);
}

static void core_banking_round_trips_gbk(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    json_t *out;
    char id[32];
    snprintf(id, sizeof id, "11010119900307%04d", (int)(getpid() % 10000));

    /* A seeded customer: 欧阳娜娜 comes back from GBK intact. */
    assert_int_equal(call(eg, "customer_query",
                          json_pack("{s:s,s:s}", "id_type", "01", "id_no", "310104198807163222"),
                          &out, &e),
                     EGRESS_OK);
    assert_string_equal(json_string_value(json_object_get(out, "name")), "欧阳娜娜");
    assert_null(json_object_get(out, "rc")); /* header fields are not handed on */
    json_decref(out);

    /* A new customer with a GBK name and address, then the whole account chain. */
    assert_int_equal(
        call(eg, "customer_create",
             json_pack("{s:s,s:s,s:s,s:s,s:s}", "id_type", "01", "id_no", id, "name", "司马相如",
                       "mobile", "13600136000", "address", "四川省成都市锦江区"),
             &out, &e),
        EGRESS_OK);
    char cust[32];
    snprintf(cust, sizeof cust, "%s", json_string_value(json_object_get(out, "cust_no")));
    json_decref(out);
    assert_int_equal(
        call(eg, "customer_query", json_pack("{s:s,s:s}", "id_type", "01", "id_no", id), &out, &e),
        EGRESS_OK);
    assert_string_equal(json_string_value(json_object_get(out, "name")), "司马相如");
    assert_string_equal(json_string_value(json_object_get(out, "cust_no")), cust);
    json_decref(out);

    assert_int_equal(
        call(eg, "open_account",
             json_pack("{s:s,s:s,s:s}", "cust_no", cust, "currency", "CNY", "product", "SAV001"),
             &out, &e),
        EGRESS_OK);
    char acct[32];
    snprintf(acct, sizeof acct, "%s", json_string_value(json_object_get(out, "account_no")));
    json_decref(out);
    assert_int_equal(strlen(acct), 19);
    assert_int_equal(call(eg, "issue_card",
                          json_pack("{s:s,s:s}", "account_no", acct, "card_product", "DEBIT1"),
                          &out, &e),
                     EGRESS_OK);
    char pan[32], blk[33];
    snprintf(pan, sizeof pan, "%s", json_string_value(json_object_get(out, "card_no")));
    json_decref(out);
    pin_block(pan, "147258", blk);
    assert_int_equal(
        call(eg, "set_pin", json_pack("{s:s,s:s}", "card_no", pan, "pin_block", blk), &out, &e),
        EGRESS_OK);
    json_decref(out);
    blk[5] = blk[5] == 'A' ? 'B' : 'A'; /* a corrupted block is refused by the core */
    assert_int_equal(
        call(eg, "set_pin", json_pack("{s:s,s:s}", "card_no", pan, "pin_block", blk), &out, &e),
        EGRESS_E_BUSINESS);
    assert_string_equal(e.code, "2003");
    json_decref(out);
    assert_int_equal(call(eg, "balance_query", json_pack("{s:s}", "account_no", acct), &out, &e),
                     EGRESS_OK);
    assert_string_equal(json_string_value(json_object_get(out, "balance")), "0.00");
    json_decref(out);
    assert_int_equal(call(eg, "balance_query",
                          json_pack("{s:s}", "account_no", "6217000000000000011"), &out, &e),
                     EGRESS_OK);
    assert_string_equal(json_string_value(json_object_get(out, "balance")), "12345.67");
    assert_string_equal(json_string_value(json_object_get(out, "currency")), "CNY");
    json_decref(out);
    assert_int_equal(
        call(eg, "sign_ebank",
             json_pack("{s:s,s:s,s:s}", "cust_no", cust, "mobile", "13600136000", "level", "2"),
             &out, &e),
        EGRESS_OK);
    assert_int_equal(strncmp(json_string_value(json_object_get(out, "ebank_id")), "EB", 2), 0);
    json_decref(out);
    assert_int_equal(call(eg, "agency_signup",
                          json_pack("{s:s,s:s,s:s,s:s}", "account_no", acct, "agency_code",
                                    "WATER1", "payer_no", "0101-778899", "payer_name", "司马相如"),
                          &out, &e),
                     EGRESS_OK);
    json_decref(out);

    /* A business refusal carries the code and the system's own (GBK) message. */
    assert_int_equal(call(eg, "customer_query",
                          json_pack("{s:s,s:s}", "id_type", "01", "id_no", "999999999999999999"),
                          &out, &e),
                     EGRESS_E_BUSINESS);
    assert_string_equal(e.code, "1001");
    assert_string_equal(e.message, "客户不存在");
    assert_non_null(out);
    json_decref(out);
    assert_string_equal(breaker_of(eg, "core"), "closed"); /* refusals are not failures */
    close_gw(eg, &cfg);
}

static void mapping_errors_never_reach_the_system(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    json_t *out;
    long long before = simproc_stat(&sims[CORE], "requests");
    /* 31 Chinese characters are 62 bytes of GBK; the name field holds 60. */
    char name[128] = "";
    for (int i = 0; i < 31; i++)
        strcat(name, "张");
    assert_int_equal(call(eg, "customer_create",
                          json_pack("{s:s,s:s,s:s,s:s}", "id_type", "01", "id_no",
                                    "110101199003070000", "name", name, "mobile", "13600136000"),
                          &out, &e),
                     EGRESS_E_MAPPING);
    assert_null(out);
    assert_string_equal(e.field, "name");
    assert_non_null(strstr(e.message, "62 bytes in GBK, the field holds 60"));
    /* a PIN block too long for its field (secret: true): named, never shown, not even its
     * length (the error is logged and may reach the tablet's message) */
    const char *blk = "0123456789ABCDEF0123456789ABCDEF77";
    assert_int_equal(
        call(eg, "set_pin",
             json_pack("{s:s,s:s}", "card_no", "6228480000000012345", "pin_block", blk), &out, &e),
        EGRESS_E_MAPPING);
    assert_string_equal(e.field, "pin_block");
    assert_non_null(strstr(e.message, "pin_block"));
    if (strstr(e.message, "0123456789") || strstr(e.message, "34") || strstr(e.message, "bytes"))
        fail_msg("the error shows something of the PIN block: %s", e.message);
    assert_int_equal(call(eg, "customer_query", json_pack("{s:s}", "id_type", "01"), &out, &e),
                     EGRESS_E_MAPPING);
    assert_string_equal(e.field, "id_no");
    assert_int_equal(
        call(eg, "id_check", json_pack("{s:i,s:s}", "id_no", 5, "name", "x"), &out, &e),
        EGRESS_E_MAPPING);
    assert_string_equal(e.field, "idNo");
    assert_int_equal(simproc_stat(&sims[CORE], "requests"), before);
    assert_int_equal(call(eg, "no_such_step", NULL, &out, &e), EGRESS_E_ROUTE);
    assert_int_equal(e.attempts, 0);
    close_gw(eg, &cfg);
}

static void http_systems_convert(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    json_t *out;
    static const struct {
        const char *id, *name, *want;
    } IDS[] = {{"110101199003077578", "张三", "match"},
               {"110101199003077578", "李四", "mismatch"},
               {"120101199001010011", "王五", "not_found"}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(call(eg, "id_check",
                              json_pack("{s:s,s:s}", "id_no", IDS[i].id, "name", IDS[i].name), &out,
                              &e),
                         EGRESS_OK);
        assert_string_equal(json_string_value(json_object_get(out, "result")), IDS[i].want);
        json_decref(out);
    }
    /* "FACE:110101199003077578" in base64 is the demo's matching face. */
    assert_int_equal(call(eg, "face_compare",
                          json_pack("{s:s,s:s}", "id_no", "110101199003077578", "image",
                                    "RkFDRToxMTAxMDExOTkwMDMwNzc1Nzg="),
                          &out, &e),
                     EGRESS_OK);
    assert_true(json_real_value(json_object_get(out, "score")) >= 90);
    json_decref(out);
    assert_int_equal(
        call(eg, "face_compare",
             json_pack("{s:s,s:s}", "id_no", "110101199003077578", "image", "c29tZW9uZSBlbHNl"),
             &out, &e),
        EGRESS_OK);
    assert_true(json_real_value(json_object_get(out, "score")) < 50);
    json_decref(out);
    assert_int_equal(call(eg, "credit_card_apply",
                          json_pack("{s:s,s:s,s:s}", "id_no", "310104198807163222", "name",
                                    "欧阳娜娜", "product", "GOLD"),
                          &out, &e),
                     EGRESS_OK);
    json_t *app_no = json_incref(json_object_get(out, "application_no"));
    json_decref(out);
    assert_int_equal(
        call(eg, "credit_card_status", json_pack("{s:o}", "application_no", app_no), &out, &e),
        EGRESS_OK);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "approved");
    json_decref(out);
    assert_int_equal(call(eg, "credit_card_apply",
                          json_pack("{s:s,s:s,s:s}", "id_no", "310104198807163222", "name",
                                    "欧阳娜娜", "product", "NOPE"),
                          &out, &e),
                     EGRESS_E_BUSINESS);
    assert_string_equal(e.code, "2001");
    json_decref(out);
    assert_int_equal(call(eg, "social_card_apply",
                          json_pack("{s:s,s:s}", "id_no", "440106197512254411", "name", "李四"),
                          &out, &e),
                     EGRESS_OK);
    assert_true(json_is_true(json_object_get(out, "bank_linked")));
    json_decref(out);
    assert_int_equal(call(eg, "loan_apply",
                          json_pack("{s:s,s:s,s:i}", "id_no", "440106197512254411", "amount",
                                    "800000.00", "term_months", 36),
                          &out, &e),
                     EGRESS_OK);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "rejected");
    json_decref(out);
    close_gw(eg, &cfg);
}

/* ---- the businesses' later steps and compensations ---- */

/* Calls step with in (consumed) and expects want; the reply (or NULL). */
static json_t *expect(struct egress *eg, const char *step, json_t *in, enum egress_kind want,
                      struct egress_error *e)
{
    json_t *out = NULL;
    enum egress_kind k = call(eg, step, in, &out, e);
    if (k != want)
        fail_msg("%s: %s (%s), wanted %s", step, egress_kind_name(k), e->message,
                 egress_kind_name(want));
    return out;
}

static const char *sval(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static void face_liveness(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    const char *img = "RkFDRToxMTAxMDExOTkwMDMwNzc1Nzg="; /* FACE:110101199003077578 */
    json_t *out =
        expect(eg, "face_compare",
               json_pack("{s:s,s:s}", "id_no", "110101199003077578", "image", img), EGRESS_OK, &e);
    assert_true(json_is_true(json_object_get(out, "liveness")));
    json_decref(out);
    out = expect(eg, "face_compare",
                 json_pack("{s:s,s:s,s:b}", "id_no", "110101199003077578", "image", img, "live", 0),
                 EGRESS_OK, &e);
    assert_true(json_is_false(json_object_get(out, "liveness")));
    json_decref(out);
    /* "SPOOF:110101199003077578": the test marker of a photo of a photo. */
    out = expect(eg, "face_compare",
                 json_pack("{s:s,s:s}", "id_no", "110101199003077578", "image",
                           "U1BPT0Y6MTEwMTAxMTk5MDAzMDc3NTc4"),
                 EGRESS_OK, &e);
    assert_true(json_is_false(json_object_get(out, "liveness")));
    json_decref(out);
    close_gw(eg, &cfg);
}

static json_t *prescreen_in(const char *amount, int term, const char *purpose, const char *coll)
{
    json_t *in = json_pack("{s:s,s:s,s:s,s:i,s:s}", "id_no", "440106197512254411", "name", "李四",
                           "amount", amount, "term_months", term, "purpose", purpose);
    if (coll)
        json_object_set_new(in, "collateral", json_string(coll));
    return in;
}

static void loan_prescreen_rules(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    static const struct {
        const char *amount;
        int term;
        const char *purpose, *coll, *decision, *limit, *reason;
    } CASES[] = {
        {"200000.00", 36, "car", NULL, "pass", "200000.00", NULL},
        {"800000.00", 36, "housing", NULL, "refer", "500000.00", "collateral"},
        {"800000.00", 36, "housing", "house:京(2020)0001", "pass", "800000.00", NULL},
        {"100000.00", 180, "business", "none", "refer", "500000.00", "term"},
        {"100000.00", 12, "gambling", NULL, "decline", "0.00", "purpose"},
        {"6000000.00", 12, "business", "land", "decline", "0.00", "amount"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        json_t *out =
            expect(eg, "loan_prescreen",
                   prescreen_in(CASES[i].amount, CASES[i].term, CASES[i].purpose, CASES[i].coll),
                   EGRESS_OK, &e);
        assert_string_equal(sval(out, "decision"), CASES[i].decision);
        assert_string_equal(sval(out, "limit"), CASES[i].limit);
        json_t *r = json_object_get(out, "reasons");
        assert_int_equal(json_array_size(r), CASES[i].reason ? 1 : 0);
        if (CASES[i].reason)
            assert_string_equal(json_string_value(json_array_get(r, 0)), CASES[i].reason);
        json_decref(out);
    }
    /* A missing purpose never reaches the system. */
    json_t *in = prescreen_in("1.00", 12, "car", NULL);
    json_object_del(in, "purpose");
    expect(eg, "loan_prescreen", in, EGRESS_E_MAPPING, &e);
    assert_string_equal(e.field, "purpose");
    close_gw(eg, &cfg);
}

static void card_sign_and_cancel(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    const char *sm3 = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";
    json_t *out = expect(eg, "credit_card_apply",
                         json_pack("{s:s,s:s,s:s}", "id_no", "310104198807163222", "name",
                                   "欧阳娜娜", "product", "GOLD"),
                         EGRESS_OK, &e);
    char no[32];
    snprintf(no, sizeof no, "%s", sval(out, "application_no"));
    json_decref(out);
    out = expect(
        eg, "card_sign",
        json_pack("{s:s,s:s,s:b}", "application_no", no, "signed_form_sm3", sm3, "face_to_face", 0),
        EGRESS_E_BUSINESS, &e);
    assert_string_equal(e.code, "2005");
    json_decref(out);
    out = expect(
        eg, "card_sign",
        json_pack("{s:s,s:s,s:b}", "application_no", no, "signed_form_sm3", sm3, "face_to_face", 1),
        EGRESS_OK, &e);
    assert_string_equal(sval(out, "status"), "signed");
    json_decref(out);
    out = expect(eg, "credit_card_status", json_pack("{s:s}", "application_no", no), EGRESS_OK, &e);
    assert_string_equal(sval(out, "status"), "signed");
    json_decref(out);
    out = expect(eg, "card_cancel", json_pack("{s:s}", "application_no", no), EGRESS_OK, &e);
    assert_string_equal(sval(out, "status"), "cancelled");
    json_decref(out);
    out = expect(eg, "credit_card_status", json_pack("{s:s}", "application_no", no), EGRESS_OK, &e);
    assert_string_equal(sval(out, "status"), "cancelled");
    json_decref(out);
    out = expect(eg, "card_cancel", json_pack("{s:s}", "application_no", "CC99999999999999"),
                 EGRESS_E_BUSINESS, &e);
    assert_string_equal(e.code, "2004");
    json_decref(out);
    close_gw(eg, &cfg);
}

static void social_activate_and_cancel(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    json_t *out = expect(eg, "social_card_apply",
                         json_pack("{s:s,s:s}", "id_no", "440106197512254411", "name", "李四"),
                         EGRESS_OK, &e);
    char no[32];
    snprintf(no, sizeof no, "%s", sval(out, "social_card_no"));
    json_decref(out);
    /* Someone else's ID number does not activate the card. */
    out = expect(eg, "social_card_activate",
                 json_pack("{s:s,s:s}", "id_no", "110101199003077578", "card_no", no),
                 EGRESS_E_BUSINESS, &e);
    assert_string_equal(e.code, "2004");
    json_decref(out);
    out =
        expect(eg, "social_card_activate",
               json_pack("{s:s,s:s}", "id_no", "440106197512254411", "card_no", no), EGRESS_OK, &e);
    assert_string_equal(sval(out, "status"), "active");
    json_decref(out);
    out = expect(eg, "social_card_cancel", json_pack("{s:s}", "card_no", no), EGRESS_OK, &e);
    assert_string_equal(sval(out, "status"), "cancelled");
    json_decref(out);
    out = expect(eg, "social_card_activate",
                 json_pack("{s:s,s:s}", "id_no", "440106197512254411", "card_no", no),
                 EGRESS_E_BUSINESS, &e);
    assert_string_equal(e.code, "2006");
    json_decref(out);
    close_gw(eg, &cfg);
}

static void loan_cancel(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    json_t *out = expect(eg, "loan_apply",
                         json_pack("{s:s,s:s,s:i}", "id_no", "440106197512254411", "amount",
                                   "100000.00", "term_months", 24),
                         EGRESS_OK, &e);
    char no[32];
    snprintf(no, sizeof no, "%s", sval(out, "loan_no"));
    json_decref(out);
    out = expect(eg, "loan_cancel", json_pack("{s:s}", "application_no", no), EGRESS_OK, &e);
    assert_string_equal(sval(out, "status"), "cancelled");
    json_decref(out);
    out = expect(eg, "loan_cancel", json_pack("{s:s}", "application_no", "LN00000000009999"),
                 EGRESS_E_BUSINESS, &e);
    assert_string_equal(e.code, "2004");
    json_decref(out);
    close_gw(eg, &cfg);
}

/* The workflow engine re-sends a step with the same serial after an unknown
 * outcome: the system answers the first answer and does the work once. */
static void repeated_serial_is_answered_once(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(NULL, &cfg);
    struct egress_error e;
    char ser[48];
    snprintf(ser, sizeof ser, "BIZ-%ld-1", (long)getpid());
    json_t *apply = json_pack("{s:s,s:s,s:s,s:s}", "id_no", "310104198807163222", "name",
                              "欧阳娜娜", "product", "GOLD", "serial", ser);
    json_t *a = expect(eg, "credit_card_apply", json_incref(apply), EGRESS_OK, &e);
    json_t *b = expect(eg, "credit_card_apply", json_incref(apply), EGRESS_OK, &e);
    assert_string_equal(sval(a, "application_no"), sval(b, "application_no"));
    /* Without a serial (or another one) it is a new application. */
    json_object_del(apply, "serial");
    json_t *c = expect(eg, "credit_card_apply", apply, EGRESS_OK, &e);
    assert_string_not_equal(sval(a, "application_no"), sval(c, "application_no"));
    json_decref(b);
    json_decref(c);
    /* A compensation re-sent after the record changed still answers its first answer. */
    json_t *cancel =
        json_pack("{s:s,s:s}", "application_no", sval(a, "application_no"), "serial", "CANCEL-1");
    json_decref(a);
    json_t *x = expect(eg, "card_cancel", json_incref(cancel), EGRESS_OK, &e);
    json_t *y = expect(eg, "card_cancel", cancel, EGRESS_OK, &e);
    assert_true(json_equal(x, y));
    json_decref(x);
    json_decref(y);
    /* Loans, social cards and the pre-screen: the same serial, the same number. */
    json_t *loan = json_pack("{s:s,s:s,s:i,s:s}", "id_no", "440106197512254411", "amount",
                             "1000.00", "term_months", 12, "serial", ser);
    a = expect(eg, "loan_apply", json_incref(loan), EGRESS_OK, &e);
    b = expect(eg, "loan_apply", loan, EGRESS_OK, &e);
    assert_string_equal(sval(a, "loan_no"), sval(b, "loan_no"));
    json_decref(a);
    json_decref(b);
    json_t *soc =
        json_pack("{s:s,s:s,s:s}", "id_no", "440106197512254411", "name", "李四", "serial", ser);
    a = expect(eg, "social_card_apply", json_incref(soc), EGRESS_OK, &e);
    b = expect(eg, "social_card_apply", soc, EGRESS_OK, &e);
    assert_string_equal(sval(a, "social_card_no"), sval(b, "social_card_no"));
    json_decref(a);
    json_decref(b);
    long long before = simproc_stat(&sims[FACE], "requests");
    json_t *face = json_pack("{s:s,s:s,s:s}", "id_no", "110101199003077578", "image",
                             "RkFDRToxMTAxMDExOTkwMDMwNzc1Nzg=", "serial", ser);
    a = expect(eg, "face_compare", json_incref(face), EGRESS_OK, &e);
    b = expect(eg, "face_compare", face, EGRESS_OK, &e);
    assert_true(json_equal(a, b));
    assert_int_equal(simproc_stat(&sims[FACE], "requests"), before + 2); /* both reached it */
    json_decref(a);
    json_decref(b);
    close_gw(eg, &cfg);
}

/* ---- breaker ---- */

#define BREAKER_CONF                                                                               \
    "breaker_window = 10\nbreaker_min_calls = 4\nbreaker_failure_rate = 50\n"                      \
    "breaker_open_ms = 300\nbreaker_half_open_calls = 1\nretries = 0\ncall_timeout_ms = 1000\n"

static json_t *balance_in(void)
{
    return json_pack("{s:s}", "account_no", "6217000000000000011");
}

static void breaker_opens_refuses_and_recovers(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(BREAKER_CONF, &cfg);
    struct egress_error e;
    json_t *out;
    simproc_fault(&sims[CORE], "{\"error_rate\":1}");
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_REMOTE);
        assert_string_equal(e.code, "9999");
        assert_string_equal(breaker_of(eg, "core"), i < 4 ? "closed" : "open");
    }
    assert_false(egress_ready(eg)); /* core is required */
    long long reached = simproc_stat(&sims[CORE], "requests");
    assert_int_equal(reached, 4);
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = clock_mono_ns();
        assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_OPEN);
        assert_true(ms_since(t0) < 20); /* immediate: no I/O at all */
        assert_int_equal(e.attempts, 0);
    }
    assert_int_equal(simproc_stat(&sims[CORE], "requests"), reached); /* nothing got through */

    /* Still failing when the probe goes: open again, and refusing at once. */
    usleep(320 * 1000);
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_REMOTE);
    assert_string_equal(breaker_of(eg, "core"), "open");
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_OPEN);

    /* Recovered: the next probe closes it. */
    simproc_fault(&sims[CORE], "{}");
    usleep(320 * 1000);
    assert_string_equal(breaker_of(eg, "core"), "half_open");
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_OK);
    json_decref(out);
    assert_string_equal(breaker_of(eg, "core"), "closed");
    assert_true(egress_ready(eg));
    assert_int_equal(simproc_stat(&sims[CORE], "requests"), reached + 2);
    close_gw(eg, &cfg);
}

static void breaker_opens_when_a_system_is_down(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(BREAKER_CONF, &cfg);
    struct egress_error e;
    json_t *out;
    json_t *in = json_pack("{s:s,s:s}", "id_no", "110101199003077578", "name", "张三");
    simproc_fault(&sims[IDCHECK], "{\"refuse\":true}");
    for (int i = 1; i <= 4; i++)
        assert_int_equal(egress_call(eg, "id_check", in, &out, &e), EGRESS_E_CONNECT);
    assert_string_equal(breaker_of(eg, "idcheck"), "open");
    assert_true(egress_ready(eg)); /* idcheck is not required */
    assert_int_equal(egress_call(eg, "id_check", in, &out, &e), EGRESS_E_OPEN);
    simproc_fault(&sims[IDCHECK], "{}");
    usleep(320 * 1000);
    assert_int_equal(egress_call(eg, "id_check", in, &out, &e), EGRESS_OK);
    json_decref(out);
    assert_string_equal(breaker_of(eg, "idcheck"), "closed");
    json_decref(in);
    close_gw(eg, &cfg);
}

/* ---- bulkhead ---- */

struct load {
    struct egress *eg;
    const char *step;
    json_t *in;
    int calls, ok;
    pthread_mutex_t mu;
};

static void *hammer(void *arg)
{
    struct load *l = arg;
    for (int i = 0; i < l->calls; i++) {
        json_t *out = NULL;
        enum egress_kind k = egress_call(l->eg, l->step, l->in, &out, NULL);
        json_decref(out);
        pthread_mutex_lock(&l->mu);
        l->ok += k == EGRESS_OK;
        pthread_mutex_unlock(&l->mu);
    }
    return NULL;
}

static void run_load(struct egress *eg, const char *step, json_t *in, int threads, int calls)
{
    struct load l = {eg, step, in, calls, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_t th[16];
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, hammer, &l);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(l.ok, threads * calls);
}

static void simulators_never_see_more_than_max_concurrent(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(
        "max_concurrent = 3\nqueue = 64\nmax_wait_ms = 5000\ncall_timeout_ms = 8000\n", &cfg);
    simproc_fault(&sims[CORE], "{\"latency_ms\":40}");
    simproc_fault(&sims[CARD], "{\"latency_ms\":40}");
    json_t *bal = balance_in();
    run_load(eg, "balance_query", bal, 10, 3);
    json_t *apply = json_pack("{s:s,s:s,s:s}", "id_no", "310104198807163222", "name", "欧阳娜娜",
                              "product", "PLAT");
    run_load(eg, "credit_card_apply", apply, 10, 3);
    long long core_peak = simproc_stat(&sims[CORE], "peak_connections");
    long long card_peak = simproc_stat(&sims[CARD], "peak_connections");
    long long card_busy = simproc_stat(&sims[CARD], "peak_in_flight");
    assert_true(core_peak <= 3 && core_peak >= 2);
    assert_true(card_peak <= 3 && card_peak >= 2);
    assert_true(card_busy <= 3);
    json_decref(bal);
    json_decref(apply);
    close_gw(eg, &cfg);
}

static void a_full_queue_refuses_at_once(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw("max_concurrent = 1\nqueue = 0\ncall_timeout_ms = 2000\n", &cfg);
    simproc_fault(&sims[CORE], "{\"latency_ms\":300}");
    pthread_t th;
    struct load l = {eg, "balance_query", balance_in(), 1, 0, PTHREAD_MUTEX_INITIALIZER};
    pthread_create(&th, NULL, hammer, &l);
    while (simproc_stat(&sims[CORE], "in_flight") < 1)
        usleep(2000);
    struct egress_error e;
    json_t *out;
    uint64_t t0 = clock_mono_ns();
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_BUSY);
    assert_true(ms_since(t0) < 20);
    pthread_join(th, NULL);
    json_decref(l.in);
    close_gw(eg, &cfg);
}

/* ---- deadlines ---- */

static void expect_timeout(struct egress *eg, const char *step, json_t *in, double timeout_ms)
{
    struct egress_error e;
    json_t *out;
    uint64_t t0 = clock_mono_ns();
    enum egress_kind k = call(eg, step, in, &out, &e);
    double took = ms_since(t0);
    if (k != EGRESS_E_TIMEOUT || took < timeout_ms - 1 || took > timeout_ms + SLACK_MS)
        fail_msg("%s: %s after %.1f ms (timeout %.0f ms): %s", step, egress_kind_name(k), took,
                 timeout_ms, e.message);
}

static void no_call_outlives_its_timeout(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw("call_timeout_ms = 250\nmax_concurrent = 1\nqueue = 4\n"
                                "max_wait_ms = 5000\nbreaker_min_calls = 10\n",
                                &cfg);
    simproc_fault(&sims[CORE], "{\"stall\":true}");
    simproc_fault(&sims[IDCHECK], "{\"stall\":true}");
    expect_timeout(eg, "balance_query", balance_in(), 250);
    expect_timeout(eg, "id_check",
                   json_pack("{s:s,s:s}", "id_no", "110101199003077578", "name", "张三"), 250);
    simproc_fault(&sims[CORE], "{\"latency_ms\":2000}");
    expect_timeout(eg, "balance_query", balance_in(), 250);

    /* Waiting in the bulkhead queue counts against the same deadline. */
    simproc_fault(&sims[CORE], "{\"stall\":true}");
    pthread_t th;
    struct load l = {eg, "balance_query", balance_in(), 1, 0, PTHREAD_MUTEX_INITIALIZER};
    l.ok = 0;
    pthread_create(&th, NULL, hammer, &l); /* takes the only slot, times out */
    usleep(50 * 1000);
    expect_timeout(eg, "balance_query", balance_in(), 250);
    pthread_join(th, NULL);
    json_decref(l.in);
    simproc_fault(&sims[CORE], "{}");
    simproc_fault(&sims[IDCHECK], "{}");
    close_gw(eg, &cfg);
}

/* ---- malformed replies ---- */

static void malformed_replies_are_errors(void **state)
{
    struct config cfg;
    struct egress *eg =
        open_gw("breaker_min_calls = 100\nbreaker_window = 100\nretries = 0\n", &cfg);
    struct egress_error e;
    json_t *out;
    static const char *const TCP_KINDS[] = {"prefix", "short", "layout", "encoding"};
    for (size_t i = 0; i < 4; i++) {
        char f[64];
        snprintf(f, sizeof f, "{\"malformed\":\"%s\"}", TCP_KINDS[i]);
        simproc_fault(&sims[CORE], f);
        enum egress_kind k = call(eg, "balance_query", balance_in(), &out, &e);
        if (k != EGRESS_E_PROTOCOL)
            fail_msg("core %s: %s: %s", TCP_KINDS[i], egress_kind_name(k), e.message);
        assert_null(out);
    }
    simproc_fault(&sims[CORE], "{\"malformed\":\"close\"}");
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_IO);
    static const char *const HTTP_KINDS[] = {"json", "shape", "field", "type"};
    for (size_t i = 0; i < 4; i++) {
        char f[64];
        snprintf(f, sizeof f, "{\"malformed\":\"%s\"}", HTTP_KINDS[i]);
        simproc_fault(&sims[IDCHECK], f);
        enum egress_kind k =
            call(eg, "id_check",
                 json_pack("{s:s,s:s}", "id_no", "110101199003077578", "name", "张三"), &out, &e);
        if (k != EGRESS_E_PROTOCOL)
            fail_msg("idcheck %s: %s: %s", HTTP_KINDS[i], egress_kind_name(k), e.message);
    }
    simproc_fault(&sims[CORE], "{}");
    simproc_fault(&sims[IDCHECK], "{}");
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_OK);
    json_decref(out);
    close_gw(eg, &cfg);
}

/* ---- retries ---- */

static void only_idempotent_steps_are_retried(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw("retries = 2\nretry_budget_pct = 100\nbreaker_min_calls = 100\n"
                                "breaker_window = 100\n",
                                &cfg);
    struct egress_error e;
    json_t *out;
    simproc_fault(&sims[CORE], "{\"error_rate\":1}");
    long long r0 = simproc_stat(&sims[CORE], "requests");
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_REMOTE);
    assert_int_equal(e.attempts, 3);
    assert_int_equal(simproc_stat(&sims[CORE], "requests"), r0 + 3);
    assert_int_equal(call(eg, "open_account",
                          json_pack("{s:s,s:s,s:s}", "cust_no", "C000000000000001", "currency",
                                    "CNY", "product", "SAV001"),
                          &out, &e),
                     EGRESS_E_REMOTE);
    assert_int_equal(e.attempts, 1);
    assert_int_equal(simproc_stat(&sims[CORE], "requests"), r0 + 4);
    close_gw(eg, &cfg);

    /* A 10 % budget over a window of 10 holds one retry. */
    eg = open_gw(
        "retries = 2\nretry_budget_pct = 10\nbreaker_min_calls = 10\nbreaker_window = 10\n", &cfg);
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_REMOTE);
    assert_int_equal(e.attempts, 2);
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_E_REMOTE);
    assert_int_equal(e.attempts, 1);
    simproc_fault(&sims[CORE], "{}");
    close_gw(eg, &cfg);
}

/* ---- refusals, restarts, failover ---- */

static void restart_and_failover(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw("breaker_min_calls = 100\nbreaker_window = 100\nretries = 0\n"
                                "call_timeout_ms = 2000\n",
                                &cfg);
    struct egress_error e;
    json_t *out;
    json_t *q = json_pack("{s:s,s:s}", "id_type", "01", "id_no", "110101199003077578");
    simproc_fault(&sims[CORE], "{\"refuse\":true}");
    uint64_t t0 = clock_mono_ns();
    assert_int_equal(egress_call(eg, "customer_query", q, &out, &e), EGRESS_E_CONNECT);
    assert_true(ms_since(t0) < 100);
    simproc_fault(&sims[CORE], "{}");
    json_decref(simproc_admin(&sims[CORE], "POST", "/admin/restart", "{\"down_ms\":200}"));
    assert_int_equal(egress_call(eg, "customer_query", q, &out, &e), EGRESS_OK);
    assert_string_equal(json_string_value(json_object_get(out, "name")), "张三");
    json_decref(out);
    assert_int_equal(simproc_stat(&sims[CORE], "restarts"), 1);
    json_decref(simproc_admin(&sims[CARD], "POST", "/admin/restart", "{\"down_ms\":0}"));
    assert_int_equal(call(eg, "credit_card_status",
                          json_pack("{s:s}", "application_no", "CC99999999999999"), &out, &e),
                     EGRESS_E_BUSINESS); /* kept-alive connections died; a new one is made */
    json_decref(out);
    close_gw(eg, &cfg);

    /* Two addresses, the first dead: the second answers without a retry. */
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/zhanye.conf", workdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "[egress.core]\naddress = tcp://127.0.0.1:1, tcp://127.0.0.1:%d\nretries = 0\n",
            sims[CORE].port);
    fclose(f);
    assert_int_equal(config_load(&cfg, workdir, path, err, sizeof err), 0);
    assert_int_equal(egress_open(&cfg, confdir, &eg, err, sizeof err), 0);
    assert_int_equal(egress_call(eg, "customer_query", q, &out, &e), EGRESS_OK);
    assert_int_equal(e.attempts, 1);
    json_decref(out);
    assert_int_equal(egress_call(eg, "id_check", q, &out, &e), EGRESS_E_ROUTE); /* not configured */
    assert_non_null(strstr(e.message, "[egress.idcheck]"));
    json_decref(q);
    close_gw(eg, &cfg);
}

/* ---- observability ---- */

static void metrics_and_status_per_system(void **state)
{
    struct config cfg;
    struct egress *eg = open_gw(BREAKER_CONF, &cfg);
    struct egress_error e;
    json_t *out;
    assert_int_equal(call(eg, "balance_query", balance_in(), &out, &e), EGRESS_OK);
    json_decref(out);
    simproc_fault(&sims[CORE], "{\"error_rate\":1}");
    for (int i = 0; i < 4; i++)
        call(eg, "balance_query", balance_in(), &out, &e);
    simproc_fault(&sims[CORE], "{}");
    char *m = metrics_render(NULL);
    assert_non_null(m);
    static const char *const WANT[] = {
        "zhanye_egress_breaker_state{system=\"core\"} 1",
        "zhanye_egress_breaker_transitions_total{system=\"core\",to=\"open\"}",
        "zhanye_egress_in_flight{system=\"core\"} 0",
        "zhanye_egress_waiting{system=\"core\"} 0",
        "zhanye_egress_call_duration_seconds_bucket{system=\"core\",le=\"0.005\"}",
        "zhanye_egress_errors_total{system=\"core\",kind=\"remote\"}",
        "zhanye_egress_errors_total{system=\"core\",kind=\"open\"}",
        "zhanye_egress_attempts_total{system=\"idcheck\"}",
    };
    for (size_t i = 0; i < sizeof WANT / sizeof WANT[0]; i++)
        if (!strstr(m, WANT[i]))
            fail_msg("/metrics lacks %s", WANT[i]);
    free(m);
    json_t *st = egress_status(eg);
    json_t *core = json_object_get(json_object_get(st, "systems"), "core");
    assert_string_equal(json_string_value(json_object_get(core, "breaker")), "open");
    assert_string_equal(json_string_value(json_object_get(core, "protocol")), "tcp");
    /* ok, then 3 failures: 3 of 4 >= 50 % opens it; the 5th call is refused. */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(core, "errors"), "remote")),
                     3);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(core, "errors"), "open")),
                     1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(core, "transitions"), "open")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(core, "latency"), "count")),
                     4);
    assert_false(json_is_true(json_object_get(st, "ready")));
    json_decref(st);
    close_gw(eg, &cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(core_banking_round_trips_gbk, reset_sims),
        cmocka_unit_test_setup(mapping_errors_never_reach_the_system, reset_sims),
        cmocka_unit_test_setup(http_systems_convert, reset_sims),
        cmocka_unit_test_setup(face_liveness, reset_sims),
        cmocka_unit_test_setup(loan_prescreen_rules, reset_sims),
        cmocka_unit_test_setup(card_sign_and_cancel, reset_sims),
        cmocka_unit_test_setup(social_activate_and_cancel, reset_sims),
        cmocka_unit_test_setup(loan_cancel, reset_sims),
        cmocka_unit_test_setup(repeated_serial_is_answered_once, reset_sims),
        cmocka_unit_test_setup(breaker_opens_refuses_and_recovers, reset_sims),
        cmocka_unit_test_setup(breaker_opens_when_a_system_is_down, reset_sims),
        cmocka_unit_test_setup(simulators_never_see_more_than_max_concurrent, reset_sims),
        cmocka_unit_test_setup(a_full_queue_refuses_at_once, reset_sims),
        cmocka_unit_test_setup(no_call_outlives_its_timeout, reset_sims),
        cmocka_unit_test_setup(malformed_replies_are_errors, reset_sims),
        cmocka_unit_test_setup(only_idempotent_steps_are_retried, reset_sims),
        cmocka_unit_test_setup(restart_and_failover, reset_sims),
        cmocka_unit_test_setup(metrics_and_status_per_system, reset_sims),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
