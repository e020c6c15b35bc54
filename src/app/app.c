#include "app/app.h"

#include "access/flow.h"
#include "app/overrides.h"
#include "app/vdeliver.h"
#include "appstore/dltoken.h"
#include "app/vwatch.h"
#include "business/vrec.h"
#include "business/voucher_pdf.h"
#include "business/voucher_sign.h"
#include "channel/answer_cache.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "identity/authcache.h"
#include "identity/audit.h"
#include "identity/audit_checkpoint.h"
#include "identity/identity.h"

#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int app_config_path(const char *data_dir, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/zhanye.conf", data_dir);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int app_load_config(struct app *a, const char *data_dir, char *err, size_t errcap)
{
    char path[PATH_MAX];
    memset(a, 0, sizeof *a);
    if (app_config_path(data_dir, path, sizeof path)) {
        snprintf(err, errcap, "data directory path too long");
        return APP_ERR_CONFIG;
    }
    if (access(path, R_OK) != 0) {
        snprintf(err, errcap, "%s: missing; run `zhanye init --data %s` first", path, data_dir);
        return APP_ERR_CONFIG;
    }
    return config_load(&a->cfg, data_dir, path, err, errcap) ? APP_ERR_CONFIG : APP_OK;
}

static bool is_mariadb(const struct config *cfg)
{
    return strcmp(cfg->store.backend, "mariadb") == 0;
}

/* A password from the file path ([section] password_file) into pw: a
 * missing file is no password; one that others may read is refused. 0, or
 * -1 with err. */
static int read_password(const char *section, const char *path, char *pw, size_t cap, char *err,
                         size_t errcap)
{
    pw[0] = '\0';
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        snprintf(err, errcap, "[%s] password_file %s: %s", section, path,
                 fd < 0 ? strerror(errno)
                        : "must be a regular file only its owner can read (0600)");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    ssize_t n = read(fd, pw, cap - 1);
    close(fd);
    if (n < 0 || (size_t)n >= cap - 1) {
        secmem_wipe(pw, cap);
        snprintf(err, errcap, "[%s] password_file %s: %s", section, path,
                 n < 0 ? strerror(errno) : "too long");
        return -1;
    }
    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
        n--;
    pw[n] = '\0';
    return 0;
}

const char *app_store_name(const struct config *cfg, char *buf, size_t cap)
{
    if (!is_mariadb(cfg))
        snprintf(buf, cap, "%s", cfg->store.path);
    else
        snprintf(buf, cap, "mariadb %s/%s", cfg->store.servers, cfg->store.database);
    return buf;
}

/* Opens and migrates one database of [store]'s backend and account: the
 * directory (path, servers and database from [store]) or a shard (its own
 * path or database, and servers). */
static int open_db(const struct app *a, const char *path, const char *servers, const char *database,
                   int pool_size, bool create, struct store **out, char *err, size_t errcap)
{
    const struct config *cfg = &a->cfg;
    char name[PATH_MAX + 80], pw[256];
    if (is_mariadb(cfg))
        snprintf(name, sizeof name, "mariadb %s/%s", servers, database);
    else
        snprintf(name, sizeof name, "%s", path);
    if (!is_mariadb(cfg) && !create && access(path, F_OK) != 0) {
        snprintf(err, errcap, "%s: no database; run `zhanye init --data %s` first", path,
                 cfg->data_dir);
        return APP_ERR_RUNTIME;
    }
    if (is_mariadb(cfg) &&
        read_password("store", cfg->store.password_file, pw, sizeof pw, err, errcap) != 0)
        return APP_ERR_RUNTIME;
    struct store_config sc = {
        .backend = cfg->store.backend,
        .path = path,
        .pool_size = pool_size,
        .busy_timeout_ms = cfg->store.busy_timeout_ms,
        .acquire_timeout_ms = cfg->store.acquire_timeout_ms,
        .servers = servers,
        .database = database,
        .user = cfg->store.user,
        .password = is_mariadb(cfg) ? pw : NULL,
        .connect_timeout_ms = cfg->store.connect_timeout_ms,
        .read_pool_size = pool_size > 1 ? cfg->store.read_pool_size : 0,
        .replica_wait_ms = cfg->store.replica_wait_ms,
    };
    int rc = store_open(&sc, out);
    if (is_mariadb(cfg))
        secmem_wipe(pw, sizeof pw);
    if (rc == STORE_OK)
        rc = store_migrate(*out);
    if (rc != STORE_OK) {
        snprintf(err, errcap, "%s: cannot open database: %s", name, store_errmsg(NULL));
        store_close(*out);
        *out = NULL;
        return APP_ERR_RUNTIME;
    }
    return APP_OK;
}

