/* biz_db.c — one write statement through the tenant scope (see biz_db.h). */
#include "business/biz_db.h"

static int bind_one(struct tenant_stmt *s, int idx, const struct bdb_val *v)
{
    switch (v->type) {
    case BDB_INT:
        return tenant_bind_int64(s, idx, v->i);
    case BDB_TEXT:
        return v->s ? tenant_bind_text(s, idx, v->s) : tenant_bind_null(s, idx);
    case BDB_BLOB:
        return tenant_bind_blob(s, idx, v->b, v->n);
    case BDB_NULL:
        return tenant_bind_null(s, idx);
    }
    return STORE_ERR;
}

int bdb_exec(struct tenant_conn *tc, const char *sql, int bank_idx, const struct bdb_val *v,
             size_t n)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, sql, &s);
    int idx = 1;
    for (size_t k = 0; rc == STORE_OK && k < n; k++, idx++) {
        if (idx == bank_idx)
            idx++;
        rc = bind_one(s, idx, &v[k]);
    }
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    return rc == STORE_DONE ? 0 : rc == STORE_OK || rc == STORE_ROW ? STORE_ERR : rc;
}
