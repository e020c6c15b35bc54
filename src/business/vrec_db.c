/* vrec_db.c — the table video_recordings (see vrec_db.h). */
#include "business/vrec_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS                                                                                       \
    "id, customer_id, branch_id, teller_id, call_id, biz_no, consent_by, consent_version, "        \
    "consent_at, state, room, janus_session, janus_handle, room_pin, room_secret, started_at, "    \
    "ended_at, duration_ms, size, sm3, files, error"

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void vdb_row_free(struct vdb_row *r)
{
    if (r) {
        free(r->files);
        r->files = NULL;
    }
}

static void read_row(struct tenant_stmt *s, struct vdb_row *r)
{
    r->id = tenant_col_int64(s, 0);
    r->customer_id = tenant_col_int64(s, 1);
    r->branch_id = tenant_col_int64(s, 2);
    r->teller_id = tenant_col_int64(s, 3);
    copy(r->call_id, sizeof r->call_id, tenant_col_text(s, 4));
    copy(r->biz_no, sizeof r->biz_no, tenant_col_text(s, 5));
    copy(r->consent_by, sizeof r->consent_by, tenant_col_text(s, 6));
    copy(r->consent_version, sizeof r->consent_version, tenant_col_text(s, 7));
    r->consent_at = tenant_col_int64(s, 8);
    copy(r->state, sizeof r->state, tenant_col_text(s, 9));
    r->room = tenant_col_int64(s, 10);
    r->janus_session = tenant_col_int64(s, 11);
    r->janus_handle = tenant_col_int64(s, 12);
    copy(r->room_pin, sizeof r->room_pin, tenant_col_text(s, 13));
    copy(r->room_secret, sizeof r->room_secret, tenant_col_text(s, 14));
    r->started_at = tenant_col_int64(s, 15);
    r->ended_at = tenant_col_int64(s, 16);
    r->duration_ms = tenant_col_int64(s, 17);
    r->size = tenant_col_int64(s, 18);
    copy(r->sm3, sizeof r->sm3, tenant_col_text(s, 19));
    const char *f = tenant_col_text(s, 20);
    r->files = strdup(f ? f : "[]");
    copy(r->error, sizeof r->error, tenant_col_text(s, 21));
}

int vdb_insert(struct tenant_conn *tc, struct vdb_row *r)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc, "SELECT COALESCE(MAX(id), 0) + 1 FROM video_recordings WHERE bank_id = ?", &s);
    if (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        r->id = tenant_col_int64(s, 0);
        rc = STORE_OK;
    }
    tenant_finish(s);
    if (rc != STORE_OK)
        return rc == STORE_DONE ? STORE_ERR : rc;
    rc = tenant_prepare(tc,
                        "INSERT INTO video_recordings (bank_id, " COLS ") VALUES (?, ?, ?, ?, ?, "
                        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &s);
    if (rc != STORE_OK)
        return rc;
    int i = 2;
    tenant_bind_int64(s, i++, r->id);
    tenant_bind_int64(s, i++, r->customer_id);
    tenant_bind_int64(s, i++, r->branch_id);
    tenant_bind_int64(s, i++, r->teller_id);
    tenant_bind_text(s, i++, r->call_id);
    tenant_bind_text(s, i++, r->biz_no);
    tenant_bind_text(s, i++, r->consent_by);
    tenant_bind_text(s, i++, r->consent_version);
    tenant_bind_int64(s, i++, r->consent_at);
    tenant_bind_text(s, i++, VDB_RECORDING);
    tenant_bind_int64(s, i++, r->room);
    tenant_bind_int64(s, i++, r->janus_session);
    tenant_bind_int64(s, i++, r->janus_handle);
    tenant_bind_text(s, i++, r->room_pin);
    tenant_bind_text(s, i++, r->room_secret);
    tenant_bind_int64(s, i++, r->started_at);
    tenant_bind_int64(s, i++, 0);
    tenant_bind_int64(s, i++, 0);
    tenant_bind_int64(s, i++, 0);
    tenant_bind_text(s, i++, "");
    tenant_bind_text(s, i++, "[]");
    tenant_bind_text(s, i++, "");
    rc = tenant_step(s);
    tenant_finish(s);
    return rc == STORE_DONE ? VDB_OK : rc;
}

