/* visit.c — VISIT_TASKS, VISIT_CHECKIN and visit_assign (see visit.h).
 * Everything goes through the tenant scope. */
#include "business/visit.h"
#include "business/biz.h"

#include "business/customer_db.h"
#include "business/perf.h"
#include "business/visit_db.h"
#include "business/visit_geo.h"
#include "business/visit_input.h"
#include "foundation/clock.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANK_UTC_OFFSET_S (8 * 3600) /* China Standard Time, no DST */
#define TASKS_MAX 500                /* a day's list is cut here */

int32_t visit_today(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000 + BANK_UTC_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

static void bad_member(struct tx_ctx *c, const struct vi_error *e)
{
    tx_failf(c, ZE_BAD_REQUEST, "data.%s: %s", e->field, e->msg);
}

/* Does customer id exist in the scope's bank? VDB_OK, VDB_NONE or an error. */
static int customer_exists(struct tenant_conn *tc, int64_t id)
{
    struct cdb_row r;
    int rc = cdb_get(tc, id, &r);
    cdb_row_free(&r);
    return rc == CDB_OK ? VDB_OK : rc == CDB_NONE ? VDB_NONE : rc;
}

/* ---- VISIT_TASKS ------------------------------------------------------------------- */

struct tasks_out {
    json_t *items;
    struct vg_item *order;
    size_t n;
};

/* The answer's item of one task. */
static json_t *task_json(const struct vdb_task *t)
{
    char date[11];
    vi_day_text(t->day, date);
    json_t *target = json_loads(t->target ? t->target : "{}", 0, NULL);
    json_t *leads = json_loads(t->leads ? t->leads : "[]", 0, NULL);
    json_t *item = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s}", "task_id", (json_int_t)t->id, "date",
                             date, "source", t->source, "status", t->status, "leads",
                             leads ? leads : json_array(), "note", t->note);
    if (item && json_is_object(target))
        json_object_update(item, target); /* "customer" or "household" and "cell" */
    json_decref(target);
    if (item && t->customer_id > 0)
        json_object_set_new(item, "customer_id", json_integer(t->customer_id));
    if (item && t->has_pos) {
        json_object_set_new(item, "lat", json_real(vg_deg(t->lat_e6)));
        json_object_set_new(item, "lon", json_real(vg_deg(t->lon_e6)));
    }
    return item;
}

static int task_item(const struct vdb_task *t, void *arg)
{
    struct tasks_out *o = arg;
    if (o->n == TASKS_MAX)
        return 0;
    json_t *item = task_json(t);
    if (!item || json_array_append_new(o->items, item) != 0)
        return STORE_NOMEM;
    o->order[o->n] = (struct vg_item){.id = t->id,
                                      .has_pos = t->has_pos,
                                      .lat = vg_deg(t->lat_e6),
                                      .lon = vg_deg(t->lon_e6),
                                      .index = o->n};
    o->n++;
    return 0;
}

/* The items in the order of o->order, with their distances when asked. */
static json_t *ordered(struct tasks_out *o, bool by_distance)
{
    json_t *out = json_array();
    for (size_t i = 0; out && i < o->n; i++) {
        json_t *item = json_array_get(o->items, o->order[i].index);
        if (by_distance && o->order[i].has_pos)
            json_object_set_new(item, "distance_m", json_integer(llround(o->order[i].distance_m)));
        json_array_append(out, item);
    }
    return out;
}

static enum tx_result tx_tasks(struct tx_ctx *c)
{
    struct vi_error e = {0};
    const struct scope *sc = tenant_scope(c->tenant);
    int32_t day = visit_today();
    double lat = 0, lon = 0;
    bool here = false;
    json_t *d = json_object_get(c->in, "date");
    if ((d && vi_date(d, "date", &day, &e) != VI_OK) ||
        vi_position(c->in, false, &lat, &lon, &here, &e) != VI_OK) {
        bad_member(c, &e);
        return TX_COMMIT;
    }
    struct tasks_out o = {.items = json_array(), .order = calloc(TASKS_MAX, sizeof *o.order)};
    enum tx_result res = TX_ROLLBACK;
    char actor[AUDIT_ACTOR_MAX + 1], date[11];
    if (!o.items || !o.order)
        goto out;
    if (vdb_tasks_open(c->tenant, sc->teller_id, day, task_item, &o) != VDB_OK)
        goto out;
    if (here)
        vg_sort(o.order, o.n, lat, lon);
    json_t *items = ordered(&o, here);
    if (!items)
        goto out;
    vi_day_text(day, date);
    json_object_set_new(c->out, "date", json_string(date));
    json_object_set_new(c->out, "items", items);
    biz_actor(c, actor);
    if (audit_tenantf(c->tenant, actor, "visit.tasks_listed", "", "{s:s, s:I}", "date", date,
                      "results", (json_int_t)o.n) != ID_OK)
        goto out;
    res = TX_COMMIT;
out:
    json_decref(o.items);
    free(o.order);
    return res;
}

