/* biz — what every business transaction shares for its audit records and
 * its records holding personal data.
 *
 * biz_actor: the actor of a ZY1 transaction's audit records, "dev:<dev>"
 * (identity/audit.h names actors). biz_target: "<kind>:<id>", e.g.
 * "customer:42", cut to cap. biz_drop: wipes every string of a JSON value
 * (a customer's record, a profile) and frees it; NULL is a no-op. */
#ifndef ZHANYE_BUSINESS_BIZ_H
#define ZHANYE_BUSINESS_BIZ_H

#include "channel/tx.h"
#include "identity/audit.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

void biz_actor(const struct tx_ctx *c, char out[AUDIT_ACTOR_MAX + 1]);
void biz_target(char *out, size_t cap, const char *kind, int64_t id);
void biz_drop(json_t *j);

#endif
