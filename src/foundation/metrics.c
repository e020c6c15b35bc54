#include "foundation/metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double METRICS_LATENCY_BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const size_t METRICS_LATENCY_NBUCKETS =
    sizeof METRICS_LATENCY_BUCKETS / sizeof METRICS_LATENCY_BUCKETS[0];

enum family_type { TYPE_COUNTER, TYPE_GAUGE, TYPE_HISTOGRAM };
enum series_kind { KIND_COUNTER, KIND_GAUGE, KIND_GAUGE_FN, KIND_HISTOGRAM };

static const char *const TYPE_NAMES[] = {"counter", "gauge", "histogram"};

struct family {
    char *name;
    char *help; /* NULL until metrics_describe() */
    enum family_type type;
    struct metric *series; /* sorted by labels, so rendering needs no allocation */
    struct family *next;   /* sorted by name */
};

struct metric {
    struct family *fam;
    char *labels;
    uint64_t hash;
    enum series_kind kind;
    _Atomic uint64_t counter;
    _Atomic int64_t gauge;
    int64_t (*fn)(void);
    size_t nbounds;
    double *bounds;
    _Atomic uint64_t *buckets; /* nbounds + 1 per-bucket counts; +Inf last */
    _Atomic uint64_t sum_bits; /* a double; updated with compare-and-swap */
    struct metric *next;
};

/* Everything here changes only under mu. Series values are atomics and are
 * updated without it. */
static struct {
    pthread_mutex_t mu;
    struct family *families;
    struct metric **slots; /* open addressing by (family, labels) */
    size_t nslots;
    size_t nseries;
} R = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Misuse is a programming error that would corrupt every scrape; failing
 * loudly at the first test run beats a subtly wrong /metrics. */
static _Noreturn void die(const char *what, const char *family)
{
    fprintf(stderr, "metrics: %s (family \"%s\")\n", what, family);
    abort();
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        die("out of memory", "");
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        die("out of memory", s);
    return p;
}

static bool valid_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

/* FNV-1a over "family\xff labels": 0xff never occurs in a valid name. */
static uint64_t series_hash(const char *family, const char *labels)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)family; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    h = (h ^ 0xff) * 0x100000001b3u;
    for (const unsigned char *p = (const unsigned char *)labels; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    return h;
}

static struct metric *slot_find(const char *family, const char *labels, uint64_t h)
{
    if (R.nslots == 0)
        return NULL;
    size_t mask = R.nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct metric *m = R.slots[i];
        if (!m ||
            (m->hash == h && strcmp(m->fam->name, family) == 0 && strcmp(m->labels, labels) == 0))
            return m;
    }
}

static void slot_place(struct metric **slots, size_t nslots, struct metric *m)
{
    size_t i = (size_t)m->hash & (nslots - 1);
    while (slots[i])
        i = (i + 1) & (nslots - 1);
    slots[i] = m;
}

/* Keeps the table at most half full so probes stay short. */
static void slot_insert(struct metric *m)
{
    if ((R.nseries + 1) * 2 > R.nslots) {
        size_t n = R.nslots ? R.nslots * 2 : 64;
        struct metric **slots = xcalloc(n, sizeof *slots);
        for (size_t i = 0; i < R.nslots; i++)
            if (R.slots[i])
                slot_place(slots, n, R.slots[i]);
        free(R.slots);
        R.slots = slots;
        R.nslots = n;
    }
    slot_place(R.slots, R.nslots, m);
    R.nseries++;
}

static struct family *family_get(const char *name, enum family_type type)
{
    struct family **pp = &R.families;
    while (*pp && strcmp((*pp)->name, name) < 0)
        pp = &(*pp)->next;
    if (*pp && strcmp((*pp)->name, name) == 0) {
        if ((*pp)->type != type)
            die("family registered with another type", name);
        return *pp;
    }
    struct family *f = xcalloc(1, sizeof *f);
    f->name = xstrdup(name);
    f->type = type;
    f->next = *pp;
    *pp = f;
    return f;
}

static void family_link(struct family *f, struct metric *m)
{
    struct metric **pp = &f->series;
    while (*pp && strcmp((*pp)->labels, m->labels) < 0)
        pp = &(*pp)->next;
    m->next = *pp;
    *pp = m;
}

static enum family_type type_of(enum series_kind kind)
{
    switch (kind) {
    case KIND_COUNTER:
        return TYPE_COUNTER;
    case KIND_HISTOGRAM:
        return TYPE_HISTOGRAM;
    default:
        return TYPE_GAUGE;
    }
}

static void histogram_init(struct metric *m, const double *bounds, size_t nbounds)
{
    /* +Inf is implicit; a caller that lists it anyway gets no duplicate bucket. */
    if (nbounds > 0 && isinf(bounds[nbounds - 1]) && bounds[nbounds - 1] > 0)
        nbounds--;
    for (size_t i = 0; i < nbounds; i++)
        if (isnan(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])))
            die("histogram bounds must ascend", m->fam->name);
    m->nbounds = nbounds;
    m->bounds = xcalloc(nbounds, sizeof *m->bounds);
    if (nbounds > 0)
        memcpy(m->bounds, bounds, nbounds * sizeof *bounds);
    m->buckets = xcalloc(nbounds + 1, sizeof *m->buckets);
    for (size_t i = 0; i <= nbounds; i++)
        atomic_init(&m->buckets[i], 0);
    double zero = 0;
    uint64_t bits;
    memcpy(&bits, &zero, sizeof bits);
    atomic_init(&m->sum_bits, bits);
}

