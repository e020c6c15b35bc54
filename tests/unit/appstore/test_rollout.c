/* rollout: a 30% rollout reaches 30% ± 5% of 1,000 simulated devices, the
 * same ones every time; raising the percentage only adds devices; 0 and
 * 100 are none and all; the bucket is the documented SM3 function. */
#include "appstore/rollout.h"
#include "channel/sm.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define N 1000

/* Device ids as the server makes them: 32 lowercase hex, here from SM3(i). */
static void device(int i, char dev[33])
{
    char seed[16];
    uint8_t h[SM3_LEN];
    snprintf(seed, sizeof seed, "dev%d", i);
    sm_part p = {seed, strlen(seed)};
    assert_int_equal(sm3_digest(&p, 1, h), SM_OK);
    for (int k = 0; k < 16; k++)
        snprintf(dev + 2 * k, 3, "%02x", h[k]);
}

static int reached(int64_t pkg, int percent)
{
    char dev[33];
    int n = 0;
    for (int i = 0; i < N; i++) {
        device(i, dev);
        n += pkg_rollout_includes(pkg, dev, percent);
    }
    return n;
}

static void test_thirty_percent(void **state)
{
    (void)state;
    for (int64_t pkg = 1; pkg <= 5; pkg++) {
        int n = reached(pkg, 30);
        if (n < 250 || n > 350)
            fail_msg("package %lld: a 30%% rollout reached %d of %d devices", (long long)pkg, n, N);
        assert_int_equal(reached(pkg, 30), n); /* deterministic */
    }
}

static void test_monotonic_and_bounds(void **state)
{
    (void)state;
    char dev[33];
    for (int i = 0; i < N; i++) {
        device(i, dev);
        int b = pkg_bucket(7, dev);
        assert_in_range(b, 0, 99);
        assert_int_equal(pkg_bucket(7, dev), b);
        for (int p = 0; p <= 100; p += 10)
            assert_int_equal(pkg_rollout_includes(7, dev, p), b < p);
        assert_false(pkg_rollout_includes(7, dev, 0));
        assert_true(pkg_rollout_includes(7, dev, 100));
    }
    assert_int_equal(reached(9, 0), 0);
    assert_int_equal(reached(9, 100), N);
}

/* The bucket is first 4 bytes of SM3(decimal id || dev), big-endian, mod 100. */
static void test_bucket_definition(void **state)
{
    (void)state;
    const char *dev = "0123456789abcdef0123456789abcdef";
    uint8_t h[SM3_LEN];
    sm_part p[] = {{"42", 2}, {dev, 32}};
    assert_int_equal(sm3_digest(p, 2, h), SM_OK);
    uint32_t v = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    assert_int_equal(pkg_bucket(42, dev), (int)(v % 100));
    /* another package splits the fleet otherwise */
    int differ = 0;
    char d[33];
    for (int i = 0; i < 100; i++) {
        device(i, d);
        differ += pkg_bucket(1, d) != pkg_bucket(2, d);
    }
    assert_true(differ > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thirty_percent),
        cmocka_unit_test(test_monotonic_and_bounds),
        cmocka_unit_test(test_bucket_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
