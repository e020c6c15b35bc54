/* wf_loan.c — credit business application (信贷业务申请) as a workflow kind
 * (wf.h):
 *
 *   idcard, idcheck, customer   the shared steps (wf_common.h)
 *   application  local: amount (fen, > 0, at most LOAN_MAX), term_months
 *              (1..360), purpose (one of PURPOSES), collateral (optional
 *              object: type one of COLLATERALS, value in fen, description)
 *              and attachments (optional: ids of stored attachments linked
 *              to the business's customer, business/attach_db.h; one that
 *              is not: bad_request naming it)
 *   prescreen  loan_prescreen: pass and refer continue (decision, limit,
 *              reasons shown); decline is a recorded refusal with its
 *              reasons (biz_check_failed)
 *   submit     loan_apply (the workflow's serial); undone by loan_cancel;
 *              an application the loan system answers "rejected" is a
 *              recorded refusal
 *   signature, voucher          the shared steps
 * The completed business counts its amount in perf's business:loan. */
#include "business/wf_common.h"
#include "business/wf_voucher.h"

#include <stdio.h>
#include <string.h>

#define LOAN_MAX 100000000000LL /* 1 000 000 000.00 yuan: the field's bound */
#define MAX_ATTACH 10

static const char *const PURPOSES[] = {"consumption", "car",      "education",  "housing",
                                       "renovation",  "business", "agriculture"};
static const char *const COLLATERALS[] = {"none", "house", "car", "deposit", "guarantee"};

static bool one_of(const char *v, const char *const *set, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

static const struct tx_field F_APPLICATION[] = {
    {.name = "amount", .type = TXF_INT, .required = true},
    {.name = "term_months", .type = TXF_INT, .required = true},
    {.name = "purpose", .type = TXF_STRING, .required = true, .max = 20},
    {.name = "collateral", .type = TXF_OBJECT},
    {.name = "attachments", .type = TXF_ARRAY, .max = MAX_ATTACH},
};

static int check_application(struct wf_call *w)
{
    json_int_t amount = json_integer_value(json_object_get(w->input, "amount")),
               term = json_integer_value(json_object_get(w->input, "term_months"));
    const json_t *coll = json_object_get(w->input, "collateral"),
                 *att = json_object_get(w->input, "attachments");
    if (amount <= 0 || amount > LOAN_MAX)
        return wfc_bad(w, "data.input.%s: 须为正数（分）", "amount");
    if (term < 1 || term > 360)
        return wfc_bad(w, "data.input.%s: 须为 1 至 360", "term_months");
    if (!one_of(wfc_in(w, "purpose"), PURPOSES, sizeof PURPOSES / sizeof PURPOSES[0]))
        return wfc_bad(w, "data.input.%s: 贷款用途不在可选范围内", "purpose");
    if (coll) {
        const char *type = json_string_value(json_object_get(coll, "type"));
        const json_t *value = json_object_get(coll, "value"),
                     *desc = json_object_get(coll, "description");
        if (!one_of(type, COLLATERALS, sizeof COLLATERALS / sizeof COLLATERALS[0]))
            return wfc_bad(w, "data.input.%s: 担保方式不在可选范围内", "collateral.type");
        if (value && (!json_is_integer(value) || json_integer_value(value) < 0))
            return wfc_bad(w, "data.input.%s: 须为非负整数（分）", "collateral.value");
        if (desc && (!json_is_string(desc) || strlen(json_string_value(desc)) > 200))
            return wfc_bad(w, "data.input.%s: 至多 200 字节的文本", "collateral.description");
    }
    size_t i;
    json_t *v;
    json_array_foreach(att, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return wfc_bad(w, "data.input.%s: 须为附件编号", "attachments");
    }
    return WF_OK;
}

static int apply_application(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)reply;
    const json_t *att = json_object_get(w->input, "attachments"),
                 *coll = json_object_get(w->input, "collateral");
    size_t i;
    json_t *v;
    json_array_foreach(att, i, v)
    {
        char member[48];
        snprintf(member, sizeof member, "attachments[%u]", (unsigned)(i % 100));
        int rc = wfc_attachment(w, (int64_t)json_integer_value(v), member, false, NULL);
        if (rc != WF_OK)
            return rc;
    }
    json_int_t amount = json_integer_value(json_object_get(w->input, "amount"));
    const char *ctype = coll ? json_string_value(json_object_get(coll, "type")) : "none";
    char yuan[32];
    wfc_yuan(amount, yuan, sizeof yuan);
    json_object_set_new(keep, "amount", json_integer(amount));
    json_object_set(keep, "term_months", json_object_get(w->input, "term_months"));
    json_object_set_new(keep, "purpose", json_string(wfc_in(w, "purpose")));
    json_object_set_new(keep, "collateral", json_string(ctype));
    if (coll)
        json_object_set(keep, "collateral_detail", (json_t *)coll);
    if (att)
        json_object_set(keep, "attachments", (json_t *)att);
    json_object_set_new(out, "amount", json_string(yuan));
    json_object_set(out, "term_months", json_object_get(w->input, "term_months"));
    json_object_set_new(out, "purpose", json_string(wfc_in(w, "purpose")));
    json_object_set_new(out, "collateral", json_string(ctype));
    json_object_set_new(out, "attachments", json_integer((json_int_t)json_array_size(att)));
    return WF_OK;
}

