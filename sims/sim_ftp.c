/* A small FTP server (RFC 959 subset, passive mode only) for the
 * simulators, and the paperless platform (无纸化平台) built on it.
 *
 * Commands: USER, PASS, TYPE (I; A is served as I), PASV, EPSV, STOR,
 * RETR, SIZE, LIST, NLST, DELE, PWD, CWD (of the root only), FEAT, OPTS
 * UTF8, SYST, NOOP, QUIT; anything else is 502. Before a good PASS only
 * USER, PASS, FEAT, NOOP and QUIT are served (530). One directory is
 * served, flat: names with '/', '\', "..", a leading '.' or control
 * characters are refused with 553. Uploads are written to a hidden
 * temporary file and renamed, so a reader never sees half a file.
 *
 * A thread per control connection, at most SIM_FTP_MAX_CONNS at once (the
 * next is answered 421 and closed); an idle connection is closed after
 * 60 s. Faults (sim.h), checked before every command once logged in:
 * stall holds the reply until cleared, latency_ms delays it, error_rate
 * answers a transfer command (STOR, RETR, LIST, NLST, DELE, SIZE) 451
 * without doing it; refuse and restart close the port and every
 * connection (sim_main.c). malformed "reply" sends a line that is not an
 * FTP reply instead; malformed "receipt" (paperless) writes every receipt
 * with the sm3 of something else, as the BADRECEIPT marker below does.
 *
 * The paperless mode (sim_ftp_service with receipts) writes, after every
 * STOR of NAME and before its 226, NAME.receipt beside it:
 *   {"name","size","sm3" (lowercase hex of the bytes received),
 *    "receipt_no":"PL" + 14 digits,"received_at":"YYYY-MM-DDTHH:MM:SSZ"}
 * Test markers in the name: BADRECEIPT (the receipt's sm3 is that of
 * something else), NORECEIPT (no receipt is written). */
#include "sim.h"

#include "channel/sm.h"

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define SIM_FTP_MAX_CONNS 64
#define LINE_MAX_FTP 512
#define IDLE_MS 60000
#define DATA_ACCEPT_MS 10000

struct sim_ftp {
    struct sim *s;
    char root[PATH_MAX + 32];
    bool receipts;
    int lfd;
    pthread_t acceptor;
    pthread_mutex_t mu;
    int fds[SIM_FTP_MAX_CONNS];
    int nconns;
    unsigned receipt_seq;
};

struct session {
    struct sim_ftp *f;
    int fd;
    int pasv; /* listening data socket, -1 = none */
    bool user_ok, logged_in;
    char line[LINE_MAX_FTP + 1];
    size_t have; /* bytes buffered in line */
};

/* ---- I/O ---- */

static int send_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int reply(struct session *ss, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int reply(struct session *ss, const char *fmt, ...)
{
    char buf[LINE_MAX_FTP + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n > sizeof buf - 3)
        n = (int)(sizeof buf - 3);
    buf[n++] = '\r';
    buf[n++] = '\n';
    return send_all(ss->fd, buf, (size_t)n);
}

/* One command line without CRLF into out (LINE_MAX_FTP + 1 bytes). 1 = a
 * line, 0 = closed or idle too long or stopping, -1 = a line too long (what
 * was buffered is dropped). */
static int read_line(struct session *ss, char *out)
{
    struct sim *s = ss->f->s;
    int idle = 0;
    for (;;) {
        char *nl = memchr(ss->line, '\n', ss->have);
        if (nl) {
            size_t len = (size_t)(nl - ss->line);
            size_t end = len > 0 && ss->line[len - 1] == '\r' ? len - 1 : len;
            memcpy(out, ss->line, end);
            out[end] = '\0';
            ss->have -= len + 1;
            memmove(ss->line, nl + 1, ss->have);
            return 1;
        }
        if (ss->have >= LINE_MAX_FTP) {
            ss->have = 0;
            return -1;
        }
        if (atomic_load(&s->stopping) || idle >= IDLE_MS)
            return 0;
        struct pollfd p = {.fd = ss->fd, .events = POLLIN};
        int pr = poll(&p, 1, 100);
        if (pr == 0) {
            idle += 100;
            continue;
        }
        if (pr < 0 && errno == EINTR)
            continue;
        ssize_t r = pr < 0 ? -1 : recv(ss->fd, ss->line + ss->have, LINE_MAX_FTP - ss->have, 0);
        if (r <= 0)
            return 0;
        ss->have += (size_t)r;
        idle = 0;
    }
}

/* ---- names and files ---- */

static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 200 || n[0] == '.' || strstr(n, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return false;
    }
    return true;
}

