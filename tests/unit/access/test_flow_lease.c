/* flow's cluster scope (access/flow_lease.h) against a real Redis
 * (tests/support/redis.h), on the real clock:
 *  - the lease slot's arithmetic (no Redis): sizes, demand, expiry, the
 *    lower bound of the wait;
 *  - the cluster bucket: two clients fetching as fast as they can are
 *    granted at most rate x elapsed + burst (and not much less), every
 *    answer within its bounds; a rate change carries the debt over;
 *  - two flows ("nodes", each with its own Redis client) flooded at once
 *    admit the rule's rate between them; with scope = node about twice it;
 *  - a queued request is started by the lease thread when tokens arrive,
 *    with no flow_tick(); a rule with queue = 0, used now and then, waits
 *    for the lease instead of refusing the request that finds it empty;
 *  - Redis stopped: the rule falls back to its own bucket at the full rate
 *    (gauge 1), and leases again once Redis is back; Redis frozen (a fetch
 *    hangs): requests still pass on local tokens meanwhile. */
#include "access/flow.h"
#include "access/flow_lease.h"
#include "access/gcra.h"
#include "data/redis.h"
#include "foundation/clock.h"
#include "foundation/config.h"
#include "foundation/metrics.h"
#include "redis.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

static struct redis_srv srv; /* node 0 alone */

static double secs(uint64_t ns)
{
    return (double)ns / 1e9;
}

static void sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

/* A client of s's node 0, keys under prefix. */
static struct redis *client(const struct redis_srv *s, const char *prefix)
{
    struct redis_config cfg = {.servers = s->servers,
                               .password = s->password,
                               .connect_timeout_ms = 500,
                               .command_timeout_ms = 1000,
                               .pool_size = 2,
                               .prefix = prefix};
    struct redis *r = NULL;
    char err[200] = "";
    if (redis_open(&cfg, &r, err, sizeof err) != REDIS_DONE)
        fail_msg("redis_open: %s", err);
    return r;
}

