/* zyc: device ids, the device state file, and seal/open through the client
 * library against the server steps. */
#include "channel_test.h"

#include "channel/sm.h"
#include "foundation/secmem.h"
#include "identity/ticket.h"
#include "zyc.h"

#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/zy-zyc-XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ct_vectors_free();
    return system(cmd) == 0 ? 0 : -1;
}

static void test_device_id(void **state)
{
    char a[33], b[33];
    assert_int_equal(zyc_device_id_new(a), ZYC_OK);
    assert_int_equal(zyc_device_id_new(b), ZYC_OK);
    assert_int_equal(strlen(a), 32);
    assert_true(zy1_dev_valid(a, 32));
    assert_string_not_equal(a, b);
}

static void new_state(zyc_state *st)
{
    assert_int_equal(zyc_state_init(st, "https://zhanye.example:8443/api", "k1",
                                    vstr("sm2.public_key_b64"), "demo01"),
                     ZYC_OK);
}

static void test_state_round_trip(void **state)
{
    char path[128];
    zyc_state st, back;
    struct stat sb;
    path_of(path, sizeof path, "dev.json");
    new_state(&st);
    assert_true(zy1_dev_valid(st.dev, strlen(st.dev)));
    assert_false(st.has_ds);
    assert_int_equal(zyc_state_save(&st, path), ZYC_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(zyc_state_load(path, &back), ZYC_OK);
    assert_memory_equal(&back, &st, sizeof st);
    /* With a device secret, overwriting the earlier file. */
    assert_int_equal(
        zyc_state_set_device_secret(&st, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), ZYC_OK);
    assert_true(st.has_ds);
    assert_int_equal(st.ds[31], 31);
    assert_int_equal(zyc_state_save(&st, path), ZYC_OK);
    assert_int_equal(zyc_state_load(path, &back), ZYC_OK);
    assert_memory_equal(&back, &st, sizeof st);
    assert_int_equal(zyc_state_set_device_secret(&st, "AAEC"), ZYC_BAD_ARG);
    zyc_state_wipe(&back);
    zyc_state_wipe(&st);
}

static void test_state_refuses_bad_init(void **state)
{
    zyc_state st;
    const char *pub = vstr("sm2.public_key_b64");
    assert_int_equal(zyc_state_init(&st, "", "k1", pub, NULL), ZYC_BAD_ARG);
    assert_int_equal(zyc_state_init(&st, "http://a b", "k1", pub, NULL), ZYC_BAD_ARG);
    assert_int_equal(zyc_state_init(&st, "http://a\"b", "k1", pub, NULL), ZYC_BAD_ARG);
    assert_int_equal(zyc_state_init(&st, "http://a", "k 1", pub, NULL), ZYC_BAD_ARG);
    assert_int_equal(zyc_state_init(&st, "http://a", "k1", "AAAA", NULL), ZYC_BAD_ARG);
    assert_int_equal(zyc_state_init(&st, "http://a", "k1", pub, "bad.tlr"), ZYC_BAD_ARG);
    /* A point off the curve. */
    uint8_t p[65];
    char b64[100];
    vhex("sm2.public_key_04xy", p, sizeof p);
    p[64] ^= 1;
    b64_encode(p, sizeof p, b64, sizeof b64);
    assert_int_equal(zyc_state_init(&st, "http://a", "k1", b64, NULL), ZYC_BAD_ARG);
    assert_int_equal(zyc_state_init(&st, "http://a", "k1", pub, NULL), ZYC_OK);
    assert_string_equal(st.tlr, "");
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_state_load_refusals(void **state)
{
    char path[128], good[1024];
    zyc_state st;
    path_of(path, sizeof path, "s.json");
    new_state(&st);
    assert_int_equal(zyc_state_save(&st, path), ZYC_OK);
    FILE *f = fopen(path, "r");
    size_t n = fread(good, 1, sizeof good - 1, f);
    fclose(f);
    good[n] = '\0';

    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(zyc_state_load(path, &st), ZYC_INSECURE);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(zyc_state_load(path, &st), ZYC_OK);
    assert_int_equal(zyc_state_load("/nonexistent/zyc.json", &st), ZYC_IO);

    static const char *const bad[] = {
        "",
        "{}",
        "[]",
        "{\"format\":\"zhanye-device-1\"}",
        "{\"format\":\"zhanye-device-2\",\"url\":\"u\",\"kid\":\"k\",\"pub\":\"p\",\"dev\":\"d\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(path, bad[i], 0600);
        assert_int_equal(zyc_state_load(path, &st), ZYC_BAD_FILE);
    }
    /* Every strict prefix, a duplicate, an unknown member, an escape. */
    for (size_t i = 0; i + 1 < n; i++) {
        char cut[1024];
        memcpy(cut, good, i);
        cut[i] = '\0';
        write_file(path, cut, 0600);
        if (zyc_state_load(path, &st) != ZYC_BAD_FILE)
            fail_msg("prefix of %zu bytes accepted", i);
    }
    char mod[1200];
    snprintf(mod, sizeof mod, "{\"kid\":\"k2\",%s", good + 1);
    write_file(path, mod, 0600);
    assert_int_equal(zyc_state_load(path, &st), ZYC_BAD_FILE);
    snprintf(mod, sizeof mod, "{\"x\":\"1\",%s", good + 1);
    write_file(path, mod, 0600);
    assert_int_equal(zyc_state_load(path, &st), ZYC_BAD_FILE);
    snprintf(mod, sizeof mod, "%s", good);
    char *dev = strstr(mod, "\"dev\": \"") + 8;
    dev[0] = dev[0] == 'a' ? 'b' : 'a';
    write_file(path, mod, 0600);
    assert_int_equal(zyc_state_load(path, &st), ZYC_OK);
    dev[0] = 'G';
    write_file(path, mod, 0600);
    assert_int_equal(zyc_state_load(path, &st), ZYC_BAD_FILE);
    dev[0] = '\\';
    write_file(path, mod, 0600);
    assert_int_equal(zyc_state_load(path, &st), ZYC_BAD_FILE);
}

/* The server half, as the server runs it, with the vector key. */
static zy1_status server_handle(const char *tx, const char *body, const uint8_t F[32],
                                const char *answer, char **rbody, size_t *rlen)
{
    uint8_t der[256];
    sm2_key *key = NULL;
    size_t n = vb64("sm2.private_key_sec1_der_b64", der, sizeof der);
    assert_int_equal(sm2_key_load_der(der, n, &key), SM_OK);
    zy1_envelope env;
    zy1_keys k;
    zy1_payload p = {0};
    zy1_status st = zy1_envelope_parse(body, strlen(body), &env);
    if (st == ZY1_OK)
        st = zy1_envelope_check_tx(&env, tx);
    if (st == ZY1_OK)
        st = zy1_authenticate(key, tx, &env, F, &k);
    if (st == ZY1_OK)
        st = zy1_decrypt_payload(&env, &k, &p);
    if (st == ZY1_OK)
        st = zy1_seal_response(&k, tx, env.nonce_b64.p, 99, answer, strlen(answer), NULL, rbody,
                               rlen);
    zy1_keys_wipe(&k);
    zy1_payload_free(&p);
    zy1_envelope_free(&env);
    sm2_key_free(key);
    return st;
}

static void test_activate_then_call(void **state)
{
    zyc_state st;
    zy1_call call;
    char *body = NULL, *rbody = NULL, *pt = NULL;
    size_t bl = 0, rl = 0, ptn = 0;
    uint8_t F[32];
    new_state(&st);
    const char *act = "{\"data\":{\"device\":{\"model\":\"m\",\"os\":\"o\",\"app\":\"a\"}}}";
    /* Without a code, activation cannot be sealed; without DS, nothing else. */
    assert_int_equal(zyc_seal(&st, "DEVICE_ACTIVATE", NULL, act, strlen(act), 1, &call, &body, &bl),
                     ZY1_BAD_ARG);
    assert_int_equal(zyc_seal(&st, "LOGIN", NULL, "{}", 2, 1, &call, &body, &bl), ZY1_BAD_ARG);

    assert_int_equal(
        zyc_seal(&st, "DEVICE_ACTIVATE", "K7QX-9PRM", act, strlen(act), 5, &call, &body, &bl),
        ZY1_OK);
    assert_non_null(strstr(body, "\"tlr\":\"demo01\""));
    assert_int_equal(zy1_activation_factor("demo01", "K7QX-9PRM", F), ZY1_OK);
    const char *answer = "{\"code\":\"OK\",\"message\":\"\",\"data\":{\"device_secret\":"
                         "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"},\"srvseq\":\"1\"}";
    assert_int_equal(server_handle("DEVICE_ACTIVATE", body, F, answer, &rbody, &rl), ZY1_OK);
    assert_int_equal(zyc_open(&call, rbody, rl, &pt, &ptn, NULL), ZY1_OK);
    assert_string_equal(pt, answer);
    json_t *j = json_loads(pt, 0, NULL);
    const char *ds =
        json_string_value(json_object_get(json_object_get(j, "data"), "device_secret"));
    assert_int_equal(zyc_state_set_device_secret(&st, ds), ZYC_OK);
    json_decref(j);
    free(pt), free(rbody), free(body);
    zy1_call_wipe(&call);

    /* A wrong code is refused by the server as bad_mac. */
    assert_int_equal(
        zyc_seal(&st, "DEVICE_ACTIVATE", "K7QX-9PRN", act, strlen(act), 5, &call, &body, &bl),
        ZY1_OK);
    assert_int_equal(server_handle("DEVICE_ACTIVATE", body, F, answer, &rbody, &rl), ZY1_BAD_MAC);
    free(body);

    /* A business call keyed by DS, without tlr. */
    const char *login = "{\"data\":{\"teller\":\"demo01\",\"password\":\"x\"}}";
    assert_int_equal(zyc_seal(&st, "LOGIN", NULL, login, strlen(login), 6, &call, &body, &bl),
                     ZY1_OK);
    assert_null(strstr(body, "\"tlr\""));
    assert_int_equal(server_handle("LOGIN", body, st.ds, "{\"code\":\"OK\"}", &rbody, &rl), ZY1_OK);
    assert_int_equal(zyc_open(&call, rbody, rl, &pt, &ptn, NULL), ZY1_OK);
    assert_string_equal(pt, "{\"code\":\"OK\"}");
    free(pt), free(rbody), free(body);
    zy1_call_wipe(&call);
    zyc_state_wipe(&st);
}

/* Amendment 5: the code as typed, canonicalised to the server's format. */
static void test_activation_code(void **state)
{
    static const struct {
        const char *typed, *canonical; /* canonical NULL: refused */
    } cases[] = {
        {.typed = "K7QX-9PRM", .canonical = "K7QX-9PRM"},
        {.typed = "k7qx-9prm", .canonical = "K7QX-9PRM"},
        {.typed = "k7qx 9prm", .canonical = "K7QX-9PRM"},
        {.typed = "K7QX9PRM", .canonical = "K7QX-9PRM"},
        {.typed = " k7-qx 9p-rm ", .canonical = "K7QX-9PRM"},
        {.typed = "--k7qx--9prm--", .canonical = "K7QX-9PRM"},
        {.typed = "abcd efgh", .canonical = "ABCD-EFGH"},
        {.typed = "K7QX-9PR", .canonical = NULL},   /* 7 characters */
        {.typed = "K7QX-9PRM2", .canonical = NULL}, /* 9 */
        {.typed = "K7QX-9PRM-K7QX", .canonical = NULL},
        {.typed = "K7QX-0PRM", .canonical = NULL}, /* 0 is not in the alphabet */
        {.typed = "K7QX-1PRM", .canonical = NULL}, /* nor 1, I, L, O */
        {.typed = "KIQX-9PRM", .canonical = NULL},
        {.typed = "K7QX_9PRM", .canonical = NULL}, /* only spaces and dashes go */
        {.typed = "K7QX\t9PRM", .canonical = NULL},
        {.typed = "K7QX\xef\xbc\x8d"
                  "9PRM",
         .canonical = NULL}, /* a full-width dash */
        {.typed = "", .canonical = NULL},
        {.typed = " - ", .canonical = NULL},
    };
    char out[ZYC_ACT_CODE_LEN + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zyc_status rc = zyc_activation_code(cases[i].typed, out);
        if (cases[i].canonical) {
            if (rc != ZYC_OK || strcmp(out, cases[i].canonical) != 0)
                fail_msg("\"%s\": %d \"%s\", want \"%s\"", cases[i].typed, rc, out,
                         cases[i].canonical);
        } else if (rc != ZYC_BAD_ARG || out[0]) {
            fail_msg("\"%s\": %d \"%s\", want a refusal", cases[i].typed, rc, out);
        }
    }
    assert_int_equal(zyc_activation_code(NULL, out), ZYC_BAD_ARG);
    /* The server's format (identity/ticket.h). */
    assert_int_equal(ZYC_ACT_CODE_LEN, ACT_CODE_LEN);
    assert_int_equal(strlen("K7QX-9PRM"), ACT_CODE_LEN);
}

/* Every spelling of the code seals with the same F, the one of the code as
 * the server printed it; a code that does not canonicalise seals nothing. */
static void test_activation_code_gives_one_F(void **state)
{
    static const char *const same[] = {"K7QX-9PRM", "k7qx 9prm", "k7qx-9prm", "K7 QX 9P RM",
                                       "k7qx9prm"};
    const char *act = "{\"data\":{\"device\":{\"model\":\"m\",\"os\":\"o\",\"app\":\"a\"}}}";
    const char *answer = "{\"code\":\"OK\"}";
    zyc_state st;
    zy1_call call;
    char *body = NULL, *rbody = NULL;
    size_t bl = 0, rl = 0;
    uint8_t F[32];
    new_state(&st);
    assert_int_equal(zy1_activation_factor("demo01", "K7QX-9PRM", F), ZY1_OK);
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        assert_int_equal(
            zyc_seal(&st, "DEVICE_ACTIVATE", same[i], act, strlen(act), 5, &call, &body, &bl),
            ZY1_OK);
        if (server_handle("DEVICE_ACTIVATE", body, F, answer, &rbody, &rl) != ZY1_OK)
            fail_msg("\"%s\" was not sealed with the F of K7QX-9PRM", same[i]);
        free(rbody), free(body);
        zy1_call_wipe(&call);
    }
    body = NULL;
    assert_int_equal(
        zyc_seal(&st, "DEVICE_ACTIVATE", "K7QX-9PR", act, strlen(act), 5, &call, &body, &bl),
        ZY1_BAD_ARG);
    assert_null(body);
    assert_int_equal(
        zyc_seal(&st, "DEVICE_ACTIVATE", "K7QX-0PRM", act, strlen(act), 5, &call, &body, &bl),
        ZY1_BAD_ARG);
    assert_null(body);
    zyc_state_wipe(&st);
}

