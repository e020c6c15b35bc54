/* device.c — activation tickets and device binding (see device.h). */
#include "identity/device.h"

#include "channel/idem.h"

#include "foundation/clock.h"
#include "foundation/text.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/session.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#define ALPHABET_LEN 31
#define CONTEXT_MAX 48
#define ACTOR_MAX (4 + DEV_HEX_LEN + 1)

/* Sealed sizes: the code (9 bytes) and DS (32 bytes) after padding. */
#define CODE_SEALED_MAX (KEK_OVERHEAD + 16)
#define DS_SEALED_MAX (KEK_OVERHEAD + DS_LEN + 16)

void ticket_wipe(struct ticket *t)
{
    secmem_wipe(t, sizeof *t);
}

void device_wipe(struct device *d)
{
    secmem_wipe(d, sizeof *d);
}

static const char *const status_names[] = {"?", "active", "revoked", "unbound"};

const char *device_status_name(int status)
{
    return status >= DEVICE_ACTIVE && status <= DEVICE_UNBOUND ? status_names[status] : "?";
}

static int status_parse(const char *s)
{
    for (int i = DEVICE_ACTIVE; s && i <= DEVICE_UNBOUND; i++)
        if (strcmp(s, status_names[i]) == 0)
            return i;
    return 0;
}

bool device_valid_dev(const char *dev)
{
    return dev && strnlen(dev, DEV_HEX_LEN + 1) == DEV_HEX_LEN && is_lower_hex(dev, DEV_HEX_LEN);
}

/* 0..DEVICE_INFO_MAX bytes of UTF-8 without control characters. */
static bool valid_info(const char *s)
{
    return s && (s[0] == '\0' || org_valid_name(s, DEVICE_INFO_MAX));
}

/* Runs a prepared statement that returns no rows; ID_OK or the store status. */
static int run(struct store_stmt *s, int rc)
{
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

/* ---- activation codes ------------------------------------------------------ */

/* 8 characters from the alphabet, unbiased (rejection sampling), as XXXX-XXXX. */
static int new_code(char code[ACT_CODE_LEN + 1])
{
    uint8_t buf[32];
    int n = 0, rc = ID_OK;
    while (n < 8 && rc == ID_OK) {
        if (secmem_random(buf, sizeof buf) != 0) {
            rc = ID_ERR;
            break;
        }
        for (size_t i = 0; i < sizeof buf && n < 8; i++)
            if (buf[i] < 256 - 256 % ALPHABET_LEN) {
                code[n < 4 ? n : n + 1] = ALPHABET[buf[i] % ALPHABET_LEN];
                n++;
            }
    }
    code[4] = '-';
    code[ACT_CODE_LEN] = '\0';
    secmem_wipe(buf, sizeof buf);
    return rc;
}

static void code_context(int64_t teller_id, char ctx[CONTEXT_MAX])
{
    snprintf(ctx, CONTEXT_MAX, "act|%lld", (long long)teller_id);
}

/* F = SM3("ZY1 act" || tlr || "|" || code), per spec/secure-channel.md. */
static int binding_factor(const char *tlr, const char *code, uint8_t f[SM3_LEN])
{
    sm_part parts[] = {{"ZY1 act", 7}, {tlr, strlen(tlr)}, {"|", 1}, {code, strlen(code)}};
    return sm3_digest(parts, 4, f) == SM_OK ? ID_OK : ID_ERR;
}

static int supersede(struct store_conn *c, int64_t teller_id, int64_t *n)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE activation_tickets SET status = 'superseded' "
                           "WHERE teller_id = ? AND status = 'issued'",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, teller_id);
    rc = run(s, rc);
    *n = rc == ID_OK ? store_changes(c) : 0;
    return rc;
}

static int insert_ticket(struct store_conn *c, const struct teller *t, const uint8_t *sealed,
                         size_t n, int64_t now, int64_t expires)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO activation_tickets (bank_id, teller_id, code_enc, "
                           "expires_at, attempts, status, created_at) "
                           "VALUES (?, ?, ?, ?, 0, 'issued', ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, t->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, t->id);
    if (rc == STORE_OK)
        rc = store_bind_blob(s, 3, sealed, n);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, expires);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, now);
    return run(s, rc);
}

