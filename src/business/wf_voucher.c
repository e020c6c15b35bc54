/* wf_voucher.c — the voucher step of every business kind (wf_voucher.h). */
#include "business/wf_voucher.h"

#include "business/vrec_db.h"

#include "business/biz.h"
#include "business/voucher_db.h"
#include "business/voucher_out.h"

#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/mask.h"
#include "foundation/secmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum fmt { F_TEXT = 0, F_CARD, F_FEN, F_PHONE };

struct label {
    const char *member;
    const char *label; /* NULL: not shown */
    enum fmt fmt;
};

static const struct label LABELS[] = {
    {.member = "account_no", .label = "账号"},
    {.member = "card_no", .label = "卡号", .fmt = F_CARD},
    {.member = "product", .label = "产品"},
    {.member = "amount", .label = "金额", .fmt = F_FEN},
    {.member = "term_months", .label = "期限(月)"},
    {.member = "purpose", .label = "用途"},
    {.member = "collateral", .label = "担保方式"},
    {.member = "decision", .label = "预审结果"},
    {.member = "limit", .label = "额度", .fmt = F_FEN},
    {.member = "application_no", .label = "申请编号"},
    {.member = "contract_no", .label = "合约编号"},
    {.member = "ebank_id", .label = "电子银行编号"},
    {.member = "products", .label = "签约产品"},
    {.member = "agency_code", .label = "代理业务"},
    {.member = "payer_no", .label = "缴费号"},
    {.member = "social_no", .label = "社保卡号"},
    {.member = "status", .label = "状态"},
    {.member = "cust_no", .label = "客户号"},
    {.member = "mobile", .label = "手机号", .fmt = F_PHONE},
    {.member = "result", .label = "联网核查"},
    /* shown apart (the header's name and masked ID) or technical: left out */
    {.member = "name"},
    {.member = "id_no"},
    {.member = "customer_id"},
    {.member = "created"},
    {.member = "core_created"},
    {.member = "photo_returned"},
    {.member = "score"},
    {.member = "threshold"},
    {.member = "liveness"},
    {.member = "pin_set"},
    {.member = "strokes"},
    {.member = "image_bytes"},
    {.member = "voucher_id"},
};

static const struct label *label_of(const char *member)
{
    for (size_t i = 0; i < sizeof LABELS / sizeof LABELS[0]; i++)
        if (strcmp(LABELS[i].member, member) == 0)
            return &LABELS[i];
    return NULL;
}

/* Cuts s (NUL-terminated in a buffer of cap) at a UTF-8 boundary below cap. */
static void cut_utf8(char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n + 1 < cap)
        return;
    n = cap - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    s[n] = '\0';
}

static bool all_digits(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && strspn(s, "0123456789") == n;
}

/* A scalar as text into out; false for what is not shown (null, object). */
static bool scalar(const json_t *v, enum fmt f, char *out, size_t cap)
{
    char tmp[513];
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (f == F_CARD && all_digits(s) && strlen(s) < sizeof tmp &&
            mask_card(s, tmp, sizeof tmp) >= 0)
            s = tmp;
        else if (f == F_PHONE && all_digits(s) && strlen(s) < sizeof tmp &&
                 mask_phone(s, tmp, sizeof tmp) >= 0)
            s = tmp;
        snprintf(out, cap, "%s", s);
    } else if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (f == F_FEN)
            snprintf(out, cap, "%s%" JSON_INTEGER_FORMAT ".%02d 元", x < 0 ? "-" : "",
                     (x < 0 ? -x : x) / 100, (int)((x < 0 ? -x : x) % 100));
        else
            snprintf(out, cap, "%" JSON_INTEGER_FORMAT, x);
    } else if (json_is_real(v)) {
        snprintf(out, cap, "%.2f", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(out, cap, "%s", json_is_true(v) ? "是" : "否");
    } else {
        return false;
    }
    cut_utf8(out, cap);
    return true;
}

static bool value_of(const json_t *v, enum fmt f, char *out, size_t cap)
{
    if (!json_is_array(v))
        return scalar(v, f, out, cap);
    size_t i, used = 0;
    json_t *e;
    out[0] = '\0';
    json_array_foreach(v, i, e)
    {
        char one[513];
        if (!scalar(e, f, one, sizeof one))
            continue;
        int k = snprintf(out + used, cap - used, "%s%s", used ? "、" : "", one);
        if (k < 0 || (size_t)k >= cap - used)
            break;
        used += (size_t)k;
    }
    cut_utf8(out, cap);
    return used > 0;
}

