#include "data/redis.h"

#include "foundation/log.h"
#include "foundation/secmem.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOST_MAX 256
#define EVAL_ARGS_MAX 16

/* A server or Sentinel: host and port, or a unix socket path (port 0). */
struct addr {
    char host[HOST_MAX];
    int port;
};

struct slot {
    redisContext *c; /* NULL: not connected */
    uint64_t gen;    /* r->gen when c was connected */
    bool busy;
};

struct redis {
    struct addr servers[REDIS_ADDRS_MAX];
    int nservers;
    struct addr sentinels[REDIS_ADDRS_MAX];
    int nsentinels;
    char master_name[65];
    char *password; /* NULL: no AUTH; wiped at close */
    char *sentinel_password;
    struct timeval connect_tv, command_tv;
    int command_ms;
    char prefix[REDIS_PREFIX_MAX + 1];
    size_t prefix_len;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;  /* a slot was given back */
    struct slot *slots;
    int nslots;
    /* Where the primary is. gen grows each time it is forgotten, so a pooled
     * connection made before (slot.gen != gen) is dropped at its next use. */
    bool known;
    struct addr primary;
    uint64_t gen;
    int next_sentinel;       /* the one that answered last is asked first */
    pthread_mutex_t disc_mu; /* one discovery at a time */
    /* when a line of each repeating kind was last logged (rate limit) */
    double logged_auth, logged_busy, logged_error;
};

static void set_err(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static void addr_format(const struct addr *a, char *out, size_t cap)
{
    if (a->port == 0)
        snprintf(out, cap, "%s", a->host);
    else if (strchr(a->host, ':'))
        snprintf(out, cap, "[%s]:%d", a->host, a->port);
    else
        snprintf(out, cap, "%s:%d", a->host, a->port);
}

static bool addr_eq(const struct addr *a, const struct addr *b)
{
    return a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* One "HOST:PORT", "[V6]:PORT" or (allow_unix) "/path" of n bytes. 0 or -1. */
static int parse_addr(const char *s, size_t n, bool allow_unix, struct addr *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || n >= HOST_MAX)
        return -1;
    if (s[0] == '/') {
        if (!allow_unix || n >= 108) /* sun_path */
            return -1;
        memcpy(out->host, s, n);
        return 0;
    }
    const char *colon = NULL;
    const char *host = s;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close || close + 1 >= s + n || close[1] != ':')
            return -1;
        host = s + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        for (size_t i = n; i > 0; i--)
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                break;
            }
        if (!colon)
            return -1;
        hlen = (size_t)(colon - s);
        if (memchr(s, ':', hlen)) /* an IPv6 address needs brackets */
            return -1;
    }
    if (hlen == 0)
        return -1;
    const char *p = colon + 1, *end = s + n;
    if (p == end || end - p > 5)
        return -1;
    long port = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        port = port * 10 + (*p - '0');
    }
    if (port < 1 || port > 65535)
        return -1;
    memcpy(out->host, host, hlen);
    out->port = (int)port;
    return 0;
}

