/* mdm_policy.c — policies, verdicts and the gate; see mdm_policy.h. */
#include "business/mdm_policy.h"

#include "identity/audit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char DEFAULT_POLICY[] =
    "{\"min_os\":\"7.0\",\"min_app\":\"1.0.0\",\"apps_allowed\":[],"
    "\"apps_denied\":[\"com.topjohnwu.magisk\",\"eu.chainfire.supersu\"],"
    "\"usb_transfer\":false,\"bluetooth\":true,\"wifi_allowed\":[],"
    "\"screen_lock\":true,\"screen_lock_timeout_s\":300,\"encryption\":true,"
    "\"rooted_refused\":true,\"max_offline_days\":7,\"checkin_interval_s\":86400,"
    "\"require_checkin\":false}";

json_t *mdm_policy_default(void)
{
    return json_loads(DEFAULT_POLICY, 0, NULL);
}

enum kind { K_VERSION, K_LIST, K_BOOL, K_COUNT, K_AREA };

static const struct member {
    const char *name;
    enum kind kind;
} MEMBERS[] = {
    {.name = "min_os", .kind = K_VERSION},
    {.name = "min_app", .kind = K_VERSION},
    {.name = "apps_allowed", .kind = K_LIST},
    {.name = "apps_denied", .kind = K_LIST},
    {.name = "usb_transfer", .kind = K_BOOL},
    {.name = "bluetooth", .kind = K_BOOL},
    {.name = "wifi_allowed", .kind = K_LIST},
    {.name = "networks_allowed", .kind = K_LIST},
    {.name = "vpn_required", .kind = K_BOOL},
    {.name = "geofence", .kind = K_AREA},
    {.name = "screen_lock", .kind = K_BOOL},
    {.name = "screen_lock_timeout_s", .kind = K_COUNT},
    {.name = "encryption", .kind = K_BOOL},
    {.name = "rooted_refused", .kind = K_BOOL},
    {.name = "max_offline_days", .kind = K_COUNT},
    {.name = "checkin_interval_s", .kind = K_COUNT},
    {.name = "require_checkin", .kind = K_BOOL},
};

static bool member_valid(enum kind k, const json_t *v)
{
    size_t i;
    const json_t *e;
    switch (k) {
    case K_VERSION:
        return json_is_string(v) && strpbrk(json_string_value(v), "0123456789");
    case K_LIST:
        if (!json_is_array(v) || json_array_size(v) > 500)
            return false;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) || json_string_length(e) > 128)
                return false;
        }
        return true;
    case K_BOOL:
        return json_is_boolean(v);
    case K_COUNT:
        return json_is_integer(v) && json_integer_value(v) >= 0;
    case K_AREA: {
        const json_t *lat = json_object_get(v, "lat"), *lng = json_object_get(v, "lng");
        const json_t *r = json_object_get(v, "radius_m");
        return json_is_object(v) && json_object_size(v) == 3 && json_is_number(lat) &&
               json_is_number(lng) && json_is_number(r) && json_number_value(lat) >= -90 &&
               json_number_value(lat) <= 90 && json_number_value(lng) >= -180 &&
               json_number_value(lng) <= 180 && json_number_value(r) > 0;
    }
    }
    return false;
}

const char *mdm_policy_bad_member(const json_t *p, const char **why)
{
    static const char *const WHY[] = {
        [K_VERSION] = "须为含数字的版本号，如 \"7.0\"",
        [K_LIST] = "须为字符串列表（至多500项，每项至多128字节）",
        [K_BOOL] = "须为 true 或 false",
        [K_COUNT] = "须为非负整数",
        [K_AREA] = "须为 {\"lat\",\"lng\",\"radius_m\"}：纬度 -90~90，经度 -180~180，半径大于 0 米",
    };
    const char *key;
    const json_t *v;
    *why = "须为 JSON 对象";
    if (!json_is_object(p))
        return "policy";
    json_object_foreach((json_t *)p, key, v)
    {
        size_t i = 0;
        while (i < sizeof MEMBERS / sizeof MEMBERS[0] && strcmp(MEMBERS[i].name, key) != 0)
            i++;
        if (i == sizeof MEMBERS / sizeof MEMBERS[0]) {
            *why = "不是策略的成员";
            return key;
        }
        if (!member_valid(MEMBERS[i].kind, v)) {
            *why = WHY[MEMBERS[i].kind];
            return key;
        }
    }
    return NULL;
}

