/* tag_eval.c — a customer's facts and current tags (see tag_eval.h). */
#include "business/tag_eval.h"

#include "business/customer_id.h"
#include "business/tag_db.h"
#include "foundation/clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANK_UTC_OFFSET_S (8 * 3600) /* China Standard Time, no DST */

int32_t tag_today(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000 + BANK_UTC_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

static void copy_str(json_t *facts, const json_t *rec, const char *key)
{
    json_t *v = json_object_get(rec, key);
    if (json_is_string(v))
        json_object_set_new(facts, key, json_string(json_string_value(v)));
}

json_t *tag_facts(const json_t *record, int32_t today)
{
    json_t *f = json_object();
    if (!f)
        return NULL;
    copy_str(f, record, "kind");
    copy_str(f, record, "occupation");
    copy_str(f, record, "income_band");
    copy_str(f, record, "industry");
    const char *id_no = json_string_value(json_object_get(record, "id_no"));
    if (id_no && strlen(id_no) == CID_LEN) {
        int32_t birth = cid_birth(id_no);
        char sex[2] = {cid_sex(id_no), '\0'};
        if (birth > 0 && today >= birth)
            json_object_set_new(f, "age", json_integer((today - birth) / 10000));
        json_object_set_new(f, "sex", json_string(sex));
    }
    json_t *hh = json_object_get(record, "household");
    if (json_object_get(record, "id_no"))
        json_object_set_new(f, "household.size", json_integer(1 + (json_int_t)json_array_size(hh)));
    json_t *assets = json_object_get(record, "assets");
    if (json_array_size(assets) > 0) {
        json_int_t total = 0;
        size_t i;
        json_t *a;
        json_array_foreach(assets, i, a)
        {
            const char *type = json_string_value(json_object_get(a, "type"));
            json_int_t v = json_integer_value(json_object_get(a, "value"));
            char key[48];
            total += v;
            if (!type)
                continue;
            snprintf(key, sizeof key, "assets.%s", type);
            json_int_t prev = json_integer_value(json_object_get(f, key));
            json_object_set_new(f, key, json_integer(prev + v));
        }
        json_object_set_new(f, "assets", json_integer(total));
    }
    json_t *products = json_object_get(record, "products");
    json_object_set_new(f, "products",
                        json_is_array(products) ? json_deep_copy(products) : json_array());
    json_t *turnover = json_object_get(record, "turnover");
    if (json_is_integer(turnover))
        json_object_set_new(f, "turnover", json_integer(json_integer_value(turnover)));
    return f;
}

/* The stored rule tags of a customer, codes only. */
struct stored {
    char (*code)[TAG_CODE_MAX + 1];
    int64_t *since;
    size_t n, cap;
};

static int keep_row(const struct tdb_row *r, void *arg)
{
    struct stored *st = arg;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        void *c = realloc(st->code, cap * sizeof *st->code);
        if (c)
            st->code = c;
        void *s = realloc(st->since, cap * sizeof *st->since);
        if (s)
            st->since = s;
        if (!c || !s)
            return STORE_NOMEM;
        st->cap = cap;
    }
    snprintf(st->code[st->n], TAG_CODE_MAX + 1, "%s", r->code ? r->code : "");
    st->since[st->n] = r->set_at;
    st->n++;
    return 0;
}

static int64_t stored_since(const struct stored *st, const char *code)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->code[i], code) == 0)
            return st->since[i];
    return -1;
}

static int add_tag(json_t *tags, const struct tag_def *d, int64_t since)
{
    if (!tags)
        return 0;
    return json_array_append_new(tags, json_pack("{s:s, s:s, s:s, s:I}", "code", d->code, "name",
                                                 d->name, "kind", d->rule ? "rule" : "manual",
                                                 "since", (json_int_t)since))
               ? STORE_NOMEM
               : 0;
}

/* Brings the stored rule tags in line with matched (one flag per tag of cat). */
static int sync_rules(struct tenant_conn *tc, const struct tag_catalog *cat, int64_t customer_id,
                      const bool *matched, struct stored *rules, int64_t now)
{
    int rc = TDB_OK;
    for (size_t i = 0; rc == TDB_OK && i < rules->n; i++) {
        const struct tag_def *d = tag_catalog_find(cat, rules->code[i]);
        if (!d || !d->rule || !matched[d - cat->v])
            rc = tdb_clear(tc, customer_id, rules->code[i], "rule");
        if (rc == TDB_NONE)
            rc = TDB_OK;
    }
    for (size_t i = 0; rc == TDB_OK && i < cat->n; i++) {
        bool added;
        if (matched[i] && stored_since(rules, cat->v[i].code) < 0)
            rc = tdb_set(tc, customer_id, cat->v[i].code, "rule", 0, now, &added);
    }
    return rc;
}

int tag_current(struct tenant_conn *tc, const struct tag_catalog *cat, int64_t customer_id,
                const json_t *record, json_t **tags)
{
    struct stored rules = {0}, manual = {0};
    int64_t now = clock_wall_ms();
    bool *matched = calloc(cat->n ? cat->n : 1, sizeof *matched);
    json_t *facts = tag_facts(record, tag_today());
    json_t *out = tags ? json_array() : NULL;
    int rc = matched && facts && (!tags || out) ? TDB_OK : STORE_NOMEM;
    if (rc == TDB_OK)
        rc = tdb_list(tc, customer_id, "rule", keep_row, &rules);
    if (rc == TDB_OK)
        rc = tdb_list(tc, customer_id, "manual", keep_row, &manual);
    for (size_t i = 0; rc == TDB_OK && i < cat->n; i++)
        matched[i] = cat->v[i].rule && tr_eval(cat->v[i].ast, facts);
    if (rc == TDB_OK)
        rc = sync_rules(tc, cat, customer_id, matched, &rules, now);
    for (size_t i = 0; rc == TDB_OK && out && i < cat->n; i++) {
        const struct tag_def *d = &cat->v[i];
        int64_t since = d->rule ? stored_since(&rules, d->code) : stored_since(&manual, d->code);
        if (d->rule && matched[i])
            rc = add_tag(out, d, since < 0 ? now : since);
        else if (!d->rule && since >= 0)
            rc = add_tag(out, d, since);
    }
    free(rules.code);
    free(rules.since);
    free(manual.code);
    free(manual.since);
    free(matched);
    json_decref(facts);
    if (rc == TDB_OK && tags)
        *tags = out;
    else
        json_decref(out);
    return rc;
}

int tag_refresh(struct tenant_conn *tc, int64_t customer_id, const json_t *record)
{
    struct tag_catalog cat;
    int rc = tag_catalog_read(tc, &cat);
    if (rc != TC_OK)
        return rc;
    rc = tag_current(tc, &cat, customer_id, record, NULL);
    tag_catalog_free(&cat);
    return rc;
}
