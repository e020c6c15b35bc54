/* breaker — a circuit breaker as a pure state machine on an injected clock.
 *
 * No locks, no clock reads, no allocation: the caller passes "now" (ms on a
 * monotonic clock) and serialises access (egress.c holds the connector's
 * mutex). The exact semantics, also in docs/egress.md:
 *
 * CLOSED   every call is allowed. Each finished call is recorded in a ring of
 *          the last `window` outcomes (failed?, slow? = took >= slow_ms).
 *          After a record, when the ring holds >= min_calls outcomes and
 *          failed*100 >= failure_rate*n or slow*100 >= slow_rate*n, the
 *          breaker opens. So with a system that always fails it opens on
 *          exactly the min_calls-th call.
 * OPEN     every call is refused at once, until open_ms have passed since
 *          opening; the next acquire (or state query) then moves to HALF_OPEN.
 * HALF_OPEN up to half_open_calls probes are let through (the rest are
 *          refused). A probe that fails or is slow reopens the breaker (a new
 *          open_ms starts); when half_open_calls probes have succeeded the
 *          breaker closes with an empty ring.
 *
 * Every transition starts a new generation; an outcome recorded with a
 * permit from an older generation (a call that was in flight across a
 * transition) is ignored, so stragglers neither trip nor close the breaker.
 * A probe permit that is not used (the call never went out) must be given
 * back with breaker_cancel() so the half-open slot is not lost. */
#ifndef ZHANYE_EGRESS_BREAKER_H
#define ZHANYE_EGRESS_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#define BREAKER_MAX_WINDOW 1000

enum breaker_state { BREAKER_CLOSED = 0, BREAKER_OPEN = 1, BREAKER_HALF_OPEN = 2 };

struct breaker_config {
    int window;           /* outcomes remembered, 1..BREAKER_MAX_WINDOW */
    int min_calls;        /* outcomes needed before the rates are judged, 1..window */
    int failure_rate_pct; /* 1..100 */
    int slow_ms;          /* a call this long or longer is slow */
    int slow_rate_pct;    /* 1..100 */
    int open_ms;          /* time refused before probing */
    int half_open_calls;  /* probes that must all succeed to close */
};

/* Called on every transition (under the caller's lock). */
typedef void (*breaker_change_fn)(void *user, enum breaker_state from, enum breaker_state to);

struct breaker {
    struct breaker_config cfg;
    enum breaker_state state;
    uint64_t gen;
    int64_t opened_at_ms;
    unsigned char ring[BREAKER_MAX_WINDOW]; /* bit 0 failed, bit 1 slow */
    int head, count, failed, slow;
    int probes_issued, probes_ok;
    breaker_change_fn on_change;
    void *user;
};

struct breaker_permit {
    uint64_t gen;
    bool probe;
};

/* 0, or -1 when cfg is out of range (then b is unusable). */
int breaker_init(struct breaker *b, const struct breaker_config *cfg, breaker_change_fn on_change,
                 void *user);
/* 0 and a permit when the call may go out; -1 when it is refused. */
int breaker_acquire(struct breaker *b, int64_t now_ms, struct breaker_permit *p);
/* Records a finished call made with permit p. */
void breaker_record(struct breaker *b, int64_t now_ms, const struct breaker_permit *p, bool failed,
                    int64_t duration_ms);
/* Gives back an unused permit (only probes hold a resource). */
void breaker_cancel(struct breaker *b, const struct breaker_permit *p);
/* The state at now (an expired OPEN reads as HALF_OPEN and becomes it). */
enum breaker_state breaker_state(struct breaker *b, int64_t now_ms);
const char *breaker_state_name(enum breaker_state s);

#endif
