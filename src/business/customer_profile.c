/* customer_profile.c — the members of a customer record and their rules
 * (see customer_profile.h). */
#include "business/customer_profile.h"

#include "business/customer_id.h"
#include "business/visit_geo.h"
#include "foundation/text.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define K_PERSON 1u
#define K_BUSINESS 2u
#define MAX_YUAN 10000000000000LL /* 10^13 */

/* A checker gets the value and the member's path; it returns the normalised
 * value (a new reference), json_null() to remove an optional member, or NULL
 * with err set. */
typedef json_t *(*check_fn)(json_t *v, const char *path, int32_t today, struct cp_error *err);

struct member {
    const char *name;
    unsigned kinds;
    bool required;
    check_fn check;
};

static json_t *bad(struct cp_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *bad(struct cp_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->field, sizeof err->field, "%s", path);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return NULL;
}

/* ---- scalars ---------------------------------------------------------------------- */

/* Valid UTF-8 without control characters. */
static bool plain_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
        size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* Text of 0..max bytes after trimming spaces; json_null() for "". */
static json_t *text(json_t *v, const char *path, size_t max, struct cp_error *err)
{
    if (!json_is_string(v))
        return bad(err, path, "须为字符串");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !plain_text(s, n))
        return bad(err, path, "含有控制字符或无效编码");
    while (n && s[0] == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    if (n > max)
        return bad(err, path, "长度不能超过%zu字节", max);
    return n ? json_stringn(s, n) : json_null();
}

static json_t *check_name(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    json_t *t = text(v, path, CP_NAME_MAX, err);
    if (t && json_is_null(t))
        return bad(err, path, "不能为空");
    return t;
}

static json_t *check_short_name(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    json_t *t = text(v, path, 100, err);
    if (t && json_is_null(t))
        return bad(err, path, "不能为空");
    return t;
}

static json_t *check_address(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    return text(v, path, 300, err);
}

static json_t *check_note(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    return text(v, path, 100, err);
}

static bool empty_string(json_t *v)
{
    return json_is_string(v) && json_string_length(v) == 0;
}

static json_t *check_id_no(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    char out[CID_LEN + 1];
    if (empty_string(v))
        return json_null();
    if (!json_is_string(v))
        return bad(err, path, "须为字符串");
    int rc = cid_resident(json_string_value(v), today, out);
    if (rc != CID_OK)
        return bad(err, path, "身份证号码%s", cid_message(rc));
    return json_string(out);
}

static json_t *check_uscc(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    char out[CID_LEN + 1];
    if (empty_string(v))
        return json_null();
    if (!json_is_string(v))
        return bad(err, path, "须为字符串");
    int rc = cid_uscc(json_string_value(v), out);
    if (rc != CID_OK)
        return bad(err, path, "统一社会信用代码%s", cid_message(rc));
    return json_string(out);
}

static json_t *check_phone(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    char out[CID_PHONE_LEN + 1];
    if (empty_string(v))
        return json_null();
    if (!json_is_string(v))
        return bad(err, path, "须为字符串");
    int rc = cid_mobile(json_string_value(v), out);
    if (rc != CID_OK)
        return bad(err, path, "手机号码%s", cid_message(rc));
    return json_string(out);
}

/* One of words (NULL-terminated); "" removes. */
static json_t *one_of(json_t *v, const char *path, const char *const *words, struct cp_error *err)
{
    if (empty_string(v))
        return json_null();
    const char *s = json_string_value(v);
    for (size_t i = 0; s && words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return json_string(s);
    return bad(err, path, "不是可选的取值");
}

static json_t *check_occupation(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    static const char *const w[] = {"farmer",        "migrant_worker", "self_employed", "employee",
                                    "civil_servant", "teacher",        "medical",       "student",
                                    "retired",       "unemployed",     "other",         NULL};
    return one_of(v, path, w, err);
}

static json_t *check_income(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    static const char *const w[] = {"below_30k", "30k_100k", "100k_300k",
                                    "300k_1m",   "above_1m", NULL};
    return one_of(v, path, w, err);
}

static json_t *check_relation(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    static const char *const w[] = {"spouse",     "child",  "parent", "sibling", "grandparent",
                                    "grandchild", "in_law", "other",  NULL};
    json_t *r = one_of(v, path, w, err);
    if (r && json_is_null(r))
        return bad(err, path, "不能为空");
    return r;
}

static json_t *check_asset_type(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    static const char *const w[] = {"deposit",   "wealth",    "house", "land",  "vehicle",
                                    "machinery", "livestock", "crops", "other", NULL};
    json_t *r = one_of(v, path, w, err);
    if (r && json_is_null(r))
        return bad(err, path, "不能为空");
    return r;
}

static json_t *check_yuan(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_YUAN)
        return bad(err, path, "须为0到10000000000000之间的整数（元）");
    return json_integer(json_integer_value(v));
}

