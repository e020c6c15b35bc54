/* session_store.c — the shared storage of tablet and console sessions
 * (see session_store.h). The table and column names come from the two
 * constant kinds of session.c and admin_session.c, never from input. */
#include "identity/session_store.h"

#include "channel/sm.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/teller.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TOUCH_MAX_MS 15000
#define SQL_MAX 384
#define END_BATCH 16

/* The SQL of a kind from a format with two %s: the table, then a column. */
static bool sql_of(char out[SQL_MAX], const char *fmt, const char *table, const char *col)
{
    int n = snprintf(out, SQL_MAX, fmt, table, col);
    return n > 0 && n < SQL_MAX;
}

int sstore_key(const struct session_kind *k, const char *token, char key[SESSION_KEY_HEX + 1])
{
    uint8_t h[SM3_LEN];
    sm_part p = {.p = token, .n = k->token_len};
    if (sm3_digest(&p, 1, h) != SM_OK)
        return ID_ERR;
    hex_encode(h, sizeof h, key, SESSION_KEY_HEX + 1);
    return ID_OK;
}

int sstore_new_token(const struct session_kind *k, char *token_out, char key[SESSION_KEY_HEX + 1])
{
    uint8_t raw[SESSION_TOKEN_MAX];
    if (k->token_bytes > sizeof raw || k->token_len > SESSION_TOKEN_MAX)
        return ID_BAD_INPUT;
    int rc = secmem_random(raw, k->token_bytes) == 0 ? ID_OK : ID_ERR;
    if (rc == ID_OK)
        rc = k->encode(raw, k->token_bytes, token_out, k->token_len);
    secmem_wipe(raw, sizeof raw);
    return rc == ID_OK ? sstore_key(k, token_out, key) : rc;
}

bool sstore_valid_reason(const char *r)
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

bool sstore_expired_reason(const char *r)
{
    return strcmp(r, "idle_timeout") == 0 || strcmp(r, "absolute_timeout") == 0;
}

int sstore_insert(struct store_conn *c, const struct session_kind *k, const struct sstore_new *n)
{
    char sql[SQL_MAX];
    struct store_stmt *s = NULL;
    int64_t now = clock_wall_ms();
    if (!sql_of(sql,
                "INSERT INTO %s (sid, bank_id, teller_id, %s, created_at, last_seen, idle_ms, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                k->table, k->extra_col))
        return ID_BAD_INPUT;
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, n->key);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, n->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, n->teller_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, n->extra);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 5, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 6, now);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 7, n->idle_ms);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 8, now + n->absolute_ms);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    return rc == STORE_DONE ? ID_OK : rc;
}

/* ---- ending ------------------------------------------------------------------ */

/* UPDATE <table> SET ended_at, end_reason WHERE <col> = value AND live. */
static int end_where(struct store_conn *c, const struct session_kind *k, const char *col,
                     const char *value, const char *reason, int64_t *ended)
{
    char sql[SQL_MAX];
    struct store_stmt *s = NULL;
    if (!sql_of(sql, "UPDATE %s SET ended_at = ?, end_reason = ? WHERE %s = ? AND ended_at IS NULL",
                k->table, col))
        return ID_BAD_INPUT;
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, clock_wall_ms());
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, reason);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 3, value);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    if (rc != STORE_DONE)
        return rc;
    int64_t n = store_changes(c);
    if (n > 0) /* cached sessions of this process go stale (store.h) */
        store_mark_changed(c, STORE_TAG_IDENTITY);
    if (ended)
        *ended = n;
    return ID_OK;
}

int sstore_end_key(struct store_conn *c, const struct session_kind *k, const char *key,
                   const char *reason, int64_t *ended)
{
    return end_where(c, k, "sid", key, reason, ended);
}

int sstore_end_extra(struct store_conn *c, const struct session_kind *k, const char *value,
                     const char *reason, int64_t *ended)
{
    return end_where(c, k, k->extra_col, value, reason, ended);
}

static int audit_end(struct store_conn *c, const struct session_kind *k, const char *actor,
                     const struct sstore_who *who, const char *reason)
{
    if (k->audit_extra)
        return audit_appendf(c, who->bank_id, actor, k->ended_event, who->teller_code, "{s:s, s:s}",
                             k->extra_col, who->extra, "reason", reason);
    return audit_appendf(c, who->bank_id, actor, k->ended_event, who->teller_code, "{s:s}",
                         "reason", reason);
}

int sstore_end_audited(struct store_conn *c, const struct session_kind *k, const char *key,
                       const char *reason, const char *actor, const struct sstore_who *who)
{
    int64_t ended = 0;
    int rc = sstore_end_key(c, k, key, reason, &ended);
    if (rc == ID_OK && ended == 0)
        rc = ID_NOT_FOUND;
    if (rc == ID_OK)
        rc = audit_end(c, k, actor, who, reason);
    return rc;
}

/* One live session of a teller, as read before it is ended. */
struct live {
    char key[SESSION_KEY_HEX + 1];
    int64_t bank_id;
    char code[TELLER_CODE_MAX + 1];
    char extra[SESSION_EXTRA_MAX + 1];
};

/* The teller's oldest live sessions but the one keyed keep_key ("" or a
 * key: no key is empty), at most END_BATCH, into batch[*n]. */
