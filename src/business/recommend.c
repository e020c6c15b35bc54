/* recommend.c — RECOMMEND_LIST and RECOMMEND_FEEDBACK (see recommend.h).
 * Everything goes through c->tenant. */
#include "business/recommend.h"
#include "business/biz.h"

#include "business/customer_db.h"
#include "business/perf.h"
#include "business/product.h"
#include "business/recommend_db.h"
#include "business/tag_catalog.h"
#include "business/tag_eval.h"
#include "channel/zy1.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 5
#define LIST_MAX 20
#define SHIFT_MAX 30 /* points one tag's feedback can move a product */
#define SHIFT_DAMP 3 /* answers it takes to move half way */

/* The customer (record wiped here) and the tags carried now into *tags.
 * CDB_NONE: answered customer_not_found. */
static int customer_tags(struct tx_ctx *c, int64_t *id, json_t **products, json_t **tags)
{
    json_t *rec = NULL;
    struct tag_catalog cat = {0};
    *id = json_integer_value(json_object_get(c->in, "customer_id"));
    int rc = *id > 0 ? cdb_load(c->tenant, c->env->kek, *id, &rec) : CDB_NONE;
    if (rc == CDB_NONE) {
        tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
        return rc;
    }
    if (rc == CS_CORRUPT)
        log_error("recommend.customer", "customer %" PRId64 ": the sealed record does not open",
                  *id);
    if (rc == CDB_OK)
        rc = tag_catalog_read(c->tenant, &cat);
    if (rc == CDB_OK)
        rc = tag_current(c->tenant, &cat, *id, rec, tags);
    if (rc == CDB_OK && products) {
        json_t *p = json_object_get(rec, "products");
        *products = json_is_array(p) ? json_deep_copy(p) : json_array();
        rc = *products ? CDB_OK : STORE_NOMEM;
    }
    tag_catalog_free(&cat);
    biz_drop(rec);
    return rc;
}

/* ---- RECOMMEND_LIST ---------------------------------------------------------------- */

struct scored {
    const struct product *p;
    size_t pos;
    double score;
    int64_t accepted, declined;
};

struct ranking {
    struct scored *v;
    size_t n;
};

static int add_stat(const struct rdb_stat *s, void *arg)
{
    struct ranking *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        struct scored *x = &r->v[i];
        if (strcmp(x->p->code, s->product) != 0)
            continue;
        int64_t n = s->accepted + s->declined + s->later + SHIFT_DAMP;
        x->score += round(SHIFT_MAX * (double)(s->accepted - s->declined) / (double)n);
        /* The reason names the answers of the most answered tag. */
        if (s->accepted + s->declined > x->accepted + x->declined) {
            x->accepted = s->accepted;
            x->declined = s->declined;
        }
    }
    return 0;
}

static bool holds(const json_t *products, const char *code)
{
    size_t i;
    json_t *v;
    json_array_foreach(products, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), code) == 0)
            return true;
    }
    return false;
}

static int by_score(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The reason of one product, in Chinese. */
static json_t *reason_of(const struct scored *s, json_t *tags, json_t **matched)
{
    char text[512] = "";
    size_t len = 0;
    int named = 0;
    *matched = json_array();
    /* The customer's tags that count for it, heaviest first (at most 3 named). */
    for (int round_ = 0; round_ < 3; round_++) {
        json_int_t best = 0;
        const char *best_name = NULL, *best_code = NULL;
        size_t i;
        json_t *t;
        json_array_foreach(tags, i, t)
        {
            const char *code = json_string_value(json_object_get(t, "code"));
            json_int_t w = json_integer_value(json_object_get(s->p->targets, code));
            bool taken = false;
            size_t k;
            json_t *m;
            json_array_foreach(*matched, k, m) taken =
                taken || strcmp(json_string_value(m), code) == 0;
            if (w > best && !taken) {
                best = w;
                best_code = code;
                best_name = json_string_value(json_object_get(t, "name"));
            }
        }
        if (!best_code)
            break;
        json_array_append_new(*matched, json_string(best_code));
        len += (size_t)snprintf(text + len, sizeof text - len, "%s'%s'", named ? "、" : "客户有",
                                best_name ? best_name : best_code);
        named++;
    }
    if (named)
        len += (size_t)snprintf(text + len, sizeof text - len, "标签");
    if (s->accepted || s->declined)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "%s同类客户反馈：接受%" PRId64 "次、婉拒%" PRId64 "次",
                                named ? "；" : "", s->accepted, s->declined);
    if (!len)
        snprintf(text, sizeof text, "本行主推产品，客户尚未持有");
    return json_string(text);
}

