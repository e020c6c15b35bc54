/* flow, per client address, on a fake clock: the keys and their built-in
 * defaults (LOGIN a quarter of its rule), the per-address rate to the
 * request, an address over its limit taking neither the rule's tokens nor a
 * queue place, IPv6 /64 and IPv4-mapped keys, a bounded table under 100 000
 * sprayed addresses, and reload. */
#include "access/flow_addr.h"
#include "test_flow_util.h"

static int teardown(void **state)
{
    metrics_shutdown();
    return 0;
}

/* The last refusal one() saw. */
static enum flow_reason why;
static int retry;

/* One request that must not queue; an admitted one is done at once. */
static enum flow_verdict one(struct flow *f, const char *tx, const char *addr, uint64_t now)
{
    struct req q;
    enum flow_verdict v = admit_from(f, tx, addr, now, &q, 0);
    assert_int_not_equal(v, FLOW_QUEUED);
    if (v == FLOW_ADMITTED)
        assert_int_equal(done(&q, now), 0);
    why = q.t.reason;
    retry = q.t.retry_after_s;
    return v;
}

static struct flow_stats stats(struct flow *f, const char *tx)
{
    struct flow_stats s;
    assert_int_equal(flow_stats(f, tx, &s), 0);
    return s;
}

static void reload_to(struct flow *f, struct config *cfg, const char *ini, uint64_t now)
{
    config_free(cfg);
    load_conf(cfg, ini);
    char err[256];
    if (flow_reload(f, cfg, NULL, now, err, sizeof err))
        fail_msg("flow_reload: %s", err);
}

static void keys_and_builtin_defaults(void **state)
{
    struct config cfg;
    /* LOGIN: a quarter of its own rule; every other TX off. */
    struct flow *f =
        make_flow(&cfg, "[flow.LOGIN]\nrate = 20\nburst = 8\n[flow.PAY]\nrate = 50\n", NULL);
    struct flow_stats s = stats(f, "LOGIN");
    assert_int_equal(s.per_addr_rate, 5);
    assert_int_equal(s.per_addr_burst, 2);
    const char *off[] = {"LOGOUT", "PAY", "NOSUCH"};
    for (int i = 0; i < 3; i++) {
        s = stats(f, off[i]);
        assert_int_equal(s.per_addr_rate, 0);
        assert_int_equal(s.per_addr_burst, 0);
    }
    /* config.c's declared defaults: 0 (off) and 0 (derived). */
    assert_string_equal(config_named_get(&cfg, "flow", "PAY", "per_addr_rate"), "0");
    assert_string_equal(config_named_get(&cfg, "flow", "PAY", "per_addr_burst"), "0");
    flow_free(f, 0);
    config_free(&cfg);

    /* Tiny rules still get at least 1/s and a bucket of 1. */
    f = make_flow(&cfg, "[flow.LOGIN]\nrate = 3\nburst = 1\n", NULL);
    s = stats(f, "LOGIN");
    assert_int_equal(s.per_addr_rate, 1);
    assert_int_equal(s.per_addr_burst, 1);
    flow_free(f, 0);
    config_free(&cfg);

    /* [flow.default] sets it for everyone, LOGIN included; a section's own
     * value wins, 0 turns it off, and a burst left at 0 is a quarter of the
     * TX's own burst. */
    f = make_flow(&cfg,
                  "[flow.default]\nper_addr_rate = 7\n"
                  "[flow.LOGIN]\nrate = 40\n"
                  "[flow.PAY]\nper_addr_rate = 0\n"
                  "[flow.Q]\nburst = 40\n"
                  "[flow.R]\nper_addr_burst = 3\n",
                  NULL);
    struct {
        const char *tx;
        int64_t rate, burst;
    } want[] = {{"LOGIN", 7, 25}, {"LOGOUT", 7, 25}, {"PAY", 0, 0},
                {"Q", 7, 10},     {"R", 7, 3},       {"NOSUCH", 7, 25}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        s = stats(f, want[i].tx);
        assert_int_equal(s.per_addr_rate, want[i].rate);
        assert_int_equal(s.per_addr_burst, want[i].burst);
    }
    flow_free(f, 0);
    config_free(&cfg);

    /* LOGIN's built-in turned off. */
    f = make_flow(&cfg, "[flow.LOGIN]\nper_addr_rate = 0\n", NULL);
    assert_int_equal(stats(f, "LOGIN").per_addr_rate, 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(one(f, "LOGIN", "192.0.2.1", 0), FLOW_ADMITTED);
    flow_free(f, 0);
    config_free(&cfg);
}

static void bad_hand_built_values_fail(void **state)
{
    struct config cfg;
    config_defaults(&cfg, "/tmp");
    struct config_named *s = &cfg.named[cfg.nnamed++];
    snprintf(s->area, sizeof s->area, "flow");
    snprintf(s->name, sizeof s->name, "PAY");
    s->keys[0] = "per_addr_rate";
    s->vals[0] = strdup("-3");
    struct flow *f = NULL;
    char err[256] = "";
    assert_int_equal(flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err), -1);
    assert_null(f);
    assert_non_null(strstr(err, "[flow.PAY] per_addr_rate = '-3'"));
    s->keys[0] = "per_addr_burst";
    assert_int_equal(flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err), -1);
    assert_non_null(strstr(err, "[flow.PAY] per_addr_burst = '-3'"));
    config_free(&cfg);
}

