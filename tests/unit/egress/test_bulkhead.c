/* bulkhead: the cap, FIFO hand-over, a full queue, deadlines; and the retry budget. */
#include "egress/bulkhead.h"
#include "egress/retry.h"
#include "foundation/clock.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define MS 1000000ull

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void cap_and_full_queue(void **state)
{
    struct bulkhead bh;
    assert_int_equal(bulkhead_init(&bh, 2, 0), 0);
    uint64_t dl = clock_mono_ns() + 1000 * MS;
    assert_int_equal(bulkhead_enter(&bh, dl), BULKHEAD_OK);
    assert_int_equal(bulkhead_enter(&bh, dl), BULKHEAD_OK);
    uint64_t t0 = clock_mono_ns();
    assert_int_equal(bulkhead_enter(&bh, dl), BULKHEAD_FULL); /* queue 0: refused at once */
    assert_true(clock_mono_ns() - t0 < 20 * MS);
    assert_int_equal(bulkhead_in_flight(&bh), 2);
    bulkhead_leave(&bh);
    assert_int_equal(bulkhead_enter(&bh, dl), BULKHEAD_OK);
    bulkhead_leave(&bh);
    bulkhead_leave(&bh);
    assert_int_equal(bulkhead_in_flight(&bh), 0);
    bulkhead_destroy(&bh);
    assert_int_equal(bulkhead_init(&bh, 0, 1), -1);
}

static void waiter_times_out(void **state)
{
    struct bulkhead bh;
    assert_int_equal(bulkhead_init(&bh, 1, 4), 0);
    assert_int_equal(bulkhead_enter(&bh, clock_mono_ns() + 1000 * MS), BULKHEAD_OK);
    uint64_t t0 = clock_mono_ns();
    assert_int_equal(bulkhead_enter(&bh, t0 + 60 * MS), BULKHEAD_TIMEOUT);
    uint64_t took = clock_mono_ns() - t0;
    assert_true(took >= 60 * MS);
    assert_true(took < 110 * MS);
    assert_int_equal(bulkhead_waiting(&bh), 0);
    bulkhead_leave(&bh);
    assert_int_equal(bulkhead_in_flight(&bh), 0);
    bulkhead_destroy(&bh);
}

struct fifo {
    struct bulkhead bh;
    pthread_mutex_t mu;
    int order[8];
    int n;
};

struct waiter {
    struct fifo *f;
    int id;
};

static void *wait_and_record(void *arg)
{
    struct waiter *w = arg;
    if (bulkhead_enter(&w->f->bh, clock_mono_ns() + 5000 * MS) == BULKHEAD_OK) {
        pthread_mutex_lock(&w->f->mu);
        w->f->order[w->f->n++] = w->id;
        pthread_mutex_unlock(&w->f->mu);
        sleep_ms(5);
        bulkhead_leave(&w->f->bh);
    }
    return NULL;
}

static void waiters_are_served_in_order(void **state)
{
    static struct fifo f;
    memset(&f, 0, sizeof f);
    pthread_mutex_init(&f.mu, NULL);
    assert_int_equal(bulkhead_init(&f.bh, 1, 8), 0);
    assert_int_equal(bulkhead_enter(&f.bh, clock_mono_ns() + 1000 * MS), BULKHEAD_OK);
    pthread_t th[4];
    struct waiter w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct waiter){&f, i};
        pthread_create(&th[i], NULL, wait_and_record, &w[i]);
        while (bulkhead_waiting(&f.bh) < i + 1) /* queued before the next one starts */
            sleep_ms(1);
    }
    bulkhead_leave(&f.bh);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(f.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(f.order[i], i);
    assert_int_equal(bulkhead_in_flight(&f.bh), 0);
    bulkhead_destroy(&f.bh);
    pthread_mutex_destroy(&f.mu);
}

static void *enter_and_stay(void *arg)
{
    struct bulkhead *bh = arg;
    return (void *)(intptr_t)bulkhead_enter(bh, clock_mono_ns() + 5000 * MS);
}

/* New limits under traffic: a larger max starts the waiters at once; a
 * smaller one hands no slot on until in flight is below it; a smaller queue
 * refuses arrivals but keeps its waiters. */
