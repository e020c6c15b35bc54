/* flow — the access gateway's flow control: per-transaction admission with a
 * token bucket, a concurrency cap, a bounded FIFO queue with a deadline, and
 * process-wide caps. It runs before any cryptography, costs well under 1 us
 * uncontended, never allocates on the request path and never blocks beyond a
 * short per-rule mutex: an event-driven server suspends a queued request and
 * resumes it from a hook. Semantics, and how they compare with Sentinel,
 * nginx limit_req and resilience4j: docs/flow-control.md.
 *
 * RULES. `[flow.TX]` sections give a transaction its own rule; keys it leaves
 * unset come from `[flow.default]`, then from the built-in defaults (the ones
 * config.c declares). Every TX without a section shares the one `default`
 * rule (one bucket, one queue, metrics label tx="default"): TX codes arrive
 * from the network before anything is authenticated, so they must not create
 * state. LOGIN and LOGOUT are the priority class: they always get a rule of
 * their own (from their section, else default's values) and the global caps
 * below do not apply to them, so no flood of business transactions can take
 * their tokens, slots, queue places or global capacity. Health, readiness and
 * metrics must not go through flow at all.
 *
 * PER ADDRESS. A rule may also limit each client address (per_addr_rate/s,
 * bucket of per_addr_burst; LOGIN by default, see access/flow_rules.h). That
 * check comes first: an address over its own limit is refused at once (BUSY,
 * reason ADDR_RATE, Retry-After = when its next token conforms) and takes
 * nothing from the rule, neither token nor queue place. An address within
 * its limit takes its token on arrival, and gets it back if the rule then
 * refuses it at once; one that queues keeps it spent. The states live in a
 * fixed table per rule (4096 entries, 128 KiB, allocated at (re)load,
 * never on the request path): an entry is free again as soon as its address
 * owes no token, and a table overflowing under address spraying forgets the
 * address owing least (access/flow_addr.h). Without an address (NULL or "")
 * there is no per-address check.
 *
 * CLUSTER SCOPE. After flow_share(f, redis), a rule whose scope is cluster
 * (`scope = cluster`, the default) holds its rate and burst for all nodes
 * together: its tokens come from one GCRA in Redis, fetched ahead by the
 * lease thread (zhanye-lease) into a node-local pool of at most one lease
 * (rate x 10 ms, at least 1, at most burst; unused tokens expire after
 * 100 ms), so admission takes a token with no I/O. A request that finds
 * the pool empty wakes the thread and queues or is refused (RATE) as when
 * the bucket is empty, except that in a rule that does not queue (queue = 0
 * or max_wait_ms = 0) it may wait for the fetch: at most a lease's worth of
 * such requests, at most 20 ms (then TIMEOUT), and only if Redis' last
 * answer says a token may come by then. Over any interval w the cluster admits at
 * most burst + rate x w plus what the nodes held at its start (at most
 * 1.5 leases each). The per-address limits, max_concurrent, the queue and
 * the global caps stay node-local: they guard this node's threads and
 * memory. Redis unreachable (a fetch fails, or one takes longer than
 * 250 ms): the rule uses its own GCRA at the full rate on this node
 * (logged, gauge zhanye_flow_lease_fallback) until Redis answers a PING.
 * Without flow_share every rule is node-local. Details: access/flow_lease.h
 * and docs/flow-control.md.
 *
 * A RULE. Each request needs a token (GCRA, rate/s, bucket of burst, exact in
 * nanoseconds: see access/gcra.h) and one of max_concurrent slots.
 *   - The queue is empty and both are free: ADMITTED, run now.
 *   - Otherwise it may wait in the rule's FIFO queue: at most `queue` waiters,
 *     each until its deadline = arrival + max_wait_ms. The head starts as soon
 *     as it holds both a token and a slot (and a global slot, below); nothing
 *     overtakes it. A waiter still queued at its deadline is refused (TIMEOUT),
 *     at that exact time if flow_tick() is called then; none ever starts after
 *     its deadline. The token is taken when the request starts, not when it
 *     queues, so a waiter that times out costs no rate.
 *   - It is refused at once (BUSY, 429) when: the queue is full (QUEUE_FULL);
 *     queue = 0 or max_wait_ms = 0 (RATE or CONCURRENCY, whichever is short);
 *     or the token schedule alone cannot start it by its deadline even if every
 *     waiter ahead starts on time (RATE): waiting would only delay the 429.
 *     (In cluster scope the schedule is a lower bound from Redis' last answer:
 *     as if this node got every token the cluster grants from now on.)
 * GLOBAL CAPS (business class only): open connections above max_connections,
 * a start that would exceed max_in_flight, or a wait that would exceed
 * max_queued is refused at once with OVERLOADED (503). A queued head that has
 * its token and slot but no global slot keeps waiting (until its deadline);
 * it is retried on every flow_done() and flow_tick(). Across rules, global
 * slots are not handed out in arrival order.
 *
 * ACCOUNTING. Every flow_admit() is one `offered` request and ends in exactly
 * one of admitted or refused{reason}; queued requests are counted when they
 * leave the queue. Hence offered == admitted + refused + currently queued,
 * exactly, in flow_stats() (taken under the rule's lock). Prometheus series:
 * zhanye_flow_{offered,admitted}_total{tx}, zhanye_flow_refused_total{tx,
 * reason}, gauges zhanye_flow_queued{tx}, zhanye_flow_in_flight{tx}, the
 * histogram zhanye_flow_queue_wait_seconds{tx} (every request that left the
 * queue, whatever the outcome), and zhanye_flow_global_{connections,in_flight,
 * queued}.
 *
 * PROTOCOL for an HTTP server (libmicrohttpd with suspend/resume):
 *   1. Start: flow_from_config() with the three hooks; start a timer thread
 *      that loops { next = flow_tick(f, clock_mono_ns()); sleep until
 *      min(next, now + FLOW_TICK_NS) }.
 *   2. Every connection: flow_conn_open() when accepted, flow_conn_close()
 *      when closed (MHD_OPTION_NOTIFY_CONNECTION).
 *   3. First access-handler call of a business request (headers only, before
 *      the body is read or anything is decrypted): flow_admit() with the
 *      peer's address and a ticket that lives in the per-request state,
 *      ticket.cookie = the connection.
 *        ADMITTED   -> go on reading the body and run the handler.
 *        QUEUED     -> on_queued(ticket) has already run, inside flow_admit,
 *                      on this thread: it must MHD_suspend_connection(). Return
 *                      MHD_YES. Later exactly one of on_ready / on_refused runs
 *                      and must MHD_resume_connection(); the handler is then
 *                      called again and reads ticket.verdict.
 *        BUSY       -> 429 {"error":{"code":"busy"}} with Retry-After:
 *                      ticket.retry_after_s.
 *        OVERLOADED -> 503 {"error":{"code":"overloaded"}}, Retry-After too.
 *   4. flow_done() exactly once per admitted request, as soon as its work is
 *      finished (after the handler, not after the bytes are sent); call it
 *      from the completion callback too in case the connection died in
 *      between: a second call is a no-op returning -1.
 *   5. Reload (SIGHUP or management API): flow_reload(); nothing queued or
 *      running is dropped.
 *   6. Stop: flow_shutdown() before MHD_stop_daemon (stops the lease thread,
 *      waiting for a Redis call under way, which data/redis.h bounds; then
 *      refuses and thereby resumes every waiter), flow_free() after it.
 *
 * HOOKS run with no rule lock held, except on_queued, which runs under the
 * rule's lock (so the suspend happens before any resume can) and must not call
 * into flow. on_ready / on_refused run on whichever thread made the decision:
 * the timer thread (flow_tick), a thread finishing a request (flow_done), a
 * thread admitting into the same rule (flow_admit), the lease thread (tokens
 * arrived from Redis), or flow_reload / flow_shutdown's caller; possibly before flow_admit() has
 * returned on the queuing thread. They may call flow_admit/done/cancel/tick, never
 * flow_reload/shutdown/free. After a hook returns flow never touches that
 * ticket again.
 *
 * TICKETS are the caller's memory: zero one before its first flow_admit();
 * reuse it only once it is neither queued nor running (flow_admit resets it).
 * It must outlive its hook / flow_done(). flow_free() only once no other
 * thread can call into flow.
 *
 * TIME. now_ns is a monotonic clock in nanoseconds (clock_mono_ns(), or a
 * fake one in tests; clock_mono_ns() once flow_share() was called: the lease
 * thread uses it). Threads may pass slightly stale values: each rule keeps
 * its own clock monotonic by taking the maximum seen.
 *
 * RELOAD keeps every queued request in its place with its original deadline;
 * new values apply to new arrivals. A shrunk queue keeps all current waiters
 * and refuses arrivals (QUEUE_FULL) until it has drained below the new size;
 * a smaller max_concurrent lets running requests finish and starts no more
 * until below it; a new rate/burst keeps the bucket's debt (tokens owed) and
 * caps it at the new burst. A changed per_addr_rate or per_addr_burst empties
 * the rule's per-address table (every address starts with a full bucket); an
 * unchanged one keeps it. A new rate or burst of a cluster-scope rule applies
 * to the next fetch from Redis (Redis carries the cluster bucket's debt the
 * same way); a rule made node-local drops its leased tokens. A TX whose section disappeared maps to
 * `default` for new arrivals, while its queued and running requests finish under its old rule.
 * Reload is all-or-nothing: on error nothing changed. */