static void per_addr_rate_exact(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg,
                               "[flow.PAY]\nrate = 100000\nburst = 1000\nmax_concurrent = 1000\n"
                               "per_addr_rate = 10\nper_addr_burst = 3\n",
                               NULL);
    /* A every millisecond for 10 s, B every 200 ms. */
    int a_ok = 0, a_refused = 0, b_ok = 0;
    uint64_t a_at[200];
    for (uint64_t t = 0; t < 10 * SEC; t += MS) {
        enum flow_verdict v = one(f, "PAY", "192.0.2.1", t);
        if (v == FLOW_ADMITTED) {
            assert_true(a_ok < 200);
            a_at[a_ok++] = t;
        } else {
            assert_int_equal(v, FLOW_BUSY);
            assert_int_equal(why, FLOW_R_ADDR_RATE);
            assert_int_equal(retry, 1);
            a_refused++;
        }
        if (t % (200 * MS) == 0) {
            assert_int_equal(one(f, "PAY", "192.0.2.2", t), FLOW_ADMITTED);
            b_ok++;
        }
    }
    /* burst + rate * w exactly: the bucket of 3 in the first 3 ms, then one
     * every 100 ms, each at the first arrival it can take. */
    assert_int_equal(a_ok, 3 + 99);
    for (int k = 0; k < a_ok; k++)
        assert_int_equal(a_at[k], k < 3 ? (uint64_t)k * MS : (uint64_t)(k - 2) * 100 * MS);
    assert_int_equal(b_ok, 50);
    struct flow_stats s = stats(f, "PAY");
    assert_int_equal(s.refused[FLOW_R_ADDR_RATE], a_refused);
    assert_int_equal(s.refused_total, a_refused);
    assert_int_equal(s.admitted, a_ok + b_ok);
    check_books(f, "PAY");
    /* No address, no per-address check. */
    for (int i = 0; i < 50; i++) {
        assert_int_equal(one(f, "PAY", NULL, 10 * SEC), FLOW_ADMITTED);
        assert_int_equal(one(f, "PAY", "", 10 * SEC), FLOW_ADMITTED);
    }
    flow_free(f, 11 * SEC);
    config_free(&cfg);
}

