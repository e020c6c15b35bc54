/* Electronic vouchers without a database: the PDF (voucher_pdf.h), the key
 * and signatures (voucher_sign.h), voucher ids (voucher_db.h), and that no
 * code path of voucher_db.c changes or deletes a voucher. The database,
 * the transactions and the CLI: tests/integration/test_vouchers.c. */
#include "business/voucher.h"
#include "business/voucher_db.h"
#include "business/voucher_pdf.h"
#include "business/voucher_sign.h"
#include "srcscan.h"

#include <cairo.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define NOW 1796000000000LL

struct wbuf {
    uint8_t *p;
    size_t n;
};

static cairo_status_t wr(void *arg, const unsigned char *d, unsigned int len)
{
    struct wbuf *b = arg;
    uint8_t *p = realloc(b->p, b->n + len);
    if (!p)
        return CAIRO_STATUS_WRITE_ERROR;
    memcpy(p + b->n, d, len);
    b->p = p;
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

static struct wbuf png(void)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 200, 80);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, 10, 60);
    cairo_line_to(cr, 190, 20);
    cairo_stroke(cr);
    cairo_destroy(cr);
    struct wbuf b = {0};
    assert_int_equal(cairo_surface_write_to_png_stream(s, wr, &b), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);
    return b;
}

static const struct voucher_field FIELDS[] = {
    {.label = "账号", .value = "6228 4800 0000 1234"},
    {.label = "签约产品", .value = "手机银行、网上银行"},
};

static struct voucher_doc doc(const struct wbuf *sig)
{
    return (struct voucher_doc){.id = "V7-000042",
                                .bank_name = "演示农村商业银行",
                                .branch_name = "城关支行",
                                .title = voucher_kind_title("ebank"),
                                .serial = "EB20261130001",
                                .time_ms = NOW,
                                .customer_name = "李四",
                                .id_no_masked = "110105********002X",
                                .teller = "T001 王五",
                                .fields = FIELDS,
                                .nfields = 2,
                                .signature_png = sig->p,
                                .signature_len = sig->n};
}

static const uint8_t *find(const uint8_t *p, size_t n, const char *s)
{
    return memmem(p, n, s, strlen(s));
}

