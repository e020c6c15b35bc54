/* Shared helpers of the channel unit tests: the ZY1 vectors file
 * (spec/secure-channel-vectors.json, found through $ZHANYE_SRC) and small
 * conveniences to read hex and base64 members of it. Values are looked up by
 * dotted path ("keys.Kenc"); a missing vector fails the test. */
#ifndef ZHANYE_CHANNEL_TEST_H
#define ZHANYE_CHANNEL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "foundation/codec.h"

static json_t *ct_vectors_root;

/* Helpers are static so each test is one file; not every test uses all. */
#define CT_HELPER static __attribute__((unused))

CT_HELPER json_t *ct_vectors(void)
{
    if (!ct_vectors_root) {
        const char *src = getenv("ZHANYE_SRC");
        char path[4096];
        json_error_t err;
        snprintf(path, sizeof path, "%s/spec/secure-channel-vectors.json", src ? src : ".");
        ct_vectors_root = json_load_file(path, 0, &err);
        if (!ct_vectors_root)
            fail_msg("cannot load %s: %s", path, err.text);
    }
    return ct_vectors_root;
}

CT_HELPER void ct_vectors_free(void)
{
    json_decref(ct_vectors_root);
    ct_vectors_root = NULL;
}

CT_HELPER json_t *vget(const char *dotted)
{
    char buf[256];
    json_t *v = ct_vectors();
    snprintf(buf, sizeof buf, "%s", dotted);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        v = json_object_get(v, k);
    if (!v)
        fail_msg("no vector %s", dotted);
    return v;
}

CT_HELPER const char *vstr(const char *dotted)
{
    json_t *v = vget(dotted);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* Hex vector of exactly n bytes. */
CT_HELPER void vhex(const char *dotted, uint8_t *out, size_t n)
{
    const char *s = vstr(dotted);
    assert_int_equal(hex_decode(s, strlen(s), out, n), (long)n);
}

/* Base64 vector; returns its length. */
CT_HELPER size_t vb64(const char *dotted, uint8_t *out, size_t cap)
{
    const char *s = vstr(dotted);
    long n = b64_decode(s, strlen(s), out, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

/* A vector body serialised compactly, members in the file's order; free(). */
CT_HELPER char *vbody(const char *dotted)
{
    char *s = json_dumps(vget(dotted), JSON_COMPACT);
    if (!s)
        abort(); /* cmocka's asserts are not noreturn; keep the optimiser sure */
    return s;
}

#endif
