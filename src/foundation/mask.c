#include "foundation/mask.h"
#include "foundation/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Grouped numbers have at most 5 groups (card 4-4-4-4-3). */
#define MAX_GROUPS 5

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Only ASCII counts: CJK text around a number is a boundary, not part of it. */
static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_x(char c)
{
    return c == 'X' || c == 'x';
}

static size_t digit_run(const char *s)
{
    size_t n = 0;
    while (is_digit(s[n]))
        n++;
    return n;
}

/* Every error path goes through here so a caller that ignores -1 never
 * finds a partial (unmasked) copy of the input in out. */
static long fail(char *out, size_t cap)
{
    if (out && cap >= 4)
        memcpy(out, "***", 4);
    else if (out && cap > 0)
        out[0] = '\0';
    return -1;
}

/* Copies n bytes keeping the first head and last tail, starring the rest. */
static void keep_ends(const char *in, size_t n, size_t head, size_t tail, char *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (i < head || i >= n - tail) ? in[i] : '*';
    out[n] = '\0';
}

long mask_id_no(const char *in, char *out, size_t cap)
{
    if (!in || !out)
        return fail(out, cap);
    size_t n = strnlen(in, 19);
    size_t d = digit_run(in);
    bool id18 = n == 18 && (d == 18 || (d == 17 && is_x(in[17])));
    bool id15 = n == 15 && d == 15;
    if (!(id18 || id15) || cap < n + 1)
        return fail(out, cap);
    keep_ends(in, n, 6, 4, out);
    return (long)n;
}

long mask_card(const char *in, char *out, size_t cap)
{
    static const size_t out_len = 19; /* "6222 **** **** 1234" */
    if (!in || !out)
        return fail(out, cap);
    size_t n = strnlen(in, 20);
    if (n < 16 || n > 19 || digit_run(in) != n || cap < out_len + 1)
        return fail(out, cap);
    memcpy(out, in, 4);
    memcpy(out + 4, " **** **** ", 11);
    memcpy(out + 15, in + n - 4, 4);
    out[out_len] = '\0';
    return (long)out_len;
}

static bool is_mobile_prefix(const char *s)
{
    return s[0] == '1' && s[1] >= '3' && s[1] <= '9';
}

long mask_phone(const char *in, char *out, size_t cap)
{
    if (!in || !out)
        return fail(out, cap);
    size_t n = strnlen(in, 12);
    if (n != 11 || digit_run(in) != 11 || !is_mobile_prefix(in) || cap < n + 1)
        return fail(out, cap);
    keep_ends(in, n, 3, 4, out);
    return (long)n;
}

/* Counts characters; 0 if the text is not valid UTF-8 or holds control chars. */
static size_t name_chars(const char *in, size_t n, size_t *first_len)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t chars = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq_len(s + i, n - i);
        if (l == 0 || (l == 1 && (s[i] < 0x20 || s[i] == 0x7F)))
            return 0;
        if (chars == 0)
            *first_len = l;
        chars++;
        i += l;
    }
    return chars;
}

long mask_name(const char *in, char *out, size_t cap)
{
    if (!in || !out)
        return fail(out, cap);
    size_t n = strlen(in);
    size_t first = 0;
    size_t chars = name_chars(in, n, &first);
    if (chars == 0)
        return fail(out, cap);
    /* A one-character name would be shown whole by "keep the first", so it
     * becomes a lone star instead. */
    size_t keep = chars == 1 ? 0 : first;
    size_t stars = chars == 1 ? 1 : chars - 1;
    size_t need = keep + stars;
    if (cap < need + 1)
        return fail(out, cap);
    memcpy(out, in, keep);
    memset(out + keep, '*', stars);
    out[need] = '\0';
    return (long)need;
}

/* --- free text --------------------------------------------------------- */

struct group {
    size_t start;  /* offset of the first digit */
    size_t digits; /* digits in the group */
    bool x_after;  /* a check letter X/x follows the digits */
};

struct pii {
    size_t len;  /* bytes of text covered, separators included */
    size_t head; /* leading number characters kept */
    size_t tail; /* trailing number characters kept */
};

/* Splits the number at s into digit groups joined by one separator, all
 * separators the same (' ' or '-'): "6222 0212 3456 7891 234". */
