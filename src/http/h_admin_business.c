/* The back office's businesses and vouchers (docs/api.md §2.3,
 * docs/console.md "Back office"):
 *
 *   GET /api/v1/admin/businesses?bank=&kind=&status=&from=&to=&limit=
 *     -> 200 {"businesses": [{"bank", "biz_no", "kind", "title", "status",
 *             "customer_id", "branch", "branch_name", "teller", "created_at",
 *             "updated_at"}], "more"}; from / to Unix ms bounds of created_at.
 *   GET /api/v1/admin/businesses/get?biz_no=
 *     -> 200 {"business": {as a row, "next_step", "steps": [{"step",
 *             "state", "attempt", "result"?, "message"?, "updated_at"?}]},
 *             "attachments": [...], "voucher": {"voucher_id", "intact",
 *             "verdict", "reason", "sm3", "issued_at", "size"} | null}
 *     Step results are the engine's `out` members (what BIZ_GET shows: no
 *     PIN block, masked card numbers); the sealed `keep` never leaves. The
 *     voucher's verdict is voucher_open's own check (VOUCHER_VERIFY by id).
 *     Audited biz.viewed (target biz:<id>).
 *   GET /api/v1/admin/vouchers/get?id=V<bank>-<n>
 *     -> 200 application/pdf, the PDF as issued; audited voucher.viewed
 *     ({"found", "verdict", "channel":"console"}). 404 for an unreadable one.
 *
 * The bank of a business or voucher is the one its number names (biz_no's
 * first 5 digits, the voucher id's V<bank>); outside the administrator's
 * scope, or (a branch manager) not of their branch (the business's
 * starting branch, the voucher's branch), it is 404 not_found like a
 * missing one. */
#include "app/app.h"
#include "business/attach_db.h"
#include "business/voucher.h"
#include "business/voucher_db.h"
#include "business/wf.h"
#include "business/wf_db.h"
#include "foundation/mask.h"
#include "foundation/secmem.h"
#include "http/admin_bank.h"
#include "http/handlers.h"
#include "identity/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define SCAN_MAX 2000

static const char *reason_of(enum vch_verdict v)
{
    static const char *const text[] = {
        [VCH_INTACT] = "验签通过：凭证与签发时一致",
        [VCH_NOT_ISSUED] = "非本行签发的凭证",
        [VCH_SM3_DIFFERS] = "凭证内容与签发时不一致（已被篡改）",
        [VCH_BAD_SIGNATURE] = "签名验证失败",
        [VCH_UNREADABLE] = "凭证无法读取",
    };
    return (unsigned)v < sizeof text / sizeof text[0] ? text[v] : "未知";
}

static json_t *biz_json(struct admin_req *ar, const char *bank, const struct wdb_biz *b)
{
    char bc[ORG_CODE_MAX + 1], bn[ORG_NAME_MAX + 1], tc[TELLER_CODE_MAX + 1],
        tn[TELLER_NAME_MAX + 1];
    admin_bank_branch(ar, b->branch_id, bc, bn);
    admin_bank_teller(ar, b->teller_id, tc, tn);
    const char *title = voucher_kind_title(b->kind);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "bank", bank,
                     "biz_no", b->biz_no, "kind", b->kind, "title", title ? title : b->kind,
                     "status", b->status, "customer_id", (json_int_t)b->customer_id, "branch", bc,
                     "branch_name", bn, "teller", tc, "teller_name", tn, "created_at",
                     (json_int_t)b->created_at, "updated_at", (json_int_t)b->updated_at);
}

/* ---- the list ------------------------------------------------------------------------- */

struct list {
    struct admin_req *ar;
    char bank[ORG_CODE_MAX + 1];
    const char *kind, *status;
    int64_t from, to;
    json_t *items;
    int limit, n;
    bool more;
};

static int list_row(const struct wdb_biz *b, void *arg)
{
    struct list *l = arg;
    if (!admin_bank_row_visible(l->ar, b->branch_id) || (l->from && b->created_at < l->from) ||
        (l->to && b->created_at >= l->to))
        return 0;
    if (l->n >= l->limit) {
        l->more = true;
        return 1;
    }
    l->n++;
    json_t *row = biz_json(l->ar, l->bank, b);
    return row && json_array_append_new(l->items, row) == 0 ? 0 : STORE_NOMEM;
}

