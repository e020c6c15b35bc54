/* Attachments end to end: ATTACH_BEGIN, ATTACH_CHUNK, ATTACH_STATUS,
 * ATTACH_END, ATTACH_GET and ATTACH_LIST over HTTP with real ZY1 envelopes
 * against a real daemon, with real contents made here (a PNG of three
 * chunks, a baseline JPEG, a PDF): download equals upload; an upload
 * interrupted after a chunk and resumed from what the server says it has;
 * wrong SM3, wrong type and too large refused; the same cseq twice is one
 * write; every input member with a bad value (bad_request naming it,
 * nothing written); dedup inside a bank and never across banks; another
 * bank can neither read, continue, nor link to B01's; no byte of a content
 * or a file name in clear in the database; abandoned uploads purged. */
#include "channel/sm.h"
#include "console.h"
#include "data/store.h"
#include "foundation/codec.h"
#include "tablet.h"
#include "testd.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define CHUNK (256 * 1024)
#define SECRET_TEXT "ZHANYE-SECRET-CONTENT-7f3a9c"
#define SECRET_NAME "王秘密身份证正面.jpg"

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct tablet T3; /* demo03, B02 */
static struct store *DB;
static int64_t CUST1; /* a customer of B01 */

/* ---- contents ----------------------------------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t n, cap;
};

/* Appends, growing by doubling (byte-wise appends stay linear). */
static void put(struct buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *nb = realloc(b->p, cap);
        assert_non_null(nb);
        b->p = nb;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_be32(struct buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

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

static void png_chunk(struct buf *b, const char *type, const uint8_t *data, size_t n)
{
    put_be32(b, (uint32_t)n);
    put(b, type, 4);
    if (n)
        put(b, data, n);
    uint32_t crc = crc32_of((const uint8_t *)type, 4, 0);
    put_be32(b, crc32_of(data, n, crc));
}

/* A valid RGB PNG of w x h, its pixels a pattern of seed, the image data
 * in stored (uncompressed) deflate blocks: w * h * 3 bytes and a little. */
static struct buf make_png(uint32_t w, uint32_t h, unsigned seed)
{
    static const uint8_t sig[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    struct buf b = {0}, raw = {0}, z = {0};
    put(&b, sig, sizeof sig);
    uint8_t ihdr[13] = {(uint8_t)(w >> 24),
                        (uint8_t)(w >> 16),
                        (uint8_t)(w >> 8),
                        (uint8_t)w,
                        (uint8_t)(h >> 24),
                        (uint8_t)(h >> 16),
                        (uint8_t)(h >> 8),
                        (uint8_t)h,
                        8,
                        2,
                        0,
                        0,
                        0};
    png_chunk(&b, "IHDR", ihdr, sizeof ihdr);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t f = 0;
        put(&raw, &f, 1);
        for (uint32_t x = 0; x < w * 3; x++) {
            uint8_t v = (uint8_t)(x * 7 + y * 13 + seed * 31 + (x * y) % 251);
            put(&raw, &v, 1);
        }
    }
    uint8_t zh[2] = {0x78, 0x01};
    put(&z, zh, 2);
    uint32_t a = 1, s2 = 0;
    for (size_t off = 0; off < raw.n;) {
        size_t len = raw.n - off > 65535 ? 65535 : raw.n - off;
        uint8_t hdr[5] = {(uint8_t)(off + len == raw.n), (uint8_t)len, (uint8_t)(len >> 8),
                          (uint8_t)~len, (uint8_t)(~len >> 8)};
        put(&z, hdr, 5);
        put(&z, raw.p + off, len);
        for (size_t i = 0; i < len; i++) {
            a = (a + raw.p[off + i]) % 65521;
            s2 = (s2 + a) % 65521;
        }
        off += len;
    }
    put_be32(&z, (s2 << 16) | a);
    png_chunk(&b, "IDAT", z.p, z.n);
    static const uint8_t none[1];
    png_chunk(&b, "IEND", none, 0);
    free(raw.p);
    free(z.p);
    return b;
}

/* A baseline JPEG: one 8x8 grey block, every coefficient 0 (one-symbol
 * Huffman tables: DC category 0, AC end of block). */
static struct buf make_jpeg(void)
{
    struct buf b = {0};
    static const uint8_t head[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',  'F',
                                   0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00};
    put(&b, head, sizeof head);
    uint8_t dqt[69] = {0xFF, 0xDB, 0x00, 0x43, 0x00};
    memset(dqt + 5, 1, 64);
    put(&b, dqt, sizeof dqt);
    static const uint8_t sof[] = {0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08,
                                  0x00, 0x08, 0x01, 0x01, 0x11, 0x00};
    put(&b, sof, sizeof sof);
    for (int t = 0; t < 2; t++) {
        uint8_t dht[22] = {0xFF, 0xC4, 0x00, 0x14, (uint8_t)(t ? 0x10 : 0x00), 1};
        put(&b, dht, sizeof dht); /* 16 counts (1, then 0s) and the one symbol 0 */
    }
    static const uint8_t sos[] = {0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00,
                                  0x00, 0x3F, 0x00, 0x3F, 0xFF, 0xD9};
    put(&b, sos, sizeof sos);
    return b;
}

/* A one-page PDF 1.4 showing text, with a correct cross-reference table. */
static struct buf make_pdf(const char *text)
{
    struct buf b = {0};
    char obj[5][256];
    char stream[128];
    snprintf(stream, sizeof stream, "BT /F1 12 Tf 72 720 Td (%s) Tj ET", text);
    snprintf(obj[0], sizeof obj[0], "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    snprintf(obj[1], sizeof obj[1], "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
    snprintf(obj[2], sizeof obj[2],
             "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
             "/Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n");
    snprintf(obj[3], sizeof obj[3], "4 0 obj\n<< /Length %zu >>\nstream\n%s\nendstream\nendobj\n",
             strlen(stream), stream);
    snprintf(obj[4], sizeof obj[4],
             "5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
    const char *head = "%PDF-1.4\n";
    put(&b, head, strlen(head));
    size_t off[5];
    for (int i = 0; i < 5; i++) {
        off[i] = b.n;
        put(&b, obj[i], strlen(obj[i]));
    }
    size_t xref = b.n;
    char line[64];
    const char *x = "xref\n0 6\n0000000000 65535 f \n";
    put(&b, x, strlen(x));
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line, "%010zu 00000 n \n", off[i]);
        put(&b, line, strlen(line));
    }
    char tail[128];
    snprintf(tail, sizeof tail, "trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
             xref);
    put(&b, tail, strlen(tail));
    return b;
}

static void sm3_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t d[SM3_LEN];
    sm_part part = {p, n};
    assert_int_equal(sm3_digest(&part, 1, d), SM_OK);
    assert_int_equal(hex_encode(d, sizeof d, out, 65), 64);
}

static char *b64(const uint8_t *p, size_t n)
{
    size_t cap = b64_encoded_len(n) + 1;
    char *t = malloc(cap);
    assert_non_null(t);
    assert_true(b64_encode(p, n, t, cap) >= 0);
    return t;
}

/* ---- calls ------------------------------------------------------------------------ */

static int64_t int_of(json_t *a, const char *key)
{
    return json_integer_value(json_object_get(answer_data(a), key));
}

static const char *str_of(json_t *a, const char *key)
{
    const char *s = json_string_value(json_object_get(answer_data(a), key));
    return s ? s : "";
}

/* Calls tx with the JSON object data (stolen); the sealed answer. */
static json_t *call_j(struct tablet *t, const char *tx, json_t *data, const char *cseq)
{
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(t, tx, text, cseq, &st, &plain);
    if (!a) {
        char *p = json_dumps(plain, JSON_COMPACT);
        fail_msg("%s: no sealed answer (%ld %s)", tx, st, p ? p : "");
    }
    free(text);
    json_decref(plain);
    return a;
}

static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
{
    char data[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    json_error_t e;
    json_t *j = json_loads(data, 0, &e);
    if (!j)
        fail_msg("bad test JSON %s", data);
    return call_j(t, tx, j, NULL);
}

static json_t *begin(struct tablet *t, const char *kind, const char *name, const struct buf *c,
                     const char *sm3, json_t *link, const char *cseq)
{
    char hex[65];
    if (!sm3) {
        sm3_hex(c->p, c->n, hex);
        sm3 = hex;
    }
    json_t *d = json_pack("{s:s, s:s, s:I, s:s, s:o}", "kind", kind, "name", name, "size",
                          (json_int_t)c->n, "sm3", sm3, "link", link);
    return call_j(t, "ATTACH_BEGIN", d, cseq);
}

/* The answer's message ("" if none). */
static const char *msg_of(json_t *a)
{
    const char *m = json_string_value(json_object_get(a, "message"));
    return m ? m : "";
}

static json_t *link_customer(int64_t id)
{
    return json_pack("{s:I}", "customer_id", (json_int_t)id);
}

static json_t *chunk(struct tablet *t, int64_t upload, int64_t idx, const struct buf *c,
                     const char *cseq)
{
    size_t off = (size_t)idx * CHUNK;
    size_t n = c->n - off > CHUNK ? CHUNK : c->n - off;
    char *text = b64(c->p + off, n);
    json_t *d = json_pack("{s:I, s:I, s:s}", "upload_id", (json_int_t)upload, "index",
                          (json_int_t)idx, "data", text);
    free(text);
    return call_j(t, "ATTACH_CHUNK", d, cseq);
}

static void chunk_ok(struct tablet *t, int64_t upload, int64_t idx, const struct buf *c)
{
    json_t *a = chunk(t, upload, idx, c, NULL);
    answer_expect(a, "OK");
    json_decref(a);
}

static int64_t chunks_of(const struct buf *c)
{
    return (int64_t)((c->n + CHUNK - 1) / CHUNK);
}

/* A whole upload linked to customer; the attachment id. */
static int64_t upload(struct tablet *t, const char *kind, const char *name, const struct buf *c,
                      int64_t customer)
{
    json_t *a = begin(t, kind, name, c, NULL, link_customer(customer), NULL);
    answer_expect(a, "OK");
    int64_t id = int_of(a, "upload_id");
    assert_true(id > 0);
    assert_string_equal(str_of(a, "state"), "uploading");
    json_decref(a);
    for (int64_t i = 0; i < chunks_of(c); i++)
        chunk_ok(t, id, i, c);
    a = call(t, "ATTACH_END", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "attachment_id"), id);
    json_decref(a);
    return id;
}

/* Downloads attachment id chunk by chunk; the content. */
static struct buf download(struct tablet *t, int64_t id, json_t **desc)
{
    struct buf b = {0};
    int64_t n = 1;
    for (int64_t i = 0; i < n; i++) {
        json_t *a = call(t, "ATTACH_GET", "{\"attachment_id\":%lld,\"index\":%lld}", (long long)id,
                         (long long)i);
        answer_expect(a, "OK");
        n = int_of(a, "chunks");
        const char *text = str_of(a, "data");
        uint8_t *p = malloc(CHUNK);
        assert_non_null(p);
        long got = b64_decode(text, strlen(text), p, CHUNK);
        assert_true(got > 0);
        put(&b, p, (size_t)got);
        free(p);
        if (desc && i == 0)
            *desc = json_incref(answer_data(a));
        json_decref(a);
    }
    return b;
}

/* ---- the database --------------------------------------------------------------------- */

static int64_t db_int(const char *sql, const char *arg)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    if (arg)
        store_bind_text(s, 1, arg);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return v;
}

