/* mapping_load.c — reading and validating conf/mappings/NAME.json into
 * struct mapping (see mapping.h); the conversion itself is mapping.c's. */
#include "egress/mapping.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

struct loader {
    const char *file;
    char *err;
    size_t cap;
};

static int lerr(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "FILE: <what>"; returns -1. */
static int lerr(struct loader *ld, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(ld->err, ld->cap, "%s: %s", ld->file, what);
    return -1;
}

/* Every key of obj must be in allowed (NULL-terminated). */
static int only_keys(struct loader *ld, json_t *obj, const char *where, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (!ok)
            return lerr(ld, "%s: unknown key '%s'", where, k);
    }
    return 0;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n >= MAPPING_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

/* Optional string member into dst; -1 if present but not a fitting string. */
static int get_str(struct loader *ld, json_t *obj, const char *key, const char *where, char *dst,
                   size_t cap)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return lerr(ld, "%s: '%s' must be a string of at most %zu bytes", where, key, cap - 1);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* Optional integer member within [min, max]. */
static int get_int(struct loader *ld, json_t *obj, const char *key, const char *where,
                   long long min, long long max, long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return lerr(ld, "%s: '%s' must be an integer in %lld..%lld", where, key, min, max);
    *out = json_integer_value(v);
    return 0;
}

static int get_bool(struct loader *ld, json_t *obj, const char *key, const char *where, bool *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return lerr(ld, "%s: '%s' must be true or false", where, key);
    *out = json_is_true(v);
    return 0;
}

/* Picks one of names[] for a string member; *out keeps its value when absent. */
static int get_enum(struct loader *ld, json_t *obj, const char *key, const char *where,
                    const char *const *names, int *out)
{
    char s[16] = "";
    if (get_str(ld, obj, key, where, s, sizeof s))
        return -1;
    if (!s[0] && !json_object_get(obj, key))
        return 0;
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return lerr(ld, "%s: '%s' has an unknown value", where, key);
}

static int field_name(struct loader *ld, json_t *j, const char *part, size_t idx, char *name,
                      char *where, size_t wcap)
{
    const char *n = json_string_value(json_object_get(j, "name"));
    if (!json_is_object(j) || !n || !valid_name(n)) {
        snprintf(where, wcap, "%s field #%zu", part, idx + 1);
        return lerr(ld, "%s: needs a \"name\" of [A-Za-z0-9_.-]{1,47}", where);
    }
    snprintf(name, MAPPING_NAME_MAX, "%s", n);
    snprintf(where, wcap, "%s field '%s'", part, n);
    return 0;
}

/* "auto": "serial" makes the field take the call's serial number. */
static int get_auto(struct loader *ld, json_t *j, const char *where, char *key, bool *required)
{
    json_t *a = json_object_get(j, "auto");
    if (!a)
        return 0;
    if (!json_is_string(a) || strcmp(json_string_value(a), "serial") != 0)
        return lerr(ld, "%s: 'auto' must be \"serial\"", where);
    snprintf(key, MAPPING_NAME_MAX, "%s", MAPPING_SERIAL_KEY);
    *required = true;
    return 0;
}

static const char *const FIX_KEYS[] = {"name",  "json", "offset", "length",   "type",
                                       "align", "pad",  "scale",  "encoding", "required",
                                       "const", "auto", "skip",   "secret",   NULL};

/* "secret": true marks a request field whose value is a secret (a PIN
 * block): not with "const" or "auto", not in a response. */
static int get_secret(struct loader *ld, json_t *j, const char *part, const char *where,
                      bool *secret)
{
    if (get_bool(ld, j, "secret", where, secret))
        return -1;
    if (*secret && strcmp(part, "request") != 0)
        return lerr(ld, "%s: 'secret' is for request fields", where);
    if (*secret && (json_object_get(j, "const") || json_object_get(j, "auto")))
        return lerr(ld, "%s: a 'secret' field takes its value from the input", where);
    return 0;
}
static const char *const FIX_TYPES[] = {"text", "int", "amount", NULL};
static const char *const ALIGNS[] = {"left", "right", NULL};
static const char *const ENCODINGS[] = {"utf8", "gbk", NULL};

static int fix_field_basics(struct loader *ld, json_t *j, const char *where, struct fixlen_field *f)
{
    long long off = -1, len = -1, scale = -1;
    int type = FIXLEN_TEXT;
    if (only_keys(ld, j, where, FIX_KEYS) ||
        get_int(ld, j, "offset", where, 0, FIXLEN_MAX_RECORD, &off) ||
        get_int(ld, j, "length", where, 1, FIXLEN_MAX_RECORD, &len) ||
        get_enum(ld, j, "type", where, FIX_TYPES, &type) ||
        get_int(ld, j, "scale", where, 0, 9, &scale))
        return -1;
    if (off < 0 || len < 0)
        return lerr(ld, "%s: needs 'offset' and 'length'", where);
    f->offset = (size_t)off;
    f->length = (size_t)len;
    f->type = (enum fixlen_type)type;
    if (scale >= 0 && type != FIXLEN_AMOUNT)
        return lerr(ld, "%s: 'scale' is for amounts only", where);
    f->scale = scale >= 0 ? (int)scale : type == FIXLEN_AMOUNT ? 2 : 0;
    return 0;
}

static int fix_field_format(struct loader *ld, json_t *j, const char *where, struct fixlen_field *f,
                            enum fixlen_encoding defenc)
{
    int align = f->type == FIXLEN_TEXT ? FIXLEN_LEFT : FIXLEN_RIGHT;
    int enc = f->type == FIXLEN_TEXT ? (int)defenc : FIXLEN_UTF8;
    char pad[4] = "";
    if (get_enum(ld, j, "align", where, ALIGNS, &align) ||
        get_enum(ld, j, "encoding", where, ENCODINGS, &enc) ||
        get_str(ld, j, "pad", where, pad, sizeof pad))
        return -1;
    if (json_object_get(j, "pad") && strlen(pad) != 1)
        return lerr(ld, "%s: 'pad' must be one character", where);
    if (f->type != FIXLEN_TEXT && enc != FIXLEN_UTF8)
        return lerr(ld, "%s: numbers are ASCII; 'encoding' is for text", where);
    f->align = (enum fixlen_align)align;
    f->enc = (enum fixlen_encoding)enc;
    f->pad = pad[0];
    return 0;
}

static int parse_fix_field(struct loader *ld, json_t *j, const char *part, size_t idx,
                           enum fixlen_encoding defenc, struct fixlen_field *f)
{
    char where[96];
    memset(f, 0, sizeof *f);
    if (field_name(ld, j, part, idx, f->name, where, sizeof where) ||
        fix_field_basics(ld, j, where, f) || fix_field_format(ld, j, where, f, defenc) ||
        get_str(ld, j, "json", where, f->key, sizeof f->key) ||
        get_str(ld, j, "const", where, f->konst, sizeof f->konst) ||
        get_bool(ld, j, "skip", where, &f->skip) || get_secret(ld, j, part, where, &f->secret))
        return -1;
    f->has_const = json_object_get(j, "const") != NULL;
    f->required = !f->has_const && strcmp(part, "request") == 0;
    if (get_bool(ld, j, "required", where, &f->required) ||
        get_auto(ld, j, where, f->key, &f->required))
        return -1;
    return 0;
}

static const char *const JSON_KEYS[] = {"name",  "json", "type", "required", "max_length",
                                        "const", "auto", "skip", "secret",   NULL};

static int parse_json_field(struct loader *ld, json_t *j, const char *part, size_t idx,
                            struct json_field *f)
{
    char where[96];
    long long maxlen = 0;
    int type = JT_ANY;
    memset(f, 0, sizeof *f);
    f->required = true;
    if (field_name(ld, j, part, idx, f->name, where, sizeof where) ||
        only_keys(ld, j, where, JSON_KEYS) ||
        get_enum(ld, j, "type", where, MAPPING_JTYPE_NAMES, &type) ||
        get_int(ld, j, "max_length", where, 1, 1 << 20, &maxlen) ||
        get_str(ld, j, "json", where, f->key, sizeof f->key) ||
        get_bool(ld, j, "required", where, &f->required) ||
        get_bool(ld, j, "skip", where, &f->skip) || get_auto(ld, j, where, f->key, &f->required) ||
        get_secret(ld, j, part, where, &f->secret))
        return -1;
    if (!f->key[0])
        snprintf(f->key, sizeof f->key, "%s", f->name);
    f->type = (enum mapping_jtype)type;
    f->max_length = (int)maxlen;
    f->konst = json_incref(json_object_get(j, "const"));
    return 0;
}

/* The "fields" array of a request or response part. */
static json_t *fields_of(struct loader *ld, json_t *part, const char *name, size_t *n)
{
    json_t *fs = json_object_get(part, "fields");
    if (!json_is_array(fs) || json_array_size(fs) == 0 || json_array_size(fs) > 1024) {
        lerr(ld, "%s: needs a non-empty array 'fields'", name);
        return NULL;
    }
    *n = json_array_size(fs);
    return fs;
}

static int parse_fix_part(struct loader *ld, const struct mapping *m, json_t *part,
                          const char *name, enum fixlen_encoding defenc, struct fixlen_layout *l)
{
    long long len = -1;
    size_t n = 0;
    json_t *fs = fields_of(ld, part, name, &n);
    if (!fs || get_int(ld, part, "length", name, 1, FIXLEN_MAX_RECORD, &len))
        return -1;
    if (len < 0)
        return lerr(ld, "%s: needs the record 'length'", name);
    snprintf(l->name, sizeof l->name, "%s %s", m->name, name);
    l->length = (size_t)len;
    l->fields = calloc(n, sizeof *l->fields);
    if (!l->fields)
        return lerr(ld, "out of memory");
    for (size_t i = 0; i < n; i++, l->nfields++)
        if (parse_fix_field(ld, json_array_get(fs, i), name, i, defenc, &l->fields[i]))
            return -1;
    struct fixlen_error fe;
    if (fixlen_check(l, &fe))
        return lerr(ld, "%s", fe.msg);
    return 0;
}

static int parse_json_part(struct loader *ld, json_t *part, const char *name, struct json_layout *l)
{
    size_t n = 0;
    json_t *fs = fields_of(ld, part, name, &n);
    if (!fs)
        return -1;
    l->fields = calloc(n, sizeof *l->fields);
    if (!l->fields)
        return lerr(ld, "out of memory");
    for (size_t i = 0; i < n; i++, l->nfields++)
        if (parse_json_field(ld, json_array_get(fs, i), name, i, &l->fields[i]))
            return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(l->fields[i].name, l->fields[j].name) == 0)
                return lerr(ld, "%s field '%s': appears twice", name, l->fields[i].name);
    return 0;
}

