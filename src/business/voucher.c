/* voucher.c — issuing vouchers, and VOUCHER_GET, VOUCHER_VERIFY,
 * VOUCHER_LIST (see voucher.h). */
#include "business/voucher.h"

#include "business/biz.h"
#include "business/voucher_db.h"
#include "business/voucher_out.h"
#include "data/tenant.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/mask.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/kek.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT_MAX 64
#define TEXT_MAX 100
#define LIST_DEFAULT 20

static const struct {
    const char *kind, *title;
} KINDS[] = {
    {.kind = "debit_card", .title = "借记卡开卡"},
    {.kind = "ebank", .title = "电子银行签约"},
    {.kind = "loan", .title = "信贷业务申请"},
    {.kind = "credit_card", .title = "信用卡申请面签"},
    {.kind = "social_card", .title = "三代社保卡申领激活"},
    {.kind = "agency", .title = "中间业务签约"},
};

const char *voucher_kind_title(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(KINDS[i].kind, kind) == 0)
            return KINDS[i].title;
    return NULL;
}

const char *voucher_verdict_name(enum vch_verdict v)
{
    switch (v) {
    case VCH_INTACT:
        return "intact";
    case VCH_NOT_ISSUED:
        return "not_issued";
    case VCH_SM3_DIFFERS:
        return "sm3_differs";
    case VCH_BAD_SIGNATURE:
        return "bad_signature";
    case VCH_UNREADABLE:
        return "unreadable";
    }
    return "unreadable";
}

/* The user-facing reason of a verdict. */
static const char *verdict_text(enum vch_verdict v)
{
    switch (v) {
    case VCH_INTACT:
        return "凭证完整，与签发时一致";
    case VCH_NOT_ISSUED:
        return "该文件不是本行签发的凭证";
    case VCH_SM3_DIFFERS:
        return "凭证内容与签发时不一致（SM3摘要不同）";
    case VCH_BAD_SIGNATURE:
        return "凭证签名验证失败";
    case VCH_UNREADABLE:
        return "凭证存储内容无法解密";
    }
    return "凭证存储内容无法解密";
}

static void context_of(int64_t bank_id, int64_t id, char out[CONTEXT_MAX])
{
    snprintf(out, CONTEXT_MAX, "vchr|%" PRId64 "|%" PRId64, bank_id, id);
}

static int text_ok(const char *s, size_t min, size_t max)
{
    if (!s)
        return min == 0;
    size_t n = strlen(s);
    return n >= min && n <= max;
}

