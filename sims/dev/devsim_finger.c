/* devsim_finger — the fingerprint reader simulator (devsim.h).
 *
 * Script members: "finger": N (1..255: the customer's finger N is on the
 * sensor; 0 or absent: none, and the device answers PAD_ST_NO_FINGER after
 * the request's timeout), "quality": "poor" (every image too poor).
 * The "vendor's" template: "ZFT1", the finger's number, then 251 bytes of
 * its minutiae (a pseudo-random sequence of N here). Match score: 900 + N %
 * 50 for the same finger, 20 + N % 30 for another; a template that is not
 * ZFT1 of 256 bytes is PAD_ST_BAD_PARAM. */
#include "devsim.h"

#include <string.h>

#define TPL_LEN 256

static void make_template(int finger, uint8_t t[TPL_LEN])
{
    memcpy(t, "ZFT1", 4);
    t[4] = (uint8_t)finger;
    uint32_t x = 2463534242u ^ (uint32_t)finger * 2654435761u;
    for (size_t i = 5; i < TPL_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        t[i] = (uint8_t)x;
    }
}

/* The finger on the sensor within timeout_s, or a PAD_ST_* failure. */
static int live_finger(struct devsim *d, int timeout_s, int *finger)
{
    static const char *const keys[] = {"finger", NULL};
    json_t *v = NULL;
    long waited = 0;
    for (;;) {
        devsim_wait_for(d, 100, keys);
        v = devsim_script_get(d, "finger");
        if (json_integer_value(v) > 0 || waited >= timeout_s * 1000L)
            break;
        json_decref(v);
        v = NULL;
        waited += 100;
    }
    json_int_t n = json_integer_value(v);
    json_decref(v);
    if (n <= 0 || n > 255)
        return PAD_ST_NO_FINGER;
    json_t *q = devsim_script_get(d, "quality");
    bool poor = json_is_string(q) && strcmp(json_string_value(q), "poor") == 0;
    json_decref(q);
    if (poor)
        return PAD_ST_POOR_QUALITY;
    *finger = (int)n;
    return PAD_ST_OK;
}

static void handle(struct devsim *d, const struct pad_frame *f)
{
    int finger = 0, st;
    if ((f->cmd == PAD_CMD_FP_CAPTURE && f->len != 1) ||
        (f->cmd == PAD_CMD_FP_MATCH && f->len < 2)) {
        devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
        return;
    }
    switch (f->cmd) {
    case PAD_CMD_FP_CAPTURE: {
        st = live_finger(d, f->data[0], &finger);
        uint8_t t[TPL_LEN] = {0};
        if (st == PAD_ST_OK)
            make_template(finger, t);
        devsim_reply(d, f, (uint8_t)st, t, st == PAD_ST_OK ? TPL_LEN : 0);
        break;
    }
    case PAD_CMD_FP_MATCH: {
        const uint8_t *t = f->data + 1;
        if (f->len - 1 != TPL_LEN || memcmp(t, "ZFT1", 4) != 0) {
            devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
            return;
        }
        st = live_finger(d, f->data[0], &finger);
        uint8_t score[2] = {0};
        if (st == PAD_ST_OK) {
            uint8_t live[TPL_LEN];
            make_template(finger, live);
            int v = memcmp(live, t, TPL_LEN) == 0 ? 900 + finger % 50 : 20 + finger % 30;
            pad_put16(score, (uint16_t)v);
        }
        devsim_reply(d, f, (uint8_t)st, score, st == PAD_ST_OK ? 2 : 0);
        break;
    }
    default: {
        uint8_t reason = 0xFF;
        devsim_send(d, f->seq, PAD_CMD_NAK, &reason, 1);
    }
    }
}

int devsim_finger_main(int argc, char **argv)
{
    return devsim_pad_run(argc, argv, handle);
}
