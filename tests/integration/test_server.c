/* The foundation over real HTTP: a real `zhanye serve` in a temp directory. */
#include "data/store.h"
#include "testd.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static int setup(void **state)
{
    static struct testd d;
    if (testd_init(&d, NULL) || testd_start(&d))
        return -1;
    *state = &d;
    return 0;
}

static int teardown(void **state)
{
    testd_cleanup(*state);
    return 0;
}

static void healthz_and_readyz(void **state)
{
    struct testd *d = *state;
    long st;
    json_t *j = http_get_json(d, "/healthz", &st);
    assert_int_equal(st, 200);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    j = http_get_json(d, "/readyz", &st);
    assert_int_equal(st, 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ready");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "checks"), "database")), "ok");
    json_decref(j);
}

static void unknown_route_is_json_404(void **state)
{
    struct testd *d = *state;
    long st;
    json_t *j = http_get_json(d, "/no/such/thing", &st);
    assert_int_equal(st, 404);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "not_found");
    json_decref(j);
}

static void metrics_count_requests(void **state)
{
    struct testd *d = *state;
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", d->base);
    for (int i = 0; i < 3; i++) {
        struct http_result r;
        assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
        http_result_free(&r);
    }
    snprintf(url, sizeof url, "%s/metrics", d->base);
    struct http_result r;
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    const char *line =
        strstr(r.body, "zhanye_http_requests_total{route=\"/healthz\",status=\"200\"} ");
    assert_non_null(line);
    assert_true(atoi(strchr(line, '}') + 2) >= 3);
    assert_non_null(
        strstr(r.body, "zhanye_http_request_duration_seconds_bucket{route=\"/healthz\""));
    assert_non_null(strstr(r.body, "zhanye_http_in_flight "));
    assert_non_null(strstr(r.body, "zhanye_log_dropped_lines "));
    http_result_free(&r);
}

static void oversized_body_is_413(void **state)
{
    struct testd *d = *state;
    size_t n = 9u << 20; /* default limit is 8 MiB */
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    char url[128];
    snprintf(url, sizeof url, "%s/api/v1/tx/LOGIN", d->base);
    struct http_result r;
    http_do("POST", url, big, n, &r); /* the server may close before all is sent */
    free(big);
    assert_int_equal(r.status, 413);
    assert_non_null(r.body);
    assert_non_null(strstr(r.body, "\"too_large\""));
    http_result_free(&r);
}

/* Re-running init is refused: on SQLite the database file exists; on
 * MariaDB the server's database already holds banks. */
static void init_refuses_to_overwrite(void **state)
{
    struct testd *d = *state;
    char *err = NULL;
    int rc = run_zhanye(NULL, &err, "init", "--data", d->dir, NULL);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "refusing to overwrite"));
    if (testd_mariadb())
        assert_non_null(strstr(err, "already initialised (it holds banks)"));
    free(err);
}

/* `zhanye init --demo` makes the demo banks' business data through the
 * transaction handlers themselves: customers of both banks (persons and
 * businesses), visits with leads, feedback, rule tags and performance
 * counters, every one audited in a chain that verifies. */