/* A comma-separated list; blanks around items ignored. Count, or -1 with err. */
static int parse_list(const char *what, const char *s, bool allow_unix,
                      struct addr out[REDIS_ADDRS_MAX], char *err, size_t errcap)
{
    int n = 0;
    if (strspn(s, " \t") == strlen(s))
        return 0; /* empty or all blank: no entries */
    for (;;) {
        const char *end = strchr(s, ',');
        if (!end)
            end = s + strlen(s);
        const char *a = s, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (n == REDIS_ADDRS_MAX) {
            set_err(err, errcap, "redis: more than %d %s", REDIS_ADDRS_MAX, what);
            return -1;
        }
        if (parse_addr(a, (size_t)(b - a), allow_unix, &out[n]) != 0) {
            set_err(err, errcap, "redis: %s: '%.*s' is not %s", what, (int)(b - a), a,
                    allow_unix ? "HOST:PORT or a socket path" : "HOST:PORT");
            return -1;
        }
        n++;
        if (!*end)
            return n;
        s = end + 1; /* after a comma an entry must follow */
    }
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 64 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int ms_or(int v, int dflt, int max, const char *what, int *out, char *err, size_t errcap)
{
    if (v == 0)
        v = dflt;
    if (v < 1 || v > max) {
        set_err(err, errcap, "redis: %s must be 1..%d", what, max);
        return -1;
    }
    *out = v;
    return 0;
}

static struct timeval tv_of(int ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

static char *dup_secret(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static void free_secret(char *s)
{
    if (s) {
        secmem_wipe(s, strlen(s));
        free(s);
    }
}

int redis_open(const struct redis_config *cfg, struct redis **out, char *err, size_t errcap)
{
    *out = NULL;
    struct redis *r = calloc(1, sizeof *r);
    if (!r) {
        set_err(err, errcap, "redis: out of memory");
        return REDIS_FAIL;
    }
    const char *servers = cfg->servers ? cfg->servers : "";
    const char *sentinels = cfg->sentinels ? cfg->sentinels : "";
    int ms_connect = 0, pool = 0;
    if ((r->nservers = parse_list("servers", servers, true, r->servers, err, errcap)) < 0 ||
        (r->nsentinels = parse_list("sentinels", sentinels, false, r->sentinels, err, errcap)) < 0)
        goto bad;
    if ((r->nservers > 0) == (r->nsentinels > 0)) {
        set_err(err, errcap, "redis: give either servers or sentinels (exactly one)");
        goto bad;
    }
    if (r->nsentinels > 0) {
        if (!cfg->master_name || !valid_name(cfg->master_name)) {
            set_err(err, errcap, "redis: sentinels need master_name ([A-Za-z0-9._-], 1..64)");
            goto bad;
        }
        snprintf(r->master_name, sizeof r->master_name, "%s", cfg->master_name);
    }
    if (ms_or(cfg->connect_timeout_ms, REDIS_CONNECT_DEFAULT_MS, 60000, "connect_timeout_ms",
              &ms_connect, err, errcap) != 0 ||
        ms_or(cfg->command_timeout_ms, REDIS_COMMAND_DEFAULT_MS, 60000, "command_timeout_ms",
              &r->command_ms, err, errcap) != 0 ||
        ms_or(cfg->pool_size, REDIS_POOL_DEFAULT, 256, "pool_size", &pool, err, errcap) != 0)
        goto bad;
    const char *prefix = cfg->prefix ? cfg->prefix : "";
    if (strlen(prefix) > REDIS_PREFIX_MAX) {
        set_err(err, errcap, "redis: prefix longer than %d bytes", REDIS_PREFIX_MAX);
        goto bad;
    }
    r->prefix_len = strlen(prefix);
    memcpy(r->prefix, prefix, r->prefix_len);
    r->connect_tv = tv_of(ms_connect);
    r->command_tv = tv_of(r->command_ms);
    r->password = dup_secret(cfg->password);
    r->sentinel_password = dup_secret(cfg->sentinel_password);
    r->slots = calloc((size_t)pool, sizeof *r->slots);
    if ((cfg->password && *cfg->password && !r->password) ||
        (cfg->sentinel_password && *cfg->sentinel_password && !r->sentinel_password) || !r->slots) {
        set_err(err, errcap, "redis: out of memory");
        goto bad;
    }
    r->nslots = pool;

    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        set_err(err, errcap, "redis: cannot make a condition variable");
        goto bad;
    }
    int crc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (crc == 0)
        crc = pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (crc != 0) {
        set_err(err, errcap, "redis: cannot make a condition variable");
        goto bad;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->disc_mu, NULL);
    *out = r;
    return REDIS_DONE;
bad:
    free(r->slots);
    free_secret(r->password);
    free_secret(r->sentinel_password);
    free(r);
    return REDIS_FAIL;
}

void redis_close(struct redis *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].c)
            redisFree(r->slots[i].c);
    free(r->slots);
    free_secret(r->password);
    free_secret(r->sentinel_password);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->disc_mu);
    free(r);
}

/* Whether a line of the kind whose last time is *last may be logged now:
 * at most one a second, so a refusal met by every request does not flood
 * the log. */
static bool log_due(struct redis *r, double *last)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
    pthread_mutex_lock(&r->mu);
    bool due = *last == 0 || now - *last >= 1000;
    if (due)
        *last = now;
    pthread_mutex_unlock(&r->mu);
    return due;
}

/* ---- the pool ------------------------------------------------------------ */