static json_t *check_industry(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    if (empty_string(v))
        return json_null();
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    bool ok = n == 1 || n == 3 || n == 4 || n == 5;
    ok = ok && s[0] >= 'A' && s[0] <= 'T';
    for (size_t i = 1; ok && i < n; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (!ok)
        return bad(err, path, "须为国民经济行业分类代码（如 A01）");
    return json_string(s);
}

/* A WGS-84 coordinate, stored as a real. */
static json_t *check_lat(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    if (!json_is_number(v) || !vg_lat_ok(json_number_value(v)))
        return bad(err, path, "纬度须为-90到90之间的数");
    return json_real(json_number_value(v));
}

static json_t *check_lon(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    if (!json_is_number(v) || !vg_lon_ok(json_number_value(v)))
        return bad(err, path, "经度须为-180到180之间的数");
    return json_real(json_number_value(v));
}

/* ---- nested ----------------------------------------------------------------------- */

struct nested {
    const char *name;
    bool required;
    check_fn check;
};

/* An object with only the members of spec, each checked. */
static json_t *object_of(json_t *v, const char *path, const struct nested *spec, size_t n,
                         int32_t today, struct cp_error *err)
{
    char sub[64];
    if (!json_is_object(v))
        return bad(err, path, "须为对象");
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        size_t i = 0;
        while (i < n && strcmp(spec[i].name, key) != 0)
            i++;
        if (i == n)
            return bad(err, path, "含有未知字段 %.32s", key);
    }
    json_t *out = json_object();
    if (!out)
        return bad(err, path, "内存不足");
    for (size_t i = 0; i < n; i++) {
        if (snprintf(sub, sizeof sub, "%s.%s", path, spec[i].name) >= (int)sizeof sub)
            sub[sizeof sub - 1] = '\0'; /* paths are short; a long one is cut, never overrun */
        json_t *m = json_object_get(v, spec[i].name);
        json_t *norm = m ? spec[i].check(m, sub, today, err) : json_null();
        if (!norm) {
            json_decref(out);
            return NULL;
        }
        if (json_is_null(norm) && spec[i].required) {
            json_decref(out);
            json_decref(norm);
            return bad(err, sub, "不能为空");
        }
        if (!json_is_null(norm))
            json_object_set(out, spec[i].name, norm);
        json_decref(norm);
    }
    return out;
}

static const struct nested HOUSEHOLD_MEMBER[] = {
    {.name = "name", .required = true, .check = check_short_name},
    {.name = "relation", .required = true, .check = check_relation},
    {.name = "id_no", .required = false, .check = check_id_no},
    {.name = "phone", .required = false, .check = check_phone},
};

static const struct nested ASSET[] = {
    {.name = "type", .required = true, .check = check_asset_type},
    {.name = "value", .required = true, .check = check_yuan},
    {.name = "note", .required = false, .check = check_note},
};

static const struct nested LEGAL_PERSON[] = {
    {.name = "name", .required = true, .check = check_short_name},
    {.name = "id_no", .required = false, .check = check_id_no},
    {.name = "phone", .required = false, .check = check_phone},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An array of at most max objects of spec; [] removes. */
static json_t *array_of(json_t *v, const char *path, size_t max, const struct nested *spec,
                        size_t n, int32_t today, struct cp_error *err)
{
    char sub[64];
    if (!json_is_array(v))
        return bad(err, path, "须为数组");
    if (json_array_size(v) > max)
        return bad(err, path, "最多%zu项", max);
    if (json_array_size(v) == 0)
        return json_null();
    json_t *out = json_array();
    if (!out)
        return bad(err, path, "内存不足");
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (snprintf(sub, sizeof sub, "%s[%zu]", path, i) >= (int)sizeof sub)
            sub[sizeof sub - 1] = '\0';
        json_t *norm = object_of(item, sub, spec, n, today, err);
        if (!norm) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, norm);
    }
    return out;
}

static json_t *check_household(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    return array_of(v, path, 20, HOUSEHOLD_MEMBER, NELEM(HOUSEHOLD_MEMBER), today, err);
}

static json_t *check_assets(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    return array_of(v, path, 20, ASSET, NELEM(ASSET), today, err);
}

static json_t *check_legal_person(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    if (json_is_object(v) && json_object_size(v) == 0)
        return json_null();
    return object_of(v, path, LEGAL_PERSON, NELEM(LEGAL_PERSON), today, err);
}

static bool product_code(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static json_t *check_products(json_t *v, const char *path, int32_t today, struct cp_error *err)
{
    (void)today;
    char sub[64];
    if (!json_is_array(v))
        return bad(err, path, "须为数组");
    if (json_array_size(v) > 50)
        return bad(err, path, "最多50项");
    if (json_array_size(v) == 0)
        return json_null();
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        if (snprintf(sub, sizeof sub, "%s[%zu]", path, i) >= (int)sizeof sub)
            sub[sizeof sub - 1] = '\0';
        if (!product_code(json_string_value(item)))
            return bad(err, sub, "产品代码须为1到32个小写字母、数字或下划线");
        for (size_t k = 0; k < i; k++)
            if (json_equal(json_array_get(v, k), item))
                return bad(err, sub, "产品重复");
    }
    return json_deep_copy(v);
}

/* ---- the record --------------------------------------------------------------------- */

#define K_ALL (K_PERSON | K_BUSINESS)

