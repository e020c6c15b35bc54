/* The five business kinds besides the debit card end to end (business/
 * wf_ebank.c, wf_loan.c, wf_credit.c, wf_social.c, wf_agency.c): the core,
 * ID-check, face, credit card, social-security and loan simulators started
 * as processes (zhanye-sim), a real daemon whose [egress.*] sections point
 * at them, and real ZY1 envelopes.
 *
 *  - each kind end to end over BIZ_STEP: completed, counted in perf's
 *    business:<kind> (the loan with its amount), and the downstream system
 *    holds what the steps' out show (core's e-banking contract with the
 *    products and limits, the agency contract; the loan application, the
 *    signed credit card application, the active social-security card);
 *  - per kind, at its own downstream steps: a system failure and a stall
 *    answer downstream_unavailable and record nothing; a call whose reply
 *    is lost after the work (core's "close", an HTTP system stalled past
 *    the timeout) then the same cseq twice and a new cseq end with exactly
 *    one contract / application / card downstream;
 *  - refusals recorded (the attempt bumped) and retried on the next serial
 *    (an account closed meanwhile, a card that is not the one applied for,
 *    a cancelled credit card application, a loan the loan system rejects);
 *  - BIZ_CANCEL after each compensable step undoes it downstream (core's
 *    journal rows reversed, the HTTP systems' records cancelled through the
 *    serial of the request undone);
 *  - the loan pre-screen's decline is a recorded refusal with its reason;
 *    attachments that are not the customer's are refused (bad_request);
 *  - e-banking limits: per-transaction over daily is bad_request naming
 *    per_tx_limit, nothing recorded;
 *  - the social-security card activated later: the business stays open at
 *    `activate` (BIZ_LIST, BIZ_GET), then completes. */
#include "channel/sm.h"
#include "data/store.h"
#include "foundation/codec.h"
#include "bizflow.h"
#include "simproc.h"
#include "simrig.h"
#include "tablet.h"
#include "testd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define ID_WX "11010519491231002X" /* 王秀英 */
#define ID_ZL "440106197512254416" /* 赵六 */

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct store *DB;
enum { CORE, IDCHECK, FACE, CARD, SOCIAL, LOAN, NSIMS };
static struct simproc SIMS[NSIMS] = {{.mode = "core"}, {.mode = "idcheck"}, {.mode = "face"},
                                     {.mode = "card"}, {.mode = "social"},  {.mode = "loan"}};
static struct simrig RIG;
static int SERIAL_SEQ;

/* ---- the kinds' steps ---------------------------------------------------------------- */

struct kind {
    const char *name;
    const char *const *steps;
    size_t n;
};

static const char *const S_EBANK[] = {"idcard",   "idcheck", "customer",  "account",
                                      "products", "sign",    "signature", "voucher"};
static const char *const S_LOAN[] = {"idcard",    "idcheck", "customer",  "application",
                                     "prescreen", "submit",  "signature", "voucher"};
static const char *const S_CREDIT[] = {"idcard", "idcheck", "face",      "customer", "apply",
                                       "form",   "sign",    "signature", "voucher"};
static const char *const S_SOCIAL[] = {"idcard", "idcheck",  "face",      "customer",
                                       "apply",  "activate", "signature", "voucher"};
static const char *const S_AGENCY[] = {"idcard", "idcheck",   "customer", "account",
                                       "agency", "signature", "voucher"};
#define KIND(n, s)                                                                                 \
    {                                                                                              \
        n, s, sizeof s / sizeof s[0]                                                               \
    }
static const struct kind K_EBANK = KIND("ebank", S_EBANK), K_LOAN = KIND("loan", S_LOAN),
                         K_CREDIT = KIND("credit_card", S_CREDIT),
                         K_SOCIAL = KIND("social_card", S_SOCIAL),
                         K_AGENCY = KIND("agency", S_AGENCY);

/* ---- helpers -------------------------------------------------------------------- */

static json_t *call(const char *tx, const char *data, const char *cseq)
{
    return tablet_must(&T1, tx, data, cseq);
}

static const char *rstr(json_t *a, const char *k)
{
    return json_string_value(json_object_get(json_object_get(answer_data(a), "result"), k));
}

