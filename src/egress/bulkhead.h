/* bulkhead — caps the calls in flight to one downstream system.
 *
 * At most max_concurrent callers hold a slot; up to queue more wait in FIFO
 * order (a freed slot is handed straight to the oldest waiter, so a late
 * arrival can never overtake it). A caller that finds the queue full is
 * refused at once (BULKHEAD_FULL); a waiter that has no slot by its
 * deadline leaves the queue (BULKHEAD_TIMEOUT). Deadlines are
 * clock_mono_ns() values. Thread-safe. */
#ifndef ZHANYE_EGRESS_BULKHEAD_H
#define ZHANYE_EGRESS_BULKHEAD_H

#include <pthread.h>
#include <stdint.h>

enum bulkhead_rc { BULKHEAD_OK = 0, BULKHEAD_FULL = 1, BULKHEAD_TIMEOUT = 2 };

struct bulkhead_waiter;

struct bulkhead {
    pthread_mutex_t mu;
    int max, queue_cap;
    int in_flight, waiting;
    struct bulkhead_waiter *head, *tail;
};

/* 0, or -1 when max < 1 or queue < 0. */
int bulkhead_init(struct bulkhead *bh, int max_concurrent, int queue);
/* Nobody may be inside or waiting. */
void bulkhead_destroy(struct bulkhead *bh);
/* Takes a slot, waiting until deadline_ns at most. */
enum bulkhead_rc bulkhead_enter(struct bulkhead *bh, uint64_t deadline_ns);
/* Gives the slot back (to the oldest waiter if there is one). */
void bulkhead_leave(struct bulkhead *bh);
/* New limits under traffic (0, or -1 when max < 1 or queue < 0 and
 * nothing changed). A larger max hands the freed slots to the oldest
 * waiters at once; a smaller one lets the calls inside finish and grants
 * no slot until in_flight is below it; a smaller queue keeps every current
 * waiter and refuses arrivals (FULL) until it has drained below it. */
int bulkhead_set_limits(struct bulkhead *bh, int max_concurrent, int queue);
int bulkhead_in_flight(struct bulkhead *bh);
int bulkhead_waiting(struct bulkhead *bh);

#endif
