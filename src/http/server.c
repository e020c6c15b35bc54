#include "http/server.h"

#include "access/flow.h"
#include "channel/sm.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/netaddr.h"
#include "foundation/thread.h"
#include "http/executor.h"
#include "http/handlers.h"
#include "http/static.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* The global cap on request bodies held in memory. */
struct buffer_cap {
    pthread_mutex_t mu;
    int64_t limit; /* 0 = no cap */
    int64_t used;  /* under mu */
    struct metric *gauge;
};

/* An open stream (server.h STREAMS); in its server's list under streams.mu. */
struct stream {
    struct http_server *s;
    struct MHD_Connection *conn;
    struct http_stream hs;
    bool suspended; /* under streams.mu: by fill's 0, until the stream thread resumes it */
    struct stream *prev, *next;
};

/* The streams and the thread that resumes the suspended ones. */
struct streams {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool inited, started, stop; /* stop: under mu */
    int n;
    struct stream *head;
};

struct http_server {
    struct MHD_Daemon *d;
    struct streams streams;
    const struct http_route *routes;
    size_t nroutes;
    void *app;
    int64_t body_limit;       /* HTTP_BODY_TX */
    int64_t admin_body_limit; /* HTTP_BODY_ADMIN */
    int64_t file_body_limit;  /* HTTP_BODY_FILE */
    char spool_dir[512];      /* "" = HTTP_BODY_FILE refused */
    bool https;               /* public_url is https */
    struct static_site *web;  /* the web apps' files, or NULL */
    struct netaddr_list metrics_allow;
    struct netaddr_list trusted; /* proxies whose X-Forwarded-For counts */
    struct buffer_cap buf;
    int port;
    _Atomic int64_t in_flight;
    struct metric *m_in_flight;
    struct flow *flow;
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
    char *body;      /* NULL while nothing is kept */
    size_t len;      /* body bytes received (kept, or counted and dropped) */
    size_t cap;      /* bytes allocated for body, NUL excluded */
    int64_t limit;   /* the route's body limit */
    size_t reserved; /* bytes reserved out of the buffer cap */
    int refusal;     /* 413 or 503 decided on the body: discarded, answered at its end */
    /* HTTP_BODY_FILE: the spool file (fd -1 before the first byte or once
     * closed), its name, the SM3 so far and at the end. */
    int spool_fd;
    char spool_path[560];
    sm3_stream *spool_hash;
    bool spooled; /* spool_sm3 holds the whole body's digest */
    unsigned char spool_sm3[SM3_LEN];
    size_t drained; /* bytes discarded since the refusal */
    int status;
    uint64_t t0_ns;
    enum gate gate;
    uint64_t wait_ns;    /* time spent queued */
    uint64_t decided_ns; /* set by the hook that ended the wait */
    struct flow_ticket ticket;
    _Atomic int job;           /* enum job; release/acquire hands resp over */
    struct http_response resp; /* the executor's answer */
    bool has_peer;
    struct netaddr peer_addr;
    char peer[NETADDR_STR_MAX]; /* the TCP peer */
    char ip[NETADDR_STR_MAX];   /* the client (X-Forwarded-For via a trusted proxy) */
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

static bool path_matches(const struct http_route *r, const char *url, const char **arg)
{
    size_t n = strlen(r->path);
    if (r->prefix ? strncmp(url, r->path, n) != 0 || !url[n] : strcmp(url, r->path) != 0)
        return false;
    *arg = r->prefix ? url + n : NULL;
    return true;
}

static const struct http_route *find_api_route(const struct http_server *s, const char *method,
                                               const char *url, const char **arg, char *allow,
                                               size_t cap);

/* A file of the web apps (http_server_config.web): GET and HEAD only. */
static const struct http_route WEB_ROUTE = {
    .method = "GET", .path = "/", .label = "/web", .fn = h_static};

/* The route of method + url, or NULL; then allow lists the methods of the
 * routes that have the path ("" when none has it). A path no route has may
 * be a web app's file. */
static const struct http_route *find_route(const struct http_server *s, const char *method,
                                           const char *url, const char **arg, char *allow,
                                           size_t cap)
{
    const struct http_route *web = find_api_route(s, method, url, arg, allow, cap);
    if (web || allow[0] || !s->web || !static_has(s->web, url))
        return web;
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
        *arg = NULL;
        return &WEB_ROUTE;
    }
    snprintf(allow, cap, "GET, HEAD");
    return NULL;
}

