#include "access/flow.h"

#include "access/flow_addr.h"
#include "access/flow_lease.h"
#include "access/flow_rules.h"
#include "access/gcra.h"
#include "data/redis.h"
#include "foundation/clock.h"
#include "foundation/config.h"
#include "foundation/log.h"
#include "foundation/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

/* Ticket life: IDLE -> QUEUED -> RUNNING -> DONE, with REFUSED reachable
 * from IDLE and QUEUED. Changed only under the rule's lock. */
enum { TS_IDLE = 0, TS_QUEUED, TS_RUNNING, TS_DONE, TS_REFUSED };

/* Where a request's token comes from: none now, the rule's lease of the
 * cluster's tokens, or the rule's own (node-local) GCRA. */
enum token_src { TK_NONE = 0, TK_POOL, TK_LOCAL };

/* Redis unreachable: the warning is logged at most this often. */
#define FALLBACK_LOG_NS (UINT64_C(60) * GCRA_NS_PER_S)

/* Name -> rule, open addressing. Entries are added (under admin_mu) but never
 * moved or removed, so admission looks a TX up with no lock at all. Twice
 * FLOW_MAX_RULES keeps probes short. */
#define TABLE_SLOTS 1024
#define TABLE_MASK (TABLE_SLOTS - 1)

/* Hooks decided under a rule's lock are fired after it is released, at most
 * this many per round. */
#define BATCH 32

/* Rounds of catching up a queue inside flow_admit before deciding the new
 * arrival: bounded, as other threads may keep the queue busy. */
#define CATCH_UP_ROUNDS 4

static const double WAIT_BUCKETS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                      0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                      1,      2.5,     5,      10,    30,     60};

static const char *const REASON_NAMES[FLOW_NREASONS] = {
    [FLOW_R_NONE] = "none",
    [FLOW_R_RATE] = "rate",
    [FLOW_R_CONCURRENCY] = "concurrency",
    [FLOW_R_QUEUE_FULL] = "queue_full",
    [FLOW_R_TIMEOUT] = "timeout",
    [FLOW_R_OVERLOADED] = "overloaded",
    [FLOW_R_SHUTDOWN] = "shutdown",
    [FLOW_R_CANCELLED] = "cancelled",
    [FLOW_R_ADDR_RATE] = "addr_rate",
};

struct flow_rule {
    pthread_mutex_t mu;
    struct flow *flow;
    char name[FLOW_NAME_MAX];
    uint64_t hash;
    bool priority;
    _Atomic bool active; /* false: retired by a reload, new arrivals go to default */
    bool mark;           /* reload bookkeeping, under admin_mu */
    /* Parameters and state, under mu. */
    int64_t max_concurrent, queue_cap, max_wait_ms;
    uint64_t max_wait_ns;
    struct gcra g;
    uint64_t now; /* latest time seen: the rule's own monotonic clock */
    int64_t in_flight, qlen;
    struct flow_ticket *head, *tail;
    bool unordered; /* some deadline behind the head is earlier (max_wait shrank) */
    uint64_t offered, admitted, refused[FLOW_NREASONS];
    _Atomic int64_t waiting; /* = qlen, readable without mu */
    /* Per-address limits: NULL = off. Read and used under mu; replaced under
     * admin_mu and mu. addr_on mirrors it for a lock-free hint. */
    struct flow_addr *addr;
    _Atomic bool addr_on;
    /* Cluster scope: the configured scope, and the lease (under mu). */
    bool scope_cluster;
    struct flow_lease_slot ls;
    struct metric *m_offered, *m_admitted, *m_refused[FLOW_NREASONS];
    struct metric *m_queued, *m_in_flight, *m_wait, *m_addr_evicted;
};

struct flow {
    _Atomic(struct flow_rule *) table[TABLE_SLOTS];
    struct flow_rule *rules[FLOW_MAX_RULES]; /* [0, nrules) are set */
    _Atomic int nrules;
    struct flow_rule *deflt;
    struct flow_hooks hooks;
    pthread_mutex_t admin_mu; /* serialises reload, shutdown and free */
    _Atomic bool shut;
    /* Business class only. */
    _Atomic int64_t conns, run, queued;
    _Atomic int64_t cap_conns, cap_run, cap_queued;
    _Atomic int64_t waiting; /* every class: flow_tick's quick exit */
    _Atomic bool blocked;    /* a head holds token and slot but no global slot */
    _Atomic unsigned rr;     /* where the next sweep starts: fairness across rules */
    uint64_t seed;           /* of the per-address tables' hash */
    struct metric *m_conns, *m_run, *m_queued;
    /* Cluster-wide rates (flow_share): NULL = every rule node-local. Set
     * once under admin_mu before traffic. */
    struct flow_lease *lease;
    _Atomic bool fallback;        /* Redis unreachable: node-local rates */
    _Atomic uint64_t fetch_since; /* when the fetch under way began; 0 = none */
    uint64_t probe_at, warned_ns; /* the lease thread's own, */
    bool warned;                  /* and so is this: the last fallback was logged */
    struct metric *m_fallback;
};

/* A request's client address, reduced to its key at most once. */
struct addr_arg {
    const char *s; /* NULL: no per-address check */
    bool parsed;
    struct flow_addr_key k;
};

struct batch {
    int n;
    struct flow_ticket *t[BATCH];
};

/* --- small helpers --------------------------------------------------------- */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return h;
}

static uint64_t rule_clock(struct flow_rule *r, uint64_t now)
{
    if (now > r->now)
        r->now = now;
    return r->now;
}

static enum flow_verdict verdict_of(enum flow_reason why)
{
    switch (why) {
    case FLOW_R_OVERLOADED:
    case FLOW_R_SHUTDOWN:
        return FLOW_OVERLOADED;
    case FLOW_R_CANCELLED:
        return FLOW_CANCELLED;
    default:
        return FLOW_BUSY;
    }
}

/* Takes one unit of a global cap if below it. */
static bool cap_take(_Atomic int64_t *n, _Atomic int64_t *cap)
{
    int64_t c = atomic_load_explicit(cap, memory_order_relaxed);
    int64_t v = atomic_load_explicit(n, memory_order_relaxed);
    do {
        if (v >= c)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(n, &v, v + 1, memory_order_acq_rel,
                                                    memory_order_relaxed));
    return true;
}

