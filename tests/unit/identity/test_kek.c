/* Unit tests for identity/kek: the key file (created once, 0600, refused
 * when readable by others) and SM4-CBC + HMAC-SM3 sealing. */
#include "foundation/secmem.h"

#include "idtest.h"

#include <fcntl.h>
#include <sys/stat.h>

static void kek_file(struct fx *f, char *out, size_t cap)
{
    assert_int_equal(kek_path(f->keys, out, cap), 0);
}

static void test_file(void **state)
{
    struct fx *f = *state;
    char path[160], text[80];
    struct stat st;
    struct kek k;
    kek_file(f, path, sizeof path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(text, sizeof text, fp));
    fclose(fp);
    assert_int_equal(strspn(text, "0123456789abcdef"), 64);
    assert_int_equal(kek_create(f->keys), ID_EXISTS); /* never overwritten */
    assert_int_equal(kek_load(path, &k), ID_OK);
    assert_memory_equal(&k, &f->kek, sizeof k);
    kek_wipe(&k);

    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(kek_load(path, &k), ID_BAD_INPUT);
    assert_int_equal(chmod(path, 0600), 0);
    snprintf(path, sizeof path, "%s/missing", f->dir);
    assert_int_equal(kek_load(path, &k), ID_NOT_FOUND);
    snprintf(path, sizeof path, "%s/short", f->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "abcd\n", 5), 5);
    close(fd);
    assert_int_equal(kek_load(path, &k), ID_BAD_INPUT);
}

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    uint8_t plain[100], sealed[200], again[200], out[200];
    size_t n = 0, m = 0, len = 0;
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 7 + 1);
    static const size_t sizes[] = {0, 1, 15, 16, 17, 32, 100};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t sz = sizes[i];
        assert_int_equal(kek_seal(&f->kek, "ctx|1", plain, sz, sealed, sizeof sealed, &n), ID_OK);
        assert_int_equal(n, kek_sealed_len(sz));
        assert_int_equal(kek_open(&f->kek, "ctx|1", sealed, n, out, sizeof out, &len), ID_OK);
        assert_int_equal(len, sz);
        if (sz)
            assert_memory_equal(out, plain, sz);
    }
    /* A fresh IV every time. */
    assert_int_equal(kek_seal(&f->kek, "c", plain, 32, sealed, sizeof sealed, &n), ID_OK);
    assert_int_equal(kek_seal(&f->kek, "c", plain, 32, again, sizeof again, &m), ID_OK);
    assert_int_equal(n, m);
    assert_memory_not_equal(sealed, again, n);
    /* Short output buffers are refused, not truncated. */
    assert_int_equal(kek_seal(&f->kek, "c", plain, 32, sealed, kek_sealed_len(32) - 1, &n),
                     ID_BAD_INPUT);
    assert_int_equal(kek_seal(&f->kek, "c", plain, 32, sealed, sizeof sealed, &n), ID_OK);
    assert_int_equal(kek_open(&f->kek, "c", sealed, n, out, 16, &len), ID_BAD_INPUT);
}

static void test_tamper(void **state)
{
    struct fx *f = *state;
    uint8_t plain[32] = {1, 2, 3}, sealed[128], out[128];
    size_t n = 0, len = 0;
    assert_int_equal(kek_seal(&f->kek, "ds|abc", plain, sizeof plain, sealed, sizeof sealed, &n),
                     ID_OK);
    for (size_t i = 1; i < n; i++) {
        sealed[i] ^= 0x01;
        assert_int_equal(kek_open(&f->kek, "ds|abc", sealed, n, out, sizeof out, &len), ID_CORRUPT);
        sealed[i] ^= 0x01;
    }
    sealed[0] ^= 0x01; /* the version */
    assert_int_equal(kek_open(&f->kek, "ds|abc", sealed, n, out, sizeof out, &len), ID_BAD_INPUT);
    sealed[0] ^= 0x01;
    assert_int_equal(kek_open(&f->kek, "ds|abd", sealed, n, out, sizeof out, &len), ID_CORRUPT);
    assert_int_equal(kek_open(&f->kek, "ds|abc", sealed, n - 16, out, sizeof out, &len),
                     ID_CORRUPT);
    assert_int_equal(kek_open(&f->kek, "ds|abc", sealed, n - 1, out, sizeof out, &len),
                     ID_BAD_INPUT);
    assert_int_equal(kek_open(&f->kek, "ds|abc", sealed, n, out, sizeof out, &len), ID_OK);
    assert_memory_equal(out, plain, sizeof plain);

    struct kek other;
    char path[160];
    snprintf(path, sizeof path, "%s/other", f->dir);
    assert_int_equal(kek_create(path), ID_OK);
    snprintf(path, sizeof path, "%s/other/kek", f->dir);
    assert_int_equal(kek_load(path, &other), ID_OK);
    assert_memory_not_equal(&other, &f->kek, sizeof other);
    assert_int_equal(kek_open(&other, "ds|abc", sealed, n, out, sizeof out, &len), ID_CORRUPT);
    kek_wipe(&other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tamper, fx_setup_empty, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
