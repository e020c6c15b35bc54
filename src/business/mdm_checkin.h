/* mdm_checkin — DEVICE_CHECKIN (docs/api.md §1.21c): the device reports its
 * state, the server judges it against the device's policy
 * (business/mdm_policy.h, business/mdm_eval.h), records the verdict and
 * audits it (mdm.checkin, with the rules broken). A business TX (the bank's
 * shard) that the MDM gate leaves open, so a refused device can recover.
 * Answers OK with {"compliant","violations","policy","policy_version",
 * "commands"} whether compliant or not, commands being the device's queued
 * commands delivered now (business/mdm_command.h: [{"id","kind","args",
 * "expires_at"}]); a lock among them ends the device's sessions once
 * committed (tx_ctx after). `internal` on a store failure.
 * `position` is accepted and not stored in this version. */
#ifndef ZHANYE_MDM_CHECKIN_H
#define ZHANYE_MDM_CHECKIN_H

#include "channel/tx.h"

extern const struct tx_def TX_DEVICE_CHECKIN;

#endif