int activation_issue(struct store_conn *c, const struct kek *k, const char *actor,
                     const char *teller_code, char code_out[ACT_CODE_LEN + 1], int64_t *expires_ms)
{
    struct teller t;
    char code[ACT_CODE_LEN + 1], ctx[CONTEXT_MAX];
    uint8_t sealed[CODE_SEALED_MAX];
    size_t sealed_len = 0;
    int64_t superseded = 0, now = clock_wall_ms(), expires = now + ACT_TTL_MS;
    if (!c || !k || !code_out || !expires_ms)
        return ID_BAD_INPUT;
    int rc = teller_find(c, teller_code, &t);
    if (rc == ID_OK && !t.active)
        rc = ID_DISABLED;
    if (rc == ID_OK) {
        code_context(t.id, ctx);
        rc = new_code(code);
    }
    if (rc == ID_OK)
        rc = kek_seal(k, ctx, (const uint8_t *)code, ACT_CODE_LEN, sealed, sizeof sealed,
                      &sealed_len);
    if (rc == ID_OK)
        rc = supersede(c, t.id, &superseded);
    if (rc == ID_OK)
        rc = insert_ticket(c, &t, sealed, sealed_len, now, expires);
    if (rc == ID_OK)
        rc = audit_appendf(c, t.bank_id, actor, "activation.issued", t.code, "{s:I, s:I}",
                           "expires_at", (json_int_t)expires, "superseded", (json_int_t)superseded);
    if (rc == ID_OK) {
        memcpy(code_out, code, sizeof code);
        *expires_ms = expires;
    }
    secmem_wipe(code, sizeof code);
    return rc;
}

/* ---- looking a ticket up ----------------------------------------------------- */

/* The newest ticket of the teller, whatever its state; the code not opened. */
static int latest_ticket(struct store_conn *c, const struct teller *t, struct ticket *out,
                         char status[16], uint8_t *sealed, size_t *sealed_len)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "SELECT id, expires_at, attempts, status, code_enc "
                           "FROM activation_tickets WHERE teller_id = ? ORDER BY id DESC LIMIT 1",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, t->id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        out->id = store_col_int64(s, 0);
        out->expires_at = store_col_int64(s, 1);
        int64_t a = store_col_int64(s, 2);
        out->attempts = a < 0 || a > ACT_MAX_ATTEMPTS ? ACT_MAX_ATTEMPTS : (int)a;
        size_t n = 0;
        const void *blob = store_col_blob(s, 4, &n);
        rc = id_copy(status, 16, store_col_text(s, 3)) && blob && n <= CODE_SEALED_MAX ? ID_OK
                                                                                       : ID_CORRUPT;
        if (rc == ID_OK) {
            memcpy(sealed, blob, n);
            *sealed_len = n;
        }
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (s)
        store_finish(s);
    return rc;
}

/* Opens the sealed code into out->code and derives F. */
static int open_code(const struct kek *k, const uint8_t *sealed, size_t n, struct ticket *out)
{
    char ctx[CONTEXT_MAX];
    uint8_t plain[CODE_SEALED_MAX];
    size_t len = 0;
    code_context(out->teller_id, ctx);
    int rc = kek_open(k, ctx, sealed, n, plain, sizeof plain, &len);
    if (rc == ID_OK && len != ACT_CODE_LEN)
        rc = ID_CORRUPT;
    if (rc == ID_OK) {
        memcpy(out->code, plain, ACT_CODE_LEN);
        out->code[ACT_CODE_LEN] = '\0';
        rc = binding_factor(out->teller_code, out->code, out->f);
    }
    if (rc == ID_CORRUPT)
        log_error("activation.corrupt", "the activation code of teller %s does not open",
                  out->teller_code);
    secmem_wipe(plain, sizeof plain);
    return rc;
}

