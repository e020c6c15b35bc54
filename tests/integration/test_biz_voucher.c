/* Vouchers of completed businesses and their delivery to the paperless
 * platform (business/wf_voucher.h, business/voucher_out.h, app/vdeliver.h),
 * with the core, ID-check, face and paperless (FTP) simulators as processes,
 * a real daemon and real ZY1 envelopes.
 *
 *  - a debit card opened end to end ends with a voucher: the voucher step
 *    answers voucher_id, BIZ_GET shows it, the step again gives the same
 *    voucher; VOUCHER_GET returns a PDF that `zhanye voucher verify`
 *    accepts and that fails once one byte is altered;
 *  - the deliverer uploads it: the simulator's inbox holds the same bytes,
 *    the outbox (VOUCHER_GET's delivery, `zhanye voucher list`) shows it
 *    delivered with the platform's receipt number, audited
 *    voucher.delivered by `system`, counted in /metrics;
 *  - the platform down: failed attempts counted with the reason and a
 *    growing wait, the voucher still pending; delivered once it is back;
 *  - a receipt that does not match what was sent (the simulator's
 *    malformed "receipt" fault): never marked delivered; given up as failed
 *    after [business] voucher_attempts with the reason, audited. */
#include "data/store.h"
#include "simproc.h"
#include "tablet.h"
#include "testd.h"
#include "vissue.h"

#include <errno.h>
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

#define PW "Demo@1234"
#define ID_ZS "11010519491231002X" /* 王秀英 */
#define ID_LS "440106197512254416" /* 赵六 */
#define PIN "147258"
#define ATTEMPTS 5 /* [business] voucher_attempts below */

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct store *DB;
enum { CORE, IDCHECK, FACE, PAPERLESS, NSIMS };
static struct simproc SIMS[NSIMS] = {
    {.mode = "core"}, {.mode = "idcheck"}, {.mode = "face"}, {.mode = "paperless"}};
static char SIM_DIR[64];
static int CARD_SEQ;
static char LAST_PIN_BLOCK[33];

/* ---- helpers -------------------------------------------------------------------- */

static json_t *call(const char *tx, const char *data, const char *cseq)
{
    return tablet_must(&T1, tx, data, cseq);
}

