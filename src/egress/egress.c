#include "egress/egress.h"

#include "egress/breaker.h"
#include "egress/bulkhead.h"
#include "egress/conn_ftp.h"
#include "egress/conn_http.h"
#include "egress/conn_tcp.h"
#include "egress/mapping.h"
#include "egress/receipt.h"
#include "egress/retry.h"
#include "egress/route.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/secmem.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ENDPOINTS 8
#define NBUCKETS 14 /* METRICS_LATENCY_NBUCKETS */

enum proto { PROTO_TCP, PROTO_HTTP, PROTO_FTP };
static const char *const PROTO_NAMES[] = {"tcp", "http", "ftp"};

struct endpoint {
    char url[256]; /* http: base URL without a trailing '/'; tcp: as configured */
    char host[64];
    char port[8];
};

struct connector {
    char name[40];
    enum proto proto;
    struct endpoint ep[MAX_ENDPOINTS];
    int nep;
    _Atomic int preferred; /* the endpoint that answered last */
    int connect_timeout_ms, retries;
    _Atomic int call_timeout_ms, max_wait_ms; /* changed live by egress_set_limits */
    bool required;
    char user[64];      /* ftp: the login */
    char password[256]; /* ftp: from password_file; wiped at close */

    pthread_mutex_t mu; /* breaker and budget */
    struct breaker br;
    struct retry_budget budget;
    struct bulkhead bh;

    _Atomic uint64_t attempts, retried, errors[EGRESS_NKINDS], transitions[3];
    _Atomic uint64_t failed, slow; /* attempts the breaker judged failed / slow */
    _Atomic uint64_t lat_count, lat_sum_us, lat_buckets[NBUCKETS + 1];

    struct metric *m_state, *m_in_flight, *m_waiting, *m_latency, *m_attempts, *m_retries;
    struct metric *m_transitions[3], *m_errors[EGRESS_NKINDS];
};

struct egress {
    struct connector *c;
    int nc;
    struct mapping_set maps;
    struct route_table routes;
    struct connector **route_conn; /* per route; NULL = system not configured */
    struct http_io *io;
    _Atomic uint32_t serial;
};

static const char *const KIND_NAMES[EGRESS_NKINDS] = {
    "ok", "route",    "mapping", "open",     "busy",     "timeout",  "connect",
    "io", "protocol", "remote",  "rejected", "business", "internal",
};

const char *egress_kind_name(enum egress_kind k)
{
    return (unsigned)k < EGRESS_NKINDS ? KIND_NAMES[k] : "unknown";
}

static int64_t now_ms(void)
{
    return (int64_t)(clock_mono_ns() / 1000000u);
}

/* ---- opening ---- */

