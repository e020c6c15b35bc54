#include "foundation/log.h"
#include "foundation/text.h"

#include "foundation/clock.h"
#include "foundation/mask.h"
#include "foundation/thread.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* A whole line, newline included, never exceeds this. */
#define LINE_MAX_BYTES 4096
/* Event names are short constants; a longer one is a bug worth seeing, cut. */
#define EVENT_MAX_BYTES 128
#define MARK "\xE2\x80\xA6[truncated]" /* "…[truncated]" */
#define MARK_LEN (sizeof MARK - 1)
/* The ring is a byte ring: lines vary from ~100 bytes to LINE_MAX_BYTES, so
 * fixed slots would waste most of the memory. ring_lines is honoured as a
 * line limit; the byte budget assumes an average line well under 256 bytes. */
#define AVG_LINE_BYTES 256
#define RING_MIN_BYTES (16 * LINE_MAX_BYTES)
#define RING_MAX_BYTES ((size_t)64 << 20)
#define DEFAULT_RING_LINES 65536
/* After a write the writer lingers this long so that the lines of a busy
 * moment go out in one writev and producers need not wake it per line; a
 * ring a quarter full, or log_close(), cuts the linger short. */
#define LINGER_NS (10 * 1000000L)

struct ring {
    char *buf;
    size_t cap;       /* bytes, a power of two */
    uint64_t head;    /* bytes ever appended; producers advance it */
    uint64_t tail;    /* bytes ever written out; the writer advances it */
    size_t max_lines; /* line limit from the config */
    size_t lines;     /* lines between tail and head */
};

/* Everything below is guarded by mu except ring bytes in [tail, head), which
 * only the writer reads while producers append past head. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* CLOCK_MONOTONIC, set up by log_open() */
    bool wake_ready;     /* wake has its clock */
    bool open;
    bool stopping;
    bool writer_idle;      /* writer waits for a first line: the next producer signals */
    bool writer_lingering; /* writer waits out LINGER_NS: a producer signals only past a quarter */
    struct ring ring;
    int fd;
    bool own_fd;
    pthread_t writer;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .fd = -1};

/* Lines below the threshold are discarded before formatting, so the check
 * must not need the mutex. */
static _Atomic int min_level = LOG_INFO;
static _Atomic uint64_t n_accepted, n_written, n_dropped, n_lost;

static const char *const LEVEL_NAMES[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
        if (strcasecmp(s, LEVEL_NAMES[i]) == 0)
            return i;
    return -1;
}

uint64_t log_accepted(void)
{
    return atomic_load(&n_accepted);
}

uint64_t log_written(void)
{
    return atomic_load(&n_written);
}

uint64_t log_drops(void)
{
    return atomic_load(&n_dropped);
}

/* --- formatting ---------------------------------------------------------- */

/* Escaped form of the character at s into unit (at most 6 bytes); sets *used
 * to the input bytes it covers. Malformed bytes become U+FFFD one by one so
 * the line stays valid JSON whatever the caller passed. */
static const char *short_escape(unsigned c)
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return NULL;
    }
}

static size_t escape_unit(const unsigned char *s, size_t n, size_t *used, char *unit)
{
    static const char HEX[] = "0123456789abcdef";
    unsigned c = s[0];
    const char *esc = short_escape(c);
    *used = 1;
    if (esc) {
        memcpy(unit, esc, 2);
        return 2;
    }
    if (c < 0x20 || c == 0x7F) {
        memcpy(unit, "\\u00", 4);
        unit[4] = HEX[c >> 4];
        unit[5] = HEX[c & 15];
        return 6;
    }
    size_t len = utf8_seq_len(s, n);
    if (len == 0) {
        memcpy(unit, "\xEF\xBF\xBD", 3);
        return 3;
    }
    memcpy(unit, s, len);
    *used = len;
    return len;
}

/* Escapes whole characters of in while they fit in cap; *consumed tells how
 * much of in made it. */
static size_t json_escape(const char *in, size_t n, size_t *consumed, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t w = 0, r = 0;
    while (r < n) {
        char unit[6];
        size_t used;
        size_t ul = escape_unit(s + r, n - r, &used, unit);
        if (w + ul > cap)
            break;
        memcpy(out + w, unit, ul);
        w += ul;
        r += used;
    }
    *consumed = r;
    return w;
}

