/* product.c — the product catalog: built-in, checked, read and replaced
 * through the tenant scope (see product.h). */
#include "business/product.h"

#include "business/customer_profile.h"
#include "foundation/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char BUILTIN[] =
    "["
    "{\"code\":\"deposit\",\"name\":\"存款\",\"category\":\"deposit\",\"base\":10,\"targets\":"
    "{\"elderly\":20,\"high_assets\":20,\"farmer\":10}},"
    "{\"code\":\"loan\",\"name\":\"贷款\",\"category\":\"loan\",\"base\":5,\"targets\":"
    "{\"self_employed\":30,\"farmer\":20,\"has_land\":15,\"business\":25,\"grid_lead\":20,"
    "\"visit_interested\":15,\"no_loan\":10}},"
    "{\"code\":\"debit_card\",\"name\":\"借记卡\",\"category\":\"card\",\"base\":10,\"targets\":"
    "{\"young\":10,\"farmer\":5}},"
    "{\"code\":\"credit_card\",\"name\":\"信用卡\",\"category\":\"card\",\"base\":5,\"targets\":"
    "{\"young\":25,\"self_employed\":10,\"high_assets\":10,\"elderly\":-20}},"
    "{\"code\":\"mobile_banking\",\"name\":\"手机银行\",\"category\":\"ebank\",\"base\":10,"
    "\"targets\":{\"young\":25,\"no_mobile_banking\":15,\"self_employed\":10,\"elderly\":-10}},"
    "{\"code\":\"insurance\",\"name\":\"代理保险\",\"category\":\"insurance\",\"base\":5,"
    "\"targets\":{\"elderly\":15,\"high_assets\":15,\"farmer\":10}},"
    "{\"code\":\"fund\",\"name\":\"代理基金\",\"category\":\"fund\",\"base\":5,\"targets\":"
    "{\"high_assets\":30,\"young\":5,\"elderly\":-10}},"
    "{\"code\":\"social_security_card\",\"name\":\"社保卡\",\"category\":\"social_security\","
    "\"base\":5,\"targets\":{\"elderly\":25,\"farmer\":15}}"
    "]";

static const char *const CATEGORIES[] = {
    "deposit", "loan", "card", "ebank", "insurance", "fund", "social_security", "other"};

void product_catalog_free(struct product_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->v[i].targets);
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

static int bad(struct tc_error *err, const char *path, size_t i, const char *member,
               const char *msg)
{
    if (member)
        snprintf(err->field, sizeof err->field, "%s[%zu].%.24s", path, i, member);
    else
        snprintf(err->field, sizeof err->field, "%s[%zu]", path, i);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return TC_BAD;
}

static bool known_category(const char *c)
{
    for (size_t i = 0; c && i < sizeof CATEGORIES / sizeof CATEGORIES[0]; i++)
        if (strcmp(CATEGORIES[i], c) == 0)
            return true;
    return false;
}

static int check_targets(json_t *t, const char *path, size_t i, const struct tag_catalog *tags,
                         struct product *p, struct tc_error *err)
{
    if (!t) {
        p->targets = json_object();
        return p->targets ? TC_OK : STORE_NOMEM;
    }
    if (!json_is_object(t) || json_object_size(t) > PRODUCT_TARGETS_MAX)
        return bad(err, path, i, "targets", "须为至多50项的对象 {\"标签编码\": 权重}");
    const char *key;
    json_t *v;
    json_object_foreach(t, key, v)
    {
        char member[48];
        snprintf(member, sizeof member, "targets.%.32s", key);
        if (!tag_catalog_find(tags, key))
            return bad(err, path, i, member, "标签目录中没有此标签");
        if (!json_is_integer(v) || json_integer_value(v) < -100 || json_integer_value(v) > 100)
            return bad(err, path, i, member, "权重须为-100到100之间的整数");
    }
    p->targets = json_deep_copy(t);
    return p->targets ? TC_OK : STORE_NOMEM;
}

static int check_one(json_t *e, const char *path, size_t i, const struct tag_catalog *tags,
                     struct product *p, struct tc_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v)
    {
        if (strcmp(key, "code") && strcmp(key, "name") && strcmp(key, "category") &&
            strcmp(key, "base") && strcmp(key, "targets"))
            return bad(err, path, i, key, "未知字段");
    }
    const char *code = json_string_value(json_object_get(e, "code"));
    if (!tag_code_ok(code))
        return bad(err, path, i, "code", "须为1到32位小写字母、数字或下划线");
    snprintf(p->code, sizeof p->code, "%s", code);
    char name[CP_NAME_MAX + 1];
    struct cp_error ce;
    if (cp_name(json_object_get(e, "name"), "name", name, sizeof name, &ce) != CP_OK)
        return bad(err, path, i, "name", ce.msg);
    if (strlen(name) > TAG_NAME_MAX)
        return bad(err, path, i, "name", "名称过长（最多60字节）");
    memcpy(p->name, name, strlen(name) + 1);
    const char *cat = json_string_value(json_object_get(e, "category"));
    if (!known_category(cat))
        return bad(err, path, i, "category",
                   "须为 deposit、loan、card、ebank、insurance、fund、social_security、other 之一");
    snprintf(p->category, sizeof p->category, "%s", cat);
    json_t *base = json_object_get(e, "base");
    if (base &&
        (!json_is_integer(base) || json_integer_value(base) < 0 || json_integer_value(base) > 100))
        return bad(err, path, i, "base", "须为0到100之间的整数");
    p->base = base ? (int)json_integer_value(base) : 0;
    return check_targets(json_object_get(e, "targets"), path, i, tags, p, err);
}

