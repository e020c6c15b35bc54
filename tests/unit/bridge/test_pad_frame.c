/* pad_frame: the pads' serial framing (client/bridge/pad_frame.h) on
 * hand-built frames: the CRC's check value, a round trip, every prefix
 * needing more bytes, and each malformed kind (STX, length, CRC, ETX) an
 * error, never a read past the buffer (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bridge/pad_frame.h"

static void test_crc_check_value(void **state)
{
    /* CRC-16/CCITT-FALSE check value. */
    assert_int_equal(pad_crc16((const uint8_t *)"123456789", 9), 0x29B1);
    assert_int_equal(pad_crc16(NULL, 0), 0xFFFF);
}

static void test_hand_built(void **state)
{
    /* INFO command, seq 7, no data, written out byte by byte. */
    uint8_t hdr[4] = {0x07, 0x01, 0x00, 0x00};
    uint16_t crc = pad_crc16(hdr, 4);
    uint8_t fr[8] = {0x02, 0x07, 0x01, 0x00, 0x00, (uint8_t)(crc >> 8), (uint8_t)crc, 0x03};
    struct pad_frame f;
    size_t used = 0;
    assert_int_equal(pad_frame_decode(fr, sizeof fr, &f, &used), PAD_FRAME_OK);
    assert_int_equal(used, 8);
    assert_int_equal(f.seq, 7);
    assert_int_equal(f.cmd, PAD_CMD_INFO);
    assert_int_equal(f.len, 0);
    uint8_t enc[16];
    assert_int_equal(pad_frame_encode(7, PAD_CMD_INFO, NULL, 0, enc, sizeof enc), 8);
    assert_memory_equal(enc, fr, 8);
}

static void test_round_trip_and_prefixes(void **state)
{
    uint8_t data[300], buf[PAD_FRAME_MAX + 4];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    size_t n = pad_frame_encode(200, PAD_CMD_FP_MATCH, data, sizeof data, buf, sizeof buf);
    assert_int_equal(n, sizeof data + PAD_FRAME_OVERHEAD);
    /* Trailing bytes (the next frame) are left alone. */
    buf[n] = PAD_STX;
    struct pad_frame f;
    size_t used = 0;
    assert_int_equal(pad_frame_decode(buf, n + 1, &f, &used), PAD_FRAME_OK);
    assert_int_equal(used, n);
    assert_int_equal(f.seq, 200);
    assert_int_equal(f.cmd, PAD_CMD_FP_MATCH);
    assert_int_equal(f.len, sizeof data);
    assert_memory_equal(f.data, data, sizeof data);
    /* Every proper prefix, each in a heap buffer of exactly its size. */
    for (size_t k = 0; k < n; k++) {
        uint8_t *p = malloc(k ? k : 1);
        memcpy(p, buf, k);
        assert_int_equal(pad_frame_decode(p, k, &f, &used), PAD_FRAME_NEED);
        free(p);
    }
}

static void test_malformed(void **state)
{
    uint8_t data[3] = {1, 2, 3}, buf[32];
    struct pad_frame f;
    size_t used = 0;
    size_t n = pad_frame_encode(1, PAD_CMD_SIG_START, data, 3, buf, sizeof buf);
    assert_int_equal(n, 11);

    uint8_t bad[32];
    memcpy(bad, buf, n);
    bad[0] = 0x55; /* not STX */
    assert_int_equal(pad_frame_decode(bad, n, &f, &used), PAD_FRAME_BAD_STX);

    memcpy(bad, buf, n);
    bad[6] ^= 1; /* a data byte: the CRC no longer matches */
    assert_int_equal(pad_frame_decode(bad, n, &f, &used), PAD_FRAME_BAD_CRC);

    memcpy(bad, buf, n);
    bad[n - 2] ^= 0x80; /* the CRC itself */
    assert_int_equal(pad_frame_decode(bad, n, &f, &used), PAD_FRAME_BAD_CRC);

    memcpy(bad, buf, n);
    bad[n - 1] = 0x04; /* not ETX */
    assert_int_equal(pad_frame_decode(bad, n, &f, &used), PAD_FRAME_BAD_ETX);

    /* A length above the maximum is refused from the header alone. */
    uint8_t big[5] = {PAD_STX, 1, 1, (PAD_FRAME_MAX_DATA + 1) >> 8, (PAD_FRAME_MAX_DATA + 1) & 255};
    assert_int_equal(pad_frame_decode(big, 5, &f, &used), PAD_FRAME_BAD_LEN);
    uint8_t huge[5] = {PAD_STX, 1, 1, 0xFF, 0xFF};
    assert_int_equal(pad_frame_decode(huge, 5, &f, &used), PAD_FRAME_BAD_LEN);

    /* A length that promises more than was sent is only a prefix. */
    memcpy(bad, buf, n);
    bad[4] = 9;
    assert_int_equal(pad_frame_decode(bad, n, &f, &used), PAD_FRAME_NEED);
    /* A shorter length moves the CRC/ETX positions: an error, not a frame. */
    memcpy(bad, buf, n);
    bad[4] = 1;
    assert_int_not_equal(pad_frame_decode(bad, n, &f, &used), PAD_FRAME_OK);
    assert_int_equal(used, 0); /* untouched on error */
}

static void test_encode_limits(void **state)
{
    static uint8_t data[PAD_FRAME_MAX_DATA + 1], out[PAD_FRAME_MAX + 16];
    assert_int_equal(pad_frame_encode(1, 1, data, PAD_FRAME_MAX_DATA + 1, out, sizeof out), 0);
    assert_int_equal(pad_frame_encode(1, 1, data, PAD_FRAME_MAX_DATA, out, sizeof out),
                     PAD_FRAME_MAX);
    assert_int_equal(pad_frame_encode(1, 1, data, 10, out, 17), 0); /* one byte short */
    assert_int_equal(pad_frame_encode(1, 1, data, 10, out, 18), 18);
    assert_int_equal(pad_frame_encode(1, 1, NULL, 10, out, sizeof out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_check_value),         cmocka_unit_test(test_hand_built),
        cmocka_unit_test(test_round_trip_and_prefixes), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_encode_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
