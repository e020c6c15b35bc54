/* zhanye-sim MODE --listen HOST:PORT --admin HOST:PORT [--data DIR]
 *             [--watch-pid PID] [--zpk HEX] [--ftp HOST:PORT]
 *
 * MODE is core | idcheck | face | card | social | loan | grid | cis | paperless. Port 0
 * picks a free
 * port; the ports in use are printed on one line once both listen:
 *   zhanye-sim core: listening on tcp://127.0.0.1:19100 admin http://127.0.0.1:19200
 * (core with --ftp: "... tcp://H:P files ftp://H:P admin http://H:P": its
 * journal files' FTP server, sim_core.c).
 * Runs until SIGTERM/SIGINT, or until the process --watch-pid names exits
 * (so `make run` takes its simulators down with the platform). */
#include "sim.h"

#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

/* ---- shared helpers ---- */

void sim_fault_get(struct sim *s, struct sim_fault *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->fault;
    pthread_mutex_unlock(&s->mu);
}

bool sim_draw_error(struct sim *s, const struct sim_fault *f)
{
    if (f->error_rate <= 0)
        return false;
    if (f->error_rate >= 1)
        return true;
    /* xorshift32: a shared, lock-free, good-enough die. */
    uint32_t x = atomic_load(&s->rng), nx;
    do {
        nx = x;
        nx ^= nx << 13;
        nx ^= nx >> 17;
        nx ^= nx << 5;
    } while (!atomic_compare_exchange_weak(&s->rng, &x, nx));
    return (double)nx / 4294967296.0 < f->error_rate;
}

void sim_count_up(struct sim_counter *c)
{
    int64_t n = atomic_fetch_add(&c->now, 1) + 1;
    int64_t p = atomic_load(&c->peak);
    while (n > p && !atomic_compare_exchange_weak(&c->peak, &p, n))
        ;
}

void sim_count_down(struct sim_counter *c)
{
    atomic_fetch_sub(&c->now, 1);
}

