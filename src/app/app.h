/* app — the composition root of one server process.
 *
 * app_open() loads zhanye.conf from the data directory, starts the
 * async log, opens the store (applying migrations) and the serial-number
 * generator, the channel keys and KEK, the Redis client when [redis] names
 * servers (the nonce store then shares its pairs), the audit context
 * (identity/audit.h: process-wide, keys from key_dir, legacy chain
 * upgraded) and the audit checkpointer thread; app_close() undoes it in
 * reverse order, signing an audit checkpoint of the head on the way. Handlers reach everything
 * through the struct app they are given.
 *
 * Flow control (access gateway) is opened separately by the server, which
 * knows the hooks, with app_flow_open(); app_flow_reload() re-reads the
 * config file's [flow.*] rules and [server] caps under traffic. */
#ifndef ZHANYE_APP_H
#define ZHANYE_APP_H

#include "business/video_turn.h"
#include "channel/keyring.h"
#include "channel/nonce.h"
#include "channel/nonce_db.h"
#include "channel/tx.h"
#include "data/redis.h"
#include "data/shard.h"
#include "data/seq.h"
#include "data/store.h"
#include "egress/egress.h"
#include "foundation/config.h"
#include "identity/identity.h"
#include "identity/kek.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow;
struct flow_hooks;
struct authcache;
struct answer_cache;
struct vdeliver;
struct vwatch;
struct vrec_env;

enum app_rc { APP_OK = 0, APP_ERR_CONFIG = 2, APP_ERR_RUNTIME = 1 };

struct app {
    struct config cfg;
    struct store *store;
    struct seq *seq;
    struct shards *shards; /* which database holds each bank's business data (data/shard.h) */
    struct store *shard_stores[SHARD_MAX];
    int nshard_stores;
    struct keyring keys;
    struct nonce_store *nonces;      /* every (dev, nonce) inside twice the window */
    struct nonce_journal *journal;   /* writes read-only TXs' nonces in batches */
    struct redis *redis;             /* [redis], shared by the nodes; NULL when not set */
    struct answer_cache *answers;    /* copies of stored answers in Redis; NULL: off */
    struct kek kek;                  /* seals device secrets, codes, stored answers at rest */
    struct sm2_key *voucher_key;     /* signs vouchers (business/voucher_sign.h) */
    struct identity_policy identity; /* from [identity] */
    struct tx_env tx_env;            /* what transaction handlers get: &kek, &identity */
    struct video_env video;          /* [video] and the TURN secret (business/video_turn.h) */
    uint8_t store_token_key[32];     /* the app store's download tokens (appstore/dltoken.h) */
    struct authcache *authcache;     /* device and session records of the request path */
    struct egress *egress;
    struct flow *flow; /* NULL until app_flow_open() */
    struct vdeliver
        *deliverer; /* uploads the vouchers (app/vdeliver.h); NULL until app_deliver_start */
    struct vwatch
        *vwatch; /* finishes recorded calls (app/vwatch.h); NULL until app_deliver_start */
    struct vrec_env *vrec; /* [video] Janus and recordings_dir, the KEK (business/vrec.h) */
    int64_t started_ms;
    /* Read-only envelopes sealed before this are refused (401 stale): this
     * process vouches for their nonces from then on (channel/nonce_db.h). */
    int64_t reads_from_ms;
};

/* Path of the config file of a data directory into out. -1 if it does not fit. */
int app_config_path(const char *data_dir, char *out, size_t cap);
/* Loads only the configuration (for --check-config and init). */
int app_load_config(struct app *a, const char *data_dir, char *err, size_t errcap);
/* Opens a->store as a->cfg's [store] says, with pool_size connections, and
 * applies the migrations. sqlite: the file must exist unless create.
 * mariadb: the password comes from [store] password_file (absent: none;
 * refused unless 0600) and is wiped once the pool is open. APP_OK, or
 * APP_ERR_RUNTIME with err naming the database and what went wrong. */
int app_store_open(struct app *a, int pool_size, bool create, char *err, size_t errcap);
/* ... and, after the directory, every [shard.NAME] database the same way,
 * with a->shards reading the map (APP_ERR_CONFIG for a bad section).
 * app_store_close() closes them all (NULL members are fine). */
void app_store_close(struct app *a);
/* "the file path" or "mariadb SERVERS/DATABASE": how messages name the store. */
const char *app_store_name(const struct config *cfg, char *buf, size_t cap);
/* Loads config and opens log, store and seq. Returns an enum app_rc; err says why. */
int app_open(struct app *a, const char *data_dir, char *err, size_t errcap);
/* Starts the voucher deliverer (app/vdeliver.h: one thread uploading every
 * shard's pending vouchers to the paperless platform) on an opened app:
 * for the serving process only (`zhanye serve`; in-process tests and
 * commands leave it off), and the recorded calls' watcher (app/vwatch.h:
 * keeps their Janus sessions alive, finishes them when the call ended).
 * app_close() stops them first. APP_OK, or
 * APP_ERR_RUNTIME with err. */
int app_deliver_start(struct app *a, char *err, size_t errcap);
void app_close(struct app *a);

/* Creates a->flow from the loaded config's [flow.*] rules and [server] caps.
 * APP_OK, or APP_ERR_CONFIG with err set. */
int app_flow_open(struct app *a, const struct flow_hooks *hooks, char *err, size_t errcap);
/* Re-reads the config file and swaps in its flow rules and caps; nothing
 * queued or running is dropped. On any error (unreadable or invalid file,
 * bad rules) the old rules stay. Logs the outcome. Safe from any thread, under
 * traffic (SIGHUP, management API). 0, or -1 with a one-line err. */
int app_flow_reload(struct app *a, char *err, size_t errcap);

#endif
