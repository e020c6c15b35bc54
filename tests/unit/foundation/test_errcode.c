/* errcode: the table of error codes is complete and well formed; docs/api.md
 * lists every code with the table's status, message and meaning; and no
 * code is spelled outside the table in src/ (a lint over the sources, shown
 * to catch the old style of answer on a fixture first). */
#include "foundation/errcode.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srcscan.h"
#include "testd.h"

/* ---- helpers ------------------------------------------------------------------ */

/* A code's shape: lowercase letters and underscores, a letter first. */
static bool code_shaped(const char *s, size_t n)
{
    if (n == 0 || !islower((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!islower((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* The enumerator a code must have: "ZE_" and the code in capitals. */
static void enum_name(enum ze e, char *out, size_t cap)
{
    const char *c = ze_code(e);
    size_t n = (size_t)snprintf(out, cap, "ZE_");
    for (; *c && n + 1 < cap; c++)
        out[n++] = (char)toupper((unsigned char)*c);
    out[n] = '\0';
}

/* Violations and findings, appended as lines. */
struct report {
    char text[16384];
    size_t len;
    int count;
};

static void note(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (r->len < sizeof r->text) {
        int n = vsnprintf(r->text + r->len, sizeof r->text - r->len, fmt, ap);
        if (n > 0)
            r->len += (size_t)n < sizeof r->text - r->len ? (size_t)n : sizeof r->text - r->len - 1;
    }
    va_end(ap);
    r->count++;
}

/* ---- 1. the table --------------------------------------------------------------- */

static void table_is_complete(void **state)
{
    (void)state;
    for (int i = 0; i < ZE_COUNT; i++) {
        const struct ze_def *d = ze_get((enum ze)i);
        enum ze back;
        /* A missing row reads as internal's: it does not parse back to i. */
        if (!ze_parse(d->code, &back) || back != (enum ze)i)
            fail_msg("entry %d has no row of its own in errcode.c", i);
        if (!code_shaped(d->code, strlen(d->code)))
            fail_msg("%s: a code is [a-z_]", d->code);
        if (d->http < 400 || d->http > 599)
            fail_msg("%s: http %d is not an error status", d->code, d->http);
        bool chinese = false;
        for (const char *p = d->message; p && *p; p++)
            chinese = chinese || (unsigned char)*p >= 0x80;
        if (!d->message || !chinese || strpbrk(d->message, "\"\\|\n"))
            fail_msg("%s: the message is Simplified Chinese, without \" \\ | or newlines", d->code);
        if (!d->meaning || strlen(d->meaning) < 10 || strpbrk(d->meaning, "|\n"))
            fail_msg("%s: the meaning is a sentence without | or newlines", d->code);
        assert_string_equal(ze_code((enum ze)i), d->code);
        assert_int_equal(ze_http((enum ze)i), d->http);
    }
}

static void lookups(void **state)
{
    (void)state;
    enum ze e = ZE_COUNT;
    assert_true(ze_parse("stale", &e));
    assert_int_equal(e, ZE_STALE);
    assert_int_equal(ze_http(ZE_STALE), 401);
    assert_int_equal(ze_http(ZE_BUSY), 429);
    assert_int_equal(ze_http(ZE_OVERLOADED), 503);
    assert_false(ze_parse("no_such_code", &e));
    assert_int_equal(e, ZE_INTERNAL);
    assert_false(ze_parse(NULL, &e));
    /* Outside the enum: internal's row, never NULL. */
    assert_string_equal(ze_code((enum ze)ZE_COUNT), "internal");
    /* The message: the table's by default, a non-empty detail overrides it. */
    assert_string_equal(ze_message(ZE_BAD_REQUEST, NULL), ze_get(ZE_BAD_REQUEST)->message);
    assert_string_equal(ze_message(ZE_BAD_REQUEST, ""), ze_get(ZE_BAD_REQUEST)->message);
    assert_string_equal(ze_message(ZE_BAD_REQUEST, "data.x: required"), "data.x: required");
}

/* ---- 2. docs/api.md ------------------------------------------------------------- */

/* One row "| `code` | 401 | message | meaning |" split into its cells. */
static int split_row(char *line, char *cells[], int max)
{
    int n = 0;
    char *p = line;
    if (*p != '|')
        return 0;
    p++;
    while (*p && n < max) {
        char *end = strchr(p, '|');
        if (!end)
            break;
        *end = '\0';
        while (*p == ' ')
            p++;
        char *t = end;
        while (t > p && t[-1] == ' ')
            *--t = '\0';
        cells[n++] = p;
        p = end + 1;
    }
    return n;
}

static void docs_list_every_code(void **state)
{
    (void)state;
    char path[512];
    char *doc = srcscan_slurp(src_path("docs/api.md", path, sizeof path));
    if (!doc)
        fail_msg("cannot read %s", path);
    /* The section: from its "## ... Error codes" heading to the next "## ". */
    char *sec = NULL;
    for (char *p = doc; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, "## ", 3) == 0 && strstr(p, "Error codes") &&
            strstr(p, "Error codes") < strchr(p, '\n')) {
            sec = p + 3;
            break;
        }
    }
    if (!sec) {
        free(doc);
        fail_msg("docs/api.md has no \"## ... Error codes\" section");
    }
    char *next = strstr(sec, "\n## ");
    if (next)
        next[1] = '\0';

    int seen[ZE_COUNT] = {0};
    struct report r = {.len = 0};
    int rows = 0;
    for (char *line = strtok(sec, "\n"); line; line = strtok(NULL, "\n")) {
        char *cells[8];
        if (strncmp(line, "| `", 3) != 0)
            continue;
        int n = split_row(line, cells, 8);
        size_t cl = n > 0 ? strlen(cells[0]) : 0;
        if (n != 4 || cl < 3 || cells[0][cl - 1] != '`') {
            note(&r, "a row that is not | `code` | HTTP | message | meaning |: %s\n", line);
            continue;
        }
        rows++;
        cells[0][cl - 1] = '\0';
        enum ze e;
        if (!ze_parse(cells[0] + 1, &e)) {
            note(&r, "`%s` is documented but not in the table\n", cells[0] + 1);
            continue;
        }
        const struct ze_def *d = ze_get(e);
        if (seen[e]++)
            note(&r, "`%s` is documented twice\n", d->code);
        if (atoi(cells[1]) != d->http || strcmp(cells[2], d->message) != 0 ||
            strcmp(cells[3], d->meaning) != 0)
            note(&r, "`%s`: the table says | `%s` | %d | %s | %s |\n", d->code, d->code, d->http,
                 d->message, d->meaning);
    }
    for (int i = 0; i < ZE_COUNT; i++)
        if (!seen[i])
            note(&r, "`%s` is missing; its row: | `%s` | %d | %s | %s |\n", ze_code((enum ze)i),
                 ze_code((enum ze)i), ze_http((enum ze)i), ze_get((enum ze)i)->message,
                 ze_get((enum ze)i)->meaning);
    free(doc);
    if (r.count) {
        fputs(r.text, stderr);
        fail_msg("docs/api.md \"Error codes\" disagrees with src/foundation/errcode.c (%d, above)",
                 r.count);
    }
    assert_int_equal(rows, ZE_COUNT);
}

/* ---- 3. the sources ------------------------------------------------------------- */

/* Literals equal to a code that are something else, or codes still handed
 * between layers as text; each entry must still be needed (a stale entry
 * fails). */
enum allow_kind {
    OTHER_NAME, /* another namespace that shares the word */
    CODE_TEXT,  /* the code itself, as text: turned into the enum by ze_parse */
};
static const struct allowed {
    const char *file;
    const char *code;
    enum allow_kind kind;
    const char *why;
} ALLOWED[] = {
    {"src/identity/identity.h", "not_found", OTHER_NAME, "id_rc_name, for logs"},
    {"src/identity/identity.h", "bad_password", OTHER_NAME, "id_rc_name, for logs"},
    {"src/identity/identity.h", "exists", OTHER_NAME, "id_rc_name, for logs"},
    {"src/identity/identity.h", "conflict", OTHER_NAME, "id_rc_name, for logs"},
    {"src/identity/session_store.c", "teller_disabled", OTHER_NAME, "a session's end reason"},
    {"src/identity/ticket.c", "unauthenticated", OTHER_NAME, "a log placeholder"},
    {"src/data/tenant.c", "exists", OTHER_NAME, "an SQL keyword"},
    {"src/egress/janus.c", "exists", OTHER_NAME, "the VideoRoom request and answer member"},
    {"src/egress/egress.c", "busy", OTHER_NAME, "an egress error kind (metric label)"},
    {"src/business/customer_prefill.c", "not_found", OTHER_NAME,
     "the CIS's verdict in customer.prefilled's audit record"},
    {"src/business/customer_prefill.c", "unavailable", OTHER_NAME,
     "the CIS's verdict in customer.prefilled's audit record; answers are OK"},
    {"src/egress/egress.c", "internal", OTHER_NAME, "an egress error kind (metric label)"},
    {"src/access/flow.c", "overloaded", OTHER_NAME,
     "flow's reason label and flow_reason_code; answers use ZE_OVERLOADED"},
    {"src/access/flow.c", "busy", OTHER_NAME, "flow_reason_code; answers use ZE_BUSY"},
    {"src/channel/zy1.c", "bad_envelope", OTHER_NAME, "zy1_status_code, for the tools"},
    {"src/channel/zy1.c", "bad_mac", OTHER_NAME, "zy1_status_code, for the tools"},
    {"src/channel/zy1.c", "bad_payload", OTHER_NAME, "zy1_status_code, for the tools"},
    {"src/channel/zy1.c", "internal", OTHER_NAME, "zy1_status_code, for the tools"},
    /* txauth hands its verdicts to h_tx.c as text (ze_parse there); to become
     * enum ze once the pipeline's performance work has landed. */
    {"src/http/txauth.c", "device_unknown", CODE_TEXT, "txauth_resolve's verdict"},
    {"src/http/txauth.c", "device_blocked", CODE_TEXT, "txauth_resolve's verdict"},
    {"src/http/txauth.c", "internal", CODE_TEXT, "txauth's store failure"},
    {"src/http/txauth.c", "session_invalid", CODE_TEXT, "txauth_session's verdict"},
    {"src/http/txauth.c", "session_expired", CODE_TEXT, "txauth_session's verdict"},
};
#define NALLOWED (sizeof ALLOWED / sizeof ALLOWED[0])

/* The functions that answer with a code: they take an enum ze. */
static const char *const ANSWERERS[] = {
    "http_error", "http_error_ex", "plain_error", "sealed_error", "tx_fail", "tx_failf", "refusal"};
#define NANSWERERS (sizeof ANSWERERS / sizeof ANSWERERS[0])

struct scan {
    struct report bad;
    int files;
    int calls[NANSWERERS]; /* call sites found, per answerer */
    int allowed_hits[NALLOWED];
    bool used[ZE_COUNT]; /* named as ZE_X, or as allowed code text */
};

/* The end of the string or char literal starting at t[i] (one past its quote). */
static size_t skip_literal(const char *t, size_t i)
{
    char q = t[i++];
    while (t[i] && t[i] != q && t[i] != '\n')
        i += t[i] == '\\' && t[i + 1] ? 2 : 1;
    return t[i] == q ? i + 1 : i;
}

static int line_of(const char *t, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        line += t[i] == '\n';
    return line;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* The string literal at t[i] (a quote), as its content span; false otherwise. */
static bool literal_at(const char *t, size_t i, size_t *from, size_t *len)
{
    if (t[i] != '"')
        return false;
    size_t end = skip_literal(t, i);
    *from = i + 1;
    *len = end - i >= 2 ? end - i - 2 : 0;
    return true;
}

static size_t skip_space(const char *t, size_t i)
{
    while (t[i] && isspace((unsigned char)t[i]))
        i++;
    return i;
}

/* The table code spelled by t[from..from+len), or -1. */
static int code_of_span(const char *t, size_t from, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf || !code_shaped(t + from, len))
        return -1;
    memcpy(buf, t + from, len);
    buf[len] = '\0';
    enum ze e;
    return ze_parse(buf, &e) ? (int)e : -1;
}

/* Rules A (a literal equal to a code), C (a code member or field set from a
 * literal) and the enumerators named. */
static void scan_literals(const char *path, const char *t, struct scan *sc)
{
    char name[64];
    for (size_t i = 0; t[i];) {
        if (t[i] == '\'') {
            i = skip_literal(t, i);
            continue;
        }
        if (t[i] == '"') {
            size_t from, len, end = skip_literal(t, i);
            (void)literal_at(t, i, &from, &len);
            int e = code_of_span(t, from, len);
            if (e >= 0) {
                bool ok = false;
                for (size_t k = 0; k < NALLOWED; k++) {
                    if (strcmp(ALLOWED[k].file, path) == 0 &&
                        strcmp(ALLOWED[k].code, ze_code((enum ze)e)) == 0) {
                        ok = true;
                        sc->allowed_hits[k]++;
                        if (ALLOWED[k].kind == CODE_TEXT)
                            sc->used[e] = true;
                    }
                }
                if (!ok)
                    note(&sc->bad, "%s:%d: the code \"%s\" spelled outside the table (use %s)\n",
                         path, line_of(t, i), ze_code((enum ze)e),
                         (enum_name((enum ze)e, name, sizeof name), name));
            }
            /* "code", "<code-shaped>": a code member built by hand. */
            size_t j = skip_space(t, end);
            if (len == 4 && strncmp(t + from, "code", 4) == 0 && t[j] == ',') {
                size_t f2, l2;
                j = skip_space(t, j + 1);
                if (literal_at(t, j, &f2, &l2) && code_shaped(t + f2, l2))
                    note(&sc->bad, "%s:%d: an answer's \"code\" member built by hand (\"%.*s\")\n",
                         path, line_of(t, i), (int)l2, t + f2);
            }
            i = end;
            continue;
        }
        /* .code = "<code-shaped>" or ->code = "<code-shaped>": set by hand. */
        if (strncmp(t + i, "code", 4) == 0 && !ident_char(t[i + 4]) && i > 0 &&
            (t[i - 1] == '.' || (t[i - 1] == '>' && i > 1 && t[i - 2] == '-'))) {
            size_t j = skip_space(t, i + 4), from, len;
            if (t[j] == '=' && t[j + 1] != '=') {
                j = skip_space(t, j + 1);
                if (literal_at(t, j, &from, &len) && code_shaped(t + from, len))
                    note(&sc->bad, "%s:%d: a code set by hand (\"%.*s\"); use tx_fail\n", path,
                         line_of(t, i), (int)len, t + from);
            }
        }
        /* An enumerator ZE_X names the code. */
        if (strncmp(t + i, "ZE_", 3) == 0 && (i == 0 || !ident_char(t[i - 1]))) {
            size_t n = 0;
            while (ident_char(t[i + n]))
                n++;
            for (int e = 0; e < ZE_COUNT; e++) {
                enum_name((enum ze)e, name, sizeof name);
                if (strlen(name) == n && strncmp(t + i, name, n) == 0)
                    sc->used[e] = true;
            }
            i += n;
            continue;
        }
        i++;
    }
}

/* The arguments of the call whose '(' is at t[i]: top-level spans. */
static int call_args(const char *t, size_t i, size_t from[], size_t len[], int max)
{
    int depth = 0, n = 0;
    size_t start = i + 1;
    for (size_t j = i; t[j]; j++) {
        char c = t[j];
        if (c == '"' || c == '\'') {
            j = skip_literal(t, j) - 1;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (--depth == 0) {
                if (n < max && j > start) {
                    from[n] = start;
                    len[n++] = j - start;
                }
                return n;
            }
        } else if (c == ',' && depth == 1 && n < max) {
            from[n] = start;
            len[n++] = j - start;
            start = j + 1;
        }
    }
    return n;
}

/* The word before position i (a declaration's type, or else / return). */
static bool after_type(const char *t, size_t i)
{
    size_t j = i;
    while (j > 0 && (t[j - 1] == ' ' || t[j - 1] == '\t' || t[j - 1] == '\n'))
        j--;
    if (j == 0 || (!ident_char(t[j - 1]) && t[j - 1] != '*'))
        return false;
    size_t end = j;
    while (j > 0 && ident_char(t[j - 1]))
        j--;
    return !((end - j == 4 && strncmp(t + j, "else", 4) == 0) ||
             (end - j == 6 && strncmp(t + j, "return", 6) == 0));
}

/* Rules B (an answerer called with a code-shaped literal) and D (an error
 * status spelled in http_json / http_text), and the call sites counted. */
static void scan_calls(const char *path, const char *t, struct scan *sc)
{
    for (size_t i = 0; t[i]; i++) {
        if (t[i] == '"' || t[i] == '\'') {
            i = skip_literal(t, i) - 1;
            continue;
        }
        if (!ident_char(t[i]) || (i > 0 && ident_char(t[i - 1])))
            continue;
        size_t n = 0;
        while (ident_char(t[i + n]))
            n++;
        size_t open = skip_space(t, i + n);
        if (t[open] != '(' || after_type(t, i)) {
            i += n - 1;
            continue;
        }
        size_t from[8], len[8];
        int nargs = call_args(t, open, from, len, 8);
        for (size_t k = 0; k < NANSWERERS; k++) {
            if (strlen(ANSWERERS[k]) != n || strncmp(t + i, ANSWERERS[k], n) != 0)
                continue;
            sc->calls[k]++;
            for (int a = 0; a < nargs; a++) {
                size_t f = skip_space(t, from[a]), lf, ll;
                if (literal_at(t, f, &lf, &ll) && code_shaped(t + lf, ll))
                    note(&sc->bad, "%s:%d: %s called with the code \"%.*s\" as text\n", path,
                         line_of(t, i), ANSWERERS[k], (int)ll, t + lf);
            }
        }
        bool answer = (n == 9 && strncmp(t + i, "http_json", 9) == 0) ||
                      (n == 9 && strncmp(t + i, "http_text", 9) == 0);
        if (answer && nargs >= 2) {
            size_t f = skip_space(t, from[1]);
            char *end = NULL;
            long status = strtol(t + f, &end, 10);
            if (end != t + f && status >= 400 &&
                skip_space(t, (size_t)(end - t)) == from[1] + len[1])
                note(&sc->bad, "%s:%d: an error status %ld spelled by hand; use http_error\n", path,
                     line_of(t, i), status);
        }
        i += n - 1;
    }
}

static void scan_text(const char *path, const char *text, struct scan *sc)
{
    char *t = srcscan_blank(text, false);
    assert_non_null(t);
    scan_literals(path, t, sc);
    scan_calls(path, t, sc);
    free(t);
    sc->files++;
}

/* srcscan_walk's callback: every C file but the table itself, where codes are spelled. */
static void scan_file(const char *rel, const char *text, void *arg)
{
    if (strncmp(rel, "src/foundation/errcode.", 23) != 0)
        scan_text(rel, text, arg);
}

static void scan_dir(const char *root, const char *rel, struct scan *sc)
{
    if (srcscan_walk(root, rel, scan_file, sc) < 0)
        fail_msg("cannot read %s/%s", root, rel);
}

/* The lint catches the old style of answer: each line of this fixture is
 * what src/ held before the table, and each is found; comments are not. */
static void lint_catches_old_style(void **state)
{
    (void)state;
    static const char fixture[] =
        "/* http_error(resp, 404, \"not_found\", \"x\") in a comment is fine */\n"
        "// tx_fail(c, \"device_conflict\", \"x\") too\n"
        "static void f(struct http_response *resp, struct tx_ctx *c)\n"
        "{\n"
        "    http_error(resp, 404, \"not_found\", \"对象不存在\");\n"      /* A, B */
        "    tx_fail(c, \"device_conflict\", \"该设备已绑定其他柜员\");\n" /* A, B */
        "    plain_error(r, resp, 401, \"brand_new\", \"新的\");\n"        /* B */
        "    http_json(resp, 422, json_pack(\"{s:{s:s}}\", \"error\", \"code\", \"reload\"));\n"
        /* C, D */
        "    c->code = \"not_bound\";\n"     /* C */
        "    const char *why = \"stale\";\n" /* A */
        "    http_json(resp, ok ? 200 : 503, body);\n"
        "    http_error(resp, ZE_STALE, \"终端时间\");\n"
        "    char q = '\"'; const char *s = \"a \\\" b\";\n"
        "}\n";
    struct scan sc = {.files = 0};
    scan_text("fixture.c", fixture, &sc);
    if (sc.bad.count != 9)
        fail_msg("expected 9 findings in the fixture, got %d:\n%s", sc.bad.count, sc.bad.text);
    assert_non_null(strstr(sc.bad.text, "fixture.c:5: the code \"not_found\""));
    assert_non_null(strstr(sc.bad.text, "fixture.c:5: http_error called with the code"));
    assert_non_null(strstr(sc.bad.text, "fixture.c:6: tx_fail called with the code"));
    assert_non_null(strstr(sc.bad.text, "fixture.c:7: plain_error called with the code"));
    assert_non_null(strstr(sc.bad.text, "fixture.c:8: an answer's \"code\" member"));
    assert_non_null(strstr(sc.bad.text, "fixture.c:8: an error status 422"));
    assert_non_null(strstr(sc.bad.text, "fixture.c:9: a code set by hand"));
    assert_non_null(strstr(sc.bad.text, "fixture.c:10: the code \"stale\""));
    assert_int_equal(sc.calls[0], 2); /* http_error: line 5 and the good one */
    assert_true(sc.used[ZE_STALE]);
    assert_false(sc.used[ZE_NOT_FOUND]);
}

/* Every enumerator is the code in capitals, in the order of the table. */
static void enum_names_match_codes(void **state)
{
    (void)state;
    char path[512], name[64];
    char *h = srcscan_slurp(src_path("src/foundation/errcode.h", path, sizeof path));
    if (!h)
        fail_msg("cannot read %s", path);
    char *t = srcscan_blank(h, false);
    assert_non_null(t);
    char *p = strstr(t, "enum ze {");
    assert_non_null(p);
    struct report r = {.len = 0};
    int e = 0;
    for (p = strstr(p, "ZE_"); p && strncmp(p, "ZE_COUNT", 8) != 0; p = strstr(p, "ZE_")) {
        size_t n = 0;
        while (ident_char(p[n]))
            n++;
        enum_name((enum ze)e, name, sizeof name);
        if (e < ZE_COUNT && (strlen(name) != n || strncmp(p, name, n) != 0))
            note(&r, "enumerator %d is %.*s, its code \"%s\" wants %s\n", e, (int)n, p,
                 ze_code((enum ze)e), name);
        e++;
        p += n;
    }
    free(t);
    free(h);
    if (r.count)
        fail_msg("%s", r.text);
    assert_int_equal(e, ZE_COUNT);
}

/* No code is spelled outside the table in src/, answers take the enum, and
 * every code of the table is answered somewhere. */
static void sources_name_codes_by_enum(void **state)
{
    (void)state;
    const char *root = getenv("ZHANYE_SRC") ? getenv("ZHANYE_SRC") : ".";
    static struct scan scan;
    struct scan *sc = &scan;
    scan_dir(root, "src", sc);
    for (size_t k = 0; k < NALLOWED; k++)
        if (!sc->allowed_hits[k])
            note(&sc->bad, "the allowance of \"%s\" in %s (%s) is no longer needed: remove it\n",
                 ALLOWED[k].code, ALLOWED[k].file, ALLOWED[k].why);
    for (int e = 0; e < ZE_COUNT; e++)
        if (!sc->used[e])
            note(&sc->bad, "the code \"%s\" is answered nowhere in src/\n", ze_code((enum ze)e));
    /* Not vacuous: the tree was read and the answers were found. */
    int total = 0;
    for (size_t k = 0; k < NANSWERERS; k++) {
        if (!sc->calls[k])
            note(&sc->bad, "no call of %s found in src/\n", ANSWERERS[k]);
        total += sc->calls[k];
    }
    if (sc->files < 100 || total < 60)
        note(&sc->bad, "only %d files and %d answer calls scanned: is ZHANYE_SRC right?\n",
             sc->files, total);
    if (sc->bad.count) {
        fputs(sc->bad.text, stderr);
        fail_msg("%d findings about error codes in src/ (above)", sc->bad.count);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_complete),      cmocka_unit_test(lookups),
        cmocka_unit_test(enum_names_match_codes), cmocka_unit_test(docs_list_every_code),
        cmocka_unit_test(lint_catches_old_style), cmocka_unit_test(sources_name_codes_by_enum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
