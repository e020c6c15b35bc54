/* Moving a bank to another shard: copy, verify, switch (data/shard_move.h). */
#include "data/shard_move.h"

#include "data/store_backend.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>

#define MAX_COLS 128

struct move {
    struct shards *sh;
    int64_t bank_id;
    const struct shard_table *tables;
    size_t ntables;
    int64_t now_ms;
    struct store *src, *dst;
    struct shard_move_report *rep;
    /* the source's figures, per table, from the copy */
    int64_t rows[SHARD_MOVE_TABLES];
    unsigned char digest[SHARD_MOVE_TABLES][32];
};

/* A step that must not return a row: STORE_OK, or its failure. */
static int done(int rc)
{
    return rc == STORE_DONE ? STORE_OK : rc == STORE_ROW ? STORE_ERR : rc;
}

static bool valid_table(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n >= 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || t[i] == '_'))
            return false;
    return true;
}

/* A statement's text is built in a buffer of SQL_MAX bytes: the longest is
 * tx_answers' (its WHERE names every business transaction). One that would
 * not fit is an error naming the table, never a statement cut short. */
#define SQL_MAX 8192

static bool fits(int n, size_t cap, const struct shard_table *t)
{
    if (n >= 0 && (size_t)n < cap)
        return true;
    store_be_error("shard move: table %s: its statement is longer than %d bytes", t->name, SQL_MAX);
    return false;
}

/* "WHERE bank_id = ?" and the table's own condition, after "<verb> FROM name". */
static int from_where(char *out, size_t cap, const char *verb, const struct shard_table *t)
{
    return snprintf(out, cap, "%s FROM %s WHERE bank_id = ?%s%s%s", verb, t->name,
                    t->where ? " AND (" : "", t->where ? t->where : "", t->where ? ")" : "");
}

static bool select_sql(char *out, size_t cap, const struct shard_table *t, int ncols)
{
    int n = from_where(out, cap, "SELECT *", t);
    /* Every column, in order: the same rows come out in the same order on
     * both sides, so one running digest compares them. */
    for (int i = 1; i <= ncols && fits(n, cap, t); i++)
        n += snprintf(out + n, cap - (size_t)n, "%s%d", i == 1 ? " ORDER BY " : ", ", i);
    return fits(n, cap, t);
}

/* How many columns t has (a query that returns no row still says). */
static int count_cols(struct store_conn *c, const struct shard_table *t)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE 1 = 0", t->name);
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, sql, &s);
    int n = rc == STORE_OK ? store_col_count(s) : rc;
    store_finish(s);
    return n;
}

/* Feeds one value, typed and length-prefixed, to the digest. */
static void digest_value(EVP_MD_CTX *md, struct store_stmt *s, int col)
{
    enum store_type t = store_col_type(s, col);
    char head[48];
    const void *p = NULL;
    size_t len = 0;
    char num[24];
    if (t == STORE_T_INT) {
        len = (size_t)snprintf(num, sizeof num, "%lld", (long long)store_col_int64(s, col));
        p = num;
    } else if (t == STORE_T_BLOB) {
        p = store_col_blob(s, col, &len);
    } else if (t == STORE_T_TEXT) {
        p = store_col_text(s, col);
        len = p ? strlen(p) : 0;
    }
    int n = snprintf(head, sizeof head, "%d:%zu:", (int)t, len);
    EVP_DigestUpdate(md, head, (size_t)n);
    if (len)
        EVP_DigestUpdate(md, p, len);
}

static int bind_value(struct store_stmt *ins, int idx, struct store_stmt *s, int col)
{
    size_t len = 0;
    const void *p;
    switch (store_col_type(s, col)) {
    case STORE_T_INT:
        return store_bind_int64(ins, idx, store_col_int64(s, col));
    case STORE_T_BLOB:
        p = store_col_blob(s, col, &len);
        return store_bind_blob(ins, idx, len ? p : "", len);
    case STORE_T_TEXT:
        return store_bind_text(ins, idx, store_col_text(s, col));
    default:
        return store_bind_null(ins, idx);
    }
}

/* Copies the current row of s into dst with the INSERT text ins_sql
 * (prepared per row: a cache hit after the first). */
static int insert_row(struct store_conn *dst, const char *ins_sql, struct store_stmt *s, int ncols)
{
    struct store_stmt *ins = NULL;
    int rc = store_prepare(dst, ins_sql, &ins);
    for (int i = 0; rc == STORE_OK && i < ncols; i++)
        rc = bind_value(ins, i + 1, s, i);
    if (rc == STORE_OK)
        rc = done(store_step(ins));
    store_finish(ins);
    return rc;
}

/* Reads every row of the bank in t on c: its count and digest; when dst is
 * not NULL, also inserts each row there with ins_sql. */
