#include "egress/conn_tcp.h"

#include "foundation/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int tcp_frame_prefix(size_t len, char out[TCP_FRAME_DIGITS + 1])
{
    if (len > TCP_FRAME_MAX)
        return -1;
    snprintf(out, TCP_FRAME_DIGITS + 1, "%06zu", len);
    return 0;
}

int tcp_frame_parse(const char *p, size_t *len)
{
    size_t n = 0;
    for (int i = 0; i < TCP_FRAME_DIGITS; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        n = n * 10 + (size_t)(p[i] - '0');
    }
    *len = n;
    return 0;
}

/* Milliseconds left until deadline, rounded up; 0 when passed. */
static int ms_left(uint64_t deadline_ns)
{
    uint64_t now = clock_mono_ns();
    if (now >= deadline_ns)
        return 0;
    uint64_t ms = (deadline_ns - now + 999999) / 1000000;
    return ms > 600000 ? 600000 : (int)ms;
}

/* Waits for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
    for (;;) {
        int ms = ms_left(deadline_ns);
        if (ms == 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, ms);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static enum egress_kind kerr(enum egress_kind k, char *msg, size_t cap, const char *fmt,
                             const char *what)
{
    snprintf(msg, cap, fmt, what);
    return k;
}

/* Non-blocking connect to one resolved address within the time allowed. */
static enum egress_kind connect_one(const struct addrinfo *ai, uint64_t deadline_ns, int *out,
                                    char *msg, size_t cap)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return kerr(EGRESS_E_CONNECT, msg, cap, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    enum egress_kind k = EGRESS_OK;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS)
            k = kerr(EGRESS_E_CONNECT, msg, cap, "connect: %s", strerror(errno));
        else if (wait_fd(fd, POLLOUT, deadline_ns) != 1)
            k = kerr(EGRESS_E_TIMEOUT, msg, cap, "connect: %s", "timed out");
        else {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            if (soerr)
                k = kerr(EGRESS_E_CONNECT, msg, cap, "connect: %s", strerror(soerr));
        }
    }
    if (k != EGRESS_OK)
        close(fd);
    else
        *out = fd;
    return k;
}

static enum egress_kind open_conn(const char *host, const char *port, int connect_timeout_ms,
                                  uint64_t deadline_ns, int *fd, char *msg, size_t cap)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return kerr(EGRESS_E_CONNECT, msg, cap, "resolve: %s", gai_strerror(gai));
    uint64_t cdl = clock_mono_ns() + (uint64_t)connect_timeout_ms * 1000000u;
    if (cdl > deadline_ns)
        cdl = deadline_ns;
    enum egress_kind k = EGRESS_E_CONNECT;
    for (const struct addrinfo *ai = res; ai && k != EGRESS_OK; ai = ai->ai_next)
        k = connect_one(ai, cdl, fd, msg, cap);
    freeaddrinfo(res);
    /* Only the call's own deadline makes a timeout; connect_timeout_ms is "no connection". */
    if (k == EGRESS_E_TIMEOUT && clock_mono_ns() < deadline_ns)
        k = EGRESS_E_CONNECT;
    if (k == EGRESS_OK)
        msg[0] = '\0';
    return k;
}

static enum egress_kind send_all(int fd, const char *p, size_t n, uint64_t deadline_ns, char *msg,
                                 size_t cap)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            return kerr(EGRESS_E_IO, msg, cap, "send: %s", strerror(errno));
        } else if (w < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT, deadline_ns) != 1) {
            return kerr(EGRESS_E_TIMEOUT, msg, cap, "send: %s", "timed out");
        }
    }
    return EGRESS_OK;
}

/* Reads exactly n bytes; on EOF returns EGRESS_E_IO with *eof set and *got
 * saying how many arrived, for the caller to word. */
