/* sm: SM3, HMAC-SM3, SM4-CBC, SM2 keys and the three ciphertext encodings,
 * against the vectors of spec/secure-channel-vectors.json. */
#include "channel_test.h"

#include "channel/sm.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static sm2_key *vector_key(void)
{
    uint8_t der[256];
    sm2_key *k = NULL;
    size_t n = vb64("sm2.private_key_sec1_der_b64", der, sizeof der);
    assert_int_equal(sm2_key_load_der(der, n, &k), SM_OK);
    return k;
}

static void test_sm3_abc(void **state)
{
    uint8_t want[SM3_LEN], got[SM3_LEN];
    sm_part p = {"abc", 3};
    vhex("sm3.abc", want, sizeof want);
    assert_int_equal(sm_init(), SM_OK);
    assert_int_equal(sm3_digest(&p, 1, got), SM_OK);
    assert_memory_equal(got, want, SM3_LEN);
    /* The same message split in parts gives the same digest. */
    sm_part split[3] = {{"a", 1}, {"", 0}, {"bc", 2}};
    assert_int_equal(sm3_digest(split, 3, got), SM_OK);
    assert_memory_equal(got, want, SM3_LEN);
}

static void test_hmac_sm3(void **state)
{
    uint8_t key[3], want[SM3_LEN], got[SM3_LEN];
    const char *msg = vstr("hmac_sm3.msg");
    vhex("hmac_sm3.key", key, sizeof key);
    vhex("hmac_sm3.mac", want, sizeof want);
    sm_part p = {msg, strlen(msg)};
    assert_int_equal(sm_hmac(key, sizeof key, &p, 1, got), SM_OK);
    assert_memory_equal(got, want, SM3_LEN);
    sm_part split[2] = {{msg, 10}, {msg + 10, strlen(msg) - 10}};
    assert_int_equal(sm_hmac(key, sizeof key, split, 2, got), SM_OK);
    assert_memory_equal(got, want, SM3_LEN);
    /* Long keys are hashed first (RFC 2104); only check it works and differs. */
    uint8_t longkey[100] = {1};
    assert_int_equal(sm_hmac(longkey, sizeof longkey, &p, 1, got), SM_OK);
    assert_memory_not_equal(got, want, SM3_LEN);
}

/* sm_hmac_each: the vector's tag for each message under one key, whatever
 * the position (the last message runs on the keyed state itself, the others
 * on copies of it), and the same tags as separate sm_hmac calls. */
static void test_hmac_each(void **state)
{
    uint8_t key[3], want[SM3_LEN], got[3][SM3_LEN], other[SM3_LEN];
    const char *msg = vstr("hmac_sm3.msg");
    vhex("hmac_sm3.key", key, sizeof key);
    vhex("hmac_sm3.mac", want, sizeof want);
    sm_part p = {msg, strlen(msg)}, q = {"other", 5};
    sm_part split[2] = {{msg, 10}, {msg + 10, strlen(msg) - 10}};
    assert_int_equal(sm_hmac(key, sizeof key, &q, 1, other), SM_OK);
    const sm_hmac_msg msgs[3] = {{&p, 1}, {&q, 1}, {split, 2}};
    memset(got, 0, sizeof got);
    assert_int_equal(sm_hmac_each(key, sizeof key, msgs, 3, got), SM_OK);
    assert_memory_equal(got[0], want, SM3_LEN);
    assert_memory_equal(got[1], other, SM3_LEN);
    assert_memory_equal(got[2], want, SM3_LEN);
    const sm_hmac_msg last[2] = {{&q, 1}, {&p, 1}};
    memset(got, 0, sizeof got);
    assert_int_equal(sm_hmac_each(key, sizeof key, last, 2, got), SM_OK);
    assert_memory_equal(got[0], other, SM3_LEN);
    assert_memory_equal(got[1], want, SM3_LEN);
    assert_int_equal(sm_hmac_each(key, sizeof key, msgs, 0, got), SM_BAD);
}

