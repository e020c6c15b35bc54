/* dev_finger — the fingerprint reader (指纹仪) over a pad_link
 * (pad_serial.h, docs/peripherals.md "PIN pad, signature pad,
 * fingerprint").
 *
 * Templates are the vendor's opaque bytes and matching is the vendor's
 * algorithm, run inside the device: this module captures a template, and
 * hands a stored template to the device, which captures the live finger and
 * answers a score 0..1000 (the vendor's threshold decides; ours is
 * DEV_FINGER_MATCH_THRESHOLD). */
#ifndef ZHANYE_BRIDGE_DEV_FINGER_H
#define ZHANYE_BRIDGE_DEV_FINGER_H

#include "pad_serial.h"

#include <stddef.h>
#include <stdint.h>

#define DEV_FINGER_TEMPLATE_MAX 2000
#define DEV_FINGER_SCORE_MAX 1000
#define DEV_FINGER_MATCH_THRESHOLD 600

/* Captures one template into tpl[0..cap) (*len its size). PAD_OK,
 * PAD_ENOFINGER (no finger within timeout_s), PAD_EQUALITY (image too poor),
 * PAD_EPARAM (bad arguments, or the template does not fit cap),
 * PAD_ETIMEOUT (no reply within timeout_s + 3 s), PAD_EFRAME (also an empty
 * template), PAD_EABSENT. */
pad_status dev_finger_capture(struct pad_link *l, int timeout_s, uint8_t *tpl, size_t cap,
                              size_t *len);

/* The device compares the live finger with tpl[0..len) (1..
 * DEV_FINGER_TEMPLATE_MAX bytes); *score 0..DEV_FINGER_SCORE_MAX. PAD_OK
 * (whatever the score), PAD_ENOFINGER, PAD_EQUALITY, PAD_EPARAM (also a
 * template the device cannot read), PAD_ETIMEOUT, PAD_EFRAME (also a score
 * above the maximum), PAD_EABSENT. */
pad_status dev_finger_match(struct pad_link *l, int timeout_s, const uint8_t *tpl, size_t len,
                            int *score);

#endif