static void db_exec(const char *sql)
{
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_exec(c, sql), STORE_OK);
    store_release(c);
}

/* Every byte of the attachment tables, the stored answers and (with_audit)
 * the audit log, of one bank (bank NULL: all), as one buffer. */
static char *dump_of(size_t *len, const char *bank, bool with_audit)
{
    static const char *const q[] = {
        "SELECT bank_id, id, sm3, kind, size, chunks, state, mime, name_sealed, branch_id, "
        "teller_id, created_at, stored_at FROM attachments WHERE ? IS NULL OR bank_id = "
        "(SELECT id FROM banks WHERE code = ?) ORDER BY bank_id, id",
        "SELECT bank_id, attachment_id, idx, len, sealed FROM attach_chunks WHERE ? IS NULL OR "
        "bank_id = (SELECT id FROM banks WHERE code = ?) ORDER BY bank_id, attachment_id, idx",
        "SELECT bank_id, attachment_id, link_kind, link_ref, teller_id, created_at FROM "
        "attach_links WHERE ? IS NULL OR bank_id = (SELECT id FROM banks WHERE code = ?) "
        "ORDER BY bank_id, attachment_id, link_kind, link_ref",
        "SELECT bank_id, dev, tx, cseq, answer FROM tx_answers WHERE ? IS NULL OR bank_id = "
        "(SELECT id FROM banks WHERE code = ?) ORDER BY dev, tx, cseq",
        "SELECT seq, bank_id, actor, event, target, detail FROM audit_log WHERE ? IS NULL OR "
        "bank_id = (SELECT id FROM banks WHERE code = ?) ORDER BY seq",
    };
    static const int ncols[] = {13, 5, 6, 5, 6};
    struct store_conn *c = NULL;
    struct buf out = {0};
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    for (size_t i = 0; i < (with_audit ? 5 : 4); i++) {
        struct store_stmt *s = NULL;
        assert_int_equal(store_prepare(c, q[i], &s), STORE_OK);
        if (bank) {
            store_bind_text(s, 1, bank);
            store_bind_text(s, 2, bank);
        } else {
            store_bind_null(s, 1);
            store_bind_null(s, 2);
        }
        int rc;
        while ((rc = store_step(s)) == STORE_ROW) {
            for (int k = 0; k < ncols[i]; k++) {
                size_t n = 0;
                const void *v = store_col_blob(s, k, &n);
                if (n)
                    put(&out, v, n);
                put(&out, "|", 1);
            }
        }
        assert_int_equal(rc, STORE_DONE);
        store_finish(s);
    }
    store_release(c);
    put(&out, "", 1);
    *len = out.n - 1;
    return (char *)out.p;
}

