#include "channel/zy1.h"

#include "foundation/codec.h"
#include "foundation/secmem.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define EK_B64_MAX 272 /* b64_encoded_len(ZY1_EK_MAX) */
#define MAC_B64_LEN 44
#define REQ_FIELDS 9 /* TX kid dev tlr ts nonce ek iv ct */
#define RSP_FIELDS 5 /* TX nonce ts iv ct */
#define MAX_PARTS (1 + 2 * REQ_FIELDS)

static const char L_REQ_ENC[] = "ZY1 req enc";
static const char L_REQ_MAC[] = "ZY1 req mac";
static const char L_RSP_ENC[] = "ZY1 rsp enc";
static const char L_RSP_MAC[] = "ZY1 rsp mac";
static const char L_ACT[] = "ZY1 act";

const char *zy1_status_code(zy1_status st)
{
    switch (st) {
    case ZY1_OK:
        return "ok";
    case ZY1_BAD_ENVELOPE:
        return "bad_envelope";
    case ZY1_BAD_MAC:
        return "bad_mac";
    case ZY1_BAD_PAYLOAD:
        return "bad_payload";
    default:
        return "internal";
    }
}

/* bad is what an input rejected by the primitive means at this step. */
static zy1_status from_sm(sm_status s, zy1_status bad)
{
    switch (s) {
    case SM_OK:
        return ZY1_OK;
    case SM_BAD:
        return bad;
    case SM_NOMEM:
        return ZY1_NOMEM;
    default:
        return ZY1_INTERNAL;
    }
}

static zy1_text text_of(const char *s)
{
    return (zy1_text){s, s ? strlen(s) : 0};
}

/* ---- MAC inputs --------------------------------------------------------- */

/* label \n f[0] \n f[1] ... as sm_parts, so M is never copied. */
static size_t mac_parts(const char *label, const zy1_text *f, size_t nf, sm_part *parts)
{
    size_t k = 0;
    parts[k++] = (sm_part){label, strlen(label)};
    for (size_t i = 0; i < nf; i++) {
        parts[k++] = (sm_part){"\n", 1};
        parts[k++] = (sm_part){f[i].p, f[i].n};
    }
    return k;
}

static size_t request_parts(const char *tx, const zy1_envelope *env, sm_part *parts)
{
    const zy1_text f[REQ_FIELDS] = {
        text_of(tx),    env->kid,    env->dev,    env->tlr,    text_of(env->ts_text),
        env->nonce_b64, env->ek_b64, env->iv_b64, env->ct_b64,
    };
    return mac_parts("ZY1", f, REQ_FIELDS, parts);
}

static size_t response_parts(const char *tx, const char *nonce_b64, const char *ts_text,
                             zy1_text iv_b64, zy1_text ct_b64, sm_part *parts)
{
    const zy1_text f[RSP_FIELDS] = {text_of(tx), text_of(nonce_b64), text_of(ts_text), iv_b64,
                                    ct_b64};
    return mac_parts("ZY1R", f, RSP_FIELDS, parts);
}

static zy1_status parts_join(const sm_part *parts, size_t n, char **out, size_t *len)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += parts[i].n;
    char *s = malloc(total + 1);
    if (!s)
        return ZY1_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].n)
            memcpy(s + o, parts[i].p, parts[i].n);
        o += parts[i].n;
    }
    s[o] = '\0';
    *out = s;
    *len = o;
    return ZY1_OK;
}

zy1_status zy1_mac_input(const char *tx, const zy1_envelope *env, char **out, size_t *len)
{
    sm_part parts[MAX_PARTS];
    if (!tx || !env || !env->ct)
        return ZY1_BAD_ARG;
    return parts_join(parts, request_parts(tx, env, parts), out, len);
}

zy1_status zy1_response_mac_input(const char *tx, const char *nonce_b64, const zy1_response *rsp,
                                  char **out, size_t *len)
{
    sm_part parts[MAX_PARTS];
    if (!tx || !nonce_b64 || !rsp || !rsp->ct)
        return ZY1_BAD_ARG;
    size_t n = response_parts(tx, nonce_b64, rsp->ts_text, rsp->iv_b64, rsp->ct_b64, parts);
    return parts_join(parts, n, out, len);
}

/* ---- keys --------------------------------------------------------------- */

void zy1_keys_wipe(zy1_keys *k)
{
    secmem_wipe(k, sizeof *k);
}