/* Escapes in into at most cap bytes (cap >= MARK_LEN). If it does not all
 * fit, or cut says the text was already shortened, the marker ends it. */
static size_t escape_capped(const char *in, size_t n, bool cut, char *out, size_t cap)
{
    size_t used;
    size_t w = json_escape(in, n, &used, out, cap - MARK_LEN);
    if (!cut && used == n)
        return w;
    if (!cut) {
        /* The rest may fit in the room kept for the marker. */
        size_t more;
        size_t w2 = json_escape(in + used, n - used, &more, out + w, cap - w);
        if (used + more == n)
            return w + w2;
    }
    if (w > cap - MARK_LEN) /* cannot happen; tells the optimiser the bound */
        w = cap - MARK_LEN;
    memcpy(out + w, MARK, MARK_LEN);
    return w + MARK_LEN;
}

/* After vsnprintf cut the message: drop a split UTF-8 tail, then any trailing
 * digit group, because a half number would escape mask_text (seven digits
 * of a phone no longer look like a phone). */
static size_t trim_cut(char *s, size_t n)
{
    size_t p = n;
    while (p > 0 && n - p < 3 && ((unsigned char)s[p - 1] & 0xC0) == 0x80)
        p--;
    if (p > 0 && (unsigned char)s[p - 1] >= 0xC0 &&
        utf8_seq_len((unsigned char *)s + p - 1, n - p + 1) == 0)
        n = p - 1;
    while (n > 0 && s[n - 1] != '\0' && strchr("0123456789Xx -", s[n - 1]))
        n--;
    s[n] = '\0';
    return n;
}