int activation_lookup(struct store_conn *c, const struct kek *k, const char *teller_code,
                      struct ticket *out)
{
    struct teller t;
    char status[16];
    uint8_t sealed[CODE_SEALED_MAX];
    size_t n = 0;
    if (!c || !k || !out)
        return ID_BAD_INPUT;
    memset(out, 0, sizeof *out);
    int rc = teller_find(c, teller_code, &t);
    if (rc == ID_OK && !t.active)
        rc = ID_NOT_FOUND;
    if (rc == ID_OK)
        rc = latest_ticket(c, &t, out, status, sealed, &n);
    if (rc != ID_OK)
        goto out;
    out->bank_id = t.bank_id;
    out->teller_id = t.id;
    memcpy(out->teller_code, t.code, sizeof t.code);
    memcpy(out->bank_code, t.bank_code, sizeof t.bank_code);
    if (strcmp(status, "locked") == 0 || out->attempts >= ACT_MAX_ATTEMPTS)
        rc = ID_LOCKED;
    else if (strcmp(status, "issued") != 0)
        rc = ID_NOT_FOUND;
    else if (clock_wall_ms() >= out->expires_at)
        rc = ID_EXPIRED;
    else
        rc = open_code(k, sealed, n, out);
out:
    if (rc != ID_OK)
        ticket_wipe(out);
    return rc;
}

/* ---- failures ------------------------------------------------------------------ */

/* attempts + 1 on a live ticket; reads back attempts, bank and teller code. */
static int bump_attempts(struct store_conn *c, int64_t id, int *attempts, int64_t *bank_id,
                         char tlr[TELLER_CODE_MAX + 1])
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE activation_tickets SET attempts = attempts + 1 "
                           "WHERE id = ? AND status = 'issued'",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    rc = run(s, rc);
    if (rc == ID_OK && store_changes(c) != 1)
        return ID_NOT_FOUND;
    if (rc == ID_OK)
        rc = store_prepare(c,
                           "SELECT a.attempts, a.bank_id, t.code FROM activation_tickets a "
                           "JOIN tellers t ON t.id = a.teller_id WHERE a.id = ?",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        int64_t a = store_col_int64(s, 0);
        *attempts = a > ACT_MAX_ATTEMPTS ? ACT_MAX_ATTEMPTS : (int)a;
        *bank_id = store_col_int64(s, 1);
        rc = id_copy(tlr, TELLER_CODE_MAX + 1, store_col_text(s, 2)) ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (s)
        store_finish(s);
    return rc;
}

static int lock_ticket(struct store_conn *c, int64_t id)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "UPDATE activation_tickets SET status = 'locked' WHERE id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, id);
    return run(s, rc);
}

/* The failure's writes, inside the transaction activation_fail opened. */
static int count_failure(struct store_conn *c, int64_t id, const char *dev)
{
    char tlr[TELLER_CODE_MAX + 1], actor[ACTOR_MAX];
    int attempts = 0;
    int64_t bank_id = 0;
    snprintf(actor, sizeof actor, "%s%s", dev ? "dev:" : "", dev ? dev : "unauthenticated");
    int rc = bump_attempts(c, id, &attempts, &bank_id, tlr);
    if (rc != ID_OK)
        return rc;
    rc = audit_appendf(c, bank_id, actor, "activation.failed", tlr, "{s:I, s:i}", "ticket",
                       (json_int_t)id, "attempts", attempts);
    if (rc != ID_OK || attempts < ACT_MAX_ATTEMPTS)
        return rc;
    rc = lock_ticket(c, id);
    if (rc == ID_OK)
        rc = audit_appendf(c, bank_id, "system", "activation.locked", tlr, "{s:I}", "ticket",
                           (json_int_t)id);
    if (rc == ID_OK)
        log_warn("activation.locked", "activation ticket of teller %s locked after %d failures",
                 tlr, attempts);
    return rc == ID_OK ? ID_LOCKED : rc;
}

int activation_fail(struct store_conn *c, int64_t ticket_id, const char *dev_hex)
{
    if (!c || (dev_hex && !device_valid_dev(dev_hex)))
        return ID_BAD_INPUT;
    int rc = store_begin(c);
    if (rc != STORE_OK) {
        log_error("activation.tx", "cannot begin (is the caller inside a transaction?): %s",
                  store_errmsg(c));
        return rc;
    }
    int result = count_failure(c, ticket_id, dev_hex);
    rc = result < 0 ? result : store_commit(c);
    if (rc < 0) {
        store_rollback(c);
        return rc;
    }
    return result;
}

