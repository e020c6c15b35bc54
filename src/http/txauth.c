#include "http/txauth.h"

#include "app/app.h"
#include "foundation/log.h"
#include "foundation/secmem.h"

#include <stdio.h>
#include <string.h>

static const char *resolve_ticket(struct app *a, struct store_conn *c, const zy1_envelope *env,
                                  struct txauth *au, int *status)
{
    char tlr[ZY1_ID_MAX + 1];
    memcpy(tlr, env->tlr.p, env->tlr.n);
    tlr[env->tlr.n] = '\0';
    au->is_activation = true;
    int rc = activation_lookup(c, &a->kek, tlr, &au->ticket);
    *status = 403;
    switch (rc) {
    case ID_OK:
        memcpy(au->F, au->ticket.f, ZY1_F_LEN);
        au->bank_id = au->ticket.bank_id;
        au->teller_id = au->ticket.teller_id;
        return NULL;
    case ID_LOCKED:
        return "device_blocked";
    case ID_NOT_FOUND:
    case ID_EXPIRED:
        return "device_unknown";
    default:
        log_error("tx.auth", "activation lookup failed: %s", id_rc_name(rc));
        *status = 500;
        return "internal";
    }
}

const char *txauth_resolve(struct app *a, struct store_conn *c, const char *tx, const char *dev,
                           const zy1_envelope *env, struct txauth *au, int *status)
{
    memset(au, 0, sizeof *au);
    if (strcmp(tx, ZY1_ACTIVATE_TX) == 0)
        return resolve_ticket(a, c, env, au, status);
    int rc = device_lookup(c, &a->kek, dev, &au->device);
    *status = 403;
    if (rc == ID_OK && au->device.has_ds) {
        memcpy(au->F, au->device.ds, ZY1_F_LEN);
        au->bank_id = au->device.bank_id;
        au->teller_id = au->device.teller_id;
        return NULL;
    }
    if (rc == ID_DISABLED)
        return "device_blocked";
    if (rc == ID_NOT_FOUND)
        return "device_unknown";
    log_error("tx.auth", "device lookup failed: %s", id_rc_name(rc));
    *status = 500;
    return "internal";
}

void txauth_failed(struct app *a, struct store_conn *c, const struct txauth *au, const char *dev)
{
    if (!au->is_activation)
        return;
    int rc = activation_fail(c, au->ticket.id, dev);
    if (rc == ID_LOCKED)
        log_warn("tx.auth", "activation ticket of %s locked after repeated failures",
                 au->ticket.teller_code);
}

const char *txauth_session(struct app *a, struct store_conn *c, const zy1_payload *p,
                           struct txauth *au)
{
    char sid[ZY1_SID_MAX + 1];
    if (!p->sid.p || p->sid.n > ZY1_SID_MAX) {
        snprintf(au->reason, sizeof au->reason, "no_session");
        return "session_invalid";
    }
    memcpy(sid, p->sid.p, p->sid.n);
    sid[p->sid.n] = '\0';
    int rc = session_check(c, sid, au->device.dev, &au->session);
    secmem_wipe(sid, sizeof sid);
    if (rc == ID_OK && au->session.teller_id == au->device.teller_id)
        return NULL;
    if (rc < 0) { /* the store failed: no verdict on the session */
        log_error("tx.auth", "session check failed: %s", id_rc_name(rc));
        return "internal";
    }
    snprintf(au->reason, sizeof au->reason, "%s",
             rc == ID_OK                 ? "wrong_teller"
             : au->session.end_reason[0] ? au->session.end_reason
                                         : "unknown");
    return rc == ID_EXPIRED ? "session_expired" : "session_invalid";
}

void txauth_wipe(struct txauth *au)
{
    ticket_wipe(&au->ticket);
    device_wipe(&au->device);
    secmem_wipe(au->F, sizeof au->F);
}