static const struct http_route *find_api_route(const struct http_server *s, const char *method,
                                               const char *url, const char **arg, char *allow,
                                               size_t cap)
{
    size_t used = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct http_route *r = &s->routes[i];
        const char *rest;
        if (!path_matches(r, url, &rest))
            continue;
        if (strcmp(r->method, method) == 0) {
            *arg = rest;
            return r;
        }
        if (strstr(allow, r->method))
            continue;
        int w = snprintf(allow + used, cap - used, "%s%s", used ? ", " : "", r->method);
        if (w > 0 && (size_t)w < cap - used)
            used += (size_t)w;
    }
    return NULL;
}

/* On every answer (struct http_response's headers are the handler's). */
static const struct {
    const char *name, *value;
} SECURITY_HEADERS[] = {
    {.name = "X-Content-Type-Options", .value = "nosniff"},
    {.name = "Content-Security-Policy", .value = "frame-ancestors 'none'"},
    {.name = "X-Frame-Options", .value = "DENY"},
};
#define HSTS "max-age=31536000"

static void add_headers(const struct http_server *s, struct MHD_Response *mr,
                        const struct http_response *resp);

static enum MHD_Result send_response(const struct http_server *s, struct MHD_Connection *conn,
                                     struct http_response *resp)
{
    /* No body (a 304): nothing for libmicrohttpd to free. A file: it
     * closes the fd when the response is destroyed. */
    struct MHD_Response *mr =
        resp->has_fd
            ? MHD_create_response_from_fd_at_offset64(resp->file_len, resp->fd, resp->file_off)
        : resp->body
            ? MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE)
            : MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
    if (!mr && resp->has_fd)
        close(resp->fd);
    resp->has_fd = false;
    if (!mr)
        return MHD_NO;
    resp->body = NULL; /* owned by mr now */
    add_headers(s, mr, resp);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    return rc;
}

static void add_headers(const struct http_server *s, struct MHD_Response *mr,
                        const struct http_response *resp)
{
    MHD_add_response_header(mr, "Content-Type",
                            resp->content_type ? resp->content_type : "application/json");
    MHD_add_response_header(mr, "Cache-Control",
                            resp->cache_control ? resp->cache_control : "no-store");
    for (size_t i = 0; i < sizeof SECURITY_HEADERS / sizeof SECURITY_HEADERS[0]; i++) {
        const char *v = SECURITY_HEADERS[i].value;
        if (resp->csp && strcmp(SECURITY_HEADERS[i].name, "Content-Security-Policy") == 0)
            v = resp->csp;
        MHD_add_response_header(mr, SECURITY_HEADERS[i].name, v);
    }
    if (s->https)
        MHD_add_response_header(mr, "Strict-Transport-Security", HSTS);
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value);
}

/* Every X-Forwarded-For line of a request, in order, joined with ",". */
struct forwarded {
    char buf[1024];
    size_t len;
    int lines;
    bool overflow; /* too long: treated as malformed */
};

static enum MHD_Result forwarded_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct forwarded *f = cls;
    if (!key || strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    size_t n = value ? strlen(value) : 0;
    if (f->len + n + 1 >= sizeof f->buf) {
        f->overflow = true;
        return MHD_NO;
    }
    if (f->lines++)
        f->buf[f->len++] = ',';
    memcpy(f->buf + f->len, value ? value : "", n);
    f->len += n;
    f->buf[f->len] = '\0';
    return MHD_YES;
}

/* The peer's address, and the client's: X-Forwarded-For counts only when
 * the peer is a trusted proxy, and a malformed one leaves the peer's. */
