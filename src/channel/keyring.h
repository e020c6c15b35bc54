/* keyring — the server's live SM2 keys, by kid.
 *
 * Loaded once at start from `[channel] keys` (each kid's private key is
 * key_dir/KID.pem): several kids are live at once during a rotation, and
 * any of them opens an envelope that names it. The public halves are what
 * GET /api/v1/pubkey publishes. Read-only after loading, so lookups need no
 * lock. */
#ifndef ZHANYE_KEYRING_H
#define ZHANYE_KEYRING_H

#include "channel/sm.h"

#include <stddef.h>

#define KEYRING_MAX 8

struct keyring_entry {
    char kid[33];
    sm2_key *key;
    char pub_b64[89];
};

struct keyring {
    int n;
    struct keyring_entry keys[KEYRING_MAX];
};

/* Loads every kid of the comma-separated list. 0, or -1 with err saying which key failed. */
int keyring_load(struct keyring *kr, const char *kids, const char *key_dir, char *err,
                 size_t errcap);
void keyring_free(struct keyring *kr);
/* The key of kid[0..n), or NULL if it is not live. */
const sm2_key *keyring_find(const struct keyring *kr, const char *kid, size_t n);
/* Path of kid's key file into out; -1 if it does not fit. */
int keyring_path(const char *key_dir, const char *kid, char *out, size_t cap);
/* Creates key_dir (0700) if needed and a new key file for kid; -1 with err if it exists. */
int keyring_generate(const char *key_dir, const char *kid, char *err, size_t errcap);

#endif