/* [shard.NAME] sections: each database opened like the directory, the map
 * read. Without any, a->shards routes every bank to main. */
static int open_shards(struct app *a, int pool_size, char *err, size_t errcap)
{
    const struct config *cfg = &a->cfg;
    if (shards_new(a->store, &a->shards) != STORE_OK) {
        snprintf(err, errcap, "out of memory");
        return APP_ERR_RUNTIME;
    }
    for (int i = 0; i < cfg->nnamed; i++) {
        const struct config_named *n = &cfg->named[i];
        if (strcmp(n->area, "shard") != 0)
            continue;
        const char *db = config_named_get(cfg, "shard", n->name, "database");
        const char *servers = config_named_get(cfg, "shard", n->name, "servers");
        char path[PATH_MAX];
        if (!db || !*db ||
            snprintf(path, sizeof path, "%s/%s.db", cfg->data_dir, db) >= (int)sizeof path) {
            snprintf(err, errcap, "[shard.%s] database: required (a database name)", n->name);
            return APP_ERR_CONFIG;
        }
        struct store **st = &a->shard_stores[a->nshard_stores];
        /* A shard added to a running province starts empty: created here. */
        int rc = open_db(a, path, servers && *servers ? servers : cfg->store.servers, db, pool_size,
                         true, st, err, errcap);
        if (rc != APP_OK)
            return rc;
        a->nshard_stores++;
        if (shards_add(a->shards, n->name, *st, config_named_get(cfg, "shard", n->name, "banks")) !=
            STORE_OK) {
            snprintf(err, errcap, "[shard.%s] %s", n->name, store_errmsg(NULL));
            return APP_ERR_CONFIG;
        }
    }
    if (shards_reload(a->shards) != STORE_OK) {
        snprintf(err, errcap, "the shard map: %s", store_errmsg(NULL));
        return APP_ERR_RUNTIME;
    }
    return APP_OK;
}

int app_store_open(struct app *a, int pool_size, bool create, char *err, size_t errcap)
{
    const struct config *cfg = &a->cfg;
    int rc = open_db(a, cfg->store.path, cfg->store.servers, cfg->store.database, pool_size, create,
                     &a->store, err, errcap);
    if (rc == APP_OK)
        rc = open_shards(a, pool_size, err, errcap);
    return rc;
}

void app_store_close(struct app *a)
{
    shards_free(a->shards);
    a->shards = NULL;
    for (int i = 0; i < a->nshard_stores; i++)
        store_close(a->shard_stores[i]);
    a->nshard_stores = 0;
    store_close(a->store);
    a->store = NULL;
}

static int open_store(struct app *a, char *err, size_t errcap)
{
    int rc = app_store_open(a, a->cfg.store.pool_size, false, err, errcap);
    if (rc != APP_OK)
        return rc;
    if (seq_open(a->store, a->cfg.server.node_id, 1000, &a->seq) != 0) {
        snprintf(err, errcap, "cannot start the serial-number generator: %s", store_errmsg(NULL));
        return APP_ERR_RUNTIME;
    }
    return APP_OK;
}

