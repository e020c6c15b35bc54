/* GET  /api/v1/admin/catalog [?bank=CODE] — a bank's tag catalog and
 *      product catalog (the built-in ones until the bank loads its own)
 * POST /api/v1/admin/catalog {bank?, tags?, products?} — replaces the
 *      bank's tag catalog and/or product catalog (bank or province admin;
 *      a province admin names the bank). Every entry is checked first
 *      (business/tag_catalog.h, product.h): a bad one, a rule that does not
 *      parse included, is 400 bad_request naming it ("tags[2].rule: 第1行
 *      第9列：未知变量 agee") and nothing is loaded. Audited catalog.loaded.
 *
 * Both work on the bank's shard (data/shard.h): the write checks the fence
 * in its transaction (moving: 503 unavailable, nothing written; gone: the
 * map is reloaded and the work runs where the bank is now). */
#include "app/app.h"
#include "business/product.h"
#include "business/tag_catalog.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/audit.h"

#include <stdio.h>
#include <string.h>

enum { CAT_MOVING = 30, CAT_GONE = 31, CAT_BAD = 32 };

static const struct tx_field F_LOAD[] = {
    {.name = "bank", .type = TXF_STRING, .max = ORG_CODE_MAX},
    {.name = "tags", .type = TXF_ARRAY, .max = TAG_CATALOG_MAX},
    {.name = "products", .type = TXF_ARRAY, .max = PRODUCT_CATALOG_MAX},
};

struct cat_work {
    struct admin_req *ar;
    struct bank bank;
    struct scope sc;
    bool read;                      /* GET: read only */
    const struct tag_catalog *tags; /* POST: the new tags, or NULL */
    json_t *products_in;            /* POST: the new products, or NULL */
    /* out */
    struct tc_error err;
    json_t *answer;
};

/* On c (the bank's shard), inside the transaction for a write. */
static int cat_work_on(struct store_conn *c, void *arg)
{
    struct cat_work *w = arg;
    struct tenant_conn *tc = NULL;
    struct tag_catalog cur = {0};
    struct product_catalog prod = {0};
    json_decref(w->answer);
    w->answer = NULL;
    int rc = shard_fence(c, w->bank.id);
    if (rc == SHARD_GONE || (rc == SHARD_MOVING && !w->read))
        return rc == SHARD_GONE ? CAT_GONE : CAT_MOVING;
    if (rc == SHARD_MOVING)
        rc = STORE_OK;
    if (rc == STORE_OK)
        rc = tenant_open(c, &w->sc, &tc);
    if (rc == STORE_OK && (w->read || !w->tags))
        rc = tag_catalog_read(tc, &cur);
    const struct tag_catalog *tags = w->tags ? w->tags : &cur;
    if (rc == STORE_OK && w->products_in) {
        rc = product_catalog_check(w->products_in, "products", tags, &prod, &w->err);
        if (rc == TC_BAD)
            rc = CAT_BAD;
    } else if (rc == STORE_OK && w->read) {
        rc = product_catalog_read(tc, &prod);
    }
    if (rc == STORE_OK && w->read) {
        w->answer = json_pack("{s:s, s:o, s:b, s:o, s:b}", "bank", w->bank.code, "tags",
                              tag_catalog_json(tags), "builtin_tags", tags->builtin, "products",
                              product_catalog_json(&prod), "builtin_products", prod.builtin);
        rc = w->answer ? STORE_OK : STORE_NOMEM;
    } else if (rc == STORE_OK) {
        int64_t now = clock_wall_ms();
        char target[32];
        if (w->tags)
            rc = tag_catalog_replace(tc, w->tags, now);
        if (rc == STORE_OK && w->products_in)
            rc = product_catalog_replace(tc, &prod, now);
        snprintf(target, sizeof target, "bank:%s", w->bank.code);
        if (rc == STORE_OK)
            rc = audit_tenantf(tc, w->ar->actor, "catalog.loaded", target, "{s:I, s:I}", "tags",
                               (json_int_t)(w->tags ? (json_int_t)w->tags->n : -1), "products",
                               (json_int_t)(w->products_in ? (json_int_t)prod.n : -1));
        if (rc == STORE_OK)
            w->answer = json_pack("{s:s, s:I, s:I}", "bank", w->bank.code, "tags",
                                  (json_int_t)(w->tags ? w->tags->n : cur.n), "products",
                                  (json_int_t)(w->products_in ? prod.n : 0));
        if (rc == STORE_OK && !w->answer)
            rc = STORE_NOMEM;
    }
    tag_catalog_free(&cur);
    product_catalog_free(&prod);
    tenant_close(tc);
    return rc;
}

