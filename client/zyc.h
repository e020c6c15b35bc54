/* zyc — libzhanye-client, the device side of ZY1 without any transport.
 *
 * A device has a state: the server URL, the pinned server key (kid and
 * public key), its device id, the teller it is bound to and, once
 * activated, the device secret DS. The state is kept in a JSON file that
 * only the owner can read (mode 0600, written atomically, refused when group
 * or others may read it); it holds DS in clear, so it stands in for the
 * platform's encrypted storage only on a workstation. zyc_seal/zyc_open wrap
 * zy1_seal_request/zy1_open_response and pick F: the activation factor for
 * DEVICE_ACTIVATE, DS otherwise. Secrets are wiped by zyc_state_wipe and
 * zy1_call_wipe; nothing here keeps a copy. */
#ifndef ZHANYE_ZYC_H
#define ZHANYE_ZYC_H

#include "channel/zy1.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZYC_URL_MAX 512
#define ZYC_PUB_B64_LEN 88 /* base64 of 04||x||y */
#define ZYC_DS_LEN 32
/* An activation code as the server prints it (identity/ticket.h): 8
 * characters of ZYC_ACT_ALPHABET in two groups of four, "K7QX-9PRM". */
#define ZYC_ACT_CODE_LEN 9
#define ZYC_ACT_GROUP 4
#define ZYC_ACT_ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

typedef enum {
    ZYC_OK = 0,
    ZYC_IO,       /* the file could not be read or written (errno is kept) */
    ZYC_BAD_FILE, /* the file is not a valid device state */
    ZYC_INSECURE, /* the file is not a regular file private to its owner */
    ZYC_BAD_ARG,
    ZYC_NOMEM,
    ZYC_INTERNAL,
} zyc_status;

typedef struct {
    char url[ZYC_URL_MAX + 1]; /* printable ASCII, no '"' or '\' */
    char kid[ZY1_ID_MAX + 1];
    char pub_b64[ZYC_PUB_B64_LEN + 1];
    char dev[ZY1_DEV_LEN + 1];
    char tlr[ZY1_ID_MAX + 1]; /* "" until known */
    uint8_t ds[ZYC_DS_LEN];
    bool has_ds; /* false until DEVICE_ACTIVATE succeeded */
} zyc_state;

/* 32 lowercase hex characters from the CSPRNG. */
zyc_status zyc_device_id_new(char dev[ZY1_DEV_LEN + 1]);

/* A fresh state with a new device id; tlr may be NULL. The public key must
 * decode to a point on the SM2 curve. */
zyc_status zyc_state_init(zyc_state *st, const char *url, const char *kid, const char *pub_b64,
                          const char *tlr);
/* DS from the activation answer's data.device_secret (base64 of 32 bytes). */
zyc_status zyc_state_set_device_secret(zyc_state *st, const char *ds_b64);
zyc_status zyc_state_save(const zyc_state *st, const char *path);
zyc_status zyc_state_load(const char *path, zyc_state *st);
void zyc_state_wipe(zyc_state *st);

/* The activation code as typed, canonicalised (spec/secure-channel.md,
 * amendment 5): upper case, spaces and dashes removed, then written as the
 * server prints it, groups of ZYC_ACT_GROUP joined by '-' ("k7qx 9prm" and
 * "K7-QX9PRM" give "K7QX-9PRM"). ZYC_BAD_ARG (out empty) if what remains is
 * not exactly 8 characters of ZYC_ACT_ALPHABET: no code the server issues.
 * out is a secret: wipe it. */
zyc_status zyc_activation_code(const char *typed, char out[ZYC_ACT_CODE_LEN + 1]);

/* Seals payload for tx with the state's pinned key. activation_code is
 * required for DEVICE_ACTIVATE (with st->tlr set) and ignored otherwise,
 * where st->has_ds is required; a missing one, or one that does not
 * canonicalise (zyc_activation_code; F is computed from the canonical
 * code), is ZY1_BAD_ARG. */
zy1_status zyc_seal(const zyc_state *st, const char *tx, const char *activation_code,
                    const char *payload, size_t n, int64_t ts, zy1_call *call, char **body,
                    size_t *body_len);
/* Opens the sealed answer to call; see zy1_open_response. */
zy1_status zyc_open(const zy1_call *call, const char *body, size_t len, char **plaintext,
                    size_t *pt_len, int64_t *ts);

#endif
