#include "access/flow_rules.h"

#include "access/gcra.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const PRIORITY_TX[] = {"LOGIN", "LOGOUT"};
#define NPRIORITY (sizeof PRIORITY_TX / sizeof PRIORITY_TX[0])

/* Limited per address by default: junk sent to LOGIN from one address must
 * not use up LOGIN's rate for every teller. (ADMIN_LOGIN is not: a bank's
 * administrators often share one office address; set per_addr_rate in
 * [flow.ADMIN_LOGIN] to limit it too.) */
static const char *const PER_ADDR_TX[] = {"LOGIN"};
#define NPER_ADDR (sizeof PER_ADDR_TX / sizeof PER_ADDR_TX[0])

/* per_addr_rate set in no section: resolved per TX by resolve_per_addr(). */
#define PER_ADDR_UNSET (-1)
/* The built-in per-address share of a rule: a quarter of rate and burst. */
#define PER_ADDR_DIV 4

/* The built-in rule: config.c's declared defaults for [flow.*] keys, except
 * per_addr_rate, whose declared 0 holds for every TX but LOGIN. */
static const struct flow_spec BUILTIN = {
    .name = FLOW_DEFAULT_NAME,
    .rate = 1000,
    .burst = 100,
    .max_concurrent = 64,
    .queue = 256,
    .max_wait_ms = 200,
    .per_addr_rate = PER_ADDR_UNSET,
    .per_addr_burst = 0,
    .cluster = true,
};

/* Rules built in under a fixed name: flow keys the HTTP server gives whole
 * routes (struct http_route's flow_key), not TX codes. ADMIN_LOGIN is the
 * console's password check, Argon2id: few at once, a trickle per second, so
 * that a flood of guesses is answered 429 instead of taking every core.
 * A [flow.NAME] section for one of them changes the keys it sets; the others
 * keep these values (not default's). Not in the priority class. */
static const struct flow_spec BUILTIN_NAMED[] = {
    {
        .name = "ADMIN_LOGIN",
        .rate = 5,
        .burst = 10,
        .max_concurrent = 2,
        .queue = 16,
        .max_wait_ms = 2000,
    },
};
#define NBUILTIN_NAMED (sizeof BUILTIN_NAMED / sizeof BUILTIN_NAMED[0])

/* Connections kept back from business traffic, out of server.connection_limit:
 * max(16, limit / 8), but never more than half. */
#define RESERVE_MIN 16
#define RESERVE_DIV 8

static const char NAME_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

enum key_id {
    K_RATE,
    K_BURST,
    K_MAX_CONCURRENT,
    K_QUEUE,
    K_MAX_WAIT_MS,
    K_PER_ADDR_RATE,
    K_PER_ADDR_BURST,
    NKEYS
};

static const struct {
    const char *name;
    int64_t min, max;
} KEYS[NKEYS] = {
    [K_RATE] = {"rate", 1, (int64_t)GCRA_MAX_RATE},
    [K_BURST] = {"burst", 1, (int64_t)GCRA_MAX_BURST},
    [K_MAX_CONCURRENT] = {"max_concurrent", 1, INT32_MAX},
    [K_QUEUE] = {"queue", 0, INT32_MAX},
    [K_MAX_WAIT_MS] = {"max_wait_ms", 0, 86400000},
    [K_PER_ADDR_RATE] = {"per_addr_rate", 0, (int64_t)GCRA_MAX_RATE},
    [K_PER_ADDR_BURST] = {"per_addr_burst", 0, (int64_t)GCRA_MAX_BURST},
};

bool flow_is_priority(const char *tx)
{
    for (size_t i = 0; i < NPRIORITY; i++)
        if (strcmp(tx, PRIORITY_TX[i]) == 0)
            return true;
    return false;
}

bool flow_has_per_addr_default(const char *tx)
{
    for (size_t i = 0; i < NPER_ADDR; i++)
        if (strcmp(tx, PER_ADDR_TX[i]) == 0)
            return true;
    return false;
}

