/* tag — the tag transactions of ZY1 (docs/api.md §1.13-1.16):
 *
 *   TAG_CATALOG  {}: the bank's tag catalog (tag_catalog.h),
 *                data.tags [{"code","name","kind","rule"?}], data.builtin.
 *   TAG_SET      {"customer_id","tag"}: sets a manual tag; data.added is
 *                false when the customer had it already (nothing written).
 *   TAG_CLEAR    {"customer_id","tag"}: clears a manual tag; data.cleared
 *                false when it was not set.
 *   TAG_LIST     {"customer_id"}: the tags the customer carries now, rule
 *                tags evaluated on the record now (tag_eval.h, stored rule
 *                tags refreshed) and manual ones: data.tags
 *                [{"code","name","kind","since"}] in catalog order.
 *
 * Every one needs a session and works in the session's bank only through
 * tx_ctx.tenant; another bank's customer is answered exactly as one that
 * does not exist (customer_not_found). A tag that is not a manual tag of
 * the bank's catalog is bad_request naming data.tag. Audited in the same
 * transaction (actor "dev:<dev>", target "customer:<id>"): tag.set,
 * tag.cleared, tag.listed ({"count"}), tag.catalog_viewed. */
#ifndef ZHANYE_TAG_H
#define ZHANYE_TAG_H

#include "channel/tx.h"

extern const struct tx_def TX_TAG_CATALOG;
extern const struct tx_def TX_TAG_SET;
extern const struct tx_def TX_TAG_CLEAR;
extern const struct tx_def TX_TAG_LIST;

#endif