/* Finds or creates a series. A fn gauge and a plain gauge are different
 * kinds of the same type, and one label set cannot be both. */
static struct metric *series_get(const char *family, const char *labels, enum series_kind kind,
                                 const double *bounds, size_t nbounds)
{
    if (!family || !valid_name(family))
        die("invalid family name", family ? family : "(null)");
    labels = labels ? labels : "";
    uint64_t h = series_hash(family, labels);

    pthread_mutex_lock(&R.mu);
    struct metric *m = slot_find(family, labels, h);
    if (m && m->kind != kind)
        die(m->fam->type != type_of(kind) ? "family registered with another type"
                                          : "series is both a plain and a callback gauge",
            family);
    if (!m) {
        m = xcalloc(1, sizeof *m);
        m->fam = family_get(family, type_of(kind));
        m->labels = xstrdup(labels);
        m->hash = h;
        m->kind = kind;
        atomic_init(&m->counter, 0);
        atomic_init(&m->gauge, 0);
        if (kind == KIND_HISTOGRAM)
            histogram_init(m, bounds, nbounds);
        family_link(m->fam, m);
        slot_insert(m);
    }
    pthread_mutex_unlock(&R.mu);
    return m;
}

void metrics_describe(const char *family, const char *type, const char *help)
{
    int t = -1;
    for (int i = 0; i < 3 && type; i++)
        if (strcmp(type, TYPE_NAMES[i]) == 0)
            t = i;
    if (!family || !valid_name(family) || t < 0)
        die("invalid family name or type", family ? family : "(null)");
    pthread_mutex_lock(&R.mu);
    struct family *f = family_get(family, (enum family_type)t);
    free(f->help);
    f->help = help ? xstrdup(help) : NULL;
    pthread_mutex_unlock(&R.mu);
}

struct metric *metrics_counter(const char *family, const char *labels)
{
    return series_get(family, labels, KIND_COUNTER, NULL, 0);
}

struct metric *metrics_gauge(const char *family, const char *labels)
{
    return series_get(family, labels, KIND_GAUGE, NULL, 0);
}

struct metric *metrics_histogram(const char *family, const char *labels, const double *bounds,
                                 size_t nbounds)
{
    if (nbounds > 0 && !bounds)
        die("histogram bounds missing", family ? family : "(null)");
    return series_get(family, labels, KIND_HISTOGRAM, bounds, nbounds);
}

struct metric *metrics_find(const char *family, const char *labels)
{
    if (!family)
        return NULL;
    if (!labels)
        labels = "";
    pthread_mutex_lock(&R.mu);
    struct metric *m = slot_find(family, labels, series_hash(family, labels));
    pthread_mutex_unlock(&R.mu);
    return m;
}

size_t metric_histogram_read(struct metric *m, uint64_t *counts, double *bounds, size_t cap)
{
    if (!m || m->kind != KIND_HISTOGRAM)
        return 0;
    size_t n = m->nbounds + 1;
    for (size_t i = 0; i < n && i < cap; i++) {
        counts[i] = atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
        if (bounds)
            bounds[i] = i < m->nbounds ? m->bounds[i] : INFINITY;
    }
    return n;
}

void metrics_gauge_fn(const char *family, const char *labels, int64_t (*fn)(void))
{
    struct metric *m = series_get(family, labels, KIND_GAUGE_FN, NULL, 0);
    pthread_mutex_lock(&R.mu);
    m->fn = fn;
    pthread_mutex_unlock(&R.mu);
}

/* --- hot path ------------------------------------------------------------ */

void metric_add(struct metric *m, uint64_t n)
{
    assert(m->kind == KIND_COUNTER);
    if (m->kind == KIND_COUNTER)
        atomic_fetch_add_explicit(&m->counter, n, memory_order_relaxed);
}

void metric_set(struct metric *m, int64_t v)
{
    assert(m->kind == KIND_GAUGE);
    if (m->kind == KIND_GAUGE)
        atomic_store_explicit(&m->gauge, v, memory_order_relaxed);
}

void metric_inc(struct metric *m)
{
    assert(m->kind == KIND_COUNTER || m->kind == KIND_GAUGE);
    if (m->kind == KIND_COUNTER)
        atomic_fetch_add_explicit(&m->counter, 1, memory_order_relaxed);
    else if (m->kind == KIND_GAUGE)
        atomic_fetch_add_explicit(&m->gauge, 1, memory_order_relaxed);
}

void metric_dec(struct metric *m)
{
    assert(m->kind == KIND_GAUGE);
    if (m->kind == KIND_GAUGE)
        atomic_fetch_sub_explicit(&m->gauge, 1, memory_order_relaxed);
}