#ifndef ZHANYE_ACCESS_FLOW_H
#define ZHANYE_ACCESS_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct flow;
struct flow_rule;
struct redis;

#define FLOW_TICK_NS UINT64_C(1000000) /* longest the timer thread should sleep */
#define FLOW_MAX_RULES 512             /* distinct TX rules over the process's life */
#define FLOW_RETRY_MAX_S 3600          /* Retry-After is clamped to [1, this] */

enum flow_verdict {
    FLOW_ADMITTED = 0, /* run now; call flow_done() when finished */
    FLOW_QUEUED,       /* suspended; a hook will tell */
    FLOW_BUSY,         /* 429 busy + Retry-After */
    FLOW_OVERLOADED,   /* 503 overloaded + Retry-After */
    FLOW_CANCELLED,    /* withdrawn by flow_cancel(); nothing to answer */
};

enum flow_reason {
    FLOW_R_NONE = 0,
    FLOW_R_RATE,        /* 429: no token soon enough */
    FLOW_R_CONCURRENCY, /* 429: no slot and no queueing allowed */
    FLOW_R_QUEUE_FULL,  /* 429 */
    FLOW_R_TIMEOUT,     /* 429: queued, not started by its deadline */
    FLOW_R_OVERLOADED,  /* 503: a global cap */
    FLOW_R_SHUTDOWN,    /* 503: flow_shutdown() */
    FLOW_R_CANCELLED,   /* flow_cancel() */
    FLOW_R_ADDR_RATE,   /* 429: this client address is over its per_addr_rate */
    FLOW_NREASONS
};