size_t wf_voucher_fields(const json_t *outs, struct wf_voucher_buf *buf,
                         struct voucher_field f[VOUCHER_FIELDS_MAX])
{
    size_t n = 0;
    const char *step;
    json_t *out;
    json_object_foreach((json_t *)outs, step, out)
    {
        const char *member;
        json_t *v;
        json_object_foreach(out, member, v)
        {
            const struct label *l = label_of(member);
            bool seen = false;
            if (n == VOUCHER_FIELDS_MAX || (l && !l->label))
                continue;
            snprintf(buf->label[n], sizeof buf->label[n], "%s", l ? l->label : member);
            cut_utf8(buf->label[n], sizeof buf->label[n]);
            for (size_t i = 0; i < n && !seen; i++)
                seen = strcmp(f[i].label, buf->label[n]) == 0;
            if (seen || !value_of(v, l ? l->fmt : F_TEXT, buf->value[n], sizeof buf->value[n]))
                continue;
            f[n].label = buf->label[n];
            f[n].value = buf->value[n];
            n++;
        }
    }
    return n;
}

static const char *kept(const struct wf_call *w, const char *step, const char *member)
{
    return json_string_value(json_object_get(json_object_get(w->state, step), member));
}

/* The voucher's input from the kept state and the scope (png and buf the
 * caller's, freed by it). WF_OK, WF_FAIL (w->msg), WF_ERR. */
static int input_of(struct wf_call *w, struct voucher_input *in, uint8_t **png, size_t *pngcap,
                    struct wf_voucher_buf **buf, struct voucher_field fields[VOUCHER_FIELDS_MAX],
                    char serial[WF_BIZ_NO_LEN + 1], char teller[48],
                    char actor[AUDIT_ACTOR_MAX + 1])
{
    const char *name = kept(w, "idcard", "name"), *id_no = kept(w, "idcard", "id_no"),
               *image = kept(w, "signature", "image");
    *png = NULL;
    *pngcap = 0;
    *buf = NULL;
    if (!name || !id_no || !image || !w->tx || !w->tx->tenant) {
        snprintf(w->msg, sizeof w->msg, "业务缺少身份证或签名信息, 无法出具凭证");
        return WF_FAIL;
    }
    const struct scope *sc = tenant_scope(w->tx->tenant);
    size_t len = strlen(image), cap = b64_decoded_max(len);
    *png = cap > 0 && cap <= VOUCHER_SIG_PNG_MAX * 2 ? malloc(cap) : NULL;
    *pngcap = *png ? cap : 0;
    long n = *png ? b64_decode(image, len, *png, cap) : -1;
    *buf = calloc(1, sizeof **buf);
    if (n <= 0 || !*buf)
        return WF_ERR;
    wf_biz_no(sc->bank_id, w->biz_id, serial);
    snprintf(teller, 48, "柜员 #%" PRId64, sc->teller_id);
    biz_actor(w->tx, actor);
    *in = (struct voucher_input){
        .kind = w->kind,
        .serial = serial,
        .customer_id = w->customer_id,
        .customer_name = name,
        .id_no = id_no,
        .teller = teller,
        .bank_name = w->tx->bank_name,
        .branch_name = w->tx->branch_name,
        .fields = fields,
        .nfields = wf_voucher_fields(w->outs, *buf, fields),
        .signature_png = *png,
        .signature_len = (size_t)n,
        .actor = actor,
    };
    /* 双录: the business's stored recording is named by its hash */
    size_t k = in->nfields;
    int vrc = vdb_sm3_of_biz(w->tx->tenant, serial, (*buf)->rec_sm3);
    if (vrc == VDB_OK) {
        in->recording_sm3 = (*buf)->rec_sm3;
        if (k < VOUCHER_FIELDS_MAX) {
            snprintf((*buf)->label[k], sizeof(*buf)->label[k], "%s", "双录录像SM3");
            snprintf((*buf)->value[k], sizeof(*buf)->value[k], "%s", (*buf)->rec_sm3);
            fields[k].label = (*buf)->label[k];
            fields[k].value = (*buf)->value[k];
            in->nfields = k + 1;
        }
    } else if (vrc != VDB_NONE) {
        return WF_ERR;
    }
    return WF_OK;
}

