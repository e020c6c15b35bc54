/* wf_social.c — third-generation social-security card application and
 * activation (三代社保卡申领激活) as a workflow kind (wf.h):
 *
 *   idcard, idcheck, face, customer   the shared steps (wf_common.h)
 *   apply      social_card_apply (the workflow's serial; city optional):
 *              the social-security card number and the number of its bank
 *              (financial) function, both kept; undone by
 *              social_card_cancel
 *   activate   social_card_activate with the card number the card reader
 *              read from the delivered card (Luhn-checked here; the
 *              social-security system refuses a card that is not the one
 *              applied for: a recorded refusal). The card
 *              arrives days later: the business stays open at this step
 *              meanwhile (BIZ_LIST status open)
 *   signature, voucher                the shared steps
 * Card numbers are shown masked. */
#include "business/wf_common.h"
#include "business/wf_voucher.h"

#include "foundation/mask.h"

#include <stdio.h>
#include <string.h>

/* A card number masked for out: mask_card for 16..19 digits, else the
 * first 4 and last 4 characters around asterisks. */
static void masked(const char *no, char *out, size_t cap)
{
    size_t n = strlen(no);
    if (mask_card(no, out, cap) >= 0)
        return;
    if (n <= 8)
        snprintf(out, cap, "****");
    else
        snprintf(out, cap, "%.4s********%s", no, no + n - 4);
}

static const struct tx_field F_APPLY[] = {
    {.name = "city", .type = TXF_STRING, .max = 20},
};

static int req_apply(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "name", json_string(wfc_kept(w, "idcard", "name")));
    if (wfc_in(w, "city"))
        json_object_set_new(req, "city", json_string(wfc_in(w, "city")));
    return WF_OK;
}

static int apply_apply(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)w;
    const char *no = json_string_value(json_object_get(reply, "social_card_no")),
               *pan = json_string_value(json_object_get(reply, "bank_card_no"));
    char m1[40], m2[40];
    if (!no || !no[0] || !pan || !wf_luhn_ok(pan))
        return WF_ERR;
    masked(no, m1, sizeof m1);
    masked(pan, m2, sizeof m2);
    json_object_set_new(keep, "social_card_no", json_string(no));
    json_object_set_new(keep, "bank_card_no", json_string(pan));
    json_object_set_new(out, "social_card_no", json_string(m1));
    json_object_set_new(out, "bank_card_no", json_string(m2));
    json_object_set_new(out, "bank_linked",
                        json_boolean(json_is_true(json_object_get(reply, "bank_linked"))));
    return WF_OK;
}

/* ---- activate ------------------------------------------------------------------------------- */

static const struct tx_field F_ACTIVATE[] = {
    {.name = "card_no", .type = TXF_STRING, .required = true, .max = 19},
};

static int check_activate(struct wf_call *w)
{
    return wf_luhn_ok(wfc_in(w, "card_no")) ? WF_OK
                                            : wfc_bad(w, "data.input.%s: 卡号校验失败", "card_no");
}

static int req_activate(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "id_no", json_string(wfc_kept(w, "idcard", "id_no")));
    json_object_set_new(req, "card_no", json_string(wfc_kept(w, "apply", "social_card_no")));
    json_object_set_new(req, "bank_card_no", json_string(wfc_in(w, "card_no")));
    return WF_OK;
}

static int apply_activate(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *st = json_string_value(json_object_get(reply, "status"));
    char m[40];
    if (!st)
        return WF_ERR;
    (void)keep;
    masked(wfc_in(w, "card_no"), m, sizeof m);
    json_object_set_new(out, "card_no", json_string(m));
    json_object_set_new(out, "status", json_string(st));
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
     .egress = "social_card_apply",
     .serial = true,
     .request = req_apply,
     .apply = apply_apply,
     .undo = "social_card_cancel"},
    {.name = "activate",
     FIELDS(F_ACTIVATE),
     .check = check_activate,
     .egress = "social_card_activate",
     .serial = true,
     .request = req_activate,
     .apply = apply_activate},
    WFC_STEP_SIGNATURE,
    WFC_STEP_VOUCHER,
};

const struct wf_kind WF_SOCIAL_CARD = {.name = "social_card",
                                       .needs_customer = false,
                                       .steps = STEPS,
                                       .nsteps = sizeof STEPS / sizeof STEPS[0]};
