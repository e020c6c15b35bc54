/* Electronic vouchers end to end, with B01's business data on a shard
 * (s1) and B02's in main: vouchers issued as the workflow engine's last
 * step issues them (voucher_issue in a store_run on the bank's database,
 * support/vissue.h), then
 *   - VOUCHER_GET over HTTP with real envelopes: a PDF (starts %PDF, an
 *     embedded subset of Noto Sans CJK SC), its SM3 the recorded one, the
 *     signature, intact; audited;
 *   - `zhanye voucher list` (id first), `export` (the same bytes as GET),
 *     `verify` exit 0, and exit 1 with a reason after a one-byte change in
 *     the header, the middle, the signature image, the last byte;
 *   - VOUCHER_VERIFY by id and by bytes: intact, altered, not issued here;
 *   - the same serial twice is one voucher;
 *   - at rest: the PDF is not in the database in clear; a record altered
 *     in the database (sealed bytes, sm3, signature) is found out;
 *   - B02 can neither read, list nor verify B01's vouchers. */
#include "business/voucher.h"
#include "channel/sm.h"
#include "data/store.h"
#include "foundation/codec.h"
#include "mariadb.h"
#include "tablet.h"
#include "testd.h"
#include "vissue.h"

#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define NOW 1796000000000LL /* 2026-11-30 08:53:20 China time */

static struct testd D;
static struct tablet T1; /* demo01, B01 (shard s1) */
static struct tablet T3; /* demo03, B02 (main) */
static struct store *MAIN, *S1;
static char DB1[64];
static int64_t B01, BR1, TL1, B02, BR2, TL2;

/* ---- helpers ------------------------------------------------------------------- */

static struct store *open_shard(const char *db)
{
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s.db", D.dir, db);
    const struct mariadb_srv *m = testd_mariadb_server();
    struct store_config cfg = {
        .backend = "sqlite", .path = path, .pool_size = 2, .busy_timeout_ms = 5000};
    if (m)
        cfg = (struct store_config){.backend = "mariadb",
                                    .pool_size = 2,
                                    .servers = m->servers,
                                    .database = db,
                                    .user = m->user,
                                    .password = m->password};
    struct store *st = NULL;
    if (store_open(&cfg, &st) != STORE_OK) {
        fprintf(stderr, "open shard %s: %s\n", db, store_errmsg(NULL));
        return NULL;
    }
    return st;
}

static int64_t count(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = -1;
    if (store_acquire(st, &c) == STORE_OK && store_prepare(c, sql, &s) == STORE_OK &&
        store_step(s) == STORE_ROW)
        n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

static void exec(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    assert_int_equal(store_exec(c, sql), STORE_OK);
    store_release(c);
}

static void issue(const char *serial, char id[48])
{
    assert_int_equal(vissue(S1, B01, BR1, TL1, "debit_card", serial, 1, NOW, id), 0);
}

static json_t *call(struct tablet *t, const char *tx, const char *data)
{
    return tablet_must(t, tx, data, NULL);
}

static json_t *dget(json_t *a, const char *key)
{
    return json_object_get(json_object_get(a, "data"), key);
}

/* VOUCHER_GET of id by t: the decoded PDF into *pdf. */
static json_t *get(struct tablet *t, const char *id, uint8_t **pdf, size_t *n)
{
    char data[96];
    snprintf(data, sizeof data, "{\"voucher_id\":\"%s\"}", id);
    json_t *a = call(t, "VOUCHER_GET", data);
    answer_expect(a, "OK");
    const char *b = answer_str(a, "pdf");
    size_t cap = b64_decoded_max(strlen(b));
    *pdf = malloc(cap + 1);
    assert_non_null(*pdf);
    long len = b64_decode(b, strlen(b), *pdf, cap);
    assert_true(len > 0);
    *n = (size_t)len;
    return a;
}

static void sm3_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t d[SM3_LEN];
    sm_part part = {p, n};
    assert_int_equal(sm3_digest(&part, 1, d), SM_OK);
    hex_encode(d, sizeof d, out, 65);
}

static void write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)len + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *s)
{
    return memmem(p, n, s, strlen(s));
}

/* ---- tests ---------------------------------------------------------------------- */