static void over_limit_spares_the_rules_tokens(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg,
                               "[flow.PAY]\nrate = 10\nburst = 10\nqueue = 0\n"
                               "per_addr_rate = 2\nper_addr_burst = 2\n",
                               NULL);
    /* A floods: two pass, 998 are refused on its own limit. */
    int a_ok = 0;
    for (int i = 0; i < 1000; i++)
        if (one(f, "PAY", "192.0.2.1", 0) == FLOW_ADMITTED)
            a_ok++;
        else
            assert_int_equal(why, FLOW_R_ADDR_RATE);
    assert_int_equal(a_ok, 2);
    /* The rule's other 8 tokens are all still there for 8 other addresses. */
    char addr[32];
    for (int i = 0; i < 8; i++) {
        snprintf(addr, sizeof addr, "198.51.100.%d", i + 1);
        assert_int_equal(one(f, "PAY", addr, 0), FLOW_ADMITTED);
    }
    /* Now the rule is empty: J is refused by the rule, and gets its address
     * token back. */
    assert_int_equal(one(f, "PAY", "203.0.113.9", 0), FLOW_BUSY);
    assert_int_equal(why, FLOW_R_RATE);
    /* 300 ms later the rule has 3 tokens: J uses its whole bucket of 2 (it
     * would have had 1 had the refusal cost it one), then hits its limit. */
    assert_int_equal(one(f, "PAY", "203.0.113.9", 300 * MS), FLOW_ADMITTED);
    assert_int_equal(one(f, "PAY", "203.0.113.9", 300 * MS), FLOW_ADMITTED);
    assert_int_equal(one(f, "PAY", "203.0.113.9", 300 * MS), FLOW_BUSY);
    assert_int_equal(why, FLOW_R_ADDR_RATE);
    assert_int_equal(one(f, "PAY", "203.0.113.10", 300 * MS), FLOW_ADMITTED);
    struct flow_stats s = stats(f, "PAY");
    assert_int_equal(s.admitted, 2 + 8 + 2 + 1);
    assert_int_equal(s.refused[FLOW_R_ADDR_RATE], 998 + 1);
    assert_int_equal(s.refused[FLOW_R_RATE], 1);
    check_books(f, "PAY");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void over_limit_takes_no_queue_place(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg,
                               "[flow.PAY]\nrate = 10\nburst = 1\nqueue = 2\nmax_wait_ms = 1000\n"
                               "per_addr_rate = 1\nper_addr_burst = 1\n",
                               NULL);
    struct req x, a, c, flood;
    assert_int_equal(admit_from(f, "PAY", "198.51.100.1", 0, &x, 0), FLOW_ADMITTED);
    /* The rule's token is gone: A queues, on its one address token. */
    assert_int_equal(admit_from(f, "PAY", "192.0.2.1", 0, &a, 1), FLOW_QUEUED);
    /* A's flood is refused on its own limit: no queue place taken. */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(admit_from(f, "PAY", "192.0.2.1", MS, &flood, 2), FLOW_BUSY);
        assert_int_equal(flood.t.reason, FLOW_R_ADDR_RATE);
    }
    assert_int_equal(stats(f, "PAY").queued, 1);
    assert_int_equal(admit_from(f, "PAY", "192.0.2.3", MS, &c, 3), FLOW_QUEUED);
    assert_int_equal(H.queued_hooks, 2);
    /* FIFO as ever: A at 100 ms, C at 200 ms. */
    tick(f, 100 * MS);
    tick(f, 200 * MS);
    assert_int_equal(H.n, 2);
    assert_int_equal(H.order[0], 1);
    assert_int_equal(H.order[1], 3);
    assert_int_equal(a.outcome, FLOW_ADMITTED);
    assert_int_equal(c.outcome, FLOW_ADMITTED);
    done(&x, 200 * MS);
    done(&a, 200 * MS);
    done(&c, 200 * MS);
    check_books(f, "PAY");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void ipv6_prefix_and_mapped_keys(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg, "[flow.PAY]\nper_addr_rate = 1\nper_addr_burst = 1\n", NULL);
    struct {
        const char *addr;
        enum flow_verdict v;
    } seq[] = {
        {"2001:db8:1:2::1", FLOW_ADMITTED},
        {"2001:db8:1:2:ffff:ffff:ffff:ffff", FLOW_BUSY}, /* the same /64 */
        {"2001:db8:1:3::1", FLOW_ADMITTED},
        {"10.0.0.1", FLOW_ADMITTED},
        {"::ffff:10.0.0.1", FLOW_BUSY}, /* the same IPv4 address */
        {"::1", FLOW_ADMITTED},
        {"not-an-address", FLOW_ADMITTED},
        {"not-an-address", FLOW_BUSY},
        {"not-an-address2", FLOW_ADMITTED},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        assert_int_equal(one(f, "PAY", seq[i].addr, 0), seq[i].v);
        if (seq[i].v == FLOW_BUSY)
            assert_int_equal(why, FLOW_R_ADDR_RATE);
    }
    struct flow_addr_key a, b;
    flow_addr_key_of("2001:db8:1:2::1", &a);
    flow_addr_key_of("2001:0db8:0001:0002:abcd::", &b);
    assert_true(a.hi == b.hi && a.lo == b.lo);
    flow_addr_key_of("10.0.0.1", &a);
    flow_addr_key_of("10.0.0.2", &b);
    assert_false(a.hi == b.hi && a.lo == b.lo);
    flow_free(f, SEC);
    config_free(&cfg);
}

#define SPRAY 100000

static uint64_t evicted_metric(void)
{
    char *text = metrics_render(NULL);
    assert_non_null(text);
    const char *key = "zhanye_flow_addr_evicted_total{tx=\"LOGIN\"} ";
    const char *at = strstr(text, key);
    assert_non_null(at);
    uint64_t v = strtoull(at + strlen(key), NULL, 10);
    free(text);
    return v;
}

