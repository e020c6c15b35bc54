/* fuzz_tag_rule — the rule language of tags (business/tag_rule.h) on
 * arbitrary bytes:
 *   - tr_parse never crashes, and refuses with a position inside the text
 *     and a message;
 *   - a rule it accepts evaluates on facts of every shape (absent, wrong
 *     JSON types, present) without crashing;
 *   - its canonical form (tr_format) is a fixed point: parsed again (when it
 *     still fits the bounds: the parentheses add depth and length) it
 *     formats to the same text and evaluates the same on every fact set. */
#include "business/tag_rule.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static const char *const FACTS[] = {
    "{}",
    "{\"kind\":\"person\",\"age\":40,\"sex\":\"F\",\"occupation\":\"farmer\",\"income_band\":"
    "\"30k_100k\",\"household.size\":3,\"assets\":150000,\"assets.land\":100000,\"products\":"
    "[\"deposit\",\"loan\"],\"visit.last_outcome\":\"interested\",\"grid.lead_score\":75.5}",
    "{\"age\":\"40\",\"occupation\":7,\"products\":{\"a\":1},\"assets\":null,\"kind\":[]}",
    "{\"kind\":\"business\",\"industry\":\"A01\",\"turnover\":10000000000000,\"products\":[1,"
    "\"\",\"fund\"],\"grid.cell\":\"\",\"visit.count\":-0.0}",
};
#define NFACTS (sizeof FACTS / sizeof FACTS[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *facts[NFACTS];
    if (!facts[0])
        for (size_t i = 0; i < NFACTS; i++)
            CHECK((facts[i] = json_loads(FACTS[i], 0, NULL)) != NULL);
    struct tag_rule *r = NULL;
    struct tr_error e;
    int rc = tr_parse((const char *)data, size, &r, &e);
    CHECK(rc == TR_OK || rc == TR_BAD);
    if (rc == TR_BAD) {
        CHECK(r == NULL);
        CHECK(e.line >= 1 && e.col >= 1 && e.msg[0]);
        CHECK((size_t)e.line <= size + 1 && (size_t)e.col <= size + 1);
        return 0;
    }
    bool v[NFACTS];
    for (size_t i = 0; i < NFACTS; i++)
        v[i] = tr_eval(r, facts[i]);
    static char a[16 * TR_TEXT_MAX], b[16 * TR_TEXT_MAX];
    int n = tr_format(r, a, sizeof a);
    CHECK(n > 0);
    struct tag_rule *r2 = NULL;
    if (tr_parse(a, (size_t)n, &r2, &e) == TR_OK) {
        CHECK(tr_format(r2, b, sizeof b) == n);
        CHECK(memcmp(a, b, (size_t)n) == 0);
        for (size_t i = 0; i < NFACTS; i++)
            CHECK(tr_eval(r2, facts[i]) == v[i]);
        tr_free(r2);
    }
    tr_free(r);
    return 0;
}
