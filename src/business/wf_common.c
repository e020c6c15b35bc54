/* wf_common.c — the steps every business kind shares and the helpers of
 * step handlers (business/wf_common.h). */
#include "business/wf_common.h"
#include "business/voucher_pdf.h"

#include "business/attach_check.h"
#include "business/attach_db.h"
#include "business/biz.h"
#include "business/customer_db.h"
#include "business/customer_id.h"
#include "business/customer_profile.h"
#include "business/customer_seal.h"

#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/mask.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANK_UTC_OFFSET_S (8 * 3600) /* China Standard Time, no DST */
#define CORE_NOT_FOUND "1001"        /* core's business code for an unknown customer */
#define DEFAULT_FACE_THRESHOLD 80
#define PNG_MAX_B64 (2 * 1024 * 1024)
#define PHOTO_MAX_B64 (1400 * 1024)

int32_t wfc_today(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000 + BANK_UTC_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

const char *wfc_in(const struct wf_call *w, const char *k)
{
    return json_string_value(json_object_get(w->input, k));
}

/* state.<step>.<member> as text, "" when absent. */
const char *wfc_kept(const struct wf_call *w, const char *step, const char *member)
{
    const char *v = json_string_value(json_object_get(json_object_get(w->state, step), member));
    return v ? v : "";
}

int wfc_bad(struct wf_call *w, const char *fmt, const char *what)
{
    snprintf(w->msg, sizeof w->msg, fmt, what);
    return WF_BAD;
}

int wfc_fail(struct wf_call *w, const char *msg)
{
    snprintf(w->msg, sizeof w->msg, "%s", msg);
    return WF_FAIL;
}

/* Base64 text that decodes to 1..max bytes: the bytes (malloc'd), or NULL. */
uint8_t *wfc_b64_bytes(const char *s, size_t *n)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0)
        return NULL;
    uint8_t *raw = malloc(b64_decoded_max(len) + 1);
    long got = raw ? b64_decode(s, len, raw, b64_decoded_max(len) + 1) : -1;
    if (got <= 0) {
        free(raw);
        return NULL;
    }
    *n = (size_t)got;
    return raw;
}

bool wfc_b64_ok(const char *s)
{
    size_t n = 0;
    uint8_t *raw = wfc_b64_bytes(s, &n);
    free(raw);
    return raw != NULL;
}

/* ---- idcard ------------------------------------------------------------------------------ */

const struct tx_field WFC_F_IDCARD[] = {
    {.name = "name", .type = TXF_STRING, .required = true, .max = 90},
    {.name = "sex", .type = TXF_STRING, .max = 8},
    {.name = "nation", .type = TXF_STRING, .max = 30},
    {.name = "birth", .type = TXF_STRING, .max = 8},
    {.name = "address", .type = TXF_STRING, .max = 300},
    {.name = "id_no", .type = TXF_STRING, .required = true, .max = 18},
    {.name = "issuer", .type = TXF_STRING, .max = 90},
    {.name = "valid_from", .type = TXF_STRING, .required = true, .max = 8},
    {.name = "valid_to", .type = TXF_STRING, .required = true, .max = 8},
    {.name = "photo_wlt", .type = TXF_STRING, .required = true, .max = 4096},
};

int wfc_check_idcard(struct wf_call *w)
{
    char norm[CID_LEN + 1];
    int rc = cid_resident(wfc_in(w, "id_no"), wfc_today(), norm);
    if (rc != CID_OK)
        return wfc_bad(w, "data.input.id_no: %s", cid_message(rc));
    const char *name = wfc_in(w, "name"), *birth = wfc_in(w, "birth");
    if (!name || !name[0])
        return wfc_bad(w, "data.input.%s: required", "name");
    char want[9];
    snprintf(want, sizeof want, "%.8s", norm + 6);
    if (birth && strcmp(birth, want) != 0)
        return wfc_bad(w, "data.input.%s: 与身份证号码不符", "birth");
    const char *from = wfc_in(w, "valid_from"), *to = wfc_in(w, "valid_to");
    if (!wf_date_ok(from))
        return wfc_bad(w, "data.input.%s: 须为 YYYYMMDD", "valid_from");
    /* 长期 (no expiry) is read as 00000000 by some readers, as text by others */
    bool forever = strcmp(to, "长期") == 0 || strcmp(to, "00000000") == 0;
    if (!forever && !wf_date_ok(to))
        return wfc_bad(w, "data.input.%s: 须为 YYYYMMDD 或 长期", "valid_to");
    char now[9];
    snprintf(now, sizeof now, "%08d", (int)wfc_today());
    if (!forever && strcmp(to, now) < 0)
        return wfc_bad(w, "data.input.%s: 身份证已过期", "valid_to");
    if (!wfc_b64_ok(wfc_in(w, "photo_wlt")))
        return wfc_bad(w, "data.input.%s: 须为 Base64 编码的照片", "photo_wlt");
    return WF_OK;
}

