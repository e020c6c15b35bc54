/* visit_db — the visit tables, read and written only through a tenant
 * scope (data/tenant.h): every statement confined to the scope's bank.
 *
 * Tables (migration 12, src/data/migrations.c); business tables like the
 * customers' (customer_db.h): bank_id first in every key, ids numbered per
 * bank (MAX(id) + 1 within the bank, writers serialised), teller, branch
 * and customer ids plain numbers, no join with identity tables:
 *   visit_tasks  (bank_id, id): one visit to make on task_day (YYYYMMDD)
 *                by teller_id of branch_id; source 'grid' (grid_ref the
 *                household's reference; unique per bank and day) or
 *                'manager' (assigned_by the branch manager); customer_id
 *                or a household (target: JSON of what to show); the known
 *                position (micro-degrees; NULL: none); leads (JSON array
 *                [{"product","score"?}]); status 'open' | 'done' (visit_id
 *                the visit that closed it).
 *   visits       (bank_id, id): one check-in: who, the task and / or the
 *                customer, GPS position, time, outcome, notes, photos
 *                (JSON array of attachment ids), next step, distance_m from
 *                the known position (NULL: none known) and far (0/1).
 *   visit_leads  (bank_id, id): a lead a visit opened (product, note,
 *                status 'open').
 *
 * Every function returns VDB_OK, VDB_NONE (no such row in the scope's
 * bank) or a negative store status. */
#ifndef ZHANYE_VISIT_DB_H
#define ZHANYE_VISIT_DB_H

#include "data/tenant.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { VDB_OK = 0, VDB_NONE = 1 };

enum vdb_table { VDB_TASKS, VDB_VISITS, VDB_LEADS };

#define VDB_REF_MAX 64
#define VDB_NOTE_MAX 300

struct vdb_task {
    int64_t id, teller_id, branch_id, customer_id, visit_id, assigned_by, created_at, updated_at;
    int32_t day;
    char source[10];
    char grid_ref[VDB_REF_MAX + 1]; /* "": none */
    char *target;                   /* JSON object text; malloc'd by reads */
    bool has_pos;
    int64_t lat_e6, lon_e6;
    char *leads; /* JSON array text; malloc'd by reads */
    char note[VDB_NOTE_MAX + 1];
    char status[8];
};

struct vdb_visit {
    int64_t id, teller_id, branch_id, task_id, customer_id; /* 0: none */
    int64_t lat_e6, lon_e6, at, created_at;
    const char *outcome, *notes, *photos, *next_step; /* photos: JSON array text */
    bool has_distance;
    int64_t distance_m;
    bool far;
};

struct vdb_lead {
    int64_t id, visit_id, task_id, customer_id, teller_id, branch_id, created_at;
    const char *product, *note;
};

/* The next id of the table in the bank. */
int vdb_next_id(struct tenant_conn *tc, enum vdb_table t, int64_t *id);

int vdb_task_insert(struct tenant_conn *tc, const struct vdb_task *t);
/* The task of the day whose grid_ref it is, or VDB_NONE. */
int vdb_task_find_grid(struct tenant_conn *tc, int32_t day, const char *grid_ref, int64_t *id);
/* Reads task id; t->target and t->leads are malloc'd (vdb_task_free). */
int vdb_task_get(struct tenant_conn *tc, int64_t id, struct vdb_task *t);
/* teller_id's open tasks of day, by id; fn gets each (its strings live
 * during the call only) and returns non-zero to stop. */
int vdb_tasks_open(struct tenant_conn *tc, int64_t teller_id, int32_t day,
                   int (*fn)(const struct vdb_task *t, void *arg), void *arg);
/* Marks the open task done by visit_id; VDB_NONE if it was not open. */
int vdb_task_close(struct tenant_conn *tc, int64_t id, int64_t visit_id, int64_t now);
void vdb_task_free(struct vdb_task *t);

/* The known position of customer_id: that of their latest task that has
 * one, or VDB_NONE. */
int vdb_customer_position(struct tenant_conn *tc, int64_t customer_id, int64_t *lat_e6,
                          int64_t *lon_e6);

int vdb_visit_insert(struct tenant_conn *tc, const struct vdb_visit *v);
/* VDB_OK if visit id is one of the scope's bank, else VDB_NONE. */
int vdb_visit_exists(struct tenant_conn *tc, int64_t id);
int vdb_lead_insert(struct tenant_conn *tc, const struct vdb_lead *l);

#endif