/* Status codes: an array of 1..16 strings. */
static int parse_codes(struct loader *ld, json_t *st, const char *key, char codes[][32], int *n)
{
    json_t *a = json_object_get(st, key);
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > MAPPING_MAX_CODES)
        return lerr(ld, "response status: '%s' must be an array of at most %d codes", key,
                    MAPPING_MAX_CODES);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *c = json_array_get(a, i);
        if (!json_is_string(c) || json_string_length(c) < 1 || json_string_length(c) >= 32)
            return lerr(ld, "response status: '%s' codes are strings of 1..31 bytes", key);
        snprintf(codes[(*n)++], 32, "%s", json_string_value(c));
    }
    return 0;
}

static bool response_has(const struct mapping *m, const char *name)
{
    size_t n = m->format == MAPPING_FIXLEN ? m->resp_fix.nfields : m->resp_json.nfields;
    for (size_t i = 0; i < n; i++) {
        const char *fn =
            m->format == MAPPING_FIXLEN ? m->resp_fix.fields[i].name : m->resp_json.fields[i].name;
        if (strcmp(fn, name) == 0)
            return true;
    }
    return false;
}

static int parse_status(struct loader *ld, json_t *resp, struct mapping *m)
{
    static const char *const ST_KEYS[] = {"field", "ok", "fault", "message", NULL};
    json_t *st = json_object_get(resp, "status");
    struct mapping_status *s = &m->status;
    if (!st)
        return 0;
    if (!json_is_object(st) || only_keys(ld, st, "response status", ST_KEYS) ||
        get_str(ld, st, "field", "response status", s->field, sizeof s->field) ||
        get_str(ld, st, "message", "response status", s->message, sizeof s->message) ||
        parse_codes(ld, st, "ok", s->ok, &s->nok) ||
        parse_codes(ld, st, "fault", s->fault, &s->nfault))
        return -1;
    if (!s->field[0] || s->nok == 0)
        return lerr(ld, "response status: needs 'field' and a non-empty 'ok'");
    if (!response_has(m, s->field))
        return lerr(ld, "response status: field '%s' is not a response field", s->field);
    if (s->message[0] && !response_has(m, s->message))
        return lerr(ld, "response status: field '%s' is not a response field", s->message);
    s->present = true;
    return 0;
}

