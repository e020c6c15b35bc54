/* wf_db.c — the workflow engine's tables (wf_db.h). */
#include "business/wf_db.h"

#include "business/customer_seal.h"
#include "channel/zy1.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIZ_COLS                                                                                   \
    "id, biz_no, kind, status, next_step, customer_id, branch_id, teller_id, created_at, "         \
    "updated_at"

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void row_of(struct tenant_stmt *s, struct wdb_biz *b)
{
    b->id = tenant_col_int64(s, 0);
    copy(b->biz_no, sizeof b->biz_no, tenant_col_text(s, 1));
    copy(b->kind, sizeof b->kind, tenant_col_text(s, 2));
    copy(b->status, sizeof b->status, tenant_col_text(s, 3));
    b->next_step = (int)tenant_col_int64(s, 4);
    b->customer_id = tenant_col_int64(s, 5);
    b->branch_id = tenant_col_int64(s, 6);
    b->teller_id = tenant_col_int64(s, 7);
    b->created_at = tenant_col_int64(s, 8);
    b->updated_at = tenant_col_int64(s, 9);
}

int wdb_insert(struct tenant_conn *tc, struct wdb_biz *b)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, "SELECT COALESCE(MAX(id), 0) + 1 FROM biz WHERE bank_id = ?", &s);
    if (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        b->id = tenant_col_int64(s, 0);
        rc = STORE_OK;
    }
    tenant_finish(s);
    if (rc != STORE_OK)
        return rc == STORE_DONE ? STORE_ERR : rc;
    wf_biz_no(tenant_scope(tc)->bank_id, b->id, b->biz_no);
    rc = tenant_prepare(
        tc, "INSERT INTO biz (bank_id, " BIZ_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, b->id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, b->biz_no);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, b->kind);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 5, b->status);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 6, b->next_step);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, b->customer_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 8, b->branch_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 9, b->teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 10, b->created_at);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 11, b->updated_at);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    return rc == STORE_DONE ? WDB_OK : rc;
}

int wdb_get(struct tenant_conn *tc, int64_t id, struct wdb_biz *b)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, "SELECT " BIZ_COLS " FROM biz WHERE bank_id = ? AND id = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW)
        row_of(s, b);
    tenant_finish(s);
    return rc == STORE_ROW ? WDB_OK : rc == STORE_DONE ? WDB_NONE : rc;
}

int wdb_update(struct tenant_conn *tc, const struct wdb_biz *b)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE biz SET status = ?, next_step = ?, customer_id = ?, "
                            "updated_at = ? WHERE bank_id = ? AND id = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, b->status);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, b->next_step);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, b->customer_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 4, b->updated_at);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 6, b->id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    return rc == STORE_DONE ? WDB_OK : rc;
}

static void step_context(int64_t bank, int64_t biz, int idx, char out[CS_CONTEXT_MAX])
{
    snprintf(out, CS_CONTEXT_MAX, "biz|%" PRId64 "|%" PRId64 "|%d", bank, biz, idx);
}

static void drop(json_t *j)
{
    if (j) {
        zy1_json_wipe(j);
        json_decref(j);
    }
}

void wdb_steps_free(struct wdb_step steps[WF_MAX_STEPS])
{
    for (int i = 0; i < WF_MAX_STEPS; i++) {
        drop(steps[i].out);
        drop(steps[i].keep);
        steps[i].out = steps[i].keep = NULL;
    }
}

