/* dev_idcard — the resident ID-card reader on a serial port (GA/T 467 SAM
 * frames, idcard_frame.h), as a bridge device (device.h).
 *
 *   GET /v1/idcard -> {"name","sex","nation","birth","address","id_no",
 *                      "issuer","valid_from","valid_to","photo_wlt"}
 *   (find card 20 01, select 20 02, read 30 01 within the call's deadline).
 * Errors: absent (the port cannot be opened, or hung up), no_card (find:
 * 80), read_failed (select/read refused by the reader: 81, 41, 40, 31-33,
 * 91), bad_frame (any malformed reply, or the reader reports our frame
 * bad: 10, 11), device_error (21, 23, 24, 60, 66), bad_data (the text
 * record fails its checks), timeout (no complete reply by the deadline).
 * Framing on the wire: once a reply's first byte came, a gap of more than
 * IDCARD_GAP_MS between bytes ends it as truncated (bad_frame), so a cut
 * frame is told from a silent reader. Input is flushed before each command
 * and drained after a bad frame, so the next call starts clean.
 *
 * With poll_ms > 0 a poller sends find card every poll_ms while no request
 * runs and posts "idcard.present" {"present":true} when a card appears and
 * "idcard.removed" when it goes. State: "ready" or "absent". */
#ifndef ZHANYE_BRIDGE_DEV_IDCARD_H
#define ZHANYE_BRIDGE_DEV_IDCARD_H

#include "device.h"

#define IDCARD_GAP_MS 300

struct idcard_dev;

extern const struct bridge_device IDCARD_DEVICE;

/* A reader on port (path of the serial device) at baud; NULL on bad
 * arguments or memory. Nothing is opened before bridge_start. */
struct idcard_dev *idcard_dev_new(const char *port, int baud, int poll_ms, int poll_timeout_ms);
/* After the bridge closed it. NULL is fine. */
void idcard_dev_free(struct idcard_dev *d);

#endif
