/* dev_pin — see dev_pin.h. */
#include "dev_pin.h"

#include <stdbool.h>
#include <openssl/crypto.h>
#include <string.h>

/* Secrets are wiped with OPENSSL_cleanse (the pads do not link the core
 * library, where secmem_wipe lives). */
#define wipe OPENSSL_cleanse

pad_status dev_pin_load_key(struct pad_link *l, const uint8_t enc_key[DEV_PIN_KEY_LEN],
                            const uint8_t kcv[DEV_PIN_KCV_LEN], int timeout_ms)
{
    if (!l || !enc_key || !kcv || timeout_ms <= 0)
        return PAD_EPARAM;
    uint8_t data[DEV_PIN_KEY_LEN + DEV_PIN_KCV_LEN];
    memcpy(data, enc_key, DEV_PIN_KEY_LEN);
    memcpy(data + DEV_PIN_KEY_LEN, kcv, DEV_PIN_KCV_LEN);
    struct pad_frame r;
    pad_status s = pad_link_call(l, PAD_CMD_PIN_LOAD_KEY, data, sizeof data, timeout_ms, &r);
    wipe(data, sizeof data);
    return s;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

pad_status dev_pin_block(struct pad_link *l, const struct dev_pin_request *rq,
                         char out[DEV_PIN_BLOCK_HEX])
{
    if (out)
        out[0] = '\0';
    if (!l || !rq || !rq->pan || !out)
        return PAD_EPARAM;
    size_t plen = strlen(rq->pan);
    if (plen < 12 || plen > 19 || !digits(rq->pan, plen))
        return PAD_EPARAM;
    if ((rq->format != DEV_PIN_ISO0 && rq->format != DEV_PIN_SM4_16) || rq->min_len < 4 ||
        rq->max_len > 12 || rq->min_len > rq->max_len || rq->timeout_s < 1 || rq->timeout_s > 120)
        return PAD_EPARAM;
    uint8_t data[4 + 19];
    data[0] = (uint8_t)rq->format;
    data[1] = (uint8_t)rq->min_len;
    data[2] = (uint8_t)rq->max_len;
    data[3] = (uint8_t)rq->timeout_s;
    memcpy(data + 4, rq->pan, plen);
    struct pad_frame r;
    pad_status s =
        pad_link_call(l, PAD_CMD_PIN_BLOCK, data, 4 + plen, (rq->timeout_s + 3) * 1000, &r);
    if (s != PAD_OK)
        return s;
    if (r.len != 1 + 16)
        return PAD_EFRAME;
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = hex[r.data[1 + i] >> 4];
        out[2 * i + 1] = hex[r.data[1 + i] & 15];
    }
    out[32] = '\0';
    wipe(l->frame, sizeof l->frame);
    return PAD_OK;
}
