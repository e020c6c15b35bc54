/* dev_card: the bank card reader device of zhanye-bridge. Contact IC bank
 * cards through PC/SC (pcsc-lite, pcscd) with the PBOC 3.0 / EMV read flow:
 * SELECT PSE 1PAY.SYS.DDF01, READ RECORD over its directory, SELECT the
 * application, GET PROCESSING OPTIONS, READ RECORD over the AFL. The flow
 * runs over an APDU transport (struct card_transport) so that it can be
 * driven by PC/SC or, in tests, in-process. Byte-level logic: emv_tlv.h.
 * Magnetic stripe fallback: card_from_track2() in emv_tlv.h.
 *
 * Every function fills err (when errcap > 0) with the Chinese message of the
 * code it returns ("" on success); err may be NULL when errcap is 0.
 * Not thread-safe per reader: the bridge runs one request per device. */
#ifndef ZHANYE_BRIDGE_DEV_CARD_H
#define ZHANYE_BRIDGE_DEV_CARD_H

#include "emv_tlv.h"

/* Sends one command APDU and receives the response APDU (data + SW1 SW2).
 * *rlen holds the capacity of r on entry and the response length on return.
 * Returns CARD_OK, CARD_ERR_REMOVED when the card is gone, CARD_ERR_IO. */
typedef int (*card_transmit_fn)(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen);

struct card_transport {
    card_transmit_fn transmit;
    void *ctx;
};

/* Runs the PBOC flow over t. Handles 61xx (GET RESPONSE) and 6Cxx (resend
 * with the card's Le). On CARD_OK *out is complete (PAN Luhn-checked,
 * expiry, and seq/name/aid/label when the card has them).
 * Returns CARD_OK; CARD_ERR_UNSUPPORTED (no PSE and none of the known AIDs
 * selectable, or GPO refused); CARD_ERR_BAD_CARD (malformed data, no PAN,
 * Luhn failure); CARD_ERR_REMOVED / CARD_ERR_IO from the transport. */
int card_read_transport(const struct card_transport *t, struct card_info *out, char *err,
                        size_t errcap);

/* Reads the card in a PC/SC reader. reader: the PC/SC reader name, or NULL
 * for the first reader. Waits up to timeout_ms (>= 0) for a card to be
 * present, then runs the flow (the APDU exchanges themselves are bounded by
 * pcscd, not by timeout_ms).
 * Returns CARD_OK; CARD_ERR_ABSENT (no pcscd, no reader, reader not found);
 * CARD_ERR_NO_CARD (no card within timeout_ms); CARD_ERR_REMOVED (card
 * pulled out during the read); CARD_ERR_IO; or a code of
 * card_read_transport(). out is zeroed on error. */
int card_read(const char *reader, int timeout_ms, struct card_info *out, char *err, size_t errcap);

enum card_presence {
    CARD_STATE_UNKNOWN = 0,
    CARD_STATE_EMPTY = 1,
    CARD_STATE_PRESENT = 2,
};

/* Waits for an insertion or removal: *state is the state the caller last
 * saw (CARD_STATE_UNKNOWN: return the current state at once). Returns
 * CARD_OK with the new state in *state as soon as the reader's state differs
 * from *state; CARD_ERR_TIMEOUT if it did not change within timeout_ms
 * (*state unchanged); CARD_ERR_ABSENT if there is no such reader or service;
 * CARD_ERR_IO. For the bridge's event stream ("card inserted"/"removed"). */
int card_wait(const char *reader, int timeout_ms, enum card_presence *state, char *err,
              size_t errcap);

#endif
