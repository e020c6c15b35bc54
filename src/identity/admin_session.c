/* admin_session.c — web-console sessions (see admin_session.h). */
#include "identity/admin_session.h"

#include "channel/sm.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/secmem.h"
#include "identity/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_BYTES 24
#define KEY_HEX 64
#define TOUCH_MAX_MS 15000
#define ACTOR_MAX (8 + TELLER_CODE_MAX + 1)
#define CSRF_LABEL "zhanye console csrf v1"

bool admin_role_allowed(int role)
{
    return role == ROLE_BRANCH_MANAGER || role == ROLE_BANK_ADMIN || role == ROLE_PROVINCE_ADMIN;
}

static bool b64url_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

bool admin_token_valid(const char *token)
{
    if (!token || strnlen(token, ADMIN_TOKEN_LEN + 1) != ADMIN_TOKEN_LEN)
        return false;
    for (int i = 0; i < ADMIN_TOKEN_LEN; i++)
        if (!b64url_char(token[i]))
            return false;
    return true;
}

/* The first len characters of base64url(in): cookie- and header-safe. */
static int b64url(const uint8_t *in, size_t n, char *out, size_t len)
{
    char text[64];
    long m = b64_encode(in, n, text, sizeof text);
    int rc = m >= (long)len ? ID_OK : ID_ERR;
    for (size_t i = 0; rc == ID_OK && i < len; i++)
        out[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
    out[rc == ID_OK ? len : 0] = '\0';
    secmem_wipe(text, sizeof text);
    return rc;
}

/* Table key of a token: hex(SM3(token)). */
static int token_key(const char *token, char key[KEY_HEX + 1])
{
    uint8_t h[SM3_LEN];
    sm_part p = {token, ADMIN_TOKEN_LEN};
    if (sm3_digest(&p, 1, h) != SM_OK)
        return ID_ERR;
    hex_encode(h, sizeof h, key, KEY_HEX + 1);
    return ID_OK;
}

int admin_csrf(const char *token, char out[ADMIN_CSRF_LEN + 1])
{
    uint8_t mac[SM3_LEN];
    sm_part p = {CSRF_LABEL, sizeof CSRF_LABEL - 1};
    out[0] = '\0';
    if (!admin_token_valid(token))
        return ID_BAD_INPUT;
    int rc = sm_hmac((const uint8_t *)token, ADMIN_TOKEN_LEN, &p, 1, mac) == SM_OK ? ID_OK : ID_ERR;
    if (rc == ID_OK)
        rc = b64url(mac, sizeof mac, out, ADMIN_CSRF_LEN);
    secmem_wipe(mac, sizeof mac);
    return rc;
}

/* ---- creating --------------------------------------------------------------- */

static int insert(struct store_conn *c, const struct teller *t, const char *key, const char *addr,
                  int64_t idle_ms, int64_t absolute_ms)
{
    struct store_stmt *s = NULL;
    int64_t now = clock_wall_ms();
    int rc = store_prepare(c,
                           "INSERT INTO admin_sessions (sid, bank_id, teller_id, client_addr, "
                           "created_at, last_seen, idle_ms, expires_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, key);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, t->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, t->id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, addr);
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

static int new_token(char token[ADMIN_TOKEN_LEN + 1], char key[KEY_HEX + 1])
{
    uint8_t raw[TOKEN_BYTES];
    int rc = secmem_random(raw, sizeof raw) == 0 ? ID_OK : ID_ERR;
    if (rc == ID_OK)
        rc = b64url(raw, sizeof raw, token, ADMIN_TOKEN_LEN);
    secmem_wipe(raw, sizeof raw);
    return rc == ID_OK ? token_key(token, key) : rc;
}

int admin_session_create(struct store_conn *c, const struct teller *t, const char *addr, int idle_s,
                         int absolute_s, char token_out[ADMIN_TOKEN_LEN + 1])
{
    char token[ADMIN_TOKEN_LEN + 1], key[KEY_HEX + 1], actor[ACTOR_MAX];
    if (!c || !t || !token_out || !addr || strnlen(addr, ADMIN_ADDR_MAX + 1) > ADMIN_ADDR_MAX ||
        !admin_role_allowed(t->role) || idle_s < 1 || idle_s > SESSION_MAX_S || absolute_s < 1 ||
        absolute_s > SESSION_MAX_S)
        return ID_BAD_INPUT;
    if (!t->active)
        return ID_DISABLED;
    int rc = new_token(token, key);
    if (rc == ID_OK)
        rc = insert(c, t, key, addr, idle_s * 1000LL, absolute_s * 1000LL);
    snprintf(actor, sizeof actor, "teller:%s", t->code);
    if (rc == ID_OK)
        rc = audit_appendf(c, t->bank_id, actor, "admin.session_created", t->code, "{s:s, s:s}",
                           "addr", addr, "role", role_name(t->role));
    if (rc == ID_OK)
        memcpy(token_out, token, sizeof token);
    secmem_wipe(token, sizeof token);
    return rc;
}

/* ---- checking ---------------------------------------------------------------- */

struct row {
    struct admin_session s;
    bool ended;
    bool teller_active;
};

static int read_row(struct store_conn *c, const char *key, struct row *r)
{
    struct store_stmt *st = NULL;
    int rc = store_prepare(
        c,
        "SELECT t.bank_id, COALESCE(t.branch_id, 0), s.teller_id, t.role, s.created_at, "
        "s.last_seen, s.expires_at, s.idle_ms, s.ended_at, COALESCE(s.end_reason, ''), t.code, "
        "t.name, b.code, COALESCE(br.code, ''), t.status FROM admin_sessions s "
        "JOIN tellers t ON t.id = s.teller_id JOIN banks b ON b.id = t.bank_id "
        "LEFT JOIN branches br ON br.id = t.branch_id WHERE s.sid = ?",
        &st);
    if (rc == STORE_OK)
        rc = store_bind_text(st, 1, key);
    if (rc == STORE_OK)
        rc = store_step(st);
    if (rc == STORE_ROW) {
        struct admin_session *s = &r->s;
        s->bank_id = store_col_int64(st, 0);
        s->branch_id = store_col_int64(st, 1);
        s->teller_id = store_col_int64(st, 2);
        s->role = role_parse(store_col_text(st, 3));
        s->created_at = store_col_int64(st, 4);
        s->last_seen = store_col_int64(st, 5);
        s->expires_at = store_col_int64(st, 6);
        s->idle_ms = store_col_int64(st, 7);
        r->ended = !store_col_is_null(st, 8);
        const char *status = store_col_text(st, 14);
        r->teller_active = status && strcmp(status, "active") == 0;
        bool ok = id_copy(s->end_reason, sizeof s->end_reason, store_col_text(st, 9)) &&
                  id_copy(s->teller_code, sizeof s->teller_code, store_col_text(st, 10)) &&
                  id_copy(s->teller_name, sizeof s->teller_name, store_col_text(st, 11)) &&
                  id_copy(s->bank_code, sizeof s->bank_code, store_col_text(st, 12)) &&
                  id_copy(s->branch_code, sizeof s->branch_code, store_col_text(st, 13));
        rc = ok ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (st)
        store_finish(st);
    return rc;
}

/* Ends the session with that key if it is live; *ended gets 0 or 1. */
static int end_by_key(struct store_conn *c, const char *key, const char *reason, int64_t *ended)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "UPDATE admin_sessions SET ended_at = ?, end_reason = ? "
                           "WHERE sid = ? AND ended_at IS NULL",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, clock_wall_ms());
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, reason);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, key);
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

static int refused(struct admin_session *out, const char *reason, int status)
{
    memset(out, 0, sizeof *out);
    id_copy(out->end_reason, sizeof out->end_reason, reason);
    return status;
}

/* Ends a live session found stale or unusable, and says why. */
static int end_now(struct store_conn *c, const char *key, const char *reason, int status,
                   struct admin_session *out)
{
    int rc = end_by_key(c, key, reason, NULL);
    return rc == ID_OK ? refused(out, reason, status) : rc;
}

static int touch(struct store_conn *c, const char *key, struct admin_session *s, int64_t now)
{
    int64_t every = s->idle_ms / 10 < TOUCH_MAX_MS ? s->idle_ms / 10 : TOUCH_MAX_MS;
    if (now - s->last_seen < every)
        return ID_OK;
    struct store_stmt *st = NULL;
    int rc = store_prepare(
        c, "UPDATE admin_sessions SET last_seen = ? WHERE sid = ? AND ended_at IS NULL", &st);
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

int admin_session_check(struct store_conn *c, const char *token, struct admin_session *out)
{
    char key[KEY_HEX + 1];
    struct row r = {0};
    if (!c || !out)
        return ID_BAD_INPUT;
    if (!admin_token_valid(token))
        return refused(out, "unknown", ID_INVALID);
    int rc = token_key(token, key);
    if (rc == ID_OK)
        rc = read_row(c, key, &r);
    if (rc == ID_NOT_FOUND)
        return refused(out, "unknown", ID_INVALID);
    if (rc != ID_OK)
        return rc;
    if (r.ended)
        return refused(out, r.s.end_reason,
                       expired_reason(r.s.end_reason) ? ID_EXPIRED : ID_INVALID);
    if (!r.teller_active)
        return end_now(c, key, "teller_disabled", ID_INVALID, out);
    if (!admin_role_allowed(r.s.role))
        return end_now(c, key, "role_revoked", ID_INVALID, out);
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

int admin_session_end(struct store_conn *c, const char *token, const char *reason)
{
    char key[KEY_HEX + 1], actor[ACTOR_MAX];
    struct row r = {0};
    int64_t ended = 0;
    if (!c || !admin_token_valid(token) || !valid_reason(reason))
        return ID_BAD_INPUT;
    int rc = token_key(token, key);
    if (rc == ID_OK)
        rc = read_row(c, key, &r);
    if (rc == ID_OK)
        rc = end_by_key(c, key, reason, &ended);
    if (rc == ID_OK && ended == 0)
        rc = ID_NOT_FOUND;
    snprintf(actor, sizeof actor, "teller:%s", r.s.teller_code);
    if (rc == ID_OK)
        rc = audit_appendf(c, r.s.bank_id, actor, "admin.session_ended", r.s.teller_code, "{s:s}",
                           "reason", reason);
    return rc;
}