static void b64(const void *p, size_t n, char *out, size_t cap)
{
    assert_true(cap >= 4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

static int64_t core_int(const char *fmt, ...)
{
    char q[512], path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/core.db", SIMS[CORE].dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
        fail_msg("core.db: %s: %s", q, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int64_t db_int(const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return v;
}

/* The business's core requests of tx code that succeeded (and are not reversed). */
static int64_t journal_ok(const char *biz_no, const char *code, const char *status)
{
    return core_int("SELECT COUNT(*) FROM journal WHERE serial LIKE '%s%%' AND tx_code = '%s' "
                    "AND rc = '0000' AND status = '%s'",
                    biz_no, code, status);
}

/* One fixed-length request to the core simulator; the reply into reply. */
static size_t core_raw(const char *req, char *reply, size_t cap)
{
    char frame[512];
    size_t n = strlen(req);
    snprintf(frame, sizeof frame, "%06zu%s", n, req);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)SIMS[CORE].port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(send(fd, frame, n + 6, 0), (ssize_t)(n + 6));
    size_t got = 0;
    ssize_t r;
    while (got < cap - 1 && (r = recv(fd, reply + got, cap - 1 - got, 0)) > 0)
        got += (size_t)r;
    close(fd);
    reply[got] = '\0';
    return got;
}

/* An account opened in core for cust_no (as the customer's existing one). */
static void core_open(const char *cust_no, char acct[20])
{
    char req[128], reply[512], serial[24];
    snprintf(serial, sizeof serial, "T%06d%013d", (int)(getpid() % 1000000), ++SERIAL_SEQ);
    snprintf(req, sizeof req, "200101ZHYE%-20.20s%-16.16sCNYSAV001", serial, cust_no);
    assert_true(core_raw(req, reply, sizeof reply) >= 6 + 109);
    assert_memory_equal(reply + 6 + 26, "0000", 4);
    memcpy(acct, reply + 6 + 90, 19);
    acct[19] = '\0';
}

/* POST path {body} to an HTTP simulator; its JSON answer. */
static json_t *sim_post(int sim, const char *path, const char *body)
{
    char req[1024], reply[4096];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     path, strlen(body), body);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)SIMS[sim].port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(send(fd, req, (size_t)n, 0), n);
    size_t got = 0;
    ssize_t r;
    while (got < sizeof reply - 1 && (r = recv(fd, reply + got, sizeof reply - 1 - got, 0)) > 0)
        got += (size_t)r;
    close(fd);
    reply[got] = '\0';
    const char *b = strstr(reply, "\r\n\r\n");
    assert_non_null(b);
    json_t *j = json_loads(b + 4, 0, NULL);
    assert_non_null(j);
    return j;
}

/* A simulator's answer member as text ("" when none). */
static void sim_status(int sim, const char *path, const char *key, const char *no, char *out,
                       size_t cap)
{
    char body[128];
    snprintf(body, sizeof body, "{\"%s\":\"%s\"}", key, no);
    json_t *j = sim_post(sim, path, body);
    const char *s = json_string_value(json_object_get(j, "status"));
    snprintf(out, cap, "%s", s ? s : "");
    json_decref(j);
}

/* The live (not cancelled) records of a person in an HTTP simulator. */
static int sim_count(int sim, const char *path, const char *id_no)
{
    char body[96];
    snprintf(body, sizeof body, "{\"idNo\":\"%s\"}", id_no);
    json_t *j = sim_post(sim, path, body);
    int n = (int)json_integer_value(json_object_get(j, "count"));
    json_decref(j);
    return n;
}

/* ---- attachments: a PNG uploaded and linked to a customer ------------------------------- */

static uint32_t crc32_of(const uint8_t *p, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static size_t be32(uint8_t *o, uint32_t v)
{
    o[0] = (uint8_t)(v >> 24), o[1] = (uint8_t)(v >> 16), o[2] = (uint8_t)(v >> 8),
    o[3] = (uint8_t)v;
    return 4;
}

static size_t png_chunk(uint8_t *o, const char *type, const uint8_t *d, size_t n)
{
    size_t k = be32(o, (uint32_t)n);
    memcpy(o + k, type, 4);
    if (n)
        memcpy(o + k + 4, d, n);
    uint32_t crc = crc32_of(o + k, 4 + n, 0);
    return k + 4 + n + be32(o + k + 4 + n, crc);
}

/* A 2x2 RGB PNG whose pixels depend on seed (stored deflate). */
static size_t make_png(uint8_t *o, unsigned seed)
{
    static const uint8_t sig[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    uint8_t ihdr[13] = {0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0}, raw[14], z[64];
    size_t n = 0, zn = 0;
    memcpy(o, sig, sizeof sig);
    n += sizeof sig;
    n += png_chunk(o + n, "IHDR", ihdr, sizeof ihdr);
    for (int y = 0; y < 2; y++) {
        raw[y * 7] = 0;
        for (int x = 0; x < 6; x++)
            raw[y * 7 + 1 + x] = (uint8_t)(seed * 31 + (unsigned)(x * 7 + y * 13));
    }
    z[zn++] = 0x78, z[zn++] = 0x01;
    z[zn++] = 1, z[zn++] = 14, z[zn++] = 0, z[zn++] = (uint8_t)~14, z[zn++] = 0xFF;
    memcpy(z + zn, raw, 14);
    zn += 14;
    uint32_t a = 1, b = 0;
    for (int i = 0; i < 14; i++)
        a = (a + raw[i]) % 65521, b = (b + a) % 65521;
    zn += be32(z + zn, (b << 16) | a);
    n += png_chunk(o + n, "IDAT", z, zn);
    n += png_chunk(o + n, "IEND", NULL, 0);
    return n;
}

static int64_t upload_png(int64_t customer, unsigned seed)
{
    uint8_t png[256], d[SM3_LEN];
    size_t n = make_png(png, seed);
    char hex[65], text[512], data[1024];
    sm_part part = {png, n};
    assert_int_equal(sm3_digest(&part, 1, d), SM_OK);
    assert_int_equal(hex_encode(d, sizeof d, hex, sizeof hex), 64);
    snprintf(data, sizeof data,
             "{\"kind\":\"photo\",\"name\":\"form.png\",\"size\":%zu,\"sm3\":\"%s\","
             "\"link\":{\"customer_id\":%lld}}",
             n, hex, (long long)customer);
    json_t *a = call("ATTACH_BEGIN", data, NULL);
    answer_expect(a, "OK");
    int64_t id = json_integer_value(json_object_get(answer_data(a), "upload_id"));
    json_decref(a);
    b64(png, n, text, sizeof text);
    snprintf(data, sizeof data, "{\"upload_id\":%lld,\"index\":0,\"data\":\"%s\"}", (long long)id,
             text);
    a = call("ATTACH_CHUNK", data, NULL);
    answer_expect(a, "OK");
    json_decref(a);
    snprintf(data, sizeof data, "{\"upload_id\":%lld}", (long long)id);
    a = call("ATTACH_END", data, NULL);
    answer_expect(a, "OK");
    json_decref(a);
    return id;
}

/* ---- the flow ------------------------------------------------------------------- */

struct biz {
    const struct kind *k;
    int64_t id, customer_id, attachment;
    char no[16];
    const char *id_no, *name;
    char cust_no[20], account[20], pan[20], social_no[20];
    int64_t amount; /* loan, fen */
};

static void start(struct biz *b, const struct kind *k, const char *id_no, const char *name)
{
    memset(b, 0, sizeof *b);
    char data[64];
    snprintf(data, sizeof data, "{\"kind\":\"%s\"}", k->name);
    json_t *a = call("BIZ_START", data, NULL);
    answer_expect(a, "OK");
    b->k = k;
    b->id = json_integer_value(json_object_get(answer_data(a), "biz_id"));
    snprintf(b->no, sizeof b->no, "%s", answer_str(a, "biz_no"));
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "steps")), k->n);
    json_decref(a);
    b->id_no = id_no;
    b->name = name;
    b->amount = 20000000; /* 200 000.00 yuan */
}

