/* zhanye-load — end-to-end load generator for a running `zhanye serve`.
 *
 *   zhanye-load --url http://127.0.0.1:PORT --data DIR [--zhanye PATH]
 *               [--devices 16] [--connections 64] [--pool 20000]
 *               [--duration 10] [--closed | --rate R] [--mix SPEC]
 *               [--server-pid PID] [--no-verify] [--password P] [--prefix P]
 *
 * It activates devices of its own (tellers PREFIX000.. added with the CLI on
 * DIR, an activation code each, DEVICE_ACTIVATE, LOGIN), seals the whole pool
 * of envelopes ahead (each seal costs two SM2 operations), then fires them
 * over keep-alive connections, closed loop (default) or open loop at a fixed
 * rate, for --duration seconds or until the pool is used up. Every answer is
 * opened: only a sealed answer with code OK counts as a transaction.
 *
 * --mix is KIND:WEIGHT,... with KIND one of SESSION_INFO, SESSION_INFO+cseq
 * (the answer is stored for idempotency: a write) and LOGIN (Argon2id, sent
 * from two extra devices); default SESSION_INFO:90,SESSION_INFO+cseq:10.
 *
 * Prints `name value` lines: throughput, latency percentiles (from the send
 * in the closed loop, from the scheduled time in the open loop), the server's
 * CPU time per transaction read from /proc/PID/stat over the run when
 * --server-pid is given, and the generator's own CPU, to show it is not the
 * bottleneck. */
#include "foundation/clock.h"
#include "load.h"

#include <curl/curl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_DEVICES 256

static int parse_mix(const char *spec, struct load_mix *m)
{
    static const char *const NAMES[] = {"SESSION_INFO", "SESSION_INFO+cseq", "LOGIN"};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    m->n = 0;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        int w = colon ? atoi(colon + 1) : 0;
        if (colon)
            *colon = '\0';
        int k = 0;
        while (k < 3 && strcmp(item, NAMES[k]) != 0)
            k++;
        if (k == 3 || w <= 0 || m->n == LOAD_MAX_MIX)
            return -1;
        m->kind[m->n] = (enum load_kind)k;
        m->weight[m->n++] = w;
    }
    return m->n > 0 ? 0 : -1;
}

static int parse_url(struct load_opts *o)
{
    const char *p = strncmp(o->url, "http://", 7) == 0 ? o->url + 7 : NULL;
    const char *colon = p ? strrchr(p, ':') : NULL;
    if (!colon || (size_t)(colon - p) >= sizeof o->host)
        return -1;
    memcpy(o->host, p, (size_t)(colon - p));
    o->host[colon - p] = '\0';
    if (strcmp(o->host, "localhost") == 0)
        snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = atoi(colon + 1);
    return o->port > 0 && o->port < 65536 ? 0 : -1;
}

/* The zhanye binary next to this one's build directory (build/bench/..). */
static const char *default_zhanye(void)
{
    static char path[PATH_MAX];
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return "zhanye";
    self[n] = '\0';
    snprintf(path, sizeof path, "%s/../zhanye", dirname(self));
    return path;
}

static int parse_opts(int argc, char **argv, struct load_opts *o)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"data", required_argument, NULL, 'd'},
        {"zhanye", required_argument, NULL, 'z'},
        {"devices", required_argument, NULL, 'n'},
        {"connections", required_argument, NULL, 'c'},
        {"pool", required_argument, NULL, 'p'},
        {"duration", required_argument, NULL, 't'},
        {"rate", required_argument, NULL, 'r'},
        {"closed", no_argument, NULL, 'C'},
        {"mix", required_argument, NULL, 'm'},
        {"server-pid", required_argument, NULL, 's'},
        {"no-verify", no_argument, NULL, 'V'},
        {"password", required_argument, NULL, 'P'},
        {"prefix", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct load_opts){.zhanye = default_zhanye(),
                            .password = "Load@2026x",
                            .devices = 16,
                            .connections = 64,
                            .pool = 20000,
                            .duration_s = 10,
                            .verify = true};
    snprintf(o->prefix, sizeof o->prefix, "ld%d_", (int)(getpid() % 100000));
    const char *mix = "SESSION_INFO:90,SESSION_INFO+cseq:10";
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            o->url = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'z':
            o->zhanye = optarg;
            break;
        case 'n':
            o->devices = atoi(optarg);
            break;
        case 'c':
            o->connections = atoi(optarg);
            break;
        case 'p':
            o->pool = (size_t)strtoull(optarg, NULL, 10);
            break;
        case 't':
            o->duration_s = atof(optarg);
            break;
        case 'r':
            o->open_loop = true;
            o->rate = atof(optarg);
            break;
        case 'C':
            o->open_loop = false;
            break;
        case 'm':
            mix = optarg;
            break;
        case 's':
            o->server_pid = atoi(optarg);
            break;
        case 'V':
            o->verify = false;
            break;
        case 'P':
            o->password = optarg;
            break;
        case 'x':
            snprintf(o->prefix, sizeof o->prefix, "%s", optarg);
            break;
        default:
            return -1;
        }
    }
    if (!o->url || !o->data || optind != argc || parse_url(o) || parse_mix(mix, &o->mix) ||
        o->devices < 1 || o->connections < 1 || o->pool < 1 || o->duration_s <= 0 ||
        (o->open_loop && o->rate <= 0))
        return -1;
    for (int k = 0; k < o->mix.n; k++)
        if (o->mix.kind[k] == K_LOGIN)
            o->login_devices = 2;
    return o->devices + o->login_devices <= MAX_DEVICES ? 0 : -1;
}

