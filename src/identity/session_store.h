/* session_store — the storage that both kinds of login session share: the
 * tablets' sessions (session.h, table sessions) and the console's
 * (admin_session.h, table admin_sessions). One generic implementation,
 * parameterised by a struct session_kind that names the table, the token's
 * shape and the audit event; session.c and admin_session.c are thin
 * wrappers that add what differs (single sign-on and the device check for
 * tablets, roles and CSRF for the console).
 *
 * Both tables have the columns sid (the key), bank_id, teller_id, one text
 * column of their own (kind->extra_col: dev, client_addr), created_at,
 * last_seen, idle_ms, expires_at, ended_at, end_reason. The key of a token
 * is hex(SM3(token)): the table never holds a token.
 *
 * Every function runs inside or outside the caller's transaction on c and
 * never begins, commits or rolls back one, so each may be part of a larger
 * transaction (store_run). Returns ID_OK, the outcomes listed, or a
 * negative store status; ID_BAD_INPUT for malformed arguments. */
#ifndef ZHANYE_SESSION_STORE_H
#define ZHANYE_SESSION_STORE_H

#include "data/store.h"
#include "identity/identity.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_REASON_MAX 32
#define SESSION_MAX_S (7 * 24 * 3600) /* bound on idle_s and absolute_s */
#define SESSION_KEY_HEX 64
#define SESSION_EXTRA_MAX 64 /* bytes of the kind's own text column */
#define SESSION_TOKEN_MAX 64 /* characters of the longest token */

struct session_kind {
    const char *table;       /* "sessions", "admin_sessions" */
    const char *extra_col;   /* its own text column: "dev", "client_addr" */
    bool audit_extra;        /* an end's audit detail names it ({dev, reason}) */
    const char *ended_event; /* audit event of an end: "session.ended", ... */
    size_t token_bytes;      /* random bytes behind a token */
    size_t token_len;        /* characters of a token (<= SESSION_TOKEN_MAX) */
    /* Writes the token text of raw[n] (exactly token_len characters and a
     * NUL) into out[token_len + 1]; ID_OK or ID_ERR. */
    int (*encode)(const uint8_t *raw, size_t n, char *out, size_t token_len);
};

/* Table key of a token (token_len characters). */
int sstore_key(const struct session_kind *k, const char *token, char key[SESSION_KEY_HEX + 1]);
/* A fresh random token (token_out[token_len + 1]) and its key. */
int sstore_new_token(const struct session_kind *k, char *token_out, char key[SESSION_KEY_HEX + 1]);
/* [a-z_]{1,SESSION_REASON_MAX}. */
bool sstore_valid_reason(const char *reason);
/* "idle_timeout" or "absolute_timeout": an end that answers ID_EXPIRED. */
bool sstore_expired_reason(const char *reason);

/* A new row. */
struct sstore_new {
    const char *key;
    int64_t bank_id;
    int64_t teller_id;
    const char *extra; /* the value of kind->extra_col */
    int64_t idle_ms;
    int64_t absolute_ms;
};
int sstore_insert(struct store_conn *c, const struct session_kind *k, const struct sstore_new *n);

/* Ends the live session with that key; *ended (may be NULL) gets 0 or 1.
 * No audit record (the callers audit). */
int sstore_end_key(struct store_conn *c, const struct session_kind *k, const char *key,
                   const char *reason, int64_t *ended);
/* Ends every live session whose extra_col is value; *ended gets how many.
 * No audit record (the caller's own record counts them). */
int sstore_end_extra(struct store_conn *c, const struct session_kind *k, const char *value,
                     const char *reason, int64_t *ended);
/* Ends every live session of the teller, one audit record each
 * (kind->ended_event, target the teller's code, actor as given); *ended
 * (may be NULL) gets how many. */
int sstore_end_teller(struct store_conn *c, const struct session_kind *k, int64_t teller_id,
                      const char *reason, const char *actor, int64_t *ended);
/* The same, but the session keyed keep_key (NULL: none) stays live. */
int sstore_end_teller_except(struct store_conn *c, const struct session_kind *k, int64_t teller_id,
                             const char *keep_key, const char *reason, const char *actor,
                             int64_t *ended);

/* Whose session a key is, for the audit record of its end. */
struct sstore_who {
    int64_t bank_id;
    const char *teller_code;
    const char *extra; /* the value of extra_col (audited if kind->audit_extra) */
};
/* Ends the session with that key and audits it: ID_OK, or ID_NOT_FOUND if
 * it was not live (nothing written). */
int sstore_end_audited(struct store_conn *c, const struct session_kind *k, const char *key,
                       const char *reason, const char *actor, const struct sstore_who *who);

/* What the checks need of a row the wrapper read. */
struct sstore_row {
    bool ended;          /* ended_at is set */
    bool teller_active;  /* the teller's status is active */
    const char *refusal; /* NULL, or why the wrapper refuses it (e.g. "role_revoked") */
    int64_t last_seen;   /* updated when the activity is recorded */
    int64_t idle_ms;
    int64_t expires_at;
    char end_reason[SESSION_REASON_MAX + 1]; /* stored reason; set on a refusal */
};
/* The first columns of a wrapper's SELECT (sessions as s, tellers as t),
 * read by sstore_read_row; the wrapper's own columns follow from index
 * SSTORE_ROW_NCOLS. */
#define SSTORE_ROW_COLUMNS                                                                         \
    "s.last_seen, s.idle_ms, s.expires_at, s.ended_at, COALESCE(s.end_reason, ''), t.status"
#define SSTORE_ROW_NCOLS 6
/* Fills r (refusal NULL) from those columns of the current row: ID_OK, or
 * ID_CORRUPT if the stored reason does not fit. */
int sstore_read_row(struct store_stmt *st, struct sstore_row *r);
/* The rules of a session check, in order: an ended session answers with
 * its stored reason (ID_EXPIRED for a timeout, else ID_INVALID); a live
 * one is ended now with "teller_disabled", r->refusal (ID_INVALID),
 * "absolute_timeout" or "idle_timeout" (ID_EXPIRED) and r->end_reason set;
 * otherwise ID_OK, its activity recorded when older than min(15 s, idle/10). */
/* How often a live session's last_seen is written: min(idle/10, 15 s). */
int64_t sstore_touch_every(int64_t idle_ms);
int sstore_judge(struct store_conn *c, const struct session_kind *k, const char *key,
                 struct sstore_row *r);
/* Clears the caller's out (size bytes), writes reason into its end_reason
 * field (reason_field, inside out, SESSION_REASON_MAX + 1 bytes) and
 * returns status: the answer of a refused check. */
int sstore_refuse(void *out, size_t size, char *reason_field, const char *reason, int status);

#endif
