/* flow_addr — internal to access/flow: the per-client-address rate limit of
 * one rule (per_addr_rate, per_addr_burst), as a bounded table of per-address
 * GCRA states. Semantics and the comparison with Sentinel's hot-parameter
 * rules: docs/flow-control.md §2a.
 *
 * KEYS. An address string is reduced to a key before lookup: an IPv4 literal
 * (or an IPv4-mapped IPv6 one, ::ffff:a.b.c.d) by its 4 bytes; an IPv6
 * literal by its /64 prefix, the smallest block one subscriber is normally
 * given, so that a client cannot escape its limit by changing the low bits;
 * any other string by a 128-bit hash of its bytes.
 *
 * STATE. Each address has one theoretical arrival time (TAT) on the rule's
 * clock; rate, burst and the emission interval are shared by the table. An
 * address whose TAT is not after now owes no token: its bucket is full, and
 * its entry is exactly as good as no entry. So an entry needs no explicit
 * expiry: it is free again at most per_addr_burst / per_addr_rate seconds
 * after the address's last token, and any free slot may be reused.
 *
 * MEMORY is fixed when the table is created, never grows, and is never
 * allocated on the request path: FLOW_ADDR_SETS sets of FLOW_ADDR_WAYS slots
 * of 32 bytes (128 KiB). A key maps to one set through a hash seeded per
 * process, so a client cannot aim addresses at another's set. Lookup scans
 * the set's ways: no chains, no tombstones, bounded work.
 *
 * EVICTION. A new address takes the slot of its set with the earliest TAT: a
 * free one if there is any. Only when all FLOW_ADDR_WAYS addresses of the set
 * still owe tokens (address spraying, more than the table holds within one
 * refill time) is a live entry evicted: the one owing least, which is then
 * forgotten, i.e. that address may pass up to its debt early. An address at
 * its limit owes the most and is the last evicted; eviction never refuses
 * anyone. Counted in `evicted`.
 *
 * Not thread-safe: the caller (flow.c) holds the rule's lock. Times must not
 * go backwards (the rule's clock is monotonic). */
#ifndef ZHANYE_ACCESS_FLOW_ADDR_H
#define ZHANYE_ACCESS_FLOW_ADDR_H

#include "access/gcra.h"

#include <stdbool.h>
#include <stdint.h>

#define FLOW_ADDR_WAYS 8
#define FLOW_ADDR_SETS 512 /* power of two */
#define FLOW_ADDR_SLOTS (FLOW_ADDR_WAYS * FLOW_ADDR_SETS)

struct flow_addr_key {
    uint64_t hi, lo;
};

struct flow_addr_slot {
    struct flow_addr_key key;
    uint64_t tat_ns, tat_rem; /* as in struct gcra; <= now: free */
};

struct flow_addr {
    struct gcra g; /* rate, burst, T and tau of every address; its TAT is unused */
    uint64_t seed;
    uint64_t evicted; /* live entries evicted so far */
    struct flow_addr_slot slot[FLOW_ADDR_SLOTS];
};

/* What flow_addr_take changed, so that flow_addr_undo can put it back. */
struct flow_addr_undo {
    struct flow_addr_slot *slot;
    struct flow_addr_slot old;
    bool evicted; /* the take evicted a live entry */
};

/* The key of addr, a non-empty NUL-terminated string. Never fails. */
void flow_addr_key_of(const char *addr, struct flow_addr_key *k);

/* An empty table for rate/burst (1 .. GCRA_MAX_RATE / GCRA_MAX_BURST).
 * NULL on a bad rate or burst, or out of memory. */
struct flow_addr *flow_addr_new(uint64_t rate, uint64_t burst, uint64_t seed);
/* NULL is a no-op. */
void flow_addr_free(struct flow_addr *a);

/* New rate and burst. Unchanged: nothing happens. Changed: every address
 * starts afresh (the table is emptied). 0, or -1 (nothing changed) on a bad
 * rate or burst. */
int flow_addr_tune(struct flow_addr *a, uint64_t rate, uint64_t burst);

/* Takes one token for key at now. true: taken, and *u records how to give it
 * back. false: the address is over its limit, nothing changed, and *ready_at
 * is the earliest whole nanosecond its next token conforms. A key with no
 * live entry always gets its token. */
bool flow_addr_take(struct flow_addr *a, const struct flow_addr_key *k, uint64_t now,
                    struct flow_addr_undo *u, uint64_t *ready_at);
/* Gives back the token of the last flow_addr_take, exactly (the evicted
 * entry, if any, returns too). Only with nothing else taken in between. */
void flow_addr_undo(struct flow_addr *a, const struct flow_addr_undo *u);

/* Live entries (addresses owing tokens) at now: at most FLOW_ADDR_SLOTS. */
int64_t flow_addr_tracked(const struct flow_addr *a, uint64_t now);

#endif
