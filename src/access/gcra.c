#include "access/gcra.h"

#include <math.h>

/* Sets T and tau for rate and burst; leaves TAT alone. */
static int set_params(struct gcra *g, uint64_t rate, uint64_t burst)
{
    if (rate == 0 || rate > GCRA_MAX_RATE || burst == 0 || burst > GCRA_MAX_BURST)
        return -1;
    g->rate = rate;
    g->burst = burst;
    g->t_ns = GCRA_NS_PER_S / rate;
    g->t_rem = GCRA_NS_PER_S % rate;
    /* (burst-1) * T; both products stay below 1e18 within the maxima. */
    uint64_t rems = (burst - 1) * g->t_rem;
    g->tau_ns = (burst - 1) * g->t_ns + rems / rate;
    g->tau_rem = rems % rate;
    return 0;
}

int gcra_init(struct gcra *g, uint64_t rate, uint64_t burst)
{
    struct gcra n = {0};
    if (set_params(&n, rate, burst))
        return -1;
    *g = n;
    return 0;
}

uint64_t gcra_ready_at(const struct gcra *g, uint64_t now, uint64_t ahead)
{
    if (ahead > GCRA_MAX_BURST) /* keeps the products below 2^64 */
        return UINT64_MAX;
    uint64_t ns = g->tat_ns, rem = g->tat_rem;
    if (ns < now) {
        ns = now;
        rem = 0;
    }
    /* x = base + ahead * T */
    uint64_t rems = rem + ahead * g->t_rem;
    ns += ahead * g->t_ns + rems / g->rate;
    rem = rems % g->rate;
    /* x - tau, rounded up to a whole nanosecond; 0 if x <= tau. */
    if (ns < g->tau_ns || (ns == g->tau_ns && rem <= g->tau_rem))
        return 0;
    if (rem >= g->tau_rem)
        return ns - g->tau_ns + (rem > g->tau_rem ? 1 : 0);
    /* Borrowing one ns leaves a non-zero fraction, which rounds it back up. */
    return ns - g->tau_ns;
}

int gcra_retune(struct gcra *g, uint64_t rate, uint64_t burst, uint64_t now)
{
    if (rate == g->rate && burst == g->burst)
        return 0;
    struct gcra n = *g;
    if (set_params(&n, rate, burst))
        return -1;
    /* The fraction is in units of 1/rate: it cannot survive a rate change.
     * Carry the debt as tokens owed (double is ample: reloads are rare and
     * the debt is at most burst tokens). */
    double owed = 0;
    if (g->tat_ns > now)
        owed = (double)(g->tat_ns - now) * (double)g->rate / (double)GCRA_NS_PER_S;
    if (owed > (double)burst)
        owed = (double)burst;
    if (owed > 0) {
        n.tat_ns = now + (uint64_t)ceil(owed * (double)GCRA_NS_PER_S / (double)rate);
        n.tat_rem = 0;
    } else {
        n.tat_ns = g->tat_ns < now ? g->tat_ns : now;
        n.tat_rem = 0;
    }
    *g = n;
    return 0;
}