static void test_sm4_round_trip(void **state)
{
    uint8_t key[16] = {1, 2, 3}, iv[16] = {9}, ct[64], pt[64];
    size_t ctn = 0, ptn = 0;
    for (size_t n = 0; n <= 33; n++) {
        uint8_t msg[33];
        memset(msg, (int)n, sizeof msg);
        assert_int_equal(sm4_cbc_encrypt(key, iv, msg, n, ct, sizeof ct, &ctn), SM_OK);
        assert_int_equal(ctn, sm4_cbc_padded_len(n));
        assert_int_equal(sm4_cbc_decrypt(key, iv, ct, ctn, pt, sizeof pt, &ptn), SM_OK);
        assert_int_equal(ptn, n);
        assert_memory_equal(pt, msg, n);
    }
    /* A short output buffer is refused, not truncated. */
    assert_int_equal(sm4_cbc_encrypt(key, iv, pt, 16, ct, 31, &ctn), SM_BAD);
    assert_int_equal(sm4_cbc_decrypt(key, iv, ct, 32, pt, 31, &ptn), SM_BAD);
    assert_int_equal(sm4_cbc_decrypt(key, iv, ct, 0, pt, sizeof pt, &ptn), SM_BAD);
    assert_int_equal(sm4_cbc_decrypt(key, iv, ct, 17, pt, sizeof pt, &ptn), SM_BAD);
}

static void test_sm4_bad_padding(void **state)
{
    uint8_t key[16] = {7}, iv[16] = {0}, ct[48], pt[48];
    const uint8_t msg[20] = {0};
    size_t ctn = 0, ptn = 0;
    assert_int_equal(sm4_cbc_encrypt(key, iv, msg, sizeof msg, ct, sizeof ct, &ctn), SM_OK);
    assert_int_equal(ctn, 32);
    /* The last plaintext byte is the pad length 12; xor it to 0 through CBC. */
    ct[ctn - SM4_BLOCK - 1] ^= 12;
    assert_int_equal(sm4_cbc_decrypt(key, iv, ct, ctn, pt, sizeof pt, &ptn), SM_BAD);
    /* Pad 12 claimed but a byte of the padding wrong. */
    ct[ctn - SM4_BLOCK - 1] ^= 12;
    ct[ctn - SM4_BLOCK - 2] ^= 1;
    assert_int_equal(sm4_cbc_decrypt(key, iv, ct, ctn, pt, sizeof pt, &ptn), SM_BAD);
}

static void test_sm2_vector_key(void **state)
{
    uint8_t want[SM2_PUB_LEN], pub[SM2_PUB_LEN];
    sm2_key *k = vector_key();
    vhex("sm2.public_key_04xy", want, sizeof want);
    assert_int_equal(sm2_key_export_pub(k, pub), SM_OK);
    assert_memory_equal(pub, want, sizeof pub);
    uint8_t b64pub[SM2_PUB_LEN];
    assert_int_equal(vb64("sm2.public_key_b64", b64pub, sizeof b64pub), SM2_PUB_LEN);
    assert_memory_equal(b64pub, want, sizeof want);
    sm2_key_free(k);
}

static void test_sm2_decrypt_three_forms(void **state)
{
    static const char *const forms[] = {"sm2.ek_c1c3c2_b64", "sm2.ek_no04_b64", "sm2.ek_der_b64"};
    static const sm2_ct_form kinds[] = {SM2_CT_RAW65, SM2_CT_RAW64, SM2_CT_DER};
    uint8_t S[32], out[64];
    sm2_key *k = vector_key();
    vhex("sm2.S", S, sizeof S);
    for (int i = 0; i < 3; i++) {
        uint8_t ek[256];
        size_t n = vb64(forms[i], ek, sizeof ek), outn = 0;
        assert_int_equal(sm2_ct_classify(ek, n, 32), kinds[i]);
        assert_int_equal(sm2_decrypt(k, ek, n, 32, out, sizeof out, &outn), SM_OK);
        assert_int_equal(outn, 32);
        assert_memory_equal(out, S, 32);
    }
    sm2_key_free(k);
}

