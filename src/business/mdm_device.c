/* mdm_device.c — the console's compliance rows; see mdm_device.h. */
#include "business/mdm_device.h"

#include "business/mdm_policy.h"

int mdm_device_facts_put(struct tenant_conn *t, const char *dev, const char *os,
                         const char *app_version)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        t, "UPDATE mdm_devices SET os = ?, app_version = ? WHERE bank_id = ? AND dev = ?", &s);
    if (rc == STORE_OK && tenant_bind_text(s, 1, os ? os : "") == STORE_OK &&
        tenant_bind_text(s, 2, app_version ? app_version : "") == STORE_OK &&
        tenant_bind_text(s, 4, dev) == STORE_OK && tenant_step(s) == STORE_DONE) {
        tenant_finish(s);
        return MDM_OK;
    }
    if (s)
        tenant_finish(s);
    return MDM_ERR;
}

int mdm_device_rows(struct tenant_conn *t, json_t **out)
{
    struct tenant_stmt *s = NULL;
    *out = json_object();
    if (!*out || tenant_prepare(t,
                                "SELECT dev, checked_at, compliant, violations, policy_version, "
                                "os, app_version FROM mdm_devices WHERE bank_id = ?",
                                &s) != STORE_OK)
        goto fail;
    int rc;
    while ((rc = tenant_step(s)) == STORE_ROW) {
        const char *v = tenant_col_text(s, 3);
        json_t *violations = json_loads(v ? v : "[]", 0, NULL);
        json_t *row =
            json_pack("{s:I, s:b, s:o, s:I, s:s, s:s}", "checked_at",
                      (json_int_t)tenant_col_int64(s, 1), "compliant", tenant_col_int64(s, 2) != 0,
                      "violations", violations ? violations : json_array(), "policy_version",
                      (json_int_t)tenant_col_int64(s, 4), "os",
                      tenant_col_text(s, 5) ? tenant_col_text(s, 5) : "", "app_version",
                      tenant_col_text(s, 6) ? tenant_col_text(s, 6) : "");
        const char *dev = tenant_col_text(s, 0);
        if (!row || !dev || json_object_set_new(*out, dev, row) != 0)
            goto fail;
    }
    if (rc != STORE_DONE)
        goto fail;
    tenant_finish(s);
    return MDM_OK;
fail:
    if (s)
        tenant_finish(s);
    json_decref(*out);
    *out = NULL;
    return MDM_ERR;
}
