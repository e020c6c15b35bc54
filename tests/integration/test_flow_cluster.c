/* Cluster-wide flow rates over real HTTP: two `zhanye serve` nodes on one
 * data directory sharing one real Redis ([redis] servers), a rule
 * [flow.SESSION_INFO] rate = 100, burst = 10, queue = 0.
 *
 *  - both nodes flooded at once, closed loop over several keep-alive
 *    connections each, with junk bodies (flow decides on the headers: an
 *    admitted junk request is counted in zhanye_flow_admitted_total and
 *    then refused by the pipeline): the admissions of both nodes together,
 *    from their /metrics, are within 5% of R x the flood's measured length
 *    (+ the burst);
 *  - the same after `scope = node` and SIGHUP to both: each node admits the
 *    rate on its own, together more than 1.5 x R (so the first assertion
 *    can fail: without the cluster scope the cluster admits twice R). */
#include "foundation/clock.h"
#include "redis.h"
#include "testd.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define RATE 100
#define BURST 10
#define FLOOD_S 3.0
#define CONNS 3 /* per node */
#define PACE_MS 1.0
#define TX "SESSION_INFO"

static const char RULE[] = "[flow.SESSION_INFO]\n"
                           "rate = 100\n"
                           "burst = 10\n"
                           "queue = 0\n";

struct fx {
    struct redis_srv rs;
    struct testd a, b; /* b: a second `zhanye serve` on a's data directory */
};

static double now_s(void)
{
    return (double)clock_mono_ns() / 1e9;
}

static void sleep_ms(int ms)
{
    usleep((useconds_t)ms * 1000u);
}

static int write_password(const struct fx *f)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/keys/redis.password", f->a.dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, f->rs.password, strlen(f->rs.password));
    close(fd);
    return n == (ssize_t)strlen(f->rs.password) ? 0 : -1;
}

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    if (redis_srv_start(&f.rs, NULL) != 0)
        return -1;
    char conf[512];
    snprintf(conf, sizeof conf, "\n[redis]\nservers = %s\ncommand_timeout_ms = 1000\n%s",
             f.rs.servers, RULE);
    if (testd_init(&f.a, conf) || write_password(&f) || testd_start(&f.a))
        return -1;
    f.b = f.a;
    f.b.pid = 0;
    if (testd_start(&f.b))
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    testd_stop(&f->b);
    testd_cleanup(&f->a);
    redis_srv_stop(&f->rs);
    return 0;
}

/* --- the nodes' books ------------------------------------------------------------ */

/* The value of series (name and labels) in d's /metrics; 0 if absent. */
static double metric(const struct testd *d, const char *series)
{
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", d->base);
    struct http_result r;
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    double v = 0;
    size_t n = strlen(series);
    for (const char *p = r.body; p && *p;) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            v = strtod(p + n + 1, NULL);
            break;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    http_result_free(&r);
    return v;
}

static double admitted(const struct fx *f)
{
    static const char S[] = "zhanye_flow_admitted_total{tx=\"" TX "\"}";
    return metric(&f->a, S) + metric(&f->b, S);
}

/* --- the flood ----------------------------------------------------------------------- */

struct conn {
    CURL *c;
    long status;
};

static size_t discard(char *data, size_t size, size_t nmemb, void *user)
{
    return size * nmemb;
}

static CURL *shot(const struct testd *d, struct conn *k, struct curl_slist *hdrs)
{
    static const char JUNK[] = "{\"junk\":true}";
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/tx/" TX, d->base);
    CURL *c = k->c ? k->c : curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, JUNK);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(sizeof JUNK - 1));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_PRIVATE, k);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    k->c = c;
    return c;
}

struct tally {
    int sent, busy, passed, other;
};

/* CONNS keep-alive connections to each node, each sending its next
 * request PACE_MS after the last was answered, for FLOOD_S seconds: some
 * thousands a second, far above the rate, without taking every core.
 * Returns the real length: from the first send to the last answer. */