/* ---- activating --------------------------------------------------------------- */

/* Marks the ticket used, if it is still live. */
static int consume_ticket(struct store_conn *c, const struct ticket *t, const char *dev,
                          int64_t now)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE activation_tickets SET status = 'used', used_at = ?, dev = ? "
                           "WHERE id = ? AND teller_id = ? AND status = 'issued' "
                           "AND expires_at > ? AND attempts < ?",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, dev);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, t->id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, t->teller_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 6, ACT_MAX_ATTEMPTS);
    rc = run(s, rc);
    if (rc == ID_OK && store_changes(c) != 1)
        rc = now >= t->expires_at ? ID_EXPIRED : ID_NOT_FOUND;
    return rc;
}

/* Who holds dev now: ID_OK (*exists false: nobody), ID_CONFLICT if it is
 * active for another teller or is another bank's row (tenant isolation:
 * one bank's activation never rewrites another bank's device). */
static int current_holder(struct store_conn *c, const char *dev, const struct ticket *t,
                          bool *exists, bool *active_same)
{
    struct store_stmt *s = NULL;
    *exists = *active_same = false;
    int rc = store_prepare(c, "SELECT teller_id, status, bank_id FROM devices WHERE dev = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, dev);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        *exists = true;
        bool active = status_parse(store_col_text(s, 1)) == DEVICE_ACTIVE;
        bool same = store_col_int64(s, 0) == t->teller_id;
        bool other_bank = store_col_int64(s, 2) != t->bank_id;
        *active_same = active && same;
        rc = (active && !same) || other_bank ? ID_CONFLICT : ID_OK;
    } else if (rc == STORE_DONE) {
        rc = ID_OK;
    }
    if (s)
        store_finish(s);
    return rc;
}

struct bind_args {
    const struct ticket *t;
    const char *dev, *model, *os, *app, *addr;
    const uint8_t *sealed;
    size_t sealed_len;
    int64_t now;
};

/* Inserts the device row, or rebinds an existing one (same column order). */
static int write_device(struct store_conn *c, const struct bind_args *a, bool exists)
{
    struct store_stmt *s = NULL;
    const char *sql =
        exists ? "UPDATE devices SET bank_id = ?, teller_id = ?, status = 'active', ds_enc = ?, "
                 "model = ?, os = ?, app = ?, last_seen = ?, last_addr = ?, activated_at = ?, "
                 "revoked_at = NULL WHERE dev = ?"
               : "INSERT INTO devices (bank_id, teller_id, status, ds_enc, model, os, app, "
                 "last_seen, last_addr, activated_at, dev, first_seen) "
                 "VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, a->t->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, a->t->teller_id);
    if (rc == STORE_OK)
        rc = store_bind_blob(s, 3, a->sealed, a->sealed_len);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, a->model);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 5, a->os);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 6, a->app);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, a->now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 8, a->addr);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 9, a->now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 10, a->dev);
    if (rc == STORE_OK && !exists)
        rc = store_bind_int64(s, 11, a->now);
    return run(s, rc);
}

/* Sets a device's status (revoked/unbound), erases its DS, ends its sessions. */
static int retire(struct store_conn *c, const char *dev, const char *status, const char *reason,
                  int64_t *sessions)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE devices SET status = ?, ds_enc = NULL, revoked_at = ? "
                           "WHERE dev = ? AND status = 'active'",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, status);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, clock_wall_ms());
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, dev);
    rc = run(s, rc);
    if (rc == ID_OK && store_changes(c) != 1)
        rc = ID_DISABLED;
    if (rc == ID_OK)
        rc = session_end_device(c, dev, reason, sessions);
    if (rc == ID_OK) /* spec v1.1 amendment 4: stored answers die with the binding */
        rc = idem_drop_device(c, dev, NULL);
    return rc;
}

/* The teller's oldest active device other than keep, into out; ID_NOT_FOUND if
 * the teller has at most `allowed` others. */
