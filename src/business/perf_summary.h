/* perf_summary — the figures of a period from the performance counters
 * (perf.h), and the ZY1 transaction that shows a manager theirs
 * (docs/api.md §1.29):
 *
 *   PERF_SUMMARY {"period": "day"|"week"|"month", "date"?: "YYYY-MM-DD"
 *                 (default today, China Standard Time), "scope"?: "mine"
 *                 (default) | "branch"}: the figures of the period that
 *                 contains date and of the one before it:
 *                 data {"scope","period","current":F,"previous":F}, F as
 *                 perf_figures_json says. A client manager gets their own
 *                 figures (in their current branch); a branch manager
 *                 may ask for "branch", the sum over the branch's tellers;
 *                 anyone else asking for "branch" is forbidden. A bad
 *                 period, date or scope is bad_request naming it. Reads
 *                 only (read_only: nothing written, not audited: it shows
 *                 counts, no customer's data).
 *
 * The same figures feed the console's report (http/h_admin_perf.c). */
#ifndef ZHANYE_PERF_SUMMARY_H
#define ZHANYE_PERF_SUMMARY_H

#include "business/perf.h"
#include "channel/tx.h"

#include <jansson.h>
#include <stdint.h>

#define PERF_OUTCOMES 5       /* met, not_home, refused, interested, done (visit_input.h) */
#define PERF_VIDEO_OUTCOMES 4 /* completed, abandoned, dropped, rejected (video_call.h) */

/* One period's figures, summed from perf_read rows. */
struct perf_figures {
    int64_t visits, by_outcome[PERF_OUTCOMES], leads_opened;
    int64_t customers_created, profiles_written, info_filled, info_possible;
    int64_t rec_made, rec_accepted, rec_declined, rec_later;
    int64_t business_count, business_amount;
    int64_t video_calls, video_by_outcome[PERF_VIDEO_OUTCOMES]; /* remote video calls ended */
    json_t *business; /* {"<type>": {"count","amount"}}; owned */
};

/* Empty figures (business an empty object). PERF_OK or STORE_NOMEM. */
int perf_figures_init(struct perf_figures *f);
void perf_figures_free(struct perf_figures *f);
/* Adds one counter row to f (an unknown metric is ignored). PERF_OK or STORE_NOMEM. */
int perf_figures_add(struct perf_figures *f, const struct perf_row *r);
/* Adds all of b's figures to a. */
int perf_figures_merge(struct perf_figures *a, const struct perf_figures *b);
/* {"visits", "visits_by_outcome": {"met",...}, "leads_opened",
 *  "customers_created", "profiles_written", "info_completeness" (filled /
 *  possible optional members over the period's writes, 0..1, 4 decimals; 0
 *  without writes), "recommendations_made", "recommendations_accepted",
 *  "recommendations_declined", "recommendations_later", "conversion"
 *  (accepted / made, 4 decimals; 0 when none made), "business": {"count",
 *  "amount" (fen), "by_type": {...}}}; NULL without memory. */
json_t *perf_figures_json(const struct perf_figures *f);
/* {"kind": "day"|"week"|"month", "start", "end"} of a period. */
json_t *perf_period_json(char kind, int32_t start);

/* The figures of the scope at level for the period (kind, start), summed
 * into f (initialised by the caller). perf_read's returns. */
int perf_summary(struct tenant_conn *tc, enum perf_level level, char kind, int32_t start,
                 struct perf_figures *f);

extern const struct tx_def TX_PERF_SUMMARY;

#endif