static void b64(const void *p, size_t n, char *out, size_t cap)
{
    assert_true(cap >= 4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

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

/* A new card number (19 digits, Luhn-valid) as a card reader reads it. */
static void new_card(char pan[20])
{
    snprintf(pan, 19, "62284%013d", ++CARD_SEQ + (int)(getpid() % 100000) * 1000);
    int sum = 0;
    for (int i = 0; i < 18; i++) {
        int d = pan[17 - i] - '0';
        if (i % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    pan[18] = (char)('0' + (10 - sum % 10) % 10);
    pan[19] = '\0';
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

/* ---- the flow ------------------------------------------------------------------- */

struct biz {
    int64_t id;
    char no[16];
    char id_no[19];
    char name[32];
    char card[20];
};

static void start(struct biz *b, const char *id_no, const char *name)
{
    json_t *a = call("BIZ_START", "{\"kind\":\"debit_card\"}", NULL);
    answer_expect(a, "OK");
    b->id = json_integer_value(json_object_get(answer_data(a), "biz_id"));
    snprintf(b->no, sizeof b->no, "%s", answer_str(a, "biz_no"));
    assert_string_equal(answer_str(a, "next_step"), "idcard");
    assert_int_equal(strlen(b->no), 14);
    json_decref(a);
    snprintf(b->id_no, sizeof b->id_no, "%s", id_no);
    snprintf(b->name, sizeof b->name, "%s", name);
    new_card(b->card);
}

/* BIZ_STEP with input (JSON text), cseq may be NULL. */
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

/* The input of step name for business b (malloc'd JSON text). */
static char *input_of(struct biz *b, const char *name)
{
    char *in = malloc(4096);
    if (strcmp(name, "idcard") == 0) {
        char photo[64];
        b64("WLT-PHOTO-BYTES-0123456789", 26, photo, sizeof photo);
        snprintf(
            in, 4096,
            "{\"name\":\"%s\",\"sex\":\"男\",\"nation\":\"汉\",\"birth\":\"%.8s\","
            "\"address\":\"广州市天河区体育西路1号\",\"id_no\":\"%s\",\"issuer\":\"广州市公安局"
            "天河分局\",\"valid_from\":\"20150101\",\"valid_to\":\"20350101\","
            "\"photo_wlt\":\"%s\"}",
            b->name, b->id_no + 6, b->id_no, photo);
    } else if (strcmp(name, "face") == 0) {
        char raw[64], img[128];
        snprintf(raw, sizeof raw, "FACE:%s", b->id_no);
        b64(raw, strlen(raw), img, sizeof img);
        snprintf(in, 4096, "{\"image\":\"%s\"}", img);
    } else if (strcmp(name, "customer") == 0) {
        snprintf(in, 4096, "{\"mobile\":\"13800138000\"}");
    } else if (strcmp(name, "card") == 0) {
        snprintf(in, 4096, "{\"card_no\":\"%s\"}", b->card);
    } else if (strcmp(name, "pin") == 0) {
        pin_block(b->card, PIN, LAST_PIN_BLOCK);
        snprintf(in, 4096, "{\"pin_block\":\"%s\"}", LAST_PIN_BLOCK);
    } else if (strcmp(name, "signature") == 0) {
        uint8_t *png = NULL; /* a real PNG: the voucher step renders it */
        size_t pn = 0;
        assert_int_equal(vissue_png(120, 40, &png, &pn), 0);
        char *img = malloc(4 * ((pn + 2) / 3) + 1);
        b64(png, pn, img, 4 * ((pn + 2) / 3) + 1);
        free(png);
        free(in);
        in = malloc(strlen(img) + 256);
        assert_non_null(in);
        snprintf(in, strlen(img) + 256,
                 "{\"strokes\":[[[10,10,0.5,0],[20,15,0.7,16]],[[30,30,0.4,40]]],"
                 "\"image\":\"%s\"}",
                 img);
        free(img);
    } else {
        snprintf(in, 4096, "{}");
    }
    return in;
}

static const char *const STEPS[] = {"idcard", "idcheck", "face",      "customer", "account",
                                    "card",   "pin",     "signature", "voucher"};
#define NSTEPS (sizeof STEPS / sizeof STEPS[0])

static json_t *step(struct biz *b, const char *name)
{
    char *in = input_of(b, name);
    json_t *a = step_cseq(b, name, in, NULL);
    free(in);
    return a;
}

/* ---- the database, the CLI, the simulator ------------------------------------------ */

/* One text column of the first row of sql into out ("" for NULL or no row). */
static void db_text(const char *sql, char *out, size_t cap)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    out[0] = '\0';
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    if (store_step(s) == STORE_ROW && store_col_text(s, 0))
        snprintf(out, cap, "%s", store_col_text(s, 0));
    store_finish(s);
    store_release(c);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The value of one series of the daemon's /metrics (0 when absent). */
static long metric(const char *series)
{
    char url[128];
    struct http_result r;
    snprintf(url, sizeof url, "%s/metrics", D.base);
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    long v = 0;
    for (const char *p = r.body; p && (p = strstr(p, series)) != NULL; p += strlen(series))
        if ((p == r.body || p[-1] == '\n') && p[strlen(series)] == ' ')
            v = strtol(p + strlen(series) + 1, NULL, 10);
    http_result_free(&r);
    return v;
}

#define M_DELIVERED "zhanye_voucher_deliveries_total{outcome=\"delivered\"}"
#define M_RETRY "zhanye_voucher_deliveries_total{outcome=\"retry\"}"
#define M_FAILED "zhanye_voucher_deliveries_total{outcome=\"failed\"}"

/* A whole file into *n bytes (malloc'd), or NULL. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *p = malloc(8 << 20);
    *n = fread(p, 1, 8 << 20, f);
    fclose(f);
    return p;
}

static int verify_file(const char *path)
{
    char *out = NULL, *err = NULL;
    int rc = run_zhanye(&out, &err, "voucher", "verify", "--data", D.dir, path, NULL);
    free(out);
    free(err);
    return rc;
}

/* The `zhanye voucher list` line of voucher id into line ("" when none). */
static void list_line(const char *id, char *line, size_t cap)
{
    char *out = NULL, *err = NULL, want[64];
    line[0] = '\0';
    assert_int_equal(run_zhanye(&out, &err, "voucher", "list", "--data", D.dir, NULL), 0);
    snprintf(want, sizeof want, "%s ", id);
    for (char *p = out; p && *p;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, want, strlen(want)) == 0)
            snprintf(line, cap, "%.*s", (int)len, p);
        p = nl ? nl + 1 : NULL;
    }
    free(out);
    free(err);
}

/* The numeric part of "V<bank>-<n>". */
static long long vnum(const char *id)
{
    const char *dash = strchr(id, '-');
    assert_non_null(dash);
    return strtoll(dash + 1, NULL, 10);
}

/* The outbox row's status of voucher id (polled until want or 40 s). */
static void wait_status(const char *id, const char *want)
{
    char sql[160], st[16] = "";
    snprintf(sql, sizeof sql, "SELECT status FROM voucher_outbox WHERE voucher_id = %lld",
             vnum(id));
    for (int i = 0; i < 800; i++) {
        db_text(sql, st, sizeof st);
        if (strcmp(st, want) == 0)
            return;
        sleep_ms(50);
    }
    fail_msg("voucher %s: delivery %s, want %s", id, st, want);
}

static int64_t outbox_int(const char *id, const char *col)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s FROM voucher_outbox WHERE voucher_id = %lld", col,
             vnum(id));
    return db_int(sql);
}

/* A debit card opened end to end; its voucher id into id. */
static void complete(const char *id_no, const char *name, char id[48])
{
    struct biz b;
    start(&b, id_no, name);
    json_t *a = NULL;
    for (size_t i = 0; i < NSTEPS; i++) {
        json_decref(a);
        a = step(&b, STEPS[i]);
        answer_expect(a, "OK");
    }
    assert_string_equal(answer_str(a, "status"), "completed");
    const char *v =
        json_string_value(json_object_get(json_object_get(answer_data(a), "result"), "voucher_id"));
    assert_non_null(v);
    snprintf(id, 48, "%s", v);
    json_decref(a);
}

/* VOUCHER_GET of id: the PDF into *pdf (*n bytes) and the answer. */
static json_t *voucher_get(const char *id, uint8_t **pdf, size_t *n)
{
    char data[96];
    snprintf(data, sizeof data, "{\"voucher_id\":\"%s\"}", id);
    json_t *a = call("VOUCHER_GET", data, NULL);
    answer_expect(a, "OK");
    const char *b = answer_str(a, "pdf");
    assert_non_null(b);
    size_t len = strlen(b);
    *pdf = malloc(len);
    int got = EVP_DecodeBlock(*pdf, (const unsigned char *)b, (int)len);
    assert_true(got > 0);
    *n = (size_t)got - (len >= 1 && b[len - 1] == '=') - (len >= 2 && b[len - 2] == '=');
    return a;
}

/* The UTF-8 text s as cairo writes a non-ASCII PDF text string: "<FEFF",
 * UTF-16BE in hex (BMP only), ">". */
static void pdf_hex_string(const char *s, char *out, size_t cap)
{
    size_t o = (size_t)snprintf(out, cap, "<FEFF");
    const unsigned char *p = (const unsigned char *)s;
    while (*p && o + 5 < cap) {
        unsigned cp = *p < 0x80 ? *p : *p < 0xE0 ? (*p & 0x1Fu) : (*p & 0x0Fu);
        int more = *p < 0x80 ? 0 : *p < 0xE0 ? 1 : 2;
        p++;
        for (int i = 0; i < more && *p; i++, p++)
            cp = cp << 6 | (*p & 0x3Fu);
        o += (size_t)snprintf(out + o, cap - o, "%04X", cp);
    }
    snprintf(out + o, cap - o, ">");
}

/* ---- the tests -------------------------------------------------------------------- */

#define REC_SM3 "5a0be8c2d7f14e8a9c6b3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"

/* A stored recording (双录, business/vrec.h) of business no, as the watcher
 * leaves it after the call (app/vwatch.h), written here directly. */
static void stored_recording(const char *no)
{
    char sql[1024], bank[24];
    db_text("SELECT CAST(bank_id AS CHAR) FROM tellers WHERE code = 'demo01'", bank, sizeof bank);
    snprintf(sql, sizeof sql,
             "INSERT INTO video_recordings (bank_id, id, call_id, biz_no, customer_id, "
             "branch_id, teller_id, consent_by, consent_at, consent_version, state, room, "
             "room_pin, room_secret, janus_session, janus_handle, started_at, ended_at, "
             "duration_ms, size, sm3, files, error) VALUES (%s, 900001, 'it-rec-%s', '%s', 1, "
             "1, 1, 'teller:1', 1, 'v1', 'stored', 1, '', '', 0, 0, 1, 2, 1, 1, '%s', '[]', '')",
             bank, no, no, REC_SM3);
    struct store_conn *c = NULL;
    struct store_stmt *st = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &st), STORE_OK);
    assert_int_equal(store_step(st), STORE_DONE);
    store_finish(st);
    store_release(c);
}

