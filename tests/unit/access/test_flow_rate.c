/* flow, rate: the GCRA arithmetic is exact in nanoseconds with fractional
 * emission intervals; long runs admit rate * t + burst and no more; no
 * window boundary lets 2x through; rates far above 1000/s work; a reload
 * keeps the bucket's debt. All on a fake clock. */
#include "access/gcra.h"
#include "test_flow_util.h"

static int teardown(void **state)
{
    metrics_shutdown();
    return 0;
}

/* Takes a token whenever one conforms, probing every step ns over [0, span]. */
static uint64_t greedy(uint64_t rate, uint64_t burst, uint64_t step, uint64_t span)
{
    struct gcra g;
    assert_int_equal(gcra_init(&g, rate, burst), 0);
    uint64_t n = 0;
    for (uint64_t t = 0; t <= span; t += step)
        while (gcra_conforms(&g, t)) {
            gcra_take(&g, t);
            n++;
        }
    return n;
}

static void gcra_exact_fractions(void **state)
{
    /* T = 1e9/3 ns is not whole: 1000 s hold exactly 3000 intervals, plus the
     * burst taken at t = 0. */
    assert_int_equal(greedy(3, 2, MS, 1000 * SEC), 3002);
    /* 7e6/s: T = 142.857 ns; rounding T would give 70424 or 69932 in 10 ms. */
    assert_int_equal(greedy(7000000, 2, 1, 10 * MS), 70002);
    /* burst = 1 leaves no tolerance: a token not taken at its exact (here
     * fractional) time is lost, as in any bucket that holds one token. So
     * probing every ms yields ~1/334 ms instead of 3/s. burst >= 2 absorbs
     * the lateness, above. */
    assert_int_equal(greedy(3, 1, MS, 1000 * SEC), 2995); /* 1 + 1e6 / 334 */
    /* A burst is taken at once, then the rate. */
    assert_int_equal(greedy(10, 5, MS, 0), 5);
    assert_int_equal(greedy(10, 5, MS, SEC), 15);
    assert_int_equal(greedy(1, 1, MS, 0), 1);
    assert_int_equal(gcra_init(&(struct gcra){0}, 0, 1), -1);
    assert_int_equal(gcra_init(&(struct gcra){0}, 1, 0), -1);
}

static void gcra_ready_at_is_exact(void **state)
{
    struct gcra g;
    assert_int_equal(gcra_init(&g, 3, 1), 0);
    assert_int_equal(gcra_ready_at(&g, 0, 0), 0);
    gcra_take(&g, 0);
    /* Next token at 333333333.33.. ns: rounds up. */
    assert_int_equal(gcra_ready_at(&g, 0, 0), 333333334);
    assert_false(gcra_conforms(&g, 333333333));
    assert_true(gcra_conforms(&g, 333333334));
    /* Two more behind it: 1e9 exactly. */
    assert_int_equal(gcra_ready_at(&g, 0, 2), 1000000000);
    /* burst 4: three more conform at once, the fifth at 2 T. */
    assert_int_equal(gcra_init(&g, 1000, 4), 0);
    for (int i = 0; i < 4; i++) {
        assert_true(gcra_conforms(&g, 5 * SEC));
        gcra_take(&g, 5 * SEC);
    }
    assert_false(gcra_conforms(&g, 5 * SEC));
    assert_int_equal(gcra_ready_at(&g, 5 * SEC, 0), 5 * SEC + MS);
    assert_int_equal(gcra_ready_at(&g, 5 * SEC, 1), 5 * SEC + 2 * MS);
}