static void limits_change_live(void **state)
{
    struct bulkhead bh;
    assert_int_equal(bulkhead_init(&bh, 1, 4), 0);
    assert_int_equal(bulkhead_enter(&bh, clock_mono_ns() + 1000 * MS), BULKHEAD_OK);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, enter_and_stay, &bh);
    while (bulkhead_waiting(&bh) < 2)
        sleep_ms(1);
    assert_int_equal(bulkhead_set_limits(&bh, 0, 4), -1); /* refused, nothing changed */
    assert_int_equal(bulkhead_set_limits(&bh, 3, 4), 0);
    for (int i = 0; i < 2; i++) {
        void *rc;
        pthread_join(th[i], &rc);
        assert_int_equal((int)(intptr_t)rc, BULKHEAD_OK);
    }
    assert_int_equal(bulkhead_in_flight(&bh), 3);
    assert_int_equal(bulkhead_waiting(&bh), 0);

    /* Down to 1 with 3 inside: a waiter gets a slot only once 0 are left. */
    assert_int_equal(bulkhead_set_limits(&bh, 1, 1), 0);
    pthread_create(&th[0], NULL, enter_and_stay, &bh);
    while (bulkhead_waiting(&bh) < 1)
        sleep_ms(1);
    assert_int_equal(bulkhead_enter(&bh, clock_mono_ns() + 1000 * MS), BULKHEAD_FULL); /* queue 1 */
    bulkhead_leave(&bh);
    bulkhead_leave(&bh);
    sleep_ms(20);
    assert_int_equal(bulkhead_waiting(&bh), 1); /* 1 inside, max 1: still waiting */
    assert_int_equal(bulkhead_in_flight(&bh), 1);
    bulkhead_leave(&bh);
    void *rc;
    pthread_join(th[0], &rc);
    assert_int_equal((int)(intptr_t)rc, BULKHEAD_OK);
    assert_int_equal(bulkhead_in_flight(&bh), 1);
    bulkhead_leave(&bh);
    assert_int_equal(bulkhead_in_flight(&bh), 0);
    bulkhead_destroy(&bh);
}

static void retry_budget_limits_retries(void **state)
{
    struct retry_budget rb;
    retry_budget_init(&rb, 20, 10); /* 2 tokens, 0.2 per first attempt */
    assert_true(retry_budget_withdraw(&rb));
    assert_true(retry_budget_withdraw(&rb));
    assert_false(retry_budget_withdraw(&rb));
    for (int i = 0; i < 4; i++)
        retry_budget_deposit(&rb);
    assert_false(retry_budget_withdraw(&rb)); /* 0.8 */
    retry_budget_deposit(&rb);
    assert_true(retry_budget_withdraw(&rb)); /* 1.0 */
    for (int i = 0; i < 100; i++)
        retry_budget_deposit(&rb); /* capped at 2 */
    assert_true(retry_budget_withdraw(&rb));
    assert_true(retry_budget_withdraw(&rb));
    assert_false(retry_budget_withdraw(&rb));
    retry_budget_init(&rb, 0, 10);
    retry_budget_deposit(&rb);
    assert_false(retry_budget_withdraw(&rb)); /* 0 % disables retries */
    retry_budget_init(&rb, 5, 4);             /* tiny budgets still allow one */
    assert_true(retry_budget_withdraw(&rb));
}

static void backoff_grows_and_is_capped(void **state)
{
    assert_true(retry_backoff_ms(1, 0) == 10);
    assert_true(retry_backoff_ms(2, 0) == 20);
    assert_true(retry_backoff_ms(3, 7) >= 40 && retry_backoff_ms(3, 7) <= 50);
    assert_true(retry_backoff_ms(30, 12345) <= 250);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cap_and_full_queue),
        cmocka_unit_test(waiter_times_out),
        cmocka_unit_test(waiters_are_served_in_order),
        cmocka_unit_test(limits_change_live),
        cmocka_unit_test(retry_budget_limits_retries),
        cmocka_unit_test(backoff_grows_and_is_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