static json_t *step_cseq(const struct biz *b, const char *name, const char *input, const char *cseq)
{
    size_t n = strlen(input) + 128;
    char *data = malloc(n);
    snprintf(data, n, "{\"biz_id\":%lld,\"step\":\"%s\",\"input\":%s}", (long long)b->id, name,
             input);
    json_t *a = call("BIZ_STEP", data, cseq);
    free(data);
    return a;
}

/* The social-security card number of the apply step's out (masked as
 * SCnn********nnnn: the simulator numbers them SC + 14 digits) and the
 * number of its bank function, as the card reader reads it. */
static void social_numbers(struct biz *b, const char *masked)
{
    unsigned seq = (unsigned)atoi(masked + strlen(masked) - 4);
    snprintf(b->social_no, sizeof b->social_no, "SC%014u", seq);
    snprintf(b->pan, 19, "623091%012u", seq);
    int sum = 0;
    for (int i = 0; i < 18; i++) {
        int d = b->pan[17 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    b->pan[18] = (char)('0' + (10 - sum % 10) % 10);
    b->pan[19] = '\0';
}

/* The input of step name for business b (malloc'd JSON text). */
static char *input_of(struct biz *b, const char *name)
{
    char *in = malloc(4096);
    if (strcmp(name, "idcard") == 0) {
        char photo[64];
        b64("WLT-PHOTO-BYTES-0123456789", 26, photo, sizeof photo);
        snprintf(in, 4096,
                 "{\"name\":\"%s\",\"sex\":\"女\",\"nation\":\"汉\",\"birth\":\"%.8s\","
                 "\"address\":\"北京市朝阳区建国路1号\",\"id_no\":\"%s\",\"issuer\":\"北京市公安局"
                 "\",\"valid_from\":\"20150101\",\"valid_to\":\"长期\",\"photo_wlt\":\"%s\"}",
                 b->name, b->id_no + 6, b->id_no, photo);
    } else if (strcmp(name, "face") == 0) {
        char raw[64], img[128];
        snprintf(raw, sizeof raw, "FACE:%s", b->id_no);
        b64(raw, strlen(raw), img, sizeof img);
        snprintf(in, 4096, "{\"image\":\"%s\"}", img);
    } else if (strcmp(name, "customer") == 0) {
        snprintf(in, 4096, "{\"mobile\":\"13912345678\"}");
    } else if (strcmp(name, "account") == 0) {
        if (!b->account[0])
            core_open(b->cust_no, b->account);
        snprintf(in, 4096, "{\"account_no\":\"%s\"}", b->account);
    } else if (strcmp(name, "products") == 0) {
        snprintf(in, 4096,
                 "{\"products\":[\"mobile\",\"internet\",\"sms\"],"
                 "\"per_tx_limit\":5000000,\"daily_limit\":20000000}");
    } else if (strcmp(name, "application") == 0) {
        snprintf(in, 4096,
                 "{\"amount\":%lld,\"term_months\":36,\"purpose\":\"car\",\"collateral\":"
                 "{\"type\":\"car\",\"value\":30000000,\"description\":\"自用小客车\"}}",
                 (long long)b->amount);
    } else if (strcmp(name, "apply") == 0) {
        snprintf(in, 4096, b->k == &K_CREDIT ? "{\"product\":\"GOLD\"}" : "{\"city\":\"北京\"}");
    } else if (strcmp(name, "form") == 0) {
        if (!b->attachment)
            b->attachment = upload_png(b->customer_id, (unsigned)b->id);
        snprintf(in, 4096, "{\"attachment_id\":%lld}", (long long)b->attachment);
    } else if (strcmp(name, "activate") == 0) {
        snprintf(in, 4096, "{\"card_no\":\"%s\"}", b->pan);
    } else if (strcmp(name, "agency") == 0) {
        snprintf(in, 4096,
                 "{\"type\":\"utility\",\"service\":\"electricity\",\"payer_no\":\"EL-2024%04d\"}",
                 (int)(b->id % 10000));
    } else if (strcmp(name, "signature") == 0) {
        free(in);
        in = bizflow_signature_input();
    } else {
        snprintf(in, 4096, "{}");
    }
    return in;
}

/* What later inputs need from an answer of step name. */
static void took(struct biz *b, const char *name, json_t *a)
{
    if (strcmp(answer_code(a), "OK") != 0)
        return;
    if (strcmp(name, "customer") == 0) {
        snprintf(b->cust_no, sizeof b->cust_no, "%s", rstr(a, "cust_no"));
        b->customer_id = json_integer_value(
            json_object_get(json_object_get(answer_data(a), "result"), "customer_id"));
    }
    if (strcmp(name, "apply") == 0 && b->k == &K_SOCIAL)
        social_numbers(b, rstr(a, "social_card_no"));
}

static json_t *step(struct biz *b, const char *name)
{
    char *in = input_of(b, name);
    json_t *a = step_cseq(b, name, in, NULL);
    free(in);
    took(b, name, a);
    return a;
}

static void step_ok(struct biz *b, const char *name)
{
    json_t *a = step(b, name);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "step"), name);
    json_decref(a);
}