static void gcra_retune_keeps_debt(void **state)
{
    struct gcra g;
    assert_int_equal(gcra_init(&g, 100, 10), 0);
    for (int i = 0; i < 10; i++)
        gcra_take(&g, SEC); /* empty: 10 tokens owed, 100 ms */
    assert_false(gcra_conforms(&g, SEC));
    /* Same debt in tokens at 10/s: 10 tokens = 1 s; burst 10 -> tau = 0.9 s. */
    assert_int_equal(gcra_retune(&g, 10, 10, SEC), 0);
    assert_false(gcra_conforms(&g, SEC + 99 * MS));
    assert_true(gcra_conforms(&g, SEC + 100 * MS));
    /* A smaller burst caps the debt: at most 2 tokens owed now. */
    assert_int_equal(gcra_retune(&g, 10, 2, SEC), 0);
    assert_true(gcra_ready_at(&g, SEC, 0) <= SEC + 100 * MS);
    /* Unchanged parameters change nothing. */
    struct gcra before = g;
    assert_int_equal(gcra_retune(&g, 10, 2, 7 * SEC), 0);
    assert_memory_equal(&before, &g, sizeof g);
    assert_int_equal(gcra_retune(&g, 0, 2, SEC), -1);
}

/* Finishes, at once, every request a hook has just started. */
static void finish_started(struct req *q, int ring, uint64_t now)
{
    for (int i = 0; i < H.n; i++) {
        struct req *r = &q[H.order[i] % ring];
        if (r->hooks == 1 && r->outcome == FLOW_ADMITTED) {
            assert_int_equal(done(r, now), 0);
            r->hooks = 2;
        }
    }
    H.n = 0;
}

/* Offers `factor` x rate for `secs` seconds to PAY, ticking every ms and
 * finishing every admitted request at once. Returns PAY's counters. */
static struct flow_stats run_flood(const char *ini, uint64_t rate, int factor, int secs)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg, ini, NULL);
    uint64_t offered = rate * (uint64_t)factor * (uint64_t)secs;
    uint64_t gap = (uint64_t)secs * SEC / offered;
    enum { RING = 1024 };
    struct req *q = calloc(RING, sizeof *q);
    assert_non_null(q);
    uint64_t next_tick = 0, now = 0;
    for (uint64_t i = 0; i < offered; i++) {
        now = i * gap;
        for (; next_tick <= now; next_tick += MS) {
            tick(f, next_tick);
            finish_started(q, RING, next_tick);
        }
        struct req *r = &q[i % RING];
        assert_true(r->t.verdict != FLOW_QUEUED || r->hooks); /* the ring never laps a waiter */
        if (admit(f, "PAY", now, r, (int)i) == FLOW_ADMITTED)
            assert_int_equal(done(r, now), 0);
        finish_started(q, RING, now);
    }
    struct flow_stats s;
    tick(f, now + SEC); /* let the queue finish */
    assert_int_equal(flow_stats(f, "PAY", &s), 0);
    assert_int_equal(s.offered, offered);
    assert_int_equal(s.offered, s.admitted + s.refused_total);
    flow_free(f, now + SEC);
    free(q);
    config_free(&cfg);
    return s;
}

static void assert_near_bound(uint64_t admitted, uint64_t bound)
{
    /* Never above rate * t + burst (plus the last queued ones let through
     * during the final second of ticking, at most rate * max_wait), and
     * within 1% below it. */
    if (admitted < bound - bound / 100 || admitted > bound + bound / 100)
        fail_msg("admitted %llu, want %llu +- 1%%", (unsigned long long)admitted,
                 (unsigned long long)bound);
}

static void long_run_exact_without_queue(void **state)
{
    struct flow_stats s =
        run_flood("[flow.PAY]\nrate = 1000\nburst = 100\nqueue = 0\n", 1000, 3, 10);
    assert_near_bound(s.admitted, 1000 * 10 + 100);
    assert_true(s.admitted <= 1000 * 10 + 100);
    assert_int_equal(s.refused[FLOW_R_RATE], s.offered - s.admitted);
}

static void long_run_exact_with_queue(void **state)
{
    /* Queued requests start on ticks; the rate stays exact. */
    struct flow_stats s = run_flood(
        "[flow.PAY]\nrate = 1000\nburst = 100\nqueue = 256\nmax_wait_ms = 200\n", 1000, 3, 10);
    assert_near_bound(s.admitted, 1000 * 10 + 100);
    /* Up to max_wait of queue drains after the last arrival: 200 more. */
    assert_true(s.admitted <= 1000 * 10 + 100 + 200);
    assert_true(s.refused[FLOW_R_RATE] > 0);
}

