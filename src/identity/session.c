/* session.c — tablet sessions with single sign-on (see session.h): a thin
 * wrapper of session_store.c for the table sessions. */
#include "identity/session.h"

#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "foundation/text.h"
#include "identity/audit.h"
#include "identity/device.h"
#include "identity/session_store.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define ACTOR_MAX (8 + TELLER_CODE_MAX + 1)

static int hex_token(const uint8_t *raw, size_t n, char *out, size_t len)
{
    return hex_encode(raw, n, out, len + 1) == (long)len ? ID_OK : ID_ERR;
}

static const struct session_kind KIND = {
    .table = "sessions",
    .extra_col = "dev",
    .audit_extra = true,
    .ended_event = "session.ended",
    .token_bytes = SESSION_TOKEN_LEN / 2,
    .token_len = SESSION_TOKEN_LEN,
    .encode = hex_token,
};

static bool valid_token(const char *sid)
{
    return sid && strnlen(sid, SESSION_TOKEN_LEN + 1) == SESSION_TOKEN_LEN &&
           is_lower_hex(sid, SESSION_TOKEN_LEN);
}

int session_end_device(struct store_conn *c, const char *dev, const char *reason, int64_t *ended)
{
    if (!c || !device_valid_dev(dev) || !sstore_valid_reason(reason))
        return ID_BAD_INPUT;
    return sstore_end_extra(c, &KIND, dev, reason, ended);
}

int session_end_teller(struct store_conn *c, int64_t teller_id, const char *reason, int64_t *ended)
{
    if (!c || teller_id <= 0 || !sstore_valid_reason(reason))
        return ID_BAD_INPUT;
    return sstore_end_teller(c, &KIND, teller_id, reason, "system", ended);
}

int session_end_teller_except(struct store_conn *c, int64_t teller_id, const char *keep_sid,
                              const char *reason, int64_t *ended)
{
    char key[SESSION_KEY_HEX + 1];
    if (ended)
        *ended = 0;
    if (!c || teller_id <= 0 || !valid_token(keep_sid) || !sstore_valid_reason(reason))
        return ID_BAD_INPUT;
    int rc = sstore_key(&KIND, keep_sid, key);
    if (rc == ID_OK)
        rc = sstore_end_teller_except(c, &KIND, teller_id, key, reason, "system", ended);
    secmem_wipe(key, sizeof key);
    return rc;
}

int session_create(struct store_conn *c, const struct teller *t, const char *dev, int idle_s,
                   int absolute_s, char sid_out[SESSION_TOKEN_LEN + 1])
{
    char sid[SESSION_TOKEN_LEN + 1], key[SESSION_KEY_HEX + 1], actor[ACTOR_MAX];
    int64_t ended = 0;
    if (!c || !t || !sid_out || !device_valid_dev(dev) || idle_s < 1 || idle_s > SESSION_MAX_S ||
        absolute_s < 1 || absolute_s > SESSION_MAX_S)
        return ID_BAD_INPUT;
    if (!t->active)
        return ID_DISABLED;
    snprintf(actor, sizeof actor, "teller:%s", t->code);
    int rc = device_check_bound(c, dev, t->id);
    /* Single sign-on: the teller's other sessions end, one audit record each. */
    if (rc == ID_OK)
        rc = sstore_end_teller(c, &KIND, t->id, "signed_in_elsewhere", actor, &ended);
    if (rc == ID_OK)
        rc = sstore_new_token(&KIND, sid, key);
    if (rc == ID_OK)
        rc = sstore_insert(c, &KIND,
                           &(struct sstore_new){.key = key,
                                                .bank_id = t->bank_id,
                                                .teller_id = t->id,
                                                .extra = dev,
                                                .idle_ms = idle_s * 1000LL,
                                                .absolute_ms = absolute_s * 1000LL});
    if (rc == ID_OK)
        rc = audit_appendf(c, t->bank_id, actor, "session.created", t->code, "{s:s, s:I}", "dev",
                           dev, "ended_others", (json_int_t)ended);
    if (rc == ID_OK)
        memcpy(sid_out, sid, sizeof sid);
    secmem_wipe(sid, sizeof sid);
    return rc;
}

