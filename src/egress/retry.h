/* retry — the retry budget and backoff of one connector.
 *
 * Retries are only for calls declared idempotent (routes.conf) and only
 * while the budget allows: a token bucket in thousandths of a retry. Every
 * first attempt deposits budget_pct/100 of a token; every retry withdraws
 * one whole token. The bucket starts full and holds
 * max(1, budget_pct * window / 100) tokens, so over any run of `window`
 * calls at most budget_pct % of them (plus the initial allowance) are
 * retried, and a system that fails everything sees no retry storm.
 * Pure data; the caller serialises access. */
#ifndef ZHANYE_EGRESS_RETRY_H
#define ZHANYE_EGRESS_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct retry_budget {
    int64_t milli;     /* tokens held, in 1/1000 */
    int64_t cap_milli; /* bucket size */
    int64_t deposit_milli;
};

void retry_budget_init(struct retry_budget *rb, int budget_pct, int window);
/* For each first attempt. */
void retry_budget_deposit(struct retry_budget *rb);
/* True (and one token taken) when a retry may be made. */
bool retry_budget_withdraw(struct retry_budget *rb);

/* Pause before retry number n (1-based): 10 ms doubling, at most 200 ms,
 * plus jitter of up to a quarter (from seed). */
int64_t retry_backoff_ms(int n, uint32_t seed);

#endif