static void test_sm2_encoding_conversions(void **state)
{
    uint8_t raw[256], no04[256], der[256], out[256];
    size_t rn = vb64("sm2.ek_c1c3c2_b64", raw, sizeof raw);
    size_t nn = vb64("sm2.ek_no04_b64", no04, sizeof no04);
    size_t dn = vb64("sm2.ek_der_b64", der, sizeof der), on = 0;
    assert_int_equal(rn, 129);
    assert_int_equal(nn, 128);
    assert_int_equal(sm2_ct_to_der(raw, rn, 32, out, sizeof out, &on), SM_OK);
    assert_int_equal(on, dn);
    assert_memory_equal(out, der, dn);
    assert_int_equal(sm2_ct_to_der(no04, nn, 32, out, sizeof out, &on), SM_OK);
    assert_memory_equal(out, der, dn);
    assert_int_equal(sm2_ct_to_raw(der, dn, 32, out, sizeof out, &on), SM_OK);
    assert_int_equal(on, rn);
    assert_memory_equal(out, raw, rn);
    assert_int_equal(sm2_ct_to_raw(no04, nn, 0, out, sizeof out, &on), SM_BAD);
    assert_int_equal(sm2_ct_to_raw(raw, rn, 0, out, sizeof out, &on), SM_OK);
    assert_int_equal(sm2_ct_to_raw(raw, rn, 32, out, rn - 1, &on), SM_BAD);
}

/* x with leading zero bytes and y with the top bit set exercise the minimal
 * INTEGER encoding both ways. */
static void test_sm2_der_integers(void **state)
{
    uint8_t raw[129] = {0x04}, der[256], back[256];
    size_t dn = 0, bn = 0;
    memset(raw + 1, 0, 3);
    memset(raw + 4, 0x11, 29);
    memset(raw + 33, 0xf0, 32);
    memset(raw + 65, 0x22, 64);
    assert_int_equal(sm2_ct_to_der(raw, sizeof raw, 32, der, sizeof der, &dn), SM_OK);
    /* x: 29 bytes; y: 00 + 32 bytes. */
    assert_int_equal(der[3], 0x02);
    assert_int_equal(der[4], 29);
    assert_int_equal(der[5 + 29], 0x02);
    assert_int_equal(der[6 + 29], 33);
    assert_int_equal(der[7 + 29], 0x00);
    assert_int_equal(sm2_ct_classify(der, dn, 32), SM2_CT_DER);
    assert_int_equal(sm2_ct_to_raw(der, dn, 32, back, sizeof back, &bn), SM_OK);
    assert_int_equal(bn, sizeof raw);
    assert_memory_equal(back, raw, sizeof raw);
    /* An all-zero coordinate is INTEGER 0: 02 01 00 (and the SEQUENCE
     * shrinks below 128 bytes, to a one-byte length). */
    memset(raw + 1, 0, 32);
    assert_int_equal(sm2_ct_to_der(raw, sizeof raw, 32, der, sizeof der, &dn), SM_OK);
    assert_int_equal(der[1], dn - 2);
    assert_int_equal(der[2], 0x02);
    assert_int_equal(der[3], 1);
    assert_int_equal(der[4], 0);
    assert_int_equal(sm2_ct_to_raw(der, dn, 32, back, sizeof back, &bn), SM_OK);
    assert_memory_equal(back, raw, sizeof raw);
}

