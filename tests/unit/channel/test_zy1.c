/* zy1: every vector of spec/secure-channel-vectors.json reproduced byte for
 * byte, full round trips through the server order of steps, and the ways an
 * envelope, a payload or a response can be wrong. */
#include "channel_test.h"

#include "channel/zy1.h"
#include "foundation/secmem.h"

#define TX_Q "CUSTOMER_QUERY"
#define TX_ACT "DEVICE_ACTIVATE"
#define DEV "5f2b8c1d9e0a4b3c7d6e5f4a3b2c1d0e"

static sm2_key *vector_key(void)
{
    uint8_t der[256];
    sm2_key *k = NULL;
    size_t n = vb64("sm2.private_key_sec1_der_b64", der, sizeof der);
    assert_int_equal(sm2_key_load_der(der, n, &k), SM_OK);
    return k;
}

static sm2_key *public_of(const sm2_key *k)
{
    uint8_t pub[SM2_PUB_LEN];
    sm2_key *p = NULL;
    assert_int_equal(sm2_key_export_pub(k, pub), SM_OK);
    assert_int_equal(sm2_key_from_pub(pub, &p), SM_OK);
    return p;
}

static void vector_keys(zy1_keys *k)
{
    vhex("keys.Kenc", k->kenc, sizeof k->kenc);
    vhex("keys.Kmac", k->kmac, sizeof k->kmac);
    vhex("keys.Renc", k->renc, sizeof k->renc);
    vhex("keys.Rmac", k->rmac, sizeof k->rmac);
}

/* Steps 2, 9, 10 and 12 in the server's order. On ZY1_OK the caller frees
 * p; nonce gets the request's nonce text for the answer. */
static zy1_status server_open(const sm2_key *key, const char *tx, const char *body, size_t len,
                              const uint8_t F[32], zy1_keys *k, zy1_payload *p, char *nonce)
{
    zy1_envelope env;
    memset(p, 0, sizeof *p);
    zy1_status st = zy1_envelope_parse(body, len, &env);
    if (st == ZY1_OK)
        st = zy1_envelope_check_tx(&env, tx);
    if (st == ZY1_OK)
        st = zy1_authenticate(key, tx, &env, F, k);
    if (st == ZY1_OK)
        st = zy1_decrypt_payload(&env, k, p);
    if (st == ZY1_OK && nonce)
        memcpy(nonce, env.nonce_b64.p, ZY1_NONCE_B64_LEN + 1);
    if (st != ZY1_OK)
        zy1_payload_free(p);
    zy1_envelope_free(&env);
    return st;
}

static zy1_status server_open_text(const sm2_key *key, const char *tx, const char *body,
                                   const uint8_t F[32])
{
    zy1_keys k;
    zy1_payload p;
    zy1_status st = server_open(key, tx, body, strlen(body), F, &k, &p, NULL);
    zy1_payload_free(&p);
    zy1_keys_wipe(&k);
    return st;
}

/* ---- vectors ------------------------------------------------------------ */

static void test_derive_vector(void **state)
{
    uint8_t S[32], DS[32];
    zy1_keys want, got;
    vhex("keys.S", S, 32);
    vhex("keys.DS", DS, 32);
    vector_keys(&want);
    assert_int_equal(zy1_derive(S, DS, &got), ZY1_OK);
    assert_memory_equal(got.kenc, want.kenc, 16);
    assert_memory_equal(got.kmac, want.kmac, 32);
    assert_memory_equal(got.renc, want.renc, 16);
    assert_memory_equal(got.rmac, want.rmac, 32);
}

static void test_activation_factor_vector(void **state)
{
    uint8_t S[32], F[32], want[32];
    zy1_keys k;
    vhex("keys.S", S, 32);
    vhex("activation.F", want, 32);
    assert_int_equal(zy1_activation_factor(vstr("activation.tlr"), vstr("activation.code"), F),
                     ZY1_OK);
    assert_memory_equal(F, want, 32);
    assert_int_equal(zy1_derive(S, F, &k), ZY1_OK);
    vhex("activation.Kmac", want, 32);
    assert_memory_equal(k.kmac, want, 32);
    assert_int_equal(zy1_activation_factor("bad.tlr", "K7QX-9PRM", F), ZY1_BAD_ARG);
    assert_int_equal(zy1_activation_factor("demo01", "", F), ZY1_BAD_ARG);
    assert_int_equal(zy1_activation_factor("demo01", "K7QX\n9PRM", F), ZY1_BAD_ARG);
    assert_int_equal(zy1_activation_factor(NULL, "x", F), ZY1_BAD_ARG);
}

