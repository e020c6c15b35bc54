/* bench_flow — the cost of flow control on the request path: one
 * uncontended flow_admit() + flow_done() pair, in nanoseconds, best of a few
 * rounds. The clock is passed in (advancing 1 us per request against a
 * 10 M/s bucket) so the figure is flow's own work, not clock_gettime's.
 * Prints "flow_admit_ns <value>". */
#include "access/flow.h"
#include "foundation/clock.h"
#include "foundation/config.h"
#include "foundation/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 5
#define PAIRS 2000000

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

int main(void)
{
    static struct config cfg;
    config_defaults(&cfg, "/tmp");
    static const char *const kv[] = {"rate", "10000000", "burst", "1000", "max_concurrent", "64"};
    if (named(&cfg, "PAY", kv, 3))
        return 1;
    struct flow *f;
    char err[256];
    if (flow_from_config(&cfg, NULL, NULL, &f, err, sizeof err)) {
        fprintf(stderr, "bench_flow: %s\n", err);
        return 1;
    }
    struct flow_ticket t = {0};
    uint64_t now = 0, best = UINT64_MAX;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t t0 = clock_mono_ns();
        for (int i = 0; i < PAIRS; i++) {
            now += 1000;
            if (flow_admit(f, "PAY", NULL, now, &t) != FLOW_ADMITTED || flow_done(&t, now) != 0) {
                fprintf(stderr, "bench_flow: request %d not admitted\n", i);
                return 1;
            }
        }
        uint64_t ns = clock_mono_ns() - t0;
        if (ns < best)
            best = ns;
    }
    printf("flow_admit_ns %.1f\n", (double)best / PAIRS);
    flow_free(f, now);
    config_free(&cfg);
    metrics_shutdown();
    return 0;
}