static int scan(struct store_conn *c, const struct shard_table *t, int64_t bank_id,
                struct store_conn *dst, const char *ins_sql, int64_t *rows,
                unsigned char digest[32])
{
    int ncols = count_cols(c, t);
    if (ncols <= 0 || ncols > MAX_COLS) {
        store_be_error("shard move: table %s: %s", t->name,
                       ncols < 0 ? store_errmsg(c) : "no or too many columns");
        return ncols < 0 ? ncols : STORE_ERR;
    }
    char sql[SQL_MAX];
    if (!select_sql(sql, sizeof sql, t, ncols))
        return STORE_ERR;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct store_stmt *s = NULL;
    int rc =
        md && EVP_DigestInit_ex(md, EVP_sm3(), NULL) == 1 ? store_prepare(c, sql, &s) : STORE_NOMEM;
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    *rows = 0;
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        rc = STORE_OK;
        for (int i = 0; i < ncols; i++)
            digest_value(md, s, i);
        if (dst)
            rc = insert_row(dst, ins_sql, s, ncols);
        (*rows)++;
    }
    store_finish(s);
    if (rc == STORE_DONE)
        rc = EVP_DigestFinal_ex(md, digest, NULL) == 1 ? STORE_OK : STORE_ERR;
    EVP_MD_CTX_free(md);
    return rc;
}

static int delete_bank(struct store_conn *c, const struct shard_table *t, int64_t bank_id)
{
    char sql[SQL_MAX];
    if (!fits(from_where(sql, sizeof sql, "DELETE", t), sizeof sql, t))
        return STORE_ERR;
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, sql, &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, bank_id);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

/* ---- the steps, each a store_run callback ---------------------------------- */

static int fence_moving(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    return shard_fence_set(c, m->bank_id, "moving", m->now_ms);
}

static int fence_clear(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    return shard_fence_set(c, m->bank_id, NULL, m->now_ms);
}

static int fence_active(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    return shard_fence_set(c, m->bank_id, "active", m->now_ms);
}

static int drop_rows(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < m->ntables; i++)
        rc = delete_bank(c, &m->tables[i], m->bank_id);
    return rc;
}

/* Undoes the copy on the target: its rows and its fence. */
static int undo_target(struct store_conn *c, void *arg)
{
    int rc = drop_rows(c, arg);
    return rc == STORE_OK ? fence_clear(c, arg) : rc;
}

static int leave_source(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    int rc = shard_fence_set(c, m->bank_id, "gone", m->now_ms);
    return rc == STORE_OK ? drop_rows(c, arg) : rc;
}

/* On the target: drops leftovers, then copies table by table from a
 * connection of the source. */
