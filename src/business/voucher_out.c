/* voucher_out.c — the voucher delivery outbox through the tenant scope
 * (voucher_out.h). */
#include "business/voucher_out.h"
#include "business/biz_db.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define COLS                                                                                       \
    "voucher_id, status, attempts, next_try_at, last_error, receipt_no, delivered_at, "            \
    "created_at, updated_at"

static void read_row(struct tenant_stmt *s, struct vout_row *r)
{
    const char *t;
    memset(r, 0, sizeof *r);
    r->voucher_id = tenant_col_int64(s, 0);
    t = tenant_col_text(s, 1);
    snprintf(r->status, sizeof r->status, "%s", t ? t : "");
    r->attempts = (int)tenant_col_int64(s, 2);
    r->next_try_at = tenant_col_int64(s, 3);
    t = tenant_col_text(s, 4);
    snprintf(r->last_error, sizeof r->last_error, "%s", t ? t : "");
    t = tenant_col_text(s, 5);
    snprintf(r->receipt_no, sizeof r->receipt_no, "%s", t ? t : "");
    r->delivered_at = tenant_col_int64(s, 6);
    r->created_at = tenant_col_int64(s, 7);
    r->updated_at = tenant_col_int64(s, 8);
}

int vout_get(struct tenant_conn *tc, int64_t voucher_id, struct vout_row *r)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc, "SELECT " COLS " FROM voucher_outbox WHERE bank_id = ? AND voucher_id = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, voucher_id);
    if (rc == STORE_OK) {
        rc = tenant_step(s);
        if (rc == STORE_ROW) {
            read_row(s, r);
            rc = VOUT_OK;
        } else if (rc == STORE_DONE) {
            rc = VOUT_NONE;
        }
    }
    tenant_finish(s);
    return rc;
}

int vout_add(struct tenant_conn *tc, int64_t voucher_id, int64_t now_ms)
{
    struct vout_row old;
    int rc = vout_get(tc, voucher_id, &old);
    if (rc != VOUT_NONE)
        return rc;
    return BDB_EXEC(tc,
                    "INSERT INTO voucher_outbox (bank_id, voucher_id, status, attempts, "
                    "next_try_at, created_at, updated_at) VALUES (?, ?, 'pending', 0, ?, ?, ?)",
                    1, BDB_I(voucher_id), BDB_I(now_ms), BDB_I(now_ms), BDB_I(now_ms));
}

int vout_due(struct tenant_conn *tc, int64_t now_ms, struct vout_row *rows, int limit, int *n)
{
    struct tenant_stmt *s = NULL;
    *n = 0;
    int rc = tenant_prepare(tc,
                            "SELECT " COLS " FROM voucher_outbox WHERE bank_id = ? AND status = "
                            "'pending' AND next_try_at <= ? ORDER BY next_try_at, voucher_id",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, now_ms);
    while (rc == STORE_OK && *n < limit) {
        rc = tenant_step(s);
        if (rc == STORE_ROW) {
            read_row(s, &rows[(*n)++]);
            rc = STORE_OK;
        } else if (rc == STORE_DONE) {
            break;
        }
    }
    tenant_finish(s);
    return rc == STORE_DONE || rc == STORE_OK ? VOUT_OK : rc;
}

int vout_delivered(struct tenant_conn *tc, int64_t voucher_id, const char *receipt_no,
                   int64_t now_ms)
{
    struct vout_row r;
    int rc = vout_get(tc, voucher_id, &r);
    if (rc != VOUT_OK)
        return rc;
    if (strcmp(r.status, "pending") != 0)
        return VOUT_NONE;
    return BDB_EXEC(tc,
                    "UPDATE voucher_outbox SET status = 'delivered', receipt_no = ?, "
                    "delivered_at = ?, updated_at = ? WHERE bank_id = ? AND voucher_id = ?",
                    4, BDB_S(receipt_no), BDB_I(now_ms), BDB_I(now_ms), BDB_I(voucher_id));
}

int vout_retry(struct tenant_conn *tc, int64_t voucher_id, const char *error, bool give_up,
               int64_t next_try_at, int64_t now_ms)
{
    struct vout_row r;
    int rc = vout_get(tc, voucher_id, &r);
    if (rc != VOUT_OK)
        return rc;
    if (strcmp(r.status, "pending") != 0)
        return VOUT_NONE;
    char err[VOUT_ERROR_MAX + 1];
    snprintf(err, sizeof err, "%s", error ? error : "");
    return BDB_EXEC(tc,
                    "UPDATE voucher_outbox SET status = ?, attempts = attempts + 1, "
                    "last_error = ?, next_try_at = ?, updated_at = ? WHERE bank_id = ? AND "
                    "voucher_id = ?",
                    5, BDB_S(give_up ? "failed" : "pending"), BDB_S(err), BDB_I(next_try_at),
                    BDB_I(now_ms), BDB_I(voucher_id));
}

int vout_each(struct tenant_conn *tc, int (*fn)(const struct vout_row *r, void *arg), void *arg)
{
    struct tenant_stmt *s = NULL;
    struct vout_row r;
    int rc = tenant_prepare(
        tc, "SELECT " COLS " FROM voucher_outbox WHERE bank_id = ? ORDER BY voucher_id", &s);
    while (rc == STORE_OK) {
        rc = tenant_step(s);
        if (rc == STORE_ROW) {
            read_row(s, &r);
            rc = fn(&r, arg);
        }
    }
    tenant_finish(s);
    return rc == STORE_DONE ? VOUT_OK : rc;
}

json_t *vout_json(const struct vout_row *r)
{
    json_t *j = json_pack("{s:s,s:i,s:I}", "status", r->status, "attempts", r->attempts,
                          "next_try_at", (json_int_t)r->next_try_at);
    if (j && r->last_error[0])
        json_object_set_new(j, "last_error", json_string(r->last_error));
    if (j && r->receipt_no[0])
        json_object_set_new(j, "receipt_no", json_string(r->receipt_no));
    if (j && r->delivered_at > 0)
        json_object_set_new(j, "delivered_at", json_integer(r->delivered_at));
    return j;
}