static void test_sm2_der_strict(void **state)
{
    uint8_t der[256], bad[260];
    size_t dn = vb64("sm2.ek_der_b64", der, sizeof der);
    assert_int_equal(sm2_ct_classify(der, dn, 32), SM2_CT_DER);
    assert_int_equal(sm2_ct_classify(der, dn, 0), SM2_CT_DER);
    assert_int_equal(sm2_ct_classify(der, dn, 31), SM2_CT_INVALID);
    /* Trailing byte. */
    memcpy(bad, der, dn);
    bad[dn] = 0;
    assert_int_equal(sm2_ct_classify(bad, dn + 1, 32), SM2_CT_INVALID);
    /* Truncations; 128 bytes are raw without the 04 whatever they hold. */
    for (size_t n = 0; n < dn; n++)
        assert_int_equal(sm2_ct_classify(der, n, 32), n == 128 ? SM2_CT_RAW64 : SM2_CT_INVALID);
    /* The vector's x is 32 bytes without a sign byte (55...): a needless
     * leading zero makes it non-DER. Layout: 30 81 88 02 20 <x>. */
    assert_int_equal(der[0], 0x30);
    assert_int_equal(der[1], 0x81);
    assert_int_equal(der[3], 0x02);
    assert_int_equal(der[4], 0x20);
    bad[0] = 0x30, bad[1] = 0x81, bad[2] = (uint8_t)(der[2] + 1), bad[3] = 0x02, bad[4] = 0x21;
    bad[5] = 0x00;
    memcpy(bad + 6, der + 5, dn - 5);
    assert_int_equal(sm2_ct_classify(bad, dn + 1, 32), SM2_CT_INVALID);
    /* Negative x (sign bit set without the 00). */
    memcpy(bad, der, dn);
    bad[5] |= 0x80;
    assert_int_equal(sm2_ct_classify(bad, dn, 32), SM2_CT_INVALID);
    /* Non-minimal length form 82 00 88 for the SEQUENCE. */
    bad[0] = 0x30, bad[1] = 0x82, bad[2] = 0x00;
    memcpy(bad + 3, der + 2, dn - 2);
    assert_int_equal(sm2_ct_classify(bad, dn + 1, 32), SM2_CT_INVALID);
    /* Indefinite length (BER) is not DER either. */
    memcpy(bad, der, dn);
    bad[1] = 0x80;
    assert_int_equal(sm2_ct_classify(bad, dn, 32), SM2_CT_INVALID);
}

static void test_sm2_encrypt_decrypt(void **state)
{
    uint8_t pub[SM2_PUB_LEN], msg[32], ct[200], out[64];
    size_t cn = 0, on = 0;
    sm2_key *k = vector_key(), *p = NULL, *other = NULL;
    vhex("sm2.public_key_04xy", pub, sizeof pub);
    assert_int_equal(sm2_key_from_pub(pub, &p), SM_OK);
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(sm2_encrypt(p, msg, sizeof msg, ct, sizeof ct, &cn), SM_OK);
    assert_int_equal(cn, 129);
    assert_int_equal(ct[0], 0x04);
    assert_int_equal(sm2_decrypt(k, ct, cn, 32, out, sizeof out, &on), SM_OK);
    assert_memory_equal(out, msg, 32);
    /* Without the 04 as well. */
    assert_int_equal(sm2_decrypt(k, ct + 1, cn - 1, 32, out, sizeof out, &on), SM_OK);
    assert_memory_equal(out, msg, 32);
    /* Any flipped bit makes decryption fail (C1 off the curve or C3). */
    for (size_t i = 1; i < cn; i += 7) {
        ct[i] ^= 0x10;
        assert_int_equal(sm2_decrypt(k, ct, cn, 32, out, sizeof out, &on), SM_BAD);
        ct[i] ^= 0x10;
    }
    /* The wrong private key fails; so does a public key or a short buffer. */
    assert_int_equal(sm2_key_generate(&other), SM_OK);
    assert_int_equal(sm2_decrypt(other, ct, cn, 32, out, sizeof out, &on), SM_BAD);
    assert_int_not_equal(sm2_decrypt(p, ct, cn, 32, out, sizeof out, &on), SM_OK);
    assert_int_equal(sm2_decrypt(k, ct, cn, 32, out, 31, &on), SM_BAD);
    assert_int_equal(sm2_encrypt(p, msg, sizeof msg, ct, 128, &cn), SM_BAD);
    sm2_key_free(other);
    sm2_key_free(p);
    sm2_key_free(k);
}

static void test_sm2_bad_public_keys(void **state)
{
    uint8_t pub[SM2_PUB_LEN];
    sm2_key *p = NULL;
    vhex("sm2.public_key_04xy", pub, sizeof pub);
    pub[64] ^= 1; /* off the curve */
    assert_int_equal(sm2_key_from_pub(pub, &p), SM_BAD);
    assert_null(p);
    pub[64] ^= 1;
    pub[0] = 0x02;
    assert_int_equal(sm2_key_from_pub(pub, &p), SM_BAD);
    memset(pub, 0, sizeof pub);
    pub[0] = 0x04;
    assert_int_equal(sm2_key_from_pub(pub, &p), SM_BAD);
}

