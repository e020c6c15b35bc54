/* fuzz_mapping — a downstream system's reply through mapping_decode, as the
 * egress gateway converts it: the fixed-length record of a TCP reply (after
 * framing) or the body of an HTTP/JSON reply, for every mapping in
 * conf/mappings. The TCP frame prefix parser runs on the first six bytes.
 *
 * Input: one selector byte (the mapping, in name order), then the reply.
 * Contracts checked:
 *   - OK and BUSINESS carry a JSON object, FAULT and MALFORMED nothing;
 *   - OK: the status (if declared) is an "ok" code; a fixlen reply is the
 *     whole record; every field not skipped is there under its platform
 *     key (JSON: every required one, of its declared type), nothing else;
 *   - BUSINESS: a code that is neither "ok" nor "fault"; FAULT: a "fault" code;
 *   - MALFORMED says what is wrong; every message is valid UTF-8 and fits;
 *   - six digits parse to the length that tcp_frame_prefix writes back. */
#include "egress/conn_tcp.h"
#include "egress/mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static struct mapping_set set;

static void init_once(void)
{
    char err[512];
    if (mapping_load_dir(ZHANYE_SRC_DIR "/conf/mappings", &set, err, sizeof err) || set.n == 0) {
        fprintf(stderr, "fuzz_mapping: no mappings: %s\n", err);
        abort();
    }
}

static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t k = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;
        if (*p >= 0xF8 || (*p & 0xC0) == 0x80)
            return false;
        for (size_t i = 1; i <= k; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += k + 1;
    }
    return true;
}

static bool in_codes(const char codes[][32], int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (strcmp(codes[i], code) == 0)
            return true;
    return false;
}

static bool type_ok(enum mapping_jtype t, json_t *v)
{
    switch (t) {
    case JT_ANY:
        return true;
    case JT_STRING:
        return json_is_string(v);
    case JT_INTEGER:
        return json_is_integer(v);
    case JT_NUMBER:
        return json_is_number(v);
    case JT_BOOLEAN:
        return json_is_boolean(v);
    case JT_OBJECT:
        return json_is_object(v);
    case JT_ARRAY:
        return json_is_array(v);
    }
    return false;
}

/* An OK reply holds the response's fields, each under its platform key. */
static void check_ok_fields(const struct mapping *m, size_t len, json_t *out)
{
    size_t want = 0;
    if (m->format == MAPPING_FIXLEN) {
        CHECK(len == m->resp_fix.length);
        for (size_t i = 0; i < m->resp_fix.nfields; i++) {
            const struct fixlen_field *f = &m->resp_fix.fields[i];
            json_t *v = json_object_get(out, fixlen_key(f));
            CHECK(f->skip ? v == NULL : v != NULL);
            want += !f->skip;
        }
        CHECK(json_object_size(out) == want);
        return;
    }
    for (size_t i = 0; i < m->resp_json.nfields; i++) {
        const struct json_field *f = &m->resp_json.fields[i];
        json_t *v = json_object_get(out, f->key);
        if (f->skip) {
            CHECK(v == NULL);
            continue;
        }
        CHECK(v || !f->required);
        CHECK(!v || type_ok(f->type, v));
        want += v != NULL;
    }
    CHECK(json_object_size(out) == want);
}

static void check_frame_prefix(const uint8_t *p, size_t n)
{
    char text[TCP_FRAME_DIGITS + 1];
    size_t len = 0;
    if (n < TCP_FRAME_DIGITS)
        return;
    bool digits = true;
    for (size_t i = 0; i < TCP_FRAME_DIGITS; i++)
        digits = digits && p[i] >= '0' && p[i] <= '9';
    int rc = tcp_frame_parse((const char *)p, &len);
    CHECK((rc == 0) == digits);
    if (rc == 0) {
        CHECK(len <= TCP_FRAME_MAX);
        CHECK(tcp_frame_prefix(len, text) == 0 && memcmp(text, p, TCP_FRAME_DIGITS) == 0);
    }
    CHECK(tcp_frame_prefix(TCP_FRAME_MAX + 1 + n, text) == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!set.n)
        init_once();
    if (size < 1)
        return 0;
    const struct mapping *m = &set.m[data[0] % set.n];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    check_frame_prefix(data + 1, len);

    json_t *out = (json_t *)1;
    struct mapping_result r;
    enum mapping_verdict v = mapping_decode(m, body, len, &out, &r);
    CHECK(v == r.verdict);
    CHECK(strlen(r.message) < sizeof r.message && utf8_ok(r.message));
    CHECK(strlen(r.field) < sizeof r.field && strlen(r.code) < sizeof r.code);
    const struct mapping_status *s = &m->status;
    switch (v) {
    case MAPPING_REPLY_OK:
        CHECK(json_is_object(out));
        CHECK(!s->present || in_codes(s->ok, s->nok, r.code));
        check_ok_fields(m, len, out);
        break;
    case MAPPING_REPLY_BUSINESS:
        CHECK(json_is_object(out) && s->present);
        CHECK(!in_codes(s->ok, s->nok, r.code) && !in_codes(s->fault, s->nfault, r.code));
        break;
    case MAPPING_REPLY_FAULT:
        CHECK(out == NULL && s->present && in_codes(s->fault, s->nfault, r.code));
        break;
    case MAPPING_REPLY_MALFORMED:
        CHECK(out == NULL && r.message[0]);
        break;
    default:
        CHECK(0);
    }
    json_decref(out);
    return 0;
}