static void test_request_vector(void **state)
{
    char *body = vbody("request.body"), *m = NULL;
    size_t mn = 0;
    uint8_t DS[32];
    zy1_envelope env;
    zy1_keys want, k;
    sm2_key *key = vector_key();
    vhex("keys.DS", DS, 32);
    vector_keys(&want);
    assert_int_equal(zy1_envelope_parse(body, strlen(body), &env), ZY1_OK);
    assert_int_equal(zy1_mac_input(TX_Q, &env, &m, &mn), ZY1_OK);
    assert_string_equal(m, vstr("request.mac_input"));
    assert_int_equal(mn, strlen(vstr("request.mac_input")));
    free(m);
    assert_int_equal(zy1_verify_mac(TX_Q, &env, &want), ZY1_OK);
    assert_int_equal(zy1_verify_mac("CUSTOMER_QUERZ", &env, &want), ZY1_BAD_MAC);
    assert_int_equal(zy1_authenticate(key, TX_Q, &env, DS, &k), ZY1_OK);
    assert_memory_equal(&k, &want, sizeof k);

    zy1_payload p;
    assert_int_equal(zy1_decrypt_payload(&env, &k, &p), ZY1_OK);
    assert_int_equal(p.sid.n, 6);
    assert_string_equal(p.sid.p, "s-0001");
    assert_string_equal(p.cseq.p, "c-0001");
    assert_string_equal(json_string_value(json_object_get(p.data, "customer")), "张三");
    assert_string_equal(json_string_value(json_object_get(p.data, "id_no")), "330102199001011234");
    zy1_payload_free(&p);

    /* The plaintext is the vector payload byte for byte. */
    uint8_t pt[256];
    size_t ptn = 0;
    assert_int_equal(sm4_cbc_decrypt(k.kenc, env.iv, env.ct, env.ct_len, pt, sizeof pt, &ptn),
                     SM_OK);
    assert_int_equal(ptn, strlen(vstr("request.payload")));
    assert_memory_equal(pt, vstr("request.payload"), ptn);
    zy1_envelope_free(&env);
    sm2_key_free(key);
    free(body);
}

/* The activation payload is not in the vectors; decrypt it with the vector
 * keys and then re-seal it, which must give the vector body exactly. */
static char *activation_payload(void)
{
    char *body = vbody("activation.body");
    zy1_envelope env;
    zy1_keys k;
    char *pt = calloc(1, 512);
    size_t n = 0;
    vector_keys(&k);
    assert_int_equal(zy1_envelope_parse(body, strlen(body), &env), ZY1_OK);
    assert_int_equal(sm4_cbc_decrypt(k.kenc, env.iv, env.ct, env.ct_len, (uint8_t *)pt, 511, &n),
                     SM_OK);
    zy1_envelope_free(&env);
    free(body);
    return pt;
}

static void test_activation_vector(void **state)
{
    char *body = vbody("activation.body"), *m = NULL;
    size_t mn = 0;
    uint8_t F[32];
    zy1_envelope env;
    zy1_keys k;
    zy1_payload p;
    sm2_key *key = vector_key();
    vhex("activation.F", F, 32);
    assert_int_equal(zy1_envelope_parse(body, strlen(body), &env), ZY1_OK);
    assert_int_equal(zy1_mac_input(TX_ACT, &env, &m, &mn), ZY1_OK);
    assert_string_equal(m, vstr("activation.mac_input"));
    free(m);
    assert_int_equal(zy1_authenticate(key, TX_ACT, &env, F, &k), ZY1_OK);
    vhex("activation.Kmac", F, 32);
    assert_memory_equal(k.kmac, F, 32);
    assert_int_equal(zy1_decrypt_payload(&env, &k, &p), ZY1_OK);
    assert_null(p.sid.p);
    assert_true(json_is_object(json_object_get(p.data, "device")));
    zy1_payload_free(&p);
    zy1_envelope_free(&env);
    sm2_key_free(key);
    free(body);
}

