/* voucher_db — the vouchers table, read and written only through a tenant
 * scope (data/tenant.h): every statement is confined to the scope's bank.
 *
 * Table (migration 17, src/data/migrations.c), a business table of the
 * bank's shard (data/shard.h), in bank_tables so it moves with the bank:
 *   vouchers  (bank_id, id) key, id per bank: a business's voucher's id is
 *             derived from its business number (>= 10^9, voucher.h
 *             VOUCHER IDS); other serials are numbered below 10^9
 *             (vcdb_next_id: MAX(id) + 1 of that range, writers serialised
 *             by the transaction's write lock as in customer_db.h); the business serial unique per
 * bank (one voucher per business); kind, customer, branch, teller, issued_at (Unix ms), size, sm3
 * (hex of the PDF's SM3), sig (hex of the DER SM2 signature, voucher_sign.h), key_id (the first 16
 * hex digits of SM3 of the signing public key, so a rotated key still tells which key signed), and
 * pdf_sealed (the PDF sealed under the KEK, context "vchr|<bank>|<id>").
 *
 * IMMUTABLE. This module has no UPDATE and no DELETE: a voucher, once
 * inserted, is never changed (tests/unit/business/test_voucher.c checks
 * this file has no such statement). Only the platform's machinery that
 * moves a bank's rows between shards or purges a bank touches the rows.
 * What happens to a voucher afterwards (its delivery to the paperless
 * platform, a receipt) belongs in a table of its own keyed by (bank_id,
 * voucher_id), never in a column of this one.
 *
 * Voucher ids as text: "V<bank_id>-<id>" with id zero-padded to 6 digits
 * ("V3-000042"), unique across banks, so the CLI can find a voucher by id
 * alone.
 *
 * Every function returns VCDB_OK, VCDB_NONE (no such row in the scope's
 * bank) or a negative store status (STORE_BUSY, STORE_CONSTRAINT, ...). */
#ifndef ZHANYE_VOUCHER_DB_H
#define ZHANYE_VOUCHER_DB_H

#include "data/tenant.h"

#include <stddef.h>
#include <stdint.h>

enum { VCDB_OK = 0, VCDB_NONE = 1 };

#define VCDB_SERIAL_MAX 40
#define VCDB_SIG_HEX 144
#define VCDB_KEY_ID_HEX 16

struct vcdb_row {
    int64_t id, customer_id, branch_id, teller_id, issued_at, size;
    char kind[16];
    char serial[VCDB_SERIAL_MAX + 1];
    char sm3[65];
    char sig[VCDB_SIG_HEX + 1];
    char key_id[VCDB_KEY_ID_HEX + 1];
    uint8_t *pdf_sealed; /* malloc'd by vcdb_get (when asked); the caller's for vcdb_insert */
    size_t sealed_len;
};
void vcdb_row_free(struct vcdb_row *r);

/* "V<bank>-<id>" into out (VOUCHER_ID_MAX + 1 bytes). */
void vcdb_id_format(int64_t bank_id, int64_t id, char *out, size_t cap);
/* 0 with *bank_id and *id if text is such an id, else -1. */
int vcdb_id_parse(const char *text, int64_t *bank_id, int64_t *id);

/* The next number below 10^9 (not derived from a business number). */
int vcdb_next_id(struct tenant_conn *tc, int64_t *id);
int vcdb_insert(struct tenant_conn *tc, const struct vcdb_row *r);
/* Row id; with_pdf: also its sealed PDF. */
int vcdb_get(struct tenant_conn *tc, int64_t id, bool with_pdf, struct vcdb_row *r);
/* The id of the bank's voucher of serial, or VCDB_NONE. */
int vcdb_find_serial(struct tenant_conn *tc, const char *serial, int64_t *id);
/* The id of the bank's voucher whose PDF has this SM3 (hex), or VCDB_NONE. */
int vcdb_find_sm3(struct tenant_conn *tc, const char *sm3, int64_t *id);
/* The bank's vouchers without their PDFs, newest first, at most limit;
 * customer_id > 0: only that customer's. fn returns non-zero to stop. */
int vcdb_list(struct tenant_conn *tc, int64_t customer_id, int limit,
              int (*fn)(const struct vcdb_row *r, void *arg), void *arg);

#endif
