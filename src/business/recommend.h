/* recommend — product recommendations (docs/api.md §1.17-1.18):
 *
 *   RECOMMEND_LIST     {"customer_id","limit"? 1..20, default 5}: the
 *                      bank's products (product.h) the customer does not
 *                      hold, best first: data.items [{"product","name",
 *                      "category","score","reason","tags"}].
 *   RECOMMEND_FEEDBACK {"customer_id","product","verdict"}: verdict
 *                      accepted | declined | later, recorded with the
 *                      customer's tags then (recommend_db.h);
 *                      data.feedback_id. The same cseq again is answered
 *                      from the stored answer: one record.
 *
 * The score of product p for a customer carrying tags T (tag_eval.h,
 * evaluated now; "-" stands for "no tag"):
 *   base(p) + sum over t in T of weight(p, t)
 *           + sum over t in T of round(30 * (a - d) / (a + d + l + 3))
 * where a, d, l count the accepted, declined and later answers about p from
 * customers who carried t: each decline of similar customers lowers p for
 * every customer sharing their tags, each acceptance raises it, by at most
 * 30 per tag. Ties keep the catalog's order. The reason says why in words
 * a client manager reads (the tags that weigh most, and the answers counted
 * under the customer's most answered tag) ("客户有'个体工商户'、'无贷款'标签；同类客户反馈：
 * 接受2次、婉拒5次").
 *
 * Both need a session and work in the session's bank through tx_ctx.tenant;
 * another bank's customer is customer_not_found. A bad product, verdict
 * or limit is bad_request naming it, nothing written. Audited:
 * recommend.listed ({"count"}), recommend.feedback ({"product","verdict"}). */
#ifndef ZHANYE_RECOMMEND_H
#define ZHANYE_RECOMMEND_H

#include "channel/tx.h"

extern const struct tx_def TX_RECOMMEND_LIST;
extern const struct tx_def TX_RECOMMEND_FEEDBACK;

#endif
