/* server — the HTTP front of the platform, on libmicrohttpd.
 *
 * One epoll listener with an internal thread pool (one thread per core by
 * default). Each request is routed by method + path to a handler that fills
 * a struct http_response; bodies beyond the configured limit are refused
 * with 413 before they are read. Every request is counted in /metrics by
 * route label and status, with its latency. http_server_stop() stops
 * accepting, lets in-flight requests finish (up to a deadline), then stops.
 *
 * EXECUTOR. The handler of a route marked offload (the ZY1 pipeline: SM2,
 * the database, Argon2id, egress calls) does not run on libmicrohttpd's
 * threads: once the body is in, the connection is suspended and the request
 * handed to an executor pool (executor.h, `workers` threads); the job resumes
 * the connection and the response is queued on the handler call libmicrohttpd
 * repeats after the resume. Other routes run inline, so a health check never
 * waits behind a LOGIN. While a job runs, it alone touches the request; a
 * handler may read request headers (the connection is suspended).
 *
 * FLOW CONTROL. With a struct flow in the config, every request of the route
 * labelled flow_route (the ZY1 transactions) is decided by flow_admit() on the
 * first handler call, from the headers alone, before its body is read or
 * anything is decrypted; the path remainder is the TX. Admitted requests run;
 * queued ones are suspended (no thread waits) and resumed by flow's hooks;
 * refused ones get 429 `busy` or 503 `overloaded` with Retry-After (a 503
 * decided at arrival is sent at once and closes the connection; a 429 is
 * sent once the small body has been read and discarded, keeping the
 * connection). Every answer of that route carries X-Queue-Wait-Ms, the time
 * it spent queued as the server measured it. Other routes never go through
 * flow. The server runs flow's timer thread; the flow must be created with
 * http_server_flow_hooks() and outlive the server. */
#ifndef ZHANYE_HTTP_SERVER_H
#define ZHANYE_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow;
struct flow_hooks;

struct http_request {
    const char *method;
    const char *url;
    const char *route; /* the matched route's label, e.g. "/api/v1/tx/{TX}" */
    const char *arg;   /* the path remainder for prefix routes (the TX code) */
    const char *body;  /* NUL-terminated; NULL when there is none */
    size_t body_len;
    const char *client_ip;
    uint64_t t0_ns; /* clock_mono_ns() at arrival */
    void *app;
    void *conn; /* the MHD connection, for headers */
};

#define HTTP_MAX_HEADERS 4

struct http_response {
    int status;
    char *body; /* malloc'd, owned by the response */
    size_t body_len;
    const char *content_type;
    struct {
        const char *name;
        char value[128];
    } headers[HTTP_MAX_HEADERS];
    int nheaders;
};

typedef void (*http_handler)(struct http_request *req, struct http_response *resp);

struct http_route {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact path, or prefix ending in '/' when prefix is true */
    bool prefix;
    const char *label; /* route label for metrics */
    http_handler fn;
    bool offload; /* runs on the executor, not on a libmicrohttpd thread */
};

struct http_server_config {
    const char *listen; /* HOST:PORT; port 0 picks a free one */
    int threads;        /* libmicrohttpd's; 0 = one per core */
    int workers;        /* the executor's; 0 = two per core */
    int64_t body_limit;
    int request_timeout_s;
    int connection_limit;
    struct flow *flow;      /* NULL: no flow control */
    const char *flow_route; /* label of the route flow decides, e.g. "/api/v1/tx" */
};

/* The hooks a flow given to this server must have been created with: they
 * suspend and resume libmicrohttpd connections. */
const struct flow_hooks *http_server_flow_hooks(void);

struct http_server;

int http_server_start(const struct http_server_config *cfg, const struct http_route *routes,
                      size_t nroutes, void *app, struct http_server **out);
/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *s);
/* Requests currently being handled. */
int64_t http_server_in_flight(const struct http_server *s);
/* Stops accepting, refuses every queued request (flow_shutdown), waits up to
 * drain_timeout_s for in-flight requests, then for the executor's jobs
 * whatever the deadline (each holds a suspended connection), stops. */
void http_server_stop(struct http_server *s, int drain_timeout_s);

/* Response helpers. http_json takes ownership of the json value. */
void http_json(struct http_response *resp, int status, json_t *body);
void http_error(struct http_response *resp, int status, const char *code, const char *message);
void http_text(struct http_response *resp, int status, const char *content_type, char *body,
               size_t len);
int http_add_header(struct http_response *resp, const char *name, const char *value);
/* Value of a request header, or NULL. */
const char *http_header(const struct http_request *req, const char *name);

#endif
