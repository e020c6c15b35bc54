/* customer.c — CUSTOMER_CREATE, CUSTOMER_UPDATE, CUSTOMER_GET and
 * CUSTOMER_SEARCH (see customer.h). Everything goes through c->tenant. */
#include "business/customer.h"
#include "business/biz.h"

#include "business/customer_db.h"
#include "business/customer_id.h"
#include "business/customer_profile.h"
#include "business/customer_seal.h"
#include "business/perf.h"
#include "business/tag_eval.h"
#include "channel/zy1.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/mask.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEARCH_DEFAULT 20
#define SEARCH_MAX 50
#define BANK_UTC_OFFSET_S (8 * 3600) /* China Standard Time, no DST */

/* The bank's date today as YYYYMMDD. */
static int32_t today(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000 + BANK_UTC_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

static int64_t bank_of(const struct tx_ctx *c)
{
    return tenant_scope(c->tenant)->bank_id;
}

static const char *member(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static void bad_member(struct tx_ctx *c, const struct cp_error *e)
{
    tx_failf(c, ZE_BAD_REQUEST, "data.%s: %s", e->field, e->msg);
}

/* ---- the clear columns of a record ------------------------------------------------- */

/* The row's name, kind, indexes and masked identifiers from rec. CS_OK. */
static int columns(const struct tx_ctx *c, const json_t *rec, struct cdb_row *r)
{
    const struct kek *k = c->env->kek;
    bool person = cp_is_person(rec);
    const char *idv = member(rec, person ? "id_no" : "uscc");
    const char *phone = member(rec, "phone");
    snprintf(r->kind, sizeof r->kind, "%s", person ? "person" : "business");
    snprintf(r->name, sizeof r->name, "%s", member(rec, "name"));
    if (!idv || cs_index(k, bank_of(c), r->kind, idv, r->id_index) != CS_OK)
        return CS_ERR;
    /* A USCC is public registry data: shown as it is. */
    if (person ? mask_id_no(idv, r->id_masked, sizeof r->id_masked) < 0
               : snprintf(r->id_masked, sizeof r->id_masked, "%s", idv) < 0)
        return CS_ERR;
    r->phone_index[0] = r->phone_masked[0] = '\0';
    if (phone && (cs_index(k, bank_of(c), "phone", phone, r->phone_index) != CS_OK ||
                  mask_phone(phone, r->phone_masked, sizeof r->phone_masked) < 0))
        return CS_ERR;
    return CS_OK;
}

/* Answers customer_exists when another customer of the bank has the row's
 * id_index. Returns CDB_OK (free), CDB_NONE (taken: answered) or an error. */
static int check_unique(struct tx_ctx *c, const struct cdb_row *r, int64_t self)
{
    int64_t other = 0;
    int rc = cdb_find_index(c->tenant, r->id_index, &other);
    if (rc == CDB_NONE)
        return CDB_OK;
    if (rc != CDB_OK)
        return rc;
    if (other == self)
        return CDB_OK;
    tx_fail(c, ZE_CUSTOMER_EXISTS);
    json_object_set_new(c->out, "customer_id", json_integer(other));
    return CDB_NONE;
}

/* ---- CUSTOMER_CREATE --------------------------------------------------------------- */

static enum tx_result tx_create(struct tx_ctx *c)
{
    struct cp_error e;
    struct cdb_row r = {0};
    char ctx[CS_CONTEXT_MAX], actor[AUDIT_ACTOR_MAX + 1], target[32];
    enum tx_result res = TX_ROLLBACK;
    json_t *rec = json_object();
    int rc = rec ? cp_apply(rec, c->in, today(), &e) : CP_NOMEM;
    if (rc == CP_BAD) {
        bad_member(c, &e);
        res = TX_COMMIT;
        goto out;
    }
    if (rc != CP_OK || columns(c, rec, &r) != CS_OK)
        goto out;
    rc = check_unique(c, &r, 0);
    if (rc == CDB_NONE)
        res = TX_COMMIT;
    if (rc != CDB_OK || (rc = cdb_next_id(c->tenant, &r.id)) != CDB_OK)
        goto out;
    const struct scope *sc = tenant_scope(c->tenant);
    r.version = 1;
    r.branch_id = sc->branch_id;
    r.teller_id = sc->teller_id;
    r.created_at = r.updated_at = clock_wall_ms();
    cdb_context(sc->bank_id, r.id, ctx);
    if (cs_seal_json(c->env->kek, ctx, rec, &r.sealed, &r.sealed_len) != CS_OK ||
        cdb_insert(c->tenant, &r) != CDB_OK || tag_refresh(c->tenant, r.id, rec) != TDB_OK ||
        perf_customer(c->tenant, rec, true, r.created_at) != PERF_OK)
        goto out;
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", r.id);
    if (audit_tenantf(c->tenant, actor, "customer.created", target, "{s:s, s:I}", "kind", r.kind,
                      "version", (json_int_t)r.version) != ID_OK)
        goto out;
    json_object_set_new(c->out, "customer_id", json_integer(r.id));
    json_object_set_new(c->out, "version", json_integer(r.version));
    res = TX_COMMIT;
out:
    free(r.sealed);
    biz_drop(rec);
    return res;
}

/* ---- reading a record -------------------------------------------------------------- */

/* Row id and its record opened into *rec. CDB_NONE: no such customer here. */
static int load(struct tx_ctx *c, int64_t id, struct cdb_row *r, json_t **rec)
{
    char ctx[CS_CONTEXT_MAX];
    *rec = NULL;
    int rc = cdb_get(c->tenant, id, r);
    if (rc != CDB_OK)
        return rc;
    cdb_context(bank_of(c), id, ctx);
    rc = cs_open_json(c->env->kek, ctx, r->sealed, r->sealed_len, rec);
    if (rc != CS_OK) {
        log_error("customer.unreadable", "customer %" PRId64 ": the sealed record does not open",
                  id);
        cdb_row_free(r);
        return CS_ERR;
    }
    return CDB_OK;
}

/* ---- CUSTOMER_UPDATE --------------------------------------------------------------- */

/* Seals {"v": value} of one history value; NULL value: nothing (absent). */
static int seal_value(const struct tx_ctx *c, const char *ctx, json_t *value, uint8_t **out,
                      size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!value)
        return CS_OK;
    json_t *w = json_pack("{s:O}", "v", value);
    int rc = w ? cs_seal_json(c->env->kek, ctx, w, out, n) : CS_ERR;
    json_decref(w); /* its strings are the record's: wiped with it */
    return rc;
}

/* One history row for field, changed from old_rec to new_rec. */
static int record_change(struct tx_ctx *c, const struct cdb_row *r, const char *field,
                         json_t *old_rec, json_t *new_rec)
{
    char ctx_old[CS_CONTEXT_MAX], ctx_new[CS_CONTEXT_MAX];
    const struct scope *sc = tenant_scope(c->tenant);
    struct cdb_change ch = {.customer_id = r->id,
                            .version = r->version,
                            .teller_id = sc->teller_id,
                            .branch_id = sc->branch_id,
                            .at = r->updated_at,
                            .field = field};
    uint8_t *o = NULL, *n = NULL;
    cdb_history_context(sc->bank_id, r->id, r->version, field, "old", ctx_old);
    cdb_history_context(sc->bank_id, r->id, r->version, field, "new", ctx_new);
    int rc = seal_value(c, ctx_old, json_object_get(old_rec, field), &o, &ch.old_len);
    if (rc == CS_OK)
        rc = seal_value(c, ctx_new, json_object_get(new_rec, field), &n, &ch.new_len);
    ch.old_v = o;
    ch.new_v = n;
    if (rc == CS_OK)
        rc = cdb_history_add(c->tenant, &ch);
    free(o);
    free(n);
    return rc;
}

/* The members whose values differ between a and b, sorted. */
static json_t *changed_members(json_t *a, json_t *b)
{
    json_t *out = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(a, key, v)
    {
        if (!json_equal(v, json_object_get(b, key)))
            json_array_append_new(out, json_string(key));
    }
    json_object_foreach(b, key, v)
    {
        if (!json_object_get(a, key))
            json_array_append_new(out, json_string(key));
    }
    /* Sorted, so that the history and the answer read the same every time. */
    size_t n = json_array_size(out);
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(json_string_value(json_array_get(out, k - 1)),
                                           json_string_value(json_array_get(out, k))) > 0;
             k--) {
            json_t *t = json_incref(json_array_get(out, k));
            json_array_set(out, k, json_array_get(out, k - 1));
            json_array_set_new(out, k - 1, t);
        }
    return out;
}

