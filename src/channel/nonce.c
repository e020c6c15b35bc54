#include "channel/nonce.h"

#include "data/redis.h"
#include "foundation/secmem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64
#define KEY_LEN (NONCE_DEV_LEN + NONCE_LEN)

struct entry {
    uint8_t key[KEY_LEN];
    int64_t expires_ms;
    struct entry *chain; /* next in the hash bucket */
    struct entry *newer; /* next in insertion order, which is expiry order */
};

struct shard {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets; /* power of two */
    size_t n;
    struct entry *oldest, *newest;
};

struct nonce_store {
    int64_t keep_ms;
    uint64_t seed; /* keys the hash: nonces are chosen by clients, so buckets must not be */
    _Atomic int64_t count;
    struct redis *shared; /* NULL: this process only */
    struct shard shards[SHARDS];
};

static uint64_t hash_key(uint64_t seed, const uint8_t *key)
{
    uint64_t h = seed;
    for (int i = 0; i < KEY_LEN; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ull;
        h ^= h >> 29;
    }
    return h;
}

int nonce_mem_open(int64_t keep_ms, struct nonce_store **out)
{
    struct nonce_store *ns = calloc(1, sizeof *ns);
    if (!ns || secmem_random(&ns->seed, sizeof ns->seed) != 0)
        goto fail;
    ns->keep_ms = keep_ms;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &ns->shards[i];
        pthread_mutex_init(&s->mu, NULL);
        s->nbuckets = 256;
        s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
        if (!s->buckets)
            goto fail;
    }
    *out = ns;
    return NONCE_OK;
fail:
    nonce_close(ns);
    return NONCE_ERR;
}

void nonce_close(struct nonce_store *ns)
{
    if (!ns)
        return;
    for (int i = 0; i < SHARDS; i++) {
        struct shard *s = &ns->shards[i];
        for (struct entry *e = s->oldest, *next; e; e = next) {
            next = e->newer;
            free(e);
        }
        free(s->buckets);
        if (s->nbuckets)
            pthread_mutex_destroy(&s->mu);
    }
    free(ns);
}

static struct entry **find_slot(struct nonce_store *ns, struct shard *s, const uint8_t *key)
{
    struct entry **pp = &s->buckets[(hash_key(ns->seed, key) >> 6) & (s->nbuckets - 1)];
    while (*pp && memcmp((*pp)->key, key, KEY_LEN) != 0)
        pp = &(*pp)->chain;
    return pp;
}

/* Drops expired entries from the old end; insertion order is expiry order. */
static void expire(struct nonce_store *ns, struct shard *s, int64_t now_ms)
{
    while (s->oldest && s->oldest->expires_ms <= now_ms) {
        struct entry *e = s->oldest;
        struct entry **pp = find_slot(ns, s, e->key);
        if (*pp == e)
            *pp = e->chain;
        s->oldest = e->newer;
        if (!s->oldest)
            s->newest = NULL;
        s->n--;
        atomic_fetch_sub(&ns->count, 1);
        free(e);
    }
}