static int open_channel(struct app *a, char *err, size_t errcap)
{
    if (keyring_load(&a->keys, a->cfg.channel.keys, a->cfg.channel.key_dir, err, errcap) != 0)
        return APP_ERR_RUNTIME;
    char path[PATH_MAX];
    if (kek_path(a->cfg.channel.key_dir, path, sizeof path) != 0 ||
        kek_load(path, &a->kek) != ID_OK) {
        snprintf(err, errcap, "%s: missing or unsafe key-encryption key (mode 0600, 64 hex digits)",
                 path);
        return APP_ERR_RUNTIME;
    }
    /* Twice the window: an envelope still inside the window is always
     * remembered; the pairs recorded before a restart come back first. */
    int64_t keep = 2 * a->cfg.channel.window_ms, loaded = 0;
    if (nonce_mem_open(keep, &a->nonces) != NONCE_OK ||
        nonce_db_restore(a->store, a->nonces, keep, clock_wall_ms(), &loaded) != STORE_OK ||
        nonce_db_reads_from(a->store, clock_wall_ms(), &a->reads_from_ms) != STORE_OK ||
        nonce_journal_open(a->store, &a->journal) != 0) {
        snprintf(err, errcap, "cannot start the anti-replay store: %s", store_errmsg(NULL));
        return APP_ERR_RUNTIME;
    }
    log_info("app.nonces", "%lld anti-replay records restored", (long long)loaded);
    int64_t ahead = a->reads_from_ms - clock_wall_ms();
    if (ahead > 0)
        log_warn("app.clock",
                 "the clock is %lld ms behind the last read-only envelope a process accepted: "
                 "read-only envelopes sealed before then are refused as stale",
                 (long long)ahead);
    a->identity = (struct identity_policy){
        .idle_timeout_s = a->cfg.identity.idle_timeout_s,
        .absolute_timeout_s = a->cfg.identity.absolute_timeout_s,
        .max_devices = a->cfg.identity.max_devices,
        .max_failures = a->cfg.identity.max_failures,
        .lock_ms = (int64_t)a->cfg.identity.lock_minutes * 60000,
    };
    /* The voucher signing key: created here when missing (a data directory
     * from before vouchers), never overwritten. */
    int vrc = vsign_key_create(a->cfg.channel.key_dir);
    if (vrc == VS_OK)
        log_info("app.voucher_key", "created the voucher signing key in %s",
                 a->cfg.channel.key_dir);
    if (vrc == VS_ERR || vsign_key_load(a->cfg.channel.key_dir, &a->voucher_key) != VS_OK) {
        snprintf(err, errcap, "%s/%s: missing or unsafe voucher signing key (mode 0600, SM2 PEM)",
                 a->cfg.channel.key_dir, VOUCHER_KEY_FILE);
        return APP_ERR_RUNTIME;
    }
    /* The TURN secret: created here when missing, like the voucher key. */
    int trc = video_secret_create(a->cfg.video.turn_secret_file);
    if (trc == VT_OK)
        log_info("app.turn_secret", "created the TURN secret %s", a->cfg.video.turn_secret_file);
    if (trc == VT_ERR ||
        video_secret_load(a->cfg.video.turn_secret_file, a->video.secret) != VT_OK) {
        snprintf(err, errcap, "%s: missing or unsafe TURN secret (mode 0600, one line)",
                 a->cfg.video.turn_secret_file);
        return APP_ERR_RUNTIME;
    }
    snprintf(a->video.urls, sizeof a->video.urls, "%s", a->cfg.video.turn_urls);
    a->video.ttl_s = a->cfg.video.turn_ttl_s;
    a->video.window_s = a->cfg.video.reconnect_window_s;
    if (!a->vrec && !(a->vrec = calloc(1, sizeof *a->vrec))) {
        snprintf(err, errcap, "out of memory");
        return APP_ERR_RUNTIME;
    }
    vrec_env_init(a->vrec, &a->cfg, &a->kek);
    a->tx_env = (struct tx_env){.kek = &a->kek,
                                .video = &a->video,
                                .vrec = a->vrec,
                                .identity = &a->identity,
                                .attach_max_bytes = a->cfg.business.attach_max_bytes,
                                .voucher_key = a->voucher_key,
                                .face_threshold = a->cfg.business.face_threshold};
    /* The app store's download tokens: a key of their own from the KEK, so
     * every node of a province checks what another minted. */
    if (dltoken_key_derive(a->kek.mac, a->store_token_key) != 0) {
        snprintf(err, errcap, "cannot derive the app store's token key");
        return APP_ERR_RUNTIME;
    }
    a->tx_env.store_token_key = a->store_token_key;
    a->tx_env.store_token_ttl_s = a->cfg.appstore.token_ttl_s;
    if (authcache_open(a->cfg.identity.cache_ttl_ms, &a->authcache) != 0) {
        snprintf(err, errcap, "cannot allocate the device and session cache");
        return APP_ERR_RUNTIME;
    }
    return APP_OK;
}

