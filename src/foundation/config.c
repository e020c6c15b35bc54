#include "foundation/config.h"

#include "foundation/ini_lines.h"
#include "foundation/log.h"
#include "foundation/netaddr.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cfg_type {
    T_INT,
    T_I64,
    T_SIZE,
    T_STR,
    T_PATH,
    T_LEVEL,
    T_HOSTPORT,
    T_KIDS,
    T_BACKEND,
    T_BOOL,
    T_URLS,
    T_ADDRS,     /* IP addresses and CIDR prefixes (netaddr.h); may be empty */
    T_PUBURL,    /* "" or http(s)://HOST[:PORT][/path] */
    T_HOSTPORTS, /* HOST:PORT, comma-separated; may be empty */
    T_IDENT      /* [A-Za-z0-9_]{1,64}: a database or account name */
};

struct cfg_key {
    const char *section; /* fixed section, or the area of a named one */
    const char *key;
    enum cfg_type type;
    const char *def;
    long long min, max;
    size_t off; /* into struct config; unused for named sections */
    size_t cap; /* string capacity */
};

#define F(field) offsetof(struct config, field)
#define S(field) sizeof(((struct config *)0)->field)

static const struct cfg_key KEYS[] = {
    {"server", "listen", T_HOSTPORT, "127.0.0.1:8080", 0, 0, F(server.listen), S(server.listen)},
    {"server", "threads", T_INT, "0", 0, 1024, F(server.threads), 0},
    {"server", "workers", T_INT, "0", 0, 1024, F(server.workers), 0},
    {"server", "inline_reads", T_BOOL, "true", 0, 0, F(server.inline_reads), 0},
    {"server", "body_limit", T_SIZE, "8M", 1024, 1LL << 30, F(server.body_limit), 0},
    {"server", "admin_body_limit", T_SIZE, "16K", 1024, 1LL << 30, F(server.admin_body_limit), 0},
    {"server", "buffer_limit", T_SIZE, "64M", 1024, 1LL << 40, F(server.buffer_limit), 0},
    {"server", "request_timeout_s", T_INT, "30", 1, 3600, F(server.request_timeout_s), 0},
    {"server", "connection_limit", T_INT, "4096", 1, 1000000, F(server.connection_limit), 0},
    {"server", "node_id", T_INT, "1", 0, 99, F(server.node_id), 0},
    {"server", "drain_timeout_s", T_INT, "10", 0, 600, F(server.drain_timeout_s), 0},
    /* Flow control's global caps on business transactions; 0 = derived. */
    {"server", "max_connections", T_INT, "0", 0, 1000000, F(server.max_connections), 0},
    {"server", "max_in_flight", T_INT, "0", 0, 1000000, F(server.max_in_flight), 0},
    {"server", "max_queued", T_INT, "0", 0, 1000000, F(server.max_queued), 0},
    {"server", "conf_dir", T_PATH, "conf", 0, 0, F(server.conf_dir), S(server.conf_dir)},
    {"server", "metrics_allow", T_ADDRS, "127.0.0.1,::1", 0, 0, F(server.metrics_allow),
     S(server.metrics_allow)},
    {"server", "trusted_proxies", T_ADDRS, "", 0, 0, F(server.trusted_proxies),
     S(server.trusted_proxies)},
    {"server", "public_url", T_PUBURL, "", 0, 0, F(server.public_url), S(server.public_url)},
    {"log", "path", T_PATH, "zhanye.log", 0, 0, F(log.path), S(log.path)},
    {"log", "level", T_LEVEL, "info", 0, 0, F(log.level), 0},
    {"log", "ring_lines", T_I64, "65536", 16, 1 << 24, F(log.ring_lines), 0},
    {"store", "backend", T_BACKEND, "sqlite", 0, 0, F(store.backend), S(store.backend)},
    {"store", "path", T_PATH, "zhanye.db", 0, 0, F(store.path), S(store.path)},
    {"store", "pool_size", T_INT, "8", 1, 256, F(store.pool_size), 0},
    {"store", "busy_timeout_ms", T_INT, "5000", 0, 600000, F(store.busy_timeout_ms), 0},
    {"store", "acquire_timeout_ms", T_INT, "2000", 1, 600000, F(store.acquire_timeout_ms), 0},
    {"store", "servers", T_HOSTPORTS, "", 0, 0, F(store.servers), S(store.servers)},
    {"store", "database", T_IDENT, "zhanye", 0, 0, F(store.database), S(store.database)},
    {"store", "user", T_IDENT, "zhanye", 0, 0, F(store.user), S(store.user)},
    {"store", "password_file", T_PATH, "keys/db.password", 0, 0, F(store.password_file),
     S(store.password_file)},
    {"store", "connect_timeout_ms", T_INT, "2000", 100, 600000, F(store.connect_timeout_ms), 0},
    {"store", "read_pool_size", T_INT, "4", 0, 256, F(store.read_pool_size), 0},
    {"store", "replica_wait_ms", T_INT, "100", 1, 60000, F(store.replica_wait_ms), 0},
    /* Redis shared by the nodes (data/redis.h); used when servers or sentinels is set. */
    {"redis", "servers", T_HOSTPORTS, "", 0, 0, F(redis.servers), S(redis.servers)},
    {"redis", "sentinels", T_HOSTPORTS, "", 0, 0, F(redis.sentinels), S(redis.sentinels)},
    {"redis", "master_name", T_IDENT, "zhanye", 0, 0, F(redis.master_name), S(redis.master_name)},
    {"redis", "password_file", T_PATH, "keys/redis.password", 0, 0, F(redis.password_file),
     S(redis.password_file)},
    {"redis", "prefix", T_STR, "zy:", 0, 0, F(redis.prefix), S(redis.prefix)},
    {"redis", "connect_timeout_ms", T_INT, "500", 1, 60000, F(redis.connect_timeout_ms), 0},
    {"redis", "command_timeout_ms", T_INT, "500", 1, 60000, F(redis.command_timeout_ms), 0},
    {"redis", "pool_size", T_INT, "8", 1, 256, F(redis.pool_size), 0},
    /* Copies of stored ZY1 answers in Redis (channel/answer_cache.h); 0: none. At
     * most a day: `zhanye purge --days 1` must not leave a copy of a purged answer. */
    {"redis", "answer_ttl_s", T_INT, "86400", 0, 86400, F(redis.answer_ttl_s), 0},
    {"channel", "keys", T_KIDS, "k1", 0, 0, F(channel.keys), S(channel.keys)},
    {"channel", "key_dir", T_PATH, "keys", 0, 0, F(channel.key_dir), S(channel.key_dir)},
    {"channel", "window_ms", T_I64, "300000", 1000, 86400000, F(channel.window_ms), 0},
    {"identity", "idle_timeout_s", T_INT, "1800", 1, 86400, F(identity.idle_timeout_s), 0},
    {"identity", "absolute_timeout_s", T_INT, "43200", 1, 604800, F(identity.absolute_timeout_s),
     0},
    {"identity", "max_devices", T_INT, "1", 1, 16, F(identity.max_devices), 0},
    {"identity", "max_failures", T_INT, "5", 1, 100, F(identity.max_failures), 0},
    {"identity", "lock_minutes", T_INT, "15", 0, 10080, F(identity.lock_minutes), 0},
    {"identity", "cache_ttl_ms", T_INT, "2000", 0, 60000, F(identity.cache_ttl_ms), 0},
    /* The audit chain's signed checkpoints (identity/audit_checkpoint.h). */
    {"audit", "checkpoint_every", T_I64, "1000", 1, 1000000000, F(audit.checkpoint_every), 0},
    /* Attachments (business/attach.h): the largest content, every bank. */
    {"business", "attach_max_bytes", T_SIZE, "10M", 1024, 64LL << 20, F(business.attach_max_bytes),
     0},
    /* Workflows (business/wf.h): face compare's lowest passing score, 0..100. */
    {"business", "face_threshold", T_INT, "80", 1, 100, F(business.face_threshold), 0},
    /* Voucher delivery to the paperless platform (app/vdeliver.h). */
    {"business", "voucher_scan_ms", T_INT, "2000", 50, 3600000, F(business.voucher_scan_ms), 0},
    {"business", "voucher_retry_ms", T_INT, "5000", 10, 3600000, F(business.voucher_retry_ms), 0},
    {"business", "voucher_retry_max_ms", T_INT, "600000", 10, 86400000,
     F(business.voucher_retry_max_ms), 0},
    {"business", "voucher_attempts", T_INT, "10", 1, 1000, F(business.voucher_attempts), 0},
    /* Remote video calls (business/video_call.h, video_turn.h). */
    {"video", "turn_secret_file", T_PATH, "keys/turn.secret", 0, 0, F(video.turn_secret_file),
     S(video.turn_secret_file)},
    {"video", "turn_urls", T_STR, "", 0, 0, F(video.turn_urls), S(video.turn_urls)},
    {"video", "turn_ttl_s", T_INT, "600", 60, 86400, F(video.turn_ttl_s), 0},
    {"video", "reconnect_window_s", T_INT, "20", 2, 600, F(video.reconnect_window_s), 0},
    /* The app store (src/appstore/): the largest package upload, and how
     * long the download token APP_LATEST hands out stays valid. */
    {"appstore", "max_package_bytes", T_SIZE, "256M", 1024, 4LL << 30,
     F(appstore.max_package_bytes), 0},
    {"appstore", "token_ttl_s", T_INT, "600", 10, 86400, F(appstore.token_ttl_s), 0},
    /* The web apps served by `zhanye serve` (http/static.h); empty: none. */
    {"web", "root", T_PATH, "", 0, 0, F(web.root), S(web.root)},
    /* Recorded video calls (双录): Janus and where the sealed recordings live (business/vrec.h). */
    {"video", "janus_url", T_PUBURL, "", 0, 0, F(video.janus_url), S(video.janus_url)},
    {"video", "janus_api_secret", T_STR, "", 0, 0, F(video.janus_api_secret),
     S(video.janus_api_secret)},
    {"video", "recordings_dir", T_PATH, "recordings", 0, 0, F(video.recordings_dir),
     S(video.recordings_dir)},
    {"video", "janus_timeout_ms", T_INT, "5000", 100, 120000, F(video.janus_timeout_ms), 0},
    /* [flow.TX] and [flow.default]: access-gateway rules. */
    {"flow", "rate", T_INT, "1000", 1, 10000000, 0, 0},
    {"flow", "burst", T_INT, "100", 1, 10000000, 0, 0},
    {"flow", "max_concurrent", T_INT, "64", 1, 100000, 0, 0},
    {"flow", "queue", T_INT, "256", 0, 1000000, 0, 0},
    {"flow", "max_wait_ms", T_INT, "200", 0, 600000, 0, 0},
    /* Per client address inside a rule; 0 = off (LOGIN: rate/4), burst 0 = burst/4. */
    {"flow", "per_addr_rate", T_INT, "0", 0, 10000000, 0, 0},
    {"flow", "per_addr_burst", T_INT, "0", 0, 10000000, 0, 0},
    /* cluster: the rate holds for all nodes through Redis (node without [redis]); or node. */
    {"flow", "scope", T_STR, "cluster", 0, 0, 0, 0},
    /* [egress.SYSTEM]: one connector per downstream system (docs/egress.md). */
    {"egress", "address", T_URLS, "", 0, 0, 0, 0},
    {"egress", "connect_timeout_ms", T_INT, "1000", 1, 60000, 0, 0},
    {"egress", "call_timeout_ms", T_INT, "3000", 1, 600000, 0, 0},
    {"egress", "max_concurrent", T_INT, "16", 1, 10000, 0, 0},
    {"egress", "queue", T_INT, "64", 0, 100000, 0, 0},
    {"egress", "max_wait_ms", T_INT, "500", 0, 600000, 0, 0},
    {"egress", "breaker_window", T_INT, "20", 1, 1000, 0, 0},
    {"egress", "breaker_min_calls", T_INT, "10", 1, 1000, 0, 0},
    {"egress", "breaker_failure_rate", T_INT, "50", 1, 100, 0, 0},
    {"egress", "breaker_slow_ms", T_INT, "2000", 1, 600000, 0, 0},
    {"egress", "breaker_slow_rate", T_INT, "100", 1, 100, 0, 0},
    {"egress", "breaker_open_ms", T_INT, "10000", 1, 3600000, 0, 0},
    {"egress", "breaker_half_open_calls", T_INT, "3", 1, 100, 0, 0},
    {"egress", "retries", T_INT, "1", 0, 10, 0, 0},
    {"egress", "retry_budget_pct", T_INT, "20", 0, 100, 0, 0},
    {"egress", "required", T_BOOL, "false", 0, 0, 0, 0},
    /* ftp:// systems only: the login; the password is read from a file. */
    {"egress", "user", T_STR, "anonymous", 0, 0, 0, 0},
    {"egress", "password_file", T_PATH, "", 0, 0, 0, 0},
    /* [shard.NAME]: a database holding some banks' business data (data/shard.h). */
    {"shard", "database", T_STR, "", 0, 0, 0, 0},
    {"shard", "servers", T_STR, "", 0, 0, 0, 0},
    {"shard", "banks", T_STR, "", 0, 0, 0, 0},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

/* Areas whose sections carry a name: [flow.LOGIN], [egress.core], [shard.s1]. */
static const char *const NAMED_AREAS[] = {"flow", "egress", "shard"};

struct load_ctx {
    struct config *cfg;
    char msg[256];
    bool failed;
};

static void fail(struct load_ctx *lc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct load_ctx *lc, const char *fmt, ...)
{
    if (lc->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lc->msg, sizeof lc->msg, fmt, ap);
    va_end(ap);
    lc->failed = true;
}

static bool is_named_area(const char *area)
{
    for (size_t i = 0; i < sizeof NAMED_AREAS / sizeof NAMED_AREAS[0]; i++)
        if (strcmp(area, NAMED_AREAS[i]) == 0)
            return true;
    return false;
}

static const struct cfg_key *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].section, section) == 0 && strcmp(KEYS[i].key, key) == 0)
            return &KEYS[i];
    return NULL;
}