static int copy_in(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    int rc = drop_rows(c, arg);
    struct store_conn *from = NULL;
    if (rc == STORE_OK)
        rc = store_acquire(m->src, &from);
    for (size_t i = 0; rc == STORE_OK && i < m->ntables; i++) {
        const struct shard_table *t = &m->tables[i];
        int ncols = count_cols(c, t);
        if (ncols <= 0 || ncols > MAX_COLS) {
            rc = ncols < 0 ? ncols : STORE_ERR;
            break;
        }
        char sql[SQL_MAX];
        int n = snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (", t->name);
        for (int k = 0; k < ncols && fits(n, sizeof sql, t); k++)
            n += snprintf(sql + n, sizeof sql - (size_t)n, "%s?", k ? ", " : "");
        if (fits(n, sizeof sql, t))
            n += snprintf(sql + n, sizeof sql - (size_t)n, ")");
        if (!fits(n, sizeof sql, t)) {
            rc = STORE_ERR;
            break;
        }
        rc = scan(from, t, m->bank_id, c, sql, &m->rows[i], m->digest[i]);
    }
    if (from)
        store_release(from);
    return rc;
}

/* On the target, after the copy committed: the same figures read back. */
static int verify(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    for (size_t i = 0; i < m->ntables; i++) {
        int64_t rows = 0;
        unsigned char d[32];
        int rc = scan(c, &m->tables[i], m->bank_id, NULL, NULL, &rows, d);
        if (rc != STORE_OK)
            return rc;
        if (rows != m->rows[i] || memcmp(d, m->digest[i], sizeof d) != 0) {
            store_be_error("shard move: table %s differs after the copy (%lld rows there, %lld "
                           "here, or their contents)",
                           m->tables[i].name, (long long)m->rows[i], (long long)rows);
            return STORE_ERR;
        }
    }
    return STORE_OK;
}

static int set_directory(struct store_conn *c, void *arg)
{
    struct move *m = arg;
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "DELETE FROM bank_shards WHERE bank_id = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, m->bank_id);
    if (rc == STORE_OK)
        rc = done(store_step(s));
    store_finish(s);
    if (rc == STORE_OK)
        rc = store_prepare(c, "INSERT INTO bank_shards (bank_id, shard, moved_at) VALUES (?, ?, ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, m->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, m->rep->to);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, m->now_ms);
    if (rc == STORE_OK)
        rc = done(store_step(s));
    store_finish(s);
    return rc;
}

/* ---- driving ------------------------------------------------------------- */

static int run_on(struct store *st, const char *name, store_txn_fn fn, struct move *m)
{
    struct store_conn *c = NULL;
    store_be_error("%s", "");
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK) {
        rc = store_run(c, name, fn, m);
        if (rc != STORE_OK && !*store_errmsg(NULL))
            store_be_error("%s: %s", name, store_errmsg(c));
        store_release(c);
    } else if (!*store_errmsg(NULL)) {
        store_be_error("%s: no connection (%s)", name, store_rc_name(rc));
    }
    return rc;
}

/* After the directory switched: finishes every other shard still 'moving'. */
static int finish_source(const char *name, struct store *st, void *arg)
{
    struct move *m = arg;
    if (st == m->dst)
        return 0;
    struct store_conn *c = NULL;
    int rc = store_acquire(st, &c);
    if (rc != STORE_OK)
        return rc;
    rc = shard_fence(c, m->bank_id);
    store_release(c);
    if (rc == SHARD_MOVING) {
        snprintf(m->rep->from, sizeof m->rep->from, "%s", name);
        m->rep->resumed = true;
        rc = run_on(st, "shard.leave", leave_source, m);
    } else if (rc == SHARD_HERE || rc == SHARD_GONE) {
        rc = STORE_OK;
    }
    return rc;
}

static void report(struct move *m)
{
    struct shard_move_report *r = m->rep;
    r->ntables = m->ntables;
    r->rows = 0;
    for (size_t i = 0; i < m->ntables; i++) {
        snprintf(r->table[i].name, sizeof r->table[i].name, "%s", m->tables[i].name);
        r->table[i].rows = m->rows[i];
        for (int k = 0; k < 32; k++)
            snprintf(r->table[i].digest + 2 * k, 3, "%02x", m->digest[i][k]);
        r->rows += m->rows[i];
    }
}

int shard_move(struct shards *sh, int64_t bank_id, const char *to, const struct shard_table *tables,
               size_t ntables, int64_t now_ms, struct shard_move_report *rep)
{
    memset(rep, 0, sizeof *rep);
    struct move m = {.sh = sh,
                     .bank_id = bank_id,
                     .tables = tables,
                     .ntables = ntables,
                     .now_ms = now_ms,
                     .rep = rep};
    if (bank_id <= 0 || ntables > SHARD_MOVE_TABLES) {
        store_be_error("shard move: bad bank id or too many tables");
        return STORE_ERR;
    }
    for (size_t i = 0; i < ntables; i++)
        if (!valid_table(tables[i].name)) {
            store_be_error("shard move: bad table name");
            return STORE_ERR;
        }
    m.dst = shards_store(sh, to);
    if (!m.dst) {
        store_be_error("shard move: no shard called \"%s\"", to ? to : "");
        return STORE_ERR;
    }
    snprintf(rep->to, sizeof rep->to, "%s", to);
    int rc = shards_reload(sh);
    if (rc != STORE_OK)
        return rc;
    m.src = shards_route(sh, bank_id, rep->from);
    if (m.src == m.dst) { /* already switched: finish a source left half-way, if any */
        rc = shards_each(sh, finish_source, &m);
        if (rc == STORE_OK && !rep->resumed) {
            store_be_error("shard move: bank %lld is in shard %s already", (long long)bank_id, to);
            rc = STORE_ERR;
        }
        return rc;
    }
    rc = run_on(m.src, "shard.fence_moving", fence_moving, &m);
    if (rc == STORE_OK)
        rc = run_on(m.dst, "shard.copy", copy_in, &m);
    if (rc == STORE_OK)
        rc = run_on(m.dst, "shard.verify", verify, &m);
    if (rc == STORE_OK)
        rc = run_on(m.dst, "shard.fence_active", fence_active, &m);
    if (rc == STORE_OK)
        rc = run_on(shards_store(sh, SHARD_MAIN), "shard.switch", set_directory, &m);
    if (rc != STORE_OK) { /* not switched: undo; the source takes writes again */
        char why[512];
        snprintf(why, sizeof why, "%s", store_errmsg(NULL));
        run_on(m.dst, "shard.undo_copy", undo_target, &m);
        run_on(m.src, "shard.fence_clear", fence_clear, &m);
        store_be_error("%s", why);
        return rc;
    }
    report(&m);
    rc = run_on(m.src, "shard.leave", leave_source, &m);
    if (rc == STORE_OK)
        rc = shards_reload(sh);
    return rc;
}
