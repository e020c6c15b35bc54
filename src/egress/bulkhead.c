#include "egress/bulkhead.h"

#include "foundation/clock.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

/* Lives on the waiting caller's stack. */
struct bulkhead_waiter {
    pthread_cond_t cv;
    bool granted;
    struct bulkhead_waiter *prev, *next;
};

int bulkhead_init(struct bulkhead *bh, int max_concurrent, int queue)
{
    memset(bh, 0, sizeof *bh);
    if (max_concurrent < 1 || queue < 0)
        return -1;
    bh->max = max_concurrent;
    bh->queue_cap = queue;
    return pthread_mutex_init(&bh->mu, NULL) == 0 ? 0 : -1;
}

void bulkhead_destroy(struct bulkhead *bh)
{
    pthread_mutex_destroy(&bh->mu);
}

static void unlink_waiter(struct bulkhead *bh, struct bulkhead_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        bh->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        bh->tail = w->prev;
    bh->waiting--;
}

static void append_waiter(struct bulkhead *bh, struct bulkhead_waiter *w)
{
    w->prev = bh->tail;
    w->next = NULL;
    if (bh->tail)
        bh->tail->next = w;
    else
        bh->head = w;
    bh->tail = w;
    bh->waiting++;
}

/* Waits in the queue; called and returns with mu held. */
static enum bulkhead_rc wait_turn(struct bulkhead *bh, uint64_t deadline_ns)
{
    struct bulkhead_waiter w = {.granted = false};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cv, &ca);
    pthread_condattr_destroy(&ca);
    append_waiter(bh, &w);
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                          .tv_nsec = (long)(deadline_ns % 1000000000u)};
    int rc = 0;
    while (!w.granted && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&w.cv, &bh->mu, &ts);
    /* A slot handed over at the last instant is taken rather than lost. */
    if (!w.granted)
        unlink_waiter(bh, &w);
    pthread_cond_destroy(&w.cv);
    return w.granted ? BULKHEAD_OK : BULKHEAD_TIMEOUT;
}

enum bulkhead_rc bulkhead_enter(struct bulkhead *bh, uint64_t deadline_ns)
{
    enum bulkhead_rc rc;
    pthread_mutex_lock(&bh->mu);
    if (bh->in_flight < bh->max && !bh->head) {
        bh->in_flight++;
        rc = BULKHEAD_OK;
    } else if (bh->waiting >= bh->queue_cap) {
        rc = BULKHEAD_FULL;
    } else if (clock_mono_ns() >= deadline_ns) {
        rc = BULKHEAD_TIMEOUT;
    } else {
        rc = wait_turn(bh, deadline_ns);
    }
    pthread_mutex_unlock(&bh->mu);
    return rc;
}

void bulkhead_leave(struct bulkhead *bh)
{
    pthread_mutex_lock(&bh->mu);
    struct bulkhead_waiter *w = bh->head;
    if (w && bh->in_flight <= bh->max) {
        /* The slot passes to the oldest waiter; in_flight is unchanged. */
        unlink_waiter(bh, w);
        w->granted = true;
        pthread_cond_signal(&w->cv);
    } else if (bh->in_flight > 0) {
        bh->in_flight--;
    }
    pthread_mutex_unlock(&bh->mu);
}

int bulkhead_set_limits(struct bulkhead *bh, int max_concurrent, int queue)
{
    if (max_concurrent < 1 || queue < 0)
        return -1;
    pthread_mutex_lock(&bh->mu);
    bh->max = max_concurrent;
    bh->queue_cap = queue;
    while (bh->head && bh->in_flight < bh->max) {
        struct bulkhead_waiter *w = bh->head;
        unlink_waiter(bh, w);
        bh->in_flight++;
        w->granted = true;
        pthread_cond_signal(&w->cv);
    }
    pthread_mutex_unlock(&bh->mu);
    return 0;
}

int bulkhead_in_flight(struct bulkhead *bh)
{
    pthread_mutex_lock(&bh->mu);
    int n = bh->in_flight;
    pthread_mutex_unlock(&bh->mu);
    return n;
}

int bulkhead_waiting(struct bulkhead *bh)
{
    pthread_mutex_lock(&bh->mu);
    int n = bh->waiting;
    pthread_mutex_unlock(&bh->mu);
    return n;
}
