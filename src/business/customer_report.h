/* customer_report — how many customers each bank has, for the console's
 * reports: read from one database through a tenant scope (data/tenant.h).
 *
 * A province administrator's scope reads every bank of the database
 * (tenant_prepare_province); a bank administrator's only their bank; a
 * branch manager's only the customers their branch created. The caller
 * runs it on every database the scope's banks live in (for a province:
 * every shard, data/shard.h shards_each) and adds the tallies up: a bank's
 * customers are in one shard at a time, so nothing is counted twice.
 *
 * customer_report() calls fn once per (bank) with its tally; it returns
 * 0, fn's first non-zero return, or a store status (STORE_ERR also for a
 * client manager's scope, which has no report). */
#ifndef ZHANYE_CUSTOMER_REPORT_H
#define ZHANYE_CUSTOMER_REPORT_H

#include "data/tenant.h"

#include <stdint.h>

struct customer_tally {
    int64_t bank_id;
    int64_t persons, businesses;
};

int customer_report(struct tenant_conn *tc, int (*fn)(const struct customer_tally *t, void *arg),
                    void *arg);

#endif
