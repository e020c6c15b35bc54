/* tag_rule.c — lexer, recursive-descent parser with type checks, evaluator
 * and printer of the rule language (see tag_rule.h). The tree lives in one
 * fixed array of nodes; string literals are copied into one pool. */
#include "business/tag_rule.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { N_NUM, N_STR, N_BOOL, N_NULL, N_VAR, N_LIST, N_NOT, N_AND, N_OR, N_CMP, N_IN };
enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

struct node {
    uint8_t kind, op, type;
    bool negate;  /* N_IN: "not in" */
    int16_t a, b; /* children; N_LIST: first item and count */
    double num;   /* N_NUM; N_BOOL: 0 / 1 */
    int32_t off;  /* N_STR, N_VAR: offset of the text in pool */
    int32_t len;
};

struct tag_rule {
    struct node n[TR_NODES_MAX];
    int count, root;
    char pool[TR_TEXT_MAX + 1];
    int pool_len;
};

/* ---- variables ------------------------------------------------------------------ */

static const struct {
    const char *name;
    enum tr_type type;
} VARS[] = {
    {"age", TRT_NUM},
    {"assets", TRT_NUM},
    {"assets.deposit", TRT_NUM},
    {"assets.wealth", TRT_NUM},
    {"assets.house", TRT_NUM},
    {"assets.land", TRT_NUM},
    {"assets.vehicle", TRT_NUM},
    {"assets.machinery", TRT_NUM},
    {"assets.livestock", TRT_NUM},
    {"assets.crops", TRT_NUM},
    {"assets.other", TRT_NUM},
    {"household.size", TRT_NUM},
    {"turnover", TRT_NUM},
    {"visit.count", TRT_NUM},
    {"visit.days_since_last", TRT_NUM},
    {"grid.lead_score", TRT_NUM},
    {"kind", TRT_STR},
    {"sex", TRT_STR},
    {"occupation", TRT_STR},
    {"income_band", TRT_STR},
    {"industry", TRT_STR},
    {"visit.last_outcome", TRT_STR},
    {"grid.lead_type", TRT_STR},
    {"grid.cell", TRT_STR},
    {"products", TRT_SET},
};

enum tr_type tr_var_type(const char *name, size_t len)
{
    for (size_t i = 0; name && i < sizeof VARS / sizeof VARS[0]; i++)
        if (strlen(VARS[i].name) == len && memcmp(VARS[i].name, name, len) == 0)
            return VARS[i].type;
    return TRT_NONE;
}

/* ---- lexer ---------------------------------------------------------------------- */

enum tok {
    T_END,
    T_NUM,
    T_STR,
    T_IDENT,
    T_AND,
    T_OR,
    T_NOT,
    T_IN,
    T_TRUE,
    T_FALSE,
    T_NULL,
    T_CMP,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_BAD
};

struct parser {
    const char *s;
    size_t len, pos;
    /* the current token */
    enum tok t;
    size_t start, tlen; /* its text */
    enum op op;
    double num;
    int depth;
    struct tag_rule *r;
    struct tr_error *err;
    bool failed, nomem;
};

