#include "appstore/dltoken.h"
#include "channel/sm.h"
#include "foundation/secmem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int mac_hex(const uint8_t key[DLTOKEN_KEY_LEN], int64_t pkg_id, const char *dev,
                   int64_t exp_s, char out[65])
{
    char msg[128];
    int n = snprintf(msg, sizeof msg, "zhanye store dl v1|%lld|%.*s|%lld", (long long)pkg_id,
                     DLTOKEN_DEV_LEN, dev, (long long)exp_s);
    uint8_t tag[SM3_LEN];
    sm_part part = {msg, (size_t)n};
    if (n < 0 || (size_t)n >= sizeof msg || sm_hmac(key, DLTOKEN_KEY_LEN, &part, 1, tag) != SM_OK)
        return -1;
    for (int i = 0; i < SM3_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", tag[i]);
    secmem_wipe(tag, sizeof tag);
    return 0;
}

int dltoken_mint(const uint8_t key[DLTOKEN_KEY_LEN], int64_t pkg_id, const char *dev, int64_t exp_s,
                 char out[DLTOKEN_MAX + 1])
{
    char mac[65];
    out[0] = '\0';
    if (!dev || strlen(dev) != DLTOKEN_DEV_LEN || !is_hex(dev, DLTOKEN_DEV_LEN) || exp_s < 0 ||
        mac_hex(key, pkg_id, dev, exp_s, mac) != 0)
        return -1;
    snprintf(out, DLTOKEN_MAX + 1, "%s.%lld.%s", dev, (long long)exp_s, mac);
    return 0;
}

int dltoken_check(const uint8_t key[DLTOKEN_KEY_LEN], int64_t pkg_id, const char *token,
                  int64_t now_s, char dev[DLTOKEN_DEV_LEN + 1])
{
    if (!token || strnlen(token, DLTOKEN_MAX + 1) > DLTOKEN_MAX)
        return -1;
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || d1 - token != DLTOKEN_DEV_LEN || !is_hex(token, DLTOKEN_DEV_LEN) ||
        strlen(d2 + 1) != 64 || d2 - d1 - 1 < 1 || d2 - d1 - 1 > 19)
        return -1;
    int64_t exp_s = 0;
    for (const char *p = d1 + 1; p < d2; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        exp_s = exp_s * 10 + (*p - '0');
    }
    char want[65];
    if (mac_hex(key, pkg_id, token, exp_s, want) != 0)
        return -1;
    bool ok = secmem_equal(want, d2 + 1, 64);
    secmem_wipe(want, sizeof want);
    if (!ok || now_s >= exp_s)
        return -1;
    if (dev) {
        memcpy(dev, token, DLTOKEN_DEV_LEN);
        dev[DLTOKEN_DEV_LEN] = '\0';
    }
    return 0;
}

int dltoken_key_derive(const uint8_t kek_mac[32], uint8_t out[DLTOKEN_KEY_LEN])
{
    static const char label[] = "zhanye store token v1";
    sm_part part = {label, sizeof label - 1};
    return sm_hmac(kek_mac, 32, &part, 1, out) == SM_OK ? 0 : -1;
}
