/* breaker: the exact state machine of docs/egress.md, on a fake clock. */
#include "egress/breaker.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static int changes[3];

static void on_change(void *user, enum breaker_state from, enum breaker_state to)
{
    (void)user;
    (void)from;
    changes[to]++;
}

static const struct breaker_config CFG = {
    .window = 10,
    .min_calls = 4,
    .failure_rate_pct = 50,
    .slow_ms = 1000,
    .slow_rate_pct = 100,
    .open_ms = 500,
    .half_open_calls = 2,
};

static void call(struct breaker *b, int64_t now, bool failed, int64_t ms)
{
    struct breaker_permit p;
    assert_int_equal(breaker_acquire(b, now, &p), 0);
    breaker_record(b, now + ms, &p, failed, ms);
}

static void opens_on_the_min_calls_th_failure(void **state)
{
    struct breaker b;
    memset(changes, 0, sizeof changes);
    assert_int_equal(breaker_init(&b, &CFG, on_change, NULL), 0);
    for (int i = 0; i < 3; i++) {
        call(&b, 0, true, 1);
        assert_int_equal(breaker_state(&b, 1), BREAKER_CLOSED);
    }
    call(&b, 10, true, 1);
    assert_int_equal(breaker_state(&b, 11), BREAKER_OPEN);
    assert_int_equal(changes[BREAKER_OPEN], 1);
    struct breaker_permit p;
    assert_int_equal(breaker_acquire(&b, 11 + 498, &p), -1); /* opened at 11, open_ms 500 */
    assert_int_equal(breaker_state(&b, 11 + 499), BREAKER_OPEN);
    assert_int_equal(breaker_state(&b, 11 + 500), BREAKER_HALF_OPEN);
    assert_int_equal(changes[BREAKER_HALF_OPEN], 1);
}

static void rate_is_judged_with_at_least_min_calls(void **state)
{
    struct breaker b;
    struct breaker_config c = CFG;
    c.failure_rate_pct = 60;
    assert_int_equal(breaker_init(&b, &c, NULL, NULL), 0);
    call(&b, 0, true, 1);
    call(&b, 0, false, 1);
    call(&b, 0, true, 1);
    call(&b, 0, false, 1); /* 2 of 4 = 50 % < 60 % */
    assert_int_equal(breaker_state(&b, 1), BREAKER_CLOSED);
    call(&b, 0, true, 1); /* 3 of 5 = 60 % */
    assert_int_equal(breaker_state(&b, 1), BREAKER_OPEN);
}

static void window_slides(void **state)
{
    struct breaker b;
    struct breaker_config c = CFG;
    c.window = 4;
    assert_int_equal(breaker_init(&b, &c, NULL, NULL), 0);
    call(&b, 0, true, 1);
    for (int i = 0; i < 4; i++)
        call(&b, 0, false, 1); /* the failure leaves the window */
    call(&b, 0, true, 1);      /* 1 of 4 */
    assert_int_equal(breaker_state(&b, 1), BREAKER_CLOSED);
    call(&b, 0, true, 1); /* 2 of 4 = 50 % */
    assert_int_equal(breaker_state(&b, 1), BREAKER_OPEN);
}

static void slow_calls_trip_it(void **state)
{
    struct breaker b;
    struct breaker_config c = CFG;
    c.slow_ms = 100;
    c.slow_rate_pct = 50;
    assert_int_equal(breaker_init(&b, &c, NULL, NULL), 0);
    call(&b, 0, false, 100); /* exactly slow_ms is slow */
    call(&b, 0, false, 99);
    call(&b, 0, false, 5);
    assert_int_equal(breaker_state(&b, 1), BREAKER_CLOSED);
    call(&b, 0, false, 250); /* 2 of 4 slow */
    assert_int_equal(breaker_state(&b, 1), BREAKER_OPEN);
}

static void trip(struct breaker *b, int64_t now)
{
    for (int i = 0; i < 4; i++)
        call(b, now, true, 0);
    assert_int_equal(breaker_state(b, now), BREAKER_OPEN);
}

