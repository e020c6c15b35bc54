/* customer_seal.c — blind indexes and sealed JSON (see customer_seal.h). */
#include "business/customer_seal.h"

#include "channel/sm.h"
#include "foundation/codec.h"
#include "foundation/secmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char INDEX_LABEL[] = "zhanye customer index v1";

int cs_index(const struct kek *k, int64_t bank_id, const char *what, const char *value,
             char out[CS_INDEX_HEX + 1])
{
    uint8_t key[SM3_LEN], mac[SM3_LEN];
    char bank[24];
    if (!k || !what || !value || bank_id <= 0)
        return CS_ERR;
    snprintf(bank, sizeof bank, "%" PRId64, bank_id);
    sm_part label = {INDEX_LABEL, sizeof INDEX_LABEL - 1};
    sm_part parts[] = {
        {bank, strlen(bank)}, {"|", 1}, {what, strlen(what)}, {"|", 1}, {value, strlen(value)}};
    int rc = CS_ERR;
    if (sm_hmac(k->mac, sizeof k->mac, &label, 1, key) == SM_OK &&
        sm_hmac(key, sizeof key, parts, sizeof parts / sizeof parts[0], mac) == SM_OK &&
        hex_encode(mac, sizeof mac, out, CS_INDEX_HEX + 1) == CS_INDEX_HEX)
        rc = CS_OK;
    secmem_wipe(key, sizeof key);
    return rc;
}

int cs_seal_json(const struct kek *k, const char *context, const json_t *j, uint8_t **out,
                 size_t *n)
{
    *out = NULL;
    *n = 0;
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
        return CS_ERR;
    size_t len = strlen(text);
    size_t cap = kek_sealed_len(len);
    uint8_t *buf = malloc(cap);
    int rc = buf && kek_seal(k, context, (const uint8_t *)text, len, buf, cap, n) == ID_OK ? CS_OK
                                                                                           : CS_ERR;
    secmem_wipe(text, len);
    free(text);
    if (rc == CS_OK)
        *out = buf;
    else
        free(buf);
    return rc;
}

int cs_open_json(const struct kek *k, const char *context, const uint8_t *in, size_t n,
                 json_t **out)
{
    *out = NULL;
    if (!in || n <= KEK_OVERHEAD)
        return CS_CORRUPT;
    size_t cap = n - KEK_OVERHEAD, len = 0;
    uint8_t *text = malloc(cap + 1);
    if (!text)
        return CS_ERR;
    int rc = kek_open(k, context, in, n, text, cap, &len);
    if (rc == ID_OK) {
        json_error_t jerr;
        *out = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
        rc = *out ? CS_OK : CS_CORRUPT;
    } else {
        rc = rc == ID_CORRUPT || rc == ID_BAD_INPUT ? CS_CORRUPT : CS_ERR;
    }
    secmem_wipe(text, cap + 1);
    free(text);
    return rc;
}