static char *dump(size_t *len)
{
    return dump_of(len, NULL, true);
}

static bool same(const char *a, size_t la, const char *b, size_t lb)
{
    return la == lb && memcmp(a, b, la) == 0;
}

/* ---- upload and download ----------------------------------------------------------- */

static void png_in_chunks_roundtrip(void **state)
{
    (void)state;
    struct buf png = make_png(500, 400, 1); /* 600 KB: three chunks */
    assert_int_equal(chunks_of(&png), 3);
    int64_t id = upload(&T1, "photo", "门头照.png", &png, CUST1);
    json_t *desc = NULL;
    struct buf got = download(&T1, id, &desc);
    assert_int_equal(got.n, png.n);
    assert_memory_equal(got.p, png.p, png.n);
    assert_string_equal(json_string_value(json_object_get(desc, "mime")), "image/png");
    assert_string_equal(json_string_value(json_object_get(desc, "kind")), "photo");
    assert_string_equal(json_string_value(json_object_get(desc, "name")), "门头照.png");
    assert_int_equal(json_integer_value(json_object_get(desc, "size")), (json_int_t)png.n);
    assert_int_equal(json_integer_value(json_object_get(desc, "chunk_size")), CHUNK);
    char hex[65], ref[24];
    sm3_hex(png.p, png.n, hex);
    assert_string_equal(json_string_value(json_object_get(desc, "sm3")), hex);
    json_t *l0 = json_array_get(json_object_get(desc, "links"), 0);
    snprintf(ref, sizeof ref, "%lld", (long long)CUST1);
    assert_string_equal(json_string_value(json_object_get(l0, "kind")), "customer");
    assert_string_equal(json_string_value(json_object_get(l0, "ref")), ref);
    json_decref(desc);
    /* Audited: begun, three chunks, stored, three reads. */
    char target[40];
    snprintf(target, sizeof target, "attachment:%lld", (long long)id);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE target = ? AND event = "
                            "'attach.chunk' AND bank_id = (SELECT id FROM banks WHERE code = "
                            "'B01')",
                            target),
                     3);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE target = ? AND event = "
                            "'attach.stored'",
                            target),
                     1);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE target = ? AND event = "
                            "'attach.viewed'",
                            target),
                     3);
    /* Chunk index out of range on download. */
    json_t *a = call(&T1, "ATTACH_GET", "{\"attachment_id\":%lld,\"index\":3}", (long long)id);
    answer_expect(a, "bad_request");
    json_decref(a);
    /* The same content again, linked to a business: answered at once
     * (dedup), nothing to send, the link added. */
    a = begin(&T1, "photo", "again.png", &png, NULL,
              json_pack("{s:s}", "business", "LOAN-2026-0042"), NULL);
    answer_expect(a, "OK");
    assert_string_equal(str_of(a, "state"), "stored");
    assert_int_equal(int_of(a, "attachment_id"), id);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "received")), 3);
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM attachments WHERE sm3 = ?", hex), 1);
    a = call(&T1, "ATTACH_LIST", "{\"business\":\"LOAN-2026-0042\"}");
    answer_expect(a, "OK");
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 1);
    json_decref(a);
    free(png.p);
    free(got.p);
}

static void jpeg_and_pdf(void **state)
{
    (void)state;
    struct buf jpg = make_jpeg(), pdf = make_pdf("Loan contract page 1");
    int64_t cust = 0;
    {
        json_t *a = call(&T1, "CUSTOMER_CREATE",
                         "{\"kind\":\"person\",\"name\":\"附件客户\",\"id_no\":"
                         "\"330102199001011234\"}");
        answer_expect(a, "OK");
        cust = int_of(a, "customer_id");
        json_decref(a);
    }
    int64_t j = upload(&T1, "photo", "face.jpg", &jpg, cust);
    int64_t p = upload(&T1, "document", "合同.pdf", &pdf, cust);
    json_t *desc = NULL;
    struct buf got = download(&T1, p, &desc);
    assert_int_equal(got.n, pdf.n);
    assert_memory_equal(got.p, pdf.p, pdf.n);
    assert_string_equal(json_string_value(json_object_get(desc, "mime")), "application/pdf");
    json_decref(desc);
    free(got.p);
    got = download(&T1, j, &desc);
    assert_memory_equal(got.p, jpg.p, jpg.n);
    assert_string_equal(json_string_value(json_object_get(desc, "mime")), "image/jpeg");
    json_decref(desc);
    free(got.p);
    /* The customer's attachments, newest first; limit and more. */
    json_t *a = call(&T1, "ATTACH_LIST", "{\"customer_id\":%lld}", (long long)cust);
    answer_expect(a, "OK");
    json_t *items = json_object_get(answer_data(a), "items");
    assert_int_equal(json_array_size(items), 2);
    json_t *first = json_array_get(items, 0);
    assert_int_equal(json_integer_value(json_object_get(first, "attachment_id")), p);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "合同.pdf");
    assert_false(json_is_true(json_object_get(answer_data(a), "more")));
    json_decref(a);
    a = call(&T1, "ATTACH_LIST", "{\"customer_id\":%lld,\"limit\":1}", (long long)cust);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 1);
    assert_true(json_is_true(json_object_get(answer_data(a), "more")));
    json_decref(a);
    /* A visit link: to a visit of the bank's. */
    a = call(&T1, "VISIT_CHECKIN",
             "{\"customer_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\","
             "\"notes\":\"附件走访\"}",
             (long long)cust);
    answer_expect(a, "OK");
    int64_t visit = int_of(a, "visit_id");
    json_decref(a);
    a = begin(&T1, "photo", "visit.jpg", &jpg, NULL, json_pack("{s:I}", "visit_id", visit), NULL);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "attachment_id"), j);
    json_decref(a);
    a = call(&T1, "ATTACH_LIST", "{\"visit_id\":%lld}", (long long)visit);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 1);
    json_decref(a);
    free(jpg.p);
    free(pdf.p);
}

