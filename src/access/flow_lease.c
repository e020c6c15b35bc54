#include "access/flow_lease.h"

#include "access/gcra.h"
#include "data/redis.h"
#include "foundation/clock.h"
#include "foundation/thread.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The cluster's GCRA (see flow_lease.h). Time in microseconds from Redis'
 * own TIME; an instant is us + rem/rate us, so one interval T is exactly
 * 1e6 "ticks" of 1/rate us and the tolerance (burst - 1) x 1e6 ticks. d is
 * the slack in ticks: the next token conforms while d >= 0, and each one
 * granted uses 1e6. Every value stays below 2^53 (rate, burst <= 1e9 and
 * TAT - now <= burst x T): exact in Lua's doubles. Numbers are written with
 * %.0f, never with Lua's default 14 digits. The answer packs the wait until
 * the next token (us, capped at 2^28 - 1) above the count granted (24 bits). */
static const char SCRIPT[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local rate, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local v = redis.call('HMGET', KEYS[1], 'us', 'rem', 'rate', 'burst')\n"
    "local us, rem = tonumber(v[1]), tonumber(v[2]) or 0\n"
    "local orate, oburst = tonumber(v[3]), tonumber(v[4])\n"
    "local changed = orate ~= rate or oburst ~= burst\n"
    "if not us or not orate or us < now then\n"
    "  us, rem = now, 0\n"
    "elseif changed then\n"
    "  local owed = ((us - now) * orate + rem) / 1000000\n"
    "  if owed > burst then owed = burst end\n"
    "  local ticks = math.ceil(owed * 1000000)\n"
    "  us, rem = now + math.floor(ticks / rate), ticks % rate\n"
    "end\n"
    "local d = (now - us) * rate - rem + (burst - 1) * 1000000\n"
    "local k = 0\n"
    "if d >= 0 then\n"
    "  k = math.floor(d / 1000000) + 1\n"
    "  if k > n then k = n end\n"
    "  local r2 = rem + k * 1000000\n"
    "  us, rem = us + math.floor(r2 / rate), r2 % rate\n"
    "  d = d - k * 1000000\n"
    "end\n"
    "local wait = 0\n"
    "if d < 0 then wait = math.ceil(-d / rate) end\n"
    "if wait > 268435455 then wait = 268435455 end\n"
    "if k > 0 or changed then\n"
    "  local f = '%.0f'\n"
    "  redis.call('HSET', KEYS[1], 'us', string.format(f, us), 'rem', string.format(f, rem),\n"
    "    'rate', string.format(f, rate), 'burst', string.format(f, burst))\n"
    "  redis.call('PEXPIRE', KEYS[1], string.format(f, math.floor((us - now) / 1000) + 1000))\n"
    "end\n"
    "return wait * 16777216 + k\n";

#define GRANT_BITS 24
#define KEY_PREFIX "f:"

int64_t flow_lease_size(uint64_t rate, uint64_t burst)
{
    /* rate <= 1e9: the product stays below 2^64 */
    uint64_t n = rate * FLOW_LEASE_SPAN_NS / GCRA_NS_PER_S;
    if (n > burst)
        n = burst;
    if (n > (uint64_t)FLOW_LEASE_MAX_N)
        n = (uint64_t)FLOW_LEASE_MAX_N;
    return n < 1 ? 1 : (int64_t)n;
}

int flow_lease_fetch(struct redis *rd, const char *rule, uint64_t rate, uint64_t burst, int64_t n,
                     struct flow_lease_grant *out)
{
    if (!rd || !rule || !*rule || rate == 0 || rate > GCRA_MAX_RATE || burst == 0 ||
        burst > GCRA_MAX_BURST || n < 1 || n > FLOW_LEASE_MAX_N)
        return REDIS_FAIL;
    char key[64], a_rate[24], a_burst[24], a_n[24];
    int w = snprintf(key, sizeof key, KEY_PREFIX "%s", rule);
    if (w < 0 || (size_t)w >= sizeof key)
        return REDIS_FAIL;
    snprintf(a_rate, sizeof a_rate, "%" PRIu64, rate);
    snprintf(a_burst, sizeof a_burst, "%" PRIu64, burst);
    snprintf(a_n, sizeof a_n, "%" PRId64, n);
    const char *const keys[] = {key};
    const char *const args[] = {a_rate, a_burst, a_n};
    int64_t v = 0;
    int rc = redis_eval(rd, SCRIPT, 1, keys, 3, args, &v);
    if (rc == REDIS_NOTFOUND)
        return REDIS_FAIL; /* the script always returns a number */
    if (rc != REDIS_DONE)
        return rc;
    int64_t granted = v & FLOW_LEASE_MAX_N, wait = v >> GRANT_BITS;
    if (v < 0 || granted > n || wait > FLOW_LEASE_WAIT_MAX_US || (granted == 0 && wait == 0))
        return REDIS_FAIL;
    out->granted = granted;
    out->wait_us = wait;
    return REDIS_DONE;
}

/* --- a slot ------------------------------------------------------------------ */

/* Demand the thread should answer once Redis allows. */
static bool pending(const struct flow_lease_slot *s, bool waiters)
{
    if (s->pool == 0)
        return s->starved || waiters;
    return s->taken > 0 && s->pool <= s->lease / 2;
}

bool flow_lease_wants(const struct flow_lease_slot *s, bool waiters, uint64_t now)
{
    return s->cluster && now >= s->next_fetch_ns && pending(s, waiters);
}

uint64_t flow_lease_due(const struct flow_lease_slot *s, bool waiters)
{
    uint64_t due = s->pool > 0 ? s->expires_ns : UINT64_MAX;
    if (s->cluster && pending(s, waiters) && s->next_fetch_ns < due)
        due = s->next_fetch_ns;
    return due;
}

void flow_lease_add(struct flow_lease_slot *s, const struct flow_lease_grant *g, uint64_t t0,
                    uint64_t now)
{
    if (g->granted > 0) {
        s->pool += g->granted;
        s->expires_ns = now + FLOW_LEASE_TTL_NS;
        s->starved = false;
    }
    s->taken = 0;
    s->next_fetch_ns = t0 + (uint64_t)g->wait_us * UINT64_C(1000);
    s->ready_ns = s->next_fetch_ns;
}

int64_t flow_lease_drop(struct flow_lease_slot *s)
{
    int64_t n = s->pool;
    s->pool = 0;
    return n;
}

int64_t flow_lease_expire(struct flow_lease_slot *s, uint64_t now)
{
    return s->pool > 0 && now >= s->expires_ns ? flow_lease_drop(s) : 0;
}

uint64_t flow_lease_ready_at(const struct flow_lease_slot *s, const struct gcra *g, uint64_t now,
                             uint64_t ahead)
{
    if (ahead < (uint64_t)s->pool)
        return now;
    uint64_t need = ahead - (uint64_t)s->pool, base = now;
    if (s->ready_ns > now)
        base = s->ready_ns; /* Redis' TAT - tau then: one token at a time from there */
    else                    /* unknown fill: at most burst conform at once */
        need = need >= g->burst ? need - (g->burst - 1) : 0;
    if (need > GCRA_MAX_BURST)
        return UINT64_MAX;
    return base + need * g->t_ns + need * g->t_rem / g->rate;
}

/* --- the thread ------------------------------------------------------------------ */

struct flow_lease {
    flow_lease_round_fn round;
    void *owner;
    struct redis *rd;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool stop;         /* under mu */
    bool joined;       /* the stopping thread's (under flow's admin_mu) */
    _Atomic bool kicked;
};

static void *lease_main(void *arg)
{
    struct flow_lease *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        atomic_store(&l->kicked, false);
        pthread_mutex_unlock(&l->mu);
        uint64_t next = l->round(l->owner, l->rd, clock_mono_ns());
        uint64_t now = clock_mono_ns();
        if (next > now + FLOW_LEASE_IDLE_NS)
            next = now + FLOW_LEASE_IDLE_NS;
        struct timespec ts = {.tv_sec = (time_t)(next / GCRA_NS_PER_S),
                              .tv_nsec = (long)(next % GCRA_NS_PER_S)};
        pthread_mutex_lock(&l->mu);
        if (!l->stop && !atomic_load(&l->kicked) && next > now)
            (void)pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int flow_lease_start(flow_lease_round_fn round, void *owner, struct redis *rd,
                     struct flow_lease **out)
{
    struct flow_lease *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->round = round;
    l->owner = owner;
    l->rd = rd;
    atomic_init(&l->kicked, false);
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0) {
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (rc == 0)
            rc = pthread_cond_init(&l->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (rc != 0) {
        free(l);
        return -1;
    }
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        pthread_cond_destroy(&l->cv);
        free(l);
        return -1;
    }
    if (thread_start(&l->th, NULL, lease_main, l, "zhanye-lease") != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        free(l);
        return -1;
    }
    *out = l;
    return 0;
}

void flow_lease_stop(struct flow_lease *l)
{
    if (!l || l->joined)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->th, NULL);
    l->joined = true;
}

void flow_lease_free(struct flow_lease *l)
{
    if (!l)
        return;
    flow_lease_stop(l);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

void flow_lease_poke(struct flow_lease *l)
{
    if (!l || atomic_load_explicit(&l->kicked, memory_order_relaxed))
        return;
    pthread_mutex_lock(&l->mu);
    atomic_store(&l->kicked, true);
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}