static enum tx_result tx_list(struct tx_ctx *c)
{
    int64_t id = 0;
    json_t *tags = NULL, *products = NULL, *items = NULL;
    struct product_catalog cat = {0};
    struct ranking *r = NULL;
    char actor[AUDIT_ACTOR_MAX + 1], target[32];
    enum tx_result res = TX_ROLLBACK;
    json_t *lim = json_object_get(c->in, "limit");
    if (lim && (json_integer_value(lim) < 1 || json_integer_value(lim) > LIST_MAX)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.limit: 须为1到%d之间的整数", LIST_MAX);
        return TX_COMMIT;
    }
    size_t limit = lim ? (size_t)json_integer_value(lim) : LIST_DEFAULT;
    int rc = customer_tags(c, &id, &products, &tags);
    if (rc == CDB_NONE)
        return TX_COMMIT;
    if (rc != CDB_OK || product_catalog_read(c->tenant, &cat) != TC_OK ||
        !(r = calloc(1, sizeof *r)) || !(r->v = calloc(cat.n ? cat.n : 1, sizeof *r->v)))
        goto out;
    for (size_t i = 0; i < cat.n; i++) {
        const struct product *p = &cat.v[i];
        if (holds(products, p->code))
            continue;
        struct scored *s = &r->v[r->n++];
        s->p = p;
        s->pos = i;
        s->score = p->base;
        size_t k;
        json_t *t;
        json_array_foreach(tags, k, t)
        {
            s->score += (double)json_integer_value(
                json_object_get(p->targets, json_string_value(json_object_get(t, "code"))));
        }
    }
    /* What customers sharing a tag answered. */
    size_t k;
    json_t *t;
    rc = json_array_size(tags) ? RDB_OK : rdb_stats(c->tenant, RDB_NO_TAGS, add_stat, r);
    json_array_foreach(tags, k, t)
    {
        if (rc == RDB_OK)
            rc = rdb_stats(c->tenant, json_string_value(json_object_get(t, "code")), add_stat, r);
    }
    if (rc != RDB_OK || !(items = json_array()))
        goto out;
    qsort(r->v, r->n, sizeof *r->v, by_score);
    for (size_t i = 0; i < r->n && i < limit; i++) {
        const struct scored *s = &r->v[i];
        json_t *matched = NULL;
        json_t *reason = reason_of(s, tags, &matched);
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "product", s->p->code,
                                        "name", s->p->name, "category", s->p->category, "score",
                                        (json_int_t)s->score, "reason", reason, "tags", matched));
    }
    const struct scope *sc = tenant_scope(c->tenant);
    if (perf_add(c->tenant, sc->branch_id, sc->teller_id, "recommendations_made",
                 (int64_t)json_array_size(items), 0, clock_wall_ms()) != PERF_OK)
        goto out;
    json_object_set_new(c->out, "customer_id", json_integer(id));
    json_object_set(c->out, "items", items);
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", id);
    if (audit_tenantf(c->tenant, actor, "recommend.listed", target, "{s:I}", "count",
                      (json_int_t)json_array_size(items)) == ID_OK)
        res = TX_COMMIT;
out:
    if (r)
        free(r->v);
    free(r);
    product_catalog_free(&cat);
    json_decref(tags);
    json_decref(products);
    json_decref(items);
    return res;
}

