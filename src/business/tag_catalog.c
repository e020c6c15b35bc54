/* tag_catalog.c — the tag catalog: built-in, checked, read and replaced
 * through the tenant scope (see tag_catalog.h). */
#include "business/tag_catalog.h"

#include "business/customer_profile.h"
#include "foundation/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The built-in catalog: what a bank has until it loads its own. Rule tags
 * on visit and grid data match nobody until those facts exist. */
static const char BUILTIN[] =
    "["
    "{\"code\":\"farmer\",\"name\":\"农户\",\"kind\":\"rule\",\"rule\":\"occupation = "
    "\\\"farmer\\\"\"},"
    "{\"code\":\"self_employed\",\"name\":\"个体工商户\",\"kind\":\"rule\",\"rule\":"
    "\"occupation = \\\"self_employed\\\"\"},"
    "{\"code\":\"young\",\"name\":\"青年客户\",\"kind\":\"rule\",\"rule\":\"age >= 18 and age < "
    "35\"},"
    "{\"code\":\"elderly\",\"name\":\"老年客户\",\"kind\":\"rule\",\"rule\":\"age >= 60\"},"
    "{\"code\":\"high_assets\",\"name\":\"高净值客户\",\"kind\":\"rule\",\"rule\":\"assets >= "
    "1000000 or income_band in [\\\"300k_1m\\\", \\\"above_1m\\\"]\"},"
    "{\"code\":\"has_land\",\"name\":\"有承包地\",\"kind\":\"rule\",\"rule\":\"assets.land > "
    "0\"},"
    "{\"code\":\"no_loan\",\"name\":\"无贷款\",\"kind\":\"rule\",\"rule\":\"not (\\\"loan\\\" in "
    "products)\"},"
    "{\"code\":\"no_mobile_banking\",\"name\":\"未开通手机银行\",\"kind\":\"rule\",\"rule\":"
    "\"not (\\\"mobile_banking\\\" in products)\"},"
    "{\"code\":\"business\",\"name\":\"对公客户\",\"kind\":\"rule\",\"rule\":\"kind = "
    "\\\"business\\\"\"},"
    "{\"code\":\"grid_lead\",\"name\":\"网格商机\",\"kind\":\"rule\",\"rule\":\"grid.lead_score >= "
    "60\"},"
    "{\"code\":\"visit_interested\",\"name\":\"走访有意向\",\"kind\":\"rule\",\"rule\":"
    "\"visit.last_outcome = \\\"interested\\\"\"},"
    "{\"code\":\"vip\",\"name\":\"重点客户\",\"kind\":\"manual\"},"
    "{\"code\":\"do_not_disturb\",\"name\":\"勿扰客户\",\"kind\":\"manual\"}"
    "]";

bool tag_code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > TAG_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

void tag_catalog_free(struct tag_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].text);
        tr_free(c->v[i].ast);
    }
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

static int bad(struct tc_error *err, const char *path, size_t i, const char *member,
               const char *msg)
{
    if (member)
        snprintf(err->field, sizeof err->field, "%s[%zu].%s", path, i, member);
    else
        snprintf(err->field, sizeof err->field, "%s[%zu]", path, i);
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return TC_BAD;
}

/* One entry into d. */
static int check_one(json_t *e, const char *path, size_t i, struct tag_def *d, struct tc_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v)
    {
        if (strcmp(key, "code") && strcmp(key, "name") && strcmp(key, "kind") &&
            strcmp(key, "rule"))
            return bad(err, path, i, key, "未知字段");
    }
    const char *code = json_string_value(json_object_get(e, "code"));
    if (!tag_code_ok(code))
        return bad(err, path, i, "code", "须为1到32位小写字母、数字或下划线");
    snprintf(d->code, sizeof d->code, "%s", code);
    char name[CP_NAME_MAX + 1];
    struct cp_error ce;
    if (cp_name(json_object_get(e, "name"), "name", name, sizeof name, &ce) != CP_OK)
        return bad(err, path, i, "name", ce.msg);
    if (strlen(name) > TAG_NAME_MAX)
        return bad(err, path, i, "name", "名称过长（最多60字节）");
    memcpy(d->name, name, strlen(name) + 1);
    const char *kind = json_string_value(json_object_get(e, "kind"));
    json_t *rule = json_object_get(e, "rule");
    if (!kind || (strcmp(kind, "manual") && strcmp(kind, "rule")))
        return bad(err, path, i, "kind", "须为 manual 或 rule");
    d->rule = strcmp(kind, "rule") == 0;
    if (!d->rule) {
        if (rule)
            return bad(err, path, i, "rule", "手工标签不能有规则");
        return TC_OK;
    }
    if (!json_is_string(rule))
        return bad(err, path, i, "rule", "规则标签须有规则（字符串）");
    struct tr_error te;
    int rc = tr_parse(json_string_value(rule), json_string_length(rule), &d->ast, &te);
    if (rc == TR_NOMEM)
        return STORE_NOMEM;
    if (rc != TR_OK)
        return bad(err, path, i, "rule", te.msg);
    d->text = strdup(json_string_value(rule));
    return d->text ? TC_OK : STORE_NOMEM;
}