static int list_bank(struct tenant_conn *tc, void *arg)
{
    struct list *l = arg;
    int rc = wdb_list(tc, 0, l->status, l->kind, 0, SCAN_MAX, list_row, l);
    return rc == 1 ? WDB_OK : rc;
}

static bool status_ok(const char *s)
{
    return !s[0] || strcmp(s, "open") == 0 || strcmp(s, "completed") == 0 ||
           strcmp(s, "cancelling") == 0 || strcmp(s, "cancelled") == 0;
}

void h_admin_businesses(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    const char *lim = admin_query(req, "limit"), *from = admin_query(req, "from"),
               *to = admin_query(req, "to"), *kind = admin_query(req, "kind"),
               *status = admin_query(req, "status");
    struct list l = {.ar = &ar,
                     .kind = kind ? kind : "",
                     .status = status ? status : "",
                     .from = from ? atoll(from) : 0,
                     .to = to ? atoll(to) : 0,
                     .items = json_array(),
                     .limit = lim ? atoi(lim) : LIST_DEFAULT};
    int64_t ids[ADMIN_BANKS_MAX];
    size_t n = 0;
    if (l.limit < 1 || l.limit > LIST_MAX || (l.kind[0] && !wf_kind_find(l.kind)) ||
        !status_ok(l.status)) {
        http_error(resp, ZE_BAD_REQUEST,
                   l.limit < 1 || l.limit > LIST_MAX ? "limit: 1..200"
                   : !status_ok(l.status) ? "status: open、completed、cancelling 或 cancelled"
                                          : "kind: 未知的业务种类");
        goto out;
    }
    int rc = l.items ? admin_bank_ids(&ar, ids, &n) : STORE_NOMEM;
    for (size_t i = 0; rc == ID_OK && i < n && !l.more; i++) {
        char bn[ORG_NAME_MAX + 1];
        admin_bank_names(&ar, ids[i], l.bank, bn);
        rc = admin_bank_read(&ar, ids[i], list_bank, &l);
    }
    if (rc == ID_OK)
        http_json(resp, 200, json_pack("{s:O, s:b}", "businesses", l.items, "more", l.more));
    else
        admin_fail(&ar, rc, "list businesses");
out:
    json_decref(l.items);
    admin_close(&ar);
}

/* ---- one business ---------------------------------------------------------------------- */

/* The bank a number names, if the administrator sees it; 0 otherwise. */
static int64_t bank_named(struct admin_req *ar, int64_t bank_id)
{
    return bank_id > 0 && admin_sees_bank(ar, bank_id) ? bank_id : 0;
}

struct view {
    struct admin_req *ar;
    char biz_no[WF_BIZ_NO_LEN + 1];
    int64_t id;
    bool found;
    json_t *out;
};

static int attach_row(const struct adb_row *r, void *arg)
{
    json_t *row = json_pack("{s:I, s:s, s:s, s:I, s:s, s:I}", "attachment_id", (json_int_t)r->id,
                            "kind", r->kind, "mime", r->mime, "size", (json_int_t)r->size, "sm3",
                            r->sm3, "stored_at", (json_int_t)r->stored_at);
    return row && json_array_append_new(arg, row) == 0 ? 0 : STORE_NOMEM;
}

/* The voucher of the business's voucher step, checked; json null when none. */
static json_t *voucher_json(struct tenant_conn *tc, struct admin_req *ar, const json_t *vid)
{
    int64_t bank = 0, id = 0;
    const char *text = json_string_value(vid);
    if (!text || vcdb_id_parse(text, &bank, &id) != 0 || bank != tenant_scope(tc)->bank_id)
        return json_null();
    struct vcdb_row r;
    uint8_t *pdf = NULL;
    size_t n = 0;
    enum vch_verdict v = VCH_UNREADABLE;
    memset(&r, 0, sizeof r);
    int rc = voucher_open(tc, &ar->app->kek, ar->app->voucher_key, id, &r, &pdf, &n, &v);
    if (pdf) {
        secmem_wipe(pdf, n);
        free(pdf);
    }
    if (rc != VCH_OK)
        return json_null();
    return json_pack("{s:s, s:b, s:s, s:s, s:s, s:I, s:I}", "voucher_id", text, "intact",
                     v == VCH_INTACT, "verdict", voucher_verdict_name(v), "reason", reason_of(v),
                     "sm3", r.sm3, "issued_at", (json_int_t)r.issued_at, "size",
                     (json_int_t)r.size);
}

