/* idem — idempotent submissions (ZY1 step 14).
 *
 * When a payload carries `cseq`, the answer to (dev, TX, cseq) is stored in
 * the database in the same transaction as the work it reports; a retry (a
 * double tap, or a resend after a lost answer, also after a restart) gets
 * the stored answer again and nothing runs twice. On SQLite the pipeline's
 * BEGIN IMMEDIATE serialises two concurrent submissions of one cseq, so the
 * second finds the first's row. */
#ifndef ZHANYE_IDEM_H
#define ZHANYE_IDEM_H

#include "data/store.h"

#include <stdint.h>

/* STORE_ROW with *reply (malloc'd) when answered before, STORE_DONE when not, or an error. */
int idem_get(struct store_conn *c, const char *dev, const char *tx, const char *cseq, char **reply);
int idem_put(struct store_conn *c, int64_t bank_id, const char *dev, const char *tx,
             const char *cseq, const char *reply, int64_t now_ms);

#endif
