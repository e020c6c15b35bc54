/* visit_input.c — the value rules of the visit transactions (see visit_input.h). */
#include "business/visit_input.h"

#include "business/visit_geo.h"
#include "foundation/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(struct vi_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct vi_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->field, sizeof err->field, "%s", path);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return VI_BAD;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int vi_date(json_t *v, const char *path, int32_t *day, struct vi_error *err)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) != 10 || s[4] != '-' || s[7] != '-')
        return bad(err, path, "须为YYYY-MM-DD格式的日期");
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return bad(err, path, "须为YYYY-MM-DD格式的日期");
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 2000 || y > 2099 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap(y)))
        return bad(err, path, "不是有效日期");
    *day = (int32_t)(y * 10000 + m * 100 + d);
    return VI_OK;
}

void vi_day_text(int32_t day, char out[11])
{
    unsigned y = (unsigned)(day / 10000) % 10000u, m = (unsigned)(day / 100) % 100u,
             d = (unsigned)day % 100u;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = out[7] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

int vi_position(json_t *in, bool both_required, double *lat, double *lon, bool *has,
                struct vi_error *err)
{
    json_t *a = json_object_get(in, "lat"), *o = json_object_get(in, "lon");
    *has = false;
    if (!a && !o && !both_required)
        return VI_OK;
    if (!a)
        return bad(err, "lat", "须与lon一同给出");
    if (!o)
        return bad(err, "lon", "须与lat一同给出");
    if (!json_is_number(a) || !vg_lat_ok(json_number_value(a)))
        return bad(err, "lat", "纬度须为-90到90之间的数");
    if (!json_is_number(o) || !vg_lon_ok(json_number_value(o)))
        return bad(err, "lon", "经度须为-180到180之间的数");
    *lat = json_number_value(a);
    *lon = json_number_value(o);
    *has = true;
    return VI_OK;
}

/* Valid UTF-8 without control characters (newlines allowed if asked). */
static bool plain_text(const char *s, size_t n, bool newlines)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(newlines && c == '\n')) || c == 0x7f)
            return false;
        size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

int vi_text(json_t *v, const char *path, size_t max, bool newlines, char **out,
            struct vi_error *err)
{
    *out = NULL;
    if (!v)
        return (*out = strdup("")) ? VI_OK : bad(err, path, "内存不足");
    if (!json_is_string(v))
        return bad(err, path, "须为字符串");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n || !plain_text(s, n, newlines))
        return bad(err, path, "含有控制字符或无效编码");
    while (n && s[0] == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    if (n > max)
        return bad(err, path, "长度不能超过%zu字节", max);
    *out = strndup(s, n);
    return *out ? VI_OK : bad(err, path, "内存不足");
}

int vi_product(json_t *v, const char *path, struct vi_error *err)
{
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    if (!s || n < 1 || n > VI_PRODUCT_MAX)
        return bad(err, path, "产品代码须为1到%d个字符", VI_PRODUCT_MAX);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return bad(err, path, "产品代码只能含小写字母、数字和下划线");
    return VI_OK;
}

static int photo_id(json_t *v, const char *path, struct vi_error *err)
{
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    if (!s || n < 1 || n > VI_PHOTO_ID_MAX)
        return bad(err, path, "附件编号须为1到%d个字符的字符串", VI_PHOTO_ID_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return bad(err, path, "附件编号含有不允许的字符");
    }
    return VI_OK;
}

static int photos(json_t *v, json_t **out, struct vi_error *err)
{
    char path[32];
    *out = NULL;
    if (v && !json_is_array(v))
        return bad(err, "photos", "须为数组");
    if (json_array_size(v) > VI_PHOTOS_MAX)
        return bad(err, "photos", "最多%d张照片", VI_PHOTOS_MAX);
    for (size_t i = 0; i < json_array_size(v); i++) {
        snprintf(path, sizeof path, "photos[%zu]", i);
        if (photo_id(json_array_get(v, i), path, err) != VI_OK)
            return VI_BAD;
        for (size_t k = 0; k < i; k++)
            if (json_equal(json_array_get(v, k), json_array_get(v, i)))
                return bad(err, path, "附件编号重复");
    }
    *out = v ? json_deep_copy(v) : json_array();
    return *out ? VI_OK : bad(err, "photos", "内存不足");
}

