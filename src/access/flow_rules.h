/* flow_rules — internal to access/flow: reads the [flow.*] sections of a
 * struct config into plain rule specifications, and resolves the global caps.
 *
 * A [flow.TX] key left unset takes [flow.default]'s value, and a key unset
 * there takes the built-in default, which equals config.c's declared default
 * (a unit test pins the two together). LOGIN and LOGOUT always get a spec, the
 * priority class. Values were validated by config_load(); they are parsed and
 * range-checked again here so that a hand-built config cannot slip through.
 *
 * PER-ADDRESS keys resolve in the same order, with two built-ins of their own:
 * per_addr_rate set nowhere is max(1, rate / 4) for the TXs of
 * flow_has_per_addr_default() (LOGIN) and 0 (off) for the others; and
 * per_addr_burst 0 (its declared default) means max(1, burst / 4). rate and
 * burst there are the TX's own, after inheritance.
 *
 * SCOPE (`scope = cluster|node`) inherits the same way; the built-in is
 * cluster, which takes effect only once the flow shares its rates through
 * Redis (flow_share); without it every rule is node-local. The fixed
 * route keys (ADMIN_LOGIN) take [flow.default]'s scope unless their own
 * section sets one. */
#ifndef ZHANYE_ACCESS_FLOW_RULES_H
#define ZHANYE_ACCESS_FLOW_RULES_H

#include "access/flow.h"
#include "foundation/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_NAME_MAX 40 /* = sizeof(struct config_named.name) */
#define FLOW_DEFAULT_NAME "default"
#define FLOW_MAX_SPECS (CONFIG_MAX_NAMED + 3) /* + LOGIN, LOGOUT, ADMIN_LOGIN */

struct flow_spec {
    char name[FLOW_NAME_MAX];
    bool priority;
    int64_t rate, burst, max_concurrent, queue, max_wait_ms;
    int64_t per_addr_rate, per_addr_burst; /* resolved: 0 = off, else both >= 1 */
    bool cluster;                          /* scope = cluster (the default) */
};

struct flow_specs {
    struct flow_spec def; /* the shared default rule */
    int n;
    struct flow_spec tx[FLOW_MAX_SPECS];
};

/* True for the TX codes of the priority class (LOGIN, LOGOUT). */
bool flow_is_priority(const char *tx);
/* True for the TX codes limited per address unless configured otherwise
 * (LOGIN). */
bool flow_has_per_addr_default(const char *tx);

/* Fills out from cfg. 0, or -1 with err set. */
int flow_specs_load(const struct config *cfg, struct flow_specs *out, char *err, size_t errcap);

/* The caps in force: each field of in (may be NULL) that is > 0, else the
 * value derived from cfg (see struct flow_caps). */
void flow_caps_resolve(const struct config *cfg, const struct flow_caps *in, struct flow_caps *out);

#endif