static void test_sm2_bad_private_der(void **state)
{
    uint8_t der[256];
    sm2_key *k = NULL;
    size_t n = vb64("sm2.private_key_sec1_der_b64", der, sizeof der);
    assert_int_equal(sm2_key_load_der(der, n - 1, &k), SM_BAD);
    der[n] = 0;
    assert_int_equal(sm2_key_load_der(der, n + 1, &k), SM_BAD);
    assert_int_equal(sm2_key_load_der(der, 0, &k), SM_BAD);
    assert_null(k);
}

static void test_sm2_generate_write_load(void **state)
{
    char dir[] = "/tmp/zy-sm-XXXXXX", path[64];
    uint8_t pub1[SM2_PUB_LEN], pub2[SM2_PUB_LEN];
    sm2_key *k = NULL, *l = NULL;
    struct stat sb;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/server.pem", dir);
    assert_int_equal(sm2_key_generate(&k), SM_OK);
    assert_int_equal(sm2_key_write_pem(k, path), SM_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* Never overwrites an existing key. */
    assert_int_equal(sm2_key_write_pem(k, path), SM_BAD);
    assert_int_equal(sm2_key_load_pem(path, &l), SM_OK);
    assert_int_equal(sm2_key_export_pub(k, pub1), SM_OK);
    assert_int_equal(sm2_key_export_pub(l, pub2), SM_OK);
    assert_memory_equal(pub1, pub2, sizeof pub1);
    /* The loaded key decrypts what the generated key's public half sealed. */
    uint8_t msg[32] = {42}, ct[200], out[32];
    size_t cn = 0, on = 0;
    assert_int_equal(sm2_encrypt(k, msg, sizeof msg, ct, sizeof ct, &cn), SM_OK);
    assert_int_equal(sm2_decrypt(l, ct, cn, 32, out, sizeof out, &on), SM_OK);
    assert_memory_equal(out, msg, 32);
    sm2_key_free(l);
    l = NULL;
    assert_int_not_equal(sm2_key_load_pem("/nonexistent/key.pem", &l), SM_OK);
    unlink(path);
    rmdir(dir);
    sm2_key_free(k);
}

/* The vector key as SEC1 PEM, after the parameters block that
 * `openssl ecparam -genkey` writes first, under both labels in use. */
static void test_sm2_load_sec1_pem(void **state)
{
    static const char *const labels[] = {"EC PRIVATE KEY", "SM2 PRIVATE KEY"};
    const char *b64 = vstr("sm2.private_key_sec1_der_b64");
    char dir[] = "/tmp/zy-pem-XXXXXX", path[64];
    uint8_t want[SM2_PUB_LEN], pub[SM2_PUB_LEN];
    vhex("sm2.public_key_04xy", want, sizeof want);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/k.pem", dir);
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f,
                "-----BEGIN SM2 PARAMETERS-----\nBggqgRzPVQGCLQ==\n-----END SM2 PARAMETERS-----\n");
        fprintf(f, "-----BEGIN %s-----\n", labels[i]);
        for (size_t o = 0; o < strlen(b64); o += 64)
            fprintf(f, "%.64s\n", b64 + o);
        fprintf(f, "-----END %s-----\n", labels[i]);
        fclose(f);
        sm2_key *k = NULL;
        assert_int_equal(sm2_key_load_pem(path, &k), SM_OK);
        assert_int_equal(sm2_key_export_pub(k, pub), SM_OK);
        assert_memory_equal(pub, want, sizeof pub);
        sm2_key_free(k);
    }
    unlink(path);
    rmdir(dir);
}

/* An EC key on another curve must not be taken for an SM2 key. */
static void test_sm2_rejects_p256(void **state)
{
    /* SEC1 DER of a throwaway P-256 key. */
    static const char b64[] =
        "MHcCAQEEIGAwhx0KzCXnQ2/wITRnH6ZDS6E0SXZBoRTHR6ubRlUQoAoGCCqGSM49AwEHoUQDQgAE+riUnEBdDNQI"
        "sK2JY+ZP17FcLvT4Xyq/SWCogK79APHy5ZBNpgDTrZ+FgSTD6sdjpwshMpHXqbGrT05PVTzMKg==";
    uint8_t der[256];
    sm2_key *k = NULL;
    long n = b64_decode(b64, strlen(b64), der, sizeof der);
    assert_true(n > 0);
    assert_int_equal(sm2_key_load_der(der, (size_t)n, &k), SM_BAD);
    assert_null(k);
}