/* Lives in the caller's per-request state for the request's whole life. */
struct flow_ticket {
    void *cookie;              /* the caller's; handed to the hooks */
    enum flow_verdict verdict; /* read after flow_admit() or in/after a hook */
    enum flow_reason reason;   /* why refused */
    int retry_after_s;         /* for BUSY / OVERLOADED */
    /* private to flow.c */
    struct flow_rule *rule_;
    struct flow_ticket *prev_, *next_;
    uint64_t enq_ns_, deadline_ns_;
    int state_;
};

typedef void (*flow_hook)(struct flow_ticket *t, void *cookie);

struct flow_hooks {
    flow_hook on_queued;  /* under the rule lock, inside flow_admit(); may be NULL */
    flow_hook on_ready;   /* verdict is FLOW_ADMITTED; call flow_done() later */
    flow_hook on_refused; /* verdict FLOW_BUSY or FLOW_OVERLOADED, reason set */
};

/* Business-class global caps; a field <= 0 means derived from cfg:
 * max_connections = server.connection_limit - max(16, connection_limit / 8)
 * (at least 1), leaving the rest of libmicrohttpd's hard limit to the priority
 * class and health checks; max_in_flight and max_queued = max_connections. */
struct flow_caps {
    int64_t max_connections;
    int64_t max_in_flight;
    int64_t max_queued;
};