static void pdf_is_a_pdf_with_a_font_subset(void **state)
{
    (void)state;
    struct wbuf sig = png();
    struct voucher_doc d = doc(&sig);
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(vpdf_render(&d, &a, &na), VPDF_OK);
    assert_memory_equal(a, "%PDF-", 5);
    assert_non_null(find(a, na, "%%EOF"));
    const uint8_t *fn = find(a, na, "/FontName /");
    assert_non_null(fn);
    fn += strlen("/FontName /");
    for (int i = 0; i < 6; i++)
        assert_true(fn[i] >= 'A' && fn[i] <= 'Z');
    assert_memory_equal(fn + 6, "+NotoSansCJK", 12);
    assert_non_null(find(a, na, "/FontFile"));
    assert_non_null(find(a, na, "/Subtype /Image"));
    /* the creation date is the voucher's time, in China time */
    assert_non_null(find(a, na, "/CreationDate (20261130085320+08'00)"));
    /* the same input: the same bytes */
    assert_int_equal(vpdf_render(&d, &b, &nb), VPDF_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(b);
    /* another field value: other bytes */
    struct voucher_field f2[] = {FIELDS[0], {.label = "签约产品", .value = "手机银行"}};
    d.fields = f2;
    assert_int_equal(vpdf_render(&d, &b, &nb), VPDF_OK);
    assert_false(na == nb && memcmp(a, b, na) == 0);
    /* the id is found back */
    char id[VOUCHER_ID_MAX + 1];
    assert_int_equal(vsign_find_id(a, na, id), VS_OK);
    assert_string_equal(id, "V7-000042");
    free(a);
    free(b);
    free(sig.p);
}

static void pdf_refuses_bad_input(void **state)
{
    (void)state;
    struct wbuf sig = png();
    struct voucher_doc d = doc(&sig);
    uint8_t *p = (uint8_t *)"x";
    size_t n = 1;
    uint8_t notpng[64] = {0x89, 'P', 'N', 'G'};
    d.signature_png = notpng;
    d.signature_len = sizeof notpng;
    assert_int_equal(vpdf_render(&d, &p, &n), VPDF_BAD_INPUT);
    assert_null(p);
    assert_int_equal(n, 0);
    d = doc(&sig);
    d.customer_name = NULL;
    assert_int_equal(vpdf_render(&d, &p, &n), VPDF_BAD_INPUT);
    d = doc(&sig);
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct voucher_field f[] = {{.label = "x", .value = big}};
    d.fields = f;
    d.nfields = 1;
    assert_int_equal(vpdf_render(&d, &p, &n), VPDF_BAD_INPUT);
    free(sig.p);
}

static void china_time(void **state)
{
    (void)state;
    char t[20];
    vpdf_china_time(0, t);
    assert_string_equal(t, "1970-01-01 08:00:00");
    vpdf_china_time(NOW, t);
    assert_string_equal(t, "2026-11-30 08:53:20");
}

static void signatures(void **state)
{
    (void)state;
    sm2_key *k = NULL, *other = NULL;
    assert_int_equal(sm2_key_generate(&k), SM_OK);
    assert_int_equal(sm2_key_generate(&other), SM_OK);
    uint8_t d[SM3_LEN], sig[SM2_SIG_MAX];
    size_t sl = 0;
    memset(d, 0xA5, sizeof d);
    assert_int_equal(vsign_sign(k, "V1-000001", d, sig, sizeof sig, &sl), VS_OK);
    assert_int_equal(vsign_verify(k, "V1-000001", d, sig, sl), VS_OK);
    assert_int_equal(vsign_verify(k, "V1-000002", d, sig, sl), VS_BAD); /* bound to the id */
    assert_int_equal(vsign_verify(other, "V1-000001", d, sig, sl), VS_BAD);
    d[31] ^= 1;
    assert_int_equal(vsign_verify(k, "V1-000001", d, sig, sl), VS_BAD);
    d[31] ^= 1;
    sig[sl - 1] ^= 1;
    assert_int_equal(vsign_verify(k, "V1-000001", d, sig, sl), VS_BAD);
    sm2_key_free(k);
    sm2_key_free(other);
}

static int rm(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    return remove(p);
}

static void key_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/zhanye-vkey-XXXXXX", keys[64], path[96];
    assert_non_null(mkdtemp(dir));
    snprintf(keys, sizeof keys, "%s/keys", dir);
    sm2_key *k = NULL;
    assert_int_equal(vsign_key_load(keys, &k), VS_BAD); /* none yet */
    assert_int_equal(vsign_key_create(keys), VS_OK);
    assert_int_equal(vsign_key_create(keys), VS_EXISTS);
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", keys, VOUCHER_KEY_FILE);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(vsign_key_load(keys, &k), VS_OK);
    sm2_key_free(k);
    /* the public file: 130 hex digits of the key's point */
    snprintf(path, sizeof path, "%s/%s", keys, VOUCHER_PUB_FILE);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[200] = "";
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_int_equal(strlen(text), 131);
    /* a key readable by others is refused */
    snprintf(path, sizeof path, "%s/%s", keys, VOUCHER_KEY_FILE);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(vsign_key_load(keys, &k), VS_BAD);
    assert_null(k);
    nftw(dir, rm, 8, FTW_DEPTH | FTW_PHYS);
}