static bool run_take(struct flow *f)
{
    if (!cap_take(&f->run, &f->cap_run))
        return false;
    metric_inc(f->m_run);
    return true;
}

static void run_give(struct flow *f)
{
    atomic_fetch_sub_explicit(&f->run, 1, memory_order_acq_rel);
    metric_dec(f->m_run);
}

/* --- tokens: the rule's own GCRA, or its lease of the cluster's ------------------ */

/* Whether r's tokens come from its lease at now rather than from its own
 * GCRA: cluster scope, Redis reachable, and, with the pool empty, no fetch
 * under way for longer than FLOW_LEASE_STALL_NS (a Redis that hangs must
 * not starve the rule until the client's timeouts tell). Under r->mu. */
static bool leasing(struct flow_rule *r, uint64_t now)
{
    struct flow *f = r->flow;
    if (!r->ls.cluster || atomic_load_explicit(&f->fallback, memory_order_relaxed))
        return false;
    if (r->ls.pool > 0)
        return true;
    uint64_t since = atomic_load_explicit(&f->fetch_since, memory_order_relaxed);
    return since == 0 || now < since + FLOW_LEASE_STALL_NS;
}

/* Where a token for r would come from at now, if there is one. An empty
 * lease wakes the lease thread (once per grant). Under r->mu. */
static enum token_src token_at(struct flow_rule *r, uint64_t now)
{
    if (!leasing(r, now))
        return gcra_conforms(&r->g, now) ? TK_LOCAL : TK_NONE;
    if (r->ls.pool > 0)
        return TK_POOL;
    if (!r->ls.starved) {
        r->ls.starved = true;
        flow_lease_poke(r->flow->lease);
    }
    return TK_NONE;
}

static void token_take(struct flow_rule *r, enum token_src src, uint64_t now)
{
    if (src == TK_POOL) {
        r->ls.pool--;
        r->ls.taken++;
    } else {
        gcra_take(&r->g, now);
    }
}

/* Earliest time the (ahead + 1)-th next token could be r's: the local
 * schedule, or the lower bound from what Redis last said. Under r->mu. */
static uint64_t ready_at(struct flow_rule *r, uint64_t now, uint64_t ahead)
{
    if (leasing(r, now))
        return flow_lease_ready_at(&r->ls, &r->g, now, ahead);
    return gcra_ready_at(&r->g, now, ahead);
}

/* Whole seconds from now until at, rounded up, within [1, FLOW_RETRY_MAX_S]. */
static int retry_secs(uint64_t at, uint64_t now)
{
    uint64_t wait = at > now ? at - now : 0;
    uint64_t s = wait / GCRA_NS_PER_S + (wait % GCRA_NS_PER_S != 0);
    if (s < 1)
        return 1;
    return s > FLOW_RETRY_MAX_S ? FLOW_RETRY_MAX_S : (int)s;
}

/* Seconds until the rule could take one more request: the token schedule
 * behind everyone queued; 1 when a slot or a global cap is what is short.
 * (ADDR_RATE: the caller sets the address's own time.) */
static int retry_after(struct flow_rule *r, enum flow_reason why, uint64_t now)
{
    if (why == FLOW_R_OVERLOADED || why == FLOW_R_SHUTDOWN || why == FLOW_R_CANCELLED)
        return 1;
    return retry_secs(ready_at(r, now, (uint64_t)r->qlen), now);
}

/* --- ticket transitions, all under r->mu ------------------------------------ */

static void start(struct flow_rule *r, struct flow_ticket *t, enum token_src src, uint64_t now)
{
    token_take(r, src, now);
    r->in_flight++;
    r->admitted++;
    metric_inc(r->m_admitted);
    metric_inc(r->m_in_flight);
    t->state_ = TS_RUNNING;
    t->verdict = FLOW_ADMITTED;
    t->reason = FLOW_R_NONE;
}

static enum flow_verdict refuse(struct flow_rule *r, struct flow_ticket *t, enum flow_reason why,
                                uint64_t now)
{
    r->refused[why]++;
    metric_inc(r->m_refused[why]);
    t->state_ = TS_REFUSED;
    t->reason = why;
    t->verdict = verdict_of(why);
    t->retry_after_s = retry_after(r, why, now);
    return t->verdict;
}

static void enqueue(struct flow *f, struct flow_rule *r, struct flow_ticket *t, uint64_t now,
                    uint64_t wait_ns)
{
    t->enq_ns_ = now;
    t->deadline_ns_ = now + wait_ns;
    t->next_ = NULL;
    t->prev_ = r->tail;
    if (r->tail) {
        if (r->tail->deadline_ns_ > t->deadline_ns_)
            r->unordered = true;
        r->tail->next_ = t;
    } else {
        r->head = t;
    }
    r->tail = t;
    r->qlen++;
    atomic_store_explicit(&r->waiting, r->qlen, memory_order_relaxed);
    atomic_fetch_add_explicit(&f->waiting, 1, memory_order_relaxed);
    metric_inc(r->m_queued);
    t->state_ = TS_QUEUED;
    t->verdict = FLOW_QUEUED;
    /* Under the lock: the caller's suspend must precede any resume. */
    if (f->hooks.on_queued)
        f->hooks.on_queued(t, t->cookie);
}

static void unqueue(struct flow *f, struct flow_rule *r, struct flow_ticket *t, uint64_t now)
{
    if (t->prev_)
        t->prev_->next_ = t->next_;
    else
        r->head = t->next_;
    if (t->next_)
        t->next_->prev_ = t->prev_;
    else
        r->tail = t->prev_;
    t->prev_ = t->next_ = NULL;
    r->qlen--;
    if (!r->head)
        r->unordered = false;
    atomic_store_explicit(&r->waiting, r->qlen, memory_order_relaxed);
    atomic_fetch_sub_explicit(&f->waiting, 1, memory_order_relaxed);
    metric_dec(r->m_queued);
    metric_observe(r->m_wait, (double)(now - t->enq_ns_) / (double)GCRA_NS_PER_S);
    if (!r->priority) {
        atomic_fetch_sub_explicit(&f->queued, 1, memory_order_acq_rel);
        metric_dec(f->m_queued);
    }
}

/* --- the queue --------------------------------------------------------------- */

/* Where the head's token would come from if it may start now (TK_NONE:
 * it may not); takes its global slot if so. */
