/* tenant.c — bank-scoped statements: a token check of the SQL text, then the
 * scope's bank id bound by us, never by the caller.
 *
 * The check is lexical on purpose: a full SQL parser would be a large attack
 * surface of its own, and the shapes business code needs (scoped WHERE,
 * one-row INSERT, joins and subqueries each scoped) are recognisable from
 * tokens. Two passes: the statement's shape (check_sql), then every table it
 * names (check_tables). */
#include "data/tenant.h"

#include "foundation/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TENANT_ERR_MAX 256
#define TENANT_MAX_SCOPED 16 /* bank placeholders (= tables) in one statement */
#define TENANT_MAX_LEVELS 8  /* nested SELECTs */

struct tenant_conn {
    struct store_conn *c;
    struct scope scope;
    bool read_only; /* tenant_open_readonly: SELECT only, no audit connection */
    bool refused;   /* the last failure was ours: err holds it */
    char err[TENANT_ERR_MAX];
};

struct tenant_stmt {
    struct tenant_conn *tc;
    struct store_stmt *s;
    int nscoped;                   /* 0: none, province reads */
    int scoped[TENANT_MAX_SCOPED]; /* the bank placeholders, bound by us */
};

static const char *const role_names[] = {NULL,         "client_manager", "branch_manager",
                                         "bank_admin", "province_admin", "video_agent"};

const char *role_name(int role)
{
    if (role <= ROLE_NONE || role > ROLE_VIDEO_AGENT)
        return NULL;
    return role_names[role];
}

int role_rank(int role)
{
    if (role == ROLE_VIDEO_AGENT)
        return ROLE_CLIENT_MANAGER;
    return role > ROLE_NONE && role <= ROLE_PROVINCE_ADMIN ? role : 0;
}

int role_parse(const char *s)
{
    for (int r = ROLE_CLIENT_MANAGER; s && r <= ROLE_VIDEO_AGENT; r++)
        if (strcmp(s, role_names[r]) == 0)
            return r;
    return ROLE_NONE;
}

/* Records a refusal: our message for tenant_errmsg(), and the log, since a
 * refused statement is a programming error someone must see. */
static int refuse(struct tenant_conn *tc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int refuse(struct tenant_conn *tc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tc->err, sizeof tc->err, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tc->err)
        memcpy(tc->err + sizeof tc->err - 4, "...", 4);
    tc->refused = true;
    log_error("tenant.refused", "%s", tc->err);
    return STORE_ERR;
}

int tenant_open(struct store_conn *c, const struct scope *scope, struct tenant_conn **out)
{
    if (!out)
        return STORE_ERR;
    *out = NULL;
    if (!c || !scope || scope->bank_id <= 0 || scope->branch_id < 0 || scope->teller_id < 0 ||
        !role_name(scope->role)) {
        log_error("tenant.refused", "tenant_open: malformed scope");
        return STORE_ERR;
    }
    struct tenant_conn *tc = calloc(1, sizeof *tc);
    if (!tc)
        return STORE_NOMEM;
    tc->c = c;
    tc->scope = *scope;
    *out = tc;
    return STORE_OK;
}

int tenant_open_readonly(struct store_conn *c, const struct scope *scope, struct tenant_conn **out)
{
    int rc = tenant_open(c, scope, out);
    if (rc == STORE_OK)
        (*out)->read_only = true;
    return rc;
}

/* Whether sql's first word is SELECT (check_sql has refused comments). */
static bool is_select(const char *sql)
{
    while (isspace((unsigned char)*sql))
        sql++;
    return strncasecmp(sql, "SELECT", 6) == 0 && !isalnum((unsigned char)sql[6]) && sql[6] != '_';
}

void tenant_close(struct tenant_conn *tc)
{
    free(tc);
}

const struct scope *tenant_scope(const struct tenant_conn *tc)
{
    return tc ? &tc->scope : NULL;
}

/* ---- the lexer ---------------------------------------------------------- */