static void debit_card_voucher_verified_and_delivered(void **state)
{
    (void)state;
    struct biz b;
    start(&b, ID_LS, "赵六");
    /* the business was recorded: its voucher names the recording's hash */
    stored_recording(b.no);
    json_t *a = NULL;
    for (size_t i = 0; i < NSTEPS; i++) {
        json_decref(a);
        a = step(&b, STEPS[i]);
        answer_expect(a, "OK");
    }
    assert_string_equal(answer_str(a, "status"), "completed");
    char id[48];
    snprintf(id, sizeof id, "%s",
             json_string_value(
                 json_object_get(json_object_get(answer_data(a), "result"), "voucher_id")));
    json_decref(a);
    assert_int_equal(id[0], 'V');
    /* BIZ_GET shows it; the step again gives the same voucher */
    char data[64];
    snprintf(data, sizeof data, "{\"biz_id\":%lld}", (long long)b.id);
    a = call("BIZ_GET", data, NULL);
    answer_expect(a, "OK");
    assert_string_equal(answer_str(a, "voucher_id"), id);
    json_decref(a);
    a = step(&b, "voucher");
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "replayed")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(answer_data(a), "result"), "voucher_id")),
        id);
    json_decref(a);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM vouchers WHERE serial = '%s'", b.no);
    assert_int_equal(db_int(sql), 1);
    /* VOUCHER_GET: an intact PDF that the CLI verifies; one byte altered fails */
    uint8_t *pdf = NULL;
    size_t n = 0;
    a = voucher_get(id, &pdf, &n);
    assert_true(json_is_true(json_object_get(answer_data(a), "intact")));
    assert_string_equal(answer_str(a, "kind"), "debit_card");
    assert_string_equal(answer_str(a, "serial"), b.no);
    json_decref(a);
    assert_memory_equal(pdf, "%PDF", 4);
    if (!memmem(pdf, n, " recording-sm3:" REC_SM3 ")", strlen(" recording-sm3:" REC_SM3 ")")))
        fail_msg("the voucher does not name its business's recording %s", REC_SM3);
    /* the id is derived from the business number (known before the transaction that stores
     * the voucher, which only takes the bytes rendered before it) */
    char want_id[48];
    snprintf(want_id, sizeof want_id, "V%lld-%lld", strtoll(b.no, NULL, 10) / 1000000000LL,
             strtoll(b.no, NULL, 10));
    assert_string_equal(id, want_id);
    /* the session's bank and branch, resolved by the pipeline, are on it: the PDF's subject */
    char bank[128], branch[128], both[300], hex[1300], subject[1400];
    db_text("SELECT b.name FROM banks b JOIN tellers t ON t.bank_id = b.id "
            "WHERE t.code = 'demo01'",
            bank, sizeof bank);
    db_text("SELECT br.name FROM branches br JOIN tellers t ON t.branch_id = br.id "
            "WHERE t.code = 'demo01'",
            branch, sizeof branch);
    assert_true(bank[0] && branch[0]);
    snprintf(both, sizeof both, "%s %s", bank, branch);
    pdf_hex_string(both, hex, sizeof hex);
    snprintf(subject, sizeof subject, "/Subject %s", hex);
    if (!memmem(pdf, n, subject, strlen(subject)))
        fail_msg("the voucher does not name %s (%s)", both, subject);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/v.pdf", SIM_DIR);
    FILE *f = fopen(path, "wb");
    assert_int_equal(fwrite(pdf, 1, n, f), n);
    fclose(f);
    assert_int_equal(verify_file(path), 0);
    pdf[n / 2] ^= 0x01;
    f = fopen(path, "wb");
    assert_int_equal(fwrite(pdf, 1, n, f), n);
    fclose(f);
    assert_int_equal(verify_file(path), 1);
    pdf[n / 2] ^= 0x01;
    /* delivered: the platform holds the same bytes, the outbox its receipt */
    wait_status(id, "delivered");
    uint8_t *got = NULL;
    size_t gn = 0;
    snprintf(path, sizeof path, "%s/paperless/inbox/%s.pdf", SIMS[PAPERLESS].dir, id);
    got = slurp(path, &gn);
    assert_non_null(got);
    assert_int_equal(gn, n);
    assert_memory_equal(got, pdf, n);
    free(got);
    free(pdf);
    a = voucher_get(id, &pdf, &n);
    free(pdf);
    json_t *dl = json_object_get(answer_data(a), "delivery");
    assert_string_equal(json_string_value(json_object_get(dl, "status")), "delivered");
    const char *rno = json_string_value(json_object_get(dl, "receipt_no"));
    assert_non_null(rno);
    assert_int_equal(strlen(rno), 16);
    assert_memory_equal(rno, "PL", 2);
    char receipt_path[PATH_MAX + 16];
    snprintf(receipt_path, sizeof receipt_path, "%s.receipt", path);
    char *rtext = (char *)slurp(receipt_path, &gn);
    assert_non_null(rtext);
    rtext[gn] = '\0';
    assert_non_null(strstr(rtext, rno)); /* the platform's own receipt */
    free(rtext);
    char line[512];
    list_line(id, line, sizeof line);
    char want[64];
    snprintf(want, sizeof want, "delivery delivered %s", rno);
    assert_non_null(strstr(line, want));
    json_decref(a);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = 'voucher.delivered' AND actor = "
             "'system' AND target = 'voucher:%s'",
             id);
    assert_int_equal(db_int(sql), 1);
    assert_true(metric(M_DELIVERED) >= 1);
}

