/* voucher_db.c — the vouchers table through the tenant scope (see
 * voucher_db.h). Inserts and reads only. */
#include "business/voucher_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS                                                                                       \
    "id, customer_id, branch_id, teller_id, issued_at, size, kind, serial, sm3, sig, key_id"

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void vcdb_row_free(struct vcdb_row *r)
{
    if (!r)
        return;
    free(r->pdf_sealed);
    r->pdf_sealed = NULL;
    r->sealed_len = 0;
}

void vcdb_id_format(int64_t bank_id, int64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "V%" PRId64 "-%06" PRId64, bank_id, id);
}

static int digits(const char *p, const char *end, int64_t *v)
{
    if (p >= end || end - p > 18)
        return -1;
    int64_t x = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        x = x * 10 + (*p - '0');
    }
    *v = x;
    return 0;
}

int vcdb_id_parse(const char *text, int64_t *bank_id, int64_t *id)
{
    if (!text || text[0] != 'V')
        return -1;
    const char *dash = strchr(text, '-');
    if (!dash || digits(text + 1, dash, bank_id) != 0 ||
        digits(dash + 1, dash + strlen(dash), id) != 0 || *bank_id <= 0 || *id <= 0)
        return -1;
    return 0;
}

int vcdb_next_id(struct tenant_conn *tc, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT COALESCE(MAX(id), 0) + 1 FROM vouchers WHERE bank_id = ? "
                            "AND id < 1000000000",
                            &s);
    if (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = VCDB_OK;
    }
    tenant_finish(s);
    return rc == STORE_DONE ? STORE_ERR : rc;
}

int vcdb_insert(struct tenant_conn *tc, const struct vcdb_row *r)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "INSERT INTO vouchers (bank_id, id, kind, serial, customer_id, "
                            "branch_id, teller_id, issued_at, size, sm3, sig, key_id, "
                            "pdf_sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, r->id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, r->kind);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, r->serial);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, r->customer_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 6, r->branch_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, r->teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 8, r->issued_at);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 9, r->size);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 10, r->sm3);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 11, r->sig);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 12, r->key_id);
    if (rc == STORE_OK)
        rc = tenant_bind_blob(s, 13, r->pdf_sealed, r->sealed_len);
    if (rc == STORE_OK) {
        rc = tenant_step(s);
        rc = rc == STORE_DONE ? VCDB_OK : rc;
    }
    tenant_finish(s);
    return rc;
}

static void read_row(struct tenant_stmt *s, struct vcdb_row *r)
{
    r->id = tenant_col_int64(s, 0);
    r->customer_id = tenant_col_int64(s, 1);
    r->branch_id = tenant_col_int64(s, 2);
    r->teller_id = tenant_col_int64(s, 3);
    r->issued_at = tenant_col_int64(s, 4);
    r->size = tenant_col_int64(s, 5);
    copy(r->kind, sizeof r->kind, tenant_col_text(s, 6));
    copy(r->serial, sizeof r->serial, tenant_col_text(s, 7));
    copy(r->sm3, sizeof r->sm3, tenant_col_text(s, 8));
    copy(r->sig, sizeof r->sig, tenant_col_text(s, 9));
    copy(r->key_id, sizeof r->key_id, tenant_col_text(s, 10));
}

int vcdb_get(struct tenant_conn *tc, int64_t id, bool with_pdf, struct vcdb_row *r)
{
    struct tenant_stmt *s = NULL;
    memset(r, 0, sizeof *r);
    int rc = tenant_prepare(tc,
                            with_pdf ? "SELECT " COLS ", pdf_sealed FROM vouchers WHERE bank_id = "
                                       "? AND id = ?"
                                     : "SELECT " COLS " FROM vouchers WHERE bank_id = ? AND id = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        read_row(s, r);
        rc = VCDB_OK;
        if (with_pdf) {
            size_t n = 0;
            const void *blob = tenant_col_blob(s, 11, &n);
            r->pdf_sealed = n ? malloc(n) : NULL;
            if (!r->pdf_sealed) {
                rc = STORE_NOMEM;
            } else {
                memcpy(r->pdf_sealed, blob, n);
                r->sealed_len = n;
            }
        }
    } else if (rc == STORE_DONE) {
        rc = VCDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

static int find_by(struct tenant_conn *tc, const char *sql, const char *v, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, sql, &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, v);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = VCDB_OK;
    } else if (rc == STORE_DONE) {
        rc = VCDB_NONE;
    }
    tenant_finish(s);
    return rc;
}

int vcdb_find_serial(struct tenant_conn *tc, const char *serial, int64_t *id)
{
    return find_by(tc, "SELECT id FROM vouchers WHERE bank_id = ? AND serial = ?", serial, id);
}

int vcdb_find_sm3(struct tenant_conn *tc, const char *sm3, int64_t *id)
{
    return find_by(tc, "SELECT id FROM vouchers WHERE bank_id = ? AND sm3 = ? ORDER BY id", sm3,
                   id);
}

int vcdb_list(struct tenant_conn *tc, int64_t customer_id, int limit,
              int (*fn)(const struct vcdb_row *r, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            customer_id > 0 ? "SELECT " COLS " FROM vouchers WHERE bank_id = ? "
                                              "AND customer_id = ? ORDER BY id DESC LIMIT ?"
                                            : "SELECT " COLS " FROM vouchers WHERE bank_id = ? "
                                              "AND customer_id > ? ORDER BY id DESC LIMIT ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, customer_id > 0 ? customer_id : -1);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, limit);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct vcdb_row r = {0};
        read_row(s, &r);
        int stop = fn(&r, arg);
        rc = stop ? stop : STORE_OK;
    }
    tenant_finish(s);
    return rc == STORE_DONE ? VCDB_OK : rc;
}
