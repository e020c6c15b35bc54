/* mapping.c — the conversion engine: platform JSON to a downstream
 * request and a reply back (see mapping.h). Pure: no files, no I/O; the
 * loaded struct mapping comes from mapping_load.c. */
#include "egress/mapping.h"

#include "foundation/secmem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const MAPPING_JTYPE_NAMES[] = {"any",     "string", "integer", "number",
                                           "boolean", "object", "array",   NULL};

/* ---- conversion ---- */

static int rerr(struct mapping_result *r, enum mapping_verdict v, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int rerr(struct mapping_result *r, enum mapping_verdict v, const char *field,
                const char *fmt, ...)
{
    r->verdict = v;
    snprintf(r->field, sizeof r->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* Copies a downstream message; one that does not fit is cut at a character
 * boundary and visibly marked, never silently. */
static void copy_message(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n < cap) {
        memcpy(dst, src, n + 1);
        return;
    }
    static const char MARK[] = "…";
    size_t keep = cap - sizeof MARK;
    while (keep > 0 && ((unsigned char)src[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(dst, src, keep);
    memcpy(dst + keep, MARK, sizeof MARK);
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static bool type_ok(enum mapping_jtype t, json_t *v)
{
    switch (t) {
    case JT_ANY:
        return true;
    case JT_STRING:
        return json_is_string(v);
    case JT_INTEGER:
        return json_is_integer(v);
    case JT_NUMBER:
        return json_is_number(v);
    case JT_BOOLEAN:
        return json_is_boolean(v);
    case JT_OBJECT:
        return json_is_object(v);
    case JT_ARRAY:
        return json_is_array(v);
    }
    return false;
}

/* Checks one value against its field; 0 or -1 with r filled (verdict v). */
static int check_value(const struct mapping *m, const struct json_field *f, json_t *v,
                       enum mapping_verdict v_err, struct mapping_result *r)
{
    if (f->secret &&
        (!type_ok(f->type, v) ||
         (f->max_length && json_is_string(v) &&
          utf8_chars(json_string_value(v), json_string_length(v)) > (size_t)f->max_length)))
        return rerr(r, v_err, f->name,
                    "%s: field '%s' (json '%s'): secret value refused (not shown)", m->name,
                    f->name, f->key);
    if (!type_ok(f->type, v))
        return rerr(r, v_err, f->name, "%s: field '%s' (json '%s'): must be of type %s", m->name,
                    f->name, f->key, MAPPING_JTYPE_NAMES[f->type]);
    if (f->max_length && json_is_string(v) &&
        utf8_chars(json_string_value(v), json_string_length(v)) > (size_t)f->max_length)
        return rerr(r, v_err, f->name, "%s: field '%s' (json '%s'): longer than %d characters",
                    m->name, f->name, f->key, f->max_length);
    return 0;
}

static int encode_json(const struct mapping *m, json_t *in, char **out, size_t *outlen,
                       struct mapping_result *r)
{
    json_t *o = json_object();
    int rc = o ? 0 : rerr(r, MAPPING_REPLY_MALFORMED, NULL, "out of memory");
    for (size_t i = 0; rc == 0 && i < m->req_json.nfields; i++) {
        const struct json_field *f = &m->req_json.fields[i];
        json_t *v = f->konst ? f->konst : json_object_get(in, f->key);
        if (!v && f->required)
            rc = rerr(r, MAPPING_REPLY_MALFORMED, f->name,
                      "%s: field '%s' (json '%s'): is required", m->name, f->name, f->key);
        else if (v && (rc = check_value(m, f, v, MAPPING_REPLY_MALFORMED, r)) == 0 &&
                 json_object_set(o, f->name, v))
            rc = rerr(r, MAPPING_REPLY_MALFORMED, NULL, "out of memory");
    }
    if (rc == 0) {
        *out = json_dumps(o, JSON_COMPACT);
        *outlen = *out ? strlen(*out) : 0;
        rc = *out ? 0 : rerr(r, MAPPING_REPLY_MALFORMED, NULL, "out of memory");
    }
    json_decref(o);
    return rc;
}

static int encode_fix(const struct mapping *m, json_t *work, char **out, size_t *outlen,
                      struct mapping_result *r)
{
    struct fixlen_error fe;
    char *buf = malloc(m->req_fix.length + 1);
    if (!buf)
        return rerr(r, MAPPING_REPLY_MALFORMED, NULL, "out of memory");
    if (fixlen_encode(&m->req_fix, work, (uint8_t *)buf, m->req_fix.length, &fe)) {
        secmem_wipe(buf, m->req_fix.length); /* the fields before the bad one */
        free(buf);
        return rerr(r, MAPPING_REPLY_MALFORMED, fe.field, "%s", fe.msg);
    }
    buf[m->req_fix.length] = '\0';
    *out = buf;
    *outlen = m->req_fix.length;
    return 0;
}

int mapping_encode(const struct mapping *m, json_t *in, const char *serial, char **out,
                   size_t *outlen, struct mapping_result *r)
{
    memset(r, 0, sizeof *r);
    *out = NULL;
    *outlen = 0;
    if (in && !json_is_object(in))
        return rerr(r, MAPPING_REPLY_MALFORMED, NULL, "%s: the input must be a JSON object",
                    m->name);
    /* A shallow copy carries the serial without touching the caller's object. */
    json_t *work = in ? json_copy(in) : json_object();
    int rc;
    if (!work || json_object_set_new(work, MAPPING_SERIAL_KEY, json_string(serial ? serial : "")))
        rc = rerr(r, MAPPING_REPLY_MALFORMED, NULL, "out of memory");
    else if (m->format == MAPPING_FIXLEN)
        rc = encode_fix(m, work, out, outlen, r);
    else
        rc = encode_json(m, work, out, outlen, r);
    json_decref(work);
    return rc;
}

/* Status value as text: a string, or an integer written in decimal. */
static int status_text(json_t *v, char *dst, size_t cap)
{
    if (json_is_integer(v))
        return snprintf(dst, cap, "%lld", (long long)json_integer_value(v)) < (int)cap ? 0 : -1;
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return -1;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static bool in_codes(const char codes[][32], int n, const char *code)
{
    for (int i = 0; i < n; i++)
        if (strcmp(codes[i], code) == 0)
            return true;
    return false;
}

/* Judges the status of a reply whose fields are in obj under keys skey/mkey. */
static void judge_status(const struct mapping *m, json_t *obj, const char *skey, const char *mkey,
                         struct mapping_result *r)
{
    const struct mapping_status *s = &m->status;
    r->verdict = MAPPING_REPLY_OK;
    if (!s->present)
        return;
    if (status_text(json_object_get(obj, skey), r->code, sizeof r->code)) {
        rerr(r, MAPPING_REPLY_MALFORMED, s->field, "%s: reply has no valid status field '%s'",
             m->name, s->field);
        return;
    }
    if (in_codes(s->ok, s->nok, r->code))
        return;
    r->verdict =
        in_codes(s->fault, s->nfault, r->code) ? MAPPING_REPLY_FAULT : MAPPING_REPLY_BUSINESS;
    const char *msg = mkey ? json_string_value(json_object_get(obj, mkey)) : NULL;
    copy_message(r->message, sizeof r->message, msg ? msg : "");
}

static const char *fix_key_of(const struct fixlen_layout *l, const char *name)
{
    for (size_t i = 0; i < l->nfields; i++)
        if (strcmp(l->fields[i].name, name) == 0)
            return fixlen_key(&l->fields[i]);
    return NULL;
}

static void decode_fix(const struct mapping *m, const char *buf, size_t len, json_t **out,
                       struct mapping_result *r)
{
    struct fixlen_error fe;
    const struct fixlen_layout *l = &m->resp_fix;
    if (fixlen_decode(l, (const uint8_t *)buf, len, true, out, &fe)) {
        rerr(r, MAPPING_REPLY_MALFORMED, fe.field, "%s", fe.msg);
        return;
    }
    const char *skey = m->status.present ? fix_key_of(l, m->status.field) : NULL;
    judge_status(m, *out, skey ? skey : "",
                 m->status.message[0] ? fix_key_of(l, m->status.message) : NULL, r);
    if (r->verdict == MAPPING_REPLY_OK && len != l->length)
        rerr(r, MAPPING_REPLY_MALFORMED, NULL, "%s: reply is %zu bytes, the layout has %zu",
             l->name, len, l->length);
    for (size_t i = 0; *out && i < l->nfields; i++)
        if (l->fields[i].skip)
            json_object_del(*out, fixlen_key(&l->fields[i]));
}

static void decode_json(const struct mapping *m, const char *buf, size_t len, json_t **out,
                        struct mapping_result *r)
{
    json_error_t je;
    json_t *raw = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(raw)) {
        json_decref(raw);
        rerr(r, MAPPING_REPLY_MALFORMED, NULL, "%s: reply is not a JSON object", m->name);
        return;
    }
    judge_status(m, raw, m->status.field, m->status.message[0] ? m->status.message : NULL, r);
    *out = r->verdict <= MAPPING_REPLY_BUSINESS ? json_object() : NULL;
    for (size_t i = 0; *out && i < m->resp_json.nfields; i++) {
        const struct json_field *f = &m->resp_json.fields[i];
        json_t *v = json_object_get(raw, f->name);
        if (!v && f->required && r->verdict == MAPPING_REPLY_OK)
            rerr(r, MAPPING_REPLY_MALFORMED, f->name, "%s: reply lacks field '%s'", m->name,
                 f->name);
        else if (v && check_value(m, f, v, MAPPING_REPLY_MALFORMED, r) == 0 && !f->skip)
            json_object_set(*out, f->key, v);
        if (r->verdict == MAPPING_REPLY_MALFORMED)
            break;
    }
    json_decref(raw);
}

enum mapping_verdict mapping_decode(const struct mapping *m, const char *buf, size_t len,
                                    json_t **out, struct mapping_result *r)
{
    memset(r, 0, sizeof *r);
    *out = NULL;
    if (m->format == MAPPING_FIXLEN)
        decode_fix(m, buf, len, out, r);
    else
        decode_json(m, buf, len, out, r);
    if (r->verdict != MAPPING_REPLY_OK && r->verdict != MAPPING_REPLY_BUSINESS) {
        json_decref(*out);
        *out = NULL;
    }
    return r->verdict;
}
