/* video_context.c — a call's customer and business; see video_context.h. */
#include "business/video_context.h"

#include "business/customer_db.h"
#include "business/wf_db.h"
#include "foundation/mask.h"

static int customer(struct tenant_conn *tc, int64_t id, json_t **out)
{
    struct cdb_row r = {0};
    *out = json_null();
    if (id <= 0)
        return VC_OK;
    int rc = cdb_get(tc, id, &r);
    if (rc == CDB_OK) {
        char name[CP_NAME_MAX + 1];
        if (mask_name(r.name, name, sizeof name) < 0)
            snprintf(name, sizeof name, "*");
        json_decref(*out);
        *out = json_pack("{s:I,s:s,s:s,s:s}", "customer_id", (json_int_t)r.id, "kind", r.kind,
                         "name_masked", name, "id_masked", r.id_masked);
    }
    cdb_row_free(&r);
    return rc == CDB_OK || rc == CDB_NONE ? VC_OK : rc;
}

static int business(struct tenant_conn *tc, int64_t id, json_t **out)
{
    struct wdb_biz b;
    *out = json_null();
    if (id <= 0)
        return VC_OK;
    int rc = wdb_get(tc, id, &b);
    if (rc == WDB_OK) {
        json_decref(*out);
        *out = json_pack("{s:I,s:s,s:s,s:s,s:i}", "biz_id", (json_int_t)b.id, "biz_no", b.biz_no,
                         "kind", b.kind, "status", b.status, "next_step", b.next_step);
    }
    return rc == WDB_OK || rc == WDB_NONE ? VC_OK : rc;
}

int video_context(struct tenant_conn *tc, const struct video_call *c, json_t **out)
{
    json_t *cu = NULL, *bz = NULL;
    *out = NULL;
    int rc = customer(tc, c->customer_id, &cu);
    if (rc == VC_OK)
        rc = business(tc, c->biz_id, &bz);
    if (rc == VC_OK && cu && bz)
        *out = json_pack("{s:o,s:o}", "customer", cu, "business", bz);
    else {
        json_decref(cu);
        json_decref(bz);
    }
    if (rc == VC_OK && !*out)
        rc = STORE_NOMEM;
    return rc;
}
