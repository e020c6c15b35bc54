/* wf_agency.c — agency business sign-up (中间业务签约) as a workflow kind
 * (wf.h):
 *
 *   idcard, idcheck, customer   the shared steps (wf_common.h)
 *   account    the account the customer already holds in core (shared):
 *              the one the agency debits
 *   agency     utilities: type "utility", service water / electricity /
 *              gas / telephone and the payer number of the utility;
 *              insurance: type "insurance", the product code (6 of
 *              [A-Z0-9]) and the policy holder's name. Core agency_signup
 *              (route biz_agency_signup, the workflow's serial) with
 *              agency_code (the service's code, or the product code) and
 *              payer_no (the payer number, or core's customer number for
 *              insurance); undone by agency_cancel
 *   signature, voucher          the shared steps */
#include "business/wf_common.h"
#include "business/wf_voucher.h"

#include "foundation/mask.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *service, *code;
} SERVICES[] = {
    {"water", "WATR01"}, {"electricity", "ELEC01"}, {"gas", "GASS01"}, {"telephone", "TELE01"}};
#define NSERVICES (sizeof SERVICES / sizeof SERVICES[0])

static const struct tx_field F_AGENCY[] = {
    {.name = "type", .type = TXF_STRING, .required = true, .max = 10},
    {.name = "service", .type = TXF_STRING, .max = 12},
    {.name = "payer_no", .type = TXF_STRING, .max = 30},
    {.name = "product_code", .type = TXF_STRING, .max = 6},
    {.name = "policy_holder", .type = TXF_STRING, .max = 60},
};

static const char *service_code(const char *service)
{
    for (size_t i = 0; service && i < NSERVICES; i++)
        if (strcmp(service, SERVICES[i].service) == 0)
            return SERVICES[i].code;
    return NULL;
}

static bool utility(const struct wf_call *w)
{
    const char *t = wfc_in(w, "type");
    return t && strcmp(t, "utility") == 0;
}

static int check_agency(struct wf_call *w)
{
    const char *t = wfc_in(w, "type");
    if (!t || (strcmp(t, "utility") != 0 && strcmp(t, "insurance") != 0))
        return wfc_bad(w, "data.input.%s: 须为 utility 或 insurance", "type");
    if (utility(w)) {
        const char *p = wfc_in(w, "payer_no");
        size_t n = p ? strlen(p) : 0;
        if (!service_code(wfc_in(w, "service")))
            return wfc_bad(w, "data.input.%s: 须为 water、electricity、gas 或 telephone",
                           "service");
        if (n < 4 || strspn(p, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-") != n)
            return wfc_bad(w, "data.input.%s: 须为 4 至 30 位数字、大写字母或 -", "payer_no");
        return WF_OK;
    }
    const char *code = wfc_in(w, "product_code"), *holder = wfc_in(w, "policy_holder");
    if (!code || strlen(code) != 6 || strspn(code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 6)
        return wfc_bad(w, "data.input.%s: 须为 6 位数字或大写字母", "product_code");
    char m[64];
    if (!holder || !holder[0] || mask_name(holder, m, sizeof m) < 0)
        return wfc_bad(w, "data.input.%s: 须为投保人姓名", "policy_holder");
    return WF_OK;
}

static int req_agency(struct wf_call *w, json_t *req)
{
    bool u = utility(w);
    json_object_set_new(req, "account_no", json_string(wfc_kept(w, "account", "account_no")));
    json_object_set_new(
        req, "agency_code",
        json_string(u ? service_code(wfc_in(w, "service")) : wfc_in(w, "product_code")));
    json_object_set_new(
        req, "payer_no",
        json_string(u ? wfc_in(w, "payer_no") : wfc_kept(w, "customer", "cust_no")));
    json_object_set_new(
        req, "payer_name",
        json_string(u ? wfc_kept(w, "idcard", "name") : wfc_in(w, "policy_holder")));
    return WF_OK;
}

static int apply_agency(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *no = json_string_value(json_object_get(reply, "contract_no"));
    if (!no || !no[0])
        return WF_ERR;
    bool u = utility(w);
    json_object_set_new(keep, "contract_no", json_string(no));
    json_object_set_new(out, "contract_no", json_string(no));
    json_object_set_new(out, "type", json_string(wfc_in(w, "type")));
    json_object_set_new(
        out, "agency_code",
        json_string(u ? service_code(wfc_in(w, "service")) : wfc_in(w, "product_code")));
    json_object_set_new(out, "account_no", json_string(wfc_kept(w, "account", "account_no")));
    if (u) {
        json_object_set_new(out, "service", json_string(wfc_in(w, "service")));
        json_object_set_new(out, "payer_no", json_string(wfc_in(w, "payer_no")));
    } else {
        char m[64];
        if (mask_name(wfc_in(w, "policy_holder"), m, sizeof m) < 0)
            return WF_ERR;
        json_object_set_new(out, "product_code", json_string(wfc_in(w, "product_code")));
        json_object_set_new(out, "policy_holder", json_string(m));
    }
    return WF_OK;
}

#define FIELDS(f) .fields = f, .nfields = sizeof f / sizeof f[0]

static const struct wf_step STEPS[] = {
    WFC_STEP_IDCARD,
    WFC_STEP_IDCHECK,
    WFC_STEP_CUSTOMER,
    WFC_STEP_ACCOUNT,
    {.name = "agency",
     FIELDS(F_AGENCY),
     .check = check_agency,
     .egress = "biz_agency_signup",
     .serial = true,
     .request = req_agency,
     .apply = apply_agency,
     .undo = "agency_cancel"},
    WFC_STEP_SIGNATURE,
    WFC_STEP_VOUCHER,
};

const struct wf_kind WF_AGENCY = {.name = "agency",
                                  .needs_customer = false,
                                  .steps = STEPS,
                                  .nsteps = sizeof STEPS / sizeof STEPS[0]};
