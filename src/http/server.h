/* server — the HTTP front of the platform, on libmicrohttpd.
 *
 * One epoll listener with an internal thread pool (one thread per core by
 * default). Each request is routed by method + path to a handler that fills
 * a struct http_response. Every request is counted in /metrics by route
 * label and status, with its latency. http_server_stop() stops accepting,
 * lets in-flight requests finish (up to a deadline), then stops.
 *
 * BEFORE THE BODY. Everything that refuses a request is decided on
 * libmicrohttpd's first handler call, from the request line and headers
 * alone, and answered at once without reading a body byte (libmicrohttpd
 * then closes the connection), in this order:
 *   - no route has the path: 404 `not_found`; routes have the path but not
 *     the method: 405 `method_not_allowed` with `Allow` listing theirs; a
 *     path no route has but a web app's file (config web): GET and HEAD go
 *     to h_static, other methods 405 with Allow: GET, HEAD;
 *   - a restricted route (/metrics) and a peer not in the allow list: 403
 *     `forbidden` (the TCP peer's address, never X-Forwarded-For);
 *   - a body the route does not take: a route's class (enum http_body)
 *     gives its limit; Content-Length above it, or any body at all on a
 *     route that takes none (chunked included): 413 `too_large`;
 *   - the global buffer cap: a request reserves its Content-Length out of
 *     buffer_limit until it completes (or its body is to be dropped, e.g.
 *     refused by flow); when the reservation does not fit, 503 `overloaded`
 *     with Retry-After: 1;
 *   - flow control (below).
 * A chunked (or otherwise unsized) body is counted as it arrives: over the
 * route's limit it gets 413, and each chunk grows the reservation, 503 when
 * that does not fit; from then on nothing is kept, what the client still
 * sends is discarded (at most HTTP_DRAIN_MAX bytes, else the connection is
 * closed) and the answer is sent once the body ends (libmicrohttpd 0.9.75
 * cannot answer in the middle of one). Every reservation is released when
 * the request completes, however it ends; the bytes reserved are the gauge
 * zhanye_http_buffered_bytes.
 *
 * ADDRESSES. http_request.client_ip is the client's address: the TCP peer's,
 * or, when the peer is in trusted_proxies, the rightmost X-Forwarded-For
 * entry that is not itself a trusted proxy (all lines of the header, in
 * order; a malformed header leaves the peer's). peer_ip is always the TCP
 * peer's.
 *
 * URLS. libmicrohttpd decodes %XX in the path and query, except %00, which
 * stays as the three characters (no NUL ever enters a path).
 *
 * EVERY ANSWER carries Cache-Control: no-store (the web apps' files: their
 * own, http_response.cache_control), X-Content-Type-Options:
 * nosniff, Content-Security-Policy: frame-ancestors 'none', X-Frame-Options:
 * DENY, and Strict-Transport-Security: max-age=31536000 when public_url is
 * https (then resp->https is true for the handler, which marks its cookies
 * Secure).
 *
 * EXECUTOR. The handler of a route marked offload (the ZY1 pipeline: SM2,
 * the database, Argon2id, egress calls) does not run on libmicrohttpd's
 * threads: once the body is in, the connection is suspended and the request
 * handed to an executor pool (executor.h, `workers` threads); the job resumes
 * the connection and the response is queued on the handler call libmicrohttpd
 * repeats after the resume. Other routes run inline, so a health check never
 * waits behind a LOGIN; so does an offload route's request its inline_if
 * accepts (the ZY1 route's read-only TXs on the embedded database: the
 * handoff, two thread switches and the suspend and resume, would cost more
 * than anything they wait for). While a job runs, it alone touches the request; a
 * handler may read request headers (the connection is suspended).
 *
 * FLOW CONTROL. With a struct flow in the config, every request of a route
 * with a flow key (flow_arg: the path remainder, i.e. the TX of the ZY1
 * route; or a fixed flow_key such as ADMIN_LOGIN) is decided by flow_admit()
 * on the first handler call, from the headers alone, before its body is read
 * or anything is decrypted. A path remainder equal to some route's fixed key
 * is decided under the default rule: a fixed key's rule is its route's alone.
 * Admitted requests run; queued ones are suspended (no thread waits) and
 * resumed by flow's hooks; refused ones get 429 `busy` or 503 `overloaded`
 * with Retry-After (a 503 decided at arrival is sent at once and closes the
 * connection; a 429 is sent once the small body has been read and
 * discarded, keeping the connection). Every answer of such a route carries
 * X-Queue-Wait-Ms, the time it spent queued as the server measured it.
 * Other routes never go through flow. The server runs flow's timer thread;
 * the flow must be created with http_server_flow_hooks() and outlive the
 * server. */