static void format_ts(char *buf, size_t cap)
{
    int64_t ms = clock_wall_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Masked message text; *cut is set when it had to be shortened. */
__attribute__((format(printf, 1, 0))) static void format_msg(const char *fmt, va_list ap, char *msg,
                                                             size_t cap, bool *cut)
{
    char raw[LINE_MAX_BYTES];
    int n = vsnprintf(raw, sizeof raw, fmt, ap);
    *cut = false;
    if (n < 0) {
        snprintf(raw, sizeof raw, "(bad log format: %s)", fmt);
    } else if ((size_t)n >= sizeof raw) {
        trim_cut(raw, sizeof raw - 1);
        *cut = true;
    }
    /* On failure mask_text leaves "***", never the raw text. */
    mask_text(raw, msg, cap);
}

static size_t put(char *line, size_t at, const char *s)
{
    size_t n = strlen(s);
    memcpy(line + at, s, n);
    return at + n;
}

/* Builds one complete line. The fixed parts are bounded (timestamp, level,
 * capped event), so only the message needs a budget. */
__attribute__((format(printf, 3, 0))) static size_t
format_line(enum log_level lvl, const char *event, const char *fmt, va_list ap, char *line)
{
    char ts[64], msg[LINE_MAX_BYTES];
    bool cut;
    format_ts(ts, sizeof ts);
    format_msg(fmt ? fmt : "", ap, msg, sizeof msg, &cut);
    event = event ? event : "";

    size_t at = put(line, 0, "{\"ts\":\"");
    at = put(line, at, ts);
    at = put(line, at, "\",\"level\":\"");
    at = put(line, at, LEVEL_NAMES[lvl]);
    at = put(line, at, "\",\"event\":\"");
    at += escape_capped(event, strlen(event), false, line + at, EVENT_MAX_BYTES + MARK_LEN);
    at = put(line, at, "\",\"msg\":\"");
    static const char tail[] = "\"}\n";
    at += escape_capped(msg, strlen(msg), cut, line + at, LINE_MAX_BYTES - at - (sizeof tail - 1));
    return put(line, at, tail);
}

/* --- output -------------------------------------------------------------- */

/* Writes all of iov, retrying short writes; -1 with errno on failure. */
static int writev_all(int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        while (cnt > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int write_stderr(const char *line, size_t len)
{
    struct iovec iov = {.iov_base = (void *)line, .iov_len = len};
    return writev_all(STDERR_FILENO, &iov, 1);
}

/* Writes ring bytes [from, to) in one writev: at most two pieces on wrap. */
static int write_span(uint64_t from, uint64_t to)
{
    size_t mask = L.ring.cap - 1;
    size_t pos = (size_t)from & mask, len = (size_t)(to - from);
    size_t first = len < L.ring.cap - pos ? len : L.ring.cap - pos;
    struct iovec iov[2] = {{.iov_base = L.ring.buf + pos, .iov_len = first},
                           {.iov_base = L.ring.buf, .iov_len = len - first}};
    return writev_all(L.fd, iov, len > first ? 2 : 1);
}

static void report_write_error(int err)
{
    char line[256];
    int n = snprintf(line, sizeof line, "log: write failed (%s); lines are being lost\n",
                     strerror(err));
    if (n > 0)
        write_stderr(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* With mu held: a quarter of the ring (bytes or lines) is waiting. */
static bool ring_busy(void)
{
    const struct ring *r = &L.ring;
    return (size_t)(r->head - r->tail) > r->cap / 4 || r->lines > r->max_lines / 4;
}

/* With mu held: waits up to LINGER_NS on the monotonic clock. */
static void linger(void)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += LINGER_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    L.writer_lingering = true;
    while (!L.stopping && !ring_busy() &&
           pthread_cond_timedwait(&L.wake, &L.mu, &until) != ETIMEDOUT)
        ;
    L.writer_lingering = false;
}

/* The only reader of the ring. Takes everything queued at once and writes it
 * with the mutex released, so producers only wait for a memcpy. */
static void *writer_main(void *arg)
{
    bool reported = false;
    pthread_mutex_lock(&L.mu);
    for (;;) {
        while (L.ring.head == L.ring.tail && !L.stopping) {
            L.writer_idle = true;
            pthread_cond_wait(&L.wake, &L.mu);
            L.writer_idle = false;
        }
        if (L.ring.head == L.ring.tail)
            break;
        uint64_t from = L.ring.tail, to = L.ring.head;
        size_t lines = L.ring.lines;
        pthread_mutex_unlock(&L.mu);

        int rc = write_span(from, to);
        if (rc < 0 && !reported) {
            report_write_error(errno);
            reported = true;
        }
        atomic_fetch_add(rc == 0 ? &n_written : &n_lost, lines);

        pthread_mutex_lock(&L.mu);
        L.ring.tail = to;
        L.ring.lines -= lines;
        if (!L.stopping && !ring_busy())
            linger();
    }
    pthread_mutex_unlock(&L.mu);
    return arg;
}

/* Called with mu held. Never waits: a full ring means the line is dropped. */
static int ring_put(const char *line, size_t len)
{
    struct ring *r = &L.ring;
    if (r->lines >= r->max_lines || r->cap - (size_t)(r->head - r->tail) < len)
        return -1;
    size_t pos = (size_t)r->head & (r->cap - 1);
    size_t first = len < r->cap - pos ? len : r->cap - pos;
    memcpy(r->buf + pos, line, first);
    memcpy(r->buf, line + first, len - first);
    r->head += len;
    r->lines++;
    return 0;
}

static int submit(const char *line, size_t len)
{
    pthread_mutex_lock(&L.mu);
    if (!L.open) {
        pthread_mutex_unlock(&L.mu);
        return write_stderr(line, len);
    }
    int rc = ring_put(line, len);
    /* Counted under the lock so accepted never lags written. */
    atomic_fetch_add(rc == 0 ? &n_accepted : &n_dropped, 1);
    if (rc == 0 && (L.writer_idle || (L.writer_lingering && ring_busy()))) {
        L.writer_idle = false;
        L.writer_lingering = false;
        pthread_cond_signal(&L.wake);
    }
    pthread_mutex_unlock(&L.mu);
    return rc;
}

int log_write(enum log_level lvl, const char *event, const char *fmt, ...)
{
    /* An out-of-range level is a caller bug; keep the line rather than lose it. */
    if ((int)lvl < LOG_DEBUG || (int)lvl > LOG_ERROR)
        lvl = LOG_ERROR;
    if ((int)lvl < atomic_load_explicit(&min_level, memory_order_relaxed))
        return 0;
    char line[LINE_MAX_BYTES];
    va_list ap;
    va_start(ap, fmt);
    size_t len = format_line(lvl, event, fmt, ap, line);
    va_end(ap);
    return submit(line, len);
}

/* --- lifecycle ----------------------------------------------------------- */

static size_t ring_bytes(size_t lines)
{
    size_t want = lines > RING_MAX_BYTES / AVG_LINE_BYTES ? RING_MAX_BYTES : lines * AVG_LINE_BYTES;
    size_t cap = RING_MIN_BYTES;
    while (cap < want)
        cap <<= 1;
    return cap;
}

static int open_fd(const char *path, int *fd, bool *own)
{
    if (!path || strcmp(path, "-") == 0) {
        *fd = STDERR_FILENO;
        *own = false;
        return 0;
    }
    *fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    *own = true;
    return *fd < 0 ? -1 : 0;
}

/* The writer must not take process signals meant for the main thread. */
static int start_writer(void)
{
    return thread_start(&L.writer, NULL, writer_main, NULL, "zhanye-log");
}

/* Hands buf and fd to the logger and starts the writer; on failure (an
 * errno value) the caller still owns both and the live state is untouched. */
static int install(char *buf, size_t cap, size_t lines, int fd, bool own, enum log_level level)
{
    int err = 0;
    pthread_mutex_lock(&L.mu);
    if (L.open || L.stopping) {
        err = EBUSY;
        goto out;
    }
    if (!L.wake_ready) {
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_destroy(&L.wake);
        pthread_cond_init(&L.wake, &attr);
        pthread_condattr_destroy(&attr);
        L.wake_ready = true;
    }
    L.ring = (struct ring){.buf = buf, .cap = cap, .max_lines = lines};
    L.fd = fd;
    L.own_fd = own;
    L.writer_idle = false;
    atomic_store(&n_accepted, 0);
    atomic_store(&n_written, 0);
    atomic_store(&n_dropped, 0);
    atomic_store(&n_lost, 0);
    err = start_writer();
    if (err != 0) {
        L.ring = (struct ring){0};
        L.fd = -1;
        goto out;
    }
    atomic_store(&min_level, (int)level);
    L.open = true;
out:
    pthread_mutex_unlock(&L.mu);
    return err;
}

int log_open(const struct log_config *cfg)
{
    if (!cfg || (int)cfg->level < LOG_DEBUG || (int)cfg->level > LOG_ERROR) {
        errno = EINVAL;
        return -1;
    }
    size_t lines = cfg->ring_lines ? cfg->ring_lines : DEFAULT_RING_LINES;
    size_t cap = ring_bytes(lines);
    int fd;
    bool own;
    if (open_fd(cfg->path, &fd, &own) < 0)
        return -1;
    char *buf = malloc(cap);
    int err = buf ? install(buf, cap, lines, fd, own, cfg->level) : ENOMEM;
    if (err == 0)
        return 0;
    free(buf);
    if (own)
        close(fd);
    errno = err;
    return -1;
}

void log_close(void)
{
    pthread_mutex_lock(&L.mu);
    if (!L.open) {
        pthread_mutex_unlock(&L.mu);
        return;
    }
    /* Closing first makes producers fall back to stderr, so nothing is
     * appended while the writer drains the rest. A concurrent second close
     * sees !open and returns; log_open() waits out stopping with EBUSY. */
    L.open = false;
    L.stopping = true;
    pthread_cond_signal(&L.wake);
    pthread_mutex_unlock(&L.mu);

    pthread_join(L.writer, NULL);
    /* stderr and pipes reject fsync with EINVAL; only files need it. */
    if (fsync(L.fd) < 0 && errno != EINVAL && errno != EROFS)
        report_write_error(errno);
    if (L.own_fd)
        close(L.fd);
    uint64_t lost = atomic_load(&n_lost);
    if (lost > 0) {
        char line[128];
        int n = snprintf(line, sizeof line, "log: %llu accepted lines lost to write errors\n",
                         (unsigned long long)lost);
        if (n > 0)
            write_stderr(line, (size_t)n);
    }

    /* Until stopping is cleared log_open() refuses, so the fields above were
     * safe to use without the lock. */
    pthread_mutex_lock(&L.mu);
    free(L.ring.buf);
    L.ring = (struct ring){0};
    L.fd = -1;
    L.stopping = false;
    pthread_mutex_unlock(&L.mu);
}
