/* executor: every job runs exactly once, in FIFO order on one thread, on
 * every thread at once, the queue is bounded, drain waits and refuses. */
#include "http/executor.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* A gate jobs wait on until the test opens it; counts who is waiting. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    int waiting;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = false;
    g->waiting = 0;
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

static void gate_job(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->waiting++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

/* Waits (up to 5 s) until n jobs wait at the gate; true if they do. */
static bool gate_await(struct gate *g, int n)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    pthread_mutex_lock(&g->mu);
    int rc = 0;
    while (g->waiting < n && rc == 0)
        rc = pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    bool ok = g->waiting >= n;
    pthread_mutex_unlock(&g->mu);
    return ok;
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void count_job(void *arg)
{
    atomic_fetch_add((_Atomic int *)arg, 1);
}

/* --- order ----------------------------------------------------------------- */

#define NORDER 64

struct order {
    int seen[NORDER];
    int n; /* written by the one pool thread only */
};

struct order_job {
    struct order *o;
    int i;
};

static void order_job(void *arg)
{
    struct order_job *j = arg;
    j->o->seen[j->o->n++] = j->i;
}

static void one_thread_runs_jobs_in_submission_order(void **state)
{
    struct executor *e;
    struct gate g;
    struct order o = {.n = 0};
    struct order_job jobs[NORDER];
    gate_init(&g);
    assert_int_equal(executor_start(1, NORDER, &e), 0);
    assert_int_equal(executor_submit(e, gate_job, &g), 0);
    assert_true(gate_await(&g, 1)); /* all that follow queue up behind it */
    for (int i = 0; i < NORDER; i++) {
        jobs[i] = (struct order_job){&o, i};
        assert_int_equal(executor_submit(e, order_job, &jobs[i]), 0);
    }
    gate_open(&g);
    executor_drain(e);
    assert_int_equal(o.n, NORDER);
    for (int i = 0; i < NORDER; i++)
        assert_int_equal(o.seen[i], i);
    executor_stop(e);
    gate_destroy(&g);
}

/* --- bounds and drain -------------------------------------------------------- */

static void a_full_queue_is_refused_not_waited_on(void **state)
{
    struct executor *e;
    struct gate g;
    _Atomic int ran = 0;
    gate_init(&g);
    assert_int_equal(executor_start(1, 4, &e), 0);
    assert_int_equal(executor_submit(e, gate_job, &g), 0);
    assert_true(gate_await(&g, 1)); /* running, so out of the queue */
    for (int i = 0; i < 4; i++)
        assert_int_equal(executor_submit(e, count_job, &ran), 0);
    assert_int_equal(executor_submit(e, count_job, &ran), -1);
    assert_int_equal(executor_pending(e), 5);
    gate_open(&g);
    executor_drain(e);
    assert_int_equal(atomic_load(&ran), 4);
    assert_int_equal(executor_pending(e), 0);
    executor_stop(e);
    gate_destroy(&g);
}

static void slow_job(void *arg)
{
    usleep(30000);
    atomic_fetch_add((_Atomic int *)arg, 1);
}

static void drain_waits_for_every_job_then_refuses(void **state)
{
    struct executor *e;
    _Atomic int ran = 0;
    assert_int_equal(executor_start(2, 16, &e), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(executor_submit(e, slow_job, &ran), 0);
    executor_drain(e);
    assert_int_equal(atomic_load(&ran), 6);
    assert_int_equal(executor_submit(e, count_job, &ran), -1);
    executor_drain(e); /* idempotent */
    executor_stop(e);
    assert_int_equal(atomic_load(&ran), 6);
    executor_stop(NULL);
}

/* --- threads ------------------------------------------------------------------ */

static void every_thread_runs_at_once(void **state)
{
    struct executor *e;
    struct gate g;
    gate_init(&g);
    assert_int_equal(executor_start(4, 8, &e), 0);
    /* Three general threads take the normal jobs, the reserved one the
     * priority job: four blocked jobs at once, none waiting for another.
     * (The priority job goes last: a free general thread would take it.) */
    for (int i = 0; i < 3; i++)
        assert_int_equal(executor_submit(e, gate_job, &g), 0);
    assert_true(gate_await(&g, 3));
    assert_int_equal(executor_submit_priority(e, gate_job, &g), 0);
    assert_true(gate_await(&g, 4));
    gate_open(&g);
    executor_stop(e);
    gate_destroy(&g);
}

/* Normal jobs blocked on every general thread, more queued behind them: a
 * priority job still runs at once, on the reserved thread, which never
 * takes a normal job. */
static void a_reserved_thread_serves_priority_jobs(void **state)
{
    struct executor *e;
    struct gate g;
    _Atomic int ran = 0;
    gate_init(&g);
    assert_int_equal(executor_start(3, 16, &e), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(executor_submit(e, gate_job, &g), 0);
    assert_true(gate_await(&g, 2));
    assert_int_equal(executor_submit_priority(e, count_job, &ran), 0);
    for (int i = 0; i < 500 && atomic_load(&ran) == 0; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&ran), 1);
    pthread_mutex_lock(&g.mu);
    int waiting = g.waiting;
    pthread_mutex_unlock(&g.mu);
    assert_int_equal(waiting, 2);
    gate_open(&g);
    executor_stop(e);
    gate_destroy(&g);
}

#define SUBMITTERS 4
#define PER_SUBMITTER 5000

struct submitter {
    struct executor *e;
    _Atomic int *ran;
    int refused;
    pthread_t th;
};

/* Submits PER_SUBMITTER jobs, sleeping briefly whenever the queue is full. */
static void *submit_main(void *arg)
{
    struct submitter *s = arg;
    for (int i = 0; i < PER_SUBMITTER; i++)
        while (executor_submit(s->e, count_job, s->ran) != 0) {
            s->refused++;
            usleep(100);
        }
    return NULL;
}

static void many_submitters_every_job_runs_once(void **state)
{
    struct executor *e;
    _Atomic int ran = 0;
    struct submitter s[SUBMITTERS];
    assert_int_equal(executor_start(3, 32, &e), 0);
    for (int i = 0; i < SUBMITTERS; i++) {
        s[i] = (struct submitter){.e = e, .ran = &ran};
        assert_int_equal(pthread_create(&s[i].th, NULL, submit_main, &s[i]), 0);
    }
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(s[i].th, NULL);
    executor_stop(e);
    assert_int_equal(atomic_load(&ran), SUBMITTERS * PER_SUBMITTER);
}

static void bad_arguments_start_nothing(void **state)
{
    struct executor *e = NULL;
    assert_int_equal(executor_start(0, 4, &e), -1);
    assert_null(e);
    assert_int_equal(executor_start(2, 0, &e), -1);
    assert_null(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_thread_runs_jobs_in_submission_order),
        cmocka_unit_test(a_full_queue_is_refused_not_waited_on),
        cmocka_unit_test(drain_waits_for_every_job_then_refuses),
        cmocka_unit_test(every_thread_runs_at_once),
        cmocka_unit_test(a_reserved_thread_serves_priority_jobs),
        cmocka_unit_test(many_submitters_every_job_runs_once),
        cmocka_unit_test(bad_arguments_start_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