static const struct member MEMBERS[] = {
    {.name = "name", .kinds = K_ALL, .required = true, .check = check_name},
    {.name = "id_no", .kinds = K_PERSON, .required = true, .check = check_id_no},
    {.name = "uscc", .kinds = K_BUSINESS, .required = true, .check = check_uscc},
    {.name = "phone", .kinds = K_ALL, .required = false, .check = check_phone},
    {.name = "address", .kinds = K_ALL, .required = false, .check = check_address},
    {.name = "household", .kinds = K_PERSON, .required = false, .check = check_household},
    {.name = "occupation", .kinds = K_PERSON, .required = false, .check = check_occupation},
    {.name = "income_band", .kinds = K_PERSON, .required = false, .check = check_income},
    {.name = "assets", .kinds = K_ALL, .required = false, .check = check_assets},
    {.name = "products", .kinds = K_ALL, .required = false, .check = check_products},
    {.name = "legal_person", .kinds = K_BUSINESS, .required = false, .check = check_legal_person},
    {.name = "industry", .kinds = K_BUSINESS, .required = false, .check = check_industry},
    {.name = "turnover", .kinds = K_BUSINESS, .required = false, .check = check_yuan},
    {.name = "lat", .kinds = K_ALL, .required = false, .check = check_lat},
    {.name = "lon", .kinds = K_ALL, .required = false, .check = check_lon},
};

static unsigned kind_bit(const char *kind)
{
    if (kind && strcmp(kind, "person") == 0)
        return K_PERSON;
    if (kind && strcmp(kind, "business") == 0)
        return K_BUSINESS;
    return 0;
}

int cp_name(json_t *v, const char *path, char *out, size_t cap, struct cp_error *err)
{
    memset(err, 0, sizeof *err);
    json_t *t = check_name(v, path, 0, err);
    if (!t)
        return CP_BAD;
    snprintf(out, cap, "%s", json_string_value(t));
    json_decref(t);
    return CP_OK;
}

int cp_is_person(const json_t *rec)
{
    return kind_bit(json_string_value(json_object_get(rec, "kind"))) == K_PERSON;
}

/* The kind: the record's, or (new record) the input's. */
static int apply_kind(json_t *rec, json_t *in, unsigned *kind, struct cp_error *err)
{
    json_t *have = json_object_get(rec, "kind");
    json_t *want = json_object_get(in, "kind");
    unsigned k = kind_bit(json_string_value(want));
    if (want && !k) {
        bad(err, "kind", "须为 person 或 business");
        return CP_BAD;
    }
    if (!have && !want) {
        bad(err, "kind", "不能为空");
        return CP_BAD;
    }
    if (have && want && !json_equal(have, want)) {
        bad(err, "kind", "客户类型不可更改");
        return CP_BAD;
    }
    if (!have && json_object_set_new(rec, "kind", json_string(json_string_value(want))) != 0)
        return CP_NOMEM;
    *kind = kind_bit(json_string_value(json_object_get(rec, "kind")));
    return CP_OK;
}

int cp_apply(json_t *rec, json_t *in, int32_t today, struct cp_error *err)
{
    unsigned kind = 0;
    memset(err, 0, sizeof *err);
    if (!json_is_object(rec) || !json_is_object(in))
        return CP_NOMEM;
    int rc = apply_kind(rec, in, &kind, err);
    if (rc != CP_OK)
        return rc;
    /* Every input member is known and fits the kind. */
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        if (strcmp(key, "kind") == 0 || strcmp(key, "customer_id") == 0 ||
            strcmp(key, "version") == 0)
            continue;
        size_t i = 0;
        while (i < NELEM(MEMBERS) && strcmp(MEMBERS[i].name, key) != 0)
            i++;
        if (i == NELEM(MEMBERS)) {
            bad(err, key, "未知字段");
            return CP_BAD;
        }
        if (!(MEMBERS[i].kinds & kind)) {
            bad(err, key, kind == K_PERSON ? "个人客户不适用此字段" : "企业客户不适用此字段");
            return CP_BAD;
        }
    }
    /* A position is both coordinates or neither. */
    if (!json_object_get(in, "lat") != !json_object_get(in, "lon")) {
        bad(err, json_object_get(in, "lat") ? "lon" : "lat",
            json_object_get(in, "lat") ? "须与lat一同给出" : "须与lon一同给出");
        return CP_BAD;
    }
    for (size_t i = 0; i < NELEM(MEMBERS); i++) {
        const struct member *m = &MEMBERS[i];
        json_t *given = json_object_get(in, m->name);
        if (!(m->kinds & kind))
            continue;
        if (given) {
            json_t *norm = m->check(given, m->name, today, err);
            if (!norm)
                return CP_BAD;
            if (json_is_null(norm))
                json_object_del(rec, m->name);
            else if (json_object_set(rec, m->name, norm) != 0) {
                json_decref(norm);
                return CP_NOMEM;
            }
            json_decref(norm);
        }
        if (m->required && !json_object_get(rec, m->name)) {
            bad(err, m->name, "不能为空");
            return CP_BAD;
        }
    }
    return CP_OK;
}
