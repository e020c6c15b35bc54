/* perf — the performance counters of client managers (docs/api.md §1.29),
 * kept incrementally: the work adds to them in its own transaction, so a
 * summary reads a handful of rows whatever the number of visits behind it.
 *
 * Table perf_counters (bank's shard, migration 15), key (bank_id,
 * branch_id, teller_id, period_kind, period_start, metric): one row per
 * teller (in the branch they worked in), period and metric, with qty (how
 * many) and amount (of money, fen; 0 where it means nothing), and the same
 * summed for the whole branch under teller_id 0. Every add updates six
 * rows: the teller's and the branch's for the day ('d', period_start
 * YYYYMMDD of the day), the week ('w', its Monday) and the month ('m', its
 * 1st), dates in the bank's time (China Standard Time). So a summary reads
 * at most one row per metric (a teller, a branch) or per branch and metric
 * (a bank), whatever the number of visits or tellers behind it. The work is counted on the day the
 * server records it (now_ms), not on a date the tablet claims.
 *
 * The metrics (the names are fixed; the console and tablets rely on them):
 *   customers_created           CUSTOMER_CREATE, qty 1
 *   profiles_written            CUSTOMER_CREATE and a CUSTOMER_UPDATE that
 *                               changed something, qty 1
 *   info_members                the same writes: qty the optional members
 *                               of the record filled, amount the optional
 *                               members its kind has (PERF_INFO_MEMBERS);
 *                               information completeness = qty / amount
 *                               over the period's writes
 *   visits                      VISIT_CHECKIN, qty 1
 *   visits_<outcome>            the same, by outcome (met, not_home,
 *                               refused, interested, done)
 *   leads_opened                a check-in that opened a lead
 *   recommendations_made        RECOMMEND_LIST, qty the products shown
 *   recommendations_accepted    RECOMMEND_FEEDBACK by verdict, qty 1
 *   recommendations_declined
 *   recommendations_later
 *   video_calls                 a remote video call ended (business/video_call.h),
 *                               counted for the calling client manager, qty 1
 *   video_calls_<outcome>       the same by outcome (completed, abandoned,
 *                               dropped, rejected)
 *   business:<type>             business done (type [a-z0-9_]{1,32}, e.g.
 *                               business:loan): qty 1, amount in fen.
 *                               CONTRACT for the business workflows (issue
 *                               12; no transaction does business yet): the
 *                               TX that completes a piece of business calls
 *                               perf_business(c->tenant, type, amount_fen,
 *                               now_ms) inside its own transaction, once,
 *                               after the business row is written; a retry
 *                               of the same cseq is answered from the stored
 *                               answer and so never counts twice.
 *
 * Writers are serialised (SQLite's BEGIN IMMEDIATE, MariaDB's writer lock,
 * as customer_db.h says), so "UPDATE, then INSERT if no row changed" is a
 * portable upsert; anything else would be STORE_CONSTRAINT, never a double
 * count.
 *
 * Every int function returns PERF_OK or a negative store status
 * (STORE_BUSY, STORE_ERR, ...); the caller's transaction then rolls back
 * with the work. */
#ifndef ZHANYE_PERF_H
#define ZHANYE_PERF_H

#include "data/tenant.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum { PERF_OK = 0 };

#define PERF_METRIC_MAX 48 /* bytes of a metric name */
#define PERF_BUSINESS_TYPE_MAX 32
#define PERF_INFO_MEMBERS 7 /* optional members of either kind (customer_profile.h) */

/* ---- periods ------------------------------------------------------------------ */

/* The bank's date (China Standard Time) at now_ms, as YYYYMMDD. */
int32_t perf_day_of(int64_t now_ms);
/* "YYYY-MM-DD", a real date (1970..9999) -> YYYYMMDD; -1 otherwise. */
int perf_date_parse(const char *s, int32_t *day);
/* YYYYMMDD -> "YYYY-MM-DD". */
void perf_date_text(int32_t day, char out[11]);
/* The start of the period of kind 'd', 'w' or 'm' that contains day. */
int32_t perf_period_start(char kind, int32_t day);
/* The start of the period before the one starting at start. */
int32_t perf_period_prev(char kind, int32_t start);
/* The last day of the period starting at start. */
int32_t perf_period_end(char kind, int32_t start);
/* "day" 'd', "week" 'w', "month" 'm'; 0 for anything else. */
char perf_kind_parse(const char *s);

/* ---- writing: inside the work's transaction -------------------------------------- */

/* Adds qty and amount to metric of (branch, teller) and of the branch
 * (teller 0) in the day, week and month containing now_ms, in the scope's
 * bank; teller 0 (the platform's own work, a batch job) adds to the
 * branch's only. metric 1..PERF_METRIC_MAX bytes, teller >= 0 (STORE_ERR
 * otherwise). */
int perf_add(struct tenant_conn *tc, int64_t branch, int64_t teller, const char *metric,
             int64_t qty, int64_t amount, int64_t now_ms);
/* A customer record written by the scope's teller (rec: customer_profile.h):
 * customers_created when created, profiles_written and info_members. */
int perf_customer(struct tenant_conn *tc, const json_t *rec, bool created, int64_t now_ms);
/* One visit by the scope's teller: visits, visits_<outcome>, and
 * leads_opened when lead. */
int perf_visit(struct tenant_conn *tc, const char *outcome, bool lead, int64_t now_ms);
/* recommendations_<verdict> (accepted, declined, later) by the scope's teller. */
int perf_feedback(struct tenant_conn *tc, const char *verdict, int64_t now_ms);
/* business:<type>, qty 1 and amount_fen, by the scope's teller (the
 * contract above). STORE_ERR for a type not [a-z0-9_]{1,32}. */
int perf_business(struct tenant_conn *tc, const char *type, int64_t amount_fen, int64_t now_ms);

/* ---- reading ------------------------------------------------------------------- */

enum perf_level {
    PERF_MINE,     /* the scope's teller in the scope's branch */
    PERF_BRANCH,   /* the scope's branch (its teller-0 rows) */
    PERF_BANK,     /* the scope's bank, per branch */
    PERF_PROVINCE, /* every bank of the database, summed per bank (province admin only) */
    PERF_TELLERS,  /* the scope's branch, per teller (its rows of teller_id > 0) */
};

struct perf_row {
    int64_t bank_id, branch_id; /* branch_id 0 at PERF_PROVINCE */
    int64_t teller_id;          /* the teller at PERF_TELLERS and PERF_MINE; 0 otherwise */
    const char *metric;
    int64_t qty, amount;
};

/* Calls fn for each metric of the period (kind, start) at level, rows
 * grouped by bank then branch (then teller at PERF_TELLERS). Returns PERF_OK, fn's first non-zero
 * return, or a store status (STORE_ERR also for PERF_PROVINCE outside a
 * province administrator's scope, or a bad kind). */
int perf_read(struct tenant_conn *tc, enum perf_level level, char kind, int32_t start,
              int (*fn)(const struct perf_row *r, void *arg), void *arg);

#endif
