/* pad_frame — the one serial framing of our PIN pad, signature pad and
 * fingerprint reader (docs/peripherals.md, "PIN pad, signature pad,
 * fingerprint"). Pure functions: no I/O, no allocation, safe on any input.
 *
 *   STX(0x02) SEQ(1) CMD(1) LEN(2, big-endian) DATA(LEN) CRC(2, big-endian) ETX(0x03)
 *
 * CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no
 * xorout) over SEQ, CMD, LEN and DATA. LEN is at most PAD_FRAME_MAX_DATA.
 * A reply carries the request's SEQ and CMD | 0x80, its first data byte is
 * a pad status (PAD_ST_*); unsolicited events (signature points) carry the
 * SEQ of the command they belong to; a malformed or unknown command is
 * answered PAD_CMD_NAK with one reason byte. */
#ifndef ZHANYE_BRIDGE_PAD_FRAME_H
#define ZHANYE_BRIDGE_PAD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PAD_STX 0x02
#define PAD_ETX 0x03
#define PAD_FRAME_MAX_DATA 2048
#define PAD_FRAME_OVERHEAD 8 /* STX SEQ CMD LEN(2) CRC(2) ETX */
#define PAD_FRAME_MAX (PAD_FRAME_MAX_DATA + PAD_FRAME_OVERHEAD)

/* Commands (host -> pad); the reply is CMD | PAD_REPLY. */
#define PAD_REPLY 0x80
#define PAD_CMD_INFO 0x01         /* -> status, model name (ASCII) */
#define PAD_CMD_PIN_LOAD_KEY 0x10 /* PIN key under the master key (16) + check value (4) */
#define PAD_CMD_PIN_BLOCK 0x11    /* format, min, max, timeout s, PAN (ASCII digits) */
#define PAD_CMD_SIG_START 0x20    /* width(2) height(2) timeout s(1) -> events, then reply */
#define PAD_CMD_FP_CAPTURE 0x30   /* timeout s(1) -> status, template */
#define PAD_CMD_FP_MATCH 0x31     /* timeout s(1), template -> status, score(2, 0..1000) */
/* Events (pad -> host) during PAD_CMD_SIG_START. */
#define PAD_EV_SIG_POINTS 0x40 /* n points of 12 bytes: stroke(2) x(2) y(2) p(2) t_ms(4) */
#define PAD_EV_SIG_CLEAR 0x41  /* the customer pressed clear: strokes so far discarded */
#define PAD_CMD_NAK 0x15       /* pad -> host: reason(1) = PAD_FRAME_* of the bad command */

/* Pad status, the first data byte of every reply. */
enum {
    PAD_ST_OK = 0x00,
    PAD_ST_CANCELLED = 0x01, /* the customer pressed cancel */
    PAD_ST_TIMEOUT = 0x02,   /* the customer did nothing within the timeout */
    PAD_ST_PIN_SHORT = 0x03, /* PIN shorter than the minimum (confirmed anyway) */
    PAD_ST_NO_FINGER = 0x04,
    PAD_ST_POOR_QUALITY = 0x05,
    PAD_ST_NO_KEY = 0x06,    /* no PIN key loaded */
    PAD_ST_BAD_PARAM = 0x07, /* a parameter out of range (PAN, format, template) */
    PAD_ST_KEY_CHECK = 0x08, /* the loaded key's check value does not match */
};

typedef enum {
    PAD_FRAME_OK = 0,
    PAD_FRAME_NEED = 1,    /* a valid prefix: more bytes needed */
    PAD_FRAME_BAD_STX = 2, /* the first byte is not STX */
    PAD_FRAME_BAD_LEN = 3, /* LEN above PAD_FRAME_MAX_DATA */
    PAD_FRAME_BAD_CRC = 4,
    PAD_FRAME_BAD_ETX = 5,
} pad_frame_status;

struct pad_frame {
    uint8_t seq;
    uint8_t cmd;
    const uint8_t *data; /* points into the decoded buffer */
    size_t len;
};

/* CRC-16/CCITT-FALSE of p[0..n) ("123456789" -> 0x29B1). */
uint16_t pad_crc16(const uint8_t *p, size_t n);

/* Writes one frame to out; its length, or 0 when n > PAD_FRAME_MAX_DATA,
 * data is NULL with n > 0, or cap < n + PAD_FRAME_OVERHEAD. */
size_t pad_frame_encode(uint8_t seq, uint8_t cmd, const uint8_t *data, size_t n, uint8_t *out,
                        size_t cap);

/* Decodes the frame at the start of buf[0..n). PAD_FRAME_OK: *f filled
 * (f->data points into buf) and *used = the frame's length. PAD_FRAME_NEED:
 * buf is a valid prefix (also n == 0). Any other status: buf does not
 * start with a frame; a reader skips one byte (or to the next STX) and
 * tries again. *used is set only on PAD_FRAME_OK. */
pad_frame_status pad_frame_decode(const uint8_t *buf, size_t n, struct pad_frame *f, size_t *used);

/* Big-endian helpers of the data fields. */
static inline uint16_t pad_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t pad_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void pad_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void pad_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