static struct slot *slot_take(struct redis *r)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += r->command_ms / 1000;
    until.tv_nsec += (long)(r->command_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    struct slot *got = NULL;
    for (;;) {
        /* a free slot, one with a connection first */
        for (int i = 0; i < r->nslots; i++) {
            struct slot *s = &r->slots[i];
            if (!s->busy && (!got || (s->c && !got->c)))
                got = s;
        }
        if (got)
            break;
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) == ETIMEDOUT)
            break;
    }
    if (got)
        got->busy = true;
    pthread_mutex_unlock(&r->mu);
    return got;
}

static void slot_give(struct redis *r, struct slot *s)
{
    pthread_mutex_lock(&r->mu);
    s->busy = false;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void slot_drop(struct slot *s)
{
    if (s->c)
        redisFree(s->c);
    s->c = NULL;
}

/* Forgets the primary found at generation g (unless someone already did),
 * so every pooled connection to it is dropped and the next call discovers
 * again. why: a short reason for the log, never a value. */
static void forget(struct redis *r, uint64_t g, const char *why)
{
    char where[HOST_MAX + 16] = "";
    pthread_mutex_lock(&r->mu);
    bool now = r->known && r->gen == g;
    if (now) {
        addr_format(&r->primary, where, sizeof where);
        r->known = false;
        r->gen++;
    }
    pthread_mutex_unlock(&r->mu);
    if (now)
        log_warn("redis.primary_lost", "redis primary %s dropped: %s", where, why);
}

/* A pooled connection that the server closed (or that has unread bytes)
 * reads as ready: it is not used for a new command. */
static bool conn_usable(redisContext *c)
{
    if (c->err)
        return false;
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return poll(&p, 1, 0) == 0;
}

/* ---- connecting and discovery -------------------------------------------- */

static redisContext *dial(const struct redis *r, const struct addr *a)
{
    redisContext *c = a->port == 0 ? redisConnectUnixWithTimeout(a->host, r->connect_tv)
                                   : redisConnectWithTimeout(a->host, a->port, r->connect_tv);
    if (!c)
        return NULL;
    if (c->err || redisSetTimeout(c, r->command_tv) != REDIS_OK) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Whether rep is an error whose code (its first word) is code. */
static bool err_code(const redisReply *rep, const char *code)
{
    size_t n = strlen(code);
    return rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, code, n) == 0 &&
           (rep->str[n] == ' ' || rep->str[n] == '\0');
}

/* A refusal by a server that is not (or not yet) a usable primary: nothing
 * ran; the primary is to be found again. */
static bool is_refusal(const redisReply *rep)
{
    return err_code(rep, "READONLY") || err_code(rep, "MASTERDOWN") || err_code(rep, "LOADING");
}

/* A refusal by a primary that is there but cannot take the command now
 * (not enough replicas, a script running, out of memory): nothing ran. */
static bool is_transient(const redisReply *rep)
{
    return err_code(rep, "NOREPLICAS") || err_code(rep, "BUSY") || err_code(rep, "OOM") ||
           err_code(rep, "TRYAGAIN");
}

/* AUTH with password (NULL: nothing to do) on c. REDIS_DONE; REDIS_FAIL when
 * refused; REDIS_UNAVAILABLE when the connection failed. */
static int auth(redisContext *c, const char *password)
{
    if (!password)
        return REDIS_DONE;
    const char *argv[] = {"AUTH", password};
    const size_t lens[] = {4, strlen(password)};
    redisReply *rep = redisCommandArgv(c, 2, argv, lens);
    if (!rep)
        return REDIS_UNAVAILABLE;
    int rc = rep->type == REDIS_REPLY_STATUS ? REDIS_DONE
             : is_refusal(rep)               ? REDIS_UNAVAILABLE
                                             : REDIS_FAIL;
    freeReplyObject(rep);
    return rc;
}

/* A connection to the data server at a that is authenticated and answers
 * ROLE as a master; NULL with *rc = REDIS_UNAVAILABLE (down, not a master)
 * or REDIS_FAIL (password refused). */
static redisContext *dial_primary(struct redis *r, const struct addr *a, int *rc)
{
    char where[HOST_MAX + 16];
    addr_format(a, where, sizeof where);
    *rc = REDIS_UNAVAILABLE;
    redisContext *c = dial(r, a);
    if (!c)
        return NULL;
    int arc = auth(c, r->password);
    if (arc != REDIS_DONE) {
        if (arc == REDIS_FAIL && log_due(r, &r->logged_auth))
            log_error("redis.auth", "redis %s refused the password", where);
        *rc = arc;
        redisFree(c);
        return NULL;
    }
    redisReply *rep = redisCommand(c, "ROLE");
    bool master = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
                  rep->element[0]->type == REDIS_REPLY_STRING &&
                  strcmp(rep->element[0]->str, "master") == 0;
    if (rep && rep->type == REDIS_REPLY_ERROR && !is_refusal(rep)) {
        if (log_due(r, &r->logged_auth))
            log_error("redis.role", "redis %s refused ROLE", where);
        *rc = REDIS_FAIL;
    }
    if (rep)
        freeReplyObject(rep);
    if (!master) {
        redisFree(c);
        return NULL;
    }
    *rc = REDIS_DONE;
    return c;
}

/* Asks Sentinel i where the primary is. 0 and *out, or -1. */
static int ask_sentinel(const struct redis *r, int i, struct addr *out)
{
    redisContext *c = dial(r, &r->sentinels[i]);
    if (!c)
        return -1;
    int ok = -1;
    if (auth(c, r->sentinel_password) == REDIS_DONE) {
        redisReply *rep = redisCommand(c, "SENTINEL get-master-addr-by-name %s", r->master_name);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            rep->element[0]->type == REDIS_REPLY_STRING &&
            rep->element[1]->type == REDIS_REPLY_STRING) {
            char buf[HOST_MAX + 16];
            snprintf(buf, sizeof buf, "%s:%s", rep->element[0]->str, rep->element[1]->str);
            /* an IPv6 host comes without brackets */
            if (strchr(rep->element[0]->str, ':'))
                snprintf(buf, sizeof buf, "[%s]:%s", rep->element[0]->str, rep->element[1]->str);
            ok = parse_addr(buf, strlen(buf), false, out);
        }
        if (rep)
            freeReplyObject(rep);
    }
    redisFree(c);
    return ok;
}

