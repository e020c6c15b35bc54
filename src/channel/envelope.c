#include "channel/envelope.h"

#include "foundation/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- field syntax ------------------------------------------------------- */

static bool is_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Every byte alphanumeric or in extra; length within [min, max]. */
static bool word_ok(const char *s, size_t n, size_t min, size_t max, const char *extra)
{
    if (!s || n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]) && (s[i] == '\0' || !strchr(extra, s[i])))
            return false;
    return true;
}

bool zy1_kid_valid(const char *s, size_t n)
{
    return word_ok(s, n, 1, ZY1_ID_MAX, "._-");
}

bool zy1_tlr_valid(const char *s, size_t n)
{
    return word_ok(s, n, 1, ZY1_ID_MAX, "_-");
}

bool zy1_dev_valid(const char *s, size_t n)
{
    if (!s || n != ZY1_DEV_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool zy1_tx_valid(const char *tx)
{
    if (!tx || !(tx[0] >= 'A' && tx[0] <= 'Z'))
        return false;
    size_t n = strlen(tx);
    if (n < 2 || n > ZY1_TX_MAX)
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((tx[i] >= 'A' && tx[i] <= 'Z') || (tx[i] >= '0' && tx[i] <= '9') || tx[i] == '_'))
            return false;
    return true;
}

/* ---- the common form, read without jansson --------------------------------
 *
 * Clients send envelopes as one flat object of plain strings and integers.
 * flat_scan reads exactly that form, in place in a copy of the body (each
 * string's closing quote becomes its NUL), and declines everything else:
 * an escape, a byte outside printable ASCII, a nested value, a number that
 * is not a plain integer of at most 18 digits, a literal, a duplicate key,
 * more than FLAT_MAX members, anything after the object. Declined bodies go
 * to jansson, which then accepts or refuses them: whatever the parser, a
 * body reads the same (tests/fuzz/fuzz_envelope.c compares the two). It
 * saves jansson's per-byte lexing and its allocations on every request. */

#define FLAT_MAX 16

struct flat_member {
    const char *key;
    size_t klen;
    bool is_text; /* else an integer */
    const char *p;
    size_t n;
    int64_t i;
};

struct flat {
    struct flat_member m[FLAT_MAX];
    size_t n;
};

static char *skip_ws(char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A string at p (its opening quote): its text, NUL-terminated in place;
 * the position after it, or NULL to decline. */
static char *flat_string(char *p, const char *end, const char **text, size_t *n)
{
    char *q = ++p;
    while (q < end && *q != '"') {
        if (*q < 0x20 || *q > 0x7e || *q == '\\')
            return NULL;
        q++;
    }
    if (q >= end)
        return NULL;
    *q = '\0';
    *text = p;
    *n = (size_t)(q - p);
    return q + 1;
}

/* An integer at p: [-]?(0|[1-9][0-9]{0,17}), not "-0"; NULL to decline. */
static char *flat_int(char *p, const char *end, int64_t *out)
{
    bool neg = p < end && *p == '-';
    char *q = p + neg;
    if (q >= end || *q < '0' || *q > '9' || (*q == '0' && neg))
        return NULL;
    const char *first = q;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    size_t digits = (size_t)(q - first);
    if (digits > 18 || (digits > 1 && *first == '0'))
        return NULL;
    int64_t v = 0; /* at most 18 digits: no overflow */
    for (const char *d = first; d < q; d++)
        v = v * 10 + (*d - '0');
    if (q < end && (*q == '.' || *q == 'e' || *q == 'E'))
        return NULL;
    *out = neg ? -v : v;
    return q;
}

static bool flat_scan(char *p, size_t len, struct flat *f)
{
    const char *end = p + len;
    f->n = 0;
    p = skip_ws(p, end);
    if (p >= end || *p++ != '{')
        return false;
    for (;;) {
        p = skip_ws(p, end);
        if (p >= end || *p != '"' || f->n == FLAT_MAX)
            return false;
        struct flat_member *m = &f->m[f->n];
        if (!(p = flat_string(p, end, &m->key, &m->klen)))
            return false;
        for (size_t i = 0; i < f->n; i++)
            if (f->m[i].klen == m->klen && memcmp(f->m[i].key, m->key, m->klen) == 0)
                return false;
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':')
            return false;
        p = skip_ws(p, end);
        if (p >= end)
            return false;
        m->is_text = *p == '"';
        p = m->is_text ? flat_string(p, end, &m->p, &m->n) : flat_int(p, end, &m->i);
        if (!p)
            return false;
        f->n++;
        p = skip_ws(p, end);
        if (p >= end)
            return false;
        if (*p == '}')
            break;
        if (*p++ != ',')
            return false;
    }
    return skip_ws(p + 1, end) == end;
}

/* ---- JSON member helpers ------------------------------------------------ */

/* The parsed object, whichever parser read it. */
struct obj {
    json_t *j;            /* jansson's, or NULL */
    const struct flat *f; /* flat_scan's, when j is NULL */
};

/* Loads a body that must be a JSON object without duplicate members: the
 * common form in a copy of it (*copy, NUL-terminated texts), else jansson's
 * (*root). */
static zy1_status load_object(const char *body, size_t len, bool flat_ok, struct flat *f,
                              char **copy, json_t **root, struct obj *o)
{
    json_error_t err;
    if (!body)
        return ZY1_BAD_ENVELOPE;
    if (flat_ok) {
        char *c = malloc(len + 1);
        if (!c)
            return ZY1_NOMEM;
        memcpy(c, body, len);
        c[len] = '\0';
        if (flat_scan(c, len, f)) {
            *copy = c;
            *o = (struct obj){.f = f};
            return ZY1_OK;
        }
        free(c);
    }
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        return json_error_code(&err) == json_error_out_of_memory ? ZY1_NOMEM : ZY1_BAD_ENVELOPE;
    *root = j;
    *o = (struct obj){.j = j};
    return json_is_object(j) ? ZY1_OK : ZY1_BAD_ENVELOPE;
}

static const struct flat_member *flat_get(const struct flat *f, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < f->n; i++)
        if (f->m[i].klen == n && memcmp(f->m[i].key, key, n) == 0)
            return &f->m[i];
    return NULL;
}