static void table_bounded_under_spraying(void **state)
{
    /* The fixed footprint the header promises. */
    assert_int_equal(FLOW_ADDR_SLOTS, 4096);
    assert_int_equal(sizeof(struct flow_addr_slot), 32);
    assert_true(sizeof(struct flow_addr) < 129 * 1024);

    struct config cfg;
    struct flow *f = make_flow(&cfg,
                               "[flow.LOGIN]\nrate = 10000000\nburst = 10000000\n"
                               "per_addr_rate = 10\nper_addr_burst = 5\n",
                               NULL);
    /* 100 000 distinct addresses in 100 ms, each owing a token for 100 ms
     * after its request: far more live entries than the table holds. A
     * flooder at its limit keeps sending all along. */
    int flood_ok = 0;
    char addr[32];
    uint64_t t = 0;
    for (int i = 0; i < SPRAY; i++, t += 1000) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_int_equal(one(f, "LOGIN", addr, t), FLOW_ADMITTED);
        if (i % 100 == 0 && one(f, "LOGIN", "192.0.2.77", t) == FLOW_ADMITTED)
            flood_ok++;
    }
    /* The flooder owes the most, so it is never the one forgotten: exactly
     * its bucket of 5 in these 100 ms. */
    assert_int_equal(flood_ok, 5);
    struct flow_stats s = stats(f, "LOGIN");
    assert_true(s.addr_tracked <= FLOW_ADDR_SLOTS);
    assert_true(s.addr_tracked > FLOW_ADDR_SLOTS / 2);
    /* Every new address took a free slot or evicted a live entry. */
    assert_int_equal(s.addr_tracked + (int64_t)s.addr_evicted, SPRAY + 1);
    assert_int_equal(evicted_metric(), s.addr_evicted);
    assert_int_equal(s.refused[FLOW_R_ADDR_RATE], SPRAY / 100 - 5);
    /* By 300 ms every sprayed entry has expired by itself, and the flooder
     * has earned exactly 3 tokens back (10/s; it owed up to 500 ms). */
    int n = 0;
    while (one(f, "LOGIN", "192.0.2.77", 300 * MS) == FLOW_ADMITTED)
        n++;
    assert_int_equal(n, 3);
    assert_int_equal(why, FLOW_R_ADDR_RATE);
    assert_int_equal(stats(f, "LOGIN").addr_tracked, 1);
    /* At 1.3 s it owes nothing and has its whole bucket again. */
    for (n = 0; one(f, "LOGIN", "192.0.2.77", 1300 * MS) == FLOW_ADMITTED;)
        n++;
    assert_int_equal(n, 5);
    assert_int_equal(why, FLOW_R_ADDR_RATE);
    check_books(f, "LOGIN");
    flow_free(f, 2 * SEC);
    config_free(&cfg);
}

static const char RELOAD_A[] = "[flow.LOGIN]\nrate = 100\nburst = 100\n"
                               "per_addr_rate = 1\nper_addr_burst = 1\n"
                               "[flow.PAY]\nrate = 100\n";

