#include "egress/route.h"

#include "foundation/ini_lines.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUTE_MAX 1024

struct rload {
    struct route_table *t;
    char msg[256];
    bool failed;
    unsigned seen[ROUTE_MAX]; /* bit per key, to refuse a repeated key */
    struct ini_lines *lines;  /* while parsing: the reader, which counts lines */
    int line;                 /* after parsing: the line a message is about */
    int fail_line;            /* inih reads on after an error; the message keeps this */
};

static int rfail(struct rload *rl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rfail(struct rload *rl, const char *fmt, ...)
{
    if (!rl->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rl->msg, sizeof rl->msg, fmt, ap);
        va_end(ap);
        rl->failed = true;
        rl->fail_line = rl->lines ? rl->lines->line : rl->line;
    }
    return 0; /* stops inih */
}

static bool valid_ident(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n >= max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

static struct route *route_for(struct rload *rl, const char *step)
{
    struct route_table *t = rl->t;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->r[i].step, step) == 0)
            return &t->r[i];
    if (t->n == ROUTE_MAX || !valid_ident(step, ROUTE_STEP_MAX))
        return NULL;
    struct route *nr = realloc(t->r, (t->n + 1) * sizeof *nr);
    if (!nr)
        return NULL;
    t->r = nr;
    struct route *r = &t->r[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->step, sizeof r->step, "%s", step);
    r->line = rl->lines->line;
    return r;
}

static int set_key(struct rload *rl, struct route *r, unsigned bit, const char *key, const char *v)
{
    unsigned *seen = &rl->seen[r - rl->t->r];
    if (*seen & bit)
        return rfail(rl, "key '%s' given twice for step [%s]", key, r->step);
    *seen |= bit;
    if (bit == 1 && valid_ident(v, sizeof r->system))
        snprintf(r->system, sizeof r->system, "%s", v);
    else if (bit == 2 && valid_ident(v, sizeof r->mapping_name))
        snprintf(r->mapping_name, sizeof r->mapping_name, "%s", v);
    else if (bit == 4 && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0))
        r->idempotent = strcmp(v, "true") == 0;
    else
        return rfail(rl, "bad value for '%s' in [%s]", key, r->step);
    return 1;
}

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
    struct rload *rl = user;
    static const char *const KEYS[] = {"system", "mapping", "idempotent"};
    if (rl->failed)
        return 0;
    struct route *r = route_for(rl, section);
    if (!r)
        return rfail(rl, "bad step name [%s] (or too many steps)", section);
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(key, KEYS[i]) == 0)
            return set_key(rl, r, 1u << i, key, value);
    return rfail(rl, "unknown key '%s' in [%s]", key, section);
}

static int complete(struct rload *rl, const struct mapping_set *maps)
{
    for (size_t i = 0; i < rl->t->n && !rl->failed; i++) {
        struct route *r = &rl->t->r[i];
        rl->line = r->line;
        if (!r->system[0])
            rfail(rl,
                  "step [%s] needs 'system' and 'mapping' (no 'mapping' for a file-transfer "
                  "system)",
                  r->step);
        else if (r->mapping_name[0] && !(r->mapping = mapping_find(maps, r->mapping_name)))
            rfail(rl, "step [%s]: no mapping '%s' in mappings/", r->step, r->mapping_name);
    }
    return rl->failed ? -1 : 0;
}

int route_load(const char *path, const struct mapping_set *maps, struct route_table *t, char *err,
               size_t errcap)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errcap, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    struct rload *rl = calloc(1, sizeof *rl);
    int rc = -1;
    if (rl) {
        rl->t = t;
        struct ini_lines s = {.f = f};
        rl->lines = &s;
        int line = ini_parse_stream(ini_lines_read, &s, on_entry, rl);
        rl->lines = NULL;
        if (line == 0 && s.refused[0] && !rl->failed)
            snprintf(err, errcap, "%s:%d: %s", path, s.line, s.refused);
        else if (line > 0 && !rl->failed)
            snprintf(err, errcap, "%s:%d: syntax error", path, line);
        else if (rl->failed || complete(rl, maps))
            snprintf(err, errcap, "%s:%d: %s", path, rl->fail_line, rl->msg);
        else
            rc = 0;
    } else {
        snprintf(err, errcap, "%s: out of memory", path);
    }
    free(rl);
    fclose(f);
    if (rc)
        route_free(t);
    return rc;
}

void route_free(struct route_table *t)
{
    free(t->r);
    t->r = NULL;
    t->n = 0;
}

const struct route *route_find(const struct route_table *t, const char *step)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->r[i].step, step) == 0)
            return &t->r[i];
    return NULL;
}
