/* wf_credit.c — credit card application with face-to-face signing
 * (信用卡申请面签) as a workflow kind (wf.h):
 *
 *   idcard, idcheck, face, customer   the shared steps (wf_common.h)
 *   apply      credit_card_apply (the workflow's serial) for product GOLD
 *              or PLAT; undone by card_cancel
 *   form       local: the photo of the signed application form, an
 *              attachment (its id) stored and linked to the business's
 *              customer (business/attach_db.h); its SM3 is kept
 *   sign       card_sign: face_to_face true and the form's SM3 as
 *              signed_form_sm3
 *   signature, voucher                the shared steps */
#include "business/wf_common.h"
#include "business/wf_voucher.h"

#include <stdio.h>
#include <string.h>

static const struct tx_field F_APPLY[] = {
    {.name = "product", .type = TXF_STRING, .required = true, .max = 8},
};

static int check_apply(struct wf_call *w)
{
    const char *p = wfc_in(w, "product");
    return p && (strcmp(p, "GOLD") == 0 || strcmp(p, "PLAT") == 0)
               ? WF_OK
               : wfc_bad(w, "data.input.%s: 须为 GOLD 或 PLAT", "product");
}

static int req_apply(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "name", json_string(wfc_kept(w, "idcard", "name")));
    json_object_set_new(req, "mobile", json_string(wfc_kept(w, "customer", "mobile")));
    json_object_set_new(req, "product", json_string(wfc_in(w, "product")));
    return WF_OK;
}

static int apply_apply(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *no = json_string_value(json_object_get(reply, "application_no")),
               *st = json_string_value(json_object_get(reply, "status"));
    if (!no || !no[0])
        return WF_ERR;
    json_object_set_new(keep, "application_no", json_string(no));
    json_object_set_new(keep, "product", json_string(wfc_in(w, "product")));
    json_object_set_new(out, "application_no", json_string(no));
    json_object_set_new(out, "product", json_string(wfc_in(w, "product")));
    json_object_set_new(out, "status", json_string(st ? st : ""));
    return WF_OK;
}

/* ---- form: the photo of the signed form ------------------------------------------------------ */

static const struct tx_field F_FORM[] = {
    {.name = "attachment_id", .type = TXF_INT, .required = true},
};

static int check_form(struct wf_call *w)
{
    return json_integer_value(json_object_get(w->input, "attachment_id")) > 0
               ? WF_OK
               : wfc_bad(w, "data.input.%s: 须为附件编号", "attachment_id");
}

static int apply_form(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)reply;
    int64_t id = (int64_t)json_integer_value(json_object_get(w->input, "attachment_id"));
    char sm3[65];
    int rc = wfc_attachment(w, id, "attachment_id", true, sm3);
    if (rc != WF_OK)
        return rc;
    json_object_set_new(keep, "attachment_id", json_integer(id));
    json_object_set_new(keep, "sm3", json_string(sm3));
    json_object_set_new(out, "attachment_id", json_integer(id));
    json_object_set_new(out, "signed_form_sm3", json_string(sm3));
    return WF_OK;
}

/* ---- sign ------------------------------------------------------------------------------------ */

static int req_sign(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "application_no", json_string(wfc_kept(w, "apply", "application_no")));
    json_object_set_new(req, "signed_form_sm3", json_string(wfc_kept(w, "form", "sm3")));
    json_object_set_new(req, "face_to_face", json_true());
    return WF_OK;
}

static int apply_sign(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *st = json_string_value(json_object_get(reply, "status"));
    if (!st)
        return WF_ERR;
    (void)keep;
    json_object_set_new(out, "application_no", json_string(wfc_kept(w, "apply", "application_no")));
    json_object_set_new(out, "status", json_string(st));
    json_object_set_new(out, "face_to_face", json_true());
    return WF_OK;
}

#define FIELDS(f) .fields = f, .nfields = sizeof f / sizeof f[0]

static const struct wf_step STEPS[] = {
    WFC_STEP_IDCARD,
    WFC_STEP_IDCHECK,
    WFC_STEP_FACE,
    WFC_STEP_CUSTOMER,
    {.name = "apply",
     FIELDS(F_APPLY),
     .check = check_apply,
     .egress = "credit_card_apply",
     .serial = true,
     .request = req_apply,
     .apply = apply_apply,
     .undo = "card_cancel"},
    {.name = "form", FIELDS(F_FORM), .check = check_form, .apply = apply_form},
    {.name = "sign",
     .egress = "card_sign",
     .serial = true,
     .request = req_sign,
     .apply = apply_sign},
    WFC_STEP_SIGNATURE,
    WFC_STEP_VOUCHER,
};

const struct wf_kind WF_CREDIT_CARD = {.name = "credit_card",
                                       .needs_customer = false,
                                       .steps = STEPS,
                                       .nsteps = sizeof STEPS / sizeof STEPS[0]};
