/* The identity transactions of ZY1: DEVICE_ACTIVATE, LOGIN, LOGOUT,
 * PASSWORD_CHANGE and SESSION_INFO (see docs/api.md). */
#include "channel/tx.h"
#include "data/tenant.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "identity/admin_session.h"
#include "identity/audit.h"
#include "identity/binding.h"
#include "identity/identity.h"
#include "identity/session.h"
#include "identity/teller.h"
#include "identity/tx_identity.h"

#include <string.h>

static const char *str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static enum tx_result tx_activate(struct tx_ctx *c)
{
    const struct ticket *t = c->ticket;
    json_t *d = json_object_get(c->in, "device");
    uint8_t ds[DS_LEN];
    char ds_b64[64];
    int rc = binding_activate(c->conn, c->env->kek, t, c->dev, str(d, "model"), str(d, "os"),
                              str(d, "app"), c->client_ip, c->env->identity->max_devices, ds);
    enum tx_result res = TX_COMMIT;
    switch (rc) {
    case ID_OK:
        b64_encode(ds, sizeof ds, ds_b64, sizeof ds_b64);
        json_object_set_new(c->out, "device_secret", json_string(ds_b64));
        json_object_set_new(c->out, "teller", json_string(t->teller_code));
        json_object_set_new(c->out, "bank", json_string(t->bank_code));
        log_info("identity.activate", "device %s bound to teller %s", c->dev, t->teller_code);
        break;
    case ID_CONFLICT:
        tx_fail(c, ZE_DEVICE_CONFLICT);
        break;
    case ID_DISABLED:
        tx_fail(c, ZE_TELLER_DISABLED);
        break;
    case ID_EXPIRED:
    case ID_NOT_FOUND:
        tx_fail(c, ZE_ACTIVATION_INVALID);
        break;
    case ID_BAD_INPUT:
        tx_failf(c, ZE_BAD_REQUEST, "设备信息不合规");
        break;
    default:
        res = TX_ROLLBACK;
    }
    secmem_wipe(ds, sizeof ds);
    secmem_wipe(ds_b64, sizeof ds_b64);
    return res;
}

static json_t *teller_json(const struct teller *t)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "code", t->code, "name", t->name, "role",
                     role_name(t->role), "bank", t->bank_code, "branch", t->branch_code);
}

struct new_session {
    const struct teller *t;
    const char *dev;
    const struct identity_policy *pol;
    char sid[SESSION_TOKEN_LEN + 1]; /* out; the caller wipes it */
};

/* store_run callback: the session of a verified teller on this device. */
static int open_session(struct store_conn *c, void *arg)
{
    struct new_session *ns = arg;
    return session_create(c, ns->t, ns->dev, ns->pol->idle_timeout_s, ns->pol->absolute_timeout_s,
                          ns->sid);
}

/* Password checks run in their own transaction so a failure is counted even
 * though the request then fails; the session is created in another. */
static enum tx_result tx_login(struct tx_ctx *c)
{
    const char *code = str(c->in, "teller");
    struct teller t;
    struct teller bound;
    /* The device must be bound to this teller; checked first so a wrong
     * pairing costs the teller no attempt. A store failure is not a verdict. */
    int found = teller_find_id(c->conn, c->teller_id, &bound);
    if (found < 0)
        return TX_ROLLBACK;
    if (found != ID_OK || strcmp(bound.code, code) != 0) {
        tx_fail(c, ZE_DEVICE_NOT_BOUND);
        return TX_COMMIT;
    }
    struct lockout policy = {
        .max_failures = c->env->identity->max_failures,
        .lock_ms = c->env->identity->lock_ms,
    };
    int rc = teller_verify_password(c->conn, code, str(c->in, "password"), &policy, &t);
    if (rc == ID_BAD_PASSWORD || rc == ID_NOT_FOUND || rc == ID_BAD_INPUT) {
        tx_fail(c, ZE_BAD_PASSWORD);
        return TX_COMMIT;
    }
    if (rc == ID_LOCKED) {
        tx_fail(c, ZE_TELLER_LOCKED);
        return TX_COMMIT;
    }
    if (rc == ID_DISABLED) {
        tx_fail(c, ZE_TELLER_DISABLED);
        return TX_COMMIT;
    }
    if (rc != ID_OK)
        return TX_ROLLBACK;
    const struct identity_policy *pol = c->env->identity;
    struct new_session ns = {.t = &t, .dev = c->dev, .pol = pol};
    rc = store_run(c->conn, "login_session", open_session, &ns);
    if (rc != ID_OK) {
        secmem_wipe(ns.sid, sizeof ns.sid);
        if (rc == ID_DISABLED || rc == ID_CONFLICT || rc == ID_NOT_FOUND) {
            tx_fail(c, ZE_DEVICE_BLOCKED);
            return TX_COMMIT;
        }
        return TX_ROLLBACK;
    }
    json_object_set_new(c->out, "sid", json_string(ns.sid));
    json_object_set_new(c->out, "idle_timeout_s", json_integer(pol->idle_timeout_s));
    json_object_set_new(c->out, "teller", teller_json(&t));
    secmem_wipe(ns.sid, sizeof ns.sid);
    return TX_COMMIT;
}

