/* device.c — the devices table: tablets bound to tellers (see device.h). */
#include "identity/device.h"

#include "foundation/clock.h"
#include "foundation/text.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "identity/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CONTEXT_MAX 48
#define ACTOR_MAX (4 + DEV_HEX_LEN + 1)

/* Sealed size of DS (32 bytes) after padding. */
#define DS_SEALED_MAX (KEK_OVERHEAD + DS_LEN + 16)

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

/* ---- binding ------------------------------------------------------------------ */

/* Who holds dev and in which status: ID_OK, ID_NOT_FOUND, a store status. */
struct holder_row {
    int64_t teller_id, bank_id;
    int status; /* enum device_status */
};

static int read_holder(struct store_conn *c, const char *dev, struct holder_row *h)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "SELECT teller_id, status, bank_id FROM devices WHERE dev = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, dev);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        h->teller_id = store_col_int64(s, 0);
        h->status = status_parse(store_col_text(s, 1));
        h->bank_id = store_col_int64(s, 2);
        rc = ID_OK;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (s)
        store_finish(s);
    return rc;
}

int device_find_holder(struct store_conn *c, const char *dev_hex, int64_t bank_id,
                       int64_t teller_id, struct device_holder *out)
{
    struct holder_row h;
    if (!c || !out || !device_valid_dev(dev_hex))
        return ID_BAD_INPUT;
    *out = (struct device_holder){.exists = false, .active_same = false};
    int rc = read_holder(c, dev_hex, &h);
    if (rc == ID_NOT_FOUND)
        return ID_OK;
    if (rc != ID_OK)
        return rc;
    bool active = h.status == DEVICE_ACTIVE, same = h.teller_id == teller_id;
    out->exists = true;
    out->active_same = active && same;
    /* Tenant isolation: one bank's activation never rewrites another bank's
     * device row, whatever its status. */
    return (active && !same) || h.bank_id != bank_id ? ID_CONFLICT : ID_OK;
}

bool device_binding_ok(const struct device_binding *b)
{
    return b && b->bank_id > 0 && b->teller_id > 0 && device_valid_dev(b->dev) &&
           valid_info(b->model) && valid_info(b->os) && valid_info(b->app) && valid_info(b->addr) &&
           org_valid_code(b->teller_code, TELLER_CODE_MAX);
}

/* Inserts the device row, or rebinds an existing one (same column order). */
static int write_device(struct store_conn *c, const struct device_binding *b, const uint8_t *sealed,
                        size_t sealed_len, int64_t now)
{
    struct store_stmt *s = NULL;
    const char *sql =
        b->rebind ? "UPDATE devices SET bank_id = ?, teller_id = ?, status = 'active', ds_enc = ?, "
                    "model = ?, os = ?, app = ?, last_seen = ?, last_addr = ?, activated_at = ?, "
                    "revoked_at = NULL WHERE dev = ?"
                  : "INSERT INTO devices (bank_id, teller_id, status, ds_enc, model, os, app, "
                    "last_seen, last_addr, activated_at, dev, first_seen) "
                    "VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, b->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, b->teller_id);
    if (rc == STORE_OK)
        rc = store_bind_blob(s, 3, sealed, sealed_len);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, b->model);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 5, b->os);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 6, b->app);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 8, b->addr);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 9, now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 10, b->dev);
    if (rc == STORE_OK && !b->rebind)
        rc = store_bind_int64(s, 11, now);
    rc = run(s, rc);
    if (rc == ID_OK) /* a new secret: cached device records go stale (store.h) */
        store_mark_changed(c, STORE_TAG_IDENTITY);
    return rc;
}

