/* zyc_pkg (the client's check before install): a package signed with the
 * server's key verifies; altered bytes, an altered SM3, an altered
 * signature, or another server's key are refused. */
#include "channel/sm.h"
#include "foundation/codec.h"
#include "zyc_pkg.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct signed_pkg {
    uint8_t bytes[4096];
    char sm3[65], sig[128], pub[100], other_pub[100];
};

static void make(struct signed_pkg *p)
{
    sm2_key *k = NULL, *o = NULL;
    uint8_t h[SM3_LEN], sig[SM2_SIG_MAX], pub[SM2_PUB_LEN];
    size_t siglen = 0;
    for (size_t i = 0; i < sizeof p->bytes; i++)
        p->bytes[i] = (uint8_t)(i * 31 + 7);
    sm_part part = {p->bytes, sizeof p->bytes};
    assert_int_equal(sm3_digest(&part, 1, h), SM_OK);
    assert_int_equal(sm2_key_generate(&k), SM_OK);
    assert_int_equal(sm2_key_generate(&o), SM_OK);
    sm_part hp = {h, SM3_LEN};
    assert_int_equal(sm2_sign(k, &hp, 1, sig, sizeof sig, &siglen), SM_OK);
    hex_encode(h, SM3_LEN, p->sm3, sizeof p->sm3);
    assert_true(b64_encode(sig, siglen, p->sig, sizeof p->sig) > 0);
    assert_int_equal(sm2_key_export_pub(k, pub), SM_OK);
    assert_true(b64_encode(pub, sizeof pub, p->pub, sizeof p->pub) > 0);
    assert_int_equal(sm2_key_export_pub(o, pub), SM_OK);
    assert_true(b64_encode(pub, sizeof pub, p->other_pub, sizeof p->other_pub) > 0);
    sm2_key_free(k);
    sm2_key_free(o);
}

static void test_memory(void **state)
{
    (void)state;
    struct signed_pkg p;
    make(&p);
    assert_int_equal(zyc_pkg_verify_mem(p.pub, p.bytes, sizeof p.bytes, p.sm3, p.sig), ZYC_PKG_OK);
    /* another server's key */
    assert_int_equal(zyc_pkg_verify_mem(p.other_pub, p.bytes, sizeof p.bytes, p.sm3, p.sig),
                     ZYC_PKG_BAD_SIGNATURE);
    /* one byte of the package altered */
    p.bytes[100] ^= 1;
    assert_int_equal(zyc_pkg_verify_mem(p.pub, p.bytes, sizeof p.bytes, p.sm3, p.sig),
                     ZYC_PKG_HASH_MISMATCH);
    /* ... and the announced SM3 replaced by the altered bytes' own */
    uint8_t h[SM3_LEN];
    char sm3[65];
    sm_part part = {p.bytes, sizeof p.bytes};
    assert_int_equal(sm3_digest(&part, 1, h), SM_OK);
    hex_encode(h, SM3_LEN, sm3, sizeof sm3);
    assert_int_equal(zyc_pkg_verify_mem(p.pub, p.bytes, sizeof p.bytes, sm3, p.sig),
                     ZYC_PKG_BAD_SIGNATURE);
    p.bytes[100] ^= 1;
    /* the signature altered: one character of its base64 */
    char sig[128];
    strcpy(sig, p.sig);
    sig[20] = sig[20] == 'A' ? 'B' : 'A';
    assert_int_equal(zyc_pkg_verify_mem(p.pub, p.bytes, sizeof p.bytes, p.sm3, sig),
                     ZYC_PKG_BAD_SIGNATURE);
    assert_int_equal(zyc_pkg_verify_mem(p.pub, p.bytes, sizeof p.bytes, "zz", p.sig),
                     ZYC_PKG_BAD_ARG);
}

static void test_file(void **state)
{
    (void)state;
    struct signed_pkg p;
    make(&p);
    char path[] = "/tmp/zyc-pkg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p.bytes, sizeof p.bytes), (ssize_t)sizeof p.bytes);
    close(fd);
    assert_int_equal(zyc_pkg_verify_file(p.pub, path, p.sm3, p.sig), ZYC_PKG_OK);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 4000, SEEK_SET);
    fputc(p.bytes[4000] ^ 0x80, f);
    fclose(f);
    assert_int_equal(zyc_pkg_verify_file(p.pub, path, p.sm3, p.sig), ZYC_PKG_HASH_MISMATCH);
    unlink(path);
    assert_int_equal(zyc_pkg_verify_file(p.pub, path, p.sm3, p.sig), ZYC_PKG_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