/* A signature made by another implementation (the npm package sm-crypto,
 * doSignature(msg, priv, {hash: true, der: true}), which hashes Z_A with the
 * default identifier 1234567812345678): ours must accept it, so both agree on
 * the identifier, Z_A and the DER form. */
static const char SIG_PUB[] =
    "04745f9bfca4ad1b3783a396c71a44855d759a660b4681d6702dba2e895e23260360e6dbf5cdd25a8d5b4351dac8"
    "2d60a3ab2a4b3a8aecebc90a8dd5e439c7a85c";
static const char SIG_MSG[] = "zhanye audit checkpoint v1|1000|"
                              "abababababababababababababababababababababababababababababababab|"
                              "1767225600000";
static const char SIG_DER[] =
    "3046022100f66904697e4c299629592bd9a862a467eb16474b4dbaea80e7b644f78078d5d1022100a325781bc896"
    "632d04e7afb749d164eded00a138ca8b1d3b70b7c7a48c9dfc2e";

static void test_sm2_verify_foreign_signature(void **state)
{
    uint8_t pub[SM2_PUB_LEN], sig[SM2_SIG_MAX + 1];
    size_t n = strlen(SIG_DER) / 2;
    sm2_key *k = NULL;
    assert_int_equal(hex_decode(SIG_PUB, strlen(SIG_PUB), pub, sizeof pub), SM2_PUB_LEN);
    assert_int_equal(hex_decode(SIG_DER, strlen(SIG_DER), sig, sizeof sig), (long)n);
    assert_int_equal(sm2_key_from_pub(pub, &k), SM_OK);
    sm_part msg = {SIG_MSG, strlen(SIG_MSG)};
    assert_int_equal(sm2_verify(k, &msg, 1, sig, n), SM_OK);
    sm_part split[2] = {{SIG_MSG, 7}, {SIG_MSG + 7, strlen(SIG_MSG) - 7}};
    assert_int_equal(sm2_verify(k, split, 2, sig, n), SM_OK);
    /* One bit of the message, of s, a truncated or padded signature: refused. */
    char other[sizeof SIG_MSG];
    memcpy(other, SIG_MSG, sizeof SIG_MSG);
    other[30] ^= 1;
    sm_part bad = {other, strlen(other)};
    assert_int_equal(sm2_verify(k, &bad, 1, sig, n), SM_BAD);
    sig[n - 1] ^= 1;
    assert_int_equal(sm2_verify(k, &msg, 1, sig, n), SM_BAD);
    sig[n - 1] ^= 1;
    assert_int_equal(sm2_verify(k, &msg, 1, sig, n - 1), SM_BAD);
    sig[n] = 0;
    assert_int_equal(sm2_verify(k, &msg, 1, sig, n + 1), SM_BAD);
    assert_int_equal(sm2_verify(k, &msg, 1, sig, 0), SM_BAD);
    sm2_key_free(k);
}

