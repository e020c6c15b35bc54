/* fuzz_fixlen — the fixed-length codec of core banking on the layouts of
 * conf/mappings (every fixlen mapping's response and request record) and on
 * one layout that also has int fields, right-aligned text and a UTF-8 field.
 *
 * Input: one selector byte, then the payload. Selector bit 0 picks the mode,
 * the other bits the layout (index 0 is the extra layout, then each fixlen
 * mapping in name order: response, request).
 *   mode 0, decode: the payload is a record (a downstream reply). A shorter
 *     payload is decoded as a partial record, a longer one is cut to the
 *     record length. A decoded record re-encodes, decodes to the same
 *     values, and the re-encoded record is a fixed point; a partial decode
 *     of a prefix (its length drawn from the input) agrees with the full
 *     decode on every field it covers.
 *     The record's bytes also go through fixlen_convert from GBK, which must
 *     agree with iconv given ample room: refused exactly when iconv refuses,
 *     else the same text.
 *   mode 1, encode: the payload is the platform's JSON. A record that
 *     encodes decodes again, every value as it went in (text without the
 *     padding on its padded side, numbers equal in value: nothing is ever
 *     cut), then round-trips as in mode 0; an encode error names the layout
 *     and never quotes a value. */
#include "egress/fixlen.h"
#include "egress/mapping.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

/* name(10, GBK) | id(6, int) | amt(8, amount 2) | tag(5, right '*') | note(8, UTF-8) | n2(4, int,
 * left ' ') | a0(7, amount 0) */
static struct fixlen_field EXTRA_FIELDS[] = {
    {.name = "name", .key = "cust_name", .offset = 0, .length = 10, .enc = FIXLEN_GBK},
    {.name = "id", .offset = 10, .length = 6, .type = FIXLEN_INT, .align = FIXLEN_RIGHT},
    {.name = "amt",
     .offset = 16,
     .length = 8,
     .type = FIXLEN_AMOUNT,
     .align = FIXLEN_RIGHT,
     .scale = 2},
    {.name = "tag", .offset = 24, .length = 5, .align = FIXLEN_RIGHT, .pad = '*'},
    {.name = "note", .offset = 30, .length = 8}, /* byte 29 is filler */
    {.name = "n2", .offset = 38, .length = 4, .type = FIXLEN_INT, .pad = ' '},
    {.name = "a0", .offset = 42, .length = 7, .type = FIXLEN_AMOUNT, .align = FIXLEN_RIGHT},
};
static const struct fixlen_layout EXTRA = {"extra", 49, 7, EXTRA_FIELDS};

#define MAX_LAYOUTS 64
static const struct fixlen_layout *layouts[MAX_LAYOUTS];
static size_t nlayouts;
static struct mapping_set set;

static void init_once(void)
{
    char err[512];
    if (fixlen_check(&EXTRA, NULL) ||
        mapping_load_dir(ZHANYE_SRC_DIR "/conf/mappings", &set, err, sizeof err)) {
        fprintf(stderr, "fuzz_fixlen: %s\n", err);
        abort();
    }
    layouts[nlayouts++] = &EXTRA;
    for (size_t i = 0; i < set.n && nlayouts + 2 <= MAX_LAYOUTS; i++)
        if (set.m[i].format == MAPPING_FIXLEN) {
            layouts[nlayouts++] = &set.m[i].resp_fix;
            layouts[nlayouts++] = &set.m[i].req_fix;
        }
}

static char pad_of(const struct fixlen_field *f)
{
    return f->pad ? f->pad : f->type == FIXLEN_TEXT ? ' ' : '0';
}

/* An error names the layout, and the field if it has one. */
static void check_error(const struct fixlen_layout *l, const struct fixlen_error *e)
{
    CHECK(strncmp(e->msg, l->name, strlen(l->name)) == 0);
    bool known = e->field[0] == '\0';
    for (size_t i = 0; i < l->nfields && !known; i++)
        known = strcmp(e->field, l->fields[i].name) == 0;
    CHECK(known);
}

/* Encodes v (which must encode) into a fresh record. */
static uint8_t *encode_ok(const struct fixlen_layout *l, json_t *v)
{
    struct fixlen_error e;
    uint8_t *rec = malloc(l->length);
    CHECK(rec && fixlen_encode(l, v, rec, l->length, &e) == 0);
    return rec;
}

