#include "http/server.h"

#include "access/flow.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "http/executor.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Suspending in the first handler call relies on 0.9.75's behaviour: on
 * resume, the first call is made again (upload_size 0) before the body. */
#if defined(MHD_VERSION) && MHD_VERSION < 0x00097500
#error "libmicrohttpd 0.9.75 or later is required"
#endif

/* How long flow's timer thread sleeps when nothing is queued; a request that
 * queues wakes it at once. */
#define TIMER_IDLE_NS UINT64_C(1000000000)

/* flow's timer thread: ticks while requests wait, sleeps while none do. */
struct flow_timer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool started;
    bool stop;   /* under mu */
    bool idle;   /* under mu: waiting with nothing queued */
    bool kicked; /* under mu: a request queued since the last tick */
};

struct http_server {
    struct MHD_Daemon *d;
    const struct http_route *routes;
    size_t nroutes;
    void *app;
    int64_t body_limit;
    int port;
    _Atomic int64_t in_flight;
    struct metric *m_in_flight;
    struct flow *flow;
    const char *flow_route;
    struct flow_timer timer;
    struct executor *exec;      /* runs the handlers of offload routes */
    struct metric *m_exec_wait; /* jobs waiting for an executor thread */
};

/* Where a flow-controlled request stands. Changed only on the thread that
 * runs the connection (the executor's while it runs the handler); flow's
 * hooks touch ticket (through flow) and decided_ns, nothing else. */
enum gate {
    G_NONE = 0, /* not flow-controlled */
    G_RUNNING,  /* admitted; flow_done() still owed */
    G_QUEUED,   /* suspended until a hook resumes it */
    G_REFUSED,  /* answer 429/503 once the body is in */
    G_DONE,     /* flow_done() called */
};

/* An offload route's handler on the executor. The connection is suspended
 * from the submit to the resume that follows J_ANSWERED, so only one thread
 * at a time touches the request. */
enum job {
    J_NONE = 0,
    J_RUNNING,  /* submitted: the executor owns the request */
    J_ANSWERED, /* resp is ready; the repeated handler call sends it */
};

/* Per-request state, kept across libmicrohttpd's repeated handler calls. */
struct req {
    struct http_server *s;
    struct MHD_Connection *conn;
    const struct http_route *route;
    const char *url; /* libmicrohttpd's, valid for the request's life */
    const char *arg; /* points into the URL */
    char *body;
    size_t len;
    bool too_large;
    int status;
    uint64_t t0_ns;
    enum gate gate;
    uint64_t wait_ns;    /* time spent queued */
    uint64_t decided_ns; /* set by the hook that ended the wait */
    struct flow_ticket ticket;
    _Atomic int job;           /* enum job; release/acquire hands resp over */
    struct http_response resp; /* the executor's answer */
    char ip[INET6_ADDRSTRLEN];
    char method[8];
    char request_id[48]; /* the client's X-Request-Id, for tracing a call through the logs */
};

/* Keeps only characters that cannot break a log line or a label. */
static void copy_token(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; src && *src && n + 1 < cap; src++)
        if ((*src >= '0' && *src <= '9') || (*src >= 'a' && *src <= 'z') ||
            (*src >= 'A' && *src <= 'Z') || *src == '-' || *src == '_' || *src == '.')
            dst[n++] = *src;
    dst[n] = '\0';
}

static const struct http_route *find_route(const struct http_server *s, const char *method,
                                           const char *url, const char **arg)
{
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct http_route *r = &s->routes[i];
        if (strcmp(r->method, method) != 0)
            continue;
        size_t n = strlen(r->path);
        if (r->prefix ? strncmp(url, r->path, n) == 0 && url[n] : strcmp(url, r->path) == 0) {
            *arg = r->prefix ? url + n : NULL;
            return r;
        }
    }
    return NULL;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *resp)
{
    struct MHD_Response *mr = MHD_create_response_from_buffer(
        resp->body_len, resp->body ? resp->body : (char *)"", MHD_RESPMEM_MUST_FREE);
    if (!mr)
        return MHD_NO;
    resp->body = NULL; /* owned by mr now */
    MHD_add_response_header(mr, "Content-Type",
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(mr, "Cache-Control", "no-store");
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    return rc;
}

static void client_ip(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, cap);
}

