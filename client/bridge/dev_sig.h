/* dev_sig — the pressure-sensitive signature pad (签名板) over a pad_link
 * (pad_serial.h, docs/peripherals.md "PIN pad, signature pad,
 * fingerprint").
 *
 * After PAD_CMD_SIG_START the pad streams the customer's pen samples as
 * PAD_EV_SIG_POINTS frames (and PAD_EV_SIG_CLEAR when the customer presses
 * clear) until the customer presses confirm or cancel, or its own timeout
 * runs out; then it answers the command. Each sample is passed to the
 * caller's callback as it arrives (the bridge turns them into SSE
 * "signature.stroke" events); on confirm the strokes are rendered to a PNG
 * (cairo; line width by pressure) and kept as JSON for the voucher and later
 * verification:
 *   {"width":W,"height":H,"strokes":[[[x,y,p,t_ms],...],...]}
 * (p is the pressure 0..1023, t_ms the time since the start). */
#ifndef ZHANYE_BRIDGE_DEV_SIG_H
#define ZHANYE_BRIDGE_DEV_SIG_H

#include "pad_serial.h"

#include <stddef.h>
#include <stdint.h>

#define DEV_SIG_PRESSURE_MAX 1023
#define DEV_SIG_MAX_POINTS 20000 /* more is a bad frame stream (PAD_EFRAME) */

struct dev_sig_point {
    uint16_t stroke;   /* 0, 1, ...: non-decreasing */
    uint16_t x, y;     /* pixels, inside the pad's width x height */
    uint16_t pressure; /* 0..DEV_SIG_PRESSURE_MAX */
    uint32_t t_ms;     /* non-decreasing */
};

enum dev_sig_event {
    DEV_SIG_POINT = 0, /* p is the new sample */
    DEV_SIG_CLEAR = 1, /* the customer pressed clear: every earlier sample is void; p is NULL */
};

/* Called on the capturing thread, in the pad's order. */
typedef void (*dev_sig_cb)(void *arg, enum dev_sig_event ev, const struct dev_sig_point *p);

struct dev_sig_result {
    int width, height;
    struct dev_sig_point *points; /* after the last clear */
    size_t npoints;
    unsigned char *png; /* width x height, white background */
    size_t png_len;
    char *json; /* the stroke data, as above */
};

/* Captures one signature on a width x height pad (1..4096 each). cb may be
 * NULL. On PAD_OK *out is filled (free with dev_sig_result_free); on any
 * other return *out is empty. PAD_ECANCELLED, PAD_ENOINPUT (the pad's
 * timeout, or confirm with no stroke), PAD_EFRAME (a malformed frame, a
 * sample outside the pad or out of order, more than DEV_SIG_MAX_POINTS),
 * PAD_ETIMEOUT (no frame within timeout_s + 3 s), PAD_EPARAM, PAD_ENOMEM,
 * PAD_EABSENT. */
pad_status dev_sig_capture(struct pad_link *l, int width, int height, int timeout_s, dev_sig_cb cb,
                           void *arg, struct dev_sig_result *out);

/* Renders points to a PNG in memory (what dev_sig_capture does). PAD_OK,
 * PAD_EPARAM, PAD_ENOMEM. *png is malloc'ed. */
pad_status dev_sig_render_png(int width, int height, const struct dev_sig_point *points, size_t n,
                              unsigned char **png, size_t *png_len);

void dev_sig_result_free(struct dev_sig_result *r);

#endif