/* A name as the client gave it: "/NAME" and "NAME" are the same file. */
static const char *strip_root(const char *arg)
{
    return arg[0] == '/' ? arg + 1 : arg;
}

static void path_of(const struct sim_ftp *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->root, name);
}

static void sm3_hex(const uint8_t *p, size_t n, char out[65])
{
    uint8_t d[SM3_LEN];
    sm_part part = {.p = p, .n = n};
    memset(d, 0, sizeof d);
    sm3_digest(&part, 1, d);
    for (size_t i = 0; i < SM3_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int write_atomic(const struct sim_ftp *f, const char *name, const void *p, size_t n)
{
    char tmp[PATH_MAX + 340], dst[PATH_MAX + 300];
    static _Atomic unsigned seq;
    snprintf(tmp, sizeof tmp, "%s/.part-%u-%s", f->root, atomic_fetch_add(&seq, 1), name);
    path_of(f, name, dst, sizeof dst);
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return -1;
    bool ok = fwrite(p, 1, n, fp) == n;
    ok = fclose(fp) == 0 && ok;
    if (!ok || rename(tmp, dst) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* NAME.receipt for n bytes received as name (paperless). */
static int write_receipt(struct sim_ftp *f, const char *name, const uint8_t *p, size_t n)
{
    if (strstr(name, "NORECEIPT"))
        return 0;
    char hex[65];
    struct sim_fault fault;
    sim_fault_get(f->s, &fault);
    if (strstr(name, "BADRECEIPT") || strcmp(fault.malformed, "receipt") == 0)
        sm3_hex((const uint8_t *)"not what was sent", 17, hex);
    else
        sm3_hex(p, n, hex);
    pthread_mutex_lock(&f->mu);
    unsigned no = ++f->receipt_seq;
    pthread_mutex_unlock(&f->mu);
    char rno[24], at[32], rname[256];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(rno, sizeof rno, "PL%014u", no);
    snprintf(rname, sizeof rname, "%s.receipt", name);
    json_t *r = json_pack("{s:s,s:I,s:s,s:s,s:s}", "name", name, "size", (json_int_t)n, "sm3", hex,
                          "receipt_no", rno, "received_at", at);
    char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
    json_decref(r);
    int rc = text ? write_atomic(f, rname, text, strlen(text)) : -1;
    free(text);
    return rc;
}

/* ---- data connections ---- */

static void close_pasv(struct session *ss)
{
    if (ss->pasv >= 0)
        close(ss->pasv);
    ss->pasv = -1;
}

static int open_pasv(struct session *ss, int *port)
{
    close_pasv(ss);
    *port = 0;
    ss->pasv = sim_listen(ss->f->s->host, port);
    return ss->pasv >= 0 ? 0 : -1;
}

/* Accepts the client's data connection on the passive socket, then closes it. */
static int accept_data(struct session *ss)
{
    if (ss->pasv < 0)
        return -1;
    struct sim *s = ss->f->s;
    int fd = -1;
    for (int waited = 0; waited < DATA_ACCEPT_MS && !atomic_load(&s->stopping); waited += 100) {
        struct pollfd p = {.fd = ss->pasv, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            fd = accept(ss->pasv, NULL, NULL);
            break;
        }
    }
    close_pasv(ss);
    return fd;
}

static void cmd_stor(struct session *ss, const char *name)
{
    int dfd = accept_data(ss);
    if (dfd < 0) {
        reply(ss, "425 Can't open data connection");
        return;
    }
    reply(ss, "150 Ok to send data");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (;;) {
        if (len + 65536 > cap) {
            size_t nc = cap ? cap * 2 : 65536;
            uint8_t *nb = nc <= (256u << 20) ? realloc(buf, nc) : NULL;
            if (!nb) {
                ok = false;
                break;
            }
            buf = nb;
            cap = nc;
        }
        struct pollfd p = {.fd = dfd, .events = POLLIN};
        int pr = poll(&p, 1, 100);
        if (atomic_load(&ss->f->s->stopping)) {
            ok = false;
            break;
        }
        if (pr == 0 || (pr < 0 && errno == EINTR))
            continue;
        ssize_t r = recv(dfd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || atomic_load(&ss->f->s->stopping))
            ok = false;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    close(dfd);
    if (ok && write_atomic(ss->f, name, buf ? buf : (const uint8_t *)"", len) == 0 &&
        (!ss->f->receipts || write_receipt(ss->f, name, buf ? buf : (const uint8_t *)"", len) == 0))
        reply(ss, "226 Transfer complete");
    else
        reply(ss, "451 Requested action aborted: local error in processing");
    free(buf);
}

static void cmd_retr(struct session *ss, const char *name)
{
    char path[PATH_MAX + 300];
    path_of(ss->f, name, path, sizeof path);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        close_pasv(ss);
        reply(ss, "550 No such file");
        return;
    }
    int dfd = accept_data(ss);
    if (dfd < 0) {
        fclose(fp);
        reply(ss, "425 Can't open data connection");
        return;
    }
    reply(ss, "150 Opening BINARY mode data connection");
    char buf[65536];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        ok = send_all(dfd, buf, n) == 0;
    fclose(fp);
    close(dfd);
    reply(ss, ok ? "226 Transfer complete" : "426 Connection closed; transfer aborted");
}

static void cmd_list(struct session *ss, bool names_only)
{
    DIR *d = opendir(ss->f->root);
    int dfd = d ? accept_data(ss) : -1;
    if (dfd < 0) {
        if (d)
            closedir(d);
        reply(ss, "425 Can't open data connection");
        return;
    }
    reply(ss, "150 Here comes the directory listing");
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char line[600], path[PATH_MAX + 300];
        struct stat st;
        path_of(ss->f, e->d_name, path, sizeof path);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (names_only)
            snprintf(line, sizeof line, "%s\r\n", e->d_name);
        else
            snprintf(line, sizeof line, "-rw-r--r-- 1 sim sim %lld Jan 01 00:00 %s\r\n",
                     (long long)st.st_size, e->d_name);
        send_all(dfd, line, strlen(line));
    }
    closedir(d);
    close(dfd);
    reply(ss, "226 Directory send OK");
}

/* ---- commands ---- */

static bool is_transfer(const char *cmd)
{
    static const char *const T[] = {"STOR", "RETR", "LIST", "NLST", "DELE", "SIZE"};
    for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
        if (strcmp(cmd, T[i]) == 0)
            return true;
    return false;
}

/* Faults before a command; true when the command was answered (or the connection must end). */
static bool faulted(struct session *ss, const char *cmd)
{
    struct sim *s = ss->f->s;
    struct sim_fault f;
    sim_fault_get(s, &f);
    if (f.stall) {
        atomic_fetch_add(&s->stalls, 1);
        while (sim_stalled(s))
            sim_sleep_ms(s, 10);
        if (atomic_load(&s->stopping))
            return true;
    }
    sim_sleep_ms(s, f.latency_ms);
    if (strcmp(f.malformed, "reply") == 0 &&
        (strcmp(cmd, "PASV") == 0 || strcmp(cmd, "EPSV") == 0)) {
        atomic_fetch_add(&s->malformed_sent, 1);
        reply(ss, "%s Entering Passive Mode (nowhere)", cmd[0] == 'E' ? "229" : "227");
        return true;
    }
    if (is_transfer(cmd) && sim_draw_error(s, &f)) {
        atomic_fetch_add(&s->errors_injected, 1);
        close_pasv(ss);
        reply(ss, "451 Requested action aborted: local error in processing");
        return true;
    }
    return false;
}

static void cmd_file(struct session *ss, const char *cmd, const char *arg)
{
    const char *name = strip_root(arg);
    if (!name_ok(name)) {
        close_pasv(ss);
        reply(ss, "553 File name not allowed");
        return;
    }
    char path[PATH_MAX + 300];
    struct stat st;
    path_of(ss->f, name, path, sizeof path);
    if (strcmp(cmd, "STOR") == 0)
        cmd_stor(ss, name);
    else if (strcmp(cmd, "RETR") == 0)
        cmd_retr(ss, name);
    else if (strcmp(cmd, "SIZE") == 0) {
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            reply(ss, "213 %lld", (long long)st.st_size);
        else
            reply(ss, "550 Could not get file size");
    } else if (unlink(path) == 0) /* DELE */
        reply(ss, "250 Delete operation successful");
    else
        reply(ss, "550 Delete operation failed");
}

/* One command; false ends the session. */
static bool command(struct session *ss, char *line)
{
    struct sim_ftp *f = ss->f;
    char *sp = strchr(line, ' ');
    const char *arg = sp ? sp + 1 : "";
    if (sp)
        *sp = '\0';
    for (char *c = line; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    const char *cmd = line;
    if (strcmp(cmd, "QUIT") == 0) {
        reply(ss, "221 Goodbye");
        return false;
    }
    if (strcmp(cmd, "USER") == 0) {
        ss->user_ok = strcmp(arg, SIM_FTP_USER) == 0;
        ss->logged_in = false;
        return reply(ss, "331 Please specify the password") == 0;
    }
    if (strcmp(cmd, "PASS") == 0) {
        ss->logged_in = ss->user_ok && strcmp(arg, SIM_FTP_PASS) == 0;
        return reply(ss, ss->logged_in ? "230 Login successful" : "530 Login incorrect") == 0;
    }
    if (strcmp(cmd, "FEAT") == 0)
        return reply(ss, "211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n UTF8\r\n211 End") == 0;
    if (strcmp(cmd, "NOOP") == 0)
        return reply(ss, "200 NOOP ok") == 0;
    if (!ss->logged_in)
        return reply(ss, "530 Please login with USER and PASS") == 0;
    atomic_fetch_add(&f->s->requests, 1);
    sim_count_up(&f->s->in_flight);
    bool go_on = true;
    if (faulted(ss, cmd)) {
        go_on = !atomic_load(&f->s->stopping);
    } else if (strcmp(cmd, "SYST") == 0) {
        reply(ss, "215 UNIX Type: L8");
    } else if (strcmp(cmd, "OPTS") == 0) {
        reply(ss, "200 Always in UTF8 mode");
    } else if (strcmp(cmd, "TYPE") == 0) {
        reply(ss,
              arg[0] == 'I' || arg[0] == 'A' ? "200 Switching to Binary mode" : "504 Only TYPE I");
    } else if (strcmp(cmd, "PWD") == 0) {
        reply(ss, "257 \"/\" is the current directory");
    } else if (strcmp(cmd, "CWD") == 0) {
        bool root = strcmp(arg, "/") == 0 || strcmp(arg, ".") == 0 || !arg[0];
        reply(ss, root ? "250 Directory successfully changed" : "550 Failed to change directory");
    } else if (strcmp(cmd, "PASV") == 0 || strcmp(cmd, "EPSV") == 0) {
        int port;
        if (open_pasv(ss, &port))
            reply(ss, "425 Can't open passive connection");
        else if (cmd[0] == 'E')
            reply(ss, "229 Entering Extended Passive Mode (|||%d|)", port);
        else {
            unsigned a, b, c, d;
            if (sscanf(f->s->host, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
                a = 127, b = 0, c = 0, d = 1;
            reply(ss, "227 Entering Passive Mode (%u,%u,%u,%u,%d,%d)", a, b, c, d, port >> 8,
                  port & 255);
        }
    } else if (strcmp(cmd, "LIST") == 0 || strcmp(cmd, "NLST") == 0) {
        cmd_list(ss, cmd[0] == 'N');
    } else if (is_transfer(cmd)) {
        cmd_file(ss, cmd, arg);
    } else {
        reply(ss, "502 Command not implemented");
    }
    sim_count_down(&f->s->in_flight);
    return go_on;
}

/* ---- connections ---- */

static void forget_fd(struct sim_ftp *f, int fd)
{
    pthread_mutex_lock(&f->mu);
    for (int i = 0; i < f->nconns; i++)
        if (f->fds[i] == fd) {
            f->fds[i] = f->fds[--f->nconns];
            break;
        }
    pthread_mutex_unlock(&f->mu);
}

static void *conn_main(void *arg)
{
    struct session *ss = arg;
    struct sim *s = ss->f->s;
    sim_count_up(&s->conns);
    if (reply(ss, "220 zhanye-sim %s FTP ready", s->mode) == 0) {
        for (;;) {
            char cmdline[LINE_MAX_FTP + 1];
            int r = read_line(ss, cmdline);
            if (r == 0)
                break;
            if (r < 0) {
                if (reply(ss, "500 Command line too long"))
                    break;
                continue;
            }
            if (!command(ss, cmdline))
                break;
        }
    }
    close_pasv(ss);
    forget_fd(ss->f, ss->fd);
    close(ss->fd);
    sim_count_down(&s->conns);
    free(ss);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct sim_ftp *f = arg;
    while (!atomic_load(&f->s->stopping)) {
        struct pollfd p = {.fd = f->lfd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        struct session *ss = calloc(1, sizeof *ss);
        pthread_mutex_lock(&f->mu);
        bool room = ss && f->nconns < SIM_FTP_MAX_CONNS;
        if (room)
            f->fds[f->nconns++] = fd;
        pthread_mutex_unlock(&f->mu);
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (room) {
            *ss = (struct session){.f = f, .fd = fd, .pasv = -1};
            if (pthread_create(&th, &at, conn_main, ss) == 0) {
                pthread_attr_destroy(&at);
                continue;
            }
            forget_fd(f, fd);
        }
        pthread_attr_destroy(&at);
        send_all(fd, "421 Too many connections\r\n", 26);
        close(fd);
        free(ss);
    }
    return NULL;
}

int sim_ftp_start(struct sim *s, const char *root, bool receipts, struct sim_ftp **out)
{
    struct sim_ftp *f = *out;
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f)
            return -1;
        pthread_mutex_init(&f->mu, NULL);
        f->s = s;
        *out = f;
    }
    snprintf(f->root, sizeof f->root, "%s", root);
    f->receipts = receipts;
    f->lfd = sim_listen(s->host, &s->port);
    if (f->lfd < 0 || pthread_create(&f->acceptor, NULL, accept_main, f) != 0) {
        if (f->lfd >= 0)
            close(f->lfd);
        f->lfd = -1;
        return -1;
    }
    return 0;
}

void sim_ftp_stop(struct sim_ftp *f)
{
    pthread_join(f->acceptor, NULL);
    close(f->lfd);
    f->lfd = -1;
    for (;;) {
        pthread_mutex_lock(&f->mu);
        int n = f->nconns;
        for (int i = 0; i < n; i++)
            shutdown(f->fds[i], SHUT_RDWR);
        pthread_mutex_unlock(&f->mu);
        if (n == 0)
            break;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 5000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- the paperless platform ---- */

static int paperless_start(struct sim *s)
{
    char dir[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/paperless", s->data_dir);
    mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/paperless/inbox", s->data_dir);
    mkdir(dir, 0700);
    struct sim_ftp *f = s->state;
    int rc = sim_ftp_start(s, dir, true, &f);
    s->state = f;
    return rc;
}

static void paperless_stop(struct sim *s)
{
    sim_ftp_stop(s->state);
}

const struct sim_service SIM_PAPERLESS = {paperless_start, paperless_stop};