zy1_status zy1_derive(const uint8_t S[ZY1_S_LEN], const uint8_t F[ZY1_F_LEN], zy1_keys *k)
{
    uint8_t t[2][SM3_LEN], m[2][SM3_LEN];
    const sm_part req_enc = {L_REQ_ENC, sizeof L_REQ_ENC - 1},
                  rsp_enc = {L_RSP_ENC, sizeof L_RSP_ENC - 1};
    const sm_part req_mac[2] = {{L_REQ_MAC, sizeof L_REQ_MAC - 1}, {S, ZY1_S_LEN}};
    const sm_part rsp_mac[2] = {{L_RSP_MAC, sizeof L_RSP_MAC - 1}, {S, ZY1_S_LEN}};
    /* Two keys, two messages each: each key's pads are hashed once. */
    const sm_hmac_msg under_s[2] = {{&req_enc, 1}, {&rsp_enc, 1}};
    const sm_hmac_msg under_f[2] = {{req_mac, 2}, {rsp_mac, 2}};
    zy1_status st = ZY1_BAD_ARG;
    sm_status s;
    if (!S || !F || !k)
        goto out;
    s = sm_hmac_each(S, ZY1_S_LEN, under_s, 2, t);
    if (s == SM_OK)
        s = sm_hmac_each(F, ZY1_F_LEN, under_f, 2, m);
    if (s == SM_OK) {
        memcpy(k->kenc, t[0], SM4_KEY_LEN);
        memcpy(k->renc, t[1], SM4_KEY_LEN);
        memcpy(k->kmac, m[0], SM3_LEN);
        memcpy(k->rmac, m[1], SM3_LEN);
    }
    st = from_sm(s, ZY1_INTERNAL);
out:
    secmem_wipe(t, sizeof t);
    secmem_wipe(m, sizeof m);
    if (st != ZY1_OK && k)
        zy1_keys_wipe(k);
    return st;
}

static bool code_valid(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (code[i] < 0x20 || code[i] > 0x7e)
            return false;
    return true;
}

zy1_status zy1_activation_factor(const char *tlr, const char *code, uint8_t F[ZY1_F_LEN])
{
    if (!tlr || !zy1_tlr_valid(tlr, strlen(tlr)) || !code_valid(code) || !F)
        return ZY1_BAD_ARG;
    const sm_part parts[] = {
        {L_ACT, sizeof L_ACT - 1}, {tlr, strlen(tlr)}, {"|", 1}, {code, strlen(code)}};
    zy1_status st = from_sm(sm3_digest(parts, 4, F), ZY1_INTERNAL);
    if (st != ZY1_OK)
        secmem_wipe(F, ZY1_F_LEN);
    return st;
}

/* ---- server: steps 9, 10, 12 -------------------------------------------- */

zy1_status zy1_unwrap(const sm2_key *key, const uint8_t *ek, size_t ek_len, uint8_t S[ZY1_S_LEN])
{
    size_t n = 0;
    zy1_status st = ZY1_BAD_ARG;
    if (!key || !ek || !S)
        goto out;
    st = from_sm(sm2_decrypt(key, ek, ek_len, ZY1_S_LEN, S, ZY1_S_LEN, &n), ZY1_BAD_MAC);
    if (st == ZY1_OK && n != ZY1_S_LEN)
        st = ZY1_BAD_MAC;
out:
    if (st != ZY1_OK && S)
        secmem_wipe(S, ZY1_S_LEN);
    return st;
}

zy1_status zy1_verify_mac(const char *tx, const zy1_envelope *env, const zy1_keys *k)
{
    sm_part parts[MAX_PARTS];
    uint8_t mac[ZY1_MAC_LEN];
    if (!tx || !env || !env->ct || !k)
        return ZY1_BAD_ARG;
    size_t n = request_parts(tx, env, parts);
    zy1_status st = from_sm(sm_hmac(k->kmac, sizeof k->kmac, parts, n, mac), ZY1_INTERNAL);
    if (st == ZY1_OK && !secmem_equal(mac, env->mac, ZY1_MAC_LEN))
        st = ZY1_BAD_MAC;
    secmem_wipe(mac, sizeof mac); /* the valid MAC of a forged message is a forgery */
    return st;
}

