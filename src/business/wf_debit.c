/* wf_debit.c — debit card opening (借记卡开卡) as a workflow kind (wf.h):
 *
 *   idcard     the ID card as the reader read it (GB 11643 number checked)
 *   idcheck    networked ID check (id_check): name and number must match
 *   face       face compare (face_compare) of the live photo: score at
 *              least [business] face_threshold, liveness true when given
 *   customer   the customer in core (customer_query, else
 *              biz_customer_create) and in our records (created when the
 *              bank has none with this ID number, else linked)
 *   account    open_account in core (biz_open_account); undone by
 *              close_account
 *   card       the card the card reader read (Luhn) bound to the account
 *              (bind_card); undone by unbind_card
 *   pin        the PIN block the PIN pad encrypted under the zone PIN key,
 *              forwarded as-is to core (biz_set_pin); never kept
 *   signature  strokes and a PNG image, kept sealed at rest
 *   voucher    the voucher and its delivery (wf_voucher.h) */
#include "business/biz.h"
#include "business/customer_db.h"
#include "business/customer_id.h"
#include "business/customer_profile.h"
#include "business/customer_seal.h"
#include "business/attach_check.h"
#include "business/wf.h"
#include "business/wf_voucher.h"

#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANK_UTC_OFFSET_S (8 * 3600) /* China Standard Time, no DST */
#define CORE_NOT_FOUND "1001"        /* core's business code for an unknown customer */
#define DEFAULT_FACE_THRESHOLD 80
#define PNG_MAX_B64 (2 * 1024 * 1024)
#define PHOTO_MAX_B64 (1400 * 1024)

static int32_t today(void)
{
    time_t t = (time_t)(clock_wall_ms() / 1000 + BANK_UTC_OFFSET_S);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return 0;
    return (int32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

static const char *in_str(const struct wf_call *w, const char *k)
{
    return json_string_value(json_object_get(w->input, k));
}

/* state.<step>.<member> as text, "" when absent. */
static const char *kept(const struct wf_call *w, const char *step, const char *member)
{
    const char *v = json_string_value(json_object_get(json_object_get(w->state, step), member));
    return v ? v : "";
}

static int bad(struct wf_call *w, const char *fmt, const char *what)
{
    snprintf(w->msg, sizeof w->msg, fmt, what);
    return WF_BAD;
}

static int fail(struct wf_call *w, const char *msg)
{
    snprintf(w->msg, sizeof w->msg, "%s", msg);
    return WF_FAIL;
}

/* Base64 text that decodes to 1..max bytes: the bytes (malloc'd), or NULL. */
static uint8_t *b64_bytes(const char *s, size_t *n)
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

static bool b64_ok(const char *s)
{
    size_t n = 0;
    uint8_t *raw = b64_bytes(s, &n);
    free(raw);
    return raw != NULL;
}

/* ---- idcard ------------------------------------------------------------------------------ */

static const struct tx_field F_IDCARD[] = {
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

static int check_idcard(struct wf_call *w)
{
    char norm[CID_LEN + 1];
    int rc = cid_resident(in_str(w, "id_no"), today(), norm);
    if (rc != CID_OK)
        return bad(w, "data.input.id_no: %s", cid_message(rc));
    const char *name = in_str(w, "name"), *birth = in_str(w, "birth");
    if (!name || !name[0])
        return bad(w, "data.input.%s: required", "name");
    char want[9];
    snprintf(want, sizeof want, "%.8s", norm + 6);
    if (birth && strcmp(birth, want) != 0)
        return bad(w, "data.input.%s: 与身份证号码不符", "birth");
    const char *from = in_str(w, "valid_from"), *to = in_str(w, "valid_to");
    if (!wf_date_ok(from))
        return bad(w, "data.input.%s: 须为 YYYYMMDD", "valid_from");
    /* 长期 (no expiry) is read as 00000000 by some readers, as text by others */
    bool forever = strcmp(to, "长期") == 0 || strcmp(to, "00000000") == 0;
    if (!forever && !wf_date_ok(to))
        return bad(w, "data.input.%s: 须为 YYYYMMDD 或 长期", "valid_to");
    char now[9];
    snprintf(now, sizeof now, "%08d", (int)today());
    if (!forever && strcmp(to, now) < 0)
        return bad(w, "data.input.%s: 身份证已过期", "valid_to");
    if (!b64_ok(in_str(w, "photo_wlt")))
        return bad(w, "data.input.%s: 须为 Base64 编码的照片", "photo_wlt");
    return WF_OK;
}

static int apply_idcard(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)reply;
    char norm[CID_LEN + 1], masked[32], mname[64];
    if (cid_resident(in_str(w, "id_no"), today(), norm) != CID_OK)
        return WF_ERR;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)w->input, key, v)
    {
        json_object_set(keep, key, v);
    }
    json_object_set_new(keep, "id_no", json_string(norm));
    if (mask_id_no(norm, masked, sizeof masked) < 0 ||
        mask_name(in_str(w, "name"), mname, sizeof mname) < 0)
        return WF_ERR;
    json_object_set_new(out, "name", json_string(mname));
    json_object_set_new(out, "id_no", json_string(masked));
    return WF_OK;
}

