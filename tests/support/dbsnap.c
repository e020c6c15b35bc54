#include "dbsnap.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct snap_table {
    char *name;
    int ncols;
    char **cols;
    long nrows;
    char **cells; /* nrows * ncols */
};

struct dbsnap {
    int n;
    struct snap_table *t;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* One cell as SQL literal text. */
static char *cell_text(sqlite3_stmt *st, int col)
{
    char num[64];
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return dup_str("NULL");
    case SQLITE_INTEGER:
        snprintf(num, sizeof num, "%" PRId64, (int64_t)sqlite3_column_int64(st, col));
        return dup_str(num);
    case SQLITE_FLOAT:
        snprintf(num, sizeof num, "%.17g", sqlite3_column_double(st, col));
        return dup_str(num);
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        char *out = malloc(n + 3);
        if (out) {
            out[0] = '\'';
            memcpy(out + 1, t, n);
            out[n + 1] = '\'';
            out[n + 2] = '\0';
        }
        return out;
    }
    default: {
        const unsigned char *b = sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        char *out = malloc(2 * n + 4);
        if (out) {
            size_t k = (size_t)sprintf(out, "X'");
            for (size_t i = 0; i < n; i++)
                k += (size_t)sprintf(out + k, "%02x", b[i]);
            sprintf(out + k, "'");
        }
        return out;
    }
    }
}

static void free_table(struct snap_table *t)
{
    for (long i = 0; t->cells && i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    for (int i = 0; t->cols && i < t->ncols; i++)
        free(t->cols[i]);
    free(t->cells);
    free(t->cols);
    free(t->name);
}

void dbsnap_free(struct dbsnap *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        free_table(&s->t[i]);
    free(s->t);
    free(s);
}

/* Rows in rowid order; a table without rowid falls back to all columns. */
static sqlite3_stmt *select_rows(sqlite3 *db, const char *table)
{
    char sql[512];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY rowid", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK)
        return st;
    snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    int n = sqlite3_column_count(st);
    sqlite3_finalize(st);
    size_t k = (size_t)snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", table);
    for (int i = 2; i <= n && k < sizeof sql - 8; i++)
        k += (size_t)snprintf(sql + k, sizeof sql - k, ", %d", i);
    return sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK ? st : NULL;
}

static int read_table(sqlite3 *db, struct snap_table *t)
{
    sqlite3_stmt *st = select_rows(db, t->name);
    if (!st)
        return -1;
    t->ncols = sqlite3_column_count(st);
    t->cols = calloc((size_t)t->ncols, sizeof *t->cols);
    int rc = t->cols ? 0 : -1;
    for (int i = 0; rc == 0 && i < t->ncols; i++)
        rc = (t->cols[i] = dup_str(sqlite3_column_name(st, i))) ? 0 : -1;
    size_t cap = 0;
    int src;
    while (rc == 0 && (src = sqlite3_step(st)) == SQLITE_ROW) {
        if ((size_t)(t->nrows + 1) * (size_t)t->ncols > cap) {
            size_t ncap = cap ? 2 * cap : 16 * (size_t)(t->ncols ? t->ncols : 1);
            char **nc = realloc(t->cells, ncap * sizeof *nc);
            if (!nc) {
                rc = -1;
                break;
            }
            t->cells = nc;
            cap = ncap;
        }
        for (int i = 0; i < t->ncols; i++)
            t->cells[t->nrows * t->ncols + i] = cell_text(st, i);
        t->nrows++;
        for (int i = 0; rc == 0 && i < t->ncols; i++)
            rc = t->cells[(t->nrows - 1) * t->ncols + i] ? 0 : -1;
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize(st);
    return rc;
}

struct dbsnap *dbsnap_take(const char *db_path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct dbsnap *s = calloc(1, sizeof *s);
    int rc = s ? sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) : SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL); /* one consistent read */
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                                "LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'replay_nonces' "
                                "ORDER BY name",
                                -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        struct snap_table *nt = realloc(s->t, (size_t)(s->n + 1) * sizeof *nt);
        if (!nt) {
            rc = SQLITE_NOMEM;
            break;
        }
        s->t = nt;
        memset(&s->t[s->n], 0, sizeof s->t[0]);
        s->t[s->n].name = dup_str((const char *)sqlite3_column_text(st, 0));
        rc = s->t[s->n++].name ? SQLITE_OK : SQLITE_NOMEM;
    }
    sqlite3_finalize(st);
    for (int i = 0; rc == SQLITE_OK && i < s->n; i++)
        if (read_table(db, &s->t[i]) != 0)
            rc = SQLITE_ERROR;
    if (rc != SQLITE_OK) {
        fprintf(stderr, "dbsnap_take %s: %s\n", db_path, db ? sqlite3_errmsg(db) : "no memory");
        dbsnap_free(s);
        s = NULL;
    }
    sqlite3_close_v2(db);
    return s;
}

long dbsnap_rows(const struct dbsnap *s, const char *table)
{
    for (int i = 0; s && i < s->n; i++)
        if (strcmp(s->t[i].name, table) == 0)
            return s->t[i].nrows;
    return -1;
}