static void get_over_http(void **state)
{
    (void)state;
    char id[48], sm3[65];
    issue("BIZ-GET-1", id);
    assert_int_equal(id[0], 'V');
    int64_t before = count(S1, "SELECT COUNT(*) FROM audit_log WHERE event = 'voucher.viewed'");
    uint8_t *pdf;
    size_t n;
    json_t *a = get(&T1, id, &pdf, &n);
    assert_string_equal(answer_str(a, "voucher_id"), id);
    assert_string_equal(answer_str(a, "kind"), "debit_card");
    assert_string_equal(answer_str(a, "title"), "借记卡开卡");
    assert_string_equal(answer_str(a, "serial"), "BIZ-GET-1");
    assert_true(json_is_true(dget(a, "intact")));
    assert_string_equal(answer_str(a, "verdict"), "intact");
    assert_true(strlen(answer_str(a, "signature")) >= 16);
    assert_int_equal(json_integer_value(dget(a, "issued_at")), NOW);
    assert_int_equal(json_integer_value(dget(a, "size")), (json_int_t)n);
    sm3_hex(pdf, n, sm3);
    assert_string_equal(answer_str(a, "sm3"), sm3);
    /* a PDF with the CJK font embedded as a subset: "ABCDEF+NotoSansCJK..." */
    assert_memory_equal(pdf, "%PDF-", 5);
    assert_non_null(find(pdf, n, "/FontFile"));
    const uint8_t *fn = find(pdf, n, "/FontName /");
    assert_non_null(fn);
    fn += strlen("/FontName /");
    for (int i = 0; i < 6; i++)
        assert_true(fn[i] >= 'A' && fn[i] <= 'Z');
    assert_int_equal(fn[6], '+');
    assert_memory_equal(fn + 7, "NotoSansCJK", 11);
    assert_non_null(find(pdf, n, "/Subtype /Image")); /* the signature */
    assert_non_null(find(pdf, n, "zhanye-voucher:"));
    assert_int_equal(count(S1, "SELECT COUNT(*) FROM audit_log WHERE event = 'voucher.viewed'"),
                     before + 1);
    assert_true(count(S1, "SELECT COUNT(*) FROM audit_log WHERE event = 'voucher.issued'") >= 1);
    json_decref(a);
    free(pdf);
}

/* `zhanye voucher verify` of the bytes p (n) written to path: exit status, stderr kept. */
static int cli_verify(const char *path, const uint8_t *p, size_t n, char **err)
{
    write_bytes(path, p, n);
    char *out = NULL;
    int rc = run_zhanye(&out, err, "voucher", "verify", "--data", D.dir, path, NULL);
    free(out);
    return rc;
}

static void cli_list_export_verify(void **state)
{
    (void)state;
    char id[48], path[PATH_MAX + 32], alt[PATH_MAX + 32], *out = NULL, *err = NULL;
    issue("BIZ-CLI-1", id);
    /* list: one line per voucher, the id first */
    assert_int_equal(run_zhanye(&out, &err, "voucher", "list", "--data", D.dir, NULL), 0);
    char want[64];
    snprintf(want, sizeof want, "%s ", id);
    bool seen = false;
    for (char *line = out; line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, want, strlen(want)) == 0)
            seen = true;
        assert_int_equal(line[0], 'V');
        line = nl ? nl + 1 : NULL;
    }
    assert_true(seen);
    free(out);
    free(err);
    /* export: the bytes VOUCHER_GET answers */
    snprintf(path, sizeof path, "%s/voucher.pdf", D.dir);
    assert_int_equal(run_zhanye(&out, &err, "voucher", "export", "--data", D.dir, "--id", id,
                                "--out", path, NULL),
                     0);
    free(out);
    free(err);
    size_t n = 0, gn = 0;
    uint8_t *file = read_bytes(path, &n), *pdf = NULL;
    json_t *a = get(&T1, id, &pdf, &gn);
    assert_int_equal(n, gn);
    assert_memory_equal(file, pdf, n);
    json_decref(a);
    free(pdf);
    /* verify: intact */
    assert_int_equal(run_zhanye(&out, &err, "voucher", "verify", "--data", D.dir, path, NULL), 0);
    assert_non_null(strstr(out, id));
    free(out);
    free(err);
    /* one byte changed anywhere: exit 1 with a one-line reason */
    const uint8_t *img = find(file, n, "/Subtype /Image");
    assert_non_null(img);
    const uint8_t *stream = find(img, n - (size_t)(img - file), "stream\n");
    assert_non_null(stream);
    size_t at[] = {1, n / 2, (size_t)(stream - file) + 7 + 20, n - 1};
    snprintf(alt, sizeof alt, "%s/altered.pdf", D.dir);
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        file[at[i]] ^= 0x01;
        assert_int_equal(cli_verify(alt, file, n, &err), 1);
        assert_non_null(err);
        assert_true(strstr(err, "SM3 differs from the issued voucher") ||
                    strstr(err, "not a voucher issued here"));
        if (strstr(err, "SM3 differs"))
            assert_non_null(strstr(err, id));
        assert_null(strchr(err, '\n') ? strchr(strchr(err, '\n') + 1, '\n') : NULL);
        free(err);
        file[at[i]] ^= 0x01;
    }
    /* the id itself altered: then it is no voucher of ours at all */
    uint8_t *k = (uint8_t *)find(file, n, "zhanye-voucher:V");
    assert_non_null(k);
    k[strlen("zhanye-voucher:")] = 'X';
    assert_int_equal(cli_verify(alt, file, n, &err), 1);
    assert_non_null(strstr(err, "not a voucher issued here"));
    free(err);
    free(file);
    /* export of an id that does not exist */
    assert_int_equal(run_zhanye(&out, &err, "voucher", "export", "--data", D.dir, "--id",
                                "V999-000001", "--out", alt, NULL),
                     1);
    free(out);
    free(err);
}