static enum egress_kind recv_exact(int fd, char *p, size_t n, uint64_t deadline_ns, size_t *got,
                                   bool *eof, char *msg, size_t cap)
{
    *got = 0;
    *eof = false;
    while (*got < n) {
        ssize_t r = recv(fd, p + *got, n - *got, 0);
        if (r > 0) {
            *got += (size_t)r;
        } else if (r == 0) {
            *eof = true;
            return EGRESS_E_IO;
        } else if (errno != EAGAIN && errno != EINTR) {
            return kerr(EGRESS_E_IO, msg, cap, "recv: %s", strerror(errno));
        } else if (errno == EAGAIN && wait_fd(fd, POLLIN, deadline_ns) != 1) {
            return kerr(EGRESS_E_TIMEOUT, msg, cap, "reply: %s", "timed out");
        }
    }
    return EGRESS_OK;
}

static enum egress_kind read_frame(int fd, uint64_t deadline_ns, char **resp, size_t *resp_len,
                                   char *msg, size_t cap)
{
    char hdr[TCP_FRAME_DIGITS];
    size_t got = 0, len = 0;
    bool eof;
    enum egress_kind k = recv_exact(fd, hdr, sizeof hdr, deadline_ns, &got, &eof, msg, cap);
    if (eof && got == 0)
        return kerr(EGRESS_E_IO, msg, cap, "%s", "connection closed without a reply");
    if (eof)
        return kerr(EGRESS_E_PROTOCOL, msg, cap, "%s", "reply cut inside the length prefix");
    if (k != EGRESS_OK)
        return k;
    if (tcp_frame_parse(hdr, &len))
        return kerr(EGRESS_E_PROTOCOL, msg, cap, "%s", "reply length prefix is not 6 digits");
    char *body = malloc(len + 1);
    if (!body)
        return kerr(EGRESS_E_INTERNAL, msg, cap, "%s", "out of memory");
    k = recv_exact(fd, body, len, deadline_ns, &got, &eof, msg, cap);
    if (eof) {
        snprintf(msg, cap, "reply cut short: %zu of %zu bytes", got, len);
        k = EGRESS_E_PROTOCOL;
    }
    if (k != EGRESS_OK) {
        free(body);
        return k;
    }
    body[len] = '\0';
    *resp = body;
    *resp_len = len;
    return EGRESS_OK;
}

/* After the frame the server may only close: extra bytes mean a framing bug. */
static enum egress_kind check_trailing(int fd, char *msg, size_t cap)
{
    char c;
    ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
    if (r > 0)
        return kerr(EGRESS_E_PROTOCOL, msg, cap, "%s", "bytes after the reply frame");
    return EGRESS_OK;
}

enum egress_kind tcp_call(const char *host, const char *port, int connect_timeout_ms,
                          uint64_t deadline_ns, const char *req, size_t len, char **resp,
                          size_t *resp_len, char *msg, size_t msgcap)
{
    char prefix[TCP_FRAME_DIGITS + 1];
    int fd = -1;
    *resp = NULL;
    *resp_len = 0;
    msg[0] = '\0';
    if (tcp_frame_prefix(len, prefix))
        return kerr(EGRESS_E_MAPPING, msg, msgcap, "%s", "request longer than a frame allows");
    enum egress_kind k = open_conn(host, port, connect_timeout_ms, deadline_ns, &fd, msg, msgcap);
    if (k == EGRESS_OK)
        k = send_all(fd, prefix, TCP_FRAME_DIGITS, deadline_ns, msg, msgcap);
    if (k == EGRESS_OK)
        k = send_all(fd, req, len, deadline_ns, msg, msgcap);
    if (k == EGRESS_OK)
        k = read_frame(fd, deadline_ns, resp, resp_len, msg, msgcap);
    if (k == EGRESS_OK)
        k = check_trailing(fd, msg, msgcap);
    if (k != EGRESS_OK) {
        free(*resp);
        *resp = NULL;
        *resp_len = 0;
    }
    if (fd >= 0)
        close(fd);
    return k;
}