int wdb_steps(struct tenant_conn *tc, const struct kek *k, const struct wdb_biz *b,
              struct wdb_step steps[WF_MAX_STEPS])
{
    memset(steps, 0, sizeof(struct wdb_step) * WF_MAX_STEPS);
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT idx, state, attempt, message, sealed, updated_at FROM "
                            "biz_steps WHERE bank_id = ? AND biz_id = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, b->id);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        int64_t i = tenant_col_int64(s, 0);
        rc = STORE_OK;
        if (i < 0 || i >= WF_MAX_STEPS)
            continue;
        struct wdb_step *st = &steps[i];
        st->ran = true;
        copy(st->state, sizeof st->state, tenant_col_text(s, 1));
        st->attempt = (int)tenant_col_int64(s, 2);
        copy(st->message, sizeof st->message, tenant_col_text(s, 3));
        st->updated_at = tenant_col_int64(s, 5);
        size_t n = 0;
        const void *blob = tenant_col_is_null(s, 4) ? NULL : tenant_col_blob(s, 4, &n);
        if (blob && n > 0) {
            char ctx[CS_CONTEXT_MAX];
            json_t *both = NULL;
            step_context(tenant_scope(tc)->bank_id, b->id, (int)i, ctx);
            if (cs_open_json(k, ctx, blob, n, &both) != CS_OK) {
                rc = STORE_ERR;
                break;
            }
            st->out = json_incref(json_object_get(both, "out"));
            st->keep = json_incref(json_object_get(both, "keep"));
            json_decref(both); /* its strings are out's and keep's: wiped with them */
        }
    }
    tenant_finish(s);
    if (rc == STORE_DONE)
        return WDB_OK;
    wdb_steps_free(steps);
    return rc == STORE_OK ? STORE_ERR : rc;
}

int wdb_step_put(struct tenant_conn *tc, const struct kek *k, const struct wdb_biz *b, int idx,
                 const char *name, const struct wdb_step *st)
{
    uint8_t *sealed = NULL;
    size_t n = 0;
    if (st->out || st->keep) {
        char ctx[CS_CONTEXT_MAX];
        json_t *both = json_pack("{s:O*,s:O*}", "out", st->out, "keep", st->keep);
        step_context(tenant_scope(tc)->bank_id, b->id, idx, ctx);
        int src = both ? cs_seal_json(k, ctx, both, &sealed, &n) : CS_ERR;
        json_decref(both); /* the strings are the caller's */
        if (src != CS_OK)
            return STORE_ERR;
    }
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE biz_steps SET state = ?, attempt = ?, message = ?, sealed = ?, "
                            "updated_at = ? WHERE bank_id = ? AND biz_id = ? AND idx = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, st->state);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, st->attempt);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, st->message);
    if (rc == STORE_OK)
        rc = sealed ? tenant_bind_blob(s, 4, sealed, n) : tenant_bind_null(s, 4);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, st->updated_at);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, b->id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 8, idx);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    if (rc == STORE_DONE && tenant_changes(tc) == 0) {
        rc = tenant_prepare(tc,
                            "INSERT INTO biz_steps (bank_id, biz_id, idx, step, state, attempt, "
                            "message, sealed, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            &s);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 2, b->id);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 3, idx);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 4, name);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 5, st->state);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 6, st->attempt);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 7, st->message);
        if (rc == STORE_OK)
            rc = sealed ? tenant_bind_blob(s, 8, sealed, n) : tenant_bind_null(s, 8);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 9, st->updated_at);
        if (rc == STORE_OK)
            rc = tenant_step(s);
        tenant_finish(s);
    }
    free(sealed);
    return rc == STORE_DONE ? WDB_OK : rc;
}

int wdb_list(struct tenant_conn *tc, int64_t teller, const char *status, const char *kind,
             int64_t before, int limit, int (*fn)(const struct wdb_biz *b, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT " BIZ_COLS " FROM biz WHERE bank_id = ? AND (? = 0 OR "
                            "teller_id = ?) AND (? = '' OR status = ?) AND (? = '' OR kind = ?) "
                            "AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, teller);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, teller);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, status);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 5, status);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 6, kind);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 7, kind);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 8, before);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 9, before);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 10, limit);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct wdb_biz b;
        row_of(s, &b);
        rc = fn(&b, arg);
    }
    tenant_finish(s);
    return rc == STORE_DONE ? WDB_OK : rc;
}
