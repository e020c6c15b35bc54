/* zy1_tool — the C side of the Node interop test (interop.mjs, issue 3).
 *
 * Each subcommand is one ZY1 step of one peer, done with the real library
 * (zy1 for the server side, zyc for the device side), so that the Node driver
 * can pair every C step with its sm-crypto counterpart. Input is one JSON
 * object on stdin and output one JSON object on stdout: bodies with Chinese
 * text and secrets then never pass through a command line.
 *
 *   open-request   {"key_der_b64","tx","body","F"} or {..,"code"} for
 *                  DEVICE_ACTIVATE (F from the envelope's tlr and the code,
 *                  as the server derives it)
 *                  -> {"status","ek_form","nonce","payload":{..},"keys":{..}}
 *   seal-response  {"keys","tx","nonce","ts","plaintext"} -> {"status","body"}
 *   seal-request   {"pub_b64","kid","dev","tx","ts","payload","ek_form",
 *                   "ds_b64"} or {..,"tlr","code"} for DEVICE_ACTIVATE
 *                  -> {"status","body","call":{"tx","nonce","keys"}}
 *   open-response  {"call","body"} -> {"status","plaintext","ts"}
 *
 * keys is {"kenc","kmac","renc","rmac"} in hex. They are printed because the
 * driver must answer with them and compare them with its own derivation; the
 * server keys are throw-away test keys. ek_form is "raw65" (04||C1, sealed
 * through zyc_seal, the tablet's path), "raw64" (C1 without the 04) or "der".
 *
 * Exit status: 0 when the ZY1 operation succeeded, 1 when it failed with the
 * status printed, 2 when the tool's own input is unusable (message on
 * stderr), so that a test never mistakes a driver bug for a rejection. */
#include "channel/zy1.h"
#include "foundation/codec.h"
#include "foundation/secmem.h"
#include "zyc.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define DER_KEY_MAX 512
#define EK_RAW_LEN (SM2_C1C3_LEN + ZY1_S_LEN)

static int usage_error(const char *what)
{
    fprintf(stderr, "zy1_tool: %s\n", what);
    return 2;
}

static const char *status_name(zy1_status st)
{
    switch (st) {
    case ZY1_BAD_ARG:
        return "bad_arg";
    case ZY1_NOMEM:
        return "nomem";
    default:
        return zy1_status_code(st); /* ok, bad_envelope, bad_mac, bad_payload, internal */
    }
}