struct flow_stats {
    char rule[40]; /* the rule tx maps to: its name, or "default" */
    int priority;
    int64_t rate, burst, max_concurrent, queue, max_wait_ms;
    int64_t per_addr_rate, per_addr_burst; /* 0: no per-address limit */
    uint64_t offered, admitted, refused[FLOW_NREASONS], refused_total;
    int64_t in_flight, queued;
    int64_t addr_tracked;  /* addresses owing tokens now (at most 4096) */
    uint64_t addr_evicted; /* live per-address entries evicted since the table's creation */
    bool cluster;          /* the rate is the cluster's (cluster scope, flow shared) */
    int64_t lease_pool;    /* leased tokens on hand */
    bool lease_fallback;   /* cluster scope, but node-local now: Redis unreachable */
};

struct flow_global_stats {
    int64_t connections, in_flight, queued; /* business class */
    struct flow_caps caps;
    int nrules;
};

/* Builds the rules from cfg's [flow.*] sections. hooks and caps may be NULL.
 * 0, or -1 with a one-line message in err. */
int flow_from_config(const struct config *cfg, const struct flow_caps *caps,
                     const struct flow_hooks *hooks, struct flow **out, char *err, size_t errcap);
/* Refuses every waiter (SHUTDOWN, hooks fire), then frees. NULL is a no-op. */
void flow_free(struct flow *f, uint64_t now_ns);

/* Makes the cluster-scope rules' rates cluster-wide through rd (see CLUSTER
 * SCOPE): starts the lease thread. Once, after flow_from_config and before
 * any traffic; rd must stay open until flow_free (or flow_shutdown) has
 * returned. 0, or -1 with err set (NULL rd, already shared, shut down, the
 * thread could not start) and nothing changed. */
int flow_share(struct flow *f, struct redis *rd, char *err, size_t errcap);

/* Decides one request for transaction tx (NULL or "" = default rule) from
 * client address addr (an IP literal as inet_ntop writes it; NULL or "" = no
 * per-address check). */
enum flow_verdict flow_admit(struct flow *f, const char *tx, const char *addr, uint64_t now_ns,
                             struct flow_ticket *t);
/* The admitted request is finished: frees its slot, may start waiters.
 * 0, or -1 if t is not running (never admitted, or already done). */
int flow_done(struct flow_ticket *t, uint64_t now_ns);
/* True when t was admitted under a priority rule (LOGIN, LOGOUT): the server
 * then runs it on its executor's priority lane too. */
bool flow_ticket_priority(const struct flow_ticket *t);
/* Withdraws a queued request (counted refused/cancelled; no hook will fire).
 * 0, or -1 if it is no longer queued: its hook has fired or is firing. */
int flow_cancel(struct flow_ticket *t, uint64_t now_ns);
/* Starts what can start and refuses what is due, in every rule. Returns the
 * next time something falls due (UINT64_MAX: nothing queued); call again by
 * then, and at least every FLOW_TICK_NS. */
uint64_t flow_tick(struct flow *f, uint64_t now_ns);

/* Swaps in cfg's rules and caps (caps NULL = derived from cfg). 0, or -1 with
 * err set and nothing changed. Serialised with itself; safe under traffic. */
int flow_reload(struct flow *f, const struct config *cfg, const struct flow_caps *caps,
                uint64_t now_ns, char *err, size_t errcap);
/* Refuses every waiter and every later arrival with FLOW_R_SHUTDOWN. */
void flow_shutdown(struct flow *f, uint64_t now_ns);

/* Connection accounting for the max_connections cap. */
void flow_conn_open(struct flow *f);
void flow_conn_close(struct flow *f);

/* Counters of the rule tx maps to, consistent with each other. 0, or -1 if f
 * is NULL. */
int flow_stats(struct flow *f, const char *tx, struct flow_stats *out);
void flow_global_stats(struct flow *f, struct flow_global_stats *out);

/* HTTP status for a refusal (429, 503; 0 for CANCELLED/NONE), the error code
 * for the body ("busy", "overloaded") and the metric label ("queue_full",
 * "addr_rate"). */
int flow_reason_status(enum flow_reason r);
const char *flow_reason_code(enum flow_reason r);
const char *flow_reason_name(enum flow_reason r);

#endif
