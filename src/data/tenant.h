/* tenant — the bank-scoped door to the database that business code uses.
 *
 * Every business row carries the id of its bank (法人行社), and tenant
 * isolation is enforced here, not left to each query: business code gets a
 * `struct tenant_conn` (a store connection plus the caller's `struct scope`)
 * and never a store_conn, so it cannot run a statement without a bank scope.
 *
 * The rule tenant_prepare() checks on the SQL text (tokens, so whitespace
 * and letter case do not matter; the text is refused with STORE_ERR and a
 * message in tenant_errmsg() otherwise):
 *   SELECT, UPDATE, DELETE  the top-level WHERE clause starts with
 *                           `bank_id = ?` (or `alias.bank_id = ?`) and has no
 *                           top-level OR (write `AND (a OR b)`), so every row
 *                           it touches is of the scope's bank; an UPDATE may
 *                           not SET bank_id.
 *   INSERT                  `INSERT INTO t (bank_id, …) VALUES (?, …)`, one row.
 *   every table             each table the statement names (after FROM,
 *                           JOIN, UPDATE, a comma in FROM, in every
 *                           subquery, derived table and VALUES subquery) has
 *                           its own `<alias>.bank_id = ?` (`bank_id = ?` where
 *                           its SELECT names one table) as a conjunct of the
 *                           WHERE or ON of its own SELECT: right after WHERE,
 *                           ON or AND, ending at AND, a clause or the end;
 *                           no OR at that level of a WHERE or ON. Joining on
 *                           `t.bank_id = n.bank_id` is not enough.
 *                           Parenthesised joins and table-valued functions
 *                           are refused. At most 16 tables.
 *   always                  one statement; no comments, quoted identifiers,
 *                           named or numbered parameters, UNION/INTERSECT/
 *                           EXCEPT; other statements (WITH, DDL) are refused.
 * tenant_prepare() binds every one of those `bank_id` placeholders to the
 * scope's bank itself and refuses to let them be rebound. The caller binds
 * every other placeholder at its position in the text: with the bank
 * first, as in SELECT, DELETE and INSERT of one table, that means from 2; in
 * an UPDATE the SET values come first (1..k) and the WHERE parameters after
 * the bank's (k+2...); with several tables, around each table's own.
 *
 * Province administrators read across banks only through the separately
 * named tenant_prepare_province(): SELECT only, refused for any other role.
 *
 * The handler owns the transaction (a store_run on the store_conn it
 * wrapped); tenant code has no way to commit half a request. */
#ifndef ZHANYE_TENANT_H
#define ZHANYE_TENANT_H

#include "data/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum role {
    ROLE_NONE = 0,
    ROLE_CLIENT_MANAGER = 1, /* client_manager: a field officer, works customers */
    ROLE_BRANCH_MANAGER = 2, /* branch_manager: one branch's officers and data */
    ROLE_BANK_ADMIN = 3,     /* bank_admin: one bank (法人行社) */
    ROLE_PROVINCE_ADMIN = 4, /* province_admin: the province union (省联社), all banks */
    /* video_agent: a back-office agent of one bank who answers remote video
     * calls (business/video_call.h) in the console and does nothing else
     * there. Not a rank above the others: compare ranks with role_rank.
     * Stored as a client_manager teller with a row in video_agents
     * (migration 24), since the tellers table's CHECK names the first four. */
    ROLE_VIDEO_AGENT = 5,
};

/* "client_manager", ... ; NULL for an unknown role. */
const char *role_name(int role);
/* The role named s, or ROLE_NONE. */
int role_parse(const char *s);
/* How much a role may manage: client_manager and video_agent 1, then
 * branch_manager 2, bank_admin 3, province_admin 4; 0 for ROLE_NONE. */
int role_rank(int role);

struct scope {
    int64_t bank_id;   /* > 0: the bank every statement is confined to */
    int64_t branch_id; /* 0 = the whole bank */
    int64_t teller_id; /* who acts (0 for the platform itself, e.g. a batch job) */
    int role;          /* enum role */
};

struct tenant_conn;
struct tenant_stmt;

/* Wraps c (which stays owned by the caller and must outlive the tenant_conn)
 * with a copy of scope. STORE_ERR if the scope is malformed (bank_id <= 0,
 * negative ids, unknown role), STORE_NOMEM. */
int tenant_open(struct store_conn *c, const struct scope *scope, struct tenant_conn **out);
/* The same, READ-ONLY: tenant_prepare refuses every statement but a SELECT
 * (STORE_ERR, the reason in tenant_errmsg) and tenant_audit_conn answers
 * NULL, so nothing can be written through it, not even an audit record. For
 * the pipeline's prepare phase (channel/tx.h), which runs outside any
 * transaction and must only read. */
int tenant_open_readonly(struct store_conn *c, const struct scope *scope, struct tenant_conn **out);
void tenant_close(struct tenant_conn *tc);
const struct scope *tenant_scope(const struct tenant_conn *tc);

/* Checks sql against the rule above and binds the bank placeholder (on a
 * read-only scope, also that it is a SELECT). */
int tenant_prepare(struct tenant_conn *tc, const char *sql, struct tenant_stmt **out);
/* Cross-bank read for province administrators: SELECT only, nothing bound. */
int tenant_prepare_province(struct tenant_conn *tc, const char *sql, struct tenant_stmt **out);

/* As store_bind_*; binding the bank placeholder is refused with STORE_ERR. */
int tenant_bind_text(struct tenant_stmt *s, int idx, const char *v);
int tenant_bind_int64(struct tenant_stmt *s, int idx, int64_t v);
int tenant_bind_blob(struct tenant_stmt *s, int idx, const void *v, size_t n);
int tenant_bind_null(struct tenant_stmt *s, int idx);
int tenant_step(struct tenant_stmt *s); /* STORE_ROW, STORE_DONE or an error */
const char *tenant_col_text(struct tenant_stmt *s, int col);
int64_t tenant_col_int64(struct tenant_stmt *s, int col);
const void *tenant_col_blob(struct tenant_stmt *s, int col, size_t *len);
bool tenant_col_is_null(struct tenant_stmt *s, int col);
/* Returns the statement to the connection's cache and frees the wrapper. */
void tenant_finish(struct tenant_stmt *s);

int64_t tenant_last_insert_id(struct tenant_conn *tc);
int64_t tenant_changes(struct tenant_conn *tc);
/* Why the last tenant_* call on tc failed: the rule it broke, or the store's message. */
const char *tenant_errmsg(struct tenant_conn *tc);

/* FOR THE AUDIT LAYER ONLY (identity/audit.h, audit_tenant): the connection
 * under the scope, so that a business transaction's audit record is written
 * in the same database transaction as its work. Nothing else may call it:
 * business code would leave the scope with it (src/business/ is scanned
 * for store types and calls, tests/unit/identity/test_tenant.c). NULL for
 * a read-only scope. */
struct store_conn *tenant_audit_conn(struct tenant_conn *tc);

#endif