enum tok_kind { T_END, T_WORD, T_PARAM, T_LPAREN, T_RPAREN, T_COMMA, T_EQ, T_DOT, T_OTHER, T_BAD };

struct tok {
    enum tok_kind kind;
    const char *p;
    size_t n;
};

struct lexer {
    const char *p;
    int depth;       /* parentheses open before the current token */
    int params;      /* placeholders seen so far */
    const char *why; /* set with T_BAD */
};

static bool word_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

static bool is_word(const struct tok *t, const char *w)
{
    return t->kind == T_WORD && strlen(w) == t->n && strncasecmp(t->p, w, t->n) == 0;
}

static enum tok_kind bad(struct lexer *lx, const char *why)
{
    lx->why = why;
    return T_BAD;
}

/* A single-quoted literal with '' as the escaped quote. */
static enum tok_kind lex_string(struct lexer *lx)
{
    for (lx->p++; *lx->p; lx->p++) {
        if (*lx->p != '\'')
            continue;
        if (lx->p[1] != '\'') {
            lx->p++;
            return T_OTHER;
        }
        lx->p++;
    }
    return bad(lx, "unterminated string literal");
}

static enum tok_kind lex_punct(struct lexer *lx)
{
    char ch = *lx->p++;
    switch (ch) {
    case '(':
        lx->depth++;
        return T_LPAREN;
    case ')':
        return --lx->depth < 0 ? bad(lx, "unbalanced parentheses") : T_RPAREN;
    case ',':
        return T_COMMA;
    case '=':
        return T_EQ;
    case '.':
        return T_DOT;
    case ';':
        return bad(lx, "one statement only, no ';'");
    case '"':
    case '`':
    case '[':
        return bad(lx, "quoted identifiers are not allowed");
    case '?':
        if (isdigit((unsigned char)*lx->p))
            return bad(lx, "numbered parameters (?N) are not allowed");
        lx->params++;
        return T_PARAM;
    case ':':
    case '@':
    case '$':
        if (word_char(*lx->p))
            return bad(lx, "named parameters are not allowed");
        return T_OTHER;
    default:
        return T_OTHER;
    }
}

static enum tok_kind lex_next(struct lexer *lx, struct tok *t)
{
    while (isspace((unsigned char)*lx->p))
        lx->p++;
    t->p = lx->p;
    char ch = *lx->p;
    if (ch == '\0')
        t->kind = T_END;
    else if ((ch == '-' && lx->p[1] == '-') || (ch == '/' && lx->p[1] == '*'))
        t->kind = bad(lx, "comments are not allowed");
    else if (ch == '\'')
        t->kind = lex_string(lx);
    else if (word_char(ch)) {
        while (word_char(*lx->p))
            lx->p++;
        t->kind = isdigit((unsigned char)ch) ? T_OTHER : T_WORD;
    } else
        t->kind = lex_punct(lx);
    t->n = (size_t)(lx->p - t->p);
    if (t->kind == T_WORD &&
        (is_word(t, "union") || is_word(t, "intersect") || is_word(t, "except")))
        t->kind = bad(lx, "UNION, INTERSECT and EXCEPT are not allowed");
    return t->kind;
}

/* ---- the rule ----------------------------------------------------------- */

/* Reads `[alias.]bank_id` and leaves the token after it in *t. */
static bool read_bank_column(struct lexer *lx, struct tok *t)
{
    if (lex_next(lx, t) != T_WORD)
        return false;
    struct tok first = *t;
    if (lex_next(lx, t) == T_DOT) {
        if (lex_next(lx, t) != T_WORD)
            return false;
        first = *t;
        lex_next(lx, t);
    }
    return is_word(&first, "bank_id");
}

/* After the top-level WHERE: `[alias.]bank_id = ?`. */
static bool scoped_where(struct lexer *lx, int *scope_idx)
{
    struct tok t;
    if (!read_bank_column(lx, &t) || t.kind != T_EQ || lex_next(lx, &t) != T_PARAM)
        return false;
    *scope_idx = lx->params;
    return true;
}