static int64_t *field(struct flow_spec *s, enum key_id k)
{
    switch (k) {
    case K_RATE:
        return &s->rate;
    case K_BURST:
        return &s->burst;
    case K_MAX_CONCURRENT:
        return &s->max_concurrent;
    case K_QUEUE:
        return &s->queue;
    case K_PER_ADDR_RATE:
        return &s->per_addr_rate;
    case K_PER_ADDR_BURST:
        return &s->per_addr_burst;
    default:
        return &s->max_wait_ms;
    }
}

static int set_key(struct flow_spec *s, const char *section, enum key_id k, const char *v,
                   char *err, size_t errcap)
{
    char *end;
    errno = 0;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || errno || end == v || *end || n < KEYS[k].min || n > KEYS[k].max) {
        snprintf(err, errcap, "[flow.%s] %s = '%s': not a whole number in [%lld, %lld]", section,
                 KEYS[k].name, v ? v : "(none)", (long long)KEYS[k].min, (long long)KEYS[k].max);
        return -1;
    }
    *field(s, k) = n;
    return 0;
}

static int key_index(const char *key)
{
    for (int k = 0; k < NKEYS; k++)
        if (strcmp(key, KEYS[k].name) == 0)
            return k;
    return -1;
}

/* The scope key's values; config.c declares the key as a string. */
#define SCOPE_KEY "scope"

static int set_scope(struct flow_spec *s, const char *section, const char *v, char *err,
                     size_t errcap)
{
    if (v && strcmp(v, "cluster") == 0)
        s->cluster = true;
    else if (v && strcmp(v, "node") == 0)
        s->cluster = false;
    else {
        snprintf(err, errcap, "[flow.%s] %s = '%s': must be cluster or node", section, SCOPE_KEY,
                 v ? v : "(none)");
        return -1;
    }
    return 0;
}

/* The keys sec sets, written over out's values. Only the keys written in
 * the file count, so they are read from the section itself
 * (config_named_get would answer config.c's default for the others). */
static int apply_written(const struct config_named *sec, struct flow_spec *out, char *err,
                         size_t errcap)
{
    for (int j = 0; j < CONFIG_NAMED_KEYS && sec->keys[j]; j++) {
        if (strcmp(sec->keys[j], SCOPE_KEY) == 0) {
            if (set_scope(out, sec->name, sec->vals[j], err, errcap))
                return -1;
            continue;
        }
        int k = key_index(sec->keys[j]);
        if (k < 0) {
            snprintf(err, errcap, "[flow.%s]: unknown key '%s'", sec->name, sec->keys[j]);
            return -1;
        }
        if (set_key(out, sec->name, (enum key_id)k, sec->vals[j], err, errcap))
            return -1;
    }
    return 0;
}

/* [flow.default] overrides the built-in values key by key. */
static int load_default(const struct config *cfg, struct flow_spec *def, char *err, size_t errcap)
{
    *def = BUILTIN;
    for (int i = 0; i < cfg->nnamed; i++)
        if (strcmp(cfg->named[i].area, "flow") == 0 &&
            strcmp(cfg->named[i].name, FLOW_DEFAULT_NAME) == 0)
            return apply_written(&cfg->named[i], def, err, errcap);
    return 0; /* no such section */
}

/* The built-in rule named name, or NULL. */
static const struct flow_spec *builtin_named(const char *name)
{
    for (size_t i = 0; i < NBUILTIN_NAMED; i++)
        if (strcmp(name, BUILTIN_NAMED[i].name) == 0)
            return &BUILTIN_NAMED[i];
    return NULL;
}

/* A [flow.TX] section: default's values (a built-in named rule's own for
 * its name), then the keys the section sets. Only the keys written in the
 * file count, so they are read from the section itself (config_named_get
 * would answer config.c's default). */
static int load_tx(const struct config_named *sec, const struct flow_spec *def,
                   struct flow_spec *out, char *err, size_t errcap)
{
    const struct flow_spec *builtin = builtin_named(sec->name);
    *out = builtin ? *builtin : *def;
    out->cluster = def->cluster; /* fixed route keys too: scope follows default */
    int w = snprintf(out->name, sizeof out->name, "%s", sec->name);
    if (w < 0 || (size_t)w >= sizeof out->name) {
        snprintf(err, errcap, "[flow.%.40s]: name too long", sec->name);
        return -1;
    }
    /* The name goes into metric labels: config.c allows [A-Za-z0-9_-] only,
     * and so does a hand-built config. */
    if (!*out->name || strspn(out->name, NAME_CHARS) != strlen(out->name)) {
        snprintf(err, errcap, "[flow.%s]: name must be [A-Za-z0-9_-]+", out->name);
        return -1;
    }
    out->priority = flow_is_priority(out->name);
    return apply_written(sec, out, err, errcap);
}