static int oldest_extra(struct store_conn *c, int64_t teller_id, const char *keep, int allowed,
                        char out[DEV_HEX_LEN + 1])
{
    struct store_stmt *s = NULL;
    int64_t others = 0;
    int rc = store_prepare(c,
                           "SELECT dev, (SELECT COUNT(*) FROM devices WHERE teller_id = ? AND "
                           "status = 'active' AND dev <> ?) FROM devices WHERE teller_id = ? AND "
                           "status = 'active' AND dev <> ? ORDER BY activated_at, dev LIMIT 1",
                           &s);
    for (int i = 0; rc == STORE_OK && i < 4; i += 2) {
        rc = store_bind_int64(s, i + 1, teller_id);
        if (rc == STORE_OK)
            rc = store_bind_text(s, i + 2, keep);
    }
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        others = store_col_int64(s, 1);
        rc = id_copy(out, DEV_HEX_LEN + 1, store_col_text(s, 0)) ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (s)
        store_finish(s);
    return rc == ID_OK && others <= allowed ? ID_NOT_FOUND : rc;
}

/* One active device per teller (or max_devices): revoke the oldest others. */
static int enforce_limit(struct store_conn *c, const struct ticket *t, const char *dev,
                         int max_devices, const char *actor)
{
    char old[DEV_HEX_LEN + 1];
    int rc;
    while ((rc = oldest_extra(c, t->teller_id, dev, max_devices - 1, old)) == ID_OK) {
        int64_t ended = 0;
        rc = retire(c, old, "revoked", "device_revoked", &ended);
        if (rc == ID_OK)
            rc = audit_appendf(c, t->bank_id, actor, "device.revoked", old, "{s:s, s:s, s:I}",
                               "reason", "replaced", "teller", t->teller_code, "sessions_ended",
                               (json_int_t)ended);
        if (rc != ID_OK)
            return rc;
    }
    return rc == ID_NOT_FOUND ? ID_OK : rc;
}

static bool activate_args_ok(const struct ticket *t, const char *dev, const char *model,
                             const char *os, const char *app, const char *addr)
{
    return t && device_valid_dev(dev) && valid_info(model) && valid_info(os) && valid_info(app) &&
           valid_info(addr) && org_valid_code(t->teller_code, TELLER_CODE_MAX);
}

/* Every write of an activation; ds is the new secret. */
static int bind_device(struct store_conn *c, const struct kek *k, struct bind_args *a,
                       int max_devices, const uint8_t ds[DS_LEN])
{
    char ctx[CONTEXT_MAX], actor[ACTOR_MAX];
    uint8_t sealed[DS_SEALED_MAX];
    bool exists = false, same = false;
    int64_t reactivated = 0;
    snprintf(ctx, sizeof ctx, "ds|%s", a->dev);
    snprintf(actor, sizeof actor, "dev:%s", a->dev);
    /* The holder first: a refused device must leave the ticket live. */
    int rc = current_holder(c, a->dev, a->t, &exists, &same);
    if (rc == ID_OK)
        rc = consume_ticket(c, a->t, a->dev, a->now);
    if (rc == ID_OK && same) /* re-activation: the old DS's sessions go */
        rc = session_end_device(c, a->dev, "device_reactivated", &reactivated);
    if (rc == ID_OK && exists) /* and the old binding's stored answers */
        rc = idem_drop_device(c, a->dev, NULL);
    if (rc == ID_OK)
        rc = kek_seal(k, ctx, ds, DS_LEN, sealed, sizeof sealed, &a->sealed_len);
    a->sealed = sealed;
    if (rc == ID_OK)
        rc = write_device(c, a, exists);
    if (rc == ID_OK)
        rc = enforce_limit(c, a->t, a->dev, max_devices, actor);
    if (rc == ID_OK)
        rc = audit_appendf(c, a->t->bank_id, actor, "activation.used", a->t->teller_code,
                           "{s:I, s:s}", "ticket", (json_int_t)a->t->id, "dev", a->dev);
    if (rc == ID_OK)
        rc =
            audit_appendf(c, a->t->bank_id, actor, "device.activated", a->dev,
                          "{s:s, s:s, s:s, s:s, s:s, s:b}", "teller", a->t->teller_code, "model",
                          a->model, "os", a->os, "app", a->app, "addr", a->addr, "rebound", exists);
    a->sealed = NULL;
    return rc;
}