int product_catalog_check(const json_t *products, const char *path, const struct tag_catalog *tags,
                          struct product_catalog *out, struct tc_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    size_t n = json_array_size(products);
    if (!json_is_array(products) || n > PRODUCT_CATALOG_MAX) {
        snprintf(err->field, sizeof err->field, "%s", path);
        snprintf(err->msg, sizeof err->msg, "须为至多%d项的数组", PRODUCT_CATALOG_MAX);
        return TC_BAD;
    }
    out->v = n ? calloc(n, sizeof *out->v) : NULL;
    if (n && !out->v)
        return STORE_NOMEM;
    int rc = TC_OK;
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        json_t *e = json_array_get(products, i);
        out->n = i + 1;
        rc = json_is_object(e) ? check_one(e, path, i, tags, &out->v[i], err)
                               : bad(err, path, i, NULL, "须为对象");
        for (size_t k = 0; rc == TC_OK && k < i; k++)
            if (strcmp(out->v[k].code, out->v[i].code) == 0)
                rc = bad(err, path, i, "code", "编码重复");
    }
    if (rc != TC_OK)
        product_catalog_free(out);
    return rc;
}

int product_catalog_builtin(struct product_catalog *out)
{
    struct tag_catalog tags;
    struct tc_error err;
    int rc = tag_catalog_builtin(&tags);
    json_t *j = rc == TC_OK ? json_loads(BUILTIN, 0, NULL) : NULL;
    if (rc == TC_OK)
        rc = j ? product_catalog_check(j, "products", &tags, out, &err) : STORE_NOMEM;
    json_decref(j);
    tag_catalog_free(&tags);
    if (rc == TC_BAD)
        log_error("product.builtin", "%s: %s", err.field, err.msg);
    out->builtin = true;
    return rc == TC_OK ? TC_OK : rc == TC_BAD ? STORE_ERR : rc;
}

int product_catalog_read(struct tenant_conn *tc, struct product_catalog *out)
{
    struct tenant_stmt *s = NULL;
    memset(out, 0, sizeof *out);
    int rc = tenant_prepare(tc,
                            "SELECT code, name, category, base, targets FROM products WHERE "
                            "bank_id = ? ORDER BY pos",
                            &s);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        rc = STORE_OK;
        if (out->n == PRODUCT_CATALOG_MAX)
            continue;
        struct product *nv = realloc(out->v, (out->n + 1) * sizeof *nv);
        if (!nv) {
            rc = STORE_NOMEM;
            break;
        }
        out->v = nv;
        struct product *p = &out->v[out->n];
        memset(p, 0, sizeof *p);
        snprintf(p->code, sizeof p->code, "%s", tenant_col_text(s, 0));
        snprintf(p->name, sizeof p->name, "%s", tenant_col_text(s, 1));
        snprintf(p->category, sizeof p->category, "%s", tenant_col_text(s, 2));
        p->base = (int)tenant_col_int64(s, 3);
        const char *t = tenant_col_text(s, 4);
        p->targets = t ? json_loads(t, 0, NULL) : NULL;
        if (!json_is_object(p->targets)) {
            json_decref(p->targets);
            p->targets = json_object();
        }
        out->n++;
    }
    tenant_finish(s);
    if (rc == STORE_DONE && out->n == 0)
        return product_catalog_builtin(out);
    if (rc != STORE_DONE) {
        product_catalog_free(out);
        return rc;
    }
    return TC_OK;
}

int product_catalog_replace(struct tenant_conn *tc, const struct product_catalog *cat, int64_t now)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, "DELETE FROM products WHERE bank_id = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    rc = rc == STORE_DONE ? STORE_OK : rc;
    for (size_t i = 0; rc == STORE_OK && i < cat->n; i++) {
        const struct product *p = &cat->v[i];
        char *targets = json_dumps(p->targets, JSON_COMPACT | JSON_SORT_KEYS);
        rc = targets ? tenant_prepare(tc,
                                      "INSERT INTO products (bank_id, code, name, category, base, "
                                      "targets, pos, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                      &s)
                     : STORE_NOMEM;
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 2, p->code);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 3, p->name);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 4, p->category);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 5, p->base);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 6, targets);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 7, (int64_t)i);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 8, now);
        if (rc == STORE_OK)
            rc = tenant_step(s);
        tenant_finish(s);
        free(targets);
        if (rc == STORE_DONE)
            rc = STORE_OK;
    }
    return rc == STORE_OK ? TC_OK : rc;
}

const struct product *product_find(const struct product_catalog *c, const char *code)
{
    for (size_t i = 0; c && code && i < c->n; i++)
        if (strcmp(c->v[i].code, code) == 0)
            return &c->v[i];
    return NULL;
}

json_t *product_catalog_json(const struct product_catalog *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++) {
        const struct product *p = &c->v[i];
        if (json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:O}", "code", p->code, "name",
                                               p->name, "category", p->category, "base", p->base,
                                               "targets", p->targets))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