static bool section_known(const char *section)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].section, section) == 0)
            return true;
    return false;
}

static int parse_int(const char *v, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return -1;
    *out = n;
    return 0;
}

/* "8M", "512K", "1G" or plain bytes. */
static int parse_size(const char *v, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || n < 0)
        return -1;
    long long mult = 1;
    if (*end == 'K' || *end == 'k')
        mult = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1024 * 1024, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1024LL * 1024 * 1024, end++;
    if (*end || n > max / mult || n * mult < min)
        return -1;
    *out = n * mult;
    return 0;
}

static bool valid_hostport(const char *v)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v || strlen(v) >= 64)
        return false;
    long long port;
    return parse_int(colon + 1, 1, 65535, &port) == 0;
}

static bool valid_hostports(const char *v)
{
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        char one[64];
        if (n >= sizeof one)
            return false;
        memcpy(one, p, n);
        one[n] = '\0';
        if (!valid_hostport(one))
            return false;
        p += n;
    }
    return true;
}

static bool valid_ident(const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)v[i]) && v[i] != '_')
            return false;
    return true;
}

static bool valid_kid(const char *s, size_t n)
{
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return false;
    return true;
}

static bool valid_kids(const char *v)
{
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (!valid_kid(p, n))
            return false;
        p += n;
    }
    return strspn(v, ", ") != strlen(v);
}

