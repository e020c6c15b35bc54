/* envelope: check step 2 on the vector bodies and on every way a body can be
 * malformed; the response parser; identifier syntax. */
#include "channel_test.h"

#include "channel/envelope.h"

/* zy1_envelope_parse of len bytes, which must agree with jansson's reading
 * (the common-form reader's contract, channel/envelope.h). */
static zy1_status parse_n(const char *body, size_t len)
{
    zy1_envelope env, ref;
    zy1_status st = zy1_envelope_parse(body, len, &env);
    assert_int_equal(zy1_envelope_parse_jansson(body, len, &ref), st);
    if (st == ZY1_OK) {
        assert_int_equal(env.ts, ref.ts);
        assert_string_equal(env.kid.p, ref.kid.p);
        assert_string_equal(env.ek_b64.p, ref.ek_b64.p);
        assert_string_equal(env.ct_b64.p, ref.ct_b64.p);
        assert_int_equal(env.ct_len, ref.ct_len);
        assert_memory_equal(env.ct, ref.ct, env.ct_len);
        assert_memory_equal(env.mac, ref.mac, sizeof env.mac);
        assert_int_equal(env.tlr.p == NULL, ref.tlr.p == NULL);
    }
    zy1_envelope_free(&env);
    zy1_envelope_free(&ref);
    return st;
}

static zy1_status parse_text(const char *body)
{
    return parse_n(body, strlen(body));
}

/* The request vector with one member replaced (value NULL: removed). */
static zy1_status parse_with(const char *section, const char *key, json_t *value)
{
    json_t *body = json_deep_copy(vget(section));
    if (value)
        json_object_set_new(body, key, value);
    else
        json_object_del(body, key);
    char *text = json_dumps(body, JSON_COMPACT);
    zy1_status st = parse_text(text);
    free(text);
    json_decref(body);
    return st;
}

static zy1_status req_with(const char *key, json_t *value)
{
    return parse_with("request.body", key, value);
}

static zy1_status req_with_b64(const char *key, const uint8_t *bytes, size_t n)
{
    char text[512];
    assert_true(b64_encode(bytes, n, text, sizeof text) >= 0);
    return req_with(key, json_string(text));
}

static void test_vector_request(void **state)
{
    char *text = vbody("request.body");
    zy1_envelope env;
    assert_int_equal(zy1_envelope_parse(text, strlen(text), &env), ZY1_OK);
    assert_string_equal(env.kid.p, "k1");
    assert_int_equal(env.kid.n, 2);
    assert_string_equal(env.dev.p, vstr("request.body.dev"));
    assert_null(env.tlr.p);
    assert_int_equal(env.ts, 1764000000123);
    assert_string_equal(env.ts_text, "1764000000123");
    assert_string_equal(env.nonce_b64.p, vstr("request.body.nonce"));
    assert_string_equal(env.ek_b64.p, vstr("request.body.ek"));
    assert_string_equal(env.iv_b64.p, vstr("request.body.iv"));
    assert_string_equal(env.ct_b64.p, vstr("request.body.ct"));
    assert_string_equal(env.mac_b64.p, vstr("request.body.mac"));
    assert_int_equal(env.ek_len, 129);
    assert_int_equal(env.ek_form, SM2_CT_RAW65);
    assert_int_equal(env.ct_len % 16, 0);
    assert_int_equal(env.nonce[0], 0x00);
    assert_int_equal(env.nonce[15], 0xff);
    assert_int_equal(zy1_envelope_check_tx(&env, "CUSTOMER_QUERY"), ZY1_OK);
    assert_int_equal(zy1_envelope_check_tx(&env, "DEVICE_ACTIVATE"), ZY1_BAD_ENVELOPE);
    assert_int_equal(zy1_envelope_check_tx(&env, "lower"), ZY1_BAD_ARG);
    zy1_envelope_free(&env);
    free(text);
}

