/* visit_db.c — the visit tables through the tenant scope (see visit_db.h).
 * The bank's placeholder is bound by tenant_prepare; the others are
 * numbered around it as tenant.h says. */
#include "business/visit_db.h"

#include "business/biz_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_COLS                                                                                  \
    "id, task_day, teller_id, branch_id, source, grid_ref, customer_id, target, lat_e6, lon_e6, "  \
    "leads, note, status, visit_id, assigned_by, created_at, updated_at"

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int done(int rc)
{
    return rc == STORE_DONE ? VDB_OK : rc;
}

int vdb_next_id(struct tenant_conn *tc, enum vdb_table t, int64_t *id)
{
    static const char *const SQL[] = {
        [VDB_TASKS] = "SELECT COALESCE(MAX(id), 0) + 1 FROM visit_tasks WHERE bank_id = ?",
        [VDB_VISITS] = "SELECT COALESCE(MAX(id), 0) + 1 FROM visits WHERE bank_id = ?",
        [VDB_LEADS] = "SELECT COALESCE(MAX(id), 0) + 1 FROM visit_leads WHERE bank_id = ?",
    };
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, SQL[t], &s);
    if (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = VDB_OK;
    }
    tenant_finish(s);
    return rc == STORE_DONE ? STORE_ERR : rc;
}

int vdb_task_insert(struct tenant_conn *tc, const struct vdb_task *t)
{
    return BDB_EXEC(
        tc,
        "INSERT INTO visit_tasks (bank_id, " TASK_COLS ") VALUES (?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        1, BDB_I(t->id), BDB_I(t->day), BDB_I(t->teller_id), BDB_I(t->branch_id), BDB_S(t->source),
        BDB_S_OPT(t->grid_ref), BDB_I_OPT(t->customer_id > 0, t->customer_id),
        BDB_S(t->target ? t->target : "{}"), BDB_I_OPT(t->has_pos, t->lat_e6),
        BDB_I_OPT(t->has_pos, t->lon_e6), BDB_S(t->leads ? t->leads : "[]"), BDB_S(t->note),
        BDB_S(t->status[0] ? t->status : "open"), BDB_I_OPT(t->visit_id > 0, t->visit_id),
        BDB_I(t->assigned_by), BDB_I(t->created_at), BDB_I(t->updated_at));
}