/* SELECT, UPDATE, DELETE: the first word is already read. */
static const char *check_where(struct lexer *lx, bool is_update, int *scope_idx)
{
    struct tok t, prev = {T_END, NULL, 0};
    bool in_set = false, after_where = false;
    while (lex_next(lx, &t) != T_END) {
        if (t.kind == T_BAD)
            return lx->why;
        bool top = lx->depth == 0 && t.kind != T_RPAREN;
        if (top && is_update && is_word(&t, "set"))
            in_set = true;
        if (top && in_set && t.kind == T_EQ && is_word(&prev, "bank_id"))
            return "an UPDATE may not SET bank_id";
        if (top && after_where && is_word(&t, "or"))
            return "top-level OR after WHERE bank_id = ? is not allowed; write AND (a OR b)";
        if (top && !after_where && is_word(&t, "where")) {
            if (!scoped_where(lx, scope_idx))
                return "the top-level WHERE must start with bank_id = ?";
            after_where = true;
            in_set = false;
        }
        prev = t;
    }
    return after_where ? NULL : "no top-level WHERE bank_id = ?";
}

/* Skips to the parenthesis that closes the one just opened. */
static bool skip_group(struct lexer *lx)
{
    struct tok t;
    while (lx->depth > 0)
        if (lex_next(lx, &t) == T_END || t.kind == T_BAD)
            return false;
    return true;
}

/* INSERT INTO t (bank_id, …) VALUES (?, …) and nothing after. */
static const char *check_insert(struct lexer *lx, int *scope_idx)
{
    static const char shape[] = "INSERT must read INSERT INTO t (bank_id, ...) VALUES (?, ...)";
    struct tok t;
    if (lex_next(lx, &t) != T_WORD || !is_word(&t, "into") || lex_next(lx, &t) != T_WORD)
        return lx->why ? lx->why : shape;
    if (lex_next(lx, &t) == T_DOT && (lex_next(lx, &t) != T_WORD || lex_next(lx, &t) == T_BAD))
        return lx->why ? lx->why : shape;
    if (t.kind != T_LPAREN || lex_next(lx, &t) != T_WORD || !is_word(&t, "bank_id"))
        return lx->why ? lx->why : shape;
    if (!skip_group(lx) || lex_next(lx, &t) != T_WORD || !is_word(&t, "values"))
        return lx->why ? lx->why : shape;
    if (lex_next(lx, &t) != T_LPAREN || lex_next(lx, &t) != T_PARAM)
        return lx->why ? lx->why : shape;
    *scope_idx = lx->params;
    if (!skip_group(lx))
        return lx->why ? lx->why : shape;
    if (lex_next(lx, &t) != T_END)
        return lx->why ? lx->why : "INSERT takes exactly one VALUES row and nothing after it";
    return NULL;
}

/* NULL if sql obeys the rule; *scope_idx gets the bank placeholder. */
static const char *check_sql(const char *sql, int *scope_idx)
{
    struct lexer lx = {.p = sql};
    struct tok t;
    if (lex_next(&lx, &t) == T_BAD)
        return lx.why;
    if (is_word(&t, "select") || is_word(&t, "delete"))
        return check_where(&lx, false, scope_idx);
    if (is_word(&t, "update"))
        return check_where(&lx, true, scope_idx);
    if (is_word(&t, "insert"))
        return check_insert(&lx, scope_idx);
    return "only SELECT, INSERT, UPDATE and DELETE are allowed";
}

/* ---- every table scoped ------------------------------------------------- */

/* One query level: the statement, or a parenthesised SELECT inside it. */
enum expect { E_NONE, E_TABLE, E_AFTER_TABLE, E_AFTER_DOT, E_ALIAS, E_DERIVED };

