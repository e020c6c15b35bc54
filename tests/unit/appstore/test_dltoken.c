/* dltoken: a token opens its own package for its device until it expires;
 * not another package, not after its expiry, not altered in any part, not
 * under another key. */
#include "appstore/dltoken.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const char DEV[] = "00112233445566778899aabbccddeeff";

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t key[DLTOKEN_KEY_LEN] = {1, 2, 3}, other[DLTOKEN_KEY_LEN] = {9};
    char t[DLTOKEN_MAX + 1], dev[DLTOKEN_DEV_LEN + 1];
    assert_int_equal(dltoken_mint(key, 5, DEV, 1000, t), 0);
    assert_int_equal(dltoken_check(key, 5, t, 999, dev), 0);
    assert_string_equal(dev, DEV);
    assert_int_equal(dltoken_check(key, 6, t, 999, NULL), -1);   /* another package */
    assert_int_equal(dltoken_check(key, 5, t, 1000, NULL), -1);  /* expired */
    assert_int_equal(dltoken_check(other, 5, t, 999, NULL), -1); /* another key */
    for (size_t i = 0; i < strlen(t); i++) {                     /* any character altered */
        char u[DLTOKEN_MAX + 1];
        strcpy(u, t);
        u[i] = u[i] == '1' ? '2' : '1';
        assert_int_equal(dltoken_check(key, 5, u, 999, NULL), -1);
    }
    assert_int_equal(dltoken_check(key, 5, NULL, 0, NULL), -1);
    assert_int_equal(dltoken_check(key, 5, "", 0, NULL), -1);
    assert_int_equal(dltoken_check(key, 5, "x.1.y", 0, NULL), -1);
    assert_int_equal(dltoken_mint(key, 5, "short", 1000, t), -1);
}

static void test_key_derivation(void **state)
{
    (void)state;
    uint8_t mac[32] = {7}, a[DLTOKEN_KEY_LEN], b[DLTOKEN_KEY_LEN];
    assert_int_equal(dltoken_key_derive(mac, a), 0);
    assert_int_equal(dltoken_key_derive(mac, b), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, mac, sizeof a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_key_derivation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