/* ---- interrupted and resumed ---------------------------------------------------------- */

static void interrupted_and_resumed(void **state)
{
    (void)state;
    struct buf png = make_png(500, 400, 2);
    json_t *a = begin(&T1, "photo", "resume.png", &png, NULL, link_customer(CUST1), NULL);
    answer_expect(a, "OK");
    int64_t id = int_of(a, "upload_id");
    assert_int_equal(int_of(a, "chunks"), 3);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "received")), 0);
    json_decref(a);
    /* Chunks 0 and 1 arrive; then the network drops. */
    chunk_ok(&T1, id, 0, &png);
    chunk_ok(&T1, id, 1, &png);
    /* END too early: what is missing, nothing written. */
    a = call(&T1, "ATTACH_END", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "attach_incomplete");
    json_t *missing = json_object_get(answer_data(a), "missing");
    assert_int_equal(json_array_size(missing), 1);
    assert_int_equal(json_integer_value(json_array_get(missing, 0)), 2);
    json_decref(a);
    /* The tablet comes back (a new session) and begins the same content
     * again: the same upload, with what the server has. */
    assert_int_equal(tablet_login(&T1, "demo01", PW), 0);
    a = begin(&T1, "photo", "resume.png", &png, NULL, link_customer(CUST1), NULL);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "upload_id"), id);
    assert_string_equal(str_of(a, "state"), "uploading");
    char *rec = json_dumps(json_object_get(answer_data(a), "received"), JSON_COMPACT);
    assert_string_equal(rec, "[0,1]");
    free(rec);
    json_decref(a);
    a = call(&T1, "ATTACH_STATUS", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    rec = json_dumps(json_object_get(answer_data(a), "missing"), JSON_COMPACT);
    assert_string_equal(rec, "[2]");
    free(rec);
    json_decref(a);
    /* Chunk 1's answer was lost: its resend is harmless. */
    size_t l1, l2;
    char *before = dump_of(&l1, NULL, false);
    a = chunk(&T1, id, 1, &png, NULL);
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "duplicate")));
    assert_int_equal(int_of(a, "received"), 2);
    json_decref(a);
    char *after = dump_of(&l2, NULL, false);
    assert_true(same(before, l1, after, l2));
    free(before);
    free(after);
    chunk_ok(&T1, id, 2, &png);
    a = call(&T1, "ATTACH_END", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "attachment_id"), id);
    json_decref(a);
    /* END again: the same answer. */
    a = call(&T1, "ATTACH_END", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    assert_string_equal(str_of(a, "mime"), "image/png");
    json_decref(a);
    struct buf got = download(&T1, id, NULL);
    assert_int_equal(got.n, png.n);
    assert_memory_equal(got.p, png.p, png.n);
    free(got.p);
    free(png.p);
}

/* ---- refusals ------------------------------------------------------------------------- */

static void wrong_sm3_refused(void **state)
{
    (void)state;
    struct buf png = make_png(40, 40, 3), other = make_png(40, 40, 4);
    char wrong[65];
    sm3_hex(other.p, other.n, wrong);
    json_t *a = begin(&T1, "photo", "wrong.png", &png, wrong, link_customer(CUST1), NULL);
    answer_expect(a, "OK");
    int64_t id = int_of(a, "upload_id");
    json_decref(a);
    /* A chunk whose own sm3 differs: refused, nothing written. */
    size_t l1, l2;
    char *before = dump(&l1);
    char *text = b64(png.p, png.n);
    a = call_j(&T1, "ATTACH_CHUNK",
               json_pack("{s:I, s:i, s:s, s:s}", "upload_id", (json_int_t)id, "index", 0, "data",
                         text, "sm3", wrong),
               NULL);
    answer_expect(a, "attach_mismatch");
    json_decref(a);
    char *after = dump(&l2);
    assert_true(same(before, l1, after, l2));
    free(before);
    free(after);
    /* With its right chunk sm3 it is taken; END finds the whole content's
     * SM3 is not the declared one: refused, the upload abandoned. */
    char right[65];
    sm3_hex(png.p, png.n, right);
    a = call_j(&T1, "ATTACH_CHUNK",
               json_pack("{s:I, s:i, s:s, s:s}", "upload_id", (json_int_t)id, "index", 0, "data",
                         text, "sm3", right),
               NULL);
    answer_expect(a, "OK");
    json_decref(a);
    free(text);
    a = call(&T1, "ATTACH_END", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "attach_mismatch");
    assert_string_equal(str_of(a, "state"), "abandoned");
    json_decref(a);
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    assert_int_equal(db_int("SELECT COUNT(*) FROM attach_chunks WHERE attachment_id = "
                            "CAST(? AS INTEGER) AND bank_id = (SELECT id FROM banks WHERE code "
                            "= 'B01')",
                            sid),
                     0);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'attach.refused' AND "
                            "detail LIKE '%\"reason\":\"sm3\"%'",
                            NULL),
                     1);
    a = call(&T1, "ATTACH_GET", "{\"attachment_id\":%lld}", (long long)id);
    answer_expect(a, "attach_not_found");
    json_decref(a);
    a = call(&T1, "ATTACH_STATUS", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "attach_not_found");
    json_decref(a);
    /* Begun again: the same id, from nothing. */
    a = begin(&T1, "photo", "wrong.png", &png, wrong, link_customer(CUST1), NULL);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "upload_id"), id);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "received")), 0);
    json_decref(a);
    free(png.p);
    free(other.p);
}