zy1_status zy1_authenticate(const sm2_key *key, const char *tx, const zy1_envelope *env,
                            const uint8_t F[ZY1_F_LEN], zy1_keys *k)
{
    uint8_t S[ZY1_S_LEN];
    zy1_status st = ZY1_BAD_ARG, unwrapped;
    if (!env || !env->ct || !F || !k)
        goto out;
    /* After a failed unwrap (S wiped to zeros) the keys are still derived and
     * the MAC still computed, so that timing does not tell the two failures
     * apart either; the unwrap status wins. */
    unwrapped = zy1_unwrap(key, env->ek, env->ek_len, S);
    if (unwrapped != ZY1_OK && unwrapped != ZY1_BAD_MAC) {
        st = unwrapped;
        goto out;
    }
    st = zy1_derive(S, F, k);
    if (st == ZY1_OK)
        st = zy1_verify_mac(tx, env, k);
    if (st == ZY1_OK && unwrapped != ZY1_OK)
        st = ZY1_BAD_MAC;
out:
    secmem_wipe(S, sizeof S);
    if (st != ZY1_OK && k)
        zy1_keys_wipe(k);
    return st;
}

/* sid: printable ASCII without space; the identity layer owns its format. */
static bool sid_valid(const zy1_text *t)
{
    if (t->n == 0 || t->n > ZY1_SID_MAX)
        return false;
    for (size_t i = 0; i < t->n; i++)
        if (t->p[i] <= 0x20 || t->p[i] > 0x7e)
            return false;
    return true;
}

