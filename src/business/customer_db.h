/* customer_db — the customer tables, read and written only through a
 * tenant scope (data/tenant.h): every statement is confined to the scope's
 * bank, and the bank of every row written is the scope's.
 *
 * Tables (migration 9, src/data/migrations.c). Business tables will live in
 * per-bank-group shard databases apart from the identity tables, so: every
 * row belongs to one bank (bank_id first in every key), no foreign key to
 * and no join with identity tables (teller and branch ids are plain
 * integers), ids are numbered per bank (1, 2, 3 ... within each bank, so a
 * bank's rows move between shards unchanged):
 *   customers         (bank_id, id) key; kind, name (clear: searched by
 *                     prefix), id_index / phone_index (blind indexes,
 *                     customer_seal.h; id_index unique per bank),
 *                     id_masked / phone_masked (what a search shows), the
 *                     record sealed under "cust|<bank>|<id>", version,
 *                     creator's branch and teller, times (Unix ms).
 *   customer_history  (bank_id, customer_id, version, field) key: one row
 *                     per member an update changed, the old and the new
 *                     value each sealed under
 *                     "custh|<bank>|<customer>|<version>|<field>" (NULL:
 *                     absent), who and when.
 * New ids: MAX(id) + 1 within the bank; writers are serialised (SQLite's
 * BEGIN IMMEDIATE, MariaDB's writer lock), and the primary key
 * turns anything else into STORE_CONSTRAINT, never a shared id.
 *
 * Every function returns CDB_OK, CDB_NONE (no such row in the scope's bank)
 * or a negative store status (STORE_BUSY, STORE_CONSTRAINT, STORE_ERR, ...). */
#ifndef ZHANYE_CUSTOMER_DB_H
#define ZHANYE_CUSTOMER_DB_H

#include "business/customer_profile.h"
#include "business/customer_seal.h"
#include "data/tenant.h"

#include <stddef.h>
#include <stdint.h>

enum { CDB_OK = 0, CDB_NONE = 1 };

#define CDB_MASKED_MAX 24

struct cdb_row {
    int64_t id, version, branch_id, teller_id, created_at, updated_at;
    char kind[12];
    char name[CP_NAME_MAX + 1];
    char id_index[CS_INDEX_HEX + 1];
    char id_masked[CDB_MASKED_MAX];
    char phone_index[CS_INDEX_HEX + 1]; /* "": no phone */
    char phone_masked[CDB_MASKED_MAX];
    uint8_t *sealed; /* malloc'd by cdb_get; the caller's for cdb_insert/cdb_update */
    size_t sealed_len;
};

/* The sealing context of a record, and of one history value. */
void cdb_context(int64_t bank_id, int64_t id, char out[CS_CONTEXT_MAX]);
void cdb_history_context(int64_t bank_id, int64_t id, int64_t version, const char *field,
                         const char *which, char out[CS_CONTEXT_MAX]);

/* The next id of the bank. */
int cdb_next_id(struct tenant_conn *tc, int64_t *id);
/* The customer whose id_index it is, or CDB_NONE. */
int cdb_find_index(struct tenant_conn *tc, const char *id_index, int64_t *id);
int cdb_insert(struct tenant_conn *tc, const struct cdb_row *r);
/* Reads row id; r->sealed is malloc'd (cdb_row_free). */
int cdb_get(struct tenant_conn *tc, int64_t id, struct cdb_row *r);
/* Writes r over the row whose version is r->version - 1; CDB_NONE if gone
 * or changed meanwhile. */
int cdb_update(struct tenant_conn *tc, const struct cdb_row *r);
void cdb_row_free(struct cdb_row *r);
/* Customer id's record, opened with k, into *rec (a new reference; it holds
 * PII: wipe its strings, zy1_json_wipe, before the last json_decref).
 * CDB_OK, CDB_NONE, CS_CORRUPT (the sealed record does not open) or a
 * store status. For the modules that read a profile (tags, recommendations). */
int cdb_load(struct tenant_conn *tc, const struct kek *k, int64_t id, json_t **rec);

struct cdb_change {
    int64_t customer_id, version, teller_id, branch_id, at;
    const char *field;
    const uint8_t *old_v, *new_v; /* sealed; NULL: absent */
    size_t old_len, new_len;
};
int cdb_history_add(struct tenant_conn *tc, const struct cdb_change *ch);
/* The customer's changes, oldest first; fn returns non-zero to stop. */
int cdb_history(struct tenant_conn *tc, int64_t customer_id,
                int (*fn)(const struct cdb_change *ch, void *arg), void *arg);

/* Search. CDB_BY_NAME: names starting with value; CDB_BY_ID / CDB_BY_PHONE:
 * value is the blind index. At most limit rows, ordered by name then id;
 * fn gets each (r->sealed NULL: searches never open records). */
enum cdb_by { CDB_BY_NAME, CDB_BY_ID, CDB_BY_PHONE };
int cdb_search(struct tenant_conn *tc, enum cdb_by by, const char *value, int limit,
               int (*fn)(const struct cdb_row *r, void *arg), void *arg);

#endif