long dbsnap_count(const struct dbsnap *s, const char *table, const char *col, const char *value)
{
    for (int i = 0; s && i < s->n; i++) {
        const struct snap_table *t = &s->t[i];
        if (strcmp(t->name, table) != 0)
            continue;
        for (int c = 0; c < t->ncols; c++) {
            if (strcmp(t->cols[c], col) != 0)
                continue;
            long n = 0;
            for (long r = 0; r < t->nrows; r++)
                n += strcmp(t->cells[r * t->ncols + c], value) == 0;
            return n;
        }
    }
    return -1;
}

/* Same name, columns and row count. */
static bool same_shape(const struct snap_table *x, const struct snap_table *y, const char *what,
                       char *why, size_t cap)
{
    if (strcmp(x->name, y->name) != 0 || x->ncols != y->ncols) {
        snprintf(why, cap, "%s: table %s (%d columns) vs %s (%d columns)", what, x->name, x->ncols,
                 y->name, y->ncols);
        return false;
    }
    if (x->nrows != y->nrows) {
        snprintf(why, cap, "%s: table %s has %ld rows vs %ld", what, x->name, x->nrows, y->nrows);
        return false;
    }
    return true;
}

/* Compares every cell of x and y (same shape), skipping the cells where v1
 * and v2 (if given, same shape) differ. */
static bool same_cells(const struct snap_table *x, const struct snap_table *y,
                       const struct snap_table *v1, const struct snap_table *v2, char *why,
                       size_t cap)
{
    for (long r = 0; r < x->nrows; r++)
        for (int c = 0; c < x->ncols; c++) {
            long k = r * x->ncols + c;
            if (v1 && strcmp(v1->cells[k], v2->cells[k]) != 0)
                continue;
            if (strcmp(x->cells[k], y->cells[k]) != 0) {
                snprintf(why, cap, "table %s row %ld column %s: %.200s vs %.200s", x->name, r + 1,
                         x->cols[c], x->cells[k], y->cells[k]);
                return false;
            }
        }
    return true;
}

/* a against b, masked by v1/v2 (NULL: exact); the table named skip (may
 * be NULL) is left out. */
static bool compare(const struct dbsnap *a, const struct dbsnap *b, const struct dbsnap *v1,
                    const struct dbsnap *v2, const char *skip, char *why, size_t cap)
{
    if (a->n != b->n || (v1 && (v1->n != a->n || v2->n != a->n))) {
        snprintf(why, cap, "%d tables vs %d", a->n, b->n);
        return false;
    }
    for (int i = 0; i < a->n; i++) {
        if (skip && strcmp(a->t[i].name, skip) == 0)
            continue;
        if (v1 && !same_shape(&v1->t[i], &v2->t[i], "the two fault-free runs differ", why, cap))
            return false;
        if (!same_shape(&a->t[i], &b->t[i], "shape", why, cap) ||
            !same_cells(&a->t[i], &b->t[i], v1 ? &v1->t[i] : NULL, v2 ? &v2->t[i] : NULL, why, cap))
            return false;
    }
    return true;
}

bool dbsnap_equal(const struct dbsnap *a, const struct dbsnap *b, char *why, size_t cap)
{
    return compare(a, b, NULL, NULL, NULL, why, cap);
}

bool dbsnap_like(const struct dbsnap *run, const struct dbsnap *ref1, const struct dbsnap *ref2,
                 char *why, size_t cap)
{
    return compare(run, ref1, ref1, ref2, NULL, why, cap);
}

static const struct snap_table *find_table(const struct dbsnap *s, const char *table)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->t[i].name, table) == 0)
            return &s->t[i];
    return NULL;
}

bool dbsnap_like_but(const struct dbsnap *run, const struct dbsnap *ref1, const struct dbsnap *ref2,
                     const struct dbsnap *base, const char *table, char *why, size_t cap)
{
    if (!compare(run, ref1, ref1, ref2, table, why, cap))
        return false;
    const struct snap_table *x = find_table(run, table), *y = find_table(base, table);
    if (!x || !y) {
        snprintf(why, cap, "no table %s", table);
        return false;
    }
    return same_shape(x, y, "shape", why, cap) && same_cells(x, y, NULL, NULL, why, cap);
}

bool dbsnap_unlocked(const char *db_path)
{
    sqlite3 *db = NULL;
    bool free_lock = false;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 0) == SQLITE_OK &&
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        free_lock = true;
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_close_v2(db);
    return free_lock;
}

int dbsnap_copy_db(const char *from, const char *to)
{
    char side[4096];
    const char *const suffixes[] = {"-wal", "-shm"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(side, sizeof side, "%s%s", to, suffixes[i]);
        unlink(side);
    }
    FILE *in = fopen(from, "rb");
    FILE *out = in ? fopen(to, "wb") : NULL;
    int rc = in && out ? 0 : -1;
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in && ferror(in))
        rc = -1;
    if (out && fclose(out) != 0)
        rc = -1;
    if (in)
        fclose(in);
    return rc;
}
