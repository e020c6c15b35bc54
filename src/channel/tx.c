#include "channel/tx.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool type_ok(const struct tx_field *f, json_t *v)
{
    switch (f->type) {
    case TXF_STRING:
        return json_is_string(v) && (!f->max || json_string_length(v) <= f->max);
    case TXF_INT:
        return json_is_integer(v);
    case TXF_BOOL:
        return json_is_boolean(v);
    case TXF_OBJECT:
        return json_is_object(v);
    case TXF_ARRAY:
        return json_is_array(v) && (!f->max || json_array_size(v) <= f->max);
    case TXF_NUMBER:
        return json_is_number(v);
    }
    return false;
}

static const char *type_name(enum tx_ftype t)
{
    static const char *const names[] = {"a string",  "an integer", "a boolean",
                                        "an object", "an array",   "a number"};
    return names[t];
}

int tx_validate(const struct tx_def *def, json_t *data, char *err, size_t errcap)
{
    const char *key;
    json_t *v;
    json_object_foreach(data, key, v)
    {
        size_t i = 0;
        while (i < def->nfields && strcmp(def->fields[i].name, key) != 0)
            i++;
        if (i == def->nfields) {
            snprintf(err, errcap, "data.%s: unknown member", key);
            return -1;
        }
        if (!type_ok(&def->fields[i], v)) {
            const struct tx_field *f = &def->fields[i];
            if (f->max && (f->type == TXF_STRING || f->type == TXF_ARRAY))
                snprintf(err, errcap, "data.%s: must be %s of at most %zu %s", key,
                         type_name(f->type), f->max, f->type == TXF_STRING ? "bytes" : "items");
            else
                snprintf(err, errcap, "data.%s: must be %s", key, type_name(f->type));
            return -1;
        }
    }
    for (size_t i = 0; i < def->nfields; i++) {
        if (def->fields[i].required && !json_object_get(data, def->fields[i].name)) {
            snprintf(err, errcap, "data.%s: required", def->fields[i].name);
            return -1;
        }
    }
    return 0;
}

void tx_fail(struct tx_ctx *c, enum ze e)
{
    c->code = ze_code(e);
    snprintf(c->message, sizeof c->message, "%s", ze_message(e, NULL));
}

void tx_failf(struct tx_ctx *c, enum ze e, const char *fmt, ...)
{
    va_list ap;
    c->code = ze_code(e);
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    if (!c->message[0]) /* an empty override: the table's message */
        snprintf(c->message, sizeof c->message, "%s", ze_message(e, NULL));
}