static int64_t count_of(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = -1;
    if (store_acquire(st, &c) != STORE_OK)
        return -1;
    if (store_prepare(c, sql, &s) == STORE_OK && store_step(s) == STORE_ROW)
        n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

static void init_demo_makes_business_data(void **state)
{
    (void)state;
    if (testd_mariadb())
        skip(); /* the file layout of a data directory of its own */
    char dir[] = "/tmp/zhanye-demo-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    char *out = NULL, *err = NULL;
    int rc = run_zhanye(&out, &err, "init", "--data", dir, "--demo", NULL);
    if (rc != 0)
        fail_msg("zhanye init --demo: %d %s", rc, err ? err : "");
    free(out);
    free(err);
    snprintf(path, sizeof path, "%s/zhanye.db", dir);
    struct store_config cfg = {.backend = "sqlite", .path = path, .pool_size = 1};
    struct store *st = NULL;
    assert_int_equal(store_open(&cfg, &st), STORE_OK);
    assert_true(count_of(st, "SELECT COUNT(DISTINCT bank_id) FROM customers") == 2);
    assert_true(count_of(st, "SELECT COUNT(*) FROM customers WHERE kind = 'person'") >= 30);
    assert_true(count_of(st, "SELECT COUNT(*) FROM customers WHERE kind = 'business'") >= 4);
    assert_true(count_of(st, "SELECT COUNT(*) FROM visits") >= 16);
    assert_true(count_of(st, "SELECT COUNT(*) FROM visit_leads") >= 4);
    assert_true(count_of(st, "SELECT COUNT(*) FROM recommend_feedback") >= 8);
    assert_true(count_of(st, "SELECT COUNT(*) FROM customer_tags") > 0);
    assert_true(count_of(st, "SELECT COUNT(*) FROM perf_counters") > 0);
    /* completed businesses of the six kinds in both banks, each with its voucher and its
     * delivery pending */
    assert_int_equal(count_of(st, "SELECT COUNT(*) FROM biz WHERE status = 'completed'"), 12);
    assert_int_equal(count_of(st, "SELECT COUNT(DISTINCT kind) FROM biz"), 6);
    assert_int_equal(count_of(st, "SELECT COUNT(DISTINCT bank_id) FROM biz"), 2);
    assert_int_equal(count_of(st, "SELECT COUNT(*) FROM vouchers"), 12);
    assert_int_equal(count_of(st, "SELECT COUNT(*) FROM vouchers v JOIN biz b ON b.bank_id = "
                                  "v.bank_id AND b.biz_no = v.serial AND b.kind = v.kind"),
                     12);
    assert_int_equal(count_of(st, "SELECT COUNT(*) FROM voucher_outbox WHERE status = 'pending'"),
                     12);
    assert_int_equal(count_of(st, "SELECT COUNT(*) FROM audit_log WHERE event = "
                                  "'voucher.issued'"),
                     12);
    assert_int_equal(count_of(st, "SELECT COUNT(*) FROM customers") -
                         count_of(st, "SELECT COUNT(*) FROM audit_log WHERE event = "
                                      "'customer.created'"),
                     0);
    static const char *const FINGERPRINT =
        "SELECT COUNT(*) * 1000003 + SUM(LENGTH(name) * id * bank_id) FROM customers";
    int64_t fp = count_of(st, FINGERPRINT);
    store_close(st);
    rc = run_zhanye(&out, &err, "audit", "verify", "--data", dir, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "intact"));
    free(out);
    free(err);
    /* Deterministic: a second directory gets the same customers. */
    char dir2[] = "/tmp/zhanye-demo-XXXXXX";
    assert_non_null(mkdtemp(dir2));
    assert_int_equal(run_zhanye(NULL, NULL, "init", "--data", dir2, "--demo", NULL), 0);
    struct store *st2 = NULL;
    snprintf(path, sizeof path, "%s/zhanye.db", dir2);
    assert_int_equal(store_open(&cfg, &st2), STORE_OK);
    assert_int_equal(count_of(st2, FINGERPRINT), fp);
    store_close(st2);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, dir2);
    assert_int_equal(system(cmd), 0);
}

static void check_config_ok(void **state)
{
    struct testd *d = *state;
    char *out = NULL;
    assert_int_equal(run_zhanye(&out, NULL, "serve", "--data", d->dir, "--check-config", NULL), 0);
    free(out);
}

/* A bad file: exit 2, one line naming file, line and key. */
static void expect_bad_config(const char *extra, const char *want1, const char *want2)
{
    struct testd t;
    assert_int_equal(testd_init(&t, extra), 0);
    char *err = NULL;
    assert_int_equal(run_zhanye(NULL, &err, "serve", "--data", t.dir, NULL), 2);
    assert_non_null(err);
    assert_non_null(strstr(err, "zhanye.conf:"));
    assert_non_null(strstr(err, want1));
    assert_non_null(strstr(err, want2));
    assert_non_null(strchr(err, '\n'));
    assert_string_equal(strchr(err, '\n') + 1, ""); /* exactly one line */
    free(err);
    assert_int_equal(run_zhanye(NULL, &err, "serve", "--data", t.dir, "--check-config", NULL), 2);
    free(err);
    testd_cleanup(&t);
}