/* X-Queue-Wait-Ms on every answer of the flow-controlled route. */
static void add_wait_header(const struct req *r, struct http_response *resp)
{
    if (r->gate == G_NONE)
        return;
    char v[32];
    snprintf(v, sizeof v, "%.3f", (double)r->wait_ns / 1e6);
    (void)http_add_header(resp, "X-Queue-Wait-Ms", v);
}

/* Protocol step 4: the slot is free as soon as the work is, not once the
 * bytes are sent. */
static void settle(struct req *r, struct http_response *resp)
{
    if (r->gate == G_RUNNING && flow_done(&r->ticket, clock_mono_ns()) == 0)
        r->gate = G_DONE;
    add_wait_header(r, resp);
}

/* The route's handler (or the 413 / 404 in its place) into resp. */
static void run_handler(struct req *r, struct http_response *resp)
{
    if (r->too_large) {
        http_error(resp, 413, "too_large", "请求体超过上限");
    } else if (!r->route) {
        http_error(resp, 404, "not_found", "没有这个接口");
    } else {
        struct http_request req = {
            .method = r->method,
            .url = r->url,
            .route = r->route->label,
            .arg = r->arg,
            .body = r->body,
            .body_len = r->len,
            .client_ip = r->ip,
            .t0_ns = r->t0_ns,
            .app = r->s->app,
            .conn = r->conn,
        };
        r->route->fn(&req, resp);
    }
    settle(r, resp);
}

/* Queues resp on the connection and releases its body. */
static enum MHD_Result answer(struct MHD_Connection *conn, struct req *r,
                              struct http_response *resp)
{
    r->status = resp->status;
    enum MHD_Result rc = send_response(conn, resp);
    free(resp->body);
    resp->body = NULL;
    return rc;
}

/* Runs the handler here, on libmicrohttpd's thread. */
static enum MHD_Result dispatch(struct MHD_Connection *conn, struct req *r)
{
    struct http_response resp = {.status = 500};
    run_handler(r, &resp);
    return answer(conn, r, &resp);
}

/* 429 busy or 503 overloaded, with Retry-After. */
static void refusal(struct http_response *resp, int status, int retry_after_s)
{
    bool busy = status == 429;
    char retry[16];
    snprintf(retry, sizeof retry, "%d", retry_after_s > 0 ? retry_after_s : 1);
    http_error(resp, busy ? 429 : 503, busy ? "busy" : "overloaded",
               busy ? "交易繁忙，请稍后重试" : "系统繁忙，请稍后重试");
    (void)http_add_header(resp, "Retry-After", retry);
}

/* 429 busy or 503 overloaded for a refused request, with Retry-After. */
/* A request refused by flow. */
static enum MHD_Result send_refusal(struct MHD_Connection *conn, struct req *r)
{
    struct http_response resp = {.status = 503};
    refusal(&resp, flow_reason_status(r->ticket.reason), r->ticket.retry_after_s);
    add_wait_header(r, &resp);
    return answer(conn, r, &resp);
}

/* --- the executor ------------------------------------------------------------ */

/* On an executor thread, the connection suspended. After the resume the
 * connection's thread may send, finish and free r at once: r is not touched
 * after it. */
static void run_job(void *arg)
{
    struct req *r = arg;
    struct MHD_Connection *conn = r->conn;
    metric_dec(r->s->m_exec_wait);
    run_handler(r, &r->resp);
    atomic_store_explicit(&r->job, J_ANSWERED, memory_order_release);
    MHD_resume_connection(conn);
}

/* The body is in (and flow admitted it): the handler goes to the executor.
 * The suspend precedes the submit, so the job's resume always follows it. A
 * full or draining executor is answered 503 through the same resume; the queue
 * is as long as connection_limit, so only a stopping server gets there. */
