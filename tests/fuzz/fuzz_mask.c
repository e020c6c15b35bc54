/* fuzz_mask — mask_text on arbitrary log text, checked against mask.h's
 * contract by an independent oracle:
 *   - the result is exactly as long as the input, and every byte is the
 *     input's byte or a '*' in place of a digit;
 *   - every PII number that the header's table defines and that stands alone
 *     (an ungrouped digit run with no ASCII letter or digit on either side,
 *     or a grouped phone/ID/card with nothing chained to it) is masked
 *     exactly: the kept head and tail digits, stars in between, separators
 *     kept.
 * The fixed-format maskers (ID, card, phone, name) run on the same bytes:
 * each either succeeds with its documented shape or fails with "***". */
#include "foundation/mask.h"

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

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool alnum(char c)
{
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool mobile(const char *s)
{
    return s[0] == '1' && s[1] >= '3' && s[1] <= '9';
}

static bool is_sep(char c)
{
    return c == ' ' || c == '-';
}

/* The span s[0..len) must read as the number masked with head/tail
 * characters kept (a check letter X counts as one), separators kept. */
static void expect_masked(const char *s, const char *o, size_t len, size_t head, size_t tail)
{
    size_t total = 0;
    for (size_t i = 0; i < len; i++)
        total += !is_sep(s[i]);
    for (size_t i = 0, idx = 0; i < len; i++) {
        if (is_sep(s[i])) {
            CHECK(o[i] == s[i]);
            continue;
        }
        CHECK(o[i] == ((idx < head || idx >= total - tail) ? s[i] : '*'));
        idx++;
    }
}

/* An ungrouped run of n digits at s (x: followed by X/x), bounded on both sides. */
static void check_run(const char *s, const char *o, size_t n, bool x)
{
    if (x && n == 17)
        expect_masked(s, o, n + 1, 6, 4);
    else if (x)
        return;
    else if (n == 13 && s[0] == '8' && s[1] == '6' && mobile(s + 2))
        expect_masked(s, o, n, 5, 4);
    else if (n == 11 && mobile(s))
        expect_masked(s, o, n, 3, 4);
    else if (n == 15 || n == 18)
        expect_masked(s, o, n, 6, 4);
    else if (n >= 16 && n <= 19)
        expect_masked(s, o, n, 4, 4);
}

/* A grouped number at s: groups g[0..k) of digits joined by one separator,
 * nothing chained before or after it (checked by the caller). */
static void check_groups(const char *s, const char *o, const size_t *g, size_t k, bool x,
                         size_t len)
{
    static const size_t PHONE[] = {3, 4, 4}, ID[] = {6, 8, 4}, IDX[] = {6, 8, 3};
    static const size_t CARD[] = {4, 4, 4, 4};
    if (k == 3 && !x && memcmp(g, PHONE, sizeof PHONE) == 0 && mobile(s))
        expect_masked(s, o, len, 3, 4);
    else if (k == 3 && memcmp(g, x ? IDX : ID, sizeof ID) == 0)
        expect_masked(s, o, len, 6, 4);
    else if (!x && (k == 4 || (k == 5 && g[4] < 4)) && memcmp(g, CARD, sizeof CARD) == 0)
        expect_masked(s, o, len, 4, 4);
}

/* Checks the number starting at s[i], a digit with no letter or digit
 * before it. A run of 11 or more digits is judged on its own whatever
 * surrounds it (no grouped form has such a group); a grouped number only
 * when nothing is chained to it on either side. */
static void check_number(const char *s, const char *o, size_t n, size_t i)
{
    size_t d = 0;
    while (i + d < n && digit(s[i + d]))
        d++;
    bool x = i + d < n && (s[i + d] == 'X' || s[i + d] == 'x');
    if (d >= 11 && (i + d + x == n || !alnum(s[i + d + x])))
        check_run(s + i, o + i, d, x);

    size_t g[6], k = 0, p = i;
    char sep = 0;
    x = false;
    for (;;) {
        d = 0;
        while (p < n && digit(s[p]))
            p++, d++;
        g[k++] = d;
        if (p < n && (s[p] == 'X' || s[p] == 'x')) {
            x = true;
            p++;
            break;
        }
        if (k == 6 || p + 1 >= n || !is_sep(s[p]) || (sep && s[p] != sep) || !digit(s[p + 1]))
            break;
        sep = s[p++];
    }
    if (k < 2 || k > 5 || (p < n && alnum(s[p])))
        return;
    if ((!x && p + 1 < n && is_sep(s[p]) && digit(s[p + 1])) ||
        (i >= 2 && is_sep(s[i - 1]) && digit(s[i - 2])))
        return;
    check_groups(s + i, o + i, g, k, x, p - i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1), *out = malloc(size + 1);
    if (!in || !out)
        abort();
    memcpy(in, data, size);
    in[size] = '\0';
    size_t n = strlen(in);

    /* cap = strlen + 1 always suffices; one byte less never does. */
    CHECK(mask_text(in, out, n + 1) == (long)n);
    CHECK(out[n] == '\0');
    for (size_t i = 0; i < n; i++)
        CHECK(out[i] == in[i] || (out[i] == '*' && digit(in[i])));
    for (size_t i = 0; i < n; i++)
        if (digit(in[i]) && (i == 0 || !alnum(in[i - 1])))
            check_number(in, out, n, i);
    char small[4];
    if (n >= 3)
        CHECK(mask_text(in, small, n < sizeof small ? n : sizeof small) == -1);

    /* The fixed formats: a result of the documented length, or "***". */
    char fixed[64];
    long r = mask_id_no(in, fixed, sizeof fixed);
    CHECK(r == -1 ? strcmp(fixed, "***") == 0 : (r == 15 || r == 18) && fixed[6] == '*');
    r = mask_card(in, fixed, sizeof fixed);
    CHECK(r == -1 ? strcmp(fixed, "***") == 0
                  : r == 19 && memcmp(fixed + 4, " **** **** ", 11) == 0);
    r = mask_phone(in, fixed, sizeof fixed);
    CHECK(r == -1 ? strcmp(fixed, "***") == 0 : r == 11 && memcmp(fixed + 3, "****", 4) == 0);
    char *name = malloc(n + 2);
    if (!name)
        abort();
    r = mask_name(in, name, n + 2);
    CHECK(r == -1 ? strcmp(name, "***") == 0 || n + 2 < 4
                  : (size_t)r <= n + 1 && r > 0 && name[r - 1] == '*' && strlen(name) == (size_t)r);
    free(name);
    free(in);
    free(out);
    return 0;
}