static bool valid_bool(const char *v)
{
    return strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
}

/* One egress address: tcp://HOST:PORT or ftp://HOST:PORT, or http(s)://HOST:PORT
 * with an optional /path. */
static bool valid_url(const char *s, size_t n)
{
    bool bare =
        (n >= 6 && strncmp(s, "tcp://", 6) == 0) || (n >= 6 && strncmp(s, "ftp://", 6) == 0);
    size_t skip = bare                                       ? 6
                  : n >= 7 && strncmp(s, "http://", 7) == 0  ? 7
                  : n >= 8 && strncmp(s, "https://", 8) == 0 ? 8
                                                             : 0;
    if (skip == 0)
        return false;
    size_t hp = strcspn(s + skip, "/");
    if (hp > n - skip)
        hp = n - skip;
    if (bare && hp != n - skip)
        return false; /* a socket or file-transfer address has no path */
    char host[64];
    if (hp >= sizeof host)
        return false;
    memcpy(host, s + skip, hp);
    host[hp] = '\0';
    return valid_hostport(host);
}

/* Comma-separated egress addresses, all of one scheme. */
static bool valid_urls(const char *v)
{
    const char *p = v;
    size_t first_scheme = 0;
    int count = 0;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        size_t scheme = strcspn(p, ":");
        if (!valid_url(p, n) || (count > 0 && scheme != first_scheme))
            return false;
        first_scheme = scheme;
        count++;
        p += n;
    }
    return count > 0 && count <= 8;
}

