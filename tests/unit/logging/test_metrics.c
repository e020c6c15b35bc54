/* metrics: exact Prometheus 0.0.4 text for each type, exact sums under
 * concurrent updates, misuse that aborts. */
#include "foundation/metrics.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define THREADS 8
#define PER_THREAD 100000

static int teardown(void **state)
{
    metrics_shutdown();
    return 0;
}

static void expect_render(const char *want)
{
    size_t len = 0;
    char *got = metrics_render(&len);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    free(got);
}

static void empty_registry(void **state)
{
    expect_render("");
    metrics_describe("zhanye_unused_total", "counter", "Never used.");
    expect_render(""); /* a family with no series is not listed */
}

static void counter_format(void **state)
{
    metrics_describe("zhanye_http_requests_total", "counter", "HTTP requests served.");
    struct metric *ok =
        metrics_counter("zhanye_http_requests_total", "route=\"/healthz\",status=\"200\"");
    struct metric *err =
        metrics_counter("zhanye_http_requests_total", "route=\"/api/v1/tx\",status=\"500\"");
    metric_add(ok, 41);
    metric_inc(ok);
    metric_inc(err);
    assert_ptr_equal(
        ok, metrics_counter("zhanye_http_requests_total", "route=\"/healthz\",status=\"200\""));
    struct metric *bare = metrics_counter("zhanye_boots_total", NULL);
    assert_ptr_equal(bare, metrics_counter("zhanye_boots_total", ""));
    metric_add(bare, UINT64_C(18446744073709551615));
    expect_render("# TYPE zhanye_boots_total counter\n"
                  "zhanye_boots_total 18446744073709551615\n"
                  "# HELP zhanye_http_requests_total HTTP requests served.\n"
                  "# TYPE zhanye_http_requests_total counter\n"
                  "zhanye_http_requests_total{route=\"/api/v1/tx\",status=\"500\"} 1\n"
                  "zhanye_http_requests_total{route=\"/healthz\",status=\"200\"} 42\n");
}

static int64_t fake_drops(void)
{
    return 7;
}

static void gauge_format(void **state)
{
    struct metric *g = metrics_gauge("zhanye_sessions", NULL);
    metric_set(g, 10);
    metric_inc(g);
    metric_dec(g);
    metric_dec(g);
    struct metric *neg = metrics_gauge("zhanye_skew_ms", "peer=\"a\"");
    metric_set(neg, -250);
    metrics_gauge_fn("zhanye_log_drops", NULL, fake_drops);
    metrics_describe("zhanye_sessions", "gauge", "Open sessions.\nBackslash \\ here.");
    expect_render("# TYPE zhanye_log_drops gauge\n"
                  "zhanye_log_drops 7\n"
                  "# HELP zhanye_sessions Open sessions.\\nBackslash \\\\ here.\n"
                  "# TYPE zhanye_sessions gauge\n"
                  "zhanye_sessions 9\n"
                  "# TYPE zhanye_skew_ms gauge\n"
                  "zhanye_skew_ms{peer=\"a\"} -250\n");
}

static void histogram_format(void **state)
{
    static const double bounds[] = {0.005, 0.5, 1};
    metrics_describe("zhanye_req_seconds", "histogram", "Request latency.");
    struct metric *h = metrics_histogram("zhanye_req_seconds", "route=\"/a\"", bounds, 3);
    metric_observe(h, 0.00390625);
    metric_observe(h, 0.25);
    metric_observe(h, 0.5); /* le is inclusive */
    metric_observe(h, 2);
    expect_render("# HELP zhanye_req_seconds Request latency.\n"
                  "# TYPE zhanye_req_seconds histogram\n"
                  "zhanye_req_seconds_bucket{route=\"/a\",le=\"0.005\"} 1\n"
                  "zhanye_req_seconds_bucket{route=\"/a\",le=\"0.5\"} 3\n"
                  "zhanye_req_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
                  "zhanye_req_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
                  "zhanye_req_seconds_sum{route=\"/a\"} 2.75390625\n"
                  "zhanye_req_seconds_count{route=\"/a\"} 4\n");
}

/* Read back: a series found without creating one, per-bucket counts. */
static void find_and_read_histogram(void **state)
{
    static const double bounds[] = {0.1, 1};
    assert_null(metrics_find("zhanye_wait_seconds", "tx=\"A\""));
    struct metric *h = metrics_histogram("zhanye_wait_seconds", "tx=\"A\"", bounds, 2);
    assert_ptr_equal(metrics_find("zhanye_wait_seconds", "tx=\"A\""), h);
    assert_null(metrics_find("zhanye_wait_seconds", "tx=\"B\""));
    metric_observe(h, 0.05);
    metric_observe(h, 0.5);
    metric_observe(h, 0.7);
    metric_observe(h, 5);
    uint64_t counts[4];
    double b[4];
    assert_int_equal(metric_histogram_read(h, counts, b, 4), 3);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 2);
    assert_int_equal(counts[2], 1);
    assert_true(b[0] == 0.1 && b[1] == 1 && isinf(b[2]));
    assert_int_equal(metric_histogram_read(metrics_counter("zhanye_x_total", NULL), counts, b, 4),
                     0);
}