void sim_sleep_ms(struct sim *s, int ms)
{
    while (ms > 0 && !atomic_load(&s->stopping)) {
        int step = ms < 10 ? ms : 10;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

bool sim_stalled(struct sim *s)
{
    struct sim_fault f;
    sim_fault_get(s, &f);
    return f.stall && !atomic_load(&s->stopping);
}

int sim_listen(const char *host, int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- service control ---- */

static int service_start(struct sim *s)
{
    atomic_store(&s->stopping, false);
    int rc = s->svc->start(s);
    s->running = rc == 0;
    return rc;
}

static void service_stop(struct sim *s)
{
    if (!s->running)
        return;
    atomic_store(&s->stopping, true);
    s->svc->stop(s);
    s->running = false;
}

/* ---- admin API ---- */

struct body {
    char *p;
    size_t len;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static json_t *stats_json(struct sim *s)
{
    struct sim_fault f;
    sim_fault_get(s, &f);
    json_t *fault =
        json_pack("{s:i,s:f,s:b,s:b,s:s}", "latency_ms", f.latency_ms, "error_rate", f.error_rate,
                  "refuse", f.refuse, "stall", f.stall, "malformed", f.malformed);
    return json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "mode", s->mode, "port",
                     s->port, "connections", (json_int_t)s->conns.now, "peak_connections",
                     (json_int_t)s->conns.peak, "in_flight", (json_int_t)s->in_flight.now,
                     "peak_in_flight", (json_int_t)s->in_flight.peak, "requests",
                     (json_int_t)s->requests, "errors_injected", (json_int_t)s->errors_injected,
                     "malformed_sent", (json_int_t)s->malformed_sent, "stalls",
                     (json_int_t)s->stalls, "restarts", (json_int_t)s->restarts, "fault", fault);
}

/* Parses a fault object; unknown keys and bad types are refused. */
static int parse_fault(json_t *j, struct sim_fault *f)
{
    memset(f, 0, sizeof *f);
    const char *k;
    json_t *v;
    if (!json_is_object(j))
        return -1;
    json_object_foreach(j, k, v)
    {
        if (strcmp(k, "latency_ms") == 0 && json_is_integer(v) && json_integer_value(v) >= 0 &&
            json_integer_value(v) <= 600000)
            f->latency_ms = (int)json_integer_value(v);
        else if (strcmp(k, "error_rate") == 0 && json_is_number(v) && json_number_value(v) >= 0 &&
                 json_number_value(v) <= 1)
            f->error_rate = json_number_value(v);
        else if (strcmp(k, "refuse") == 0 && json_is_boolean(v))
            f->refuse = json_is_true(v);
        else if (strcmp(k, "stall") == 0 && json_is_boolean(v))
            f->stall = json_is_true(v);
        else if (strcmp(k, "malformed") == 0 && json_is_string(v) &&
                 json_string_length(v) < sizeof f->malformed)
            snprintf(f->malformed, sizeof f->malformed, "%s", json_string_value(v));
        else
            return -1;
    }
    return 0;
}

static enum MHD_Result post_fault(struct MHD_Connection *c, struct sim *s, json_t *body)
{
    struct sim_fault f;
    if (parse_fault(body, &f))
        return reply(c, 400, json_pack("{s:s}", "error", "bad fault object"));
    pthread_mutex_lock(&s->ctl);
    pthread_mutex_lock(&s->mu);
    s->fault = f;
    pthread_mutex_unlock(&s->mu);
    int rc = 0;
    if (f.refuse)
        service_stop(s);
    else if (!s->running)
        rc = service_start(s);
    pthread_mutex_unlock(&s->ctl);
    if (rc)
        return reply(c, 500, json_pack("{s:s}", "error", "cannot reopen the service port"));
    return reply(c, 200, stats_json(s));
}

static enum MHD_Result post_restart(struct MHD_Connection *c, struct sim *s, json_t *body)
{
    json_t *d = json_object_get(body, "down_ms");
    int down = json_is_integer(d) ? (int)json_integer_value(d) : 500;
    if (down < 0 || down > 60000)
        return reply(c, 400, json_pack("{s:s}", "error", "down_ms must be 0..60000"));
    pthread_mutex_lock(&s->ctl);
    service_stop(s);
    struct timespec ts = {.tv_sec = down / 1000, .tv_nsec = (long)(down % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    struct sim_fault f;
    sim_fault_get(s, &f);
    int rc = f.refuse ? 0 : service_start(s);
    atomic_fetch_add(&s->restarts, 1);
    pthread_mutex_unlock(&s->ctl);
    if (rc)
        return reply(c, 500, json_pack("{s:s}", "error", "cannot reopen the service port"));
    return reply(c, 200, stats_json(s));
}

static void reset_stats(struct sim *s)
{
    atomic_store(&s->conns.peak, atomic_load(&s->conns.now));
    atomic_store(&s->in_flight.peak, atomic_load(&s->in_flight.now));
    atomic_store(&s->requests, 0);
    atomic_store(&s->errors_injected, 0);
    atomic_store(&s->malformed_sent, 0);
    atomic_store(&s->stalls, 0);
}

static enum MHD_Result route_admin(struct MHD_Connection *c, struct sim *s, const char *method,
                                   const char *url, struct body *b)
{
    bool post = strcmp(method, "POST") == 0;
    json_t *body = b->len ? json_loadb(b->p, b->len, 0, NULL) : json_object();
    enum MHD_Result rc;
    if (!body)
        rc = reply(c, 400, json_pack("{s:s}", "error", "body is not JSON"));
    else if (!post && strcmp(url, "/admin/stats") == 0)
        rc = reply(c, 200, stats_json(s));
    else if (post && strcmp(url, "/admin/fault") == 0)
        rc = post_fault(c, s, body);
    else if (post && strcmp(url, "/admin/stats/reset") == 0) {
        reset_stats(s);
        rc = reply(c, 200, stats_json(s));
    } else if (post && strcmp(url, "/admin/restart") == 0)
        rc = post_restart(c, s, body);
    else
        rc = reply(c, 404, json_pack("{s:s}", "error", "no such admin endpoint"));
    json_decref(body);
    return rc;
}

static enum MHD_Result on_admin(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *data,
                                size_t *data_size, void **con_cls)
{
    struct body *b = *con_cls;
    if (!b) {
        b = calloc(1, sizeof *b);
        *con_cls = b;
        return b ? MHD_YES : MHD_NO;
    }
    if (*data_size) {
        if (b->len + *data_size > 65536)
            return MHD_NO;
        char *p = realloc(b->p, b->len + *data_size + 1);
        if (!p)
            return MHD_NO;
        memcpy(p + b->len, data, *data_size);
        b->p = p;
        b->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    return route_admin(c, cls, method, url, b);
}

static void on_admin_done(void *cls, struct MHD_Connection *c, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    struct body *b = *con_cls;
    if (b) {
        free(b->p);
        free(b);
    }
    *con_cls = NULL;
}

/* ---- main ---- */

struct args {
    const char *mode, *listen, *admin, *data, *zpk, *ftp;
    pid_t watch;
};

static int usage(void)
{
    fprintf(stderr,
            "usage: zhanye-sim core|idcheck|face|card|social|loan|grid|cis|paperless --listen "
            "HOST:PORT "
            "--admin HOST:PORT [--data DIR] [--watch-pid PID] [--zpk HEX32] [--ftp HOST:PORT "
            "(core)]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    if (argc < 2)
        return -1;
    a->mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            a->listen = argv[i + 1];
        else if (strcmp(argv[i], "--admin") == 0)
            a->admin = argv[i + 1];
        else if (strcmp(argv[i], "--data") == 0)
            a->data = argv[i + 1];
        else if (strcmp(argv[i], "--zpk") == 0)
            a->zpk = argv[i + 1];
        else if (strcmp(argv[i], "--ftp") == 0)
            a->ftp = argv[i + 1];
        else if (strcmp(argv[i], "--watch-pid") == 0)
            a->watch = (pid_t)atoi(argv[i + 1]);
        else
            return -1;
    }
    if (argc % 2 != 0 || !a->listen || !a->admin || (a->ftp && strcmp(a->mode, "core") != 0))
        return -1;
    return 0;
}

static int split_hostport(const char *hp, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(hp, ':');
    if (!colon || (size_t)(colon - hp) >= cap)
        return -1;
    snprintf(host, cap, "%.*s", (int)(colon - hp), hp);
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

static int setup(struct sim *s, const struct args *a)
{
    static const char *const HTTP_MODES[] = {"idcheck", "face", "card", "social",
                                             "loan",    "grid", "cis"};
    s->mode = a->mode;
    s->svc = strcmp(a->mode, "core") == 0        ? &SIM_CORE
             : strcmp(a->mode, "paperless") == 0 ? &SIM_PAPERLESS
                                                 : NULL;
    for (size_t i = 0; i < sizeof HTTP_MODES / sizeof HTTP_MODES[0] && !s->svc; i++)
        if (strcmp(a->mode, HTTP_MODES[i]) == 0)
            s->svc = &SIM_HTTP;
    if (!s->svc || split_hostport(a->listen, s->host, sizeof s->host, &s->port))
        return -1;
    snprintf(s->data_dir, sizeof s->data_dir, "%s", a->data ? a->data : ".");
    if (a->ftp &&
        snprintf(s->ftp_listen, sizeof s->ftp_listen, "%s", a->ftp) >= (int)sizeof s->ftp_listen)
        return -1;
    snprintf(s->zpk_hex, sizeof s->zpk_hex, "%s",
             a->zpk ? a->zpk : "0123456789ABCDEFFEDCBA9876543210");
    mkdir(s->data_dir, 0700);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->ctl, NULL);
    atomic_store(&s->rng, (uint32_t)time(NULL) | 1u);
    return 0;
}

/* Waits for SIGTERM/SIGINT, or for the watched process to go. */
static void wait_for_end(const sigset_t *set, pid_t watch)
{
    struct timespec tick = {.tv_sec = 0, .tv_nsec = 200000000L};
    for (;;) {
        int sig = sigtimedwait(set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT)
            return;
        if (watch > 0 && kill(watch, 0) != 0 && errno == ESRCH)
            return;
    }
}

int main(int argc, char **argv)
{
    static struct sim s;
    struct args a = {0};
    char ahost[64];
    int aport;
    if (parse_args(argc, argv, &a) || setup(&s, &a) ||
        split_hostport(a.admin, ahost, sizeof ahost, &aport))
        return usage();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int afd = sim_listen(ahost, &aport);
    struct MHD_Daemon *admin =
        afd < 0
            ? NULL
            : MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                               on_admin, &s, MHD_OPTION_LISTEN_SOCKET, afd,
                               MHD_OPTION_THREAD_POOL_SIZE, (unsigned)4,
                               MHD_OPTION_NOTIFY_COMPLETED, on_admin_done, NULL, MHD_OPTION_END);
    if (!admin || service_start(&s) != 0) {
        fprintf(stderr, "zhanye-sim %s: cannot listen on %s / %s\n", s.mode, a.listen, a.admin);
        return 1;
    }
    char files[128] = "";
    if (s.ftp_listen[0])
        snprintf(files, sizeof files, " files ftp://%.*s:%d",
                 (int)(strrchr(s.ftp_listen, ':') - s.ftp_listen), s.ftp_listen, s.ftp_port);
    printf("zhanye-sim %s: listening on %s://%s:%d%s admin http://%s:%d\n", s.mode,
           s.svc == &SIM_CORE        ? "tcp"
           : s.svc == &SIM_PAPERLESS ? "ftp"
                                     : "http",
           s.host, s.port, files, ahost, aport);
    fflush(stdout);
    wait_for_end(&set, a.watch);
    MHD_stop_daemon(admin);
    pthread_mutex_lock(&s.ctl);
    service_stop(&s);
    pthread_mutex_unlock(&s.ctl);
    return 0;
}
