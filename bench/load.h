/* load — internals of zhanye-load, the end-to-end load generator.
 *
 * load_setup.c makes the devices (tellers, activation, LOGIN) and seals the
 * pool of envelopes before anything is timed; load_net.c fires the pool over
 * keep-alive connections from one epoll thread and times every answer;
 * load.c parses the options and reports. */
#ifndef ZHANYE_BENCH_LOAD_H
#define ZHANYE_BENCH_LOAD_H

#include "zyc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOAD_MAX_MIX 8
#define LOAD_CODE_MAX 33

/* One kind of transaction in the mix. */
enum load_kind {
    K_SESSION_INFO,      /* read-only: session and teller lookups */
    K_SESSION_INFO_CSEQ, /* the same with a cseq: the answer is stored (a write) */
    K_LOGIN,             /* Argon2id; sent by devices kept for LOGIN only */
};

struct load_mix {
    int n;
    enum load_kind kind[LOAD_MAX_MIX];
    int weight[LOAD_MAX_MIX];
};

struct load_opts {
    const char *url; /* http://HOST:PORT */
    char host[64];
    int port;
    const char *data;   /* the server's data directory, for the CLI */
    const char *zhanye; /* the zhanye binary */
    const char *password;
    char prefix[16]; /* teller codes are PREFIX + 3 digits */
    int devices;     /* for the SESSION_INFO kinds */
    int login_devices;
    int connections;
    size_t pool;
    double duration_s;
    bool open_loop;
    double rate; /* open loop: requests per second */
    bool verify; /* open every answer and count only code OK as ok */
    int server_pid;
    struct load_mix mix;
};

/* A device the generator made: its ZY1 state and session. */
struct load_device {
    zyc_state st;
    char code[LOAD_CODE_MAX];
    char sid[ZY1_SID_MAX + 1];
};

/* One pre-sealed request: the bytes on the wire and the keys of its answer. */
struct load_req {
    char *wire;
    size_t wire_len;
    enum load_kind kind;
    zy1_call call;
};

struct load_result {
    uint32_t lat_us; /* from the send (closed loop) or the scheduled time (open loop) */
    uint16_t status; /* 0: no answer */
    bool ok;         /* 200 and, when verifying, an answer with code OK */
};

struct load_run {
    const struct load_opts *o;
    struct load_req *reqs;
    size_t nreqs;
    struct load_result *res; /* nreqs */
    size_t sent, done, reconnects, transport_errors;
    uint64_t t0_ns, t1_ns; /* first send, last answer */
};

/* Makes n devices with tellers PREFIX000.. (login_only ones after them):
 * teller add, activation issue, DEVICE_ACTIVATE, LOGIN. 0 or -1 (message on stderr). */
int load_make_devices(const struct load_opts *o, struct load_device *devs, int n, int nlogin);
/* Seals the pool: o->pool requests in the mix's proportions, over every core. */
int load_seal_pool(const struct load_opts *o, struct load_device *devs, int n, int nlogin,
                   struct load_req **out);
void load_free_pool(struct load_req *reqs, size_t n);

/* Fires the pool: until o->duration_s has passed or the pool is used up. 0 or -1. */
int load_fire(struct load_run *run);

const char *load_kind_name(enum load_kind k);

#endif
