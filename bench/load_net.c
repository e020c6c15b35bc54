/* zhanye-load's engine: one thread, epoll, plain HTTP/1.1 over keep-alive
 * connections, each request's bytes prepared ahead. A connection carries one
 * request at a time (no pipelining, like a tablet).
 *
 * Closed loop: every connection sends its next request as soon as the answer
 * to the last one is in; latency runs from the send.
 * Open loop: request i is due at t0 + i / rate whatever the answers do; a
 * due request waits for a free connection, and its latency runs from when it
 * was due, not from when it could be sent, so a slow server cannot hide its
 * queueing (no coordinated omission). */
#include "foundation/clock.h"
#include "load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF_CAP 16384
#define DRAIN_NS (UINT64_C(30) * 1000000000u) /* longest wait for the last answers */

struct conn {
    int fd;
    bool busy;
    size_t idx;        /* the request in flight */
    uint64_t start_ns; /* latency origin */
    size_t woff;       /* bytes of it written */
    size_t rlen;
    char rbuf[RBUF_CAP];
};

struct engine {
    struct load_run *run;
    const struct load_opts *o;
    int ep;
    struct conn *c;
    int nc;
    size_t next; /* next request to send */
    int busy;
    struct sockaddr_in sa;
};

static int conn_open(struct engine *e, struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&e->sa, sizeof e->sa) != 0) {
        fprintf(stderr, "zhanye-load: connect: %s\n", strerror(errno));
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
        return -1;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(e->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->rlen = 0;
}

static void want_write(struct engine *e, struct conn *c, bool on)
{
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = c};
    epoll_ctl(e->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what the socket takes; -1 on a dead connection. */
static int flush(struct engine *e, struct conn *c)
{
    const struct load_req *r = &e->run->reqs[c->idx];
    while (c->woff < r->wire_len) {
        ssize_t n = write(c->fd, r->wire + c->woff, r->wire_len - c->woff);
        if (n < 0 && errno == EAGAIN) {
            want_write(e, c, true);
            return 0;
        }
        if (n <= 0)
            return -1;
        c->woff += (size_t)n;
    }
    return 0;
}

/* A request that never got its answer: counted, not retried. */
static void lost(struct engine *e, struct conn *c)
{
    if (c->busy) {
        e->run->res[c->idx].status = 0;
        e->run->transport_errors++;
        e->run->done++;
        c->busy = false;
        e->busy--;
    }
    conn_close(c);
    e->run->reconnects++;
    if (conn_open(e, c) != 0)
        c->fd = -1;
}

static void send_next(struct engine *e, struct conn *c, uint64_t origin_ns)
{
    c->idx = e->next++;
    c->busy = true;
    c->woff = 0;
    c->start_ns = origin_ns;
    c->rlen = 0;
    e->busy++;
    e->run->sent++;
    if (flush(e, c) != 0)
        lost(e, c);
}

/* Status, Content-Length and Connection: close of a complete head. */
static void parse_head(const char *p, size_t head_len, int *status, long *clen, bool *close_after)
{
    *status = head_len > 12 ? atoi(p + 9) : 0;
    *clen = -1;
    *close_after = false;
    for (const char *l = memchr(p, '\n', head_len); l && (size_t)(l - p) < head_len;
         l = memchr(l + 1, '\n', head_len - (size_t)(l + 1 - p))) {
        const char *h = l + 1;
        if (strncasecmp(h, "Content-Length:", 15) == 0)
            *clen = strtol(h + 15, NULL, 10);
        else if (strncasecmp(h, "Connection:", 11) == 0 && strncasecmp(h + 12, "close", 5) == 0)
            *close_after = true;
    }
}

/* Only a sealed answer that opens and says OK counts as a transaction. */
static bool answer_ok(const struct load_req *r, const char *body, size_t len)
{
    char *pt = NULL;
    size_t n = 0;
    bool ok = zyc_open(&r->call, body, len, &pt, &n, NULL) == ZY1_OK && pt &&
              strstr(pt, "\"code\":\"OK\"") != NULL;
    free(pt);
    return ok;
}

/* 1: an answer is complete and recorded; 0: more to read; -1: broken. */
static int complete(struct engine *e, struct conn *c, uint64_t now)
{
    const char *end = c->rlen >= 4 ? memmem(c->rbuf, c->rlen, "\r\n\r\n", 4) : NULL;
    if (!end)
        return c->rlen == RBUF_CAP ? -1 : 0;
    size_t head = (size_t)(end - c->rbuf) + 4;
    int status;
    long clen;
    bool close_after;
    parse_head(c->rbuf, head, &status, &clen, &close_after);
    if (clen < 0 || head + (size_t)clen > RBUF_CAP)
        return -1;
    if (c->rlen < head + (size_t)clen)
        return 0;
    struct load_result *res = &e->run->res[c->idx];
    uint64_t lat = (now - c->start_ns) / 1000u;
    res->lat_us = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
    res->status = (uint16_t)status;
    res->ok = status == 200 &&
              (!e->o->verify || answer_ok(&e->run->reqs[c->idx], c->rbuf + head, (size_t)clen));
    e->run->done++;
    e->run->t1_ns = now;
    c->busy = false;
    e->busy--;
    c->rlen = 0;
    if (close_after) { /* e.g. a 503 sent before the body: the server closes */
        conn_close(c);
        e->run->reconnects++;
        if (conn_open(e, c) != 0)
            c->fd = -1;
    }
    return 1;
}

static void on_readable(struct engine *e, struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF_CAP - c->rlen);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            lost(e, c);
            return;
        }
        c->rlen += (size_t)n;
        int rc = c->busy ? complete(e, c, clock_mono_ns()) : -1;
        if (rc < 0) {
            lost(e, c);
            return;
        }
        if (rc == 1)
            return;
    }
}