static void test_vector_activation(void **state)
{
    char *text = vbody("activation.body");
    zy1_envelope env;
    assert_int_equal(zy1_envelope_parse(text, strlen(text), &env), ZY1_OK);
    assert_string_equal(env.tlr.p, "demo01");
    assert_int_equal(env.tlr.n, 6);
    assert_int_equal(zy1_envelope_check_tx(&env, "DEVICE_ACTIVATE"), ZY1_OK);
    assert_int_equal(zy1_envelope_check_tx(&env, "LOGIN"), ZY1_BAD_ENVELOPE);
    zy1_envelope_free(&env);
    free(text);
}

static void test_ek_forms(void **state)
{
    assert_int_equal(req_with("ek", json_string(vstr("sm2.ek_no04_b64"))), ZY1_OK);
    assert_int_equal(req_with("ek", json_string(vstr("sm2.ek_der_b64"))), ZY1_OK);
    uint8_t ek[300];
    size_t n = vb64("sm2.ek_c1c3c2_b64", ek, sizeof ek);
    /* 128 bytes are raw without the 04 whatever the first byte; unwrap decides. */
    assert_int_equal(req_with_b64("ek", ek, n - 1), ZY1_OK);
    assert_int_equal(req_with_b64("ek", ek + 1, n - 2), ZY1_BAD_ENVELOPE);
    ek[n] = 0;
    assert_int_equal(req_with_b64("ek", ek, n + 1), ZY1_BAD_ENVELOPE);
    ek[0] = 0x05;
    assert_int_equal(req_with_b64("ek", ek, n), ZY1_BAD_ENVELOPE);
    n = vb64("sm2.ek_der_b64", ek, sizeof ek);
    ek[n] = 0;
    assert_int_equal(req_with_b64("ek", ek, n + 1), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("ek", ek, n - 1), ZY1_BAD_ENVELOPE);
    memset(ek, 0x30, 250);
    assert_int_equal(req_with_b64("ek", ek, 250), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("ek", json_string("")), ZY1_BAD_ENVELOPE);
}