/* ---- VISIT_CHECKIN ----------------------------------------------------------------- */

/* The task named, checked: VDB_OK (open, the teller's), else answered
 * (VDB_NONE) or an error. */
static int checkin_task(struct tx_ctx *c, struct vi_checkin *in, struct vdb_task *t)
{
    const struct scope *sc = tenant_scope(c->tenant);
    int rc = vdb_task_get(c->tenant, in->task_id, t);
    if (rc == VDB_OK && t->teller_id != sc->teller_id) {
        vdb_task_free(t);
        rc = VDB_NONE;
    }
    if (rc == VDB_NONE) {
        tx_fail(c, ZE_VISIT_TASK_NOT_FOUND);
        return VDB_NONE;
    }
    if (rc != VDB_OK)
        return rc;
    if (strcmp(t->status, "open") != 0) {
        tx_fail(c, ZE_VISIT_TASK_CLOSED);
        json_object_set_new(c->out, "visit_id", json_integer(t->visit_id));
        return VDB_NONE;
    }
    if (in->customer_id && t->customer_id && in->customer_id != t->customer_id) {
        tx_failf(c, ZE_BAD_REQUEST, "data.customer_id: 与走访任务的客户不一致");
        return VDB_NONE;
    }
    if (!in->customer_id)
        in->customer_id = t->customer_id;
    return VDB_OK;
}

/* The customer's own position (lat, lon of the record), if it has one. */
static int own_position(struct tx_ctx *c, int64_t customer_id, bool *has, int64_t *lat_e6,
                        int64_t *lon_e6)
{
    json_t *rec = NULL;
    *has = false;
    int rc = cdb_load(c->tenant, c->env->kek, customer_id, &rec);
    if (rc == CDB_OK) {
        json_t *la = json_object_get(rec, "lat"), *lo = json_object_get(rec, "lon");
        if (json_is_number(la) && json_is_number(lo)) {
            *has = true;
            *lat_e6 = vg_e6(json_number_value(la));
            *lon_e6 = vg_e6(json_number_value(lo));
        }
    }
    biz_drop(rec);
    return rc == CDB_OK || rc == CDB_NONE ? VDB_OK : rc < 0 ? rc : STORE_ERR;
}

/* The known position: the customer's own (their record's lat, lon), else
 * the task's, else that of the customer's latest task with one; *has false
 * if none. */
static int known_position(struct tx_ctx *c, const struct vi_checkin *in, const struct vdb_task *t,
                          bool *has, int64_t *lat_e6, int64_t *lon_e6)
{
    *has = false;
    if (in->customer_id) {
        int rc = own_position(c, in->customer_id, has, lat_e6, lon_e6);
        if (rc != VDB_OK || *has)
            return rc;
    }
    if (t->has_pos) {
        *has = true;
        *lat_e6 = t->lat_e6;
        *lon_e6 = t->lon_e6;
        return VDB_OK;
    }
    if (!in->customer_id)
        return VDB_OK;
    int rc = vdb_customer_position(c->tenant, in->customer_id, lat_e6, lon_e6);
    *has = rc == VDB_OK;
    return rc == VDB_NONE ? VDB_OK : rc;
}

