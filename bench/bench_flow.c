/* bench_flow — the cost of flow control on the request path: one
 * uncontended flow_admit() + flow_done() pair, in nanoseconds, best of a few
 * rounds. The clock is passed in (advancing 1 us per request against a
 * 10 M/s bucket) so the figure is flow's own work, not clock_gettime's.
 * Prints "flow_admit_ns <value>" (no per-address limit) and
 * "flow_admit_addr_ns <value>" (the same rule with a per-address limit, the
 * requests coming from 1024 IPv4 addresses in turn). */
#include "access/flow.h"
#include "foundation/clock.h"
#include "foundation/config.h"
#include "foundation/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 5
#define PAIRS 2000000
#define ADDRS 1024

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

int main(void)
{
    static struct config cfg;
    config_defaults(&cfg, "/tmp");
    static const char *const kv[] = {"rate", "10000000", "burst", "1000", "max_concurrent", "64"};
    static const char *const kv_addr[] = {"rate",           "10000000", "burst",         "1000",
                                          "max_concurrent", "64",       "per_addr_rate", "10000000",
                                          "per_addr_burst", "1000"};
    if (named(&cfg, "PAY", kv, 3) || named(&cfg, "PAY_ADDR", kv_addr, 5))
        return 1;
    struct flow *f;
    char err[256];
    if (flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err)) {
        fprintf(stderr, "bench_flow: %s\n", err);
        return 1;
    }
    static char addrs[ADDRS][16];
    for (int i = 0; i < ADDRS; i++)
        snprintf(addrs[i], sizeof addrs[i], "192.0.%d.%d", 2 + i / 256, i % 256);
    double plain, per_addr;
    if (measure(f, "PAY", NULL, &plain) || measure(f, "PAY_ADDR", addrs, &per_addr))
        return 1;
    printf("flow_admit_ns %.1f\n", plain);
    printf("flow_admit_addr_ns %.1f\n", per_addr);
    flow_free(f, 0);
    config_free(&cfg);
    metrics_shutdown();
    return 0;
}