static void wrong_type_refused(void **state)
{
    (void)state;
    struct buf png = make_png(30, 30, 5), pdf = make_pdf("type test");
    struct buf rnd = {0}, rnd2 = {0};
    for (int i = 0; i < 3000; i++) {
        uint8_t v = (uint8_t)(i * 37 + 11), w = (uint8_t)(i * 41 + 3);
        put(&rnd, &v, 1);
        put(&rnd2, &w, 1);
    }
    struct {
        const char *kind;
        struct buf *c;
    } cases[] = {{"document", &png}, {"photo", &pdf}, {"photo", &rnd}, {"document", &rnd2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a =
            begin(&T1, cases[i].kind, "x.bin", cases[i].c, NULL, link_customer(CUST1), NULL);
        answer_expect(a, "OK");
        int64_t id = int_of(a, "upload_id");
        json_decref(a);
        size_t l1, l2;
        char *before = dump(&l1);
        a = chunk(&T1, id, 0, cases[i].c, NULL);
        answer_expect(a, "attach_bad_type");
        json_decref(a);
        char *after = dump(&l2);
        if (!same(before, l1, after, l2))
            fail_msg("case %zu: a refused chunk wrote something", i);
        free(before);
        free(after);
        a = call(&T1, "ATTACH_END", "{\"upload_id\":%lld}", (long long)id);
        answer_expect(a, "attach_incomplete");
        json_decref(a);
    }
    /* The PNG declared anew as a photo: the same upload, taken now. */
    int64_t id = upload(&T1, "photo", "p.png", &png, CUST1);
    json_t *d = NULL;
    struct buf got = download(&T1, id, &d);
    assert_string_equal(json_string_value(json_object_get(d, "kind")), "photo");
    json_decref(d);
    free(got.p);
    /* Stored as a photo, it is not a document too. */
    json_t *a = begin(&T1, "document", "p.png", &png, NULL, link_customer(CUST1), NULL);
    answer_expect(a, "attach_bad_type");
    json_decref(a);
    free(png.p);
    free(pdf.p);
    free(rnd.p);
    free(rnd2.p);
}

static void too_large_refused(void **state)
{
    (void)state;
    size_t l1, l2;
    char *before = dump(&l1);
    json_t *a = call(&T1, "ATTACH_BEGIN",
                     "{\"kind\":\"photo\",\"name\":\"big.jpg\",\"size\":10485761,\"sm3\":\"%064d\","
                     "\"link\":{\"customer_id\":%lld}}",
                     0, (long long)CUST1);
    answer_expect(a, "attach_too_large");
    assert_int_equal(int_of(a, "max_bytes"), 10485760);
    json_decref(a);
    char *after = dump(&l2);
    assert_true(same(before, l1, after, l2));
    free(before);
    free(after);
    /* The limit itself is fine. */
    a = call(&T1, "ATTACH_BEGIN",
             "{\"kind\":\"photo\",\"name\":\"big.jpg\",\"size\":10485760,\"sm3\":\"%064d\","
             "\"link\":{\"customer_id\":%lld}}",
             1, (long long)CUST1);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "chunks"), 40);
    json_decref(a);
}

/* A link names a customer or a visit of the caller's bank, else it is
 * refused naming the member, nothing written; another bank's visit is
 * answered as one that does not exist. */
static void links_checked(void **state)
{
    (void)state;
    struct buf png = make_png(24, 24, 9);
    json_t *a = call(&T1, "VISIT_CHECKIN",
                     "{\"customer_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\","
                     "\"notes\":\"链接检查\"}",
                     (long long)CUST1);
    answer_expect(a, "OK");
    int64_t visit = int_of(a, "visit_id");
    json_decref(a);
    struct {
        struct tablet *t;
        json_t *link;
        const char *code, *member;
    } cases[] = {
        {&T1, json_pack("{s:I}", "visit_id", (json_int_t)987654), "visit_not_found",
         "data.link.visit_id"},
        {&T1, json_pack("{s:I}", "customer_id", (json_int_t)987654), "customer_not_found",
         "data.link.customer_id"},
        /* B01's visit, from B02: B02 has no visit of this id. */
        {&T3, json_pack("{s:I}", "visit_id", (json_int_t)visit), "visit_not_found",
         "data.link.visit_id"},
    };
    assert_int_equal(db_int("SELECT COUNT(*) FROM visits WHERE bank_id = (SELECT id FROM banks "
                            "WHERE code = 'B02')",
                            NULL),
                     0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t l1, l2;
        char *before = dump(&l1);
        a = begin(cases[i].t, "photo", "link.png", &png, NULL, cases[i].link, NULL);
        answer_expect(a, cases[i].code);
        if (!strstr(msg_of(a), cases[i].member))
            fail_msg("case %zu: the message does not name %s: %s", i, cases[i].member, msg_of(a));
        /* Nothing of B01's visit in the answer. */
        assert_null(json_object_get(answer_data(a), "visit_id"));
        json_decref(a);
        char *after = dump(&l2);
        if (!same(before, l1, after, l2))
            fail_msg("case %zu: a refused link wrote something", i);
        free(before);
        free(after);
    }
    /* The bank's own visit is taken. */
    a = begin(&T1, "photo", "link.png", &png, NULL, json_pack("{s:I}", "visit_id", visit), NULL);
    answer_expect(a, "OK");
    json_decref(a);
    free(png.p);
}

/* A bank's own limit (zhanye bank set) comes before the deployment's:
 * B01 limited below B02, the same size is refused for B01 and taken for
 * B02; removing B01's restores the deployment's. */
static void limit_per_bank(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    int rc = run_zhanye(&out, &err, "bank", "set", "--data", D.dir, "--code", "B01",
                        "--attach-max-bytes", "100000", NULL);
    if (rc != 0)
        fail_msg("zhanye bank set: %d: %s", rc, err ? err : "");
    free(out);
    free(err);
    rc = run_zhanye(NULL, NULL, "bank", "set", "--data", D.dir, "--code", "B02",
                    "--attach-max-bytes", "200000", NULL);
    assert_int_equal(rc, 0);
    static const char fmt[] = "{\"kind\":\"photo\",\"name\":\"lim.jpg\",\"size\":%d,"
                              "\"sm3\":\"%064d\",\"link\":{\"business\":\"LIM-1\"}}";
    size_t l1, l2;
    char *before = dump(&l1);
    json_t *a = call(&T1, "ATTACH_BEGIN", fmt, 150000, 71);
    answer_expect(a, "attach_too_large");
    assert_int_equal(int_of(a, "max_bytes"), 100000);
    json_decref(a);
    char *after = dump(&l2);
    assert_true(same(before, l1, after, l2));
    free(before);
    free(after);
    a = call(&T1, "ATTACH_BEGIN", fmt, 100000, 72);
    answer_expect(a, "OK");
    json_decref(a);
    a = call(&T3, "ATTACH_BEGIN", fmt, 150000, 71);
    answer_expect(a, "OK");
    json_decref(a);
    a = call(&T3, "ATTACH_BEGIN", fmt, 200001, 73);
    answer_expect(a, "attach_too_large");
    assert_int_equal(int_of(a, "max_bytes"), 200000);
    json_decref(a);
    /* Audited on the bank's chain, with the old and the new limit. */
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = "
                            "'bank.settings_changed' AND detail LIKE '%\"new\":100000%' AND "
                            "bank_id = (SELECT id FROM banks WHERE code = 'B01')",
                            NULL),
                     1);
    /* Bad values are refused by the CLI; an unknown bank too. */
    assert_int_not_equal(run_zhanye(NULL, NULL, "bank", "set", "--data", D.dir, "--code", "B01",
                                    "--attach-max-bytes", "-1", NULL),
                         0);
    assert_int_not_equal(run_zhanye(NULL, NULL, "bank", "set", "--data", D.dir, "--code", "B99",
                                    "--attach-max-bytes", "5", NULL),
                         0);
    /* 0: the deployment's limit again. */
    assert_int_equal(run_zhanye(NULL, NULL, "bank", "set", "--data", D.dir, "--code", "B01",
                                "--attach-max-bytes", "0", NULL),
                     0);
    a = call(&T1, "ATTACH_BEGIN", fmt, 150000, 71);
    answer_expect(a, "OK");
    json_decref(a);
    assert_int_equal(run_zhanye(NULL, NULL, "bank", "set", "--data", D.dir, "--code", "B02",
                                "--attach-max-bytes", "0", NULL),
                     0);
    /* The same through the management API: a bank admin sets their own
     * bank's; another bank's admin cannot; a client manager cannot. */
    struct console adm, adm2;
    json_t *r = NULL;
    assert_int_equal(console_login(&adm, &D, "admin01", PW), 200);
    assert_int_equal(console_login(&adm2, &D, "admin02", PW), 200);
    assert_int_equal(
        console_post(&adm, "/api/v1/admin/banks/settings", "{\"attach_max_bytes\":120000}", &r),
        200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r, "settings"), "attach_max_bytes")),
        120000);
    json_decref(r);
    assert_int_equal(console_post(&adm2, "/api/v1/admin/banks/settings",
                                  "{\"bank\":\"B01\",\"attach_max_bytes\":5000000}", NULL),
                     404);
    assert_int_equal(
        console_post(&adm, "/api/v1/admin/banks/settings", "{\"attach_max_bytes\":5}", NULL), 400);
    a = call(&T1, "ATTACH_BEGIN", fmt, 150000, 74);
    answer_expect(a, "attach_too_large");
    assert_int_equal(int_of(a, "max_bytes"), 120000);
    json_decref(a);
    assert_int_equal(
        console_post(&adm, "/api/v1/admin/banks/settings", "{\"attach_max_bytes\":0}", &r), 200);
    assert_true(json_is_null(json_object_get(json_object_get(r, "settings"), "attach_max_bytes")));
    json_decref(r);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = "
                            "'bank.settings_changed' AND actor LIKE '%admin01%'",
                            NULL),
                     2);
}

