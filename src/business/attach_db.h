/* attach_db — the attachment tables, read and written only through a
 * tenant scope (data/tenant.h): every statement is confined to the scope's
 * bank, and the bank of every row written is the scope's.
 *
 * Tables (migration 13, src/data/migrations.c); business tables of the
 * bank's shard (data/shard.h): bank_id first in every key, no reference to
 * identity tables (teller and branch ids are plain integers), ids numbered
 * per bank (MAX(id) + 1, writers serialised as in customer_db.h):
 *   attachments     (bank_id, id) key; one row per content of the bank
 *                   (sm3 unique per bank: content-addressed), from the
 *                   upload's first envelope on: state 'uploading', then
 *                   'stored' (complete, checked; never changes again), or
 *                   'abandoned' (refused at the end, or purged after a day:
 *                   its chunks and links deleted, the row kept so that its
 *                   id is never given to another content; the same content
 *                   begun again takes it back). kind, size, chunks, the
 *                   mime type once stored, the file name sealed, who
 *                   began it, times (Unix ms).
 *   attach_chunks   (bank_id, attachment_id, idx) key: each chunk sealed on
 *                   its own (attach.h), its raw length.
 *   attach_links    (bank_id, attachment_id, link_kind, link_ref) key: what
 *                   the attachment belongs to ('customer' / 'visit' with the
 *                   id in decimal, 'business' with its reference), who
 *                   linked it and when; indexed by subject for ATTACH_LIST.
 *
 * Every function returns ADB_OK, ADB_NONE (no such row in the scope's bank)
 * or a negative store status (STORE_BUSY, STORE_CONSTRAINT, STORE_ERR, ...). */
#ifndef ZHANYE_ATTACH_DB_H
#define ZHANYE_ATTACH_DB_H

#include "business/attach_check.h"
#include "data/tenant.h"

#include <stddef.h>
#include <stdint.h>

enum { ADB_OK = 0, ADB_NONE = 1 };

#define ADB_UPLOADING "uploading"
#define ADB_STORED "stored"
#define ADB_ABANDONED "abandoned"

struct adb_row {
    int64_t id, size, chunks, branch_id, teller_id, created_at, stored_at;
    char sm3[ATTACH_SM3_HEX + 1];
    char kind[12];
    char state[12];
    char mime[32];        /* "" until stored */
    uint8_t *name_sealed; /* malloc'd by adb_get / adb_find_sm3; the caller's for writes */
    size_t name_len;
};
void adb_row_free(struct adb_row *r);

int adb_next_id(struct tenant_conn *tc, int64_t *id);
/* The row of the bank's content sm3, or ADB_NONE. */
int adb_find_sm3(struct tenant_conn *tc, const char *sm3, struct adb_row *r);
int adb_get(struct tenant_conn *tc, int64_t id, struct adb_row *r);
int adb_insert(struct tenant_conn *tc, const struct adb_row *r);
/* Takes an abandoned row back for a new upload: state uploading, and r's
 * kind, size, chunks, name, teller, branch and created_at. ADB_NONE if the
 * row is not abandoned (any more). */
int adb_restart(struct tenant_conn *tc, const struct adb_row *r);
/* An upload's kind declared anew (the content, hence its chunks, is the
 * same). ADB_NONE if it is not uploading. */
int adb_set_kind(struct tenant_conn *tc, int64_t id, const char *kind);
/* uploading -> stored with mime, at at. ADB_NONE if it was not uploading. */
int adb_set_stored(struct tenant_conn *tc, int64_t id, const char *mime, int64_t at);
/* uploading -> abandoned: its chunks and links deleted. */
int adb_abandon(struct tenant_conn *tc, int64_t id);

/* ADB_OK if chunk idx of id is there, else ADB_NONE. */
int adb_chunk_has(struct tenant_conn *tc, int64_t id, int64_t idx);
int adb_chunk_put(struct tenant_conn *tc, int64_t id, int64_t idx, size_t len,
                  const uint8_t *sealed, size_t n);
/* The sealed chunk into *sealed (malloc'd, *n bytes). */
int adb_chunk_get(struct tenant_conn *tc, int64_t id, int64_t idx, uint8_t **sealed, size_t *n);
/* The indexes of id's chunks there, ascending; fn returns non-zero to stop. */
int adb_chunk_each(struct tenant_conn *tc, int64_t id, int (*fn)(int64_t idx, void *arg),
                   void *arg);

/* Links id to (kind, ref); ADB_NONE if it was linked to it already. */
int adb_link_add(struct tenant_conn *tc, int64_t id, const char *kind, const char *ref,
                 int64_t teller_id, int64_t at);
/* id's links, in key order; fn returns non-zero to stop. */
int adb_link_each(struct tenant_conn *tc, int64_t id,
                  int (*fn)(const char *kind, const char *ref, void *arg), void *arg);
/* The stored attachments linked to (kind, ref), newest first, at most
 * limit; fn gets each (name_sealed borrowed for the call). */
int adb_list_linked(struct tenant_conn *tc, const char *kind, const char *ref, int limit,
                    int (*fn)(const struct adb_row *r, void *arg), void *arg);

#endif
