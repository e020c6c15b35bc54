/* recon — the journal file's parser and the comparison (recon.h). */
#include "business/recon.h"

#include "channel/sm.h"
#include "foundation/mask.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELDS_MAX 9

/* ---- parsing ---- */

static void say(char *err, size_t cap, const char *what, size_t line)
{
    if (line)
        snprintf(err, cap, "line %zu: %s", line, what);
    else
        snprintf(err, cap, "%s", what);
}

/* Splits line (len bytes, no LF) at '|' into at most FIELDS_MAX fields,
 * copied NUL-terminated into buf; the number of fields, or -1. */
static int split(const char *line, size_t len, char *buf, size_t bufcap, const char *f[FIELDS_MAX])
{
    if (len + 1 > bufcap)
        return -1;
    memcpy(buf, line, len);
    buf[len] = '\0';
    int nf = 0;
    char *p = buf;
    for (;;) {
        if (nf == FIELDS_MAX)
            return -1;
        f[nf++] = p;
        char *bar = strchr(p, '|');
        if (!bar)
            break;
        *bar = '\0';
        p = bar + 1;
    }
    return nf;
}

static bool charset_ok(const char *s, size_t min, size_t max, const char *set)
{
    size_t n = strlen(s);
    return n >= min && n <= max && strspn(s, set) == n;
}

#define ALNUM "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define DIGITS "0123456789"

static bool count_of(const char *s, size_t *out)
{
    if (!charset_ok(s, 1, 7, DIGITS))
        return false;
    *out = (size_t)strtoul(s, NULL, 10);
    return *out <= RECON_LINES_MAX;
}

static bool date_ok(const char *s)
{
    if (!charset_ok(s, 8, 8, DIGITS))
        return false;
    int m = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static bool data_line(const char *const f[FIELDS_MAX], int nf, struct recon_line *l)
{
    if (nf != 8 || strcmp(f[0], "D") != 0 || !charset_ok(f[1], 1, RECON_SERIAL_MAX, ALNUM "-") ||
        !charset_ok(f[2], 6, 6, ALNUM) || !charset_ok(f[3], 6, 6, DIGITS) ||
        !charset_ok(f[4], 0, RECON_KEY_MAX, ALNUM "-") ||
        !charset_ok(f[5], 0, RECON_KEY_MAX, ALNUM "-") || !charset_ok(f[6], 4, 4, ALNUM "-") ||
        (strcmp(f[7], "normal") != 0 && strcmp(f[7], "reversed") != 0))
        return false;
    snprintf(l->serial, sizeof l->serial, "%s", f[1]);
    snprintf(l->tx_code, sizeof l->tx_code, "%s", f[2]);
    snprintf(l->time, sizeof l->time, "%s", f[3]);
    snprintf(l->key1, sizeof l->key1, "%s", f[4]);
    snprintf(l->key2, sizeof l->key2, "%s", f[5]);
    snprintf(l->rc, sizeof l->rc, "%s", f[6]);
    snprintf(l->status, sizeof l->status, "%s", f[7]);
    return true;
}

static int by_serial(const void *a, const void *b)
{
    return strcmp(((const struct recon_line *)a)->serial, ((const struct recon_line *)b)->serial);
}

/* The next line of [*pos, n): its start and length (without LF); false at
 * the end or when the last line has no LF (*nolf set). */
static bool next_line(const uint8_t *p, size_t n, size_t *pos, const char **s, size_t *len,
                      bool *nolf)
{
    if (*pos >= n)
        return false;
    const uint8_t *lf = memchr(p + *pos, '\n', n - *pos);
    if (!lf) {
        *nolf = true;
        return false;
    }
    *s = (const char *)p + *pos;
    *len = (size_t)(lf - (p + *pos));
    *pos = (size_t)(lf - p) + 1;
    return true;
}

static int parse(const uint8_t *p, size_t n, struct recon_journal *j, char *err, size_t cap)
{
    char buf[512];
    const char *f[FIELDS_MAX], *s = NULL;
    size_t pos = 0, len = 0, count = 0, lineno = 1;
    bool nolf = false;
    int nf;
    if (!next_line(p, n, &pos, &s, &len, &nolf) || (nf = split(s, len, buf, sizeof buf, f)) != 3 ||
        strcmp(f[0], "H") != 0 || !date_ok(f[1]) || !count_of(f[2], &count)) {
        say(err, cap, "bad header", lineno);
        return RECON_BAD;
    }
    snprintf(j->date, sizeof j->date, "%s", f[1]);
    if (count > 0 && !(j->lines = calloc(count, sizeof *j->lines)))
        return RECON_ERR;
    size_t body = pos;
    for (size_t i = 0; i < count; i++) {
        lineno++;
        if (!next_line(p, n, &pos, &s, &len, &nolf)) {
            say(err, cap, "fewer lines than the header's count", lineno);
            return RECON_BAD;
        }
        nf = split(s, len, buf, sizeof buf, f);
        if (nf < 1 || !data_line(f, nf, &j->lines[i])) {
            say(err, cap,
                nf >= 1 && strcmp(f[0], "T") == 0 ? "fewer lines than the header's count"
                                                  : "malformed line",
                lineno);
            return RECON_BAD;
        }
        j->n = i + 1;
    }
    size_t body_end = pos;
    lineno++;
    size_t tcount = 0;
    nf = 0;
    if (!next_line(p, n, &pos, &s, &len, &nolf) || (nf = split(s, len, buf, sizeof buf, f)) < 1 ||
        strcmp(f[0], "T") != 0) {
        say(err, cap,
            nf >= 1 && strcmp(f[0], "D") == 0 ? "more lines than the header's count"
                                              : "missing or malformed trailer",
            lineno);
        return RECON_BAD;
    }
    if (nf != 3 || !count_of(f[1], &tcount) || !charset_ok(f[2], 64, 64, "0123456789abcdef")) {
        say(err, cap, "malformed trailer", lineno);
        return RECON_BAD;
    }
    if (tcount != count) {
        say(err, cap, "the trailer's count differs from the header's", lineno);
        return RECON_BAD;
    }
    if (pos != n) {
        say(err, cap, "data after the trailer", lineno + 1);
        return RECON_BAD;
    }
    uint8_t md[SM3_LEN];
    char hex[2 * SM3_LEN + 1];
    sm_part part = {p + body, body_end - body};
    if (sm3_digest(&part, 1, md) != SM_OK)
        return RECON_ERR;
    for (size_t i = 0; i < SM3_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (strcmp(hex, f[2]) != 0) {
        say(err, cap, "the trailer's SM3 does not match the lines", lineno);
        return RECON_BAD;
    }
    if (j->n > 1) {
        qsort(j->lines, j->n, sizeof *j->lines, by_serial);
        for (size_t i = 1; i < j->n; i++)
            if (strcmp(j->lines[i - 1].serial, j->lines[i].serial) == 0) {
                say(err, cap, "a serial appears twice", 0);
                return RECON_BAD;
            }
    }
    return RECON_OK;
}

int recon_parse(const uint8_t *p, size_t n, struct recon_journal *j, char *err, size_t errcap)
{
    memset(j, 0, sizeof *j);
    if (errcap)
        err[0] = '\0';
    int rc = parse(p, n, j, err, errcap);
    if (rc != RECON_OK)
        recon_journal_free(j);
    return rc;
}

void recon_journal_free(struct recon_journal *j)
{
    free(j->lines);
    memset(j, 0, sizeof *j);
}

/* ---- expectations ---- */

int recon_locals_add(struct recon_locals *l, const char *serial, enum recon_expect e,
                     const char *what)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct recon_local *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return RECON_ERR;
        l->v = v;
        l->cap = cap;
    }
    struct recon_local *x = &l->v[l->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->serial, sizeof x->serial, "%s", serial);
    snprintf(x->what, sizeof x->what, "%s", what);
    x->expect = e;
    return RECON_OK;
}

