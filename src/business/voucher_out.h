/* voucher_out — the delivery outbox of the electronic vouchers (电子凭证)
 * to the paperless platform (无纸化平台), through a tenant scope only.
 *
 * Table voucher_outbox (migration 19, the bank's shard, in bank_tables):
 * (bank_id, voucher_id) key; status pending -> delivered | failed;
 * attempts (uploads tried and failed), next_try_at (Unix ms: when a
 * pending row is due), last_error (the last failure, no personal data),
 * receipt_no and delivered_at (the platform's receipt), created_at,
 * updated_at. A row is written in the transaction that issues its voucher
 * (wf_voucher.h), so no voucher is issued without its delivery; the
 * server's deliverer (app/vdeliver.h) moves it on.
 *
 * Every int function returns VOUT_OK, VOUT_NONE (no such row in the
 * scope's bank) or a negative store status. */
#ifndef ZHANYE_BUSINESS_VOUCHER_OUT_H
#define ZHANYE_BUSINESS_VOUCHER_OUT_H

#include "data/tenant.h"

#include <jansson.h>
#include <stdbool.h>

#include <stdint.h>

enum { VOUT_OK = 0, VOUT_NONE = 1 };

#define VOUT_ERROR_MAX 200
#define VOUT_RECEIPT_MAX 64

struct vout_row {
    int64_t voucher_id, next_try_at, delivered_at, created_at, updated_at;
    int attempts;
    char status[12];
    char last_error[VOUT_ERROR_MAX + 1];
    char receipt_no[VOUT_RECEIPT_MAX + 1];
};

/* A pending row for voucher_id, due at now_ms; VOUT_OK also when the row
 * exists already (a voucher issued again answers VCH_EXISTS: nothing new). */
int vout_add(struct tenant_conn *tc, int64_t voucher_id, int64_t now_ms);
int vout_get(struct tenant_conn *tc, int64_t voucher_id, struct vout_row *r);
/* The pending rows due at now_ms (next_try_at <= now_ms), oldest first, at
 * most limit, into rows; *n their number. Reads only. */
int vout_due(struct tenant_conn *tc, int64_t now_ms, struct vout_row *rows, int limit, int *n);
/* Delivered with the receipt number, at now_ms (a pending row only:
 * VOUT_NONE otherwise). */
int vout_delivered(struct tenant_conn *tc, int64_t voucher_id, const char *receipt_no,
                   int64_t now_ms);
/* A failed upload: attempts + 1, last_error; status `failed` when
 * give_up, else pending again at next_try_at (a pending row only). */
int vout_retry(struct tenant_conn *tc, int64_t voucher_id, const char *error, bool give_up,
               int64_t next_try_at, int64_t now_ms);
/* Every row of the scope's bank, by voucher_id; fn per row (a non-zero
 * return stops and is returned). Reads only. */
int vout_each(struct tenant_conn *tc, int (*fn)(const struct vout_row *r, void *arg), void *arg);
/* {"status","attempts","next_try_at","last_error"?,"receipt_no"?,
 * "delivered_at"?} of a row; a new reference, NULL on memory. */
json_t *vout_json(const struct vout_row *r);

#endif