/* Writes the changed record: the row, one history row per member, the audit. */
static enum tx_result write_update(struct tx_ctx *c, struct cdb_row *r, json_t *old_rec,
                                   json_t *new_rec, json_t *changed)
{
    char ctx[CS_CONTEXT_MAX], actor[AUDIT_ACTOR_MAX + 1], target[32];
    free(r->sealed);
    r->sealed = NULL;
    r->version++;
    r->updated_at = clock_wall_ms();
    cdb_context(bank_of(c), r->id, ctx);
    if (cs_seal_json(c->env->kek, ctx, new_rec, &r->sealed, &r->sealed_len) != CS_OK ||
        cdb_update(c->tenant, r) != CDB_OK || tag_refresh(c->tenant, r->id, new_rec) != TDB_OK ||
        perf_customer(c->tenant, new_rec, false, r->updated_at) != PERF_OK)
        return TX_ROLLBACK;
    size_t i;
    json_t *f;
    json_array_foreach(changed, i, f)
    {
        if (record_change(c, r, json_string_value(f), old_rec, new_rec) != CDB_OK)
            return TX_ROLLBACK;
    }
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", r->id);
    if (audit_tenantf(c->tenant, actor, "customer.updated", target, "{s:I, s:O}", "version",
                      (json_int_t)r->version, "fields", changed) != ID_OK)
        return TX_ROLLBACK;
    return TX_COMMIT;
}