static enum token_src head_can_start(struct flow *f, struct flow_rule *r, uint64_t now)
{
    if (r->in_flight >= r->max_concurrent)
        return TK_NONE;
    enum token_src src = token_at(r, now);
    if (src == TK_NONE || r->priority || run_take(f))
        return src;
    atomic_store(&f->blocked, true);
    return TK_NONE;
}

static void push(struct batch *b, struct flow_ticket *t)
{
    b->t[b->n++] = t;
}

/* After a reload shortened max_wait, deadlines behind the head may fall due
 * first: they are refused where they stand. */
static bool expire_behind(struct flow *f, struct flow_rule *r, uint64_t now, struct batch *b)
{
    for (struct flow_ticket *t = r->head, *next; t; t = next) {
        next = t->next_;
        if (t->deadline_ns_ > now)
            continue;
        if (b->n == BATCH)
            return true;
        unqueue(f, r, t, now);
        refuse(r, t, FLOW_R_TIMEOUT, now);
        push(b, t);
    }
    return false;
}

/* Brings r's queue up to date at now: starts heads while they can start
 * (never past their deadline), refuses the due. Decided tickets go to b.
 * True if b filled up with work left. Under r->mu. */
static bool dispatch(struct flow *f, struct flow_rule *r, uint64_t now, struct batch *b)
{
    while (r->head) {
        if (b->n == BATCH)
            return true;
        struct flow_ticket *t = r->head;
        enum token_src src = TK_NONE;
        if (now <= t->deadline_ns_ && (src = head_can_start(f, r, now)) != TK_NONE) {
            unqueue(f, r, t, now);
            start(r, t, src, now);
        } else if (now >= t->deadline_ns_) {
            unqueue(f, r, t, now);
            refuse(r, t, FLOW_R_TIMEOUT, now);
        } else {
            break;
        }
        push(b, t);
    }
    return r->unordered ? expire_behind(f, r, now, b) : false;
}

static void fire(const struct flow *f, const struct batch *b)
{
    for (int i = 0; i < b->n; i++) {
        struct flow_ticket *t = b->t[i];
        flow_hook h = t->verdict == FLOW_ADMITTED ? f->hooks.on_ready : f->hooks.on_refused;
        if (h)
            h(t, t->cookie); /* t may be gone after this */
    }
}

/* When r's queue next needs attention without any flow_done(): the earliest
 * deadline, or the head's token time if only the token is missing (a lease's
 * tokens come with the lease thread, which starts the head itself). */
static uint64_t next_due(struct flow_rule *r)
{
    if (!r->head)
        return UINT64_MAX;
    uint64_t due = r->head->deadline_ns_;
    for (const struct flow_ticket *t = r->unordered ? r->head : NULL; t; t = t->next_)
        if (t->deadline_ns_ < due)
            due = t->deadline_ns_;
    if (r->in_flight < r->max_concurrent && !leasing(r, r->now)) {
        uint64_t at = gcra_ready_at(&r->g, r->now, 0);
        if (at > r->now && at < due)
            due = at;
    }
    return due;
}

/* Dispatches r (locked on entry, unlocked on return), firing hooks between
 * rounds. *due, if given, gets the rule's next due time. */
static void settle_unlock(struct flow *f, struct flow_rule *r, uint64_t now, uint64_t *due)
{
    for (;;) {
        struct batch b;
        b.n = 0;
        bool more = dispatch(f, r, now, &b);
        if (!more && due)
            *due = next_due(r);
        pthread_mutex_unlock(&r->mu);
        fire(f, &b);
        if (!more)
            return;
        pthread_mutex_lock(&r->mu);
        now = rule_clock(r, now);
    }
}

/* Every rule with waiters, starting at a rotating index. Returns the
 * earliest due time. */
static uint64_t sweep(struct flow *f, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    int n = atomic_load_explicit(&f->nrules, memory_order_acquire);
    unsigned first = atomic_fetch_add_explicit(&f->rr, 1, memory_order_relaxed);
    for (int k = 0; k < n; k++) {
        struct flow_rule *r = f->rules[(first + (unsigned)k) % (unsigned)n];
        if (atomic_load_explicit(&r->waiting, memory_order_relaxed) == 0)
            continue;
        uint64_t due = UINT64_MAX;
        pthread_mutex_lock(&r->mu);
        settle_unlock(f, r, rule_clock(r, now), &due);
        if (due < next)
            next = due;
    }
    return next;
}

/* --- admission --------------------------------------------------------------- */

static struct flow_rule *find_rule(struct flow *f, const char *tx)
{
    if (strnlen(tx, FLOW_NAME_MAX) >= FLOW_NAME_MAX)
        return NULL; /* longer than any configured name */
    uint64_t h = name_hash(tx);
    for (size_t i = (size_t)h & TABLE_MASK, n = 0; n < TABLE_SLOTS; i = (i + 1) & TABLE_MASK, n++) {
        struct flow_rule *r = atomic_load_explicit(&f->table[i], memory_order_acquire);
        if (!r)
            return NULL;
        if (r->hash == h && strcmp(r->name, tx) == 0)
            return r;
    }
    return NULL;
}

static struct flow_rule *lookup(struct flow *f, const char *tx)
{
    struct flow_rule *r = tx && *tx ? find_rule(f, tx) : NULL;
    return r && atomic_load_explicit(&r->active, memory_order_relaxed) ? r : f->deflt;
}

/* Why a request that cannot start now may not wait either; NONE if it may,
 * for at most *wait_ns. A rule that does not queue (queue = 0 or
 * max_wait_ms = 0) still lets a cluster-scope request whose node's lease is
 * empty wait for the lease thread's fetch: at most a lease's worth of them,
 * for at most FLOW_LEASE_WAIT_NS, and only if the cluster may have a token
 * by then (else an idle rule would refuse its first request). */
static enum flow_reason no_wait_reason(struct flow_rule *r, bool token, uint64_t now,
                                       uint64_t *wait_ns)
{
    bool queues = r->queue_cap > 0 && r->max_wait_ns > 0;
    if (!queues && !token && leasing(r, now)) {
        *wait_ns = FLOW_LEASE_WAIT_NS;
        if (r->qlen >= r->ls.lease || ready_at(r, now, (uint64_t)r->qlen) > now + *wait_ns)
            return FLOW_R_RATE;
        return FLOW_R_NONE;
    }
    *wait_ns = r->max_wait_ns;
    if (r->qlen > 0 && r->qlen >= r->queue_cap)
        return FLOW_R_QUEUE_FULL;
    if (!queues)
        return token ? FLOW_R_CONCURRENCY : FLOW_R_RATE;
    /* Even if everyone ahead starts on time, its token comes too late. */
    if (ready_at(r, now, (uint64_t)r->qlen) > now + r->max_wait_ns)
        return FLOW_R_RATE;
    return FLOW_R_NONE;
}