struct level {
    int depth;                            /* the lexer's depth inside it */
    enum expect expect;                   /* where a table reference stands */
    bool in_from;                         /* a comma here starts another table */
    bool in_cond;                         /* inside WHERE or ON */
    bool conj;                            /* the last token began a conjunct */
    bool between;                         /* the next AND is BETWEEN's */
    struct tok cur;                       /* the table name being read */
    int ntables, npreds;                  /* the tables and [alias.]bank_id = ? */
    struct tok tables[TENANT_MAX_SCOPED]; /* alias, or the table's name */
    struct tok preds[TENANT_MAX_SCOPED];  /* the alias named; n = 0: unqualified */
};

struct checker {
    struct lexer lx;
    struct level lv[TENANT_MAX_LEVELS];
    int nlv;
    int *scoped, nscoped; /* the bank placeholders found */
};

static bool is_any(const struct tok *t, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (is_word(t, words[i]))
            return true;
    return false;
}

/* Words that are never a table name or an alias. */
static bool is_keyword(const struct tok *t)
{
    static const char *const kw[] = {
        "all",      "and",     "as",        "between", "by",     "case",   "cross", "delete",
        "distinct", "else",    "end",       "exists",  "from",   "full",   "group", "having",
        "in",       "indexed", "inner",     "insert",  "into",   "is",     "join",  "left",
        "like",     "limit",   "natural",   "not",     "null",   "offset", "on",    "or",
        "order",    "outer",   "returning", "right",   "select", "set",    "then",  "update",
        "using",    "values",  "when",      "where",   "window", "with",   NULL};
    return t->kind == T_WORD && is_any(t, kw);
}

static bool same_name(const struct tok *a, const struct tok *b)
{
    return a->n == b->n && strncasecmp(a->p, b->p, a->n) == 0;
}

static const char *add_table(struct level *L, const struct tok *alias)
{
    if (L->ntables == TENANT_MAX_SCOPED)
        return "too many tables in one statement";
    L->tables[L->ntables++] = *alias;
    return NULL;
}

/* After WHERE, ON or AND: `[alias.]bank_id = ?` followed by the end of the
 * conjunct. Consumes it and records it when it is one; else leaves lx. */
static const char *try_predicate(struct checker *ck, struct level *L, const struct tok *first,
                                 bool *matched)
{
    static const char *const ends[] = {"and",       "group",   "order", "limit", "having", "window",
                                       "returning", "join",    "left",  "right", "inner",  "cross",
                                       "full",      "natural", "where", NULL};
    struct lexer la = ck->lx;
    struct tok t, col = *first, alias = {T_END, first->p, 0};
    *matched = false;
    if (lex_next(&la, &t) == T_DOT) {
        if (lex_next(&la, &col) != T_WORD)
            return NULL;
        alias = *first;
        lex_next(&la, &t);
    }
    if (!is_word(&col, "bank_id") || t.kind != T_EQ || lex_next(&la, &t) != T_PARAM)
        return NULL;
    struct lexer after = la;
    enum tok_kind k = lex_next(&la, &t);
    if (!(k == T_END || k == T_RPAREN || k == T_COMMA || is_any(&t, ends)))
        return NULL;
    if (L->npreds == TENANT_MAX_SCOPED || ck->nscoped == TENANT_MAX_SCOPED)
        return "too many bank placeholders in one statement";
    L->preds[L->npreds++] = alias;
    ck->scoped[ck->nscoped++] = after.params;
    ck->lx = after;
    *matched = true;
    return NULL;
}

/* Every table of the level has its own [alias.]bank_id = ? (unqualified
 * only where the level names one table). */
static const char *finish_level(struct level *L)
{
    if (L->expect == E_AFTER_TABLE) {
        const char *why = add_table(L, &L->cur);
        if (why)
            return why;
    } else if (L->expect != E_NONE) {
        return "an incomplete table reference";
    }
    for (int i = 0; i < L->ntables; i++) {
        bool ok = false;
        for (int j = 0; j < L->npreds && !ok; j++)
            ok = L->preds[j].n ? same_name(&L->preds[j], &L->tables[i]) : L->ntables == 1;
        if (!ok)
            return "every table (FROM, JOIN, UPDATE, subquery) needs its own "
                   "<alias>.bank_id = ? in its WHERE or ON, outside any OR";
    }
    return NULL;
}

