/* attach_limit.c — a bank's own attachment size limit in bank_settings
 * (see attach_limit.h). */
#include "business/attach_limit.h"

#include "business/biz_db.h"

#include "identity/audit.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>

int attach_limit_get(struct tenant_conn *tc, int64_t *max_bytes)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT attach_max_bytes FROM bank_settings WHERE bank_id = ? AND "
                            "attach_max_bytes IS NOT NULL",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *max_bytes = tenant_col_int64(s, 0);
        rc = AL_OK;
    } else if (rc == STORE_DONE) {
        rc = AL_NONE;
    }
    tenant_finish(s);
    return rc;
}

/* Writes the row: updated if there, else inserted. */
static int write_row(struct tenant_conn *tc, int64_t max_bytes, const char *actor, int64_t now)
{
    int rc = BDB_EXEC(tc,
                      "UPDATE bank_settings SET attach_max_bytes = ?, actor = ?, "
                      "updated_at = ? WHERE bank_id = ?",
                      4, BDB_I_OPT(max_bytes > 0, max_bytes), BDB_S(actor), BDB_I(now));
    if (rc != 0 || tenant_changes(tc) == 1)
        return rc;
    return BDB_EXEC(tc,
                    "INSERT INTO bank_settings (bank_id, attach_max_bytes, actor, updated_at) "
                    "VALUES (?, ?, ?, ?)",
                    1, BDB_I_OPT(max_bytes > 0, max_bytes), BDB_S(actor), BDB_I(now));
}

int attach_limit_set(struct tenant_conn *tc, const char *actor, int64_t max_bytes, int64_t now)
{
    int64_t old = 0;
    char target[32];
    if (!tc || !actor || max_bytes < 0 || (max_bytes && max_bytes < ATTACH_LIMIT_MIN) ||
        max_bytes > ATTACH_LIMIT_MAX)
        return ID_BAD_INPUT;
    int rc = attach_limit_get(tc, &old);
    if (rc == AL_NONE)
        old = 0;
    else if (rc != AL_OK)
        return rc;
    rc = write_row(tc, max_bytes, actor, now);
    if (rc != AL_OK)
        return rc;
    snprintf(target, sizeof target, "bank:%" PRId64, tenant_scope(tc)->bank_id);
    rc = audit_tenantf(tc, actor, "bank.settings_changed", target, "{s:s, s:I, s:I}", "setting",
                       "attach_max_bytes", "old", (json_int_t)old, "new", (json_int_t)max_bytes);
    return rc == ID_OK ? AL_OK : rc;
}