/* The rule's own decision on the arrival: token, slot, queue, global caps. */
static enum flow_verdict decide_rule(struct flow *f, struct flow_rule *r, struct flow_ticket *t,
                                     bool business, uint64_t now)
{
    enum token_src src = token_at(r, now);
    if (!r->head && src != TK_NONE && r->in_flight < r->max_concurrent) {
        if (business && !run_take(f))
            return refuse(r, t, FLOW_R_OVERLOADED, now);
        start(r, t, src, now);
        return FLOW_ADMITTED;
    }
    uint64_t wait_ns;
    enum flow_reason why = no_wait_reason(r, src != TK_NONE, now, &wait_ns);
    if (why != FLOW_R_NONE)
        return refuse(r, t, why, now);
    if (business && !cap_take(&f->queued, &f->cap_queued))
        return refuse(r, t, FLOW_R_OVERLOADED, now);
    if (business)
        metric_inc(f->m_queued);
    enqueue(f, r, t, now, wait_ns);
    return FLOW_QUEUED;
}

/* The new arrival, with the queue already brought up to date. Under r->mu.
 * The address's own limit comes before the rule's: an address over it takes
 * nothing from the rule; an address within it keeps its token only if the
 * rule admits or queues the request. */
static enum flow_verdict decide(struct flow *f, struct flow_rule *r, struct flow_ticket *t,
                                struct addr_arg *a, uint64_t now)
{
    r->offered++;
    metric_inc(r->m_offered);
    if (atomic_load_explicit(&f->shut, memory_order_relaxed))
        return refuse(r, t, FLOW_R_SHUTDOWN, now);
    bool business = !r->priority;
    if (business && atomic_load_explicit(&f->conns, memory_order_relaxed) >
                        atomic_load_explicit(&f->cap_conns, memory_order_relaxed))
        return refuse(r, t, FLOW_R_OVERLOADED, now);
    if (!r->addr || !a->s)
        return decide_rule(f, r, t, business, now);
    if (!a->parsed)
        flow_addr_key_of(a->s, &a->k);
    a->parsed = true;
    struct flow_addr_undo undo;
    uint64_t ready_at;
    if (!flow_addr_take(r->addr, &a->k, now, &undo, &ready_at)) {
        enum flow_verdict v = refuse(r, t, FLOW_R_ADDR_RATE, now);
        t->retry_after_s = retry_secs(ready_at, now);
        return v;
    }
    enum flow_verdict v = decide_rule(f, r, t, business, now);
    if (v != FLOW_ADMITTED && v != FLOW_QUEUED)
        flow_addr_undo(r->addr, &undo);
    else if (undo.evicted)
        metric_inc(r->m_addr_evicted);
    return v;
}

/* Dispatches a non-empty queue before a new arrival is decided, so that it
 * lines up behind what is really still waiting. Locked on entry and exit. */
static uint64_t catch_up(struct flow *f, struct flow_rule *r, uint64_t now)
{
    for (int round = 0; round < CATCH_UP_ROUNDS && r->head; round++) {
        struct batch b;
        b.n = 0;
        dispatch(f, r, now, &b);
        if (b.n == 0)
            break;
        pthread_mutex_unlock(&r->mu);
        fire(f, &b);
        pthread_mutex_lock(&r->mu);
        now = rule_clock(r, now);
    }
    return now;
}

enum flow_verdict flow_admit(struct flow *f, const char *tx, const char *addr, uint64_t now_ns,
                             struct flow_ticket *t)
{
    struct flow_rule *r = lookup(f, tx);
    struct addr_arg a = {.s = addr && *addr ? addr : NULL};
    /* Parsed before the lock when the rule (probably) needs it. */
    if (a.s && atomic_load_explicit(&r->addr_on, memory_order_relaxed)) {
        flow_addr_key_of(a.s, &a.k);
        a.parsed = true;
    }
    t->rule_ = r;
    t->prev_ = t->next_ = NULL;
    t->reason = FLOW_R_NONE;
    t->retry_after_s = 0;
    pthread_mutex_lock(&r->mu);
    uint64_t now = rule_clock(r, now_ns);
    if (r->head)
        now = catch_up(f, r, now);
    enum flow_verdict v = decide(f, r, t, &a, now);
    pthread_mutex_unlock(&r->mu);
    return v;
}

bool flow_ticket_priority(const struct flow_ticket *t)
{
    return t->verdict == FLOW_ADMITTED && t->rule_ && t->rule_->priority;
}