/* ---- idempotence ---------------------------------------------------------------------- */

static void same_cseq_twice(void **state)
{
    (void)state;
    struct buf png = make_png(20, 20, 6);
    json_t *a = begin(&T1, "photo", "cseq.png", &png, NULL, link_customer(CUST1), "att-b-1");
    json_t *b = begin(&T1, "photo", "cseq.png", &png, NULL, link_customer(CUST1), "att-b-1");
    answer_expect(a, "OK");
    answer_expect(b, "OK");
    int64_t id = int_of(a, "upload_id");
    assert_int_equal(int_of(b, "upload_id"), id);
    json_decref(a);
    json_decref(b);
    a = chunk(&T1, id, 0, &png, "att-c-1");
    b = chunk(&T1, id, 0, &png, "att-c-1");
    answer_expect(a, "OK");
    answer_expect(b, "OK");
    /* The second is the first's stored answer: not even a duplicate run. */
    assert_false(json_is_true(json_object_get(answer_data(a), "duplicate")));
    assert_false(json_is_true(json_object_get(answer_data(b), "duplicate")));
    json_decref(a);
    json_decref(b);
    char sid[24];
    snprintf(sid, sizeof sid, "attachment:%lld", (long long)id);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'attach.chunk' AND "
                            "target = ? AND bank_id = (SELECT id FROM banks WHERE code = 'B01')",
                            sid),
                     1);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'attach.begun' AND "
                            "target = ? AND bank_id = (SELECT id FROM banks WHERE code = 'B01')",
                            sid),
                     1);
    a = call(&T1, "ATTACH_END", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    json_decref(a);
    free(png.p);
}

/* ---- every input member with a bad value ---------------------------------------------- */

struct bad_case {
    const char *tx, *data, *field;
};

#define SM3_OK "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
#define LINK_OK "\"link\":{\"business\":\"REF-1\"}"

static const struct bad_case BAD[] = {
    /* ATTACH_BEGIN: every member. */
    {"ATTACH_BEGIN", "{\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK "\"," LINK_OK "}", "kind"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"video\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK "\"," LINK_OK "}",
     "kind"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"\",\"size\":10,\"sm3\":\"" SM3_OK "\"," LINK_OK "}", "name"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a\\nb\",\"size\":10,\"sm3\":\"" SM3_OK "\"," LINK_OK "}",
     "name"},
    {"ATTACH_BEGIN", "{\"kind\":\"photo\",\"size\":10,\"sm3\":\"" SM3_OK "\"," LINK_OK "}", "name"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":0,\"sm3\":\"" SM3_OK "\"," LINK_OK "}",
     "size"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":\"10\",\"sm3\":\"" SM3_OK "\"," LINK_OK "}",
     "size"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"abc\"," LINK_OK "}", "sm3"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":"
     "\"zz c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0\"," LINK_OK "}",
     "sm3"},
    {"ATTACH_BEGIN", "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK "\"}",
     "link"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK "\",\"link\":{}}",
     "link.customer_id"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK
     "\",\"link\":{\"customer_id\":-4}}",
     "link.customer_id"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK
     "\",\"link\":{\"visit_id\":\"7\"}}",
     "link.visit_id"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK
     "\",\"link\":{\"business\":\"有空格 x\"}}",
     "link.business"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK
     "\",\"link\":{\"business\":\"R1\",\"visit_id\":3}}",
     "link.business"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK
     "\",\"link\":{\"branch\":1}}",
     "link.branch"},
    {"ATTACH_BEGIN",
     "{\"kind\":\"photo\",\"name\":\"a.png\",\"size\":10,\"sm3\":\"" SM3_OK "\"," LINK_OK
     ",\"mime\":\"image/png\"}",
     "mime"},
    /* ATTACH_CHUNK (upload 1 of B01 exists: one chunk of 600 KB's PNG). */
    {"ATTACH_CHUNK", "{\"index\":0,\"data\":\"AAAA\"}", "upload_id"},
    {"ATTACH_CHUNK", "{\"upload_id\":0,\"index\":0,\"data\":\"AAAA\"}", "upload_id"},
    {"ATTACH_CHUNK", "{\"upload_id\":1,\"data\":\"AAAA\"}", "index"},
    {"ATTACH_CHUNK", "{\"upload_id\":1,\"index\":-1,\"data\":\"AAAA\"}", "index"},
    {"ATTACH_CHUNK", "{\"upload_id\":1,\"index\":3,\"data\":\"AAAA\"}", "index"},
    {"ATTACH_CHUNK", "{\"upload_id\":1,\"index\":0}", "data"},
    {"ATTACH_CHUNK", "{\"upload_id\":1,\"index\":0,\"data\":\"AAAA\"}", "data"},
    {"ATTACH_CHUNK", "{\"upload_id\":1,\"index\":0,\"data\":7}", "data"},
    {"ATTACH_CHUNK", "{\"upload_id\":1,\"index\":0,\"data\":\"AAAA\",\"sm3\":\"xyz\"}", "data"},
    /* ATTACH_STATUS, ATTACH_END. */
    {"ATTACH_STATUS", "{}", "upload_id"},
    {"ATTACH_STATUS", "{\"upload_id\":-1}", "upload_id"},
    {"ATTACH_END", "{\"upload_id\":\"1\"}", "upload_id"},
    {"ATTACH_END", "{\"upload_id\":1,\"force\":true}", "force"},
    /* ATTACH_GET. */
    {"ATTACH_GET", "{}", "attachment_id"},
    {"ATTACH_GET", "{\"attachment_id\":0}", "attachment_id"},
    {"ATTACH_GET", "{\"attachment_id\":1,\"index\":-2}", "index"},
    {"ATTACH_GET", "{\"attachment_id\":1,\"index\":99}", "index"},
    /* ATTACH_LIST: every key and the limit. */
    {"ATTACH_LIST", "{}", "customer_id"},
    {"ATTACH_LIST", "{\"customer_id\":1,\"visit_id\":2}", "visit_id"},
    {"ATTACH_LIST", "{\"customer_id\":0}", "customer_id"},
    {"ATTACH_LIST", "{\"visit_id\":-3}", "visit_id"},
    {"ATTACH_LIST", "{\"business\":\"a/b\"}", "business"},
    {"ATTACH_LIST", "{\"business\":\"R1\",\"limit\":0}", "limit"},
    {"ATTACH_LIST", "{\"business\":\"R1\",\"limit\":101}", "limit"},
};

