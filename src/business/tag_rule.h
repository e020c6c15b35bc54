/* tag_rule — the language of rule tags (规则标签): a rule is data, a small
 * boolean expression over a customer's facts, parsed and checked once when
 * a catalog is loaded, then evaluated on every customer change.
 *
 * Grammar (keywords and variable names lowercase; spaces, tabs and line
 * breaks between tokens are free):
 *   rule    := or
 *   or      := and ("or" and)*
 *   and     := unary ("and" unary)*
 *   unary   := "not" unary | test
 *   test    := operand [ cmp operand | ["not"] "in" (list | operand) ]
 *   cmp     := "=" | "!=" | "<" | "<=" | ">" | ">="
 *   operand := number | string | "true" | "false" | "null" | variable
 *            | "(" or ")"
 *   list    := "[" [literal ("," literal)*] "]"     literal: number | string
 *   number  := ["-"] digits ["." digits]            (at most 15 digits)
 *   string  := '"' (any UTF-8 but '"', '\' and control characters
 *              | '\"' | '\\')* '"'                  (at most TR_STR_MAX bytes)
 *   variable:= name ("." name)*                     name: [a-z_][a-z0-9_]*
 *
 * Variables (tr_var_type; anything else is refused with its position):
 *   number  age, assets (total value, yuan), assets.<type> (deposit, wealth,
 *           house, land, vehicle, machinery, livestock, crops, other: the
 *           sum of that type), household.size, turnover, visit.count,
 *           visit.days_since_last, grid.lead_score
 *   string  kind, sex, occupation, income_band, industry,
 *           visit.last_outcome, grid.lead_type, grid.cell
 *   set     products (the product codes held)
 *
 * Types are checked on parse: = and != take two values of one type (or a
 * variable and null: "absent" / "present"); < <= > >= two numbers;
 * `x in [..]` a number or string and a list of literals of its type;
 * `s in products` a string and a set; and, or, not and the whole rule take
 * booleans (a comparison, true, false). Bounds: TR_TEXT_MAX bytes of text,
 * TR_NODES_MAX nodes, TR_DEPTH_MAX levels of nesting, TR_LIST_MAX items in
 * a list.
 *
 * Evaluation (tr_eval) reads facts, a flat JSON object keyed by variable
 * name ("age": 45, "household.size": 3, "products": ["deposit"]); a
 * variable that is missing or of the wrong JSON type is null. A comparison
 * with null is false (`x = null` is true exactly when x is null,
 * `x != null` when it is not), so a rule on visit or grid data that a
 * customer lacks does not match, and `not (...)` of it does. */
#ifndef ZHANYE_TAG_RULE_H
#define ZHANYE_TAG_RULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum { TR_OK = 0, TR_BAD = 1, TR_NOMEM = 2 };

#define TR_TEXT_MAX 1000
#define TR_NODES_MAX 256
#define TR_DEPTH_MAX 32
#define TR_LIST_MAX 32
#define TR_STR_MAX 64

enum tr_type { TRT_NONE = 0, TRT_NUM, TRT_STR, TRT_SET, TRT_BOOL, TRT_NULL };

struct tr_error {
    int line, col; /* of the offending token, from 1 */
    char msg[192]; /* Simplified Chinese, with the position: "第1行第5列：未知变量 agee" */
};

struct tag_rule;

/* Parses and checks text (len bytes, no NUL needed). TR_OK with *out (free
 * with tr_free), TR_BAD with err filled, TR_NOMEM. */
int tr_parse(const char *text, size_t len, struct tag_rule **out, struct tr_error *err);
/* The rule on facts (see above). */
bool tr_eval(const struct tag_rule *r, const json_t *facts);
void tr_free(struct tag_rule *r);

/* The rule fully parenthesised, one space between tokens, into out (cap
 * bytes). Parsing it again gives the same text. Returns its length, or -1
 * if it does not fit. */
int tr_format(const struct tag_rule *r, char *out, size_t cap);

/* The type of the variable called name (len bytes), TRT_NONE if none. */
enum tr_type tr_var_type(const char *name, size_t len);

#endif