/* A word or punctuation at the level's own depth, outside a table reference. */
static const char *level_token(struct checker *ck, struct level *L, const struct tok *t)
{
    static const char *const clause_end[] = {"group",     "order", "limit",  "having", "window",
                                             "returning", "set",   "values", "using",  NULL};
    if (is_word(t, "from") || is_word(t, "join")) {
        L->in_from = L->in_from || is_word(t, "from");
        L->in_cond = false;
        L->expect = E_TABLE;
    } else if (t->kind == T_COMMA && L->in_from) {
        L->in_cond = false;
        L->expect = E_TABLE;
    } else if (is_word(t, "where") || is_word(t, "on")) {
        L->in_from = L->in_from && is_word(t, "on");
        L->in_cond = L->conj = true;
        L->between = false;
    } else if (is_any(t, clause_end)) {
        L->in_from = L->in_cond = false;
    } else if (L->in_cond && is_word(t, "or")) {
        return "OR at the level of a WHERE or ON clause is not allowed; write AND (a OR b)";
    } else if (L->in_cond && is_word(t, "and")) {
        L->conj = !L->between;
        L->between = false;
    } else if (L->in_cond && is_word(t, "between")) {
        L->between = true;
        L->conj = false;
    } else if (L->in_cond && L->conj && t->kind == T_WORD) {
        bool matched = false;
        const char *why = try_predicate(ck, L, t, &matched);
        L->conj = false;
        return why;
    } else {
        L->conj = false;
    }
    return NULL;
}

/* A token where a table reference is being read; *done false: t is also an
 * ordinary token of the level (the reference ended before it). */
static const char *table_token(struct level *L, const struct tok *t, bool *done)
{
    *done = true;
    switch (L->expect) {
    case E_TABLE:
        if (t->kind != T_WORD || is_keyword(t))
            return "a table name must follow FROM, JOIN, UPDATE or a comma";
        L->cur = *t;
        L->expect = E_AFTER_TABLE;
        return NULL;
    case E_AFTER_DOT:
        if (t->kind != T_WORD || is_keyword(t))
            return "a table name must follow the schema's dot";
        L->cur = *t;
        L->expect = E_AFTER_TABLE;
        return NULL;
    case E_ALIAS:
        L->expect = E_NONE;
        if (t->kind != T_WORD || is_keyword(t))
            return "an alias must follow AS";
        return add_table(L, t);
    case E_AFTER_TABLE:
        if (t->kind == T_DOT) {
            L->expect = E_AFTER_DOT;
            return NULL;
        }
        if (is_word(t, "as")) {
            L->expect = E_ALIAS;
            return NULL;
        }
        L->expect = E_NONE;
        if (t->kind == T_WORD && !is_keyword(t))
            return add_table(L, t);
        *done = false;
        return add_table(L, &L->cur);
    default:
        *done = false;
        return NULL;
    }
}

/* '(' or ')': a subquery begins (the next token is SELECT) or a level ends. */
static const char *paren_token(struct checker *ck, const struct tok *t, bool *open_select)
{
    struct level *L = &ck->lv[ck->nlv - 1];
    if (t->kind == T_RPAREN) {
        if (ck->lx.depth >= L->depth)
            return NULL;
        const char *why = finish_level(L);
        ck->nlv--;
        return why;
    }
    struct lexer la = ck->lx;
    struct tok next;
    lex_next(&la, &next);
    *open_select = is_word(&next, "select");
    if (ck->lx.depth - 1 != L->depth)
        return NULL;
    if (L->expect == E_AFTER_TABLE)
        return "table-valued functions are not allowed";
    if (L->expect == E_TABLE && !*open_select)
        return "parenthesised joins are not allowed";
    if (L->expect == E_TABLE)
        L->expect = E_NONE; /* a derived table: its SELECT is a level of its own */
    return NULL;
}

