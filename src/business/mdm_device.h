/* mdm_device — the managed devices' compliance rows as the console shows
 * them (docs/api.md §2.3 GET /api/v1/admin/mdm/devices): the last verdict
 * of each device (business/mdm_policy.h, mdm_devices) with the os and app
 * version of its last check-in, which DEVICE_CHECKIN records here.
 * Through the caller's tenant scope: one bank's rows only. */
#ifndef ZHANYE_MDM_DEVICE_H
#define ZHANYE_MDM_DEVICE_H

#include "data/tenant.h"

#include <jansson.h>
#include <stdint.h>

/* Records the os and app version dev reported (after mdm_verdict_put made
 * its row), in the caller's transaction. MDM_OK, MDM_ERR. */
int mdm_device_facts_put(struct tenant_conn *t, const char *dev, const char *os,
                         const char *app_version);

/* Every device of the bank that checked in: *out a new object keyed by dev
 * of {"checked_at","compliant","violations","policy_version","os",
 * "app_version"}. MDM_OK, MDM_ERR. */
int mdm_device_rows(struct tenant_conn *t, json_t **out);

#endif