/* "" or http(s):// followed by a host: what clients type, for HSTS and Secure cookies. */
static bool valid_public_url(const char *v)
{
    size_t skip = strncmp(v, "https://", 8) == 0 ? 8 : strncmp(v, "http://", 7) == 0 ? 7 : 0;
    if (!*v)
        return true;
    if (skip == 0 || !v[skip] || v[skip] == '/')
        return false;
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* Validates value for key; for fixed sections also stores it into cfg. */
static int apply(struct config *cfg, const struct cfg_key *k, const char *v, bool store_it,
                 const char **why)
{
    long long n = 0;
    char *base = (char *)cfg;
    switch (k->type) {
    case T_INT:
    case T_I64:
    case T_SIZE:
        if ((k->type == T_SIZE ? parse_size : parse_int)(v, k->min, k->max, &n)) {
            *why = "is not a number in range";
            return -1;
        }
        if (store_it && k->type == T_INT)
            *(int *)(base + k->off) = (int)n;
        else if (store_it)
            *(int64_t *)(base + k->off) = n;
        return 0;
    case T_LEVEL:
        n = log_level_parse(v);
        if (n < 0) {
            *why = "must be debug, info, warn or error";
            return -1;
        }
        if (store_it)
            *(int *)(base + k->off) = (int)n;
        return 0;
    case T_HOSTPORT:
        if (!valid_hostport(v)) {
            *why = "must be HOST:PORT";
            return -1;
        }
        break;
    case T_KIDS:
        if (!valid_kids(v)) {
            *why = "must be a comma-separated list of key ids [A-Za-z0-9._-]{1,32}";
            return -1;
        }
        break;
    case T_BACKEND:
        if (strcmp(v, "sqlite") != 0 && strcmp(v, "mariadb") != 0) {
            *why = "must be sqlite or mariadb";
            return -1;
        }
        break;
    case T_HOSTPORTS:
        if (!valid_hostports(v)) {
            *why = "must be a comma-separated list of HOST:PORT";
            return -1;
        }
        break;
    case T_IDENT:
        if (!valid_ident(v)) {
            *why = "must be 1 to 64 of A-Z a-z 0-9 _";
            return -1;
        }
        break;
    case T_BOOL:
        if (!valid_bool(v)) {
            *why = "must be true or false";
            return -1;
        }
        if (store_it && k->off) {
            *(bool *)(base + k->off) = strcmp(v, "true") == 0;
            return 0;
        }
        break;
    case T_URLS:
        if (!valid_urls(v)) {
            *why = "must be 1 to 8 comma-separated tcp://HOST:PORT, ftp://HOST:PORT or "
                   "http(s)://HOST:PORT[/path] addresses of one scheme";
            return -1;
        }
        break;
    case T_ADDRS: {
        struct netaddr_list l;
        if (netaddr_list_parse(v, &l, NULL, 0) != 0) {
            *why = "must be comma-separated IP addresses or CIDR prefixes (at most 32)";
            return -1;
        }
        break;
    }
    case T_PUBURL:
        if (!valid_public_url(v)) {
            *why = "must be empty or an http:// or https:// URL";
            return -1;
        }
        break;
    case T_STR:
    case T_PATH:
        if (!*v) {
            *why = "must not be empty";
            return -1;
        }
        break;
    }
    if (!store_it)
        return 0;
    char *dst = base + k->off;
    int w;
    if (k->type == T_PATH && v[0] != '/')
        w = snprintf(dst, k->cap, "%s/%s", cfg->data_dir, v);
    else
        w = snprintf(dst, k->cap, "%s", v);
    if (w < 0 || (size_t)w >= k->cap) {
        *why = "is too long";
        return -1;
    }
    return 0;
}

static struct config_named *named_section(struct config *cfg, const char *area, const char *name,
                                          bool create)
{
    for (int i = 0; i < cfg->nnamed; i++)
        if (strcmp(cfg->named[i].area, area) == 0 && strcmp(cfg->named[i].name, name) == 0)
            return &cfg->named[i];
    size_t an = strlen(area), nn = strlen(name);
    if (!create || cfg->nnamed == CONFIG_MAX_NAMED || an >= sizeof cfg->named[0].area ||
        nn >= sizeof cfg->named[0].name)
        return NULL;
    struct config_named *s = &cfg->named[cfg->nnamed++];
    memset(s, 0, sizeof *s);
    memcpy(s->area, area, an + 1);
    memcpy(s->name, name, nn + 1);
    return s;
}

static bool valid_section_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n >= sizeof(((struct config_named *)0)->name))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
            return false;
    return true;
}