static void reload_keeps_or_resets_addresses(void **state)
{
    const char *A = "192.0.2.1";
    struct config cfg;
    struct flow *f = make_flow(&cfg, RELOAD_A, NULL);
    assert_int_equal(one(f, "LOGIN", A, 0), FLOW_ADMITTED);
    assert_int_equal(one(f, "LOGIN", A, 1 * MS), FLOW_BUSY);
    /* Unchanged limits: the state is kept. */
    reload_to(f, &cfg, RELOAD_A, 2 * MS);
    assert_int_equal(one(f, "LOGIN", A, 3 * MS), FLOW_BUSY);
    assert_int_equal(why, FLOW_R_ADDR_RATE);
    /* Changed limits: every address starts afresh. */
    reload_to(f, &cfg,
              "[flow.LOGIN]\nrate = 100\nburst = 100\nper_addr_rate = 2\nper_addr_burst = 1\n"
              "[flow.PAY]\nrate = 100\n",
              4 * MS);
    assert_int_equal(one(f, "LOGIN", A, 5 * MS), FLOW_ADMITTED);
    assert_int_equal(one(f, "LOGIN", A, 6 * MS), FLOW_BUSY);
    /* Off. */
    reload_to(f, &cfg, "[flow.LOGIN]\nrate = 100\nburst = 100\nper_addr_rate = 0\n", 7 * MS);
    struct flow_stats s = stats(f, "LOGIN");
    assert_int_equal(s.per_addr_rate, 0);
    assert_int_equal(s.addr_tracked, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(one(f, "LOGIN", A, 8 * MS), FLOW_ADMITTED);
    /* PAY, an existing rule, gains a limit; LOGIN is back to its built-in
     * (a quarter of default's 1000/s and 100). */
    reload_to(f, &cfg, "[flow.PAY]\nper_addr_rate = 1\nper_addr_burst = 1\n", 9 * MS);
    s = stats(f, "LOGIN");
    assert_int_equal(s.per_addr_rate, 250);
    assert_int_equal(s.per_addr_burst, 25);
    assert_int_equal(one(f, "PAY", A, 10 * MS), FLOW_ADMITTED);
    assert_int_equal(one(f, "PAY", A, 11 * MS), FLOW_BUSY);
    assert_int_equal(why, FLOW_R_ADDR_RATE);
    /* A bad file changes nothing. */
    struct config bad;
    config_defaults(&bad, "/tmp");
    struct config_named *n = &bad.named[bad.nnamed++];
    snprintf(n->area, sizeof n->area, "flow");
    snprintf(n->name, sizeof n->name, "PAY");
    n->keys[0] = "per_addr_burst";
    n->vals[0] = strdup("lots");
    char err[256] = "";
    assert_int_equal(flow_reload(f, &bad, NULL, 12 * MS, err, sizeof err), -1);
    assert_non_null(strstr(err, "per_addr_burst"));
    config_free(&bad);
    assert_int_equal(one(f, "PAY", A, 13 * MS), FLOW_BUSY);
    assert_int_equal(stats(f, "PAY").per_addr_rate, 1);
    /* PAY's section goes (it maps to default, unlimited), then returns. */
    reload_to(f, &cfg, "[flow.X]\nrate = 5\n", 14 * MS);
    assert_string_equal(stats(f, "PAY").rule, "default");
    for (int i = 0; i < 5; i++)
        assert_int_equal(one(f, "PAY", A, 15 * MS), FLOW_ADMITTED);
    reload_to(f, &cfg, "[flow.PAY]\nper_addr_rate = 1\nper_addr_burst = 1\n", 16 * MS);
    assert_int_equal(one(f, "PAY", A, 17 * MS), FLOW_ADMITTED);
    assert_int_equal(one(f, "PAY", A, 18 * MS), FLOW_BUSY);
    check_books(f, "PAY");
    check_books(f, "LOGIN");
    flow_free(f, SEC);
    config_free(&cfg);
}

static void reason_and_metric(void **state)
{
    struct config cfg;
    struct flow *f = make_flow(&cfg, "[flow.LOGIN]\nrate = 20\nburst = 4\n", NULL);
    assert_int_equal(one(f, "LOGIN", "192.0.2.1", 0), FLOW_ADMITTED);
    assert_int_equal(one(f, "LOGIN", "192.0.2.1", 0), FLOW_BUSY);
    assert_int_equal(why, FLOW_R_ADDR_RATE);
    assert_int_equal(retry, 1);
    assert_int_equal(flow_reason_status(FLOW_R_ADDR_RATE), 429);
    assert_string_equal(flow_reason_code(FLOW_R_ADDR_RATE), "busy");
    assert_string_equal(flow_reason_name(FLOW_R_ADDR_RATE), "addr_rate");
    char *text = metrics_render(NULL);
    assert_non_null(text);
    assert_non_null(
        strstr(text, "zhanye_flow_refused_total{tx=\"LOGIN\",reason=\"addr_rate\"} 1\n"));
    assert_non_null(strstr(text, "zhanye_flow_admitted_total{tx=\"LOGIN\"} 1\n"));
    free(text);
    flow_free(f, SEC);
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(keys_and_builtin_defaults, teardown),
        cmocka_unit_test_teardown(bad_hand_built_values_fail, teardown),
        cmocka_unit_test_teardown(per_addr_rate_exact, teardown),
        cmocka_unit_test_teardown(over_limit_spares_the_rules_tokens, teardown),
        cmocka_unit_test_teardown(over_limit_takes_no_queue_place, teardown),
        cmocka_unit_test_teardown(ipv6_prefix_and_mapped_keys, teardown),
        cmocka_unit_test_teardown(table_bounded_under_spraying, teardown),
        cmocka_unit_test_teardown(reload_keeps_or_resets_addresses, teardown),
        cmocka_unit_test_teardown(reason_and_metric, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