static int oerr(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int oerr(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int get_int(const struct config *cfg, const char *sys, const char *key)
{
    const char *v = config_named_get(cfg, "egress", sys, key);
    return v ? atoi(v) : 0; /* validated by config.c */
}

/* Splits one address into host and port (and the base URL for HTTP). */
static int parse_endpoint(const char *s, size_t n, struct endpoint *ep)
{
    const char *sep = strstr(s, "://");
    if (!sep || n >= sizeof ep->url)
        return -1;
    snprintf(ep->url, sizeof ep->url, "%.*s", (int)n, s);
    size_t ul = strlen(ep->url);
    while (ul > 0 && ep->url[ul - 1] == '/')
        ep->url[--ul] = '\0';
    const char *hp = sep + 3;
    size_t hl = strcspn(hp, "/, ");
    if (hl > n - (size_t)(hp - s))
        hl = n - (size_t)(hp - s);
    const char *colon = memrchr(hp, ':', hl);
    if (!colon || (size_t)(colon - hp) >= sizeof ep->host ||
        (size_t)(hp + hl - colon - 1) >= sizeof ep->port)
        return -1;
    snprintf(ep->host, sizeof ep->host, "%.*s", (int)(colon - hp), hp);
    snprintf(ep->port, sizeof ep->port, "%.*s", (int)(hp + hl - colon - 1), colon + 1);
    /* [::1]:80 -> ::1 */
    size_t h = strlen(ep->host);
    if (h >= 2 && ep->host[0] == '[' && ep->host[h - 1] == ']') {
        memmove(ep->host, ep->host + 1, h - 2);
        ep->host[h - 2] = '\0';
    }
    return 0;
}

static int parse_addresses(struct connector *c, const char *v, char *err, size_t cap)
{
    const char *p = v;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (c->nep == MAX_ENDPOINTS || parse_endpoint(p, n, &c->ep[c->nep]))
            return oerr(err, cap, "[egress.%s]: bad address '%.*s'", c->name, (int)n, p);
        c->nep++;
        p += n;
    }
    if (c->nep == 0)
        return oerr(err, cap, "[egress.%s]: 'address' is required", c->name);
    c->proto = strncmp(c->ep[0].url, "tcp:", 4) == 0   ? PROTO_TCP
               : strncmp(c->ep[0].url, "ftp:", 4) == 0 ? PROTO_FTP
                                                       : PROTO_HTTP;
    return 0;
}

static void on_breaker_change(void *user, enum breaker_state from, enum breaker_state to)
{
    struct connector *c = user;
    atomic_fetch_add(&c->transitions[to], 1);
    metric_add(c->m_transitions[to], 1);
    metric_set(c->m_state, (int64_t)to);
    log_write(to == BREAKER_OPEN ? LOG_WARN : LOG_INFO, "egress.breaker", "system=%s %s -> %s",
              c->name, breaker_state_name(from), breaker_state_name(to));
}

static void describe_metrics(void)
{
    metrics_describe("zhanye_egress_breaker_state", "gauge",
                     "circuit breaker per system: 0 closed, 1 open, 2 half-open");
    metrics_describe("zhanye_egress_breaker_transitions_total", "counter",
                     "breaker transitions per system, by the state entered");
    metrics_describe("zhanye_egress_in_flight", "gauge", "calls holding a bulkhead slot");
    metrics_describe("zhanye_egress_waiting", "gauge", "calls queued for a bulkhead slot");
    metrics_describe("zhanye_egress_call_duration_seconds", "histogram",
                     "time of each attempt sent, slot to reply or error");
    metrics_describe("zhanye_egress_attempts_total", "counter", "attempts sent to the system");
    metrics_describe("zhanye_egress_retries_total", "counter", "retries of idempotent steps");
    metrics_describe("zhanye_egress_errors_total", "counter", "failed attempts by kind");
}

static void register_metrics(struct connector *c)
{
    char l[96];
    snprintf(l, sizeof l, "system=\"%s\"", c->name);
    c->m_state = metrics_gauge("zhanye_egress_breaker_state", l);
    c->m_in_flight = metrics_gauge("zhanye_egress_in_flight", l);
    c->m_waiting = metrics_gauge("zhanye_egress_waiting", l);
    c->m_latency = metrics_histogram("zhanye_egress_call_duration_seconds", l,
                                     METRICS_LATENCY_BUCKETS, METRICS_LATENCY_NBUCKETS);
    c->m_attempts = metrics_counter("zhanye_egress_attempts_total", l);
    c->m_retries = metrics_counter("zhanye_egress_retries_total", l);
    metric_set(c->m_state, BREAKER_CLOSED);
    metric_set(c->m_in_flight, 0);
    metric_set(c->m_waiting, 0);
    for (int s = 0; s < 3; s++) {
        snprintf(l, sizeof l, "system=\"%s\",to=\"%s\"", c->name,
                 breaker_state_name((enum breaker_state)s));
        c->m_transitions[s] = metrics_counter("zhanye_egress_breaker_transitions_total", l);
    }
    for (int k = 1; k < EGRESS_NKINDS; k++) {
        snprintf(l, sizeof l, "system=\"%s\",kind=\"%s\"", c->name, KIND_NAMES[k]);
        c->m_errors[k] = metrics_counter("zhanye_egress_errors_total", l);
    }
}

/* ftp: the login from 'user' and 'password_file' (relative to the data
 * directory; "" = no password; a file others may read is refused). */
static int read_login(const struct config *cfg, struct connector *c, char *err, size_t cap)
{
    const char *u = config_named_get(cfg, "egress", c->name, "user");
    const char *pf = config_named_get(cfg, "egress", c->name, "password_file");
    snprintf(c->user, sizeof c->user, "%s", u ? u : "anonymous");
    if (!pf || !*pf)
        return 0;
    char path[2 * PATH_MAX + 2];
    int w = snprintf(path, sizeof path, "%s%s%s", pf[0] == '/' ? "" : cfg->data_dir,
                     pf[0] == '/' ? "" : "/", pf);
    if (w < 0 || (size_t)w >= sizeof path)
        return oerr(err, cap, "[egress.%s] password_file: path too long", c->name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return oerr(err, cap, "[egress.%s] password_file %s: %s", c->name, path,
                    fd < 0 ? strerror(e) : "must be a regular file only its owner can read (0600)");
    }
    ssize_t n = read(fd, c->password, sizeof c->password - 1);
    close(fd);
    if (n < 0 || (size_t)n >= sizeof c->password - 1) {
        secmem_wipe(c->password, sizeof c->password);
        return oerr(err, cap, "[egress.%s] password_file %s: %s", c->name, path,
                    n < 0 ? "cannot read" : "too long");
    }
    while (n > 0 && (c->password[n - 1] == '\n' || c->password[n - 1] == '\r'))
        n--;
    c->password[n] = '\0';
    return 0;
}

static int open_connector(const struct config *cfg, const char *name, struct connector *c,
                          char *err, size_t cap)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    if (parse_addresses(c, config_named_get(cfg, "egress", name, "address"), err, cap))
        return -1;
    c->connect_timeout_ms = get_int(cfg, name, "connect_timeout_ms");
    c->call_timeout_ms = get_int(cfg, name, "call_timeout_ms");
    c->max_wait_ms = get_int(cfg, name, "max_wait_ms");
    c->retries = get_int(cfg, name, "retries");
    c->required = strcmp(config_named_get(cfg, "egress", name, "required"), "true") == 0;
    if (c->proto == PROTO_FTP && read_login(cfg, c, err, cap))
        return -1;
    struct breaker_config bc = {
        .window = get_int(cfg, name, "breaker_window"),
        .min_calls = get_int(cfg, name, "breaker_min_calls"),
        .failure_rate_pct = get_int(cfg, name, "breaker_failure_rate"),
        .slow_ms = get_int(cfg, name, "breaker_slow_ms"),
        .slow_rate_pct = get_int(cfg, name, "breaker_slow_rate"),
        .open_ms = get_int(cfg, name, "breaker_open_ms"),
        .half_open_calls = get_int(cfg, name, "breaker_half_open_calls"),
    };
    register_metrics(c);
    if (breaker_init(&c->br, &bc, on_breaker_change, c))
        return oerr(err, cap, "[egress.%s]: breaker_min_calls must not exceed breaker_window",
                    name);
    retry_budget_init(&c->budget, get_int(cfg, name, "retry_budget_pct"), bc.window);
    if (bulkhead_init(&c->bh, get_int(cfg, name, "max_concurrent"), get_int(cfg, name, "queue")))
        return oerr(err, cap, "[egress.%s]: bad max_concurrent or queue", name);
    pthread_mutex_init(&c->mu, NULL);
    return 0;
}

