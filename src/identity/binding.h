/* binding — a tablet's binding to its teller: made by activation, ended by
 * revoke or unbind. The identity-level composition of three modules that
 * know nothing of each other's tables: ticket (activation_tickets), device
 * (devices) and session (sessions). Dependencies go one way: binding uses
 * them; session uses device (device_check_bound); device uses neither.
 *
 * binding_activate binds the tablet's dev id to the ticket's teller and
 * issues its device secret DS (returned once). By default a teller has one
 * active device: activating another revokes the older ones (audited
 * "device.revoked" with reason "replaced") and ends their sessions
 * ("device_revoked"). Re-activating a device the teller already holds ends
 * its sessions ("device_reactivated"). A dev active for another teller is
 * refused (unbind or revoke it first).
 *
 * binding_revoke (lost, stolen, replaced) and binding_unbind (handed back)
 * make the device stop working at once: its sessions end (reasons
 * "device_revoked" / "device_unbound"), its sealed DS is erased, and the
 * audit record counts the sessions ended. Activating an existing dev again,
 * revoking and unbinding also drop its stored ZY1 answers (channel/idem.h):
 * they die with the binding (spec v1.1 amendment 4).
 *
 * Everything runs in the caller's transaction; on failure the caller rolls
 * back. ds_out is only valid once that transaction has committed. */
#ifndef ZHANYE_BINDING_H
#define ZHANYE_BINDING_H

#include "data/store.h"
#include "identity/device.h"
#include "identity/identity.h"
#include "identity/kek.h"
#include "identity/ticket.h"

#include <stdint.h>

/* Consumes the ticket t (from activation_lookup) and binds dev_hex to its
 * teller. max_devices: active devices a teller may keep (<= 0: 1). ID_OK
 * with ds_out; ID_EXPIRED / ID_NOT_FOUND if the ticket is no longer live;
 * ID_DISABLED (teller disabled); ID_CONFLICT (see device_find_holder);
 * ID_BAD_INPUT (malformed dev or device info). Every refusal is found
 * before anything is written, so the ticket stays live. */
int binding_activate(struct store_conn *c, const struct kek *k, const struct ticket *t,
                     const char *dev_hex, const char *model, const char *os, const char *app,
                     const char *addr, int max_devices, uint8_t ds_out[DS_LEN]);
/* ID_OK; ID_NOT_FOUND; ID_DISABLED if the device is not active; ID_BAD_INPUT. */
int binding_revoke(struct store_conn *c, const char *actor, const char *dev_hex);
int binding_unbind(struct store_conn *c, const char *actor, const char *dev_hex);
/* Locks the device (a device-management lock command): its sessions end
 * (reason "device_locked"), its binding stays, so its teller logs in again;
 * audited "device.locked" with the sessions ended. ID_OK, ID_NOT_FOUND,
 * ID_BAD_INPUT. */
int binding_lock(struct store_conn *c, const char *actor, const char *dev_hex);

#endif
