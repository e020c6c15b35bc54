/* wf_debit.c — debit card opening (借记卡开卡) as a workflow kind (wf.h):
 *
 *   idcard, idcheck, face, customer   the shared steps (wf_common.h)
 *   account    open_account in core (biz_open_account); undone by
 *              close_account
 *   card       the card the card reader read (Luhn) bound to the account
 *              (bind_card); undone by unbind_card
 *   pin        the PIN block the PIN pad encrypted under the zone PIN key,
 *              forwarded as-is to core (biz_set_pin); never kept
 *   signature, voucher                the shared steps (wf_common.h) */
#include "business/wf_common.h"
#include "business/wf_voucher.h"

#include "foundation/mask.h"

#include <string.h>

/* ---- account ----------------------------------------------------------------------------- */

static int req_account(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "cust_no", json_string(wfc_kept(w, "customer", "cust_no")));
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
    return wf_luhn_ok(wfc_in(w, "card_no")) ? WF_OK
                                            : wfc_bad(w, "data.input.%s: 卡号校验失败", "card_no");
}

static int req_card(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "account_no", json_string(wfc_kept(w, "account", "account_no")));
    json_object_set_new(req, "card_no", json_string(wfc_in(w, "card_no")));
    json_object_set_new(req, "card_product", json_string("DEBIT1"));
    return WF_OK;
}

static int apply_card(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    const char *pan = wfc_in(w, "card_no");
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
    const char *b = wfc_in(w, "pin_block");
    return b && strlen(b) == 32 && strspn(b, "0123456789abcdefABCDEF") == 32
               ? WF_OK
               : wfc_bad(w, "data.input.%s: 须为 32 位十六进制", "pin_block");
}

static int req_pin(struct wf_call *w, json_t *req)
{
    json_object_set_new(req, "card_no", json_string(wfc_kept(w, "card", "card_no")));
    json_object_set_new(req, "pin_block", json_string(wfc_in(w, "pin_block")));
    return WF_OK;
}

static int apply_pin(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep)
{
    (void)w, (void)reply, (void)keep;
    json_object_set_new(out, "pin_set", json_true());
    return WF_OK;
}

#define FIELDS(f) .fields = f, .nfields = sizeof f / sizeof f[0]

static const struct wf_step STEPS[] = {
    WFC_STEP_IDCARD,
    WFC_STEP_IDCHECK,
    WFC_STEP_FACE,
    WFC_STEP_CUSTOMER,
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
    WFC_STEP_SIGNATURE,
    WFC_STEP_VOUCHER,
};

const struct wf_kind WF_DEBIT_CARD = {.name = "debit_card",
                                      .needs_customer = false,
                                      .steps = STEPS,
                                      .nsteps = sizeof STEPS / sizeof STEPS[0]};