/* --- figures ------------------------------------------------------------------- */

/* utime + stime of pid, in microseconds, and the stime part in *sys; -1 if
 * unreadable. */
static double proc_cpu_us(int pid, double *sys)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command may hold spaces */
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *sys = (double)st * 1e6 / (double)sysconf(_SC_CLK_TCK);
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint32_t *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return sorted[i] / 1000.0;
}

struct cpu {
    double server0, server1, self0, self1;
    double sys0, sys1; /* the server's system time */
};

static void report(const struct load_opts *o, const struct load_run *run, const struct cpu *cpu)
{
    uint32_t *lat = malloc(sizeof *lat * (run->done ? run->done : 1));
    size_t nok = 0, statuses[600] = {0};
    for (size_t i = 0; i < run->sent && lat; i++) {
        const struct load_result *r = &run->res[i];
        statuses[r->status < 600 ? r->status : 0]++;
        if (r->ok)
            lat[nok++] = r->lat_us;
    }
    if (lat)
        qsort(lat, nok, sizeof *lat, cmp_u32);
    double secs = (double)(run->t1_ns - run->t0_ns) / 1e9;
    printf("mode %s\n", o->open_loop ? "open" : "closed");
    if (o->open_loop) {
        /* Due before the end but never sent: every connection stayed busy. */
        double due = o->rate * o->duration_s;
        size_t ndue = due < (double)run->nreqs ? (size_t)due : run->nreqs;
        printf("offered_per_s %.1f\nunsent_due %zu\n", o->rate,
               ndue > run->sent ? ndue - run->sent : 0);
    }
    printf("connections %d\ndevices %d\nrequests %zu\nok %zu\nduration_s %.3f\n", o->connections,
           o->devices + o->login_devices, run->sent, nok, secs);
    for (int s = 0; s < 600; s++)
        if (statuses[s] && s != 200)
            printf("status_%d %zu\n", s, statuses[s]);
    printf("e2e_tx_per_s %.1f\n", secs > 0 ? (double)nok / secs : 0);
    printf("p50_ms %.3f\np90_ms %.3f\np99_ms %.3f\nmax_ms %.3f\n", pct_ms(lat, nok, 0.50),
           pct_ms(lat, nok, 0.90), pct_ms(lat, nok, 0.99), nok ? lat[nok - 1] / 1000.0 : 0);
    if (o->server_pid > 0 && cpu->server0 >= 0 && cpu->server1 >= 0 && nok)
        printf("server_cpu_us_per_tx %.1f\nserver_sys_us_per_tx %.1f\n",
               (cpu->server1 - cpu->server0) / (double)nok, (cpu->sys1 - cpu->sys0) / (double)nok);
    if (nok && secs > 0)
        printf("load_cpu_us_per_tx %.1f\nload_cpu_pct %.1f\n",
               (cpu->self1 - cpu->self0) / (double)nok, (cpu->self1 - cpu->self0) / (secs * 1e4));
    free(lat);
}

static int run_bench(const struct load_opts *o)
{
    int ndev = o->devices + o->login_devices;
    struct load_device *devs = calloc((size_t)ndev, sizeof *devs);
    struct load_req *reqs = NULL;
    struct load_run run = {.o = o, .nreqs = o->pool};
    int rc = -1;
    uint64_t t = clock_mono_ns();
    if (!devs || load_make_devices(o, devs, o->devices, o->login_devices) != 0)
        goto out;
    fprintf(stderr, "zhanye-load: %d devices ready in %.1fs; sealing %zu envelopes\n", ndev,
            (double)(clock_mono_ns() - t) / 1e9, o->pool);
    t = clock_mono_ns();
    if (load_seal_pool(o, devs, o->devices, o->login_devices, &reqs) != 0)
        goto out;
    fprintf(stderr, "zhanye-load: sealed in %.1fs; firing for up to %.0fs\n",
            (double)(clock_mono_ns() - t) / 1e9, o->duration_s);
    run.reqs = reqs;
    run.res = calloc(o->pool, sizeof *run.res);
    struct cpu cpu = {.self0 = self_cpu_us()};
    cpu.server0 = proc_cpu_us(o->server_pid, &cpu.sys0);
    if (!run.res || load_fire(&run) != 0)
        goto out;
    cpu.server1 = proc_cpu_us(o->server_pid, &cpu.sys1);
    cpu.self1 = self_cpu_us();
    report(o, &run, &cpu);
    rc = 0;
out:
    for (int i = 0; devs && i < ndev; i++)
        zyc_state_wipe(&devs[i].st);
    free(devs);
    free(run.res);
    load_free_pool(reqs, o->pool);
    return rc;
}

int main(int argc, char **argv)
{
    struct load_opts o;
    if (parse_opts(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: zhanye-load --url http://HOST:PORT --data DIR [--zhanye PATH]\n"
                        "  [--devices N] [--connections N] [--pool N] [--duration S]\n"
                        "  [--closed | --rate R] [--mix KIND:W,...] [--server-pid PID]\n"
                        "  [--no-verify] [--password P] [--prefix P]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = run_bench(&o);
    curl_global_cleanup();
    return rc == 0 ? 0 : 1;
}
