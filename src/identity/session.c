/* session.c — database-backed sessions with single sign-on (see session.h). */
#include "identity/session.h"

#include "channel/sm.h"
#include "foundation/clock.h"
#include "foundation/text.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/device.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_BYTES 32
#define KEY_HEX 64
#define TOUCH_MAX_MS 15000

/* Table key of a token: hex(SM3(token text)). */
static int token_key(const char *sid, char key[KEY_HEX + 1])
{
    uint8_t h[SM3_LEN];
    sm_part p = {sid, SESSION_TOKEN_LEN};
    if (sm3_digest(&p, 1, h) != SM_OK)
        return ID_ERR;
    hex_encode(h, sizeof h, key, KEY_HEX + 1);
    return ID_OK;
}

static bool valid_token(const char *sid)
{
    return sid && strnlen(sid, SESSION_TOKEN_LEN + 1) == SESSION_TOKEN_LEN &&
           is_lower_hex(sid, SESSION_TOKEN_LEN);
}

static bool valid_reason(const char *r)
{
    if (!r)
        return false;
    size_t n = strnlen(r, SESSION_REASON_MAX + 1);
    if (n == 0 || n > SESSION_REASON_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((r[i] >= 'a' && r[i] <= 'z') || r[i] == '_'))
            return false;
    return true;
}

/* ---- ending --------------------------------------------------------------- */

/* UPDATE ... SET ended_at, end_reason WHERE <col> = ? AND ended_at IS NULL. */
static int end_where(struct store_conn *c, const char *sql, const char *reason, const char *key,
                     int64_t id, int64_t *ended)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, clock_wall_ms());
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, reason);
    if (rc == STORE_OK)
        rc = key ? store_bind_text(s, 3, key) : store_bind_int64(s, 3, id);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    if (rc != STORE_DONE)
        return rc;
    if (ended)
        *ended = store_changes(c);
    return ID_OK;
}

static int end_by_key(struct store_conn *c, const char *key, const char *reason, int64_t *ended)
{
    return end_where(c,
                     "UPDATE sessions SET ended_at = ?, end_reason = ? "
                     "WHERE sid = ? AND ended_at IS NULL",
                     reason, key, 0, ended);
}

int session_end_device(struct store_conn *c, const char *dev, const char *reason, int64_t *ended)
{
    if (!c || !device_valid_dev(dev) || !valid_reason(reason))
        return ID_BAD_INPUT;
    return end_where(c,
                     "UPDATE sessions SET ended_at = ?, end_reason = ? "
                     "WHERE dev = ? AND ended_at IS NULL",
                     reason, dev, 0, ended);
}

/* ---- creating -------------------------------------------------------------- */