static void test_unwrap_three_forms(void **state)
{
    static const char *const forms[] = {"sm2.ek_c1c3c2_b64", "sm2.ek_no04_b64", "sm2.ek_der_b64"};
    uint8_t want[32], S[32], ek[256];
    sm2_key *key = vector_key();
    vhex("sm2.S", want, 32);
    for (int i = 0; i < 3; i++) {
        size_t n = vb64(forms[i], ek, sizeof ek);
        assert_int_equal(zy1_unwrap(key, ek, n, S), ZY1_OK);
        assert_memory_equal(S, want, 32);
        ek[n - 1] ^= 1;
        assert_int_equal(zy1_unwrap(key, ek, n, S), ZY1_BAD_MAC);
        assert_true(secmem_equal(S, (uint8_t[32]){0}, 32)); /* wiped on failure */
    }
    assert_int_equal(zy1_unwrap(key, ek, 0, S), ZY1_BAD_MAC);
    assert_int_equal(zy1_unwrap(key, ek, 100, S), ZY1_BAD_MAC);
    sm2_key_free(key);
}

static zy1_status seal_vector(const char *tx, const char *tlr, const uint8_t *F,
                              const char *payload, zy1_call *call, char **body)
{
    uint8_t S[32], nonce[16], iv[16], ek[200];
    size_t bl = 0;
    vhex("keys.S", S, 32);
    vb64("request.body.nonce", nonce, 16);
    vb64("request.body.iv", iv, 16);
    size_t ekn = vb64("request.body.ek", ek, sizeof ek);
    zy1_fixed fx = {.S = S, .nonce = nonce, .iv = iv, .ek = ek, .ek_len = ekn};
    zy1_request_params rp = {
        .tx = tx, .kid = "k1", .dev = DEV, .tlr = tlr, .F = F, .ts = 1764000000123};
    return zy1_seal_request_fixed(NULL, &rp, payload, strlen(payload), &fx, call, body, &bl);
}

static void test_seal_request_vector(void **state)
{
    uint8_t DS[32], F[32];
    char *body = NULL, *want = vbody("request.body");
    zy1_call call;
    zy1_keys k;
    vhex("keys.DS", DS, 32);
    vector_keys(&k);
    assert_int_equal(seal_vector(TX_Q, NULL, DS, vstr("request.payload"), &call, &body), ZY1_OK);
    assert_string_equal(body, want);
    assert_string_equal(call.tx, TX_Q);
    assert_string_equal(call.nonce_b64, vstr("request.body.nonce"));
    assert_memory_equal(&call.keys, &k, sizeof k);
    free(body);
    free(want);

    char *payload = activation_payload();
    want = vbody("activation.body");
    vhex("activation.F", F, 32);
    assert_int_equal(seal_vector(TX_ACT, "demo01", F, payload, &call, &body), ZY1_OK);
    assert_string_equal(body, want);
    free(body);
    free(want);
    free(payload);
    zy1_call_wipe(&call);
}

static void test_seal_response_vector(void **state)
{
    zy1_keys k;
    uint8_t iv[16];
    char *body = NULL, *want = vbody("response.body"), *m = NULL;
    size_t bl = 0, mn = 0;
    const char *pt = vstr("response.plaintext");
    vector_keys(&k);
    vb64("response.body.iv", iv, 16);
    assert_int_equal(zy1_seal_response(&k, TX_Q, vstr("response.request_nonce"), 1764000000456, pt,
                                       strlen(pt), iv, &body, &bl),
                     ZY1_OK);
    assert_string_equal(body, want);
    assert_int_equal(bl, strlen(want));
    zy1_response rsp;
    assert_int_equal(zy1_response_parse(body, bl, &rsp), ZY1_OK);
    assert_int_equal(zy1_response_mac_input(TX_Q, vstr("response.request_nonce"), &rsp, &m, &mn),
                     ZY1_OK);
    assert_string_equal(m, vstr("response.mac_input"));
    free(m);
    zy1_response_free(&rsp);
    free(body);
    free(want);
}

