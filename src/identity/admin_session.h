/* admin_session — sessions of the web console (管理台), apart from the
 * tablets' sessions (session.h).
 *
 * Only branch managers, bank admins, province admins and video agents
 * (confined to the video endpoints by http/admin.c) may hold one
 * (admin_role_allowed). A token is 24 random bytes as 32 base64url
 * characters: short enough that the whole Set-Cookie line fits the HTTP
 * layer's header buffer, 192 bits all the same. The table keeps only
 * hex(SM3(token)); a copy of the database rides no session.
 *
 * The CSRF token is derived, not stored: the first 32 base64url characters
 * of HMAC-SM3(key = session token, "zhanye console csrf v1"). Whoever holds
 * the cookie can have it recomputed (GET /me), nobody else can, and a page
 * of another site can read neither.
 *
 * A console session ends on logout, after idle_s without a request or
 * absolute_s after login, and as soon as its teller is disabled or no
 * longer holds a console role. There is no single sign-on here: an
 * administrator may keep a console open on two desks.
 *
 * The storage is session_store.h's, shared with the tablets' sessions.
 * admin_session_create, admin_session_end and admin_session_end_teller
 * write in the caller's transaction with their audit records (identity.h)
 * and never begin or commit one, so they compose into a larger
 * transaction; admin_session_check works inside or outside one. */
#ifndef ZHANYE_ADMIN_SESSION_H
#define ZHANYE_ADMIN_SESSION_H

#include "data/store.h"
#include "identity/identity.h"
#include "identity/org.h"
#include "identity/session.h"
#include "identity/teller.h"

#include <stdbool.h>
#include <stdint.h>

#define ADMIN_TOKEN_LEN 32
#define ADMIN_CSRF_LEN 32
#define ADMIN_ADDR_MAX 64

struct admin_session {
    int64_t bank_id;
    int64_t branch_id; /* 0: none */
    int64_t teller_id;
    int role; /* enum role (data/tenant.h), read live from the teller */
    int64_t created_at;
    int64_t last_seen;
    int64_t expires_at; /* absolute end */
    int64_t idle_ms;
    char teller_code[TELLER_CODE_MAX + 1];
    char teller_name[TELLER_NAME_MAX + 1];
    char bank_code[ORG_CODE_MAX + 1];
    char branch_code[ORG_CODE_MAX + 1];
    char end_reason[SESSION_REASON_MAX + 1]; /* why, for ID_INVALID and ID_EXPIRED */
};

/* True for the roles that may use the console. */
bool admin_role_allowed(int role);
/* True for exactly ADMIN_TOKEN_LEN characters of [A-Za-z0-9_-]. */
bool admin_token_valid(const char *token);

/* A new console session for t (verified by the caller). ID_DISABLED if t
 * is disabled, ID_BAD_INPUT for a role without console access or bad
 * limits. addr: the client address, for the audit record. */
int admin_session_create(struct store_conn *c, const struct teller *t, const char *addr, int idle_s,
                         int absolute_s, char token_out[ADMIN_TOKEN_LEN + 1]);
/* ID_OK (out filled, activity recorded), ID_INVALID or ID_EXPIRED with
 * out->end_reason saying why ("unknown", "logged_out", "idle_timeout",
 * "absolute_timeout", "teller_disabled", "role_revoked", "password_reset",
 * "password_changed"). */
int admin_session_check(struct store_conn *c, const char *token, struct admin_session *out);
/* Ends it with reason ([a-z_]{1,32}); ID_NOT_FOUND if unknown or ended. */
int admin_session_end(struct store_conn *c, const char *token, const char *reason);
/* Ends every live console session of the teller (e.g. reason
 * "password_reset"), one audit record each ("admin.session_ended", actor
 * "system", detail {reason}); *ended (may be NULL) gets how many. ID_OK
 * (also when there was none), ID_BAD_INPUT. Caller's transaction. */
int admin_session_end_teller(struct store_conn *c, int64_t teller_id, const char *reason,
                             int64_t *ended);
/* The CSRF token of a session token. */
int admin_csrf(const char *token, char out[ADMIN_CSRF_LEN + 1]);

#endif
