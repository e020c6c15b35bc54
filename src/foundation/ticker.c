/* ticker.c — a thread running rounds every period; see ticker.h. */
#include "foundation/ticker.h"

#include "foundation/thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct ticker {
    pthread_t thread;
    pthread_mutex_t mu; /* with cv: the wait between rounds */
    pthread_cond_t cv;
    atomic_bool stop; /* set under mu, so a waiting thread cannot miss it */
    int period_ms;
    ticker_fn fn;
    void *arg;
};

static void *run(void *p)
{
    struct ticker *t = p;
    while (!atomic_load(&t->stop)) {
        t->fn(t->arg, t);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (int64_t)t->period_ms * 1000000;
        ts.tv_sec += (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_mutex_lock(&t->mu);
        while (!atomic_load(&t->stop) && pthread_cond_timedwait(&t->cv, &t->mu, &ts) == 0)
            ;
        pthread_mutex_unlock(&t->mu);
    }
    return NULL;
}

int ticker_start(const char *name, int period_ms, ticker_fn fn, void *arg, struct ticker **out)
{
    *out = NULL;
    if (period_ms <= 0 || !fn)
        return -1;
    struct ticker *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    t->period_ms = period_ms;
    t->fn = fn;
    t->arg = arg;
    atomic_init(&t->stop, false);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (thread_start(&t->thread, NULL, run, t, name) != 0) {
        pthread_cond_destroy(&t->cv);
        pthread_mutex_destroy(&t->mu);
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

bool ticker_stopping(const struct ticker *t)
{
    return atomic_load(&t->stop);
}

void ticker_stop(struct ticker *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->stop, true);
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}
