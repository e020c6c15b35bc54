#include "egress/breaker.h"

#include <string.h>

enum { OUT_FAILED = 1, OUT_SLOW = 2 };

static void reset_window(struct breaker *b)
{
    b->head = b->count = b->failed = b->slow = 0;
    memset(b->ring, 0, sizeof b->ring);
}

static void move_to(struct breaker *b, enum breaker_state to, int64_t now_ms)
{
    enum breaker_state from = b->state;
    b->state = to;
    b->gen++;
    b->probes_issued = b->probes_ok = 0;
    if (to == BREAKER_OPEN)
        b->opened_at_ms = now_ms;
    if (to != BREAKER_HALF_OPEN)
        reset_window(b);
    if (b->on_change)
        b->on_change(b->user, from, to);
}

static bool cfg_valid(const struct breaker_config *c)
{
    return c->window >= 1 && c->window <= BREAKER_MAX_WINDOW && c->min_calls >= 1 &&
           c->min_calls <= c->window && c->failure_rate_pct >= 1 && c->failure_rate_pct <= 100 &&
           c->slow_rate_pct >= 1 && c->slow_rate_pct <= 100 && c->slow_ms >= 1 && c->open_ms >= 1 &&
           c->half_open_calls >= 1;
}

int breaker_init(struct breaker *b, const struct breaker_config *cfg, breaker_change_fn on_change,
                 void *user)
{
    memset(b, 0, sizeof *b);
    if (!cfg_valid(cfg))
        return -1;
    b->cfg = *cfg;
    b->state = BREAKER_CLOSED;
    b->on_change = on_change;
    b->user = user;
    return 0;
}

enum breaker_state breaker_state(struct breaker *b, int64_t now_ms)
{
    if (b->state == BREAKER_OPEN && now_ms - b->opened_at_ms >= b->cfg.open_ms)
        move_to(b, BREAKER_HALF_OPEN, now_ms);
    return b->state;
}

int breaker_acquire(struct breaker *b, int64_t now_ms, struct breaker_permit *p)
{
    int rc = -1;
    switch (breaker_state(b, now_ms)) {
    case BREAKER_CLOSED:
        *p = (struct breaker_permit){.gen = b->gen, .probe = false};
        rc = 0;
        break;
    case BREAKER_HALF_OPEN:
        if (b->probes_issued < b->cfg.half_open_calls) {
            b->probes_issued++;
            *p = (struct breaker_permit){.gen = b->gen, .probe = true};
            rc = 0;
        }
        break;
    case BREAKER_OPEN:
        break;
    }
    return rc;
}

void breaker_cancel(struct breaker *b, const struct breaker_permit *p)
{
    if (p->probe && p->gen == b->gen && b->state == BREAKER_HALF_OPEN && b->probes_issued > 0)
        b->probes_issued--;
}

/* Adds one outcome to the ring, evicting the oldest when full. */
static void ring_push(struct breaker *b, unsigned char out)
{
    int w = b->cfg.window;
    if (b->count == w) {
        unsigned char old = b->ring[b->head];
        b->failed -= (old & OUT_FAILED) != 0;
        b->slow -= (old & OUT_SLOW) != 0;
    } else {
        b->count++;
    }
    b->ring[b->head] = out;
    b->head = (b->head + 1) % w;
    b->failed += (out & OUT_FAILED) != 0;
    b->slow += (out & OUT_SLOW) != 0;
}

static bool rates_exceeded(const struct breaker *b)
{
    long n = b->count;
    return n >= b->cfg.min_calls && ((long)b->failed * 100 >= (long)b->cfg.failure_rate_pct * n ||
                                     (long)b->slow * 100 >= (long)b->cfg.slow_rate_pct * n);
}

void breaker_record(struct breaker *b, int64_t now_ms, const struct breaker_permit *p, bool failed,
                    int64_t duration_ms)
{
    if (p->gen != b->gen)
        return; /* issued before the last transition: a straggler */
    bool slow = duration_ms >= b->cfg.slow_ms;
    if (b->state == BREAKER_CLOSED) {
        ring_push(b, (unsigned char)((failed ? OUT_FAILED : 0) | (slow ? OUT_SLOW : 0)));
        if (rates_exceeded(b))
            move_to(b, BREAKER_OPEN, now_ms);
    } else if (b->state == BREAKER_HALF_OPEN && p->probe) {
        if (failed || slow)
            move_to(b, BREAKER_OPEN, now_ms);
        else if (++b->probes_ok >= b->cfg.half_open_calls)
            move_to(b, BREAKER_CLOSED, now_ms);
    }
}

const char *breaker_state_name(enum breaker_state s)
{
    switch (s) {
    case BREAKER_CLOSED:
        return "closed";
    case BREAKER_OPEN:
        return "open";
    case BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}
