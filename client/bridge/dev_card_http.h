/* dev_card_http — the bank card reader (dev_card.h, PC/SC) as a device
 * module of zhanye-bridge (device.h, docs/peripherals.md "HTTP API").
 *
 * CARD_DEVICE "card", on one PC/SC reader (by name, or the first reader).
 * Routes (errors as device.h):
 *   GET  /v1/bankcard?timeout_ms=N  waits up to N ms (default and ceiling:
 *        the bridge's --timeout-ms deadline) for a card, then runs the PBOC
 *        flow -> {"pan","expiry":"YYMM","seq","name"?,"aid"?,"label"?,
 *        "source":"ic"} (optional fields left out when the card has none);
 *   POST /v1/bankcard/track2 {"track2":";PAN=YYMM...?"}  the magnetic-stripe
 *        fallback (card_from_track2; for a swipe device that hands the
 *        track over) -> {"pan","expiry","source":"msr"}.
 * Card codes map to bridge errors: CARD_ERR_ABSENT absent, NO_CARD no_card,
 * TIMEOUT timeout, BAD_CARD bad_card, REMOVED removed, UNSUPPORTED
 * unsupported, IO device_error; a bad timeout_ms or track2 body
 * bad_request.
 * Events: a poller thread (card_wait, CARD_HTTP_POLL_MS slices, so that
 * close() stops it within that time) posts "card.inserted" {"present":true}
 * and "card.removed" {"present":false} on each change it sees after the
 * first look. State: "absent" while the reader (or pcscd) is not there,
 * else "ready".
 * The PAN is PII: logs carry it masked (mask_card) only. */
#ifndef ZHANYE_BRIDGE_DEV_CARD_HTTP_H
#define ZHANYE_BRIDGE_DEV_CARD_HTTP_H

#include "device.h"

#define CARD_HTTP_POLL_MS 300

struct card_dev;

/* A bank card reader: reader is the PC/SC reader name (< 256 bytes), or NULL
 * for the first reader. NULL on a bad argument or no memory. */
struct card_dev *card_dev_new(const char *reader);
/* After the bridge closed it (bridge_free); NULL is fine. */
void card_dev_free(struct card_dev *d);

/* The bridge error of a card code (enum card_err, above). */
enum bridge_err card_bridge_err(int card_code);

extern const struct bridge_device CARD_DEVICE;

#endif
