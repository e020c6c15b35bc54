/* How many customers each bank has (business/customer_report.h). */
#include "business/customer_report.h"

#include <string.h>

static const char *const SQL_PROVINCE =
    "SELECT bank_id, kind, COUNT(*) FROM customers GROUP BY bank_id, kind ORDER BY bank_id";
static const char *const SQL_BANK =
    "SELECT bank_id, kind, COUNT(*) FROM customers WHERE bank_id = ? GROUP BY bank_id, kind";
static const char *const SQL_BRANCH = "SELECT bank_id, kind, COUNT(*) FROM customers WHERE "
                                      "bank_id = ? AND branch_id = ? GROUP BY bank_id, kind";

int customer_report(struct tenant_conn *tc, int (*fn)(const struct customer_tally *t, void *arg),
                    void *arg)
{
    const struct scope *sc = tenant_scope(tc);
    struct tenant_stmt *s = NULL;
    int rc;
    if (sc->role == ROLE_PROVINCE_ADMIN)
        rc = tenant_prepare_province(tc, SQL_PROVINCE, &s);
    else if (sc->role == ROLE_BANK_ADMIN || (sc->role == ROLE_BRANCH_MANAGER && !sc->branch_id))
        rc = tenant_prepare(tc, SQL_BANK, &s);
    else if (sc->role == ROLE_BRANCH_MANAGER)
        rc = tenant_prepare(tc, SQL_BRANCH, &s);
    else
        return STORE_ERR;
    if (rc == STORE_OK && sc->role == ROLE_BRANCH_MANAGER && sc->branch_id)
        rc = tenant_bind_int64(s, 2, sc->branch_id);
    struct customer_tally t = {0};
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        int64_t bank = tenant_col_int64(s, 0), n = tenant_col_int64(s, 2);
        const char *kind = tenant_col_text(s, 1);
        rc = STORE_OK;
        if (t.bank_id && bank != t.bank_id) { /* rows come grouped by bank */
            rc = fn(&t, arg);
            t = (struct customer_tally){0};
        }
        t.bank_id = bank;
        if (kind && strcmp(kind, "person") == 0)
            t.persons += n;
        else
            t.businesses += n;
    }
    tenant_finish(s);
    if (rc == STORE_DONE)
        rc = t.bank_id ? fn(&t, arg) : STORE_OK;
    return rc;
}
