/* wf_db — the workflow engine's tables, through a tenant scope only
 * (data/tenant.h): every statement confined to the scope's bank.
 *
 * Tables (migration 16, bank's shard, listed in bank_tables so that shard
 * moves and purges carry them):
 *   biz        (bank_id, id) key; biz_no (wf.h, unique per bank), kind,
 *              status (open, completed, cancelling, cancelled), next_step
 *              (the index of the step to run; nsteps once completed),
 *              customer_id (0: none yet), the starting teller and branch,
 *              times (Unix ms). Ids are MAX(id) + 1 within the bank.
 *   biz_steps  (bank_id, biz_id, idx) key: one row per step that ran:
 *              state (failed: attempts refused, none done; done;
 *              compensated), attempt (failures recorded: the serial's
 *              attempt, wf.h), message (the last failure's, no personal
 *              data), sealed ({"out", "keep"} of a done step, sealed under
 *              the KEK with context "biz|<bank>|<biz>|<idx>"; NULL
 *              otherwise).
 *
 * Every int function returns WDB_OK, WDB_NONE (no such row in the scope's
 * bank) or a negative store status (STORE_BUSY, STORE_ERR, ...). */
#ifndef ZHANYE_BUSINESS_WF_DB_H
#define ZHANYE_BUSINESS_WF_DB_H

#include "business/wf.h"
#include "data/tenant.h"
#include "identity/kek.h"

#include <jansson.h>
#include <stdint.h>

enum { WDB_OK = 0, WDB_NONE = 1 };

struct wdb_biz {
    int64_t id, customer_id, branch_id, teller_id, created_at, updated_at;
    int next_step;
    char biz_no[WF_BIZ_NO_LEN + 1];
    char kind[WF_NAME_MAX + 1];
    char status[12];
};

struct wdb_step {
    bool ran;       /* a row exists */
    char state[12]; /* "" (not run), failed, done, compensated */
    int attempt;
    char message[201];
    json_t *out, *keep; /* a done or compensated step's; NULL otherwise */
    int64_t updated_at;
};

/* A new business (b->id set here, from MAX + 1). */
int wdb_insert(struct tenant_conn *tc, struct wdb_biz *b);
int wdb_get(struct tenant_conn *tc, int64_t id, struct wdb_biz *b);
/* status, next_step, customer_id, updated_at of b. */
int wdb_update(struct tenant_conn *tc, const struct wdb_biz *b);
/* Every step row of b into steps[0..WF_MAX_STEPS) (opened with k);
 * wdb_steps_free after. CS_CORRUPT from a sealed row that does not open is
 * STORE_ERR. */
int wdb_steps(struct tenant_conn *tc, const struct kek *k, const struct wdb_biz *b,
              struct wdb_step steps[WF_MAX_STEPS]);
void wdb_steps_free(struct wdb_step steps[WF_MAX_STEPS]);
/* Writes step idx of business b (insert or update); out/keep sealed when
 * state is done or compensated. */
int wdb_step_put(struct tenant_conn *tc, const struct kek *k, const struct wdb_biz *b, int idx,
                 const char *name, const struct wdb_step *s);
/* The businesses of teller (0: any) newest first, id < before (0: no
 * bound), status and kind "" for any; at most limit; fn per row. */
int wdb_list(struct tenant_conn *tc, int64_t teller, const char *status, const char *kind,
             int64_t before, int limit, int (*fn)(const struct wdb_biz *b, void *arg), void *arg);

#endif