/* Finds the primary and connects to it. REDIS_DONE with *out and *conn;
 * REDIS_UNAVAILABLE; REDIS_FAIL (password refused). */
static int discover(struct redis *r, struct addr *out, redisContext **conn)
{
    int rc = REDIS_UNAVAILABLE;
    if (r->nservers > 0) {
        for (int i = 0; i < r->nservers; i++) {
            int crc;
            redisContext *c = dial_primary(r, &r->servers[i], &crc);
            if (c) {
                *out = r->servers[i];
                *conn = c;
                return REDIS_DONE;
            }
            if (crc == REDIS_FAIL)
                rc = REDIS_FAIL;
        }
        return rc;
    }
    struct addr tried[REDIS_ADDRS_MAX];
    int ntried = 0;
    pthread_mutex_lock(&r->mu);
    int first = r->next_sentinel;
    pthread_mutex_unlock(&r->mu);
    for (int k = 0; k < r->nsentinels; k++) {
        int i = (first + k) % r->nsentinels;
        struct addr a;
        if (ask_sentinel(r, i, &a) != 0)
            continue;
        bool seen = false;
        for (int t = 0; t < ntried; t++)
            seen = seen || addr_eq(&tried[t], &a);
        if (seen)
            continue;
        tried[ntried++] = a;
        int crc;
        redisContext *c = dial_primary(r, &a, &crc);
        if (c) {
            pthread_mutex_lock(&r->mu);
            r->next_sentinel = i;
            pthread_mutex_unlock(&r->mu);
            *out = a;
            *conn = c;
            return REDIS_DONE;
        }
        if (crc == REDIS_FAIL)
            rc = REDIS_FAIL;
    }
    return rc;
}

/* Gives s a connection to the primary: to the known one, else after a
 * discovery. REDIS_DONE, REDIS_UNAVAILABLE or REDIS_FAIL. */