int wfc_apply_idcard(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)reply;
    char norm[CID_LEN + 1], masked[32], mname[64];
    if (cid_resident(wfc_in(w, "id_no"), wfc_today(), norm) != CID_OK)
        return WF_ERR;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)w->input, key, v)
    {
        json_object_set(keep, key, v);
    }
    json_object_set_new(keep, "id_no", json_string(norm));
    if (mask_id_no(norm, masked, sizeof masked) < 0 ||
        mask_name(wfc_in(w, "name"), mname, sizeof mname) < 0)
        return WF_ERR;
    json_object_set_new(out, "name", json_string(mname));
    json_object_set_new(out, "id_no", json_string(masked));
    return WF_OK;
}

/* ---- idcheck ----------------------------------------------------------------------------- */

int wfc_req_idcheck(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "name", json_string(wfc_kept(w, "idcard", "name")));
    return WF_OK;
}

int wfc_apply_idcheck(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *result = json_string_value(json_object_get(reply, "result"));
    if (!result || strcmp(result, "match") != 0)
        return wfc_fail(w, result && strcmp(result, "mismatch") == 0
                               ? "联网核查未通过：姓名与身份证号码不符"
                               : "联网核查未通过：查无此身份证号码");
    const json_t *photo = json_object_get(reply, "photo");
    json_object_set_new(out, "result", json_string("match"));
    json_object_set_new(out, "photo_returned", json_boolean(json_is_string(photo)));
    if (json_is_string(photo))
        json_object_set(keep, "photo", (json_t *)photo);
    return WF_OK;
}

/* ---- face -------------------------------------------------------------------------------- */

const struct tx_field WFC_F_FACE[] = {
    {.name = "image", .type = TXF_STRING, .required = true, .max = PHOTO_MAX_B64},
};

int wfc_check_face(struct wf_call *w)
{
    return wfc_b64_ok(wfc_in(w, "image"))
               ? WF_OK
               : wfc_bad(w, "data.input.%s: 须为 Base64 编码的照片", "image");
}

int wfc_req_face(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "image", json_string(wfc_in(w, "image")));
    return WF_OK;
}

int wfc_apply_face(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const json_t *score = json_object_get(reply, "score"),
                 *live = json_object_get(reply, "liveness");
    int threshold = w->env->face_threshold > 0 ? w->env->face_threshold : DEFAULT_FACE_THRESHOLD;
    if (!json_is_number(score))
        return WF_ERR;
    double s = json_number_value(score);
    json_object_set_new(out, "score", json_real(s));
    json_object_set_new(out, "threshold", json_integer(threshold));
    if (live && !json_is_true(live))
        return wfc_fail(w, "人脸识别未通过：活体检测失败");
    if (s < threshold)
        return wfc_fail(w, "人脸识别未通过：比对分数低于阈值");
    json_object_set_new(keep, "score", json_real(s));
    return WF_OK;
}

/* ---- customer ---------------------------------------------------------------------------- */

const struct tx_field WFC_F_CUSTOMER[] = {
    {.name = "mobile", .type = TXF_STRING, .required = true, .max = 11},
};

int wfc_check_customer(struct wf_call *w)
{
    char m[CID_PHONE_LEN + 1];
    int rc = cid_mobile(wfc_in(w, "mobile"), m);
    return rc == CID_OK ? WF_OK : wfc_bad(w, "data.input.mobile: %s", cid_message(rc));
}

int wfc_req_customer(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_type", json_string("01"));
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "name", json_string(wfc_kept(w, "idcard", "name")));
    json_object_set_new(req, "mobile", json_string(wfc_in(w, "mobile")));
    json_object_set_new(req, "address", json_string(wfc_kept(w, "idcard", "address")));
    return WF_OK;
}