/* Runs b's steps up to (not including) until; NULL: all of them. */
static void run_until(struct biz *b, const char *until)
{
    for (size_t i = 0; i < b->k->n; i++) {
        json_t *g = NULL;
        char data[64];
        if (until && strcmp(b->k->steps[i], until) == 0)
            return;
        snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b->id);
        g = call("BIZ_GET", data, NULL);
        json_t *st = json_array_get(json_object_get(answer_data(g), "steps"), i);
        bool done = strcmp(json_string_value(json_object_get(st, "state")), "done") == 0;
        json_decref(g);
        if (!done)
            step_ok(b, b->k->steps[i]);
    }
}

static void step_state(const struct biz *b, const char *name, char *state, size_t cap, int *attempt)
{
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b->id);
    json_t *a = call("BIZ_GET", data, NULL);
    answer_expect(a, "OK");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(answer_data(a), "steps"), i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "step")), name) == 0) {
            snprintf(state, cap, "%s", json_string_value(json_object_get(s, "state")));
            *attempt = (int)json_integer_value(json_object_get(s, "attempt"));
        }
    }
    json_decref(a);
}

static void expect_step(const struct biz *b, const char *name, const char *want, int attempt)
{
    char st[16] = "";
    int at = -1;
    step_state(b, name, st, sizeof st, &at);
    if (strcmp(st, want) != 0 || at != attempt)
        fail_msg("%s step %s: want %s/%d, got %s/%d", b->k->name, name, want, attempt, st, at);
}

static void expect_status(const struct biz *b, const char *want)
{
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b->id);
    json_t *a = call("BIZ_GET", data, NULL);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "status"), want);
    json_decref(a);
}

static json_t *cancel(const struct biz *b)
{
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b->id);
    return call("BIZ_CANCEL", data, NULL);
}

static int64_t perf_of(const char *kind, const char *col)
{
    char q[256];
    snprintf(q, sizeof q,
             "SELECT COALESCE(SUM(%s), 0) FROM perf_counters WHERE metric = 'business:%s' AND "
             "period_kind = 'd' AND teller_id <> 0",
             col, kind);
    return db_int(q);
}

/* ---- the tests -------------------------------------------------------------------- */

static void ebank_end_to_end(void **state)
{
    (void)state;
    struct biz b;
    int64_t perf = perf_of("ebank", "qty");
    start(&b, &K_EBANK, ID_ZL, "赵六");
    run_until(&b, "sign");
    json_t *a = step(&b, "sign");
    answer_expect(a, "OK");
    const char *ebank_id = rstr(a, "ebank_id");
    assert_non_null(ebank_id);
    assert_string_equal(rstr(a, "per_tx_limit"), "50000.00");
    assert_string_equal(rstr(a, "daily_limit"), "200000.00");
    assert_int_equal(core_int("SELECT COUNT(*) FROM ebank_product WHERE ebank_id = '%s' AND "
                              "cust_no = '%s' AND account_no = '%s' AND products = 'YYY' AND "
                              "per_tx = 5000000 AND daily = 20000000 AND status = 'normal'",
                              ebank_id, b.cust_no, b.account),
                     1);
    json_decref(a);
    run_until(&b, NULL);
    expect_status(&b, "completed");
    assert_int_equal(journal_ok(b.no, "300102", "normal"), 1);
    assert_int_equal(perf_of("ebank", "qty"), perf + 1);
    /* signed already: a second e-banking business is refused by core (3001), recorded */
    struct biz c;
    start(&c, &K_EBANK, ID_ZL, "赵六");
    run_until(&c, "sign");
    a = step(&c, "sign");
    answer_expect(a, "downstream_refused");
    assert_string_equal(answer_str(a, "system_code"), "3001");
    json_decref(a);
    expect_step(&c, "sign", "failed", 1);
    a = cancel(&c);
    answer_expect(a, "OK");
    json_decref(a);
}