static void test_open_response_vector(void **state)
{
    zy1_call call = {.tx = TX_Q};
    char *body = vbody("response.body"), *pt = NULL;
    size_t ptn = 0;
    int64_t ts = 0;
    vector_keys(&call.keys);
    snprintf(call.nonce_b64, sizeof call.nonce_b64, "%s", vstr("response.request_nonce"));
    assert_int_equal(zy1_open_response(&call, body, strlen(body), &pt, &ptn, &ts), ZY1_OK);
    assert_string_equal(pt, vstr("response.plaintext"));
    assert_int_equal(ptn, strlen(pt));
    assert_int_equal(ts, 1764000000456);
    free(pt);
    /* Bound to the request: another nonce or another TX fails the MAC. */
    call.nonce_b64[0] = 'B';
    assert_int_equal(zy1_open_response(&call, body, strlen(body), &pt, &ptn, NULL), ZY1_BAD_MAC);
    call.nonce_b64[0] = 'A';
    snprintf(call.tx, sizeof call.tx, "LOGIN");
    assert_int_equal(zy1_open_response(&call, body, strlen(body), &pt, &ptn, NULL), ZY1_BAD_MAC);
    free(body);
}

/* ---- round trips -------------------------------------------------------- */

static void round_trip(const sm2_key *server, const char *tx, const char *tlr, const uint8_t *F,
                       const zy1_fixed *fx)
{
    static const char payload[] = "{\"cseq\":\"c-1\",\"data\":{\"n\":1}}";
    static const char answer[] = "{\"code\":\"OK\",\"message\":\"\",\"data\":{},\"srvseq\":\"1\"}";
    sm2_key *pub = public_of(server);
    zy1_request_params rp = {.tx = tx, .kid = "k1", .dev = DEV, .tlr = tlr, .F = F, .ts = 42};
    zy1_call call;
    zy1_keys k;
    zy1_payload p;
    char *body = NULL, *rbody = NULL, *pt = NULL, nonce[ZY1_NONCE_B64_LEN + 1];
    size_t bl = 0, rl = 0, ptn = 0;
    assert_int_equal(
        zy1_seal_request_fixed(pub, &rp, payload, strlen(payload), fx, &call, &body, &bl), ZY1_OK);
    assert_int_equal(bl, strlen(body));
    assert_int_equal(server_open(server, tx, body, bl, F, &k, &p, nonce), ZY1_OK);
    assert_string_equal(p.cseq.p, "c-1");
    assert_int_equal(json_integer_value(json_object_get(p.data, "n")), 1);
    assert_int_equal(
        zy1_seal_response(&k, tx, nonce, 43, answer, strlen(answer), NULL, &rbody, &rl), ZY1_OK);
    assert_int_equal(zy1_open_response(&call, rbody, rl, &pt, &ptn, NULL), ZY1_OK);
    assert_string_equal(pt, answer);
    free(pt);
    free(rbody);
    free(body);
    zy1_payload_free(&p);
    zy1_keys_wipe(&k);
    zy1_call_wipe(&call);
    sm2_key_free(pub);
}

static void test_round_trip_fresh_key(void **state)
{
    uint8_t DS[32], F[32];
    sm2_key *server = NULL;
    assert_int_equal(sm2_key_generate(&server), SM_OK);
    assert_int_equal(secmem_random(DS, sizeof DS), 0);
    for (int i = 0; i < 5; i++)
        round_trip(server, "LOGIN", NULL, DS, NULL);
    assert_int_equal(zy1_activation_factor("t_1", "ABCD-1234", F), ZY1_OK);
    round_trip(server, TX_ACT, "t_1", F, NULL);
    sm2_key_free(server);
}

/* The server takes each ek encoding, not only the one the C client sends. */
static void test_round_trip_ek_encodings(void **state)
{
    uint8_t DS[32] = {1}, S[32] = {2}, raw[200], der[220];
    size_t rn = 0, dn = 0;
    sm2_key *server = NULL, *pub;
    assert_int_equal(sm2_key_generate(&server), SM_OK);
    pub = public_of(server);
    assert_int_equal(sm2_encrypt(pub, S, 32, raw, sizeof raw, &rn), SM_OK);
    assert_int_equal(sm2_ct_to_der(raw, rn, 32, der, sizeof der, &dn), SM_OK);
    zy1_fixed as_raw = {.S = S, .ek = raw, .ek_len = rn};
    zy1_fixed as_no04 = {.S = S, .ek = raw + 1, .ek_len = rn - 1};
    zy1_fixed as_der = {.S = S, .ek = der, .ek_len = dn};
    round_trip(server, TX_Q, NULL, DS, &as_raw);
    round_trip(server, TX_Q, NULL, DS, &as_no04);
    round_trip(server, TX_Q, NULL, DS, &as_der);
    sm2_key_free(pub);
    sm2_key_free(server);
}