bool mdm_policy_valid(const json_t *p)
{
    const char *key;
    const json_t *v;
    if (!json_is_object(p))
        return false;
    json_object_foreach((json_t *)p, key, v)
    {
        size_t i = 0;
        while (i < sizeof MEMBERS / sizeof MEMBERS[0] && strcmp(MEMBERS[i].name, key) != 0)
            i++;
        if (i == sizeof MEMBERS / sizeof MEMBERS[0] || !member_valid(MEMBERS[i].kind, v))
            return false;
    }
    return true;
}

int mdm_policy_get(struct tenant_conn *t, int64_t branch_id, json_t **policy, int64_t *version)
{
    struct tenant_stmt *s = NULL;
    *policy = NULL;
    *version = 0;
    if (tenant_prepare(t,
                       "SELECT policy, version FROM mdm_policies WHERE bank_id = ? AND "
                       "(branch_id = 0 OR branch_id = ?) ORDER BY branch_id DESC, version DESC "
                       "LIMIT 1",
                       &s) != STORE_OK ||
        tenant_bind_int64(s, 2, branch_id) != STORE_OK) {
        if (s)
            tenant_finish(s);
        return MDM_ERR;
    }
    int rc = tenant_step(s);
    if (rc == STORE_ROW) {
        const char *text = tenant_col_text(s, 0);
        *policy = text ? json_loads(text, 0, NULL) : NULL;
        *version = tenant_col_int64(s, 1);
    } else if (rc == STORE_DONE) {
        *policy = mdm_policy_default();
    }
    tenant_finish(s);
    return *policy ? MDM_OK : MDM_ERR;
}

static int64_t last_version(struct tenant_conn *t, int64_t branch_id)
{
    struct tenant_stmt *s = NULL;
    if (tenant_prepare(t,
                       "SELECT version FROM mdm_policies WHERE bank_id = ? AND branch_id = ? "
                       "ORDER BY version DESC LIMIT 1",
                       &s) != STORE_OK ||
        tenant_bind_int64(s, 2, branch_id) != STORE_OK) {
        if (s)
            tenant_finish(s);
        return -1;
    }
    int rc = tenant_step(s);
    int64_t v = rc == STORE_ROW ? tenant_col_int64(s, 0) : rc == STORE_DONE ? 0 : -1;
    tenant_finish(s);
    return v;
}