static bool cseq_valid(const zy1_text *t)
{
    if (t->n == 0 || t->n > ZY1_CSEQ_MAX)
        return false;
    for (size_t i = 0; i < t->n; i++) {
        char c = t->p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* An optional string member; false when present but not a valid string. */
static bool opt_text(json_t *o, const char *key, bool (*valid)(const zy1_text *), zy1_text *t)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return true;
    if (!json_is_string(v))
        return false;
    *t = (zy1_text){json_string_value(v), json_string_length(v)};
    return valid(t);
}

static zy1_status payload_parse(const uint8_t *pt, size_t n, zy1_payload *p)
{
    json_error_t err;
    p->root = json_loadb((const char *)pt, n, JSON_REJECT_DUPLICATES, &err);
    if (!p->root)
        return json_error_code(&err) == json_error_out_of_memory ? ZY1_NOMEM : ZY1_BAD_PAYLOAD;
    if (!json_is_object(p->root))
        return ZY1_BAD_PAYLOAD;
    p->data = json_object_get(p->root, "data");
    if (!json_is_object(p->data) || !opt_text(p->root, "sid", sid_valid, &p->sid) ||
        !opt_text(p->root, "cseq", cseq_valid, &p->cseq))
        return ZY1_BAD_PAYLOAD;
    size_t expect = 1 + (p->sid.p ? 1 : 0) + (p->cseq.p ? 1 : 0);
    return json_object_size(p->root) == expect ? ZY1_OK : ZY1_BAD_PAYLOAD;
}

zy1_status zy1_decrypt_payload(const zy1_envelope *env, const zy1_keys *k, zy1_payload *p)
{
    uint8_t *pt = NULL;
    size_t n = 0;
    zy1_status st = ZY1_BAD_ARG;
    if (p)
        memset(p, 0, sizeof *p);
    if (!env || !env->ct || !k || !p)
        goto out;
    st = ZY1_NOMEM;
    if (!(pt = malloc(env->ct_len)))
        goto out;
    st = from_sm(sm4_cbc_decrypt(k->kenc, env->iv, env->ct, env->ct_len, pt, env->ct_len, &n),
                 ZY1_BAD_PAYLOAD);
    if (st == ZY1_OK)
        st = payload_parse(pt, n, p);
out:
    if (pt) {
        secmem_wipe(pt, env->ct_len); /* customer data, and key stream on failure */
        free(pt);
    }
    return st;
}

void zy1_json_wipe(json_t *j)
{
    if (json_is_string(j)) {
        secmem_wipe((void *)(uintptr_t)json_string_value(j), json_string_length(j));
    } else if (json_is_object(j)) {
        for (void *it = json_object_iter(j); it; it = json_object_iter_next(j, it))
            zy1_json_wipe(json_object_iter_value(it));
    } else if (json_is_array(j)) {
        for (size_t i = 0; i < json_array_size(j); i++)
            zy1_json_wipe(json_array_get(j, i));
    }
}

void zy1_payload_free(zy1_payload *p)
{
    if (!p)
        return;
    zy1_json_wipe(p->root);
    json_decref(p->root);
    memset(p, 0, sizeof *p);
}

/* ---- sealing helpers shared by both sides ------------------------------- */

/* vsnprintf into an exactly sized heap buffer. */
static zy1_status print_alloc(char **out, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static zy1_status print_alloc(char **out, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ZY1_INTERNAL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return ZY1_NOMEM;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *out = s;
    *len = (size_t)n;
    return ZY1_OK;
}

/* SM4-CBC of in[0..n) as heap base64. */
static zy1_status encrypt_b64(const uint8_t key[SM4_KEY_LEN], const uint8_t iv[ZY1_IV_LEN],
                              const char *in, size_t n, char **ct_b64, size_t *b64_len)
{
    size_t cap = sm4_cbc_padded_len(n), ct_len = 0;
    uint8_t *ct = malloc(cap);
    char *txt = NULL;
    zy1_status st = ZY1_NOMEM;
    if (!ct || !(txt = malloc(b64_encoded_len(cap) + 1)))
        goto out;
    st = from_sm(sm4_cbc_encrypt(key, iv, (const uint8_t *)in, n, ct, cap, &ct_len), ZY1_BAD_ARG);
    if (st != ZY1_OK)
        goto out;
    *b64_len = (size_t)b64_encode(ct, ct_len, txt, b64_encoded_len(cap) + 1);
    *ct_b64 = txt;
    txt = NULL;
out:
    free(ct);
    free(txt);
    return st;
}

static zy1_status fill(uint8_t *dst, const uint8_t *fixed, size_t n)
{
    if (fixed) {
        memcpy(dst, fixed, n);
        return ZY1_OK;
    }
    return secmem_random(dst, n) == 0 ? ZY1_OK : ZY1_INTERNAL;
}

static void b64_small(const uint8_t *in, size_t n, char *out, size_t cap)
{
    (void)b64_encode(in, n, out, cap); /* every caller sizes cap for n */
}

/* ---- server: the answer ------------------------------------------------- */

zy1_status zy1_seal_response(const zy1_keys *k, const char *tx, const char *nonce_b64, int64_t ts,
                             const char *plaintext, size_t n, const uint8_t *iv, char **body,
                             size_t *body_len)
{
    uint8_t ivb[ZY1_IV_LEN], mac[ZY1_MAC_LEN];
    char iv_b64[ZY1_NONCE_B64_LEN + 1], mac_b64[MAC_B64_LEN + 1], ts_text[ZY1_TS_TEXT_MAX];
    char *ct_b64 = NULL;
    size_t ct_b64_len = 0;
    sm_part parts[MAX_PARTS];
    zy1_status st = ZY1_BAD_ARG;
    if (!k || !zy1_tx_valid(tx) || !nonce_b64 || strlen(nonce_b64) != ZY1_NONCE_B64_LEN ||
        ts <= 0 || !plaintext || !body || !body_len)
        goto out;
    if ((st = fill(ivb, iv, sizeof ivb)) != ZY1_OK ||
        (st = encrypt_b64(k->renc, ivb, plaintext, n, &ct_b64, &ct_b64_len)) != ZY1_OK)
        goto out;
    b64_small(ivb, sizeof ivb, iv_b64, sizeof iv_b64);
    snprintf(ts_text, sizeof ts_text, "%" PRId64, ts);
    size_t np = response_parts(tx, nonce_b64, ts_text, text_of(iv_b64),
                               (zy1_text){ct_b64, ct_b64_len}, parts);
    if ((st = from_sm(sm_hmac(k->rmac, sizeof k->rmac, parts, np, mac), ZY1_INTERNAL)) != ZY1_OK)
        goto out;
    b64_small(mac, sizeof mac, mac_b64, sizeof mac_b64);
    /* Joined rather than printed (printf would run twice: size, then text). */
#define PIECE(lit)                                                                                 \
    {                                                                                              \
        lit, sizeof lit - 1                                                                        \
    }
    const sm_part pieces[] = {
        PIECE("{\"v\":1,\"ts\":"), {ts_text, strlen(ts_text)}, PIECE(",\"iv\":\""),
        {iv_b64, strlen(iv_b64)},  PIECE("\",\"ct\":\""),      {ct_b64, ct_b64_len},
        PIECE("\",\"mac\":\""),    {mac_b64, strlen(mac_b64)}, PIECE("\"}"),
    };
#undef PIECE
    st = parts_join(pieces, sizeof pieces / sizeof pieces[0], body, body_len);
out:
    free(ct_b64);
    return st;
}

/* ---- client ------------------------------------------------------------- */

void zy1_call_wipe(zy1_call *call)
{
    secmem_wipe(call, sizeof *call);
}

static bool params_valid(const zy1_request_params *rp)
{
    if (!rp || !zy1_tx_valid(rp->tx) || !rp->kid || !zy1_kid_valid(rp->kid, strlen(rp->kid)) ||
        !rp->dev || !zy1_dev_valid(rp->dev, strlen(rp->dev)) || !rp->F || rp->ts <= 0)
        return false;
    if (rp->tlr && !zy1_tlr_valid(rp->tlr, strlen(rp->tlr)))
        return false;
    /* The server refuses a tlr outside activation and its absence inside. */
    return (strcmp(rp->tx, ZY1_ACTIVATE_TX) == 0) == (rp->tlr != NULL);
}

/* Everything a request is built from; S and keys are wiped by seal_done(). */
typedef struct {
    uint8_t S[ZY1_S_LEN], nonce[ZY1_NONCE_LEN], iv[ZY1_IV_LEN], ek[ZY1_EK_MAX];
    size_t ek_len;
    zy1_keys keys;
    char nonce_b64[ZY1_NONCE_B64_LEN + 1], iv_b64[ZY1_NONCE_B64_LEN + 1];
    char ek_b64[EK_B64_MAX + 1], mac_b64[MAC_B64_LEN + 1], ts_text[ZY1_TS_TEXT_MAX];
    char *ct_b64;
    size_t ct_b64_len;
} sealing;

/* S, nonce, iv and ek: drawn, or taken from fx in tests. */
static zy1_status seal_secrets(const sm2_key *pub, const zy1_fixed *fx, sealing *sl)
{
    static const zy1_fixed none;
    const zy1_fixed *f = fx ? fx : &none;
    zy1_status st;
    if ((f->ek && !f->S) || (!f->ek && !pub))
        return ZY1_BAD_ARG;
    if ((st = fill(sl->S, f->S, ZY1_S_LEN)) != ZY1_OK ||
        (st = fill(sl->nonce, f->nonce, ZY1_NONCE_LEN)) != ZY1_OK ||
        (st = fill(sl->iv, f->iv, ZY1_IV_LEN)) != ZY1_OK)
        return st;
    if (f->ek) {
        if (f->ek_len > ZY1_EK_MAX ||
            sm2_ct_classify(f->ek, f->ek_len, ZY1_S_LEN) == SM2_CT_INVALID)
            return ZY1_BAD_ARG;
        memcpy(sl->ek, f->ek, f->ek_len);
        sl->ek_len = f->ek_len;
        return ZY1_OK;
    }
    return from_sm(sm2_encrypt(pub, sl->S, ZY1_S_LEN, sl->ek, sizeof sl->ek, &sl->ek_len),
                   ZY1_BAD_ARG);
}

static zy1_status seal_mac(const zy1_request_params *rp, sealing *sl)
{
    const zy1_text f[REQ_FIELDS] = {
        text_of(rp->tx),     text_of(rp->kid),     text_of(rp->dev),
        text_of(rp->tlr),    text_of(sl->ts_text), text_of(sl->nonce_b64),
        text_of(sl->ek_b64), text_of(sl->iv_b64),  {sl->ct_b64, sl->ct_b64_len},
    };
    sm_part parts[MAX_PARTS];
    uint8_t mac[ZY1_MAC_LEN];
    size_t n = mac_parts("ZY1", f, REQ_FIELDS, parts);
    zy1_status st = from_sm(sm_hmac(sl->keys.kmac, SM3_LEN, parts, n, mac), ZY1_INTERNAL);
    if (st == ZY1_OK)
        b64_small(mac, sizeof mac, sl->mac_b64, sizeof sl->mac_b64);
    return st;
}

/* Members in the spec's order; every text is from a base64 or identifier
 * alphabet, so none needs JSON escaping. */
static zy1_status seal_body(const zy1_request_params *rp, const sealing *sl, char **body,
                            size_t *len)
{
    char tlr_member[ZY1_ID_MAX + 16] = "";
    if (rp->tlr)
        snprintf(tlr_member, sizeof tlr_member, "\"tlr\":\"%s\",", rp->tlr);
    return print_alloc(body, len,
                       "{\"v\":1,\"kid\":\"%s\",\"dev\":\"%s\",%s\"ts\":%s,\"nonce\":\"%s\","
                       "\"ek\":\"%s\",\"iv\":\"%s\",\"ct\":\"%s\",\"mac\":\"%s\"}",
                       rp->kid, rp->dev, tlr_member, sl->ts_text, sl->nonce_b64, sl->ek_b64,
                       sl->iv_b64, sl->ct_b64, sl->mac_b64);
}

zy1_status zy1_seal_request_fixed(const sm2_key *pub, const zy1_request_params *rp,
                                  const char *payload, size_t n, const zy1_fixed *fx,
                                  zy1_call *call, char **body, size_t *body_len)
{
    sealing sl = {0};
    zy1_status st = ZY1_BAD_ARG;
    if (call)
        zy1_call_wipe(call);
    if (!params_valid(rp) || !payload || !call || !body || !body_len)
        goto out;
    if ((st = seal_secrets(pub, fx, &sl)) != ZY1_OK ||
        (st = zy1_derive(sl.S, rp->F, &sl.keys)) != ZY1_OK ||
        (st = encrypt_b64(sl.keys.kenc, sl.iv, payload, n, &sl.ct_b64, &sl.ct_b64_len)) != ZY1_OK)
        goto out;
    b64_small(sl.nonce, sizeof sl.nonce, sl.nonce_b64, sizeof sl.nonce_b64);
    b64_small(sl.iv, sizeof sl.iv, sl.iv_b64, sizeof sl.iv_b64);
    b64_small(sl.ek, sl.ek_len, sl.ek_b64, sizeof sl.ek_b64);
    snprintf(sl.ts_text, sizeof sl.ts_text, "%" PRId64, rp->ts);
    if ((st = seal_mac(rp, &sl)) != ZY1_OK || (st = seal_body(rp, &sl, body, body_len)) != ZY1_OK)
        goto out;
    snprintf(call->tx, sizeof call->tx, "%s", rp->tx);
    memcpy(call->nonce_b64, sl.nonce_b64, sizeof call->nonce_b64);
    call->keys = sl.keys;
out:
    free(sl.ct_b64);
    secmem_wipe(&sl, sizeof sl);
    return st;
}

zy1_status zy1_seal_request(const sm2_key *pub, const zy1_request_params *rp, const char *payload,
                            size_t n, zy1_call *call, char **body, size_t *body_len)
{
    return zy1_seal_request_fixed(pub, rp, payload, n, NULL, call, body, body_len);
}

static zy1_status response_verify(const zy1_call *call, const zy1_response *rsp)
{
    sm_part parts[MAX_PARTS];
    uint8_t mac[ZY1_MAC_LEN];
    size_t n =
        response_parts(call->tx, call->nonce_b64, rsp->ts_text, rsp->iv_b64, rsp->ct_b64, parts);
    zy1_status st = from_sm(sm_hmac(call->keys.rmac, SM3_LEN, parts, n, mac), ZY1_INTERNAL);
    if (st == ZY1_OK && !secmem_equal(mac, rsp->mac, ZY1_MAC_LEN))
        st = ZY1_BAD_MAC;
    secmem_wipe(mac, sizeof mac);
    return st;
}

zy1_status zy1_open_response(const zy1_call *call, const char *body, size_t len, char **plaintext,
                             size_t *pt_len, int64_t *ts)
{
    zy1_response rsp = {0};
    uint8_t *pt = NULL;
    size_t n = 0;
    zy1_status st = ZY1_BAD_ARG;
    if (plaintext)
        *plaintext = NULL;
    if (!call || !zy1_tx_valid(call->tx) || !plaintext || !pt_len)
        goto out;
    if ((st = zy1_response_parse(body, len, &rsp)) != ZY1_OK ||
        (st = response_verify(call, &rsp)) != ZY1_OK)
        goto out;
    st = ZY1_NOMEM;
    if (!(pt = malloc(rsp.ct_len + 1)))
        goto out;
    st = from_sm(sm4_cbc_decrypt(call->keys.renc, rsp.iv, rsp.ct, rsp.ct_len, pt, rsp.ct_len, &n),
                 ZY1_BAD_PAYLOAD);
    if (st != ZY1_OK)
        goto out;
    pt[n] = '\0';
    *plaintext = (char *)pt;
    *pt_len = n;
    if (ts)
        *ts = rsp.ts;
    pt = NULL;
out:
    if (pt) {
        secmem_wipe(pt, rsp.ct_len);
        free(pt);
    }
    zy1_response_free(&rsp);
    return st;
}