/* Amendment 6: a response whose MAC is right but whose SM4 padding is not
 * is refused by the client (bad_payload), and no plaintext comes out. */
static void test_response_bad_padding_refused(void **state)
{
    zyc_state st;
    zy1_call call;
    char *body = NULL, *out = NULL;
    size_t bl = 0, outn = 0, ctn = 0;
    uint8_t iv[16] = {0}, ct[32], mac[32];
    const uint8_t pt[15] = {'{', '}'};
    char ct_b64[64], iv_b64[32], mac_b64[64], m[256], resp[512];
    new_state(&st);
    assert_int_equal(
        zyc_state_set_device_secret(&st, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), ZYC_OK);
    assert_int_equal(zyc_seal(&st, "LOGIN", NULL, "{}", 2, 6, &call, &body, &bl), ZY1_OK);
    free(body);
    /* 15 bytes pad with one 01; flipping the iv's last bit makes it 00. */
    assert_int_equal(sm4_cbc_encrypt(call.keys.renc, iv, pt, sizeof pt, ct, sizeof ct, &ctn),
                     SM_OK);
    assert_int_equal(ctn, 16);
    iv[15] ^= 1;
    b64_encode(ct, ctn, ct_b64, sizeof ct_b64);
    b64_encode(iv, sizeof iv, iv_b64, sizeof iv_b64);
    snprintf(m, sizeof m, "ZY1R\nLOGIN\n%s\n7\n%s\n%s", call.nonce_b64, iv_b64, ct_b64);
    sm_part part = {m, strlen(m)};
    assert_int_equal(sm_hmac(call.keys.rmac, 32, &part, 1, mac), SM_OK);
    b64_encode(mac, sizeof mac, mac_b64, sizeof mac_b64);
    snprintf(resp, sizeof resp, "{\"v\":1,\"ts\":7,\"iv\":\"%s\",\"ct\":\"%s\",\"mac\":\"%s\"}",
             iv_b64, ct_b64, mac_b64);
    assert_int_equal(zyc_open(&call, resp, strlen(resp), &out, &outn, NULL), ZY1_BAD_PAYLOAD);
    assert_null(out);
    /* The same response with its padding intact opens: the MAC was right. */
    iv[15] ^= 1;
    b64_encode(iv, sizeof iv, iv_b64, sizeof iv_b64);
    snprintf(m, sizeof m, "ZY1R\nLOGIN\n%s\n7\n%s\n%s", call.nonce_b64, iv_b64, ct_b64);
    part.n = strlen(m);
    assert_int_equal(sm_hmac(call.keys.rmac, 32, &part, 1, mac), SM_OK);
    b64_encode(mac, sizeof mac, mac_b64, sizeof mac_b64);
    snprintf(resp, sizeof resp, "{\"v\":1,\"ts\":7,\"iv\":\"%s\",\"ct\":\"%s\",\"mac\":\"%s\"}",
             iv_b64, ct_b64, mac_b64);
    assert_int_equal(zyc_open(&call, resp, strlen(resp), &out, &outn, NULL), ZY1_OK);
    assert_int_equal(outn, sizeof pt);
    free(out);
    zy1_call_wipe(&call);
    zyc_state_wipe(&st);
}

