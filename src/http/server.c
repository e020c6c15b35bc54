#include "http/server.h"

#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct http_server {
    struct MHD_Daemon *d;
    const struct http_route *routes;
    size_t nroutes;
    void *app;
    int64_t body_limit;
    int port;
    _Atomic int64_t in_flight;
    struct metric *m_in_flight;
};

/* Per-request state, kept across libmicrohttpd's repeated handler calls. */
struct req {
    const struct http_route *route;
    const char *arg; /* points into the URL, valid for the request's life */
    char *body;
    size_t len;
    bool too_large;
    int status;
    uint64_t t0_ns;
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

static enum MHD_Result dispatch(struct http_server *s, struct MHD_Connection *conn, struct req *r,
                                const char *url, const char *method)
{
    struct http_response resp = {.status = 500};
    if (r->too_large) {
        http_error(&resp, 413, "too_large", "请求体超过上限");
    } else if (!r->route) {
        http_error(&resp, 404, "not_found", "没有这个接口");
    } else {
        char ip[INET6_ADDRSTRLEN];
        client_ip(conn, ip, sizeof ip);
        struct http_request req = {
            .method = method,
            .url = url,
            .route = r->route->label,
            .arg = r->arg,
            .body = r->body,
            .body_len = r->len,
            .client_ip = ip,
            .t0_ns = r->t0_ns,
            .app = s->app,
            .conn = conn,
        };
        r->route->fn(&req, &resp);
    }
    r->status = resp.status;
    enum MHD_Result rc = send_response(conn, &resp);
    free(resp.body);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct http_server *s = cls;
    struct req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->t0_ns = clock_mono_ns();
        r->route = find_route(s, method, url, &r->arg);
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
            return dispatch(s, conn, r, url, method);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!r->too_large && (int64_t)(r->len + *upload_size) > s->body_limit) {
            r->too_large = true;
            free(r->body);
            r->body = NULL;
            r->len = 0;
        }
        if (!r->too_large) {
            char *nb = realloc(r->body, r->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + r->len, upload, *upload_size);
            r->len += *upload_size;
            nb[r->len] = '\0';
            r->body = nb;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->status) /* already answered (early 413) */
        return MHD_YES;
    return dispatch(s, conn, r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    struct req *r = *con_cls;
    if (!r)
        return;
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
    free(r->body);
    free(r);
    *con_cls = NULL;
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
    int threads = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                                MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->request_timeout_s,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!s->d) {
        log_error("http.start", "cannot listen on %s", cfg->listen);
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
    uint64_t deadline = clock_mono_ns() + (uint64_t)drain_timeout_s * 1000000000u;
    while (atomic_load(&s->in_flight) > 0 && clock_mono_ns() < deadline)
        usleep(2000);
    if (atomic_load(&s->in_flight) > 0)
        log_warn("http.stop", "%lld requests still in flight at the drain deadline",
                 (long long)atomic_load(&s->in_flight));
    MHD_stop_daemon(s->d);
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
