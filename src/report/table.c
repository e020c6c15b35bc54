/* table.c — the exported table's model (see table.h). */
#include "report/table.h"

#include <stdlib.h>
#include <string.h>

int rt_init(struct rt_table *t, const char *sheet, const struct rt_column *cols, size_t ncols)
{
    *t = (struct rt_table){.sheet = sheet, .cols = cols, .ncols = ncols, .rows = json_array()};
    return t->rows ? RT_OK : RT_NOMEM;
}

void rt_free(struct rt_table *t)
{
    json_decref(t->rows);
    t->rows = NULL;
}

size_t rt_rows(const struct rt_table *t)
{
    return json_array_size(t->rows);
}

const json_t *rt_path(const json_t *obj, const char *path)
{
    char key[64];
    const char *p = path;
    while (obj && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        obj = json_object_get(obj, key);
        p += n + (dot ? 1 : 0);
    }
    return obj;
}

bool rt_formula_like(const char *s)
{
    return s && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                 s[0] == '\r');
}

/* v as a cell of type ty (a new reference; json_null() for an empty cell). */
static json_t *cell(const json_t *v, enum rt_type ty)
{
    if (ty == RT_TEXT) {
        if (json_is_string(v))
            return json_string(json_string_value(v));
        if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
            char *s = json_dumps(v, JSON_ENCODE_ANY);
            json_t *c = s ? json_string(s) : NULL;
            free(s);
            return c;
        }
        return json_null();
    }
    if (json_is_integer(v))
        return ty == RT_INT ? json_integer(json_integer_value(v))
                            : json_real((double)json_integer_value(v));
    if (json_is_real(v))
        return ty == RT_NUM ? json_real(json_real_value(v))
                            : json_integer((json_int_t)json_real_value(v));
    if (json_is_boolean(v))
        return json_integer(json_is_true(v));
    return json_null();
}

int rt_fill(struct rt_table *t, const json_t *src, const json_t *prefix)
{
    size_t i;
    const json_t *obj;
    json_array_foreach(src, i, obj)
    {
        json_t *row = json_array();
        if (!row)
            return RT_NOMEM;
        for (size_t k = 0; k < t->ncols; k++) {
            const char *p = t->cols[k].path;
            const json_t *v = strncmp(p, "^.", 2) == 0 ? rt_path(prefix, p + 2) : rt_path(obj, p);
            json_t *c = cell(v, t->cols[k].type);
            if (c && json_is_real(c) && t->cols[k].div > 0)
                json_real_set(c, json_real_value(c) / t->cols[k].div);
            if (!c || json_array_append_new(row, c) != 0) {
                json_decref(row);
                return RT_NOMEM;
            }
        }
        if (json_array_append_new(t->rows, row) != 0)
            return RT_NOMEM;
    }
    return RT_OK;
}