static json_t *decode_ok(const struct fixlen_layout *l, const uint8_t *rec)
{
    struct fixlen_error e;
    json_t *v = NULL;
    CHECK(fixlen_decode(l, rec, l->length, false, &v, &e) == 0 && json_is_object(v));
    return v;
}

/* ---- mode 0: records ---- */

/* fixlen_convert GBK -> UTF-8 against iconv with room for anything. */
static void check_convert(const uint8_t *p, size_t n)
{
    static iconv_t cd = (iconv_t)-1;
    if (cd == (iconv_t)-1 && (cd = iconv_open("UTF-8", "GBK")) == (iconv_t)-1)
        abort();
    size_t cap = n * 4 + 16, il = n, ol = cap;
    char *ref = malloc(cap), *ip = (char *)p, *op = ref;
    CHECK(ref);
    iconv(cd, NULL, NULL, NULL, NULL);
    bool ok = iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && il == 0 &&
              iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1;
    char *out = NULL;
    size_t outlen = 0;
    int rc = fixlen_convert(FIXLEN_GBK, FIXLEN_UTF8, (const char *)p, n, &out, &outlen);
    CHECK((rc == 0) == ok);
    CHECK(rc != 0 || (outlen == (size_t)(op - ref) && memcmp(out, ref, outlen) == 0));
    free(out);
    free(ref);
}

static void decode_record(const struct fixlen_layout *l, const uint8_t *rec, size_t len)
{
    struct fixlen_error e;
    json_t *full = NULL;
    bool partial = len < l->length;
    size_t use = partial ? len : l->length;
    if (fixlen_decode(l, rec, use, partial, &full, &e) != 0) {
        CHECK(full == NULL);
        check_error(l, &e);
        return;
    }
    size_t covered = 0;
    for (size_t i = 0; i < l->nfields; i++)
        if (l->fields[i].offset + l->fields[i].length <= use) {
            covered++;
            CHECK(json_object_get(full, fixlen_key(&l->fields[i])));
        }
    CHECK(json_object_size(full) == covered);
    if (partial) {
        json_decref(full);
        return;
    }

    /* Any prefix agrees with the whole on the fields it covers. */
    size_t k = (size_t)(rec[0] * 131u + rec[use - 1]) % (l->length + 1);
    json_t *part = NULL;
    CHECK(fixlen_decode(l, rec, k, true, &part, &e) == 0);
    const char *key;
    json_t *v;
    json_object_foreach(part, key, v)
    {
        CHECK(json_equal(v, json_object_get(full, key)));
    }
    json_decref(part);

    /* Decode, encode, decode: the same values (constants aside), and the
     * re-encoded record is a fixed point. */
    uint8_t *again = encode_ok(l, full);
    json_t *back = decode_ok(l, again);
    for (size_t i = 0; i < l->nfields; i++) {
        const char *fk = fixlen_key(&l->fields[i]);
        if (!l->fields[i].has_const)
            CHECK(json_equal(json_object_get(back, fk), json_object_get(full, fk)));
    }
    uint8_t *third = encode_ok(l, back);
    CHECK(memcmp(third, again, l->length) == 0);
    free(third);
    json_decref(back);
    free(again);
    json_decref(full);
}

/* ---- mode 1: platform JSON ---- */

/* An amount in canonical digits: value times 10^scale, no leading zeros. */
static bool amount_digits(const char *s, int scale, char *out, size_t cap)
{
    size_t ip = strspn(s, "0123456789"), fp = 0, w = 0;
    const char *frac = s + ip + (s[ip] == '.');
    fp = strspn(frac, "0123456789");
    if (ip == 0 || frac[fp] || fp > (size_t)scale || ip + (size_t)scale + 1 > cap)
        return false;
    for (size_t i = 0; i < ip; i++)
        if (w > 0 || s[i] != '0')
            out[w++] = s[i];
    for (size_t i = 0; i < (size_t)scale; i++)
        if (w > 0 || (i < fp ? frac[i] : '0') != '0')
            out[w++] = i < fp ? frac[i] : '0';
    if (w == 0)
        out[w++] = '0';
    out[w] = '\0';
    return true;
}

