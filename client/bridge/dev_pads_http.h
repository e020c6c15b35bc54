/* dev_pads_http — the serial pads (PIN pad, signature pad, fingerprint
 * reader; dev_pin.h, dev_sig.h, dev_finger.h) as device modules of
 * zhanye-bridge (device.h, docs/peripherals.md "HTTP API").
 *
 * One pad_dev per pad, on its own serial port. The port is opened at start
 * and again on each request while it cannot be (state "absent", answer
 * absent); a link that fails (I/O error, hang-up) is closed and reopened by
 * the next request. Requests run one at a time per device (the bridge's
 * slot); the pad's own timeouts (the customer's time + 3 s) bound each
 * call, not the bridge's --timeout-ms, because a customer keys a PIN or
 * signs for longer than a reader reads a card.
 *
 * Routes (JSON bodies; errors as device.h):
 *   PIN_DEVICE "pin"
 *     POST /v1/pin      {"pan","min"?=4,"max"?=12,"timeout_s"?=30}
 *                       -> {"pin_block":"<32 hex>","format":"iso0"|"sm4"}
 *     POST /v1/pin/key  {"key":"<32 hex: PIN key under the master key>",
 *                        "kcv":"<8 hex>"} -> {"loaded":true}
 *   SIG_DEVICE "signature"
 *     POST /v1/signature {"width","height","timeout_s"?=60}
 *                       -> {"png":"<b64>","strokes":{...dev_sig.h JSON}};
 *                       while capturing, SSE "signature.stroke"
 *                       {"points":[[stroke,x,y,pressure,t_ms],...]} (up to
 *                       PADS_HTTP_SIG_BATCH points each) and
 *                       "signature.clear" {}
 *   FINGER_DEVICE "finger"
 *     POST /v1/finger/capture {"timeout_s"?=10} -> {"template":"<b64>"}
 *     POST /v1/finger/match   {"template":"<b64>","timeout_s"?=10}
 *                       -> {"score":0..1000,"match":score>=DEV_FINGER_MATCH_THRESHOLD}
 * Pad statuses map to bridge errors: PAD_EABSENT absent, PAD_ETIMEOUT
 * timeout, PAD_EFRAME bad_frame, PAD_ECANCELLED cancelled, PAD_ENOINPUT
 * no_input, PAD_ESHORT pin_too_short, PAD_ENOKEY no_key, PAD_EKEYCHECK
 * key_check, PAD_ENOFINGER no_finger, PAD_EQUALITY poor_quality,
 * PAD_EPARAM bad_request, PAD_ENOMEM internal. The PIN block and keys are
 * never logged. */
#ifndef ZHANYE_BRIDGE_DEV_PADS_HTTP_H
#define ZHANYE_BRIDGE_DEV_PADS_HTTP_H

#include "device.h"
#include "dev_pin.h"

#define PADS_HTTP_SIG_BATCH 16

struct pad_dev;

/* A pad on port (a tty or devsim pty link, < 256 bytes); pin_format is used
 * by the PIN pad only. NULL on a bad argument or no memory. */
struct pad_dev *pad_dev_new(const char *port, enum dev_pin_format pin_format);
/* After the bridge closed it (bridge_free); NULL is fine. */
void pad_dev_free(struct pad_dev *d);

/* The bridge_error of a pad status (above). */
enum bridge_err pad_bridge_err(pad_status s);

extern const struct bridge_device PIN_DEVICE;
extern const struct bridge_device SIG_DEVICE;
extern const struct bridge_device FINGER_DEVICE;

#endif