/* ---- tampering ---------------------------------------------------------- */

/* Flips one bit of one character of a string member of the vector body and
 * runs the server steps: the result must be bad_envelope or bad_mac. */
static void flip_string_member(const char *section, const char *tx, const char *member,
                               const uint8_t *F, const sm2_key *key)
{
    json_t *orig = vget(section);
    const char *val = json_string_value(json_object_get(orig, member));
    size_t n = strlen(val);
    for (size_t i = 0; i < n; i += (n > 40 ? 7 : 1)) {
        for (int bit = 0; bit < 7; bit++) {
            char *mut = strdup(val);
            mut[i] ^= (char)(1 << bit);
            json_t *body = json_deep_copy(orig);
            json_object_set_new(body, member, json_stringn(mut, n));
            char *text = json_dumps(body, JSON_COMPACT);
            zy1_status st = server_open_text(key, tx, text, F);
            if (st != ZY1_BAD_ENVELOPE && st != ZY1_BAD_MAC)
                fail_msg("%s[%zu]^%d gave %d", member, i, 1 << bit, st);
            free(text);
            json_decref(body);
            free(mut);
        }
    }
}

static void test_every_field_flip_fails(void **state)
{
    static const char *const members[] = {"kid", "dev", "nonce", "ek", "iv", "ct", "mac"};
    uint8_t DS[32], F[32];
    sm2_key *key = vector_key();
    vhex("keys.DS", DS, 32);
    vhex("activation.F", F, 32);
    char *body = vbody("request.body");
    assert_int_equal(server_open_text(key, TX_Q, body, DS), ZY1_OK);
    free(body);
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        flip_string_member("request.body", TX_Q, members[i], DS, key);
    flip_string_member("activation.body", TX_ACT, "tlr", F, key);
    flip_string_member("activation.body", TX_ACT, "ek", F, key);

    /* ts and v, the integer members. */
    static const json_int_t ts_deltas[] = {1, -1, 1000, 1 << 20};
    for (size_t i = 0; i < 4; i++) {
        json_t *b = json_deep_copy(vget("request.body"));
        json_object_set_new(b, "ts", json_integer(1764000000123 + ts_deltas[i]));
        char *text = json_dumps(b, JSON_COMPACT);
        assert_int_equal(server_open_text(key, TX_Q, text, DS), ZY1_BAD_MAC);
        free(text);
        json_decref(b);
    }
    json_t *b = json_deep_copy(vget("request.body"));
    json_object_set_new(b, "v", json_integer(3));
    char *text = json_dumps(b, JSON_COMPACT);
    assert_int_equal(server_open_text(key, TX_Q, text, DS), ZY1_BAD_ENVELOPE);
    free(text);
    json_decref(b);
    sm2_key_free(key);
}

static void test_wrong_context_fails(void **state)
{
    uint8_t DS[32], F[32];
    sm2_key *key = vector_key(), *other = NULL;
    char *body = vbody("request.body"), *act = vbody("activation.body");
    vhex("keys.DS", DS, 32);
    vhex("activation.F", F, 32);
    /* Wrong F (device secret), wrong TX in the path, wrong server key. */
    DS[31] ^= 1;
    assert_int_equal(server_open_text(key, TX_Q, body, DS), ZY1_BAD_MAC);
    DS[31] ^= 1;
    assert_int_equal(server_open_text(key, "CUSTOMER_LIST", body, DS), ZY1_BAD_MAC);
    assert_int_equal(sm2_key_generate(&other), SM_OK);
    assert_int_equal(server_open_text(other, TX_Q, body, DS), ZY1_BAD_MAC);
    /* Activation: a wrong code gives another F. */
    uint8_t F2[32];
    assert_int_equal(zy1_activation_factor("demo01", "K7QX-9PRN", F2), ZY1_OK);
    assert_int_equal(server_open_text(key, TX_ACT, act, F2), ZY1_BAD_MAC);
    assert_int_equal(zy1_activation_factor("demo02", "K7QX-9PRM", F2), ZY1_OK);
    assert_int_equal(server_open_text(key, TX_ACT, act, F2), ZY1_BAD_MAC);
    assert_int_equal(server_open_text(key, TX_ACT, act, F), ZY1_OK);
    /* The activation body is refused for another TX at step 2. */
    assert_int_equal(server_open_text(key, "LOGIN", act, F), ZY1_BAD_ENVELOPE);

    /* A failed authentication leaves no key material in the output. */
    zy1_envelope env;
    zy1_keys k;
    memset(&k, 0xaa, sizeof k);
    assert_int_equal(zy1_envelope_parse(body, strlen(body), &env), ZY1_OK);
    assert_int_equal(zy1_authenticate(key, "LOGIN", &env, DS, &k), ZY1_BAD_MAC);
    zy1_keys zero = {0};
    assert_memory_equal(&k, &zero, sizeof k);
    zy1_envelope_free(&env);
    sm2_key_free(other);
    sm2_key_free(key);
    free(act);
    free(body);
}

