/* route — the routing table: business step -> downstream system + mapping.
 *
 * Loaded from conf/routes.conf, one INI section per step:
 *     [customer_query]
 *     system = core                ; an [egress.core] section of zhanye.conf
 *     mapping = core_customer_query ; conf/mappings/core_customer_query.json
 *     idempotent = true            ; may be retried (default false)
 * A step without 'mapping' moves files (an ftp:// system, egress_put_file);
 * its mapping is NULL, and egress_open() checks that its system transfers
 * files (and that every other step's system does not).
 * Loading is strict like zhanye.conf: an unknown key, a repeated key, a
 * missing system, or a mapping that does not exist fails with
 * "FILE:LINE: what" (for a step-wide problem, LINE is its first key's).
 * Whether the system is configured is checked by egress_open(). Immutable
 * once loaded. */
#ifndef ZHANYE_EGRESS_ROUTE_H
#define ZHANYE_EGRESS_ROUTE_H

#include "egress/mapping.h"

#include <stdbool.h>
#include <stddef.h>

#define ROUTE_STEP_MAX 64
#define ROUTE_SYSTEM_MAX 40

struct route {
    char step[ROUTE_STEP_MAX];
    char system[ROUTE_SYSTEM_MAX];
    char mapping_name[MAPPING_NAME_MAX];
    const struct mapping *mapping; /* NULL: a file-transfer step */
    bool idempotent;
    int line;
};

struct route_table {
    size_t n;
    struct route *r;
};

/* A missing file is an empty table. 0 or -1 with err. */
int route_load(const char *path, const struct mapping_set *maps, struct route_table *t, char *err,
               size_t errcap);
void route_free(struct route_table *t);
const struct route *route_find(const struct route_table *t, const char *step);

#endif