int flow_done(struct flow_ticket *t, uint64_t now_ns)
{
    struct flow_rule *r = t->rule_;
    if (!r)
        return -1;
    struct flow *f = r->flow;
    pthread_mutex_lock(&r->mu);
    if (t->state_ != TS_RUNNING) {
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    uint64_t now = rule_clock(r, now_ns);
    t->state_ = TS_DONE;
    r->in_flight--;
    metric_dec(r->m_in_flight);
    if (!r->priority)
        run_give(f);
    if (r->head)
        settle_unlock(f, r, now, NULL);
    else
        pthread_mutex_unlock(&r->mu);
    /* The freed global slot may be what another rule's head waits for. */
    if (!r->priority && atomic_load_explicit(&f->blocked, memory_order_relaxed) &&
        atomic_exchange(&f->blocked, false))
        sweep(f, now_ns);
    return 0;
}

int flow_cancel(struct flow_ticket *t, uint64_t now_ns)
{
    struct flow_rule *r = t->rule_;
    if (!r)
        return -1;
    pthread_mutex_lock(&r->mu);
    if (t->state_ != TS_QUEUED) {
        pthread_mutex_unlock(&r->mu);
        return -1;
    }
    uint64_t now = rule_clock(r, now_ns);
    unqueue(r->flow, r, t, now);
    refuse(r, t, FLOW_R_CANCELLED, now);
    settle_unlock(r->flow, r, now, NULL);
    return 0;
}

uint64_t flow_tick(struct flow *f, uint64_t now_ns)
{
    if (atomic_load_explicit(&f->waiting, memory_order_relaxed) == 0)
        return UINT64_MAX;
    atomic_store(&f->blocked, false);
    return sweep(f, now_ns);
}

void flow_conn_open(struct flow *f)
{
    atomic_fetch_add_explicit(&f->conns, 1, memory_order_relaxed);
    metric_inc(f->m_conns);
}

void flow_conn_close(struct flow *f)
{
    atomic_fetch_sub_explicit(&f->conns, 1, memory_order_relaxed);
    metric_dec(f->m_conns);
}

/* --- shutdown ------------------------------------------------------------------ */

/* Refuses every waiter of r (locked on entry, unlocked on return). */
static void drain_unlock(struct flow *f, struct flow_rule *r, uint64_t now)
{
    for (;;) {
        struct batch b;
        b.n = 0;
        now = rule_clock(r, now);
        while (r->head && b.n < BATCH) {
            struct flow_ticket *t = r->head;
            unqueue(f, r, t, now);
            refuse(r, t, FLOW_R_SHUTDOWN, now);
            push(&b, t);
        }
        bool more = r->head != NULL;
        pthread_mutex_unlock(&r->mu);
        fire(f, &b);
        if (!more)
            return;
        pthread_mutex_lock(&r->mu);
    }
}

void flow_shutdown(struct flow *f, uint64_t now_ns)
{
    pthread_mutex_lock(&f->admin_mu);
    /* First: once it has stopped, no hook can fire from the lease thread
     * (the server stops libmicrohttpd after this returns). */
    flow_lease_stop(f->lease);
    /* Set before taking each rule's lock: an arrival decided after that pass
     * sees the flag, one decided before it is drained by the pass. */
    atomic_store(&f->shut, true);
    int n = atomic_load(&f->nrules);
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&f->rules[i]->mu);
        drain_unlock(f, f->rules[i], now_ns);
    }
    pthread_mutex_unlock(&f->admin_mu);
}

/* --- rules: creation and reload --------------------------------------------------- */

static void rule_metrics(struct flow_rule *r)
{
    char labels[160];
    snprintf(labels, sizeof labels, "tx=\"%s\"", r->name);
    r->m_offered = metrics_counter("zhanye_flow_offered_total", labels);
    r->m_admitted = metrics_counter("zhanye_flow_admitted_total", labels);
    r->m_queued = metrics_gauge("zhanye_flow_queued", labels);
    r->m_in_flight = metrics_gauge("zhanye_flow_in_flight", labels);
    r->m_wait = metrics_histogram("zhanye_flow_queue_wait_seconds", labels, WAIT_BUCKETS,
                                  sizeof WAIT_BUCKETS / sizeof WAIT_BUCKETS[0]);
    r->m_addr_evicted = metrics_counter("zhanye_flow_addr_evicted_total", labels);
    for (int i = FLOW_R_NONE + 1; i < FLOW_NREASONS; i++) {
        snprintf(labels, sizeof labels, "tx=\"%s\",reason=\"%s\"", r->name, REASON_NAMES[i]);
        r->m_refused[i] = metrics_counter("zhanye_flow_refused_total", labels);
    }
}

/* A per-address table for s, or NULL if s has no per-address limit or on
 * failure (*failed set). */
static struct flow_addr *addr_table_for(const struct flow *f, const struct flow_spec *s,
                                        bool *failed)
{
    if (s->per_addr_rate <= 0)
        return NULL;
    struct flow_addr *a =
        flow_addr_new((uint64_t)s->per_addr_rate, (uint64_t)s->per_addr_burst, f->seed);
    if (!a)
        *failed = true;
    return a;
}

/* Makes r's lease follow its scope and the flow's sharing, and its size
 * the rule's rate (a fetch reads rate and burst afresh: a reload applies at
 * the next one). Leaving cluster scope drops the tokens held. Under r->mu
 * and admin_mu (or on a rule not yet published). */
static void lease_apply(struct flow_rule *r)
{
    bool cluster = r->scope_cluster && r->flow->lease;
    if (cluster && !r->ls.m_fetches) {
        char labels[160];
        snprintf(labels, sizeof labels, "tx=\"%s\"", r->name);
        r->ls.m_fetches = metrics_counter("zhanye_flow_lease_fetches_total", labels);
        r->ls.m_tokens = metrics_counter("zhanye_flow_lease_tokens_total", labels);
        r->ls.m_dropped = metrics_counter("zhanye_flow_lease_dropped_total", labels);
    }
    int64_t dropped = cluster ? 0 : flow_lease_drop(&r->ls);
    if (dropped > 0)
        metric_add(r->ls.m_dropped, (uint64_t)dropped);
    r->ls.cluster = cluster;
    r->ls.lease = flow_lease_size(r->g.rate, r->g.burst);
}

/* Parameters from s; the bucket keeps its debt. Under r->mu. r->addr is
 * already the table s needs (or NULL). */
static void rule_apply(struct flow_rule *r, const struct flow_spec *s, uint64_t now)
{
    /* Cannot fail: flow_specs_load() checked rate and burst against gcra's maxima. */
    (void)gcra_retune(&r->g, (uint64_t)s->rate, (uint64_t)s->burst, now);
    r->max_concurrent = s->max_concurrent;
    r->queue_cap = s->queue;
    r->max_wait_ms = s->max_wait_ms;
    r->max_wait_ns = (uint64_t)s->max_wait_ms * UINT64_C(1000000);
    if (r->addr) /* same checks as rate and burst: cannot fail */
        (void)flow_addr_tune(r->addr, (uint64_t)s->per_addr_rate, (uint64_t)s->per_addr_burst);
    atomic_store_explicit(&r->addr_on, r->addr != NULL, memory_order_relaxed);
    r->scope_cluster = s->cluster;
    lease_apply(r);
}

static struct flow_rule *rule_new(struct flow *f, const struct flow_spec *s)
{
    struct flow_rule *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    bool failed = false;
    r->addr = addr_table_for(f, s, &failed);
    if (failed || pthread_mutex_init(&r->mu, NULL) != 0 ||
        gcra_init(&r->g, (uint64_t)s->rate, (uint64_t)s->burst) != 0) {
        flow_addr_free(r->addr);
        free(r);
        return NULL;
    }
    r->flow = f;
    snprintf(r->name, sizeof r->name, "%s", s->name);
    r->hash = name_hash(r->name);
    r->priority = s->priority;
    atomic_init(&r->active, true);
    atomic_init(&r->waiting, 0);
    atomic_init(&r->addr_on, false);
    rule_apply(r, s, 0);
    rule_metrics(r);
    return r;
}