/* Core's customer: the one with this ID number, else a new one. */
enum egress_kind wfc_call_customer(struct wf_call *w, struct egress *eg, json_t *req,
                                   json_t **reply, struct egress_error *err)
{
    json_t *q = json_pack("{s:s,s:s}", "id_type", "01", "id_no", wfc_kept(w, "idcard", "id_no"));
    if (!q)
        return EGRESS_E_INTERNAL;
    enum egress_kind k = egress_call(eg, "customer_query", q, reply, err);
    biz_drop(q);
    if (k == EGRESS_OK) {
        json_object_set_new(*reply, "existed", json_true());
        return k;
    }
    if (k != EGRESS_E_BUSINESS || strcmp(err->code, CORE_NOT_FOUND) != 0)
        return k;
    biz_drop(*reply);
    *reply = NULL;
    memset(err, 0, sizeof *err);
    k = egress_call(eg, "biz_customer_create", req, reply, err);
    if (k == EGRESS_OK)
        json_object_set_new(*reply, "existed", json_false());
    return k;
}

/* Our record of the person: the bank's customer with this ID number, or a
 * new one from the ID card and the mobile number (none when the business
 * names its customer already: 0). The id, or -1. */
static int64_t our_customer(struct wf_call *w, bool *created)
{
    struct tx_ctx *c = w->tx;
    const struct kek *k = c->env->kek;
    int64_t bank = tenant_scope(c->tenant)->bank_id, id = 0;
    const char *id_no = wfc_kept(w, "idcard", "id_no");
    struct cdb_row r = {0};
    *created = false;
    if (cs_index(k, bank, "person", id_no, r.id_index) != CS_OK)
        return -1;
    int rc = cdb_find_index(c->tenant, r.id_index, &id);
    if (rc == CDB_OK)
        return id;
    if (rc != CDB_NONE)
        return -1;
    if (w->customer_id > 0)
        return 0; /* the business's customer is another person: nothing created */
    struct cp_error e;
    json_t *rec = json_object(), *in = json_pack("{s:s,s:s,s:s,s:s}", "kind", "person", "name",
                                                 wfc_kept(w, "idcard", "name"), "id_no", id_no,
                                                 "phone", wfc_in(w, "mobile"));
    const char *addr = wfc_kept(w, "idcard", "address");
    if (in && addr[0])
        json_object_set_new(in, "address", json_string(addr));
    int64_t res = -1;
    char ctx[CS_CONTEXT_MAX], actor[AUDIT_ACTOR_MAX + 1], target[32];
    const struct scope *sc = tenant_scope(c->tenant);
    if (!rec || !in || cp_apply(rec, in, wfc_today(), &e) != CP_OK)
        goto out;
    snprintf(r.kind, sizeof r.kind, "person");
    snprintf(r.name, sizeof r.name, "%s", json_string_value(json_object_get(rec, "name")));
    const char *phone = json_string_value(json_object_get(rec, "phone"));
    if (mask_id_no(id_no, r.id_masked, sizeof r.id_masked) < 0 ||
        (phone && (cs_index(k, bank, "phone", phone, r.phone_index) != CS_OK ||
                   mask_phone(phone, r.phone_masked, sizeof r.phone_masked) < 0)) ||
        cdb_next_id(c->tenant, &r.id) != CDB_OK)
        goto out;
    r.version = 1;
    r.branch_id = sc->branch_id;
    r.teller_id = sc->teller_id;
    r.created_at = r.updated_at = clock_wall_ms();
    cdb_context(bank, r.id, ctx);
    if (cs_seal_json(k, ctx, rec, &r.sealed, &r.sealed_len) != CS_OK ||
        cdb_insert(c->tenant, &r) != CDB_OK)
        goto out;
    biz_actor(c, actor);
    biz_target(target, sizeof target, "customer", r.id);
    if (audit_tenantf(c->tenant, actor, "customer.created", target, "{s:s,s:I,s:I}", "kind",
                      "person", "version", (json_int_t)1, "biz_id", (json_int_t)w->biz_id) != ID_OK)
        goto out;
    *created = true;
    res = r.id;
out:
    free(r.sealed);
    biz_drop(rec);
    biz_drop(in);
    return res;
}

int wfc_apply_customer(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *cust = json_string_value(json_object_get(reply, "cust_no"));
    bool created = false;
    if (!cust || !cust[0])
        return WF_ERR;
    int64_t id = our_customer(w, &created);
    if (id < 0)
        return WF_ERR;
    if (id == 0 || (w->customer_id > 0 && id != w->customer_id))
        return wfc_fail(w, "身份证与本业务的客户不符");
    w->customer_id = id;
    json_object_set_new(keep, "cust_no", json_string(cust));
    json_object_set_new(keep, "mobile", json_string(wfc_in(w, "mobile")));
    json_object_set_new(out, "customer_id", json_integer(id));
    json_object_set_new(out, "cust_no", json_string(cust));
    json_object_set_new(out, "created", json_boolean(created));
    json_object_set_new(out, "core_created",
                        json_boolean(!json_is_true(json_object_get(reply, "existed"))));
    return WF_OK;
}