static void client_addresses(const struct http_server *s, struct MHD_Connection *conn,
                             struct req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    r->has_peer = ci && netaddr_from_sockaddr(ci->client_addr, &r->peer_addr) == 0;
    if (!r->has_peer)
        return; /* both stay "" */
    netaddr_format(&r->peer_addr, r->peer, sizeof r->peer);
    struct netaddr client = r->peer_addr;
    if (netaddr_list_match(&s->trusted, &r->peer_addr)) {
        struct forwarded f = {.len = 0};
        struct netaddr named;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, forwarded_line, &f);
        if (f.lines > 0 && !f.overflow &&
            netaddr_forwarded_client(f.buf, f.len, &s->trusted, &named) == 0)
            client = named;
    }
    netaddr_format(&client, r->ip, sizeof r->ip);
}

/* --- the buffer cap ------------------------------------------------------------ */

/* Reserves n more bytes for r: false, nothing reserved, when they do not fit. */
static bool reserve(struct buffer_cap *b, struct req *r, size_t n)
{
    if (n == 0)
        return true;
    pthread_mutex_lock(&b->mu);
    bool ok = n <= (size_t)INT64_MAX && (b->limit <= 0 || (int64_t)n <= b->limit - b->used);
    if (ok) {
        b->used += (int64_t)n;
        r->reserved += n;
        metric_set(b->gauge, b->used);
    }
    pthread_mutex_unlock(&b->mu);
    return ok;
}