static int connect_slot(struct redis *r, struct slot *s)
{
    pthread_mutex_lock(&r->mu);
    bool known = r->known;
    struct addr a = r->primary;
    uint64_t g = r->gen;
    pthread_mutex_unlock(&r->mu);
    int rc;
    if (known) {
        s->c = dial_primary(r, &a, &rc);
        s->gen = g;
        if (!s->c && rc == REDIS_UNAVAILABLE)
            forget(r, g, "cannot connect, or no longer a master");
        return rc;
    }
    pthread_mutex_lock(&r->disc_mu);
    pthread_mutex_lock(&r->mu);
    known = r->known; /* found meanwhile by another thread? */
    a = r->primary;
    g = r->gen;
    pthread_mutex_unlock(&r->mu);
    if (known) {
        pthread_mutex_unlock(&r->disc_mu);
        s->c = dial_primary(r, &a, &rc);
        s->gen = g;
        if (!s->c && rc == REDIS_UNAVAILABLE)
            forget(r, g, "cannot connect, or no longer a master");
        return rc;
    }
    struct addr found;
    redisContext *c = NULL;
    rc = discover(r, &found, &c);
    if (rc == REDIS_DONE) {
        char where[HOST_MAX + 16];
        addr_format(&found, where, sizeof where);
        pthread_mutex_lock(&r->mu);
        bool moved = !addr_eq(&r->primary, &found);
        r->primary = found;
        r->known = true;
        s->c = c;
        s->gen = r->gen;
        pthread_mutex_unlock(&r->mu);
        if (moved)
            log_info("redis.primary", "redis primary is %s", where);
    }
    pthread_mutex_unlock(&r->disc_mu);
    return rc;
}

/* ---- one command ---------------------------------------------------------- */

/* Runs argv on the primary with the retries described in redis.h. reads:
 * the command only reads, so it may be repeated after a broken connection.
 * REDIS_DONE with *out (the caller frees it; it may be an error reply other
 * than the refusals), REDIS_UNAVAILABLE or REDIS_FAIL. */
static int run(struct redis *r, bool reads, int argc, const char **argv, const size_t *lens,
               redisReply **out)
{
    *out = NULL;
    struct slot *s = slot_take(r);
    if (!s)
        return REDIS_UNAVAILABLE;
    int rc = REDIS_UNAVAILABLE;
    for (int attempt = 0; attempt < REDIS_TRIES; attempt++) {
        pthread_mutex_lock(&r->mu);
        uint64_t g = r->gen;
        pthread_mutex_unlock(&r->mu);
        if (s->c && s->gen != g)
            slot_drop(s);
        if (s->c && !conn_usable(s->c)) {
            /* Closed by the server: it restarted, or is gone. Ask again
             * where the primary is rather than trust the old address (a
             * crashed primary may be back as a master that Sentinel has
             * not demoted yet). */
            forget(r, s->gen, "connection closed by the server");
            slot_drop(s);
        }
        if (!s->c) {
            rc = connect_slot(r, s);
            if (rc == REDIS_FAIL)
                break;
            if (rc != REDIS_DONE)
                continue;
        }
        redisReply *rep = redisCommandArgv(s->c, argc, argv, lens);
        if (!rep) {
            forget(r, s->gen, s->c->errstr);
            slot_drop(s);
            rc = REDIS_UNAVAILABLE;
            if (reads)
                continue;
            break;
        }
        if (is_refusal(rep)) {
            forget(r, s->gen, "refused: not a writable primary");
            freeReplyObject(rep);
            slot_drop(s);
            rc = REDIS_UNAVAILABLE;
            continue;
        }
        if (is_transient(rep)) {
            if (log_due(r, &r->logged_busy))
                log_warn("redis.busy", "redis refused a command for now: %.*s",
                         (int)strcspn(rep->str, " "), rep->str);
            freeReplyObject(rep);
            rc = REDIS_UNAVAILABLE;
            break;
        }
        *out = rep;
        rc = REDIS_DONE;
        break;
    }
    slot_give(r, s);
    return rc;
}

/* Logs the server's error for a command. The texts of the commands used
 * here never quote a value; a script's error may (the script decides what
 * it says), so for EVAL only its first word, the error code. At most a
 * line a second. REDIS_FAIL. */
static int server_error(struct redis *r, const char *cmd, const redisReply *rep)
{
    size_t n = strcmp(cmd, "EVAL") == 0 ? strcspn(rep->str, " ") : strlen(rep->str);
    if (log_due(r, &r->logged_error))
        log_warn("redis.error", "redis %s: %.*s", cmd, (int)(n > 120 ? 120 : n), rep->str);
    return REDIS_FAIL;
}

