/* mdm_command — the command queue of managed devices (docs/api.md §1.21d).
 *
 * Commands live in the bank's shard (mdm_commands, migration 22), ids per
 * bank. Kinds: lock, wipe (the app's data), refresh_policy, update_app,
 * unbind; args is a JSON object (kind-specific, e.g. update_app's
 * {"version"}; {} when none). Each command expires ttl_s after it was queued
 * (MDMC_TTL_DEFAULT_S, like the Android Management API's default).
 *
 * States: queued -> delivered -> done | failed, and expired. A queued or
 * delivered command whose expires_at has passed READS as expired at once
 * (mdm_command_list); the state is written (and audited) by the next write
 * that touches the device's commands (queue, deliver, ack). A command is
 * delivered once: the check-in after it was queued carries it; a delivered
 * command not acknowledged before its expiry expires.
 *
 * What a command makes the server do itself is the caller's (the pipeline
 * runs it on the directory once the transaction has committed, see
 * channel/tx.h `after`): a lock delivered ends the device's sessions; an
 * unbind acknowledged done unbinds the device.
 *
 * Every state change is audited in the caller's transaction (events
 * mdm.command_queued, mdm.command_delivered, mdm.command_done,
 * mdm.command_failed, mdm.command_expired; target "mdm_command:<id>").
 * Every function takes the caller's tenant scope (data/tenant.h): a bank
 * never reads nor changes another bank's commands. */
#ifndef ZHANYE_MDM_COMMAND_H
#define ZHANYE_MDM_COMMAND_H

#include "data/tenant.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    MDMC_OK = 0,
    MDMC_NOT_FOUND = 1, /* no such command of this device in this bank */
    MDMC_CLOSED = 2,    /* done, failed or expired already, otherwise */
    MDMC_ERR = -1,      /* the store, or out of memory */
    MDMC_INVALID = -2,  /* a malformed argument (kind, args, ttl, reason) */
};

#define MDMC_TTL_DEFAULT_S 600
#define MDMC_TTL_MAX_S (30 * 86400)
#define MDMC_REASON_MAX 200
#define MDMC_KIND_MAX 15
#define MDMC_STATE_MAX 9

/* Whether kind is one of the five. */
bool mdm_command_kind_valid(const char *kind);

/* Queues kind (args: an object or NULL; ttl_s 0: the default, else 1 ..
 * MDMC_TTL_MAX_S) for dev of branch_id, audited as actor. MDMC_OK with
 * *id, MDMC_INVALID, MDMC_ERR. */
int mdm_command_queue(struct tenant_conn *t, const char *dev, int64_t branch_id, const char *kind,
                      const json_t *args, int64_t ttl_s, const char *actor, int64_t now_ms,
                      int64_t *id);

/* The check-in's delivery: dev's queued, unexpired commands become
 * delivered (audited as actor); *out a new array of {"id","kind","args",
 * "expires_at"} in the order queued; *lock whether a lock is among them.
 * MDMC_OK, MDMC_ERR. */
int mdm_command_deliver(struct tenant_conn *t, const char *dev, const char *actor, int64_t now_ms,
                        json_t **out, bool *lock);

/* The device's acknowledgement of its command id: done (true) or failed
 * with reason (0..MDMC_REASON_MAX bytes). MDMC_OK with kind (the command's)
 * also when it was acknowledged the same way before (nothing written, *again
 * true); MDMC_NOT_FOUND (not dev's, not this bank's, or none); MDMC_CLOSED
 * with state (expired, or closed the other way); MDMC_INVALID; MDMC_ERR. */
int mdm_command_ack(struct tenant_conn *t, const char *dev, int64_t id, bool done,
                    const char *reason, const char *actor, int64_t now_ms,
                    char kind[MDMC_KIND_MAX + 1], char state[MDMC_STATE_MAX + 1], bool *again);

/* The commands, newest first, at most limit (1..500): of dev (NULL: every
 * device of the scope's bank), of branch_id's devices (0: every branch).
 * *out a new array of {"id","dev","branch_id","kind","args","state",
 * "reason","actor","created_at","expires_at","delivered_at","closed_at"},
 * state as of now_ms (expired once past expires_at). MDMC_OK, MDMC_ERR. */
int mdm_command_list(struct tenant_conn *t, const char *dev, int64_t branch_id, int64_t now_ms,
                     int limit, json_t **out);

#endif