static int insert_session(struct store_conn *c, const struct teller *t, const char *dev,
                          const char *key, int64_t idle_ms, int64_t absolute_ms)
{
    struct store_stmt *s = NULL;
    int64_t now = clock_wall_ms();
    int rc = store_prepare(c,
                           "INSERT INTO sessions (sid, bank_id, teller_id, dev, created_at, "
                           "last_seen, idle_ms, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, key);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, t->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, t->id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, dev);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 6, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, idle_ms);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 8, now + absolute_ms);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

/* A fresh token and its table key. */
static int new_token(char sid[SESSION_TOKEN_LEN + 1], char key[KEY_HEX + 1])
{
    uint8_t raw[TOKEN_BYTES];
    int rc = secmem_random(raw, sizeof raw) == 0 ? ID_OK : ID_ERR;
    if (rc == ID_OK)
        hex_encode(raw, sizeof raw, sid, SESSION_TOKEN_LEN + 1);
    secmem_wipe(raw, sizeof raw);
    return rc == ID_OK ? token_key(sid, key) : rc;
}

/* The devices of the teller's live sessions (at most SSO_AUDIT_MAX), read
 * before they are ended so that each kick gets its own audit record. */
#define SSO_AUDIT_MAX 16

struct kicked {
    int n;
    char dev[SSO_AUDIT_MAX][DEV_HEX_LEN + 1];
};

static int live_devices(struct store_conn *c, int64_t teller_id, struct kicked *k)
{
    struct store_stmt *s = NULL;
    k->n = 0;
    int rc = store_prepare(c,
                           "SELECT dev FROM sessions WHERE teller_id = ? AND ended_at IS NULL "
                           "ORDER BY created_at",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, teller_id);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        /* Beyond the cap a kick is counted in ended_others only. */
        if (k->n < SSO_AUDIT_MAX && id_copy(k->dev[k->n], sizeof k->dev[0], store_col_text(s, 0)))
            k->n++;
        rc = STORE_OK;
    }
    if (s)
        store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

/* Single sign-on: ends the teller's other sessions, one audit record each. */
static int kick_others(struct store_conn *c, const struct teller *t, const char *actor,
                       int64_t *ended)
{
    struct kicked k;
    int rc = live_devices(c, t->id, &k);
    if (rc == ID_OK)
        rc = end_where(c,
                       "UPDATE sessions SET ended_at = ?, end_reason = ? "
                       "WHERE teller_id = ? AND ended_at IS NULL",
                       "signed_in_elsewhere", NULL, t->id, ended);
    for (int i = 0; rc == ID_OK && i < k.n; i++)
        rc = audit_appendf(c, t->bank_id, actor, "session.ended", t->code, "{s:s, s:s}", "dev",
                           k.dev[i], "reason", "signed_in_elsewhere");
    return rc;
}

int session_create(struct store_conn *c, const struct teller *t, const char *dev, int idle_s,
                   int absolute_s, char sid_out[SESSION_TOKEN_LEN + 1])
{
    char sid[SESSION_TOKEN_LEN + 1], key[KEY_HEX + 1], actor[8 + TELLER_CODE_MAX + 1];
    int64_t ended = 0;
    if (!c || !t || !sid_out || !device_valid_dev(dev) || idle_s < 1 || idle_s > SESSION_MAX_S ||
        absolute_s < 1 || absolute_s > SESSION_MAX_S)
        return ID_BAD_INPUT;
    if (!t->active)
        return ID_DISABLED;
    snprintf(actor, sizeof actor, "teller:%s", t->code);
    int rc = device_check_bound(c, dev, t->id);
    if (rc == ID_OK)
        rc = kick_others(c, t, actor, &ended);
    if (rc == ID_OK)
        rc = new_token(sid, key);
    if (rc == ID_OK)
        rc = insert_session(c, t, dev, key, idle_s * 1000LL, absolute_s * 1000LL);
    if (rc == ID_OK)
        rc = audit_appendf(c, t->bank_id, actor, "session.created", t->code, "{s:s, s:I}", "dev",
                           dev, "ended_others", (json_int_t)ended);
    if (rc == ID_OK)
        memcpy(sid_out, sid, sizeof sid);
    secmem_wipe(sid, sizeof sid);
    return rc;
}

/* ---- checking --------------------------------------------------------------- */

struct row {
    struct session s;
    bool ended;
    bool teller_active;
};

static int read_row(struct store_conn *c, const char *key, struct row *r)
{
    struct store_stmt *st = NULL;
    int rc = store_prepare(
        c,
        "SELECT s.bank_id, s.teller_id, s.dev, s.created_at, s.last_seen, s.idle_ms, "
        "s.expires_at, s.ended_at, COALESCE(s.end_reason, ''), t.code, t.role, "
        "COALESCE(t.branch_id, 0), t.status FROM sessions s JOIN tellers t ON t.id = s.teller_id "
        "WHERE s.sid = ?",
        &st);
    if (rc == STORE_OK)
        rc = store_bind_text(st, 1, key);
    if (rc == STORE_OK)
        rc = store_step(st);
    if (rc == STORE_ROW) {
        struct session *s = &r->s;
        s->bank_id = store_col_int64(st, 0);
        s->teller_id = store_col_int64(st, 1);
        s->created_at = store_col_int64(st, 3);
        s->last_seen = store_col_int64(st, 4);
        s->idle_ms = store_col_int64(st, 5);
        s->expires_at = store_col_int64(st, 6);
        r->ended = !store_col_is_null(st, 7);
        s->role = role_parse(store_col_text(st, 10));
        s->branch_id = store_col_int64(st, 11);
        const char *status = store_col_text(st, 12);
        r->teller_active = status && strcmp(status, "active") == 0;
        bool ok = id_copy(s->dev, sizeof s->dev, store_col_text(st, 2)) &&
                  id_copy(s->end_reason, sizeof s->end_reason, store_col_text(st, 8)) &&
                  id_copy(s->teller_code, sizeof s->teller_code, store_col_text(st, 9));
        rc = ok ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (st)
        store_finish(st);
    return rc;
}

/* Ends a live session found stale or unusable; returns status for the caller. */
static int end_now(struct store_conn *c, const char *key, const char *reason, int status,
                   struct session *out)
{
    int rc = end_by_key(c, key, reason, NULL);
    memset(out, 0, sizeof *out);
    id_copy(out->end_reason, sizeof out->end_reason, reason);
    return rc == ID_OK ? status : rc;
}

static int refused(struct session *out, const char *reason, int status)
{
    memset(out, 0, sizeof *out);
    id_copy(out->end_reason, sizeof out->end_reason, reason);
    return status;
}

/* Writes last_seen when it is older than the touch interval. */
static int touch(struct store_conn *c, const char *key, struct session *s, int64_t now)
{
    int64_t every = s->idle_ms / 10 < TOUCH_MAX_MS ? s->idle_ms / 10 : TOUCH_MAX_MS;
    if (now - s->last_seen < every)
        return ID_OK;
    struct store_stmt *st = NULL;
    int rc = store_prepare(
        c, "UPDATE sessions SET last_seen = ? WHERE sid = ? AND ended_at IS NULL", &st);
    if (rc == STORE_OK)
        rc = store_bind_int64(st, 1, now);
    if (rc == STORE_OK)
        rc = store_bind_text(st, 2, key);
    if (rc == STORE_OK)
        rc = store_step(st);
    if (st)
        store_finish(st);
    if (rc == STORE_DONE)
        s->last_seen = now;
    return rc == STORE_DONE ? ID_OK : rc;
}

static bool expired_reason(const char *r)
{
    return strcmp(r, "idle_timeout") == 0 || strcmp(r, "absolute_timeout") == 0;
}

int session_check(struct store_conn *c, const char *sid, const char *dev, struct session *out)
{
    char key[KEY_HEX + 1];
    struct row r = {0};
    if (!c || !out)
        return ID_BAD_INPUT;
    if (!valid_token(sid) || !device_valid_dev(dev))
        return refused(out, "unknown", ID_INVALID);
    int rc = token_key(sid, key);
    if (rc == ID_OK)
        rc = read_row(c, key, &r);
    if (rc == ID_NOT_FOUND)
        return refused(out, "unknown", ID_INVALID);
    if (rc != ID_OK)
        return rc;
    if (strcmp(r.s.dev, dev) != 0) {
        log_warn("session.wrong_device", "a session token of teller %s came from device %s",
                 r.s.teller_code, dev);
        return refused(out, "unknown", ID_INVALID);
    }
    if (r.ended)
        return refused(out, r.s.end_reason,
                       expired_reason(r.s.end_reason) ? ID_EXPIRED : ID_INVALID);
    if (!r.teller_active)
        return end_now(c, key, "teller_disabled", ID_INVALID, out);
    int64_t now = clock_wall_ms();
    if (now >= r.s.expires_at)
        return end_now(c, key, "absolute_timeout", ID_EXPIRED, out);
    if (now >= r.s.last_seen + r.s.idle_ms)
        return end_now(c, key, "idle_timeout", ID_EXPIRED, out);
    rc = touch(c, key, &r.s, now);
    if (rc == ID_OK)
        *out = r.s;
    return rc;
}

int session_end(struct store_conn *c, const char *sid, const char *reason)
{
    char key[KEY_HEX + 1], actor[8 + TELLER_CODE_MAX + 1];
    struct row r = {0};
    int64_t ended = 0;
    if (!c || !valid_token(sid) || !valid_reason(reason))
        return ID_BAD_INPUT;
    int rc = token_key(sid, key);
    if (rc == ID_OK)
        rc = read_row(c, key, &r);
    if (rc == ID_OK)
        rc = end_by_key(c, key, reason, &ended);
    if (rc == ID_OK && ended == 0)
        rc = ID_NOT_FOUND;
    snprintf(actor, sizeof actor, "teller:%s", r.s.teller_code);
    if (rc == ID_OK)
        rc = audit_appendf(c, r.s.bank_id, actor, "session.ended", r.s.teller_code, "{s:s, s:s}",
                           "dev", r.s.dev, "reason", reason);
    return rc;
}