static int read_live(struct store_conn *c, const struct session_kind *k, int64_t teller_id,
                     const char *keep_key, struct live *batch, int *n)
{
    char sql[SQL_MAX];
    struct store_stmt *s = NULL;
    *n = 0;
    int len = snprintf(sql, sizeof sql,
                       "SELECT s.sid, s.bank_id, t.code, COALESCE(s.%s, '') FROM %s s "
                       "JOIN tellers t ON t.id = s.teller_id WHERE s.teller_id = ? AND "
                       "s.ended_at IS NULL AND s.sid <> ? ORDER BY s.created_at, s.sid LIMIT %d",
                       k->extra_col, k->table, END_BATCH);
    if (len <= 0 || len >= (int)sizeof sql)
        return ID_BAD_INPUT;
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, teller_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, keep_key);
    while (rc == STORE_OK && *n < END_BATCH && (rc = store_step(s)) == STORE_ROW) {
        struct live *l = &batch[*n];
        l->bank_id = store_col_int64(s, 1);
        bool ok = id_copy(l->key, sizeof l->key, store_col_text(s, 0)) &&
                  id_copy(l->code, sizeof l->code, store_col_text(s, 2)) &&
                  id_copy(l->extra, sizeof l->extra, store_col_text(s, 3));
        rc = ok ? STORE_OK : ID_CORRUPT;
        *n += ok;
    }
    if (s)
        store_finish(s);
    return rc == STORE_OK || rc == STORE_DONE ? ID_OK : rc;
}

int sstore_end_teller(struct store_conn *c, const struct session_kind *k, int64_t teller_id,
                      const char *reason, const char *actor, int64_t *ended)
{
    return sstore_end_teller_except(c, k, teller_id, NULL, reason, actor, ended);
}

int sstore_end_teller_except(struct store_conn *c, const struct session_kind *k, int64_t teller_id,
                             const char *keep_key, const char *reason, const char *actor,
                             int64_t *ended)
{
    struct live batch[END_BATCH];
    int64_t total = 0;
    int rc = ID_OK, n = END_BATCH, progress = 1;
    /* Batches, so that no statement is stepping over the rows being ended;
     * every batch ends what it read, so this terminates. */
    while (rc == ID_OK && n == END_BATCH && progress) {
        rc = read_live(c, k, teller_id, keep_key ? keep_key : "", batch, &n);
        progress = 0;
        for (int i = 0; rc == ID_OK && i < n; i++) {
            int64_t one = 0;
            rc = sstore_end_key(c, k, batch[i].key, reason, &one);
            struct sstore_who who = {
                .bank_id = batch[i].bank_id, .teller_code = batch[i].code, .extra = batch[i].extra};
            if (rc == ID_OK && one)
                rc = audit_end(c, k, actor, &who, reason);
            total += one;
            progress += (int)one;
        }
    }
    if (ended)
        *ended = rc == ID_OK ? total : 0;
    return rc;
}

/* ---- checking ---------------------------------------------------------------- */

int64_t sstore_touch_every(int64_t idle_ms)
{
    return idle_ms / 10 < TOUCH_MAX_MS ? idle_ms / 10 : TOUCH_MAX_MS;
}

/* Writes last_seen when it is older than the touch interval. */
static int touch(struct store_conn *c, const struct session_kind *k, const char *key,
                 struct sstore_row *r, int64_t now)
{
    char sql[SQL_MAX];
    struct store_stmt *s = NULL;
    if (now - r->last_seen < sstore_touch_every(r->idle_ms))
        return ID_OK;
    if (!sql_of(sql, "UPDATE %s SET last_seen = ? WHERE %s = ? AND ended_at IS NULL", k->table,
                "sid"))
        return ID_BAD_INPUT;
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, now);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, key);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (s)
        store_finish(s);
    if (rc == STORE_DONE)
        r->last_seen = now;
    return rc == STORE_DONE ? ID_OK : rc;
}

int sstore_read_row(struct store_stmt *st, struct sstore_row *r)
{
    r->last_seen = store_col_int64(st, 0);
    r->idle_ms = store_col_int64(st, 1);
    r->expires_at = store_col_int64(st, 2);
    r->ended = !store_col_is_null(st, 3);
    const char *status = store_col_text(st, 5);
    r->teller_active = status && strcmp(status, "active") == 0;
    r->refusal = NULL;
    return id_copy(r->end_reason, sizeof r->end_reason, store_col_text(st, 4)) ? ID_OK : ID_CORRUPT;
}

int sstore_judge(struct store_conn *c, const struct session_kind *k, const char *key,
                 struct sstore_row *r)
{
    if (r->ended)
        return sstore_expired_reason(r->end_reason) ? ID_EXPIRED : ID_INVALID;
    const char *why = NULL;
    int status = ID_INVALID;
    int64_t now = clock_wall_ms();
    if (!r->teller_active)
        why = "teller_disabled";
    else if (r->refusal)
        why = r->refusal;
    else if (now >= r->expires_at)
        why = "absolute_timeout";
    else if (now >= r->last_seen + r->idle_ms)
        why = "idle_timeout";
    if (!why)
        return touch(c, k, key, r, now);
    if (sstore_expired_reason(why))
        status = ID_EXPIRED;
    int rc = sstore_end_key(c, k, key, why, NULL);
    id_copy(r->end_reason, sizeof r->end_reason, why);
    return rc == ID_OK ? status : rc;
}

int sstore_refuse(void *out, size_t size, char *reason_field, const char *reason, int status)
{
    memset(out, 0, size);
    id_copy(reason_field, SESSION_REASON_MAX + 1, reason);
    return status;
}