/* Card numbers in clear in a recorded result (the engine masks its own;
 * older or imported records may not) are masked before they leave. */
static void mask_cards(json_t *result)
{
    const char *key;
    json_t *v;
    json_object_foreach(result, key, v)
    {
        size_t kl = strlen(key);
        char masked[32];
        if (kl < 7 || strcmp(key + kl - 7, "card_no") != 0 || !json_is_string(v) ||
            strchr(json_string_value(v), '*'))
            continue;
        const char *pan = json_string_value(v);
        size_t n = strlen(pan);
        if (mask_card(pan, masked, sizeof masked) < 0) { /* not 16..19 digits: 4 + stars + 4 */
            snprintf(masked, sizeof masked, "****");
            if (n > 8 && n < sizeof masked)
                snprintf(masked, sizeof masked, "%.4s%.*s%s", pan, (int)(n - 8),
                         "************************", pan + n - 4);
        }
        json_string_set(v, masked);
    }
}

static json_t *steps_json(const struct wf_kind *k, const struct wdb_step st[WF_MAX_STEPS],
                          const json_t **vid)
{
    json_t *steps = json_array();
    for (size_t i = 0; steps && k && i < k->nsteps; i++) {
        const struct wdb_step *s = &st[i];
        json_t *one = json_pack("{s:s, s:s, s:i}", "step", k->steps[i].name, "state",
                                s->ran ? s->state : "pending", "attempt", s->attempt);
        json_t *res = one && s->out ? json_deep_copy(s->out) : NULL;
        if (res) {
            mask_cards(res);
            json_object_set_new(one, "result", res);
        }
        if (one && s->message[0])
            json_object_set_new(one, "message", json_string(s->message));
        if (one && s->ran)
            json_object_set_new(one, "updated_at", json_integer(s->updated_at));
        if (s->out && strcmp(k->steps[i].name, WF_VOUCHER_STEP) == 0)
            *vid = json_object_get(s->out, "voucher_id");
        json_array_append_new(steps, one);
    }
    return steps;
}

static int view_parts(struct tenant_conn *tc, struct view *v, const struct wdb_biz *b)
{
    struct wdb_step st[WF_MAX_STEPS];
    memset(st, 0, sizeof st);
    int rc = wdb_steps(tc, &v->ar->app->kek, b, st);
    if (rc != WDB_OK)
        return rc;
    const struct wf_kind *k = wf_kind_find(b->kind);
    const json_t *vid = NULL;
    char bank[ORG_CODE_MAX + 1], bankn[ORG_NAME_MAX + 1];
    admin_bank_names(v->ar, tenant_scope(tc)->bank_id, bank, bankn);
    json_t *biz = biz_json(v->ar, bank, b), *steps = steps_json(k, st, &vid), *att = json_array();
    json_t *voucher = vid ? voucher_json(tc, v->ar, vid) : json_null();
    wdb_steps_free(st);
    rc = biz && steps && att && voucher ? STORE_OK : STORE_NOMEM;
    if (rc == STORE_OK)
        rc = adb_list_linked(tc, "business", b->biz_no, 100, attach_row, att);
    if (rc == STORE_OK && k && b->next_step < (int)k->nsteps && strcmp(b->status, "open") == 0)
        json_object_set_new(biz, "next_step", json_string(k->steps[b->next_step].name));
    json_decref(v->out);
    v->out = NULL;
    if (rc == STORE_OK) {
        json_object_set_new(biz, "steps", steps);
        v->out =
            json_pack("{s:o, s:o, s:o}", "business", biz, "attachments", att, "voucher", voucher);
        return v->out ? STORE_OK : STORE_NOMEM;
    }
    json_decref(biz);
    json_decref(steps);
    json_decref(att);
    json_decref(voucher);
    return rc;
}

static int view_txn(struct tenant_conn *tc, void *arg)
{
    struct view *v = arg;
    struct wdb_biz b;
    char target[40];
    int rc = wdb_get(tc, v->id, &b);
    v->found = rc == WDB_OK && strcmp(b.biz_no, v->biz_no) == 0 &&
               admin_bank_row_visible(v->ar, b.branch_id);
    if (rc != WDB_OK && rc != WDB_NONE)
        return rc;
    rc = v->found ? view_parts(tc, v, &b) : WDB_OK;
    if (rc != WDB_OK)
        return rc;
    snprintf(target, sizeof target, "biz:%lld", (long long)v->id);
    rc = audit_tenantf(tc, v->ar->actor, "biz.viewed", v->found ? target : "biz:-", "{s:b, s:s}",
                       "found", v->found, "channel", "console");
    return rc == ID_OK ? WDB_OK : rc;
}