static void platform_down_then_back(void **state)
{
    (void)state;
    long retries = metric(M_RETRY);
    simproc_fault(&SIMS[PAPERLESS], "{\"refuse\":true}");
    char id[48];
    complete(ID_ZS, "王秀英", id);
    /* failed attempts counted, with the reason and a growing wait */
    for (int i = 0; i < 800 && outbox_int(id, "attempts") < 2; i++)
        sleep_ms(25);
    simproc_fault(&SIMS[PAPERLESS], "{}");
    int64_t attempts = outbox_int(id, "attempts");
    assert_true(attempts >= 2 && attempts < ATTEMPTS);
    char err[256], sql[200];
    snprintf(sql, sizeof sql, "SELECT last_error FROM voucher_outbox WHERE voucher_id = %lld",
             vnum(id));
    db_text(sql, err, sizeof err);
    assert_true(err[0] != '\0');
    assert_true(metric(M_RETRY) >= retries + 2);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = 'voucher.delivery_failed' AND actor "
             "= 'system' AND target = 'voucher:%s'",
             id);
    assert_true(db_int(sql) >= 2);
    /* backoff: the wait after the latest failure is at least retry_ms * 2 */
    assert_true(outbox_int(id, "next_try_at") - outbox_int(id, "updated_at") >= 600);
    /* back: delivered, the failures still counted */
    wait_status(id, "delivered");
    assert_true(outbox_int(id, "attempts") >= 2);
    char path[PATH_MAX];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/paperless/inbox/%s.pdf", SIMS[PAPERLESS].dir, id);
    uint8_t *got = slurp(path, &n);
    assert_non_null(got);
    assert_memory_equal(got, "%PDF", 4);
    free(got);
}