static double flood(const struct fx *f, struct tally *t)
{
    const struct testd *node[2] = {&f->a, &f->b};
    struct conn k[2 * CONNS];
    bool busy[2 * CONNS] = {false};
    double due[2 * CONNS];
    memset(k, 0, sizeof k);
    memset(t, 0, sizeof *t);
    CURLM *m = curl_multi_init();
    assert_non_null(m);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    double t0 = now_s();
    for (int i = 0; i < 2 * CONNS; i++)
        due[i] = t0;
    int inflight = 0;
    for (;;) {
        double now = now_s();
        bool open = now - t0 < FLOOD_S;
        for (int i = 0; i < 2 * CONNS && open; i++) {
            if (busy[i] || due[i] > now)
                continue;
            curl_multi_add_handle(m, shot(node[i % 2], &k[i], h));
            busy[i] = true;
            inflight++;
            t->sent++;
        }
        if (!open && inflight == 0)
            break;
        int running, left;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct conn *c = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status >= 500 || status == 0)
                t->other++;
            else if (status == 429)
                t->busy++;
            else
                t->passed++; /* admitted, then refused as junk */
            curl_multi_remove_handle(m, msg->easy_handle);
            int i = (int)(c - k);
            busy[i] = false;
            due[i] = now_s() + PACE_MS / 1e3;
            inflight--;
        }
        curl_multi_poll(m, NULL, 0, 1, NULL);
    }
    double span = now_s() - t0;
    for (int i = 0; i < 2 * CONNS; i++)
        curl_easy_cleanup(k[i].c);
    curl_slist_free_all(h);
    curl_multi_cleanup(m);
    return span;
}

/* --- the tests ------------------------------------------------------------------------ */

static void cluster_scope_holds_the_rate_across_nodes(void **state)
{
    struct fx *f = *state;
    static const char TOKENS[] = "zhanye_flow_lease_tokens_total{tx=\"" TX "\"}";
    double before = admitted(f);
    double tokens0 = metric(&f->a, TOKENS) + metric(&f->b, TOKENS);
    struct tally t;
    double span = flood(f, &t);
    double got = admitted(f) - before;
    double tokens = metric(&f->a, TOKENS) + metric(&f->b, TOKENS) - tokens0;
    double want = RATE * span + BURST;
    print_message("cluster scope: %d sent in %.2fs (%d busy, %d passed flow, %d other); admitted "
                  "%.0f (node a %.0f), expected %.1f; %.0f tokens leased\n",
                  t.sent, span, t.busy, t.passed, t.other, got,
                  metric(&f->a, "zhanye_flow_admitted_total{tx=\"" TX "\"}"), want, tokens);
    assert_int_equal(t.other, 0);
    assert_true(t.passed + t.busy == t.sent);
    assert_true(t.sent > 4 * RATE * span); /* both nodes really were flooded */
    assert_true(got == t.passed);
    assert_true(got <= tokens); /* every admission spent a token Redis granted */
    assert_true(metric(&f->a, "zhanye_flow_lease_fallback") == 0);
    assert_true(metric(&f->b, "zhanye_flow_lease_fallback") == 0);
    /* The figure: within 5% of R x seconds. */
    assert_true(got >= want - 0.05 * RATE * span && got <= want + 0.05 * RATE * span);
}

static int count_in_log(const struct testd *d, const char *needle)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/zhanye.log", d->dir);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, fp))
        n += strstr(line, needle) != NULL;
    fclose(fp);
    return n;
}

static void node_scope_admits_the_rate_on_each_node(void **state)
{
    struct fx *f = *state;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/zhanye.conf", f->a.dir);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs("scope = node\n", fp); /* the rule's section is the file's last */
    assert_int_equal(fclose(fp), 0);
    int reloads = count_in_log(&f->a, "rules reloaded");
    assert_int_equal(kill(f->a.pid, SIGHUP), 0);
    assert_int_equal(kill(f->b.pid, SIGHUP), 0);
    for (int i = 0; i < 500 && count_in_log(&f->a, "rules reloaded") < reloads + 2; i++)
        sleep_ms(20);
    assert_int_equal(count_in_log(&f->a, "rules reloaded"), reloads + 2);

    double before = admitted(f);
    struct tally t;
    double span = flood(f, &t);
    double got = admitted(f) - before;
    print_message("node scope: %d sent in %.2fs (%d busy, %d passed); admitted %.0f, one node's "
                  "rate would be %.1f\n",
                  t.sent, span, t.busy, t.passed, got, RATE * span + BURST);
    assert_int_equal(t.other, 0);
    assert_true(got > 1.5 * RATE * span);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cluster_scope_holds_the_rate_across_nodes),
        cmocka_unit_test(node_scope_admits_the_rate_on_each_node),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