/* ---- idcheck ----------------------------------------------------------------------------- */

static int req_idcheck(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_no", json_string(kept(w, "idcard", "id_no")));
    json_object_set_new(req, "name", json_string(kept(w, "idcard", "name")));
    return WF_OK;
}

static int apply_idcheck(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *result = json_string_value(json_object_get(reply, "result"));
    if (!result || strcmp(result, "match") != 0)
        return fail(w, result && strcmp(result, "mismatch") == 0
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

static const struct tx_field F_FACE[] = {
    {.name = "image", .type = TXF_STRING, .required = true, .max = PHOTO_MAX_B64},
};

static int check_face(struct wf_call *w)
{
    return b64_ok(in_str(w, "image")) ? WF_OK
                                      : bad(w, "data.input.%s: 须为 Base64 编码的照片", "image");
}

static int req_face(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_no", json_string(kept(w, "idcard", "id_no")));
    json_object_set_new(req, "image", json_string(in_str(w, "image")));
    return WF_OK;
}

static int apply_face(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
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
        return fail(w, "人脸识别未通过：活体检测失败");
    if (s < threshold)
        return fail(w, "人脸识别未通过：比对分数低于阈值");
    json_object_set_new(keep, "score", json_real(s));
    return WF_OK;
}

/* ---- customer ---------------------------------------------------------------------------- */

static const struct tx_field F_CUSTOMER[] = {
    {.name = "mobile", .type = TXF_STRING, .required = true, .max = 11},
};

static int check_customer(struct wf_call *w)
{
    char m[CID_PHONE_LEN + 1];
    int rc = cid_mobile(in_str(w, "mobile"), m);
    return rc == CID_OK ? WF_OK : bad(w, "data.input.mobile: %s", cid_message(rc));
}

static int req_customer(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_type", json_string("01"));
    json_object_set_new(req, "id_no", json_string(kept(w, "idcard", "id_no")));
    json_object_set_new(req, "name", json_string(kept(w, "idcard", "name")));
    json_object_set_new(req, "mobile", json_string(in_str(w, "mobile")));
    json_object_set_new(req, "address", json_string(kept(w, "idcard", "address")));
    return WF_OK;
}

/* Core's customer: the one with this ID number, else a new one. */
static enum egress_kind call_customer(struct wf_call *w, struct egress *eg, json_t *req,
                                      json_t **reply, struct egress_error *err)
{
    json_t *q = json_pack("{s:s,s:s}", "id_type", "01", "id_no", kept(w, "idcard", "id_no"));
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
 * new one from the ID card and the mobile number. The id, or -1. */
static int64_t our_customer(struct wf_call *w, bool *created)
{
    struct tx_ctx *c = w->tx;
    const struct kek *k = c->env->kek;
    int64_t bank = tenant_scope(c->tenant)->bank_id, id = 0;
    const char *id_no = kept(w, "idcard", "id_no");
    struct cdb_row r = {0};
    *created = false;
    if (cs_index(k, bank, "person", id_no, r.id_index) != CS_OK)
        return -1;
    int rc = cdb_find_index(c->tenant, r.id_index, &id);
    if (rc == CDB_OK)
        return id;
    if (rc != CDB_NONE)
        return -1;
    struct cp_error e;
    json_t *rec = json_object(),
           *in = json_pack("{s:s,s:s,s:s,s:s}", "kind", "person", "name", kept(w, "idcard", "name"),
                           "id_no", id_no, "phone", in_str(w, "mobile"));
    const char *addr = kept(w, "idcard", "address");
    if (in && addr[0])
        json_object_set_new(in, "address", json_string(addr));
    int64_t res = -1;
    char ctx[CS_CONTEXT_MAX], actor[AUDIT_ACTOR_MAX + 1], target[32];
    const struct scope *sc = tenant_scope(c->tenant);
    if (!rec || !in || cp_apply(rec, in, today(), &e) != CP_OK)
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

static int apply_customer(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *cust = json_string_value(json_object_get(reply, "cust_no"));
    bool created = false;
    if (!cust || !cust[0])
        return WF_ERR;
    int64_t id = our_customer(w, &created);
    if (id <= 0)
        return WF_ERR;
    w->customer_id = id;
    json_object_set_new(keep, "cust_no", json_string(cust));
    json_object_set_new(keep, "mobile", json_string(in_str(w, "mobile")));
    json_object_set_new(out, "customer_id", json_integer(id));
    json_object_set_new(out, "cust_no", json_string(cust));
    json_object_set_new(out, "created", json_boolean(created));
    json_object_set_new(out, "core_created",
                        json_boolean(!json_is_true(json_object_get(reply, "existed"))));
    return WF_OK;
}

/* ---- account ----------------------------------------------------------------------------- */

static int req_account(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "cust_no", json_string(kept(w, "customer", "cust_no")));
    json_object_set_new(req, "currency", json_string("CNY"));
    json_object_set_new(req, "product", json_string("SAV001"));
    return WF_OK;
}

static int apply_account(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)w;
    const char *acct = json_string_value(json_object_get(reply, "account_no"));
    if (!acct || !acct[0])
        return WF_ERR;
    json_object_set_new(keep, "account_no", json_string(acct));
    json_object_set_new(out, "account_no", json_string(acct));
    return WF_OK;
}

/* ---- card -------------------------------------------------------------------------------- */

static const struct tx_field F_CARD[] = {
    {.name = "card_no", .type = TXF_STRING, .required = true, .max = 19},
};

static int check_card(struct wf_call *w)
{
    return wf_luhn_ok(in_str(w, "card_no")) ? WF_OK
                                            : bad(w, "data.input.%s: 卡号校验失败", "card_no");
}

static int req_card(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "account_no", json_string(kept(w, "account", "account_no")));
    json_object_set_new(req, "card_no", json_string(in_str(w, "card_no")));
    json_object_set_new(req, "card_product", json_string("DEBIT1"));
    return WF_OK;
}

static int apply_card(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *pan = in_str(w, "card_no");
    char masked[32];
    (void)reply;
    if (mask_card(pan, masked, sizeof masked) < 0)
        return WF_ERR;
    json_object_set_new(keep, "card_no", json_string(pan));
    json_object_set_new(out, "card_no", json_string(masked));
    return WF_OK;
}

/* ---- pin: the block passes through, encrypted, and is never kept ------------------------- */

static const struct tx_field F_PIN[] = {
    {.name = "pin_block", .type = TXF_STRING, .required = true, .max = 32},
};

static int check_pin(struct wf_call *w)
{
    const char *b = in_str(w, "pin_block");
    return b && strlen(b) == 32 && strspn(b, "0123456789abcdefABCDEF") == 32
               ? WF_OK
               : bad(w, "data.input.%s: 须为 32 位十六进制", "pin_block");
}

static int req_pin(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "card_no", json_string(kept(w, "card", "card_no")));
    json_object_set_new(req, "pin_block", json_string(in_str(w, "pin_block")));
    return WF_OK;
}

