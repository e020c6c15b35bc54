/* admin_perf — the console's performance report (h_admin_perf.c), shared
 * by its endpoint, the today board (h_admin_today.c) and the exports, so
 * every screen reads the counters through the same scoped code. */
#ifndef ZHANYE_HTTP_ADMIN_PERF_H
#define ZHANYE_HTTP_ADMIN_PERF_H

#include "http/admin.h"

#include <jansson.h>
#include <stdint.h>

/* The answer of GET /reports/performance (docs/api.md §2.3) for the
 * period of kind ('d', 'w', 'm') containing day (YYYYMMDD), narrowed by the
 * request's bank= and branch= as the endpoint is, into *out (owned by the
 * caller). ID_OK; ID_NOT_FOUND for a bank or branch outside the scope;
 * ID_BAD_INPUT for a bad kind; STORE_NOMEM or a store status otherwise. */
int admin_perf_answer(struct admin_req *ar, char kind, int32_t day, json_t **out);

#endif
