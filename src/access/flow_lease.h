/* flow_lease — internal to access/flow: a rule's rate held for the whole
 * cluster through Redis, served on each node from a local lease of tokens.
 * Why and how accurate: docs/flow-control.md §2b.
 *
 * THE CLUSTER'S BUCKET. One GCRA per rule in Redis, key "f:RULE" (redis.c
 * adds its prefix), a hash {us, rem, rate, burst}: the theoretical arrival
 * time as whole microseconds plus rem/rate of one, exact like access/gcra.h
 * (every quantity the script computes stays below 2^53, so Lua's doubles
 * hold it exactly). flow_lease_fetch() runs one short Lua script that takes
 * the time from Redis itself (TIME: the nodes' clocks never matter), grants
 * as many of the n tokens asked for as conform now (0..n, never more than
 * the bucket's burst tolerance allows) and advances the TAT by granted x T.
 * Over any interval of length w Redis grants at most burst + rate x w
 * tokens to all nodes together. A changed rate or burst carries the debt
 * over as tokens owed, capped at the new burst (as gcra_retune). The key
 * expires about a second after the bucket would be full again.
 *
 * THE LEASE. Each cluster-scope rule keeps the tokens it was granted in a
 * slot (struct flow_lease_slot, under the rule's lock): the request path
 * takes one with no I/O. The lease thread (flow_lease_start, one per flow,
 * named zhanye-lease) fetches when a rule runs low and has demand, asking
 * flow_lease_size() tokens; tokens not used within FLOW_LEASE_TTL_NS of
 * their grant are dropped, so that no node can bank tokens into a burst
 * beyond the rule's. The thread's rounds are its owner's (flow.c passes one
 * (it walks the rules under their locks and starts queued heads).
 *
 * Not thread-safe by itself: the slot functions run under the rule's lock;
 * flow_lease_fetch may run on any thread (struct redis is thread-safe). */
#ifndef ZHANYE_ACCESS_FLOW_LEASE_H
#define ZHANYE_ACCESS_FLOW_LEASE_H

#include <stdbool.h>
#include <stdint.h>

struct gcra;
struct metric;
struct redis;

#define FLOW_LEASE_SPAN_NS UINT64_C(10000000)   /* a fetch asks for rate x 10 ms */
#define FLOW_LEASE_TTL_NS UINT64_C(100000000)   /* leased tokens live 100 ms */
#define FLOW_LEASE_STALL_NS UINT64_C(250000000) /* a fetch this slow: node-local meanwhile */
#define FLOW_LEASE_PROBE_NS UINT64_C(500000000) /* Redis unreachable: PING this often */
#define FLOW_LEASE_IDLE_NS UINT64_C(1000000000) /* the thread's longest sleep */
#define FLOW_LEASE_WAIT_NS UINT64_C(20000000)   /* a rule that does not queue: wait for a fetch */
#define FLOW_LEASE_WAIT_MAX_US ((INT64_C(1) << 28) - 1) /* the script's wait is capped here */
#define FLOW_LEASE_MAX_N ((INT64_C(1) << 24) - 1)       /* tokens one fetch may ask for */

/* A rule's lease; every field under the rule's lock. */
struct flow_lease_slot {
    bool cluster;           /* the rate is the cluster's (scope cluster, flow shared) */
    int64_t lease;          /* tokens a fetch asks for: flow_lease_size() */
    int64_t pool;           /* granted tokens not yet taken */
    uint64_t expires_ns;    /* the pool is dropped then */
    uint64_t next_fetch_ns; /* no fetch before: Redis said none conforms before */
    uint64_t ready_ns;      /* when Redis said its next token conforms (this node's clock) */
    bool starved;           /* a request found the pool empty since the last grant */
    int64_t taken;          /* tokens taken from the pool since the last fetch */
    /* zhanye_flow_lease_{fetches,tokens,dropped}_total{tx}; NULL until the
     * rule is first of cluster scope. */
    struct metric *m_fetches, *m_tokens, *m_dropped;
};

