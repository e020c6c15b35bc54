#include "egress/fixlen.h"

#include <errno.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "foundation/secmem.h"

static int ferr(struct fixlen_error *e, const struct fixlen_layout *l, const struct fixlen_field *f,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills e with "LAYOUT: field 'NAME' (json 'KEY'): <what>" and returns -1. */
static int ferr(struct fixlen_error *e, const struct fixlen_layout *l, const struct fixlen_field *f,
                const char *fmt, ...)
{
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!e)
        return -1;
    snprintf(e->field, sizeof e->field, "%s", f ? f->name : "");
    if (f && f->secret) /* nothing of the value, not even its length */
        snprintf(e->msg, sizeof e->msg, "%s: field '%s' (json '%s'): %s", l->name, f->name,
                 fixlen_key(f),
                 strcmp(what, "is required") == 0 ? what : "secret value refused (not shown)");
    else if (f && strcmp(fixlen_key(f), f->name) != 0)
        snprintf(e->msg, sizeof e->msg, "%s: field '%s' (json '%s'): %s", l->name, f->name,
                 fixlen_key(f), what);
    else if (f)
        snprintf(e->msg, sizeof e->msg, "%s: field '%s': %s", l->name, f->name, what);
    else
        snprintf(e->msg, sizeof e->msg, "%s: %s", l->name, what);
    return -1;
}

const char *fixlen_key(const struct fixlen_field *f)
{
    return f->key[0] ? f->key : f->name;
}

static char pad_of(const struct fixlen_field *f)
{
    if (f->pad)
        return f->pad;
    return f->type == FIXLEN_TEXT ? ' ' : '0';
}

static const char *encoding_name(enum fixlen_encoding enc)
{
    return enc == FIXLEN_GBK ? "GBK" : "UTF-8";
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    static const uint32_t MIN[] = {0, 0x80, 0x800, 0x10000};
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        if (c < 0x80)
            k = 0;
        else if ((c & 0xE0) == 0xC0)
            k = 1;
        else if ((c & 0xF0) == 0xE0)
            k = 2;
        else if ((c & 0xF8) == 0xF0)
            k = 3;
        else
            return false;
        if (k >= n - i)
            return false;
        uint32_t cp = k == 0 ? c : c & (0x3Fu >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3Fu);
        }
        if (cp < MIN[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

int fixlen_convert(enum fixlen_encoding from, enum fixlen_encoding to, const char *in, size_t n,
                   char **out, size_t *outlen)
{
    *out = NULL;
    if (from == FIXLEN_UTF8 && !utf8_valid((const unsigned char *)in, n))
        return -1;
    if (from == to) {
        *out = malloc(n + 1);
        if (!*out)
            return -1;
        memcpy(*out, in, n);
        (*out)[n] = '\0';
        *outlen = n;
        return 0;
    }
    iconv_t cd = iconv_open(encoding_name(to), encoding_name(from));
    if (cd == (iconv_t)-1)
        return -1;
    /* GBK->UTF-8 at most 3 per byte (the single byte 0x80 is U+20AC, 3 bytes
     * in UTF-8; pairs are 3/2), UTF-8->GBK at most 1. */
    size_t cap = n * 3 + 4;
    char *buf = malloc(cap);
    int rc = -1;
    if (buf) {
        char *ip = (char *)in, *op = buf;
        size_t il = n, ol = cap - 1;
        /* Complete conversion or failure: EILSEQ, EINVAL (cut sequence), E2BIG never. */
        if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && il == 0 &&
            iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1) {
            *op = '\0';
            *outlen = (size_t)(op - buf);
            *out = buf;
            rc = 0;
        }
    }
    if (rc != 0)
        free(buf);
    iconv_close(cd);
    return rc;
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return true;
    return false;
}

/* ---- layout check ---- */

static int check_field(const struct fixlen_layout *l, const struct fixlen_field *f, size_t prev_end,
                       struct fixlen_error *e)
{
    if (!f->name[0])
        return ferr(e, l, NULL, "a field has no name");
    if (f->length < 1 || f->offset < prev_end || f->offset + f->length > l->length)
        return ferr(e, l, f,
                    "offset %zu length %zu overlaps the previous field or passes the "
                    "record length %zu",
                    f->offset, f->length, l->length);
    if (f->pad && (f->pad < 0x20 || f->pad > 0x7E))
        return ferr(e, l, f, "pad must be one printable ASCII character");
    if (f->type != FIXLEN_TEXT && (f->length > 18 || f->enc != FIXLEN_UTF8))
        return ferr(e, l, f, "numbers are at most 18 ASCII digits");
    if (f->type == FIXLEN_AMOUNT && (f->scale < 0 || f->scale > 9 || (size_t)f->scale >= f->length))
        return ferr(e, l, f, "scale must be 0..9 and less than the length");
    if (f->has_const && strlen(f->konst) > f->length)
        return ferr(e, l, f, "constant is longer than the field");
    return 0;
}

int fixlen_check(const struct fixlen_layout *l, struct fixlen_error *e)
{
    if (l->length < 1 || l->length > FIXLEN_MAX_RECORD)
        return ferr(e, l, NULL, "record length must be 1..%d", FIXLEN_MAX_RECORD);
    size_t end = 0;
    for (size_t i = 0; i < l->nfields; i++) {
        const struct fixlen_field *f = &l->fields[i];
        if (check_field(l, f, end, e))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(fixlen_key(&l->fields[j]), fixlen_key(f)) == 0)
                return ferr(e, l, f, "appears twice");
        end = f->offset + f->length;
    }
    return 0;
}