static int get_by(struct tenant_conn *tc, const char *sql, const char *text, int64_t id,
                  struct vdb_row *r)
{
    struct tenant_stmt *s = NULL;
    memset(r, 0, sizeof *r);
    int rc = tenant_prepare(tc, sql, &s);
    if (rc != STORE_OK)
        return rc;
    if (text)
        tenant_bind_text(s, 2, text);
    else
        tenant_bind_int64(s, 2, id);
    rc = tenant_step(s);
    if (rc == STORE_ROW) {
        read_row(s, r);
        rc = r->files ? VDB_OK : STORE_NOMEM;
    } else if (rc == STORE_DONE) {
        rc = VDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

int vdb_get_call(struct tenant_conn *tc, const char *call_id, struct vdb_row *r)
{
    return get_by(tc, "SELECT " COLS " FROM video_recordings WHERE bank_id = ? AND call_id = ?",
                  call_id, 0, r);
}

int vdb_get(struct tenant_conn *tc, int64_t id, struct vdb_row *r)
{
    return get_by(tc, "SELECT " COLS " FROM video_recordings WHERE bank_id = ? AND id = ?", NULL,
                  id, r);
}

int vdb_finish(struct tenant_conn *tc, const struct vdb_row *r)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE video_recordings SET state = ?, ended_at = ?, duration_ms = ?, "
                            "size = ?, sm3 = ?, files = ?, error = ? WHERE bank_id = ? AND id = ? "
                            "AND state = 'recording'",
                            &s);
    if (rc != STORE_OK)
        return rc;
    tenant_bind_text(s, 1, r->state);
    tenant_bind_int64(s, 2, r->ended_at);
    tenant_bind_int64(s, 3, r->duration_ms);
    tenant_bind_int64(s, 4, r->size);
    tenant_bind_text(s, 5, r->sm3);
    tenant_bind_text(s, 6, r->files ? r->files : "[]");
    tenant_bind_text(s, 7, r->error);
    tenant_bind_int64(s, 9, r->id);
    rc = tenant_step(s);
    tenant_finish(s);
    if (rc != STORE_DONE)
        return rc;
    return tenant_changes(tc) == 1 ? VDB_OK : VDB_NONE;
}

int vdb_list(struct tenant_conn *tc, int64_t branch_id, int64_t before, int limit,
             int (*fn)(const struct vdb_row *r, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT " COLS " FROM video_recordings WHERE bank_id = ? AND id < ? "
                            "AND (? = 0 OR branch_id = ?) ORDER BY id DESC LIMIT ?",
                            &s);
    if (rc != STORE_OK)
        return rc;
    tenant_bind_int64(s, 2, before > 0 ? before : INT64_MAX);
    tenant_bind_int64(s, 3, branch_id);
    tenant_bind_int64(s, 4, branch_id);
    tenant_bind_int64(s, 5, limit);
    while ((rc = tenant_step(s)) == STORE_ROW) {
        struct vdb_row r;
        memset(&r, 0, sizeof r);
        read_row(s, &r);
        int stop = fn(&r, arg);
        vdb_row_free(&r);
        if (stop) {
            rc = STORE_DONE;
            break;
        }
    }
    tenant_finish(s);
    return rc == STORE_DONE ? VDB_OK : rc;
}

int vdb_sm3_of_biz(struct tenant_conn *tc, const char *biz_no, char sm3[65])
{
    struct tenant_stmt *s = NULL;
    sm3[0] = 0;
    int rc = tenant_prepare(tc,
                            "SELECT sm3 FROM video_recordings WHERE bank_id = ? AND biz_no = ? AND "
                            "state = 'stored' ORDER BY id DESC LIMIT 1",
                            &s);
    if (rc != STORE_OK)
        return rc;
    tenant_bind_text(s, 2, biz_no);
    rc = tenant_step(s);
    if (rc == STORE_ROW) {
        copy(sm3, 65, tenant_col_text(s, 0));
        rc = VDB_OK;
    } else if (rc == STORE_DONE) {
        rc = VDB_NONE;
    }
    tenant_finish(s);
    return rc;
}