static void verify_tx(void **state)
{
    (void)state;
    char id[48], data[128];
    issue("BIZ-VFY-1", id);
    snprintf(data, sizeof data, "{\"voucher_id\":\"%s\"}", id);
    json_t *a = call(&T1, "VOUCHER_VERIFY", data);
    answer_expect(a, "OK");
    assert_true(json_is_true(dget(a, "intact")));
    json_decref(a);
    uint8_t *pdf;
    size_t n;
    json_decref(get(&T1, id, &pdf, &n));
    char *b = malloc(b64_encoded_len(n) + 1);
    assert_non_null(b);
    /* the bytes as issued */
    b64_encode(pdf, n, b, b64_encoded_len(n) + 1);
    json_t *req = json_pack("{s:s}", "pdf", b);
    char *text = json_dumps(req, JSON_COMPACT);
    a = call(&T1, "VOUCHER_VERIFY", text);
    answer_expect(a, "OK");
    assert_true(json_is_true(dget(a, "intact")));
    assert_string_equal(answer_str(a, "voucher_id"), id);
    json_decref(a);
    free(text);
    json_decref(req);
    /* one byte changed */
    pdf[n / 3] ^= 0x20;
    b64_encode(pdf, n, b, b64_encoded_len(n) + 1);
    req = json_pack("{s:s}", "pdf", b);
    text = json_dumps(req, JSON_COMPACT);
    a = call(&T1, "VOUCHER_VERIFY", text);
    answer_expect(a, "OK");
    assert_true(json_is_false(dget(a, "intact")));
    assert_string_equal(answer_str(a, "verdict"), "sm3_differs");
    assert_string_equal(answer_str(a, "voucher_id"), id);
    assert_true(strlen(answer_str(a, "reason")) > 0);
    json_decref(a);
    free(text);
    json_decref(req);
    /* B02 is shown the same bytes as issued: not one of its vouchers */
    pdf[n / 3] ^= 0x20;
    b64_encode(pdf, n, b, b64_encoded_len(n) + 1);
    req = json_pack("{s:s}", "pdf", b);
    text = json_dumps(req, JSON_COMPACT);
    a = call(&T3, "VOUCHER_VERIFY", text);
    answer_expect(a, "OK");
    assert_true(json_is_false(dget(a, "intact")));
    assert_string_equal(answer_str(a, "verdict"), "not_issued");
    json_decref(a);
    free(text);
    json_decref(req);
    /* neither or both */
    a = call(&T1, "VOUCHER_VERIFY", "{}");
    answer_expect(a, "bad_request");
    json_decref(a);
    a = call(&T1, "VOUCHER_VERIFY", "{\"voucher_id\":\"V1-000001\",\"pdf\":\"JVBERg==\"}");
    answer_expect(a, "bad_request");
    json_decref(a);
    free(b);
    free(pdf);
}

static void same_serial_once(void **state)
{
    (void)state;
    char a[48], b[48];
    issue("BIZ-ONCE-1", a);
    int64_t n = count(S1, "SELECT COUNT(*) FROM vouchers");
    issue("BIZ-ONCE-1", b);
    assert_string_equal(a, b);
    assert_int_equal(count(S1, "SELECT COUNT(*) FROM vouchers"), n);
}