static void bad_receipt_is_never_delivered(void **state)
{
    (void)state;
    long failed = metric(M_FAILED);
    simproc_fault(&SIMS[PAPERLESS], "{\"malformed\":\"receipt\"}");
    char id[48];
    complete(ID_LS, "赵六", id);
    wait_status(id, "failed");
    simproc_fault(&SIMS[PAPERLESS], "{}");
    assert_int_equal(outbox_int(id, "attempts"), ATTEMPTS);
    char text[256], sql[200];
    snprintf(sql, sizeof sql, "SELECT receipt_no FROM voucher_outbox WHERE voucher_id = %lld",
             vnum(id));
    db_text(sql, text, sizeof text);
    assert_string_equal(text, "");
    snprintf(sql, sizeof sql, "SELECT last_error FROM voucher_outbox WHERE voucher_id = %lld",
             vnum(id));
    db_text(sql, text, sizeof text);
    assert_true(text[0] != '\0');
    /* the receipt's SM3 was refused (an attempt may also have timed out on
     * a loaded machine: each attempt's reason is in its audit record) */
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = 'voucher.delivery_failed' AND target "
             "= 'voucher:%s' AND detail LIKE '%%sm3%%'",
             id);
    assert_true(db_int(sql) >= 1);
    /* the platform did receive the bytes; its receipt did not match them */
    char path[PATH_MAX];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/paperless/inbox/%s.pdf", SIMS[PAPERLESS].dir, id);
    uint8_t *got = slurp(path, &n);
    assert_non_null(got);
    free(got);
    uint8_t *pdf = NULL;
    json_t *a = voucher_get(id, &pdf, &n);
    free(pdf);
    json_t *dl = json_object_get(answer_data(a), "delivery");
    assert_string_equal(json_string_value(json_object_get(dl, "status")), "failed");
    assert_null(json_object_get(dl, "receipt_no"));
    assert_non_null(json_string_value(json_object_get(dl, "last_error")));
    json_decref(a);
    char line[512], want[32];
    list_line(id, line, sizeof line);
    snprintf(want, sizeof want, "delivery failed %d", ATTEMPTS);
    assert_non_null(strstr(line, want));
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = 'voucher.delivery_failed' AND target "
             "= 'voucher:%s'",
             id);
    assert_int_equal(db_int(sql), ATTEMPTS);
    assert_true(metric(M_FAILED) >= failed + 1);
}

