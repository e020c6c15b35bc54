/* visit — the visit transactions of ZY1 (docs/api.md §1.19-1.21), and the
 * assignment of a task by a branch manager (the console's
 * POST /api/v1/admin/visits/tasks, §2.3, calls visit_assign):
 *
 *   VISIT_TASKS    {"date"?, "lat"?, "lon"?}: the session teller's open
 *                  tasks of the day (default today, China Standard Time),
 *                  each with its customer or household and its leads;
 *                  nearest first from (lat, lon) when given (haversine,
 *                  visit_geo.h; tasks without a known position last), else
 *                  by id. Audited visit.tasks_listed ({"date","results"}).
 *   VISIT_CHECKIN  {"task_id"? | "customer_id"?, "lat", "lon", "at"?,
 *                  "outcome", "notes", "photos"?, "next_step"?,
 *                  "open_lead"?}: records one visit; closes the task; the
 *                  distance from the known position — the customer's own
 *                  (CUSTOMER_CREATE/UPDATE lat, lon) when the record has
 *                  one, else the task's household's, else the customer's
 *                  latest task with a position — is kept and a visit farther than VG_FAR_M is
 *                  flagged far — never refused; open_lead opens a lead.
 *                  Answers data.visit_id, far, distance_m (absent without a
 *                  known position), lead_id. Audited visit.checked_in.
 *                  The same cseq twice is one visit (the pipeline's stored
 *                  answer, channel/idem.h).
 *
 * Both need a session and work in the session's bank through tx_ctx.tenant
 * (visit_db.h); another teller's or bank's task is answered as one that does
 * not exist (visit_task_not_found), another bank's customer likewise
 * (customer_not_found). A bad member is bad_request naming it
 * ("data.<path>: ...", visit_input.h) and nothing is written. */
#ifndef ZHANYE_VISIT_H
#define ZHANYE_VISIT_H

#include "channel/tx.h"
#include "data/tenant.h"

#include <stdbool.h>
#include <stdint.h>

extern const struct tx_def TX_VISIT_TASKS;
extern const struct tx_def TX_VISIT_CHECKIN;
/* VISIT_HISTORY (visit_history.c): a customer's check-ins, newest first. */
extern const struct tx_def TX_VISIT_HISTORY;

/* A task a branch manager gives one of their client managers. */
struct visit_assign {
    int64_t teller_id;   /* the client manager (checked by the caller: same branch, role) */
    int64_t customer_id; /* of the scope's bank */
    int32_t day;         /* YYYYMMDD */
    const char *note;    /* 0..300 bytes, checked */
    const char *product; /* "" / NULL: no lead; else a product code, checked */
    bool has_pos;
    double lat, lon;
    const char *actor; /* the audit actor ("teller:<code>") */
};

enum { VISIT_OK = 0, VISIT_NO_CUSTOMER = 1 };

/* Inside the caller's transaction, on tc whose scope is the branch
 * manager's (bank, branch, teller): inserts the task and its audit record
 * visit.assigned. VISIT_OK with *task_id, VISIT_NO_CUSTOMER (nothing
 * written), or a negative store status. */
int visit_assign(struct tenant_conn *tc, const struct visit_assign *a, int64_t *task_id);

/* The bank's date today as YYYYMMDD (China Standard Time). */
int32_t visit_today(void);

#endif
