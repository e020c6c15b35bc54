/* The transaction lint: every write transaction in src/ goes through the
 * runner store_run (data/store.h); store_begin, store_commit and
 * store_rollback appear nowhere in src/ outside the store itself
 * (src/data/store.c and its header). A scan of the tree, shown first on a
 * fixture to catch a hand-written transaction and to count store_run calls,
 * and kept from passing vacuously: it must read the tree and find the
 * store_run call sites, those of the former hand-written sites included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srcscan.h"

/* What the runner replaces. */
static const char *const HAND[] = {"store_begin", "store_commit", "store_rollback"};
#define NHAND (sizeof HAND / sizeof HAND[0])

/* The store itself: where the runner is written, with the primitives it uses. */
static const char *const OWNERS[] = {"src/data/store.c", "src/data/store.h"};

/* The sites that once had a hand-written transaction: each calls the runner. */
static const char *const CONVERTED[] = {"src/identity/demo.c", "src/http/admin.c",
                                        "src/cli/cli_admin.c", "src/data/seq.c"};
#define NCONVERTED (sizeof CONVERTED / sizeof CONVERTED[0])

struct lint {
    int files;
    int runs; /* store_run calls outside the store */
    int converted_runs[NCONVERTED];
    int findings;
    char text[8192];
};

static void note(struct lint *l, const char *fmt, ...)
{
    size_t used = strlen(l->text);
    va_list ap;
    va_start(ap, fmt);
    if (used < sizeof l->text)
        vsnprintf(l->text + used, sizeof l->text - used, fmt, ap);
    va_end(ap);
    l->findings++;
}

static bool is_owner(const char *rel)
{
    for (size_t k = 0; k < sizeof OWNERS / sizeof OWNERS[0]; k++)
        if (strcmp(rel, OWNERS[k]) == 0)
            return true;
    return false;
}

/* A call: the word, optional blanks, an opening parenthesis. */
static bool call_at(const char *t, size_t i, const char *id)
{
    if (!srcscan_word_at(t, i, id))
        return false;
    size_t j = i + strlen(id);
    while (t[j] == ' ' || t[j] == '\t' || t[j] == '\n')
        j++;
    return t[j] == '(';
}

static void scan(const char *rel, const char *text, void *arg)
{
    struct lint *l = arg;
    l->files++;
    if (is_owner(rel))
        return;
    char *t = srcscan_blank(text, true);
    assert_non_null(t);
    int runs = 0;
    for (size_t i = 0; t[i]; i++) {
        for (size_t k = 0; k < NHAND; k++)
            if (srcscan_word_at(t, i, HAND[k]))
                note(l, "%s:%d: %s outside the store: write a store_run callback\n", rel,
                     srcscan_line(t, i), HAND[k]);
        runs += call_at(t, i, "store_run");
    }
    l->runs += runs;
    for (size_t k = 0; k < NCONVERTED; k++)
        if (strcmp(rel, CONVERTED[k]) == 0)
            l->converted_runs[k] += runs;
    free(t);
}

/* Each hand-written piece is found, also split over lines or taken as a
 * pointer; mentions in comments and strings are not; store_run calls are
 * counted, its declaration-like mentions are not. */
static void lint_catches_hand_written(void **state)
{
    (void)state;
    static const char fixture[] = "/* store_begin(c) … store_commit(c) in a comment is fine */\n"
                                  "// store_rollback(c) too\n"
                                  "static int f(struct store_conn *c)\n"
                                  "{\n"
                                  "    int rc = store_begin(c);\n"
                                  "    if (rc == STORE_OK)\n"
                                  "        rc = store_commit (c);\n"
                                  "    int (*undo)(struct store_conn *) = store_rollback;\n"
                                  "    log_info(\"x\", \"store_begin(c) in a string\");\n"
                                  "    int store_begin_count = 0; /* another word */\n"
                                  "    rc = store_run(c, \"x\", cb, NULL);\n"
                                  "    rc = store_run\n"
                                  "        (c, \"y\", cb, NULL);\n"
                                  "    store_run_fn g = NULL; (void)store_run;\n"
                                  "    return rc + store_begin_count;\n"
                                  "}\n";
    struct lint l = {.files = 0};
    scan("src/x/fixture.c", fixture, &l);
    if (l.findings != 3)
        fail_msg("expected 3 findings in the fixture, got %d:\n%s", l.findings, l.text);
    assert_non_null(strstr(l.text, "src/x/fixture.c:5: store_begin"));
    assert_non_null(strstr(l.text, "src/x/fixture.c:7: store_commit"));
    assert_non_null(strstr(l.text, "src/x/fixture.c:8: store_rollback"));
    assert_int_equal(l.runs, 2);
    /* The store itself is exempt. */
    struct lint own = {.files = 0};
    scan("src/data/store.c", fixture, &own);
    assert_int_equal(own.findings, 0);
}

static void sources_run_every_transaction(void **state)
{
    (void)state;
    static struct lint l;
    int files = srcscan_walk(srcscan_root(), "src", scan, &l);
    if (files < 0)
        fail_msg("cannot read %s/src: is ZHANYE_SRC right?", srcscan_root());
    for (size_t k = 0; k < NCONVERTED; k++)
        if (l.converted_runs[k] == 0)
            note(&l, "%s calls store_run nowhere\n", CONVERTED[k]);
    /* Not vacuous: the tree was read, store_run's call sites were found. */
    if (files < 100 || l.runs < 15)
        note(&l, "only %d files and %d store_run calls found: is ZHANYE_SRC right?\n", files,
             l.runs);
    print_message("%d files, %d store_run calls outside the store\n", files, l.runs);
    if (l.findings) {
        fputs(l.text, stderr);
        fail_msg("%d findings about transactions in src/ (above)", l.findings);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lint_catches_hand_written),
        cmocka_unit_test(sources_run_every_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