/* Every table the statement names has its own bank_id = ? (see the header);
 * the placeholders of those conditions go to scoped[*n]. sql has passed
 * check_sql. */
static const char *check_tables(const char *sql, int *scoped, int *n)
{
    struct checker ck = {.lx = {.p = sql}, .nlv = 1, .scoped = scoped, .nscoped = 0};
    struct tok t;
    bool first = true, open_select = false, skipping = false;
    while (lex_next(&ck.lx, &t) != T_END) {
        const char *why = NULL;
        bool done = false;
        if (t.kind == T_BAD)
            return ck.lx.why;
        if (first) {
            first = false;
            skipping = is_word(&t, "insert"); /* its target: check_sql's INSERT rule */
            if (is_word(&t, "update"))
                ck.lv[0].expect = E_TABLE;
            continue;
        }
        if (skipping) {
            skipping = !(ck.lx.depth == 0 && is_word(&t, "values"));
            continue;
        }
        if (open_select) { /* this is the SELECT of a subquery */
            if (ck.nlv == TENANT_MAX_LEVELS)
                return "subqueries nested too deep";
            ck.lv[ck.nlv++] = (struct level){.depth = ck.lx.depth};
            open_select = false;
            continue;
        }
        struct level *L = &ck.lv[ck.nlv - 1];
        if (t.kind == T_LPAREN || t.kind == T_RPAREN)
            why = paren_token(&ck, &t, &open_select);
        else if (ck.lx.depth != L->depth)
            continue; /* inside parentheses of the level: a function, a group */
        else if ((why = table_token(L, &t, &done)) == NULL && !done)
            why = level_token(&ck, L, &t);
        if (why)
            return why;
    }
    if (ck.nlv != 1 || ck.lx.depth != 0)
        return "unbalanced parentheses";
    *n = ck.nscoped;
    return finish_level(&ck.lv[0]);
}

/* SELECT and nothing the lexer refuses. */
static const char *check_province_sql(const char *sql)
{
    struct lexer lx = {.p = sql};
    struct tok t;
    if (lex_next(&lx, &t) != T_WORD || !is_word(&t, "select"))
        return lx.why ? lx.why : "province reads are SELECT only";
    while (lex_next(&lx, &t) != T_END)
        if (t.kind == T_BAD)
            return lx.why;
    return NULL;
}

/* ---- statements --------------------------------------------------------- */

static int wrap(struct tenant_conn *tc, const char *sql, const int *scoped, int nscoped,
                struct tenant_stmt **out)
{
    struct tenant_stmt *ts = calloc(1, sizeof *ts);
    if (!ts)
        return STORE_NOMEM;
    int rc = store_prepare(tc->c, sql, &ts->s);
    for (int i = 0; rc == STORE_OK && i < nscoped; i++)
        rc = store_bind_int64(ts->s, scoped[i], tc->scope.bank_id);
    if (rc != STORE_OK) {
        if (ts->s)
            store_finish(ts->s);
        free(ts);
        return rc;
    }
    ts->tc = tc;
    ts->nscoped = nscoped;
    for (int i = 0; i < nscoped; i++)
        ts->scoped[i] = scoped[i];
    *out = ts;
    return STORE_OK;
}

int tenant_prepare(struct tenant_conn *tc, const char *sql, struct tenant_stmt **out)
{
    if (!tc || !sql || !out)
        return STORE_ERR;
    *out = NULL;
    tc->refused = false;
    int scope_idx = 0, scoped[TENANT_MAX_SCOPED], n = 0;
    const char *why = check_sql(sql, &scope_idx);
    if (!why)
        why = check_tables(sql, scoped, &n);
    /* INSERT's bank is its first VALUES placeholder, not a condition. */
    if (!why && scope_idx > 0) {
        bool known = false;
        for (int i = 0; i < n && !known; i++)
            known = scoped[i] == scope_idx;
        if (!known && n == TENANT_MAX_SCOPED)
            why = "too many bank placeholders in one statement";
        else if (!known)
            scoped[n++] = scope_idx;
    }
    if (!why && tc->read_only && !is_select(sql))
        why = "a read-only scope (the prepare phase) may only SELECT";
    if (why)
        return refuse(tc, "tenant_prepare: %s: %s", why, sql);
    return wrap(tc, sql, scoped, n, out);
}

