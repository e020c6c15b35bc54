/* visit_admin — the back office's reads of the visit tables and the
 * reassignment of a task (the management console, docs/api.md §2.3),
 * through a tenant scope only (data/tenant.h): every statement confined to
 * the scope's bank.
 *
 * A filter narrows by branch (the task's / visit's branch_id: the branch of
 * the teller it was given to or who checked in), teller, customer and time
 * (tasks by their day, visits by when they took place); 0 means "any".
 * Rows come newest first (highest id), at most limit.
 *
 * Every int function returns VDB_OK, VDB_NONE or a negative store status. */
#ifndef ZHANYE_VISIT_ADMIN_H
#define ZHANYE_VISIT_ADMIN_H

#include "business/visit_db.h"

struct vadm_filter {
    int64_t branch_id, teller_id, customer_id;
    int32_t day_from, day_to; /* tasks: YYYYMMDD, inclusive; 0: unbounded */
    int64_t at_from, at_to;   /* visits: Unix ms, [from, to); 0: unbounded */
    int limit;                /* 1.. */
};

/* The tasks matching f; fn gets each (t->target and t->leads live during
 * the call only) and returns non-zero to stop. */
int vadm_tasks(struct tenant_conn *tc, const struct vadm_filter *f,
               int (*fn)(const struct vdb_task *t, void *arg), void *arg);
/* The visits matching f; fn as above (its strings live during the call). */
int vadm_visits(struct tenant_conn *tc, const struct vadm_filter *f,
                int (*fn)(const struct vdb_visit *v, void *arg), void *arg);
/* Gives the open task id to teller_id (of branch_id) at now; VDB_NONE if
 * the task is not open (done, or no such task in the bank). */
int vadm_task_reassign(struct tenant_conn *tc, int64_t id, int64_t teller_id, int64_t branch_id,
                       int64_t now);

#endif