static void rule_free(struct flow_rule *r)
{
    pthread_mutex_destroy(&r->mu);
    flow_addr_free(r->addr);
    free(r);
}

/* Publishes r: table entry last, so a reader that finds it sees it whole. */
static void rule_publish(struct flow *f, struct flow_rule *r, bool in_table)
{
    int n = atomic_load(&f->nrules);
    f->rules[n] = r;
    atomic_store_explicit(&f->nrules, n + 1, memory_order_release);
    if (!in_table)
        return;
    size_t i = (size_t)r->hash & TABLE_MASK;
    while (atomic_load_explicit(&f->table[i], memory_order_relaxed))
        i = (i + 1) & TABLE_MASK; /* terminates: at most FLOW_MAX_RULES of TABLE_SLOTS used */
    atomic_store_explicit(&f->table[i], r, memory_order_release);
}

/* spare: a table allocated for s beforehand if r had none (or NULL). A
 * per-address limit turned off frees the rule's table. */
static void rule_update(struct flow_rule *r, const struct flow_spec *s, struct flow_addr *spare,
                        uint64_t now)
{
    struct flow_addr *drop = NULL;
    pthread_mutex_lock(&r->mu);
    if (s->per_addr_rate <= 0) {
        drop = r->addr;
        r->addr = NULL;
    } else if (!r->addr) {
        r->addr = spare;
        spare = NULL;
    }
    rule_apply(r, s, rule_clock(r, now));
    pthread_mutex_unlock(&r->mu);
    flow_addr_free(drop);
    flow_addr_free(spare);
    r->mark = true;
    atomic_store(&r->active, true);
}

/* A retired rule sees no arrivals: its table goes. */
static void rule_retire(struct flow_rule *r)
{
    atomic_store(&r->active, false);
    pthread_mutex_lock(&r->mu);
    struct flow_addr *drop = r->addr;
    r->addr = NULL;
    atomic_store_explicit(&r->addr_on, false, memory_order_relaxed);
    pthread_mutex_unlock(&r->mu);
    flow_addr_free(drop);
}

/* Allocates, into spare[i + 1] for sp's spec i (-1 = default), the table of
 * each existing rule that gains a per-address limit, all or none. Fresh
 * rules got theirs from rule_new(). 0, or -1 with err set. */
static int alloc_spares(struct flow *f, const struct flow_specs *sp, struct flow_addr **spare,
                        char *err, size_t errcap)
{
    bool failed = false;
    for (int i = -1; i < sp->n && !failed; i++) {
        const struct flow_spec *s = i < 0 ? &sp->def : &sp->tx[i];
        struct flow_rule *r = i < 0 ? f->deflt : find_rule(f, s->name);
        if (r && !r->addr) /* r->addr changes only under admin_mu, held */
            spare[i + 1] = addr_table_for(f, s, &failed);
    }
    if (!failed)
        return 0;
    for (int i = 0; i <= sp->n; i++)
        flow_addr_free(spare[i]);
    snprintf(err, errcap, "flow: out of memory");
    return -1;
}

/* Creates the rules sp needs that f lacks, all or none. Returns how many,
 * or -1 with err set. */
static int create_missing(struct flow *f, const struct flow_specs *sp, struct flow_rule **fresh,
                          char *err, size_t errcap)
{
    int nfresh = 0, have = atomic_load(&f->nrules);
    for (int i = -1; i < sp->n; i++) {
        const struct flow_spec *s = i < 0 ? &sp->def : &sp->tx[i];
        if (i < 0 ? f->deflt != NULL : find_rule(f, s->name) != NULL)
            continue;
        if (have + nfresh == FLOW_MAX_RULES) {
            snprintf(err, errcap,
                     "flow: more than %d distinct [flow.*] rules since start; restart to reload",
                     FLOW_MAX_RULES);
            goto fail;
        }
        if (!(fresh[nfresh] = rule_new(f, s))) {
            snprintf(err, errcap, "flow: out of memory");
            goto fail;
        }
        nfresh++;
    }
    return nfresh;
fail:
    while (nfresh > 0)
        rule_free(fresh[--nfresh]);
    return -1;
}

static void set_caps(struct flow *f, const struct flow_caps *c)
{
    atomic_store(&f->cap_conns, c->max_connections);
    atomic_store(&f->cap_run, c->max_in_flight);
    atomic_store(&f->cap_queued, c->max_queued);
}

/* Makes f's rules and caps those of cfg. Under admin_mu. */
static int apply_config(struct flow *f, const struct config *cfg, const struct flow_caps *caps,
                        uint64_t now, char *err, size_t errcap)
{
    struct flow_specs *sp = malloc(sizeof *sp);
    struct flow_rule **fresh = malloc(sizeof *fresh * FLOW_MAX_RULES);
    struct flow_addr **spare = calloc(FLOW_MAX_SPECS + 1, sizeof *spare);
    int nfresh = -1;
    if (!sp || !fresh || !spare)
        snprintf(err, errcap, "flow: out of memory");
    else if (flow_specs_load(cfg, sp, err, errcap) == 0 &&
             (nfresh = create_missing(f, sp, fresh, err, errcap)) >= 0 &&
             alloc_spares(f, sp, spare, err, errcap) != 0) {
        while (nfresh > 0)
            rule_free(fresh[--nfresh]);
        nfresh = -1;
    }
    if (nfresh < 0) {
        free(sp);
        free(fresh);
        free(spare);
        return -1;
    }
    /* From here on nothing can fail. */
    int n = atomic_load(&f->nrules);
    for (int i = 0; i < n; i++)
        f->rules[i]->mark = false;
    for (int i = 0; i < nfresh; i++) {
        bool is_default = strcmp(fresh[i]->name, FLOW_DEFAULT_NAME) == 0 && !f->deflt;
        fresh[i]->mark = true;
        rule_publish(f, fresh[i], !is_default);
        if (is_default)
            f->deflt = fresh[i];
    }
    rule_update(f->deflt, &sp->def, spare[0], now);
    for (int i = 0; i < sp->n; i++)
        rule_update(find_rule(f, sp->tx[i].name), &sp->tx[i], spare[i + 1], now);
    n = atomic_load(&f->nrules);
    for (int i = 0; i < n; i++)
        if (!f->rules[i]->mark) /* retired: finishes its own requests */
            rule_retire(f->rules[i]);
    struct flow_caps resolved;
    flow_caps_resolve(cfg, caps, &resolved);
    set_caps(f, &resolved);
    free(sp);
    free(fresh);
    free(spare);
    sweep(f, now); /* larger limits may start waiters at once */
    return 0;
}

