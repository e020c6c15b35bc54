/* device — the tablets bound to tellers (table devices).
 *
 * A device is named by its dev id (32 lowercase hex digits) and, while
 * active, holds a device secret DS (32 random bytes, stored sealed with the
 * KEK). Its status is active, revoked (lost, stolen, replaced) or unbound
 * (handed back); only an active device of an active teller works.
 *
 * This module owns the devices table and nothing else: it never touches
 * sessions or activation tickets. The operations that must also end
 * sessions or use a ticket (activate, revoke, unbind) are composed one
 * level up in binding.h; callers use those, and device_bind /
 * device_retire only through them.
 *
 * Writes run in the caller's transaction, with their audit records. ds_out
 * of device_bind is only valid once the caller's transaction has committed.
 * struct device holds a secret: wipe it with device_wipe. */
#ifndef ZHANYE_DEVICE_H
#define ZHANYE_DEVICE_H

#include "data/store.h"
#include "identity/identity.h"
#include "identity/kek.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <stdbool.h>
#include <stdint.h>

#define DEV_HEX_LEN 32
#define DS_LEN 32
#define DEVICE_INFO_MAX 64 /* model, os, app, address: bytes */
#define DEVICE_TOUCH_MS 60000

enum device_status { DEVICE_ACTIVE = 1, DEVICE_REVOKED = 2, DEVICE_UNBOUND = 3 };

struct device {
    char dev[DEV_HEX_LEN + 1];
    int status; /* enum device_status */
    int64_t bank_id;
    int64_t teller_id;
    int64_t branch_id; /* the teller's; 0: none */
    bool teller_active;
    char teller_code[TELLER_CODE_MAX + 1];
    char bank_code[ORG_CODE_MAX + 1];
    bool has_ds;
    uint8_t ds[DS_LEN]; /* secret; only from device_lookup of an active device */
    char model[DEVICE_INFO_MAX + 1];
    char os[DEVICE_INFO_MAX + 1];
    char app[DEVICE_INFO_MAX + 1];
    char last_addr[DEVICE_INFO_MAX + 1];
    int64_t first_seen;
    int64_t last_seen;
    int64_t activated_at;
    int64_t revoked_at; /* 0 if never */
};

void device_wipe(struct device *d);
/* "active", "revoked", "unbound" or "?" */
const char *device_status_name(int status);
/* True for exactly 32 lowercase hex digits. */
bool device_valid_dev(const char *dev);

/* The device with its DS opened: ID_OK (active, teller active); ID_DISABLED
 * (revoked, unbound or teller disabled: out filled, no DS); ID_NOT_FOUND;
 * ID_CORRUPT (the sealed DS does not open). */
int device_lookup(struct store_conn *c, const struct kek *k, const char *dev_hex,
                  struct device *out);
/* The device whatever its status, without its DS: ID_OK or ID_NOT_FOUND. */
int device_get(struct store_conn *c, const char *dev_hex, struct device *out);
/* Records activity (at most every DEVICE_TOUCH_MS unless the address changed). */
int device_touch(struct store_conn *c, const char *dev_hex, const char *addr);
/* dev is active and bound to teller_id: ID_OK; ID_NOT_FOUND; ID_DISABLED
 * (revoked or unbound); ID_CONFLICT (another teller's); ID_BAD_INPUT. Reads
 * only (a session is created only on such a device). */
int device_check_bound(struct store_conn *c, const char *dev_hex, int64_t teller_id);

/* ---- the steps of binding.h ------------------------------------------------------ */

/* Who holds dev when teller teller_id of bank bank_id activates it. */
struct device_holder {
    bool exists;      /* a row for dev exists: it will be rebound */
    bool active_same; /* active for this very teller: a re-activation */
};
/* ID_OK (out filled), ID_CONFLICT (dev active for another teller, or a row
 * of another bank in any status: a bank never takes over another bank's
 * device row), ID_BAD_INPUT. Reads only. */
int device_find_holder(struct store_conn *c, const char *dev_hex, int64_t bank_id,
                       int64_t teller_id, struct device_holder *out);

/* A new binding of dev to a teller. */
struct device_binding {
    int64_t bank_id;
    int64_t teller_id;
    const char *teller_code;             /* for the audit record */
    const char *dev;                     /* 32 lowercase hex digits */
    const char *model, *os, *app, *addr; /* 0..DEVICE_INFO_MAX bytes each, no control chars */
    bool rebind;                         /* device_find_holder found the row: rebind it */
};
/* True when every field of b is well-formed (device_bind's ID_BAD_INPUT). */
bool device_binding_ok(const struct device_binding *b);
/* Binds b->dev to the teller with a new DS (into ds_out): inserts the row
 * or rebinds the existing one (active, new DS, revoked_at cleared), and
 * audits "device.activated" (actor "dev:<dev>"). ID_OK, ID_BAD_INPUT.
 * Caller's transaction. */
int device_bind(struct store_conn *c, const struct kek *k, const struct device_binding *b,
                uint8_t ds_out[DS_LEN]);
/* The teller's oldest active device other than keep_dev, into out, when
 * the teller has more than `allowed` such others: ID_OK; ID_NOT_FOUND when
 * within the limit; ID_BAD_INPUT. Reads only. */
int device_oldest_extra(struct store_conn *c, int64_t teller_id, const char *keep_dev, int allowed,
                        char out[DEV_HEX_LEN + 1]);

/* Taking an active device out of service. */
struct device_retirement {
    const char *actor;      /* for the audit record */
    const char *dev;        /* the device */
    int status;             /* DEVICE_REVOKED or DEVICE_UNBOUND */
    const char *why;        /* NULL, or the audit record's "reason" (e.g. "replaced") */
    int64_t sessions_ended; /* how many sessions the caller ended, for the audit record */
};
/* Sets the status, erases the sealed DS, stamps revoked_at and audits
 * "device.revoked" / "device.unbound" {teller, sessions_ended[, reason]}.
 * It does not end sessions: binding_revoke / binding_unbind do, first.
 * ID_OK, ID_NOT_FOUND, ID_DISABLED (not active), ID_BAD_INPUT. Caller's
 * transaction. */
int device_retire(struct store_conn *c, const struct device_retirement *r);

/* Devices of bank_id (0: all banks), by bank, teller and dev; no DS. fn
 * returns non-zero to stop (that value is returned). */
int device_list(struct store_conn *c, int64_t bank_id, int (*fn)(const struct device *d, void *arg),
                void *arg);
/* The same, narrowed to the devices of the tellers of branch_id (0: all). */
int device_list_branch(struct store_conn *c, int64_t bank_id, int64_t branch_id,
                       int (*fn)(const struct device *d, void *arg), void *arg);

#endif