/* Replaces ct with new bytes and recomputes a valid MAC with Kmac, so that
 * the failure can only come from step 12. */
static char *remac_with_ct(const uint8_t *ct, size_t n)
{
    zy1_keys k;
    char ct_b64[1024], mac_b64[64], *m = NULL, *text;
    uint8_t mac[32];
    size_t mn = 0;
    vector_keys(&k);
    assert_true(b64_encode(ct, n, ct_b64, sizeof ct_b64) > 0);
    json_t *b = json_deep_copy(vget("request.body"));
    json_object_set_new(b, "ct", json_string(ct_b64));
    text = json_dumps(b, JSON_COMPACT);
    zy1_envelope env;
    assert_int_equal(zy1_envelope_parse(text, strlen(text), &env), ZY1_OK);
    assert_int_equal(zy1_mac_input(TX_Q, &env, &m, &mn), ZY1_OK);
    sm_part part = {m, mn};
    assert_int_equal(sm_hmac(k.kmac, 32, &part, 1, mac), SM_OK);
    b64_encode(mac, 32, mac_b64, sizeof mac_b64);
    json_object_set_new(b, "mac", json_string(mac_b64));
    free(text);
    text = json_dumps(b, JSON_COMPACT);
    free(m);
    zy1_envelope_free(&env);
    json_decref(b);
    return text;
}

static void test_bad_padding_is_bad_payload(void **state)
{
    uint8_t DS[32], ct[256], pt[256];
    size_t n = vb64("request.body.ct", ct, sizeof ct), ptn = 0;
    zy1_keys k;
    sm2_key *key = vector_key();
    vhex("keys.DS", DS, 32);
    vector_keys(&k);
    uint8_t iv[16];
    vb64("request.body.iv", iv, 16);
    assert_int_equal(sm4_cbc_decrypt(k.kenc, iv, ct, n, pt, sizeof pt, &ptn), SM_OK);
    uint8_t pad = (uint8_t)(n - ptn);
    ct[n - 17] ^= pad; /* last plaintext byte becomes 0: never a valid pad */
    char *text = remac_with_ct(ct, n);
    assert_int_equal(server_open_text(key, TX_Q, text, DS), ZY1_BAD_PAYLOAD);
    free(text);
    /* Dropping the last block leaves JSON text that is cut short. */
    text = remac_with_ct(ct, n - 16);
    assert_int_equal(server_open_text(key, TX_Q, text, DS), ZY1_BAD_PAYLOAD);
    free(text);
    sm2_key_free(key);
}

static zy1_status payload_status(const sm2_key *server, const sm2_key *pub, const char *payload,
                                 size_t n)
{
    uint8_t DS[32] = {5};
    zy1_request_params rp = {.tx = TX_Q, .kid = "k1", .dev = DEV, .F = DS, .ts = 1};
    zy1_call call;
    zy1_keys k;
    zy1_payload p;
    char *body = NULL;
    size_t bl = 0;
    assert_int_equal(zy1_seal_request(pub, &rp, payload, n, &call, &body, &bl), ZY1_OK);
    zy1_status st = server_open(server, TX_Q, body, bl, DS, &k, &p, NULL);
    zy1_payload_free(&p);
    free(body);
    return st;
}