#ifndef ZHANYE_HTTP_SERVER_H
#define ZHANYE_HTTP_SERVER_H

#include "foundation/errcode.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A refused unsized body: discarded up to this many more bytes, then the
 * connection is closed. */
#define HTTP_DRAIN_MAX (64 * 1024)

struct flow;
struct flow_hooks;
struct static_site;

struct http_request {
    const char *method;
    const char *url;
    const char *route; /* the matched route's label, e.g. "/api/v1/tx/{TX}" */
    const char *arg;   /* the path remainder for prefix routes (the TX code) */
    const char *body;  /* NUL-terminated; NULL when there is none */
    size_t body_len;
    /* The client's address (X-Forwarded-For via a trusted proxy), and the
     * TCP peer's. */
    const char *client_ip;
    const char *peer_ip;
    uint64_t t0_ns; /* clock_mono_ns() at arrival */
    void *app;
    void *conn;              /* the MHD connection, for headers */
    struct static_site *web; /* the web apps' files (static.h), or NULL */
    /* HTTP_BODY_FILE routes: the body is not in memory (body NULL) but in
     * this file of spool_dir, body_len bytes, whose SM3 the server computed
     * as it arrived (spool_sm3). The server unlinks the file once the
     * request ends: a handler that keeps it renames it away first. NULL
     * for every other route, and for an empty body. */
    const char *spool_path;
    unsigned char spool_sm3[32];
};

/* STREAMS. A handler may answer with a stream instead of a body (the
 * management API's live view, text/event-stream): it sets resp->stream.fill
 * (status and content type as usual). The server then calls fill(cls, buf,
 * cap) on libmicrohttpd's thread whenever the client can take bytes: it
 * returns the bytes written (> 0), 0 for "nothing now" (the connection is
 * then suspended, so no thread waits on it, and resumed by the server's
 * stream thread every HTTP_STREAM_TICK_MS to ask again), or -1 to end the
 * stream. fill must not block (no database, no lock held for long). done(cls)
 * is called exactly once when the stream ends however it ends (fill said
 * -1, the client went away, the server stops, or the server refused it).
 * At most HTTP_MAX_STREAMS streams are open at once; past that the answer is
 * 503 `overloaded` with Retry-After (done is called). Stopping the server
 * ends every stream before the drain. */
#define HTTP_MAX_STREAMS 8
#define HTTP_STREAM_TICK_MS 200

struct http_stream {
    long (*fill)(void *cls, char *buf, size_t cap);
    void (*done)(void *cls);
    void *cls;
};

/* Headers a handler (or the server: Allow, Retry-After, X-Queue-Wait-Ms)
 * adds to one answer; the fixed security headers are not among them. */
#define HTTP_MAX_HEADERS 8

struct http_response {
    int status;
    char *body; /* malloc'd, owned by the response */
    size_t body_len;
    const char *content_type;
    bool https; /* set by the server: public_url is https (cookies get Secure) */
    /* NULL: the defaults, Cache-Control no-store and the CSP frame-ancestors
     * 'none'; the web apps' answers set their own (static_route.c). */
    const char *cache_control;
    const char *csp;
    struct {
        const char *name;
        char value[128];
    } headers[HTTP_MAX_HEADERS];
    int nheaders;
    struct http_stream stream; /* fill NULL: an ordinary answer (body) */
    /* FILE ANSWERS. has_fd: the answer is file_len bytes of the open file
     * fd from file_off on (body must be NULL), sent by libmicrohttpd
     * without reading the file into memory (sendfile where it can). The
     * response owns fd from then on: the server closes it however the
     * request ends. */
    bool has_fd;
    int fd;
    uint64_t file_off, file_len;
};