/* ---- setup -------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    char conf[2048], src[PATH_MAX], link[PATH_MAX + 8], pw[PATH_MAX + 32];
    snprintf(SIM_DIR, sizeof SIM_DIR, "/tmp/zt_bizv_%d", (int)getpid());
    if (mkdir(SIM_DIR, 0700) != 0 && errno != EEXIST)
        return -1;
    for (int i = 0; i < NSIMS; i++)
        if (simproc_start(&SIMS[i], SIM_DIR) != 0) {
            fprintf(stderr, "cannot start the %s simulator\n", SIMS[i].mode);
            return -1;
        }
    snprintf(conf, sizeof conf,
             "[log]\nlevel = debug\n"
             "[business]\nvoucher_scan_ms = 100\nvoucher_retry_ms = 300\n"
             "voucher_retry_max_ms = 800\nvoucher_attempts = %d\n"
             "[egress.core]\naddress = tcp://127.0.0.1:%d\ncall_timeout_ms = 1500\nretries = 0\n"
             "breaker_window = 1000\nbreaker_min_calls = 1000\n"
             "[egress.idcheck]\naddress = http://127.0.0.1:%d\ncall_timeout_ms = 1500\n"
             "retries = 0\nbreaker_window = 1000\nbreaker_min_calls = 1000\n"
             "[egress.face]\naddress = http://127.0.0.1:%d\ncall_timeout_ms = 1500\n"
             "retries = 0\nbreaker_window = 1000\nbreaker_min_calls = 1000\n"
             "[egress.paperless]\naddress = ftp://127.0.0.1:%d\nuser = zhanye\n"
             "password_file = paperless.password\ncall_timeout_ms = 3000\nretries = 0\n"
             "breaker_window = 1000\nbreaker_min_calls = 1000\n",
             ATTEMPTS, SIMS[CORE].port, SIMS[IDCHECK].port, SIMS[FACE].port, SIMS[PAPERLESS].port);
    if (testd_init(&D, conf))
        return -1;
    snprintf(link, sizeof link, "%s/conf", D.dir);
    if (symlink(src_path("conf", src, sizeof src), link) != 0)
        return -1;
    snprintf(pw, sizeof pw, "%s/paperless.password", D.dir);
    FILE *f = fopen(pw, "w");
    if (!f || fputs("paperless-demo\n", f) < 0 || fclose(f) != 0 || chmod(pw, 0600) != 0)
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
    int rc = 0;
    for (int i = 0; i < NSIMS; i++)
        if (simproc_stop(&SIMS[i]) != 0)
            rc = -1;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", SIM_DIR);
    return system(cmd) == 0 ? rc : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(debit_card_voucher_verified_and_delivered),
        cmocka_unit_test(platform_down_then_back),
        cmocka_unit_test(bad_receipt_is_never_delivered),
    };
    return cmocka_run_group_tests_name("biz_voucher", tests, setup, teardown);
}