static const char *form_name(sm2_ct_form f)
{
    switch (f) {
    case SM2_CT_RAW65:
        return "raw65";
    case SM2_CT_RAW64:
        return "raw64";
    case SM2_CT_DER:
        return "der";
    default:
        return "invalid";
    }
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool hex_fixed(const char *hex, uint8_t *out, size_t n)
{
    return hex && hex_decode(hex, strlen(hex), out, n) == (long)n;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char buf[2 * SM3_LEN + 1];
    if (n > SM3_LEN || hex_encode(p, n, buf, sizeof buf) < 0)
        return NULL;
    return json_string(buf);
}

static json_t *keys_json(const zy1_keys *k)
{
    return json_pack("{s:o,s:o,s:o,s:o}", "kenc", hex_json(k->kenc, sizeof k->kenc), "kmac",
                     hex_json(k->kmac, sizeof k->kmac), "renc", hex_json(k->renc, sizeof k->renc),
                     "rmac", hex_json(k->rmac, sizeof k->rmac));
}

static bool keys_from(const json_t *o, zy1_keys *k)
{
    return hex_fixed(str(o, "kenc"), k->kenc, sizeof k->kenc) &&
           hex_fixed(str(o, "kmac"), k->kmac, sizeof k->kmac) &&
           hex_fixed(str(o, "renc"), k->renc, sizeof k->renc) &&
           hex_fixed(str(o, "rmac"), k->rmac, sizeof k->rmac);
}

/* Prints {"status": ..} merged with extra (stolen) and maps st to the exit
 * status. */
static int finish(zy1_status st, json_t *extra)
{
    json_t *out = extra ? extra : json_object();
    json_object_set_new(out, "status", json_string(status_name(st)));
    int rc = json_dumpf(out, stdout, JSON_COMPACT) == 0 ? (st == ZY1_OK ? 0 : 1) : 2;
    fputc('\n', stdout);
    json_decref(out);
    return rc;
}

/* ---- server side -------------------------------------------------------- */

static int cmd_open_request(const json_t *in)
{
    const char *der_b64 = str(in, "key_der_b64"), *tx = str(in, "tx"), *code = str(in, "code");
    const json_t *body = json_object_get(in, "body");
    uint8_t der[DER_KEY_MAX], F[ZY1_F_LEN];
    sm2_key *key = NULL;
    zy1_envelope env = {0};
    zy1_keys k = {0};
    zy1_payload p = {0};
    json_t *out = NULL;
    int rc = 2;
    long dn = der_b64 ? b64_decode(der_b64, strlen(der_b64), der, sizeof der) : -1;
    if (dn <= 0 || !tx || !json_is_string(body) ||
        (!code && !hex_fixed(str(in, "F"), F, ZY1_F_LEN))) {
        rc = usage_error("open-request needs key_der_b64, tx, body and F or code");
        goto out;
    }
    if (sm2_key_load_der(der, (size_t)dn, &key) != SM_OK) {
        rc = usage_error("open-request: key_der_b64 is not an SM2 private key");
        goto out;
    }
    zy1_status st = zy1_envelope_parse(json_string_value(body), json_string_length(body), &env);
    bool parsed = st == ZY1_OK;
    if (st == ZY1_OK)
        st = zy1_envelope_check_tx(&env, tx);
    if (st == ZY1_OK && code) {
        /* The server derives F for activation from the tlr the envelope carries. */
        char tlr[ZY1_ID_MAX + 1] = "";
        if (env.tlr.p && env.tlr.n <= ZY1_ID_MAX)
            memcpy(tlr, env.tlr.p, env.tlr.n);
        st = zy1_activation_factor(tlr, code, F);
    }
    if (st == ZY1_OK)
        st = zy1_authenticate(key, tx, &env, F, &k);
    if (st == ZY1_OK)
        st = zy1_decrypt_payload(&env, &k, &p);
    out = json_object();
    if (parsed) /* which form the server saw, also when it refused the request */
        json_object_set_new(out, "ek_form", json_string(form_name(env.ek_form)));
    if (st == ZY1_OK) {
        json_object_set_new(out, "nonce", json_stringn(env.nonce_b64.p, env.nonce_b64.n));
        json_object_set(out, "payload", p.root);
        json_object_set_new(out, "keys", keys_json(&k));
    }
    rc = finish(st, out);
out:
    secmem_wipe(F, sizeof F);
    secmem_wipe(der, sizeof der);
    zy1_keys_wipe(&k);
    zy1_payload_free(&p);
    zy1_envelope_free(&env);
    sm2_key_free(key);
    return rc;
}

static int cmd_seal_response(const json_t *in)
{
    const char *tx = str(in, "tx"), *nonce = str(in, "nonce");
    const json_t *pt = json_object_get(in, "plaintext"), *ts = json_object_get(in, "ts");
    zy1_keys k = {0};
    char *body = NULL;
    size_t len = 0;
    int rc;
    if (!tx || !nonce || !json_is_string(pt) || !json_is_integer(ts) ||
        !keys_from(json_object_get(in, "keys"), &k)) {
        rc = usage_error("seal-response needs keys, tx, nonce, ts and plaintext");
        goto out;
    }
    zy1_status st = zy1_seal_response(&k, tx, nonce, json_integer_value(ts), json_string_value(pt),
                                      json_string_length(pt), NULL, &body, &len);
    rc = finish(st, st == ZY1_OK ? json_pack("{s:s%}", "body", body, len) : NULL);
out:
    zy1_keys_wipe(&k);
    free(body);
    return rc;
}

/* ---- device side -------------------------------------------------------- */

/* F as a device picks it: the activation factor for DEVICE_ACTIVATE, DS
 * otherwise. */
static bool device_factor(const json_t *in, const char *tx, uint8_t F[ZY1_F_LEN])
{
    const char *ds_b64 = str(in, "ds_b64");
    if (strcmp(tx, ZY1_ACTIVATE_TX) == 0)
        return zy1_activation_factor(str(in, "tlr"), str(in, "code"), F) == ZY1_OK;
    return ds_b64 && b64_decode(ds_b64, strlen(ds_b64), F, ZY1_F_LEN) == ZY1_F_LEN;
}

/* ek in the form asked for, for S drawn here. Only the raw64 and DER forms
 * come through here: raw65 is what zyc_seal produces by itself. */
static zy1_status wrap_secret(const char *pub_b64, sm2_ct_form form, uint8_t S[ZY1_S_LEN],
                              uint8_t *ek, size_t cap, size_t *ek_len)
{
    uint8_t pub[SM2_PUB_LEN], raw[EK_RAW_LEN];
    size_t n = 0;
    sm2_key *key = NULL;
    zy1_status st = ZY1_BAD_ARG;
    if (!pub_b64 || b64_decode(pub_b64, strlen(pub_b64), pub, sizeof pub) != SM2_PUB_LEN ||
        sm2_key_from_pub(pub, &key) != SM_OK)
        goto out;
    st = ZY1_INTERNAL;
    if (secmem_random(S, ZY1_S_LEN) != 0 ||
        sm2_encrypt(key, S, ZY1_S_LEN, raw, sizeof raw, &n) != SM_OK || n != sizeof raw)
        goto out;
    if (form == SM2_CT_RAW64) {
        /* C1 without its leading 04, as sm-crypto writes it. */
        if (cap >= n - 1) {
            memcpy(ek, raw + 1, n - 1);
            *ek_len = n - 1;
            st = ZY1_OK;
        }
    } else if (sm2_ct_to_der(raw, n, ZY1_S_LEN, ek, cap, ek_len) == SM_OK) {
        st = ZY1_OK;
    }
out:
    sm2_key_free(key);
    return st;
}

static zy1_status seal_other_form(const json_t *in, sm2_ct_form form, const char *payload, size_t n,
                                  zy1_call *call, char **body, size_t *len)
{
    const char *tx = str(in, "tx");
    const json_t *ts = json_object_get(in, "ts");
    uint8_t F[ZY1_F_LEN], S[ZY1_S_LEN], ek[ZY1_EK_MAX];
    size_t ek_len = 0;
    zy1_status st = ZY1_BAD_ARG;
    if (!tx || !json_is_integer(ts) || !device_factor(in, tx, F))
        goto out;
    if ((st = wrap_secret(str(in, "pub_b64"), form, S, ek, sizeof ek, &ek_len)) != ZY1_OK)
        goto out;
    bool activation = strcmp(tx, ZY1_ACTIVATE_TX) == 0;
    const zy1_request_params rp = {.tx = tx,
                                   .kid = str(in, "kid"),
                                   .dev = str(in, "dev"),
                                   .tlr = activation ? str(in, "tlr") : NULL,
                                   .F = F,
                                   .ts = json_integer_value(ts)};
    /* Only S and ek are fixed (both fresh); nonce and iv are drawn. */
    const zy1_fixed fx = {.S = S, .ek = ek, .ek_len = ek_len};
    st = zy1_seal_request_fixed(NULL, &rp, payload, n, &fx, call, body, len);
out:
    secmem_wipe(F, sizeof F);
    secmem_wipe(S, sizeof S);
    return st;
}

/* The tablet's own path: a device state and zyc_seal. */
static zy1_status seal_zyc(const json_t *in, const char *payload, size_t n, zy1_call *call,
                           char **body, size_t *len)
{
    const char *tx = str(in, "tx"), *dev = str(in, "dev"), *ds_b64 = str(in, "ds_b64");
    const json_t *ts = json_object_get(in, "ts");
    zyc_state st;
    zy1_status rc = ZY1_BAD_ARG;
    if (!tx || !dev || strlen(dev) != ZY1_DEV_LEN || !json_is_integer(ts) ||
        zyc_state_init(&st, "http://127.0.0.1", str(in, "kid"), str(in, "pub_b64"),
                       str(in, "tlr")) != ZYC_OK)
        return ZY1_BAD_ARG;
    memcpy(st.dev, dev, ZY1_DEV_LEN + 1); /* the driver's dev instead of a fresh one */
    if (!ds_b64 || zyc_state_set_device_secret(&st, ds_b64) == ZYC_OK)
        rc =
            zyc_seal(&st, tx, str(in, "code"), payload, n, json_integer_value(ts), call, body, len);
    zyc_state_wipe(&st);
    return rc;
}

static int cmd_seal_request(const json_t *in)
{
    const json_t *payload = json_object_get(in, "payload");
    const char *form = str(in, "ek_form");
    zy1_call call = {0};
    char *body = NULL;
    size_t len = 0;
    zy1_status st;
    if (!json_is_string(payload) || !form)
        return usage_error("seal-request needs payload and ek_form");
    const char *pt = json_string_value(payload);
    size_t n = json_string_length(payload);
    if (strcmp(form, "raw65") == 0)
        st = seal_zyc(in, pt, n, &call, &body, &len);
    else if (strcmp(form, "raw64") == 0)
        st = seal_other_form(in, SM2_CT_RAW64, pt, n, &call, &body, &len);
    else if (strcmp(form, "der") == 0)
        st = seal_other_form(in, SM2_CT_DER, pt, n, &call, &body, &len);
    else
        return usage_error("ek_form must be raw65, raw64 or der");
    json_t *out = NULL;
    if (st == ZY1_OK)
        out = json_pack("{s:s%,s:{s:s,s:s,s:o}}", "body", body, len, "call", "tx", call.tx, "nonce",
                        call.nonce_b64, "keys", keys_json(&call.keys));
    zy1_call_wipe(&call);
    free(body);
    return finish(st, out);
}

static int cmd_open_response(const json_t *in)
{
    const json_t *c = json_object_get(in, "call"), *body = json_object_get(in, "body");
    const char *tx = str(c, "tx"), *nonce = str(c, "nonce");
    zy1_call call = {0};
    char *pt = NULL;
    size_t n = 0;
    int64_t ts = 0;
    int rc;
    if (!tx || strlen(tx) > ZY1_TX_MAX || !nonce || strlen(nonce) != ZY1_NONCE_B64_LEN ||
        !json_is_string(body) || !keys_from(json_object_get(c, "keys"), &call.keys)) {
        rc = usage_error("open-response needs call {tx, nonce, keys} and body");
        goto out;
    }
    memcpy(call.tx, tx, strlen(tx) + 1);
    memcpy(call.nonce_b64, nonce, ZY1_NONCE_B64_LEN + 1);
    zy1_status st =
        zyc_open(&call, json_string_value(body), json_string_length(body), &pt, &n, &ts);
    json_t *out = NULL;
    if (st == ZY1_OK) {
        /* NULL (invalid UTF-8) makes json_pack fail: reported as bad_payload. */
        out = json_pack("{s:s%,s:I}", "plaintext", pt, n, "ts", (json_int_t)ts);
        if (!out)
            st = ZY1_BAD_PAYLOAD;
    }
    rc = finish(st, out);
out:
    zy1_call_wipe(&call);
    if (pt) {
        secmem_wipe(pt, n);
        free(pt);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(const json_t *in);
    } cmds[] = {
        {"open-request", cmd_open_request},
        {"seal-response", cmd_seal_response},
        {"seal-request", cmd_seal_request},
        {"open-response", cmd_open_response},
    };
    if (argc != 2)
        return usage_error("usage: zy1_tool open-request|seal-response|seal-request|"
                           "open-response < input.json");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (strcmp(argv[1], cmds[i].name) != 0)
            continue;
        json_error_t err;
        json_t *in = json_loadf(stdin, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(in)) {
            json_decref(in);
            return usage_error("stdin is not one JSON object");
        }
        if (sm_init() != SM_OK) {
            json_decref(in);
            return usage_error("the SM algorithms are not available");
        }
        int rc = cmds[i].run(in);
        json_decref(in);
        return rc;
    }
    return usage_error("unknown subcommand");
}
