/* flow, stress: 8 threads admitting (from 4 client addresses), waiting for
 * hooks, cancelling and finishing on the real clock, with a timer thread
 * ticking and a reload thread swapping rules (B's per-address table comes
 * and goes, LOGIN's is retuned), while the invariants are checked: never more
 * running than max_concurrent per rule or max_in_flight overall, the rate
 * bound, exactly one outcome per request, and books that balance to the
 * request: offered == admitted + refused in flow and in the test's own
 * tallies. */
#include "foundation/clock.h"
#include "test_flow_util.h"

#include <pthread.h>
#include <sched.h>

#define THREADS 8
#define ITERS 20000
#define NTX 5

static const char *const TX[NTX] = {"A", "B", "C", "OTHER", "LOGIN"};
/* The largest max_concurrent each rule has in either config. */
static const int MAXC[NTX] = {3, 2, 8, 4, 2};
#define MAX_IN_FLIGHT 6
#define C_RATE 2000
#define C_BURST 10

static const char *const CONF[2] = {
    "[flow.A]\nrate = 200000\nburst = 100\nmax_concurrent = 3\nqueue = 16\nmax_wait_ms = 5\n"
    "[flow.B]\nrate = 200000\nburst = 100\nmax_concurrent = 2\nqueue = 4\nmax_wait_ms = 2\n"
    "per_addr_rate = 1000\nper_addr_burst = 5\n"
    "[flow.C]\nrate = 2000\nburst = 10\nmax_concurrent = 8\nqueue = 8\nmax_wait_ms = 3\n"
    "[flow.default]\nrate = 200000\nburst = 100\nmax_concurrent = 4\nqueue = 8\n"
    "max_wait_ms = 4\n"
    "[flow.LOGIN]\nrate = 200000\nburst = 100\nmax_concurrent = 2\nqueue = 4\nmax_wait_ms = 5\n",
    "[flow.A]\nrate = 200000\nburst = 100\nmax_concurrent = 2\nqueue = 8\nmax_wait_ms = 3\n"
    "[flow.B]\nrate = 200000\nburst = 100\nmax_concurrent = 1\nqueue = 2\nmax_wait_ms = 4\n"
    "[flow.C]\nrate = 2000\nburst = 10\nmax_concurrent = 4\nqueue = 4\nmax_wait_ms = 2\n"
    "[flow.default]\nrate = 200000\nburst = 100\nmax_concurrent = 2\nqueue = 16\n"
    "max_wait_ms = 5\n"
    "[flow.LOGIN]\nrate = 200000\nburst = 100\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 3\n"
    "per_addr_rate = 2000\nper_addr_burst = 3\n",
};

static struct flow *F;
static _Atomic int running[NTX], grun, failures, stop;
static _Atomic uint64_t offered[NTX], admitted[NTX], refused[NTX], cancelled[NTX];
static _Atomic uint64_t c_first_ns, c_last_ns;

struct sreq {
    struct flow_ticket t;
    _Atomic int state; /* 0 waiting, 1 ready, 2 refused */
    _Atomic int hooks;
};

static void check(int ok, const char *what)
{
    if (!ok && atomic_fetch_add(&failures, 1) < 5)
        fprintf(stderr, "stress invariant broken: %s\n", what);
}

static void s_ready(struct flow_ticket *t, void *cookie)
{
    struct sreq *q = cookie;
    check(atomic_fetch_add(&q->hooks, 1) == 0, "one hook per request");
    atomic_store(&q->state, 1); /* q may be reused right after this */
}

static void s_refused(struct flow_ticket *t, void *cookie)
{
    struct sreq *q = cookie;
    check(atomic_fetch_add(&q->hooks, 1) == 0, "one hook per request");
    check(t->verdict == FLOW_BUSY || t->verdict == FLOW_OVERLOADED, "refusal verdict");
    atomic_store(&q->state, 2);
}

static void s_queued(struct flow_ticket *t, void *cookie)
{
    struct sreq *q = cookie;
    check(atomic_load(&q->state) == 0, "queued before decided");
}

static const struct flow_hooks STRESS_HOOKS = {s_queued, s_ready, s_refused};

/* Holds a slot for a moment while checking the caps. */
static void run_admitted(int k, struct sreq *q)
{
    int r = atomic_fetch_add(&running[k], 1) + 1;
    check(r <= MAXC[k], "max_concurrent");
    bool business = k != 4;
    if (business)
        check(atomic_fetch_add(&grun, 1) + 1 <= MAX_IN_FLIGHT, "max_in_flight");
    if (k == 2) {
        uint64_t now = clock_mono_ns(), zero = 0;
        atomic_compare_exchange_strong(&c_first_ns, &zero, now);
        atomic_store(&c_last_ns, now);
    }
    for (volatile int spin = 0; spin < 200; spin++)
        ;
    if (business)
        atomic_fetch_sub(&grun, 1);
    atomic_fetch_sub(&running[k], 1);
    check(flow_done(&q->t, clock_mono_ns()) == 0, "done on a running request");
    check(flow_done(&q->t, clock_mono_ns()) == -1, "second done is a no-op");
}

