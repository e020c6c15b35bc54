/* The per-connection statement cache of both backends (data/store_backend.h). */
#include "data/store_backend.h"

#include <stdlib.h>
#include <string.h>

uint64_t store_cache_hash(const char *sql)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

struct store_stmt *store_cache_take(struct store_cache *k, const char *sql, uint64_t h)
{
    for (struct store_stmt *s = k->buckets[h % STORE_CACHE_BUCKETS]; s; s = s->cache_next)
        if (!s->in_use && s->cache_hash == h && strcmp(s->cache_sql, sql) == 0) {
            s->in_use = true;
            return s;
        }
    return NULL;
}

void store_cache_admit(struct store_cache *k, struct store_stmt *s, const char *sql, uint64_t h)
{
    s->in_use = true;
    s->cache_hash = h;
    if (k->n >= STORE_CACHE_MAX || !(s->cache_sql = strdup(sql)))
        return;
    s->cache_next = k->buckets[h % STORE_CACHE_BUCKETS];
    k->buckets[h % STORE_CACHE_BUCKETS] = s;
    k->n++;
}

bool store_cache_release(struct store_stmt *s)
{
    s->in_use = false;
    return s->cache_sql != NULL;
}

bool store_cache_busy(const struct store_cache *k)
{
    for (int i = 0; i < STORE_CACHE_BUCKETS; i++)
        for (const struct store_stmt *s = k->buckets[i]; s; s = s->cache_next)
            if (s->in_use)
                return true;
    return false;
}

void store_cache_clear(struct store_cache *k, void (*free_stmt)(struct store_stmt *s))
{
    for (int i = 0; i < STORE_CACHE_BUCKETS; i++) {
        struct store_stmt *s = k->buckets[i];
        while (s) {
            struct store_stmt *next = s->cache_next;
            free(s->cache_sql);
            s->cache_sql = NULL;
            free_stmt(s);
            s = next;
        }
        k->buckets[i] = NULL;
    }
    k->n = 0;
}
