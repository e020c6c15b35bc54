/* serial — see serial.h. */
#include "serial.h"

#include "device.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

static const struct {
    int baud;
    speed_t speed;
} RATES[] = {
    {.baud = 9600, .speed = B9600},     {.baud = 19200, .speed = B19200},
    {.baud = 38400, .speed = B38400},   {.baud = 57600, .speed = B57600},
    {.baud = 115200, .speed = B115200}, {.baud = 230400, .speed = B230400},
    {.baud = 460800, .speed = B460800}, {.baud = 921600, .speed = B921600},
};

static int speed_of(int baud, speed_t *out)
{
    for (size_t i = 0; i < sizeof RATES / sizeof RATES[0]; i++)
        if (RATES[i].baud == baud) {
            *out = RATES[i].speed;
            return 0;
        }
    return -1;
}

int serial_baud_ok(int baud)
{
    speed_t s;
    return speed_of(baud, &s) == 0;
}

int serial_open(const char *path, int baud)
{
    speed_t sp;
    if (speed_of(baud, &sp) != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        int e = errno;
        close(fd);
        errno = e == ENOTTY ? EINVAL : e;
        return -1;
    }
    cfmakeraw(&t);
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
    t.c_cflag |= CS8 | CLOCAL | CREAD;
    t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    t.c_cc[VMIN] = 1; /* with O_NONBLOCK: EAGAIN when empty, 0 only on hang-up */
    t.c_cc[VTIME] = 0;
    cfsetispeed(&t, sp);
    cfsetospeed(&t, sp);
    if (tcsetattr(fd, TCSANOW, &t) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    tcflush(fd, TCIFLUSH);
    return fd;
}

static int wait_fd(int fd, short ev, long deadline_ms)
{
    for (;;) {
        long left = deadline_ms - bridge_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            continue;
        if (p.revents & ev)
            return 1;
        if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
            errno = EIO;
            return -1;
        }
    }
}

int serial_write_all(int fd, const uint8_t *p, size_t n, long deadline_ms)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        int r = wait_fd(fd, POLLOUT, deadline_ms);
        if (r == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

long serial_read_some(int fd, uint8_t *p, size_t n, long deadline_ms)
{
    for (;;) {
        ssize_t r = read(fd, p, n);
        if (r > 0)
            return r;
        if (r == 0) {
            errno = EIO; /* hang-up */
            return -1;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        int w = wait_fd(fd, POLLIN, deadline_ms);
        if (w <= 0)
            return w;
    }
}

void serial_drain(int fd, int quiet_ms, int max_ms)
{
    long end = bridge_now_ms() + max_ms;
    uint8_t buf[512];
    for (;;) {
        long now = bridge_now_ms();
        if (now >= end)
            break;
        long until = now + quiet_ms < end ? now + quiet_ms : end;
        if (serial_read_some(fd, buf, sizeof buf, until) <= 0)
            break;
    }
    tcflush(fd, TCIFLUSH);
}
