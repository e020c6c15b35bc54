/* zyc: device ids, the device state file, and seal/open through the client
 * library against the server steps. */
#include "channel_test.h"

#include "foundation/secmem.h"
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
        zyc_seal(&st, "DEVICE_ACTIVATE", "K7QX-0000", act, strlen(act), 5, &call, &body, &bl),
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_id),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_state_refuses_bad_init),
        cmocka_unit_test(test_state_load_refusals),
        cmocka_unit_test(test_activate_then_call),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
