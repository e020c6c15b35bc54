/* flow, semantics on a fake clock: rules from the config, the concurrency
 * cap, FIFO order, queue full, deadlines to the nanosecond, waiting for a
 * token, global caps, the priority class under flood, reload keeping the
 * queue, cancel and shutdown, the books and the metrics. */
#include "access/flow_rules.h"
#include "test_flow_util.h"

static int teardown(void **state)
{
    metrics_shutdown();
    return 0;
}

static void builtin_defaults_match_config(void **state)
{
    /* A [flow.X] section setting one key: config_named_get answers config.c's
     * declared default for the others. flow's built-in default (used when
     * there is no [flow.default]) must be the same. */
    struct config cfg;
    struct flow *f = make_flow(&cfg, "[flow.X]\nrate = 7\n[flow.Y]\nburst = 3\n", NULL);
    struct flow_stats s;
    assert_int_equal(flow_stats(f, "NOSUCH", &s), 0);
    assert_string_equal(s.rule, "default");
    const char *keys[] = {"rate", "burst", "max_concurrent", "queue", "max_wait_ms"};
    int64_t vals[] = {s.rate, s.burst, s.max_concurrent, s.queue, s.max_wait_ms};
    for (int i = 0; i < 5; i++) {
        const char *sec = i == 0 ? "Y" : "X";
        assert_int_equal(vals[i], strtoll(config_named_get(&cfg, "flow", sec, keys[i]), NULL, 10));
    }
    assert_int_equal(flow_stats(f, "X", &s), 0);
    assert_string_equal(s.rule, "X");
    assert_int_equal(s.rate, 7);
    flow_free(f, 0);
    config_free(&cfg);
}

static void rules_inherit_default_and_priority(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg,
                               "[flow.default]\nrate = 50\nqueue = 9\n"
                               "[flow.PAY]\nmax_concurrent = 3\n"
                               "[flow.LOGIN]\nrate = 20\n",
                               NULL);
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_string_equal(s.rule, "PAY");
    assert_int_equal(s.rate, 50); /* from [flow.default] */
    assert_int_equal(s.queue, 9);
    assert_int_equal(s.max_concurrent, 3);
    assert_int_equal(s.priority, 0);
    flow_stats(f, "LOGIN", &s);
    assert_int_equal(s.rate, 20);
    assert_int_equal(s.priority, 1);
    flow_stats(f, "LOGOUT", &s); /* no section: its own rule with default's values */
    assert_string_equal(s.rule, "LOGOUT");
    assert_int_equal(s.rate, 50);
    assert_int_equal(s.priority, 1);
    /* Unknown, empty, NULL and absurdly long TX codes share default. */
    const char *others[] = {"BALANCE", "", NULL,
                            "A_VERY_LONG_TX_CODE_THAT_CANNOT_BE_A_SECTION_NAME"};
    for (int i = 0; i < 4; i++) {
        flow_stats(f, others[i], &s);
        assert_string_equal(s.rule, "default");
    }
    struct flow_global_stats g;
    flow_global_stats(f, &g);
    assert_int_equal(g.nrules, 5); /* default, PAY, LOGIN, LOGOUT, ADMIN_LOGIN */
    /* Derived caps: 4096 - 4096/8. */
    assert_int_equal(g.caps.max_connections, 3584);
    assert_int_equal(g.caps.max_in_flight, 3584);
    assert_int_equal(g.caps.max_queued, 3584);
    flow_free(f, 0);
    config_free(&cfg);
}