int device_bind(struct store_conn *c, const struct kek *k, const struct device_binding *b,
                uint8_t ds_out[DS_LEN])
{
    char ctx[CONTEXT_MAX], actor[ACTOR_MAX];
    uint8_t ds[DS_LEN], sealed[DS_SEALED_MAX];
    size_t sealed_len = 0;
    if (!c || !k || !ds_out || !device_binding_ok(b))
        return ID_BAD_INPUT;
    snprintf(ctx, sizeof ctx, "ds|%s", b->dev);
    snprintf(actor, sizeof actor, "dev:%s", b->dev);
    int rc = secmem_random(ds, sizeof ds) == 0 ? ID_OK : ID_ERR;
    if (rc == ID_OK)
        rc = kek_seal(k, ctx, ds, DS_LEN, sealed, sizeof sealed, &sealed_len);
    if (rc == ID_OK)
        rc = write_device(c, b, sealed, sealed_len, clock_wall_ms());
    if (rc == ID_OK)
        rc = audit_appendf(c, b->bank_id, actor, "device.activated", b->dev,
                           "{s:s, s:s, s:s, s:s, s:s, s:b}", "teller", b->teller_code, "model",
                           b->model, "os", b->os, "app", b->app, "addr", b->addr, "rebound",
                           b->rebind);
    if (rc == ID_OK)
        memcpy(ds_out, ds, DS_LEN);
    secmem_wipe(ds, sizeof ds);
    return rc;
}

int device_oldest_extra(struct store_conn *c, int64_t teller_id, const char *keep_dev, int allowed,
                        char out[DEV_HEX_LEN + 1])
{
    struct store_stmt *s = NULL;
    int64_t others = 0;
    if (!c || !out || !device_valid_dev(keep_dev))
        return ID_BAD_INPUT;
    int rc = store_prepare(c,
                           "SELECT dev, (SELECT COUNT(*) FROM devices WHERE teller_id = ? AND "
                           "status = 'active' AND dev <> ?) FROM devices WHERE teller_id = ? AND "
                           "status = 'active' AND dev <> ? ORDER BY activated_at, dev LIMIT 1",
                           &s);
    for (int i = 0; rc == STORE_OK && i < 4; i += 2) {
        rc = store_bind_int64(s, i + 1, teller_id);
        if (rc == STORE_OK)
            rc = store_bind_text(s, i + 2, keep_dev);
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

/* ---- retiring --------------------------------------------------------------------- */

int device_retire(struct store_conn *c, const struct device_retirement *r)
{
    struct store_stmt *s = NULL;
    struct device d;
    bool revoke = r && r->status == DEVICE_REVOKED;
    if (!c || !r || !r->actor || (!revoke && r->status != DEVICE_UNBOUND) || r->sessions_ended < 0)
        return ID_BAD_INPUT;
    int rc = device_get(c, r->dev, &d);
    if (rc != ID_OK)
        return rc;
    rc = store_prepare(c,
                       "UPDATE devices SET status = ?, ds_enc = NULL, revoked_at = ? "
                       "WHERE dev = ? AND status = 'active'",
                       &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, status_names[r->status]);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, clock_wall_ms());
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, r->dev);
    rc = run(s, rc);
    if (rc == ID_OK && store_changes(c) != 1)
        rc = ID_DISABLED;
    if (rc == ID_OK)
        store_mark_changed(c, STORE_TAG_IDENTITY);
    const char *event = revoke ? "device.revoked" : "device.unbound";
    if (rc == ID_OK && r->why)
        rc = audit_appendf(c, d.bank_id, r->actor, event, r->dev, "{s:s, s:s, s:I}", "reason",
                           r->why, "teller", d.teller_code, "sessions_ended",
                           (json_int_t)r->sessions_ended);
    else if (rc == ID_OK)
        rc = audit_appendf(c, d.bank_id, r->actor, event, r->dev, "{s:s, s:I}", "teller",
                           d.teller_code, "sessions_ended", (json_int_t)r->sessions_ended);
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

int device_check_bound(struct store_conn *c, const char *dev_hex, int64_t teller_id)
{
    struct holder_row h;
    if (!c || !device_valid_dev(dev_hex))
        return ID_BAD_INPUT;
    int rc = read_holder(c, dev_hex, &h);
    if (rc == ID_OK && h.status != DEVICE_ACTIVE)
        rc = ID_DISABLED;
    else if (rc == ID_OK && h.teller_id != teller_id)
        rc = ID_CONFLICT;
    return rc;
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
