/* visit_admin.c — the back office's visit reads (see visit_admin.h). */
#include "business/visit_admin.h"

#include "business/biz_db.h"

#include <stdio.h>
#include <string.h>

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int done(int rc)
{
    return rc == STORE_DONE ? VDB_OK : rc;
}

/* Binds the filter's four pairs from position 2: (? = 0 OR col = ?) each. */
static int bind_pairs(struct tenant_stmt *s, const int64_t v[4])
{
    int rc = STORE_OK;
    for (int i = 0; i < 4 && rc == STORE_OK; i++) {
        rc = tenant_bind_int64(s, 2 + 2 * i, v[i]);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 3 + 2 * i, v[i]);
    }
    return rc;
}

int vadm_tasks(struct tenant_conn *tc, const struct vadm_filter *f,
               int (*fn)(const struct vdb_task *t, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc,
        "SELECT id, task_day, teller_id, branch_id, source, customer_id, target, leads, note, "
        "status, visit_id, assigned_by, created_at, updated_at FROM visit_tasks WHERE bank_id = ? "
        "AND (? = 0 OR branch_id = ?) AND (? = 0 OR teller_id = ?) AND (? = 0 OR customer_id = ?) "
        "AND (? = 0 OR task_day >= ?) AND (? = 0 OR task_day <= ?) ORDER BY id DESC LIMIT ?",
        &s);
    const int64_t v[4] = {f->branch_id, f->teller_id, f->customer_id, f->day_from};
    if (rc == STORE_OK)
        rc = bind_pairs(s, v);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 10, f->day_to);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 11, f->day_to);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 12, f->limit);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct vdb_task t;
        memset(&t, 0, sizeof t);
        t.id = tenant_col_int64(s, 0);
        t.day = (int32_t)tenant_col_int64(s, 1);
        t.teller_id = tenant_col_int64(s, 2);
        t.branch_id = tenant_col_int64(s, 3);
        copy(t.source, sizeof t.source, tenant_col_text(s, 4));
        t.customer_id = tenant_col_is_null(s, 5) ? 0 : tenant_col_int64(s, 5);
        t.target = (char *)tenant_col_text(s, 6);
        t.leads = (char *)tenant_col_text(s, 7);
        copy(t.note, sizeof t.note, tenant_col_text(s, 8));
        copy(t.status, sizeof t.status, tenant_col_text(s, 9));
        t.visit_id = tenant_col_is_null(s, 10) ? 0 : tenant_col_int64(s, 10);
        t.assigned_by = tenant_col_int64(s, 11);
        t.created_at = tenant_col_int64(s, 12);
        t.updated_at = tenant_col_int64(s, 13);
        int stop = fn(&t, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return done(rc);
}

int vadm_visits(struct tenant_conn *tc, const struct vadm_filter *f,
                int (*fn)(const struct vdb_visit *v, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc,
        "SELECT id, teller_id, branch_id, task_id, customer_id, lat_e6, lon_e6, visited_at, "
        "outcome, notes, photos, next_step, distance_m, far, created_at FROM visits WHERE "
        "bank_id = ? AND (? = 0 OR branch_id = ?) AND (? = 0 OR teller_id = ?) AND (? = 0 OR "
        "customer_id = ?) AND (? = 0 OR visited_at >= ?) AND (? = 0 OR visited_at < ?) ORDER BY "
        "id DESC LIMIT ?",
        &s);
    const int64_t v[4] = {f->branch_id, f->teller_id, f->customer_id, f->at_from};
    if (rc == STORE_OK)
        rc = bind_pairs(s, v);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 10, f->at_to);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 11, f->at_to);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 12, f->limit);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct vdb_visit x = {
            .id = tenant_col_int64(s, 0),
            .teller_id = tenant_col_int64(s, 1),
            .branch_id = tenant_col_int64(s, 2),
            .task_id = tenant_col_is_null(s, 3) ? 0 : tenant_col_int64(s, 3),
            .customer_id = tenant_col_is_null(s, 4) ? 0 : tenant_col_int64(s, 4),
            .lat_e6 = tenant_col_int64(s, 5),
            .lon_e6 = tenant_col_int64(s, 6),
            .at = tenant_col_int64(s, 7),
            .outcome = tenant_col_text(s, 8),
            .notes = tenant_col_text(s, 9),
            .photos = tenant_col_text(s, 10),
            .next_step = tenant_col_text(s, 11),
            .has_distance = !tenant_col_is_null(s, 12),
            .distance_m = tenant_col_int64(s, 12),
            .far = tenant_col_int64(s, 13) != 0,
            .created_at = tenant_col_int64(s, 14),
        };
        int stop = fn(&x, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return done(rc);
}

int vadm_task_reassign(struct tenant_conn *tc, int64_t id, int64_t teller_id, int64_t branch_id,
                       int64_t now)
{
    int rc = BDB_EXEC(tc,
                      "UPDATE visit_tasks SET teller_id = ?, branch_id = ?, updated_at = ? "
                      "WHERE bank_id = ? AND id = ? AND status = 'open'",
                      4, BDB_I(teller_id), BDB_I(branch_id), BDB_I(now), BDB_I(id));
    if (rc == VDB_OK && tenant_changes(tc) != 1)
        rc = VDB_NONE;
    return rc;
}