static void rate_far_above_1000(void **state)
{
    /* 50 000/s: a millisecond clock would cap this near 1000/s. */
    struct flow_stats s =
        run_flood("[flow.PAY]\nrate = 50000\nburst = 100\nqueue = 0\n", 50000, 3, 10);
    assert_near_bound(s.admitted, 50000 * 10 + 100);
    assert_true(s.admitted <= 50000 * 10 + 100);
    /* A burst of 2 is enough tolerance for arrivals every 6.7 us to get the
     * exact rate: only nanosecond arithmetic can hold 20 us spacing. */
    s = run_flood("[flow.PAY]\nrate = 50000\nburst = 2\nqueue = 0\n", 50000, 3, 2);
    assert_near_bound(s.admitted, 50000 * 2 + 2);
    assert_true(s.admitted <= 50000 * 2 + 2);
}

/* At most rate * w + burst in every window of length w, including one
 * straddling a second boundary right after an idle spell. */
static void no_double_rate_at_boundaries(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg, "[flow.PAY]\nrate = 100\nburst = 1\nqueue = 0\n", NULL);
    struct req q;
    /* Idle until 5.9 s, then a flood every 100 us across the 6 s boundary. */
    uint64_t admitted = 0;
    for (uint64_t t = 5900 * MS; t <= 6100 * MS; t += 100000)
        if (admit(f, "PAY", t, &q, 0) == FLOW_ADMITTED) {
            admitted++;
            done(&q, t);
        }
    /* 200 ms at 100/s + burst 1 = 21 (a fixed 1 s window would pass 200). */
    assert_true(admitted <= 21);
    assert_true(admitted >= 20);
    flow_free(f, 7 * SEC);
    config_free(&cfg);

    /* Sliding check over a long irregular run: every admission's previous
     * `rate + burst` admissions span more than 1 s. */
    f = make_flow(&cfg, "[flow.PAY]\nrate = 500\nburst = 50\nqueue = 0\n", NULL);
    enum { K = 551 };
    static uint64_t times[K];
    uint64_t n = 0, t = 0, x = 12345;
    for (int i = 0; i < 200000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        /* Lulls at 500/s on average, and dense stretches at ~20 000/s. */
        t += (x >> 33) % (i % 5000 < 1000 ? 100000 : 4 * MS);
        if (admit(f, "PAY", t, &q, 0) == FLOW_ADMITTED) {
            done(&q, t);
            if (n >= K - 1) /* the admission K-1 back, and this one: 551 > 500 + 50 */
                assert_true(t - times[(n - (K - 1)) % K] > SEC);
            times[n % K] = t;
            n++;
        }
    }
    flow_free(f, t);
    config_free(&cfg);
}

static void burst_then_rate(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg, "[flow.PAY]\nrate = 10\nburst = 5\nqueue = 0\n", NULL);
    struct req q;
    int ok = 0;
    for (int i = 0; i < 20; i++)
        if (admit(f, "PAY", SEC, &q, i) == FLOW_ADMITTED)
            ok++, done(&q, SEC);
    assert_int_equal(ok, 5);
    assert_int_equal(q.t.verdict, FLOW_BUSY);
    assert_int_equal(q.t.reason, FLOW_R_RATE);
    assert_int_equal(q.t.retry_after_s, 1);
    /* One more every 100 ms. */
    assert_int_equal(admit(f, "PAY", SEC + 99 * MS, &q, 0), FLOW_BUSY);
    assert_int_equal(admit(f, "PAY", SEC + 100 * MS, &q, 0), FLOW_ADMITTED);
    done(&q, SEC + 100 * MS);
    check_books(f, "PAY");
    flow_free(f, 2 * SEC);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcra_exact_fractions),
        cmocka_unit_test(gcra_ready_at_is_exact),
        cmocka_unit_test(gcra_retune_keeps_debt),
        cmocka_unit_test_teardown(long_run_exact_without_queue, teardown),
        cmocka_unit_test_teardown(long_run_exact_with_queue, teardown),
        cmocka_unit_test_teardown(rate_far_above_1000, teardown),
        cmocka_unit_test_teardown(no_double_rate_at_boundaries, teardown),
        cmocka_unit_test_teardown(burst_then_rate, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
