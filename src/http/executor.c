#include "http/executor.h"

#include "foundation/thread.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
    executor_fn fn;
    void *arg;
};

/* One FIFO of jobs waiting to start. */
struct lane {
    struct job *ring; /* capacity slots, a FIFO from head */
    size_t head, queued;
};

enum { LANE_PRIORITY = 0, LANE_NORMAL = 1, NLANES = 2 };

struct executor {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t prio; /* a priority job was queued, or stopping: the reserved thread */
    pthread_cond_t idle; /* nothing queued and nothing running */
    struct lane lanes[NLANES];
    size_t capacity;
    size_t running;
    bool draining; /* submit refused */
    bool stopping; /* threads exit once their lanes are empty */
    int nthreads;
    pthread_t *threads;
};

static size_t queued(const struct executor *e)
{
    return e->lanes[LANE_PRIORITY].queued + e->lanes[LANE_NORMAL].queued;
}

static void take(struct executor *e, struct lane *l, struct job *out)
{
    *out = l->ring[l->head];
    l->head = (l->head + 1) % e->capacity;
    l->queued--;
    e->running++;
}

/* Under mu: the oldest priority job, else (unless reserved) the oldest
 * normal one; false once stopping with nothing this thread may take. */
static bool next_job(struct executor *e, bool reserved, struct job *out)
{
    for (;;) {
        if (e->lanes[LANE_PRIORITY].queued) {
            take(e, &e->lanes[LANE_PRIORITY], out);
            return true;
        }
        if (!reserved && e->lanes[LANE_NORMAL].queued) {
            take(e, &e->lanes[LANE_NORMAL], out);
            return true;
        }
        if (e->stopping)
            return false;
        pthread_cond_wait(reserved ? &e->prio : &e->work, &e->mu);
    }
}

static void worker_loop(struct executor *e, bool reserved)
{
    struct job j;
    pthread_mutex_lock(&e->mu);
    while (next_job(e, reserved, &j)) {
        pthread_mutex_unlock(&e->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&e->mu);
        e->running--;
        if (!queued(e) && !e->running)
            pthread_cond_broadcast(&e->idle);
    }
    pthread_mutex_unlock(&e->mu);
}

static void *worker_main(void *arg)
{
    worker_loop(arg, false);
    return NULL;
}

/* Takes priority jobs only, so a flood of normal jobs (or normal jobs
 * blocked on a slow downstream system) can never hold every thread. */
static void *reserved_main(void *arg)
{
    worker_loop(arg, true);
    return NULL;
}

/* Stops and joins the first n threads; frees everything. */
static void teardown(struct executor *e, int n)
{
    pthread_mutex_lock(&e->mu);
    e->stopping = true;
    pthread_cond_broadcast(&e->work);
    pthread_cond_broadcast(&e->prio);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < n; i++)
        pthread_join(e->threads[i], NULL);
    pthread_cond_destroy(&e->idle);
    pthread_cond_destroy(&e->prio);
    pthread_cond_destroy(&e->work);
    pthread_mutex_destroy(&e->mu);
    free(e->threads);
    for (int i = 0; i < NLANES; i++)
        free(e->lanes[i].ring);
    free(e);
}

static int init_sync(struct executor *e)
{
    if (pthread_mutex_init(&e->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&e->work, NULL) != 0)
        goto no_work;
    if (pthread_cond_init(&e->prio, NULL) != 0)
        goto no_prio;
    if (pthread_cond_init(&e->idle, NULL) != 0)
        goto no_idle;
    return 0;
no_idle:
    pthread_cond_destroy(&e->prio);
no_prio:
    pthread_cond_destroy(&e->work);
no_work:
    pthread_mutex_destroy(&e->mu);
    return -1;
}

int executor_start(int nthreads, size_t capacity, struct executor **out)
{
    *out = NULL;
    if (nthreads < 1 || capacity < 1)
        return -1;
    struct executor *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->capacity = capacity;
    for (int i = 0; i < NLANES; i++)
        e->lanes[i].ring = calloc(capacity, sizeof(struct job));
    e->threads = calloc((size_t)nthreads, sizeof *e->threads);
    if (!e->lanes[0].ring || !e->lanes[1].ring || !e->threads || init_sync(e) != 0) {
        free(e->threads);
        for (int i = 0; i < NLANES; i++)
            free(e->lanes[i].ring);
        free(e);
        return -1;
    }
    /* With one thread there is nothing to reserve: it serves both lanes. */
    int started = 0;
    while (started < nthreads &&
           thread_start(&e->threads[started], NULL,
                        started == 0 && nthreads > 1 ? reserved_main : worker_main, e,
                        "zhanye-exec") == 0)
        started++;
    e->nthreads = started;
    if (started < nthreads) {
        teardown(e, started);
        return -1;
    }
    *out = e;
    return 0;
}

static int submit(struct executor *e, int lane, executor_fn fn, void *arg)
{
    int rc = -1;
    struct lane *l = &e->lanes[lane];
    pthread_mutex_lock(&e->mu);
    if (!e->draining && l->queued < e->capacity) {
        l->ring[(l->head + l->queued) % e->capacity] = (struct job){fn, arg};
        l->queued++;
        pthread_cond_signal(&e->work);
        if (lane == LANE_PRIORITY)
            pthread_cond_signal(&e->prio);
        rc = 0;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int executor_submit(struct executor *e, executor_fn fn, void *arg)
{
    return submit(e, LANE_NORMAL, fn, arg);
}

int executor_submit_priority(struct executor *e, executor_fn fn, void *arg)
{
    return submit(e, LANE_PRIORITY, fn, arg);
}

size_t executor_pending(struct executor *e)
{
    pthread_mutex_lock(&e->mu);
    size_t n = queued(e) + e->running;
    pthread_mutex_unlock(&e->mu);
    return n;
}

void executor_drain(struct executor *e)
{
    pthread_mutex_lock(&e->mu);
    e->draining = true;
    while (queued(e) || e->running)
        pthread_cond_wait(&e->idle, &e->mu);
    pthread_mutex_unlock(&e->mu);
}

void executor_stop(struct executor *e)
{
    if (!e)
        return;
    executor_drain(e);
    teardown(e, e->nthreads);
}