static int parse_http(struct loader *ld, json_t *root, struct mapping *m)
{
    if (get_str(ld, root, "method", "mapping", m->method, sizeof m->method) ||
        get_str(ld, root, "path", "mapping", m->path, sizeof m->path))
        return -1;
    if (!m->method[0])
        snprintf(m->method, sizeof m->method, "POST");
    if (strcmp(m->method, "POST") != 0 && strcmp(m->method, "PUT") != 0)
        return lerr(ld, "'method' must be POST or PUT");
    if (m->path[0] != '/' || strpbrk(m->path, " \t\r\n?#"))
        return lerr(ld, "'path' must start with / and hold no spaces, '?' or '#'");
    return 0;
}

static int parse_root(struct loader *ld, json_t *root, struct mapping *m)
{
    static const char *const ROOT_KEYS[] = {"name", "description", "format",   "encoding", "method",
                                            "path", "request",     "response", NULL};
    static const char *const FORMATS[] = {"fixlen", "json", NULL};
    static const char *const PART_KEYS[] = {"length", "fields", "status", NULL};
    int fmt = -1, enc = FIXLEN_UTF8;
    char name[MAPPING_NAME_MAX] = "";
    if (!json_is_object(root) || only_keys(ld, root, "mapping", ROOT_KEYS) ||
        get_str(ld, root, "name", "mapping", name, sizeof name) ||
        get_enum(ld, root, "format", "mapping", FORMATS, &fmt) ||
        get_enum(ld, root, "encoding", "mapping", ENCODINGS, &enc))
        return -1;
    if (name[0] && strcmp(name, m->name) != 0)
        return lerr(ld, "'name' must be the file's base name '%s'", m->name);
    if (fmt < 0)
        return lerr(ld, "needs 'format': \"fixlen\" or \"json\"");
    m->format = (enum mapping_format)fmt;
    json_t *req = json_object_get(root, "request"), *resp = json_object_get(root, "response");
    if (!json_is_object(req) || !json_is_object(resp))
        return lerr(ld, "needs objects 'request' and 'response'");
    if (only_keys(ld, req, "request", PART_KEYS) || only_keys(ld, resp, "response", PART_KEYS))
        return -1;
    int rc;
    if (m->format == MAPPING_FIXLEN)
        rc = parse_fix_part(ld, m, req, "request", (enum fixlen_encoding)enc, &m->req_fix) ||
             parse_fix_part(ld, m, resp, "response", (enum fixlen_encoding)enc, &m->resp_fix);
    else
        rc = parse_http(ld, root, m) || parse_json_part(ld, req, "request", &m->req_json) ||
             parse_json_part(ld, resp, "response", &m->resp_json);
    for (size_t i = 0; !rc && i < m->req_fix.nfields; i++)
        m->secret |= m->req_fix.fields[i].secret;
    for (size_t i = 0; !rc && i < m->req_json.nfields; i++)
        m->secret |= m->req_json.fields[i].secret;
    return rc ? -1 : parse_status(ld, resp, m);
}