static void test_sm2_sign_verify(void **state)
{
    sm2_key *k = NULL, *other = NULL, *pubk = NULL;
    uint8_t pub[SM2_PUB_LEN], sig[SM2_SIG_MAX], sig2[SM2_SIG_MAX];
    size_t n = 0, n2 = 0;
    sm_part msg = {"checkpoint 1000", 15};
    assert_int_equal(sm2_key_generate(&k), SM_OK);
    assert_int_equal(sm2_key_generate(&other), SM_OK);
    assert_int_equal(sm2_sign(k, &msg, 1, sig, sizeof sig, &n), SM_OK);
    assert_true(n >= 8 && n <= SM2_SIG_MAX && sig[0] == 0x30);
    assert_int_equal(sm2_verify(k, &msg, 1, sig, n), SM_OK);
    /* The public half alone verifies, and cannot sign. */
    assert_int_equal(sm2_key_export_pub(k, pub), SM_OK);
    assert_int_equal(sm2_key_from_pub(pub, &pubk), SM_OK);
    assert_int_equal(sm2_verify(pubk, &msg, 1, sig, n), SM_OK);
    assert_int_not_equal(sm2_sign(pubk, &msg, 1, sig2, sizeof sig2, &n2), SM_OK);
    /* Another key's signature, another message: refused. */
    assert_int_equal(sm2_verify(other, &msg, 1, sig, n), SM_BAD);
    sm_part msg2 = {"checkpoint 1001", 15};
    assert_int_equal(sm2_verify(k, &msg2, 1, sig, n), SM_BAD);
    /* Randomised: two signatures of one message differ, both verify. */
    assert_int_equal(sm2_sign(k, &msg, 1, sig2, sizeof sig2, &n2), SM_OK);
    assert_false(n == n2 && memcmp(sig, sig2, n) == 0);
    assert_int_equal(sm2_verify(k, &msg, 1, sig2, n2), SM_OK);
    assert_int_equal(sm2_sign(k, &msg, 1, sig2, SM2_SIG_MAX - 1, &n2), SM_BAD);
    sm2_key_free(pubk);
    sm2_key_free(other);
    sm2_key_free(k);
}

/* The fetched algorithms and an sm2_key are shared by request threads. */
typedef struct {
    const sm2_key *key;
    const uint8_t *ek;
    size_t ek_len;
    const uint8_t *S, *mac;
    int failures;
} thread_job;

static void *thread_work(void *arg)
{
    thread_job *j = arg;
    uint8_t key[3] = {'k', 'e', 'y'}, out[64];
    const char *msg = "The quick brown fox jumps over the lazy dog";
    sm_part p = {msg, strlen(msg)};
    for (int i = 0; i < 300; i++) {
        size_t n = 0;
        if (sm_hmac(key, sizeof key, &p, 1, out) != SM_OK || memcmp(out, j->mac, 32) != 0)
            j->failures++;
        if (i % 30 == 0 &&
            (sm2_decrypt(j->key, j->ek, j->ek_len, 32, out, sizeof out, &n) != SM_OK ||
             memcmp(out, j->S, 32) != 0))
            j->failures++;
    }
    return NULL;
}

static void test_threads_share_algorithms_and_key(void **state)
{
    uint8_t ek[256], S[32], mac[32];
    sm2_key *k = vector_key();
    size_t n = vb64("sm2.ek_der_b64", ek, sizeof ek);
    vhex("sm2.S", S, sizeof S);
    vhex("hmac_sm3.mac", mac, sizeof mac);
    pthread_t th[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){.key = k, .ek = ek, .ek_len = n, .S = S, .mac = mac};
        assert_int_equal(pthread_create(&th[i], NULL, thread_work, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    sm2_key_free(k);
}

static int teardown(void **state)
{
    ct_vectors_free();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sm3_abc),
        cmocka_unit_test(test_hmac_sm3),
        cmocka_unit_test(test_hmac_each),
        cmocka_unit_test(test_sm4_round_trip),
        cmocka_unit_test(test_sm4_bad_padding),
        cmocka_unit_test(test_sm2_vector_key),
        cmocka_unit_test(test_sm2_decrypt_three_forms),
        cmocka_unit_test(test_sm2_encoding_conversions),
        cmocka_unit_test(test_sm2_der_integers),
        cmocka_unit_test(test_sm2_der_strict),
        cmocka_unit_test(test_sm2_encrypt_decrypt),
        cmocka_unit_test(test_sm2_bad_public_keys),
        cmocka_unit_test(test_sm2_bad_private_der),
        cmocka_unit_test(test_sm2_generate_write_load),
        cmocka_unit_test(test_sm2_load_sec1_pem),
        cmocka_unit_test(test_sm2_rejects_p256),
        cmocka_unit_test(test_sm2_verify_foreign_signature),
        cmocka_unit_test(test_sm2_sign_verify),
        cmocka_unit_test(test_threads_share_algorithms_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