static void bad_members_write_nothing(void **state)
{
    (void)state;
    /* The first test stored attachment 1 of B01 (three chunks). */
    assert_int_equal(db_int("SELECT chunks FROM attachments WHERE id = 1 AND bank_id = (SELECT "
                            "id FROM banks WHERE code = ?)",
                            "B01"),
                     3);
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        size_t l1, l2;
        char *before = dump(&l1);
        long st;
        json_t *a = tablet_call(&T1, BAD[i].tx, BAD[i].data, NULL, &st, NULL);
        char *after = dump(&l2);
        char want[80];
        snprintf(want, sizeof want, "data.%s", BAD[i].field);
        const char *msg = json_string_value(json_object_get(a, "message"));
        if (!a || strcmp(answer_code(a), "bad_request") != 0 || !msg || !strstr(msg, want))
            fail_msg("%s %s: want bad_request naming %s, got %s: %s", BAD[i].tx, BAD[i].data, want,
                     a ? answer_code(a) : "(plain)", msg ? msg : "");
        if (!same(before, l1, after, l2))
            fail_msg("%s %s: a refused request wrote something", BAD[i].tx, BAD[i].data);
        free(before);
        free(after);
        json_decref(a);
    }
}

/* A chunk of an upload still under way with bad base64 of the right
 * length, and of the wrong length: bad_request naming data. */
static void bad_chunk_data(void **state)
{
    (void)state;
    struct buf png = make_png(10, 10, 7);
    json_t *a = begin(&T1, "photo", "b.png", &png, NULL, link_customer(CUST1), NULL);
    int64_t id = int_of(a, "upload_id");
    json_decref(a);
    char *text = b64(png.p, png.n);
    text[5] = '*';
    a = call_j(&T1, "ATTACH_CHUNK",
               json_pack("{s:I, s:i, s:s}", "upload_id", (json_int_t)id, "index", 0, "data", text),
               NULL);
    answer_expect(a, "bad_request");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "data.data"));
    json_decref(a);
    text[5] = 'A';
    a = call_j(&T1, "ATTACH_CHUNK",
               json_pack("{s:I, s:i, s:s, s:s}", "upload_id", (json_int_t)id, "index", 0, "data",
                         text, "sm3", "xyz"),
               NULL);
    answer_expect(a, "bad_request");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "data.sm3"));
    json_decref(a);
    text[strlen(text) - 4] = '\0';
    a = call_j(&T1, "ATTACH_CHUNK",
               json_pack("{s:I, s:i, s:s}", "upload_id", (json_int_t)id, "index", 0, "data", text),
               NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    a = call(&T1, "ATTACH_STATUS", "{\"upload_id\":%lld}", (long long)id);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "received")), 0);
    json_decref(a);
    free(text);
    free(png.p);
}

/* ---- isolation, at rest --------------------------------------------------------------- */

static void other_bank_cannot_read_or_link(void **state)
{
    (void)state;
    struct buf pdf = make_pdf("B01 only");
    int64_t id = upload(&T1, "document", "b01.pdf", &pdf, CUST1);
    /* B02 has few uploads: make sure it has none with this id. */
    assert_true(db_int("SELECT COALESCE(MAX(id), 0) FROM attachments WHERE bank_id = (SELECT id "
                       "FROM banks WHERE code = ?)",
                       "B02") < id);
    /* ...nor a customer with B01's customer's id. */
    assert_true(db_int("SELECT COALESCE(MAX(id), 0) FROM customers WHERE bank_id = (SELECT id "
                       "FROM banks WHERE code = ?)",
                       "B02") < CUST1);
    size_t l1, l2;
    char *before = dump_of(&l1, "B01", false);
    static const char *const reads[][2] = {
        {"ATTACH_GET", "{\"attachment_id\":%lld}"},
        {"ATTACH_STATUS", "{\"upload_id\":%lld}"},
        {"ATTACH_END", "{\"upload_id\":%lld}"},
    };
    for (size_t i = 0; i < 3; i++) {
        json_t *a = call(&T3, reads[i][0], reads[i][1], (long long)id);
        answer_expect(a, "attach_not_found");
        json_decref(a);
    }
    json_t *a = chunk(&T3, id, 0, &pdf, NULL);
    answer_expect(a, "attach_not_found");
    json_decref(a);
    /* Linking to B01's customer: not a customer of B02. */
    struct buf own = make_pdf("B02 own");
    a = begin(&T3, "document", "x.pdf", &own, NULL, link_customer(CUST1), NULL);
    answer_expect(a, "customer_not_found");
    assert_non_null(strstr(msg_of(a), "data.link.customer_id"));
    json_decref(a);
    a = call(&T3, "ATTACH_LIST", "{\"customer_id\":%lld}", (long long)CUST1);
    answer_expect(a, "OK");
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 0);
    json_decref(a);
    /* The same content in B02: an upload of its own, nothing of B01's. */
    a = begin(&T3, "document", "b02.pdf", &pdf, NULL, json_pack("{s:s}", "business", "B2REF"),
              NULL);
    answer_expect(a, "OK");
    assert_string_equal(str_of(a, "state"), "uploading");
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "received")), 0);
    assert_null(json_object_get(answer_data(a), "attachment_id"));
    int64_t b02 = int_of(a, "upload_id");
    json_decref(a);
    chunk_ok(&T3, b02, 0, &pdf);
    a = call(&T3, "ATTACH_END", "{\"upload_id\":%lld}", (long long)b02);
    answer_expect(a, "OK");
    json_decref(a);
    char *after = dump_of(&l2, "B01", false);
    assert_true(same(before, l1, after, l2));
    free(before);
    free(after);
    /* B01 still reads its own. */
    struct buf got = download(&T1, id, NULL);
    assert_memory_equal(got.p, pdf.p, pdf.n);
    free(got.p);
    free(pdf.p);
    free(own.p);
}