static void describe_metrics(void)
{
    metrics_describe("zhanye_flow_offered_total", "counter", "Requests offered to flow control");
    metrics_describe("zhanye_flow_admitted_total", "counter", "Requests admitted to run");
    metrics_describe("zhanye_flow_refused_total", "counter", "Requests refused, by reason");
    metrics_describe("zhanye_flow_queued", "gauge", "Requests waiting in the queue");
    metrics_describe("zhanye_flow_in_flight", "gauge", "Admitted requests not yet done");
    metrics_describe("zhanye_flow_queue_wait_seconds", "histogram",
                     "Time spent queued, by every request that left the queue");
    metrics_describe("zhanye_flow_global_connections", "gauge", "Open connections");
    metrics_describe("zhanye_flow_global_in_flight", "gauge", "Business requests running");
    metrics_describe("zhanye_flow_global_queued", "gauge", "Business requests queued");
    metrics_describe("zhanye_flow_addr_evicted_total", "counter",
                     "Per-address entries forgotten while their address still owed tokens");
    metrics_describe("zhanye_flow_lease_fetches_total", "counter",
                     "Fetches of cluster-scope tokens from Redis, whatever their outcome");
    metrics_describe("zhanye_flow_lease_tokens_total", "counter",
                     "Cluster-scope tokens Redis granted to this node");
    metrics_describe("zhanye_flow_lease_dropped_total", "counter",
                     "Leased tokens dropped unused (expired, or the rule left cluster scope)");
    metrics_describe("zhanye_flow_lease_fallback", "gauge",
                     "1 while Redis is unreachable and cluster-scope rates are node-local");
}

/* The per-address tables' hash seed: unpredictable, so that no client can
 * aim addresses at another's set. */
static uint64_t make_seed(const struct flow *f)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
        return seed;
    return clock_mono_ns() ^ (uint64_t)(uintptr_t)f; /* entropy not ready yet: best effort */
}

int flow_from_config(const struct config *cfg, const struct flow_caps *caps,
                     const struct flow_hooks *hooks, struct flow **out, char *err, size_t errcap)
{
    struct flow *f = calloc(1, sizeof *f);
    if (!f || pthread_mutex_init(&f->admin_mu, NULL) != 0) {
        free(f);
        snprintf(err, errcap, "flow: out of memory");
        return -1;
    }
    for (size_t i = 0; i < TABLE_SLOTS; i++)
        atomic_init(&f->table[i], NULL);
    if (hooks)
        f->hooks = *hooks;
    f->seed = make_seed(f);
    describe_metrics();
    f->m_conns = metrics_gauge("zhanye_flow_global_connections", NULL);
    f->m_run = metrics_gauge("zhanye_flow_global_in_flight", NULL);
    f->m_queued = metrics_gauge("zhanye_flow_global_queued", NULL);
    f->m_fallback = metrics_gauge("zhanye_flow_lease_fallback", NULL);
    pthread_mutex_lock(&f->admin_mu);
    int rc = apply_config(f, cfg, caps, 0, err, errcap);
    pthread_mutex_unlock(&f->admin_mu);
    if (rc) {
        pthread_mutex_destroy(&f->admin_mu);
        free(f);
        return -1;
    }
    *out = f;
    return 0;
}

int flow_reload(struct flow *f, const struct config *cfg, const struct flow_caps *caps,
                uint64_t now_ns, char *err, size_t errcap)
{
    pthread_mutex_lock(&f->admin_mu);
    int rc = apply_config(f, cfg, caps, now_ns, err, errcap);
    pthread_mutex_unlock(&f->admin_mu);
    return rc;
}

void flow_free(struct flow *f, uint64_t now_ns)
{
    if (!f)
        return;
    flow_shutdown(f, now_ns);
    flow_lease_free(f->lease);
    int n = atomic_load(&f->nrules);
    for (int i = 0; i < n; i++)
        rule_free(f->rules[i]);
    pthread_mutex_destroy(&f->admin_mu);
    free(f);
}

/* --- cluster-wide rates: the lease thread's side ---------------------------------- */

/* Redis did not serve a fetch (rc): every cluster-scope rule takes its
 * tokens from its own GCRA, at the full rate on this node, until a PING
 * answers. The tokens held are dropped; heads that the local bucket lets
 * start now are started. */
static void fall_back(struct flow *f, int rc, uint64_t now)
{
    f->probe_at = now + FLOW_LEASE_PROBE_NS;
    if (atomic_exchange(&f->fallback, true))
        return;
    metric_set(f->m_fallback, 1);
    f->warned = !f->warned_ns || now - f->warned_ns >= FALLBACK_LOG_NS;
    if (f->warned) {
        f->warned_ns = now;
        log_warn("flow.lease",
                 "redis %s: cluster-scope rates fall back to each node's own, at the full "
                 "rate on every node, until it answers",
                 rc == REDIS_UNAVAILABLE ? "unreachable" : "refused the lease script");
    }
    int n = atomic_load_explicit(&f->nrules, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        struct flow_rule *r = f->rules[i];
        pthread_mutex_lock(&r->mu);
        int64_t dropped = flow_lease_drop(&r->ls);
        if (dropped > 0)
            metric_add(r->ls.m_dropped, (uint64_t)dropped);
        if (r->head)
            settle_unlock(f, r, rule_clock(r, now), NULL);
        else
            pthread_mutex_unlock(&r->mu);
    }
}

/* While fallen back: PING when due; once it answers, rules lease again
 * (their pools are empty: the first request or waiter fetches). */
static uint64_t probe(struct flow *f, struct redis *rd, uint64_t now)
{
    if (now < f->probe_at)
        return f->probe_at;
    int rc = redis_ping(rd);
    now = clock_mono_ns();
    if (rc != REDIS_DONE) {
        f->probe_at = now + FLOW_LEASE_PROBE_NS;
        return f->probe_at;
    }
    atomic_store(&f->fallback, false);
    metric_set(f->m_fallback, 0);
    if (f->warned) /* a flapping Redis logs no more than its warnings */
        log_info("flow.lease", "redis answers again: cluster-scope rates from leases");
    return now;
}