static int set_named(struct load_ctx *lc, const char *area, const char *name, const char *key,
                     const char *value)
{
    const struct cfg_key *k = find_key(area, key);
    const char *why = NULL;
    if (!k) {
        fail(lc, "unknown key '%s' in [%s.%s]", key, area, name);
        return 0;
    }
    if (apply(lc->cfg, k, value, false, &why)) {
        fail(lc, "bad value '%s' for key '%s' in [%s.%s]: %s", value, key, area, name, why);
        return 0;
    }
    struct config_named *s = named_section(lc->cfg, area, name, true);
    if (!s) {
        fail(lc, "too many [%s.*] sections", area);
        return 0;
    }
    for (int i = 0; i < CONFIG_NAMED_KEYS; i++) {
        if (s->keys[i] == NULL || strcmp(s->keys[i], k->key) == 0) {
            char *dup = strdup(value);
            if (!dup) {
                fail(lc, "out of memory");
                return 0;
            }
            free(s->vals[i]);
            s->keys[i] = k->key;
            s->vals[i] = dup;
            return 1;
        }
    }
    fail(lc, "too many keys in [%s.%s]", area, name);
    return 0;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    struct load_ctx *lc = user;
    if (lc->failed)
        return 0;
    char area[64];
    const char *dot = strchr(section, '.');
    size_t alen = dot ? (size_t)(dot - section) : strlen(section);
    if (alen >= sizeof area) {
        fail(lc, "unknown section [%s]", section);
        return 0;
    }
    memcpy(area, section, alen);
    area[alen] = '\0';
    if (dot) {
        if (!is_named_area(area) || !valid_section_name(dot + 1)) {
            fail(lc, "unknown section [%s]", section);
            return 0;
        }
        return set_named(lc, area, dot + 1, key, value);
    }
    if (!section_known(section) || is_named_area(section)) {
        fail(lc, "unknown section [%s]", section[0] ? section : "(none)");
        return 0;
    }
    const struct cfg_key *k = find_key(section, key);
    const char *why = NULL;
    if (!k) {
        fail(lc, "unknown key '%s' in [%s]", key, section);
        return 0;
    }
    if (apply(lc->cfg, k, value, true, &why)) {
        fail(lc, "bad value '%s' for key '%s' in [%s]: %s", value, key, section, why);
        return 0;
    }
    return 1;
}

