/* tag_eval — which tags a customer carries now.
 *
 * The facts of a customer (the variables of tag_rule.h) come from the
 * record (customer_profile.h): kind; for a person age (whole years, from
 * the ID number's birth date and the bank's date today), sex ("M"/"F"),
 * occupation, income_band, household.size (the customer and the members
 * listed); assets (the sum of the values) and assets.<type>; products;
 * for a business industry and turnover. Visit and grid facts
 * (visit.*, grid.*) are not in the record: they are null until the visit
 * and grid modules add them to the facts here.
 *
 * tag_refresh() is the hook of CUSTOMER_CREATE and CUSTOMER_UPDATE: in the
 * same transaction, after the record is written, the bank's rule tags are
 * evaluated on the new record and the customer's stored rule tags
 * (tag_db.h) brought in line: a tag that now matches is added (set_at now),
 * one that no longer does is removed, one that still does keeps its set_at.
 * TAG_LIST and RECOMMEND_LIST do the same (age and visit or grid data
 * change without the record changing).
 *
 * Returns TDB_OK or a negative store status. */
#ifndef ZHANYE_TAG_EVAL_H
#define ZHANYE_TAG_EVAL_H

#include "business/tag_catalog.h"
#include "business/tag_db.h"
#include "data/tenant.h"

#include <jansson.h>
#include <stdint.h>

/* The bank's date today, YYYYMMDD (China Standard Time). */
int32_t tag_today(void);

/* The facts of record on today (YYYYMMDD): a new flat object, or NULL
 * (memory). Holds no name, ID number, phone or address. */
json_t *tag_facts(const json_t *record, int32_t today);

/* Evaluates cat on record and refreshes the customer's stored rule tags;
 * *tags (may be NULL) gets the tags the customer carries now, rule and
 * manual ones of cat, in cat's order: [{"code","name","kind","since"}]. */
int tag_current(struct tenant_conn *tc, const struct tag_catalog *cat, int64_t customer_id,
                const json_t *record, json_t **tags);

/* The hook: tag_current with the bank's catalog, nothing answered. */
int tag_refresh(struct tenant_conn *tc, int64_t customer_id, const json_t *record);

#endif
