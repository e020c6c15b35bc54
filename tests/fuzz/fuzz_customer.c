/* fuzz_customer — the customer validators on arbitrary bytes, against
 * independent oracles (customer_id.h, customer_profile.h):
 *   - cid_resident / cid_uscc / cid_mobile accept exactly what the standard
 *     says (recomputed here: GB 11643's MOD 11-2 check, GB 32100's MOD 31
 *     check, the mobile plan), normalise (x -> X, lowercase -> uppercase)
 *     and accept their own output again unchanged;
 *   - cp_apply on the bytes as a JSON object never crashes, and a record it
 *     accepts is a fixed point: applying the record to an empty one gives
 *     the same record. */
#include "business/customer_id.h"
#include "business/customer_profile.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define TODAY 20260315

static bool oracle_resident(const char *s)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    if (strlen(s) != 18)
        return false;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        sum += (s[i] - '0') * w[i];
    }
    char want = "10X98765432"[sum % 11];
    char got = s[17] == 'x' ? 'X' : s[17];
    return got == want;
}

static bool oracle_uscc(const char *s)
{
    static const char a[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    if (strlen(s) != 18)
        return false;
    int sum = 0, pw = 1, last = -1;
    for (int i = 0; i < 18; i++) {
        char c = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
        const char *p = c ? strchr(a, c) : NULL;
        if (!p)
            return false;
        if (i < 17)
            sum += (int)(p - a) * pw;
        else
            last = (int)(p - a);
        pw = pw * 3 % 31;
    }
    return last == (31 - sum % 31) % 31;
}

static void ids(const char *s)
{
    char out[CID_LEN + 1], again[CID_LEN + 1];
    if (cid_resident(s, TODAY, out) == CID_OK) {
        CHECK(oracle_resident(s));
        CHECK(strchr(out, 'x') == NULL);
        CHECK(cid_resident(out, TODAY, again) == CID_OK && strcmp(out, again) == 0);
        int32_t b = cid_birth(out);
        CHECK(b >= 18500101 && b <= TODAY);
    }
    if (cid_uscc(s, out) == CID_OK) {
        CHECK(oracle_uscc(s));
        CHECK(cid_uscc(out, again) == CID_OK && strcmp(out, again) == 0);
        for (int i = 0; i < CID_LEN; i++)
            CHECK(!(out[i] >= 'a' && out[i] <= 'z'));
    }
    char ph[CID_PHONE_LEN + 1];
    if (cid_mobile(s, ph) == CID_OK) {
        CHECK(strlen(s) == 11 && s[0] == '1' && s[1] >= '3' && strcmp(ph, s) == 0);
        for (int i = 0; i < 11; i++)
            CHECK(s[i] >= '0' && s[i] <= '9');
    }
}

static void record(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    if (!json_is_object(in)) {
        json_decref(in);
        return;
    }
    struct cp_error e;
    json_t *rec = json_object();
    int rc = cp_apply(rec, in, TODAY, &e);
    CHECK(rc == CP_OK || rc == CP_BAD);
    if (rc == CP_BAD) /* field is the member's own name: "" for a member named "" */
        CHECK(e.msg[0] != '\0' && (e.field[0] != '\0' || json_object_get(in, "")));
    if (rc == CP_OK) {
        json_t *again = json_object();
        CHECK(cp_apply(again, rec, TODAY, &e) == CP_OK);
        CHECK(json_equal(again, rec));
        json_decref(again);
    }
    json_decref(rec);
    json_decref(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    ids(s);
    free(s);
    record(data, size);
    return 0;
}
