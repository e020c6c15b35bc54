/* visit_history.c — VISIT_HISTORY: the check-ins of one customer of the
 * session's bank, newest first (docs/api.md §1.21a), for the customer's
 * profile on the tablet. Read through the tenant scope (visit_admin.h), so
 * another bank's customer is customer_not_found like one that does not
 * exist; the read is audited (visit.history_listed), as customer data
 * leaves the platform. */
#include "business/biz.h"
#include "business/customer_db.h"
#include "business/visit.h"
#include "business/visit_admin.h"
#include "business/visit_geo.h"
#include "identity/audit.h"

#include <jansson.h>

#define HISTORY_DEFAULT 20
#define HISTORY_MAX 100

struct history_out {
    json_t *items;
    int64_t me;
};

static int history_item(const struct vdb_visit *v, void *arg)
{
    struct history_out *o = arg;
    json_t *photos = json_loads(v->photos ? v->photos : "[]", 0, NULL);
    json_t *item =
        json_pack("{s:I, s:I, s:s, s:s, s:s, s:b, s:f, s:f, s:i}", "visit_id", (json_int_t)v->id,
                  "at", (json_int_t)v->at, "outcome", v->outcome ? v->outcome : "", "notes",
                  v->notes ? v->notes : "", "next_step", v->next_step ? v->next_step : "", "mine",
                  v->teller_id == o->me, "lat", vg_deg(v->lat_e6), "lon", vg_deg(v->lon_e6),
                  "photos", json_is_array(photos) ? (int)json_array_size(photos) : 0);
    json_decref(photos);
    if (item && v->task_id > 0)
        json_object_set_new(item, "task_id", json_integer(v->task_id));
    if (item && v->has_distance) {
        json_object_set_new(item, "distance_m", json_integer(v->distance_m));
        json_object_set_new(item, "far", json_boolean(v->far));
    }
    if (!item || json_array_append_new(o->items, item) != 0)
        return STORE_NOMEM;
    return 0;
}

static enum tx_result tx_history(struct tx_ctx *c)
{
    const struct scope *sc = tenant_scope(c->tenant);
    json_int_t id = json_integer_value(json_object_get(c->in, "customer_id"));
    json_t *lim = json_object_get(c->in, "limit");
    json_int_t limit = lim ? json_integer_value(lim) : HISTORY_DEFAULT;
    if (id <= 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.customer_id: 应为正整数");
        return TX_COMMIT;
    }
    if (limit < 1 || limit > HISTORY_MAX) {
        tx_failf(c, ZE_BAD_REQUEST, "data.limit: 应为 1 至 %d", HISTORY_MAX);
        return TX_COMMIT;
    }
    struct cdb_row r;
    int rc = cdb_get(c->tenant, id, &r);
    cdb_row_free(&r);
    if (rc == CDB_NONE) {
        tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
        return TX_COMMIT;
    }
    if (rc != CDB_OK)
        return TX_ROLLBACK;
    struct history_out o = {.items = json_array(), .me = sc->teller_id};
    struct vadm_filter f = {.customer_id = id, .limit = (int)limit};
    char actor[AUDIT_ACTOR_MAX + 1];
    if (!o.items || vadm_visits(c->tenant, &f, history_item, &o) != VDB_OK)
        goto fail;
    size_t n = json_array_size(o.items);
    json_object_set_new(c->out, "customer_id", json_integer(id));
    json_object_set_new(c->out, "items", o.items);
    o.items = NULL;
    biz_actor(c, actor);
    if (audit_tenantf(c->tenant, actor, "visit.history_listed", "", "{s:I, s:I}", "customer_id",
                      (json_int_t)id, "results", (json_int_t)n) != ID_OK)
        return TX_ROLLBACK;
    return TX_COMMIT;
fail:
    json_decref(o.items);
    return TX_ROLLBACK;
}

static const struct tx_field F_HISTORY[] = {
    {.name = "customer_id", .type = TXF_INT, .required = true},
    {.name = "limit", .type = TXF_INT},
};

/* Not read_only: the list is audited in its transaction. */
const struct tx_def TX_VISIT_HISTORY = {.code = "VISIT_HISTORY",
                                        .fn = tx_history,
                                        .needs_session = true,
                                        .bank_data = true,
                                        .fields = F_HISTORY,
                                        .nfields = sizeof F_HISTORY / sizeof F_HISTORY[0]};
