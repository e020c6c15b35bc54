/* customer — the customer transactions of ZY1 (docs/api.md §1.8-1.11):
 *
 *   CUSTOMER_CREATE  a person or a business (the record: customer_profile.h);
 *                    one customer per ID number (USCC) per bank, else
 *                    customer_exists with data.customer_id the existing one.
 *                    Answers data.customer_id and data.version (1).
 *   CUSTOMER_UPDATE  {"customer_id", "version", members...}: version
 *                    (required) is the one the edit started from, as
 *                    CUSTOMER_GET / CREATE / UPDATE answered it; another
 *                    than the record's is conflict with data.version the
 *                    current one and nothing written (optimistic locking:
 *                    of two managers editing the same version the second
 *                    re-reads, so no change is silently lost). The members
 *                    given replace the record's ("" / [] / {} remove an
 *                    optional one); one history row per member changed
 *                    (old and new values, who, when); data.changed lists
 *                    them, data.version is the record's new version
 *                    (unchanged if nothing changed, and then nothing is
 *                    written).
 *   CUSTOMER_GET     {"customer_id", "history"?}: the whole record with the
 *                    full ID number and phone, derived birth_date and sex for
 *                    a person, and with history true the changes.
 *   CUSTOMER_SEARCH  {"name" | "id_no" | "uscc" | "phone", "limit"?}: names
 *                    by prefix, the identifiers exactly; data.items[] show
 *                    the ID number and phone masked (mask.h), data.more says
 *                    whether more matched than limit (1..50, default 20).
 *
 * Every one needs a session and works in the session's bank only, through
 * tx_ctx.tenant (customer_db.h); another bank's customer is answered
 * exactly as one that does not exist. Every one is audited in the same
 * transaction (identity/audit.h audit_tenant; actor "dev:<dev>", target
 * "customer:<id>"; no value of the record goes into the audit log):
 * customer.created, customer.updated (the members changed), customer.viewed
 * (also a miss, {"found": false}) and customer.searched ({"by", "results"}).
 * A bad member is bad_request with a message "data.<path>: <what is wrong>"
 * and nothing written. The record is sealed at rest (customer_seal.h).
 * CREATE and UPDATE evaluate the bank's rule tags on the record written,
 * in the same transaction (tag_eval.h tag_refresh). */
#ifndef ZHANYE_CUSTOMER_H
#define ZHANYE_CUSTOMER_H

#include "channel/tx.h"

extern const struct tx_def TX_CUSTOMER_CREATE;
extern const struct tx_def TX_CUSTOMER_UPDATE;
extern const struct tx_def TX_CUSTOMER_GET;
extern const struct tx_def TX_CUSTOMER_SEARCH;

#endif
