/* tag_db.c — customer_tags through the tenant scope (see tag_db.h). */
#include "business/tag_db.h"

#include <stddef.h>

int tdb_list(struct tenant_conn *tc, int64_t customer_id, const char *source,
             int (*fn)(const struct tdb_row *r, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            source ? "SELECT code, source, teller_id, set_at FROM customer_tags "
                                     "WHERE bank_id = ? AND customer_id = ? AND source = ? "
                                     "ORDER BY code"
                                   : "SELECT code, source, teller_id, set_at FROM customer_tags "
                                     "WHERE bank_id = ? AND customer_id = ? ORDER BY code",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, customer_id);
    if (rc == STORE_OK && source)
        rc = tenant_bind_text(s, 3, source);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct tdb_row r = {.code = tenant_col_text(s, 0),
                            .source = tenant_col_text(s, 1),
                            .teller_id = tenant_col_int64(s, 2),
                            .set_at = tenant_col_int64(s, 3)};
        int stop = fn(&r, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return rc == STORE_DONE ? TDB_OK : rc;
}

int tdb_set(struct tenant_conn *tc, int64_t customer_id, const char *code, const char *source,
            int64_t teller_id, int64_t now, bool *added)
{
    struct tenant_stmt *s = NULL;
    *added = false;
    int rc = tenant_prepare(
        tc, "SELECT 1 FROM customer_tags WHERE bank_id = ? AND customer_id = ? AND code = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, customer_id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, code);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    if (rc == STORE_ROW)
        return TDB_OK;
    if (rc != STORE_DONE)
        return rc;
    rc = tenant_prepare(tc,
                        "INSERT INTO customer_tags (bank_id, customer_id, code, source, "
                        "teller_id, set_at) VALUES (?, ?, ?, ?, ?, ?)",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, customer_id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, code);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, source);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 6, now);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    if (rc != STORE_DONE)
        return rc;
    *added = true;
    return TDB_OK;
}

int tdb_clear(struct tenant_conn *tc, int64_t customer_id, const char *code, const char *source)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "DELETE FROM customer_tags WHERE bank_id = ? AND customer_id = ? AND "
                            "code = ? AND source = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, customer_id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, code);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, source);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    if (rc != STORE_DONE)
        return rc;
    return tenant_changes(tc) > 0 ? TDB_OK : TDB_NONE;
}
