/* mdm_eval.c — a device report against a policy; see mdm_eval.h. */
#include "business/mdm_eval.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *first_digit(const char *s)
{
    while (s && *s && !isdigit((unsigned char)*s))
        s++;
    return s && *s ? s : NULL;
}

int mdm_version_cmp(const char *a, const char *b)
{
    const char *p = first_digit(a), *q = first_digit(b);
    if (!p || !q)
        return (p != NULL) - (q != NULL);
    for (int i = 0; i < 8; i++) {
        unsigned long x = 0, y = 0;
        if (p && isdigit((unsigned char)*p))
            x = strtoul(p, (char **)&p, 10);
        if (q && isdigit((unsigned char)*q))
            y = strtoul(q, (char **)&q, 10);
        if (x != y)
            return x < y ? -1 : 1;
        p = (p && *p == '.') ? p + 1 : NULL;
        q = (q && *q == '.') ? q + 1 : NULL;
        if (!p && !q)
            break;
    }
    return 0;
}

static int add(json_t *v, const char *rule, const char *detail)
{
    return json_array_append_new(v, json_pack("{s:s, s:s}", "rule", rule, "detail", detail));
}

static bool listed(const json_t *list, const char *s)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        if (s && json_is_string(e) && strcmp(json_string_value(e), s) == 0)
            return true;
    }
    return false;
}

static bool truth(const json_t *obj, const char *key, bool *reported)
{
    const json_t *v = json_object_get(obj, key);
    if (reported)
        *reported = json_is_boolean(v);
    return json_is_true(v);
}

static int check_versions(json_t *v, const json_t *policy, const json_t *report)
{
    const char *min_os = json_string_value(json_object_get(policy, "min_os"));
    const char *os = json_string_value(json_object_get(report, "os"));
    if (min_os && *min_os && (!os || mdm_version_cmp(os, min_os) < 0) &&
        add(v, "os_version", "操作系统版本过低") != 0)
        return -1;
    const char *min_app = json_string_value(json_object_get(policy, "min_app"));
    const char *app = json_string_value(json_object_get(report, "app_version"));
    if (min_app && *min_app && (!app || mdm_version_cmp(app, min_app) < 0) &&
        add(v, "app_version", "展业应用版本过低，请升级") != 0)
        return -1;
    return 0;
}

static int check_apps(json_t *v, const json_t *policy, const json_t *report)
{
    const json_t *denied = json_object_get(policy, "apps_denied");
    const json_t *allowed = json_object_get(policy, "apps_allowed");
    bool any_allowed = !json_is_array(allowed) || json_array_size(allowed) == 0;
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(report, "apps"), i, a)
    {
        const char *id = json_string_value(json_object_get(a, "id"));
        if (!id)
            continue;
        char detail[200];
        if (listed(denied, id)) {
            snprintf(detail, sizeof detail, "禁止安装的应用：%.120s", id);
            if (add(v, "app_denied", detail) != 0)
                return -1;
        } else if (!any_allowed && !listed(allowed, id)) {
            snprintf(detail, sizeof detail, "不在允许名单中的应用：%.120s", id);
            if (add(v, "app_not_allowed", detail) != 0)
                return -1;
        }
    }
    return 0;
}

static int check_security(json_t *v, const json_t *policy, const json_t *report)
{
    const json_t *sec = json_object_get(report, "security");
    bool rep = false;
    const json_t *usb = json_object_get(policy, "usb_transfer");
    if (json_is_false(usb) && truth(sec, "usb_debug", NULL) &&
        add(v, "usb", "请关闭 USB 调试与数据传输") != 0)
        return -1;
    const json_t *bt = json_object_get(policy, "bluetooth");
    if (json_is_false(bt) && truth(sec, "bluetooth", NULL) &&
        add(v, "bluetooth", "请关闭蓝牙") != 0)
        return -1;
    if (truth(policy, "screen_lock", NULL) && !truth(sec, "screen_lock", NULL) &&
        add(v, "screen_lock", "请设置锁屏密码") != 0)
        return -1;
    json_int_t limit = json_integer_value(json_object_get(policy, "screen_lock_timeout_s"));
    const json_t *t = json_object_get(sec, "screen_lock_timeout_s");
    if (limit > 0 && json_is_integer(t) && json_integer_value(t) > limit &&
        add(v, "screen_lock_timeout", "自动锁屏时间过长") != 0)
        return -1;
    if (truth(policy, "encryption", NULL) && !truth(sec, "encrypted", NULL) &&
        add(v, "encryption", "请开启存储加密") != 0)
        return -1;
    bool rooted = truth(sec, "rooted", &rep);
    if (truth(policy, "rooted_refused", NULL) && (rooted || !rep) &&
        add(v, "rooted", rep ? "设备已获取 root 权限，禁止办理业务" : "未报告设备是否已 root") != 0)
        return -1;
    return 0;
}

static int check_network(json_t *v, const json_t *policy, const json_t *report)
{
    const json_t *wifi = json_object_get(policy, "wifi_allowed");
    const char *ssid =
        json_string_value(json_object_get(json_object_get(report, "network"), "wifi_ssid"));
    if (json_is_array(wifi) && json_array_size(wifi) > 0 && ssid && *ssid && !listed(wifi, ssid) &&
        add(v, "wifi", "当前 Wi-Fi 网络不在允许名单中") != 0)
        return -1;
    const json_t *kinds = json_object_get(policy, "networks_allowed");
    const char *type =
        json_string_value(json_object_get(json_object_get(report, "network"), "type"));
    if (json_is_array(kinds) && json_array_size(kinds) > 0 && type && !listed(kinds, type) &&
        add(v, "network", "当前网络类型不被允许（如禁止移动数据）") != 0)
        return -1;
    if (truth(policy, "vpn_required", NULL) &&
        !truth(json_object_get(report, "network"), "vpn", NULL) &&
        add(v, "vpn", "请先连接银行专用 VPN") != 0)
        return -1;
    return 0;
}

/* The great-circle distance in metres between two WGS-84 points (haversine
 * on a sphere of the Earth's mean radius: metres off over a county). */
static double distance_m(double lat1, double lng1, double lat2, double lng2)
{
    const double rad = M_PI / 180.0, R = 6371008.8;
    double dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlng / 2) * sin(dlng / 2);
    return 2 * R * atan2(sqrt(a), sqrt(1 - a));
}

static int check_area(json_t *v, const json_t *policy, const json_t *report)
{
    const json_t *area = json_object_get(policy, "geofence");
    if (!json_is_object(area))
        return 0;
    const json_t *pos = json_object_get(report, "position");
    const json_t *lat = json_object_get(pos, "lat"), *lng = json_object_get(pos, "lng");
    if (!json_is_number(lat) || !json_is_number(lng))
        return add(v, "geofence", "未报告设备位置，无法确认在工作区域内");
    double d = distance_m(json_number_value(json_object_get(area, "lat")),
                          json_number_value(json_object_get(area, "lng")), json_number_value(lat),
                          json_number_value(lng));
    if (d > json_number_value(json_object_get(area, "radius_m")))
        return add(v, "geofence", "设备不在工作区域内");
    return 0;
}

json_t *mdm_evaluate(const json_t *policy, const json_t *report)
{
    json_t *v = json_array();
    if (!v)
        return NULL;
    if (check_versions(v, policy, report) != 0 || check_apps(v, policy, report) != 0 ||
        check_security(v, policy, report) != 0 || check_network(v, policy, report) != 0 ||
        check_area(v, policy, report) != 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}
