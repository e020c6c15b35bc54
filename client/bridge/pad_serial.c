/* pad_serial — see pad_serial.h. */
#include "pad_serial.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <openssl/crypto.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

const char *pad_status_name(pad_status s)
{
    static const char *const names[] = {
        [PAD_OK] = "ok",
        [PAD_EABSENT] = "absent",
        [PAD_ETIMEOUT] = "timeout",
        [PAD_EFRAME] = "bad_frame",
        [PAD_ECANCELLED] = "cancelled",
        [PAD_ENOINPUT] = "no_input",
        [PAD_ESHORT] = "pin_too_short",
        [PAD_ENOFINGER] = "no_finger",
        [PAD_EQUALITY] = "poor_quality",
        [PAD_ENOKEY] = "no_key",
        [PAD_EKEYCHECK] = "key_check",
        [PAD_EPARAM] = "bad_param",
        [PAD_ENOMEM] = "no_memory",
    };
    return (unsigned)s < sizeof names / sizeof names[0] && names[s] ? names[s] : "unknown";
}

pad_status pad_status_of(uint8_t st)
{
    switch (st) {
    case PAD_ST_OK:
        return PAD_OK;
    case PAD_ST_CANCELLED:
        return PAD_ECANCELLED;
    case PAD_ST_TIMEOUT:
        return PAD_ENOINPUT;
    case PAD_ST_PIN_SHORT:
        return PAD_ESHORT;
    case PAD_ST_NO_FINGER:
        return PAD_ENOFINGER;
    case PAD_ST_POOR_QUALITY:
        return PAD_EQUALITY;
    case PAD_ST_NO_KEY:
        return PAD_ENOKEY;
    case PAD_ST_BAD_PARAM:
        return PAD_EPARAM;
    case PAD_ST_KEY_CHECK:
        return PAD_EKEYCHECK;
    default:
        return PAD_EFRAME;
    }
}

pad_status pad_link_open(struct pad_link *l, const char *path)
{
    if (!l || !path)
        return PAD_EPARAM;
    memset(l, 0, sizeof *l);
    l->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (l->fd < 0)
        return PAD_EABSENT;
    struct termios t;
    if (tcgetattr(l->fd, &t) != 0) {
        int e = errno;
        close(l->fd);
        l->fd = -1;
        errno = e;
        return PAD_EABSENT;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(l->fd, TCSANOW, &t) != 0) {
        int e = errno;
        close(l->fd);
        l->fd = -1;
        errno = e;
        return PAD_EABSENT;
    }
    tcflush(l->fd, TCIFLUSH);
    return PAD_OK;
}

void pad_link_close(struct pad_link *l)
{
    if (l && l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pad_status pad_link_send(struct pad_link *l, uint8_t cmd, const uint8_t *data, size_t n)
{
    uint8_t out[PAD_FRAME_MAX];
    l->seq = (uint8_t)(l->seq == 255 ? 1 : l->seq + 1);
    size_t len = pad_frame_encode(l->seq, cmd, data, n, out, sizeof out);
    if (len == 0)
        return PAD_EPARAM;
    /* New command: whatever is left of the previous one is stale. */
    l->have = 0;
    tcflush(l->fd, TCIFLUSH);
    size_t off = 0;
    long long deadline = now_ms() + 2000;
    pad_status s = PAD_OK;
    while (off < len && s == PAD_OK) {
        ssize_t w = write(l->fd, out + off, len - off);
        if (w > 0) {
            off += (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            s = PAD_EABSENT;
        } else if (now_ms() > deadline) {
            s = PAD_ETIMEOUT;
        } else {
            struct pollfd p = {.fd = l->fd, .events = POLLOUT};
            poll(&p, 1, 50);
        }
    }
    OPENSSL_cleanse(out, len); /* may have carried key material */
    return s;
}

pad_status pad_link_recv(struct pad_link *l, int timeout_ms, struct pad_frame *f)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        struct pad_frame fr;
        size_t used = 0;
        pad_frame_status st = pad_frame_decode(l->buf, l->have, &fr, &used);
        if (st == PAD_FRAME_OK) {
            memcpy(l->frame, l->buf, used);
            memmove(l->buf, l->buf + used, l->have - used);
            l->have -= used;
            if (fr.seq != l->seq)
                continue; /* a late frame of an earlier command */
            if (fr.cmd == PAD_CMD_NAK)
                return PAD_EFRAME;
            *f = fr;
            f->data = l->frame + (fr.data - l->buf);
            return PAD_OK;
        }
        if (st != PAD_FRAME_NEED) {
            l->have = 0;
            return PAD_EFRAME;
        }
        long long left = deadline - now_ms();
        if (left <= 0)
            return PAD_ETIMEOUT;
        struct pollfd p = {.fd = l->fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left > 100 ? 100 : left));
        if (r < 0 && errno != EINTR)
            return PAD_EABSENT;
        if (r <= 0)
            continue;
        if (p.revents & (POLLERR | POLLNVAL))
            return PAD_EABSENT;
        ssize_t n = read(l->fd, l->buf + l->have, sizeof l->buf - l->have);
        if (n > 0)
            l->have += (size_t)n;
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            return PAD_EABSENT;
    }
}

pad_status pad_link_call(struct pad_link *l, uint8_t cmd, const uint8_t *data, size_t n,
                         int timeout_ms, struct pad_frame *reply)
{
    pad_status s = pad_link_send(l, cmd, data, n);
    if (s != PAD_OK)
        return s;
    s = pad_link_recv(l, timeout_ms, reply);
    if (s != PAD_OK)
        return s;
    if (reply->cmd != (uint8_t)(cmd | PAD_REPLY) || reply->len < 1)
        return PAD_EFRAME;
    return pad_status_of(reply->data[0]);
}