static void bad_hand_built_config_fails(void **state)
{
    struct config cfg;
    config_defaults(&cfg, "/tmp");
    struct config_named *s = &cfg.named[cfg.nnamed++];
    snprintf(s->area, sizeof s->area, "flow");
    snprintf(s->name, sizeof s->name, "PAY");
    s->keys[0] = "rate";
    s->vals[0] = strdup("fast");
    struct flow *f = NULL;
    char err[256] = "";
    assert_int_equal(flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err), -1);
    assert_null(f);
    assert_non_null(strstr(err, "[flow.PAY] rate = 'fast'"));
    /* A name that would break out of a metric label. */
    free(s->vals[0]);
    s->vals[0] = strdup("5");
    snprintf(s->name, sizeof s->name, "P\"AY");
    assert_int_equal(flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "name must be"));
    config_free(&cfg);
}

static void concurrency_cap(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 2\nqueue = 0\n", NULL);
    struct req a, b, c;
    assert_int_equal(admit(f, "PAY", 0, &a, 1), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", 0, &b, 2), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", 0, &c, 3), FLOW_BUSY);
    assert_int_equal(c.t.reason, FLOW_R_CONCURRENCY);
    assert_int_equal(c.t.retry_after_s, 1);
    assert_int_equal(flow_done(&c.t, 0), -1); /* never admitted */
    assert_int_equal(done(&a, 1), 0);
    assert_int_equal(done(&a, 1), -1); /* twice: no-op */
    assert_int_equal(admit(f, "PAY", 2, &c, 3), FLOW_ADMITTED);
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_int_equal(s.in_flight, 2);
    assert_int_equal(s.admitted, 3);
    assert_int_equal(s.refused[FLOW_R_CONCURRENCY], 1);
    check_books(f, "PAY");
    done(&b, 3);
    done(&c, 3);
    struct flow_ticket zero = {0};
    assert_int_equal(flow_done(&zero, 0), -1);
    assert_int_equal(flow_cancel(&zero, 0), -1);
    flow_free(f, 4);
    config_free(&cfg);
}

