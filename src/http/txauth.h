/* txauth — the pipeline's identity steps: who is speaking (spec step 7,
 * which yields the binding factor F) and whether their session is live
 * (step 13). Glue between the ZY1 pipeline and the identity layer, through
 * the request path's cache of device and session records (authcache.h). */
#ifndef ZHANYE_TXAUTH_H
#define ZHANYE_TXAUTH_H

#include "channel/zy1.h"
#include "data/store.h"
#include "identity/device.h"
#include "identity/session.h"
#include "identity/ticket.h"

#include <stdbool.h>
#include <stdint.h>

struct app;

struct txauth {
    bool is_activation;
    uint8_t F[ZY1_F_LEN];
    int64_t bank_id;
    int64_t teller_id;
    struct ticket ticket;                /* DEVICE_ACTIVATE */
    struct device device;                /* every other TX */
    bool device_cached;                  /* device came from the authcache */
    uint64_t device_cluster;             /* the cluster generation device was validated against */
    struct session session;              /* when the TX needs one */
    char reason[SESSION_REASON_MAX + 1]; /* why a session was refused */
};

/* Step 7. NULL when the device (or the activation ticket) is good, else the
 * error code with *status set (403 device_unknown / device_blocked; 503
 * unavailable when the device lookup found the store busy or its server
 * lost, 500 internal when it failed otherwise). */
const char *txauth_resolve(struct app *a, struct store_conn *c, const char *tx, const char *dev,
                           const zy1_envelope *env, struct txauth *au, int *status);
/* Step 7 again, once the cluster's change generation is known (read with
 * the nonce at step 11, nonce_record_gen; 0 without Redis). When it is the
 * one the cached device was validated against (the common path), or the
 * device was read from the database by this request, nothing is done.
 * Otherwise another node changed identity records since: the device is
 * read from the database again. NULL when it is still good (au updated,
 * *rekey true when its DS changed, so that steps 9-10 must be redone with
 * the new F), else the codes and *status of txauth_resolve (a device
 * revoked or unbound on another node: 403 device_blocked). */
const char *txauth_cluster_check(struct app *a, struct store_conn *c, const char *dev,
                                 uint64_t cluster_gen, struct txauth *au, bool *rekey, int *status);
/* After a failed MAC with a cached device: the device read again from the
 * database (a re-activation elsewhere gives it a new DS). True when its DS
 * changed (au updated: steps 9-10 are worth redoing with the new F); false
 * otherwise, and for activations and devices read by this request. */
bool txauth_reload_on_bad_mac(struct app *a, struct store_conn *c, const char *dev,
                              struct txauth *au);
/* After a failed MAC: a wrong activation code counts against the ticket. */
void txauth_failed(struct app *a, struct store_conn *c, const struct txauth *au, const char *dev);
/* Step 13. NULL when payload's sid is a live session of the device's
 * teller, else "session_invalid" or "session_expired" with au->reason
 * saying why (e.g. "signed_in_elsewhere"), or "unavailable" (STORE_BUSY:
 * busy, or its server lost) / "internal" when the store failed (no verdict
 * on the session). cluster_gen: the cluster's change generation read with
 * the nonce (nonce_record_gen; 0 without Redis): a session cached before
 * another node ended it is looked up again. */
const char *txauth_session(struct app *a, struct store_conn *c, const zy1_payload *p,
                           uint64_t cluster_gen, struct txauth *au);
/* Records the device's activity (device_touch), unless the cached record
 * shows it recent and from the same address: no write on most requests. */
void txauth_touch(struct app *a, struct store_conn *c, struct txauth *au, const char *dev,
                  const char *addr);
void txauth_wipe(struct txauth *au);

#endif