static int serial_ok(const char *s)
{
    if (!text_ok(s, 1, VCDB_SERIAL_MAX))
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int input_ok(const struct voucher_input *in)
{
    return in && voucher_kind_title(in->kind) && serial_ok(in->serial) && in->customer_id > 0 &&
           text_ok(in->customer_name, 1, TEXT_MAX) && text_ok(in->id_no, 15, 18) &&
           text_ok(in->teller, 1, TEXT_MAX) && text_ok(in->bank_name, 0, TEXT_MAX) &&
           text_ok(in->branch_name, 0, TEXT_MAX) && in->nfields <= VOUCHER_FIELDS_MAX &&
           (!in->nfields || in->fields) && in->signature_png && in->signature_len &&
           in->signature_len <= VOUCHER_SIG_PNG_MAX && text_ok(in->actor, 1, AUDIT_ACTOR_MAX) &&
           text_ok(in->recording_sm3, 0, 64);
}

/* The first 16 hex digits of SM3 of the key's public point. */
static int key_id_of(const sm2_key *k, char out[VCDB_KEY_ID_HEX + 1])
{
    uint8_t pub[SM2_PUB_LEN], d[SM3_LEN];
    char hex[2 * SM3_LEN + 1];
    sm_part p = {pub, sizeof pub};
    if (sm2_key_export_pub(k, pub) != SM_OK || sm3_digest(&p, 1, d) != SM_OK)
        return -1;
    hex_encode(d, sizeof d, hex, sizeof hex);
    memcpy(out, hex, VCDB_KEY_ID_HEX);
    out[VCDB_KEY_ID_HEX] = '\0';
    return 0;
}

static int sm3_hex(const uint8_t *p, size_t n, uint8_t raw[SM3_LEN], char hex[2 * SM3_LEN + 1])
{
    sm_part part = {p, n};
    if (sm3_digest(&part, 1, raw) != SM_OK)
        return -1;
    hex_encode(raw, SM3_LEN, hex, 2 * SM3_LEN + 1);
    return 0;
}

int voucher_number(int64_t bank_id, const char *serial, int64_t *n)
{
    char own[16];
    int64_t v = 0;
    if (!serial || strlen(serial) != 14 || strspn(serial, "0123456789") != 14 || bank_id <= 0)
        return -1;
    snprintf(own, sizeof own, "%05" PRId64, bank_id % 100000);
    if (memcmp(serial, own, 5) != 0)
        return -1;
    for (const char *p = serial; *p; p++)
        v = v * 10 + (*p - '0');
    /* bank % 100000 == 0, or business id 0: no business number */
    if (v < VOUCHER_BIZ_NUMBER_MIN || v % VOUCHER_BIZ_NUMBER_MIN == 0)
        return -1;
    *n = v;
    return 0;
}

void voucher_ready_wipe(struct voucher_ready *v)
{
    if (!v)
        return;
    if (v->pdf)
        secmem_wipe(v->pdf, v->n); /* it shows the customer's name */
    free(v->pdf);
    v->pdf = NULL;
    v->n = 0;
}

/* Renders, hashes and signs the voucher of in as id (number n) into v. */
static int render_as(const struct tx_env *env, const struct voucher_input *in, int64_t bank_id,
                     int64_t number, int64_t now_ms, struct voucher_ready *v)
{
    char masked[32];
    uint8_t d[SM3_LEN], sig[SM2_SIG_MAX];
    size_t siglen = 0;
    memset(v, 0, sizeof *v);
    if (mask_id_no(in->id_no, masked, sizeof masked) < 0)
        return VCH_BAD_INPUT;
    vcdb_id_format(bank_id, number, v->id, sizeof v->id);
    v->number = number;
    v->issued_at = now_ms;
    struct voucher_doc doc = {.id = v->id,
                              .bank_name = in->bank_name,
                              .branch_name = in->branch_name,
                              .title = voucher_kind_title(in->kind),
                              .serial = in->serial,
                              .time_ms = now_ms,
                              .customer_name = in->customer_name,
                              .id_no_masked = masked,
                              .teller = in->teller,
                              .fields = in->fields,
                              .nfields = in->nfields,
                              .signature_png = in->signature_png,
                              .signature_len = in->signature_len,
                              .recording_sm3 = in->recording_sm3};
    int rc = vpdf_render(&doc, &v->pdf, &v->n);
    if (rc != VPDF_OK)
        return rc == VPDF_BAD_INPUT ? VCH_BAD_INPUT : STORE_ERR;
    if (v->n > VOUCHER_PDF_MAX) {
        voucher_ready_wipe(v);
        return VCH_BAD_INPUT;
    }
    if (sm3_hex(v->pdf, v->n, d, v->sm3) != 0 ||
        vsign_sign(env->voucher_key, v->id, d, sig, sizeof sig, &siglen) != VS_OK ||
        key_id_of(env->voucher_key, v->key_id) != 0) {
        voucher_ready_wipe(v);
        return STORE_ERR;
    }
    hex_encode(sig, siglen, v->sig, sizeof v->sig);
    return VCH_OK;
}

int voucher_render(const struct tx_env *env, int64_t bank_id, const struct voucher_input *in,
                   int64_t now_ms, struct voucher_ready *out)
{
    int64_t number = 0;
    memset(out, 0, sizeof *out);
    if (!env || !env->voucher_key)
        return VCH_NO_KEY;
    if (!input_ok(in) || voucher_number(bank_id, in->serial, &number) != 0)
        return VCH_BAD_INPUT;
    return render_as(env, in, bank_id, number, now_ms, out);
}

/* Seals v, inserts its row and audits it; in the caller's transaction. */
static int seal_insert(struct tenant_conn *tc, const struct tx_env *env,
                       const struct voucher_input *in, const struct voucher_ready *v)
{
    const struct scope *sc = tenant_scope(tc);
    char ctx[CONTEXT_MAX], target[16 + VOUCHER_ID_MAX];
    struct vcdb_row r = {.id = v->number,
                         .customer_id = in->customer_id,
                         .branch_id = sc->branch_id,
                         .teller_id = sc->teller_id,
                         .issued_at = v->issued_at,
                         .size = (int64_t)v->n};
    snprintf(r.kind, sizeof r.kind, "%s", in->kind);
    snprintf(r.serial, sizeof r.serial, "%s", in->serial);
    snprintf(r.sm3, sizeof r.sm3, "%s", v->sm3);
    snprintf(r.sig, sizeof r.sig, "%s", v->sig);
    snprintf(r.key_id, sizeof r.key_id, "%s", v->key_id);
    size_t cap = kek_sealed_len(v->n), len = 0;
    r.pdf_sealed = malloc(cap);
    context_of(sc->bank_id, v->number, ctx);
    int rc = r.pdf_sealed && kek_seal(env->kek, ctx, v->pdf, v->n, r.pdf_sealed, cap, &len) == ID_OK
                 ? VCH_OK
                 : STORE_ERR;
    r.sealed_len = len;
    if (rc == VCH_OK)
        rc = vcdb_insert(tc, &r);
    snprintf(target, sizeof target, "voucher:%s", v->id);
    if (rc == VCH_OK)
        rc = audit_tenantf(tc, in->actor, "voucher.issued", target, "{s:s, s:s, s:I, s:s}", "kind",
                           in->kind, "serial", in->serial, "customer_id",
                           (json_int_t)in->customer_id, "sm3", r.sm3) == ID_OK
                 ? VCH_OK
                 : STORE_ERR;
    vcdb_row_free(&r);
    return rc;
}

/* VCH_EXISTS with id_out when the scope's bank has a voucher of serial;
 * VCH_OK when it has none; a store status. */
static int existing(struct tenant_conn *tc, const char *serial, char id_out[VOUCHER_ID_MAX + 1])
{
    int64_t id = 0;
    int rc = vcdb_find_serial(tc, serial, &id);
    if (rc == VCDB_OK) {
        vcdb_id_format(tenant_scope(tc)->bank_id, id, id_out, VOUCHER_ID_MAX + 1);
        return VCH_EXISTS;
    }
    return rc == VCDB_NONE ? VCH_OK : rc;
}

static bool meta_ok(const struct voucher_input *in)
{
    return in && voucher_kind_title(in->kind) && serial_ok(in->serial) && in->customer_id > 0 &&
           text_ok(in->actor, 1, AUDIT_ACTOR_MAX);
}

int voucher_store(struct tenant_conn *tc, const struct tx_env *env, const struct voucher_input *in,
                  const struct voucher_ready *v, char id_out[VOUCHER_ID_MAX + 1])
{
    uint8_t d[SM3_LEN];
    char hex[2 * SM3_LEN + 1], id[VOUCHER_ID_MAX + 1];
    int64_t number = 0;
    id_out[0] = '\0';
    if (!env || !env->kek)
        return VCH_NO_KEY;
    if (!meta_ok(in) || !v || !v->pdf || !v->n || v->n > VOUCHER_PDF_MAX)
        return VCH_BAD_INPUT;
    int64_t bank = tenant_scope(tc)->bank_id;
    vcdb_id_format(bank, v->number, id, sizeof id);
    if (voucher_number(bank, in->serial, &number) != 0 || number != v->number ||
        strcmp(id, v->id) != 0 || sm3_hex(v->pdf, v->n, d, hex) != 0 || strcmp(hex, v->sm3) != 0)
        return VCH_BAD_INPUT;
    int rc = existing(tc, in->serial, id_out);
    if (rc != VCH_OK)
        return rc;
    rc = seal_insert(tc, env, in, v);
    if (rc == VCH_OK)
        memcpy(id_out, v->id, sizeof v->id);
    return rc;
}

int voucher_issue(struct tenant_conn *tc, const struct tx_env *env, const struct voucher_input *in,
                  int64_t now_ms, char id_out[VOUCHER_ID_MAX + 1])
{
    id_out[0] = '\0';
    if (!env || !env->kek || !env->voucher_key)
        return VCH_NO_KEY;
    if (!input_ok(in))
        return VCH_BAD_INPUT;
    const struct scope *sc = tenant_scope(tc);
    int64_t id = 0;
    int rc = existing(tc, in->serial, id_out);
    if (rc != VCH_OK)
        return rc;
    if (voucher_number(sc->bank_id, in->serial, &id) != 0 &&
        (rc = vcdb_next_id(tc, &id)) != VCDB_OK)
        return rc;
    struct voucher_ready v;
    rc = render_as(env, in, sc->bank_id, id, now_ms, &v);
    if (rc == VCH_OK)
        rc = seal_insert(tc, env, in, &v);
    if (rc == VCH_OK)
        memcpy(id_out, v.id, sizeof v.id);
    voucher_ready_wipe(&v);
    return rc;
}

/* ---- reading and verifying ------------------------------------------------------- */

/* The record's signature over (id, sm3) under key: VCH_INTACT or VCH_BAD_SIGNATURE. */
static enum vch_verdict record_verdict(const sm2_key *key, int64_t bank_id,
                                       const struct vcdb_row *r)
{
    char id[VOUCHER_ID_MAX + 1];
    uint8_t d[SM3_LEN], sig[SM2_SIG_MAX];
    size_t hl = strlen(r->sig);
    vcdb_id_format(bank_id, r->id, id, sizeof id);
    if (strlen(r->sm3) != 2 * SM3_LEN || hex_decode(r->sm3, 2 * SM3_LEN, d, sizeof d) != SM3_LEN ||
        hl == 0 || hl % 2 || hl > 2 * SM2_SIG_MAX)
        return VCH_BAD_SIGNATURE;
    long sl = hex_decode(r->sig, hl, sig, sizeof sig);
    if (sl <= 0 || vsign_verify(key, id, d, sig, (size_t)sl) != VS_OK)
        return VCH_BAD_SIGNATURE;
    return VCH_INTACT;
}

int voucher_open(struct tenant_conn *tc, const struct kek *kek, const sm2_key *key, int64_t id,
                 struct vcdb_row *row, uint8_t **pdf, size_t *n, enum vch_verdict *verdict)
{
    struct vcdb_row r;
    char ctx[CONTEXT_MAX], hex[2 * SM3_LEN + 1];
    uint8_t d[SM3_LEN];
    const struct scope *sc = tenant_scope(tc);
    *pdf = NULL;
    *n = 0;
    *verdict = VCH_UNREADABLE;
    int rc = vcdb_get(tc, id, true, &r);
    if (rc != VCDB_OK)
        return rc == VCDB_NONE ? VCH_NONE : rc;
    uint8_t *plain = r.sealed_len > KEK_OVERHEAD ? malloc(r.sealed_len) : NULL;
    size_t len = 0;
    context_of(sc->bank_id, id, ctx);
    if (plain &&
        kek_open(kek, ctx, r.pdf_sealed, r.sealed_len, plain, r.sealed_len, &len) == ID_OK &&
        sm3_hex(plain, len, d, hex) == 0) {
        *verdict = strcmp(hex, r.sm3) != 0 ? VCH_SM3_DIFFERS : record_verdict(key, sc->bank_id, &r);
        *pdf = plain;
        *n = len;
        plain = NULL;
    } else if (!plain && r.sealed_len > KEK_OVERHEAD) {
        rc = STORE_NOMEM;
    }
    free(plain);
    vcdb_row_free(&r);
    if (row)
        *row = r;
    return rc == VCDB_OK ? VCH_OK : rc;
}

int voucher_check_pdf(struct tenant_conn *tc, const sm2_key *key, const uint8_t *pdf, size_t n,
                      enum vch_verdict *verdict, char id_out[VOUCHER_ID_MAX + 1])
{
    uint8_t d[SM3_LEN];
    char hex[2 * SM3_LEN + 1], claimed[VOUCHER_ID_MAX + 1];
    const struct scope *sc = tenant_scope(tc);
    int64_t id = 0, bank = 0;
    struct vcdb_row r;
    id_out[0] = '\0';
    *verdict = VCH_NOT_ISSUED;
    if (sm3_hex(pdf, n, d, hex) != 0)
        return STORE_ERR;
    int rc = vcdb_find_sm3(tc, hex, &id);
    if (rc == VCDB_OK) {
        rc = vcdb_get(tc, id, false, &r);
        if (rc != VCDB_OK)
            return rc == VCDB_NONE ? STORE_ERR : rc;
        vcdb_id_format(sc->bank_id, id, id_out, VOUCHER_ID_MAX + 1);
        *verdict = record_verdict(key, sc->bank_id, &r);
        return VCH_OK;
    }
    if (rc != VCDB_NONE)
        return rc;
    /* Not the bytes of any voucher: which one do they claim to be? */
    if (vsign_find_id(pdf, n, claimed) != VS_OK || vcdb_id_parse(claimed, &bank, &id) != 0 ||
        bank != sc->bank_id)
        return VCH_OK;
    rc = vcdb_get(tc, id, false, &r);
    if (rc == VCDB_NONE)
        return VCH_OK;
    if (rc != VCDB_OK)
        return rc;
    memcpy(id_out, claimed, sizeof claimed);
    *verdict = VCH_SM3_DIFFERS;
    return VCH_OK;
}

/* ---- the transactions ---------------------------------------------------------------- */

/* data.voucher_id of this bank: 1 with *id; 0 when it is not one (answered
 * voucher_not_found: another bank's id is answered as a missing one). */
static int voucher_id_of(struct tx_ctx *c, int64_t *id)
{
    int64_t bank = 0;
    const char *text = json_string_value(json_object_get(c->in, "voucher_id"));
    if (text && vcdb_id_parse(text, &bank, id) == 0 && bank == tenant_scope(c->tenant)->bank_id)
        return 1;
    return 0;
}

static json_t *row_json(int64_t bank_id, const struct vcdb_row *r)
{
    char id[VOUCHER_ID_MAX + 1];
    vcdb_id_format(bank_id, r->id, id, sizeof id);
    const char *title = voucher_kind_title(r->kind);
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}", "voucher_id", id, "kind",
                     r->kind, "title", title ? title : "", "serial", r->serial, "customer_id",
                     (json_int_t)r->customer_id, "branch_id", (json_int_t)r->branch_id, "teller_id",
                     (json_int_t)r->teller_id, "issued_at", (json_int_t)r->issued_at, "size",
                     (json_int_t)r->size, "sm3", r->sm3);
}