static uint64_t due_at(const struct engine *e, size_t i)
{
    return e->run->t0_ns + (uint64_t)((double)i * 1e9 / e->o->rate);
}

/* Hands requests to idle connections: in the closed loop any time before
 * the end, in the open loop those already due. */
static void dispatch(struct engine *e, uint64_t now, bool stopping)
{
    for (int i = 0; i < e->nc && !stopping && e->next < e->run->nreqs; i++) {
        struct conn *c = &e->c[i];
        if (c->busy || c->fd < 0)
            continue;
        if (!e->o->open_loop) {
            send_next(e, c, now);
            continue;
        }
        uint64_t due = due_at(e, e->next);
        if (due > now)
            return;
        send_next(e, c, due);
    }
}

/* How long epoll may sleep: until the next request is due (open loop) if a
 * connection is free to take it; else until an answer frees one. */
static struct timespec nap(const struct engine *e, uint64_t now, bool stopping)
{
    uint64_t ns = UINT64_C(50000000);
    if (e->o->open_loop && !stopping && e->next < e->run->nreqs && e->busy < e->nc) {
        uint64_t due = due_at(e, e->next);
        ns = due <= now ? 0 : due - now < ns ? due - now : ns;
    }
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};
    return ts;
}

static void loop(struct engine *e)
{
    struct load_run *run = e->run;
    uint64_t end = run->t0_ns + (uint64_t)(e->o->duration_s * 1e9);
    for (;;) {
        uint64_t now = clock_mono_ns();
        bool stopping = now >= end || e->next >= run->nreqs;
        if (stopping && (e->busy == 0 || now >= end + DRAIN_NS))
            return;
        dispatch(e, now, stopping);
        struct epoll_event ev[64];
        struct timespec ts = nap(e, now, stopping);
        int n = epoll_pwait2(e->ep, ev, 64, &ts, NULL);
        for (int i = 0; i < n; i++) {
            struct conn *c = ev[i].data.ptr;
            if (c->fd < 0)
                continue;
            if ((ev[i].events & EPOLLOUT) && c->busy) {
                want_write(e, c, false);
                if (flush(e, c) != 0) {
                    lost(e, c);
                    continue;
                }
            }
            if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                on_readable(e, c);
        }
    }
}

int load_fire(struct load_run *run)
{
    const struct load_opts *o = run->o;
    struct engine e = {.run = run, .o = o, .nc = o->connections};
    e.sa.sin_family = AF_INET;
    e.sa.sin_port = htons((uint16_t)o->port);
    int rc = inet_pton(AF_INET, o->host, &e.sa.sin_addr) == 1 ? 0 : -1;
    e.ep = epoll_create1(0);
    e.c = calloc((size_t)e.nc, sizeof *e.c);
    for (int i = 0; e.c && i < e.nc; i++)
        e.c[i].fd = -1;
    for (int i = 0; rc == 0 && e.c && i < e.nc; i++)
        rc = conn_open(&e, &e.c[i]);
    if (rc == 0 && e.c && e.ep >= 0) {
        run->t0_ns = clock_mono_ns();
        run->t1_ns = run->t0_ns;
        loop(&e);
    } else {
        rc = -1;
    }
    for (int i = 0; e.c && i < e.nc; i++)
        conn_close(&e.c[i]);
    free(e.c);
    if (e.ep >= 0)
        close(e.ep);
    return rc;
}
