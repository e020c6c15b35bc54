#include "http/executor.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
    executor_fn fn;
    void *arg;
};

struct executor {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t idle; /* nothing queued and nothing running */
    struct job *ring;    /* capacity slots, a FIFO from head */
    size_t capacity, head, queued;
    size_t running;
    bool draining; /* submit refused */
    bool stopping; /* threads exit once the queue is empty */
    int nthreads;
    pthread_t *threads;
};

/* Under mu: the oldest job, or false once stopping with nothing queued. */
static bool next_job(struct executor *e, struct job *out)
{
    while (!e->queued && !e->stopping)
        pthread_cond_wait(&e->work, &e->mu);
    if (!e->queued)
        return false;
    *out = e->ring[e->head];
    e->head = (e->head + 1) % e->capacity;
    e->queued--;
    e->running++;
    return true;
}

static void *worker_main(void *arg)
{
    struct executor *e = arg;
    struct job j;
    pthread_mutex_lock(&e->mu);
    while (next_job(e, &j)) {
        pthread_mutex_unlock(&e->mu);
        j.fn(j.arg);
        pthread_mutex_lock(&e->mu);
        e->running--;
        if (!e->queued && !e->running)
            pthread_cond_broadcast(&e->idle);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* Stops and joins the first n threads; frees everything. */
static void teardown(struct executor *e, int n)
{
    pthread_mutex_lock(&e->mu);
    e->stopping = true;
    pthread_cond_broadcast(&e->work);
    pthread_mutex_unlock(&e->mu);
    for (int i = 0; i < n; i++)
        pthread_join(e->threads[i], NULL);
    pthread_cond_destroy(&e->idle);
    pthread_cond_destroy(&e->work);
    pthread_mutex_destroy(&e->mu);
    free(e->threads);
    free(e->ring);
    free(e);
}

static int init_sync(struct executor *e)
{
    if (pthread_mutex_init(&e->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&e->work, NULL) != 0) {
        pthread_mutex_destroy(&e->mu);
        return -1;
    }
    if (pthread_cond_init(&e->idle, NULL) != 0) {
        pthread_cond_destroy(&e->work);
        pthread_mutex_destroy(&e->mu);
        return -1;
    }
    return 0;
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
    e->ring = calloc(capacity, sizeof *e->ring);
    e->threads = calloc((size_t)nthreads, sizeof *e->threads);
    if (!e->ring || !e->threads || init_sync(e) != 0) {
        free(e->threads);
        free(e->ring);
        free(e);
        return -1;
    }
    int started = 0;
    while (started < nthreads && pthread_create(&e->threads[started], NULL, worker_main, e) == 0)
        started++;
    e->nthreads = started;
    if (started < nthreads) {
        teardown(e, started);
        return -1;
    }
    *out = e;
    return 0;
}

int executor_submit(struct executor *e, executor_fn fn, void *arg)
{
    int rc = -1;
    pthread_mutex_lock(&e->mu);
    if (!e->draining && e->queued < e->capacity) {
        e->ring[(e->head + e->queued) % e->capacity] = (struct job){fn, arg};
        e->queued++;
        pthread_cond_signal(&e->work);
        rc = 0;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

size_t executor_pending(struct executor *e)
{
    pthread_mutex_lock(&e->mu);
    size_t n = e->queued + e->running;
    pthread_mutex_unlock(&e->mu);
    return n;
}

void executor_drain(struct executor *e)
{
    pthread_mutex_lock(&e->mu);
    e->draining = true;
    while (e->queued || e->running)
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
