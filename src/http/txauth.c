#include "http/txauth.h"

#include "app/app.h"
#include "foundation/clock.h"
#include "foundation/errcode.h"
#include "foundation/log.h"
#include "identity/authcache.h"
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

/* The verdict on a device_lookup's outcome rc; au takes d's F and ids when good. */
static const char *device_verdict(int rc, struct txauth *au, int *status)
{
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
    /* STORE_BUSY: the database is out of reach for now (a lost or read-only
     * server, a failover); the tablet retries. */
    *status = rc == STORE_BUSY ? 503 : 500;
    return rc == STORE_BUSY ? ze_code(ZE_UNAVAILABLE) : "internal";
}

/* au->device read from the database (and cached under the generations
 * read before it): device_lookup's status. */
static int reload_device(struct app *a, struct store_conn *c, const char *dev, uint64_t cluster,
                         struct txauth *au)
{
    uint64_t gen = store_generation(a->store, STORE_TAG_IDENTITY);
    device_wipe(&au->device);
    au->device_cached = false;
    au->device_cluster = cluster;
    int rc = device_lookup(c, &a->kek, dev, &au->device);
    if (rc == ID_OK && au->device.has_ds)
        authcache_device_put(a->authcache, &au->device, gen, cluster, clock_wall_ms());
    return rc;
}

const char *txauth_resolve(struct app *a, struct store_conn *c, const char *tx, const char *dev,
                           const zy1_envelope *env, struct txauth *au, int *status)
{
    memset(au, 0, sizeof *au);
    if (strcmp(tx, ZY1_ACTIVATE_TX) == 0)
        return resolve_ticket(a, c, env, au, status);
    /* The generations are read before the database, so a write that commits
     * in between leaves what is cached stale (data/store.h). */
    uint64_t gen = store_generation(a->store, STORE_TAG_IDENTITY);
    uint64_t cluster = authcache_cluster_gen(a->authcache);
    int rc = ID_OK;
    au->device_cached = authcache_device_get(a->authcache, dev, gen, clock_wall_ms(), &au->device,
                                             &au->device_cluster);
    if (!au->device_cached) {
        au->device_cluster = cluster;
        rc = device_lookup(c, &a->kek, dev, &au->device);
        if (rc == ID_OK && au->device.has_ds)
            authcache_device_put(a->authcache, &au->device, gen, cluster, clock_wall_ms());
    }
    return device_verdict(rc, au, status);
}

const char *txauth_cluster_check(struct app *a, struct store_conn *c, const char *dev,
                                 uint64_t cluster_gen, struct txauth *au, bool *rekey, int *status)
{
    *rekey = false;
    *status = 0;
    authcache_cluster_seen(a->authcache, cluster_gen);
    if (au->is_activation || cluster_gen == au->device_cluster || !au->device_cached)
        return NULL;
    uint8_t ds[DS_LEN];
    memcpy(ds, au->device.ds, DS_LEN);
    const char *code = device_verdict(reload_device(a, c, dev, cluster_gen, au), au, status);
    *rekey = !code && !secmem_equal(ds, au->device.ds, DS_LEN);
    secmem_wipe(ds, sizeof ds);
    return code;
}

bool txauth_reload_on_bad_mac(struct app *a, struct store_conn *c, const char *dev,
                              struct txauth *au)
{
    if (au->is_activation || !au->device_cached)
        return false;
    uint8_t ds[DS_LEN];
    int status = 0;
    memcpy(ds, au->device.ds, DS_LEN);
    /* Tagged with the cluster generation the entry had: it was read before
     * this database read too, and the request has read none yet. */
    const char *code =
        device_verdict(reload_device(a, c, dev, au->device_cluster, au), au, &status);
    bool changed = !code && !secmem_equal(ds, au->device.ds, DS_LEN);
    secmem_wipe(ds, sizeof ds);
    return changed;
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
                           uint64_t cluster_gen, struct txauth *au)
{
    char sid[ZY1_SID_MAX + 1];
    if (!p->sid.p || p->sid.n > ZY1_SID_MAX) {
        snprintf(au->reason, sizeof au->reason, "no_session");
        return "session_invalid";
    }
    memcpy(sid, p->sid.p, p->sid.n);
    sid[p->sid.n] = '\0';
    /* This node's changes and (shared through Redis) every node's: an entry
     * cached before either is stale. Both only grow, so their sum does. */
    uint64_t gen = store_generation(a->store, STORE_TAG_IDENTITY) + cluster_gen;
    int64_t now = clock_wall_ms();
    int rc = ID_OK;
    /* A cached session stands in while it is live and owes no activity
     * write; otherwise the database decides (and records the activity). */
    if (!authcache_session_get(a->authcache, sid, gen, now, &au->session) ||
        strcmp(au->session.dev, au->device.dev) != 0 || !session_fresh(&au->session, now)) {
        rc = session_check(c, sid, au->device.dev, &au->session);
        if (rc == ID_OK)
            authcache_session_put(a->authcache, sid, &au->session, gen, now);
    }
    secmem_wipe(sid, sizeof sid);
    if (rc == ID_OK && au->session.teller_id == au->device.teller_id)
        return NULL;
    if (rc < 0) { /* the store failed: no verdict on the session */
        log_error("tx.auth", "session check failed: %s", id_rc_name(rc));
        return rc == STORE_BUSY ? ze_code(ZE_UNAVAILABLE) : "internal";
    }
    snprintf(au->reason, sizeof au->reason, "%s",
             rc == ID_OK                 ? "wrong_teller"
             : au->session.end_reason[0] ? au->session.end_reason
                                         : "unknown");
    return rc == ID_EXPIRED ? "session_expired" : "session_invalid";
}

void txauth_touch(struct app *a, struct store_conn *c, struct txauth *au, const char *dev,
                  const char *addr)
{
    int64_t now = clock_wall_ms();
    /* A cached device whose activity and address are recent needs no write. */
    if (au->device_cached && now - au->device.last_seen < DEVICE_TOUCH_MS &&
        strcmp(au->device.last_addr, addr) == 0)
        return;
    if (device_touch(c, dev, addr) == ID_OK)
        authcache_device_touched(a->authcache, dev, addr, now);
}

void txauth_wipe(struct txauth *au)
{
    ticket_wipe(&au->ticket);
    device_wipe(&au->device);
    secmem_wipe(au->F, sizeof au->F);
}