int mdm_policy_set(struct tenant_conn *t, int64_t branch_id, const json_t *p, const char *actor,
                   int64_t now_ms, int64_t *version)
{
    if (!mdm_policy_valid(p) || branch_id < 0)
        return MDM_INVALID;
    int64_t v = last_version(t, branch_id);
    char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    struct tenant_stmt *s = NULL;
    int rc = MDM_ERR;
    if (v < 0 || !text)
        goto out;
    v++;
    if (tenant_prepare(t,
                       "INSERT INTO mdm_policies (bank_id, branch_id, version, policy, actor, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       &s) != STORE_OK ||
        tenant_bind_int64(s, 2, branch_id) != STORE_OK || tenant_bind_int64(s, 3, v) != STORE_OK ||
        tenant_bind_text(s, 4, text) != STORE_OK || tenant_bind_text(s, 5, actor) != STORE_OK ||
        tenant_bind_int64(s, 6, now_ms) != STORE_OK || tenant_step(s) != STORE_DONE)
        goto out;
    if (audit_tenantf(t, actor, "mdm.policy_set", "", "{s:I, s:I}", "branch_id",
                      (json_int_t)branch_id, "version", (json_int_t)v) != ID_OK)
        goto out;
    *version = v;
    rc = MDM_OK;
out:
    if (s)
        tenant_finish(s);
    free(text);
    return rc;
}

int mdm_verdict_put(struct tenant_conn *t, const char *dev, const json_t *violations,
                    int64_t policy_version, int64_t now_ms)
{
    char *text = json_dumps(violations, JSON_COMPACT);
    int compliant = json_array_size(violations) == 0;
    struct tenant_stmt *s = NULL;
    int rc = MDM_ERR;
    if (!text)
        return MDM_ERR;
    if (tenant_prepare(t,
                       "UPDATE mdm_devices SET compliant = ?, violations = ?, policy_version = ?, "
                       "checked_at = ? WHERE bank_id = ? AND dev = ?",
                       &s) != STORE_OK ||
        tenant_bind_int64(s, 1, compliant) != STORE_OK ||
        tenant_bind_text(s, 2, text) != STORE_OK ||
        tenant_bind_int64(s, 3, policy_version) != STORE_OK ||
        tenant_bind_int64(s, 4, now_ms) != STORE_OK || tenant_bind_text(s, 6, dev) != STORE_OK ||
        tenant_step(s) != STORE_DONE)
        goto out;
    tenant_finish(s);
    s = NULL;
    if (tenant_changes(t) > 0) {
        rc = MDM_OK;
        goto out;
    }
    if (tenant_prepare(t,
                       "INSERT INTO mdm_devices (bank_id, dev, compliant, violations, "
                       "policy_version, checked_at) VALUES (?, ?, ?, ?, ?, ?)",
                       &s) != STORE_OK ||
        tenant_bind_text(s, 2, dev) != STORE_OK || tenant_bind_int64(s, 3, compliant) != STORE_OK ||
        tenant_bind_text(s, 4, text) != STORE_OK ||
        tenant_bind_int64(s, 5, policy_version) != STORE_OK ||
        tenant_bind_int64(s, 6, now_ms) != STORE_OK || tenant_step(s) != STORE_DONE)
        goto out;
    rc = MDM_OK;
out:
    if (s)
        tenant_finish(s);
    free(text);
    return rc;
}

/* The last verdict of dev: MDM_OK with *found, *compliant, *at and (when not
 * compliant) *violations. */
static int verdict_get(struct tenant_conn *t, const char *dev, bool *found, bool *compliant,
                       int64_t *at, json_t **violations)
{
    struct tenant_stmt *s = NULL;
    *found = false;
    if (tenant_prepare(t,
                       "SELECT compliant, violations, checked_at FROM mdm_devices WHERE "
                       "bank_id = ? AND dev = ?",
                       &s) != STORE_OK ||
        tenant_bind_text(s, 2, dev) != STORE_OK) {
        if (s)
            tenant_finish(s);
        return MDM_ERR;
    }
    int rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *found = true;
        *compliant = tenant_col_int64(s, 0) != 0;
        *at = tenant_col_int64(s, 2);
        if (!*compliant) {
            const char *text = tenant_col_text(s, 1);
            *violations = text ? json_loads(text, 0, NULL) : NULL;
            if (!json_is_array(*violations)) {
                json_decref(*violations);
                *violations = json_array();
            }
        }
    }
    tenant_finish(s);
    return rc == STORE_ROW || rc == STORE_DONE ? MDM_OK : MDM_ERR;
}

static json_t *overdue(void)
{
    return json_pack("[{s:s, s:s}]", "rule", "checkin_overdue", "detail",
                     "设备未按策略规定时间进行安全检查，请先完成设备检查");
}

int mdm_gate(struct tenant_conn *t, int64_t branch_id, const char *dev, int64_t now_ms,
             json_t **violations)
{
    bool found = false, compliant = true;
    int64_t at = 0, version = 0;
    json_t *policy = NULL;
    *violations = NULL;
    if (verdict_get(t, dev, &found, &compliant, &at, violations) != MDM_OK)
        return MDM_ERR;
    if (found && !compliant)
        return *violations ? MDM_CLOSED : MDM_ERR;
    if (mdm_policy_get(t, branch_id, &policy, &version) != MDM_OK)
        return MDM_ERR;
    bool required = json_is_true(json_object_get(policy, "require_checkin"));
    int64_t interval_ms = json_integer_value(json_object_get(policy, "checkin_interval_s")) * 1000;
    json_decref(policy);
    if (!required || (found && (interval_ms <= 0 || now_ms - at <= interval_ms)))
        return MDM_OK;
    *violations = overdue();
    return *violations ? MDM_CLOSED : MDM_ERR;
}
