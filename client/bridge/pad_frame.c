/* pad_frame — see pad_frame.h. */
#include "pad_frame.h"

#include <string.h>

uint16_t pad_crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)(crc << 1 ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

size_t pad_frame_encode(uint8_t seq, uint8_t cmd, const uint8_t *data, size_t n, uint8_t *out,
                        size_t cap)
{
    if (n > PAD_FRAME_MAX_DATA || (n > 0 && !data) || !out || cap < n + PAD_FRAME_OVERHEAD)
        return 0;
    out[0] = PAD_STX;
    out[1] = seq;
    out[2] = cmd;
    pad_put16(out + 3, (uint16_t)n);
    if (n)
        memcpy(out + 5, data, n);
    pad_put16(out + 5 + n, pad_crc16(out + 1, n + 4));
    out[7 + n] = PAD_ETX;
    return n + PAD_FRAME_OVERHEAD;
}

pad_frame_status pad_frame_decode(const uint8_t *buf, size_t n, struct pad_frame *f, size_t *used)
{
    if (n == 0)
        return PAD_FRAME_NEED;
    if (buf[0] != PAD_STX)
        return PAD_FRAME_BAD_STX;
    if (n < 5)
        return PAD_FRAME_NEED;
    size_t len = pad_get16(buf + 3);
    if (len > PAD_FRAME_MAX_DATA)
        return PAD_FRAME_BAD_LEN;
    if (n < len + PAD_FRAME_OVERHEAD)
        return PAD_FRAME_NEED;
    if (pad_get16(buf + 5 + len) != pad_crc16(buf + 1, len + 4))
        return PAD_FRAME_BAD_CRC;
    if (buf[7 + len] != PAD_ETX)
        return PAD_FRAME_BAD_ETX;
    f->seq = buf[1];
    f->cmd = buf[2];
    f->data = buf + 5;
    f->len = len;
    *used = len + PAD_FRAME_OVERHEAD;
    return PAD_FRAME_OK;
}
