/* app — the composition root of one server process.
 *
 * app_open() loads zhanye.conf from the data directory, starts the
 * async log, opens the store (applying migrations) and the serial-number
 * generator; app_close() undoes it in reverse order. Handlers reach
 * everything through the struct app they are given. */
#ifndef ZHANYE_APP_H
#define ZHANYE_APP_H

#include "channel/keyring.h"
#include "channel/nonce.h"
#include "data/seq.h"
#include "data/store.h"
#include "egress/egress.h"
#include "foundation/config.h"
#include "identity/kek.h"

#include <stdint.h>

enum app_rc { APP_OK = 0, APP_ERR_CONFIG = 2, APP_ERR_RUNTIME = 1 };

struct app {
    struct config cfg;
    struct store *store;
    struct seq *seq;
    struct keyring keys;
    struct nonce_store *nonces;
    struct kek kek; /* encrypts device secrets and activation codes at rest */
    struct egress *egress;
    int64_t started_ms;
};

/* Path of the config file of a data directory into out. -1 if it does not fit. */
int app_config_path(const char *data_dir, char *out, size_t cap);
/* Loads only the configuration (for --check-config and init). */
int app_load_config(struct app *a, const char *data_dir, char *err, size_t errcap);
/* Loads config and opens log, store and seq. Returns an enum app_rc; err says why. */
int app_open(struct app *a, const char *data_dir, char *err, size_t errcap);
void app_close(struct app *a);

#endif