/* The edit was made on the record's current version. Otherwise answered:
 * bad_request for a version that is not one, conflict (data.version the
 * current one) for another; nothing is written then. */
static bool version_matches(struct tx_ctx *c, const struct cdb_row *r)
{
    json_int_t want = json_integer_value(json_object_get(c->in, "version"));
    if (want < 1) {
        tx_failf(c, ZE_BAD_REQUEST, "data.version: 须为正整数（CUSTOMER_GET 所答的版本）");
        return false;
    }
    if (want == r->version)
        return true;
    tx_failf(c, ZE_CONFLICT, "客户资料已被他人修改（当前为第%" PRId64 "版），请重新读取后再修改",
             r->version);
    json_object_set_new(c->out, "customer_id", json_integer(r->id));
    json_object_set_new(c->out, "version", json_integer(r->version));
    return false;
}

static enum tx_result tx_update(struct tx_ctx *c)
{
    struct cp_error e;
    struct cdb_row r = {0};
    json_t *old_rec = NULL, *new_rec = NULL, *changed = NULL;
    enum tx_result res = TX_ROLLBACK;
    int64_t id = json_integer_value(json_object_get(c->in, "customer_id"));
    int rc = id > 0 ? load(c, id, &r, &old_rec) : CDB_NONE;
    if (rc == CDB_NONE) {
        tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
        res = TX_COMMIT;
        goto out;
    }
    if (rc != CDB_OK)
        goto out;
    if (!version_matches(c, &r)) {
        res = TX_COMMIT;
        goto out;
    }
    if (!(new_rec = json_deep_copy(old_rec)))
        goto out;
    rc = cp_apply(new_rec, c->in, today(), &e);
    if (rc == CP_BAD) {
        bad_member(c, &e);
        res = TX_COMMIT;
        goto out;
    }
    if (rc != CP_OK || !(changed = changed_members(old_rec, new_rec)))
        goto out;
    if (json_array_size(changed) > 0) {
        if (columns(c, new_rec, &r) != CS_OK)
            goto out;
        rc = check_unique(c, &r, id);
        if (rc == CDB_NONE)
            res = TX_COMMIT;
        if (rc != CDB_OK)
            goto out;
        res = write_update(c, &r, old_rec, new_rec, changed);
        if (res != TX_COMMIT)
            goto out;
    }
    json_object_set_new(c->out, "customer_id", json_integer(id));
    json_object_set_new(c->out, "version", json_integer(r.version));
    json_object_set(c->out, "changed", changed);
    res = TX_COMMIT;
out:
    cdb_row_free(&r);
    biz_drop(old_rec);
    biz_drop(new_rec);
    json_decref(changed);
    return res;
}

