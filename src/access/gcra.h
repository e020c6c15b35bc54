/* gcra — the Generic Cell Rate Algorithm (the virtual-scheduling form of a
 * token bucket) on integer nanoseconds, with an exact emission interval.
 *
 * A bucket of `rate` tokens per second holding at most `burst` is kept as one
 * time, the theoretical arrival time (TAT). A request conforms at time t when
 * t >= TAT - tau, where T = 1e9/rate ns is the emission interval and
 * tau = (burst - 1) * T; taking a token sets TAT = max(TAT, t) + T. Over any
 * interval of length w at most burst + rate * w / 1e9 tokens are taken, with
 * no window edges to game.
 *
 * T is rarely a whole number of nanoseconds (1e9/3, 1e9/7e6), and rounding it
 * would drift the long-run rate (0.6% at 7e6/s). So every instant here is a
 * pair (ns, rem) meaning ns + rem/rate nanoseconds, 0 <= rem < rate: the
 * arithmetic is exact, uses no floating point and no division on the
 * conformance path.
 *
 * Not thread-safe: callers hold their own lock. Times are uint64 nanoseconds
 * of a monotonic clock; callers must not pass a time earlier than one already
 * passed (the flow module clamps). */
#ifndef ZHANYE_ACCESS_GCRA_H
#define ZHANYE_ACCESS_GCRA_H

#include <stdbool.h>
#include <stdint.h>

#define GCRA_NS_PER_S UINT64_C(1000000000)
#define GCRA_MAX_RATE UINT64_C(1000000000) /* T >= 1 ns */
#define GCRA_MAX_BURST UINT64_C(1000000000)

struct gcra {
    uint64_t rate, burst;
    uint64_t t_ns, t_rem;     /* emission interval T */
    uint64_t tau_ns, tau_rem; /* tolerance (burst - 1) * T */
    uint64_t tat_ns, tat_rem; /* theoretical arrival time; 0 = bucket full */
};

/* A full bucket. 0, or -1 if rate or burst is 0 or above the maxima. */
int gcra_init(struct gcra *g, uint64_t rate, uint64_t burst);

/* True if a token can be taken at now. */
static inline bool gcra_conforms(const struct gcra *g, uint64_t now)
{
    /* now + tau >= tat, compared as (ns, rem) pairs. */
    uint64_t lim = now + g->tau_ns;
    return lim > g->tat_ns || (lim == g->tat_ns && g->tau_rem >= g->tat_rem);
}

/* Takes one token at now; the caller has checked gcra_conforms(). */
static inline void gcra_take(struct gcra *g, uint64_t now)
{
    if (g->tat_ns < now) { /* idle long enough: the bucket is full */
        g->tat_ns = now;
        g->tat_rem = 0;
    }
    g->tat_rem += g->t_rem;
    if (g->tat_rem >= g->rate) {
        g->tat_rem -= g->rate;
        g->tat_ns++;
    }
    g->tat_ns += g->t_ns;
}

/* Earliest whole nanosecond at which the (ahead + 1)-th next token conforms,
 * if the `ahead` tokens before it are taken as early as possible from now on.
 * A lower bound: tokens taken later than possible only push it further. */
uint64_t gcra_ready_at(const struct gcra *g, uint64_t now, uint64_t ahead);

/* Changes rate and burst at now, keeping the debt: the tokens owed (TAT ahead
 * of now) are carried over as a count of tokens, capped at the new burst.
 * 0, or -1 (nothing changed) on a bad rate or burst. */
int gcra_retune(struct gcra *g, uint64_t rate, uint64_t burst, uint64_t now);

#endif
