/* vrec_seal: a recording's track sealed chunk by chunk under the KEK.
 * Any range opens to the clear bytes (across chunk boundaries, the last
 * short chunk); the SM3 is the clear file's; the file at rest holds none of
 * the clear bytes; a flipped byte fails its chunk only; another context
 * (another recording or track), another size, a truncated file and another
 * KEK fail. */
#include "business/vrec_seal.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define N (3 * VREC_CHUNK + 1234)
#define CTX "vrec|2|7|1"

static char dir[] = "/tmp/vrec_seal_XXXXXX";
static char clear[PATH_MAX], sealed[PATH_MAX];
static uint8_t *data;
static struct kek k;

static void put(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    uint8_t *p = malloc(*n);
    assert_int_equal(fread(p, 1, *n, f), *n);
    fclose(f);
    return p;
}

static bool opens(const struct kek *kk, const char *ctx, int64_t size, int64_t off, size_t len)
{
    uint8_t *out = NULL;
    if (vrec_open_range(kk, ctx, sealed, size, off, len, &out) != 0)
        return false;
    bool same = memcmp(out, data + off, len) == 0;
    free(out);
    return same;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(clear, sizeof clear, "%s/track.webm", dir);
    snprintf(sealed, sizeof sealed, "%s/track.webm.zyv", dir);
    data = malloc(N);
    if (!data || RAND_bytes(data, N) != 1 || RAND_bytes(k.enc, sizeof k.enc) != 1 ||
        RAND_bytes(k.mac, sizeof k.mac) != 1)
        return -1;
    put(clear, data, N);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(clear);
    unlink(sealed);
    rmdir(dir);
    free(data);
    return 0;
}

static void round_trip(void **state)
{
    (void)state;
    char hex[65], msg[256], want[65];
    int64_t size = 0;
    assert_int_equal(vrec_seal_file(&k, CTX, clear, sealed, hex, &size, msg, sizeof msg), 0);
    assert_int_equal(size, N);
    uint8_t dig[32];
    unsigned dl = 0;
    assert_int_equal(EVP_Digest(data, N, dig, &dl, EVP_sm3(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", dig[i]);
    assert_string_equal(hex, want);
    /* never over an existing file */
    assert_int_equal(vrec_seal_file(&k, CTX, clear, sealed, hex, &size, msg, sizeof msg), -1);
    assert_true(opens(&k, CTX, N, 0, N));
    assert_true(opens(&k, CTX, N, VREC_CHUNK - 10, 20));        /* across a boundary */
    assert_true(opens(&k, CTX, N, N - 100, 100));               /* the short last chunk */
    assert_true(opens(&k, CTX, N, 2 * VREC_CHUNK, VREC_CHUNK)); /* one whole chunk */
    assert_false(opens(&k, CTX, N, N - 10, 11));                /* past the end */
    size_t n = 0;
    uint8_t *at_rest = slurp(sealed, &n);
    assert_memory_equal(at_rest, "ZYVREC01", 8);
    assert_null(memmem(at_rest, n, data + 5000, 32));
    free(at_rest);
}

static void tampering_fails(void **state)
{
    (void)state;
    struct kek other = k;
    other.mac[0] ^= 1;
    assert_false(opens(&other, CTX, N, 0, 100));
    assert_false(opens(&k, "vrec|2|8|1", N, 0, 100)); /* another recording's */
    assert_false(opens(&k, "vrec|2|7|0", N, 0, 100)); /* another track's */
    assert_false(opens(&k, CTX, N - 1, 0, 100));      /* another size */
    /* a byte flipped in chunk 2: that chunk fails, chunk 0 still opens */
    size_t n = 0;
    uint8_t *p = slurp(sealed, &n), *orig = malloc(n);
    memcpy(orig, p, n);
    p[16 + 2 * kek_sealed_len(VREC_CHUNK) + 100] ^= 0x40;
    unlink(sealed);
    put(sealed, p, n);
    assert_true(opens(&k, CTX, N, 0, 100));
    assert_false(opens(&k, CTX, N, 2 * VREC_CHUNK + 5, 10));
    /* truncated: the last chunk is gone */
    unlink(sealed);
    put(sealed, orig, n - 40);
    assert_false(opens(&k, CTX, N, N - 10, 10));
    free(p);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(tampering_fails),
    };
    return cmocka_run_group_tests_name("vrec_seal", tests, setup, teardown);
}
