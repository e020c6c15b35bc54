/* customer_prefill — CUSTOMER_PREFILL (docs/api.md §1.30): the new-customer
 * form filled from the bank's customer information system (客户信息系统,
 * CIS), which the manager then checks and sends with CUSTOMER_CREATE.
 *
 *   in:  {"id_no"}: a resident ID number (GB 11643, customer_id.h)
 *   out: {"found": bool,       the CIS knows this person
 *         "fields": {...},     what it knows, as the record's members
 *                              (customer_profile.h: name, phone, address,
 *                              occupation), each checked by the record's
 *                              rules; a value that fails them is left out;
 *                              {} when nothing is known
 *         "customer_id"?: N,   the bank has this person already: open that
 *                              record instead of creating one
 *         "manual": bool,      the CIS could not be asked (down, slower than
 *                              [egress.cis] call_timeout_ms, its breaker
 *                              open, not configured): fill the form by hand
 *         "message"?: text}    for the manager, Simplified Chinese
 *
 * Two phases (channel/tx.h): prepare_cis asks the CIS through the egress
 * gateway (step `cis_person`, conf/routes.conf) before the database
 * transaction, with no database in hand; the handler then answers in the
 * transaction from what it fetched and the bank's blind index of ID numbers
 * (customer_seal.h). The CIS being unavailable is never an error: code OK,
 * manual true. A bad id_no is bad_request naming data.id_no (the CIS is not
 * asked). Nothing is written but the audit record customer.prefilled
 * {"result": "found" | "not_found" | "unavailable"} (target the existing
 * customer, if any); no value of the person goes into it. */
#ifndef ZHANYE_CUSTOMER_PREFILL_H
#define ZHANYE_CUSTOMER_PREFILL_H

#include "channel/tx.h"

extern const struct tx_def TX_CUSTOMER_PREFILL;

#endif
