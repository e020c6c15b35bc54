/* admin — what the management API's handlers (h_admin_*.c) share: the
 * console session from its cookie, CSRF and Origin checks, JSON input, the
 * role and bank scope of the administrator, and the mapping of identity
 * statuses to HTTP answers. See docs/api.md for the rules.
 *
 * A handler opens a request with admin_open(), which answers the request
 * itself (401/403/415/400/503) and returns false when the caller may not go
 * on; otherwise the handler does its work and calls admin_close() on every
 * path. A write is one store_run transaction (admin_run) with its audit
 * records, the actor being "teller:<the administrator>".
 *
 * Scope: a province admin sees every bank; a bank admin their bank; a
 * branch manager their branch of their bank. An id outside the scope is
 * answered 404 not_found exactly like an id that does not exist, never 403,
 * so the console never confirms that another bank has it. */
#ifndef ZHANYE_HTTP_ADMIN_H
#define ZHANYE_HTTP_ADMIN_H

#include "channel/tx.h"
#include "http/server.h"
#include "identity/admin_session.h"
#include "identity/device.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_COOKIE "zs"
#define ADMIN_ACTOR_MAX (8 + TELLER_CODE_MAX + 1)

enum admin_access {
    ADMIN_READ,  /* GET: a live session */
    ADMIN_WRITE, /* POST: also JSON Content-Type, X-CSRF-Token, a JSON object body */
    /* POST of a file (an HTTP_BODY_FILE route, server.h): X-CSRF-Token and
     * Content-Type application/octet-stream; the body is the spooled file,
     * the fields are ignored and ar->in stays NULL. */
    ADMIN_UPLOAD,
};

struct admin_req {
    struct app *app;
    struct http_request *req;
    struct http_response *resp;
    struct store_conn *conn;
    struct admin_session who;
    char actor[ADMIN_ACTOR_MAX];
    char token[ADMIN_TOKEN_LEN + 1]; /* the cookie's session token; wiped by admin_close */
    json_t *in;                      /* ADMIN_WRITE: the body, validated; else NULL */
};

/* ---- requests ---------------------------------------------------------------- */

/* Checks Origin, the session, and for writes the CSRF token, Content-Type
 * and body against fields (n of them; unknown members are refused). false:
 * the answer is set and ar released. */
bool admin_open(struct http_request *req, struct http_response *resp, enum admin_access acc,
                const struct tx_field *fields, size_t n, struct admin_req *ar);
/* admin_open for a read of the reports (performance, today, customers):
 * also refuses (403 forbidden) any role but branch_manager, bank_admin and
 * province_admin. false: the answer is set and ar released. */
bool admin_open_report(struct http_request *req, struct http_response *resp, struct admin_req *ar);
/* Wipes secrets, releases the connection. */
void admin_close(struct admin_req *ar);

/* The pieces of admin_open, for login (which has no session yet). Each
 * answers the request itself when it returns false. */
bool admin_origin_ok(struct http_request *req, struct http_response *resp);
/* Content-Type application/json and a JSON object body (empty: {}) that
 * fits the fields; *out owns the parsed body. */
bool admin_json_in(struct http_request *req, struct http_response *resp,
                   const struct tx_field *fields, size_t n, json_t **out);
/* The session token from the Cookie header into out; false if absent or malformed. */
bool admin_cookie_token(const struct http_request *req, char out[ADMIN_TOKEN_LEN + 1]);
/* The value of a query-string argument, or NULL. */
const char *admin_query(const struct http_request *req, const char *name);

/* A string member of the body, or NULL when absent. */
const char *admin_str(const struct admin_req *ar, const char *key);
/* Overwrites a secret member of the parsed body, and the raw request body
 * it came from, before both are freed: a password must not linger in the heap. */
void admin_wipe_secret(struct http_request *req, json_t *body, const char *key);

/* ---- scope ------------------------------------------------------------------- */

/* The administrator may see this bank / this branch of that bank (branch 0:
 * a row without a branch, visible to bank-wide roles only). */
