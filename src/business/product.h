/* product — a bank's product catalog (产品目录): what RECOMMEND_LIST may
 * recommend. Each product: code ([a-z0-9_]{1,32}, the codes a customer
 * record's "products" holds), name (Chinese, 1..60 bytes of text),
 * category (deposit, loan, card, ebank, insurance, fund, social_security,
 * other), base (the score every customer starts from, 0..100) and targets
 * (up to 50 {"<tag code>": weight}, weight an integer -100..100 added for
 * a customer carrying the tag; every code must be a tag of the catalog).
 *
 * A bank that has loaded no products uses the built-in list (存款, 贷款,
 * 借记卡, 信用卡, 手机银行, 代理保险, 代理基金, 社保卡); loading replaces
 * the whole list, an empty list brings the built-in one back.
 *
 * Table (migration 14, business table in the bank's shard):
 *   products (bank_id, code) key; name, category, base, targets (JSON text),
 *            pos (the catalog's order), updated_at.
 *
 * Returns TC_OK, TC_BAD (product_catalog_check, err set) or a negative
 * store status. */
#ifndef ZHANYE_PRODUCT_H
#define ZHANYE_PRODUCT_H

#include "business/tag_catalog.h"
#include "data/tenant.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRODUCT_CATALOG_MAX 100
#define PRODUCT_TARGETS_MAX 50

struct product {
    char code[TAG_CODE_MAX + 1];
    char name[TAG_NAME_MAX + 1];
    char category[16];
    int base;
    json_t *targets; /* {"<tag>": weight}, owned */
};

struct product_catalog {
    struct product *v;
    size_t n;
    bool builtin;
};

/* Checks products, a JSON array of {"code","name","category","base"?
 * (default 0),"targets"?} against tags (the catalog they will be used
 * with), into out. path prefixes err->field ("products"). */
int product_catalog_check(const json_t *products, const char *path, const struct tag_catalog *tags,
                          struct product_catalog *out, struct tc_error *err);
/* The built-in list (checked against the built-in tags). */
int product_catalog_builtin(struct product_catalog *out);
/* The scope's bank's products, or the built-in list. */
int product_catalog_read(struct tenant_conn *tc, struct product_catalog *out);
/* Replaces the bank's products by cat (n == 0: the built-in list applies). */
int product_catalog_replace(struct tenant_conn *tc, const struct product_catalog *cat, int64_t now);
void product_catalog_free(struct product_catalog *c);
const struct product *product_find(const struct product_catalog *c, const char *code);
/* [{"code","name","category","base","targets"}] (a new reference). */
json_t *product_catalog_json(const struct product_catalog *c);

#endif
