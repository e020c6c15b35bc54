/* wf_common — the steps every business kind shares (business/wf.h), and
 * the small helpers of step handlers. A kind's table names the shared
 * steps with the WFC_STEP_* initializers below, so no kind copies them:
 *
 *   idcard     the ID card as the reader read it (fields and photo; the
 *              GB 11643 number checked, not expired); out: name and id_no
 *              masked
 *   idcheck    networked ID check (id_check): name and number must match
 *              (else WF_FAIL); out: result, photo_returned
 *   face       face compare (face_compare) of the live photo with the ID
 *              photo: score at least [business] face_threshold (default
 *              80), liveness true when given (else WF_FAIL); out: score,
 *              threshold
 *   customer   the customer in core (customer_query, else
 *              biz_customer_create with the workflow's serial) and in our
 *              records (created when the bank has none with this ID
 *              number, else linked; audited); a business started with
 *              another customer_id fails the check (WF_FAIL); out:
 *              customer_id, cust_no, created, core_created
 *   account    (e-banking, agency) an account the customer already holds
 *              in core, checked with balance_query (core refuses an
 *              unknown one); out: account_no, currency
 *   signature  strokes and a PNG image, kept sealed at rest; out: strokes
 *              (their count), image_bytes
 *   voucher    WFC_STEP_VOUCHER: the voucher and its delivery row
 *              (wf_voucher.h; include it where the table is)
 *
 * Helpers (w is the step's call): wfc_in (an input member as text, NULL
 * when absent or not text), wfc_kept (state.<step>.<member> as text, ""
 * when absent), wfc_bad / wfc_fail (w->msg set from fmt with one %s, or
 * msg; return WF_BAD / WF_FAIL), wfc_b64_bytes (Base64 text decoded to
 * 1.. bytes, malloc'd, NULL when not), wfc_b64_ok, wfc_attachment, wfc_today (the bank's
 * date YYYYMMDD, China Standard Time), wfc_yuan (fen as "123.45"). */
#ifndef ZHANYE_BUSINESS_WF_COMMON_H
#define ZHANYE_BUSINESS_WF_COMMON_H

#include "business/wf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int32_t wfc_today(void);
const char *wfc_in(const struct wf_call *w, const char *k);
const char *wfc_kept(const struct wf_call *w, const char *step, const char *member);
int wfc_bad(struct wf_call *w, const char *fmt, const char *what);
int wfc_fail(struct wf_call *w, const char *msg);
uint8_t *wfc_b64_bytes(const char *s, size_t *n);
bool wfc_b64_ok(const char *s);
void wfc_yuan(int64_t fen, char *out, size_t cap);

/* the fields of the shared steps (a definition of another size does not compile) */
#define WFC_N_IDCARD 10
#define WFC_N_FACE 1
#define WFC_N_CUSTOMER 1
#define WFC_N_SIGNATURE 2
#define WFC_N_ACCOUNT 1
extern const struct tx_field WFC_F_IDCARD[WFC_N_IDCARD];
extern const struct tx_field WFC_F_FACE[WFC_N_FACE];
extern const struct tx_field WFC_F_CUSTOMER[WFC_N_CUSTOMER];
extern const struct tx_field WFC_F_SIGNATURE[WFC_N_SIGNATURE];
extern const struct tx_field WFC_F_ACCOUNT[WFC_N_ACCOUNT];

int wfc_check_idcard(struct wf_call *w);
int wfc_apply_idcard(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);
int wfc_req_idcheck(struct wf_call *w, json_t *req);
int wfc_apply_idcheck(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);
int wfc_check_face(struct wf_call *w);
int wfc_req_face(struct wf_call *w, json_t *req);
int wfc_apply_face(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);
int wfc_check_customer(struct wf_call *w);
int wfc_req_customer(struct wf_call *w, json_t *req);
enum egress_kind wfc_call_customer(struct wf_call *w, struct egress *eg, json_t *req,
                                   json_t **reply, struct egress_error *err);
int wfc_apply_customer(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);
int wfc_check_signature(struct wf_call *w);
int wfc_apply_signature(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);
int wfc_check_account(struct wf_call *w);
int wfc_req_account(struct wf_call *w, json_t *req);
int wfc_apply_account(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);
/* In apply (the transaction): WF_OK when attachment id is stored and
 * linked to the business's customer (w->customer_id; business/attach_db.h)
 * and, when image, an image; its SM3 (hex) into sm3 when not NULL. WF_BAD
 * with w->msg naming member when not; WF_ERR on the store's failure. */
int wfc_attachment(struct wf_call *w, int64_t id, const char *member, bool image, char sm3[65]);
/* clang-format off */
#define WFC_STEP_IDCARD                                                                            \
    {.name = "idcard", .fields = WFC_F_IDCARD, .nfields = WFC_N_IDCARD,                            \
     .check = wfc_check_idcard, .apply = wfc_apply_idcard}
#define WFC_STEP_IDCHECK                                                                           \
    {.name = "idcheck", .egress = "id_check", .request = wfc_req_idcheck,                          \
     .apply = wfc_apply_idcheck}
#define WFC_STEP_FACE                                                                              \
    {.name = "face", .fields = WFC_F_FACE, .nfields = WFC_N_FACE, .check = wfc_check_face,         \
     .egress = "face_compare", .request = wfc_req_face, .apply = wfc_apply_face}
#define WFC_STEP_CUSTOMER                                                                          \
    {.name = "customer", .fields = WFC_F_CUSTOMER, .nfields = WFC_N_CUSTOMER,                      \
     .check = wfc_check_customer, .egress = "biz_customer_create", .serial = true,                 \
     .request = wfc_req_customer, .call = wfc_call_customer, .apply = wfc_apply_customer}
#define WFC_STEP_SIGNATURE                                                                         \
    {.name = "signature", .fields = WFC_F_SIGNATURE, .nfields = WFC_N_SIGNATURE,                   \
     .check = wfc_check_signature, .apply = wfc_apply_signature}
#define WFC_STEP_ACCOUNT                                                                           \
    {.name = "account", .fields = WFC_F_ACCOUNT, .nfields = WFC_N_ACCOUNT,                         \
     .check = wfc_check_account, .egress = "balance_query", .request = wfc_req_account,           \
     .apply = wfc_apply_account}
#define WFC_STEP_VOUCHER                                                                           \
    {.name = WF_VOUCHER_STEP, .prepare = wf_voucher_prepare, .apply = wf_voucher_apply}
/* clang-format on */

#endif