/* The workflow's two phases (voucher_render outside any transaction, then
 * voucher_store in one): the transaction only takes the bytes rendered
 * before it, checks they are what was signed (one byte altered between the
 * phases: refused, nothing written), stores exactly them under the id
 * derived from the business number, and is idempotent; a serial that is no
 * business number of the bank cannot be rendered ahead. */
static void rendered_before_stored(void **state)
{
    (void)state;
    char serial[32], id[48], again[48], want[48], sql[160];
    snprintf(serial, sizeof serial, "%05" PRId64 "%09d", B01, 900000001);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM vouchers WHERE serial = '%s'", serial);
    assert_int_equal(vissue_split(S1, B01, BR1, TL1, "debit_card", serial, 1, NOW, true, id),
                     VCH_BAD_INPUT);
    assert_int_equal(count(S1, sql), 0);
    assert_int_equal(vissue_split(S1, B01, BR1, TL1, "debit_card", serial, 1, NOW, false, id),
                     VCH_OK);
    snprintf(want, sizeof want, "V%" PRId64 "-%" PRId64 "900000001", B01, B01);
    assert_string_equal(id, want);
    assert_int_equal(count(S1, sql), 1);
    assert_int_equal(
        vissue_split(S1, B01, BR1, TL1, "debit_card", serial, 1, NOW + 1000, false, again),
        VCH_EXISTS);
    assert_string_equal(again, id);
    assert_int_equal(count(S1, sql), 1);
    /* what is stored is intact: the bytes rendered and signed before the transaction */
    char data[96];
    snprintf(data, sizeof data, "{\"voucher_id\":\"%s\"}", id);
    json_t *a = call(&T1, "VOUCHER_GET", data);
    json_t *d = json_object_get(a, "data");
    assert_string_equal(json_string_value(json_object_get(a, "code")), "OK");
    assert_true(json_is_true(json_object_get(d, "intact")));
    json_decref(a);
    assert_int_equal(
        vissue_split(S1, B01, BR1, TL1, "debit_card", "BIZ-NOT-A-NUMBER", 1, NOW, false, id),
        VCH_BAD_INPUT);
}

static void at_rest_and_tampering(void **state)
{
    (void)state;
    char id[48], sql[256], data[96];
    issue("BIZ-REST-1", id);
    int64_t bank = 0, num = 0;
    assert_int_equal(sscanf(id, "V%" SCNd64 "-%" SCNd64, &bank, &num), 2);
    /* nothing of the PDF in clear */
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM vouchers WHERE bank_id = %" PRId64 " AND id = %" PRId64
             " AND size > 1000 AND LENGTH(pdf_sealed) > size",
             bank, num);
    assert_int_equal(count(S1, sql), 1);
    /* the record altered under the server: found out */
    snprintf(data, sizeof data, "{\"voucher_id\":\"%s\"}", id);
    const char *what[][2] = {
        {"sm3 = '0000000000000000000000000000000000000000000000000000000000000000'", "sm3_differs"},
        {"sig = '3006020101020101'", "bad_signature"},
        {"pdf_sealed = sig", "unreadable"},
    };
    for (size_t i = 0; i < sizeof what / sizeof what[0]; i++) {
        char keep[256];
        snprintf(keep, sizeof keep,
                 "CREATE TABLE vkeep AS SELECT * FROM vouchers WHERE bank_id = %" PRId64
                 " AND id = %" PRId64,
                 bank, num);
        exec(S1, keep);
        snprintf(sql, sizeof sql,
                 "UPDATE vouchers SET %s WHERE bank_id = %" PRId64 " AND id = %" PRId64, what[i][0],
                 bank, num);
        exec(S1, sql);
        json_t *a = call(&T1, "VOUCHER_VERIFY", data);
        answer_expect(a, "OK");
        assert_true(json_is_false(dget(a, "intact")));
        assert_string_equal(answer_str(a, "verdict"), what[i][1]);
        json_decref(a);
        snprintf(sql, sizeof sql,
                 "DELETE FROM vouchers WHERE bank_id = %" PRId64 " AND id = %" PRId64, bank, num);
        exec(S1, sql);
        exec(S1, "INSERT INTO vouchers SELECT * FROM vkeep");
        exec(S1, "DROP TABLE vkeep");
    }
    json_t *a = call(&T1, "VOUCHER_VERIFY", data);
    assert_true(json_is_true(dget(a, "intact")));
    json_decref(a);
}