void h_admin_business_get(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    const char *no = admin_query(req, "biz_no");
    struct view v = {.ar = &ar};
    int64_t bank = 0;
    bool ok = no && strlen(no) == WF_BIZ_NO_LEN && strspn(no, "0123456789") == WF_BIZ_NO_LEN;
    if (ok) {
        snprintf(v.biz_no, sizeof v.biz_no, "%s", no);
        v.id = atoll(no + 5);
        char five[6];
        memcpy(five, no, 5);
        five[5] = '\0';
        /* the first five digits are the bank id modulo 100000 */
        int64_t ids[ADMIN_BANKS_MAX];
        size_t n = 0;
        int64_t want = atoll(five);
        if (admin_bank_ids(&ar, ids, &n) == ID_OK)
            for (size_t i = 0; i < n && !bank; i++)
                if (ids[i] % 100000 == want)
                    bank = bank_named(&ar, ids[i]);
    }
    if (!bank || v.id < 1) {
        http_error(resp, ZE_NOT_FOUND, NULL);
        goto out;
    }
    int rc = admin_bank_txn(&ar, bank, "admin.biz_view", view_txn, &v);
    if (rc == STORE_OK && v.found && v.out) {
        http_json(resp, 200, v.out);
        v.out = NULL;
    } else if (rc == STORE_OK) {
        http_error(resp, ZE_NOT_FOUND, NULL);
    } else {
        admin_fail(&ar, rc, "view a business");
    }
out:
    json_decref(v.out);
    admin_close(&ar);
}

/* ---- a voucher's PDF -------------------------------------------------------------------- */

struct pdf {
    struct admin_req *ar;
    int64_t id;
    bool found;
    uint8_t *pdf;
    size_t n;
};

static int pdf_txn(struct tenant_conn *tc, void *arg)
{
    struct pdf *p = arg;
    struct vcdb_row r;
    enum vch_verdict v = VCH_UNREADABLE;
    char target[64];
    if (p->pdf) {
        secmem_wipe(p->pdf, p->n);
        free(p->pdf);
        p->pdf = NULL;
    }
    memset(&r, 0, sizeof r);
    int rc =
        voucher_open(tc, &p->ar->app->kek, p->ar->app->voucher_key, p->id, &r, &p->pdf, &p->n, &v);
    p->found = rc == VCH_OK && admin_bank_row_visible(p->ar, r.branch_id);
    if (rc != VCH_OK && rc != VCH_NONE)
        return rc;
    vcdb_id_format(tenant_scope(tc)->bank_id, p->id, target, sizeof target);
    char t2[80];
    snprintf(t2, sizeof t2, "voucher:%s", p->found ? target : "-");
    rc = p->found
             ? audit_tenantf(tc, p->ar->actor, "voucher.viewed", t2, "{s:b, s:s, s:s}", "found",
                             true, "verdict", voucher_verdict_name(v), "channel", "console")
             : audit_tenantf(tc, p->ar->actor, "voucher.viewed", t2, "{s:b, s:s}", "found", false,
                             "channel", "console");
    return rc == ID_OK ? STORE_OK : rc;
}

void h_admin_voucher_get(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    const char *id = admin_query(req, "id");
    struct pdf p = {.ar = &ar};
    int64_t bank = 0;
    if (!id || vcdb_id_parse(id, &bank, &p.id) != 0 || !bank_named(&ar, bank)) {
        http_error(resp, ZE_NOT_FOUND, NULL);
        goto out;
    }
    int rc = admin_bank_txn(&ar, bank, "admin.voucher_view", pdf_txn, &p);
    if (rc == STORE_OK && p.found && p.pdf) {
        http_text(resp, 200, "application/pdf", (char *)p.pdf, p.n);
        p.pdf = NULL;
    } else if (rc == STORE_OK) {
        http_error(resp, ZE_NOT_FOUND, NULL);
    } else {
        admin_fail(&ar, rc, "view a voucher");
    }
out:
    free(p.pdf);
    admin_close(&ar);
}