int tenant_prepare_province(struct tenant_conn *tc, const char *sql, struct tenant_stmt **out)
{
    if (!tc || !sql || !out)
        return STORE_ERR;
    *out = NULL;
    tc->refused = false;
    if (tc->scope.role != ROLE_PROVINCE_ADMIN)
        return refuse(tc, "tenant_prepare_province: role %s may not read across banks",
                      role_name(tc->scope.role));
    const char *why = check_province_sql(sql);
    if (why)
        return refuse(tc, "tenant_prepare_province: %s: %s", why, sql);
    return wrap(tc, sql, NULL, 0, out);
}

/* The bank placeholder is ours: rebinding it would leave the scope. */
static int bindable(struct tenant_stmt *s, int idx)
{
    if (!s)
        return STORE_ERR;
    s->tc->refused = false;
    for (int i = 0; i < s->nscoped; i++)
        if (idx == s->scoped[i])
            return refuse(s->tc, "parameter %d is the scope's bank_id; tenant_prepare binds it",
                          idx);
    return STORE_OK;
}

int tenant_bind_text(struct tenant_stmt *s, int idx, const char *v)
{
    int rc = bindable(s, idx);
    return rc == STORE_OK ? store_bind_text(s->s, idx, v) : rc;
}

int tenant_bind_int64(struct tenant_stmt *s, int idx, int64_t v)
{
    int rc = bindable(s, idx);
    return rc == STORE_OK ? store_bind_int64(s->s, idx, v) : rc;
}

int tenant_bind_blob(struct tenant_stmt *s, int idx, const void *v, size_t n)
{
    int rc = bindable(s, idx);
    return rc == STORE_OK ? store_bind_blob(s->s, idx, v, n) : rc;
}

int tenant_bind_null(struct tenant_stmt *s, int idx)
{
    int rc = bindable(s, idx);
    return rc == STORE_OK ? store_bind_null(s->s, idx) : rc;
}

int tenant_step(struct tenant_stmt *s)
{
    if (!s)
        return STORE_ERR;
    s->tc->refused = false;
    return store_step(s->s);
}

const char *tenant_col_text(struct tenant_stmt *s, int col)
{
    return s ? store_col_text(s->s, col) : NULL;
}

int64_t tenant_col_int64(struct tenant_stmt *s, int col)
{
    return s ? store_col_int64(s->s, col) : 0;
}

const void *tenant_col_blob(struct tenant_stmt *s, int col, size_t *len)
{
    return s ? store_col_blob(s->s, col, len) : NULL;
}

bool tenant_col_is_null(struct tenant_stmt *s, int col)
{
    return s ? store_col_is_null(s->s, col) : true;
}

void tenant_finish(struct tenant_stmt *s)
{
    if (!s)
        return;
    store_finish(s->s);
    free(s);
}

int64_t tenant_last_insert_id(struct tenant_conn *tc)
{
    return tc ? store_last_insert_id(tc->c) : 0;
}

int64_t tenant_changes(struct tenant_conn *tc)
{
    return tc ? store_changes(tc->c) : 0;
}

const char *tenant_errmsg(struct tenant_conn *tc)
{
    if (!tc)
        return "tenant: no connection";
    return tc->refused ? tc->err : store_errmsg(tc->c);
}

struct store_conn *tenant_audit_conn(struct tenant_conn *tc)
{
    return tc && !tc->read_only ? tc->c : NULL;
}