typedef void (*http_handler)(struct http_request *req, struct http_response *resp);

/* The body a route takes, hence its limit. */
enum http_body {
    HTTP_BODY_NONE = 0, /* none: any body is 413 (the default for a route) */
    HTTP_BODY_ADMIN,    /* up to admin_body_limit */
    HTTP_BODY_TX,       /* up to body_limit */
    /* up to file_body_limit, spooled to a file of spool_dir as it arrives
     * (never held in memory, so not counted against buffer_limit), its SM3
     * computed on the way (http_request spool_path, spool_sm3); no spool
     * dir configured, or a file that cannot be written: 503 unavailable. */
    HTTP_BODY_FILE,
};

/* One route; tables use designated initializers, unset fields are the
 * safe choice (no body, inline, no flow control, open to every peer). */
struct http_route {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact path, or prefix ending in '/' when prefix is true */
    bool prefix;
    const char *label; /* route label for metrics */
    http_handler fn;
    bool offload; /* runs on the executor, not on a libmicrohttpd thread */
    /* An offload route's request that this says yes to (app, the path
     * remainder) runs inline all the same: one that is short and waits for
     * nothing but the embedded database (EXECUTOR above). NULL: never. */
    bool (*inline_if)(void *app, const char *arg);
    enum http_body body;  /* the body it takes */
    bool restricted;      /* only peers in metrics_allow (else 403) */
    bool flow_arg;        /* flow-controlled under the path remainder (the TX) */
    const char *flow_key; /* flow-controlled under this fixed key; NULL: see flow_arg */
};

struct http_server_config {
    const char *listen;       /* HOST:PORT; port 0 picks a free one */
    int threads;              /* libmicrohttpd's; 0 = two per core */
    int workers;              /* the executor's; 0 = two per core */
    int64_t body_limit;       /* HTTP_BODY_TX routes */
    int64_t admin_body_limit; /* HTTP_BODY_ADMIN routes */
    int64_t file_body_limit;  /* HTTP_BODY_FILE routes */
    const char *spool_dir;    /* where HTTP_BODY_FILE bodies are spooled; NULL: refused */
    int64_t buffer_limit;     /* body bytes reserved at once over all requests; 0 = no cap */
    int request_timeout_s;
    int connection_limit;
    struct flow *flow;           /* NULL: no flow control */
    const char *metrics_allow;   /* address list (netaddr.h) for restricted routes; NULL = "" */
    const char *trusted_proxies; /* address list of proxies; NULL or "" = none */
    const char *public_url;      /* https://... turns on HSTS and Secure cookies; may be NULL */
    /* The web apps' files (static.h), or NULL: a GET or HEAD of a path it
     * has that no route has goes to h_static (route label "/web"); another
     * method of such a path is 405 with Allow: GET, HEAD. Must outlive the
     * server. */
    struct static_site *web;
};

/* The hooks a flow given to this server must have been created with: they
 * suspend and resume libmicrohttpd connections. */
const struct flow_hooks *http_server_flow_hooks(void);

struct http_server;

/* 0, or -1 (logged) when an address list is malformed, the address cannot
 * be bound or a thread cannot start. routes must outlive the server. */
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
/* The one plain error answer: {"error":{"code","message"}} with the status
 * of e's entry in foundation/errcode.h; message is detail when non-NULL and
 * non-empty (e.g. the member a bad_request names), else the table's. extra
 * (taken, may be NULL) is an object whose members join "error", e.g.
 * {"reason":...} or {"server_ts":...}. Out of memory: 500 internal. */
void http_error_ex(struct http_response *resp, enum ze e, const char *detail, json_t *extra);
/* http_error_ex without extra members. */
void http_error(struct http_response *resp, enum ze e, const char *detail);
void http_text(struct http_response *resp, int status, const char *content_type, char *body,
               size_t len);
int http_add_header(struct http_response *resp, const char *name, const char *value);
/* Value of a request header, or NULL. */
const char *http_header(const struct http_request *req, const char *name);
/* Value of a URL query argument (decoded), or NULL. */
const char *http_query(const struct http_request *req, const char *name);

#endif