/* One fetch's answer. */
struct flow_lease_grant {
    int64_t granted; /* 0..n tokens, now the caller's */
    int64_t wait_us; /* until the cluster's next token conforms; 0 if one does now */
};

/* Tokens one fetch asks for: rate x FLOW_LEASE_SPAN_NS, at least 1, at most
 * burst (and FLOW_LEASE_MAX_N). */
int64_t flow_lease_size(uint64_t rate, uint64_t burst);

/* Runs the script on Redis for rule (a flow rule name) with rate/s, bucket
 * burst (both within gcra's maxima), asking n (1..FLOW_LEASE_MAX_N) tokens.
 * REDIS_DONE with *out set; REDIS_UNAVAILABLE; REDIS_FAIL (a bad argument,
 * a script error or an answer out of range). */
int flow_lease_fetch(struct redis *rd, const char *rule, uint64_t rate, uint64_t burst, int64_t n,
                     struct flow_lease_grant *out);

/* --- a slot, under the rule's lock ------------------------------------------ */

/* Whether the thread should fetch for s at now: the pool is empty and a
 * request wanted a token (starved) or waits (waiters), or the pool is at or
 * below half a lease and tokens were taken since the last fetch; and Redis
 * said a token may conform by now. */
bool flow_lease_wants(const struct flow_lease_slot *s, bool waiters, uint64_t now);
/* When s next needs the thread: its expiry, or the next fetch it will want;
 * UINT64_MAX if neither. */
uint64_t flow_lease_due(const struct flow_lease_slot *s, bool waiters);
/* Adds g's tokens, fetched from t0 to now: the pool expires at
 * now + FLOW_LEASE_TTL_NS; the next fetch and the cluster's next token are
 * t0 + g's wait (t0: the earliest Redis may have answered). */
void flow_lease_add(struct flow_lease_slot *s, const struct flow_lease_grant *g, uint64_t t0,
                    uint64_t now);
/* Drops the pool if it expired by now; returns how many tokens. */
int64_t flow_lease_expire(struct flow_lease_slot *s, uint64_t now);
/* Drops the pool whatever its age (the rule left cluster scope, or the
 * flow falls back to node-local rates); returns how many tokens. */
int64_t flow_lease_drop(struct flow_lease_slot *s);
/* Earliest time the (ahead + 1)-th next token could be this node's, if it
 * got every token the cluster grants from now on: a lower bound, as
 * gcra_ready_at is for a local bucket. g gives the rule's interval T. */
uint64_t flow_lease_ready_at(const struct flow_lease_slot *s, const struct gcra *g, uint64_t now,
                             uint64_t ahead);

/* --- the thread ------------------------------------------------------------------ */

struct flow_lease;

/* One round of the thread over its owner's rules at now (clock_mono_ns):
 * expires, fetches what is wanted, starts queued heads that got their
 * tokens, and handles Redis being unreachable. Returns when the next round
 * is due (UINT64_MAX: only when poked). Called only by the lease thread,
 * never under any lock. flow.c's rounds walk its rules; this file knows
 * nothing of them, so the dependency runs one way. */
typedef uint64_t (*flow_lease_round_fn)(void *owner, struct redis *rd, uint64_t now);

/* Starts the lease thread: round(owner, rd, now) again and again. 0, or -1
 * (nothing started). */
int flow_lease_start(flow_lease_round_fn round, void *owner, struct redis *rd,
                     struct flow_lease **out);
/* Stops and joins the thread (it finishes the fetch under way, at most
 * redis.h's bound). Again, or NULL: a no-op. */
void flow_lease_stop(struct flow_lease *l);
/* Stops it if running, then frees. NULL is a no-op. */
void flow_lease_free(struct flow_lease *l);
/* Wakes the thread now: a rule starved. Cheap when already woken. Any
 * thread, also after flow_lease_stop (then it does nothing useful); may be
 * called under a rule's lock (never under the thread's own). NULL: no-op. */
void flow_lease_poke(struct flow_lease *l);

#endif