static int apply_pin(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)w, (void)reply, (void)keep;
    json_object_set_new(out, "pin_set", json_true());
    return WF_OK;
}

/* ---- signature ----------------------------------------------------------------------------- */

static const struct tx_field F_SIGNATURE[] = {
    {.name = "strokes", .type = TXF_ARRAY, .required = true, .max = 20000},
    {.name = "image", .type = TXF_STRING, .required = true, .max = PNG_MAX_B64},
};

static int check_signature(struct wf_call *w)
{
    size_t n = 0;
    uint8_t *raw = b64_bytes(in_str(w, "image"), &n);
    bool png = raw && ac_sniff(raw, n) == AT_PNG;
    free(raw);
    if (!png)
        return bad(w, "data.input.%s: 须为 Base64 编码的 PNG 图像", "image");
    if (json_array_size(json_object_get(w->input, "strokes")) == 0)
        return bad(w, "data.input.%s: 签名笔迹为空", "strokes");
    return WF_OK;
}

static int apply_signature(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)reply;
    size_t n = 0;
    uint8_t *raw = b64_bytes(in_str(w, "image"), &n);
    free(raw);
    json_object_set(keep, "strokes", json_object_get(w->input, "strokes"));
    json_object_set(keep, "image", json_object_get(w->input, "image"));
    json_object_set_new(
        out, "strokes",
        json_integer((json_int_t)json_array_size(json_object_get(w->input, "strokes"))));
    json_object_set_new(out, "image_bytes", json_integer((json_int_t)n));
    return WF_OK;
}

