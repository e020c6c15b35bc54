/* recommend_db.c — feedback rows and their stats through the tenant scope
 * (see recommend_db.h). */
#include "business/recommend_db.h"

#include <stdlib.h>
#include <string.h>

static int done(int rc)
{
    return rc == STORE_DONE ? RDB_OK : rc;
}

static int next_id(struct tenant_conn *tc, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc, "SELECT COALESCE(MAX(id), 0) + 1 FROM recommend_feedback WHERE bank_id = ?", &s);
    if (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = RDB_OK;
    }
    tenant_finish(s);
    return rc == STORE_DONE ? STORE_ERR : rc;
}

/* The column of a verdict; NULL for an unknown one. */
static const char *column_of(const char *verdict)
{
    static const char *const v[] = {"accepted", "declined", "later"};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(v[i], verdict) == 0)
            return v[i];
    return NULL;
}

static int bump(struct tenant_conn *tc, const char *product, const char *tag, const char *verdict)
{
    static const struct {
        const char *verdict, *update;
    } U[] = {
        {"accepted", "UPDATE recommend_stats SET accepted = accepted + 1 WHERE bank_id = ? AND "
                     "product = ? AND tag = ?"},
        {"declined", "UPDATE recommend_stats SET declined = declined + 1 WHERE bank_id = ? AND "
                     "product = ? AND tag = ?"},
        {"later", "UPDATE recommend_stats SET later = later + 1 WHERE bank_id = ? AND "
                  "product = ? AND tag = ?"},
    };
    size_t k = 0;
    while (k < 3 && strcmp(U[k].verdict, verdict))
        k++;
    if (k == 3)
        return STORE_ERR;
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, U[k].update, &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, product);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, tag);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    if (rc != RDB_OK || tenant_changes(tc) > 0)
        return rc;
    rc = tenant_prepare(tc,
                        "INSERT INTO recommend_stats (bank_id, product, tag, accepted, declined, "
                        "later) VALUES (?, ?, ?, ?, ?, ?)",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, product);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, tag);
    for (size_t i = 0; i < 3 && rc == STORE_OK; i++)
        rc = tenant_bind_int64(s, (int)(4 + i), i == k ? 1 : 0);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    return rc;
}

int rdb_feedback_add(struct tenant_conn *tc, struct rdb_feedback *f)
{
    if (!column_of(f->verdict) || f->ntags == 0)
        return STORE_ERR;
    size_t len = 1;
    for (size_t i = 0; i < f->ntags; i++)
        len += strlen(f->tags[i]) + 1;
    char *tags = calloc(1, len);
    if (!tags)
        return STORE_NOMEM;
    for (size_t i = 0; i < f->ntags; i++) {
        if (i)
            strcat(tags, ",");
        strcat(tags, f->tags[i]);
    }
    struct tenant_stmt *s = NULL;
    int rc = next_id(tc, &f->id);
    if (rc == RDB_OK)
        rc = tenant_prepare(tc,
                            "INSERT INTO recommend_feedback (bank_id, id, customer_id, product, "
                            "verdict, tags, teller_id, branch_id, at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, f->id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, f->customer_id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, f->product);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 5, f->verdict);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 6, tags);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, f->teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 8, f->branch_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 9, f->at);
    if (rc == STORE_OK)
        rc = done(tenant_step(s));
    tenant_finish(s);
    free(tags);
    for (size_t i = 0; rc == RDB_OK && i < f->ntags; i++)
        rc = bump(tc, f->product, f->tags[i], f->verdict);
    return rc;
}

int rdb_stats(struct tenant_conn *tc, const char *tag,
              int (*fn)(const struct rdb_stat *s, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT product, accepted, declined, later FROM recommend_stats "
                            "WHERE bank_id = ? AND tag = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, tag);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct rdb_stat st = {.product = tenant_col_text(s, 0),
                              .accepted = tenant_col_int64(s, 1),
                              .declined = tenant_col_int64(s, 2),
                              .later = tenant_col_int64(s, 3)};
        int stop = fn(&st, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return done(rc);
}