/* out is what the field decoded to; in is what went in (NULL: absent, so
 * empty text or zero). A constant stands in for the input. */
static void check_value(const struct fixlen_field *f, json_t *in, json_t *out)
{
    char text[128], want[128], got[128];
    if (f->has_const && f->type != FIXLEN_TEXT)
        return; /* a constant number is written as text: not a shape of conf/mappings */
    if (f->type == FIXLEN_INT) {
        long long n = 0;
        if (json_is_integer(in))
            n = json_integer_value(in);
        else if (json_is_string(in))
            n = strtoll(json_string_value(in), NULL, 10);
        CHECK(json_is_integer(out) && json_integer_value(out) == n);
        return;
    }
    if (f->type == FIXLEN_AMOUNT) {
        if (json_is_integer(in))
            snprintf(text, sizeof text, "%lld", (long long)json_integer_value(in));
        else
            snprintf(text, sizeof text, "%s", in ? json_string_value(in) : "0");
        CHECK(json_is_string(out));
        CHECK(amount_digits(text, f->scale, want, sizeof want));
        CHECK(amount_digits(json_string_value(out), f->scale, got, sizeof got));
        CHECK(strcmp(want, got) == 0);
        return;
    }
    /* Text: as it went in, through the encoding and back, padding stripped. */
    const char *s = f->has_const ? f->konst : in ? json_string_value(in) : "";
    char *conv = NULL, *back = NULL;
    size_t cn = 0, bn = 0;
    CHECK(fixlen_convert(FIXLEN_UTF8, f->enc, s, strlen(s), &conv, &cn) == 0);
    CHECK(fixlen_convert(f->enc, FIXLEN_UTF8, conv, cn, &back, &bn) == 0);
    const char *b = back;
    if (f->align == FIXLEN_LEFT)
        while (bn > 0 && b[bn - 1] == pad_of(f))
            bn--;
    else
        while (bn > 0 && *b == pad_of(f))
            b++, bn--;
    CHECK(json_is_string(out) && json_string_length(out) == bn &&
          memcmp(json_string_value(out), b, bn) == 0);
    free(conv);
    free(back);
}

/* An error message never quotes a value (values may be customer data). */
static void check_no_value(const struct fixlen_layout *l, json_t *in, const char *msg)
{
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        const char *s = json_string_value(v);
        if (!s || strlen(s) < 8 || !strpbrk(s, "0123456789") || strchr(s, ' ') ||
            strstr(l->name, s))
            continue;
        bool names = false;
        for (size_t i = 0; i < l->nfields && !names; i++)
            names = strstr(l->fields[i].name, s) || strstr(l->fields[i].key, s);
        CHECK(names || !strstr(msg, s));
    }
}

static void encode_json(const struct fixlen_layout *l, const uint8_t *text, size_t len)
{
    json_t *in = json_loadb((const char *)text, len, 0, NULL);
    if (!in)
        return;
    struct fixlen_error e;
    uint8_t *rec = malloc(l->length);
    CHECK(rec);
    if (fixlen_encode(l, in, rec, l->length, &e) != 0) {
        check_error(l, &e);
        check_no_value(l, in, e.msg);
        goto out;
    }
    CHECK(json_is_object(in));
    /* The encoder never writes a record the decoder refuses. */
    json_t *out = decode_ok(l, rec);
    for (size_t i = 0; i < l->nfields; i++) {
        const struct fixlen_field *f = &l->fields[i];
        json_t *v = json_object_get(in, fixlen_key(f));
        check_value(f, json_is_null(v) || f->has_const ? NULL : v,
                    json_object_get(out, fixlen_key(f)));
    }
    json_decref(out);
    /* From there on the record round-trips like any reply. (Not byte for
     * byte from the first record: an absent number is written as padding,
     * which decodes to 0, and 0 is written as a digit.) */
    decode_record(l, rec, l->length);
out:
    free(rec);
    json_decref(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!nlayouts)
        init_once();
    if (size < 1)
        return 0;
    const struct fixlen_layout *l = layouts[(size_t)(data[0] >> 1) % nlayouts];
    if (data[0] & 1)
        encode_json(l, data + 1, size - 1);
    else if (size > 1) {
        decode_record(l, data + 1, size - 1);
        check_convert(data + 1, size - 1);
    }
    return 0;
}
