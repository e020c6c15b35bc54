/* attach_limit.c — a bank's own attachment size limit in bank_settings
 * (see attach_limit.h). */
#include "business/attach_limit.h"

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

/* Binds max_bytes (0: NULL), actor and now at idx, idx + 1, idx + 2. */
static int bind_row(struct tenant_stmt *s, int idx, int64_t max_bytes, const char *actor,
                    int64_t now)
{
    int rc = max_bytes ? tenant_bind_int64(s, idx, max_bytes) : tenant_bind_null(s, idx);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, idx + 1, actor);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, idx + 2, now);
    return rc;
}

/* Writes the row: updated if there, else inserted. */
static int write_row(struct tenant_conn *tc, int64_t max_bytes, const char *actor, int64_t now)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE bank_settings SET attach_max_bytes = ?, actor = ?, "
                            "updated_at = ? WHERE bank_id = ?",
                            &s);
    if (rc == STORE_OK)
        rc = bind_row(s, 1, max_bytes, actor, now);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    if (rc != STORE_DONE)
        return rc;
    if (tenant_changes(tc) == 1)
        return AL_OK;
    s = NULL;
    rc = tenant_prepare(tc,
                        "INSERT INTO bank_settings (bank_id, attach_max_bytes, actor, updated_at) "
                        "VALUES (?, ?, ?, ?)",
                        &s);
    if (rc == STORE_OK)
        rc = bind_row(s, 2, max_bytes, actor, now);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    tenant_finish(s);
    return rc == STORE_DONE ? AL_OK : rc;
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