/* ---- RECOMMEND_FEEDBACK ------------------------------------------------------------ */

static enum tx_result tx_feedback(struct tx_ctx *c)
{
    int64_t id = 0;
    json_t *tags = NULL;
    struct product_catalog cat = {0};
    const char **codes = NULL;
    char actor[AUDIT_ACTOR_MAX + 1], target[32];
    enum tx_result res = TX_ROLLBACK;
    const char *product = json_string_value(json_object_get(c->in, "product"));
    const char *verdict = json_string_value(json_object_get(c->in, "verdict"));
    if (!tag_code_ok(product)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.product: 须为1到32位小写字母、数字或下划线");
        return TX_COMMIT;
    }
    if (strcmp(verdict, "accepted") && strcmp(verdict, "declined") && strcmp(verdict, "later")) {
        tx_failf(c, ZE_BAD_REQUEST, "data.verdict: 须为 accepted、declined 或 later");
        return TX_COMMIT;
    }
    int rc = customer_tags(c, &id, NULL, &tags);
    if (rc == CDB_NONE)
        return TX_COMMIT;
    if (rc != CDB_OK || product_catalog_read(c->tenant, &cat) != TC_OK)
        goto out;
    if (!product_find(&cat, product)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.product: 产品目录中没有此产品");
        res = TX_COMMIT;
        goto out;
    }
    size_t n = json_array_size(tags);
    codes = calloc(n ? n : 1, sizeof *codes);
    if (!codes)
        goto out;
    for (size_t i = 0; i < n; i++)
        codes[i] = json_string_value(json_object_get(json_array_get(tags, i), "code"));
    if (!n)
        codes[0] = RDB_NO_TAGS;
    const struct scope *sc = tenant_scope(c->tenant);
    struct rdb_feedback f = {.customer_id = id,
                             .teller_id = sc->teller_id,
                             .branch_id = sc->branch_id,
                             .at = clock_wall_ms(),
                             .product = product,
                             .verdict = verdict,
                             .tags = codes,
                             .ntags = n ? n : 1};
    if (rdb_feedback_add(c->tenant, &f) != RDB_OK ||
        perf_feedback(c->tenant, verdict, f.at) != PERF_OK)
        goto out;
    json_object_set_new(c->out, "customer_id", json_integer(id));
    json_object_set_new(c->out, "product", json_string(product));
    json_object_set_new(c->out, "verdict", json_string(verdict));
    json_object_set_new(c->out, "feedback_id", json_integer(f.id));
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", id);
    if (audit_tenantf(c->tenant, actor, "recommend.feedback", target, "{s:s, s:s}", "product",
                      product, "verdict", verdict) == ID_OK)
        res = TX_COMMIT;
out:
    free(codes);
    product_catalog_free(&cat);
    json_decref(tags);
    return res;
}

/* ---- the definitions --------------------------------------------------------------- */

static const struct tx_field F_LIST[] = {
    {.name = "customer_id", .type = TXF_INT, .required = true},
    {.name = "limit", .type = TXF_INT},
};
static const struct tx_field F_FEEDBACK[] = {
    {.name = "customer_id", .type = TXF_INT, .required = true},
    {.name = "product", .type = TXF_STRING, .required = true, .max = 64},
    {.name = "verdict", .type = TXF_STRING, .required = true, .max = 16},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

const struct tx_def TX_RECOMMEND_LIST = {.code = "RECOMMEND_LIST",
                                         .fn = tx_list,
                                         .needs_session = true,
                                         .bank_data = true,
                                         .fields = F_LIST,
                                         .nfields = NF(F_LIST)};
const struct tx_def TX_RECOMMEND_FEEDBACK = {.code = "RECOMMEND_FEEDBACK",
                                             .fn = tx_feedback,
                                             .needs_session = true,
                                             .bank_data = true,
                                             .fields = F_FEEDBACK,
                                             .nfields = NF(F_FEEDBACK)};