/* Writes the visit, the task's closing, the lead and the audit record. */
static int write_visit(struct tx_ctx *c, const struct vi_checkin *in, struct vdb_visit *v,
                       int64_t *lead_id)
{
    const struct scope *sc = tenant_scope(c->tenant);
    char *photos = json_dumps(in->photos, JSON_COMPACT);
    int rc = photos ? vdb_next_id(c->tenant, VDB_VISITS, &v->id) : STORE_NOMEM;
    v->photos = photos;
    if (rc == VDB_OK)
        rc = vdb_visit_insert(c->tenant, v);
    if (rc == VDB_OK && v->task_id)
        rc = vdb_task_close(c->tenant, v->task_id, v->id, v->created_at);
    *lead_id = 0;
    if (rc == VDB_OK && in->open_lead && (rc = vdb_next_id(c->tenant, VDB_LEADS, lead_id)) == 0) {
        struct vdb_lead l = {.id = *lead_id,
                             .visit_id = v->id,
                             .task_id = v->task_id,
                             .customer_id = v->customer_id,
                             .teller_id = sc->teller_id,
                             .branch_id = sc->branch_id,
                             .created_at = v->created_at,
                             .product = in->product,
                             .note = in->lead_note};
        rc = vdb_lead_insert(c->tenant, &l);
    }
    if (rc == VDB_OK)
        rc = perf_visit(c->tenant, v->outcome, in->open_lead, v->created_at);
    free(photos);
    v->photos = NULL;
    if (rc != VDB_OK)
        return rc == VDB_NONE ? STORE_ERR : rc; /* the task closed under us: cannot be */
    char actor[AUDIT_ACTOR_MAX + 1], target[32];
    biz_actor(c, actor);
    snprintf(target, sizeof target, "visit:%" PRId64, v->id);
    json_t *detail =
        json_pack("{s:s, s:b, s:I, s:b}", "outcome", v->outcome, "far", v->far, "photos",
                  (json_int_t)json_array_size(in->photos), "lead", in->open_lead);
    if (!detail)
        return STORE_NOMEM;
    if (v->task_id)
        json_object_set_new(detail, "task_id", json_integer(v->task_id));
    if (v->customer_id)
        json_object_set_new(detail, "customer_id", json_integer(v->customer_id));
    if (v->has_distance)
        json_object_set_new(detail, "distance_m", json_integer(v->distance_m));
    char *text = json_dumps(detail, JSON_COMPACT);
    json_decref(detail);
    rc = text ? audit_tenant(c->tenant, actor, "visit.checked_in", target, text) : ID_ERR;
    free(text);
    return rc == ID_OK ? VDB_OK : STORE_ERR;
}

static enum tx_result tx_checkin(struct tx_ctx *c)
{
    struct vi_error e = {0};
    struct vi_checkin in;
    struct vdb_task t = {0};
    const struct scope *sc = tenant_scope(c->tenant);
    int64_t now = clock_wall_ms();
    if (vi_checkin(c->in, now, &in, &e) != VI_OK) {
        bad_member(c, &e);
        return TX_COMMIT;
    }
    enum tx_result res = TX_ROLLBACK;
    int rc = in.task_id ? checkin_task(c, &in, &t) : VDB_OK;
    if (rc == VDB_OK && in.customer_id &&
        (rc = customer_exists(c->tenant, in.customer_id)) == VDB_NONE)
        tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
    if (rc == VDB_NONE)
        res = TX_COMMIT;
    if (rc != VDB_OK)
        goto out;
    struct vdb_visit v = {.teller_id = sc->teller_id,
                          .branch_id = sc->branch_id,
                          .task_id = in.task_id,
                          .customer_id = in.customer_id,
                          .lat_e6 = vg_e6(in.lat),
                          .lon_e6 = vg_e6(in.lon),
                          .at = in.at,
                          .created_at = now,
                          .outcome = in.outcome,
                          .notes = in.notes,
                          .next_step = in.next_step};
    int64_t klat = 0, klon = 0, lead_id = 0;
    if (known_position(c, &in, &t, &v.has_distance, &klat, &klon) != VDB_OK)
        goto out;
    if (v.has_distance) {
        double dm = vg_distance_m(in.lat, in.lon, vg_deg(klat), vg_deg(klon));
        v.distance_m = llround(dm);
        v.far = dm > VG_FAR_M;
    }
    if (write_visit(c, &in, &v, &lead_id) != VDB_OK)
        goto out;
    json_object_set_new(c->out, "visit_id", json_integer(v.id));
    if (v.task_id)
        json_object_set_new(c->out, "task_id", json_integer(v.task_id));
    if (v.customer_id)
        json_object_set_new(c->out, "customer_id", json_integer(v.customer_id));
    json_object_set_new(c->out, "far", json_boolean(v.far));
    if (v.has_distance)
        json_object_set_new(c->out, "distance_m", json_integer(v.distance_m));
    if (lead_id)
        json_object_set_new(c->out, "lead_id", json_integer(lead_id));
    res = TX_COMMIT;
out:
    vdb_task_free(&t);
    vi_checkin_free(&in);
    return res;
}