static int open_lead(json_t *v, struct vi_checkin *c, struct vi_error *err)
{
    if (!v)
        return VI_OK;
    if (!json_is_object(v))
        return bad(err, "open_lead", "须为对象");
    const char *key;
    json_t *m;
    json_object_foreach(v, key, m)
    {
        if (strcmp(key, "product") != 0 && strcmp(key, "note") != 0) {
            char path[64];
            snprintf(path, sizeof path, "open_lead.%.40s", key);
            return bad(err, path, "不允许的成员");
        }
    }
    json_t *p = json_object_get(v, "product");
    if (!p)
        return bad(err, "open_lead.product", "必须给出");
    if (vi_product(p, "open_lead.product", err) != VI_OK)
        return VI_BAD;
    snprintf(c->product, sizeof c->product, "%s", json_string_value(p));
    c->open_lead = true;
    return vi_text(json_object_get(v, "note"), "open_lead.note", VI_STEP_MAX, false, &c->lead_note,
                   err);
}

static const char *const OUTCOMES[] = {"met", "not_home", "refused", "interested", "done"};

static int ids(json_t *in, struct vi_checkin *c, struct vi_error *err)
{
    json_t *t = json_object_get(in, "task_id"), *cu = json_object_get(in, "customer_id");
    if (t && (!json_is_integer(t) || json_integer_value(t) < 1))
        return bad(err, "task_id", "须为正整数");
    if (cu && (!json_is_integer(cu) || json_integer_value(cu) < 1))
        return bad(err, "customer_id", "须为正整数");
    if (!t && !cu)
        return bad(err, "task_id", "须给出task_id或customer_id");
    c->task_id = t ? json_integer_value(t) : 0;
    c->customer_id = cu ? json_integer_value(cu) : 0;
    return VI_OK;
}

static int when(json_t *in, int64_t now_ms, struct vi_checkin *c, struct vi_error *err)
{
    json_t *at = json_object_get(in, "at");
    c->at = now_ms;
    if (!at)
        return VI_OK;
    if (!json_is_integer(at))
        return bad(err, "at", "须为毫秒时间戳");
    int64_t v = json_integer_value(at);
    if (v > now_ms + VI_AHEAD_MS || v < now_ms - VI_BEHIND_MS)
        return bad(err, "at", "走访时间须在最近7天之内且不晚于当前时间");
    c->at = v;
    return VI_OK;
}

static int outcome(json_t *in, struct vi_checkin *c, struct vi_error *err)
{
    const char *o = json_string_value(json_object_get(in, "outcome"));
    for (size_t i = 0; o && i < sizeof OUTCOMES / sizeof OUTCOMES[0]; i++)
        if (strcmp(o, OUTCOMES[i]) == 0) {
            c->outcome = OUTCOMES[i];
            return VI_OK;
        }
    return bad(err, "outcome", "须为met、not_home、refused、interested、done之一");
}

int vi_checkin(json_t *in, int64_t now_ms, struct vi_checkin *out, struct vi_error *err)
{
    bool has = false;
    memset(out, 0, sizeof *out);
    int rc = ids(in, out, err);
    if (rc == VI_OK)
        rc = vi_position(in, true, &out->lat, &out->lon, &has, err);
    if (rc == VI_OK)
        rc = when(in, now_ms, out, err);
    if (rc == VI_OK)
        rc = outcome(in, out, err);
    if (rc == VI_OK && !json_object_get(in, "notes"))
        rc = bad(err, "notes", "必须给出");
    if (rc == VI_OK)
        rc = vi_text(json_object_get(in, "notes"), "notes", VI_NOTES_MAX, true, &out->notes, err);
    if (rc == VI_OK)
        rc = photos(json_object_get(in, "photos"), &out->photos, err);
    if (rc == VI_OK)
        rc = vi_text(json_object_get(in, "next_step"), "next_step", VI_STEP_MAX, false,
                     &out->next_step, err);
    if (rc == VI_OK)
        rc = open_lead(json_object_get(in, "open_lead"), out, err);
    if (rc != VI_OK)
        vi_checkin_free(out);
    return rc;
}

void vi_checkin_free(struct vi_checkin *c)
{
    free(c->notes);
    free(c->next_step);
    free(c->lead_note);
    json_decref(c->photos);
    c->notes = c->next_step = c->lead_note = NULL;
    c->photos = NULL;
}