/* prefix + key into buf (REDIS_PREFIX_MAX + REDIS_KEY_MAX + 1). Its length, or 0. */
static size_t full_key(const struct redis *r, const char *key, char *buf)
{
    size_t n = key ? strlen(key) : 0;
    if (n == 0 || n > REDIS_KEY_MAX)
        return 0;
    memcpy(buf, r->prefix, r->prefix_len);
    memcpy(buf + r->prefix_len, key, n + 1);
    return r->prefix_len + n;
}

#define KEYBUF (REDIS_PREFIX_MAX + REDIS_KEY_MAX + 1)

int redis_ping(struct redis *r)
{
    const char *argv[] = {"PING"};
    const size_t lens[] = {4};
    redisReply *rep;
    int rc = run(r, true, 1, argv, lens, &rep);
    if (rc != REDIS_DONE)
        return rc;
    rc = rep->type == REDIS_REPLY_STATUS  ? REDIS_DONE
         : rep->type == REDIS_REPLY_ERROR ? server_error(r, "PING", rep)
                                          : REDIS_FAIL;
    freeReplyObject(rep);
    return rc;
}

static int set_common(struct redis *r, const char *key, const void *val, size_t len, int64_t ttl_ms,
                      bool nx)
{
    char k[KEYBUF], ttl[24];
    size_t klen = full_key(r, key, k);
    if (klen == 0 || (!val && len > 0) || ttl_ms < 0 || (nx && ttl_ms < 1))
        return REDIS_FAIL;
    snprintf(ttl, sizeof ttl, "%" PRId64, ttl_ms);
    const char *argv[6] = {"SET", k, val ? val : "", "PX", ttl, "NX"};
    size_t lens[6] = {3, klen, len, 2, strlen(ttl), 2};
    int argc = nx ? 6 : ttl_ms > 0 ? 5 : 3;
    redisReply *rep;
    int rc = run(r, false, argc, argv, lens, &rep);
    if (rc != REDIS_DONE)
        return rc;
    if (rep->type == REDIS_REPLY_STATUS)
        rc = REDIS_DONE;
    else if (rep->type == REDIS_REPLY_NIL && nx)
        rc = REDIS_EXISTS;
    else
        rc = rep->type == REDIS_REPLY_ERROR ? server_error(r, "SET", rep) : REDIS_FAIL;
    freeReplyObject(rep);
    return rc;
}

int redis_set_nx(struct redis *r, const char *key, const void *val, size_t len, int64_t ttl_ms)
{
    return set_common(r, key, val, len, ttl_ms, true);
}

int redis_set(struct redis *r, const char *key, const void *val, size_t len, int64_t ttl_ms)
{
    return set_common(r, key, val, len, ttl_ms, false);
}

int redis_get(struct redis *r, const char *key, void *buf, size_t cap, size_t *len)
{
    char k[KEYBUF];
    size_t klen = full_key(r, key, k);
    *len = 0;
    if (klen == 0 || (!buf && cap > 0))
        return REDIS_FAIL;
    const char *argv[] = {"GET", k};
    const size_t lens[] = {3, klen};
    redisReply *rep;
    int rc = run(r, true, 2, argv, lens, &rep);
    if (rc != REDIS_DONE)
        return rc;
    if (rep->type == REDIS_REPLY_STRING) {
        *len = rep->len;
        if (rep->len <= cap) {
            if (rep->len > 0)
                memcpy(buf, rep->str, rep->len);
            rc = REDIS_DONE;
        } else {
            rc = REDIS_FAIL;
        }
    } else if (rep->type == REDIS_REPLY_NIL) {
        rc = REDIS_NOTFOUND;
    } else {
        rc = rep->type == REDIS_REPLY_ERROR ? server_error(r, "GET", rep) : REDIS_FAIL;
    }
    freeReplyObject(rep);
    return rc;
}

int redis_del(struct redis *r, const char *key)
{
    char k[KEYBUF];
    size_t klen = full_key(r, key, k);
    if (klen == 0)
        return REDIS_FAIL;
    const char *argv[] = {"DEL", k};
    const size_t lens[] = {3, klen};
    redisReply *rep;
    int rc = run(r, false, 2, argv, lens, &rep);
    if (rc != REDIS_DONE)
        return rc;
    if (rep->type == REDIS_REPLY_INTEGER)
        rc = rep->integer > 0 ? REDIS_DONE : REDIS_NOTFOUND;
    else
        rc = rep->type == REDIS_REPLY_ERROR ? server_error(r, "DEL", rep) : REDIS_FAIL;
    freeReplyObject(rep);
    return rc;
}

