/* authcache.c — device and session records for the request path (see authcache.h). */
#include "identity/authcache.h"

#include "channel/zy1.h"
#include "foundation/secmem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 64
#define KEY_MAX (ZY1_SID_MAX + 1)

struct dslot {
    bool used;
    uint64_t gen;
    uint64_t cluster; /* the cluster generation it was validated against */
    int64_t loaded_ms;
    struct device d;
};

struct sslot {
    bool used;
    uint64_t gen;
    int64_t loaded_ms;
    char sid[KEY_MAX];
    struct session s;
};

struct authcache {
    int64_t ttl_ms;
    uint64_t seed;            /* keys the slot choice: device ids and tokens come from clients */
    _Atomic uint64_t cluster; /* the latest cluster generation a request read */
    pthread_mutex_t mu[STRIPES];
    struct dslot dev[AUTHCACHE_SLOTS];
    struct sslot ses[AUTHCACHE_SLOTS];
};

static size_t slot_of(const struct authcache *ac, const char *key)
{
    uint64_t h = ac->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001B3ull;
    h ^= h >> 29;
    return (size_t)(h % AUTHCACHE_SLOTS);
}

static pthread_mutex_t *lock_of(struct authcache *ac, size_t slot)
{
    return &ac->mu[slot % STRIPES];
}

static bool fresh(const struct authcache *ac, bool used, uint64_t slot_gen, int64_t loaded,
                  uint64_t gen, int64_t now)
{
    return used && slot_gen == gen && now >= loaded && now - loaded < ac->ttl_ms;
}

int authcache_open(int64_t ttl_ms, struct authcache **out)
{
    struct authcache *ac = calloc(1, sizeof *ac);
    if (!ac || secmem_random(&ac->seed, sizeof ac->seed) != 0) {
        free(ac);
        return -1;
    }
    ac->ttl_ms = ttl_ms > 0 ? ttl_ms : 0;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&ac->mu[i], NULL);
    *out = ac;
    return 0;
}

void authcache_close(struct authcache *ac)
{
    if (!ac)
        return;
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&ac->mu[i]);
    secmem_wipe(ac, sizeof *ac);
    free(ac);
}

bool authcache_device_get(struct authcache *ac, const char *dev, uint64_t gen, int64_t now_ms,
                          struct device *out, uint64_t *cluster)
{
    if (!ac || !ac->ttl_ms)
        return false;
    size_t i = slot_of(ac, dev);
    struct dslot *s = &ac->dev[i];
    pthread_mutex_lock(lock_of(ac, i));
    bool hit = fresh(ac, s->used, s->gen, s->loaded_ms, gen, now_ms) && strcmp(s->d.dev, dev) == 0;
    if (hit) {
        *out = s->d;
        *cluster = s->cluster;
    }
    pthread_mutex_unlock(lock_of(ac, i));
    return hit;
}

void authcache_device_put(struct authcache *ac, const struct device *d, uint64_t gen,
                          uint64_t cluster, int64_t now_ms)
{
    if (!ac || !ac->ttl_ms || !d->has_ds)
        return;
    size_t i = slot_of(ac, d->dev);
    struct dslot *s = &ac->dev[i];
    pthread_mutex_lock(lock_of(ac, i));
    secmem_wipe(&s->d, sizeof s->d);
    s->d = *d;
    s->gen = gen;
    s->cluster = cluster;
    s->loaded_ms = now_ms;
    s->used = true;
    pthread_mutex_unlock(lock_of(ac, i));
}

void authcache_device_touched(struct authcache *ac, const char *dev, const char *addr,
                              int64_t now_ms)
{
    if (!ac || !ac->ttl_ms)
        return;
    size_t i = slot_of(ac, dev);
    struct dslot *s = &ac->dev[i];
    pthread_mutex_lock(lock_of(ac, i));
    if (s->used && strcmp(s->d.dev, dev) == 0) {
        s->d.last_seen = now_ms;
        if (strlen(addr) < sizeof s->d.last_addr)
            strcpy(s->d.last_addr, addr);
    }
    pthread_mutex_unlock(lock_of(ac, i));
}

void authcache_cluster_seen(struct authcache *ac, uint64_t cluster)
{
    /* A plain store, not a maximum: a Redis that lost its data starts the
     * generation again from 0, and entries must follow it down too. */
    if (ac && atomic_load_explicit(&ac->cluster, memory_order_relaxed) != cluster)
        atomic_store(&ac->cluster, cluster);
}

uint64_t authcache_cluster_gen(struct authcache *ac)
{
    return ac ? atomic_load(&ac->cluster) : 0;
}

bool authcache_session_get(struct authcache *ac, const char *sid, uint64_t gen, int64_t now_ms,
                           struct session *out)
{
    if (!ac || !ac->ttl_ms || strlen(sid) >= KEY_MAX)
        return false;
    size_t i = slot_of(ac, sid);
    struct sslot *s = &ac->ses[i];
    pthread_mutex_lock(lock_of(ac, i));
    bool hit = fresh(ac, s->used, s->gen, s->loaded_ms, gen, now_ms) &&
               secmem_equal(s->sid, sid, strlen(sid) + 1);
    if (hit)
        *out = s->s;
    pthread_mutex_unlock(lock_of(ac, i));
    return hit;
}

void authcache_session_put(struct authcache *ac, const char *sid, const struct session *ses,
                           uint64_t gen, int64_t now_ms)
{
    if (!ac || !ac->ttl_ms || strlen(sid) >= KEY_MAX)
        return;
    size_t i = slot_of(ac, sid);
    struct sslot *s = &ac->ses[i];
    pthread_mutex_lock(lock_of(ac, i));
    secmem_wipe(s->sid, sizeof s->sid);
    strcpy(s->sid, sid);
    s->s = *ses;
    s->gen = gen;
    s->loaded_ms = now_ms;
    s->used = true;
    pthread_mutex_unlock(lock_of(ac, i));
}
