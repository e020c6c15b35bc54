#include "egress/retry.h"

void retry_budget_init(struct retry_budget *rb, int budget_pct, int window)
{
    int64_t cap = (int64_t)budget_pct * window * 10; /* pct/100 * window * 1000 */
    rb->cap_milli = budget_pct > 0 && cap < 1000 ? 1000 : cap;
    rb->milli = rb->cap_milli;
    rb->deposit_milli = (int64_t)budget_pct * 10;
}

void retry_budget_deposit(struct retry_budget *rb)
{
    rb->milli += rb->deposit_milli;
    if (rb->milli > rb->cap_milli)
        rb->milli = rb->cap_milli;
}

bool retry_budget_withdraw(struct retry_budget *rb)
{
    if (rb->milli < 1000)
        return false;
    rb->milli -= 1000;
    return true;
}

int64_t retry_backoff_ms(int n, uint32_t seed)
{
    int64_t base = 10;
    for (int i = 1; i < n && base < 200; i++)
        base *= 2;
    if (base > 200)
        base = 200;
    return base + (int64_t)(seed % (uint32_t)(base / 4 + 1));
}
