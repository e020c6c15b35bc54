/* tag.c — TAG_CATALOG, TAG_SET, TAG_CLEAR and TAG_LIST (see tag.h).
 * Everything goes through c->tenant. */
#include "business/tag.h"
#include "business/biz.h"

#include "business/customer_db.h"
#include "business/tag_catalog.h"
#include "business/tag_db.h"
#include "business/tag_eval.h"
#include "channel/zy1.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The customer's record into *rec; CDB_NONE answered customer_not_found. */
static int customer_of(struct tx_ctx *c, int64_t *id, json_t **rec)
{
    *id = json_integer_value(json_object_get(c->in, "customer_id"));
    int rc = *id > 0 ? cdb_load(c->tenant, c->env->kek, *id, rec) : CDB_NONE;
    if (rc == CDB_NONE)
        tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
    else if (rc == CS_CORRUPT)
        log_error("tag.customer", "customer %" PRId64 ": the sealed record does not open", *id);
    return rc;
}

/* ---- TAG_CATALOG ------------------------------------------------------------------- */

static enum tx_result tx_catalog(struct tx_ctx *c)
{
    struct tag_catalog cat;
    char actor[AUDIT_ACTOR_MAX + 1];
    if (tag_catalog_read(c->tenant, &cat) != TC_OK)
        return TX_ROLLBACK;
    json_t *tags = tag_catalog_json(&cat);
    bool builtin = cat.builtin;
    tag_catalog_free(&cat);
    if (!tags)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "tags", tags);
    json_object_set_new(c->out, "builtin", json_boolean(builtin));
    biz_actor(c, actor);
    return audit_tenantf(c->tenant, actor, "tag.catalog_viewed", "", "{s:I}", "count",
                         (json_int_t)json_array_size(tags)) == ID_OK
               ? TX_COMMIT
               : TX_ROLLBACK;
}

/* ---- TAG_SET / TAG_CLEAR ----------------------------------------------------------- */

/* The customer exists and data.tag is a manual tag of the catalog: 1; 0:
 * answered (customer_not_found, bad_request); -1: failure. */
static int manual_target(struct tx_ctx *c, int64_t *id, const char **tag)
{
    json_t *rec = NULL;
    int rc = customer_of(c, id, &rec);
    biz_drop(rec);
    if (rc != CDB_OK)
        return rc == CDB_NONE ? 0 : -1;
    *tag = json_string_value(json_object_get(c->in, "tag"));
    if (!tag_code_ok(*tag)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.tag: 须为1到32位小写字母、数字或下划线");
        return 0;
    }
    struct tag_catalog cat;
    if (tag_catalog_read(c->tenant, &cat) != TC_OK)
        return -1;
    const struct tag_def *d = tag_catalog_find(&cat, *tag);
    bool manual = d && !d->rule;
    tag_catalog_free(&cat);
    if (!manual) {
        tx_failf(c, ZE_BAD_REQUEST, "data.tag: 标签目录中没有此手工标签（规则标签由系统计算）");
        return 0;
    }
    return 1;
}

static enum tx_result tx_set(struct tx_ctx *c)
{
    int64_t id = 0;
    const char *tag = NULL;
    char actor[AUDIT_ACTOR_MAX + 1], target[32];
    bool added = false;
    int ok = manual_target(c, &id, &tag);
    if (ok <= 0)
        return ok == 0 ? TX_COMMIT : TX_ROLLBACK;
    const struct scope *sc = tenant_scope(c->tenant);
    if (tdb_set(c->tenant, id, tag, "manual", sc->teller_id, clock_wall_ms(), &added) != TDB_OK)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "customer_id", json_integer(id));
    json_object_set_new(c->out, "tag", json_string(tag));
    json_object_set_new(c->out, "added", json_boolean(added));
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", id);
    return audit_tenantf(c->tenant, actor, "tag.set", target, "{s:s, s:b}", "tag", tag, "added",
                         added) == ID_OK
               ? TX_COMMIT
               : TX_ROLLBACK;
}

static enum tx_result tx_clear(struct tx_ctx *c)
{
    int64_t id = 0;
    const char *tag = NULL;
    char actor[AUDIT_ACTOR_MAX + 1], target[32];
    int ok = manual_target(c, &id, &tag);
    if (ok <= 0)
        return ok == 0 ? TX_COMMIT : TX_ROLLBACK;
    int rc = tdb_clear(c->tenant, id, tag, "manual");
    if (rc != TDB_OK && rc != TDB_NONE)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "customer_id", json_integer(id));
    json_object_set_new(c->out, "tag", json_string(tag));
    json_object_set_new(c->out, "cleared", json_boolean(rc == TDB_OK));
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", id);
    return audit_tenantf(c->tenant, actor, "tag.cleared", target, "{s:s, s:b}", "tag", tag,
                         "cleared", rc == TDB_OK) == ID_OK
               ? TX_COMMIT
               : TX_ROLLBACK;
}

/* ---- TAG_LIST ---------------------------------------------------------------------- */

static enum tx_result tx_list(struct tx_ctx *c)
{
    int64_t id = 0;
    json_t *rec = NULL, *tags = NULL;
    char actor[AUDIT_ACTOR_MAX + 1], target[32];
    struct tag_catalog cat = {0};
    int rc = customer_of(c, &id, &rec);
    if (rc == CDB_NONE)
        return TX_COMMIT;
    if (rc == CDB_OK)
        rc = tag_catalog_read(c->tenant, &cat);
    if (rc == CDB_OK)
        rc = tag_current(c->tenant, &cat, id, rec, &tags);
    tag_catalog_free(&cat);
    biz_drop(rec);
    if (rc != CDB_OK)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "customer_id", json_integer(id));
    json_object_set_new(c->out, "tags", tags);
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", id);
    return audit_tenantf(c->tenant, actor, "tag.listed", target, "{s:I}", "count",
                         (json_int_t)json_array_size(tags)) == ID_OK
               ? TX_COMMIT
               : TX_ROLLBACK;
}

/* ---- the definitions --------------------------------------------------------------- */

static const struct tx_field F_CUSTOMER_TAG[] = {
    {.name = "customer_id", .type = TXF_INT, .required = true},
    {.name = "tag", .type = TXF_STRING, .required = true, .max = 64},
};
static const struct tx_field F_LIST[] = {
    {.name = "customer_id", .type = TXF_INT, .required = true},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

/* None read_only: each commits its audit record (TAG_LIST also the
 * refreshed rule tags). */
const struct tx_def TX_TAG_CATALOG = {
    .code = "TAG_CATALOG", .fn = tx_catalog, .needs_session = true, .bank_data = true};
const struct tx_def TX_TAG_SET = {.code = "TAG_SET",
                                  .fn = tx_set,
                                  .needs_session = true,
                                  .bank_data = true,
                                  .fields = F_CUSTOMER_TAG,
                                  .nfields = NF(F_CUSTOMER_TAG)};
const struct tx_def TX_TAG_CLEAR = {.code = "TAG_CLEAR",
                                    .fn = tx_clear,
                                    .needs_session = true,
                                    .bank_data = true,
                                    .fields = F_CUSTOMER_TAG,
                                    .nfields = NF(F_CUSTOMER_TAG)};
const struct tx_def TX_TAG_LIST = {.code = "TAG_LIST",
                                   .fn = tx_list,
                                   .needs_session = true,
                                   .bank_data = true,
                                   .fields = F_LIST,
                                   .nfields = NF(F_LIST)};
