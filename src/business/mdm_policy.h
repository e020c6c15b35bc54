/* mdm_policy — a bank's mobile device management policy, the devices'
 * verdicts, and the gate of business transactions (docs/api.md §1.21b).
 *
 * Policies live in the bank's shard (mdm_policies, migration 21): one row
 * per (bank, branch, version), branch 0 for the whole bank; every version is
 * kept and each change is audited (mdm.policy_set). A device's policy is its
 * session's branch's newest, else the bank's newest, else the built-in
 * default (version 0, mdm_policy_default). The policy members are those of
 * business/mdm_eval.h plus:
 *   max_offline_days n    the device wipes its cached data after n days
 *                         without a check-in (enforced by the device)
 *   checkin_interval_s n  how often the device checks in
 *   require_checkin b     the gate refuses a device whose last check-in is
 *                         older than checkin_interval_s, or that never
 *                         checked in
 *
 * The gate (mdm_gate), run by the pipeline before every business TX but
 * DEVICE_CHECKIN: a device whose last verdict is non-compliant is refused;
 * so is, only under a policy with require_checkin, one that never checked
 * in or whose check-in is overdue. The default policy does not require
 * check-ins, so a device that never checked in is not gated by it (the demo
 * banks and every device predating MDM keep working); a rooted device is
 * never compliant under it.
 *
 * Every function takes the request's tenant scope (data/tenant.h): a bank
 * never reads another bank's policies or verdicts. */
#ifndef ZHANYE_MDM_POLICY_H
#define ZHANYE_MDM_POLICY_H

#include "data/tenant.h"

#include <jansson.h>
#include <stdint.h>

enum { MDM_OK = 0, MDM_CLOSED = 1, MDM_ERR = -1, MDM_INVALID = -2 };

/* The built-in default policy: a new object (NULL: out of memory). */
json_t *mdm_policy_default(void);

/* Whether p is a well-formed policy: an object of the known members, each
 * of its type (versions strings with a digit, lists arrays of strings,
 * switches booleans, numbers non-negative integers). */
bool mdm_policy_valid(const json_t *p);
/* The first member that makes p invalid ("policy" when p is not an
 * object), with *why its rule in Simplified Chinese; NULL when valid. */
const char *mdm_policy_bad_member(const json_t *p, const char **why);

/* The policy of a device of branch_id (0: the bank's): *policy a new object,
 * *version its version (0: the default). MDM_OK, MDM_ERR (the store). */
int mdm_policy_get(struct tenant_conn *t, int64_t branch_id, json_t **policy, int64_t *version);

/* Stores p as the next version for branch_id (0: the whole bank) and audits
 * it (mdm.policy_set by actor); inside the caller's transaction. MDM_OK with
 * *version, MDM_INVALID (not mdm_policy_valid), MDM_ERR. */
int mdm_policy_set(struct tenant_conn *t, int64_t branch_id, const json_t *p, const char *actor,
                   int64_t now_ms, int64_t *version);

/* Records dev's verdict (violations: mdm_eval's array; compliant when
 * empty) under policy_version at now_ms, replacing the last one. MDM_OK,
 * MDM_ERR. Not audited here: the caller audits the check-in. */
int mdm_verdict_put(struct tenant_conn *t, const char *dev, const json_t *violations,
                    int64_t policy_version, int64_t now_ms);

/* The gate (above) for dev of branch_id at now_ms: MDM_OK (open), MDM_CLOSED
 * with *violations a new array of {rule, detail} (the stored verdict's, or
 * checkin_overdue), MDM_ERR. */
int mdm_gate(struct tenant_conn *t, int64_t branch_id, const char *dev, int64_t now_ms,
             json_t **violations);

#endif