/* Amendment 6: S, iv, nonce and the SM2 ephemeral key are drawn afresh for
 * every request: two seals of the same call share none of them. */
static void test_seal_draws_fresh_secrets(void **state)
{
    zyc_state st;
    zy1_call a, b;
    char *ba = NULL, *bb = NULL;
    size_t la = 0, lb = 0;
    new_state(&st);
    assert_int_equal(
        zyc_state_set_device_secret(&st, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="), ZYC_OK);
    assert_int_equal(zyc_seal(&st, "LOGIN", NULL, "{}", 2, 6, &a, &ba, &la), ZY1_OK);
    assert_int_equal(zyc_seal(&st, "LOGIN", NULL, "{}", 2, 6, &b, &bb, &lb), ZY1_OK);
    json_t *ja = json_loads(ba, 0, NULL), *jb = json_loads(bb, 0, NULL);
    assert_non_null(ja);
    assert_non_null(jb);
    static const char *const drawn[] = {"nonce", "iv", "ek", "ct"};
    for (size_t i = 0; i < sizeof drawn / sizeof drawn[0]; i++) {
        const char *va = json_string_value(json_object_get(ja, drawn[i]));
        const char *vb = json_string_value(json_object_get(jb, drawn[i]));
        assert_non_null(va);
        assert_non_null(vb);
        assert_string_not_equal(va, vb);
    }
    /* S differs, hence every derived key. */
    assert_memory_not_equal(&a.keys, &b.keys, sizeof a.keys);
    /* The SM2 ephemeral points (C1 = 04 || x || y, ek's first 65 bytes) differ. */
    uint8_t ea[256], eb[256];
    const char *sa = json_string_value(json_object_get(ja, "ek"));
    const char *sb = json_string_value(json_object_get(jb, "ek"));
    assert_true(b64_decode(sa, strlen(sa), ea, sizeof ea) > 65);
    assert_true(b64_decode(sb, strlen(sb), eb, sizeof eb) > 65);
    assert_int_equal(sm2_ct_classify(ea, 65 + 32 + 32, 32), SM2_CT_RAW65);
    assert_memory_not_equal(ea + 1, eb + 1, 64);
    json_decref(ja), json_decref(jb);
    free(ba), free(bb);
    zy1_call_wipe(&a), zy1_call_wipe(&b);
    zyc_state_wipe(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_id),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_state_refuses_bad_init),
        cmocka_unit_test(test_state_load_refusals),
        cmocka_unit_test(test_activate_then_call),
        cmocka_unit_test(test_activation_code),
        cmocka_unit_test(test_activation_code_gives_one_F),
        cmocka_unit_test(test_response_bad_padding_refused),
        cmocka_unit_test(test_seal_draws_fresh_secrets),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