/* ---- encode ---- */

/* Digits of an integer value (JSON integer >= 0 or digit string) into buf. */
static int int_text(const struct fixlen_layout *l, const struct fixlen_field *f, json_t *v,
                    char *buf, size_t cap, struct fixlen_error *e)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return ferr(e, l, f, "must not be negative");
        snprintf(buf, cap, "%" PRId64, (int64_t)json_integer_value(v));
        return 0;
    }
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n == 0 || n >= cap || strspn(s, "0123456789") != n)
        return ferr(e, l, f, "must be a non-negative integer or a string of digits");
    memcpy(buf, s, n + 1);
    return 0;
}

/* An amount as its digits with `scale` implied decimals ("12.5", scale 2 -> "1250"). */
static int amount_text(const struct fixlen_layout *l, const struct fixlen_field *f, json_t *v,
                       char *buf, size_t cap, struct fixlen_error *e)
{
    char tmp[64];
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        snprintf(tmp, sizeof tmp, "%" PRId64, (int64_t)json_integer_value(v));
    else if (json_is_string(v) && json_string_length(v) < sizeof tmp)
        snprintf(tmp, sizeof tmp, "%s", json_string_value(v));
    else
        return ferr(e, l, f, "must be a decimal string like \"123.45\" or an integer");
    size_t ip = strspn(tmp, "0123456789");
    const char *frac = tmp[ip] == '.' ? tmp + ip + 1 : tmp + ip;
    size_t fp = strspn(frac, "0123456789");
    if (ip == 0 || frac[fp] != '\0' || (tmp[ip] == '.' && fp == 0))
        return ferr(e, l, f, "must be a decimal string like \"123.45\" or an integer");
    if (fp > (size_t)f->scale)
        return ferr(e, l, f, "has %zu decimals, the field keeps %d", fp, f->scale);
    if (ip + (size_t)f->scale >= cap)
        return ferr(e, l, f, "is too long");
    memcpy(buf, tmp, ip);
    for (int i = 0; i < f->scale; i++)
        buf[ip + (size_t)i] = (size_t)i < fp ? frac[i] : '0';
    buf[ip + (size_t)f->scale] = '\0';
    /* Leading zeros carry no value; they would only count against the length. */
    size_t z = strspn(buf, "0");
    if (z == strlen(buf))
        z = strlen(buf) - 1;
    memmove(buf, buf + z, strlen(buf + z) + 1);
    return 0;
}

/* Puts n bytes of value into the field's slot with alignment and padding. */
static void place(const struct fixlen_field *f, const char *val, size_t n, uint8_t *out)
{
    uint8_t *slot = out + f->offset;
    size_t padn = f->length - n;
    memset(slot, pad_of(f), f->length);
    memcpy(slot + (f->align == FIXLEN_RIGHT ? padn : 0), val, n);
}

static int encode_text(const struct fixlen_layout *l, const struct fixlen_field *f, const char *s,
                       size_t n, uint8_t *out, struct fixlen_error *e)
{
    if (has_control(s, n))
        return ferr(e, l, f, "contains a control character");
    char *conv = NULL;
    size_t clen = 0;
    if (fixlen_convert(FIXLEN_UTF8, f->enc, s, n, &conv, &clen))
        return ferr(e, l, f, "is not valid UTF-8 or cannot be written in %s",
                    encoding_name(f->enc));
    int rc = 0;
    if (clen > f->length)
        rc = ferr(e, l, f, "is %zu bytes in %s, the field holds %zu", clen, encoding_name(f->enc),
                  f->length);
    else
        place(f, conv, clen, out);
    secmem_wipe(conv, clen); /* the value converted: it may be a secret */
    free(conv);
    return rc;
}