static void grow(struct nonce_store *ns, struct shard *s)
{
    size_t nb = s->nbuckets * 2;
    struct entry **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* keep the longer chains; correctness does not depend on it */
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (struct entry *e = s->buckets[i], *next; e; e = next) {
            next = e->chain;
            size_t j = (hash_key(ns->seed, e->key) >> 6) & (nb - 1);
            e->chain = b[j];
            b[j] = e;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = nb;
}

static struct shard *shard_of(struct nonce_store *ns, const uint8_t *key)
{
    return &ns->shards[hash_key(ns->seed, key) & (SHARDS - 1)];
}

static void make_key(uint8_t key[KEY_LEN], const uint8_t *dev, const uint8_t *nonce)
{
    memcpy(key, dev, NONCE_DEV_LEN);
    memcpy(key + NONCE_DEV_LEN, nonce, NONCE_LEN);
}

bool nonce_seen(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                const uint8_t nonce[NONCE_LEN], int64_t now_ms)
{
    uint8_t key[KEY_LEN];
    make_key(key, dev, nonce);
    struct shard *s = shard_of(ns, key);
    pthread_mutex_lock(&s->mu);
    struct entry *e = *find_slot(ns, s, key);
    bool seen = e && e->expires_ms > now_ms;
    pthread_mutex_unlock(&s->mu);
    return seen;
}

void nonce_share(struct nonce_store *ns, struct redis *r)
{
    ns->shared = r;
}

/* SET NX PX of the pair and GET of the change generation, atomically: the
 * generation times two, plus one when the pair was new. */
static const char RECORD_SCRIPT[] =
    "local new = redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1])\n"
    "local g = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"
    "if new then return g * 2 + 1 end\n"
    "return g * 2\n";

/* Takes the pair in Redis: NONCE_OK, NONCE_REPLAY or NONCE_UNAVAILABLE. */
static int record_shared(struct nonce_store *ns, const uint8_t *dev, const uint8_t *nonce,
                         uint64_t *gen)
{
    static const char HEX[] = "0123456789abcdef";
    char k[2 + 2 * NONCE_DEV_LEN + 1 + 2 * NONCE_LEN + 1] = "n:";
    char *p = k + 2;
    for (int i = 0; i < NONCE_DEV_LEN; i++) {
        *p++ = HEX[dev[i] >> 4];
        *p++ = HEX[dev[i] & 15];
    }
    *p++ = ':';
    for (int i = 0; i < NONCE_LEN; i++) {
        *p++ = HEX[nonce[i] >> 4];
        *p++ = HEX[nonce[i] & 15];
    }
    *p = '\0';
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ns->keep_ms);
    const char *keys[] = {k, REDIS_KEY_CHANGES}, *args[] = {ttl};
    int64_t v = 0;
    int rc = redis_eval(ns->shared, RECORD_SCRIPT, 2, keys, 1, args, &v);
    if (rc != REDIS_DONE || v < 0)
        return NONCE_UNAVAILABLE;
    *gen = (uint64_t)v / 2;
    return v % 2 ? NONCE_OK : NONCE_REPLAY;
}

int nonce_record(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                 const uint8_t nonce[NONCE_LEN], int64_t now_ms)
{
    return nonce_record_gen(ns, dev, nonce, now_ms, NULL);
}

int nonce_record_gen(struct nonce_store *ns, const uint8_t dev[NONCE_DEV_LEN],
                     const uint8_t nonce[NONCE_LEN], int64_t now_ms, uint64_t *cluster_gen)
{
    uint64_t gen = 0;
    if (cluster_gen)
        *cluster_gen = 0;
    if (ns->shared) {
        /* the province first: of all nodes, exactly one takes the pair */
        int src = record_shared(ns, dev, nonce, &gen);
        if (src != NONCE_OK)
            return src;
        if (cluster_gen)
            *cluster_gen = gen;
    }
    uint8_t key[KEY_LEN];
    make_key(key, dev, nonce);
    struct shard *s = shard_of(ns, key);
    int rc = NONCE_OK;
    pthread_mutex_lock(&s->mu);
    expire(ns, s, now_ms);
    struct entry **pp = find_slot(ns, s, key);
    if (*pp) {
        rc = NONCE_REPLAY;
        goto out;
    }
    struct entry *e = calloc(1, sizeof *e);
    if (!e) {
        rc = NONCE_ERR;
        goto out;
    }
    memcpy(e->key, key, KEY_LEN);
    /* Expiry order must match insertion order: never earlier than the newest. */
    e->expires_ms = now_ms + ns->keep_ms;
    if (s->newest && e->expires_ms < s->newest->expires_ms)
        e->expires_ms = s->newest->expires_ms;
    *pp = e;
    if (s->newest)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
    s->n++;
    atomic_fetch_add(&ns->count, 1);
    if (s->n > s->nbuckets * 2)
        grow(ns, s);
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int64_t nonce_count(struct nonce_store *ns)
{
    return atomic_load(&ns->count);
}
