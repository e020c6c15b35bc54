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
 * afterwards. The PDF is rendered and signed OUTSIDE the transaction that
 * stores it (voucher_render, then voucher_store).
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
    /* The SM3 of the business's stored recording (双录, business/vrec.h: 64
     * hex), NULL or "": none. Shown as a line of the voucher (双录录像SM3) and
     * written in the PDF's keywords after the id ("zhanye-voucher:<id>
     * recording-sm3:<hex>"), so it is read without the page's glyph-subset
     * text. */
    const char *recording_sm3;
};

/* VOUCHER IDS. "V<bank>-<n>" (voucher_db.h). The number n of a business's
 * voucher is DERIVED from its business number, so it is known before any
 * transaction: a serial that is the bank's business number (14 digits,
 * wf_biz_no: the bank id modulo 100000 on 5 digits, then the business id
 * in its bank on 9) gives n = that number read as a decimal
 * (bank % 100000 * 10^9 + business id): "00003000000042" of bank 3 ->
 * "V3-3000000042". Business ids are unique per bank and a business has one
 * voucher, so n is unique per bank; n >= 10^9, above the numbers of
 * vouchers issued before this scheme and of serials that are no business
 * number (voucher_issue numbers those MAX + 1 below 10^9, in its
 * transaction), so the two ranges never meet.
 *
 * voucher_number: 0 with *n when serial is such a business number of
 * bank_id, else -1. */
#define VOUCHER_BIZ_NUMBER_MIN 1000000000LL
int voucher_number(int64_t bank_id, const char *serial, int64_t *n);

/* A voucher rendered and signed, outside any transaction, ready to be
 * stored (voucher_render, voucher_store). pdf is malloc'd; it shows the
 * customer's name: voucher_ready_wipe wipes and frees it. */
struct voucher_ready {
    char id[VOUCHER_ID_MAX + 1]; /* "V<bank>-<n>" */
    int64_t number;              /* n */
    int64_t issued_at;           /* Unix ms: the time printed */
    uint8_t *pdf;
    size_t n;
    char sm3[65];    /* hex of SM3(pdf) */
    char sig[145];   /* hex of the DER signature over (id, SM3) */
    char key_id[17]; /* voucher_db.h key_id */
};
void voucher_ready_wipe(struct voucher_ready *v);

/* Renders (voucher_pdf.h), hashes and signs the voucher of in as issued by
 * bank_id at now_ms (the voucher's time, printed in China time and set as
 * the PDF's creation date), its id derived from in->serial (VOUCHER IDS
 * above). Touches no database: the workflow's voucher step runs it in
 * BIZ_STEP's prepare phase, so the ~40 ms of rendering never hold a
 * shard's writer lock. Deterministic for the same input and now_ms.
 * Thread-safe.
 *
 * Returns VCH_OK with *out filled (the caller wipes it); VCH_BAD_INPUT (a
 * member out of bounds, a serial that is no business number of bank_id, an
 * unreadable PNG); VCH_NO_KEY (env has no voucher key); STORE_ERR (cairo,
 * memory, the crypto library). */
int voucher_render(const struct tx_env *env, int64_t bank_id, const struct voucher_input *in,
                   int64_t now_ms, struct voucher_ready *out);

/* Stores a voucher voucher_render made: inside the caller's write
 * transaction on tc (scope: the business's bank, branch and teller, which
 * are recorded). It seals the PDF under env->kek, inserts the row and
 * appends the audit record "voucher.issued" (actor in->actor, target
 * "voucher:<id>", detail kind, serial, customer_id, sm3; no name, no ID
 * number). It renders nothing: of in it reads only kind, serial,
 * customer_id and actor; v must be for in->serial in the scope's bank (its
 * id is derived again and its SM3 computed again from v->pdf: a mismatch
 * is VCH_BAD_INPUT).
 *
 * Returns VCH_OK with id_out (v->id); VCH_EXISTS with id_out the voucher
 * already issued for in->serial (nothing written: a step run again is
 * idempotent); VCH_BAD_INPUT, VCH_NO_KEY (no KEK) (nothing written); or a
 * negative store status (roll back: STORE_BUSY may be retried). */
int voucher_store(struct tenant_conn *tc, const struct tx_env *env, const struct voucher_input *in,
                  const struct voucher_ready *v, char id_out[VOUCHER_ID_MAX + 1]);

/* Issues a voucher in one call, ALL IN THE CALLER'S TRANSACTION (it
 * renders there): for callers outside the request path (tests'
 * vissue, tools). The workflow uses voucher_render + voucher_store.
 *
 * Preconditions: inside the caller's write transaction on tc, whose scope
 * is the business's bank, branch and teller; env->kek and env->voucher_key
 * set; now_ms the issue time.
 *
 * A serial that is the scope's bank's business number gets its derived id
 * (VOUCHER IDS); any other serial the next number below 10^9 (MAX + 1).
 * Returns as voucher_store (VCH_OK, VCH_EXISTS, VCH_BAD_INPUT, VCH_NO_KEY,
 * a negative store status). Deterministic for the same input and now_ms. */
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
