/* tag_db — the tags customers carry, read and written only through a
 * tenant scope (data/tenant.h).
 *
 * Table (migration 14, business table in the bank's shard):
 *   customer_tags (bank_id, customer_id, code) key; source "manual" (a
 *                 client manager's TAG_SET) or "rule" (stored when the
 *                 rule matched: tag_eval.h), teller_id (who set a manual
 *                 tag; 0 for rule tags), set_at (Unix ms; for a rule tag
 *                 the first evaluation that matched).
 *
 * Returns TDB_OK, TDB_NONE (tdb_clear: the tag was not set) or a negative
 * store status. */
#ifndef ZHANYE_TAG_DB_H
#define ZHANYE_TAG_DB_H

#include "data/tenant.h"

#include <stdbool.h>
#include <stdint.h>

enum { TDB_OK = 0, TDB_NONE = 1 };

struct tdb_row {
    const char *code, *source; /* valid during the callback only */
    int64_t teller_id, set_at;
};

/* The customer's tags of source (NULL: both), by code; fn returns non-zero to stop. */
int tdb_list(struct tenant_conn *tc, int64_t customer_id, const char *source,
             int (*fn)(const struct tdb_row *r, void *arg), void *arg);
/* Sets a tag; *added false when the customer already had it (nothing written). */
int tdb_set(struct tenant_conn *tc, int64_t customer_id, const char *code, const char *source,
            int64_t teller_id, int64_t now, bool *added);
/* Clears the customer's tag code of source. */
int tdb_clear(struct tenant_conn *tc, int64_t customer_id, const char *code, const char *source);

#endif