/* Line and column (from 1, in bytes) of offset at. */
static void position(const struct parser *p, size_t at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at && i < p->len; i++) {
        if (p->s[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* The first error wins; at is a byte offset. */
static void fail_at(struct parser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_at(struct parser *p, size_t at, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    char what[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    position(p, at, &p->err->line, &p->err->col);
    snprintf(p->err->msg, sizeof p->err->msg, "第%d行第%d列：%s", p->err->line, p->err->col, what);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void lex_number(struct parser *p)
{
    size_t i = p->pos, digits = 0;
    char buf[40];
    if (p->s[i] == '-')
        i++;
    if (i >= p->len || !is_digit(p->s[i])) {
        p->t = T_BAD;
        return;
    }
    while (i < p->len && is_digit(p->s[i]))
        i++, digits++;
    if (i < p->len && p->s[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(p->s[i])) {
            p->t = T_BAD;
            return;
        }
        while (i < p->len && is_digit(p->s[i]))
            i++, digits++;
    }
    if (digits > 15 || (i < p->len && is_name_char(p->s[i]))) {
        p->t = T_BAD;
        return;
    }
    memcpy(buf, p->s + p->pos, i - p->pos);
    buf[i - p->pos] = '\0';
    p->num = strtod(buf, NULL);
    p->t = T_NUM;
    p->pos = i;
}

/* A string: '"' ... '"', escapes \" and \\; the token's text is the raw
 * span between the quotes. */
static void lex_string(struct parser *p)
{
    size_t i = p->pos + 1, n = 0;
    while (i < p->len && p->s[i] != '"') {
        unsigned char c = (unsigned char)p->s[i];
        if (c < 0x20 || c == 0x7f) {
            p->t = T_BAD;
            return;
        }
        if (c == '\\') {
            if (i + 1 >= p->len || (p->s[i + 1] != '"' && p->s[i + 1] != '\\')) {
                p->t = T_BAD;
                return;
            }
            i++;
        }
        i++, n++;
    }
    if (i >= p->len || n > TR_STR_MAX) {
        p->t = T_BAD;
        return;
    }
    p->t = T_STR;
    p->pos = i + 1;
}

static void next(struct parser *p)
{
    static const struct {
        const char *word;
        enum tok t;
    } words[] = {{"and", T_AND},   {"or", T_OR},       {"not", T_NOT},  {"in", T_IN},
                 {"true", T_TRUE}, {"false", T_FALSE}, {"null", T_NULL}};
    while (p->pos < p->len && is_space(p->s[p->pos]))
        p->pos++;
    p->start = p->pos;
    if (p->pos >= p->len) {
        p->t = T_END;
        p->tlen = 0;
        return;
    }
    char c = p->s[p->pos], d = p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0';
    p->t = T_BAD;
    if (is_digit(c) || (c == '-' && is_digit(d))) {
        lex_number(p);
    } else if (c == '"') {
        lex_string(p);
    } else if (is_name_start(c)) {
        size_t i = p->pos;
        for (;;) {
            while (i < p->len && is_name_char(p->s[i]))
                i++;
            if (i + 1 < p->len && p->s[i] == '.' && is_name_start(p->s[i + 1]))
                i++;
            else
                break;
        }
        p->t = T_IDENT;
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
            if (strlen(words[k].word) == i - p->pos &&
                memcmp(words[k].word, p->s + p->pos, i - p->pos) == 0)
                p->t = words[k].t;
        p->pos = i;
    } else {
        static const struct {
            const char *text;
            enum tok t;
            enum op op;
        } punct[] = {
            {"<=", T_CMP, OP_LE}, {">=", T_CMP, OP_GE}, {"!=", T_CMP, OP_NE}, {"=", T_CMP, OP_EQ},
            {"<", T_CMP, OP_LT},  {">", T_CMP, OP_GT},  {"(", T_LPAREN, 0},   {")", T_RPAREN, 0},
            {"[", T_LBRACK, 0},   {"]", T_RBRACK, 0},   {",", T_COMMA, 0},
        };
        for (size_t k = 0; k < sizeof punct / sizeof punct[0]; k++) {
            size_t n = strlen(punct[k].text);
            if (p->pos + n <= p->len && memcmp(p->s + p->pos, punct[k].text, n) == 0) {
                p->t = punct[k].t;
                p->op = punct[k].op;
                p->pos += n;
                break;
            }
        }
    }
    if (p->t == T_BAD)
        fail_at(p, p->start, "无法识别的字符或写法");
    p->tlen = p->pos - p->start;
}

/* ---- parser --------------------------------------------------------------------- */

static int add(struct parser *p, enum kind k, enum tr_type type)
{
    if (p->failed)
        return -1;
    if (p->r->count >= TR_NODES_MAX) {
        fail_at(p, p->start, "规则过于复杂（超过%d个节点）", TR_NODES_MAX);
        return -1;
    }
    struct node *n = &p->r->n[p->r->count];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)k;
    n->type = (uint8_t)type;
    n->a = n->b = -1;
    return p->r->count++;
}

static struct node *at(struct parser *p, int i)
{
    return &p->r->n[i];
}

/* Copies the current string token (unescaped) into the pool. */
static int string_node(struct parser *p)
{
    int i = add(p, N_STR, TRT_STR);
    if (i < 0)
        return -1;
    struct tag_rule *r = p->r;
    at(p, i)->off = r->pool_len;
    for (size_t k = p->start + 1; k + 1 < p->pos; k++) {
        if (p->s[k] == '\\')
            k++;
        r->pool[r->pool_len++] = p->s[k];
    }
    at(p, i)->len = r->pool_len - at(p, i)->off;
    r->pool[r->pool_len] = '\0';
    return i;
}

static const char *tok_text(enum tok t)
{
    switch (t) {
    case T_END:
        return "规则结尾";
    case T_RPAREN:
        return "')'";
    case T_RBRACK:
        return "']'";
    default:
        return "此处";
    }
}

static int parse_or(struct parser *p);

static int parse_list(struct parser *p, enum tr_type want)
{
    int list = add(p, N_LIST, TRT_SET);
    int first = -1, count = 0;
    next(p); /* past '[' */
    while (!p->failed && p->t != T_RBRACK) {
        if (count > 0) {
            if (p->t != T_COMMA) {
                fail_at(p, p->start, "列表项之间应为 ','");
                return -1;
            }
            next(p);
        }
        int item = -1;
        if (p->t == T_NUM && want == TRT_NUM) {
            item = add(p, N_NUM, TRT_NUM);
            if (item >= 0)
                at(p, item)->num = p->num;
        } else if (p->t == T_STR && want == TRT_STR) {
            item = string_node(p);
        } else if (!p->failed) {
            fail_at(p, p->start, "列表项应为%s常量", want == TRT_NUM ? "数值" : "字符串");
        }
        if (item < 0)
            return -1;
        if (first < 0)
            first = item;
        if (++count > TR_LIST_MAX) {
            fail_at(p, p->start, "列表最多%d项", TR_LIST_MAX);
            return -1;
        }
        next(p);
    }
    if (p->failed || list < 0)
        return -1;
    at(p, list)->a = (int16_t)(first < 0 ? list + 1 : first);
    at(p, list)->b = (int16_t)count;
    next(p); /* past ']' */
    return list;
}

static int parse_operand(struct parser *p)
{
    int i = -1;
    switch (p->t) {
    case T_NUM:
        i = add(p, N_NUM, TRT_NUM);
        if (i >= 0)
            at(p, i)->num = p->num;
        break;
    case T_STR:
        i = string_node(p);
        break;
    case T_TRUE:
    case T_FALSE:
        i = add(p, N_BOOL, TRT_BOOL);
        if (i >= 0)
            at(p, i)->num = p->t == T_TRUE;
        break;
    case T_NULL:
        i = add(p, N_NULL, TRT_NULL);
        break;
    case T_IDENT: {
        enum tr_type type = tr_var_type(p->s + p->start, p->tlen);
        if (type == TRT_NONE) {
            fail_at(p, p->start, "未知变量 %.*s", (int)(p->tlen > 40 ? 40 : p->tlen),
                    p->s + p->start);
            return -1;
        }
        i = add(p, N_VAR, type);
        if (i < 0)
            return -1;
        at(p, i)->off = p->r->pool_len;
        at(p, i)->len = (int32_t)p->tlen;
        memcpy(p->r->pool + p->r->pool_len, p->s + p->start, p->tlen);
        p->r->pool_len += (int)p->tlen;
        p->r->pool[p->r->pool_len] = '\0';
        break;
    }
    case T_LPAREN: {
        size_t open = p->start;
        next(p);
        i = parse_or(p);
        if (p->failed)
            return -1;
        if (p->t != T_RPAREN) {
            fail_at(p, p->start, "缺少与第%d列 '(' 配对的 ')'", (int)open + 1);
            return -1;
        }
        break;
    }
    default:
        if (!p->failed)
            fail_at(p, p->start, "%s应为数值、字符串、变量或 '('", tok_text(p->t));
        return -1;
    }
    if (i >= 0)
        next(p);
    return i;
}

static const char *type_name(enum tr_type t)
{
    switch (t) {
    case TRT_NUM:
        return "数值";
    case TRT_STR:
        return "字符串";
    case TRT_SET:
        return "集合";
    case TRT_BOOL:
        return "布尔值";
    case TRT_NULL:
        return "null";
    default:
        return "?";
    }
}

static int parse_test(struct parser *p)
{
    int left = parse_operand(p);
    if (left < 0)
        return -1;
    enum tr_type lt = at(p, left)->type;
    if (p->t == T_CMP) {
        enum op op = p->op;
        size_t opat = p->start;
        next(p);
        int right = parse_operand(p);
        if (right < 0)
            return -1;
        enum tr_type rt = at(p, right)->type;
        bool ok;
        if (op == OP_EQ || op == OP_NE)
            ok = (lt == rt && lt != TRT_SET && lt != TRT_NULL) ||
                 (lt == TRT_NULL && at(p, right)->kind == N_VAR) ||
                 (rt == TRT_NULL && at(p, left)->kind == N_VAR);
        else
            ok = lt == TRT_NUM && rt == TRT_NUM;
        if (!ok) {
            fail_at(p, opat, "类型不符：不能比较%s与%s", type_name(lt), type_name(rt));
            return -1;
        }
        int i = add(p, N_CMP, TRT_BOOL);
        if (i >= 0) {
            at(p, i)->op = (uint8_t)op;
            at(p, i)->a = (int16_t)left;
            at(p, i)->b = (int16_t)right;
        }
        return i;
    }
    bool negate = false;
    if (p->t == T_NOT) {
        negate = true;
        next(p);
        if (p->t != T_IN) {
            fail_at(p, p->start, "'not' 之后应为 'in'");
            return -1;
        }
    }
    if (p->t != T_IN)
        return left;
    size_t inat = p->start;
    next(p);
    int right;
    if (p->t == T_LBRACK) {
        if (lt != TRT_NUM && lt != TRT_STR) {
            fail_at(p, inat, "类型不符：%s不能 in 列表", type_name(lt));
            return -1;
        }
        right = parse_list(p, lt);
    } else {
        right = parse_operand(p);
        if (right >= 0 && (at(p, right)->type != TRT_SET || lt != TRT_STR)) {
            fail_at(p, inat, "类型不符：in 的右边须为列表或集合变量，左边为字符串");
            return -1;
        }
    }
    if (right < 0)
        return -1;
    int i = add(p, N_IN, TRT_BOOL);
    if (i >= 0) {
        at(p, i)->negate = negate;
        at(p, i)->a = (int16_t)left;
        at(p, i)->b = (int16_t)right;
    }
    return i;
}

static bool enter(struct parser *p)
{
    if (++p->depth > TR_DEPTH_MAX) {
        fail_at(p, p->start, "嵌套过深（最多%d层）", TR_DEPTH_MAX);
        return false;
    }
    return true;
}

static int need_bool(struct parser *p, int i, size_t where, const char *what)
{
    if (i >= 0 && at(p, i)->type != TRT_BOOL) {
        fail_at(p, where, "%s须为条件（比较、in、true 或 false），此处为%s", what,
                type_name(at(p, i)->type));
        return -1;
    }
    return i;
}

static int parse_unary(struct parser *p)
{
    if (!enter(p))
        return -1;
    int i;
    if (p->t == T_NOT) {
        next(p);
        size_t operand = p->start;
        int a = need_bool(p, parse_unary(p), operand, "'not' 的对象");
        i = a < 0 ? -1 : add(p, N_NOT, TRT_BOOL);
        if (i >= 0)
            at(p, i)->a = (int16_t)a;
    } else {
        i = parse_test(p);
    }
    p->depth--;
    return i;
}

static int parse_chain(struct parser *p, enum tok word, enum kind k, int (*sub)(struct parser *))
{
    size_t where = p->start;
    int left = sub(p);
    while (left >= 0 && p->t == word) {
        const char *w = word == T_AND ? "'and' 两边" : "'or' 两边";
        if (need_bool(p, left, where, w) < 0)
            return -1;
        next(p);
        where = p->start;
        int right = need_bool(p, sub(p), where, w);
        if (right < 0)
            return -1;
        int i = add(p, k, TRT_BOOL);
        if (i < 0)
            return -1;
        at(p, i)->a = (int16_t)left;
        at(p, i)->b = (int16_t)right;
        left = i;
    }
    return left;
}

static int parse_and(struct parser *p)
{
    return parse_chain(p, T_AND, N_AND, parse_unary);
}

static int parse_or(struct parser *p)
{
    if (!enter(p))
        return -1;
    int i = parse_chain(p, T_OR, N_OR, parse_and);
    p->depth--;
    return i;
}

int tr_parse(const char *text, size_t len, struct tag_rule **out, struct tr_error *err)
{
    struct tr_error dummy;
    *out = NULL;
    if (!err)
        err = &dummy;
    memset(err, 0, sizeof *err);
    struct parser p = {.s = text ? text : "", .len = text ? len : 0, .err = err};
    if (p.len > TR_TEXT_MAX) {
        fail_at(&p, TR_TEXT_MAX, "规则过长（最多%d字节）", TR_TEXT_MAX);
        return TR_BAD;
    }
    p.r = calloc(1, sizeof *p.r);
    if (!p.r)
        return TR_NOMEM;
    next(&p);
    if (p.t == T_END)
        fail_at(&p, 0, "规则为空");
    int root = need_bool(&p, parse_or(&p), 0, "规则");
    if (!p.failed && p.t != T_END)
        fail_at(&p, p.start, "多余的内容（缺少 and / or？）");
    if (p.failed || root < 0) {
        if (!p.failed)
            fail_at(&p, p.start, "规则无效");
        free(p.r);
        return TR_BAD;
    }
    p.r->root = root;
    *out = p.r;
    return TR_OK;
}

void tr_free(struct tag_rule *r)
{
    free(r);
}

/* ---- evaluation ----------------------------------------------------------------- */

struct value {
    enum tr_type type; /* TRT_NULL when absent */
    double num;
    const char *str;
    size_t len;
    const json_t *set;
};

static struct value value_of(const struct tag_rule *r, int i, const json_t *facts)
{
    const struct node *n = &r->n[i];
    struct value v = {.type = TRT_NULL};
    switch (n->kind) {
    case N_NUM:
        v.type = TRT_NUM;
        v.num = n->num;
        break;
    case N_STR:
        v.type = TRT_STR;
        v.str = r->pool + n->off;
        v.len = (size_t)n->len;
        break;
    case N_VAR: {
        char name[TR_TEXT_MAX + 1];
        memcpy(name, r->pool + n->off, (size_t)n->len);
        name[n->len] = '\0';
        const json_t *j = json_object_get(facts, name);
        if (n->type == TRT_NUM && json_is_number(j)) {
            v.type = TRT_NUM;
            v.num = json_number_value(j);
        } else if (n->type == TRT_STR && json_is_string(j)) {
            v.type = TRT_STR;
            v.str = json_string_value(j);
            v.len = json_string_length(j);
        } else if (n->type == TRT_SET && json_is_array(j)) {
            v.type = TRT_SET;
            v.set = j;
        }
        break;
    }
    default:
        break;
    }
    return v;
}

static bool eval(const struct tag_rule *r, int i, const json_t *facts);

static bool str_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

static bool eval_cmp(const struct tag_rule *r, const struct node *n, const json_t *facts)
{
    const struct node *a = &r->n[n->a], *b = &r->n[n->b];
    if (a->type == TRT_BOOL) { /* both booleans: = or != */
        bool x = eval(r, n->a, facts), y = eval(r, n->b, facts);
        return n->op == OP_EQ ? x == y : x != y;
    }
    struct value x = value_of(r, n->a, facts), y = value_of(r, n->b, facts);
    if (a->kind == N_NULL || b->kind == N_NULL) {
        bool absent = (a->kind == N_NULL ? y : x).type == TRT_NULL;
        return n->op == OP_EQ ? absent : !absent;
    }
    if (x.type == TRT_NULL || y.type == TRT_NULL)
        return false;
    if (x.type == TRT_STR) {
        bool eq = str_eq(x.str, x.len, y.str, y.len);
        return n->op == OP_EQ ? eq : !eq;
    }
    switch ((enum op)n->op) {
    case OP_EQ:
        return x.num == y.num;
    case OP_NE:
        return x.num != y.num;
    case OP_LT:
        return x.num < y.num;
    case OP_LE:
        return x.num <= y.num;
    case OP_GT:
        return x.num > y.num;
    case OP_GE:
        return x.num >= y.num;
    }
    return false;
}

static bool eval_in(const struct tag_rule *r, const struct node *n, const json_t *facts)
{
    struct value x = value_of(r, n->a, facts);
    const struct node *b = &r->n[n->b];
    if (x.type == TRT_NULL)
        return false;
    bool found = false;
    if (b->kind == N_LIST) {
        for (int k = 0; k < b->b && !found; k++) {
            struct value y = value_of(r, b->a + k, facts);
            found = x.type == TRT_NUM ? x.num == y.num : str_eq(x.str, x.len, y.str, y.len);
        }
    } else {
        struct value y = value_of(r, n->b, facts);
        if (y.type == TRT_NULL)
            return false;
        size_t k;
        const json_t *e;
        json_array_foreach(y.set, k, e)
        {
            if (json_is_string(e) &&
                str_eq(x.str, x.len, json_string_value(e), json_string_length(e))) {
                found = true;
                break;
            }
        }
    }
    return n->negate ? !found : found;
}

static bool eval(const struct tag_rule *r, int i, const json_t *facts)
{
    const struct node *n = &r->n[i];
    switch (n->kind) {
    case N_BOOL:
        return n->num != 0;
    case N_NOT:
        return !eval(r, n->a, facts);
    case N_AND:
        return eval(r, n->a, facts) && eval(r, n->b, facts);
    case N_OR:
        return eval(r, n->a, facts) || eval(r, n->b, facts);
    case N_CMP:
        return eval_cmp(r, n, facts);
    case N_IN:
        return eval_in(r, n, facts);
    default:
        return false;
    }
}

bool tr_eval(const struct tag_rule *r, const json_t *facts)
{
    return r && eval(r, r->root, facts);
}

/* ---- printing ------------------------------------------------------------------- */

struct out {
    char *s;
    size_t cap, len;
    bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->full = true;
    else
        o->len += (size_t)n;
}

/* Plain decimals, as the lexer reads them: the fewest that give v back
 * (a literal had at most 15 digits). */
static void put_num(struct out *o, double v)
{
    char buf[64];
    if (v == 0)
        v = 0.0; /* no "-0" */
    for (int d = 0; d <= 17; d++) {
        snprintf(buf, sizeof buf, "%.*f", d, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    put(o, "%s", buf);
}

static void put_str(struct out *o, const char *s, int len)
{
    put(o, "\"");
    for (int i = 0; i < len; i++)
        put(o, "%s%c", s[i] == '"' || s[i] == '\\' ? "\\" : "", s[i]);
    put(o, "\"");
}

static void print(const struct tag_rule *r, int i, struct out *o)
{
    static const char *const ops[] = {"=", "!=", "<", "<=", ">", ">="};
    const struct node *n = &r->n[i];
    switch (n->kind) {
    case N_NUM:
        put_num(o, n->num);
        break;
    case N_STR:
        put_str(o, r->pool + n->off, n->len);
        break;
    case N_BOOL:
        put(o, "%s", n->num != 0 ? "true" : "false");
        break;
    case N_NULL:
        put(o, "null");
        break;
    case N_VAR:
        put(o, "%.*s", (int)n->len, r->pool + n->off);
        break;
    case N_LIST:
        put(o, "[");
        for (int k = 0; k < n->b; k++) {
            if (k)
                put(o, ", ");
            print(r, n->a + k, o);
        }
        put(o, "]");
        break;
    case N_NOT:
        put(o, "( not ");
        print(r, n->a, o);
        put(o, " )");
        break;
    default:
        put(o, "( ");
        print(r, n->a, o);
        if (n->kind == N_AND || n->kind == N_OR)
            put(o, " %s ", n->kind == N_AND ? "and" : "or");
        else if (n->kind == N_CMP)
            put(o, " %s ", ops[n->op]);
        else
            put(o, " %sin ", n->negate ? "not " : "");
        print(r, n->b, o);
        put(o, " )");
        break;
    }
}

int tr_format(const struct tag_rule *r, char *out, size_t cap)
{
    if (!r || !out || cap == 0)
        return -1;
    struct out o = {.s = out, .cap = cap};
    out[0] = '\0';
    print(r, r->root, &o);
    return o.full ? -1 : (int)o.len;
}
