/* wf_ebank.c — e-banking sign-up (电子银行签约) as a workflow kind (wf.h):
 *
 *   idcard, idcheck, customer   the shared steps (wf_common.h)
 *   account    the account the customer already holds in core (shared)
 *   products   local: the products (mobile banking, internet banking, SMS
 *              alerts) and the per-transaction and daily limits (fen):
 *              positive, per-transaction at most daily, within the bank's
 *              maxima (EB_MAX_PER_TX, EB_MAX_DAILY); bad_request names the
 *              member
 *   sign       core sign_ebank2 (route biz_sign_ebank, the workflow's
 *              serial) with the products and limits; undone by
 *              unsign_ebank
 *   signature, voucher          the shared steps */
#include "business/wf_common.h"
#include "business/wf_voucher.h"

#include <stdio.h>
#include <string.h>

#define EB_MAX_PER_TX 50000000LL /* 500 000.00 yuan */
#define EB_MAX_DAILY 100000000LL /* 1 000 000.00 yuan */

static const char *const PRODUCTS[] = {"mobile", "internet", "sms"};
#define NPRODUCTS (sizeof PRODUCTS / sizeof PRODUCTS[0])

static const struct tx_field F_PRODUCTS[] = {
    {.name = "products", .type = TXF_ARRAY, .required = true, .max = 3},
    {.name = "per_tx_limit", .type = TXF_INT, .required = true},
    {.name = "daily_limit", .type = TXF_INT, .required = true},
};

/* Whether products holds product p. */
static bool has(const json_t *products, const char *p)
{
    size_t i;
    json_t *v;
    json_array_foreach(products, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), p) == 0)
            return true;
    }
    return false;
}

static int check_products(struct wf_call *w)
{
    const json_t *p = json_object_get(w->input, "products");
    size_t i;
    json_t *v;
    if (json_array_size(p) == 0)
        return wfc_bad(w, "data.input.%s: 至少选择一项产品", "products");
    json_array_foreach(p, i, v)
    {
        bool known = false;
        for (size_t k = 0; k < NPRODUCTS; k++)
            known = known || (json_is_string(v) && strcmp(json_string_value(v), PRODUCTS[k]) == 0);
        if (!known)
            return wfc_bad(w, "data.input.%s: 须为 mobile、internet 或 sms", "products");
        for (size_t j = 0; j < i; j++)
            if (json_equal(v, json_array_get(p, j)))
                return wfc_bad(w, "data.input.%s: 产品重复", "products");
    }
    json_int_t tx = json_integer_value(json_object_get(w->input, "per_tx_limit")),
               day = json_integer_value(json_object_get(w->input, "daily_limit"));
    if (tx <= 0)
        return wfc_bad(w, "data.input.%s: 须为正数（分）", "per_tx_limit");
    if (day <= 0)
        return wfc_bad(w, "data.input.%s: 须为正数（分）", "daily_limit");
    if (tx > EB_MAX_PER_TX)
        return wfc_bad(w, "data.input.%s: 超过本行单笔限额上限 500000.00 元", "per_tx_limit");
    if (day > EB_MAX_DAILY)
        return wfc_bad(w, "data.input.%s: 超过本行日累计限额上限 1000000.00 元", "daily_limit");
    if (tx > day)
        return wfc_bad(w, "data.input.%s: 单笔限额不得超过日累计限额", "per_tx_limit");
    return WF_OK;
}

static int apply_products(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)reply;
    json_int_t tx = json_integer_value(json_object_get(w->input, "per_tx_limit")),
               day = json_integer_value(json_object_get(w->input, "daily_limit"));
    char ytx[32], yday[32];
    wfc_yuan(tx, ytx, sizeof ytx);
    wfc_yuan(day, yday, sizeof yday);
    json_t *prods = json_object_get(w->input, "products");
    json_object_set(keep, "products", prods);
    json_object_set_new(keep, "per_tx_limit", json_integer(tx));
    json_object_set_new(keep, "daily_limit", json_integer(day));
    json_object_set(out, "products", prods);
    json_object_set_new(out, "per_tx_limit", json_string(ytx));
    json_object_set_new(out, "daily_limit", json_string(yday));
    return WF_OK;
}

/* ---- sign ---------------------------------------------------------------------------------- */

static int req_sign(struct wf_call *w, json_t *req)
{
    const json_t *p = json_object_get(w->state, "products");
    const json_t *prods = json_object_get(p, "products");
    char flags[NPRODUCTS + 1], tx[24], day[24];
    for (size_t k = 0; k < NPRODUCTS; k++)
        flags[k] = has(prods, PRODUCTS[k]) ? 'Y' : 'N';
    flags[NPRODUCTS] = '\0';
    snprintf(tx, sizeof tx, "%lld",
             (long long)json_integer_value(json_object_get(p, "per_tx_limit")));
    snprintf(day, sizeof day, "%lld",
             (long long)json_integer_value(json_object_get(p, "daily_limit")));
    json_object_set_new(req, "cust_no", json_string(wfc_kept(w, "customer", "cust_no")));
    json_object_set_new(req, "mobile", json_string(wfc_kept(w, "customer", "mobile")));
    json_object_set_new(req, "account_no", json_string(wfc_kept(w, "account", "account_no")));
    json_object_set_new(req, "products", json_string(flags));
    json_object_set_new(req, "per_tx_fen", json_string(tx));
    json_object_set_new(req, "daily_fen", json_string(day));
    return WF_OK;
}

static int apply_sign(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *id = json_string_value(json_object_get(reply, "ebank_id"));
    if (!id || !id[0])
        return WF_ERR;
    const json_t *p = json_object_get(w->state, "products");
    char ytx[32], yday[32];
    wfc_yuan(json_integer_value(json_object_get(p, "per_tx_limit")), ytx, sizeof ytx);
    wfc_yuan(json_integer_value(json_object_get(p, "daily_limit")), yday, sizeof yday);
    json_object_set_new(keep, "ebank_id", json_string(id));
    json_object_set_new(out, "ebank_id", json_string(id));
    json_object_set(out, "products", json_object_get(p, "products"));
    json_object_set_new(out, "per_tx_limit", json_string(ytx));
    json_object_set_new(out, "daily_limit", json_string(yday));
    return WF_OK;
}

#define FIELDS(f) .fields = f, .nfields = sizeof f / sizeof f[0]

static const struct wf_step STEPS[] = {
    WFC_STEP_IDCARD,
    WFC_STEP_IDCHECK,
    WFC_STEP_CUSTOMER,
    WFC_STEP_ACCOUNT,
    {.name = "products", FIELDS(F_PRODUCTS), .check = check_products, .apply = apply_products},
    {.name = "sign",
     .egress = "biz_sign_ebank",
     .serial = true,
     .request = req_sign,
     .apply = apply_sign,
     .undo = "unsign_ebank"},
    WFC_STEP_SIGNATURE,
    WFC_STEP_VOUCHER,
};

const struct wf_kind WF_EBANK = {.name = "ebank",
                                 .needs_customer = false,
                                 .steps = STEPS,
                                 .nsteps = sizeof STEPS / sizeof STEPS[0]};