static void ebank_limits_and_refusal(void **state)
{
    (void)state;
    struct biz b;
    start(&b, &K_EBANK, ID_WX, "王秀英");
    run_until(&b, "products");
    /* per-transaction over daily: bad_request naming the member, nothing recorded */
    json_t *a = step_cseq(&b, "products",
                          "{\"products\":[\"mobile\"],\"per_tx_limit\":3000000,"
                          "\"daily_limit\":2000000}",
                          NULL);
    answer_expect(a, "bad_request");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "per_tx_limit"));
    json_decref(a);
    a = step_cseq(&b, "products",
                  "{\"products\":[\"mobile\"],\"per_tx_limit\":0,\"daily_limit\":2000000}", NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    a = step_cseq(&b, "products",
                  "{\"products\":[\"fax\"],\"per_tx_limit\":100,\"daily_limit\":2000000}", NULL);
    answer_expect(a, "bad_request");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "products"));
    json_decref(a);
    expect_step(&b, "products", "pending", 0);
    step_ok(&b, "products");
    /* the account closed meanwhile: core refuses, recorded; reopened: the retry on attempt 1 */
    core_int("UPDATE account SET status = 'closed' WHERE account_no = '%s'", b.account);
    a = step(&b, "sign");
    answer_expect(a, "downstream_refused");
    assert_string_equal(answer_str(a, "system_code"), "2001");
    json_decref(a);
    expect_step(&b, "sign", "failed", 1);
    core_int("UPDATE account SET status = 'normal' WHERE account_no = '%s'", b.account);
    step_ok(&b, "sign");
    assert_int_equal(core_int("SELECT COUNT(*) FROM journal WHERE serial = '%s05F001' AND rc = "
                              "'0000'",
                              b.no),
                     1);
    /* BIZ_CANCEL after the sign: the contract undone in core */
    a = cancel(&b);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "status"), "cancelled");
    json_decref(a);
    assert_int_equal(journal_ok(b.no, "300102", "reversed"), 1);
    assert_int_equal(core_int("SELECT COUNT(*) FROM ebank WHERE cust_no = '%s'", b.cust_no), 0);
    assert_int_equal(core_int("SELECT COUNT(*) FROM ebank_product WHERE cust_no = '%s' AND "
                              "status = 'normal'",
                              b.cust_no),
                     0);
    expect_step(&b, "sign", "compensated", 1);
}

/* A core step: failure and stall record nothing; the reply lost after the
 * work, then the same cseq twice and a new cseq: one request done. */
static void core_step_drops(struct biz *b, const char *name, const char *code)
{
    char *in = input_of(b, name);
    simproc_fault(&SIMS[CORE], "{\"error_rate\":1}");
    json_t *a = step_cseq(b, name, in, NULL);
    answer_expect(a, "downstream_unavailable");
    json_decref(a);
    simproc_fault(&SIMS[CORE], "{\"stall\":true}");
    a = step_cseq(b, name, in, NULL);
    answer_expect(a, "downstream_unavailable");
    json_decref(a);
    simproc_fault(&SIMS[CORE], "{}");
    expect_step(b, name, "pending", 0);
    simproc_fault(&SIMS[CORE], "{\"malformed\":\"close\"}");
    a = step_cseq(b, name, in, NULL);
    answer_expect(a, "downstream_unavailable");
    json_decref(a);
    simproc_fault(&SIMS[CORE], "{}");
    expect_step(b, name, "pending", 0);
    char cseq[40], cseq2[48];
    snprintf(cseq, sizeof cseq, "drop-%lld-%s", (long long)b->id, name);
    json_t *a1 = step_cseq(b, name, in, cseq), *a2 = step_cseq(b, name, in, cseq);
    answer_expect(a1, "OK");
    answer_expect(a2, "OK");
    assert_true(json_equal(answer_data(a1), answer_data(a2)));
    snprintf(cseq2, sizeof cseq2, "%s-b", cseq);
    json_t *a3 = step_cseq(b, name, in, cseq2);
    answer_expect(a3, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a3), "replayed")));
    assert_true(json_equal(json_object_get(answer_data(a1), "result"),
                           json_object_get(answer_data(a3), "result")));
    json_decref(a1);
    json_decref(a2);
    json_decref(a3);
    free(in);
    assert_int_equal(journal_ok(b->no, code, "normal"), 1);
}

/* An HTTP step: failure and stall record nothing (the stalled call does
 * its work once released: its reply was lost); then the same cseq twice
 * and a new cseq: one answer, the stalled call's. */
static void http_step_drops(struct biz *b, int sim, const char *name)
{
    char *in = input_of(b, name), was[16] = "";
    int attempt = -1;
    step_state(b, name, was, sizeof was, &attempt);
    simproc_fault(&SIMS[sim], "{\"error_rate\":1}");
    json_t *a = step_cseq(b, name, in, NULL);
    answer_expect(a, "downstream_unavailable");
    json_decref(a);
    expect_step(b, name, was, attempt);
    simproc_fault(&SIMS[sim], "{\"stall\":true}");
    a = step_cseq(b, name, in, NULL);
    answer_expect(a, "downstream_unavailable");
    json_decref(a);
    simproc_fault(&SIMS[sim], "{}");
    expect_step(b, name, was, attempt);
    char cseq[40], cseq2[48];
    snprintf(cseq, sizeof cseq, "drop-%lld-%s", (long long)b->id, name);
    json_t *a1 = step_cseq(b, name, in, cseq), *a2 = step_cseq(b, name, in, cseq);
    answer_expect(a1, "OK");
    took(b, name, a1);
    answer_expect(a2, "OK");
    assert_true(json_equal(answer_data(a1), answer_data(a2)));
    snprintf(cseq2, sizeof cseq2, "%s-b", cseq);
    json_t *a3 = step_cseq(b, name, in, cseq2);
    answer_expect(a3, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a3), "replayed")));
    json_decref(a1);
    json_decref(a2);
    json_decref(a3);
    free(in);
}

