/* admin_session.c — web-console sessions (see admin_session.h): a thin
 * wrapper of session_store.c for the table admin_sessions. */
#include "identity/admin_session.h"

#include "channel/sm.h"
#include "data/tenant.h"
#include "foundation/codec.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/session_store.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define TOKEN_BYTES 24
#define ACTOR_MAX (8 + TELLER_CODE_MAX + 1)
#define CSRF_LABEL "zhanye console csrf v1"

bool admin_role_allowed(int role)
{
    return role == ROLE_BRANCH_MANAGER || role == ROLE_BANK_ADMIN || role == ROLE_PROVINCE_ADMIN ||
           role == ROLE_VIDEO_AGENT;
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

static const struct session_kind KIND = {
    .table = "admin_sessions",
    .extra_col = "client_addr",
    .audit_extra = false,
    .ended_event = "admin.session_ended",
    .token_bytes = TOKEN_BYTES,
    .token_len = ADMIN_TOKEN_LEN,
    .encode = b64url,
};

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

int admin_session_create(struct store_conn *c, const struct teller *t, const char *addr, int idle_s,
                         int absolute_s, char token_out[ADMIN_TOKEN_LEN + 1])
{
    char token[ADMIN_TOKEN_LEN + 1], key[SESSION_KEY_HEX + 1], actor[ACTOR_MAX];
    if (!c || !t || !token_out || !addr || strnlen(addr, ADMIN_ADDR_MAX + 1) > ADMIN_ADDR_MAX ||
        !admin_role_allowed(t->role) || idle_s < 1 || idle_s > SESSION_MAX_S || absolute_s < 1 ||
        absolute_s > SESSION_MAX_S)
        return ID_BAD_INPUT;
    if (!t->active)
        return ID_DISABLED;
    int rc = sstore_new_token(&KIND, token, key);
    if (rc == ID_OK)
        rc = sstore_insert(c, &KIND,
                           &(struct sstore_new){.key = key,
                                                .bank_id = t->bank_id,
                                                .teller_id = t->id,
                                                .extra = addr,
                                                .idle_ms = idle_s * 1000LL,
                                                .absolute_ms = absolute_s * 1000LL});
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
    struct sstore_row st;
};

static int read_row(struct store_conn *c, const char *key, struct row *r)
{
    struct store_stmt *st = NULL;
    int rc = store_prepare(c,
                           "SELECT " SSTORE_ROW_COLUMNS
                           ", t.bank_id, COALESCE(t.branch_id, 0), s.teller_id, " TELLER_ROLE_COL
                           ", s.created_at, t.code, t.name, b.code, COALESCE(br.code, '') "
                           "FROM admin_sessions s JOIN tellers t ON t.id = s.teller_id "
                           "JOIN banks b ON b.id = t.bank_id " TELLER_ROLE_JOIN
                           "LEFT JOIN branches br ON br.id = t.branch_id WHERE s.sid = ?",
                           &st);
    if (rc == STORE_OK)
        rc = store_bind_text(st, 1, key);
    if (rc == STORE_OK)
        rc = store_step(st);
    if (rc == STORE_ROW) {
        struct admin_session *s = &r->s;
        int n = SSTORE_ROW_NCOLS;
        s->bank_id = store_col_int64(st, n);
        s->branch_id = store_col_int64(st, n + 1);
        s->teller_id = store_col_int64(st, n + 2);
        s->role = role_parse(store_col_text(st, n + 3));
        s->created_at = store_col_int64(st, n + 4);
        bool ok = sstore_read_row(st, &r->st) == ID_OK &&
                  id_copy(s->teller_code, sizeof s->teller_code, store_col_text(st, n + 5)) &&
                  id_copy(s->teller_name, sizeof s->teller_name, store_col_text(st, n + 6)) &&
                  id_copy(s->bank_code, sizeof s->bank_code, store_col_text(st, n + 7)) &&
                  id_copy(s->branch_code, sizeof s->branch_code, store_col_text(st, n + 8));
        s->last_seen = r->st.last_seen;
        s->idle_ms = r->st.idle_ms;
        s->expires_at = r->st.expires_at;
        memcpy(s->end_reason, r->st.end_reason, sizeof s->end_reason);
        r->st.refusal = admin_role_allowed(s->role) ? NULL : "role_revoked";
        rc = ok ? ID_OK : ID_CORRUPT;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    if (st)
        store_finish(st);
    return rc;
}

static int refused(struct admin_session *out, const char *reason, int status)
{
    return sstore_refuse(out, sizeof *out, out->end_reason, reason, status);
}

int admin_session_check(struct store_conn *c, const char *token, struct admin_session *out)
{
    char key[SESSION_KEY_HEX + 1];
    struct row r = {0};
    if (!c || !out)
        return ID_BAD_INPUT;
    if (!admin_token_valid(token))
        return refused(out, "unknown", ID_INVALID);
    int rc = sstore_key(&KIND, token, key);
    if (rc == ID_OK)
        rc = read_row(c, key, &r);
    if (rc == ID_NOT_FOUND)
        return refused(out, "unknown", ID_INVALID);
    if (rc != ID_OK)
        return rc;
    rc = sstore_judge(c, &KIND, key, &r.st);
    if (rc == ID_INVALID || rc == ID_EXPIRED)
        return refused(out, r.st.end_reason, rc);
    if (rc == ID_OK) {
        r.s.last_seen = r.st.last_seen;
        *out = r.s;
    }
    return rc;
}

int admin_session_end(struct store_conn *c, const char *token, const char *reason)
{
    char key[SESSION_KEY_HEX + 1], actor[ACTOR_MAX];
    struct row r = {0};
    if (!c || !admin_token_valid(token) || !sstore_valid_reason(reason))
        return ID_BAD_INPUT;
    int rc = sstore_key(&KIND, token, key);
    if (rc == ID_OK)
        rc = read_row(c, key, &r);
    snprintf(actor, sizeof actor, "teller:%s", r.s.teller_code);
    if (rc == ID_OK)
        rc = sstore_end_audited(
            c, &KIND, key, reason, actor,
            &(struct sstore_who){.bank_id = r.s.bank_id, .teller_code = r.s.teller_code});
    return rc;
}

int admin_session_end_teller(struct store_conn *c, int64_t teller_id, const char *reason,
                             int64_t *ended)
{
    if (!c || teller_id <= 0 || !sstore_valid_reason(reason))
        return ID_BAD_INPUT;
    return sstore_end_teller(c, &KIND, teller_id, reason, "system", ended);
}