static void half_open_probes_close_it(void **state)
{
    struct breaker b;
    memset(changes, 0, sizeof changes);
    assert_int_equal(breaker_init(&b, &CFG, on_change, NULL), 0);
    trip(&b, 0);
    struct breaker_permit p1, p2, p3;
    assert_int_equal(breaker_acquire(&b, 500, &p1), 0);
    assert_true(p1.probe);
    assert_int_equal(breaker_acquire(&b, 500, &p2), 0);
    assert_int_equal(breaker_acquire(&b, 500, &p3), -1); /* only half_open_calls probes */
    breaker_record(&b, 510, &p1, false, 10);
    assert_int_equal(breaker_state(&b, 510), BREAKER_HALF_OPEN);
    breaker_record(&b, 520, &p2, false, 20);
    assert_int_equal(breaker_state(&b, 520), BREAKER_CLOSED);
    assert_int_equal(changes[BREAKER_CLOSED], 1);
    /* Closed with an empty window: three new failures do not trip it. */
    for (int i = 0; i < 3; i++)
        call(&b, 600, true, 0);
    assert_int_equal(breaker_state(&b, 600), BREAKER_CLOSED);
}

static void failed_or_slow_probe_reopens(void **state)
{
    struct breaker b;
    assert_int_equal(breaker_init(&b, &CFG, NULL, NULL), 0);
    trip(&b, 0);
    struct breaker_permit p;
    assert_int_equal(breaker_acquire(&b, 500, &p), 0);
    breaker_record(&b, 700, &p, true, 200);
    assert_int_equal(breaker_state(&b, 700), BREAKER_OPEN);
    assert_int_equal(breaker_acquire(&b, 1199, &p), -1); /* a new open_ms from 700 */
    assert_int_equal(breaker_acquire(&b, 1200, &p), 0);
    breaker_record(&b, 2300, &p, false, 1100); /* successful but slow */
    assert_int_equal(breaker_state(&b, 2300), BREAKER_OPEN);
}

static void stragglers_are_ignored(void **state)
{
    struct breaker b;
    assert_int_equal(breaker_init(&b, &CFG, NULL, NULL), 0);
    struct breaker_permit old;
    assert_int_equal(breaker_acquire(&b, 0, &old), 0); /* in flight across the trip */
    trip(&b, 0);
    struct breaker_permit p1, p2;
    assert_int_equal(breaker_acquire(&b, 500, &p1), 0);
    assert_int_equal(breaker_acquire(&b, 500, &p2), 0);
    breaker_record(&b, 501, &old, false, 501);
    breaker_record(&b, 502, &p1, false, 2);
    assert_int_equal(breaker_state(&b, 502), BREAKER_HALF_OPEN); /* old did not count */
    breaker_record(&b, 503, &p2, false, 3);
    assert_int_equal(breaker_state(&b, 503), BREAKER_CLOSED);
}

static void cancel_returns_the_probe_slot(void **state)
{
    struct breaker b;
    assert_int_equal(breaker_init(&b, &CFG, NULL, NULL), 0);
    trip(&b, 0);
    struct breaker_permit p1, p2, p3;
    assert_int_equal(breaker_acquire(&b, 500, &p1), 0);
    assert_int_equal(breaker_acquire(&b, 500, &p2), 0);
    assert_int_equal(breaker_acquire(&b, 500, &p3), -1);
    breaker_cancel(&b, &p2);
    assert_int_equal(breaker_acquire(&b, 500, &p3), 0);
}

static void bad_config_is_refused(void **state)
{
    struct breaker b;
    struct breaker_config c = CFG;
    c.min_calls = 11;
    assert_int_equal(breaker_init(&b, &c, NULL, NULL), -1);
    c = CFG;
    c.window = BREAKER_MAX_WINDOW + 1;
    assert_int_equal(breaker_init(&b, &c, NULL, NULL), -1);
    c = CFG;
    c.failure_rate_pct = 0;
    assert_int_equal(breaker_init(&b, &c, NULL, NULL), -1);
    assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(opens_on_the_min_calls_th_failure),
        cmocka_unit_test(rate_is_judged_with_at_least_min_calls),
        cmocka_unit_test(window_slides),
        cmocka_unit_test(slow_calls_trip_it),
        cmocka_unit_test(half_open_probes_close_it),
        cmocka_unit_test(failed_or_slow_probe_reopens),
        cmocka_unit_test(stragglers_are_ignored),
        cmocka_unit_test(cancel_returns_the_probe_slot),
        cmocka_unit_test(bad_config_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