static void histogram_default_buckets(void **state)
{
    assert_int_equal(METRICS_LATENCY_NBUCKETS, 14);
    assert_true(METRICS_LATENCY_BUCKETS[0] == 0.0005);
    assert_true(METRICS_LATENCY_BUCKETS[13] == 10);
    struct metric *h = metrics_histogram("zhanye_db_seconds", NULL, METRICS_LATENCY_BUCKETS,
                                         METRICS_LATENCY_NBUCKETS);
    metric_observe(h, 0.1);
    metric_observe(h, NAN); /* ignored */
    metric_observe(h, 30);
    expect_render("# TYPE zhanye_db_seconds histogram\n"
                  "zhanye_db_seconds_bucket{le=\"0.0005\"} 0\n"
                  "zhanye_db_seconds_bucket{le=\"0.001\"} 0\n"
                  "zhanye_db_seconds_bucket{le=\"0.0025\"} 0\n"
                  "zhanye_db_seconds_bucket{le=\"0.005\"} 0\n"
                  "zhanye_db_seconds_bucket{le=\"0.01\"} 0\n"
                  "zhanye_db_seconds_bucket{le=\"0.025\"} 0\n"
                  "zhanye_db_seconds_bucket{le=\"0.05\"} 0\n"
                  "zhanye_db_seconds_bucket{le=\"0.1\"} 1\n"
                  "zhanye_db_seconds_bucket{le=\"0.25\"} 1\n"
                  "zhanye_db_seconds_bucket{le=\"0.5\"} 1\n"
                  "zhanye_db_seconds_bucket{le=\"1\"} 1\n"
                  "zhanye_db_seconds_bucket{le=\"2.5\"} 1\n"
                  "zhanye_db_seconds_bucket{le=\"5\"} 1\n"
                  "zhanye_db_seconds_bucket{le=\"10\"} 1\n"
                  "zhanye_db_seconds_bucket{le=\"+Inf\"} 2\n"
                  "zhanye_db_seconds_sum 30.1\n"
                  "zhanye_db_seconds_count 2\n");
}

struct shared {
    pthread_barrier_t start;
};

static void *hammer(void *arg)
{
    struct shared *sh = arg;
    pthread_barrier_wait(&sh->start);
    /* Lazy registration races too: every thread must get the same series. */
    struct metric *c = metrics_counter("zhanye_hits_total", "k=\"v\"");
    struct metric *g = metrics_gauge("zhanye_inflight", NULL);
    struct metric *h = metrics_histogram("zhanye_lat_seconds", NULL, METRICS_LATENCY_BUCKETS,
                                         METRICS_LATENCY_NBUCKETS);
    for (int i = 0; i < PER_THREAD; i++) {
        metric_inc(c);
        metric_add(c, 2);
        metric_inc(g);
        metric_observe(h, 0.25);
        metric_dec(g);
    }
    return NULL;
}

static void *render_loop(void *arg)
{
    for (int i = 0; i < 50; i++)
        free(metrics_render(NULL));
    return arg;
}

static void concurrent_updates_are_exact(void **state)
{
    struct shared sh;
    pthread_t th[THREADS], renderer;
    pthread_barrier_init(&sh.start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hammer, &sh), 0);
    assert_int_equal(pthread_create(&renderer, NULL, render_loop, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_join(renderer, NULL);
    pthread_barrier_destroy(&sh.start);

    char *out = metrics_render(NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "\nzhanye_hits_total{k=\"v\"} 2400000\n"));
    assert_non_null(strstr(out, "\nzhanye_inflight 0\n"));
    assert_non_null(strstr(out, "\nzhanye_lat_seconds_bucket{le=\"0.1\"} 0\n"));
    assert_non_null(strstr(out, "\nzhanye_lat_seconds_bucket{le=\"0.25\"} 800000\n"));
    assert_non_null(strstr(out, "\nzhanye_lat_seconds_bucket{le=\"+Inf\"} 800000\n"));
    assert_non_null(strstr(out, "\nzhanye_lat_seconds_sum 200000\n"));
    assert_non_null(strstr(out, "\nzhanye_lat_seconds_count 800000\n"));
    free(out);
}

static void shutdown_resets(void **state)
{
    metric_inc(metrics_counter("zhanye_a_total", NULL));
    metrics_shutdown();
    expect_render("");
    metric_inc(metrics_counter("zhanye_a_total", NULL));
    expect_render("# TYPE zhanye_a_total counter\nzhanye_a_total 1\n");
}

static void misuse_in_child(int which)
{
    switch (which) {
    case 0:
        metrics_counter("zhanye_x", NULL);
        metrics_gauge("zhanye_x", "a=\"b\"");
        break;
    case 1:
        metrics_counter("bad-name", NULL);
        break;
    case 2: {
        static const double desc[] = {1, 0.5};
        metrics_histogram("zhanye_h", NULL, desc, 2);
        break;
    }
    default:
        metrics_describe("zhanye_y", "summary", "unsupported");
        break;
    }
}

static void misuse_aborts(void **state)
{
    for (int which = 0; which < 4; which++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, STDERR_FILENO);
            misuse_in_child(which);
            _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(empty_registry, teardown),
        cmocka_unit_test_teardown(counter_format, teardown),
        cmocka_unit_test_teardown(gauge_format, teardown),
        cmocka_unit_test_teardown(histogram_format, teardown),
        cmocka_unit_test_teardown(find_and_read_histogram, teardown),
        cmocka_unit_test_teardown(histogram_default_buckets, teardown),
        cmocka_unit_test_teardown(concurrent_updates_are_exact, teardown),
        cmocka_unit_test_teardown(shutdown_resets, teardown),
        cmocka_unit_test_teardown(misuse_aborts, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