int vdb_task_find_grid(struct tenant_conn *tc, int32_t day, const char *grid_ref, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc, "SELECT id FROM visit_tasks WHERE bank_id = ? AND task_day = ? AND grid_ref = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, day);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, grid_ref);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = VDB_OK;
    } else if (rc == STORE_DONE) {
        rc = VDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

/* The TASK_COLS of the current row into t; target and leads point into the
 * statement (copied by the caller when kept). */
static void read_task(struct tenant_stmt *s, struct vdb_task *t)
{
    memset(t, 0, sizeof *t);
    t->id = tenant_col_int64(s, 0);
    t->day = (int32_t)tenant_col_int64(s, 1);
    t->teller_id = tenant_col_int64(s, 2);
    t->branch_id = tenant_col_int64(s, 3);
    copy(t->source, sizeof t->source, tenant_col_text(s, 4));
    copy(t->grid_ref, sizeof t->grid_ref, tenant_col_text(s, 5));
    t->customer_id = tenant_col_is_null(s, 6) ? 0 : tenant_col_int64(s, 6);
    t->target = (char *)tenant_col_text(s, 7);
    t->has_pos = !tenant_col_is_null(s, 8) && !tenant_col_is_null(s, 9);
    t->lat_e6 = tenant_col_int64(s, 8);
    t->lon_e6 = tenant_col_int64(s, 9);
    t->leads = (char *)tenant_col_text(s, 10);
    copy(t->note, sizeof t->note, tenant_col_text(s, 11));
    copy(t->status, sizeof t->status, tenant_col_text(s, 12));
    t->visit_id = tenant_col_is_null(s, 13) ? 0 : tenant_col_int64(s, 13);
    t->assigned_by = tenant_col_int64(s, 14);
    t->created_at = tenant_col_int64(s, 15);
    t->updated_at = tenant_col_int64(s, 16);
}

int vdb_task_get(struct tenant_conn *tc, int64_t id, struct vdb_task *t)
{
    struct tenant_stmt *s = NULL;
    memset(t, 0, sizeof *t);
    int rc = tenant_prepare(
        tc, "SELECT " TASK_COLS " FROM visit_tasks WHERE bank_id = ? AND id = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        read_task(s, t);
        t->target = strdup(t->target ? t->target : "{}");
        t->leads = strdup(t->leads ? t->leads : "[]");
        rc = t->target && t->leads ? VDB_OK : STORE_NOMEM;
        if (rc != VDB_OK)
            vdb_task_free(t);
    } else if (rc == STORE_DONE) {
        rc = VDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

int vdb_tasks_open(struct tenant_conn *tc, int64_t teller_id, int32_t day,
                   int (*fn)(const struct vdb_task *t, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT " TASK_COLS " FROM visit_tasks WHERE bank_id = ? AND "
                            "teller_id = ? AND task_day = ? AND status = 'open' ORDER BY id",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, day);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct vdb_task t;
        read_task(s, &t);
        int stop = fn(&t, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return done(rc);
}

int vdb_task_close(struct tenant_conn *tc, int64_t id, int64_t visit_id, int64_t now)
{
    int rc = BDB_EXEC(tc,
                      "UPDATE visit_tasks SET status = 'done', visit_id = ?, updated_at = ? "
                      "WHERE bank_id = ? AND id = ? AND status = 'open'",
                      3, BDB_I(visit_id), BDB_I(now), BDB_I(id));
    if (rc == VDB_OK && tenant_changes(tc) != 1)
        rc = VDB_NONE;
    return rc;
}

void vdb_task_free(struct vdb_task *t)
{
    free(t->target);
    free(t->leads);
    t->target = t->leads = NULL;
}

int vdb_customer_position(struct tenant_conn *tc, int64_t customer_id, int64_t *lat_e6,
                          int64_t *lon_e6)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT lat_e6, lon_e6 FROM visit_tasks WHERE bank_id = ? AND "
                            "customer_id = ? AND lat_e6 IS NOT NULL AND lon_e6 IS NOT NULL "
                            "ORDER BY id DESC LIMIT 1",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, customer_id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *lat_e6 = tenant_col_int64(s, 0);
        *lon_e6 = tenant_col_int64(s, 1);
        rc = VDB_OK;
    } else if (rc == STORE_DONE) {
        rc = VDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

int vdb_visit_exists(struct tenant_conn *tc, int64_t id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, "SELECT id FROM visits WHERE bank_id = ? AND id = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    return rc == STORE_ROW ? VDB_OK : rc == STORE_DONE ? VDB_NONE : rc;
}

int vdb_visit_insert(struct tenant_conn *tc, const struct vdb_visit *v)
{
    return BDB_EXEC(
        tc,
        "INSERT INTO visits (bank_id, id, teller_id, branch_id, task_id, "
        "customer_id, lat_e6, lon_e6, visited_at, outcome, notes, photos, "
        "next_step, distance_m, far, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?)",
        1, BDB_I(v->id), BDB_I(v->teller_id), BDB_I(v->branch_id),
        BDB_I_OPT(v->task_id > 0, v->task_id), BDB_I_OPT(v->customer_id > 0, v->customer_id),
        BDB_I(v->lat_e6), BDB_I(v->lon_e6), BDB_I(v->at), BDB_S(v->outcome), BDB_S(v->notes),
        BDB_S(v->photos), BDB_S(v->next_step), BDB_I_OPT(v->has_distance, v->distance_m),
        BDB_I(v->far ? 1 : 0), BDB_I(v->created_at));
}

int vdb_lead_insert(struct tenant_conn *tc, const struct vdb_lead *l)
{
    return BDB_EXEC(tc,
                    "INSERT INTO visit_leads (bank_id, id, visit_id, task_id, customer_id, "
                    "product, note, status, teller_id, branch_id, created_at) VALUES (?, "
                    "?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                    1, BDB_I(l->id), BDB_I(l->visit_id), BDB_I_OPT(l->task_id > 0, l->task_id),
                    BDB_I_OPT(l->customer_id > 0, l->customer_id), BDB_S(l->product),
                    BDB_S(l->note ? l->note : ""), BDB_I(l->teller_id), BDB_I(l->branch_id),
                    BDB_I(l->created_at));
}