static struct connector *find_conn(struct egress *eg, const char *name)
{
    for (int i = 0; i < eg->nc; i++)
        if (strcmp(eg->c[i].name, name) == 0)
            return &eg->c[i];
    return NULL;
}

static int open_connectors(struct egress *eg, const struct config *cfg, char *err, size_t cap)
{
    int n = 0;
    for (int i = 0; i < cfg->nnamed; i++)
        n += strcmp(cfg->named[i].area, "egress") == 0;
    eg->c = n ? calloc((size_t)n, sizeof *eg->c) : NULL;
    if (n && !eg->c)
        return oerr(err, cap, "out of memory");
    for (int i = 0; i < cfg->nnamed; i++) {
        if (strcmp(cfg->named[i].area, "egress") != 0)
            continue;
        if (open_connector(cfg, cfg->named[i].name, &eg->c[eg->nc], err, cap))
            return -1;
        eg->nc++;
    }
    return 0;
}

/* Resolves each route's system; a mapping must suit the system's protocol. */
static int bind_routes(struct egress *eg, char *err, size_t cap)
{
    if (eg->routes.n == 0)
        return 0;
    eg->route_conn = calloc(eg->routes.n, sizeof *eg->route_conn);
    if (!eg->route_conn)
        return oerr(err, cap, "out of memory");
    for (size_t i = 0; i < eg->routes.n; i++) {
        const struct route *r = &eg->routes.r[i];
        struct connector *c = find_conn(eg, r->system);
        eg->route_conn[i] = c;
        if (!c) {
            log_info("egress.route",
                     "step %s: system %s has no [egress.%s] section; the step "
                     "is unavailable",
                     r->step, r->system, r->system);
            continue;
        }
        if (!r->mapping != (c->proto == PROTO_FTP))
            return oerr(err, cap,
                        "routes.conf step [%s]: [egress.%s] is %s; a step %s a mapping exactly "
                        "when its system is not ftp",
                        r->step, c->name, PROTO_NAMES[c->proto], r->mapping ? "has" : "lacks");
        if (!r->mapping)
            continue;
        bool fix = r->mapping->format == MAPPING_FIXLEN;
        if (fix != (c->proto == PROTO_TCP))
            return oerr(err, cap, "routes.conf step [%s]: mapping %s is %s but [egress.%s] is %s",
                        r->step, r->mapping->name, fix ? "fixlen" : "json", c->name,
                        PROTO_NAMES[c->proto]);
    }
    return 0;
}

static int load_conf(struct egress *eg, const char *conf_dir, char *err, size_t cap)
{
    char path[PATH_MAX];
    if (!conf_dir)
        return 0;
    snprintf(path, sizeof path, "%s/mappings", conf_dir);
    if (mapping_load_dir(path, &eg->maps, err, cap))
        return -1;
    snprintf(path, sizeof path, "%s/routes.conf", conf_dir);
    if (route_load(path, &eg->maps, &eg->routes, err, cap))
        return -1;
    return bind_routes(eg, err, cap);
}

int egress_open(const struct config *cfg, const char *conf_dir, struct egress **out, char *err,
                size_t errcap)
{
    *out = NULL;
    struct egress *eg = calloc(1, sizeof *eg);
    if (!eg)
        return oerr(err, errcap, "out of memory");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    describe_metrics();
    int rc = open_connectors(eg, cfg, err, errcap);
    if (rc == 0)
        rc = load_conf(eg, conf_dir, err, errcap);
    if (rc == 0 && http_io_start(&eg->io))
        rc = oerr(err, errcap, "cannot start the egress I/O thread");
    if (rc) {
        egress_close(eg);
        return -1;
    }
    log_info("egress.open", "%d systems, %zu mappings, %zu routes", eg->nc, eg->maps.n,
             eg->routes.n);
    *out = eg;
    return 0;
}

