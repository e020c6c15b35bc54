/* devsim_pad — the common part of the pads' simulators (devsim.h): the
 * pseudo-terminal, the frame loop and the control API. */
#include "devsim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_OPTS 8

struct devsim {
    const char *opt_name[MAX_OPTS];
    const char *opt_value[MAX_OPTS];
    int nopts;
    int master, slave;
    pthread_mutex_t mu;
    json_t *script;
    json_t *state;
    long long commands;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    stop_flag = 1;
}

const char *devsim_opt(struct devsim *d, const char *name)
{
    for (int i = 0; i < d->nopts; i++)
        if (strcmp(d->opt_name[i], name) == 0)
            return d->opt_value[i];
    return NULL;
}

/* ---- the script ---- */

json_t *devsim_script_get(struct devsim *d, const char *key)
{
    pthread_mutex_lock(&d->mu);
    json_t *v = json_object_get(d->script, key);
    v = v ? json_deep_copy(v) : NULL;
    pthread_mutex_unlock(&d->mu);
    return v;
}

bool devsim_script_take(struct devsim *d, const char *key)
{
    pthread_mutex_lock(&d->mu);
    bool on = json_is_true(json_object_get(d->script, key));
    if (on)
        json_object_del(d->script, key);
    pthread_mutex_unlock(&d->mu);
    return on;
}

bool devsim_wait_for(struct devsim *d, long ms, const char *const keys[])
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pthread_mutex_lock(&d->mu);
        bool found = false;
        for (size_t i = 0; keys[i]; i++)
            found = found || json_object_get(d->script, keys[i]) != NULL;
        pthread_mutex_unlock(&d->mu);
        if (found)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= ms || stop_flag)
            return false;
        usleep(20000);
    }
}

void devsim_state_set(struct devsim *d, const char *key, json_t *v)
{
    pthread_mutex_lock(&d->mu);
    json_object_set_new(d->state, key, v);
    pthread_mutex_unlock(&d->mu);
}

/* ---- frames ---- */

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
            return;
        } else {
            usleep(1000);
        }
    }
}

void devsim_send(struct devsim *d, uint8_t seq, uint8_t cmd, const uint8_t *data, size_t n)
{
    uint8_t out[PAD_FRAME_MAX];
    size_t len = pad_frame_encode(seq, cmd, data, n, out, sizeof out);
    if (len == 0)
        return;
    pthread_mutex_lock(&d->mu);
    json_int_t corrupt = json_integer_value(json_object_get(d->script, "corrupt"));
    if (corrupt > 0) {
        out[len - 2] ^= 0x5A; /* the CRC's low byte */
        if (corrupt > 1)
            json_object_set_new(d->script, "corrupt", json_integer(corrupt - 1));
        else
            json_object_del(d->script, "corrupt");
    }
    pthread_mutex_unlock(&d->mu);
    write_all(d->master, out, len);
    memset(out, 0, sizeof out);
}

void devsim_reply(struct devsim *d, const struct pad_frame *f, uint8_t status, const uint8_t *data,
                  size_t n)
{
    uint8_t out[PAD_FRAME_MAX_DATA];
    if (n + 1 > sizeof out)
        return;
    out[0] = status;
    if (n)
        memcpy(out + 1, data, n);
    devsim_send(d, f->seq, (uint8_t)(f->cmd | PAD_REPLY), out, n + 1);
    memset(out, 0, n + 1);
}

/* ---- the control API ---- */

struct body {
    char *p;
    size_t n;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct devsim *d = cls;
    struct body *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b)
            return MHD_NO;
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (b->n + *upload_size > 1 << 20)
            return MHD_NO;
        char *p = realloc(b->p, b->n + *upload_size + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + b->n, upload, *upload_size);
        b->p = p;
        b->n += *upload_size;
        b->p[b->n] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") == 0 && strcmp(url, "/state") == 0) {
        pthread_mutex_lock(&d->mu);
        json_t *o = json_deep_copy(d->state);
        json_object_set_new(o, "commands", json_integer(d->commands));
        pthread_mutex_unlock(&d->mu);
        return answer(c, 200, o);
    }
    if (strcmp(method, "POST") == 0 && strcmp(url, "/reset") == 0) {
        pthread_mutex_lock(&d->mu);
        json_object_clear(d->script);
        pthread_mutex_unlock(&d->mu);
        return answer(c, 200, json_pack("{s:b}", "ok", 1));
    }
    if (strcmp(method, "POST") == 0 && strcmp(url, "/script") == 0) {
        json_t *o = b->p ? json_loads(b->p, 0, NULL) : NULL;
        if (!json_is_object(o)) {
            json_decref(o);
            return answer(c, 400, json_pack("{s:s}", "error", "body must be a JSON object"));
        }
        pthread_mutex_lock(&d->mu);
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
            if (json_is_null(v))
                json_object_del(d->script, k);
            else
                json_object_set(d->script, k, v);
        }
        pthread_mutex_unlock(&d->mu);
        json_decref(o);
        return answer(c, 200, json_pack("{s:b}", "ok", 1));
    }
    return answer(c, 404, json_pack("{s:s}", "error", "no such control"));
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct body *b = *con_cls;
    if (b) {
        free(b->p);
        free(b);
        *con_cls = NULL;
    }
}