struct row {
    struct session s;
    struct sstore_row st;
};

static int read_row(struct store_conn *c, const char *key, struct row *r)
{
    struct store_stmt *st = NULL;
    int rc = store_prepare(
        c,
        "SELECT " SSTORE_ROW_COLUMNS ", s.bank_id, s.teller_id, s.dev, s.created_at, t.code, "
        "t.role, COALESCE(t.branch_id, 0), t.name, b.code, COALESCE(br.code, ''), " TELLER_ROLE_COL
        " FROM sessions s JOIN tellers t ON t.id = s.teller_id JOIN banks b ON b.id = "
        "t.bank_id " TELLER_ROLE_JOIN
        "LEFT JOIN branches br ON br.id = t.branch_id WHERE s.sid = ?",
        &st);
    if (rc == STORE_OK)
        rc = store_bind_text(st, 1, key);
    if (rc == STORE_OK)
        rc = store_step(st);
    if (rc == STORE_ROW) {
        struct session *s = &r->s;
        int n = SSTORE_ROW_NCOLS;
        s->bank_id = store_col_int64(st, n);
        s->teller_id = store_col_int64(st, n + 1);
        s->created_at = store_col_int64(st, n + 3);
        s->role = role_parse(store_col_text(st, n + 5));
        s->branch_id = store_col_int64(st, n + 6);
        s->shown_role = role_parse(store_col_text(st, n + 10));
        bool ok = sstore_read_row(st, &r->st) == ID_OK &&
                  id_copy(s->dev, sizeof s->dev, store_col_text(st, n + 2)) &&
                  id_copy(s->teller_code, sizeof s->teller_code, store_col_text(st, n + 4)) &&
                  id_copy(s->teller_name, sizeof s->teller_name, store_col_text(st, n + 7)) &&
                  id_copy(s->bank_code, sizeof s->bank_code, store_col_text(st, n + 8)) &&
                  id_copy(s->branch_code, sizeof s->branch_code, store_col_text(st, n + 9));
        s->last_seen = r->st.last_seen;
        s->idle_ms = r->st.idle_ms;
        s->expires_at = r->st.expires_at;
        memcpy(s->end_reason, r->st.end_reason, sizeof s->end_reason);
        rc = ok ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (st)
        store_finish(st);
    return rc;
}

static int refused(struct session *out, const char *reason, int status)
{
    return sstore_refuse(out, sizeof *out, out->end_reason, reason, status);
}

bool session_fresh(const struct session *s, int64_t now_ms)
{
    return now_ms < s->expires_at && now_ms < s->last_seen + s->idle_ms &&
           now_ms - s->last_seen < sstore_touch_every(s->idle_ms);
}

int session_check(struct store_conn *c, const char *sid, const char *dev, struct session *out)
{
    char key[SESSION_KEY_HEX + 1];
    struct row r = {0};
    if (!c || !out)
        return ID_BAD_INPUT;
    if (!valid_token(sid) || !device_valid_dev(dev))
        return refused(out, "unknown", ID_INVALID);
    int rc = sstore_key(&KIND, sid, key);
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
    rc = sstore_judge(c, &KIND, key, &r.st);
    if (rc == ID_INVALID || rc == ID_EXPIRED)
        return refused(out, r.st.end_reason, rc);
    if (rc == ID_OK) {
        r.s.last_seen = r.st.last_seen;
        *out = r.s;
    }
    return rc;
}

int session_end(struct store_conn *c, const char *sid, const char *reason)
{
    char key[SESSION_KEY_HEX + 1], actor[ACTOR_MAX];
    struct row r = {0};
    if (!c || !valid_token(sid) || !sstore_valid_reason(reason))
        return ID_BAD_INPUT;
    int rc = sstore_key(&KIND, sid, key);
    if (rc == ID_OK)
        rc = read_row(c, key, &r);
    snprintf(actor, sizeof actor, "teller:%s", r.s.teller_code);
    if (rc == ID_OK)
        rc = sstore_end_audited(c, &KIND, key, reason, actor,
                                &(struct sstore_who){.bank_id = r.s.bank_id,
                                                     .teller_code = r.s.teller_code,
                                                     .extra = r.s.dev});
    return rc;
}
