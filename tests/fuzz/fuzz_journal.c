/* fuzz_journal — the core's daily journal file (business/recon.h) on
 * arbitrary bytes. Contracts checked:
 *   - RECON_OK comes with lines whose fields are within their sizes and
 *     charsets, sorted by serial with no serial twice, the date 8 digits;
 *     RECON_BAD with a reason and nothing kept;
 *   - parsing the same bytes twice gives the same verdict;
 *   - a parsed journal compared with expectations made from its own lines
 *     (each one's outcome) has no difference: every line is matched. */
#include "business/recon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static void no_line(const char *line, void *arg)
{
    (void)line;
    (void)arg;
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct recon_journal j, again;
    char err[128];
    int rc = recon_parse(data, size, &j, err, sizeof err);
    CHECK(rc == RECON_OK || rc == RECON_BAD || rc == RECON_ERR);
    if (rc != RECON_OK) {
        CHECK(j.n == 0 && j.lines == NULL);
        CHECK(rc != RECON_BAD || err[0] != '\0');
    } else {
        CHECK(strlen(j.date) == 8 && strspn(j.date, "0123456789") == 8);
        for (size_t i = 0; i < j.n; i++) {
            const struct recon_line *l = &j.lines[i];
            CHECK(l->serial[0] != '\0' && strlen(l->tx_code) == 6 && strlen(l->time) == 6 &&
                  strlen(l->rc) == 4);
            CHECK(strcmp(l->status, "normal") == 0 || strcmp(l->status, "reversed") == 0);
            CHECK(!strchr(l->key1, '|') && !strchr(l->key2, '|'));
            CHECK(i == 0 || strcmp(j.lines[i - 1].serial, l->serial) < 0);
        }
        struct recon_local *x = j.n ? calloc(j.n, sizeof *x) : NULL;
        CHECK(j.n == 0 || x);
        for (size_t i = 0; i < j.n; i++) {
            const struct recon_line *l = &j.lines[i];
            snprintf(x[i].serial, sizeof x[i].serial, "%s", l->serial);
            x[i].expect = strcmp(l->rc, "0000") != 0           ? RECON_REFUSED
                          : strcmp(l->status, "reversed") == 0 ? RECON_COMPENSATED
                                                               : RECON_DONE;
        }
        struct recon_counts c;
        CHECK(recon_compare(j.lines, j.n, x, j.n, NULL, NULL, no_line, NULL, &c) == RECON_OK);
        CHECK(c.differences == 0 && (size_t)c.matched == j.n);
        free(x);
    }
    CHECK(recon_parse(data, size, &again, err, sizeof err) == rc);
    recon_journal_free(&again);
    recon_journal_free(&j);
    return 0;
}