static size_t parse_groups(const char *s, struct group *g)
{
    size_t n = 0, pos = 0;
    char sep = 0;
    for (;;) {
        g[n].start = pos;
        g[n].digits = digit_run(s + pos);
        pos += g[n].digits;
        g[n].x_after = is_x(s[pos]);
        n++;
        char c = s[pos];
        if (g[n - 1].x_after || n == MAX_GROUPS || (c != ' ' && c != '-') || (sep && c != sep) ||
            !is_digit(s[pos + 1]))
            break;
        sep = c;
        pos++;
    }
    return n;
}

static bool lens_are(const struct group *g, size_t k, const size_t *want)
{
    for (size_t i = 0; i < k; i++)
        if (g[i].digits != want[i])
            return false;
    return true;
}

/* Which PII the first k groups form, if any: returns false if none. */
static bool classify(const char *s, const struct group *g, size_t k, struct pii *p)
{
    static const size_t phone3[] = {3, 4, 4}, id3[] = {6, 8, 4}, idx3[] = {6, 8, 3};
    static const size_t card[] = {4, 4, 4, 4};
    bool x = g[k - 1].x_after;
    size_t total = 0;
    for (size_t i = 0; i < k; i++)
        total += g[i].digits;
    size_t last = g[k - 1].digits;
    bool phone =
        !x && total == 11 && is_mobile_prefix(s) && (k == 1 || (k == 3 && lens_are(g, 3, phone3)));
    bool id = (!x && (k == 1 ? (total == 15 || total == 18) : k == 3 && lens_are(g, 3, id3))) ||
              (x && (k == 1 ? total == 17 : k == 3 && lens_are(g, 3, idx3)));
    bool is_card = !x && total >= 16 && total <= 19 &&
                   (k == 1 || (k >= 4 && lens_are(g, 4, card) && (k == 4 || last < 4)));
    /* "+8613812345678": the plus is a boundary, the country code is not. */
    bool intl_phone =
        !x && k == 1 && total == 13 && s[0] == '8' && s[1] == '6' && is_mobile_prefix(s + 2);
    if (intl_phone)
        p->head = 5, p->tail = 4;
    else if (phone)
        p->head = 3, p->tail = 4;
    else if (id)
        p->head = 6, p->tail = 4;
    else if (is_card)
        p->head = 4, p->tail = 4;
    else
        return false;
    p->len = g[k - 1].start + last + (x ? 1 : 0);
    /* The number must end where the word ends: "13812345678abc" is an
     * identifier of some kind, not a phone. */
    return !is_alnum(s[p->len]);
}

/* Writes the span with every kept-out digit starred; separators stay. */
static void write_masked(const char *s, const struct pii *p, char *out)
{
    size_t total = 0;
    for (size_t i = 0; i < p->len; i++)
        total += s[i] != ' ' && s[i] != '-';
    for (size_t i = 0, idx = 0; i < p->len; i++) {
        if (s[i] == ' ' || s[i] == '-') {
            out[i] = s[i];
            continue;
        }
        out[i] = (idx < p->head || idx >= total - p->tail) ? s[i] : '*';
        idx++;
    }
}

/* s starts a number (a digit with no letter or digit before it). Returns
 * the bytes consumed, masked or copied. The longest grouped reading is tried
 * first so "138 1234 5678" masks as one phone. */
static size_t mask_number(const char *s, char *out)
{
    struct group g[MAX_GROUPS];
    size_t n = parse_groups(s, g);
    for (size_t k = n; k > 0; k--) {
        struct pii p;
        if (classify(s, g, k, &p)) {
            write_masked(s, &p, out);
            return p.len;
        }
    }
    memcpy(out, s, g[0].digits);
    return g[0].digits;
}

long mask_text(const char *in, char *out, size_t cap)
{
    if (!in || !out)
        return fail(out, cap);
    size_t n = strlen(in);
    if (cap < n + 1)
        return fail(out, cap);
    for (size_t i = 0; i < n;) {
        if (is_digit(in[i]) && (i == 0 || !is_alnum(in[i - 1]))) {
            i += mask_number(in + i, out + i);
        } else {
            out[i] = in[i];
            i++;
        }
    }
    out[n] = '\0';
    return (long)n;
}