static void bad_config_exits_2(void **state)
{
    (void)state;
    expect_bad_config("[server]\nlistne = 127.0.0.1:1", "unknown key 'listne'", "[server]");
    expect_bad_config("[server]\nbody_limit = lots", "'body_limit'", "[server]");
    expect_bad_config("[log]\nlevel = loud", "'level'", "[log]");
    expect_bad_config("[nosuch]\na = 1", "unknown section [nosuch]", ":");
    expect_bad_config("[flow.LOGIN]\nrate = -5", "'rate'", "[flow.LOGIN]");
    expect_bad_config("[flow.LOGIN]\nspeed = 5", "unknown key 'speed'", "[flow.LOGIN]");
    /* The HTTP front's policy keys. */
    expect_bad_config("[server]\nmetrics_allow = localhost", "'metrics_allow'", "CIDR");
    expect_bad_config("[server]\ntrusted_proxies = 10.0.0.0/33", "'trusted_proxies'", "[server]");
    expect_bad_config("[server]\ntrusted_proxies = 10.0.0.1,", "'trusted_proxies'", "[server]");
    expect_bad_config("[server]\npublic_url = ftp://zhanye", "'public_url'", "https://");
    expect_bad_config("[server]\nbuffer_limit = 1", "'buffer_limit'", "[server]");
    expect_bad_config("[server]\nadmin_body_limit = 2G", "'admin_body_limit'", "[server]");
}

struct load {
    const char *base;
    int thread;
    int ok;
    char (*ids)[32];
    int nids;
};

static void *hammer(void *arg)
{
    struct load *l = arg;
    char url[128], hdr[64];
    snprintf(url, sizeof url, "%s/healthz", l->base);
    for (int i = 0; i < l->nids; i++) {
        struct http_result r;
        snprintf(hdr, sizeof hdr, "X-Request-Id: t%d-%d", l->thread, i);
        if (http_do_hdr("GET", url, hdr, NULL, 0, &r) == 0 && r.status == 200)
            snprintf(l->ids[l->ok++], 32, "id=t%d-%d", l->thread, i);
        http_result_free(&r);
    }
    return NULL;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    if (p)
        p[n] = '\0';
    fclose(f);
    return p;
}

/* SIGTERM while 4 clients hammer the server: every answered request's
 * access line is in the log file after the server exits 0. */
static void sigterm_under_load_loses_no_line(void **state)
{
    (void)state;
    struct testd t;
    assert_int_equal(testd_init(&t, NULL), 0);
    assert_int_equal(testd_start(&t), 0);
    enum { NT = 4, N = 400 };
    pthread_t th[NT];
    struct load l[NT];
    for (int i = 0; i < NT; i++) {
        l[i] = (struct load){.base = t.base, .thread = i, .ids = calloc(N, 32), .nids = N};
        pthread_create(&th[i], NULL, hammer, &l[i]);
    }
    usleep(300 * 1000);
    assert_int_equal(testd_stop(&t), 0);
    int answered = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        answered += l[i].ok;
    }
    assert_true(answered > 0);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/zhanye.log", t.dir);
    char *log = read_file(path);
    assert_non_null(log);
    int missing = 0;
    for (int i = 0; i < NT; i++) {
        for (int k = 0; k < l[i].ok; k++) {
            char needle[40];
            snprintf(needle, sizeof needle, "%s\"", l[i].ids[k]);
            if (!strstr(log, needle))
                missing++;
        }
        free(l[i].ids);
    }
    assert_int_equal(missing, 0);
    assert_non_null(strstr(log, "\"server.stop\""));
    free(log);
    testd_cleanup(&t);
}

/* The mask of blocked signals of one thread of pid, from /proc; false if
 * the thread is gone. name gets its comm. */
