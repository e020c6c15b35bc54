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

/* ---- JSON member helpers ------------------------------------------------ */

/* Loads a body that must be a JSON object without duplicate members. */
static zy1_status load_object(const char *body, size_t len, json_t **out)
{
    json_error_t err;
    if (!body)
        return ZY1_BAD_ENVELOPE;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return json_error_code(&err) == json_error_out_of_memory ? ZY1_NOMEM : ZY1_BAD_ENVELOPE;
    *out = root;
    return json_is_object(root) ? ZY1_OK : ZY1_BAD_ENVELOPE;
}

static bool get_text(json_t *obj, const char *key, zy1_text *t)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return false;
    t->p = json_string_value(v);
    t->n = json_string_length(v);
    return true;
}

static bool get_int(json_t *obj, const char *key, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

/* v must be the integer 1 (not 1.0, not true). */
static bool version_ok(json_t *obj)
{
    int64_t v = 0;
    return get_int(obj, "v", &v) && v == 1;
}

static bool ts_ok(json_t *obj, int64_t *ts, char text[ZY1_TS_TEXT_MAX])
{
    if (!get_int(obj, "ts", ts) || *ts <= 0)
        return false;
    snprintf(text, ZY1_TS_TEXT_MAX, "%" PRId64, *ts);
    return true;
}

/* A base64 member that decodes to exactly n bytes. */
static bool b64_fixed(json_t *obj, const char *key, zy1_text *t, uint8_t *out, size_t n)
{
    return get_text(obj, key, t) && t->n == b64_encoded_len(n) &&
           b64_decode(t->p, t->n, out, n) == (long)n;
}

/* The ct member: non-empty, whole SM4 blocks; decoded onto the heap. */
static zy1_status b64_ct(json_t *obj, zy1_text *t, uint8_t **ct, size_t *ct_len)
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
static bool ek_ok(json_t *obj, zy1_envelope *env)
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

static bool ids_ok(json_t *obj, zy1_envelope *env)
{
    if (!get_text(obj, "kid", &env->kid) || !zy1_kid_valid(env->kid.p, env->kid.n))
        return false;
    if (!get_text(obj, "dev", &env->dev) || !zy1_dev_valid(env->dev.p, env->dev.n))
        return false;
    if (!json_object_get(obj, "tlr"))
        return true;
    return get_text(obj, "tlr", &env->tlr) && zy1_tlr_valid(env->tlr.p, env->tlr.n);
}

/* ---- request ------------------------------------------------------------ */

zy1_status zy1_envelope_parse(const char *body, size_t len, zy1_envelope *env)
{
    memset(env, 0, sizeof *env);
    zy1_status st = load_object(body, len, &env->root);
    if (st != ZY1_OK)
        goto out;
    st = ZY1_BAD_ENVELOPE;
    json_t *o = env->root;
    if (!version_ok(o) || !ids_ok(o, env) || !ts_ok(o, &env->ts, env->ts_text))
        goto out;
    if (!b64_fixed(o, "nonce", &env->nonce_b64, env->nonce, ZY1_NONCE_LEN) || !ek_ok(o, env) ||
        !b64_fixed(o, "iv", &env->iv_b64, env->iv, ZY1_IV_LEN) ||
        !b64_fixed(o, "mac", &env->mac_b64, env->mac, ZY1_MAC_LEN))
        goto out;
    /* Nine required members were found; anything beyond them and tlr is extra. */
    if (json_object_size(o) != 9u + (env->tlr.p ? 1u : 0u))
        goto out;
    st = b64_ct(o, &env->ct_b64, &env->ct, &env->ct_len);
out:
    return st;
}

void zy1_envelope_free(zy1_envelope *env)
{
    if (!env)
        return;
    json_decref(env->root);
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

zy1_status zy1_response_parse(const char *body, size_t len, zy1_response *rsp)
{
    memset(rsp, 0, sizeof *rsp);
    zy1_status st = load_object(body, len, &rsp->root);
    if (st != ZY1_OK)
        goto out;
    st = ZY1_BAD_ENVELOPE;
    json_t *o = rsp->root;
    if (json_object_size(o) != 5 || !version_ok(o) || !ts_ok(o, &rsp->ts, rsp->ts_text) ||
        !b64_fixed(o, "iv", &rsp->iv_b64, rsp->iv, ZY1_IV_LEN) ||
        !b64_fixed(o, "mac", &rsp->mac_b64, rsp->mac, ZY1_MAC_LEN))
        goto out;
    st = b64_ct(o, &rsp->ct_b64, &rsp->ct, &rsp->ct_len);
out:
    return st;
}

void zy1_response_free(zy1_response *rsp)
{
    if (!rsp)
        return;
    json_decref(rsp->root);
    free(rsp->ct);
    memset(rsp, 0, sizeof *rsp);
}
