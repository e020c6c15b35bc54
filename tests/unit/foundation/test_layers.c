/* The layering rule: the lower layers (foundation, data, channel, access,
 * egress, identity, business) include nothing from the upper ones (app/,
 * http/, cli/). A scan of every #include line of their files, shown first
 * on a fixture to catch an upward include (in every spelling: quotes or
 * angle brackets, a "../" or "./" prefix, blanks after the '#'), and kept
 * from passing vacuously: it must read a minimum of files and includes in
 * every lower folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srcscan.h"

static const char *const LOWER[] = {"src/foundation", "src/data",   "src/channel",
                                    "src/access",     "src/egress", "src/identity",
                                    "src/business",   "src/report", "src/appstore"};
#define NLOWER (sizeof LOWER / sizeof LOWER[0])
static const char *const UPPER[] = {"app/", "http/", "cli/"};

struct scan {
    int files;
    int includes;
    int findings;
    char text[8192];
};

static void note(struct scan *sc, const char *fmt, ...)
{
    size_t used = strlen(sc->text);
    va_list ap;
    va_start(ap, fmt);
    if (used < sizeof sc->text)
        vsnprintf(sc->text + used, sizeof sc->text - used, fmt, ap);
    va_end(ap);
    sc->findings++;
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* The upper layer the included path names, or NULL. */
static const char *upper_of(const char *path, size_t n)
{
    while (n >= 2 && (strncmp(path, "./", 2) == 0 || strncmp(path, "../", 3) == 0)) {
        size_t k = path[1] == '/' ? 2 : 3;
        path += k;
        n -= k;
    }
    for (size_t k = 0; k < sizeof UPPER / sizeof UPPER[0]; k++) {
        size_t m = strlen(UPPER[k]);
        if (n > m && strncmp(path, UPPER[k], m) == 0)
            return UPPER[k];
    }
    return NULL;
}

static void scan(const char *rel, const char *text, void *arg)
{
    struct scan *sc = arg;
    char *t = srcscan_blank(text, false); /* the include's path is a literal: keep it */
    assert_non_null(t);
    sc->files++;
    for (const char *line = t; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p = skip_blanks(line);
        if (*p != '#')
            continue;
        p = skip_blanks(p + 1);
        if (strncmp(p, "include", 7) != 0)
            continue;
        p = skip_blanks(p + 7);
        char close = *p == '"' ? '"' : *p == '<' ? '>' : 0;
        const char *end = close ? strchr(p + 1, close) : NULL;
        const char *eol = strchr(p, '\n');
        if (!end || (eol && end > eol))
            continue;
        sc->includes++;
        const char *up = upper_of(p + 1, (size_t)(end - p - 1));
        if (up)
            note(sc, "%s:%d: includes %.*s from %s (a lower layer reaches up)\n", rel,
                 srcscan_line(t, (size_t)(line - t)), (int)(end - p + 1), p, up);
    }
    free(t);
}

static void lint_catches_upward_includes(void **state)
{
    (void)state;
    static const char fixture[] = "/* #include \"http/server.h\" in a comment is fine */\n"
                                  "#include \"identity/teller.h\"\n"
                                  "#include \"http/server.h\"\n"
                                  "#  include <app/app.h>\n"
                                  "#include \"../cli/cli.h\"\n"
                                  "#include \"data/http_like.h\"\n"
                                  "#include <stdio.h>\n"
                                  "// #include \"cli/cli.h\"\n"
                                  "const char *s = \"#include \\\"app/app.h\\\"\";\n";
    struct scan sc = {.files = 0};
    scan("src/identity/fixture.c", fixture, &sc);
    if (sc.findings != 3)
        fail_msg("expected 3 findings in the fixture, got %d:\n%s", sc.findings, sc.text);
    assert_non_null(strstr(sc.text, "fixture.c:3: includes \"http/server.h\" from http/"));
    assert_non_null(strstr(sc.text, "fixture.c:4: includes <app/app.h> from app/"));
    assert_non_null(strstr(sc.text, "fixture.c:5: includes \"../cli/cli.h\" from cli/"));
    assert_int_equal(sc.includes, 6);
}

static void lower_layers_reach_down_only(void **state)
{
    (void)state;
    static struct scan sc;
    int total = 0;
    for (size_t k = 0; k < NLOWER; k++) {
        int before = sc.includes;
        int files = srcscan_walk(srcscan_root(), LOWER[k], scan, &sc);
        if (files < 0)
            fail_msg("cannot read %s/%s: is ZHANYE_SRC right?", srcscan_root(), LOWER[k]);
        /* A folder with code (business has none yet) has includes. */
        if (files > 0 && sc.includes == before)
            note(&sc, "%s: %d files but no #include found\n", LOWER[k], files);
        total += files;
    }
    /* Not vacuous: the lower layers were read, and their includes found. */
    if (total < 80 || sc.includes < 400)
        note(&sc, "only %d files and %d includes scanned: is ZHANYE_SRC right?\n", total,
             sc.includes);
    print_message("%d files, %d #include lines in the lower layers\n", total, sc.includes);
    if (sc.findings) {
        fputs(sc.text, stderr);
        fail_msg("%d findings about layering (above)", sc.findings);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lint_catches_upward_includes),
        cmocka_unit_test(lower_layers_reach_down_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