static bool thread_mask(pid_t pid, const char *tid, unsigned long long *blocked, char *name,
                        size_t cap)
{
    char path[320], line[256];
    bool found = false;
    snprintf(path, sizeof path, "/proc/%d/task/%s/comm", (int)pid, tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    if (!fgets(name, (int)cap, f))
        name[0] = '\0';
    name[strcspn(name, "\n")] = '\0';
    fclose(f);
    snprintf(path, sizeof path, "/proc/%d/task/%s/status", (int)pid, tid);
    if (!(f = fopen(path, "r")))
        return false;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "SigBlk:", 7) == 0)
            found = sscanf(line + 7, "%llx", blocked) == 1;
    fclose(f);
    return found;
}

/* Only the main thread takes SIGTERM, SIGINT and SIGHUP (with sigwait):
 * every other thread of `zhanye serve` has them blocked, or a SIGTERM that
 * finds the main thread busy would kill the process outright. The named
 * threads of src/ (foundation/thread.h) are all there. */
static void signals_reach_the_main_thread_only(void **state)
{
    const struct testd *d = *state;
    static const char *const named[] = {"zhanye-log", "zhanye-nonce", "zhanye-egress",
                                        "zhanye-exec", "zhanye-flow"};
    const unsigned long long want =
        1ULL << (SIGTERM - 1) | 1ULL << (SIGINT - 1) | 1ULL << (SIGHUP - 1);
    bool seen[sizeof named / sizeof named[0]] = {false};
    char dir[64], main_tid[32], name[64];
    int threads = 0, open_to_signals = 0;
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)d->pid);
    snprintf(main_tid, sizeof main_tid, "%d", (int)d->pid);
    DIR *td = opendir(dir);
    assert_non_null(td);
    struct dirent *e;
    while ((e = readdir(td)) != NULL) {
        unsigned long long blocked = 0;
        if (e->d_name[0] == '.' || strcmp(e->d_name, main_tid) == 0 ||
            !thread_mask(d->pid, e->d_name, &blocked, name, sizeof name))
            continue;
        threads++;
        for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
            seen[i] = seen[i] || strcmp(name, named[i]) == 0;
        if ((blocked & want) != want) {
            print_error("thread %s (%s) takes process signals: SigBlk %llx\n", e->d_name, name,
                        blocked);
            open_to_signals++;
        }
    }
    closedir(td);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (!seen[i])
            fail_msg("no thread named %s", named[i]);
    assert_true(threads >= (int)(sizeof named / sizeof named[0]));
    assert_int_equal(open_to_signals, 0);
}

/* SIGTERM right after the server says it listens, 30 times: every stop is
 * the clean one (exit status 0), never a death by the signal. */
static void sigterm_right_after_start_is_clean(void **state)
{
    (void)state;
    struct testd t;
    int unclean = 0;
    assert_int_equal(testd_init(&t, NULL), 0);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(testd_start(&t), 0);
        int rc = testd_stop(&t);
        if (rc != 0) {
            print_error("stop %d: exit status %d (-1: killed by a signal)\n", i, rc);
            unclean++;
        }
    }
    assert_int_equal(unclean, 0);
    testd_cleanup(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(healthz_and_readyz),
        cmocka_unit_test(unknown_route_is_json_404),
        cmocka_unit_test(metrics_count_requests),
        cmocka_unit_test(oversized_body_is_413),
        cmocka_unit_test(init_refuses_to_overwrite),
        cmocka_unit_test(init_demo_makes_business_data),
        cmocka_unit_test(check_config_ok),
        cmocka_unit_test(signals_reach_the_main_thread_only),
    };
    const struct CMUnitTest solo[] = {
        cmocka_unit_test(bad_config_exits_2),
        cmocka_unit_test(sigterm_under_load_loses_no_line),
        cmocka_unit_test(sigterm_right_after_start_is_clean),
    };
    int failed = cmocka_run_group_tests_name("server", tests, setup, teardown);
    failed += cmocka_run_group_tests_name("server_lifecycle", solo, NULL, NULL);
    return failed ? 1 : 0;
}