int mapping_load_file(const char *path, struct mapping *m, char *err, size_t errcap)
{
    struct loader ld = {.file = path, .err = err, .cap = errcap};
    memset(m, 0, sizeof *m);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t bl = strlen(base);
    if (bl < 6 || strcmp(base + bl - 5, ".json") != 0 || bl - 5 >= MAPPING_NAME_MAX)
        return lerr(&ld, "a mapping file is NAME.json with NAME at most %d bytes",
                    MAPPING_NAME_MAX - 1);
    snprintf(m->name, sizeof m->name, "%.*s", (int)(bl - 5), base);
    if (!valid_name(m->name))
        return lerr(&ld, "mapping names are [A-Za-z0-9_.-]");
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return lerr(&ld, "line %d: %s", je.line, je.text);
    int rc = parse_root(&ld, root, m);
    json_decref(root);
    if (rc)
        mapping_free(m);
    return rc;
}

static void free_json_layout(struct json_layout *l)
{
    for (size_t i = 0; i < l->nfields; i++)
        json_decref(l->fields[i].konst);
    free(l->fields);
    l->fields = NULL;
    l->nfields = 0;
}

void mapping_free(struct mapping *m)
{
    free(m->req_fix.fields);
    free(m->resp_fix.fields);
    m->req_fix.fields = m->resp_fix.fields = NULL;
    m->req_fix.nfields = m->resp_fix.nfields = 0;
    free_json_layout(&m->req_json);
    free_json_layout(&m->resp_json);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.json names of dir (so load order and errors are reproducible). */
static int list_json(const char *dir, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0 || e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(*names, cap * sizeof *nn);
            if (!nn) {
                rc = -1;
                break;
            }
            *names = nn;
        }
        (*names)[*n] = strdup(e->d_name);
        rc = (*names)[*n] ? 0 : -1;
        *n += rc == 0;
    }
    closedir(d);
    if (*n)
        qsort(*names, *n, sizeof **names, cmp_str);
    return rc;
}

int mapping_load_dir(const char *dir, struct mapping_set *set, char *err, size_t errcap)
{
    char **names;
    size_t n;
    memset(set, 0, sizeof *set);
    if (list_json(dir, &names, &n)) {
        snprintf(err, errcap, "%s: cannot list mappings: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    set->m = n ? calloc(n, sizeof *set->m) : NULL;
    if (n && !set->m) {
        snprintf(err, errcap, "%s: out of memory", dir);
        rc = -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = mapping_load_file(path, &set->m[i], err, errcap);
        set->n += rc == 0;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc)
        mapping_set_free(set);
    return rc;
}

void mapping_set_free(struct mapping_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        mapping_free(&set->m[i]);
    free(set->m);
    set->m = NULL;
    set->n = 0;
}

const struct mapping *mapping_find(const struct mapping_set *set, const char *name)
{
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->m[i].name, name) == 0)
            return &set->m[i];
    return NULL;
}