/* The per-address built-ins, once inheritance is done (see flow_rules.h). */
static void resolve_per_addr(struct flow_spec *s)
{
    if (s->per_addr_rate == PER_ADDR_UNSET) {
        s->per_addr_rate = 0;
        if (flow_has_per_addr_default(s->name))
            s->per_addr_rate = s->rate / PER_ADDR_DIV > 1 ? s->rate / PER_ADDR_DIV : 1;
    }
    if (s->per_addr_rate == 0)
        s->per_addr_burst = 0;
    else if (s->per_addr_burst == 0)
        s->per_addr_burst = s->burst / PER_ADDR_DIV > 1 ? s->burst / PER_ADDR_DIV : 1;
}

static bool has_spec(const struct flow_specs *sp, const char *name)
{
    for (int i = 0; i < sp->n; i++)
        if (strcmp(sp->tx[i].name, name) == 0)
            return true;
    return false;
}

int flow_specs_load(const struct config *cfg, struct flow_specs *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (load_default(cfg, &out->def, err, errcap))
        return -1;
    for (int i = 0; i < cfg->nnamed; i++) {
        const struct config_named *sec = &cfg->named[i];
        if (strcmp(sec->area, "flow") != 0 || strcmp(sec->name, FLOW_DEFAULT_NAME) == 0 ||
            has_spec(out, sec->name))
            continue;
        if (out->n == FLOW_MAX_SPECS) {
            snprintf(err, errcap, "too many [flow.*] sections (max %d)", FLOW_MAX_SPECS);
            return -1;
        }
        if (load_tx(sec, &out->def, &out->tx[out->n], err, errcap))
            return -1;
        out->n++;
    }
    /* The priority class always has rules of its own. */
    for (size_t i = 0; i < NPRIORITY; i++) {
        if (has_spec(out, PRIORITY_TX[i]))
            continue;
        if (out->n == FLOW_MAX_SPECS) {
            snprintf(err, errcap, "too many [flow.*] sections (max %d)", FLOW_MAX_SPECS);
            return -1;
        }
        struct flow_spec *s = &out->tx[out->n++];
        *s = out->def;
        snprintf(s->name, sizeof s->name, "%s", PRIORITY_TX[i]);
        s->priority = true;
    }
    /* So do the fixed keys of whole routes, with their built-in values. */
    for (size_t i = 0; i < NBUILTIN_NAMED; i++) {
        if (has_spec(out, BUILTIN_NAMED[i].name))
            continue;
        if (out->n == FLOW_MAX_SPECS) {
            snprintf(err, errcap, "too many [flow.*] sections (max %d)", FLOW_MAX_SPECS);
            return -1;
        }
        out->tx[out->n] = BUILTIN_NAMED[i];
        out->tx[out->n++].cluster = out->def.cluster;
    }
    resolve_per_addr(&out->def);
    for (int i = 0; i < out->n; i++)
        resolve_per_addr(&out->tx[i]);
    return 0;
}

void flow_caps_resolve(const struct config *cfg, const struct flow_caps *in, struct flow_caps *out)
{
    int64_t limit = cfg->server.connection_limit > 0 ? cfg->server.connection_limit : 1;
    int64_t reserve = limit / RESERVE_DIV > RESERVE_MIN ? limit / RESERVE_DIV : RESERVE_MIN;
    if (reserve > limit / 2)
        reserve = limit / 2;
    int64_t conns = limit - reserve > 0 ? limit - reserve : 1;
    out->max_connections = in && in->max_connections > 0 ? in->max_connections : conns;
    out->max_in_flight = in && in->max_in_flight > 0 ? in->max_in_flight : out->max_connections;
    out->max_queued = in && in->max_queued > 0 ? in->max_queued : out->max_connections;
}
