/* session — login sessions, kept in the database so every node sees them.
 *
 * A session token is 32 random bytes as 64 lowercase hex characters. The
 * table keeps only hex(SM3(token)) as its key, never the token: a copy of
 * the database does not let anyone ride a live session.
 *
 * Single sign-on: session_create ends every other unended session of the
 * teller with reason "signed_in_elsewhere", and audits each one it ends
 * ("session.ended", detail {dev, reason}). A session expires when idle for
 * idle_s (activity is written at most every min(15 s, idle/10), so it may
 * end up to that much early) or absolute_s after creation, whatever the
 * activity; session_check then ends it ("idle_timeout",
 * "absolute_timeout") and answers ID_EXPIRED. End reasons a client may see:
 * signed_in_elsewhere, logged_out, device_revoked, device_unbound, device_locked,
 * device_reactivated, teller_disabled, password_reset, password_changed
 * (the teller's other sessions, when a tablet changed the password),
 * unknown (no such session, or a token presented from another device).
 *
 * The storage is session_store.h's, shared with the console's sessions.
 * session_create, session_end, session_end_teller and
 * session_end_teller_except write in the caller's transaction (with their
 * audit records) and never begin or commit one, so they compose into a
 * larger transaction; session_check and session_end_device work inside or
 * outside one. */
#ifndef ZHANYE_SESSION_H
#define ZHANYE_SESSION_H

#include "data/store.h"
#include "identity/identity.h"
#include "identity/session_store.h"
#include "identity/teller.h"

#include <stdint.h>

#define SESSION_TOKEN_LEN 64

struct session {
    int64_t bank_id;
    int64_t branch_id; /* the teller's; 0: none */
    int64_t teller_id;
    int role; /* enum role: with the ids above, the request's struct scope */
    int64_t created_at;
    int64_t last_seen;
    int64_t idle_ms;
    int64_t expires_at; /* absolute end */
    char teller_code[TELLER_CODE_MAX + 1];
    /* The teller as SESSION_INFO shows it, read with the session (so that a
     * cached session answers it without the database): none of these
     * changes in a teller's life (a future write that changes one must call
     * store_mark_changed(STORE_TAG_IDENTITY), as a status change does). */
    char teller_name[TELLER_NAME_MAX + 1];
    char bank_code[ORG_CODE_MAX + 1];
    char branch_code[ORG_CODE_MAX + 1]; /* "" without a branch */
    int shown_role;                     /* enum role, video_agent for a video agent */
    char dev[33];
    char end_reason[SESSION_REASON_MAX + 1]; /* why, for ID_INVALID and ID_EXPIRED */
};

/* A new session of teller t on dev, which must be active and bound to t:
 * ID_NOT_FOUND (no such device), ID_DISABLED (revoked, unbound, or the teller
 * is disabled), ID_CONFLICT (bound to another teller), ID_BAD_INPUT. */
int session_create(struct store_conn *c, const struct teller *t, const char *dev, int idle_s,
                   int absolute_s, char sid_out[SESSION_TOKEN_LEN + 1]);
/* ID_OK (out filled, activity recorded), ID_INVALID or ID_EXPIRED (out->
 * end_reason says why; the other fields are zero). */
int session_check(struct store_conn *c, const char *sid, const char *dev, struct session *out);
/* True while s (as session_check last filled it) is live at now_ms and owes
 * no activity write: a cached copy may stand in for session_check. */
bool session_fresh(const struct session *s, int64_t now_ms);
/* Ends the session (e.g. reason "logged_out"): ID_OK, or ID_NOT_FOUND if
 * it is unknown or already ended. reason: [a-z_]{1,32}. */
int session_end(struct store_conn *c, const char *sid, const char *reason);
/* Ends every unended session of dev; *ended (may be NULL) gets how many.
 * No audit record of its own: the caller's record counts them. */
int session_end_device(struct store_conn *c, const char *dev, const char *reason, int64_t *ended);
/* Ends every unended session of the teller (e.g. reason "password_reset"),
 * one audit record each ("session.ended", actor "system", detail {dev,
 * reason}); *ended (may be NULL) gets how many. ID_OK (also when there was
 * none), ID_BAD_INPUT. Runs in the caller's transaction. */
int session_end_teller(struct store_conn *c, int64_t teller_id, const char *reason, int64_t *ended);
/* session_end_teller, but the session whose token is keep_sid (the one
 * making the request, e.g. a PASSWORD_CHANGE) stays live; a keep_sid of
 * another teller, ended or unknown keeps nothing. ID_BAD_INPUT also for a
 * malformed keep_sid. Runs in the caller's transaction. */
int session_end_teller_except(struct store_conn *c, int64_t teller_id, const char *keep_sid,
                              const char *reason, int64_t *ended);

#endif
