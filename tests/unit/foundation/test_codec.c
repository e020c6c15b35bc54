/* codec: strict base64 and hex, RFC 4648 test vectors and rejections. */
#include "foundation/codec.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void b64_rfc4648_vectors(void **state)
{
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char enc[16];
        uint8_t dec[16];
        size_t n = strlen(in[i]);
        assert_int_equal(b64_encode((const uint8_t *)in[i], n, enc, sizeof enc), strlen(out[i]));
        assert_string_equal(enc, out[i]);
        assert_int_equal(b64_decode(out[i], strlen(out[i]), dec, sizeof dec), n);
        assert_memory_equal(dec, in[i], n);
    }
}

static void b64_rejects_malformed(void **state)
{
    uint8_t buf[16];
    static const char *bad[] = {"Zg=",    "Zg",   "Z===", "Zh==",     "Zm9=", "Zm 9",
                                "Zm9v\n", "=Zm9", "Zm-_", "Zg==Zg==", "Zm9vY"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(b64_decode(bad[i], strlen(bad[i]), buf, sizeof buf), -1);
}

static void b64_never_overflows(void **state)
{
    uint8_t buf[2];
    char enc[4];
    assert_int_equal(b64_decode("Zm9v", 4, buf, sizeof buf), -1);
    assert_int_equal(b64_encode((const uint8_t *)"foo", 3, enc, sizeof enc), -1);
}

static void hex_round_trip(void **state)
{
    const uint8_t in[] = {0x00, 0x7f, 0x80, 0xff};
    char enc[9];
    uint8_t dec[4];
    assert_int_equal(hex_encode(in, 4, enc, sizeof enc), 8);
    assert_string_equal(enc, "007f80ff");
    assert_int_equal(hex_decode("007F80ff", 8, dec, sizeof dec), 4);
    assert_memory_equal(dec, in, 4);
    assert_int_equal(hex_decode("0g", 2, dec, sizeof dec), -1);
    assert_int_equal(hex_decode("abc", 3, dec, sizeof dec), -1);
    assert_int_equal(hex_decode("0011223344", 10, dec, sizeof dec), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64_rfc4648_vectors),
        cmocka_unit_test(b64_rejects_malformed),
        cmocka_unit_test(b64_never_overflows),
        cmocka_unit_test(hex_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