/* ---- CUSTOMER_GET ------------------------------------------------------------------ */

struct history_out {
    struct tx_ctx *c;
    json_t *items;
    int rc;
};

/* Opens one sealed history value into item[key]. */
static int open_value(struct history_out *h, const struct cdb_change *ch, const char *which,
                      const uint8_t *v, size_t n, json_t *item)
{
    char ctx[CS_CONTEXT_MAX];
    json_t *w = NULL;
    if (!v)
        return CS_OK;
    cdb_history_context(bank_of(h->c), ch->customer_id, ch->version, ch->field, which, ctx);
    int rc = cs_open_json(h->c->env->kek, ctx, v, n, &w);
    /* A copy: w's strings are wiped below. */
    if (rc == CS_OK)
        json_object_set_new(item, which, json_deep_copy(json_object_get(w, "v")));
    biz_drop(w);
    return rc;
}

static int history_item(const struct cdb_change *ch, void *arg)
{
    struct history_out *h = arg;
    json_t *item =
        json_pack("{s:I, s:s, s:I, s:I, s:I}", "version", (json_int_t)ch->version, "field",
                  ch->field ? ch->field : "", "teller_id", (json_int_t)ch->teller_id, "branch_id",
                  (json_int_t)ch->branch_id, "at", (json_int_t)ch->at);
    int rc = item ? open_value(h, ch, "old", ch->old_v, ch->old_len, item) : CS_ERR;
    if (rc == CS_OK)
        rc = open_value(h, ch, "new", ch->new_v, ch->new_len, item);
    if (rc != CS_OK) {
        biz_drop(item);
        h->rc = rc;
        return STORE_ERR;
    }
    json_array_append_new(h->items, item);
    return 0;
}

/* The answer of CUSTOMER_GET: the record, derived and row members. */
static int get_answer(struct tx_ctx *c, const struct cdb_row *r, json_t *rec, bool history)
{
    json_t *copy = json_deep_copy(rec); /* rec's strings are wiped after */
    if (!copy)
        return STORE_NOMEM;
    json_object_update(c->out, copy);
    json_decref(copy);
    json_object_set_new(c->out, "customer_id", json_integer(r->id));
    json_object_set_new(c->out, "version", json_integer(r->version));
    json_object_set_new(c->out, "created_at", json_integer(r->created_at));
    json_object_set_new(c->out, "updated_at", json_integer(r->updated_at));
    if (cp_is_person(rec)) {
        const char *id_no = member(rec, "id_no");
        int32_t b = cid_birth(id_no);
        char date[16], sex[2] = {cid_sex(id_no), '\0'};
        snprintf(date, sizeof date, "%04d-%02d-%02d", (int)(b / 10000), (int)(b / 100 % 100),
                 (int)(b % 100));
        json_object_set_new(c->out, "birth_date", json_string(date));
        json_object_set_new(c->out, "sex", json_string(sex));
    }
    if (!history)
        return CDB_OK;
    struct history_out h = {.c = c, .items = json_array(), .rc = CS_OK};
    if (!h.items)
        return STORE_NOMEM;
    int rc = cdb_history(c->tenant, r->id, history_item, &h);
    json_object_set_new(c->out, "history", h.items);
    return rc == CDB_OK && h.rc == CS_OK ? CDB_OK : STORE_ERR;
}

