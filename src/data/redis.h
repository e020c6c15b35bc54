/* redis — a small thread-safe Redis client for state shared across nodes
 * (anti-replay records, sessions, counters, rates, cache), over hiredis'
 * synchronous API.
 *
 * Where the primary is: either a fixed list of servers, or Sentinels.
 *  - servers: "HOST:PORT[,HOST:PORT...]" (an entry starting with '/' is a
 *    unix socket path). The one that answers ROLE as a master is used.
 *  - sentinels + master_name: each Sentinel in turn is asked
 *    SENTINEL get-master-addr-by-name; the address it names is connected to
 *    and must answer ROLE as a master.
 * A connection that fails or that the server closed, or a command refused
 * with -READONLY, -MASTERDOWN or -LOADING, drops the connection and forgets
 * where the primary is: the same call tries again from discovery (at most
 * REDIS_TRIES attempts in all), and so does every later call, so a client
 * follows a Sentinel failover (or a manual switch among `servers`) by
 * itself, without a restart. A primary that refuses a command for now
 * (-NOREPLICAS, -BUSY, -OOM, -TRYAGAIN) stays the primary; the call answers
 * REDIS_UNAVAILABLE.
 *
 * Threads: a pool of pool_size connections under one mutex. A call takes a
 * free connection (waiting at most command_timeout_ms for one), uses it for
 * the one command and gives it back. Chosen over one connection per thread
 * because the HTTP front's thread count is not bounded by us (each thread
 * would hold a server connection until it ends, and thread-local contexts
 * cannot be closed from redis_close); a pool bounds the connections each
 * node opens and frees them all at close. Every function is safe to call
 * from any thread at once, except redis_open/redis_close.
 *
 * Retries and uncertainty: an attempt is repeated only when the command
 * surely did not run (no connection, the server refused it as a replica
 * or while loading), or for reads (GET, PING). When the connection breaks
 * or times out after a write was sent, the call returns REDIS_UNAVAILABLE
 * without retrying: the write may or may not have been applied (a blind
 * retry of SET NX would report REDIS_EXISTS for the caller's own write, of
 * INCRBY would count twice).
 *
 * Bounds: one call takes at most about REDIS_TRIES x (each Sentinel's
 * connect_timeout_ms + connect_timeout_ms + 2 x command_timeout_ms) plus
 * the wait for a pooled connection.
 *
 * Keys: every key is prefixed with cfg.prefix inside this module; callers
 * name keys without it. Neither values nor the password are ever logged
 * (keys may be logged: they hold device ids and names, no PII). The
 * signal SIGPIPE must be ignored by the process (hiredis writes to sockets
 * the server may have closed); `zhanye serve` does.
 *
 * Log events: redis.primary (info: a primary found at a new address),
 * redis.primary_lost (warn: forgotten, with why), redis.auth and
 * redis.role (error: the password or ROLE refused), redis.busy (warn: a
 * refusal for now), redis.error (warn: a server error, REDIS_FAIL); the
 * last four at most once a second each.
 *
 * Return codes: every function returns one of enum redis_rc. (hiredis
 * defines REDIS_OK and REDIS_ERR as macros; this header's codes have other
 * names and values that never collide with its use.) */
#ifndef ZHANYE_DATA_REDIS_H
#define ZHANYE_DATA_REDIS_H

#include <stddef.h>
#include <stdint.h>

enum redis_rc {
    REDIS_DONE = 0,         /* success */
    REDIS_EXISTS = 1,       /* redis_set_nx: the key is already there (nothing written) */
    REDIS_NOTFOUND = 2,     /* redis_get, redis_del, redis_eval: no such key / nil result */
    REDIS_FAIL = -1,        /* anything else: bad argument or config, the server refused
                             * the command or the password, an unexpected reply, a script
                             * error, a value larger than the caller's buffer. Retrying
                             * the same call will fail the same way. */
    REDIS_UNAVAILABLE = -2, /* no primary reachable within the bounded tries, the pool
                             * stayed busy, the primary refused for now (see above), or
                             * the connection broke/timed out during the command (a
                             * write's outcome is then unknown). Worth retrying later;
                             * maps to 503 `unavailable`. */
};

#define REDIS_TRIES 3       /* attempts per call, discovery included */
#define REDIS_PREFIX_MAX 64 /* bytes of cfg.prefix */
#define REDIS_KEY_MAX 512   /* bytes of a key, prefix excluded */
#define REDIS_ADDRS_MAX 8   /* entries in servers or sentinels */
#define REDIS_CONNECT_DEFAULT_MS 500
#define REDIS_COMMAND_DEFAULT_MS 500
#define REDIS_POOL_DEFAULT 4

