#include "access/flow_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* Key kinds in key.hi; a hashed string has its top bit set instead. */
#define KIND_V4 UINT64_C(4)
#define KIND_V6 UINT64_C(6)
#define HASHED_BIT (UINT64_C(1) << 63)

/* MurmurHash3's 64-bit finaliser: every input bit reaches every output bit. */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return h;
}

static uint64_t be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void flow_addr_key_of(const char *addr, struct flow_addr_key *k)
{
    static const unsigned char V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1) {
        k->hi = KIND_V4;
        k->lo = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
    } else if (inet_pton(AF_INET6, addr, b) == 1) {
        if (memcmp(b, V4_MAPPED, sizeof V4_MAPPED) == 0) {
            k->hi = KIND_V4;
            k->lo = (uint64_t)b[12] << 24 | (uint64_t)b[13] << 16 | (uint64_t)b[14] << 8 | b[15];
        } else {
            k->hi = KIND_V6;
            k->lo = be64(b); /* the /64 prefix */
        }
    } else {
        k->hi = fnv1a(addr, UINT64_C(0xcbf29ce484222325)) | HASHED_BIT;
        k->lo = fnv1a(addr, UINT64_C(0x84222325cbf29ce4));
    }
}

struct flow_addr *flow_addr_new(uint64_t rate, uint64_t burst, uint64_t seed)
{
    struct flow_addr *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (gcra_init(&a->g, rate, burst) != 0) {
        free(a);
        return NULL;
    }
    a->seed = seed;
    return a;
}

void flow_addr_free(struct flow_addr *a)
{
    free(a);
}

int flow_addr_tune(struct flow_addr *a, uint64_t rate, uint64_t burst)
{
    if (rate == a->g.rate && burst == a->g.burst)
        return 0;
    struct gcra g;
    if (gcra_init(&g, rate, burst) != 0)
        return -1;
    a->g = g;
    memset(a->slot, 0, sizeof a->slot);
    return 0;
}

/* TAT after now: the address owes tokens. */
static bool live(const struct flow_addr_slot *s, uint64_t now)
{
    return s->tat_ns > now || (s->tat_ns == now && s->tat_rem > 0);
}

static bool earlier(const struct flow_addr_slot *x, const struct flow_addr_slot *y)
{
    return x->tat_ns < y->tat_ns || (x->tat_ns == y->tat_ns && x->tat_rem < y->tat_rem);
}

static struct flow_addr_slot *set_of(struct flow_addr *a, const struct flow_addr_key *k)
{
    uint64_t h = mix(mix(k->hi ^ a->seed) ^ k->lo);
    return &a->slot[(size_t)(h & (FLOW_ADDR_SETS - 1)) * FLOW_ADDR_WAYS];
}

bool flow_addr_take(struct flow_addr *a, const struct flow_addr_key *k, uint64_t now,
                    struct flow_addr_undo *u, uint64_t *ready_at)
{
    struct flow_addr_slot *set = set_of(a, k), *s = NULL, *victim = &set[0];
    for (int i = 0; i < FLOW_ADDR_WAYS; i++) {
        if (set[i].key.hi == k->hi && set[i].key.lo == k->lo) {
            s = &set[i];
            break;
        }
        if (earlier(&set[i], victim))
            victim = &set[i]; /* a free slot is earlier than any live one */
    }
    struct gcra g = a->g;
    g.tat_ns = g.tat_rem = 0; /* a full bucket */
    if (s) {
        g.tat_ns = s->tat_ns;
        g.tat_rem = s->tat_rem;
        if (!gcra_conforms(&g, now)) {
            *ready_at = gcra_ready_at(&g, now, 0);
            return false;
        }
    } else {
        s = victim;
    }
    u->slot = s;
    u->old = *s;
    u->evicted = !(s->key.hi == k->hi && s->key.lo == k->lo) && live(s, now);
    gcra_take(&g, now); /* conforms: a full bucket always does (burst >= 1) */
    s->key = *k;
    s->tat_ns = g.tat_ns;
    s->tat_rem = g.tat_rem;
    if (u->evicted)
        a->evicted++;
    return true;
}

void flow_addr_undo(struct flow_addr *a, const struct flow_addr_undo *u)
{
    *u->slot = u->old;
    if (u->evicted)
        a->evicted--;
}

int64_t flow_addr_tracked(const struct flow_addr *a, uint64_t now)
{
    int64_t n = 0;
    for (size_t i = 0; i < FLOW_ADDR_SLOTS; i++)
        n += live(&a->slot[i], now);
    return n;
}
