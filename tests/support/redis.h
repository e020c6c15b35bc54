/* redis — test support: a private Redis for one test process.
 *
 * redis_srv_start() makes a temp directory /tmp/zhanye-rds-XXXXXX and
 * starts, each from a generated config in its own subdirectory (node0,
 * node1, sentinel0..2):
 *  - node 0, `redis-server` as the primary, on 127.0.0.1 at a free port and
 *    on the unix socket node0/redis.sock;
 *  - with opts.replica, node 1, its replica (same password);
 *  - with opts.sentinels (needs opts.replica), three Sentinels monitoring
 *    node 0 as master_name "zt", quorum 2, down-after-milliseconds 1000 and
 *    failover-timeout 2000, so a killed primary is replaced within seconds.
 * Every server logs to its subdirectory (redis.log / sentinel.log) and
 * persists nothing there (no RDB snapshots, no append-only file; a
 * replica's full sync is diskless). The data servers require `password`.
 * Redis refuses port 0, so a port is picked free and a clash (another
 * process took it in between) is retried with a new one.
 *
 * start returns once every server answers, the replica's link is up and
 * each Sentinel knows the replica and the other two Sentinels (so a
 * failover can be elected at once). Never a system service: nothing outside
 * the directory is read or written, and the servers die with the thread
 * that started them (PR_SET_PDEATHSIG); what a killed test process leaves
 * in /tmp is removed by the next redis_srv_start of the same user.
 *
 * Tools: redis-server from $ZHANYE_REDIS_SERVER, else /usr/bin/redis-server
 * (Sentinels run as `redis-server FILE --sentinel`).
 *
 * Not thread-safe; call from one thread (the one that lives as long as the
 * servers). */
#ifndef ZHANYE_TEST_REDIS_H
#define ZHANYE_TEST_REDIS_H

#include <stdbool.h>
#include <sys/types.h>

#define REDIS_SRV_NODES 2
#define REDIS_SRV_SENTINELS 3

struct redisContext;

struct redis_srv_opts {
    bool replica;   /* node 1, a replica of node 0 */
    bool sentinels; /* three Sentinels (requires replica) */
};

struct redis_srv_proc {
    int port;
    pid_t pid;       /* 0 when not running */
    char sub[80];    /* its subdirectory: config, log, socket */
    char socket[96]; /* nodes: SUB/redis.sock; "" for Sentinels */
};

struct redis_srv {
    char dir[64];   /* "" when stopped */
    char host[16];  /* "127.0.0.1" */
    int nnodes;     /* 1 or 2 */
    int nsentinels; /* 0 or 3 */
    struct redis_srv_proc node[REDIS_SRV_NODES];
    struct redis_srv_proc sentinel[REDIS_SRV_SENTINELS];
    char servers[64];     /* "127.0.0.1:P0" (node 0), as redis_config.servers takes it */
    char all_servers[64]; /* "127.0.0.1:P0,127.0.0.1:P1" (or just node 0) */
    char sentinels[96];   /* "127.0.0.1:S0,127.0.0.1:S1,127.0.0.1:S2"; "" without */
    char master_name[8];  /* "zt" */
    char password[33];    /* 32 random hex digits */
    pid_t owner;          /* the process that started it; only it stops it */
    double start_ms;      /* what redis_srv_start took */
};

/* Starts what opts asks (NULL: node 0 alone) and waits until it is ready
 * as above (at most 30 s). 0 on success; -1 on any failure with the reason
 * and the tail of the failing server's log on stderr, nothing left running. */
int redis_srv_start(struct redis_srv *s, const struct redis_srv_opts *opts);

/* SIGKILL to node i (a crash: Sentinel then fails over), reaped. 0 or -1. */
int redis_srv_kill(struct redis_srv *s, int i);
/* Stops node i cleanly (SIGTERM, SIGKILL after 10 s). 0 or -1. */
int redis_srv_halt(struct redis_srv *s, int i);
/* Starts a stopped node i again on its port with its config file (as
 * Sentinel may have rewritten it) and waits until it answers. 0 or -1. */
int redis_srv_restart(struct redis_srv *s, int i);

/* An authenticated connection to node i over TCP, for the test's own
 * checks (redisFree it); NULL when it does not answer. */
struct redisContext *redis_srv_connect(const struct redis_srv *s, int i);
/* "127.0.0.1:PORT" of node i into out (cap >= 32). Returns out. */
char *redis_srv_addr(const struct redis_srv *s, int i, char *out, int cap);
/* Whether node i answers ROLE as a master. */
bool redis_srv_is_master(const struct redis_srv *s, int i);

/* Stops everything (Sentinels first; SIGTERM, SIGKILL after 10 s) and
 * removes the directory. Does nothing when called by any process but the
 * one that started it, or twice. */
void redis_srv_stop(struct redis_srv *s);

#endif
