/* attach_db.c — the attachment tables through the tenant scope (see
 * attach_db.h). Placeholders: the bank's is bound by tenant_prepare; the
 * others are numbered around it as tenant.h says. */
#include "business/attach_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_COLS                                                                                   \
    "id, size, chunks, branch_id, teller_id, created_at, stored_at, sm3, kind, state, mime, "      \
    "name_sealed"

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* STORE_DONE after the last row is success. */
static int done(int rc)
{
    return rc == STORE_DONE ? ADB_OK : rc;
}

void adb_row_free(struct adb_row *r)
{
    if (!r)
        return;
    free(r->name_sealed);
    r->name_sealed = NULL;
    r->name_len = 0;
}

int adb_next_id(struct tenant_conn *tc, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc, "SELECT COALESCE(MAX(id), 0) + 1 FROM attachments WHERE bank_id = ?", &s);
    if (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = ADB_OK;
    }
    tenant_finish(s);
    return rc == STORE_DONE ? STORE_ERR : rc;
}

/* The ROW_COLS of the current row into r; borrow: name_sealed points into
 * the statement (valid until the next step), else it is a malloc'd copy. */
static int read_row(struct tenant_stmt *s, struct adb_row *r, bool borrow)
{
    r->id = tenant_col_int64(s, 0);
    r->size = tenant_col_int64(s, 1);
    r->chunks = tenant_col_int64(s, 2);
    r->branch_id = tenant_col_int64(s, 3);
    r->teller_id = tenant_col_int64(s, 4);
    r->created_at = tenant_col_int64(s, 5);
    r->stored_at = tenant_col_is_null(s, 6) ? 0 : tenant_col_int64(s, 6);
    copy(r->sm3, sizeof r->sm3, tenant_col_text(s, 7));
    copy(r->kind, sizeof r->kind, tenant_col_text(s, 8));
    copy(r->state, sizeof r->state, tenant_col_text(s, 9));
    copy(r->mime, sizeof r->mime, tenant_col_text(s, 10));
    size_t n = 0;
    const void *blob = tenant_col_blob(s, 11, &n);
    r->name_sealed = NULL;
    r->name_len = 0;
    if (!n)
        return ADB_OK;
    if (borrow) {
        r->name_sealed = (uint8_t *)blob;
        r->name_len = n;
        return ADB_OK;
    }
    r->name_sealed = malloc(n);
    if (!r->name_sealed)
        return STORE_NOMEM;
    memcpy(r->name_sealed, blob, n);
    r->name_len = n;
    return ADB_OK;
}

/* One row by a key bound at placeholder 2 (text or integer). */
static int get_one(struct tenant_conn *tc, const char *sql, const char *text, int64_t num,
                   struct adb_row *r)
{
    struct tenant_stmt *s = NULL;
    memset(r, 0, sizeof *r);
    int rc = tenant_prepare(tc, sql, &s);
    if (rc == STORE_OK)
        rc = text ? tenant_bind_text(s, 2, text) : tenant_bind_int64(s, 2, num);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW)
        rc = read_row(s, r, false);
    else if (rc == STORE_DONE)
        rc = ADB_NONE;
    tenant_finish(s);
    return rc;
}

int adb_find_sm3(struct tenant_conn *tc, const char *sm3, struct adb_row *r)
{
    return get_one(tc, "SELECT " ROW_COLS " FROM attachments WHERE bank_id = ? AND sm3 = ?", sm3, 0,
                   r);
}

int adb_get(struct tenant_conn *tc, int64_t id, struct adb_row *r)
{
    return get_one(tc, "SELECT " ROW_COLS " FROM attachments WHERE bank_id = ? AND id = ?", NULL,
                   id, r);
}

int adb_insert(struct tenant_conn *tc, const struct adb_row *r)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "INSERT INTO attachments (bank_id, id, sm3, kind, size, chunks, "
                            "state, mime, name_sealed, branch_id, teller_id, created_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, r->id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, r->sm3);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, r->kind);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, r->size);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 6, r->chunks);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 7, ADB_UPLOADING);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 8, "");
    if (rc == STORE_OK)
        rc = tenant_bind_blob(s, 9, r->name_sealed, r->name_len);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 10, r->branch_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 11, r->teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 12, r->created_at);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return rc;
}

/* ADB_NONE unless the last statement changed exactly one row. */
static int one_changed(struct tenant_conn *tc, int rc)
{
    if (rc == ADB_OK && tenant_changes(tc) != 1)
        return ADB_NONE;
    return rc;
}

int adb_restart(struct tenant_conn *tc, const struct adb_row *r)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE attachments SET state = ?, kind = ?, size = ?, chunks = ?, "
                            "mime = ?, name_sealed = ?, branch_id = ?, teller_id = ?, "
                            "created_at = ? WHERE bank_id = ? AND id = ? AND state = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, ADB_UPLOADING);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, r->kind);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, r->size);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 4, r->chunks);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 5, "");
    if (rc == STORE_OK)
        rc = tenant_bind_blob(s, 6, r->name_sealed, r->name_len);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, r->branch_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 8, r->teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 9, r->created_at);
    /* 10 is the bank's */
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 11, r->id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 12, ADB_ABANDONED);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return one_changed(tc, rc);
}

int adb_set_kind(struct tenant_conn *tc, int64_t id, const char *kind)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc, "UPDATE attachments SET kind = ? WHERE bank_id = ? AND id = ? AND state = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, kind);
    /* 2 is the bank's */
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, ADB_UPLOADING);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return one_changed(tc, rc);
}

