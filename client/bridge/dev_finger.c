/* dev_finger — see dev_finger.h. */
#include "dev_finger.h"

#include <string.h>

pad_status dev_finger_capture(struct pad_link *l, int timeout_s, uint8_t *tpl, size_t cap,
                              size_t *len)
{
    if (len)
        *len = 0;
    if (!l || !tpl || !len || timeout_s < 1 || timeout_s > 120)
        return PAD_EPARAM;
    uint8_t t = (uint8_t)timeout_s;
    struct pad_frame r;
    pad_status s = pad_link_call(l, PAD_CMD_FP_CAPTURE, &t, 1, (timeout_s + 3) * 1000, &r);
    if (s != PAD_OK)
        return s;
    size_t n = r.len - 1;
    if (n == 0 || n > DEV_FINGER_TEMPLATE_MAX)
        return PAD_EFRAME;
    if (n > cap)
        return PAD_EPARAM;
    memcpy(tpl, r.data + 1, n);
    *len = n;
    return PAD_OK;
}

pad_status dev_finger_match(struct pad_link *l, int timeout_s, const uint8_t *tpl, size_t len,
                            int *score)
{
    if (score)
        *score = 0;
    if (!l || !tpl || !score || len == 0 || len > DEV_FINGER_TEMPLATE_MAX || timeout_s < 1 ||
        timeout_s > 120)
        return PAD_EPARAM;
    uint8_t data[1 + DEV_FINGER_TEMPLATE_MAX];
    data[0] = (uint8_t)timeout_s;
    memcpy(data + 1, tpl, len);
    struct pad_frame r;
    pad_status s = pad_link_call(l, PAD_CMD_FP_MATCH, data, 1 + len, (timeout_s + 3) * 1000, &r);
    if (s != PAD_OK)
        return s;
    if (r.len != 3)
        return PAD_EFRAME;
    int v = pad_get16(r.data + 1);
    if (v > DEV_FINGER_SCORE_MAX)
        return PAD_EFRAME;
    *score = v;
    return PAD_OK;
}