/* One rule's turn: expiry, and a fetch if wanted, then its queued heads.
 * REDIS_DONE, or the fetch's failure. *due: when r next needs a round. The
 * slot's times are the thread's clock; the rule's own clock moves only
 * when a head is dispatched. */
static int lease_rule(struct flow *f, struct flow_rule *r, struct redis *rd, uint64_t *due)
{
    char name[FLOW_NAME_MAX];
    pthread_mutex_lock(&r->mu);
    uint64_t now = clock_mono_ns();
    int64_t dropped = flow_lease_expire(&r->ls, now);
    bool want = flow_lease_wants(&r->ls, r->qlen > 0, now);
    *due = flow_lease_due(&r->ls, r->qlen > 0);
    uint64_t rate = r->g.rate, burst = r->g.burst;
    int64_t n = r->ls.lease;
    struct metric *m_fetches = r->ls.m_fetches, *m_tokens = r->ls.m_tokens;
    struct metric *m_dropped = r->ls.m_dropped;
    memcpy(name, r->name, sizeof name);
    pthread_mutex_unlock(&r->mu);
    if (dropped > 0)
        metric_add(m_dropped, (uint64_t)dropped);
    if (!want)
        return REDIS_DONE;
    struct flow_lease_grant g;
    uint64_t t0 = clock_mono_ns();
    atomic_store(&f->fetch_since, t0);
    int rc = flow_lease_fetch(rd, name, rate, burst, n, &g);
    atomic_store(&f->fetch_since, 0);
    metric_inc(m_fetches);
    if (rc != REDIS_DONE)
        return rc;
    metric_add(m_tokens, (uint64_t)g.granted);
    pthread_mutex_lock(&r->mu);
    now = clock_mono_ns();
    if (r->ls.cluster) /* else a reload made it node-local meanwhile: the tokens are lost */
        flow_lease_add(&r->ls, &g, t0, now);
    *due = now; /* look again at once, with the grant in */
    if (r->head)
        settle_unlock(f, r, rule_clock(r, now), NULL);
    else
        pthread_mutex_unlock(&r->mu);
    return REDIS_DONE;
}

/* The lease thread's round (access/flow_lease.h, flow_lease_round_fn). */
static uint64_t lease_round(void *owner, struct redis *rd, uint64_t now)
{
    struct flow *f = owner;
    if (atomic_load(&f->fallback))
        return probe(f, rd, now);
    uint64_t next = UINT64_MAX;
    int n = atomic_load_explicit(&f->nrules, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        uint64_t due = UINT64_MAX;
        int rc = lease_rule(f, f->rules[i], rd, &due);
        if (rc != REDIS_DONE) {
            fall_back(f, rc, clock_mono_ns());
            return f->probe_at;
        }
        if (due < next)
            next = due;
    }
    return next;
}

int flow_share(struct flow *f, struct redis *rd, char *err, size_t errcap)
{
    pthread_mutex_lock(&f->admin_mu);
    int rc = -1;
    if (!rd)
        snprintf(err, errcap, "flow: no redis client to share rates through");
    else if (f->lease)
        snprintf(err, errcap, "flow: rates are already shared");
    else if (atomic_load(&f->shut))
        snprintf(err, errcap, "flow: shut down");
    else if (flow_lease_start(lease_round, f, rd, &f->lease) != 0)
        snprintf(err, errcap, "flow: cannot start the lease thread");
    else
        rc = 0;
    int n = rc == 0 ? atomic_load(&f->nrules) : 0;
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&f->rules[i]->mu);
        lease_apply(f->rules[i]);
        pthread_mutex_unlock(&f->rules[i]->mu);
    }
    pthread_mutex_unlock(&f->admin_mu);
    return rc;
}

/* --- introspection --------------------------------------------------------------- */

int flow_stats(struct flow *f, const char *tx, struct flow_stats *out)
{
    if (!f)
        return -1;
    struct flow_rule *r = lookup(f, tx);
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&r->mu);
    snprintf(out->rule, sizeof out->rule, "%s", r->name);
    out->priority = r->priority;
    out->rate = (int64_t)r->g.rate;
    out->burst = (int64_t)r->g.burst;
    out->max_concurrent = r->max_concurrent;
    out->queue = r->queue_cap;
    out->max_wait_ms = r->max_wait_ms;
    if (r->addr) {
        out->per_addr_rate = (int64_t)r->addr->g.rate;
        out->per_addr_burst = (int64_t)r->addr->g.burst;
        out->addr_tracked = flow_addr_tracked(r->addr, r->now);
        out->addr_evicted = r->addr->evicted;
    }
    out->offered = r->offered;
    out->admitted = r->admitted;
    for (int i = 0; i < FLOW_NREASONS; i++) {
        out->refused[i] = r->refused[i];
        out->refused_total += r->refused[i];
    }
    out->in_flight = r->in_flight;
    out->queued = r->qlen;
    out->cluster = r->ls.cluster;
    out->lease_pool = r->ls.pool;
    out->lease_fallback = r->ls.cluster && atomic_load(&f->fallback);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

void flow_global_stats(struct flow *f, struct flow_global_stats *out)
{
    out->connections = atomic_load(&f->conns);
    out->in_flight = atomic_load(&f->run);
    out->queued = atomic_load(&f->queued);
    out->caps.max_connections = atomic_load(&f->cap_conns);
    out->caps.max_in_flight = atomic_load(&f->cap_run);
    out->caps.max_queued = atomic_load(&f->cap_queued);
    out->nrules = atomic_load(&f->nrules);
}

int flow_reason_status(enum flow_reason r)
{
    switch (verdict_of(r)) {
    case FLOW_BUSY:
        return r == FLOW_R_NONE ? 0 : 429;
    case FLOW_OVERLOADED:
        return 503;
    default:
        return 0;
    }
}

const char *flow_reason_code(enum flow_reason r)
{
    int status = flow_reason_status(r);
    return status == 429 ? "busy" : status == 503 ? "overloaded" : "";
}

const char *flow_reason_name(enum flow_reason r)
{
    return (unsigned)r < FLOW_NREASONS ? REASON_NAMES[r] : "unknown";
}