static void fifo_order_and_queue_full(void **state)
{
    struct config cfg;
    struct flow *f =
        make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 4\nmax_wait_ms = 1000\n", NULL);
    struct req r[7];
    assert_int_equal(admit(f, "PAY", 0, &r[0], 0), FLOW_ADMITTED);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(admit(f, "PAY", (uint64_t)i * MS, &r[i], i), FLOW_QUEUED);
    assert_int_equal(H.queued_hooks, 4);
    assert_int_equal(admit(f, "PAY", 5 * MS, &r[5], 5), FLOW_BUSY);
    assert_int_equal(r[5].t.reason, FLOW_R_QUEUE_FULL);
    assert_true(r[5].t.retry_after_s >= 1);
    /* Each done starts the next, in arrival order, on the finishing thread. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(done(&r[i], (uint64_t)(10 + i) * MS), 0);
        assert_int_equal(H.n, i + 1);
        assert_int_equal(H.order[i], i + 1);
        assert_int_equal(r[i + 1].hooks, 1);
        assert_int_equal(r[i + 1].outcome, FLOW_ADMITTED);
        assert_int_equal(r[i + 1].hook_at, (uint64_t)(10 + i) * MS);
        check_books(f, "PAY");
    }
    /* Later arrivals line up behind the waiter; one start per freed slot. */
    assert_int_equal(admit(f, "PAY", 20 * MS, &r[5], 5), FLOW_QUEUED);
    assert_int_equal(admit(f, "PAY", 20 * MS, &r[6], 6), FLOW_QUEUED);
    done(&r[4], 21 * MS);
    assert_int_equal(r[5].outcome, FLOW_ADMITTED);
    assert_int_equal(r[6].hooks, 0);
    done(&r[5], 22 * MS);
    done(&r[6], 23 * MS);
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_int_equal(s.offered, 8);
    assert_int_equal(s.admitted, 7);
    assert_int_equal(s.queued, 0);
    assert_int_equal(s.in_flight, 0);
    check_books(f, "PAY");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void deadline_exact_and_never_late(void **state)
{
    struct config cfg;
    struct flow *f =
        make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 100\n", NULL);
    struct req a, b, c;
    assert_int_equal(admit(f, "PAY", 0, &a, 1), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", 0, &b, 2), FLOW_QUEUED);
    assert_int_equal(admit(f, "PAY", 50 * MS, &c, 3), FLOW_QUEUED);
    /* The tick reports the next due time: b's deadline. */
    assert_int_equal(tick(f, 1 * MS), 100 * MS);
    assert_int_equal(tick(f, 100 * MS - 1), 100 * MS);
    assert_int_equal(b.hooks, 0);
    assert_int_equal(tick(f, 100 * MS), 150 * MS);
    assert_int_equal(b.hooks, 1);
    assert_int_equal(b.outcome, FLOW_BUSY);
    assert_int_equal(b.t.reason, FLOW_R_TIMEOUT);
    assert_int_equal(b.hook_at, 100 * MS);
    /* No tick at c's deadline; the slot frees after it: c is refused, not
     * started late. */
    assert_int_equal(done(&a, 150 * MS + 1), 0);
    assert_int_equal(c.hooks, 1);
    assert_int_equal(c.outcome, FLOW_BUSY);
    assert_int_equal(c.t.reason, FLOW_R_TIMEOUT);
    /* Startable exactly at the deadline: started. */
    struct req d, e;
    assert_int_equal(admit(f, "PAY", SEC, &d, 4), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", SEC, &e, 5), FLOW_QUEUED);
    assert_int_equal(done(&d, SEC + 100 * MS), 0);
    assert_int_equal(e.outcome, FLOW_ADMITTED);
    done(&e, 2 * SEC);
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_int_equal(s.refused[FLOW_R_TIMEOUT], 2);
    assert_int_equal(s.admitted, 3);
    check_books(f, "PAY");
    /* max_wait_ms = 0: no waiting at all. */
    flow_free(f, 3 * SEC);
    config_free(&cfg);
    f = make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 0\n", NULL);
    assert_int_equal(admit(f, "PAY", 0, &a, 1), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", 0, &b, 2), FLOW_BUSY);
    assert_int_equal(b.t.reason, FLOW_R_CONCURRENCY);
    done(&a, 1);
    flow_free(f, 1);
    config_free(&cfg);
}

static void waits_for_token_and_predicts(void **state)
{
    struct config cfg;
    struct flow *f =
        make_flow(&cfg, "[flow.PAY]\nrate = 10\nburst = 1\nqueue = 10\nmax_wait_ms = 250\n", NULL);
    struct req a, b, c, d;
    assert_int_equal(admit(f, "PAY", 0, &a, 1), FLOW_ADMITTED);
    done(&a, 0);
    assert_int_equal(admit(f, "PAY", 0, &b, 2), FLOW_QUEUED); /* token at 100 ms */
    assert_int_equal(admit(f, "PAY", 0, &c, 3), FLOW_QUEUED); /* token at 200 ms */
    /* Its token would come at 300 ms > 250 ms: refused now, not at 250 ms. */
    assert_int_equal(admit(f, "PAY", 0, &d, 4), FLOW_BUSY);
    assert_int_equal(d.t.reason, FLOW_R_RATE);
    assert_int_equal(d.t.retry_after_s, 1);
    assert_int_equal(tick(f, 0), 100 * MS); /* next due: b's token */
    assert_int_equal(tick(f, 100 * MS - 1), 100 * MS);
    assert_int_equal(b.hooks, 0);
    assert_int_equal(tick(f, 100 * MS), 200 * MS);
    assert_int_equal(b.outcome, FLOW_ADMITTED);
    assert_int_equal(b.hook_at, 100 * MS);
    /* b still running does not hold c back: slots are many, tokens few. */
    assert_int_equal(tick(f, 200 * MS), UINT64_MAX);
    assert_int_equal(c.outcome, FLOW_ADMITTED);
    done(&b, 200 * MS);
    done(&c, 200 * MS);
    check_books(f, "PAY");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void global_caps_overload(void **state)
{
    struct config cfg;
    struct flow_caps caps = {.max_connections = 2, .max_in_flight = 2, .max_queued = 1};
    struct flow *f = make_flow(&cfg,
                               "[flow.A]\nmax_concurrent = 1\nqueue = 5\nmax_wait_ms = 1000\n"
                               "[flow.B]\nmax_concurrent = 5\nqueue = 5\nmax_wait_ms = 1000\n",
                               &caps);
    struct req a1, a2, a3, b1, b2, l1;
    assert_int_equal(admit(f, "A", 0, &a1, 1), FLOW_ADMITTED);
    assert_int_equal(admit(f, "B", 0, &b1, 2), FLOW_ADMITTED);
    /* In-flight cap: B has slots and tokens but the process is full. */
    assert_int_equal(admit(f, "B", 0, &b2, 3), FLOW_OVERLOADED);
    assert_int_equal(b2.t.reason, FLOW_R_OVERLOADED);
    assert_int_equal(flow_reason_status(b2.t.reason), 503);
    assert_string_equal(flow_reason_code(b2.t.reason), "overloaded");
    /* Queued cap: one waiter in the whole process. */
    assert_int_equal(admit(f, "A", 0, &a2, 4), FLOW_QUEUED);
    assert_int_equal(admit(f, "A", 0, &a3, 5), FLOW_OVERLOADED);
    /* The priority class is outside the caps. */
    assert_int_equal(admit(f, "LOGIN", 0, &l1, 6), FLOW_ADMITTED);
    done(&l1, 0);
    /* Connection cap: more than 2 open connections. */
    flow_conn_open(f);
    flow_conn_open(f);
    done(&b1, 1);
    assert_int_equal(admit(f, "B", 1, &b2, 7), FLOW_ADMITTED);
    done(&b2, 1);
    flow_conn_open(f);
    assert_int_equal(admit(f, "B", 1, &b2, 8), FLOW_OVERLOADED);
    assert_int_equal(admit(f, "LOGIN", 1, &l1, 9), FLOW_ADMITTED);
    done(&l1, 1);
    flow_conn_close(f);
    assert_int_equal(admit(f, "B", 1, &b2, 10), FLOW_ADMITTED);
    struct flow_global_stats g;
    flow_global_stats(f, &g);
    assert_int_equal(g.connections, 2);
    assert_int_equal(g.in_flight, 2);
    assert_int_equal(g.queued, 1);
    done(&b2, 1);
    done(&a1, 2); /* a2 starts */
    assert_int_equal(a2.outcome, FLOW_ADMITTED);
    done(&a2, 2);
    flow_global_stats(f, &g);
    assert_int_equal(g.in_flight, 0);
    assert_int_equal(g.queued, 0);
    check_books(f, "A");
    check_books(f, "B");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void head_waits_for_global_slot(void **state)
{
    struct config cfg;
    struct flow_caps caps = {.max_in_flight = 2};
    struct flow *f = make_flow(&cfg,
                               "[flow.Q]\nrate = 10\nburst = 1\nqueue = 5\nmax_wait_ms = 500\n"
                               "[flow.P]\nmax_concurrent = 5\n",
                               &caps);
    struct req q1, q2, p1, p2;
    assert_int_equal(admit(f, "Q", 0, &q1, 1), FLOW_ADMITTED);
    done(&q1, MS);
    assert_int_equal(admit(f, "Q", 2 * MS, &q2, 2), FLOW_QUEUED); /* token at 100 ms */
    assert_int_equal(admit(f, "P", 3 * MS, &p1, 3), FLOW_ADMITTED);
    assert_int_equal(admit(f, "P", 3 * MS, &p2, 4), FLOW_ADMITTED);
    /* Token and slot at 100 ms, but no global slot: keeps waiting. */
    tick(f, 100 * MS);
    assert_int_equal(q2.hooks, 0);
    /* A P request finishing hands its global slot to Q's head at once. */
    done(&p1, 120 * MS);
    assert_int_equal(q2.outcome, FLOW_ADMITTED);
    assert_int_equal(q2.hook_at, 120 * MS);
    done(&q2, 130 * MS);
    done(&p2, 130 * MS);
    flow_free(f, SEC);
    config_free(&cfg);
}

static void priority_not_starved_by_flood(void **state)
{
    struct config cfg;
    struct flow_caps caps = {.max_connections = 50, .max_in_flight = 8, .max_queued = 16};
    struct flow *f = make_flow(&cfg,
                               "[flow.default]\nrate = 100000\nburst = 1000\nmax_concurrent = 64\n"
                               "queue = 1000\nmax_wait_ms = 10000\n"
                               "[flow.LOGIN]\nrate = 100\nburst = 10\nmax_concurrent = 4\n",
                               &caps);
    enum { FLOOD = 20000 };
    struct req *biz = calloc(FLOOD, sizeof *biz);
    assert_non_null(biz);
    for (int i = 0; i < 200; i++)
        flow_conn_open(f); /* the flood's connections, far over the cap */
    int logins = 0, biz_admitted = 0;
    for (int i = 0; i < FLOOD; i++) {
        uint64_t now = (uint64_t)i * 50000; /* 20 000/s of business for 1 s */
        /* Business requests never finish: the worst case for the caps. */
        if (admit(f, i % 2 ? "PAY" : "BALANCE", now, &biz[i], i) == FLOW_ADMITTED)
            biz_admitted++;
        if (i % 200 == 0) { /* a login every 10 ms */
            struct req l;
            assert_int_equal(admit(f, "LOGIN", now, &l, -1), FLOW_ADMITTED);
            assert_int_equal(done(&l, now), 0);
            logins++;
        }
        tick(f, now);
    }
    assert_int_equal(logins, FLOOD / 200);
    assert_int_equal(biz_admitted, 0); /* connections over the cap from the start */
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_int_equal(s.refused[FLOW_R_OVERLOADED], FLOOD);
    check_books(f, "PAY");
    /* Within the connection cap the business flood fills the in-flight and
     * queued caps; LOGIN still gets through. */
    for (int i = 0; i < 200; i++)
        flow_conn_close(f);
    int queued = 0;
    for (int i = 0; i < FLOOD; i++) {
        uint64_t now = 2 * SEC + (uint64_t)i * 50000;
        enum flow_verdict v = admit(f, "PAY", now, &biz[i], i);
        biz_admitted += v == FLOW_ADMITTED;
        queued += v == FLOW_QUEUED;
        if (i % 200 == 0) {
            struct req l;
            assert_int_equal(admit(f, "LOGIN", now, &l, -1), FLOW_ADMITTED);
            assert_int_equal(done(&l, now), 0);
        }
    }
    assert_int_equal(biz_admitted, 8);
    struct flow_global_stats g;
    flow_global_stats(f, &g);
    assert_int_equal(g.in_flight, 8);
    assert_int_equal(g.queued, queued);
    assert_true(g.queued <= 16);
    flow_stats(f, "LOGIN", &s);
    assert_int_equal(s.refused_total, 0);
    flow_free(f, 10 * SEC); /* shutdown refuses the waiters */
    free(biz);
    config_free(&cfg);
}

static struct flow *reload_to(struct flow *f, struct config *cfg, const char *ini, uint64_t now)
{
    config_free(cfg);
    load_conf(cfg, ini);
    char err[256];
    if (flow_reload(f, cfg, NULL, now, err, sizeof err))
        fail_msg("flow_reload: %s", err);
    return f;
}

static void reload_keeps_queue(void **state)
{
    struct config cfg;
    struct flow *f =
        make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 1000\n", NULL);
    struct req r[8];
    assert_int_equal(admit(f, "PAY", 0, &r[0], 0), FLOW_ADMITTED);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(admit(f, "PAY", (uint64_t)i * MS, &r[i], i), FLOW_QUEUED);
    /* Shrink everything. */
    reload_to(f, &cfg,
              "[flow.PAY]\nrate = 5\nburst = 5\nmax_concurrent = 1\nqueue = 1\nmax_wait_ms = 50\n",
              10 * MS);
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_int_equal(s.queued, 4); /* nobody dropped */
    assert_int_equal(s.queue, 1);
    assert_int_equal(H.n, 0);
    /* Over the new size: arrivals refused until it drains below. */
    assert_int_equal(admit(f, "PAY", 11 * MS, &r[5], 5), FLOW_BUSY);
    assert_int_equal(r[5].t.reason, FLOW_R_QUEUE_FULL);
    /* FIFO continues; old deadlines (1000 ms + arrival) still hold, not 50 ms. */
    assert_int_equal(tick(f, 500 * MS), 1001 * MS);
    assert_int_equal(H.n, 0);
    done(&r[0], 600 * MS);
    assert_int_equal(H.order[0], 1);
    done(&r[1], 700 * MS);
    assert_int_equal(H.order[1], 2);
    /* r[2] runs; r[3] and r[4] keep their old deadlines, 1003 and 1004 ms. */
    assert_int_equal(tick(f, 1002 * MS), 1003 * MS);
    assert_int_equal(tick(f, 1003 * MS), 1004 * MS);
    assert_int_equal(r[3].outcome, FLOW_BUSY);
    assert_int_equal(r[3].t.reason, FLOW_R_TIMEOUT);
    assert_int_equal(r[3].hook_at, 1003 * MS);
    assert_int_equal(r[4].hooks, 0);
    assert_int_equal(tick(f, 1004 * MS), UINT64_MAX);
    assert_int_equal(r[4].t.reason, FLOW_R_TIMEOUT);
    assert_int_equal(r[4].hook_at, 1004 * MS);
    assert_int_equal(done(&r[2], 1005 * MS), 0);
    check_books(f, "PAY");
    flow_free(f, 2 * SEC);
    config_free(&cfg);
}

static void reload_retires_and_unorders(void **state)
{
    struct config cfg;
    struct flow *f =
        make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 1000\n", NULL);
    struct req a, b, c, d;
    assert_int_equal(admit(f, "PAY", 0, &a, 1), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", 0, &b, 2), FLOW_QUEUED); /* deadline 1000 ms */
    /* PAY's section is gone: new PAY requests use default... */
    reload_to(f, &cfg, "[flow.default]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 1000\n", MS);
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_string_equal(s.rule, "default");
    assert_int_equal(admit(f, "PAY", 2 * MS, &c, 3), FLOW_ADMITTED);
    /* ...while the old rule finishes its own: done(a) starts b. */
    done(&a, 3 * MS);
    assert_int_equal(b.outcome, FLOW_ADMITTED);
    done(&b, 4 * MS);
    /* Bring PAY back with max_wait 1000, queue one; then shorten max_wait so
     * that a later waiter falls due before an earlier one. */
    reload_to(f, &cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 1000\n", 5 * MS);
    assert_int_equal(admit(f, "PAY", 6 * MS, &a, 1), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", 6 * MS, &b, 2), FLOW_QUEUED); /* due 1006 ms */
    reload_to(f, &cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 100\n", 7 * MS);
    assert_int_equal(admit(f, "PAY", 10 * MS, &d, 4), FLOW_QUEUED); /* due 110 ms */
    assert_int_equal(tick(f, 50 * MS), 110 * MS);
    assert_int_equal(tick(f, 110 * MS), 1006 * MS);
    assert_int_equal(d.outcome, FLOW_BUSY);
    assert_int_equal(d.t.reason, FLOW_R_TIMEOUT);
    assert_int_equal(d.hook_at, 110 * MS);
    assert_int_equal(b.hooks, 0); /* the head keeps its place */
    done(&a, 200 * MS);
    assert_int_equal(b.outcome, FLOW_ADMITTED);
    done(&b, 300 * MS);
    done(&c, 300 * MS);
    check_books(f, "PAY");
    /* A failed reload changes nothing. */
    struct config bad;
    config_defaults(&bad, "/tmp");
    struct config_named *n = &bad.named[bad.nnamed++];
    snprintf(n->area, sizeof n->area, "flow");
    snprintf(n->name, sizeof n->name, "PAY");
    n->keys[0] = "max_wait_ms";
    n->vals[0] = strdup("-1");
    char err[256];
    assert_int_equal(flow_reload(f, &bad, NULL, SEC, err, sizeof err), -1);
    assert_non_null(strstr(err, "max_wait_ms"));
    flow_stats(f, "PAY", &s);
    assert_int_equal(s.max_wait_ms, 100);
    config_free(&bad);
    flow_free(f, 2 * SEC);
    config_free(&cfg);
}

static void reload_raises_limits_starts_waiters(void **state)
{
    struct config cfg;
    struct flow *f =
        make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 1000\n", NULL);
    struct req r[4];
    assert_int_equal(admit(f, "PAY", 0, &r[0], 0), FLOW_ADMITTED);
    for (int i = 1; i < 4; i++)
        assert_int_equal(admit(f, "PAY", 0, &r[i], i), FLOW_QUEUED);
    reload_to(f, &cfg, "[flow.PAY]\nmax_concurrent = 3\nqueue = 8\nmax_wait_ms = 1000\n", MS);
    assert_int_equal(H.n, 2); /* two more slots: the first two waiters start */
    assert_int_equal(H.order[0], 1);
    assert_int_equal(H.order[1], 2);
    assert_int_equal(r[3].hooks, 0);
    for (int i = 0; i < 4; i++)
        done(&r[i], 2 * MS);
    check_books(f, "PAY");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void cancel_and_shutdown(void **state)
{
    struct config cfg;
    struct flow *f =
        make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 8\nmax_wait_ms = 1000\n", NULL);
    struct req a, b, c, d;
    assert_int_equal(admit(f, "PAY", 0, &a, 1), FLOW_ADMITTED);
    assert_int_equal(admit(f, "PAY", 0, &b, 2), FLOW_QUEUED);
    assert_int_equal(admit(f, "PAY", 0, &c, 3), FLOW_QUEUED);
    assert_int_equal(flow_cancel(&b.t, MS), 0);
    assert_int_equal(b.t.verdict, FLOW_CANCELLED);
    assert_int_equal(b.hooks, 0); /* no hook for a withdrawn request */
    assert_int_equal(flow_cancel(&b.t, MS), -1);
    assert_int_equal(flow_cancel(&a.t, MS), -1); /* running, not queued */
    flow_shutdown(f, 2 * MS);
    assert_int_equal(c.outcome, FLOW_OVERLOADED);
    assert_int_equal(c.t.reason, FLOW_R_SHUTDOWN);
    assert_int_equal(admit(f, "PAY", 3 * MS, &d, 4), FLOW_OVERLOADED);
    assert_int_equal(d.t.reason, FLOW_R_SHUTDOWN);
    assert_int_equal(done(&a, 4 * MS), 0); /* running ones still finish */
    struct flow_stats s;
    flow_stats(f, "PAY", &s);
    assert_int_equal(s.refused[FLOW_R_CANCELLED], 1);
    assert_int_equal(s.refused[FLOW_R_SHUTDOWN], 2);
    check_books(f, "PAY");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void books_balance_under_random_ops(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg,
                               "[flow.PAY]\nrate = 200\nburst = 5\nmax_concurrent = 3\n"
                               "queue = 6\nmax_wait_ms = 40\n",
                               NULL);
    enum { N = 64 };
    struct req r[N];
    memset(r, 0, sizeof r);
    uint64_t now = 0, x = 99;
    for (int step = 0; step < 100000; step++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        now += (x >> 40) % (2 * MS);
        struct req *q = &r[(x >> 20) % N];
        int op = (int)((x >> 8) % 4);
        /* White box: the ticket's private state (2 running, 1 queued). */
        bool running = q->t.rule_ && q->t.state_ == 2;
        bool waiting = q->t.rule_ && q->t.state_ == 1;
        if (op == 0)
            tick(f, now);
        else if (running)
            assert_int_equal(done(q, now), 0);
        else if (waiting && op == 1)
            assert_int_equal(flow_cancel(&q->t, now), 0);
        else if (!waiting)
            admit(f, "PAY", now, q, step);
        assert_true(q->hooks <= 1);
        check_books(f, "PAY");
        struct flow_stats s;
        flow_stats(f, "PAY", &s);
        assert_true(s.in_flight <= 3);
        assert_true(s.queued <= 6);
    }
    flow_free(f, now + SEC);
    config_free(&cfg);
}

static void metrics_series(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg, "[flow.PAY]\nmax_concurrent = 1\nqueue = 0\n", NULL);
    struct req a, b;
    admit(f, "PAY", 0, &a, 1);
    admit(f, "PAY", 0, &b, 2);
    char *text = metrics_render(NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "zhanye_flow_offered_total{tx=\"PAY\"} 2\n"));
    assert_non_null(strstr(text, "zhanye_flow_admitted_total{tx=\"PAY\"} 1\n"));
    assert_non_null(
        strstr(text, "zhanye_flow_refused_total{tx=\"PAY\",reason=\"concurrency\"} 1\n"));
    assert_non_null(strstr(text, "zhanye_flow_in_flight{tx=\"PAY\"} 1\n"));
    assert_non_null(strstr(text, "zhanye_flow_global_in_flight 1\n"));
    assert_non_null(
        strstr(text, "zhanye_flow_queue_wait_seconds_bucket{tx=\"PAY\",le=\"0.0001\"}"));
    free(text);
    done(&a, 1);
    assert_int_equal(flow_reason_status(FLOW_R_QUEUE_FULL), 429);
    assert_int_equal(flow_reason_status(FLOW_R_SHUTDOWN), 503);
    assert_int_equal(flow_reason_status(FLOW_R_CANCELLED), 0);
    assert_int_equal(flow_reason_status(FLOW_R_NONE), 0);
    assert_string_equal(flow_reason_code(FLOW_R_TIMEOUT), "busy");
    assert_string_equal(flow_reason_name(FLOW_R_QUEUE_FULL), "queue_full");
    assert_string_equal(flow_reason_name((enum flow_reason)99), "unknown");
    flow_free(f, 1);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(builtin_defaults_match_config, teardown),
        cmocka_unit_test_teardown(rules_inherit_default_and_priority, teardown),
        cmocka_unit_test_teardown(bad_hand_built_config_fails, teardown),
        cmocka_unit_test_teardown(concurrency_cap, teardown),
        cmocka_unit_test_teardown(fifo_order_and_queue_full, teardown),
        cmocka_unit_test_teardown(deadline_exact_and_never_late, teardown),
        cmocka_unit_test_teardown(waits_for_token_and_predicts, teardown),
        cmocka_unit_test_teardown(global_caps_overload, teardown),
        cmocka_unit_test_teardown(head_waits_for_global_slot, teardown),
        cmocka_unit_test_teardown(priority_not_starved_by_flood, teardown),
        cmocka_unit_test_teardown(reload_keeps_queue, teardown),
        cmocka_unit_test_teardown(reload_retires_and_unorders, teardown),
        cmocka_unit_test_teardown(reload_raises_limits_starts_waiters, teardown),
        cmocka_unit_test_teardown(cancel_and_shutdown, teardown),
        cmocka_unit_test_teardown(books_balance_under_random_ops, teardown),
        cmocka_unit_test_teardown(metrics_series, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