int device_activate(struct store_conn *c, const struct kek *k, const struct ticket *t,
                    const char *dev_hex, const char *model, const char *os, const char *app,
                    const char *addr, int max_devices, uint8_t ds_out[DS_LEN])
{
    struct teller owner;
    uint8_t ds[DS_LEN];
    struct bind_args a = {t, dev_hex, model, os, app, addr, NULL, 0, clock_wall_ms()};
    if (!c || !k || !ds_out || !activate_args_ok(t, dev_hex, model, os, app, addr))
        return ID_BAD_INPUT;
    int rc = teller_find_id(c, t->teller_id, &owner);
    if (rc == ID_OK && !owner.active)
        rc = ID_DISABLED;
    if (rc == ID_OK)
        rc = secmem_random(ds, sizeof ds) == 0 ? ID_OK : ID_ERR;
    if (rc == ID_OK)
        rc = bind_device(c, k, &a, max_devices < 1 ? 1 : max_devices, ds);
    if (rc == ID_OK)
        memcpy(ds_out, ds, DS_LEN);
    secmem_wipe(ds, sizeof ds);
    return rc;
}

/* ---- looking devices up ---------------------------------------------------------- */

#define DEVICE_SELECT                                                                              \
    "SELECT d.dev, d.status, d.bank_id, d.teller_id, t.code, t.status, b.code, d.ds_enc, "         \
    "d.model, d.os, d.app, d.last_addr, d.first_seen, d.last_seen, d.activated_at, "               \
    "COALESCE(d.revoked_at, 0), COALESCE(t.branch_id, 0) FROM devices d "                          \
    "JOIN tellers t ON t.id = d.teller_id JOIN banks b ON b.id = d.bank_id "

/* Fills out from a DEVICE_SELECT row; the sealed DS (if wanted) into sealed. */
static int read_device(struct store_stmt *s, struct device *out, uint8_t *sealed, size_t *n)
{
    memset(out, 0, sizeof *out);
    out->status = status_parse(store_col_text(s, 1));
    out->bank_id = store_col_int64(s, 2);
    out->teller_id = store_col_int64(s, 3);
    const char *ts = store_col_text(s, 5);
    out->teller_active = ts && strcmp(ts, "active") == 0;
    out->first_seen = store_col_int64(s, 12);
    out->last_seen = store_col_int64(s, 13);
    out->activated_at = store_col_int64(s, 14);
    out->revoked_at = store_col_int64(s, 15);
    out->branch_id = store_col_int64(s, 16);
    bool ok = id_copy(out->dev, sizeof out->dev, store_col_text(s, 0)) &&
              id_copy(out->teller_code, sizeof out->teller_code, store_col_text(s, 4)) &&
              id_copy(out->bank_code, sizeof out->bank_code, store_col_text(s, 6)) &&
              id_copy(out->model, sizeof out->model, store_col_text(s, 8)) &&
              id_copy(out->os, sizeof out->os, store_col_text(s, 9)) &&
              id_copy(out->app, sizeof out->app, store_col_text(s, 10)) &&
              id_copy(out->last_addr, sizeof out->last_addr, store_col_text(s, 11));
    if (sealed) {
        size_t len = 0;
        const void *blob = store_col_blob(s, 7, &len);
        *n = blob && len <= DS_SEALED_MAX ? len : 0;
        if (*n)
            memcpy(sealed, blob, len);
    }
    return ok && out->status ? ID_OK : ID_CORRUPT;
}

static int open_ds(const struct kek *k, const uint8_t *sealed, size_t n, struct device *out)
{
    char ctx[CONTEXT_MAX];
    uint8_t plain[DS_SEALED_MAX];
    size_t len = 0;
    snprintf(ctx, sizeof ctx, "ds|%s", out->dev);
    int rc = n ? kek_open(k, ctx, sealed, n, plain, sizeof plain, &len) : ID_CORRUPT;
    if (rc == ID_OK && len != DS_LEN)
        rc = ID_CORRUPT;
    if (rc == ID_OK) {
        memcpy(out->ds, plain, DS_LEN);
        out->has_ds = true;
    }
    if (rc == ID_CORRUPT)
        log_error("device.corrupt", "the device secret of %s does not open", out->dev);
    secmem_wipe(plain, sizeof plain);
    return rc;
}

