/* bench_flow — the cost of flow control on the request path: one
 * uncontended flow_admit() + flow_done() pair, in nanoseconds, best of a few
 * rounds. The clock is passed in (advancing 1 us per request against a
 * 10 M/s bucket) so the figure is flow's own work, not clock_gettime's.
 * Prints "flow_admit_ns <value>" (no per-address limit) and
 * "flow_admit_addr_ns <value>" (the same rule with a per-address limit, the
 * requests coming from 1024 IPv4 addresses in turn).
 *
 * With an argument, a Redis server ("HOST:PORT" or a unix socket path; no
 * password): also "flow_admit_cluster_ns <value>", a cluster-scope rule
 * whose tokens come from the node's lease (the lease thread fetching from
 * that Redis meanwhile), measured in the same run. Each round waits until
 * the lease holds the round's tokens, so every request is served from it. */
#include "access/flow.h"
#include "data/redis.h"
#include "foundation/clock.h"
#include "foundation/config.h"
#include "foundation/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5
#define PAIRS 2000000
#define ADDRS 1024
#define CLUSTER_PAIRS 50000 /* per round: what one lease of the rule below holds */

static int named(struct config *cfg, const char *name, const char *const *kv, int n)
{
    struct config_named *s = &cfg->named[cfg->nnamed++];
    snprintf(s->area, sizeof s->area, "flow");
    snprintf(s->name, sizeof s->name, "%s", name);
    for (int i = 0; i < n; i++) {
        s->keys[i] = kv[2 * i];
        if (!(s->vals[i] = strdup(kv[2 * i + 1])))
            return -1;
    }
    return 0;
}

/* Best ns per admit + done pair for tx, from addrs (NULL: no address). */
static int measure(struct flow *f, const char *tx, char (*addrs)[16], double *ns_out)
{
    struct flow_ticket t = {0};
    uint64_t now = 0, best = UINT64_MAX;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = clock_mono_ns();
        for (int i = 0; i < PAIRS; i++) {
            now += 1000;
            const char *addr = addrs ? addrs[i % ADDRS] : NULL;
            if (flow_admit(f, tx, addr, now, &t) != FLOW_ADMITTED || flow_done(&t, now) != 0) {
                fprintf(stderr, "bench_flow: %s request %d not admitted\n", tx, i);
                return -1;
            }
        }
        uint64_t ns = clock_mono_ns() - t0;
        if (ns < best)
            best = ns;
    }
    *ns_out = (double)best / PAIRS;
    return 0;
}

/* Best ns per admit + done pair of the cluster-scope tx, every token from
 * the lease: each round first waits (up to 10 s) for a lease that holds
 * all of its requests. */
static int measure_cluster(struct flow *f, const char *tx, double *ns_out)
{
    struct flow_ticket t = {0};
    uint64_t best = UINT64_MAX;
    for (int r = 0; r < ROUNDS; r++) {
        struct flow_stats st;
        uint64_t give_up = clock_mono_ns() + UINT64_C(10000000000);
        for (;;) {
            if (flow_stats(f, tx, &st) != 0 || !st.cluster || st.lease_fallback) {
                fprintf(stderr, "bench_flow: %s is not leasing (is redis up?)\n", tx);
                return -1;
            }
            if (st.lease_pool >= CLUSTER_PAIRS)
                break;
            if (clock_mono_ns() > give_up) {
                fprintf(stderr, "bench_flow: %s: no lease of %d tokens\n", tx, CLUSTER_PAIRS);
                return -1;
            }
            /* Demand: an empty pool wakes the lease thread. A request that
             * queued for it is withdrawn (or done, if it started meanwhile). */
            enum flow_verdict v = flow_admit(f, tx, NULL, clock_mono_ns(), &t);
            if (v == FLOW_QUEUED && flow_cancel(&t, clock_mono_ns()) != 0)
                v = t.verdict;
            if (v == FLOW_ADMITTED)
                flow_done(&t, clock_mono_ns());
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        }
        uint64_t now = clock_mono_ns(), t0 = now;
        for (int i = 0; i < CLUSTER_PAIRS; i++) {
            now++; /* the lease, not the clock, is what admits */
            if (flow_admit(f, tx, NULL, now, &t) != FLOW_ADMITTED || flow_done(&t, now) != 0) {
                fprintf(stderr, "bench_flow: %s request %d not admitted\n", tx, i);
                return -1;
            }
        }
        uint64_t ns = clock_mono_ns() - t0;
        if (ns < best)
            best = ns;
    }
    *ns_out = (double)best / CLUSTER_PAIRS;
    return 0;
}

int main(int argc, char **argv)
{
    static struct config cfg;
    config_defaults(&cfg, "/tmp");
    static const char *const kv[] = {"rate",           "10000000", "burst", "1000",
                                     "max_concurrent", "64",       "scope", "node"};
    static const char *const kv_addr[] = {"rate",           "10000000", "burst",         "1000",
                                          "max_concurrent", "64",       "per_addr_rate", "10000000",
                                          "per_addr_burst", "1000",     "scope",         "node"};
    /* A lease is rate x 10 ms = 100 000 tokens, within the burst. */
    static const char *const kv_cluster[] = {"rate",           "10000000", "burst", "1000000",
                                             "max_concurrent", "64",       "scope", "cluster"};
    if (named(&cfg, "PAY", kv, 4) || named(&cfg, "PAY_ADDR", kv_addr, 6) ||
        named(&cfg, "PAY_CLUSTER", kv_cluster, 4))
        return 1;
    struct flow *f;
    char err[256];
    if (flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err)) {
        fprintf(stderr, "bench_flow: %s\n", err);
        return 1;
    }
    struct redis *rd = NULL;
    if (argc > 1) {
        struct redis_config rc = {.servers = argv[1], .prefix = "bench:"};
        if (redis_open(&rc, &rd, err, sizeof err) != REDIS_DONE ||
            flow_share(f, rd, err, sizeof err) != 0) {
            fprintf(stderr, "bench_flow: %s\n", err);
            return 1;
        }
    }
    static char addrs[ADDRS][16];
    for (int i = 0; i < ADDRS; i++)
        snprintf(addrs[i], sizeof addrs[i], "192.0.%d.%d", 2 + i / 256, i % 256);
    double plain, per_addr;
    if (measure(f, "PAY", NULL, &plain) || measure(f, "PAY_ADDR", addrs, &per_addr))
        return 1;
    printf("flow_admit_ns %.1f\n", plain);
    printf("flow_admit_addr_ns %.1f\n", per_addr);
    if (rd) {
        double cluster;
        if (measure_cluster(f, "PAY_CLUSTER", &cluster))
            return 1;
        printf("flow_admit_cluster_ns %.1f\n", cluster);
    }
    flow_free(f, clock_mono_ns());
    redis_close(rd);
    config_free(&cfg);
    metrics_shutdown();
    return 0;
}