/* First bucket whose upper bound holds v; nbounds means +Inf. */
static size_t bucket_index(const struct metric *m, double v)
{
    size_t lo = 0, hi = m->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= m->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void sum_add(_Atomic uint64_t *bits, double v)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed), next;
    do {
        double d;
        memcpy(&d, &old, sizeof d);
        d += v;
        memcpy(&next, &d, sizeof next);
    } while (!atomic_compare_exchange_weak_explicit(bits, &old, next, memory_order_relaxed,
                                                    memory_order_relaxed));
}

void metric_observe(struct metric *m, double seconds)
{
    assert(m->kind == KIND_HISTOGRAM);
    /* One NaN would turn _sum into NaN for the life of the process. */
    if (m->kind != KIND_HISTOGRAM || isnan(seconds))
        return;
    atomic_fetch_add_explicit(&m->buckets[bucket_index(m, seconds)], 1, memory_order_relaxed);
    sum_add(&m->sum_bits, seconds);
}

/* --- rendering ----------------------------------------------------------- */

struct sb {
    char *p;
    size_t len, cap;
    bool oom;
};

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *b, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !b->oom; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* Shortest text that reads back as the same double, as Prometheus clients
 * print floats: 0.005, 2.5, 10, +Inf. */
static void fmt_double(char *buf, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(buf, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, cap, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* %g would print 200000 as 2e+05; whole numbers read better in full. */
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, cap, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* HELP text may not contain raw newlines; backslash escapes them. */
static void render_help(struct sb *b, const struct family *f)
{
    sb_printf(b, "# HELP %s ", f->name);
    for (const char *s = f->help; *s; s++) {
        if (*s == '\\')
            sb_printf(b, "\\\\");
        else if (*s == '\n')
            sb_printf(b, "\\n");
        else
            sb_printf(b, "%c", *s);
    }
    sb_printf(b, "\n");
}

static void render_histogram(struct sb *b, const struct family *f, const struct metric *m)
{
    const char *sep = m->labels[0] ? "," : "";
    uint64_t cum = 0;
    char num[40];
    for (size_t i = 0; i <= m->nbounds; i++) {
        cum += atomic_load_explicit(&m->buckets[i], memory_order_relaxed);
        if (i < m->nbounds)
            fmt_double(num, sizeof num, m->bounds[i]);
        else
            snprintf(num, sizeof num, "+Inf");
        sb_printf(b, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", f->name, m->labels, sep, num, cum);
    }
    uint64_t bits = atomic_load_explicit(&m->sum_bits, memory_order_relaxed);
    double sum;
    memcpy(&sum, &bits, sizeof sum);
    fmt_double(num, sizeof num, sum);
    /* _count is the +Inf bucket as read, so the two can never disagree. */
    if (m->labels[0]) {
        sb_printf(b, "%s_sum{%s} %s\n", f->name, m->labels, num);
        sb_printf(b, "%s_count{%s} %" PRIu64 "\n", f->name, m->labels, cum);
    } else {
        sb_printf(b, "%s_sum %s\n%s_count %" PRIu64 "\n", f->name, num, f->name, cum);
    }
}

static void render_series(struct sb *b, const struct family *f, const struct metric *m)
{
    if (m->kind == KIND_HISTOGRAM) {
        render_histogram(b, f, m);
        return;
    }
    sb_printf(b, "%s", f->name);
    if (m->labels[0])
        sb_printf(b, "{%s}", m->labels);
    if (m->kind == KIND_COUNTER)
        sb_printf(b, " %" PRIu64 "\n", atomic_load_explicit(&m->counter, memory_order_relaxed));
    else if (m->kind == KIND_GAUGE)
        sb_printf(b, " %" PRId64 "\n", atomic_load_explicit(&m->gauge, memory_order_relaxed));
    else
        sb_printf(b, " %" PRId64 "\n", m->fn ? m->fn() : 0);
}

char *metrics_render(size_t *len)
{
    struct sb b = {0};
    sb_printf(&b, "%s", "");
    pthread_mutex_lock(&R.mu);
    for (const struct family *f = R.families; f && !b.oom; f = f->next) {
        if (!f->series)
            continue;
        if (f->help)
            render_help(&b, f);
        sb_printf(&b, "# TYPE %s %s\n", f->name, TYPE_NAMES[f->type]);
        for (const struct metric *m = f->series; m; m = m->next)
            render_series(&b, f, m);
    }
    pthread_mutex_unlock(&R.mu);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

void metrics_shutdown(void)
{
    pthread_mutex_lock(&R.mu);
    struct family *f = R.families;
    while (f) {
        struct family *fnext = f->next;
        struct metric *m = f->series;
        while (m) {
            struct metric *mnext = m->next;
            free(m->labels);
            free(m->bounds);
            free(m->buckets);
            free(m);
            m = mnext;
        }
        free(f->name);
        free(f->help);
        free(f);
        f = fnext;
    }
    free(R.slots);
    R.families = NULL;
    R.slots = NULL;
    R.nslots = 0;
    R.nseries = 0;
    pthread_mutex_unlock(&R.mu);
}