int device_lookup(struct store_conn *c, const struct kek *k, const char *dev_hex,
                  struct device *out)
{
    struct store_stmt *s = NULL;
    uint8_t sealed[DS_SEALED_MAX];
    size_t n = 0;
    if (!c || !k || !out || !device_valid_dev(dev_hex))
        return ID_BAD_INPUT;
    memset(out, 0, sizeof *out);
    int rc = store_prepare(c, DEVICE_SELECT "WHERE d.dev = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, dev_hex);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        rc = read_device(s, out, sealed, &n);
    else if (rc == STORE_DONE)
        rc = ID_NOT_FOUND;
    if (s)
        store_finish(s);
    if (rc == ID_OK && (out->status != DEVICE_ACTIVE || !out->teller_active))
        rc = ID_DISABLED;
    else if (rc == ID_OK)
        rc = open_ds(k, sealed, n, out);
    secmem_wipe(sealed, sizeof sealed);
    if (rc != ID_OK && rc != ID_DISABLED)
        device_wipe(out);
    return rc;
}

int device_touch(struct store_conn *c, const char *dev_hex, const char *addr)
{
    struct store_stmt *s = NULL;
    int64_t now = clock_wall_ms();
    if (!c || !device_valid_dev(dev_hex) || !valid_info(addr))
        return ID_BAD_INPUT;
    int rc = store_prepare(c,
                           "UPDATE devices SET last_seen = ?, last_addr = ? WHERE dev = ? AND "
                           "status = 'active' AND (last_seen < ? OR last_addr <> ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, addr);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, dev_hex);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 4, now - DEVICE_TOUCH_MS);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 5, addr);
    return run(s, rc);
}

int device_get(struct store_conn *c, const char *dev_hex, struct device *out)
{
    struct store_stmt *s = NULL;
    if (!c || !out || !device_valid_dev(dev_hex))
        return ID_BAD_INPUT;
    int rc = store_prepare(c, DEVICE_SELECT "WHERE d.dev = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, dev_hex);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW)
        rc = read_device(s, out, NULL, NULL);
    else if (rc == STORE_DONE)
        rc = ID_NOT_FOUND;
    if (s)
        store_finish(s);
    return rc;
}

/* Revoke or unbind: find, retire, audit. */
static int take_out(struct store_conn *c, const char *actor, const char *dev, const char *status,
                    const char *reason, const char *event)
{
    struct device d;
    int64_t ended = 0;
    int rc = device_get(c, dev, &d);
    if (rc == ID_OK)
        rc = retire(c, dev, status, reason, &ended);
    if (rc == ID_OK)
        rc = audit_appendf(c, d.bank_id, actor, event, dev, "{s:s, s:I}", "teller", d.teller_code,
                           "sessions_ended", (json_int_t)ended);
    return rc;
}

int device_revoke(struct store_conn *c, const char *actor, const char *dev_hex)
{
    return take_out(c, actor, dev_hex, "revoked", "device_revoked", "device.revoked");
}

int device_unbind(struct store_conn *c, const char *actor, const char *dev_hex)
{
    return take_out(c, actor, dev_hex, "unbound", "device_unbound", "device.unbound");
}

int device_list_branch(struct store_conn *c, int64_t bank_id, int64_t branch_id,
                       int (*fn)(const struct device *d, void *arg), void *arg)
{
    struct store_stmt *s = NULL;
    struct device d;
    if (!c || !fn || bank_id < 0 || branch_id < 0)
        return ID_BAD_INPUT;
    int rc =
        store_prepare(c,
                      DEVICE_SELECT "WHERE (d.bank_id = ? OR ? = 0) AND "
                                    "(t.branch_id = ? OR ? = 0) ORDER BY b.code, t.code, d.dev",
                      &s);
    if (rc == STORE_OK)
        rc = id_bind_list_filter(s, bank_id, branch_id);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        rc = read_device(s, &d, NULL, NULL);
        if (rc == ID_OK)
            rc = fn(&d, arg);
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (s)
        store_finish(s);
    return rc;
}

int device_list(struct store_conn *c, int64_t bank_id, int (*fn)(const struct device *d, void *arg),
                void *arg)
{
    return device_list_branch(c, bank_id, 0, fn, arg);
}