int adb_set_stored(struct tenant_conn *tc, int64_t id, const char *mime, int64_t at)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE attachments SET state = ?, mime = ?, stored_at = ? "
                            "WHERE bank_id = ? AND id = ? AND state = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, ADB_STORED);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, mime);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, at);
    /* 4 is the bank's */
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 6, ADB_UPLOADING);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return one_changed(tc, rc);
}

/* DELETE ... WHERE bank_id = ? AND attachment_id = ? */
static int delete_of(struct tenant_conn *tc, const char *sql, int64_t id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, sql, &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return rc;
}

int adb_abandon(struct tenant_conn *tc, int64_t id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE attachments SET state = ? WHERE bank_id = ? AND id = ? AND "
                            "state = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, ADB_ABANDONED);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, ADB_UPLOADING);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    rc = one_changed(tc, rc);
    if (rc == ADB_OK)
        rc = delete_of(tc, "DELETE FROM attach_chunks WHERE bank_id = ? AND attachment_id = ?", id);
    if (rc == ADB_OK)
        rc = delete_of(tc, "DELETE FROM attach_links WHERE bank_id = ? AND attachment_id = ?", id);
    return rc;
}

int adb_chunk_has(struct tenant_conn *tc, int64_t id, int64_t idx)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT idx FROM attach_chunks WHERE bank_id = ? AND attachment_id = ? "
                            "AND idx = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, idx);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW)
        rc = ADB_OK;
    else if (rc == STORE_DONE)
        rc = ADB_NONE;
    tenant_finish(s);
    return rc;
}

int adb_chunk_put(struct tenant_conn *tc, int64_t id, int64_t idx, size_t len,
                  const uint8_t *sealed, size_t n)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "INSERT INTO attach_chunks (bank_id, attachment_id, idx, len, sealed) "
                            "VALUES (?, ?, ?, ?, ?)",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, idx);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 4, (int64_t)len);
    if (rc == STORE_OK)
        rc = tenant_bind_blob(s, 5, sealed, n);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return rc;
}

int adb_chunk_get(struct tenant_conn *tc, int64_t id, int64_t idx, uint8_t **sealed, size_t *n)
{
    struct tenant_stmt *s = NULL;
    *sealed = NULL;
    *n = 0;
    int rc = tenant_prepare(tc,
                            "SELECT sealed FROM attach_chunks WHERE bank_id = ? AND "
                            "attachment_id = ? AND idx = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, idx);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        size_t len = 0;
        const void *blob = tenant_col_blob(s, 0, &len);
        *sealed = len ? malloc(len) : NULL;
        if (*sealed) {
            memcpy(*sealed, blob, len);
            *n = len;
            rc = ADB_OK;
        } else {
            rc = len ? STORE_NOMEM : STORE_ERR;
        }
    } else if (rc == STORE_DONE) {
        rc = ADB_NONE;
    }
    tenant_finish(s);
    return rc;
}

int adb_chunk_each(struct tenant_conn *tc, int64_t id, int (*fn)(int64_t idx, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT idx FROM attach_chunks WHERE bank_id = ? AND attachment_id = ? "
                            "ORDER BY idx",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        int stop = fn(tenant_col_int64(s, 0), arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return done(rc);
}

int adb_link_add(struct tenant_conn *tc, int64_t id, const char *kind, const char *ref,
                 int64_t teller_id, int64_t at)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT attachment_id FROM attach_links WHERE bank_id = ? AND "
                            "attachment_id = ? AND link_kind = ? AND link_ref = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, kind);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, ref);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    s = NULL;
    if (rc == STORE_ROW)
        return ADB_NONE;
    if (rc != STORE_DONE)
        return rc;
    rc = tenant_prepare(tc,
                        "INSERT INTO attach_links (bank_id, attachment_id, link_kind, link_ref, "
                        "teller_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, kind);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, ref);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 6, at);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return rc;
}

int adb_link_each(struct tenant_conn *tc, int64_t id,
                  int (*fn)(const char *kind, const char *ref, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT link_kind, link_ref FROM attach_links WHERE bank_id = ? AND "
                            "attachment_id = ? ORDER BY link_kind, link_ref",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        const char *k = tenant_col_text(s, 0), *r = tenant_col_text(s, 1);
        int stop = fn(k ? k : "", r ? r : "", arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return done(rc);
}

int adb_list_linked(struct tenant_conn *tc, const char *kind, const char *ref, int limit,
                    int (*fn)(const struct adb_row *r, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    /* Placeholders: 1 the attachments' bank, 2 the links' bank (both bound
     * by tenant_prepare), then 3.. */
    int rc = tenant_prepare(
        tc,
        "SELECT a.id, a.size, a.chunks, a.branch_id, a.teller_id, a.created_at, a.stored_at, "
        "a.sm3, a.kind, a.state, a.mime, a.name_sealed FROM attach_links l JOIN attachments a "
        "ON a.bank_id = ? AND a.id = l.attachment_id WHERE l.bank_id = ? AND l.link_kind = ? "
        "AND l.link_ref = ? AND a.state = ? ORDER BY a.id DESC LIMIT ?",
        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, kind);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, ref);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 5, ADB_STORED);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 6, limit);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct adb_row r;
        rc = read_row(s, &r, true);
        if (rc == ADB_OK) {
            int stop = fn(&r, arg);
            rc = stop ? stop : STORE_OK;
        }
    }
    tenant_finish(s);
    return done(rc);
}