static void ebank_and_agency_drops(void **state)
{
    (void)state;
    struct biz b;
    start(&b, &K_EBANK, ID_WX, "王秀英");
    run_until(&b, "sign");
    core_step_drops(&b, "sign", "300102");
    run_until(&b, NULL);
    expect_status(&b, "completed");
    assert_int_equal(core_int("SELECT COUNT(*) FROM ebank WHERE cust_no = '%s'", b.cust_no), 1);

    struct biz g;
    start(&g, &K_AGENCY, ID_WX, "王秀英");
    run_until(&g, "agency");
    core_step_drops(&g, "agency", "300201");
    run_until(&g, NULL);
    expect_status(&g, "completed");
    assert_int_equal(core_int("SELECT COUNT(*) FROM agency a JOIN journal j ON j.key2 = "
                              "a.contract_no WHERE j.serial LIKE '%s%%'",
                              g.no),
                     1);
}

static void agency_end_to_end_refusal_and_cancel(void **state)
{
    (void)state;
    struct biz b;
    int64_t perf = perf_of("agency", "qty");
    start(&b, &K_AGENCY, ID_ZL, "赵六");
    run_until(&b, "agency");
    /* insurance: the product code and the policy holder (shown masked) */
    json_t *a = step_cseq(&b, "agency",
                          "{\"type\":\"insurance\",\"product_code\":\"INS101\","
                          "\"policy_holder\":\"赵六\"}",
                          NULL);
    answer_expect(a, "OK");
    const char *contract = rstr(a, "contract_no");
    assert_non_null(contract);
    assert_string_not_equal(rstr(a, "policy_holder"), "赵六");
    assert_int_equal(core_int("SELECT COUNT(*) FROM agency WHERE contract_no = '%s' AND "
                              "agency_code = 'INS101' AND payer_no = '%s' AND account_no = '%s'",
                              contract, b.cust_no, b.account),
                     1);
    json_decref(a);
    run_until(&b, NULL);
    expect_status(&b, "completed");
    assert_int_equal(perf_of("agency", "qty"), perf + 1);
    /* a utility: the account gone meanwhile: refused (2001), recorded; back: the retry */
    struct biz c;
    start(&c, &K_AGENCY, ID_ZL, "赵六");
    snprintf(c.account, sizeof c.account, "%s", b.account);
    run_until(&c, "agency");
    a = step_cseq(&c, "agency", "{\"type\":\"utility\",\"service\":\"sewage\",\"payer_no\":\"1\"}",
                  NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    core_int("UPDATE account SET account_no = account_no || 'X' WHERE account_no = '%s'",
             c.account);
    a = step(&c, "agency");
    answer_expect(a, "downstream_refused");
    assert_string_equal(answer_str(a, "system_code"), "2001");
    json_decref(a);
    expect_step(&c, "agency", "failed", 1);
    core_int("UPDATE account SET account_no = '%s' WHERE account_no = '%sX'", c.account, c.account);
    a = step(&c, "agency");
    answer_expect(a, "OK");
    char contract2[32];
    snprintf(contract2, sizeof contract2, "%s", rstr(a, "contract_no"));
    assert_string_equal(rstr(a, "agency_code"), "ELEC01");
    json_decref(a);
    /* BIZ_CANCEL: the contract cancelled in core (its journal row reversed) */
    a = cancel(&c);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "status"), "cancelled");
    json_decref(a);
    assert_int_equal(core_int("SELECT COUNT(*) FROM agency WHERE contract_no = '%s'", contract2),
                     0);
    assert_int_equal(journal_ok(c.no, "300201", "reversed"), 1);
    assert_int_equal(journal_ok(c.no, "300202", "normal"), 1);
}

static void loan_end_to_end(void **state)
{
    (void)state;
    struct biz b;
    int64_t qty = perf_of("loan", "qty"), amount = perf_of("loan", "amount");
    int live = sim_count(LOAN, "/loan/status", ID_WX);
    start(&b, &K_LOAN, ID_WX, "王秀英");
    run_until(&b, "application");
    /* an attachment that is not there: bad_request naming it, nothing recorded */
    json_t *a = step_cseq(&b, "application",
                          "{\"amount\":100,\"term_months\":12,\"purpose\":\"car\","
                          "\"attachments\":[999999]}",
                          NULL);
    answer_expect(a, "bad_request");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "attachments[0]"));
    json_decref(a);
    a = step_cseq(&b, "application", "{\"amount\":100,\"term_months\":12,\"purpose\":\"gambling\"}",
                  NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    expect_step(&b, "application", "pending", 0);
    int64_t att = upload_png(b.customer_id, 7);
    char in[256];
    snprintf(in, sizeof in,
             "{\"amount\":%lld,\"term_months\":36,\"purpose\":\"car\",\"collateral\":{\"type\":"
             "\"car\",\"value\":30000000},\"attachments\":[%lld]}",
             (long long)b.amount, (long long)att);
    a = step_cseq(&b, "application", in, NULL);
    answer_expect(a, "OK");
    assert_string_equal(rstr(a, "amount"), "200000.00");
    json_decref(a);
    a = step(&b, "prescreen");
    answer_expect(a, "OK");
    assert_string_equal(rstr(a, "decision"), "pass");
    json_decref(a);
    http_step_drops(&b, LOAN, "submit");
    a = step(&b, "submit"); /* done: its recorded result */
    answer_expect(a, "OK");
    char no[32], st[16];
    snprintf(no, sizeof no, "%s", rstr(a, "application_no"));
    json_decref(a);
    sim_status(LOAN, "/loan/status", "applicationNo", no, st, sizeof st);
    assert_string_equal(st, "approved");
    assert_int_equal(sim_count(LOAN, "/loan/status", ID_WX), live + 1);
    run_until(&b, NULL);
    expect_status(&b, "completed");
    assert_int_equal(perf_of("loan", "qty"), qty + 1);
    assert_int_equal(perf_of("loan", "amount"), amount + b.amount);
}