/* store_on_change: this node's committed change, told to the other nodes
 * (their cached devices and sessions go stale at their next request). If
 * Redis cannot be told, [identity] cache_ttl_ms still bounds it. */
static void tell_cluster(void *arg, unsigned tags)
{
    (void)tags;
    if (redis_incrby(arg, REDIS_KEY_CHANGES, 1, NULL) != REDIS_DONE)
        log_warn("app.redis", "the cluster's change generation was not raised; other nodes see "
                              "this change within [identity] cache_ttl_ms");
}

/* [redis]: when servers or sentinels is set, the client, and the nonce
 * store shares its pairs through it (after the restore: those stay local);
 * copies of stored answers go there too ([redis] answer_ttl_s; 0: none).
 * Nothing is connected here: a node starts while Redis is down, and its
 * transactions answer unavailable until Redis is back. */
static int open_redis(struct app *a, char *err, size_t errcap)
{
    const struct config *cfg = &a->cfg;
    if (!cfg->redis.servers[0] && !cfg->redis.sentinels[0])
        return APP_OK;
    char pw[256], why[200] = "";
    if (read_password("redis", cfg->redis.password_file, pw, sizeof pw, err, errcap) != 0)
        return APP_ERR_RUNTIME;
    struct redis_config rc = {
        .servers = cfg->redis.servers,
        .sentinels = cfg->redis.sentinels,
        .master_name = cfg->redis.master_name,
        .password = pw,
        .connect_timeout_ms = cfg->redis.connect_timeout_ms,
        .command_timeout_ms = cfg->redis.command_timeout_ms,
        .pool_size = cfg->redis.pool_size,
        .prefix = cfg->redis.prefix,
    };
    int rrc = redis_open(&rc, &a->redis, why, sizeof why);
    secmem_wipe(pw, sizeof pw);
    if (rrc != REDIS_DONE) {
        snprintf(err, errcap, "[redis] %s", why);
        return APP_ERR_CONFIG;
    }
    nonce_share(a->nonces, a->redis);
    store_on_change(a->store, tell_cluster, a->redis);
    if (answer_cache_open(a->redis, cfg->redis.answer_ttl_s, &a->answers) != 0) {
        snprintf(err, errcap, "cannot allocate the answer cache");
        return APP_ERR_RUNTIME;
    }
    log_info("app.redis", "anti-replay records shared through redis %s%s",
             cfg->redis.sentinels[0] ? "sentinels " : "",
             cfg->redis.sentinels[0] ? cfg->redis.sentinels : cfg->redis.servers);
    return APP_OK;
}

/* The audit context (identity/audit.h): the chain's key and the checkpoint
 * signing key from key_dir, set here before any thread that appends starts;
 * then the chain's head is checked, a legacy chain re-chained once. */
static int open_audit(struct app *a, char *err, size_t errcap)
{
    char file[PATH_MAX], why[768];
    struct audit_upgrade up;
    if (audit_checkpoint_path(a->cfg.data_dir, file, sizeof file) != 0) {
        snprintf(err, errcap, "data directory path too long");
        return APP_ERR_RUNTIME;
    }
    struct audit_options o = {
        .key_dir = a->cfg.channel.key_dir,
        .checkpoint_file = file,
        .checkpoint_every = a->cfg.audit.checkpoint_every,
    };
    int rc = audit_open(&o, why, sizeof why);
    if (rc != ID_OK) {
        snprintf(err, errcap, "audit key: %s%s", why,
                 rc == ID_NOT_FOUND ? " (`zhanye init` creates it; for a data directory from "
                                      "before keyed audit: `zhanye audit keygen --data DIR`)"
                                    : "");
        return APP_ERR_RUNTIME;
    }
    if (audit_prepare(a->store, "system", &up, why, sizeof why) != ID_OK) {
        snprintf(err, errcap, "%s", why);
        return APP_ERR_RUNTIME;
    }
    if (up.rekeyed)
        log_info("audit.rekeyed", "re-chained %lld legacy audit records under the audit key",
                 (long long)up.rekeyed);
    return APP_OK;
}