/* INI text into *cfg via a temp file, as zhanye would load it. */
static void load_conf(struct config *cfg, const char *ini)
{
    char dir[] = "/tmp/flowleaseXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], err[256];
    snprintf(path, sizeof path, "%s/zhanye.conf", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(ini, fp);
    assert_int_equal(fclose(fp), 0);
    if (config_load(cfg, dir, path, err, sizeof err))
        fail_msg("config_load: %s", err);
    unlink(path);
    rmdir(dir);
}

/* Hooks that may fire on any thread. */
struct req {
    struct flow_ticket t;
    _Atomic int hooks;
    _Atomic int outcome;
};

static void on_queued(struct flow_ticket *t, void *cookie) {}

static void on_decided(struct flow_ticket *t, void *cookie)
{
    struct req *q = cookie;
    atomic_store(&q->outcome, (int)t->verdict);
    atomic_fetch_add(&q->hooks, 1);
}

static const struct flow_hooks HOOKS = {on_queued, on_decided, on_decided};

/* flow_admit of tx as the server would: a queued request is waited for
 * (ticking like the server's timer meanwhile), an admitted one done.
 * Returns the final verdict. */
static enum flow_verdict admit_wait(struct flow *f, const char *tx)
{
    struct req q;
    memset(&q, 0, sizeof q);
    q.t.cookie = &q;
    enum flow_verdict v = flow_admit(f, tx, NULL, clock_mono_ns(), &q.t);
    if (v == FLOW_QUEUED) {
        while (atomic_load(&q.hooks) == 0) {
            flow_tick(f, clock_mono_ns());
            nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
        }
        v = (enum flow_verdict)atomic_load(&q.outcome);
    }
    if (v == FLOW_ADMITTED)
        (void)flow_done(&q.t, clock_mono_ns());
    return v;
}

/* A flow from ini, its rates shared through rd (NULL: not shared). */
static struct flow *node_flow(struct config *cfg, const char *ini, struct redis *rd)
{
    load_conf(cfg, ini);
    struct flow *f = NULL;
    char err[256];
    if (flow_from_config(cfg, NULL, &HOOKS, &f, err, sizeof err))
        fail_msg("flow_from_config: %s", err);
    if (rd && flow_share(f, rd, err, sizeof err))
        fail_msg("flow_share: %s", err);
    return f;
}

/* The value of one series in /metrics' text; -1 if absent. */
static double metric_value(const char *series)
{
    size_t len;
    char *text = metrics_render(&len);
    assert_non_null(text);
    double v = -1;
    size_t n = strlen(series);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            v = strtod(p + n + 1, NULL);
            break;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    free(text);
    return v;
}

static int group_setup(void **state)
{
    if (redis_srv_start(&srv, NULL) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    redis_srv_stop(&srv);
    return 0;
}

static int teardown(void **state)
{
    metrics_shutdown();
    return 0;
}

/* --- the slot, no Redis ---------------------------------------------------------- */

static void slot_arithmetic(void **state)
{
    assert_int_equal(flow_lease_size(100, 10), 1);    /* 1.0 per 10 ms */
    assert_int_equal(flow_lease_size(1000, 100), 10); /* rate x 10 ms */
    assert_int_equal(flow_lease_size(50000, 50), 50); /* at most burst */
    assert_int_equal(flow_lease_size(3, 100), 1);     /* at least 1 */
    assert_int_equal(flow_lease_size(GCRA_MAX_RATE, GCRA_MAX_BURST), 10000000);

    struct flow_lease_slot s = {.cluster = true, .lease = 10};
    uint64_t now = 5 * SEC;
    assert_false(flow_lease_wants(&s, false, now)); /* nobody asked */
    assert_true(flow_lease_wants(&s, true, now));   /* a waiter */
    s.starved = true;
    assert_true(flow_lease_wants(&s, false, now));
    assert_int_equal(flow_lease_due(&s, false), 0); /* due at once */
    s.cluster = false;
    assert_false(flow_lease_wants(&s, true, now)); /* node scope never fetches */
    s.cluster = true;

    /* A grant of 10 fetched from now - 1 ms to now, Redis' next token in 2 ms. */
    struct flow_lease_grant g = {.granted = 10, .wait_us = 2000};
    flow_lease_add(&s, &g, now - MS, now);
    assert_int_equal(s.pool, 10);
    assert_false(s.starved);
    assert_int_equal(s.expires_ns, now + FLOW_LEASE_TTL_NS);
    assert_int_equal(s.next_fetch_ns, now + MS);            /* t0 + wait */
    assert_false(flow_lease_wants(&s, true, now + 2 * MS)); /* full pool */
    s.pool = 5;
    s.taken = 5;                                    /* at half a lease after use: fetch ahead */
    assert_false(flow_lease_wants(&s, false, now)); /* not before Redis' time */
    assert_true(flow_lease_wants(&s, false, now + MS));
    assert_int_equal(flow_lease_due(&s, false), now + MS);

    /* The wait's lower bound: 5 on hand, then one per T (1 ms at 1000/s). */
    struct gcra gc;
    assert_int_equal(gcra_init(&gc, 1000, 100), 0);
    assert_int_equal(flow_lease_ready_at(&s, &gc, now, 4), now);
    assert_int_equal(flow_lease_ready_at(&s, &gc, now, 5), now + MS);
    assert_int_equal(flow_lease_ready_at(&s, &gc, now, 7), now + 3 * MS);
    /* Redis' next token already due: up to burst may be there at once. */
    s.ready_ns = now - MS;
    assert_int_equal(flow_lease_ready_at(&s, &gc, now, 104), now);
    assert_int_equal(flow_lease_ready_at(&s, &gc, now, 105), now + MS);

    /* Unused tokens expire with their TTL. */
    assert_int_equal(flow_lease_expire(&s, now + FLOW_LEASE_TTL_NS - 1), 0);
    assert_int_equal(flow_lease_expire(&s, now + FLOW_LEASE_TTL_NS), 5);
    assert_int_equal(s.pool, 0);
}

/* --- the cluster bucket ------------------------------------------------------------- */

#define FETCH_RATE 3001 /* T = 333.22 us: not a whole number of us */
#define FETCH_BURST 300
#define FETCH_N 30
#define FETCH_NS (1200 * MS)

struct fetcher {
    struct redis *rd;
    uint64_t until;
    int64_t granted, calls, bad;
    pthread_t th;
};

static void *fetch_main(void *arg)
{
    struct fetcher *w = arg;
    while (clock_mono_ns() < w->until) {
        struct flow_lease_grant g;
        if (flow_lease_fetch(w->rd, "BKT", FETCH_RATE, FETCH_BURST, FETCH_N, &g) != REDIS_DONE) {
            w->bad++;
            continue;
        }
        w->calls++;
        w->granted += g.granted;
        /* Fewer than asked only when the slack is gone; then the next
         * token is at most one interval away. */
        if (g.granted > FETCH_N || (g.granted < FETCH_N && g.wait_us == 0) ||
            g.wait_us > 1000000 / FETCH_RATE + 1)
            w->bad++;
    }
    return NULL;
}

static void grants_never_exceed_rate_times_elapsed_plus_burst(void **state)
{
    struct fetcher w[2] = {0};
    uint64_t t0 = clock_mono_ns();
    for (int i = 0; i < 2; i++) {
        w[i].rd = client(&srv, "lt:");
        w[i].until = t0 + FETCH_NS;
        assert_int_equal(pthread_create(&w[i].th, NULL, fetch_main, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(w[i].th, NULL);
    double elapsed = secs(clock_mono_ns() - t0);
    int64_t total = w[0].granted + w[1].granted;
    double bound = FETCH_RATE * elapsed + FETCH_BURST;
    print_message("granted %lld in %.3f s over %lld + %lld fetches (bound %.1f)\n",
                  (long long)total, elapsed, (long long)w[0].calls, (long long)w[1].calls, bound);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].bad, 0);
        assert_true(w[i].granted > 0); /* both clients were served */
        redis_close(w[i].rd);
    }
    assert_true((double)total <= bound + 1); /* +1: Redis' clock against ours */
    assert_true((double)total >= 0.9 * FETCH_RATE * elapsed);
}

static void rate_change_carries_the_debt(void **state)
{
    struct redis *rd = client(&srv, "lt:");
    struct flow_lease_grant g;
    /* The whole bucket of 10 at 100/s: 10 tokens owed, 100 ms. */
    assert_int_equal(flow_lease_fetch(rd, "DEBT", 100, 10, 10, &g), REDIS_DONE);
    assert_int_equal(g.granted, 10);
    assert_true(g.wait_us > 0 && g.wait_us <= 10000);
    /* At 1000/s the same 10 owed tokens are 10 ms: the next conforms in 1 ms
     * or less (it would be 10 ms under the old rate). */
    assert_int_equal(flow_lease_fetch(rd, "DEBT", 1000, 10, 10, &g), REDIS_DONE);
    assert_true(g.granted == 0 || g.wait_us <= 1000);
    assert_true(g.wait_us <= 1000);
    /* Bad arguments are refused before any I/O. */
    assert_int_equal(flow_lease_fetch(rd, "DEBT", 0, 10, 1, &g), REDIS_FAIL);
    assert_int_equal(flow_lease_fetch(rd, "DEBT", 10, 10, 0, &g), REDIS_FAIL);
    assert_int_equal(flow_lease_fetch(rd, "", 10, 10, 1, &g), REDIS_FAIL);
    redis_close(rd);
}

/* --- two nodes ------------------------------------------------------------------------ */

#define NODE_RATE 200
#define NODE_BURST 20
#define FLOOD_NS (1500 * MS)
#define FLOODERS 2 /* threads per node */

struct flooder {
    struct flow *f;
    uint64_t until;
    int64_t admitted;
    pthread_t th;
};

static void *flood_main(void *arg)
{
    struct flooder *w = arg;
    while (clock_mono_ns() < w->until) {
        w->admitted += admit_wait(w->f, "PAY") == FLOW_ADMITTED;
        sleep_us(100); /* some 5 000 offered per second per thread */
    }
    return NULL;
}

/* Floods PAY on two flows, each sharing through its own client when
 * shared; returns the admissions of both, *elapsed the flood's length.
 * cluster: whether PAY's rate must be the cluster's. */
static int64_t flood_two_nodes(const char *ini, bool shared, bool cluster, double *elapsed)
{
    struct config cfg[2];
    struct redis *rd[2] = {NULL, NULL};
    struct flow *f[2];
    for (int i = 0; i < 2; i++) {
        if (shared)
            rd[i] = client(&srv, "lt:");
        f[i] = node_flow(&cfg[i], ini, rd[i]);
    }
    struct flooder w[2 * FLOODERS] = {0};
    uint64_t t0 = clock_mono_ns();
    for (int i = 0; i < 2 * FLOODERS; i++) {
        w[i].f = f[i % 2];
        w[i].until = t0 + FLOOD_NS;
        assert_int_equal(pthread_create(&w[i].th, NULL, flood_main, &w[i]), 0);
    }
    int64_t total = 0;
    for (int i = 0; i < 2 * FLOODERS; i++) {
        pthread_join(w[i].th, NULL);
        total += w[i].admitted;
    }
    *elapsed = secs(clock_mono_ns() - t0);
    for (int i = 0; i < 2; i++) {
        struct flow_stats s;
        assert_int_equal(flow_stats(f[i], "PAY", &s), 0);
        assert_int_equal(s.cluster, cluster);
        assert_false(s.lease_fallback);
        flow_free(f[i], clock_mono_ns());
        config_free(&cfg[i]);
        redis_close(rd[i]);
    }
    return total;
}

static void two_nodes_share_the_rate(void **state)
{
    double elapsed;
    int64_t admitted =
        flood_two_nodes("[flow.PAY]\nrate = 200\nburst = 20\nqueue = 0\n", true, true, &elapsed);
    double fetches = metric_value("zhanye_flow_lease_fetches_total{tx=\"PAY\"}");
    double tokens = metric_value("zhanye_flow_lease_tokens_total{tx=\"PAY\"}");
    /* At most burst + rate x elapsed, plus what the two pools held at the
     * start (nothing) ... and every token granted was one Redis counted. */
    double bound = NODE_RATE * elapsed + NODE_BURST;
    print_message("cluster: admitted %lld in %.3f s (bound %.1f); %.0f fetches, %.0f tokens\n",
                  (long long)admitted, elapsed, bound, fetches, tokens);
    assert_true((double)admitted <= tokens);
    assert_true((double)admitted <= bound + 1);
    assert_true((double)admitted >= 0.9 * NODE_RATE * elapsed);
    assert_true(fetches > 0);
}

static void two_nodes_node_scope_admit_twice(void **state)
{
    double elapsed;
    int64_t admitted = flood_two_nodes(
        "[flow.PAY]\nrate = 200\nburst = 20\nqueue = 0\nscope = node\n", true, false, &elapsed);
    print_message("node scope: admitted %lld in %.3f s\n", (long long)admitted, elapsed);
    assert_true((double)admitted > 1.5 * NODE_RATE * elapsed);
    /* No Redis at all: the same, whatever the scope says. */
    admitted =
        flood_two_nodes("[flow.PAY]\nrate = 200\nburst = 20\nqueue = 0\n", false, false, &elapsed);
    assert_true((double)admitted > 1.5 * NODE_RATE * elapsed);
}

/* --- the lease thread starts queued heads ------------------------------------------ */

static void queued_heads_start_when_tokens_arrive(void **state)
{
    struct config cfg;
    struct redis *rd = client(&srv, "lt:");
    struct flow *f = node_flow(&cfg,
                               "[flow.SLOW]\nrate = 20\nburst = 1\nqueue = 8\nmax_wait_ms = 5000\n"
                               "max_concurrent = 8\n",
                               rd);
    /* The pool starts empty: all three queue; the lease thread fetches one
     * token per 50 ms and starts them in order; nobody calls flow_tick. */
    struct req q[3];
    memset(q, 0, sizeof q);
    for (int i = 0; i < 3; i++) {
        q[i].t.cookie = &q[i];
        assert_int_equal(flow_admit(f, "SLOW", NULL, clock_mono_ns(), &q[i].t), FLOW_QUEUED);
    }
    uint64_t t0 = clock_mono_ns();
    while (atomic_load(&q[2].hooks) == 0 && clock_mono_ns() - t0 < 10 * SEC)
        sleep_us(1000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(atomic_load(&q[i].hooks), 1);
        assert_int_equal(atomic_load(&q[i].outcome), FLOW_ADMITTED);
        assert_int_equal(flow_done(&q[i].t, clock_mono_ns()), 0);
    }
    struct flow_stats s;
    assert_int_equal(flow_stats(f, "SLOW", &s), 0);
    assert_true(s.cluster);
    assert_int_equal(s.admitted, 3);
    assert_int_equal(s.queued, 0);
    flow_free(f, clock_mono_ns());
    config_free(&cfg);
    redis_close(rd);
}

/* A rule that does not queue, used now and then: each request finds the
 * node's lease empty (the last one expired) while the cluster has tokens.
 * It waits for the lease thread's fetch instead of a 429. */
static void idle_rule_without_queue_admits_its_first_request(void **state)
{
    struct config cfg;
    struct redis *rd = client(&srv, "lt:");
    struct flow *f = node_flow(&cfg, "[flow.RARE]\nrate = 100\nburst = 10\nqueue = 0\n", rd);
    for (int i = 0; i < 4; i++) {
        struct flow_stats s;
        assert_int_equal(flow_stats(f, "RARE", &s), 0);
        assert_int_equal(s.lease_pool, 0); /* nothing on hand */
        assert_int_equal(admit_wait(f, "RARE"), FLOW_ADMITTED);
        sleep_us((long)(FLOW_LEASE_TTL_NS / 1000) + 50000); /* its leftovers expire */
    }
    struct flow_stats s;
    assert_int_equal(flow_stats(f, "RARE", &s), 0);
    assert_int_equal(s.admitted, 4);
    assert_int_equal(s.refused_total, 0);
    flow_free(f, clock_mono_ns());
    config_free(&cfg);
    redis_close(rd);
}

/* --- Redis down and back ------------------------------------------------------------ */

#define FB_RATE 100
#define FB_BURST 5

/* Offers PAY every 2 ms for ns; the admissions. */
static int64_t offer(struct flow *f, uint64_t ns)
{
    int64_t admitted = 0;
    for (uint64_t t0 = clock_mono_ns(); clock_mono_ns() - t0 < ns;) {
        admitted += admit_wait(f, "PAY") == FLOW_ADMITTED;
        sleep_us(2000);
    }
    return admitted;
}

/* Offers until the rule's fallback state is want (at most 20 s). */
static void offer_until_fallback(struct flow *f, bool want)
{
    struct flow_stats s;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(flow_stats(f, "PAY", &s), 0);
        if (s.lease_fallback == want)
            return;
        offer(f, 100 * MS);
    }
    fail_msg("fallback never became %d", want);
}

static void redis_down_falls_back_and_returns(void **state)
{
    struct redis_srv own;
    assert_int_equal(redis_srv_start(&own, NULL), 0);
    struct config cfg;
    struct redis *rd = client(&own, "lt:");
    struct flow *f = node_flow(&cfg, "[flow.PAY]\nrate = 100\nburst = 5\nqueue = 0\n", rd);
    assert_true(offer(f, 300 * MS) > 0);
    assert_true(metric_value("zhanye_flow_lease_tokens_total{tx=\"PAY\"}") > 0);
    assert_true(metric_value("zhanye_flow_lease_fallback") == 0);

    assert_int_equal(redis_srv_halt(&own, 0), 0);
    offer_until_fallback(f, true);
    assert_true(metric_value("zhanye_flow_lease_fallback") == 1);
    /* Node-local at the full rate: about 100/s + the bucket. */
    uint64_t t0 = clock_mono_ns();
    int64_t local = offer(f, SEC);
    double elapsed = secs(clock_mono_ns() - t0);
    print_message("fallback: admitted %lld in %.3f s\n", (long long)local, elapsed);
    assert_true((double)local <= FB_RATE * elapsed + FB_BURST + 1);
    assert_true((double)local >= 0.8 * FB_RATE * elapsed);

    assert_int_equal(redis_srv_restart(&own, 0), 0);
    offer_until_fallback(f, false);
    double before = metric_value("zhanye_flow_lease_tokens_total{tx=\"PAY\"}");
    assert_true(offer(f, 300 * MS) > 0);
    assert_true(metric_value("zhanye_flow_lease_tokens_total{tx=\"PAY\"}") > before);
    assert_true(metric_value("zhanye_flow_lease_fallback") == 0);

    /* Redis frozen: a fetch hangs until the client's 1 s command timeout.
     * Requests are not held up meanwhile: from 250 ms into the hung fetch
     * they take local tokens (without that, none would pass for a second). */
    assert_int_equal(kill(own.node[0].pid, SIGSTOP), 0);
    int64_t frozen = offer(f, 900 * MS);
    print_message("frozen redis: admitted %lld in 0.9 s\n", (long long)frozen);
    assert_true(frozen >= 20);
    assert_int_equal(kill(own.node[0].pid, SIGCONT), 0);
    offer_until_fallback(f, false);
    flow_free(f, clock_mono_ns());
    config_free(&cfg);
    redis_close(rd);
    redis_srv_stop(&own);
}

static void share_refuses_misuse(void **state)
{
    struct config cfg;
    struct redis *rd = client(&srv, "lt:");
    struct flow *f = node_flow(&cfg, "[flow.PAY]\nscope = cluster\n", NULL);
    char err[256];
    assert_int_equal(flow_share(f, NULL, err, sizeof err), -1);
    struct flow_stats s;
    assert_int_equal(flow_stats(f, "PAY", &s), 0);
    assert_false(s.cluster); /* not shared: node-local whatever the scope */
    assert_int_equal(flow_share(f, rd, err, sizeof err), 0);
    assert_int_equal(flow_stats(f, "PAY", &s), 0);
    assert_true(s.cluster);
    assert_int_equal(flow_share(f, rd, err, sizeof err), -1);
    flow_free(f, clock_mono_ns());
    config_free(&cfg);
    /* A bad scope is a config error. */
    load_conf(&cfg, "[flow.PAY]\nscope = galaxy\n");
    assert_int_equal(flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "cluster or node"));
    config_free(&cfg);
    redis_close(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(slot_arithmetic, teardown),
        cmocka_unit_test_teardown(grants_never_exceed_rate_times_elapsed_plus_burst, teardown),
        cmocka_unit_test_teardown(rate_change_carries_the_debt, teardown),
        cmocka_unit_test_teardown(share_refuses_misuse, teardown),
        cmocka_unit_test_teardown(queued_heads_start_when_tokens_arrive, teardown),
        cmocka_unit_test_teardown(idle_rule_without_queue_admits_its_first_request, teardown),
        cmocka_unit_test_teardown(two_nodes_share_the_rate, teardown),
        cmocka_unit_test_teardown(two_nodes_node_scope_admit_twice, teardown),
        cmocka_unit_test_teardown(redis_down_falls_back_and_returns, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