static void loan_decline_rejection_and_cancel(void **state)
{
    (void)state;
    struct biz b;
    start(&b, &K_LOAN, ID_ZL, "赵六");
    b.amount = 600000000; /* 6 000 000.00 yuan: over the pre-screen's maximum */
    run_until(&b, "prescreen");
    json_t *a = step(&b, "prescreen");
    answer_expect(a, "biz_check_failed");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "amount"));
    json_decref(a);
    expect_step(&b, "prescreen", "failed", 1);
    a = step(&b, "prescreen"); /* retried on the next serial: declined again */
    answer_expect(a, "biz_check_failed");
    json_decref(a);
    expect_step(&b, "prescreen", "failed", 2);
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b.id);
    a = call("BIZ_GET", data, NULL);
    json_t *ps = json_array_get(json_object_get(answer_data(a), "steps"), 4);
    assert_non_null(strstr(json_string_value(json_object_get(ps, "message")), "贷款预审未通过"));
    json_decref(a);
    a = cancel(&b);
    answer_expect(a, "OK");
    json_decref(a);
    /* 800 000.00 yuan with collateral: pre-screen passes, the loan system rejects: recorded */
    struct biz c;
    start(&c, &K_LOAN, ID_ZL, "赵六");
    c.amount = 80000000;
    run_until(&c, "submit");
    a = step(&c, "submit");
    answer_expect(a, "biz_check_failed");
    json_decref(a);
    expect_step(&c, "submit", "failed", 1);
    a = cancel(&c);
    answer_expect(a, "OK");
    json_decref(a);
    /* BIZ_CANCEL after the submit: the application cancelled in the loan system */
    struct biz d;
    int live = sim_count(LOAN, "/loan/status", ID_ZL);
    start(&d, &K_LOAN, ID_ZL, "赵六");
    run_until(&d, "signature");
    assert_int_equal(sim_count(LOAN, "/loan/status", ID_ZL), live + 1);
    a = cancel(&d);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "status"), "cancelled");
    json_decref(a);
    assert_int_equal(sim_count(LOAN, "/loan/status", ID_ZL), live);
    expect_step(&d, "submit", "compensated", 0);
}

static void credit_card_end_to_end(void **state)
{
    (void)state;
    struct biz b;
    int64_t perf = perf_of("credit_card", "qty");
    int live = sim_count(CARD, "/card/status", ID_WX);
    start(&b, &K_CREDIT, ID_WX, "王秀英");
    run_until(&b, "apply");
    json_t *a = step_cseq(&b, "apply", "{\"product\":\"BLACK\"}", NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    http_step_drops(&b, CARD, "apply");
    assert_int_equal(sim_count(CARD, "/card/status", ID_WX), live + 1);
    /* the form: an attachment of another customer is refused */
    a = step_cseq(&b, "form", "{\"attachment_id\":999999}", NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    step_ok(&b, "form");
    http_step_drops(&b, CARD, "sign");
    a = step(&b, "sign");
    answer_expect(a, "OK");
    char no[32], st[16];
    snprintf(no, sizeof no, "%s", rstr(a, "application_no"));
    json_decref(a);
    sim_status(CARD, "/card/status", "applicationNo", no, st, sizeof st);
    assert_string_equal(st, "signed");
    run_until(&b, NULL);
    expect_status(&b, "completed");
    assert_int_equal(sim_count(CARD, "/card/status", ID_WX), live + 1);
    assert_int_equal(perf_of("credit_card", "qty"), perf + 1);
}

static void credit_card_refusal_and_cancel(void **state)
{
    (void)state;
    struct biz b;
    int live = sim_count(CARD, "/card/status", ID_ZL);
    start(&b, &K_CREDIT, ID_ZL, "赵六");
    run_until(&b, "form");
    json_t *a = step(&b, "apply"); /* done: its result */
    char no[32], st[16], body[96];
    snprintf(no, sizeof no, "%s", rstr(a, "application_no"));
    json_decref(a);
    step_ok(&b, "form");
    /* the application cancelled at the card centre: the signing is refused (2006), recorded */
    snprintf(body, sizeof body, "{\"applicationNo\":\"%s\"}", no);
    json_decref(sim_post(CARD, "/card/cancel", body));
    a = step(&b, "sign");
    answer_expect(a, "downstream_refused");
    assert_string_equal(answer_str(a, "system_code"), "2006");
    json_decref(a);
    expect_step(&b, "sign", "failed", 1);
    a = step(&b, "sign"); /* retried on the next serial */
    answer_expect(a, "downstream_refused");
    json_decref(a);
    expect_step(&b, "sign", "failed", 2);
    a = cancel(&b);
    answer_expect(a, "OK");
    json_decref(a);
    /* BIZ_CANCEL after the apply: the application cancelled through its serial */
    struct biz c;
    start(&c, &K_CREDIT, ID_ZL, "赵六");
    run_until(&c, "form");
    assert_int_equal(sim_count(CARD, "/card/status", ID_ZL), live + 1);
    a = step(&c, "apply");
    snprintf(no, sizeof no, "%s", rstr(a, "application_no"));
    json_decref(a);
    a = cancel(&c);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "status"), "cancelled");
    json_decref(a);
    sim_status(CARD, "/card/status", "applicationNo", no, st, sizeof st);
    assert_string_equal(st, "cancelled");
    assert_int_equal(sim_count(CARD, "/card/status", ID_ZL), live);
    expect_step(&c, "apply", "compensated", 0);
}