/* Waits for a queued request's hook, or withdraws it. 1 admitted, 0 not. */
static int await(int k, struct sreq *q, bool try_cancel)
{
    if (try_cancel && flow_cancel(&q->t, clock_mono_ns()) == 0) {
        atomic_fetch_add(&cancelled[k], 1);
        return 0;
    }
    while (atomic_load(&q->state) == 0)
        sched_yield();
    return atomic_load(&q->state) == 1;
}

static void *worker(void *arg)
{
    uint64_t x = (uintptr_t)arg * 7919 + 1;
    struct sreq q;
    for (int i = 0; i < ITERS; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int k = (int)((x >> 33) % NTX);
        memset(&q, 0, sizeof q);
        q.t.cookie = &q;
        flow_conn_open(F);
        atomic_fetch_add(&offered[k], 1);
        char addr[16];
        snprintf(addr, sizeof addr, "10.0.0.%d", (int)((x >> 40) % 4));
        enum flow_verdict v = flow_admit(F, TX[k], addr, clock_mono_ns(), &q.t);
        int ok = v == FLOW_ADMITTED;
        if (v == FLOW_QUEUED)
            ok = await(k, &q, (x >> 20) % 16 == 0);
        else
            check(atomic_load(&q.hooks) == 0, "no hook for a decided request");
        if (ok) {
            atomic_fetch_add(&admitted[k], 1);
            run_admitted(k, &q);
        } else {
            atomic_fetch_add(&refused[k], 1);
        }
        flow_conn_close(F);
    }
    return NULL;
}

static void *ticker(void *arg)
{
    while (!atomic_load(&stop)) {
        flow_tick(F, clock_mono_ns());
        usleep(100);
    }
    return NULL;
}

static void *reloader(void *arg)
{
    struct config *cfgs = arg;
    struct flow_caps caps = {.max_in_flight = MAX_IN_FLIGHT, .max_queued = 20};
    for (int i = 0; !atomic_load(&stop); i++) {
        char err[256];
        check(flow_reload(F, &cfgs[i % 2], &caps, clock_mono_ns(), err, sizeof err) == 0, "reload");
        usleep(2000);
    }
    return NULL;
}

static void stress(void **state)
{
    struct config cfgs[2];
    load_conf(&cfgs[0], CONF[0]);
    load_conf(&cfgs[1], CONF[1]);
    struct flow_caps caps = {.max_in_flight = MAX_IN_FLIGHT, .max_queued = 20};
    char err[256];
    assert_int_equal(flow_from_config(&cfgs[0], &caps, &STRESS_HOOKS, &F, err, sizeof err), 0);
    pthread_t w[THREADS], tk, rl;
    assert_int_equal(pthread_create(&tk, NULL, ticker, NULL), 0);
    assert_int_equal(pthread_create(&rl, NULL, reloader, cfgs), 0);
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&w[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(tk, NULL);
    pthread_join(rl, NULL);

    assert_int_equal(atomic_load(&failures), 0);
    uint64_t total_admitted = 0, total_refused = 0, total_queued_hooks = 0, by_addr = 0;
    for (int k = 0; k < NTX; k++) {
        struct flow_stats s;
        assert_int_equal(flow_stats(F, TX[k], &s), 0);
        assert_int_equal(s.offered, atomic_load(&offered[k]));
        assert_int_equal(s.admitted, atomic_load(&admitted[k]));
        assert_int_equal(s.refused_total, atomic_load(&refused[k]));
        assert_int_equal(s.refused[FLOW_R_CANCELLED], atomic_load(&cancelled[k]));
        assert_int_equal(s.offered, s.admitted + s.refused_total);
        assert_int_equal(s.queued, 0);
        assert_int_equal(s.in_flight, 0);
        total_admitted += s.admitted;
        total_refused += s.refused_total;
        total_queued_hooks += s.refused[FLOW_R_TIMEOUT];
        by_addr += s.refused[FLOW_R_ADDR_RATE];
    }
    assert_int_equal(total_admitted + total_refused, (uint64_t)THREADS * ITERS);
    /* The rate-limited rule: never above rate * elapsed + burst. */
    double secs = (double)(atomic_load(&c_last_ns) - atomic_load(&c_first_ns)) / 1e9;
    assert_true((double)atomic_load(&admitted[2]) <= C_RATE * secs + C_BURST + 1);
    struct flow_global_stats g;
    flow_global_stats(F, &g);
    assert_int_equal(g.in_flight, 0);
    assert_int_equal(g.queued, 0);
    assert_int_equal(g.connections, 0);
    fprintf(stderr,
            "stress: %llu admitted, %llu refused (%llu timeouts, %llu per address), C at %.0f/s\n",
            (unsigned long long)total_admitted, (unsigned long long)total_refused,
            (unsigned long long)total_queued_hooks, (unsigned long long)by_addr,
            secs > 0 ? (double)atomic_load(&admitted[2]) / secs : 0.0);
    flow_free(F, clock_mono_ns());
    config_free(&cfgs[0]);
    config_free(&cfgs[1]);
    metrics_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
