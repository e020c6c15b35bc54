/* recommend_db — recommendation feedback, through a tenant scope only.
 *
 * Tables (migration 14, business tables in the bank's shard; ids per bank):
 *   recommend_feedback (bank_id, id) key: customer_id, product, verdict
 *                      (accepted | declined | later), tags (the customer's
 *                      tag codes then, comma-separated, "-" for none),
 *                      teller_id, branch_id, at (Unix ms).
 *   recommend_stats    (bank_id, product, tag) key: accepted, declined,
 *                      later — how customers carrying the tag answered
 *                      (tag "-": customers without tags). Kept in the
 *                      feedback's transaction, so a ranking reads a few
 *                      rows whatever the number of answers.
 *
 * Returns RDB_OK or a negative store status. */
#ifndef ZHANYE_RECOMMEND_DB_H
#define ZHANYE_RECOMMEND_DB_H

#include "data/tenant.h"

#include <stddef.h>
#include <stdint.h>

enum { RDB_OK = 0 };

#define RDB_NO_TAGS "-"

struct rdb_feedback {
    int64_t id, customer_id, teller_id, branch_id, at;
    const char *product, *verdict;
    const char *const *tags; /* ntags codes (RDB_NO_TAGS alone for none) */
    size_t ntags;
};

/* Records f (f->id is set: the bank's next) and adds it to the stats of
 * each of its tags. */
int rdb_feedback_add(struct tenant_conn *tc, struct rdb_feedback *f);

struct rdb_stat {
    const char *product; /* valid during the callback only */
    int64_t accepted, declined, later;
};
/* The stats of every product for tag; fn returns non-zero to stop. */
int rdb_stats(struct tenant_conn *tc, const char *tag,
              int (*fn)(const struct rdb_stat *s, void *arg), void *arg);

#endif