static enum tx_result tx_get(struct tx_ctx *c)
{
    struct cdb_row r = {0};
    json_t *rec = NULL;
    char actor[AUDIT_ACTOR_MAX + 1], target[32];
    int64_t id = json_integer_value(json_object_get(c->in, "customer_id"));
    bool history = json_is_true(json_object_get(c->in, "history"));
    int rc = id > 0 ? load(c, id, &r, &rec) : CDB_NONE;
    if (rc == CDB_OK)
        rc = get_answer(c, &r, rec, history);
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", id);
    if (rc == CDB_NONE) {
        tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
        rc = audit_tenantf(c->tenant, actor, "customer.viewed", target, "{s:b}", "found", 0);
    } else if (rc == CDB_OK) {
        rc = audit_tenantf(c->tenant, actor, "customer.viewed", target, "{s:b, s:b}", "found", 1,
                           "history", history);
    }
    cdb_row_free(&r);
    biz_drop(rec);
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

/* ---- CUSTOMER_SEARCH --------------------------------------------------------------- */

struct search_out {
    json_t *items;
    int limit, seen;
};

static int search_item(const struct cdb_row *r, void *arg)
{
    struct search_out *s = arg;
    if (++s->seen > s->limit)
        return 0; /* the one past the limit only says there is more */
    bool person = strcmp(r->kind, "person") == 0;
    json_t *item = json_pack("{s:I, s:s, s:s, s:s}", "customer_id", (json_int_t)r->id, "kind",
                             r->kind, "name", r->name, person ? "id_no" : "uscc", r->id_masked);
    if (!item)
        return STORE_NOMEM;
    if (r->phone_masked[0])
        json_object_set_new(item, "phone", json_string(r->phone_masked));
    json_array_append_new(s->items, item);
    return 0;
}

/* The one search key given, checked: *by, and into value what to look for
 * (a name prefix, or the blind index of an identifier); *label names the
 * key. 1: found; 0: answered bad_request; -1: failure. */
static int search_key(struct tx_ctx *c, enum cdb_by *by, char *value, size_t cap,
                      const char **label)
{
    static const char *const keys[] = {"name", "id_no", "uscc", "phone"};
    const char *given = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!json_object_get(c->in, keys[i]))
            continue;
        if (given) {
            tx_failf(c, ZE_BAD_REQUEST, "data.%s: 只能按 name、id_no、uscc、phone 中的一项查询",
                     keys[i]);
            return 0;
        }
        given = keys[i];
    }
    if (!given) {
        tx_failf(c, ZE_BAD_REQUEST, "data.name: 须给出 name、id_no、uscc、phone 中的一项");
        return 0;
    }
    *label = given;
    json_t *v = json_object_get(c->in, given);
    if (strcmp(given, "name") == 0) {
        struct cp_error e;
        *by = CDB_BY_NAME;
        if (cp_name(v, "name", value, cap, &e) == CP_OK)
            return 1;
        bad_member(c, &e);
        return 0;
    }
    char norm[CID_LEN + 1];
    int rc;
    const char *what;
    if (strcmp(given, "phone") == 0) {
        rc = cid_mobile(json_string_value(v), norm);
        *by = CDB_BY_PHONE;
        what = "phone";
    } else if (strcmp(given, "id_no") == 0) {
        rc = cid_resident(json_string_value(v), today(), norm);
        *by = CDB_BY_ID;
        what = "person";
    } else {
        rc = cid_uscc(json_string_value(v), norm);
        *by = CDB_BY_ID;
        what = "business";
    }
    if (rc != CID_OK) {
        tx_failf(c, ZE_BAD_REQUEST, "data.%s: %s", given, cid_message(rc));
        return 0;
    }
    return cs_index(c->env->kek, bank_of(c), what, norm, value) == CS_OK ? 1 : -1;
}

