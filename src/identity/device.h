/* device — activation tickets and the tablets bound to tellers.
 *
 * An administrator issues a one-time activation code for a teller (8
 * characters of 23456789ABCDEFGHJKMNPQRSTUVWXYZ, shown as K7QX-9PRM, about
 * 40 bits), valid 24 h; a new code supersedes the teller's unused ones. The
 * code is stored sealed with the KEK. The tablet proves it knows the code by
 * MACing its DEVICE_ACTIVATE envelope with F = SM3("ZY1 act" || tlr || "|" ||
 * code), the code exactly as issued (upper case, with the dash); 5 wrong
 * MACs lock the ticket.
 *
 * device_activate binds the tablet's dev id to the teller and issues its
 * device secret DS (32 random bytes, stored sealed, returned once). By
 * default a teller has one active device: activating another revokes the
 * older ones and ends their sessions. A dev active for another teller is
 * refused (unbind or revoke it first). Revoking or unbinding a device ends
 * all its sessions at once and erases its sealed DS.
 *
 * Writes run in the caller's transaction, with their audit records, except
 * activation_fail, which runs its own (a wrong code must count even if the
 * request fails). ds_out of device_activate is only valid once the
 * caller's transaction has committed. struct ticket and struct device hold
 * secrets: wipe them with ticket_wipe / device_wipe. */
#ifndef ZHANYE_DEVICE_H
#define ZHANYE_DEVICE_H

#include "channel/sm.h"
#include "data/store.h"
#include "identity/identity.h"
#include "identity/kek.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <stdbool.h>
#include <stdint.h>

#define DEV_HEX_LEN 32
#define DS_LEN 32
#define ACT_CODE_LEN 9 /* "K7QX-9PRM" */
#define ACT_TTL_MS (24LL * 3600 * 1000)
#define ACT_MAX_ATTEMPTS 5
#define DEVICE_INFO_MAX 64 /* model, os, app, address: bytes */
#define DEVICE_TOUCH_MS 60000

enum device_status { DEVICE_ACTIVE = 1, DEVICE_REVOKED = 2, DEVICE_UNBOUND = 3 };

struct ticket {
    int64_t id;
    int64_t bank_id;
    int64_t teller_id;
    int64_t expires_at;
    int attempts;
    char teller_code[TELLER_CODE_MAX + 1];
    char bank_code[ORG_CODE_MAX + 1];
    char code[ACT_CODE_LEN + 1]; /* secret */
    uint8_t f[SM3_LEN];          /* secret: the ZY1 binding factor F */
};

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

void ticket_wipe(struct ticket *t);
void device_wipe(struct device *d);
/* "active", "revoked", "unbound" or "?" */
const char *device_status_name(int status);
/* True for exactly 32 lowercase hex digits. */
bool device_valid_dev(const char *dev);

/* Issues a code for the teller. ID_NOT_FOUND, ID_DISABLED (teller disabled). */
int activation_issue(struct store_conn *c, const struct kek *k, const char *actor,
                     const char *teller_code, char code_out[ACT_CODE_LEN + 1], int64_t *expires_ms);
/* The teller's live ticket with its code and F: ID_OK, ID_NOT_FOUND (no
 * ticket, used, or unknown/disabled teller), ID_LOCKED, ID_EXPIRED, or
 * ID_CORRUPT if the sealed code does not open. */
int activation_lookup(struct store_conn *c, const struct kek *k, const char *teller_code,
                      struct ticket *out);
/* Counts a wrong code (a bad MAC) against the ticket; dev_hex, who tried,
 * for the audit record (may be NULL). ID_OK, ID_LOCKED when this failure
 * locked it, ID_NOT_FOUND if it is no longer live. Own transaction. */
int activation_fail(struct store_conn *c, int64_t ticket_id, const char *dev_hex);
/* Consumes the ticket and binds dev_hex to its teller (see above).
 * max_devices: active devices a teller may keep (<= 0: 1). ID_OK with
 * ds_out; ID_EXPIRED / ID_NOT_FOUND if the ticket is no longer live,
 * ID_DISABLED (teller disabled), ID_CONFLICT (dev active for another
 * teller, or a device of another bank in any status: a bank never takes
 * over another bank's device row), ID_BAD_INPUT. A conflict is found before
 * anything is written, so the ticket stays live. On failure the caller
 * rolls back. */
int device_activate(struct store_conn *c, const struct kek *k, const struct ticket *t,
                    const char *dev_hex, const char *model, const char *os, const char *app,
                    const char *addr, int max_devices, uint8_t ds_out[DS_LEN]);

/* The device with its DS opened: ID_OK (active, teller active); ID_DISABLED
 * (revoked, unbound or teller disabled: out filled, no DS); ID_NOT_FOUND;
 * ID_CORRUPT (the sealed DS does not open). */
int device_lookup(struct store_conn *c, const struct kek *k, const char *dev_hex,
                  struct device *out);
/* The device whatever its status, without its DS: ID_OK or ID_NOT_FOUND. */
int device_get(struct store_conn *c, const char *dev_hex, struct device *out);
/* Records activity (at most every DEVICE_TOUCH_MS unless the address changed). */
int device_touch(struct store_conn *c, const char *dev_hex, const char *addr);
/* Revoke (lost, stolen, replaced) or unbind (handed back): the device stops
 * working at once. ID_NOT_FOUND, ID_DISABLED if it is not active. */
int device_revoke(struct store_conn *c, const char *actor, const char *dev_hex);
int device_unbind(struct store_conn *c, const char *actor, const char *dev_hex);
/* Devices of bank_id (0: all banks), by bank, teller and dev; no DS. fn
 * returns non-zero to stop (that value is returned). */
int device_list(struct store_conn *c, int64_t bank_id, int (*fn)(const struct device *d, void *arg),
                void *arg);
/* The same, narrowed to the devices of the tellers of branch_id (0: all). */
int device_list_branch(struct store_conn *c, int64_t bank_id, int64_t branch_id,
                       int (*fn)(const struct device *d, void *arg), void *arg);

#endif