int tag_catalog_check(const json_t *tags, const char *path, struct tag_catalog *out,
                      struct tc_error *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    size_t n = json_array_size(tags);
    if (!json_is_array(tags) || n > TAG_CATALOG_MAX) {
        snprintf(err->field, sizeof err->field, "%s", path);
        snprintf(err->msg, sizeof err->msg, "须为至多%d项的数组", TAG_CATALOG_MAX);
        return TC_BAD;
    }
    out->v = n ? calloc(n, sizeof *out->v) : NULL;
    if (n && !out->v)
        return STORE_NOMEM;
    int rc = TC_OK;
    for (size_t i = 0; i < n && rc == TC_OK; i++) {
        json_t *e = json_array_get(tags, i);
        out->n = i + 1;
        rc = json_is_object(e) ? check_one(e, path, i, &out->v[i], err)
                               : bad(err, path, i, NULL, "须为对象");
        for (size_t k = 0; rc == TC_OK && k < i; k++)
            if (strcmp(out->v[k].code, out->v[i].code) == 0)
                rc = bad(err, path, i, "code", "编码重复");
    }
    if (rc != TC_OK)
        tag_catalog_free(out);
    return rc;
}

int tag_catalog_builtin(struct tag_catalog *out)
{
    struct tc_error err;
    json_t *j = json_loads(BUILTIN, 0, NULL);
    int rc = j ? tag_catalog_check(j, "tags", out, &err) : STORE_NOMEM;
    json_decref(j);
    if (rc == TC_BAD) /* a bug: the unit tests check the built-in catalog */
        log_error("tag.builtin", "%s: %s", err.field, err.msg);
    out->builtin = true;
    return rc == TC_OK ? TC_OK : rc == TC_BAD ? STORE_ERR : rc;
}

int tag_catalog_read(struct tenant_conn *tc, struct tag_catalog *out)
{
    struct tenant_stmt *s = NULL;
    memset(out, 0, sizeof *out);
    int rc = tenant_prepare(
        tc, "SELECT code, name, kind, rule FROM tag_defs WHERE bank_id = ? ORDER BY pos", &s);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        rc = STORE_OK;
        if (out->n == TAG_CATALOG_MAX)
            continue;
        struct tag_def *nv = realloc(out->v, (out->n + 1) * sizeof *nv);
        if (!nv) {
            rc = STORE_NOMEM;
            break;
        }
        out->v = nv;
        struct tag_def *d = &out->v[out->n];
        memset(d, 0, sizeof *d);
        snprintf(d->code, sizeof d->code, "%s", tenant_col_text(s, 0));
        snprintf(d->name, sizeof d->name, "%s", tenant_col_text(s, 1));
        const char *kind = tenant_col_text(s, 2), *text = tenant_col_text(s, 3);
        d->rule = kind && strcmp(kind, "rule") == 0;
        if (d->rule) {
            struct tr_error te;
            int prc = tr_parse(text, text ? strlen(text) : 0, &d->ast, &te);
            if (prc == TR_NOMEM) {
                rc = STORE_NOMEM;
                break;
            }
            if (prc != TR_OK) {
                log_error("tag.rule", "tag %s: the stored rule no longer parses: %s", d->code,
                          te.msg);
                continue;
            }
            if (!(d->text = strdup(text))) {
                tr_free(d->ast);
                rc = STORE_NOMEM;
                break;
            }
        }
        out->n++;
    }
    tenant_finish(s);
    if (rc == STORE_DONE && out->n == 0)
        return tag_catalog_builtin(out);
    if (rc != STORE_DONE) {
        tag_catalog_free(out);
        return rc;
    }
    return TC_OK;
}

static int exec1(struct tenant_conn *tc, const char *sql)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, sql, &s);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

int tag_catalog_replace(struct tenant_conn *tc, const struct tag_catalog *cat, int64_t now)
{
    int rc = exec1(tc, "DELETE FROM tag_defs WHERE bank_id = ?");
    for (size_t i = 0; rc == STORE_OK && i < cat->n; i++) {
        const struct tag_def *d = &cat->v[i];
        struct tenant_stmt *s = NULL;
        rc = tenant_prepare(tc,
                            "INSERT INTO tag_defs (bank_id, code, name, kind, rule, pos, "
                            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            &s);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 2, d->code);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 3, d->name);
        if (rc == STORE_OK)
            rc = tenant_bind_text(s, 4, d->rule ? "rule" : "manual");
        if (rc == STORE_OK)
            rc = d->rule ? tenant_bind_text(s, 5, d->text) : tenant_bind_null(s, 5);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 6, (int64_t)i);
        if (rc == STORE_OK)
            rc = tenant_bind_int64(s, 7, now);
        if (rc == STORE_OK)
            rc = tenant_step(s);
        tenant_finish(s);
        if (rc == STORE_DONE)
            rc = STORE_OK;
        if (rc == STORE_OK && d->rule) {
            rc = tenant_prepare(tc,
                                "DELETE FROM customer_tags WHERE bank_id = ? AND code = ? AND "
                                "source = 'manual'",
                                &s);
            if (rc == STORE_OK)
                rc = tenant_bind_text(s, 2, d->code);
            if (rc == STORE_OK)
                rc = tenant_step(s);
            tenant_finish(s);
            if (rc == STORE_DONE)
                rc = STORE_OK;
        }
    }
    return rc == STORE_OK ? TC_OK : rc;
}

const struct tag_def *tag_catalog_find(const struct tag_catalog *c, const char *code)
{
    for (size_t i = 0; c && code && i < c->n; i++)
        if (strcmp(c->v[i].code, code) == 0)
            return &c->v[i];
    return NULL;
}

json_t *tag_catalog_json(const struct tag_catalog *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++) {
        const struct tag_def *d = &c->v[i];
        json_t *e = json_pack("{s:s, s:s, s:s}", "code", d->code, "name", d->name, "kind",
                              d->rule ? "rule" : "manual");
        if (e && d->rule)
            json_object_set_new(e, "rule", json_string(d->text));
        if (!e || json_array_append_new(a, e)) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}