static enum MHD_Result offload(struct http_server *s, struct MHD_Connection *conn, struct req *r)
{
    atomic_store_explicit(&r->job, J_RUNNING, memory_order_relaxed);
    MHD_suspend_connection(conn);
    metric_inc(s->m_exec_wait);
    bool priority = s->flow && flow_ticket_priority(&r->ticket);
    if ((priority ? executor_submit_priority : executor_submit)(s->exec, run_job, r) != 0) {
        metric_dec(s->m_exec_wait);
        r->resp = (struct http_response){.status = 503};
        refusal(&r->resp, 503, 1);
        settle(r, &r->resp);
        atomic_store_explicit(&r->job, J_ANSWERED, memory_order_relaxed);
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

/* --- flow control ------------------------------------------------------------ */

static void timer_kick(struct flow_timer *t)
{
    pthread_mutex_lock(&t->mu);
    t->kicked = true;
    if (t->idle)
        pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

/* Inside flow_admit(), under the rule's lock, on the connection's own thread:
 * the suspend therefore precedes any resume. */
static void hook_queued(struct flow_ticket *t, void *cookie)
{
    struct req *r = cookie;
    MHD_suspend_connection(r->conn);
    timer_kick(&r->s->timer);
}

/* on_ready and on_refused, on any thread: after the resume the connection's
 * thread may finish and free r at once, so r is not touched after it. */
static void hook_decided(struct flow_ticket *t, void *cookie)
{
    struct req *r = cookie;
    struct MHD_Connection *conn = r->conn;
    r->decided_ns = clock_mono_ns();
    MHD_resume_connection(conn);
}

static const struct flow_hooks FLOW_HOOKS = {
    .on_queued = hook_queued,
    .on_ready = hook_decided,
    .on_refused = hook_decided,
};

const struct flow_hooks *http_server_flow_hooks(void)
{
    return &FLOW_HOOKS;
}

static void deadline_after(struct timespec *ts, uint64_t ns)
{
    uint64_t at = clock_mono_ns() + ns;
    ts->tv_sec = (time_t)(at / 1000000000u);
    ts->tv_nsec = (long)(at % 1000000000u);
}

/* Protocol step 1: tick at every due time and at least every FLOW_TICK_NS
 * while anything waits; with nothing queued, sleep until a request queues. */
static void *timer_main(void *arg)
{
    struct http_server *s = arg;
    struct flow_timer *t = &s->timer;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        t->kicked = false;
        pthread_mutex_unlock(&t->mu);
        uint64_t now = clock_mono_ns();
        uint64_t next = flow_tick(s->flow, now);
        uint64_t nap = next == UINT64_MAX ? TIMER_IDLE_NS : next > now ? next - now : 0;
        if (next != UINT64_MAX && nap > FLOW_TICK_NS)
            nap = FLOW_TICK_NS;
        struct timespec ts;
        deadline_after(&ts, nap);
        pthread_mutex_lock(&t->mu);
        t->idle = next == UINT64_MAX;
        if (!t->stop && !t->kicked && nap > 0)
            (void)pthread_cond_timedwait(&t->cv, &t->mu, &ts);
        t->idle = false;
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static int timer_start(struct http_server *s)
{
    struct flow_timer *t = &s->timer;
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0)
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return -1;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        pthread_cond_destroy(&t->cv);
        return -1;
    }
    if (pthread_create(&t->thread, NULL, timer_main, s) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        return -1;
    }
    t->started = true;
    return 0;
}

static void timer_stop(struct flow_timer *t)
{
    if (!t->started)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    t->started = false;
}

static bool flow_controlled(const struct http_server *s, const struct req *r)
{
    return s->flow && r->route && s->flow_route && strcmp(r->route->label, s->flow_route) == 0;
}

/* Protocol step 3, on the first handler call: headers only, nothing read or
 * decrypted yet. The TX comes from the path; flow maps a code it has no rule
 * for to the default rule without creating anything. */
static enum MHD_Result admit(struct http_server *s, struct MHD_Connection *conn, struct req *r)
{
    r->ticket.cookie = r;
    enum flow_verdict v = flow_admit(s->flow, r->arg, r->ip, r->t0_ns, &r->ticket);
    switch (v) {
    case FLOW_ADMITTED:
        r->gate = G_RUNNING;
        return MHD_YES;
    case FLOW_QUEUED: /* suspended by hook_queued; a hook may even have resumed it */
        r->gate = G_QUEUED;
        return MHD_YES;
    case FLOW_OVERLOADED: /* at once: MHD then closes the connection, freeing a slot */
        r->gate = G_REFUSED;
        return send_refusal(conn, r);
    default: /* busy: answered once the body is in, so the connection stays */
        r->gate = G_REFUSED;
        return MHD_YES;
    }
}

/* The first call after a hook resumed a queued request: its verdict. */
static void resumed(struct req *r)
{
    r->wait_ns = r->decided_ns > r->t0_ns ? r->decided_ns - r->t0_ns : 0;
    r->gate = r->ticket.verdict == FLOW_ADMITTED ? G_RUNNING : G_REFUSED;
}

/* --- libmicrohttpd callbacks ------------------------------------------------- */

static enum MHD_Result first_call(struct http_server *s, struct MHD_Connection *conn,
                                  const char *url, const char *method, void **con_cls)
{
    struct req *r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    r->s = s;
    r->conn = conn;
    r->t0_ns = clock_mono_ns();
    r->url = url;
    r->route = find_route(s, method, url, &r->arg);
    client_ip(conn, r->ip, sizeof r->ip);
    copy_token(r->method, sizeof r->method, method);
    copy_token(r->request_id, sizeof r->request_id,
               MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"));
    *con_cls = r;
    atomic_fetch_add(&s->in_flight, 1);
    metric_inc(s->m_in_flight);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoll(cl, NULL, 10) > s->body_limit) {
        /* Answer before reading: MHD then closes the connection. */
        r->too_large = true;
        return dispatch(conn, r);
    }
    return flow_controlled(s, r) ? admit(s, conn, r) : MHD_YES;
}

static enum MHD_Result take_upload(struct http_server *s, struct req *r, const char *upload,
                                   size_t *upload_size)
{
    if (!r->too_large && (int64_t)(r->len + *upload_size) > s->body_limit) {
        r->too_large = true;
        free(r->body);
        r->body = NULL;
        r->len = 0;
    }
    if (!r->too_large && r->gate != G_REFUSED) {
        char *nb = realloc(r->body, r->len + *upload_size + 1);
        if (!nb)
            return MHD_NO;
        memcpy(nb + r->len, upload, *upload_size);
        r->len += *upload_size;
        nb[r->len] = '\0';
        r->body = nb;
    } else if (!r->too_large) {
        r->len += *upload_size; /* refused: counted against the limit, not kept */
    }
    *upload_size = 0;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct req *r = *con_cls;
    if (!r)
        return first_call(s, conn, url, method, con_cls);
    if (r->gate == G_QUEUED) {
        /* libmicrohttpd repeats the first call on resume: the body comes next. */
        resumed(r);
        if (!*upload_size)
            return MHD_YES;
    }
    if (*upload_size)
        return take_upload(s, r, upload, upload_size);
    if (r->status) /* already answered (early 413 or 503) */
        return MHD_YES;
    /* The call libmicrohttpd repeats once the executor has resumed us. */
    if (atomic_load_explicit(&r->job, memory_order_acquire) == J_ANSWERED)
        return answer(conn, r, &r->resp);
    if (r->gate == G_REFUSED && !r->too_large)
        return send_refusal(conn, r);
    if (r->route && r->route->offload && !r->too_large)
        return offload(s, conn, r);
    return dispatch(conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct req *r = *con_cls;
    if (!r)
        return;
    /* A job's writes (gate, resp) are visible once it has answered. */
    (void)atomic_load_explicit(&r->job, memory_order_acquire);
    /* Protocol step 4's safety net: the connection died between admission
     * and the end of the handler, or (only while stopping) still waits. */
    if (r->gate == G_RUNNING)
        (void)flow_done(&r->ticket, clock_mono_ns());
    else if (r->gate == G_QUEUED)
        (void)flow_cancel(&r->ticket, clock_mono_ns());
    char labels[128], st[8];
    snprintf(st, sizeof st, "%d", r->status);
    const char *route = r->route ? r->route->label : "other";
    snprintf(labels, sizeof labels, "route=\"%s\",status=\"%s\"", route, r->status ? st : "none");
    metric_inc(metrics_counter("zhanye_http_requests_total", labels));
    snprintf(labels, sizeof labels, "route=\"%s\"", route);
    double secs = (double)(clock_mono_ns() - r->t0_ns) / 1e9;
    metric_observe(metrics_histogram("zhanye_http_request_duration_seconds", labels,
                                     METRICS_LATENCY_BUCKETS, METRICS_LATENCY_NBUCKETS),
                   secs);
    log_info("http.access", "%s %s %d %.3fms id=%s", r->method, route, r->status, secs * 1e3,
             r->request_id[0] ? r->request_id : "-");
    metric_dec(s->m_in_flight);
    atomic_fetch_sub(&s->in_flight, 1);
    free(r->resp.body); /* answered, never sent: the daemon stopped first */
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* Protocol step 2: every connection counts against max_connections. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        flow_conn_open(s->flow);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        flow_conn_close(s->flow);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    log_warn("http.mhd", "%s", msg);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return -1;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)atoi(colon + 1));
    if (strcmp(host, "*") == 0 || strcmp(host, "0.0.0.0") == 0)
        sa->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -1;
    return 0;
}

int http_server_start(const struct http_server_config *cfg, const struct http_route *routes,
                      size_t nroutes, void *app, struct http_server **out)
{
    struct sockaddr_in sa;
    if (parse_listen(cfg->listen, &sa)) {
        log_error("http.start", "bad listen address %s", cfg->listen);
        return -1;
    }
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->routes = routes;
    s->nroutes = nroutes;
    s->app = app;
    s->body_limit = cfg->body_limit;
    metrics_describe("zhanye_http_requests_total", "counter", "HTTP requests by route and status");
    metrics_describe("zhanye_http_request_duration_seconds", "histogram",
                     "HTTP request latency by route");
    metrics_describe("zhanye_http_in_flight", "gauge", "HTTP requests being handled");
    s->m_in_flight = metrics_gauge("zhanye_http_in_flight", NULL);
    s->flow = cfg->flow;
    s->flow_route = cfg->flow_route;
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cfg->threads > 0 ? cfg->threads : cores > 0 ? cores : 1;
    int workers = cfg->workers > 0 ? cfg->workers : cores > 0 ? 2 * cores : 2;
    metrics_describe("zhanye_http_executor_waiting", "gauge",
                     "requests waiting for an executor thread");
    s->m_exec_wait = metrics_gauge("zhanye_http_executor_waiting", NULL);
    /* Each job holds one connection, with at most one request: a queue as
     * long as connection_limit can never be full. */
    if (executor_start(workers, (size_t)cfg->connection_limit, &s->exec) != 0) {
        log_error("http.start", "cannot start %d executor threads", workers);
        free(s);
        return -1;
    }
    if (s->flow && timer_start(s) != 0) {
        log_error("http.start", "cannot start the flow-control timer thread");
        executor_stop(s->exec);
        free(s);
        return -1;
    }
    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->request_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->connection_limit, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, s->flow ? on_connection : NULL, s, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!s->d) {
        log_error("http.start", "cannot listen on %s", cfg->listen);
        timer_stop(&s->timer);
        executor_stop(s->exec);
        free(s);
        return -1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : ntohs(sa.sin_port);
    *out = s;
    return 0;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

int64_t http_server_in_flight(const struct http_server *s)
{
    return atomic_load(&s->in_flight);
}

void http_server_stop(struct http_server *s, int drain_timeout_s)
{
    if (!s)
        return;
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    /* Protocol step 6: every waiter is refused and thereby resumed; later
     * requests on open connections get 503. */
    if (s->flow)
        flow_shutdown(s->flow, clock_mono_ns());
    timer_stop(&s->timer);
    uint64_t deadline = clock_mono_ns() + (uint64_t)drain_timeout_s * 1000000000u;
    while (atomic_load(&s->in_flight) > 0 && clock_mono_ns() < deadline)
        usleep(2000);
    if (atomic_load(&s->in_flight) > 0)
        log_warn("http.stop",
                 "%lld requests still in flight at the drain deadline (%zu on the "
                 "executor, awaited)",
                 (long long)atomic_load(&s->in_flight), executor_pending(s->exec));
    /* Even past the deadline: a job holds a suspended connection, which
     * libmicrohttpd cannot stop with, and would resume a freed one. Handlers
     * bound their own waits (database busy timeout, egress call timeouts). */
    executor_drain(s->exec);
    MHD_stop_daemon(s->d);
    executor_stop(s->exec);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    free(s);
}

void http_text(struct http_response *resp, int status, const char *content_type, char *body,
               size_t len)
{
    free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->body_len = body ? len : 0;
}

void http_json(struct http_response *resp, int status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"内部错误\"}}";
        text = strdup(oom);
        status = 500;
    }
    http_text(resp, status, "application/json", text, text ? strlen(text) : 0);
}

void http_error(struct http_response *resp, int status, const char *code, const char *message)
{
    http_json(resp, status, json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

int http_add_header(struct http_response *resp, const char *name, const char *value)
{
    if (resp->nheaders == HTTP_MAX_HEADERS)
        return -1;
    int n =
        snprintf(resp->headers[resp->nheaders].value, sizeof resp->headers[0].value, "%s", value);
    if (n < 0 || (size_t)n >= sizeof resp->headers[0].value)
        return -1;
    resp->headers[resp->nheaders++].name = name;
    return 0;
}

const char *http_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}
