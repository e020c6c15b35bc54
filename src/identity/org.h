/* org — the legal-entity tree: province → bank (法人行社) → branch.
 *
 * One province row (the 省联社, kind "province") is the root; each bank row
 * points to it. The province row is itself a row of `banks`, so province
 * staff carry its id as their bank id like every other row. Branches belong
 * to one bank; their codes are unique within it. Codes are
 * [A-Za-z0-9_-]{1,16}, names 1..100 bytes of UTF-8 without control
 * characters; a longer or malformed value is ID_BAD_INPUT, never cut.
 *
 * Writes run in the caller's transaction and append their audit record
 * there (identity.h). Nothing here is ever deleted; status says disabled. */
#ifndef ZHANYE_ORG_H
#define ZHANYE_ORG_H

#include "data/store.h"
#include "identity/identity.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ORG_CODE_MAX 16
#define ORG_NAME_MAX 100

enum org_kind { ORG_PROVINCE = 1, ORG_BANK = 2 };

struct bank {
    int64_t id;
    int64_t parent_id; /* the province's id; 0 for the province itself */
    int kind;          /* enum org_kind */
    bool active;
    int64_t created_at;
    char code[ORG_CODE_MAX + 1];
    char name[ORG_NAME_MAX + 1];
};

struct branch {
    int64_t id;
    int64_t bank_id;
    bool active;
    int64_t created_at;
    char code[ORG_CODE_MAX + 1];
    char name[ORG_NAME_MAX + 1];
};

/* True for 1..max bytes of [A-Za-z0-9_-]. */
bool org_valid_code(const char *s, size_t max);
/* True for 1..max bytes of valid UTF-8 without control characters. */
bool org_valid_name(const char *s, size_t max);

/* The root. ID_EXISTS if a province (or the code) exists already. actor is
 * who does it, for the audit record ("cli:root", "teller:admin01"). */
int org_add_province(struct store_conn *c, const char *actor, const char *code, const char *name,
                     int64_t *id_out);
/* A bank under the province. ID_NOT_FOUND without a province, ID_EXISTS if
 * the code is taken (by a bank or the province). */
int org_add_bank(struct store_conn *c, const char *actor, const char *code, const char *name,
                 int64_t *id_out);
/* The bank or province with that code, or ID_NOT_FOUND. */
int org_find_bank(struct store_conn *c, const char *code, struct bank *out);
int org_find_bank_id(struct store_conn *c, int64_t id, struct bank *out);
/* The province first, then the banks by code. fn returns non-zero to stop
 * early (that value is returned). */
int org_list_banks(struct store_conn *c, int (*fn)(const struct bank *b, void *arg), void *arg);

/* A branch of bank_id. ID_NOT_FOUND for an unknown bank, ID_CONFLICT if
 * bank_id is the province (branches belong to banks), ID_EXISTS if the
 * bank already has that code. */
int org_add_branch(struct store_conn *c, const char *actor, int64_t bank_id, const char *code,
                   const char *name, int64_t *id_out);
int org_find_branch(struct store_conn *c, int64_t bank_id, const char *code, struct branch *out);
int org_find_branch_id(struct store_conn *c, int64_t id, struct branch *out);
/* The branches of bank_id (every bank's with 0), by bank and code. */
int org_list_branches(struct store_conn *c, int64_t bank_id,
                      int (*fn)(const struct branch *b, void *arg), void *arg);

/* The names of bank_id and of its branch branch_id into bank and branch
 * ("" for one that does not exist, or branch_id 0), for what business
 * code shows (the voucher: tx_ctx bank_name, branch_name). Cached in the
 * process for ORG_NAMES_TTL_MS per (bank, branch) (org_names.c:
 * thread-safe; a small table, the oldest entry replaced): names are not
 * changed by any command today, and a change would show within the TTL.
 * ID_OK, or a store status (STORE_BUSY, ...: nothing cached). */
#define ORG_NAMES_TTL_MS 60000
int org_names(struct store_conn *c, int64_t bank_id, int64_t branch_id, char bank[ORG_NAME_MAX + 1],
              char branch[ORG_NAME_MAX + 1]);

#endif
