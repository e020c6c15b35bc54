/* voucher — electronic vouchers (电子凭证): issuing one for a completed
 * business, and the tablet's transactions VOUCHER_GET, VOUCHER_VERIFY and
 * VOUCHER_LIST (docs/api.md §1.36-1.39).
 *
 * A voucher is a one-page PDF (voucher_pdf.h: cairo + pango, Noto Sans CJK
 * SC embedded as a subset) holding the bank's and branch's names, the
 * business kind's title, the voucher id, the business serial number, the
 * time (China time), the customer's name and masked ID number, the
 * business's fields, the teller and the customer's signature image. Its SM3
 * is signed with the voucher signing key (voucher_sign.h). It is stored
 * sealed under the KEK in the bank's shard (voucher_db.h) and never changed
 * afterwards.
 *
 * VERIFYING. A voucher is intact when (1) its PDF's SM3 is the one recorded
 * at issue, and (2) the recorded signature verifies under the voucher key
 * for (id, SM3). The verdicts, as vch_verdict and as the text answered:
 *   VCH_INTACT          "intact"
 *   VCH_NOT_ISSUED      "not_issued"   no voucher of this bank has this SM3
 *                                      and the bytes name none of its vouchers
 *   VCH_SM3_DIFFERS     "sm3_differs"  the bytes name voucher V but differ from
 *                                      what was issued as V (altered)
 *   VCH_BAD_SIGNATURE   "bad_signature" the record's signature does not verify
 *                                      (the record was altered, or another key)
 *   VCH_UNREADABLE      "unreadable"   the stored PDF does not open under the
 *                                      KEK (tampered at rest, moved, other KEK)
 */
#ifndef ZHANYE_VOUCHER_H
#define ZHANYE_VOUCHER_H

#include "business/voucher_pdf.h"
#include "business/voucher_sign.h"
#include "channel/tx.h"

#include <stddef.h>
#include <stdint.h>

struct tenant_conn;
struct kek;

/* Return codes of voucher_issue and the helpers below; negative values
 * are store statuses (STORE_BUSY, STORE_ERR, STORE_NOMEM, ...). */
enum {
    VCH_OK = 0,
    VCH_EXISTS = 1,    /* the business serial has a voucher already: id_out is it */
    VCH_BAD_INPUT = 2, /* a member of the input is missing or out of bounds */
    VCH_NONE = 3,      /* no such voucher in the scope's bank */
    VCH_NO_KEY = 4,    /* env has no voucher key or no KEK */
};

enum vch_verdict {
    VCH_INTACT = 0,
    VCH_NOT_ISSUED,
    VCH_SM3_DIFFERS,
    VCH_BAD_SIGNATURE,
    VCH_UNREADABLE,
};
const char *voucher_verdict_name(enum vch_verdict v);

#define VOUCHER_FIELDS_MAX 32
#define VOUCHER_SIG_PNG_MAX (1024 * 1024)
#define VOUCHER_PDF_MAX (4 * 1024 * 1024)
#define VOUCHER_LIST_MAX 100

/* The six business kinds ("debit_card", ...) and their Chinese titles
 * (借记卡开卡, 电子银行签约, 信贷业务申请, 信用卡申请面签, 三代社保卡申领激活,
 * 中间业务签约); NULL for an unknown kind. */
const char *voucher_kind_title(const char *kind);

/* What the caller (the workflow engine's last step) gives. Strings are
 * UTF-8 and borrowed for the call. */
struct voucher_input {
    const char *kind;                   /* one of the six kinds */
    const char *serial;                 /* the business serial number: 1..40 of [A-Za-z0-9_-]; one
                                         * voucher per serial in a bank */
    int64_t customer_id;                /* > 0 */
    const char *customer_name;          /* 1..100 bytes, shown in full */
    const char *id_no;                  /* the ID number in clear (15 or 18 chars): shown masked
                                         * (foundation/mask.h), never stored in clear outside the
                                         * sealed PDF */
    const char *teller;                 /* shown as given: "T001 李四", 1..100 bytes */
    const char *bank_name;              /* NULL or "": not shown; <= 100 bytes */
    const char *branch_name;            /* NULL or "": not shown; <= 100 bytes */
    const struct voucher_field *fields; /* in order; nfields <= VOUCHER_FIELDS_MAX */
    size_t nfields;
    const uint8_t *signature_png; /* the customer's signature, a PNG, 1..VOUCHER_SIG_PNG_MAX */
    size_t signature_len;
    const char *actor; /* the audit actor: "dev:<hex>" of the tablet, or "system" */
};

/* Issues the voucher of a completed business.
 *
 * Preconditions: inside the caller's write transaction (the runner's
 * callback, data layer) on tc, whose scope is the business's bank,
 * branch and teller (they are recorded); env->kek and env->voucher_key
 * set (the composition root's, channel/tx.h); now_ms the issue time
 * (Unix ms: the voucher's time, printed in China time and set as the PDF's
 * creation date).
 *
 * What it does, all in the caller's transaction: renders the PDF, hashes
 * it (SM3), signs (id, SM3), seals the PDF under the KEK, inserts the row
 * and appends the audit record "voucher.issued" (actor in->actor, target
 * "voucher:<id>", detail kind, serial, customer_id, sm3; no name, no ID
 * number). Deterministic for the same input and now_ms, so a callback run
 * again after STORE_BUSY issues the same bytes.
 *
 * Returns VCH_OK with id_out ("V<bank>-<n>"); VCH_EXISTS with id_out the
 * voucher already issued for in->serial (nothing written: a step run
 * again is idempotent); VCH_BAD_INPUT (nothing written; also an unreadable
 * PNG); VCH_NO_KEY; or a negative store status (roll back: STORE_BUSY may
 * be retried by the runner). */
int voucher_issue(struct tenant_conn *tc, const struct tx_env *env, const struct voucher_input *in,
                  int64_t now_ms, char id_out[VOUCHER_ID_MAX + 1]);

/* The PDF of the scope's voucher id (numeric part of "V<bank>-<n>"),
 * opened, into *pdf (malloc'd, *n bytes; the caller frees it), and its
 * verdict as stored (VCH_INTACT, VCH_SM3_DIFFERS, VCH_BAD_SIGNATURE,
 * VCH_UNREADABLE: then *pdf is NULL). row may be NULL; when given it
 * receives the record (without the sealed bytes). VCH_OK, VCH_NONE, or a
 * store status. Reads only. */
struct vcdb_row;
int voucher_open(struct tenant_conn *tc, const struct kek *kek, const sm2_key *key, int64_t id,
                 struct vcdb_row *row, uint8_t **pdf, size_t *n, enum vch_verdict *verdict);

/* The verdict on bytes presented as a voucher of the scope's bank (see
 * VERIFYING above); id_out receives the voucher they are or claim to be
 * ("" when none). VCH_OK or a store status. Reads only. */
int voucher_check_pdf(struct tenant_conn *tc, const sm2_key *key, const uint8_t *pdf, size_t n,
                      enum vch_verdict *verdict, char id_out[VOUCHER_ID_MAX + 1]);

extern const struct tx_def TX_VOUCHER_GET;
extern const struct tx_def TX_VOUCHER_VERIFY;
extern const struct tx_def TX_VOUCHER_LIST;

#endif
