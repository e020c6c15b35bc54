/* wf_voucher — the workflow's last step, "voucher" (wf.h): every completed
 * business gets its electronic voucher (voucher.h) and its delivery row
 * (voucher_out.h), stored by the transaction that completes it.
 *
 * wf_voucher_apply is the apply of every kind's voucher step
 * ({.name = WF_VOUCHER_STEP, .apply = wf_voucher_apply}). It is GENERIC:
 * the voucher's fields are the members of the done steps' `out` (what the
 * answers showed), in step order, each member once (its first
 * occurrence), labelled through a table (account_no 账号, card_no 卡号
 * (masked), amount 金额 (fen shown as 元 with two decimals), ...; a member
 * the table hides (the customer's name and ID number, which the voucher
 * shows apart, technical counters) is left out; an unknown member is shown
 * under its own name). Strings are shown as they are, integers in decimal,
 * booleans 是/否, arrays joined with "、", objects left out; at most
 * VOUCHER_FIELDS_MAX fields, values cut at 512 bytes.
 *
 * From the kept state: the customer's name and ID number from the
 * "idcard" step (voucher_issue masks the number), the signature PNG
 * (Base64 member "image") from the "signature" step. The serial is the
 * business number (wf_biz_no), the teller "柜员 #<id>", the bank's and
 * branch's names those of the session (tx_ctx bank_name, branch_name: the
 * pipeline resolves them from the identity layer; business code cannot
 * read the identity tables).
 *
 * TWO PHASES. wf_voucher_prepare runs in BIZ_STEP's prepare phase, outside
 * any transaction (wf.h step `prepare`): it reads the kept state, chooses
 * the voucher's time (now), renders and signs the PDF (voucher_render; its
 * id is derived from the business number, voucher.h VOUCHER IDS) and
 * makes {"id","number","issued_at","sm3","sig","key_id","pdf" (Base64)},
 * which reaches apply as its reply through c->fetched (wiped by the
 * pipeline). WF_OK; WF_FAIL with w->msg when the idcard or signature state
 * is missing (the kind's table is wrong) or the input is refused
 * (VCH_BAD_INPUT: e.g. a signature that is no decodable PNG); WF_ERR (no
 * key, memory, cairo).
 *
 * wf_voucher_apply, in the completing transaction, takes ONLY those
 * pre-rendered bytes (reply; NULL or not one: WF_ERR) and stores them
 * (voucher_store: seal, insert, audit) with the delivery row. Returns
 * WF_OK with out {"voucher_id"}: a new voucher, or the one issued for this
 * business already (VCH_EXISTS: a retry gives the same voucher); WF_ERR
 * otherwise (rolled back). */
#ifndef ZHANYE_BUSINESS_WF_VOUCHER_H
#define ZHANYE_BUSINESS_WF_VOUCHER_H

#include "business/voucher.h"
#include "business/wf.h"

#include <jansson.h>

int wf_voucher_prepare(struct wf_call *w, json_t **made);
int wf_voucher_apply(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);

/* The fields of a voucher from outs ({"<step>": out, ...}) into f (labels
 * and values in buf, which must outlive f); the number of fields. Also for
 * the demo data (app/demo_business.c). */
struct wf_voucher_buf {
    char label[VOUCHER_FIELDS_MAX][65];
    char value[VOUCHER_FIELDS_MAX][513];
    char rec_sm3[65]; /* the business's recording's hash (vdb_sm3_of_biz), "" for none */
};
size_t wf_voucher_fields(const json_t *outs, struct wf_voucher_buf *buf,
                         struct voucher_field f[VOUCHER_FIELDS_MAX]);

#endif
