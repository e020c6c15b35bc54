/* dltoken — the short-lived token that lets one device download one package.
 *
 * APP_LATEST mints it for the device that asked and the package it is
 * offered; GET /api/v1/store/packages/ID?token=T checks it. The token is
 * "<dev>.<expiry>.<mac>": the device id (32 hex), the expiry in Unix
 * seconds, and 64 hex digits of HMAC-SM3(key, "zhanye store dl v1|" id "|"
 * dev "|" expiry), the key being the server's token key (derived from the
 * KEK, so every node of a province checks what any node minted). A token
 * names its package, so it does not fetch another; the MAC is compared in
 * constant time. */
#ifndef ZHANYE_APPSTORE_DLTOKEN_H
#define ZHANYE_APPSTORE_DLTOKEN_H

#include <stddef.h>
#include <stdint.h>

#define DLTOKEN_KEY_LEN 32
#define DLTOKEN_DEV_LEN 32
#define DLTOKEN_MAX (DLTOKEN_DEV_LEN + 1 + 20 + 1 + 64)

/* Writes the token of (pkg_id, dev, exp_s). 0, or -1 (dev not 32 hex, or
 * the library failed). */
int dltoken_mint(const uint8_t key[DLTOKEN_KEY_LEN], int64_t pkg_id, const char *dev, int64_t exp_s,
                 char out[DLTOKEN_MAX + 1]);
/* 0 when token is one this key minted for pkg_id and now_s < its expiry
 * (the device id into dev, when not NULL); -1 otherwise (malformed, another
 * package, altered, expired). */
int dltoken_check(const uint8_t key[DLTOKEN_KEY_LEN], int64_t pkg_id, const char *token,
                  int64_t now_s, char dev[DLTOKEN_DEV_LEN + 1]);
/* The token key from the KEK's MAC key: HMAC-SM3(kek_mac, "zhanye store token v1"). 0 or -1. */
int dltoken_key_derive(const uint8_t kek_mac[32], uint8_t out[DLTOKEN_KEY_LEN]);

#endif