static enum tx_result tx_logout(struct tx_ctx *c)
{
    int rc = session_end(c->conn, c->sid, "logged_out");
    return rc == ID_OK || rc == ID_NOT_FOUND ? TX_COMMIT : TX_ROLLBACK;
}

struct pw_changed {
    const char *sid;           /* the session making the change: it stays */
    int64_t tablets, consoles; /* out: sessions ended */
};

/* Commits with the new password (teller_change_password's also): the
 * teller's console sessions and every other tablet session end, reason
 * "password_changed". */
static int end_other_sessions(struct store_conn *c, const struct teller *t, void *arg)
{
    struct pw_changed *p = arg;
    p->tablets = p->consoles = 0;
    int rc = session_end_teller_except(c, t->id, p->sid, "password_changed", &p->tablets);
    if (rc == ID_OK)
        rc = admin_session_end_teller(c, t->id, "password_changed", &p->consoles);
    /* Not the caller's input at fault (the pipeline checked the session):
     * never let it pass for a weak new password. */
    return rc == ID_BAD_INPUT ? ID_ERR : rc;
}

static enum tx_result tx_password_change(struct tx_ctx *c)
{
    struct teller t;
    if (teller_find_id(c->conn, c->teller_id, &t) != ID_OK)
        return TX_ROLLBACK;
    struct lockout policy = {
        .max_failures = c->env->identity->max_failures,
        .lock_ms = c->env->identity->lock_ms,
    };
    struct pw_changed p = {.sid = c->sid};
    const struct teller_pw_also also = {.fn = end_other_sessions, .arg = &p};
    int rc = teller_change_password(c->conn, t.code, str(c->in, "old_password"),
                                    str(c->in, "new_password"), &policy, &also);
    switch (rc) {
    case ID_OK:
        log_info("identity.password_changed",
                 "teller %s: %lld other tablet and %lld console session(s) ended", t.code,
                 (long long)p.tablets, (long long)p.consoles);
        return TX_COMMIT;
    case ID_BAD_PASSWORD:
        tx_failf(c, ZE_BAD_PASSWORD, "原密码错误");
        return TX_COMMIT;
    case ID_LOCKED:
        tx_fail(c, ZE_TELLER_LOCKED);
        return TX_COMMIT;
    case ID_BAD_INPUT:
        tx_failf(c, ZE_WEAK_PASSWORD, "新密码须为%d到%d位，且不能与原密码相同", TELLER_PW_MIN,
                 TELLER_PW_MAX);
        return TX_COMMIT;
    default:
        return TX_ROLLBACK;
    }
}

/* From the session as the pipeline checked it (possibly cached): none of
 * what it shows of the teller changes in the teller's life (session.h). */
static enum tx_result tx_session_info(struct tx_ctx *c)
{
    const struct tx_teller *t = &c->teller;
    if (!t->code)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "teller",
                        json_pack("{s:s,s:s,s:s,s:s,s:s}", "code", t->code, "name", t->name, "role",
                                  t->role, "bank", t->bank, "branch", t->branch));
    json_object_set_new(c->out, "dev", json_string(c->dev));
    return TX_COMMIT;
}

static const struct tx_field F_ACTIVATE[] = {
    {"device", TXF_OBJECT, true, 0},
};
static const struct tx_field F_LOGIN[] = {
    {"teller", TXF_STRING, true, 32},
    {"password", TXF_STRING, true, 128},
};
static const struct tx_field F_PASSWORD[] = {
    {"old_password", TXF_STRING, true, 128},
    {"new_password", TXF_STRING, true, 128},
};

const struct tx_def TX_DEVICE_ACTIVATE = {
    .code = "DEVICE_ACTIVATE", .fn = tx_activate, .fields = F_ACTIVATE, .nfields = 1};
const struct tx_def TX_LOGIN = {
    .code = "LOGIN", .fn = tx_login, .own_transaction = true, .fields = F_LOGIN, .nfields = 2};
const struct tx_def TX_LOGOUT = {.code = "LOGOUT", .fn = tx_logout, .needs_session = true};
const struct tx_def TX_PASSWORD_CHANGE = {.code = "PASSWORD_CHANGE",
                                          .fn = tx_password_change,
                                          .needs_session = true,
                                          .own_transaction = true,
                                          .fields = F_PASSWORD,
                                          .nfields = 2};
const struct tx_def TX_SESSION_INFO = {
    .code = "SESSION_INFO", .fn = tx_session_info, .needs_session = true, .read_only = true};
