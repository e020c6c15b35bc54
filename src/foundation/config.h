/* config — the one INI file, zhanye.conf.
 *
 * Sections are `[area]` or `[area.NAME]` (e.g. `[flow.LOGIN]`); every key is
 * declared in config.c with its type, default and bounds, and documented in
 * docs/configuration.md. Loading is all-or-nothing: the first unknown
 * section or key, or bad value, fails the load with one message of the form
 * "FILE:LINE: <what is wrong with which key>", and the caller exits 2.
 * Relative paths in the file are resolved against the data directory. */
#ifndef ZHANYE_CONFIG_H
#define ZHANYE_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define CONFIG_MAX_NAMED 256
#define CONFIG_NAMED_KEYS 24

/* A `[area.NAME]` section: values kept as validated strings, looked up by key. */
struct config_named {
    char area[16];
    char name[40];
    int line;
    const char *keys[CONFIG_NAMED_KEYS]; /* static key names, NULL = unused */
    char *vals[CONFIG_NAMED_KEYS];
};

struct config {
    char file[PATH_MAX];
    char data_dir[PATH_MAX];
    struct {
        char listen[64];
        int threads;       /* 0 = two per core */
        int workers;       /* executor threads for the ZY1 pipeline; 0 = two per core */
        bool inline_reads; /* read-only TXs on the HTTP threads (embedded database only) */
        int64_t body_limit;
        int64_t admin_body_limit;
        int64_t buffer_limit;
        int request_timeout_s;
        int connection_limit;
        int node_id;
        int drain_timeout_s;
        int max_connections; /* flow's global caps (business TXs); 0 = derived */
        int max_in_flight;
        int max_queued;
        char conf_dir[PATH_MAX]; /* egress mappings and routes */

        /* The HTTP front's address policy: who may read /metrics, which
         * peers' X-Forwarded-For is believed ("" = none), the URL clients
         * use ("" or http(s)://...). */
        char metrics_allow[512];
        char trusted_proxies[512];
        char public_url[256];
    } server;
    struct {
        char path[PATH_MAX];
        int level;
        int64_t ring_lines;
    } log;
    struct {
        char backend[16];
        char path[PATH_MAX];
        int pool_size;
        int busy_timeout_ms;
        int acquire_timeout_ms; /* wait for a free pooled connection, then 503 */
        /* mariadb: the servers (HOST:PORT, comma-separated), the database
         * and the account; the password is read from password_file (0600),
         * never from this file. */
        char servers[512];
        char database[65];
        char user[65];
        char password_file[PATH_MAX];
        int connect_timeout_ms;
        int read_pool_size;  /* connections to replicas for reads (0: none) */
        int replica_wait_ms; /* how long a replica may take to catch up */
    } store;
    struct {
        /* Redis shared by the nodes ("" and "": not used): servers
         * (HOST:PORT list) or Sentinels with the master's name; the password
         * is read from password_file (0600), never from this file. */
        char servers[512];
        char sentinels[512];
        char master_name[65];
        char password_file[PATH_MAX];
        char prefix[65];
        int connect_timeout_ms;
        int command_timeout_ms;
        int pool_size;
        int answer_ttl_s; /* copies of stored answers (answer_cache.h); 0: none */
    } redis;
    struct {
        char keys[256]; /* comma-separated live kids */
        char key_dir[PATH_MAX];
        int64_t window_ms;
    } channel;
    struct {
        int idle_timeout_s;
        int absolute_timeout_s;
        int max_devices;
        int max_failures;
        int lock_minutes;
        int cache_ttl_ms; /* how long the request path trusts a cached device or session */
    } identity;
    struct {
        int64_t checkpoint_every; /* a signed checkpoint at least every this many records */
    } audit;
    struct {
        int64_t attach_max_bytes; /* largest attachment (business/attach.h) */
        int face_threshold;       /* face compare's lowest passing score (business/wf.h) */
        int voucher_scan_ms;      /* the voucher deliverer's pause between scans (app/vdeliver.h) */
        int voucher_retry_ms;     /* its first backoff after a failed upload, doubled each time */
        int voucher_retry_max_ms; /* ... capped at this */
        int voucher_attempts;     /* failed uploads before a voucher's delivery is `failed` */
    } business;
    struct {
        char turn_secret_file[PATH_MAX]; /* the TURN REST API secret (business/video_turn.h) */
        char turn_urls[512];             /* turn:/stun: URLs handed to both sides of a call */
        int turn_ttl_s;                  /* TURN credentials' lifetime */
        int reconnect_window_s;          /* a silent side ends the call `dropped` after this */
        char janus_url[256];             /* Janus's HTTP API (egress/janus.h); "" = no recording */
        char janus_api_secret[128];      /* its api_secret; "" = none */
        char recordings_dir[PATH_MAX];   /* sealed recordings (business/vrec.h) */
        int janus_timeout_ms;            /* one Janus request's deadline */
    } video;
    struct {
        int64_t max_package_bytes; /* largest package upload (appstore/package.h) */
        int token_ttl_s;           /* lifetime of a download token (appstore/dltoken.h) */
    } appstore;
    struct {
        char root[PATH_MAX]; /* web/dist: one directory per app (http/static.h); "" = none */
    } web;
    int nnamed;
    struct config_named named[CONFIG_MAX_NAMED];
};

/* Fills cfg with every default, paths resolved against data_dir. */
void config_defaults(struct config *cfg, const char *data_dir);
/* Loads file over the defaults. 0 on success; on failure -1 and err holds the one-line message. */
int config_load(struct config *cfg, const char *data_dir, const char *file, char *err,
                size_t errcap);
void config_free(struct config *cfg);

/* Value of key in [area.name], or the key's default if unset, or NULL if no such section. */
const char *config_named_get(const struct config *cfg, const char *area, const char *name,
                             const char *key);
/* Sets key of [area.name] to value, validated exactly as in the file
 * (creating the section). 0, or -1 with err "bad value ... : why" /
 * "unknown key ..." and cfg unchanged. */
int config_named_set(struct config *cfg, const char *area, const char *name, const char *key,
                     const char *value, char *err, size_t errcap);
/* Writes the documented default file (every key commented with its default). 0 or -1. */
int config_write_default(const char *path);

#endif
