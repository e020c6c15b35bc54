/* dev_pin — the PIN pad (密码键盘) over a pad_link (pad_serial.h, framing
 * in pad_frame.h, docs/peripherals.md "PIN pad, signature pad,
 * fingerprint").
 *
 * The PIN never leaves the pad in clear, and no clear key ever passes
 * through the bridge: the PIN key arrives already encrypted under the pad's
 * master key (SM4-ECB) with its check value (first 4 bytes of SM4(key, 16
 * zero bytes)); the pad decrypts it, compares the check value and keeps it.
 * A PIN block comes back encrypted with SM4 under the PIN key; this module
 * only checks its size and passes it on as 32 upper-case hex characters.
 * Nothing here performs cryptography. */
#ifndef ZHANYE_BRIDGE_DEV_PIN_H
#define ZHANYE_BRIDGE_DEV_PIN_H

#include "pad_serial.h"

#include <stdint.h>

#define DEV_PIN_KEY_LEN 16
#define DEV_PIN_KCV_LEN 4
#define DEV_PIN_BLOCK_HEX 33 /* 32 hex characters and NUL */

/* The PIN block layouts the pad builds (chosen by configuration). */
enum dev_pin_format {
    /* ISO 9564-1 format 0 (PIN field XOR PAN field, 8 bytes) followed by
     * eight 0xFF bytes, SM4-ECB: what the core simulator expects. */
    DEV_PIN_ISO0 = 0,
    /* The 16-byte SM4 variant: ISO 9564-1 format 4 with SM4 in place of
     * AES: C = SM4(K, SM4(K, PIN field) XOR PAN field). */
    DEV_PIN_SM4_16 = 1,
};

struct dev_pin_request {
    const char *pan; /* 12..19 ASCII digits (format 0 uses the 12 before the check digit) */
    enum dev_pin_format format;
    int min_len;   /* 4..12; a shorter PIN is refused by the pad (PAD_ESHORT) */
    int max_len;   /* min_len..12; the pad takes no more digits */
    int timeout_s; /* 1..120: the customer's time on the pad */
};

/* Loads the PIN key: enc_key is the PIN key encrypted under the master key
 * (SM4-ECB, one block), kcv the check value of the clear PIN key.
 * PAD_OK (loaded, replacing the previous one), PAD_EKEYCHECK (the pad's
 * check value differs: not loaded), PAD_EPARAM, or a link error
 * (PAD_EABSENT, PAD_ETIMEOUT, PAD_EFRAME). timeout_ms bounds the reply. */
pad_status dev_pin_load_key(struct pad_link *l, const uint8_t enc_key[DEV_PIN_KEY_LEN],
                            const uint8_t kcv[DEV_PIN_KCV_LEN], int timeout_ms);

/* Asks the pad for the customer's PIN block for rq->pan. On PAD_OK out
 * holds 32 upper-case hex characters (the 16 encrypted bytes); on any other
 * return out is "". PAD_ECANCELLED (the customer pressed cancel),
 * PAD_ENOINPUT (nothing keyed within rq->timeout_s), PAD_ESHORT, PAD_ENOKEY,
 * PAD_EPARAM (bad request: PAN not 12..19 digits, lengths or timeout out of
 * range), PAD_ETIMEOUT (the pad stalled: no reply within rq->timeout_s + 3
 * s), PAD_EFRAME, PAD_EABSENT. */
pad_status dev_pin_block(struct pad_link *l, const struct dev_pin_request *rq,
                         char out[DEV_PIN_BLOCK_HEX]);

#endif