/* Gives back everything r holds. Idempotent. */
static void release(struct buffer_cap *b, struct req *r)
{
    if (!r->reserved)
        return;
    pthread_mutex_lock(&b->mu);
    b->used -= (int64_t)r->reserved;
    metric_set(b->gauge, b->used);
    pthread_mutex_unlock(&b->mu);
    r->reserved = 0;
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

/* ZE_BUSY (429) or ZE_OVERLOADED (503), with Retry-After. */
static void refusal(struct http_response *resp, enum ze e, int retry_after_s)
{
    char retry[16];
    snprintf(retry, sizeof retry, "%d", retry_after_s > 0 ? retry_after_s : 1);
    http_error(resp, e, NULL);
    (void)http_add_header(resp, "Retry-After", retry);
}

/* The code of flow's refusal: a 429 verdict is busy, anything else overloaded. */
static enum ze flow_refusal(enum flow_reason reason)
{
    return flow_reason_status(reason) == ze_http(ZE_BUSY) ? ZE_BUSY : ZE_OVERLOADED;
}

static void too_large(struct http_response *resp)
{
    http_error(resp, ZE_TOO_LARGE, NULL);
}

/* --- spooled bodies (HTTP_BODY_FILE) ----------------------------------------- */

/* Writes a chunk to the request's spool file (created at the first one)
 * and hashes it. -1 when the file cannot be made or written. */
static int spool_write(struct req *r, const char *p, size_t n)
{
    if (r->spool_fd < 0) {
        if (!r->s->spool_dir[0] || r->spool_path[0] || r->spooled)
            return -1;
        if (snprintf(r->spool_path, sizeof r->spool_path, "%s/.spool-XXXXXX", r->s->spool_dir) >=
            (int)sizeof r->spool_path) {
            r->spool_path[0] = '\0';
            return -1;
        }
        r->spool_fd = mkstemp(r->spool_path);
        if (r->spool_fd < 0) {
            log_warn("http.spool", "cannot create a spool file in %s: %s", r->s->spool_dir,
                     strerror(errno));
            r->spool_path[0] = '\0';
            return -1;
        }
        if (sm3_stream_new(&r->spool_hash) != SM_OK)
            return -1;
    }
    if (sm3_stream_update(r->spool_hash, p, n) != SM_OK)
        return -1;
    while (n) {
        ssize_t w = write(r->spool_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            log_warn("http.spool", "cannot write %s: %s", r->spool_path, strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The whole body is in: flushed, closed, its digest kept. 0 or -1. */
static int spool_finish(struct req *r)
{
    if (r->spooled)
        return 0;
    int rc = r->spool_fd >= 0 && fsync(r->spool_fd) == 0 ? 0 : -1;
    if (r->spool_fd >= 0)
        close(r->spool_fd);
    r->spool_fd = -1;
    sm_status st = sm3_stream_final(r->spool_hash, r->spool_sm3);
    r->spool_hash = NULL;
    r->spooled = rc == 0 && st == SM_OK;
    return r->spooled ? 0 : -1;
}

/* Drops the spool file, if the handler did not take it. Idempotent. */
static void spool_drop(struct req *r)
{
    if (r->spool_fd >= 0)
        close(r->spool_fd);
    r->spool_fd = -1;
    sm3_stream_free(r->spool_hash);
    r->spool_hash = NULL;
    if (r->spool_path[0])
        (void)unlink(r->spool_path);
    r->spool_path[0] = '\0';
}

static void settle(struct req *r, struct http_response *resp);

/* The route's handler (or the 413 / 503 its body got) into resp. */
static void run_handler(struct req *r, struct http_response *resp)
{
    resp->https = r->s->https;
    if (r->refusal == 413) {
        too_large(resp);
    } else if (r->refusal) {
        refusal(resp, ZE_OVERLOADED, 1);
    } else {
        struct http_request req = {
            .method = r->method,
            .url = r->url,
            .route = r->route->label,
            .arg = r->arg,
            .body = r->body,
            .body_len = r->len,
            .client_ip = r->ip,
            .peer_ip = r->peer,
            .t0_ns = r->t0_ns,
            .app = r->s->app,
            .conn = r->conn,
            .web = r->s->web,
        };
        if (r->route->body == HTTP_BODY_FILE && r->spool_path[0] && spool_finish(r) == 0) {
            req.spool_path = r->spool_path;
            memcpy(req.spool_sm3, r->spool_sm3, SM3_LEN);
        } else if (r->route->body == HTTP_BODY_FILE && r->spool_path[0]) {
            http_error(resp, ZE_UNAVAILABLE, NULL);
            settle(r, resp);
            return;
        }
        r->route->fn(&req, resp);
    }
    settle(r, resp);
}

/* --- streams (server.h STREAMS) ---------------------------------------------- */

static void deadline_after(struct timespec *ts, uint64_t ns);

/* libmicrohttpd's content reader, on the connection's thread. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *st = cls;
    struct streams *ss = &st->s->streams;
    pthread_mutex_lock(&ss->mu);
    bool stop = ss->stop;
    pthread_mutex_unlock(&ss->mu);
    if (stop)
        return MHD_CONTENT_READER_END_OF_STREAM;
    long n = st->hs.fill(st->hs.cls, buf, max);
    if (n > 0)
        return (ssize_t)n;
    if (n < 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing now: suspended under mu, so the stream thread's resume follows it. */
    pthread_mutex_lock(&ss->mu);
    if (!ss->stop) {
        st->suspended = true;
        MHD_suspend_connection(st->conn);
    }
    pthread_mutex_unlock(&ss->mu);
    return 0;
}

/* The response is gone (its connection completed): the stream ends. */
static void stream_free(void *cls)
{
    struct stream *st = cls;
    struct streams *ss = &st->s->streams;
    pthread_mutex_lock(&ss->mu);
    if (st->prev)
        st->prev->next = st->next;
    else
        ss->head = st->next;
    if (st->next)
        st->next->prev = st->prev;
    ss->n--;
    pthread_cond_broadcast(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
    st->hs.done(st->hs.cls);
    free(st);
}

/* Resumes every suspended stream; with none open, sleeps until one opens. */
static void resume_all(struct streams *ss)
{
    for (struct stream *st = ss->head; st; st = st->next)
        if (st->suspended) {
            st->suspended = false;
            MHD_resume_connection(st->conn);
        }
}

static void *streams_main(void *arg)
{
    struct streams *ss = arg;
    pthread_mutex_lock(&ss->mu);
    while (!ss->stop) {
        resume_all(ss);
        struct timespec ts;
        deadline_after(&ts, ss->n ? (uint64_t)HTTP_STREAM_TICK_MS * 1000000u : TIMER_IDLE_NS);
        (void)pthread_cond_timedwait(&ss->cv, &ss->mu, &ts);
    }
    pthread_mutex_unlock(&ss->mu);
    return NULL;
}

static int streams_start(struct streams *ss)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0)
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&ss->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return -1;
    if (pthread_mutex_init(&ss->mu, NULL) != 0) {
        pthread_cond_destroy(&ss->cv);
        return -1;
    }
    ss->inited = true; /* destroyed by free_server */
    if (thread_start(&ss->thread, NULL, streams_main, ss, "zhanye-stream") != 0)
        return -1;
    ss->started = true;
    return 0;
}

/* Every stream ends (their readers answer end-of-stream once resumed); the
 * thread stops once none is open or the deadline passed. */
static void streams_end(struct streams *ss, uint64_t deadline_ns)
{
    if (!ss->started)
        return;
    pthread_mutex_lock(&ss->mu);
    ss->stop = true;
    resume_all(ss);
    while (ss->n > 0 && clock_mono_ns() < deadline_ns) {
        struct timespec ts;
        deadline_after(&ts, 10000000u);
        resume_all(ss);
        (void)pthread_cond_timedwait(&ss->cv, &ss->mu, &ts);
    }
    pthread_cond_broadcast(&ss->cv);
    pthread_mutex_unlock(&ss->mu);
    pthread_join(ss->thread, NULL);
    ss->started = false;
}

/* Queues a streamed answer, or 503 overloaded past HTTP_MAX_STREAMS. */
static enum MHD_Result send_stream(struct http_server *s, struct MHD_Connection *conn,
                                   struct req *r, struct http_response *resp)
{
    struct streams *ss = &s->streams;
    struct http_stream hs = resp->stream;
    resp->stream = (struct http_stream){0};
    struct stream *st = calloc(1, sizeof *st);
    pthread_mutex_lock(&ss->mu);
    bool room = st && ss->started && !ss->stop && ss->n < HTTP_MAX_STREAMS;
    if (room) {
        *st = (struct stream){.s = s, .conn = conn, .hs = hs, .next = ss->head};
        if (ss->head)
            ss->head->prev = st;
        ss->head = st;
        ss->n++;
        pthread_cond_broadcast(&ss->cv);
    }
    pthread_mutex_unlock(&ss->mu);
    if (!room) {
        free(st);
        hs.done(hs.cls);
        free(resp->body);
        *resp = (struct http_response){.status = 503, .https = s->https};
        refusal(resp, ZE_OVERLOADED, 5);
        r->status = resp->status;
        return send_response(s, conn, resp);
    }
    /* From here stream_free (when the connection completes) unlinks and ends it. */
    struct MHD_Response *mr =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
    if (!mr) {
        stream_free(st);
        return MHD_NO;
    }
    add_headers(s, mr, resp);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    return rc;
}

/* Queues resp on the connection and releases its body. */
static enum MHD_Result answer(struct MHD_Connection *conn, struct req *r,
                              struct http_response *resp)
{
    r->status = resp->status;
    if (resp->stream.fill)
        return send_stream(r->s, conn, r, resp);
    enum MHD_Result rc = send_response(r->s, conn, resp);
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

/* A request refused by flow: 429 busy or 503 overloaded, with Retry-After. */
static enum MHD_Result send_refusal(struct MHD_Connection *conn, struct req *r)
{
    struct http_response resp = {.status = 503};
    refusal(&resp, flow_refusal(r->ticket.reason), r->ticket.retry_after_s);
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
        refusal(&r->resp, ZE_OVERLOADED, 1);
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
    if (thread_start(&t->thread, NULL, timer_main, s, "zhanye-flow") != 0) {
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
    return s->flow && (r->route->flow_key || r->route->flow_arg);
}

/* True when key is some route's fixed flow key. */
static bool fixed_key(const struct http_server *s, const char *key)
{
    for (size_t i = 0; key && i < s->nroutes; i++)
        if (s->routes[i].flow_key && strcmp(s->routes[i].flow_key, key) == 0)
            return true;
    return false;
}

/* The key flow decides r under: the route's fixed one, else the path
 * remainder (the TX), unless that names a fixed key (then the default rule). */
static const char *flow_key(const struct http_server *s, const struct req *r)
{
    if (r->route->flow_key)
        return r->route->flow_key;
    return fixed_key(s, r->arg) ? NULL : r->arg;
}

/* Protocol step 3, on the first handler call: headers only, nothing read or
 * decrypted yet. flow maps a key it has no rule for to the default rule
 * without creating anything. */
static enum MHD_Result admit(struct http_server *s, struct MHD_Connection *conn, struct req *r)
{
    r->ticket.cookie = r;
    enum flow_verdict v = flow_admit(s->flow, flow_key(s, r), r->ip, r->t0_ns, &r->ticket);
    switch (v) {
    case FLOW_ADMITTED:
        r->gate = G_RUNNING;
        return MHD_YES;
    case FLOW_QUEUED: /* suspended by hook_queued; a hook may even have resumed it */
        r->gate = G_QUEUED;
        return MHD_YES;
    case FLOW_OVERLOADED: /* at once: MHD then closes the connection, freeing a slot */
        r->gate = G_REFUSED;
        release(&s->buf, r);
        return send_refusal(conn, r);
    default: /* busy: answered once the body is in, so the connection stays */
        r->gate = G_REFUSED;
        release(&s->buf, r); /* the body is dropped */
        return MHD_YES;
    }
}

/* The first call after a hook resumed a queued request: its verdict. */
static void resumed(struct req *r)
{
    r->wait_ns = r->decided_ns > r->t0_ns ? r->decided_ns - r->t0_ns : 0;
    r->gate = r->ticket.verdict == FLOW_ADMITTED ? G_RUNNING : G_REFUSED;
    if (r->gate == G_REFUSED)
        release(&r->s->buf, r); /* the body is dropped */
}

/* --- libmicrohttpd callbacks ------------------------------------------------- */

static int64_t route_limit(const struct http_server *s, const struct http_route *route)
{
    switch (route->body) {
    case HTTP_BODY_TX:
        return s->body_limit;
    case HTTP_BODY_ADMIN:
        return s->admin_body_limit;
    case HTTP_BODY_FILE:
        return s->file_body_limit;
    default:
        return 0;
    }
}

/* The declared body size: false when it is unknown (Transfer-Encoding, e.g.
 * chunked), else true with Content-Length, 0 without one. libmicrohttpd has
 * already refused a Content-Length that is not a number. */
static bool declared_size(struct MHD_Connection *conn, uint64_t *out)
{
    *out = 0;
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding"))
        return false;
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        errno = 0;
        unsigned long long v = strtoull(cl, NULL, 10);
        *out = errno ? UINT64_MAX : (uint64_t)v;
    }
    return true;
}

/* The policy of BEFORE THE BODY (server.h), then flow control. An answer
 * queued here is sent at once; libmicrohttpd never reads the body. */
static enum MHD_Result gate_request(struct http_server *s, struct MHD_Connection *conn,
                                    struct req *r, const char *allow)
{
    struct http_response resp = {.status = 500, .https = s->https};
    if (!r->route && !allow[0]) {
        http_error(&resp, ZE_NOT_FOUND, NULL);
        return answer(conn, r, &resp);
    }
    if (!r->route) {
        http_error(&resp, ZE_METHOD_NOT_ALLOWED, NULL);
        (void)http_add_header(&resp, "Allow", allow);
        return answer(conn, r, &resp);
    }
    if (r->route->restricted &&
        !(r->has_peer && netaddr_list_match(&s->metrics_allow, &r->peer_addr))) {
        http_error(&resp, ZE_FORBIDDEN, NULL);
        return answer(conn, r, &resp);
    }
    r->limit = route_limit(s, r->route);
    uint64_t size;
    bool sized = declared_size(conn, &size);
    if (sized ? size > (uint64_t)r->limit : r->limit == 0) {
        too_large(&resp);
        return answer(conn, r, &resp);
    }
    if (sized && r->route->body != HTTP_BODY_FILE && !reserve(&s->buf, r, (size_t)size)) {
        refusal(&resp, ZE_OVERLOADED, 1);
        return answer(conn, r, &resp);
    }
    return flow_controlled(s, r) ? admit(s, conn, r) : MHD_YES;
}

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
    r->spool_fd = -1;
    char allow[64];
    r->route = find_route(s, method, url, &r->arg, allow, sizeof allow);
    client_addresses(s, conn, r);
    copy_token(r->method, sizeof r->method, method);
    copy_token(r->request_id, sizeof r->request_id,
               MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id"));
    *con_cls = r;
    atomic_fetch_add(&s->in_flight, 1);
    metric_inc(s->m_in_flight);
    return gate_request(s, conn, r, allow);
}

/* From now on the body is dropped, and status (413, 503) answered once it
 * has ended. */
static void refuse_body(struct req *r, int status)
{
    r->refusal = status;
    free(r->body);
    r->body = NULL;
    r->cap = 0;
    release(&r->s->buf, r);
}

/* Room for len bytes (and a NUL) in r->body, within r's reservation: a
 * sized body reserved all of it at arrival; an unsized one grows both,
 * doubling, never past the route's limit. false when the cap says no. */
static bool make_room(struct http_server *s, struct req *r, size_t len)
{
    if (len <= r->cap)
        return true;
    if (len > r->reserved) {
        size_t want = r->reserved * 2 > len ? r->reserved * 2 : len;
        if (want > (size_t)r->limit)
            want = len > (size_t)r->limit ? len : (size_t)r->limit;
        if (!reserve(&s->buf, r, want - r->reserved) && !reserve(&s->buf, r, len - r->reserved))
            return false;
    }
    char *nb = realloc(r->body, r->reserved + 1);
    if (!nb)
        return false;
    r->body = nb;
    r->cap = r->reserved;
    return true;
}

static enum MHD_Result take_upload(struct http_server *s, struct req *r, const char *upload,
                                   size_t *upload_size)
{
    size_t n = *upload_size;
    *upload_size = 0;
    if (!r->refusal && (uint64_t)r->len + n > (uint64_t)r->limit)
        refuse_body(r, 413);
    if (r->refusal) {
        r->drained += n;
        return r->drained > HTTP_DRAIN_MAX ? MHD_NO : MHD_YES;
    }
    if (r->gate == G_REFUSED) { /* counted against the limit, not kept */
        r->len += n;
        release(&s->buf, r);
        return MHD_YES;
    }
    if (r->route->body == HTTP_BODY_FILE) { /* to disk, never in memory */
        if (spool_write(r, upload, n) != 0) {
            spool_drop(r);
            r->refusal = 503;
            r->drained = n;
            return MHD_YES;
        }
        r->len += n;
        return MHD_YES;
    }
    if (!make_room(s, r, r->len + n)) {
        refuse_body(r, 503);
        r->drained = n;
        return MHD_YES;
    }
    memcpy(r->body + r->len, upload, n);
    r->len += n;
    r->body[r->len] = '\0';
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
    if (r->status) /* already answered (before the body, or a refusal at arrival) */
        return MHD_YES;
    /* The call libmicrohttpd repeats once the executor has resumed us. */
    if (atomic_load_explicit(&r->job, memory_order_acquire) == J_ANSWERED)
        return answer(conn, r, &r->resp);
    if (r->gate == G_REFUSED && !r->refusal)
        return send_refusal(conn, r);
    if (r->route->offload && !r->refusal &&
        !(r->route->inline_if && r->route->inline_if(s->app, r->arg)))
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
    release(&s->buf, r);
    spool_drop(r);
    if (r->resp.has_fd) /* answered, never sent */
        close(r->resp.fd);
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

/* libmicrohttpd's unescaping (path and query), except that %00 stays as it
 * is: no NUL ever cuts a path short. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
    (void)cls;
    (void)conn;
    char *w = uri;
    for (const char *p = uri; *p; p++) {
        int hi, lo;
        if (p[0] == '%' && (hi = hex_val((unsigned char)p[1])) >= 0 &&
            (lo = hex_val((unsigned char)p[2])) >= 0 && (hi | lo)) {
            *w++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return (size_t)(w - uri);
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

/* The address lists, limits and public URL of cfg into s. 0 or -1 (logged). */
static int configure(struct http_server *s, const struct http_server_config *cfg)
{
    char err[160];
    const char *lists[] = {cfg->metrics_allow, cfg->trusted_proxies};
    struct netaddr_list *into[] = {&s->metrics_allow, &s->trusted};
    const char *names[] = {"metrics_allow", "trusted_proxies"};
    for (int i = 0; i < 2; i++) {
        if (netaddr_list_parse(lists[i] ? lists[i] : "", into[i], err, sizeof err) != 0) {
            log_error("http.start", "[server] %s: %s", names[i], err);
            return -1;
        }
    }
    s->body_limit = cfg->body_limit;
    s->admin_body_limit = cfg->admin_body_limit;
    s->file_body_limit = cfg->file_body_limit;
    snprintf(s->spool_dir, sizeof s->spool_dir, "%s", cfg->spool_dir ? cfg->spool_dir : "");
    s->https = cfg->public_url && strncmp(cfg->public_url, "https://", 8) == 0;
    s->web = cfg->web;
    s->buf.limit = cfg->buffer_limit;
    metrics_describe("zhanye_http_buffered_bytes", "gauge",
                     "request body bytes reserved in memory (at most [server] buffer_limit)");
    s->buf.gauge = metrics_gauge("zhanye_http_buffered_bytes", NULL);
    metric_set(s->buf.gauge, 0);
    return 0;
}

static void free_server(struct http_server *s)
{
    if (s->streams.inited) {
        pthread_mutex_destroy(&s->streams.mu);
        pthread_cond_destroy(&s->streams.cv);
    }
    pthread_mutex_destroy(&s->buf.mu);
    free(s);
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
    if (pthread_mutex_init(&s->buf.mu, NULL) != 0) {
        free(s);
        return -1;
    }
    s->routes = routes;
    s->nroutes = nroutes;
    s->app = app;
    if (configure(s, cfg) != 0) {
        free_server(s);
        return -1;
    }
    metrics_describe("zhanye_http_requests_total", "counter", "HTTP requests by route and status");
    metrics_describe("zhanye_http_request_duration_seconds", "histogram",
                     "HTTP request latency by route");
    metrics_describe("zhanye_http_in_flight", "gauge", "HTTP requests being handled");
    s->m_in_flight = metrics_gauge("zhanye_http_in_flight", NULL);
    s->flow = cfg->flow;
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    /* Two per core: a thread running a read-only TX inline (h_tx_inline)
     * may wait a moment for the database's lock, its twin serves meanwhile. */
    int threads = cfg->threads > 0 ? cfg->threads : cores > 0 ? 2 * cores : 2;
    int workers = cfg->workers > 0 ? cfg->workers : cores > 0 ? 2 * cores : 2;
    metrics_describe("zhanye_http_executor_waiting", "gauge",
                     "requests waiting for an executor thread");
    s->m_exec_wait = metrics_gauge("zhanye_http_executor_waiting", NULL);
    /* Each job holds one connection, with at most one request: a queue as
     * long as connection_limit can never be full. */
    if (executor_start(workers, (size_t)cfg->connection_limit, &s->exec) != 0) {
        log_error("http.start", "cannot start %d executor threads", workers);
        free_server(s);
        return -1;
    }
    if (streams_start(&s->streams) != 0) {
        log_error("http.start", "cannot start the stream thread");
        executor_stop(s->exec);
        free_server(s);
        return -1;
    }
    if (s->flow && timer_start(s) != 0) {
        log_error("http.start", "cannot start the flow-control timer thread");
        streams_end(&s->streams, 0);
        executor_stop(s->exec);
        free_server(s);
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
        on_mhd_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!s->d) {
        log_error("http.start", "cannot listen on %s", cfg->listen);
        timer_stop(&s->timer);
        streams_end(&s->streams, 0);
        executor_stop(s->exec);
        free_server(s);
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
    /* Open streams end first: each is a request in flight, possibly suspended. */
    streams_end(&s->streams, deadline);
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
    free_server(s);
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
    if (!text) { /* out of memory: the internal error, without jansson */
        char oom[256];
        snprintf(oom, sizeof oom, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                 ze_code(ZE_INTERNAL), ze_message(ZE_INTERNAL, NULL));
        text = strdup(oom);
        status = ze_http(ZE_INTERNAL);
    }
    http_text(resp, status, "application/json", text, text ? strlen(text) : 0);
}

void http_error_ex(struct http_response *resp, enum ze e, const char *detail, json_t *extra)
{
    json_t *err = json_pack("{s:s,s:s}", "code", ze_code(e), "message", ze_message(e, detail));
    if (err && extra && json_object_update_missing(err, extra) != 0) {
        json_decref(err);
        err = NULL;
    }
    json_decref(extra);
    http_json(resp, ze_http(e), err ? json_pack("{s:o}", "error", err) : NULL);
}

void http_error(struct http_response *resp, enum ze e, const char *detail)
{
    http_error_ex(resp, e, detail, NULL);
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

const char *http_query(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}