static void find_id_bounds(void **state)
{
    (void)state;
    char id[VOUCHER_ID_MAX + 1];
    const char *cases[][2] = {
        {"/Keywords (zhanye-voucher:V1-000001)", "V1-000001"},
        {"xx/Keywords (zhanye-voucher:)/Keywords (zhanye-voucher:V2-000003)", "V2-000003"},
        {"/Keywords (zhanye-voucher:V1-000001", NULL},                            /* no ')' */
        {"/Keywords (zhanye-voucher:v1-000001)", NULL},                           /* lower case */
        {"/Keywords (zhanye-voucher:V1 000001)", NULL},                           /* a space */
        {"/Keywords (zhanye-voucher:V1-000001 recording-sm3:ab12)", "V1-000001"}, /* 双录 */
        {"/Keywords (zhanye-voucher:V111111111111111111111111111111111111111111)", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = vsign_find_id((const uint8_t *)cases[i][0], strlen(cases[i][0]), id);
        if (cases[i][1]) {
            assert_int_equal(rc, VS_OK);
            assert_string_equal(id, cases[i][1]);
        } else {
            assert_int_equal(rc, VS_BAD);
            assert_string_equal(id, "");
        }
    }
}

static void ids(void **state)
{
    (void)state;
    char t[VOUCHER_ID_MAX + 1];
    int64_t b = 0, n = 0;
    vcdb_id_format(3, 42, t, sizeof t);
    assert_string_equal(t, "V3-000042");
    assert_int_equal(vcdb_id_parse(t, &b, &n), 0);
    assert_int_equal(b, 3);
    assert_int_equal(n, 42);
    vcdb_id_format(12, 1234567, t, sizeof t);
    assert_string_equal(t, "V12-1234567");
    const char *bad[] = {"",          "V",         "V-1",       "V1-",   "V0-000001",
                         "V1-000000", "X1-000001", "V1-00a001", "V1--1", "V1234567890123456789-1",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(vcdb_id_parse(bad[i], &b, &n), -1);
    assert_int_equal(vcdb_id_parse(NULL, &b, &n), -1);
}

/* The UTF-8 text s as cairo writes a non-ASCII PDF text string: "<FEFF" and
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

/* The bank's and branch's names are in the PDF's /Subject (the page's text
 * is a glyph subset, not searchable); without names there is no subject. */
static void pdf_subject_names_the_issuer(void **state)
{
    (void)state;
    struct wbuf sig = png();
    struct voucher_doc d = doc(&sig);
    uint8_t *a = NULL;
    size_t na = 0;
    char want[512], subject[600];
    assert_int_equal(vpdf_render(&d, &a, &na), VPDF_OK);
    pdf_hex_string("演示农村商业银行 城关支行", want, sizeof want);
    snprintf(subject, sizeof subject, "/Subject %s", want);
    if (!find(a, na, subject))
        fail_msg("no %s in the PDF", subject);
    free(a);
    d.bank_name = NULL;
    d.branch_name = "";
    assert_int_equal(vpdf_render(&d, &a, &na), VPDF_OK);
    assert_null(find(a, na, "/Subject"));
    free(a);
    free(sig.p);
}

/* A business's voucher id is derived from its business number, so it is
 * known before the transaction; other serials have none. */
static void ids_from_business_numbers(void **state)
{
    (void)state;
    int64_t n = 0;
    assert_int_equal(voucher_number(3, "00003000000042", &n), 0);
    assert_int_equal(n, 3000000042LL);
    assert_int_equal(voucher_number(12, "00012123456789", &n), 0);
    assert_int_equal(n, 12123456789LL);
    assert_true(n >= VOUCHER_BIZ_NUMBER_MIN);
    const char *bad[] = {"00004000000042", /* another bank's */
                         "00003000000000", /* business 0 */
                         "0000300000004",  "000030000000421", "0000300000004a", "BIZ-ONCE-1", NULL};
    for (int i = 0; bad[i]; i++)
        if (voucher_number(3, bad[i], &n) != -1)
            fail_msg("%s is no business number of bank 3", bad[i]);
    assert_int_equal(voucher_number(100000, "00000000000042", &n), -1); /* bank % 100000 == 0 */
    assert_int_equal(voucher_number(3, NULL, &n), -1);
    /* the id as text round-trips, and is found in a PDF's Keywords */
    char t[VOUCHER_ID_MAX + 1], id[VOUCHER_ID_MAX + 1];
    int64_t b = 0;
    vcdb_id_format(3, 3000000042LL, t, sizeof t);
    assert_string_equal(t, "V3-3000000042");
    assert_int_equal(vcdb_id_parse(t, &b, &n), 0);
    assert_int_equal(n, 3000000042LL);
    const char *pdf = "%PDF-1.5 /Keywords (zhanye-voucher:V3-3000000042) %%EOF";
    assert_int_equal(vsign_find_id((const uint8_t *)pdf, strlen(pdf), id), VS_OK);
    assert_string_equal(id, "V3-3000000042");
}

static void kinds(void **state)
{
    (void)state;
    assert_string_equal(voucher_kind_title("debit_card"), "借记卡开卡");
    assert_string_equal(voucher_kind_title("ebank"), "电子银行签约");
    assert_string_equal(voucher_kind_title("loan"), "信贷业务申请");
    assert_string_equal(voucher_kind_title("credit_card"), "信用卡申请面签");
    assert_string_equal(voucher_kind_title("social_card"), "三代社保卡申领激活");
    assert_string_equal(voucher_kind_title("agency"), "中间业务签约");
    assert_null(voucher_kind_title("other"));
    assert_null(voucher_kind_title(NULL));
}

/* Vouchers are immutable: voucher_db.c (the only door to the table) has
 * no UPDATE and no DELETE, and no other file of src/business names the
 * table. */
static void no_update_or_delete(void **state)
{
    (void)state;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/src/business/voucher_db.c", srcscan_root());
    char *text = srcscan_slurp(path);
    assert_non_null(text);
    assert_non_null(strstr(text, "INSERT INTO vouchers"));
    for (char *p = text; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    assert_null(strstr(text, "UPDATE "));
    assert_null(strstr(text, "DELETE "));
    assert_null(strstr(text, "REPLACE "));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pdf_is_a_pdf_with_a_font_subset),
        cmocka_unit_test(pdf_refuses_bad_input),
        cmocka_unit_test(china_time),
        cmocka_unit_test(signatures),
        cmocka_unit_test(key_files),
        cmocka_unit_test(find_id_bounds),
        cmocka_unit_test(ids),
        cmocka_unit_test(ids_from_business_numbers),
        cmocka_unit_test(pdf_subject_names_the_issuer),
        cmocka_unit_test(kinds),
        cmocka_unit_test(no_update_or_delete),
    };
    int rc = cmocka_run_group_tests_name("business_voucher", tests, NULL, NULL);
    vpdf_cleanup();
    return rc;
}