struct redis_config {
    /* Exactly one of servers and sentinels is non-empty. */
    const char *servers;     /* "HOST:PORT[,...]" or "/path/redis.sock" entries */
    const char *sentinels;   /* "HOST:PORT[,HOST:PORT...]" */
    const char *master_name; /* required with sentinels: [A-Za-z0-9._-]{1,64} */
    /* AUTH for the data servers; NULL or "" = none. Copied by redis_open
     * (the copy is wiped at redis_close); the caller wipes its own. */
    const char *password;
    const char *sentinel_password; /* AUTH for the Sentinels; NULL or "" = none */
    int connect_timeout_ms;        /* 0: REDIS_CONNECT_DEFAULT_MS; else 1..60000 */
    int command_timeout_ms;        /* 0: REDIS_COMMAND_DEFAULT_MS; else 1..60000 */
    int pool_size;                 /* 0: REDIS_POOL_DEFAULT; else 1..256 */
    const char *prefix;            /* prepended to every key, e.g. "zy:"; NULL = "" */
};

struct redis;

/* Checks cfg and makes a client. Connects to nothing yet: the first call
 * does (so a node may start while Redis is down; redis_ping checks).
 * REDIS_DONE and *out; or REDIS_FAIL with a one-line reason in err (err may
 * be NULL) for a bad config or no memory. */
int redis_open(const struct redis_config *cfg, struct redis **out, char *err, size_t errcap);
/* Closes every connection, wipes the password copy, frees. NULL is a no-op.
 * No call may be running or start. */
void redis_close(struct redis *r);

/* PING on the primary. REDIS_DONE, REDIS_UNAVAILABLE or REDIS_FAIL (e.g. the
 * password is refused). */
int redis_ping(struct redis *r);

/* SET key val NX PX ttl_ms: writes only if the key is absent, with a time
 * to live of ttl_ms (>= 1). REDIS_DONE (written), REDIS_EXISTS (the key is
 * there; not changed), REDIS_UNAVAILABLE, REDIS_FAIL. */
int redis_set_nx(struct redis *r, const char *key, const void *val, size_t len, int64_t ttl_ms);

/* SET key val [PX ttl_ms]: writes unconditionally; ttl_ms 0 = no expiry.
 * REDIS_DONE, REDIS_UNAVAILABLE, REDIS_FAIL. */
int redis_set(struct redis *r, const char *key, const void *val, size_t len, int64_t ttl_ms);

/* GET key into buf (cap bytes; not NUL-terminated), its length in *len.
 * REDIS_DONE, REDIS_NOTFOUND, REDIS_UNAVAILABLE, REDIS_FAIL (also when the
 * value is longer than cap; *len then holds its length). */
int redis_get(struct redis *r, const char *key, void *buf, size_t cap, size_t *len);

/* DEL key. REDIS_DONE (it was deleted), REDIS_NOTFOUND (it was not there),
 * REDIS_UNAVAILABLE, REDIS_FAIL. */
int redis_del(struct redis *r, const char *key);

/* INCRBY key by; the new value in *out (out may be NULL). A missing key
 * counts from 0 and gets no expiry. REDIS_DONE, REDIS_UNAVAILABLE,
 * REDIS_FAIL (the value is not an integer, or would overflow). */
int redis_incrby(struct redis *r, const char *key, int64_t by, int64_t *out);

/* Runs a Lua script atomically (EVALSHA, falling back to EVAL when the
 * server does not have it cached, e.g. a promoted replica). keys[0..nkeys)
 * are prefixed like every key and passed as KEYS; args[0..nargs) as ARGV
 * unchanged. The script must return an integer (put into *out, out may be
 * NULL) or nil. nkeys, nargs 0..16. REDIS_DONE, REDIS_NOTFOUND (it returned
 * nil), REDIS_UNAVAILABLE, REDIS_FAIL (a script error, another reply type).
 * A script may read TIME and write what it computes from it (Redis 5 and
 * later replicate a script's effects, not the script: flow_lease's bucket
 * does so, and calls redis.replicate_commands() for older servers). Keep
 * scripts short: the server runs nothing else meanwhile. */
int redis_eval(struct redis *r, const char *script, int nkeys, const char *const keys[], int nargs,
               const char *const args[], int64_t *out);

/* The cluster's change generation: every node adds 1 after a commit that
 * could make cached records wrong (store_on_change), and nonce_record_gen
 * reads it in the same round trip as the anti-replay record, so a cache
 * entry loaded before another node's change is stale at once. */
#define REDIS_KEY_CHANGES "g:changes"

/* The primary in use as "HOST:PORT" (or the socket path) into out, "" when
 * none is known (nothing connected yet, or forgotten after a failure). For
 * logs and tests. Returns out. */
char *redis_primary(struct redis *r, char *out, size_t cap);

#endif