/* ---- signature ----------------------------------------------------------------------------- */

const struct tx_field WFC_F_SIGNATURE[] = {
    {.name = "strokes", .type = TXF_ARRAY, .required = true, .max = 20000},
    {.name = "image", .type = TXF_STRING, .required = true, .max = PNG_MAX_B64},
};

int wfc_check_signature(struct wf_call *w)
{
    size_t n = 0;
    uint8_t *raw = wfc_b64_bytes(wfc_in(w, "image"), &n);
    bool png = raw && ac_sniff(raw, n) == AT_PNG && vpdf_png_ok(raw, n);
    free(raw);
    if (!png)
        return wfc_bad(w, "data.input.%s: 须为 Base64 编码的完整 PNG 图像", "image");
    if (json_array_size(json_object_get(w->input, "strokes")) == 0)
        return wfc_bad(w, "data.input.%s: 签名笔迹为空", "strokes");
    return WF_OK;
}

int wfc_apply_signature(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)reply;
    size_t n = 0;
    uint8_t *raw = wfc_b64_bytes(wfc_in(w, "image"), &n);
    free(raw);
    json_object_set(keep, "strokes", json_object_get(w->input, "strokes"));
    json_object_set(keep, "image", json_object_get(w->input, "image"));
    json_object_set_new(
        out, "strokes",
        json_integer((json_int_t)json_array_size(json_object_get(w->input, "strokes"))));
    json_object_set_new(out, "image_bytes", json_integer((json_int_t)n));
    return WF_OK;
}

/* ---- account: an account the customer holds in core --------------------------------------- */

const struct tx_field WFC_F_ACCOUNT[] = {
    {.name = "account_no", .type = TXF_STRING, .required = true, .max = 19},
};

int wfc_check_account(struct wf_call *w)
{
    const char *a = wfc_in(w, "account_no");
    size_t n = a ? strlen(a) : 0;
    return n >= 10 && n <= 19 && strspn(a, "0123456789") == n
               ? WF_OK
               : wfc_bad(w, "data.input.%s: 须为 10 至 19 位数字", "account_no");
}

int wfc_req_account(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "account_no", json_string(wfc_in(w, "account_no")));
    return WF_OK;
}

int wfc_apply_account(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *cur = json_string_value(json_object_get(reply, "currency"));
    json_object_set_new(keep, "account_no", json_string(wfc_in(w, "account_no")));
    json_object_set_new(out, "account_no", json_string(wfc_in(w, "account_no")));
    json_object_set_new(out, "currency", json_string(cur ? cur : ""));
    return WF_OK;
}

/* ---- attachments of the business's customer ---------------------------------------------- */

struct link_find {
    char ref[24];
    bool found;
};

static int link_of(const char *kind, const char *ref, void *arg)
{
    struct link_find *f = arg;
    if (strcmp(kind, "customer") == 0 && strcmp(ref, f->ref) == 0)
        f->found = true;
    return f->found;
}

int wfc_attachment(struct wf_call *w, int64_t id, const char *member, bool image,
                   char sm3[ATTACH_SM3_HEX + 1])
{
    struct adb_row r = {0};
    int rc = adb_get(w->tx->tenant, id, &r);
    bool stored = rc == ADB_OK && strcmp(r.state, ADB_STORED) == 0,
         is_image = strncmp(r.mime, "image/", 6) == 0;
    if (sm3)
        snprintf(sm3, ATTACH_SM3_HEX + 1, "%s", r.sm3);
    adb_row_free(&r);
    if (rc != ADB_OK && rc != ADB_NONE)
        return WF_ERR;
    struct link_find f = {.found = false};
    snprintf(f.ref, sizeof f.ref, "%" PRId64, w->customer_id);
    if (stored && w->customer_id > 0 && adb_link_each(w->tx->tenant, id, link_of, &f) < 0)
        return WF_ERR;
    if (!stored || !f.found)
        return wfc_bad(w, "data.input.%s: 附件不存在或不属于该客户", member);
    if (image && !is_image)
        return wfc_bad(w, "data.input.%s: 须为图像", member);
    return WF_OK;
}

void wfc_yuan(int64_t fen, char *out, size_t cap)
{
    uint64_t f = (uint64_t)(fen < 0 ? -fen : fen);
    snprintf(out, cap, "%s%" PRIu64 ".%02" PRIu64, fen < 0 ? "-" : "", f / 100, f % 100);
}
