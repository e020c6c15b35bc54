#include "egress/receipt.h"

#include "channel/sm.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define RECEIPT_TEXT_MAX 4096

int receipt_sm3_hex(const uint8_t *data, size_t n, char out[65])
{
    uint8_t d[SM3_LEN];
    sm_part p = {.p = data, .n = n};
    if (sm3_digest(&p, 1, d) != SM_OK)
        return -1;
    static const char HEX[] = "0123456789abcdef";
    for (size_t i = 0; i < SM3_LEN; i++) {
        out[2 * i] = HEX[d[i] >> 4];
        out[2 * i + 1] = HEX[d[i] & 15];
    }
    out[2 * SM3_LEN] = '\0';
    return 0;
}

static enum receipt_verdict verdict(enum receipt_verdict v, const char *f, char *field,
                                    size_t fieldcap, char *msg, size_t msgcap, const char *why)
{
    snprintf(field, fieldcap, "%s", f);
    snprintf(msg, msgcap, "delivery receipt: %s", why);
    return v;
}

/* A string member of 1..max printable ASCII characters. */
static const char *text_member(json_t *o, const char *k, size_t max)
{
    json_t *v = json_object_get(o, k);
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(s) != json_string_length(v))
        return NULL;
    return s;
}

static int hexeq(const char *a, const char *b)
{
    if (strlen(a) != 64 || strlen(b) != 64)
        return 0;
    unsigned diff = 0;
    for (size_t i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)a[i]))
            return 0;
        diff |= (unsigned)(tolower((unsigned char)a[i]) ^ tolower((unsigned char)b[i]));
    }
    return diff == 0;
}

enum receipt_verdict receipt_check(const char *text, size_t len, const char *name, size_t size,
                                   const char *sm3_hex, json_t **out, char *field, size_t fieldcap,
                                   char *msg, size_t msgcap)
{
    *out = NULL;
    if (!text || len > RECEIPT_TEXT_MAX)
        return verdict(RECEIPT_MALFORMED, "receipt", field, fieldcap, msg, msgcap,
                       "missing or too long");
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    enum receipt_verdict v = RECEIPT_OK;
    json_t *sz = json_object_get(j, "size");
    const char *rn = text_member(j, "name", 255), *sm = text_member(j, "sm3", 64);
    if (!json_is_object(j))
        v = verdict(RECEIPT_MALFORMED, "receipt", field, fieldcap, msg, msgcap,
                    "not a JSON object");
    else if (!rn)
        v = verdict(RECEIPT_MALFORMED, "name", field, fieldcap, msg, msgcap, "no valid 'name'");
    else if (!json_is_integer(sz) || json_integer_value(sz) < 0)
        v = verdict(RECEIPT_MALFORMED, "size", field, fieldcap, msg, msgcap, "no valid 'size'");
    else if (!sm || strlen(sm) != 64)
        v = verdict(RECEIPT_MALFORMED, "sm3", field, fieldcap, msg, msgcap, "no valid 'sm3'");
    else if (!text_member(j, "receipt_no", 64))
        v = verdict(RECEIPT_MALFORMED, "receipt_no", field, fieldcap, msg, msgcap,
                    "no valid 'receipt_no'");
    else if (!text_member(j, "received_at", 64))
        v = verdict(RECEIPT_MALFORMED, "received_at", field, fieldcap, msg, msgcap,
                    "no valid 'received_at'");
    else if (strcmp(rn, name) != 0)
        v = verdict(RECEIPT_MISMATCH, "name", field, fieldcap, msg, msgcap,
                    "it names another file");
    else if ((unsigned long long)json_integer_value(sz) != (unsigned long long)size)
        v = verdict(RECEIPT_MISMATCH, "size", field, fieldcap, msg, msgcap,
                    "the size received differs from the size sent");
    else if (!hexeq(sm, sm3_hex))
        v = verdict(RECEIPT_MISMATCH, "sm3", field, fieldcap, msg, msgcap,
                    "the SM3 of what was received differs from what was sent");
    if (v == RECEIPT_OK)
        *out = j;
    else
        json_decref(j);
    return v;
}
