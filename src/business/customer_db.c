/* customer_db.c — the customer tables through the tenant scope (see
 * customer_db.h). Placeholders: the bank's is bound by tenant_prepare; the
 * others are numbered around it as tenant.h says. */
#include "business/customer_db.h"

#include "business/biz_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_COLS                                                                                   \
    "id, version, branch_id, teller_id, created_at, updated_at, kind, name, id_index, "            \
    "id_masked, phone_index, phone_masked"

void cdb_context(int64_t bank_id, int64_t id, char out[CS_CONTEXT_MAX])
{
    snprintf(out, CS_CONTEXT_MAX, "cust|%" PRId64 "|%" PRId64, bank_id, id);
}

void cdb_history_context(int64_t bank_id, int64_t id, int64_t version, const char *field,
                         const char *which, char out[CS_CONTEXT_MAX])
{
    snprintf(out, CS_CONTEXT_MAX, "custh|%" PRId64 "|%" PRId64 "|%" PRId64 "|%.24s|%s", bank_id, id,
             version, field, which);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* STORE_DONE after the last row is success. */
static int done(int rc)
{
    return rc == STORE_DONE ? CDB_OK : rc;
}

int cdb_next_id(struct tenant_conn *tc, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc =
        tenant_prepare(tc, "SELECT COALESCE(MAX(id), 0) + 1 FROM customers WHERE bank_id = ?", &s);
    if (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = CDB_OK;
    }
    tenant_finish(s);
    return rc == STORE_DONE ? STORE_ERR : rc;
}

int cdb_find_index(struct tenant_conn *tc, const char *id_index, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, "SELECT id FROM customers WHERE bank_id = ? AND id_index = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, id_index);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = CDB_OK;
    } else if (rc == STORE_DONE) {
        rc = CDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

int cdb_insert(struct tenant_conn *tc, const struct cdb_row *r)
{
    return BDB_EXEC(tc,
                    "INSERT INTO customers (bank_id, id, version, branch_id, teller_id, "
                    "created_at, updated_at, kind, name, id_index, id_masked, "
                    "phone_index, phone_masked, sealed) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    1, BDB_I(r->id), BDB_I(r->version), BDB_I(r->branch_id), BDB_I(r->teller_id),
                    BDB_I(r->created_at), BDB_I(r->updated_at), BDB_S(r->kind), BDB_S(r->name),
                    BDB_S(r->id_index), BDB_S(r->id_masked), BDB_S_OPT(r->phone_index),
                    BDB_S_OPT(r->phone_masked), BDB_B(r->sealed, r->sealed_len));
}

/* The ROW_COLS of the current row into r (not the sealed record). */
static void read_row(struct tenant_stmt *s, struct cdb_row *r)
{
    r->id = tenant_col_int64(s, 0);
    r->version = tenant_col_int64(s, 1);
    r->branch_id = tenant_col_int64(s, 2);
    r->teller_id = tenant_col_int64(s, 3);
    r->created_at = tenant_col_int64(s, 4);
    r->updated_at = tenant_col_int64(s, 5);
    copy(r->kind, sizeof r->kind, tenant_col_text(s, 6));
    copy(r->name, sizeof r->name, tenant_col_text(s, 7));
    copy(r->id_index, sizeof r->id_index, tenant_col_text(s, 8));
    copy(r->id_masked, sizeof r->id_masked, tenant_col_text(s, 9));
    copy(r->phone_index, sizeof r->phone_index, tenant_col_text(s, 10));
    copy(r->phone_masked, sizeof r->phone_masked, tenant_col_text(s, 11));
    r->sealed = NULL;
    r->sealed_len = 0;
}

int cdb_get(struct tenant_conn *tc, int64_t id, struct cdb_row *r)
{
    struct tenant_stmt *s = NULL;
    memset(r, 0, sizeof *r);
    int rc = tenant_prepare(
        tc, "SELECT " ROW_COLS ", sealed FROM customers WHERE bank_id = ? AND id = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        read_row(s, r);
        size_t n = 0;
        const void *blob = tenant_col_blob(s, 12, &n);
        r->sealed = n ? malloc(n) : NULL;
        if (r->sealed) {
            memcpy(r->sealed, blob, n);
            r->sealed_len = n;
            rc = CDB_OK;
        } else {
            rc = n ? STORE_NOMEM : STORE_ERR;
        }
    } else if (rc == STORE_DONE) {
        rc = CDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

int cdb_update(struct tenant_conn *tc, const struct cdb_row *r)
{
    int rc =
        BDB_EXEC(tc,
                 "UPDATE customers SET version = ?, updated_at = ?, name = ?, "
                 "id_index = ?, id_masked = ?, phone_index = ?, phone_masked = ?, "
                 "sealed = ? WHERE bank_id = ? AND id = ? AND version = ?",
                 9, BDB_I(r->version), BDB_I(r->updated_at), BDB_S(r->name), BDB_S(r->id_index),
                 BDB_S(r->id_masked), BDB_S_OPT(r->phone_index), BDB_S_OPT(r->phone_masked),
                 BDB_B(r->sealed, r->sealed_len), BDB_I(r->id), BDB_I(r->version - 1));
    if (rc == CDB_OK && tenant_changes(tc) != 1)
        rc = CDB_NONE;
    return rc;
}

void cdb_row_free(struct cdb_row *r)
{
    if (!r)
        return;
    free(r->sealed);
    r->sealed = NULL;
    r->sealed_len = 0;
}

int cdb_load(struct tenant_conn *tc, const struct kek *k, int64_t id, json_t **rec)
{
    struct cdb_row r;
    char ctx[CS_CONTEXT_MAX];
    *rec = NULL;
    int rc = cdb_get(tc, id, &r);
    if (rc != CDB_OK)
        return rc;
    cdb_context(tenant_scope(tc)->bank_id, id, ctx);
    rc = cs_open_json(k, ctx, r.sealed, r.sealed_len, rec);
    cdb_row_free(&r);
    return rc == CS_OK ? CDB_OK : rc == CS_CORRUPT ? CS_CORRUPT : STORE_ERR;
}

int cdb_history_add(struct tenant_conn *tc, const struct cdb_change *ch)
{
    return BDB_EXEC(tc,
                    "INSERT INTO customer_history (bank_id, customer_id, version, field, "
                    "old_value, new_value, teller_id, branch_id, changed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    1, BDB_I(ch->customer_id), BDB_I(ch->version), BDB_S(ch->field),
                    BDB_B(ch->old_v, ch->old_len), BDB_B(ch->new_v, ch->new_len),
                    BDB_I(ch->teller_id), BDB_I(ch->branch_id), BDB_I(ch->at));
}

int cdb_history(struct tenant_conn *tc, int64_t customer_id,
                int (*fn)(const struct cdb_change *ch, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT version, field, old_value, new_value, teller_id, branch_id, "
                            "changed_at FROM customer_history WHERE bank_id = ? AND "
                            "customer_id = ? ORDER BY version, field",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, customer_id);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct cdb_change ch = {.customer_id = customer_id,
                                .version = tenant_col_int64(s, 0),
                                .field = tenant_col_text(s, 1),
                                .teller_id = tenant_col_int64(s, 4),
                                .branch_id = tenant_col_int64(s, 5),
                                .at = tenant_col_int64(s, 6)};
        ch.old_v = tenant_col_is_null(s, 2) ? NULL : tenant_col_blob(s, 2, &ch.old_len);
        ch.new_v = tenant_col_is_null(s, 3) ? NULL : tenant_col_blob(s, 3, &ch.new_len);
        int stop = fn(&ch, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return done(rc);
}

/* The smallest string above every string that starts with prefix: prefix
 * followed by U+10FFFF, the last code point (byte order is code point order
 * in UTF-8, and both backends compare names byte-wise / by code point). */
static char *prefix_end(const char *prefix)
{
    size_t n = strlen(prefix);
    char *end = malloc(n + 5);
    if (end) {
        memcpy(end, prefix, n);
        memcpy(end + n, "\xf4\x8f\xbf\xbf", 5);
    }
    return end;
}

int cdb_search(struct tenant_conn *tc, enum cdb_by by, const char *value, int limit,
               int (*fn)(const struct cdb_row *r, void *arg), void *arg)
{
    static const char *const sql[] = {
        [CDB_BY_NAME] = "SELECT " ROW_COLS " FROM customers WHERE bank_id = ? AND name >= ? "
                        "AND name < ? ORDER BY name, id LIMIT ?",
        [CDB_BY_ID] = "SELECT " ROW_COLS " FROM customers WHERE bank_id = ? AND id_index = ? "
                      "ORDER BY name, id LIMIT ?",
        [CDB_BY_PHONE] = "SELECT " ROW_COLS " FROM customers WHERE bank_id = ? AND "
                         "phone_index = ? ORDER BY name, id LIMIT ?",
    };
    struct tenant_stmt *s = NULL;
    char *end = NULL;
    int idx = 2;
    int rc = tenant_prepare(tc, sql[by], &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, idx++, value);
    if (rc == STORE_OK && by == CDB_BY_NAME) {
        end = prefix_end(value);
        rc = end ? tenant_bind_text(s, idx++, end) : STORE_NOMEM;
    }
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, idx, limit);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct cdb_row r;
        read_row(s, &r);
        int stop = fn(&r, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    free(end);
    return done(rc);
}