static enum tx_result tx_search(struct tx_ctx *c)
{
    char value[CP_NAME_MAX + CS_INDEX_HEX + 1] = "", actor[AUDIT_ACTOR_MAX + 1];
    const char *label = "";
    enum cdb_by by = CDB_BY_NAME;
    json_t *lim = json_object_get(c->in, "limit");
    if (lim && (json_integer_value(lim) < 1 || json_integer_value(lim) > SEARCH_MAX)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.limit: 须为1到%d之间的整数", SEARCH_MAX);
        return TX_COMMIT;
    }
    int found = search_key(c, &by, value, sizeof value, &label);
    if (found <= 0)
        return found == 0 ? TX_COMMIT : TX_ROLLBACK;
    struct search_out s = {.items = json_array(),
                           .limit = lim ? (int)json_integer_value(lim) : SEARCH_DEFAULT};
    if (!s.items)
        return TX_ROLLBACK;
    int rc = cdb_search(c->tenant, by, value, s.limit + 1, search_item, &s);
    json_object_set_new(c->out, "items", s.items);
    json_object_set_new(c->out, "more", json_boolean(s.seen > s.limit));
    if (rc != CDB_OK)
        return TX_ROLLBACK;
    biz_actor(c, actor);
    rc = audit_tenantf(c->tenant, actor, "customer.searched", "", "{s:s, s:I}", "by", label,
                       "results", (json_int_t)json_array_size(s.items));
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

/* ---- the definitions --------------------------------------------------------------- */

/* The record's members (customer_profile.h checks their values). */
#define RECORD_FIELDS                                                                              \
    {.name = "name", .type = TXF_STRING, .max = CP_NAME_MAX},                                      \
        {.name = "id_no", .type = TXF_STRING, .max = 32},                                          \
        {.name = "uscc", .type = TXF_STRING, .max = 32},                                           \
        {.name = "phone", .type = TXF_STRING, .max = 32},                                          \
        {.name = "address", .type = TXF_STRING, .max = 300},                                       \
        {.name = "household", .type = TXF_ARRAY, .max = 20},                                       \
        {.name = "occupation", .type = TXF_STRING, .max = 32},                                     \
        {.name = "income_band", .type = TXF_STRING, .max = 32},                                    \
        {.name = "assets", .type = TXF_ARRAY, .max = 20},                                          \
        {.name = "products", .type = TXF_ARRAY, .max = 50},                                        \
        {.name = "legal_person", .type = TXF_OBJECT},                                              \
        {.name = "industry", .type = TXF_STRING, .max = 8}, {.name = "turnover", .type = TXF_INT}, \
        {.name = "lat", .type = TXF_NUMBER},                                                       \
    {                                                                                              \
        .name = "lon", .type = TXF_NUMBER                                                          \
    }

static const struct tx_field F_CREATE[] = {
    {.name = "kind", .type = TXF_STRING, .required = true, .max = 16},
    RECORD_FIELDS,
};
static const struct tx_field F_UPDATE[] = {
    {.name = "customer_id", .type = TXF_INT, .required = true},
    {.name = "version", .type = TXF_INT, .required = true},
    {.name = "kind", .type = TXF_STRING, .max = 16},
    RECORD_FIELDS,
};
static const struct tx_field F_GET[] = {
    {.name = "customer_id", .type = TXF_INT, .required = true},
    {.name = "history", .type = TXF_BOOL},
};
static const struct tx_field F_SEARCH[] = {
    {.name = "name", .type = TXF_STRING, .max = CP_NAME_MAX},
    {.name = "id_no", .type = TXF_STRING, .max = 32},
    {.name = "uscc", .type = TXF_STRING, .max = 32},
    {.name = "phone", .type = TXF_STRING, .max = 32},
    {.name = "limit", .type = TXF_INT},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

const struct tx_def TX_CUSTOMER_CREATE = {.code = "CUSTOMER_CREATE",
                                          .fn = tx_create,
                                          .needs_session = true,
                                          .bank_data = true,
                                          .fields = F_CREATE,
                                          .nfields = NF(F_CREATE)};
const struct tx_def TX_CUSTOMER_UPDATE = {.code = "CUSTOMER_UPDATE",
                                          .fn = tx_update,
                                          .needs_session = true,
                                          .bank_data = true,
                                          .fields = F_UPDATE,
                                          .nfields = NF(F_UPDATE)};
/* Not read_only: every read of a full record is audited in its transaction. */
const struct tx_def TX_CUSTOMER_GET = {.code = "CUSTOMER_GET",
                                       .fn = tx_get,
                                       .needs_session = true,
                                       .bank_data = true,
                                       .fields = F_GET,
                                       .nfields = NF(F_GET)};
const struct tx_def TX_CUSTOMER_SEARCH = {.code = "CUSTOMER_SEARCH",
                                          .fn = tx_search,
                                          .needs_session = true,
                                          .bank_data = true,
                                          .fields = F_SEARCH,
                                          .nfields = NF(F_SEARCH)};