void recon_locals_free(struct recon_locals *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

int recon_business(const struct wf_kind *k, const struct wdb_biz *b,
                   const struct wdb_step steps[WF_MAX_STEPS],
                   bool (*is_core)(const char *egress_step, void *arg), void *arg,
                   struct recon_locals *out)
{
    for (size_t i = 0; i < k->nsteps && i < WF_MAX_STEPS; i++) {
        const struct wf_step *st = &k->steps[i];
        const struct wdb_step *r = &steps[i];
        if (!st->egress || !st->serial || !r->ran || !is_core(st->egress, arg))
            continue;
        char what[RECON_WHAT_MAX + 1], serial[WF_SERIAL_LEN + 1];
        snprintf(what, sizeof what, "%s/%s", k->name, st->name);
        for (int a = 0; a < r->attempt; a++) {
            wf_serial(b->biz_no, (int)i, 'F', a, serial);
            if (recon_locals_add(out, serial, RECON_REFUSED, what) != RECON_OK)
                return RECON_ERR;
        }
        wf_serial(b->biz_no, (int)i, 'F', r->attempt, serial);
        int rc = RECON_OK;
        if (strcmp(r->state, "done") == 0) {
            const json_t *cc = r->out ? json_object_get(r->out, "core_created") : NULL;
            if (!json_is_false(cc))
                rc = recon_locals_add(out, serial, RECON_DONE, what);
        } else if (strcmp(r->state, "compensated") == 0) {
            rc = recon_locals_add(out, serial, RECON_COMPENSATED, what);
            if (rc == RECON_OK && st->undo && is_core(st->undo, arg)) {
                wf_serial(b->biz_no, (int)i, 'C', r->attempt, serial);
                rc = recon_locals_add(out, serial, RECON_UNDO, what);
            }
        }
        if (rc != RECON_OK)
            return rc;
    }
    return RECON_OK;
}

bool recon_serial_parse(const char *serial, int64_t *bank_id, int64_t *biz_id)
{
    if (strlen(serial) != WF_SERIAL_LEN || strspn(serial, DIGITS) != WF_BIZ_NO_LEN + 2 ||
        (serial[16] != 'F' && serial[16] != 'C') || strspn(serial + 17, DIGITS) != 3)
        return false;
    char bank[6], id[10];
    memcpy(bank, serial, 5);
    bank[5] = '\0';
    memcpy(id, serial + 5, 9);
    id[9] = '\0';
    *bank_id = strtoll(bank, NULL, 10);
    *biz_id = strtoll(id, NULL, 10);
    return true;
}

/* ---- comparison ---- */

static int local_by_serial(const void *a, const void *b)
{
    return strcmp(((const struct recon_local *)a)->serial, ((const struct recon_local *)b)->serial);
}

static const char *const EXPECT_NAME[] = {
    [RECON_DONE] = "done",
    [RECON_COMPENSATED] = "compensated",
    [RECON_UNDO] = "undo",
    [RECON_REFUSED] = "failed",
};

struct sink {
    void (*emit)(const char *line, void *arg);
    void *arg;
    struct recon_counts *c;
};

static void differ(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void differ(struct sink *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->c->differences++;
    s->emit(line, s->arg);
}

static void core_only(struct sink *s, const struct recon_line *l)
{
    char k1[RECON_KEY_MAX + 1], k2[RECON_KEY_MAX + 1];
    if (mask_text(l->key1, k1, sizeof k1) < 0)
        snprintf(k1, sizeof k1, "***");
    if (mask_text(l->key2, k2, sizeof k2) < 0)
        snprintf(k2, sizeof k2, "***");
    differ(s, "core_only %s %s rc=%s status=%s key1=%s key2=%s", l->serial, l->tx_code, l->rc,
           l->status, k1[0] ? k1 : "-", k2[0] ? k2 : "-");
}

/* One serial on both sides. */
static void both(struct sink *s, const struct recon_local *x, const struct recon_line *l)
{
    bool ok = strcmp(l->rc, "0000") == 0, normal = strcmp(l->status, "normal") == 0;
    const char *want = EXPECT_NAME[x->expect];
    switch (x->expect) {
    case RECON_DONE:
        if (!ok)
            differ(s, "rc %s local=%s core=%s", x->serial, want, l->rc);
        else if (!normal)
            differ(s, "status %s local=%s core=%s", x->serial, want, l->status);
        else
            s->c->matched++;
        break;
    case RECON_COMPENSATED:
        if (ok && normal)
            differ(s, "status %s local=%s core=%s", x->serial, want, l->status);
        else
            s->c->matched++;
        break;
    case RECON_UNDO:
        if (!ok)
            differ(s, "rc %s local=%s core=%s", x->serial, want, l->rc);
        else
            s->c->matched++;
        break;
    case RECON_REFUSED:
        if (ok)
            differ(s, "rc %s local=%s core=%s", x->serial, want, l->rc);
        else
            s->c->matched++;
        break;
    }
}

int recon_compare(const struct recon_line *lines, size_t n, const struct recon_local *locals,
                  size_t m, bool (*keep)(const struct recon_line *l, void *arg), void *keep_arg,
                  void (*emit)(const char *line, void *arg), void *emit_arg,
                  struct recon_counts *out)
{
    memset(out, 0, sizeof *out);
    struct recon_line *L = n ? malloc(n * sizeof *L) : NULL;
    struct recon_local *X = m ? malloc(m * sizeof *X) : NULL;
    if ((n && !L) || (m && !X)) {
        free(L);
        free(X);
        return RECON_ERR;
    }
    size_t nl = 0;
    for (size_t i = 0; i < n; i++)
        if (!keep || keep(&lines[i], keep_arg))
            L[nl++] = lines[i];
    if (m)
        memcpy(X, locals, m * sizeof *X);
    if (nl > 1)
        qsort(L, nl, sizeof *L, by_serial);
    if (m > 1)
        qsort(X, m, sizeof *X, local_by_serial);
    struct sink s = {emit, emit_arg, out};
    size_t i = 0, k = 0;
    while (i < nl || k < m) {
        if (k > 0 && k < m && strcmp(X[k].serial, X[k - 1].serial) == 0) {
            k++; /* a repeated expectation counts once */
            continue;
        }
        if (i < nl && i > 0 && strcmp(L[i].serial, L[i - 1].serial) == 0) {
            i++;
            continue;
        }
        int c = i == nl ? 1 : k == m ? -1 : strcmp(L[i].serial, X[k].serial);
        if (c < 0) {
            core_only(&s, &L[i++]);
        } else if (c > 0) {
            if (X[k].expect != RECON_REFUSED)
                differ(&s, "local_only %s %s expect=%s", X[k].serial, X[k].what,
                       EXPECT_NAME[X[k].expect]);
            k++;
        } else {
            both(&s, &X[k++], &L[i++]);
        }
    }
    free(L);
    free(X);
    return RECON_OK;
}