/* The work on the bank's shard, once more after a move. */
static int cat_run(struct cat_work *w)
{
    struct app *app = w->ar->app;
    int rc = CAT_GONE;
    for (int attempt = 0; rc == CAT_GONE && attempt < 2; attempt++) {
        if (attempt > 0 && shards_reload(app->shards) != STORE_OK)
            return STORE_BUSY;
        struct store *st = shards_route(app->shards, w->bank.id, NULL);
        struct store_conn *c = w->ar->conn;
        if (st != app->store && store_acquire(st, &c) != STORE_OK)
            return STORE_BUSY;
        rc = w->read ? cat_work_on(c, w) : store_run(c, "catalog", cat_work_on, w);
        if (c != w->ar->conn)
            store_release(c);
    }
    return rc == CAT_GONE || rc == CAT_MOVING ? STORE_BUSY : rc;
}

static void answer(struct cat_work *w, int rc)
{
    if (rc == STORE_OK)
        http_json(w->ar->resp, 200, json_incref(w->answer));
    else if (rc == CAT_BAD) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s: %s", w->err.field, w->err.msg);
        http_error(w->ar->resp, ZE_BAD_REQUEST, msg);
    } else
        admin_fail(w->ar, rc, "catalog");
}

void h_admin_catalog(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct cat_work w = {.ar = &ar, .read = true};
    int64_t bank_id = 0;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    int rc = admin_list_bank(&ar, &bank_id);
    if (rc == ID_OK && bank_id == 0)
        rc = ID_BAD_INPUT; /* a province admin names the bank */
    if (rc == ID_OK)
        rc = org_find_bank_id(ar.conn, bank_id, &w.bank);
    if (rc == ID_OK) {
        w.sc = (struct scope){bank_id, 0, ar.who.teller_id, ar.who.role};
        rc = cat_run(&w);
    }
    answer(&w, rc);
    json_decref(w.answer);
    admin_close(&ar);
}

void h_admin_catalog_load(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    struct cat_work w = {.ar = &ar};
    struct tag_catalog tags = {0};
    if (!admin_open(req, resp, ADMIN_WRITE, F_LOAD, sizeof F_LOAD / sizeof F_LOAD[0], &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN && ar.who.role != ROLE_BANK_ADMIN) {
        admin_forbidden(&ar);
        goto out;
    }
    const char *code = admin_str(&ar, "bank");
    int rc = code ? admin_find_bank(&ar, code, &w.bank)
             : ar.who.role == ROLE_PROVINCE_ADMIN
                 ? ID_BAD_INPUT
                 : org_find_bank_id(ar.conn, ar.who.bank_id, &w.bank);
    json_t *tags_in = json_object_get(ar.in, "tags");
    w.products_in = json_object_get(ar.in, "products");
    if (rc == ID_OK && !tags_in && !w.products_in) {
        http_error(resp, ZE_BAD_REQUEST, "须给出 tags 或 products");
        goto out;
    }
    if (rc == ID_OK && tags_in) {
        rc = tag_catalog_check(tags_in, "tags", &tags, &w.err);
        if (rc == TC_BAD)
            rc = CAT_BAD;
        w.tags = &tags;
    }
    if (rc == ID_OK) {
        w.sc = (struct scope){w.bank.id, 0, ar.who.teller_id, ar.who.role};
        rc = cat_run(&w);
    }
    answer(&w, rc);
out:
    tag_catalog_free(&tags);
    json_decref(w.answer);
    admin_close(&ar);
}