bool admin_sees_bank(const struct admin_req *ar, int64_t bank_id);
bool admin_sees_branch(const struct admin_req *ar, int64_t bank_id, int64_t branch_id);
/* May change this teller (found with admin_find_teller, so visible), their
 * devices and tickets: of a lower role (a province admin may change anyone)
 * and not oneself. false with the answer (403 forbidden) set. */
bool admin_may_manage(struct admin_req *ar, const struct teller *t);
/* May give a new teller this role: a lower one (a province admin any). */
bool admin_may_grant(const struct admin_req *ar, int role);

/* The bank a list is narrowed to: ?bank=CODE (ID_NOT_FOUND outside the
 * scope), else the administrator's own (0 for a province admin: all). */
int admin_list_bank(struct admin_req *ar, int64_t *bank_id);
/* The branch a list is narrowed to: a branch manager's own, else 0. */
int64_t admin_list_branch(const struct admin_req *ar);

/* Lookups within the scope: ID_NOT_FOUND also for what exists outside it. */
int admin_find_bank(struct admin_req *ar, const char *code, struct bank *out);
int admin_find_branch(struct admin_req *ar, int64_t bank_id, const char *code, struct branch *out);
int admin_find_teller(struct admin_req *ar, const char *code, struct teller *out);
int admin_find_device(struct admin_req *ar, const char *dev, struct device *out);

/* ---- lists ------------------------------------------------------------------- */

/* The rows of one GET list, filled by the row callbacks that
 * org_list_banks, teller_list, device_list_branch ... call. */
struct admin_rows {
    struct admin_req *ar;
    json_t *list;
};
/* Appends row (taking it; NULL: a row outside the scope, skipped). 0: go on. */
int admin_rows_add(struct admin_rows *r, json_t *row);

/* What one list endpoint is. */
struct admin_list {
    const char *key;  /* the answer's array member: "banks", "tellers", ... */
    const char *what; /* for the log: "list tellers" */
    bool by_bank;     /* narrowed to ?bank=CODE (admin_list_bank) and admin_list_branch */
    /* Feeds the rows of bank_id / branch_id (0: all; both 0 unless by_bank)
     * into r; an identity status. */
    int (*fetch)(struct admin_rows *r, int64_t bank_id, int64_t branch_id);
};
/* A whole GET list handler: admin_open (ADMIN_READ), the narrowing, fetch,
 * then 200 {key: [rows]} or admin_fail, and admin_close. */
void admin_list(struct http_request *req, struct http_response *resp, const struct admin_list *l);

/* ---- writes and answers ------------------------------------------------------ */

/* A handler's own answer to a failed write, for the statuses it words
 * itself (it calls admin_fail for the others). */
typedef void (*admin_refuse_fn)(struct admin_req *ar, int rc);
/* The write: store_run(ar->conn, what, fn, arg) (data/store.h states the
 * callback's contract: it runs on ar->conn, may run more than once, answers
 * nothing). true after the commit, the caller then answers from what fn left
 * in arg; false when it failed, answered with refuse(ar, rc), or with
 * admin_fail(ar, rc, what) when refuse is NULL (a busy database after the
 * retries: 503 unavailable). */
bool admin_run(struct admin_req *ar, const char *what, store_txn_fn fn, void *arg,
               admin_refuse_fn refuse);
/* Answers a failed identity status with its code (foundation/errcode.h):
 * ID_NOT_FOUND not_found, ID_EXISTS exists, ID_CONFLICT conflict,
 * ID_DISABLED not_active, ID_BAD_INPUT bad_request, STORE_BUSY unavailable,
 * anything else internal (logged with what). */
void admin_fail(struct admin_req *ar, int rc, const char *what);
/* The answer for a forbidden role (403 forbidden). */
void admin_forbidden(struct admin_req *ar);

/* JSON of the rows the console shows. */
json_t *admin_teller_json(const struct teller *t);
json_t *admin_bank_json(const struct bank *b);
json_t *admin_device_json(const struct device *d);

#endif