static struct MHD_Daemon *control_start(struct devsim *d, const char *addr)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) != strlen("127.0.0.1") ||
        strncmp(addr, "127.0.0.1", 9) != 0) {
        fprintf(stderr, "devsim: --control must be 127.0.0.1:PORT\n");
        return NULL;
    }
    int port = atoi(colon + 1);
    if (port < 1 || port > 65535) {
        fprintf(stderr, "devsim: bad control port\n");
        return NULL;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
                            NULL, NULL, on_request, d, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_END);
}

/* ---- the pseudo-terminal ---- */

static int pty_open(struct devsim *d, const char *link)
{
    d->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (d->master < 0 || grantpt(d->master) != 0 || unlockpt(d->master) != 0)
        return -1;
    const char *name = ptsname(d->master);
    if (!name)
        return -1;
    /* Held open so the master never sees a hang-up between the host's
     * opens; raw, so nothing the host writes is echoed back. */
    d->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (d->slave < 0)
        return -1;
    struct termios t;
    if (tcgetattr(d->slave, &t) != 0)
        return -1;
    cfmakeraw(&t);
    if (tcsetattr(d->slave, TCSANOW, &t) != 0)
        return -1;
    unlink(link);
    if (symlink(name, link) != 0)
        return -1;
    return 0;
}

static void serve(struct devsim *d, devsim_handler h)
{
    uint8_t buf[PAD_FRAME_MAX * 2];
    size_t have = 0;
    const char *w = devsim_opt(d, "watch-pid");
    long watch = w ? strtol(w, NULL, 10) : 0;
    while (!stop_flag) {
        if (watch > 0 && kill((pid_t)watch, 0) != 0 && errno == ESRCH)
            break; /* --watch-pid: the process we serve is gone */
        struct pollfd p = {.fd = d->master, .events = POLLIN};
        int r = poll(&p, 1, 100);
        if (r <= 0)
            continue;
        ssize_t n = read(d->master, buf + have, sizeof buf - have);
        if (n <= 0) {
            usleep(20000);
            continue;
        }
        have += (size_t)n;
        for (;;) {
            struct pad_frame f;
            size_t used = 0;
            pad_frame_status st = pad_frame_decode(buf, have, &f, &used);
            if (st == PAD_FRAME_NEED)
                break;
            if (st != PAD_FRAME_OK) {
                /* A malformed command: NAK it (SEQ unknown: 0) and resync
                 * on the next STX. */
                uint8_t reason = (uint8_t)st;
                devsim_send(d, have >= 2 ? buf[1] : 0, PAD_CMD_NAK, &reason, 1);
                size_t skip = 1;
                while (skip < have && buf[skip] != PAD_STX)
                    skip++;
                memmove(buf, buf + skip, have - skip);
                have -= skip;
                continue;
            }
            pthread_mutex_lock(&d->mu);
            d->commands++;
            bool stall = json_is_true(json_object_get(d->script, "stall"));
            pthread_mutex_unlock(&d->mu);
            if (!stall) {
                if (f.cmd == PAD_CMD_INFO) {
                    static const char model[] = "ZHANYE-DEVSIM-PAD";
                    devsim_reply(d, &f, PAD_ST_OK, (const uint8_t *)model, sizeof model - 1);
                } else {
                    h(d, &f);
                }
            }
            memmove(buf, buf + used, have - used);
            have -= used;
        }
    }
    memset(buf, 0, sizeof buf);
}

int devsim_pad_run(int argc, char **argv, devsim_handler h)
{
    struct devsim d = {.master = -1, .slave = -1};
    for (int i = 1; i + 1 < argc && d.nopts < MAX_OPTS; i += 2) {
        if (strncmp(argv[i], "--", 2) != 0) {
            fprintf(stderr, "devsim: unexpected argument %s\n", argv[i]);
            return 2;
        }
        d.opt_name[d.nopts] = argv[i] + 2;
        d.opt_value[d.nopts++] = argv[i + 1];
    }
    const char *link = devsim_opt(&d, "pty-link");
    const char *control = devsim_opt(&d, "control");
    if (!link || !control) {
        fprintf(stderr,
                "usage: zhanye-devsim %s --pty-link PATH --control 127.0.0.1:PORT"
                " [--watch-pid PID]\n",
                argv[0]);
        return 2;
    }
    pthread_mutex_init(&d.mu, NULL);
    d.script = json_object();
    d.state = json_object();
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = 1;
    struct MHD_Daemon *mhd = NULL;
    if (pty_open(&d, link) != 0) {
        perror("devsim: pty");
        goto out;
    }
    mhd = control_start(&d, control);
    if (!mhd) {
        fprintf(stderr, "devsim: cannot listen on %s\n", control);
        goto out;
    }
    fprintf(stderr, "devsim %s: pty %s at %s, control %s\n", argv[0], ptsname(d.master), link,
            control);
    serve(&d, h);
    rc = 0;
out:
    if (mhd)
        MHD_stop_daemon(mhd);
    unlink(link);
    if (d.slave >= 0)
        close(d.slave);
    if (d.master >= 0)
        close(d.master);
    json_decref(d.script);
    json_decref(d.state);
    pthread_mutex_destroy(&d.mu);
    return rc;
}