static void test_missing_and_extra_members(void **state)
{
    static const char *const required[] = {"v",  "kid", "dev", "ts", "nonce",
                                           "ek", "iv",  "ct",  "mac"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        assert_int_equal(req_with(required[i], NULL), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("extra", json_string("x")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("V", json_integer(1)), ZY1_BAD_ENVELOPE);
    assert_int_equal(parse_with("activation.body", "tlr", NULL), ZY1_OK);
    assert_int_equal(parse_with("activation.body", "x", json_null()), ZY1_BAD_ENVELOPE);
}

static void test_version_and_ts(void **state)
{
    assert_int_equal(req_with("v", json_integer(2)), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("v", json_integer(0)), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("v", json_real(1.0)), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("v", json_string("1")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("v", json_true()), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("ts", json_real(1764000000123.0)), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("ts", json_string("1764000000123")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("ts", json_integer(0)), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("ts", json_integer(-5)), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("ts", json_null()), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("ts", json_integer(1)), ZY1_OK);
    /* Exponent and fraction forms are reals to jansson; too big is an error. */
    assert_int_equal(parse_text("{\"v\":1e0}"), ZY1_BAD_ENVELOPE);
    char *text = vbody("request.body");
    char *p = strstr(text, "1764000000123");
    assert_non_null(p);
    char big[2048];
    snprintf(big, sizeof big, "%.*s99999999999999999999%s", (int)(p - text), text, p + 13);
    assert_int_equal(parse_text(big), ZY1_BAD_ENVELOPE);
    free(text);
}

static void test_identifiers(void **state)
{
    assert_int_equal(req_with("kid", json_string("")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("kid", json_string("k 1")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("kid", json_string("k/1")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("kid", json_string("A.b_c-9")), ZY1_OK);
    assert_int_equal(req_with("kid", json_string("0123456789abcdef0123456789abcdef")), ZY1_OK);
    assert_int_equal(req_with("kid", json_string("0123456789abcdef0123456789abcdef0")),
                     ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("kid", json_integer(1)), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("dev", json_string("5F2B8C1D9E0A4B3C7D6E5F4A3B2C1D0E")),
                     ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("dev", json_string("5f2b8c1d9e0a4b3c7d6e5f4a3b2c1d0")),
                     ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("dev", json_string("5f2b8c1d9e0a4b3c7d6e5f4a3b2c1d0e0")),
                     ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("dev", json_string("5f2b8c1d9e0a4b3c7d6e5f4a3b2c1d0g")),
                     ZY1_BAD_ENVELOPE);
    assert_int_equal(parse_with("activation.body", "tlr", json_string("")), ZY1_BAD_ENVELOPE);
    assert_int_equal(parse_with("activation.body", "tlr", json_string("a.b")), ZY1_BAD_ENVELOPE);
    assert_int_equal(parse_with("activation.body", "tlr", json_null()), ZY1_BAD_ENVELOPE);
    assert_int_equal(parse_with("activation.body", "tlr", json_string("A_b-9")), ZY1_OK);
    /* An escaped NUL inside a string is refused by the JSON parser itself. */
    assert_int_equal(req_with("kid", json_stringn("k\0001", 3)), ZY1_BAD_ENVELOPE);
}

static void test_binary_lengths(void **state)
{
    uint8_t b[64] = {0};
    assert_int_equal(req_with_b64("nonce", b, 15), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("nonce", b, 17), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("nonce", b, 16), ZY1_OK);
    assert_int_equal(req_with_b64("iv", b, 15), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("iv", b, 32), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("mac", b, 31), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("mac", b, 33), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("ct", b, 15), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("ct", b, 17), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("ct", b, 0), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with_b64("ct", b, 16), ZY1_OK);
    assert_int_equal(req_with_b64("ct", b, 64), ZY1_OK);
}

static void test_non_canonical_base64(void **state)
{
    /* 16 bytes: 22 characters + "==". The last character carries 4 unused
     * bits, which must be zero: "w" is canonical, "x" is not. */
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZneImaq7zN3u/w==")), ZY1_OK);
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZneImaq7zN3u/x==")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZneImaq7zN3u/w")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZneImaq7zN3u/w=")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZneImaq7zN3u_w==")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZneImaq7zN3u/w==\n")),
                     ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZne Imaq7zN3u/w==")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("nonce", json_string("ABEiM0RVZneImaq7zN3u/w=A")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("iv", json_string("8ODQwLCgkIBwYFBAMCAQAB==")), ZY1_BAD_ENVELOPE);
    assert_int_equal(req_with("mac", json_string("h6lnmPo+/XHb755U6ajoHd9ZUvUPW+zut4qUBqlDr7J=")),
                     ZY1_BAD_ENVELOPE);
}

static void test_malformed_json(void **state)
{
    static const char *const bodies[] = {
        "",      "{",  "}",         "[]",         "null",    "1",
        "\"x\"", "{}", "{\"v\":1}", "{\"v\":1,}", "{'v':1}", "\xef\xbb\xbf{}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        assert_int_equal(parse_text(bodies[i]), ZY1_BAD_ENVELOPE);
    zy1_envelope env;
    assert_int_equal(zy1_envelope_parse(NULL, 0, &env), ZY1_BAD_ENVELOPE);
    zy1_envelope_free(&env);

    char *text = vbody("request.body");
    size_t n = strlen(text);
    char buf[2048];
    /* Trailing garbage; a second object; a NUL inside; invalid UTF-8. */
    memcpy(buf, text, n);
    memcpy(buf + n, " x", 3);
    assert_int_equal(parse_text(buf), ZY1_BAD_ENVELOPE);
    memcpy(buf + n, "{}", 3);
    assert_int_equal(parse_text(buf), ZY1_BAD_ENVELOPE);
    memcpy(buf, text, n);
    buf[n / 2] = '\0';
    assert_int_equal(zy1_envelope_parse(buf, n, &env), ZY1_BAD_ENVELOPE);
    zy1_envelope_free(&env);
    snprintf(buf, sizeof buf, "%s", text);
    char *kid = strstr(buf, "\"k1\"");
    kid[2] = (char)0xff;
    assert_int_equal(parse_text(buf), ZY1_BAD_ENVELOPE);
    /* Whitespace between tokens is JSON and fine. */
    snprintf(buf, sizeof buf, " \n%s\n ", text);
    assert_int_equal(parse_text(buf), ZY1_OK);
    /* Every strict prefix is malformed. */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(zy1_envelope_parse(text, i, &env), ZY1_BAD_ENVELOPE);
        zy1_envelope_free(&env);
    }
    free(text);
}

/* Numbers: only a plain integer is one; both readers agree on the edges. */
static void test_number_forms(void **state)
{
    static const struct {
        const char *v;
        zy1_status want;
    } forms[] = {
        {"1", ZY1_OK},
        {"1.0", ZY1_BAD_ENVELOPE},
        {"1e0", ZY1_BAD_ENVELOPE},
        {"01", ZY1_BAD_ENVELOPE},
        {"-1", ZY1_BAD_ENVELOPE},
        {"-0", ZY1_BAD_ENVELOPE},
        {"+1", ZY1_BAD_ENVELOPE},
        {"true", ZY1_BAD_ENVELOPE},
        {"null", ZY1_BAD_ENVELOPE},
        {"\"1\"", ZY1_BAD_ENVELOPE},
        {"[1]", ZY1_BAD_ENVELOPE},
        {"{}", ZY1_BAD_ENVELOPE},
        {"1 ", ZY1_OK},
        {" 1", ZY1_OK},
    };
    char *text = vbody("request.body");
    char buf[2048];
    assert_int_equal(strncmp(text, "{\"v\":1,", 7), 0);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        snprintf(buf, sizeof buf, "{\"v\":%s,%s", forms[i].v, text + 7);
        assert_int_equal(parse_text(buf), forms[i].want);
    }
    /* ts: 18 digits read in the common form, 19 by jansson, 20 too big for both */
    const char *ts = strstr(text, "\"ts\":") + 5;
    const char *after = strchr(ts, ',');
    static const char *const stamps[] = {"999999999999999999", "9223372036854775807",
                                         "9223372036854775808", "12345678901234567890"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(ts - text), text, stamps[i], after);
        assert_int_equal(parse_text(buf), i < 2 ? ZY1_OK : ZY1_BAD_ENVELOPE);
    }
    free(text);
}

static void test_duplicate_member(void **state)
{
    char *text = vbody("request.body");
    char buf[2048];
    /* {"v":1,"v":1,... */
    snprintf(buf, sizeof buf, "{\"v\":1,%s", text + 1);
    assert_int_equal(parse_text(buf), ZY1_BAD_ENVELOPE);
    /* A duplicate that replaces a member the count would not notice. */
    char *kid = strstr(text, "\"kid\"");
    snprintf(buf, sizeof buf, "%.*s\"dev\":\"5f2b8c1d9e0a4b3c7d6e5f4a3b2c1d0e\",%s",
             (int)(kid - text), text, strchr(kid, ',') + 1);
    assert_int_equal(parse_text(buf), ZY1_BAD_ENVELOPE);
    free(text);
}

/* Escaped forms denote the same text; "\/" is how some encoders write "/". */
static void test_escaped_text(void **state)
{
    char *text = vbody("request.body");
    char buf[4096], *o = buf;
    for (const char *p = text; *p; p++) {
        if (*p == '/')
            *o++ = '\\';
        *o++ = *p;
    }
    *o = '\0';
    zy1_envelope env;
    assert_int_equal(zy1_envelope_parse(buf, strlen(buf), &env), ZY1_OK);
    assert_string_equal(env.ek_b64.p, vstr("request.body.ek"));
    zy1_envelope_free(&env);
    free(text);
}

/* Single-byte corruptions anywhere never crash and never leak memory. */
static void test_byte_flips_never_crash(void **state)
{
    char *text = vbody("activation.body");
    size_t n = strlen(text);
    char *buf = malloc(n);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, text, n);
            buf[i] ^= (char)(1 << bit);
            zy1_status st = parse_n(buf, n);
            assert_true(st == ZY1_OK || st == ZY1_BAD_ENVELOPE);
        }
    }
    free(buf);
    free(text);
}