static void nothing_in_clear(void **state)
{
    (void)state;
    struct buf pdf = make_pdf(SECRET_TEXT);
    struct buf png = make_png(200, 100, 9);
    upload(&T1, "document", SECRET_NAME, &pdf, CUST1);
    int64_t id = upload(&T1, "photo", SECRET_NAME, &png, CUST1);
    /* Downloads with a cseq: their stored answers are in the database too. */
    long st;
    char data[64];
    snprintf(data, sizeof data, "{\"attachment_id\":%lld}", (long long)id);
    json_t *a = tablet_call(&T1, "ATTACH_GET", data, "att-get-1", &st, NULL);
    answer_expect(a, "OK");
    json_decref(a);
    size_t len;
    char *all = dump(&len);
    assert_null(memmem(all, len, SECRET_TEXT, strlen(SECRET_TEXT)));
    assert_null(memmem(all, len, SECRET_NAME, strlen(SECRET_NAME)));
    /* 64 bytes from the middle of the PNG's pixels. */
    assert_null(memmem(all, len, png.p + png.n / 2, 64));
    char *t = b64(png.p + 3000, 300);
    assert_null(memmem(all, len, t + 8, 64));
    free(t);
    free(all);
    free(pdf.p);
    free(png.p);
}

/* ---- purge, session ------------------------------------------------------------------- */

static void abandoned_uploads_purged(void **state)
{
    (void)state;
    struct buf png = make_png(50, 50, 10);
    json_t *a = begin(&T1, "photo", "old.png", &png, NULL, link_customer(CUST1), NULL);
    int64_t id = int_of(a, "upload_id");
    json_decref(a);
    chunk_ok(&T1, id, 0, &png);
    int64_t stored = db_int("SELECT COUNT(*) FROM attachments WHERE state = 'stored'", NULL);
    int64_t stored_chunks =
        db_int("SELECT COUNT(*) FROM attach_chunks c WHERE EXISTS (SELECT 1 FROM attachments a "
               "WHERE a.bank_id = c.bank_id AND a.id = c.attachment_id AND a.state = 'stored')",
               NULL);
    /* A day and a bit ago. */
    char sql[160];
    snprintf(sql, sizeof sql,
             "UPDATE attachments SET created_at = created_at - 90000000 WHERE id = %lld AND "
             "state = 'uploading'",
             (long long)id);
    db_exec(sql);
    char *out = NULL;
    assert_int_equal(run_zhanye(&out, NULL, "purge", "--data", D.dir, NULL), 0);
    assert_non_null(strstr(out, "abandoned uploads"));
    free(out);
    a = call(&T1, "ATTACH_STATUS", "{\"upload_id\":%lld}", (long long)id);
    answer_expect(a, "attach_not_found");
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM attachments WHERE state = 'stored'", NULL),
                     stored);
    assert_int_equal(
        db_int("SELECT COUNT(*) FROM attach_chunks c WHERE NOT EXISTS (SELECT 1 FROM attachments "
               "a WHERE a.bank_id = c.bank_id AND a.id = c.attachment_id AND a.state <> "
               "'abandoned')",
               NULL),
        0);
    assert_int_equal(
        db_int("SELECT COUNT(*) FROM attach_chunks c WHERE EXISTS (SELECT 1 FROM attachments a "
               "WHERE a.bank_id = c.bank_id AND a.id = c.attachment_id AND a.state = 'stored')",
               NULL),
        stored_chunks);
    /* Uploads of less than a day stay. */
    assert_true(db_int("SELECT COUNT(*) FROM attachments WHERE state = 'uploading'", NULL) > 0);
    free(png.p);
}

static void session_required(void **state)
{
    (void)state;
    struct tablet t = T1;
    t.sid[0] = '\0';
    long st;
    json_t *a = tablet_call(&t, "ATTACH_GET", "{\"attachment_id\":1}", NULL, &st, NULL);
    answer_expect(a, "session_invalid");
    json_decref(a);
}

/* ---- fixture ------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    if (testd_init(&D, NULL) || testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    /* Two customers of B01, so that B01's customer 2 is one B02 lacks. */
    const char *ids[] = {"11010519491231002X", "330102198511300015"};
    for (int i = 0; i < 2; i++) {
        char data[160];
        long st;
        snprintf(data, sizeof data, "{\"kind\":\"person\",\"name\":\"客户%d\",\"id_no\":\"%s\"}", i,
                 ids[i]);
        json_t *a = tablet_call(&T1, "CUSTOMER_CREATE", data, NULL, &st, NULL);
        if (!a || strcmp(answer_code(a), "OK") != 0)
            return -1;
        CUST1 = json_integer_value(json_object_get(json_object_get(a, "data"), "customer_id"));
        json_decref(a);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T3);
    store_close(DB);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_in_chunks_roundtrip), cmocka_unit_test(jpeg_and_pdf),
        cmocka_unit_test(interrupted_and_resumed), cmocka_unit_test(wrong_sm3_refused),
        cmocka_unit_test(wrong_type_refused),      cmocka_unit_test(too_large_refused),
        cmocka_unit_test(limit_per_bank),          cmocka_unit_test(links_checked),
        cmocka_unit_test(same_cseq_twice),         cmocka_unit_test(bad_members_write_nothing),
        cmocka_unit_test(bad_chunk_data),          cmocka_unit_test(other_bank_cannot_read_or_link),
        cmocka_unit_test(nothing_in_clear),        cmocka_unit_test(abandoned_uploads_purged),
        cmocka_unit_test(session_required),
    };
    return cmocka_run_group_tests_name("attachments", tests, setup, teardown);
}
