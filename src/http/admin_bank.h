/* admin_bank — how the back office's handlers (h_admin_customers.c,
 * h_admin_business.c, h_admin_visits.c) reach a bank's business data: a
 * tenant scope (data/tenant.h) of one bank, on the shard that bank lives in
 * (data/shard.h), for the administrator of an admin_req.
 *
 * The scope is {bank, the administrator's branch (a branch manager's; 0
 * otherwise), the administrator's teller id, role}. The tenant layer
 * confines statements to the bank; narrowing a branch manager to their
 * branch is the caller's, by the rows' branch_id (admin_bank_row_visible).
 *
 * Bank selection for the back office: ?bank=CODE (404 outside the scope),
 * else the administrator's own; a province admin without ?bank= lists every
 * bank (admin_bank_ids) and must name the bank for one record
 * (admin_bank_one: 400 bad_request naming bank). */
#ifndef ZHANYE_HTTP_ADMIN_BANK_H
#define ZHANYE_HTTP_ADMIN_BANK_H

#include "data/tenant.h"
#include "http/admin.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_BANKS_MAX 256

typedef int (*admin_bank_fn)(struct tenant_conn *tc, void *arg);

/* fn on a read-only scope of bank_id (a reader of its shard); its status. */
int admin_bank_read(struct admin_req *ar, int64_t bank_id, admin_bank_fn fn, void *arg);
/* fn inside one store_run transaction on bank_id's shard (fence checked:
 * a bank being moved is STORE_BUSY), for writes and audited reads: fn may
 * run more than once and must only write to the database and its arg. A
 * positive status from fn rolls back and is returned. */
int admin_bank_txn(struct admin_req *ar, int64_t bank_id, const char *name, admin_bank_fn fn,
                   void *arg);

/* The banks a back-office list covers into ids (*n of them): ?bank= (or the
 * administrator's own); a province admin without ?bank= gets every bank.
 * ID_OK, ID_NOT_FOUND (?bank= outside the scope), or a store status. */
int admin_bank_ids(struct admin_req *ar, int64_t ids[ADMIN_BANKS_MAX], size_t *n);
/* The one bank a record is read from; false with the answer set (404 for a
 * bank outside the scope, 400 for a province admin without ?bank=). */
bool admin_bank_one(struct admin_req *ar, int64_t *bank_id);
/* The code and name of bank_id into code / name ("" when unknown). */
void admin_bank_names(struct admin_req *ar, int64_t bank_id, char code[ORG_CODE_MAX + 1],
                      char name[ORG_NAME_MAX + 1]);
/* The teller's code and name ("" when unknown), and a branch's, for the
 * rows a list shows (business tables hold plain ids). */
void admin_bank_teller(struct admin_req *ar, int64_t teller_id, char code[TELLER_CODE_MAX + 1],
                       char name[TELLER_NAME_MAX + 1]);
void admin_bank_branch(struct admin_req *ar, int64_t branch_id, char code[ORG_CODE_MAX + 1],
                       char name[ORG_NAME_MAX + 1]);
/* A business row of branch_id is visible: always for bank-wide roles, only
 * the manager's own branch for a branch manager. */
bool admin_bank_row_visible(const struct admin_req *ar, int64_t branch_id);

#endif