static enum tx_result tx_get(struct tx_ctx *c)
{
    char actor[AUDIT_ACTOR_MAX + 1], target[16 + VOUCHER_ID_MAX];
    const char *text = json_string_value(json_object_get(c->in, "voucher_id"));
    int64_t id = 0;
    struct vcdb_row r = {0};
    uint8_t *pdf = NULL;
    size_t n = 0;
    enum vch_verdict v = VCH_UNREADABLE;
    biz_actor(c, actor);
    snprintf(target, sizeof target, "voucher:%.*s", VOUCHER_ID_MAX, text ? text : "");
    int rc = voucher_id_of(c, &id)
                 ? voucher_open(c->tenant, c->env->kek, c->env->voucher_key, id, &r, &pdf, &n, &v)
                 : VCH_NONE;
    if (rc == VCH_NONE) {
        /* not the id asked for: it may name another bank's voucher, which
         * this bank's audit log must not show */
        tx_fail(c, ZE_VOUCHER_NOT_FOUND);
        rc = audit_tenantf(c->tenant, actor, "voucher.viewed", "voucher:-", "{s:b}", "found", 0);
        return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
    }
    if (rc != VCH_OK)
        return TX_ROLLBACK;
    json_t *meta = row_json(tenant_scope(c->tenant)->bank_id, &r);
    char *b64 = pdf ? malloc(b64_encoded_len(n) + 1) : NULL;
    rc = meta && json_object_update(c->out, meta) == 0 ? 0 : -1;
    json_decref(meta);
    if (rc == 0 && pdf)
        rc = b64 && b64_encode(pdf, n, b64, b64_encoded_len(n) + 1) >= 0 &&
                     json_object_set_new(c->out, "pdf", json_string(b64)) == 0
                 ? 0
                 : -1;
    if (rc == 0)
        rc = json_object_set_new(c->out, "signature", json_string(r.sig)) ||
                     json_object_set_new(c->out, "key_id", json_string(r.key_id)) ||
                     json_object_set_new(c->out, "intact", json_boolean(v == VCH_INTACT)) ||
                     json_object_set_new(c->out, "verdict", json_string(voucher_verdict_name(v)))
                 ? -1
                 : 0;
    if (pdf)
        secmem_wipe(pdf, n);
    free(pdf);
    free(b64);
    if (rc != 0)
        return TX_ROLLBACK;
    /* its delivery to the paperless platform (voucher_out.h); null: none */
    struct vout_row o;
    int orc = vout_get(c->tenant, id, &o);
    if (orc != VOUT_OK && orc != VOUT_NONE)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "delivery", orc == VOUT_OK ? vout_json(&o) : json_null());
    if (v != VCH_INTACT)
        log_warn("voucher.damaged", "voucher %s: %s", text, voucher_verdict_name(v));
    rc = audit_tenantf(c->tenant, actor, "voucher.viewed", target, "{s:b, s:s}", "found", 1,
                       "verdict", voucher_verdict_name(v));
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