static void list_tx(void **state)
{
    (void)state;
    char id[48];
    issue("BIZ-LIST-1", id);
    json_t *a = call(&T1, "VOUCHER_LIST", "{\"limit\":100}");
    answer_expect(a, "OK");
    json_t *items = dget(a, "items"), *it;
    size_t i;
    bool seen = false;
    json_array_foreach(items, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "voucher_id")), id) == 0)
            seen = true;
        assert_null(json_object_get(it, "pdf"));
    }
    assert_true(seen);
    json_decref(a);
    a = call(&T1, "VOUCHER_LIST", "{\"limit\":0}");
    answer_expect(a, "bad_request");
    json_decref(a);
}

static void other_bank_cannot_read(void **state)
{
    (void)state;
    char id[48], data[96], mine[48];
    issue("BIZ-ISO-1", id);
    snprintf(data, sizeof data, "{\"voucher_id\":\"%s\"}", id);
    json_t *a = call(&T3, "VOUCHER_GET", data);
    answer_expect(a, "voucher_not_found");
    assert_null(dget(a, "pdf"));
    json_decref(a);
    a = call(&T3, "VOUCHER_VERIFY", data);
    answer_expect(a, "voucher_not_found");
    json_decref(a);
    /* B02's own voucher, same number in its bank, in main */
    assert_int_equal(vissue(MAIN, B02, BR2, TL2, "loan", "BIZ-ISO-1", 1, NOW, mine), 0);
    a = call(&T3, "VOUCHER_LIST", "{}");
    answer_expect(a, "OK");
    json_t *it;
    size_t i;
    json_array_foreach(dget(a, "items"), i, it)
    {
        const char *v = json_string_value(json_object_get(it, "voucher_id"));
        char pre[24];
        snprintf(pre, sizeof pre, "V%" PRId64 "-", B02);
        assert_memory_equal(v, pre, strlen(pre));
    }
    json_decref(a);
    /* and B01 cannot read B02's */
    snprintf(data, sizeof data, "{\"voucher_id\":\"%s\"}", mine);
    a = call(&T1, "VOUCHER_GET", data);
    answer_expect(a, "voucher_not_found");
    json_decref(a);
    /* the CLI finds both, each on its bank's database */
    char path[PATH_MAX + 32], *out = NULL, *err = NULL;
    snprintf(path, sizeof path, "%s/b02.pdf", D.dir);
    assert_int_equal(run_zhanye(&out, &err, "voucher", "export", "--data", D.dir, "--id", mine,
                                "--out", path, NULL),
                     0);
    free(out);
    free(err);
    assert_int_equal(run_zhanye(&out, &err, "voucher", "verify", "--data", D.dir, path, NULL), 0);
    free(out);
    free(err);
}

static void session_required(void **state)
{
    (void)state;
    struct tablet t;
    assert_int_equal(tablet_activate(&t, &D, "demo02"), 0);
    long st = 0;
    json_t *a = tablet_call(&t, "VOUCHER_LIST", "{}", NULL, &st, NULL);
    assert_non_null(a);
    assert_string_not_equal(answer_code(a), "OK");
    json_decref(a);
    tablet_free(&t);
}

static int setup(void **state)
{
    (void)state;
    static unsigned serial;
    snprintf(DB1, sizeof DB1, "zt_%d_%u_v1", (int)getpid(), ++serial);
    char conf[256];
    snprintf(conf, sizeof conf, "[shard.s1]\ndatabase = %s\nbanks = B01\n", DB1);
    if (testd_init(&D, conf))
        return -1;
    const struct mariadb_srv *m = testd_mariadb_server();
    if (m && mariadb_create_db(m, DB1) != 0)
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &MAIN) || !(S1 = open_shard(DB1)))
        return -1;
    if (vissue_open(D.dir) || vissue_teller(MAIN, "demo01", &B01, &BR1, &TL1) ||
        vissue_teller(MAIN, "demo03", &B02, &BR2, &TL2))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T3);
    vissue_close();
    store_close(S1);
    store_close(MAIN);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_over_http),
        cmocka_unit_test(cli_list_export_verify),
        cmocka_unit_test(verify_tx),
        cmocka_unit_test(same_serial_once),
        cmocka_unit_test(rendered_before_stored),
        cmocka_unit_test(at_rest_and_tampering),
        cmocka_unit_test(list_tx),
        cmocka_unit_test(other_bank_cannot_read),
        cmocka_unit_test(session_required),
    };
    return cmocka_run_group_tests_name("vouchers", tests, setup, teardown);
}