static zy1_status resp_without(const char *key)
{
    json_t *body = json_deep_copy(vget("response.body"));
    json_object_del(body, key);
    char *text = json_dumps(body, JSON_COMPACT);
    zy1_response rsp;
    zy1_status st = zy1_response_parse(text, strlen(text), &rsp);
    zy1_response_free(&rsp);
    free(text);
    json_decref(body);
    return st;
}

static void test_response_parse(void **state)
{
    char *text = vbody("response.body");
    zy1_response rsp;
    assert_int_equal(zy1_response_parse(text, strlen(text), &rsp), ZY1_OK);
    assert_int_equal(rsp.ts, 1764000000456);
    assert_string_equal(rsp.ts_text, "1764000000456");
    assert_string_equal(rsp.iv_b64.p, vstr("response.body.iv"));
    assert_string_equal(rsp.ct_b64.p, vstr("response.body.ct"));
    assert_int_equal(rsp.ct_len % 16, 0);
    zy1_response_free(&rsp);
    free(text);
    static const char *const keys[] = {"v", "ts", "iv", "ct", "mac"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(resp_without(keys[i]), ZY1_BAD_ENVELOPE);
    /* A request body is not a response and vice versa. */
    text = vbody("request.body");
    assert_int_equal(zy1_response_parse(text, strlen(text), &rsp), ZY1_BAD_ENVELOPE);
    zy1_response_free(&rsp);
    free(text);
    json_t *body = json_deep_copy(vget("response.body"));
    json_object_set_new(body, "x", json_integer(1));
    text = json_dumps(body, JSON_COMPACT);
    assert_int_equal(zy1_response_parse(text, strlen(text), &rsp), ZY1_BAD_ENVELOPE);
    zy1_response_free(&rsp);
    free(text);
    json_decref(body);
    const char *err = "{\"error\":{\"code\":\"stale\",\"message\":\"x\"}}";
    assert_int_equal(zy1_response_parse(err, strlen(err), &rsp), ZY1_BAD_ENVELOPE);
    zy1_response_free(&rsp);
}

static void test_validators(void **state)
{
    assert_true(zy1_tx_valid("LOGIN"));
    assert_true(zy1_tx_valid("DEVICE_ACTIVATE"));
    assert_true(zy1_tx_valid("A1"));
    assert_true(zy1_tx_valid("A_"));
    assert_true(zy1_tx_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"));
    assert_false(zy1_tx_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"));
    assert_false(zy1_tx_valid("A"));
    assert_false(zy1_tx_valid(""));
    assert_false(zy1_tx_valid(NULL));
    assert_false(zy1_tx_valid("1AB"));
    assert_false(zy1_tx_valid("_AB"));
    assert_false(zy1_tx_valid("Login"));
    assert_false(zy1_tx_valid("LOG-IN"));
    assert_false(zy1_tx_valid("LOG IN"));
    assert_false(zy1_tx_valid("LOGIN/"));
    assert_true(zy1_kid_valid("k1", 2));
    assert_false(zy1_kid_valid("k1", 0));
    assert_false(zy1_kid_valid("k\0", 2));
    assert_true(zy1_tlr_valid("demo01", 6));
    assert_false(zy1_tlr_valid("demo.01", 7));
    assert_true(zy1_dev_valid("0123456789abcdef0123456789abcdef", 32));
    assert_false(zy1_dev_valid("0123456789abcdef0123456789abcdeF", 32));
}

static int teardown(void **state)
{
    ct_vectors_free();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_request),
        cmocka_unit_test(test_vector_activation),
        cmocka_unit_test(test_ek_forms),
        cmocka_unit_test(test_missing_and_extra_members),
        cmocka_unit_test(test_version_and_ts),
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_binary_lengths),
        cmocka_unit_test(test_non_canonical_base64),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_duplicate_member),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_escaped_text),
        cmocka_unit_test(test_byte_flips_never_crash),
        cmocka_unit_test(test_response_parse),
        cmocka_unit_test(test_validators),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