static void test_payload_strictness(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "null",
        "{\"data\":[]}",
        "{\"data\":null}",
        "{\"data\":{},\"x\":1}",
        "{\"data\":{},\"data\":{}}",
        "{\"sid\":1,\"data\":{}}",
        "{\"sid\":\"\",\"data\":{}}",
        "{\"sid\":\"a b\",\"data\":{}}",
        "{\"sid\":null,\"data\":{}}",
        "{\"cseq\":\"c 1\",\"data\":{}}",
        "{\"cseq\":\"c.1\",\"data\":{}}",
        "{\"cseq\":\"\",\"data\":{}}",
        ("{\"cseq\":\"0123456789012345678901234567890123456789012345678901234567890123X\","
         "\"data\":{}}"),
        "{\"data\":{}} trailing",
        "{\"data\":{\"s\":\"\xff\"}}",
    };
    static const char *const good[] = {
        "{\"data\":{}}",
        "{\"sid\":\"tok-1.2_3~+/=\",\"data\":{}}",
        ("{\"cseq\":\"0123456789012345678901234567890123456789012345678901234567890123\","
         "\"data\":{}}"),
        " {\"data\" : {\"a\":[1,2,{\"b\":null}]}, \"cseq\":\"A_b-9\", \"sid\":\"s\"} ",
    };
    sm2_key *server = NULL, *pub;
    assert_int_equal(sm2_key_generate(&server), SM_OK);
    pub = public_of(server);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (payload_status(server, pub, bad[i], strlen(bad[i])) != ZY1_BAD_PAYLOAD)
            fail_msg("payload %zu accepted: %s", i, bad[i]);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (payload_status(server, pub, good[i], strlen(good[i])) != ZY1_OK)
            fail_msg("payload %zu refused: %s", i, good[i]);
    /* A NUL inside the plaintext is not JSON. */
    assert_int_equal(payload_status(server, pub, "{\"data\":{}}\0", 12), ZY1_BAD_PAYLOAD);
    sm2_key_free(pub);
    sm2_key_free(server);
}

static void test_response_tampering(void **state)
{
    static const char *const members[] = {"iv", "ct", "mac"};
    zy1_call call = {.tx = TX_Q};
    vector_keys(&call.keys);
    snprintf(call.nonce_b64, sizeof call.nonce_b64, "%s", vstr("response.request_nonce"));
    for (size_t m = 0; m < 3; m++) {
        const char *val = vstr(m == 0   ? "response.body.iv"
                               : m == 1 ? "response.body.ct"
                                        : "response.body.mac");
        for (size_t i = 0; i < strlen(val); i += 3) {
            json_t *b = json_deep_copy(vget("response.body"));
            char *mut = strdup(val);
            mut[i] ^= 2;
            json_object_set_new(b, members[m], json_string(mut));
            char *text = json_dumps(b, JSON_COMPACT), *pt = NULL;
            size_t ptn = 0;
            zy1_status st = zy1_open_response(&call, text, strlen(text), &pt, &ptn, NULL);
            assert_true(st == ZY1_BAD_ENVELOPE || st == ZY1_BAD_MAC);
            assert_null(pt);
            free(text);
            free(mut);
            json_decref(b);
        }
    }
    json_t *b = json_deep_copy(vget("response.body"));
    json_object_set_new(b, "ts", json_integer(1764000000457));
    char *text = json_dumps(b, JSON_COMPACT), *pt = NULL;
    size_t ptn = 0;
    assert_int_equal(zy1_open_response(&call, text, strlen(text), &pt, &ptn, NULL), ZY1_BAD_MAC);
    free(text);
    json_decref(b);
    const char *err = "{\"error\":{\"code\":\"bad_mac\",\"message\":\"\"}}";
    assert_int_equal(zy1_open_response(&call, err, strlen(err), &pt, &ptn, NULL), ZY1_BAD_ENVELOPE);
}

/* A response whose MAC is right but whose padding is not: bad_payload. */
static void test_response_bad_padding(void **state)
{
    zy1_call call = {.tx = TX_Q};
    uint8_t iv[16] = {0}, ct[32] = {0}, pt[32] = {0}, mac[32];
    size_t ctn = 0, ptn = 0;
    vector_keys(&call.keys);
    snprintf(call.nonce_b64, sizeof call.nonce_b64, "%s", vstr("response.request_nonce"));
    assert_int_equal(sm4_cbc_encrypt(call.keys.renc, iv, pt, 15, ct, sizeof ct, &ctn), SM_OK);
    char ct_b64[64], iv_b64[32], mac_b64[64], m[256], body[512];
    b64_encode(ct, 16, ct_b64, sizeof ct_b64);
    iv[15] ^= 1; /* through CBC the pad byte 01 becomes 00 */
    b64_encode(iv, 16, iv_b64, sizeof iv_b64);
    snprintf(m, sizeof m, "ZY1R\n%s\n%s\n7\n%s\n%s", TX_Q, call.nonce_b64, iv_b64, ct_b64);
    sm_part part = {m, strlen(m)};
    assert_int_equal(sm_hmac(call.keys.rmac, 32, &part, 1, mac), SM_OK);
    b64_encode(mac, 32, mac_b64, sizeof mac_b64);
    snprintf(body, sizeof body, "{\"v\":1,\"ts\":7,\"iv\":\"%s\",\"ct\":\"%s\",\"mac\":\"%s\"}",
             iv_b64, ct_b64, mac_b64);
    char *out = NULL;
    assert_int_equal(zy1_open_response(&call, body, strlen(body), &out, &ptn, NULL),
                     ZY1_BAD_PAYLOAD);
    assert_null(out);
}

