/* binding.c — activation, revoke and unbind across tickets, devices and
 * sessions (see binding.h). */
#include "identity/binding.h"

#include "channel/idem.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/session.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define ACTOR_MAX (4 + DEV_HEX_LEN + 1)

/* Ends the device's sessions, then retires it (the audit record counts them). */
static int retire(struct store_conn *c, const char *actor, const char *dev, int status,
                  const char *why)
{
    const char *reason = status == DEVICE_REVOKED ? "device_revoked" : "device_unbound";
    int64_t ended = 0;
    int rc = session_end_device(c, dev, reason, &ended);
    if (rc == ID_OK) /* spec v1.1 amendment 4: stored answers die with the binding */
        rc = idem_drop_device(c, dev, NULL);
    if (rc == ID_OK)
        rc = device_retire(
            c,
            &(struct device_retirement){
                .actor = actor, .dev = dev, .status = status, .why = why, .sessions_ended = ended});
    return rc;
}

/* One active device per teller (or max_devices): revoke the oldest others. */
static int enforce_limit(struct store_conn *c, const struct ticket *t, const char *dev,
                         int max_devices)
{
    char old[DEV_HEX_LEN + 1], actor[ACTOR_MAX];
    int rc;
    snprintf(actor, sizeof actor, "dev:%s", dev);
    while ((rc = device_oldest_extra(c, t->teller_id, dev, max_devices - 1, old)) == ID_OK) {
        rc = retire(c, actor, old, DEVICE_REVOKED, "replaced");
        if (rc != ID_OK)
            return rc;
    }
    return rc == ID_NOT_FOUND ? ID_OK : rc;
}

int binding_activate(struct store_conn *c, const struct kek *k, const struct ticket *t,
                     const char *dev_hex, const char *model, const char *os, const char *app,
                     const char *addr, int max_devices, uint8_t ds_out[DS_LEN])
{
    struct teller owner;
    struct device_holder holder = {.exists = false, .active_same = false};
    uint8_t ds[DS_LEN];
    if (!c || !k || !t || !ds_out)
        return ID_BAD_INPUT;
    struct device_binding b = {
        .bank_id = t->bank_id,
        .teller_id = t->teller_id,
        .teller_code = t->teller_code,
        .dev = dev_hex,
        .model = model,
        .os = os,
        .app = app,
        .addr = addr,
    };
    if (!device_binding_ok(&b))
        return ID_BAD_INPUT;
    int rc = teller_find_id(c, t->teller_id, &owner);
    if (rc == ID_OK && !owner.active)
        rc = ID_DISABLED;
    /* The holder first: a refused device must leave the ticket live. */
    if (rc == ID_OK)
        rc = device_find_holder(c, dev_hex, t->bank_id, t->teller_id, &holder);
    if (rc == ID_OK)
        rc = ticket_consume(c, t, dev_hex);
    if (rc == ID_OK && holder.active_same) /* re-activation: the old DS's sessions go */
        rc = session_end_device(c, dev_hex, "device_reactivated", NULL);
    b.rebind = holder.exists;
    if (rc == ID_OK && holder.exists) /* and the old binding's stored answers */
        rc = idem_drop_device(c, dev_hex, NULL);
    if (rc == ID_OK)
        rc = device_bind(c, k, &b, ds);
    if (rc == ID_OK)
        rc = enforce_limit(c, t, dev_hex, max_devices < 1 ? 1 : max_devices);
    if (rc == ID_OK)
        memcpy(ds_out, ds, DS_LEN);
    secmem_wipe(ds, sizeof ds);
    return rc;
}

/* Revoke or unbind: the device must be active; sessions end, then the device. */
static int take_out(struct store_conn *c, const char *actor, const char *dev, int status)
{
    struct device d;
    if (!c || !actor)
        return ID_BAD_INPUT;
    int rc = device_get(c, dev, &d);
    if (rc == ID_OK && d.status != DEVICE_ACTIVE)
        rc = ID_DISABLED;
    if (rc == ID_OK)
        rc = retire(c, actor, dev, status, NULL);
    return rc;
}

int binding_revoke(struct store_conn *c, const char *actor, const char *dev_hex)
{
    return take_out(c, actor, dev_hex, DEVICE_REVOKED);
}

int binding_unbind(struct store_conn *c, const char *actor, const char *dev_hex)
{
    return take_out(c, actor, dev_hex, DEVICE_UNBOUND);
}

int binding_lock(struct store_conn *c, const char *actor, const char *dev_hex)
{
    struct device d;
    int64_t ended = 0;
    if (!c || !actor)
        return ID_BAD_INPUT;
    int rc = device_get(c, dev_hex, &d);
    if (rc == ID_OK)
        rc = session_end_device(c, dev_hex, "device_locked", &ended);
    if (rc == ID_OK)
        rc = audit_appendf(c, d.bank_id, actor, "device.locked", dev_hex, "{s:I}", "sessions",
                           (json_int_t)ended);
    return rc;
}