void config_defaults(struct config *cfg, const char *data_dir)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", data_dir);
    for (size_t i = 0; i < NKEYS; i++) {
        const char *why;
        if (!is_named_area(KEYS[i].section))
            (void)apply(cfg, &KEYS[i], KEYS[i].def, true, &why);
    }
}

int config_load(struct config *cfg, const char *data_dir, const char *file, char *err,
                size_t errcap)
{
    config_defaults(cfg, data_dir);
    snprintf(cfg->file, sizeof cfg->file, "%s", file);
    struct load_ctx lc = {.cfg = cfg};
    struct ini_lines r = {.f = fopen(file, "r")};
    int line = r.f ? ini_parse_stream(ini_lines_read, &r, on_entry, &lc) : -1;
    if (r.f)
        fclose(r.f);
    if (line == 0 && r.refused[0]) { /* nothing failed before the refused line */
        line = r.line;
        fail(&lc, "%s", r.refused);
    }
    if (line == 0 && !lc.failed)
        return 0;
    if (line < 0)
        snprintf(err, errcap, "%s: cannot read: %s", file,
                 line == -1 ? strerror(errno) : "no memory");
    else if (lc.failed)
        snprintf(err, errcap, "%s:%d: %s", file, line, lc.msg);
    else
        snprintf(err, errcap, "%s:%d: syntax error (expected [section] or key = value)", file,
                 line);
    config_free(cfg);
    return -1;
}