/* ---- assignment (the console) ------------------------------------------------------ */

int visit_assign(struct tenant_conn *tc, const struct visit_assign *a, int64_t *task_id)
{
    const struct scope *sc = tenant_scope(tc);
    struct cdb_row r;
    int rc = cdb_get(tc, a->customer_id, &r);
    if (rc == CDB_NONE)
        return VISIT_NO_CUSTOMER;
    if (rc != CDB_OK)
        return rc;
    json_t *target = json_pack("{s:{s:I, s:s}}", "customer", "customer_id",
                               (json_int_t)a->customer_id, "name", r.name);
    cdb_row_free(&r);
    json_t *leads =
        a->product && a->product[0] ? json_pack("[{s:s}]", "product", a->product) : json_array();
    struct vdb_task t = {.teller_id = a->teller_id,
                         .branch_id = sc->branch_id,
                         .customer_id = a->customer_id,
                         .day = a->day,
                         .has_pos = a->has_pos,
                         .lat_e6 = a->has_pos ? vg_e6(a->lat) : 0,
                         .lon_e6 = a->has_pos ? vg_e6(a->lon) : 0,
                         .assigned_by = sc->teller_id,
                         .created_at = clock_wall_ms()};
    t.updated_at = t.created_at;
    snprintf(t.source, sizeof t.source, "manager");
    snprintf(t.status, sizeof t.status, "open");
    snprintf(t.note, sizeof t.note, "%s", a->note ? a->note : "");
    t.target = target ? json_dumps(target, JSON_COMPACT) : NULL;
    t.leads = leads ? json_dumps(leads, JSON_COMPACT) : NULL;
    json_decref(target);
    json_decref(leads);
    rc = t.target && t.leads ? vdb_next_id(tc, VDB_TASKS, &t.id) : STORE_NOMEM;
    if (rc == VDB_OK)
        rc = vdb_task_insert(tc, &t);
    if (rc == VDB_OK) {
        char target_s[32], date[11];
        snprintf(target_s, sizeof target_s, "visit_task:%" PRId64, t.id);
        vi_day_text(a->day, date);
        rc = audit_tenantf(tc, a->actor, "visit.assigned", target_s, "{s:I, s:I, s:s}", "assignee",
                           (json_int_t)a->teller_id, "customer_id", (json_int_t)a->customer_id,
                           "date", date) == ID_OK
                 ? VISIT_OK
                 : STORE_ERR;
    }
    if (rc == VISIT_OK)
        *task_id = t.id;
    vdb_task_free(&t);
    return rc;
}

/* ---- the definitions --------------------------------------------------------------- */

static const struct tx_field F_TASKS[] = {
    {.name = "date", .type = TXF_STRING, .max = 10},
    {.name = "lat", .type = TXF_NUMBER},
    {.name = "lon", .type = TXF_NUMBER},
};
static const struct tx_field F_CHECKIN[] = {
    {.name = "task_id", .type = TXF_INT},
    {.name = "customer_id", .type = TXF_INT},
    {.name = "lat", .type = TXF_NUMBER, .required = true},
    {.name = "lon", .type = TXF_NUMBER, .required = true},
    {.name = "at", .type = TXF_INT},
    {.name = "outcome", .type = TXF_STRING, .required = true, .max = 16},
    {.name = "notes", .type = TXF_STRING, .required = true, .max = VI_NOTES_MAX + 64},
    {.name = "photos", .type = TXF_ARRAY, .max = VI_PHOTOS_MAX},
    {.name = "next_step", .type = TXF_STRING, .max = VI_STEP_MAX + 64},
    {.name = "open_lead", .type = TXF_OBJECT},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

/* Not read_only: the list is audited in its transaction. */
const struct tx_def TX_VISIT_TASKS = {.code = "VISIT_TASKS",
                                      .fn = tx_tasks,
                                      .needs_session = true,
                                      .bank_data = true,
                                      .fields = F_TASKS,
                                      .nfields = NF(F_TASKS)};
const struct tx_def TX_VISIT_CHECKIN = {.code = "VISIT_CHECKIN",
                                        .fn = tx_checkin,
                                        .needs_session = true,
                                        .bank_data = true,
                                        .fields = F_CHECKIN,
                                        .nfields = NF(F_CHECKIN)};