/* Connectors to the bank's other systems; without a conf_dir there are no
 * routes, and every business step that needs one fails with a clear error. */
static int open_egress(struct app *a, char *err, size_t errcap)
{
    struct stat st;
    const char *dir = stat(a->cfg.server.conf_dir, &st) == 0 ? a->cfg.server.conf_dir : NULL;
    if (!dir)
        log_warn("app.egress", "%s: missing; no egress routes", a->cfg.server.conf_dir);
    if (egress_open(&a->cfg, dir, &a->egress, err, errcap) != 0)
        return APP_ERR_CONFIG;
    a->tx_env.egress = a->egress; /* for the transactions' prepare phase (channel/tx.h) */
    return APP_OK;
}

/* The audit checkpointer, one thread for the chain of every database. */
static int start_checkpointer(struct app *a)
{
    struct audit_chains cs;
    int rc = audit_chains_collect(a->shards, a->cfg.data_dir, &cs) == ID_OK
                 ? audit_checkpointer_start(&cs)
                 : -1;
    audit_chains_free(&cs);
    return rc;
}

int app_deliver_start(struct app *a, char *err, size_t errcap)
{
    const struct config *cfg = &a->cfg;
    struct vdeliver_config vc = {
        .dir = a->store,
        .shards = a->shards,
        .kek = &a->kek,
        .key = a->voucher_key,
        .egress = a->egress,
        .scan_ms = cfg->business.voucher_scan_ms,
        .retry_ms = cfg->business.voucher_retry_ms,
        .retry_max_ms = cfg->business.voucher_retry_max_ms,
        .attempts = cfg->business.voucher_attempts,
    };
    if (a->deliverer)
        return APP_OK;
    if (vdeliver_start(&vc, &a->deliverer) != 0) {
        snprintf(err, errcap, "cannot start the voucher deliverer");
        return APP_ERR_RUNTIME;
    }
    struct vwatch_config wc = {
        .dir = a->store,
        .shards = a->shards,
        .vrec = a->vrec,
        .window_ms =
            (int64_t)(cfg->video.reconnect_window_s > 0 ? cfg->video.reconnect_window_s : 20) *
            1000,
    };
    if (!a->vwatch && vwatch_start(&wc, &a->vwatch) != 0) {
        snprintf(err, errcap, "cannot start the recorded calls' watcher");
        return APP_ERR_RUNTIME;
    }
    return APP_OK;
}

int app_open(struct app *a, const char *data_dir, char *err, size_t errcap)
{
    int rc = app_load_config(a, data_dir, err, errcap);
    if (rc != APP_OK)
        return rc;
    struct log_config lc = {
        .path = a->cfg.log.path,
        .ring_lines = (size_t)a->cfg.log.ring_lines,
        .level = (enum log_level)a->cfg.log.level,
    };
    if (log_open(&lc) != 0) {
        snprintf(err, errcap, "%s: cannot open log file", a->cfg.log.path);
        config_free(&a->cfg);
        return APP_ERR_RUNTIME;
    }
    a->started_ms = clock_wall_ms();
    rc = open_store(a, err, errcap);
    if (rc == APP_OK)
        rc = open_channel(a, err, errcap);
    if (rc == APP_OK)
        rc = open_redis(a, err, errcap);
    if (rc == APP_OK)
        rc = open_audit(a, err, errcap);
    if (rc == APP_OK)
        rc = open_egress(a, err, errcap);
    if (rc == APP_OK && start_checkpointer(a) != 0) {
        snprintf(err, errcap, "cannot start the audit checkpointer");
        rc = APP_ERR_RUNTIME;
    }
    if (rc != APP_OK)
        app_close(a);
    return rc;
}