void config_free(struct config *cfg)
{
    for (int i = 0; i < cfg->nnamed; i++)
        for (int j = 0; j < CONFIG_NAMED_KEYS; j++) {
            free(cfg->named[i].vals[j]);
            cfg->named[i].vals[j] = NULL;
        }
    cfg->nnamed = 0;
}

const char *config_named_get(const struct config *cfg, const char *area, const char *name,
                             const char *key)
{
    const struct config_named *s = named_section((struct config *)cfg, area, name, false);
    if (!s)
        return NULL;
    for (int j = 0; j < CONFIG_NAMED_KEYS && s->keys[j]; j++)
        if (strcmp(s->keys[j], key) == 0)
            return s->vals[j];
    const struct cfg_key *k = find_key(area, key);
    return k ? k->def : NULL;
}

int config_named_set(struct config *cfg, const char *area, const char *name, const char *key,
                     const char *value, char *err, size_t errcap)
{
    struct load_ctx lc = {.cfg = cfg};
    if (!is_named_area(area) || !valid_section_name(name))
        fail(&lc, "unknown section [%s.%s]", area, name);
    else
        (void)set_named(&lc, area, name, key, value);
    if (!lc.failed)
        return 0;
    snprintf(err, errcap, "%s", lc.msg);
    return -1;
}

int config_write_default(const char *path)
{
    FILE *f = fopen(path, "wx");
    if (!f)
        return -1;
    fputs("; zhanye.conf — every key with its default; see docs/configuration.md.\n"
          "; Relative paths are relative to the data directory.\n",
          f);
    const char *last = "";
    for (size_t i = 0; i < NKEYS; i++) {
        const char *sec = KEYS[i].section;
        if (strcmp(sec, last) != 0) {
            if (is_named_area(sec))
                fprintf(f, "\n; [%s.NAME] sections (see docs/configuration.md):\n", sec);
            else
                fprintf(f, "\n[%s]\n", sec);
            last = sec;
        }
        fprintf(f, "; %s = %s\n", KEYS[i].key, KEYS[i].def);
    }
    return fclose(f) == 0 ? 0 : -1;
}
