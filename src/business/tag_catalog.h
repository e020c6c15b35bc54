/* tag_catalog — a bank's tag catalog (标签目录): what tags its customers
 * may carry. Each tag has a code ([a-z0-9_]{1,32}), a name shown to the
 * client manager (Chinese, 1..60 bytes of text) and a kind:
 *   manual  set and cleared by a client manager (TAG_SET / TAG_CLEAR);
 *   rule    carried by every customer whose facts satisfy its rule, a
 *           tag_rule.h expression checked when the catalog is loaded.
 *
 * A bank that has loaded no catalog uses the built-in one
 * (tag_catalog_builtin(): farmer, self-employed, elderly, high assets,
 * no loan, grid lead, ...). Loading replaces the whole list; an empty list
 * brings the built-in one back.
 *
 * Table (migration 14, business table in the bank's shard):
 *   tag_defs (bank_id, code) key; name, kind, rule (NULL for manual), pos
 *            (the catalog's order), updated_at.
 *
 * Returns: TC_OK, TC_BAD (tag_catalog_check: err names the member and what
 * is wrong, the rule's line and column included), or a negative store
 * status (STORE_NOMEM, STORE_BUSY, STORE_ERR ...). */
#ifndef ZHANYE_TAG_CATALOG_H
#define ZHANYE_TAG_CATALOG_H

#include "business/tag_rule.h"
#include "data/tenant.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { TC_OK = 0, TC_BAD = 1 };

#define TAG_CODE_MAX 32
#define TAG_NAME_MAX 60
#define TAG_CATALOG_MAX 200

struct tag_def {
    char code[TAG_CODE_MAX + 1];
    char name[TAG_NAME_MAX + 1];
    bool rule;
    char *text;           /* the rule as loaded (malloc'd; NULL for manual) */
    struct tag_rule *ast; /* parsed; NULL for manual */
};

struct tag_catalog {
    struct tag_def *v;
    size_t n;
    bool builtin; /* the built-in catalog: the bank loaded none */
};

/* What a bad catalog entry is: its path ("tags[2].rule") and why. */
struct tc_error {
    char field[48];
    char msg[224]; /* Simplified Chinese */
};

/* True for [a-z0-9_]{1,32}: a tag or product code. */
bool tag_code_ok(const char *s);

/* Checks tags, a JSON array of {"code","name","kind","rule"?} (at most
 * TAG_CATALOG_MAX, codes distinct, rule required for kind "rule" and
 * refused for "manual"), into out. TC_OK, TC_BAD (err set, out empty),
 * STORE_NOMEM. path prefixes err->field ("tags"). */
int tag_catalog_check(const json_t *tags, const char *path, struct tag_catalog *out,
                      struct tc_error *err);
/* The built-in catalog, checked (TC_OK or STORE_NOMEM). */
int tag_catalog_builtin(struct tag_catalog *out);
/* The scope's bank's catalog, or the built-in one. A stored rule that no
 * longer parses (a language change) is logged and its tag skipped. */
int tag_catalog_read(struct tenant_conn *tc, struct tag_catalog *out);
/* Replaces the bank's catalog by cat (n == 0: none stored, the built-in one
 * applies). A customer's manual tag whose code is now a rule tag is dropped. */
int tag_catalog_replace(struct tenant_conn *tc, const struct tag_catalog *cat, int64_t now);
void tag_catalog_free(struct tag_catalog *c);
/* The tag called code, or NULL. */
const struct tag_def *tag_catalog_find(const struct tag_catalog *c, const char *code);
/* [{"code","name","kind","rule"?}] in the catalog's order (a new reference). */
json_t *tag_catalog_json(const struct tag_catalog *c);

#endif