static int encode_field(const struct fixlen_layout *l, const struct fixlen_field *f, json_t *in,
                        uint8_t *out, struct fixlen_error *e)
{
    json_t *v = f->has_const ? NULL : json_object_get(in, fixlen_key(f));
    if (f->has_const)
        return encode_text(l, f, f->konst, strlen(f->konst), out, e);
    if (!v || json_is_null(v)) {
        if (f->required)
            return ferr(e, l, f, "is required");
        place(f, "", 0, out);
        return 0;
    }
    if (f->type == FIXLEN_TEXT) {
        if (!json_is_string(v))
            return ferr(e, l, f, "must be a string");
        return encode_text(l, f, json_string_value(v), json_string_length(v), out, e);
    }
    char digits[64];
    int rc = f->type == FIXLEN_INT ? int_text(l, f, v, digits, sizeof digits, e)
                                   : amount_text(l, f, v, digits, sizeof digits, e);
    if (rc == 0 && strlen(digits) > f->length)
        rc = ferr(e, l, f, "has %zu digits, the field holds %zu", strlen(digits), f->length);
    if (rc == 0)
        place(f, digits, strlen(digits), out);
    if (f->secret)
        secmem_wipe(digits, sizeof digits);
    return rc;
}

int fixlen_encode(const struct fixlen_layout *l, json_t *in, uint8_t *out, size_t cap,
                  struct fixlen_error *e)
{
    if (cap < l->length)
        return ferr(e, l, NULL, "output buffer smaller than the record");
    if (in && !json_is_object(in))
        return ferr(e, l, NULL, "input must be a JSON object");
    memset(out, ' ', l->length);
    for (size_t i = 0; i < l->nfields; i++)
        if (encode_field(l, &l->fields[i], in, out, e))
            return -1;
    return 0;
}

/* ---- decode ---- */

/* The field's bytes without padding: [*start, *start + *n). */
static void unpad(const struct fixlen_field *f, const uint8_t *in, size_t *start, size_t *n)
{
    const uint8_t *p = in + f->offset;
    size_t b = 0, e = f->length;
    char pad = pad_of(f);
    if (f->align == FIXLEN_LEFT)
        while (e > 0 && p[e - 1] == (uint8_t)pad)
            e--;
    else
        while (b < e && p[b] == (uint8_t)pad)
            b++;
    *start = f->offset + b;
    *n = e - b;
}

static json_t *decode_text(const struct fixlen_layout *l, const struct fixlen_field *f,
                           const uint8_t *p, size_t n, struct fixlen_error *e)
{
    char *conv = NULL;
    size_t clen = 0;
    json_t *v = NULL;
    if (has_control((const char *)p, n))
        ferr(e, l, f, "contains a control character");
    else if (fixlen_convert(f->enc, FIXLEN_UTF8, (const char *)p, n, &conv, &clen))
        ferr(e, l, f, "is not valid %s", encoding_name(f->enc));
    else if (!(v = json_stringn(conv, clen)))
        ferr(e, l, f, "out of memory");
    free(conv);
    return v;
}

static json_t *decode_number(const struct fixlen_layout *l, const struct fixlen_field *f,
                             const uint8_t *p, size_t n, struct fixlen_error *e)
{
    char d[24];
    /* A number padded with spaces may also carry leading zeros; both mean nothing. */
    while (n > 1 && *p == '0') {
        p++;
        n--;
    }
    if (n == 0) {
        d[0] = '0';
        n = 1;
    } else {
        memcpy(d, p, n);
    }
    d[n] = '\0';
    if (strspn(d, "0123456789") != n) {
        ferr(e, l, f, "is not a number");
        return NULL;
    }
    if (f->type == FIXLEN_INT)
        return json_integer((json_int_t)strtoll(d, NULL, 10));
    /* "1250" with scale 2 -> "12.50"; "5" -> "0.05". */
    char s[40];
    size_t sc = (size_t)f->scale, ip = n > sc ? n - sc : 0, w = 0;
    if (ip == 0)
        s[w++] = '0';
    memcpy(s + w, d, ip);
    w += ip;
    if (sc > 0) {
        s[w++] = '.';
        for (size_t i = n - ip; i < sc; i++)
            s[w++] = '0';
        memcpy(s + w, d + ip, n - ip);
        w += n - ip;
    }
    s[w] = '\0';
    return json_string(s);
}

int fixlen_decode(const struct fixlen_layout *l, const uint8_t *in, size_t len, bool partial,
                  json_t **out, struct fixlen_error *e)
{
    *out = NULL;
    if (len > l->length || (!partial && len != l->length))
        return ferr(e, l, NULL, "record is %zu bytes, the layout has %zu", len, l->length);
    json_t *obj = json_object();
    if (!obj)
        return ferr(e, l, NULL, "out of memory");
    for (size_t i = 0; i < l->nfields; i++) {
        const struct fixlen_field *f = &l->fields[i];
        if (f->offset + f->length > len)
            continue; /* partial record: not covered */
        size_t start, n;
        unpad(f, in, &start, &n);
        json_t *v = f->type == FIXLEN_TEXT ? decode_text(l, f, in + start, n, e)
                                           : decode_number(l, f, in + start, n, e);
        if (!v || json_object_set_new(obj, fixlen_key(f), v)) {
            json_decref(obj);
            return -1;
        }
    }
    *out = obj;
    return 0;
}
