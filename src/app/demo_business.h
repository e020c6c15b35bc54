/* demo_business — the demo banks' business data for `zhanye init --demo`:
 * customers (persons with households, assets and products, and a few
 * businesses; Chinese names and addresses, valid GB 11643 / GB 32100 check
 * characters), their rule tags, visits with outcomes and leads, and
 * recommendation feedback, so that every screen has something to show;
 * and for demo01 (B01) and demo03 (B02) one completed business of each of
 * the six kinds (each for a customer of its own), with its electronic
 * voucher issued and its delivery to the paperless platform pending (the
 * first `make run` delivers them).
 *
 * Everything is written by the platform's own transaction handlers
 * (CUSTOMER_CREATE, VISIT_CHECKIN, RECOMMEND_LIST, RECOMMEND_FEEDBACK), run in the bank's
 * shard through the tenant scope exactly as a tablet's request would be:
 * the same rules, audit records (actor "dev:demo"), tags and performance
 * counters. The completed businesses are written through the engine's
 * storage (business/wf_db.h) with plausible step results (not through the
 * simulators), and their vouchers by the engine's own voucher step
 * (wf_voucher_apply, actor "dev:demo"); each is audited biz.completed.
 * The data is generated deterministically (the same each time, times apart).
 *
 * Preconditions: a->store and a->shards open (app_store_open), the demo
 * organisation seeded (identity/demo.h), k the data directory's KEK.
 * Returns 0, or -1 with err saying which step failed. */
#ifndef ZHANYE_APP_DEMO_BUSINESS_H
#define ZHANYE_APP_DEMO_BUSINESS_H

#include "app/app.h"

#include <stddef.h>

#define DEMO_CUSTOMERS_PER_TELLER 12
#define DEMO_VOUCHERS_PER_BANK 6 /* one completed business of each kind */

int demo_business_seed(struct app *a, const struct kek *k, char *err, size_t errcap);

#endif