/* ---- prescreen and submit ------------------------------------------------------------------ */

static void amount_yuan(const struct wf_call *w, char *out, size_t cap)
{
    wfc_yuan(
        json_integer_value(json_object_get(json_object_get(w->state, "application"), "amount")),
        out, cap);
}

static int req_prescreen(struct wf_call *w, json_t *req)
{
    const json_t *app = json_object_get(w->state, "application");
    char yuan[32];
    amount_yuan(w, yuan, sizeof yuan);
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "name", json_string(wfc_kept(w, "idcard", "name")));
    json_object_set_new(req, "amount", json_string(yuan));
    json_object_set(req, "term_months", json_object_get(app, "term_months"));
    json_object_set_new(req, "purpose", json_string(wfc_kept(w, "application", "purpose")));
    json_object_set_new(req, "collateral", json_string(wfc_kept(w, "application", "collateral")));
    return WF_OK;
}

static const char *reason_text(const char *r)
{
    static const struct {
        const char *code, *text;
    } R[] = {{"purpose", "贷款用途不符合准入"},
             {"amount", "申请金额超过上限"},
             {"collateral", "大额贷款缺少担保"},
             {"term", "期限过长"}};
    for (size_t i = 0; r && i < sizeof R / sizeof R[0]; i++)
        if (strcmp(r, R[i].code) == 0)
            return R[i].text;
    return "其他原因";
}

static int apply_prescreen(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *d = json_string_value(json_object_get(reply, "decision")),
               *limit = json_string_value(json_object_get(reply, "limit"));
    const json_t *reasons = json_object_get(reply, "reasons");
    if (!d || !limit)
        return WF_ERR;
    if (strcmp(d, "decline") == 0) {
        const char *first = json_string_value(json_array_get(reasons, 0));
        snprintf(w->msg, sizeof w->msg, "贷款预审未通过：%s（%s）", reason_text(first),
                 first ? first : "");
        return WF_FAIL;
    }
    if (strcmp(d, "pass") != 0 && strcmp(d, "refer") != 0)
        return WF_ERR;
    json_object_set_new(keep, "decision", json_string(d));
    json_object_set_new(out, "decision", json_string(d));
    json_object_set_new(out, "limit", json_string(limit));
    json_object_set(out, "reasons", json_is_array(reasons) ? (json_t *)reasons : json_array());
    return WF_OK;
}

static int req_submit(struct wf_call *w, json_t *req)
{
    char yuan[32];
    amount_yuan(w, yuan, sizeof yuan);
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "amount", json_string(yuan));
    json_object_set(req, "term_months",
                    json_object_get(json_object_get(w->state, "application"), "term_months"));
    return WF_OK;
}

static int apply_submit(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *no = json_string_value(json_object_get(reply, "loan_no")),
               *st = json_string_value(json_object_get(reply, "status")),
               *rate = json_string_value(json_object_get(reply, "rate"));
    if (!no || !st)
        return WF_ERR;
    if (strcmp(st, "rejected") == 0)
        return wfc_fail(w, "贷款申请未获受理：信贷系统拒绝");
    char yuan[32];
    amount_yuan(w, yuan, sizeof yuan);
    json_object_set_new(keep, "application_no", json_string(no));
    json_object_set_new(out, "application_no", json_string(no));
    json_object_set_new(out, "status", json_string(st));
    json_object_set_new(out, "rate", json_string(rate ? rate : ""));
    json_object_set_new(out, "amount", json_string(yuan));
    return WF_OK;
}

static int64_t loan_amount(const json_t *state)
{
    return (int64_t)json_integer_value(
        json_object_get(json_object_get(state, "application"), "amount"));
}

#define FIELDS(f) .fields = f, .nfields = sizeof f / sizeof f[0]

static const struct wf_step STEPS[] = {
    WFC_STEP_IDCARD,
    WFC_STEP_IDCHECK,
    WFC_STEP_CUSTOMER,
    {.name = "application",
     FIELDS(F_APPLICATION),
     .check = check_application,
     .apply = apply_application},
    {.name = "prescreen",
     .egress = "loan_prescreen",
     .serial = true,
     .request = req_prescreen,
     .apply = apply_prescreen},
    {.name = "submit",
     .egress = "loan_apply",
     .serial = true,
     .request = req_submit,
     .apply = apply_submit,
     .undo = "loan_cancel"},
    WFC_STEP_SIGNATURE,
    WFC_STEP_VOUCHER,
};

const struct wf_kind WF_LOAN = {.name = "loan",
                                .needs_customer = false,
                                .steps = STEPS,
                                .nsteps = sizeof STEPS / sizeof STEPS[0],
                                .amount = loan_amount};
