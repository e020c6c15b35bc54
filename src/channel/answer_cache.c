/* answer_cache.c — copies of stored ZY1 answers in Redis (see answer_cache.h). */
#include "channel/answer_cache.h"

#include "channel/sm.h"
#include "data/redis.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/secmem.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIND_LABEL "zhanye/answer-cache/binding"
#define BIND_HEX 16
#define FIRST_READ 4096 /* most answers are far smaller; a larger one is read again */

struct answer_cache {
    struct redis *r;
    int64_t ttl_ms;
    _Atomic uint64_t last_log_ns; /* answer_cache.write_failed: at most once a second */
};

int answer_cache_open(struct redis *r, int64_t ttl_s, struct answer_cache **out)
{
    *out = NULL;
    metrics_describe("zhanye_tx_answer_cache_total", "counter",
                     "Retries of an answered cseq looked up in Redis, by result");
    metrics_describe("zhanye_tx_answer_cache_write_failures_total", "counter",
                     "Copies of stored answers that could not be written to Redis");
    if (!r || ttl_s <= 0)
        return 0;
    struct answer_cache *ac = calloc(1, sizeof *ac);
    if (!ac)
        return -1;
    ac->r = r;
    ac->ttl_ms = ttl_s * 1000;
    *out = ac;
    return 0;
}

void answer_cache_close(struct answer_cache *ac)
{
    free(ac);
}

bool answer_cache_on(const struct answer_cache *ac)
{
    return ac != NULL;
}

/* The key of k into out (REDIS_KEY_MAX + 1 bytes): true, or false if k is malformed. */
static bool key_of(const struct answer_key *k, char *out)
{
    static const char HEX[] = "0123456789abcdef";
    uint8_t mac[SM3_LEN];
    char bind[BIND_HEX + 1];
    sm_part label = {BIND_LABEL, sizeof BIND_LABEL - 1};
    if (!k->dev || !k->ds || !k->tx || !k->cseq ||
        sm_hmac(k->ds, ANSWER_CACHE_DS_LEN, &label, 1, mac) != SM_OK)
        return false;
    for (int i = 0; i < BIND_HEX / 2; i++) {
        bind[2 * i] = HEX[mac[i] >> 4];
        bind[2 * i + 1] = HEX[mac[i] & 15];
    }
    bind[BIND_HEX] = '\0';
    secmem_wipe(mac, sizeof mac);
    int n = snprintf(out, REDIS_KEY_MAX + 1, "a:%s:%s:%s:%s", k->dev, bind, k->tx, k->cseq);
    return n > 0 && n <= REDIS_KEY_MAX;
}

int answer_cache_get(struct answer_cache *ac, const struct answer_key *k, uint8_t **sealed,
                     size_t *len)
{
    char key[REDIS_KEY_MAX + 1];
    *sealed = NULL;
    *len = 0;
    if (!ac || !key_of(k, key))
        return ANSWER_MISS;
    size_t cap = FIRST_READ, n = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        if (!buf)
            return ANSWER_UNAVAILABLE;
        int rc = redis_get(ac->r, key, buf, cap, &n);
        if (rc == REDIS_DONE && n > 0) {
            *sealed = buf;
            *len = n;
            return ANSWER_HIT;
        }
        free(buf);
        if (rc == REDIS_NOTFOUND || rc == REDIS_DONE) /* an empty value is no copy */
            return ANSWER_MISS;
        if (rc != REDIS_FAIL || n <= cap || n > ANSWER_CACHE_MAX)
            return ANSWER_UNAVAILABLE;
        cap = n; /* larger than the first read: read it again whole */
    }
    return ANSWER_UNAVAILABLE; /* it grew in between: let the database answer */
}

static void write_failed(struct answer_cache *ac, const char *key, const char *why)
{
    metric_inc(metrics_counter("zhanye_tx_answer_cache_write_failures_total", NULL));
    uint64_t now = clock_mono_ns(), last = atomic_load(&ac->last_log_ns);
    if (last && now - last < 1000000000ull)
        return;
    if (atomic_compare_exchange_strong(&ac->last_log_ns, &last, now))
        log_warn("answer_cache.write_failed",
                 "%s: the copy of a stored answer was not written (%s); retries of it are "
                 "answered from the database",
                 key, why);
}

void answer_cache_put(struct answer_cache *ac, const struct answer_key *k, const uint8_t *sealed,
                      size_t len)
{
    char key[REDIS_KEY_MAX + 1];
    if (!ac || !sealed || len == 0)
        return;
    if (!key_of(k, key)) {
        write_failed(ac, k->tx ? k->tx : "?", "malformed key");
        return;
    }
    if (len > ANSWER_CACHE_MAX) {
        write_failed(ac, key, "larger than the cache takes");
        return;
    }
    int rc = redis_set(ac->r, key, sealed, len, ac->ttl_ms);
    if (rc != REDIS_DONE)
        write_failed(ac, key, rc == REDIS_UNAVAILABLE ? "Redis unavailable" : "refused");
}

void answer_cache_drop(struct answer_cache *ac, const struct answer_key *k)
{
    char key[REDIS_KEY_MAX + 1];
    if (ac && key_of(k, key))
        (void)redis_del(ac->r, key);
}
