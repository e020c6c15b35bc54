/* table_csv.c — a table as CSV (see table_csv.h). */
#include "report/table_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    char *p;
    size_t n, cap;
    bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void text(struct buf *b, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        put(b, "\"", 1);
    if (rt_formula_like(s))
        put(b, "'", 1);
    for (const char *q = s; *q; q++) {
        put(b, q, 1);
        if (*q == '"') /* doubled */
            put(b, "\"", 1);
    }
    if (quote)
        put(b, "\"", 1);
}

static void number(struct buf *b, const json_t *v)
{
    char s[64];
    int n = 0;
    if (json_is_integer(v))
        n = snprintf(s, sizeof s, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) {
        n = snprintf(s, sizeof s, "%.4f", json_real_value(v));
        while (n > 1 && s[n - 1] == '0') /* 0.2500 -> 0.25, 1.0000 -> 1 */
            s[--n] = '\0';
        if (n > 1 && s[n - 1] == '.')
            s[--n] = '\0';
    }
    put(b, s, (size_t)n);
}

int rt_csv(const struct rt_table *t, char **out, size_t *len)
{
    struct buf b = {0};
    put(&b, "\xEF\xBB\xBF", 3);
    for (size_t k = 0; k < t->ncols; k++) {
        if (k)
            put(&b, ",", 1);
        text(&b, t->cols[k].title);
    }
    put(&b, "\r\n", 2);
    size_t i;
    json_t *row;
    json_array_foreach(t->rows, i, row)
    {
        for (size_t k = 0; k < t->ncols; k++) {
            const json_t *v = json_array_get(row, k);
            if (k)
                put(&b, ",", 1);
            if (json_is_string(v))
                text(&b, json_string_value(v));
            else
                number(&b, v);
        }
        put(&b, "\r\n", 2);
    }
    if (b.oom) {
        free(b.p);
        return RT_NOMEM;
    }
    *out = b.p;
    *len = b.n;
    return RT_OK;
}