static bool has(const struct obj *o, const char *key)
{
    return o->j ? json_object_get(o->j, key) != NULL : flat_get(o->f, key) != NULL;
}

static size_t size_of(const struct obj *o)
{
    return o->j ? json_object_size(o->j) : o->f->n;
}

static bool get_text(const struct obj *o, const char *key, zy1_text *t)
{
    if (!o->j) {
        const struct flat_member *m = flat_get(o->f, key);
        if (!m || !m->is_text)
            return false;
        t->p = m->p;
        t->n = m->n;
        return true;
    }
    json_t *v = json_object_get(o->j, key);
    if (!json_is_string(v))
        return false;
    t->p = json_string_value(v);
    t->n = json_string_length(v);
    return true;
}

static bool get_int(const struct obj *o, const char *key, int64_t *out)
{
    if (!o->j) {
        const struct flat_member *m = flat_get(o->f, key);
        if (!m || m->is_text)
            return false;
        *out = m->i;
        return true;
    }
    json_t *v = json_object_get(o->j, key);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* v must be the integer 1 (not 1.0, not true). */
static bool version_ok(const struct obj *obj)
{
    int64_t v = 0;
    return get_int(obj, "v", &v) && v == 1;
}

static bool ts_ok(const struct obj *obj, int64_t *ts, char text[ZY1_TS_TEXT_MAX])
{
    if (!get_int(obj, "ts", ts) || *ts <= 0)
        return false;
    snprintf(text, ZY1_TS_TEXT_MAX, "%" PRId64, *ts);
    return true;
}

/* A base64 member that decodes to exactly n bytes. */
static bool b64_fixed(const struct obj *obj, const char *key, zy1_text *t, uint8_t *out, size_t n)
{
    return get_text(obj, key, t) && t->n == b64_encoded_len(n) &&
           b64_decode(t->p, t->n, out, n) == (long)n;
}

/* The ct member: non-empty, whole SM4 blocks; decoded onto the heap. */
static zy1_status b64_ct(const struct obj *obj, zy1_text *t, uint8_t **ct, size_t *ct_len)
{
    if (!get_text(obj, "ct", t) || t->n == 0)
        return ZY1_BAD_ENVELOPE;
    size_t cap = b64_decoded_max(t->n);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        return ZY1_NOMEM;
    long n = b64_decode(t->p, t->n, buf, cap);
    if (n <= 0 || n % SM4_BLOCK != 0) {
        free(buf);
        return ZY1_BAD_ENVELOPE;
    }
    *ct = buf;
    *ct_len = (size_t)n;
    return ZY1_OK;
}

/* ek: one of the three SM2 encodings of a 32-byte S (raw 129 with 04, raw
 * 128, or strict DER), so a wrong length is refused before any SM2 work. */
static bool ek_ok(const struct obj *obj, zy1_envelope *env)
{
    if (!get_text(obj, "ek", &env->ek_b64) || env->ek_b64.n > b64_encoded_len(ZY1_EK_MAX))
        return false;
    long n = b64_decode(env->ek_b64.p, env->ek_b64.n, env->ek, sizeof env->ek);
    if (n <= 0)
        return false;
    env->ek_len = (size_t)n;
    env->ek_form = sm2_ct_classify(env->ek, env->ek_len, ZY1_S_LEN);
    return env->ek_form != SM2_CT_INVALID;
}

static bool ids_ok(const struct obj *obj, zy1_envelope *env)
{
    if (!get_text(obj, "kid", &env->kid) || !zy1_kid_valid(env->kid.p, env->kid.n))
        return false;
    if (!get_text(obj, "dev", &env->dev) || !zy1_dev_valid(env->dev.p, env->dev.n))
        return false;
    if (!has(obj, "tlr"))
        return true;
    return get_text(obj, "tlr", &env->tlr) && zy1_tlr_valid(env->tlr.p, env->tlr.n);
}

/* ---- request ------------------------------------------------------------ */

static zy1_status envelope_parse(const char *body, size_t len, bool flat_ok, zy1_envelope *env)
{
    struct flat f;
    struct obj o;
    memset(env, 0, sizeof *env);
    zy1_status st = load_object(body, len, flat_ok, &f, &env->text, &env->root, &o);
    if (st != ZY1_OK)
        goto out;
    st = ZY1_BAD_ENVELOPE;
    if (!version_ok(&o) || !ids_ok(&o, env) || !ts_ok(&o, &env->ts, env->ts_text))
        goto out;
    if (!b64_fixed(&o, "nonce", &env->nonce_b64, env->nonce, ZY1_NONCE_LEN) || !ek_ok(&o, env) ||
        !b64_fixed(&o, "iv", &env->iv_b64, env->iv, ZY1_IV_LEN) ||
        !b64_fixed(&o, "mac", &env->mac_b64, env->mac, ZY1_MAC_LEN))
        goto out;
    /* Nine required members were found; anything beyond them and tlr is extra. */
    if (size_of(&o) != 9u + (env->tlr.p ? 1u : 0u))
        goto out;
    st = b64_ct(&o, &env->ct_b64, &env->ct, &env->ct_len);
out:
    return st;
}

zy1_status zy1_envelope_parse(const char *body, size_t len, zy1_envelope *env)
{
    return envelope_parse(body, len, true, env);
}

zy1_status zy1_envelope_parse_jansson(const char *body, size_t len, zy1_envelope *env)
{
    return envelope_parse(body, len, false, env);
}

void zy1_envelope_free(zy1_envelope *env)
{
    if (!env)
        return;
    json_decref(env->root);
    free(env->text);
    free(env->ct);
    memset(env, 0, sizeof *env);
}

zy1_status zy1_envelope_check_tx(const zy1_envelope *env, const char *tx)
{
    if (!zy1_tx_valid(tx))
        return ZY1_BAD_ARG;
    bool activation = strcmp(tx, "DEVICE_ACTIVATE") == 0;
    return activation == (env->tlr.p != NULL) ? ZY1_OK : ZY1_BAD_ENVELOPE;
}

/* ---- response ----------------------------------------------------------- */

static zy1_status response_parse(const char *body, size_t len, bool flat_ok, zy1_response *rsp)
{
    struct flat f;
    struct obj o;
    memset(rsp, 0, sizeof *rsp);
    zy1_status st = load_object(body, len, flat_ok, &f, &rsp->text, &rsp->root, &o);
    if (st != ZY1_OK)
        goto out;
    st = ZY1_BAD_ENVELOPE;
    if (size_of(&o) != 5 || !version_ok(&o) || !ts_ok(&o, &rsp->ts, rsp->ts_text) ||
        !b64_fixed(&o, "iv", &rsp->iv_b64, rsp->iv, ZY1_IV_LEN) ||
        !b64_fixed(&o, "mac", &rsp->mac_b64, rsp->mac, ZY1_MAC_LEN))
        goto out;
    st = b64_ct(&o, &rsp->ct_b64, &rsp->ct, &rsp->ct_len);
out:
    return st;
}

zy1_status zy1_response_parse(const char *body, size_t len, zy1_response *rsp)
{
    return response_parse(body, len, true, rsp);
}

zy1_status zy1_response_parse_jansson(const char *body, size_t len, zy1_response *rsp)
{
    return response_parse(body, len, false, rsp);
}

void zy1_response_free(zy1_response *rsp)
{
    if (!rsp)
        return;
    json_decref(rsp->root);
    free(rsp->text);
    free(rsp->ct);
    memset(rsp, 0, sizeof *rsp);
}