int redis_incrby(struct redis *r, const char *key, int64_t by, int64_t *out)
{
    char k[KEYBUF], num[24];
    size_t klen = full_key(r, key, k);
    if (klen == 0)
        return REDIS_FAIL;
    snprintf(num, sizeof num, "%" PRId64, by);
    const char *argv[] = {"INCRBY", k, num};
    const size_t lens[] = {6, klen, strlen(num)};
    redisReply *rep;
    int rc = run(r, false, 3, argv, lens, &rep);
    if (rc != REDIS_DONE)
        return rc;
    if (rep->type == REDIS_REPLY_INTEGER) {
        if (out)
            *out = rep->integer;
        rc = REDIS_DONE;
    } else {
        rc = rep->type == REDIS_REPLY_ERROR ? server_error(r, "INCRBY", rep) : REDIS_FAIL;
    }
    freeReplyObject(rep);
    return rc;
}

/* The SHA-1 of script as 40 lowercase hex digits (what EVALSHA names). */
static int script_sha(const char *script, char hex[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(script, strlen(script), md, &n, EVP_sha1(), NULL) != 1 || n != 20)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int redis_eval(struct redis *r, const char *script, int nkeys, const char *const keys[], int nargs,
               const char *const args[], int64_t *out)
{
    if (!script || !*script || nkeys < 0 || nkeys > EVAL_ARGS_MAX || nargs < 0 ||
        nargs > EVAL_ARGS_MAX || (nkeys > 0 && !keys) || (nargs > 0 && !args))
        return REDIS_FAIL;
    char sha[41], nk[8];
    if (script_sha(script, sha) != 0)
        return REDIS_FAIL;
    snprintf(nk, sizeof nk, "%d", nkeys);
    char kbuf[EVAL_ARGS_MAX][KEYBUF];
    const char *argv[3 + 2 * EVAL_ARGS_MAX];
    size_t lens[3 + 2 * EVAL_ARGS_MAX];
    int argc = 0;
    argv[argc] = "EVALSHA", lens[argc++] = 7;
    argv[argc] = sha, lens[argc++] = 40;
    argv[argc] = nk, lens[argc++] = strlen(nk);
    for (int i = 0; i < nkeys; i++) {
        size_t klen = full_key(r, keys[i], kbuf[i]);
        if (klen == 0)
            return REDIS_FAIL;
        argv[argc] = kbuf[i], lens[argc++] = klen;
    }
    for (int i = 0; i < nargs; i++) {
        if (!args[i])
            return REDIS_FAIL;
        argv[argc] = args[i], lens[argc++] = strlen(args[i]);
    }
    redisReply *rep;
    int rc = run(r, false, argc, argv, lens, &rep);
    if (rc != REDIS_DONE)
        return rc;
    if (err_code(rep, "NOSCRIPT")) {
        /* not cached there (a restarted or promoted server): send the body */
        freeReplyObject(rep);
        argv[0] = "EVAL", lens[0] = 4;
        argv[1] = script, lens[1] = strlen(script);
        rc = run(r, false, argc, argv, lens, &rep);
        if (rc != REDIS_DONE)
            return rc;
    }
    if (rep->type == REDIS_REPLY_INTEGER) {
        if (out)
            *out = rep->integer;
        rc = REDIS_DONE;
    } else if (rep->type == REDIS_REPLY_NIL) {
        rc = REDIS_NOTFOUND;
    } else {
        rc = rep->type == REDIS_REPLY_ERROR ? server_error(r, "EVAL", rep) : REDIS_FAIL;
    }
    freeReplyObject(rep);
    return rc;
}

char *redis_primary(struct redis *r, char *out, size_t cap)
{
    if (cap == 0)
        return out;
    out[0] = '\0';
    pthread_mutex_lock(&r->mu);
    if (r->known)
        addr_format(&r->primary, out, cap);
    pthread_mutex_unlock(&r->mu);
    return out;
}