int wf_voucher_prepare(struct wf_call *w, json_t **made)
{
    struct voucher_input in;
    struct voucher_field fields[VOUCHER_FIELDS_MAX];
    struct wf_voucher_buf *buf = NULL;
    char serial[WF_BIZ_NO_LEN + 1], teller[48], actor[AUDIT_ACTOR_MAX + 1];
    uint8_t *png = NULL;
    size_t pngcap = 0;
    *made = NULL;
    int res = input_of(w, &in, &png, &pngcap, &buf, fields, serial, teller, actor);
    if (res != WF_OK)
        goto out;
    struct voucher_ready v;
    int rc = voucher_render(w->env, tenant_scope(w->tx->tenant)->bank_id, &in, clock_wall_ms(), &v);
    if (rc == VCH_BAD_INPUT) { /* e.g. a signature image that does not decode */
        log_error("biz.voucher", "biz=%" PRId64 " kind=%s: the voucher's input is refused",
                  w->biz_id, w->kind);
        snprintf(w->msg, sizeof w->msg, "凭证无法生成: 签名图像或业务要素无效");
        res = WF_FAIL;
        goto out;
    }
    res = WF_ERR;
    if (rc != VCH_OK)
        goto out;
    char *b64 = malloc(b64_encoded_len(v.n) + 1);
    if (b64 && b64_encode(v.pdf, v.n, b64, b64_encoded_len(v.n) + 1) >= 0)
        *made = json_pack("{s:s,s:I,s:I,s:s,s:s,s:s,s:s}", "id", v.id, "number",
                          (json_int_t)v.number, "issued_at", (json_int_t)v.issued_at, "sm3", v.sm3,
                          "sig", v.sig, "key_id", v.key_id, "pdf", b64);
    if (b64)
        secmem_wipe(b64, strlen(b64)); /* the PDF shows the customer's name */
    free(b64);
    voucher_ready_wipe(&v);
    res = *made ? WF_OK : WF_ERR;
out:
    if (png)
        memset(png, 0, pngcap);
    free(png);
    free(buf);
    return res;
}

/* The voucher prepare made (the step's reply) as a voucher_ready (pdf
 * malloc'd). 0, or -1 when it is not one. */
static int ready_of(const json_t *made, struct voucher_ready *v)
{
    const char *id = json_string_value(json_object_get(made, "id")),
               *sm3 = json_string_value(json_object_get(made, "sm3")),
               *sig = json_string_value(json_object_get(made, "sig")),
               *key_id = json_string_value(json_object_get(made, "key_id")),
               *pdf = json_string_value(json_object_get(made, "pdf"));
    memset(v, 0, sizeof *v);
    if (!id || !sm3 || !sig || !key_id || !pdf || strlen(id) > VOUCHER_ID_MAX ||
        strlen(sm3) >= sizeof v->sm3 || strlen(sig) >= sizeof v->sig ||
        strlen(key_id) >= sizeof v->key_id)
        return -1;
    size_t len = strlen(pdf), cap = b64_decoded_max(len);
    v->pdf = cap ? malloc(cap) : NULL;
    long n = v->pdf ? b64_decode(pdf, len, v->pdf, cap) : -1;
    if (n <= 0) {
        free(v->pdf);
        v->pdf = NULL;
        return -1;
    }
    v->n = (size_t)n;
    v->number = json_integer_value(json_object_get(made, "number"));
    v->issued_at = json_integer_value(json_object_get(made, "issued_at"));
    snprintf(v->id, sizeof v->id, "%s", id);
    snprintf(v->sm3, sizeof v->sm3, "%s", sm3);
    snprintf(v->sig, sizeof v->sig, "%s", sig);
    snprintf(v->key_id, sizeof v->key_id, "%s", key_id);
    return 0;
}

int wf_voucher_apply(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)keep;
    char serial[WF_BIZ_NO_LEN + 1], actor[AUDIT_ACTOR_MAX + 1], id[VOUCHER_ID_MAX + 1];
    struct voucher_ready v;
    if (!w->tx || !w->tx->tenant || !reply || ready_of(reply, &v) != 0)
        return WF_ERR; /* only what the prepare phase rendered: nothing renders here */
    struct tenant_conn *tc = w->tx->tenant;
    wf_biz_no(tenant_scope(tc)->bank_id, w->biz_id, serial);
    biz_actor(w->tx, actor);
    struct voucher_input in = {
        .kind = w->kind, .serial = serial, .customer_id = w->customer_id, .actor = actor};
    int64_t bank = 0, vid = 0;
    int res = WF_ERR, rc = voucher_store(tc, w->env, &in, &v, id);
    if ((rc == VCH_OK || rc == VCH_EXISTS) && vcdb_id_parse(id, &bank, &vid) == 0 &&
        vout_add(tc, vid, v.issued_at) == VOUT_OK) {
        json_object_set_new(out, "voucher_id", json_string(id));
        res = WF_OK;
    } else if (rc != VCH_OK && rc != VCH_EXISTS) {
        log_error("biz.voucher", "biz=%" PRId64 " kind=%s: the voucher is not stored (%d)",
                  w->biz_id, w->kind, rc);
    }
    voucher_ready_wipe(&v);
    return res;
}