static enum tx_result tx_verify(struct tx_ctx *c)
{
    char actor[AUDIT_ACTOR_MAX + 1], target[16 + VOUCHER_ID_MAX], id[VOUCHER_ID_MAX + 1] = "";
    json_t *jid = json_object_get(c->in, "voucher_id"), *jpdf = json_object_get(c->in, "pdf");
    enum vch_verdict v = VCH_NOT_ISSUED;
    int rc;
    if (!jid == !jpdf) {
        tx_failf(c, ZE_BAD_REQUEST, "data: 须且仅须给出 voucher_id 或 pdf 之一");
        return TX_COMMIT;
    }
    biz_actor(c, actor);
    if (jid) {
        int64_t n64 = 0;
        uint8_t *pdf = NULL;
        size_t n = 0;
        snprintf(id, sizeof id, "%s", json_string_value(jid));
        rc = voucher_id_of(c, &n64) ? voucher_open(c->tenant, c->env->kek, c->env->voucher_key, n64,
                                                   NULL, &pdf, &n, &v)
                                    : VCH_NONE;
        if (pdf)
            secmem_wipe(pdf, n);
        free(pdf);
        snprintf(target, sizeof target, "voucher:%s", id);
        if (rc == VCH_NONE) {
            tx_fail(c, ZE_VOUCHER_NOT_FOUND);
            rc = audit_tenantf(c->tenant, actor, "voucher.verified", "voucher:-", "{s:b}", "found",
                               0);
            return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
        }
    } else {
        const char *text = json_string_value(jpdf);
        size_t tl = strlen(text), cap = b64_decoded_max(tl);
        uint8_t *pdf = malloc(cap ? cap : 1);
        long n = pdf ? b64_decode(text, tl, pdf, cap) : -1;
        if (!pdf || n <= 0) {
            free(pdf);
            if (!pdf)
                return TX_ROLLBACK;
            tx_failf(c, ZE_BAD_REQUEST, "data.pdf: 须为非空的base64文本");
            return TX_COMMIT;
        }
        rc = voucher_check_pdf(c->tenant, c->env->voucher_key, pdf, (size_t)n, &v, id);
        free(pdf);
        snprintf(target, sizeof target, "voucher:%s", id[0] ? id : "-");
    }
    if (rc != VCH_OK)
        return TX_ROLLBACK;
    if ((id[0] && json_object_set_new(c->out, "voucher_id", json_string(id))) ||
        json_object_set_new(c->out, "intact", json_boolean(v == VCH_INTACT)) ||
        json_object_set_new(c->out, "verdict", json_string(voucher_verdict_name(v))) ||
        json_object_set_new(c->out, "reason", json_string(verdict_text(v))))
        return TX_ROLLBACK;
    rc = audit_tenantf(c->tenant, actor, "voucher.verified", target, "{s:b, s:s}", "found", 1,
                       "verdict", voucher_verdict_name(v));
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

struct list_out {
    int64_t bank_id;
    json_t *items;
};

static int list_item(const struct vcdb_row *r, void *arg)
{
    struct list_out *l = arg;
    json_t *item = row_json(l->bank_id, r);
    return item && json_array_append_new(l->items, item) == 0 ? 0 : STORE_NOMEM;
}

static enum tx_result tx_list(struct tx_ctx *c)
{
    char actor[AUDIT_ACTOR_MAX + 1], target[40];
    json_t *lim = json_object_get(c->in, "limit"), *cust = json_object_get(c->in, "customer_id");
    int64_t customer = cust ? json_integer_value(cust) : 0;
    if (lim && (json_integer_value(lim) < 1 || json_integer_value(lim) > VOUCHER_LIST_MAX)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.limit: 须为1到%d之间的整数", VOUCHER_LIST_MAX);
        return TX_COMMIT;
    }
    if (cust && customer <= 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.customer_id: 须为正整数");
        return TX_COMMIT;
    }
    struct list_out l = {.bank_id = tenant_scope(c->tenant)->bank_id, .items = json_array()};
    if (!l.items)
        return TX_ROLLBACK;
    int rc = vcdb_list(c->tenant, customer, lim ? (int)json_integer_value(lim) : LIST_DEFAULT,
                       list_item, &l);
    if (rc != VCDB_OK || json_object_set_new(c->out, "items", l.items) != 0)
        return TX_ROLLBACK;
    if (customer)
        biz_target(target, sizeof target, "customer", customer);
    else
        snprintf(target, sizeof target, "vouchers");
    biz_actor(c, actor);
    rc = audit_tenantf(c->tenant, actor, "voucher.listed", target, "{s:I}", "count",
                       (json_int_t)json_array_size(l.items));
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

static const struct tx_field F_GET[] = {
    {.name = "voucher_id", .type = TXF_STRING, .required = true, .max = VOUCHER_ID_MAX},
};
static const struct tx_field F_VERIFY[] = {
    {.name = "voucher_id", .type = TXF_STRING, .max = VOUCHER_ID_MAX},
    {.name = "pdf", .type = TXF_STRING, .max = (VOUCHER_PDF_MAX / 3 + 1) * 4},
};
static const struct tx_field F_LIST[] = {
    {.name = "customer_id", .type = TXF_INT},
    {.name = "limit", .type = TXF_INT},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

const struct tx_def TX_VOUCHER_GET = {.code = "VOUCHER_GET",
                                      .fn = tx_get,
                                      .needs_session = true,
                                      .bank_data = true,
                                      .fields = F_GET,
                                      .nfields = NF(F_GET)};
const struct tx_def TX_VOUCHER_VERIFY = {.code = "VOUCHER_VERIFY",
                                         .fn = tx_verify,
                                         .needs_session = true,
                                         .bank_data = true,
                                         .fields = F_VERIFY,
                                         .nfields = NF(F_VERIFY)};
const struct tx_def TX_VOUCHER_LIST = {.code = "VOUCHER_LIST",
                                       .fn = tx_list,
                                       .needs_session = true,
                                       .bank_data = true,
                                       .fields = F_LIST,
                                       .nfields = NF(F_LIST)};