void app_close(struct app *a)
{
    app_overrides_unwatch(a);
    flow_free(a->flow, clock_mono_ns());
    a->flow = NULL;
    vdeliver_stop(a->deliverer); /* before what it uses: egress, keys, stores */
    a->deliverer = NULL;
    vwatch_stop(a->vwatch); /* a recording being finished completes first */
    a->vwatch = NULL;
    a->tx_env.vrec = NULL;
    free(a->vrec);
    a->vrec = NULL;
    egress_close(a->egress);
    a->egress = NULL;
    a->tx_env.egress = NULL;
    nonce_journal_close(a->journal); /* flushed: a clean stop loses no record */
    a->journal = NULL;
    nonce_close(a->nonces);
    a->nonces = NULL;
    store_on_change(a->store, NULL, NULL); /* no commit may reach a closed client */
    answer_cache_close(a->answers);
    a->answers = NULL;
    redis_close(a->redis);
    a->redis = NULL;
    authcache_close(a->authcache);
    a->authcache = NULL;
    keyring_free(&a->keys);
    kek_wipe(&a->kek);
    secmem_wipe(a->video.secret, sizeof a->video.secret);
    secmem_wipe(a->store_token_key, sizeof a->store_token_key);
    a->tx_env.store_token_key = NULL;
    a->tx_env.voucher_key = NULL;
    sm2_key_free(a->voucher_key);
    vpdf_cleanup(); /* the HTTP threads that render have been joined */
    a->voucher_key = NULL;
    /* A clean shutdown signs each chain's head (nothing if no record came since). */
    struct audit_chains cs;
    if (audit_checkpointer_stop() && a->store &&
        audit_chains_collect(a->shards, a->cfg.data_dir, &cs) == ID_OK) {
        (void)audit_checkpoint_all(&cs); /* logs the outcome */
        audit_chains_free(&cs);
    }
    audit_close();
    if (a->seq)
        seq_close(a->seq);
    a->seq = NULL;
    app_store_close(a);
    log_close();
    config_free(&a->cfg);
}

/* The [server] caps; 0 stays 0, which flow derives from connection_limit. */
static struct flow_caps caps_of(const struct config *cfg)
{
    struct flow_caps c = {
        .max_connections = cfg->server.max_connections,
        .max_in_flight = cfg->server.max_in_flight,
        .max_queued = cfg->server.max_queued,
    };
    return c;
}

int app_flow_open(struct app *a, const struct flow_hooks *hooks, char *err, size_t errcap)
{
    struct flow_caps caps = caps_of(&a->cfg);
    if (flow_from_config(&a->cfg, &caps, hooks, &a->flow, err, errcap) != 0)
        return APP_ERR_CONFIG;
    /* With Redis, cluster-scope rules hold their rates for the whole cluster. */
    if (a->redis && flow_share(a->flow, a->redis, err, errcap) != 0) {
        flow_free(a->flow, clock_mono_ns());
        a->flow = NULL;
        return APP_ERR_RUNTIME;
    }
    /* The console's overrides (app/overrides.h); a set that cannot apply
     * leaves the file's rules running rather than keeping the server down. */
    char oerr[256];
    if (app_overrides_apply(a, oerr, sizeof oerr) != 0)
        log_error("flow.start", "the console's overrides were not applied: %s", oerr);
    if (app_overrides_watch(a) != 0)
        log_warn("flow.start", "cannot start the overrides poller: console changes made on "
                               "other nodes reach this one only at its next reload");
    struct flow_global_stats g;
    flow_global_stats(a->flow, &g);
    log_info("flow.start",
             "%d rules; business caps: %lld connections, %lld in flight, %lld queued; "
             "cluster-scope rates %s",
             g.nrules, (long long)g.caps.max_connections, (long long)g.caps.max_in_flight,
             (long long)g.caps.max_queued, a->redis ? "shared through redis" : "node-local");
    return APP_OK;
}

int app_flow_reload(struct app *a, char *err, size_t errcap)
{
    int rc = -1;
    /* Loaded aside (a->cfg stays what the process was started with), with
     * the console's overrides laid over it (app/overrides.h). */
    if (!a->flow)
        snprintf(err, errcap, "flow control is not running");
    else
        rc = app_overrides_apply(a, err, errcap);
    if (rc == 0) {
        struct flow_global_stats g;
        flow_global_stats(a->flow, &g);
        log_info("flow.reload", "rules reloaded from %s (%d rules over the process's life)",
                 a->cfg.file, g.nrules);
    } else {
        log_warn("flow.reload", "kept the old rules: %s", err);
    }
    return rc;
}