void egress_close(struct egress *eg)
{
    if (!eg)
        return;
    http_io_stop(eg->io);
    for (int i = 0; i < eg->nc; i++) {
        bulkhead_destroy(&eg->c[i].bh);
        pthread_mutex_destroy(&eg->c[i].mu);
        secmem_wipe(eg->c[i].password, sizeof eg->c[i].password);
    }
    free(eg->c);
    free(eg->route_conn);
    route_free(&eg->routes);
    mapping_set_free(&eg->maps);
    free(eg);
    curl_global_cleanup();
}

/* ---- calling ---- */

/* The serial of one call: UTC yyyymmddHHMMSS + 6-digit counter. */
static void next_serial(struct egress *eg, char out[21])
{
    int64_t ms = clock_wall_ms();
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    uint32_t n = atomic_fetch_add(&eg->serial, 1) % 1000000u;
    char tmp[80]; /* 20 digits for any year 1000..9999 */
    snprintf(tmp, sizeof tmp, "%04d%02d%02d%02d%02d%02d%06u", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, n);
    memcpy(out, tmp, 20);
    out[20] = '\0';
}

static enum egress_kind set_err(struct egress_error *e, enum egress_kind k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum egress_kind set_err(struct egress_error *e, enum egress_kind k, const char *fmt, ...)
{
    e->kind = k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return k;
}

/* One request/reply through the protocol, failing over between addresses
 * only when no connection was made (the request was not sent). */
static enum egress_kind transport(struct egress *eg, struct connector *c, const struct mapping *m,
                                  const char *req, size_t len, uint64_t deadline, char **resp,
                                  size_t *resp_len, long *status, char *msg, size_t cap)
{
    enum egress_kind k = EGRESS_E_CONNECT;
    int first = atomic_load(&c->preferred);
    for (int i = 0; i < c->nep && k == EGRESS_E_CONNECT && clock_mono_ns() < deadline; i++) {
        int e = (first + i) % c->nep;
        if (c->proto == PROTO_TCP) {
            k = tcp_call(c->ep[e].host, c->ep[e].port, c->connect_timeout_ms, deadline, req, len,
                         resp, resp_len, msg, cap);
        } else {
            char url[512];
            snprintf(url, sizeof url, "%s%s", c->ep[e].url, m->path);
            k = http_io_call(eg->io, url, m->method, req, len, c->connect_timeout_ms, deadline,
                             resp, resp_len, status, msg, cap);
        }
        if (k != EGRESS_E_CONNECT && e != first)
            atomic_store(&c->preferred, e);
    }
    if (k == EGRESS_E_CONNECT && clock_mono_ns() >= deadline)
        k = EGRESS_E_TIMEOUT;
    return k;
}

/* Turns a transport-level reply into the step's outcome. */
static enum egress_kind judge_reply(const struct mapping *m, const char *resp, size_t len,
                                    long status, json_t **out, struct egress_error *e)
{
    if (m->format == MAPPING_JSON && (status == 408 || status == 429 || status >= 500)) {
        snprintf(e->code, sizeof e->code, "HTTP %ld", status);
        return set_err(e, EGRESS_E_REMOTE, "%s: the system answered HTTP %ld", m->name, status);
    }
    if (m->format == MAPPING_JSON && (status < 200 || status > 299)) {
        snprintf(e->code, sizeof e->code, "HTTP %ld", status);
        return set_err(e, EGRESS_E_REJECTED, "%s: the system refused the request: HTTP %ld",
                       m->name, status);
    }
    struct mapping_result r;
    enum mapping_verdict v = mapping_decode(m, resp, len, out, &r);
    snprintf(e->code, sizeof e->code, "%s", r.code);
    snprintf(e->field, sizeof e->field, "%s", r.field);
    switch (v) {
    case MAPPING_REPLY_OK:
        return EGRESS_OK;
    case MAPPING_REPLY_BUSINESS:
        return set_err(e, EGRESS_E_BUSINESS, "%s", r.message);
    case MAPPING_REPLY_FAULT:
        return set_err(e, EGRESS_E_REMOTE, "%s: system fault %s: %s", m->name, r.code, r.message);
    case MAPPING_REPLY_MALFORMED:
        break;
    }
    return set_err(e, EGRESS_E_PROTOCOL, "malformed reply: %s", r.message);
}

static bool counts_as_failure(enum egress_kind k)
{
    return k == EGRESS_E_CONNECT || k == EGRESS_E_TIMEOUT || k == EGRESS_E_IO ||
           k == EGRESS_E_PROTOCOL || k == EGRESS_E_REMOTE;
}

static void observe(struct connector *c, uint64_t ns)
{
    double s = (double)ns / 1e9;
    metric_observe(c->m_latency, s);
    atomic_fetch_add(&c->lat_count, 1);
    atomic_fetch_add(&c->lat_sum_us, ns / 1000);
    size_t b = 0;
    while (b < NBUCKETS && s > METRICS_LATENCY_BUCKETS[b])
        b++;
    atomic_fetch_add(&c->lat_buckets[b], 1);
}

/* What one attempt does once admitted: the protocol exchange and its verdict. */
typedef enum egress_kind (*attempt_fn)(struct egress *eg, struct connector *c, void *arg,
                                       uint64_t deadline, struct egress_error *e);

struct call_arg {
    const struct mapping *m;
    const char *req;
    size_t len;
    json_t **out;
};

static enum egress_kind call_exchange(struct egress *eg, struct connector *c, void *arg,
                                      uint64_t deadline, struct egress_error *e)
{
    struct call_arg *a = arg;
    char *resp = NULL;
    size_t resp_len = 0;
    long status = 0;
    enum egress_kind k = transport(eg, c, a->m, a->req, a->len, deadline, &resp, &resp_len, &status,
                                   e->message, sizeof e->message);
    if (k == EGRESS_OK)
        k = judge_reply(a->m, resp, resp_len, status, a->out, e);
    else
        e->kind = k;
    free(resp);
    return k;
}

/* Breaker, bulkhead, the exchange, breaker record: one attempt. */
static enum egress_kind attempt(struct egress *eg, struct connector *c, attempt_fn fn, void *arg,
                                uint64_t deadline, struct egress_error *e)
{
    struct breaker_permit permit;
    pthread_mutex_lock(&c->mu);
    int refused = breaker_acquire(&c->br, now_ms(), &permit);
    pthread_mutex_unlock(&c->mu);
    if (refused)
        return set_err(e, EGRESS_E_OPEN, "%s: circuit breaker open", c->name);

    uint64_t wait_until = clock_mono_ns() + (uint64_t)c->max_wait_ms * 1000000u;
    bool deadline_rules = wait_until >= deadline;
    metric_inc(c->m_waiting);
    enum bulkhead_rc bh = bulkhead_enter(&c->bh, deadline_rules ? deadline : wait_until);
    metric_dec(c->m_waiting);
    if (bh != BULKHEAD_OK) {
        pthread_mutex_lock(&c->mu);
        breaker_cancel(&c->br, &permit);
        pthread_mutex_unlock(&c->mu);
        if (bh == BULKHEAD_TIMEOUT && deadline_rules)
            return set_err(e, EGRESS_E_TIMEOUT, "%s: no free slot before the deadline", c->name);
        return set_err(e, EGRESS_E_BUSY, "%s: %d calls in flight and %s", c->name, c->bh.max,
                       bh == BULKHEAD_FULL ? "the wait queue is full" : "max_wait_ms passed");
    }
    metric_inc(c->m_in_flight);
    metric_add(c->m_attempts, 1);
    atomic_fetch_add(&c->attempts, 1);
    e->attempts++;

    uint64_t t0 = clock_mono_ns();
    enum egress_kind k = fn(eg, c, arg, deadline, e);
    uint64_t took = clock_mono_ns() - t0;

    pthread_mutex_lock(&c->mu);
    if (k == EGRESS_E_INTERNAL)
        breaker_cancel(&c->br, &permit);
    else
        breaker_record(&c->br, now_ms(), &permit, counts_as_failure(k), (int64_t)(took / 1000000u));
    pthread_mutex_unlock(&c->mu);
    if (k != EGRESS_E_INTERNAL && counts_as_failure(k))
        atomic_fetch_add(&c->failed, 1);
    if (took / 1000000u >= (uint64_t)c->br.cfg.slow_ms)
        atomic_fetch_add(&c->slow, 1);
    bulkhead_leave(&c->bh);
    metric_dec(c->m_in_flight);
    observe(c, took);
    return k;
}

static bool retryable(enum egress_kind k)
{
    return k == EGRESS_E_CONNECT || k == EGRESS_E_IO || k == EGRESS_E_REMOTE ||
           k == EGRESS_E_TIMEOUT;
}

/* Whether (and after which pause) another attempt is made. */
static bool may_retry(struct connector *c, bool idempotent, enum egress_kind k, int n,
                      uint64_t deadline)
{
    if (!idempotent || !retryable(k) || n > c->retries)
        return false;
    pthread_mutex_lock(&c->mu);
    bool ok = retry_budget_withdraw(&c->budget);
    pthread_mutex_unlock(&c->mu);
    if (!ok)
        return false;
    int64_t pause = retry_backoff_ms(n, (uint32_t)clock_mono_ns());
    uint64_t wake = clock_mono_ns() + (uint64_t)pause * 1000000u;
    if (wake >= deadline)
        return false;
    struct timespec ts = {.tv_sec = pause / 1000, .tv_nsec = (pause % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    atomic_fetch_add(&c->retried, 1);
    metric_add(c->m_retries, 1);
    return true;
}

static void count_error(struct connector *c, enum egress_kind k)
{
    if (k == EGRESS_OK || (unsigned)k >= EGRESS_NKINDS)
        return;
    atomic_fetch_add(&c->errors[k], 1);
    metric_add(c->m_errors[k], 1);
}

static void log_outcome(const struct egress_error *e, uint64_t took_ns)
{
    long long ms = (long long)(took_ns / 1000000u);
    if (e->kind == EGRESS_OK)
        log_debug("egress.call", "step=%s system=%s ok attempts=%d ms=%lld", e->step, e->system,
                  e->attempts, ms);
    else if (e->kind == EGRESS_E_BUSINESS)
        log_info("egress.call", "step=%s system=%s business code=%s attempts=%d ms=%lld", e->step,
                 e->system, e->code, e->attempts, ms);
    else
        log_warn("egress.call", "step=%s system=%s kind=%s attempts=%d ms=%lld: %s", e->step,
                 e->system, egress_kind_name(e->kind), e->attempts, ms,
                 e->kind == EGRESS_E_REMOTE ? e->code : e->message);
}

/* Encodes once, then attempts (retrying idempotent steps) until the deadline. */
static enum egress_kind run_step(struct egress *eg, struct connector *c, const struct route *r,
                                 json_t *in, json_t **out, struct egress_error *e)
{
    uint64_t deadline = clock_mono_ns() + (uint64_t)c->call_timeout_ms * 1000000u;
    char serial[21];
    next_serial(eg, serial);
    char *req = NULL;
    size_t len = 0;
    struct mapping_result mr;
    if (mapping_encode(r->mapping, in, serial, &req, &len, &mr)) {
        snprintf(e->field, sizeof e->field, "%s", mr.field);
        count_error(c, EGRESS_E_MAPPING);
        return set_err(e, EGRESS_E_MAPPING, "%s", mr.message);
    }
    pthread_mutex_lock(&c->mu);
    retry_budget_deposit(&c->budget);
    pthread_mutex_unlock(&c->mu);
    enum egress_kind k;
    for (int n = 1;; n++) {
        json_decref(*out);
        *out = NULL;
        e->code[0] = e->field[0] = '\0';
        struct call_arg a = {.m = r->mapping, .req = req, .len = len, .out = out};
        k = attempt(eg, c, call_exchange, &a, deadline, e);
        count_error(c, k);
        if (k == EGRESS_OK || !may_retry(c, r->idempotent, k, n, deadline))
            break;
    }
    if (r->mapping->secret) /* the record held a PIN block through every attempt */
        secmem_wipe(req, len);
    free(req);
    return k;
}

enum egress_kind egress_call(struct egress *eg, const char *step, json_t *in, json_t **out,
                             struct egress_error *err)
{
    struct egress_error local = {.kind = EGRESS_OK};
    struct egress_error *e = err ? err : &local;
    memset(e, 0, sizeof *e);
    *out = NULL;
    uint64_t t0 = clock_mono_ns();
    snprintf(e->step, sizeof e->step, "%s", step ? step : "");
    const struct route *r = eg && step ? route_find(&eg->routes, step) : NULL;
    struct connector *c = r ? eg->route_conn[r - eg->routes.r] : NULL;
    enum egress_kind k;
    if (!r)
        k = set_err(e, EGRESS_E_ROUTE, "no route for step '%s'", e->step);
    else if (!c)
        k = set_err(e, EGRESS_E_ROUTE, "step '%s': system '%s' is not configured ([egress.%s])",
                    e->step, r->system, r->system);
    else if (!r->mapping)
        k = set_err(e, EGRESS_E_ROUTE, "step '%s' transfers files: use egress_put_file/get_file",
                    e->step);
    else {
        snprintf(e->system, sizeof e->system, "%s", c->name);
        k = run_step(eg, c, r, in, out, e);
    }
    e->kind = k;
    if (k != EGRESS_OK && k != EGRESS_E_BUSINESS) {
        json_decref(*out);
        *out = NULL;
    }
    log_outcome(e, clock_mono_ns() - t0);
    return k;
}

/* ---- file transfer ---- */

struct file_arg {
    const char *name;
    const uint8_t *data; /* put */
    size_t n;
    const char *sm3_hex;
    json_t **receipt;
    uint8_t **got; /* get */
    size_t *got_n;
};

/* One FTP session to one address: the upload and its receipt, or the download. */
static enum egress_kind file_session(struct connector *c, int ep, struct file_arg *a,
                                     uint64_t deadline, struct egress_error *e)
{
    struct ftp_session *s = ftp_open(c->ep[ep].url, c->user, c->password[0] ? c->password : NULL,
                                     c->connect_timeout_ms, deadline);
    if (!s)
        return set_err(e, EGRESS_E_INTERNAL, "cannot set up the FTP session");
    enum egress_kind k;
    if (a->got) {
        k = ftp_get(s, a->name, FTP_FILE_MAX, a->got, a->got_n, e->message, sizeof e->message);
        ftp_close(s);
        return k;
    }
    k = ftp_put(s, a->name, a->data, a->n, e->message, sizeof e->message);
    char rname[FTP_NAME_MAX + 16];
    snprintf(rname, sizeof rname, "%s.receipt", a->name);
    uint8_t *text = NULL;
    size_t len = 0;
    if (k == EGRESS_OK) {
        k = ftp_get(s, rname, 4096, &text, &len, e->message, sizeof e->message);
        if (k == EGRESS_E_REJECTED) { /* 550: the system wrote no receipt */
            snprintf(e->field, sizeof e->field, "receipt");
            k = set_err(e, EGRESS_E_PROTOCOL, "%s: no delivery receipt for the upload", c->name);
        }
    }
    ftp_close(s);
    if (k != EGRESS_OK)
        return k;
    enum receipt_verdict v =
        receipt_check((const char *)text, len, a->name, a->n, a->sm3_hex, a->receipt, e->field,
                      sizeof e->field, e->message, sizeof e->message);
    free(text);
    return v == RECEIPT_OK ? EGRESS_OK : EGRESS_E_PROTOCOL;
}

static enum egress_kind file_exchange(struct egress *eg, struct connector *c, void *arg,
                                      uint64_t deadline, struct egress_error *e)
{
    (void)eg;
    struct file_arg *a = arg;
    enum egress_kind k = EGRESS_E_CONNECT;
    int first = atomic_load(&c->preferred);
    for (int i = 0; i < c->nep && k == EGRESS_E_CONNECT && clock_mono_ns() < deadline; i++) {
        int ep = (first + i) % c->nep;
        k = file_session(c, ep, a, deadline, e);
        if (k != EGRESS_E_CONNECT && ep != first)
            atomic_store(&c->preferred, ep);
    }
    if (k == EGRESS_E_CONNECT && clock_mono_ns() >= deadline)
        k = EGRESS_E_TIMEOUT;
    e->kind = k;
    return k;
}

/* Route, name check and the attempts of one file step. Files are always
 * idempotent: an upload overwrites the file of the same name. */
static enum egress_kind run_file(struct egress *eg, const char *step, struct file_arg *a,
                                 struct egress_error *e)
{
    memset(e, 0, sizeof *e);
    snprintf(e->step, sizeof e->step, "%s", step ? step : "");
    const struct route *r = eg && step ? route_find(&eg->routes, step) : NULL;
    struct connector *c = r ? eg->route_conn[r - eg->routes.r] : NULL;
    if (!r)
        return set_err(e, EGRESS_E_ROUTE, "no route for step '%s'", e->step);
    if (!c)
        return set_err(e, EGRESS_E_ROUTE, "step '%s': system '%s' is not configured ([egress.%s])",
                       e->step, r->system, r->system);
    snprintf(e->system, sizeof e->system, "%s", c->name);
    if (c->proto != PROTO_FTP)
        return set_err(e, EGRESS_E_ROUTE, "step '%s': system '%s' does not transfer files", e->step,
                       c->name);
    if (!ftp_name_ok(a->name)) {
        snprintf(e->field, sizeof e->field, "name");
        count_error(c, EGRESS_E_MAPPING);
        return set_err(e, EGRESS_E_MAPPING,
                       "name: 1..%d bytes without '/', '\\', '..', a leading '.' or control "
                       "characters",
                       FTP_NAME_MAX);
    }
    uint64_t deadline = clock_mono_ns() + (uint64_t)c->call_timeout_ms * 1000000u;
    pthread_mutex_lock(&c->mu);
    retry_budget_deposit(&c->budget);
    pthread_mutex_unlock(&c->mu);
    enum egress_kind k;
    for (int n = 1;; n++) {
        if (a->receipt) {
            json_decref(*a->receipt);
            *a->receipt = NULL;
        }
        if (a->got) {
            free(*a->got);
            *a->got = NULL;
            *a->got_n = 0;
        }
        e->code[0] = e->field[0] = '\0';
        k = attempt(eg, c, file_exchange, a, deadline, e);
        count_error(c, k);
        if (k == EGRESS_OK || !may_retry(c, true, k, n, deadline))
            break;
    }
    return k;
}

enum egress_kind egress_put_file(struct egress *eg, const char *step, const char *name,
                                 const uint8_t *data, size_t n, json_t **receipt,
                                 struct egress_error *err)
{
    struct egress_error local = {.kind = EGRESS_OK};
    struct egress_error *e = err ? err : &local;
    json_t *rcpt = NULL;
    char hex[65];
    uint64_t t0 = clock_mono_ns();
    struct file_arg a = {.name = name,
                         .data = data ? data : (const uint8_t *)"",
                         .n = data ? n : 0,
                         .sm3_hex = hex,
                         .receipt = &rcpt};
    enum egress_kind k;
    if (receipt_sm3_hex(a.data, a.n, hex)) {
        memset(e, 0, sizeof *e);
        k = set_err(e, EGRESS_E_INTERNAL, "SM3 is not available");
    } else {
        k = run_file(eg, step, &a, e);
    }
    e->kind = k;
    if (k != EGRESS_OK) {
        json_decref(rcpt);
        rcpt = NULL;
    }
    if (receipt)
        *receipt = rcpt;
    else
        json_decref(rcpt);
    log_outcome(e, clock_mono_ns() - t0);
    return k;
}

enum egress_kind egress_get_file(struct egress *eg, const char *step, const char *name,
                                 uint8_t **data, size_t *n, struct egress_error *err)
{
    struct egress_error local = {.kind = EGRESS_OK};
    struct egress_error *e = err ? err : &local;
    uint64_t t0 = clock_mono_ns();
    *data = NULL;
    *n = 0;
    struct file_arg a = {.name = name, .got = data, .got_n = n};
    enum egress_kind k = run_file(eg, step, &a, e);
    e->kind = k;
    if (k != EGRESS_OK) {
        free(*data);
        *data = NULL;
        *n = 0;
    }
    log_outcome(e, clock_mono_ns() - t0);
    return k;
}

/* ---- readiness and status ---- */

static enum breaker_state state_of(struct connector *c)
{
    pthread_mutex_lock(&c->mu);
    enum breaker_state s = breaker_state(&c->br, now_ms());
    pthread_mutex_unlock(&c->mu);
    return s;
}

bool egress_ready(struct egress *eg)
{
    bool ready = true;
    for (int i = 0; eg && i < eg->nc; i++)
        if (eg->c[i].required && state_of(&eg->c[i]) == BREAKER_OPEN)
            ready = false;
    return ready;
}

static json_t *latency_json(struct connector *c)
{
    json_t *b = json_array();
    for (size_t i = 0; i <= NBUCKETS; i++) {
        json_t *le = i < NBUCKETS ? json_real(METRICS_LATENCY_BUCKETS[i]) : json_string("+Inf");
        json_array_append_new(b, json_pack("{s:o,s:I}", "le", le, "count",
                                           (json_int_t)atomic_load(&c->lat_buckets[i])));
    }
    return json_pack("{s:I,s:I,s:o}", "count", (json_int_t)atomic_load(&c->lat_count), "sum_us",
                     (json_int_t)atomic_load(&c->lat_sum_us), "buckets", b);
}

static json_t *connector_json(struct connector *c)
{
    json_t *addr = json_array(), *errors = json_object(), *tr = json_object();
    for (int i = 0; i < c->nep; i++)
        json_array_append_new(addr, json_string(c->ep[i].url));
    for (int k = 1; k < EGRESS_NKINDS; k++)
        json_object_set_new(errors, KIND_NAMES[k], json_integer((json_int_t)c->errors[k]));
    for (int s = 0; s < 3; s++)
        json_object_set_new(tr, breaker_state_name((enum breaker_state)s),
                            json_integer((json_int_t)c->transitions[s]));
    return json_pack("{s:s,s:o,s:b,s:s,s:o,s:i,s:i,s:i,s:I,s:I,s:o,s:o}", "protocol",
                     PROTO_NAMES[c->proto], "addresses", addr, "required", c->required, "breaker",
                     breaker_state_name(state_of(c)), "transitions", tr, "in_flight",
                     bulkhead_in_flight(&c->bh), "waiting", bulkhead_waiting(&c->bh),
                     "max_concurrent", c->bh.max, "attempts", (json_int_t)atomic_load(&c->attempts),
                     "retries", (json_int_t)atomic_load(&c->retried), "errors", errors, "latency",
                     latency_json(c));
}

/* What the console's live view adds: the limits in force and the breaker's judgements. */
static void add_live(json_t *j, struct connector *c)
{
    pthread_mutex_lock(&c->bh.mu);
    int queue = c->bh.queue_cap;
    pthread_mutex_unlock(&c->bh.mu);
    json_object_set_new(j, "queue", json_integer(queue));
    json_object_set_new(j, "max_wait_ms", json_integer(atomic_load(&c->max_wait_ms)));
    json_object_set_new(j, "call_timeout_ms", json_integer(atomic_load(&c->call_timeout_ms)));
    json_object_set_new(j, "slow_ms", json_integer(c->br.cfg.slow_ms));
    json_object_set_new(j, "failed", json_integer((json_int_t)atomic_load(&c->failed)));
    json_object_set_new(j, "slow", json_integer((json_int_t)atomic_load(&c->slow)));
}

int egress_set_limits(struct egress *eg, const char *system, const struct egress_limits *l,
                      char *err, size_t errcap)
{
    struct connector *c = eg && system ? find_conn(eg, system) : NULL;
    if (!c) {
        snprintf(err, errcap, "no system %s", system ? system : "(null)");
        return -1;
    }
    int max = l->max_concurrent, queue = l->queue;
    pthread_mutex_lock(&c->bh.mu);
    if (max <= 0)
        max = c->bh.max;
    if (queue < 0)
        queue = c->bh.queue_cap;
    pthread_mutex_unlock(&c->bh.mu);
    if (bulkhead_set_limits(&c->bh, max, queue) != 0) {
        snprintf(err, errcap, "bad max_concurrent or queue");
        return -1;
    }
    if (l->max_wait_ms >= 0)
        atomic_store(&c->max_wait_ms, l->max_wait_ms);
    if (l->call_timeout_ms > 0)
        atomic_store(&c->call_timeout_ms, l->call_timeout_ms);
    return 0;
}

json_t *egress_status(struct egress *eg)
{
    json_t *systems = json_object();
    for (int i = 0; eg && i < eg->nc; i++) {
        json_t *j = connector_json(&eg->c[i]);
        add_live(j, &eg->c[i]);
        json_object_set_new(systems, eg->c[i].name, j);
    }
    return json_pack("{s:b,s:o}", "ready", eg ? egress_ready(eg) : true, "systems", systems);
}