static void test_seal_bad_arguments(void **state)
{
    uint8_t F[32] = {0};
    zy1_call call;
    char *body = NULL;
    size_t bl = 0;
    sm2_key *server = NULL, *pub;
    assert_int_equal(sm2_key_generate(&server), SM_OK);
    pub = public_of(server);
    zy1_request_params ok = {.tx = TX_Q, .kid = "k1", .dev = DEV, .F = F, .ts = 1};
    zy1_request_params rp = ok;
    assert_int_equal(zy1_seal_request(pub, &rp, "{}", 2, &call, &body, &bl), ZY1_OK);
    free(body);
    rp.tlr = "demo01"; /* tlr outside activation */
    assert_int_equal(zy1_seal_request(pub, &rp, "{}", 2, &call, &body, &bl), ZY1_BAD_ARG);
    rp = ok, rp.tx = TX_ACT; /* activation without tlr */
    assert_int_equal(zy1_seal_request(pub, &rp, "{}", 2, &call, &body, &bl), ZY1_BAD_ARG);
    rp = ok, rp.kid = "k 1";
    assert_int_equal(zy1_seal_request(pub, &rp, "{}", 2, &call, &body, &bl), ZY1_BAD_ARG);
    rp = ok, rp.dev = "ABC";
    assert_int_equal(zy1_seal_request(pub, &rp, "{}", 2, &call, &body, &bl), ZY1_BAD_ARG);
    rp = ok, rp.tx = "bad";
    assert_int_equal(zy1_seal_request(pub, &rp, "{}", 2, &call, &body, &bl), ZY1_BAD_ARG);
    rp = ok, rp.ts = 0;
    assert_int_equal(zy1_seal_request(pub, &rp, "{}", 2, &call, &body, &bl), ZY1_BAD_ARG);
    rp = ok;
    assert_int_equal(zy1_seal_request(NULL, &rp, "{}", 2, &call, &body, &bl), ZY1_BAD_ARG);
    zy1_keys k = {0};
    assert_int_equal(zy1_seal_response(&k, TX_Q, "short", 1, "{}", 2, NULL, &body, &bl),
                     ZY1_BAD_ARG);
    assert_string_equal(zy1_status_code(ZY1_BAD_MAC), "bad_mac");
    assert_string_equal(zy1_status_code(ZY1_BAD_ENVELOPE), "bad_envelope");
    assert_string_equal(zy1_status_code(ZY1_BAD_PAYLOAD), "bad_payload");
    sm2_key_free(pub);
    sm2_key_free(server);
}

static int teardown(void **state)
{
    ct_vectors_free();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_derive_vector),
        cmocka_unit_test(test_activation_factor_vector),
        cmocka_unit_test(test_request_vector),
        cmocka_unit_test(test_activation_vector),
        cmocka_unit_test(test_unwrap_three_forms),
        cmocka_unit_test(test_seal_request_vector),
        cmocka_unit_test(test_seal_response_vector),
        cmocka_unit_test(test_open_response_vector),
        cmocka_unit_test(test_round_trip_fresh_key),
        cmocka_unit_test(test_round_trip_ek_encodings),
        cmocka_unit_test(test_every_field_flip_fails),
        cmocka_unit_test(test_wrong_context_fails),
        cmocka_unit_test(test_bad_padding_is_bad_payload),
        cmocka_unit_test(test_payload_strictness),
        cmocka_unit_test(test_response_tampering),
        cmocka_unit_test(test_response_bad_padding),
        cmocka_unit_test(test_seal_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