static void social_card_activated_later(void **state)
{
    (void)state;
    struct biz b;
    int64_t perf = perf_of("social_card", "qty");
    int live = sim_count(SOCIAL, "/social/card/status", ID_ZL);
    start(&b, &K_SOCIAL, ID_ZL, "赵六");
    run_until(&b, "apply");
    http_step_drops(&b, SOCIAL, "apply");
    assert_int_equal(sim_count(SOCIAL, "/social/card/status", ID_ZL), live + 1);
    json_t *a = step(&b, "apply");
    assert_string_not_equal(rstr(a, "bank_card_no"), b.pan); /* masked */
    json_decref(a);
    /* days later: the business is open at activate */
    a = call("BIZ_LIST", "{\"status\":\"open\",\"kind\":\"social_card\"}", NULL);
    answer_expect(a, "OK");
    bool listed = false;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(answer_data(a), "items"), i, it)
    {
        if (json_integer_value(json_object_get(it, "biz_id")) == b.id) {
            listed = true;
            assert_string_equal(json_string_value(json_object_get(it, "next_step")), "activate");
        }
    }
    assert_true(listed);
    json_decref(a);
    char st[16];
    sim_status(SOCIAL, "/social/card/status", "cardNo", b.social_no, st, sizeof st);
    assert_string_equal(st, "issued");
    /* a number failing Luhn: bad_request; another card: refused (2007), recorded */
    a = step_cseq(&b, "activate", "{\"card_no\":\"6230910000000000001\"}", NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    char other[20];
    snprintf(other, sizeof other, "%s", b.pan);
    other[17] = other[17] == '9' ? '0' : (char)(other[17] + 1);
    int sum = 0;
    for (int k = 0; k < 18; k++) {
        int d = other[17 - k] - '0';
        if (k % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    other[18] = (char)('0' + (10 - sum % 10) % 10);
    char in[64];
    snprintf(in, sizeof in, "{\"card_no\":\"%s\"}", other);
    a = step_cseq(&b, "activate", in, NULL);
    answer_expect(a, "downstream_refused");
    assert_string_equal(answer_str(a, "system_code"), "2007");
    json_decref(a);
    expect_step(&b, "activate", "failed", 1);
    http_step_drops(&b, SOCIAL, "activate");
    sim_status(SOCIAL, "/social/card/status", "cardNo", b.social_no, st, sizeof st);
    assert_string_equal(st, "active");
    run_until(&b, NULL);
    expect_status(&b, "completed");
    assert_int_equal(perf_of("social_card", "qty"), perf + 1);
    /* BIZ_CANCEL after the apply: the card cancelled through the apply's serial */
    struct biz c;
    start(&c, &K_SOCIAL, ID_ZL, "赵六");
    run_until(&c, "activate");
    assert_int_equal(sim_count(SOCIAL, "/social/card/status", ID_ZL), live + 2);
    a = cancel(&c);
    answer_expect(a, "OK");
    json_decref(a);
    sim_status(SOCIAL, "/social/card/status", "cardNo", c.social_no, st, sizeof st);
    assert_string_equal(st, "cancelled");
    assert_int_equal(sim_count(SOCIAL, "/social/card/status", ID_ZL), live + 1);
}

/* ---- setup -------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    char conf[4096] = "[log]\nlevel = debug\n";
    if (simrig_start(&RIG, "bizk", SIMS, NSIMS) != 0 ||
        simrig_egress(&RIG, 1500, conf, sizeof conf) != 0 || testd_init(&D, conf) != 0 ||
        simrig_daemon_files(&RIG, &D) != 0)
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    store_close(DB);
    testd_cleanup(&D);
    return simrig_stop(&RIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ebank_end_to_end),
        cmocka_unit_test(ebank_limits_and_refusal),
        cmocka_unit_test(ebank_and_agency_drops),
        cmocka_unit_test(agency_end_to_end_refusal_and_cancel),
        cmocka_unit_test(loan_end_to_end),
        cmocka_unit_test(loan_decline_rejection_and_cancel),
        cmocka_unit_test(credit_card_end_to_end),
        cmocka_unit_test(credit_card_refusal_and_cancel),
        cmocka_unit_test(social_card_activated_later),
    };
    return cmocka_run_group_tests_name("biz_kinds", tests, setup, teardown);
}