#define FIELDS(f) .fields = f, .nfields = sizeof f / sizeof f[0]

static const struct wf_step STEPS[] = {
    {.name = "idcard", FIELDS(F_IDCARD), .check = check_idcard, .apply = apply_idcard},
    {.name = "idcheck", .egress = "id_check", .request = req_idcheck, .apply = apply_idcheck},
    {.name = "face",
     FIELDS(F_FACE),
     .check = check_face,
     .egress = "face_compare",
     .request = req_face,
     .apply = apply_face},
    {.name = "customer",
     FIELDS(F_CUSTOMER),
     .check = check_customer,
     .egress = "biz_customer_create",
     .serial = true,
     .request = req_customer,
     .call = call_customer,
     .apply = apply_customer},
    {.name = "account",
     .egress = "biz_open_account",
     .serial = true,
     .request = req_account,
     .apply = apply_account,
     .undo = "close_account"},
    {.name = "card",
     FIELDS(F_CARD),
     .check = check_card,
     .egress = "bind_card",
     .serial = true,
     .request = req_card,
     .apply = apply_card,
     .undo = "unbind_card"},
    {.name = "pin",
     FIELDS(F_PIN),
     .check = check_pin,
     .egress = "biz_set_pin",
     .serial = true,
     .request = req_pin,
     .apply = apply_pin},
    {.name = "signature", FIELDS(F_SIGNATURE), .check = check_signature, .apply = apply_signature},
    {.name = WF_VOUCHER_STEP, .apply = wf_voucher_apply},
};

const struct wf_kind WF_DEBIT_CARD = {.name = "debit_card",
                                      .needs_customer = false,
                                      .steps = STEPS,
                                      .nsteps = sizeof STEPS / sizeof STEPS[0]};
