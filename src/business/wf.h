/* wf — the workflow engine of on-the-spot business (debit card opening,
 * e-banking, loans, credit cards, social-security cards, agency sign-up).
 *
 * A business kind is DATA: a table of steps (struct wf_step, designated
 * initializers), run in order, plus small step handlers. The engine (wf.c,
 * wf_tx.c) persists a business step by step in the bank's shard (wf_db.h),
 * so that a tablet that lost its network resumes at the same step, and
 * runs the transactions BIZ_START, BIZ_STEP, BIZ_GET, BIZ_LIST and
 * BIZ_CANCEL (docs/api.md §1.31-1.35).
 *
 * A step:
 *   name      [a-z_]{1,16}, unique in its kind; the kind's last step is
 *             "voucher" (WF_VOUCHER_STEP): a local step whose apply is
 *             wf_voucher_apply (wf_voucher.h) and whose prepare is
 *             wf_voucher_prepare: the voucher, built from the done steps'
 *             out, is rendered and signed in the prepare phase and stored
 *             by the completing transaction.
 *   fields    the schema of BIZ_STEP's `input` for this step (channel/tx.h
 *             struct tx_field; unknown members refused).
 *   check     optional: local checks of the input (no database, no remote
 *             call): WF_OK, or WF_BAD with w->msg (answered bad_request,
 *             nothing written). Runs in the prepare phase and again in the
 *             transaction.
 *   egress    the egress step (conf/routes.conf) the step calls, NULL for a
 *             local step. The call is made by BIZ_STEP's prepare phase,
 *             OUTSIDE the database transaction (channel/tx.h). With
 *             `serial` true the request gets member "serial": the
 *             downstream serial number, deterministic (see below).
 *   request   fills the downstream request (a JSON object) from w->input
 *             and w->state; WF_OK, WF_BAD (w->msg), WF_ERR.
 *   call      optional, instead of one egress_call: makes the step's own
 *             calls (e.g. query, then create) and returns the egress kind
 *             of the outcome, *reply set for EGRESS_OK (and EGRESS_E_BUSINESS
 *             when there is one), err filled otherwise.
 *   prepare   optional, for a LOCAL step only: slow local work done in
 *             BIZ_STEP's prepare phase, outside the transaction (w->tx is
 *             the prepare phase's ctx: its tenant is READ-ONLY, channel/
 *             tx.h). It sets *made (a new object, or NULL) and returns
 *             WF_OK (made is apply's `reply`, through c->fetched), WF_FAIL
 *             with w->msg (recorded as a failed attempt, answered
 *             biz_check_failed) or WF_ERR (nothing recorded, answered
 *             unavailable: the tablet sends the step again). apply of such
 *             a step runs only with what its prepare made (a transaction
 *             without it answers unavailable, nothing recorded).
 *   apply     in the transaction: the step's result from the input, the
 *             reply (NULL for a local step) and state: members of `out`
 *             (what the answer shows and BIZ_GET repeats: no secret) and
 *             `keep` (what later steps and the voucher need; sealed at
 *             rest under the KEK). WF_OK; WF_FAIL with w->msg: the system
 *             answered but the check failed (recorded as a failed attempt,
 *             answered biz_check_failed); WF_BAD; WF_ERR (rolls back).
 *             w->tx is the request's context (its tenant): apply may write
 *             the bank's records (the customer step does).
 *   undo      the egress step that compensates this one (BIZ_CANCEL), NULL
 *             when nothing needs undoing. Its request is {"serial",
 *             "orig_serial"}: the serial of the forward call it undoes; the
 *             system reverses what that serial did, and a forward that
 *             arrives after its compensation is refused (sims/sim_core.c).
 *
 * Downstream serial numbers (20 characters): the business number biz_no
 * (14 digits: bank id, 5 digits, and the business id in its bank, 9 digits)
 * + the step's index (2 digits) + 'F' (forward) or 'C' (compensation) + the
 * attempt (3 digits). The attempt is the number of failures recorded for
 * the step (a refusal, a failed check), so an unknown outcome (timeout,
 * broken connection) is retried with the same serial, which the system
 * answers with its first result without doing the work twice.
 *
 * Outcomes of a downstream call: EGRESS_OK -> apply; EGRESS_E_BUSINESS and
 * EGRESS_E_REJECTED (a definite refusal) -> the failure is recorded (the
 * attempt bumped), answered downstream_refused; every other kind (timeout,
 * broken connection, breaker open, the system's own failure) -> nothing is
 * recorded, answered downstream_unavailable.
 *
 * Statuses: open -> completed (the last step done, counted with
 * perf_business in that transaction, with the kind's amount); open -> cancelled | cancelling
 * (BIZ_CANCEL: compensations of the done steps, and of the current step's
 * outstanding call, in reverse order; one that fails leaves cancelling,
 * and BIZ_CANCEL again resumes it) -> cancelled. */
#ifndef ZHANYE_BUSINESS_WF_H
#define ZHANYE_BUSINESS_WF_H

#include "channel/tx.h"
#include "egress/egress.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum wf_rc { WF_ERR = -1, WF_OK = 0, WF_BAD = 1, WF_FAIL = 2 };

#define WF_MAX_STEPS 16
#define WF_NAME_MAX 16
#define WF_BIZ_NO_LEN 14
#define WF_SERIAL_LEN 20
#define WF_VOUCHER_STEP "voucher"

/* What a step's handlers see. */
struct wf_call {
    const struct tx_env *env;
    struct tx_ctx *tx;   /* apply: the request's context (in the transaction); prepare: the
                          * prepare phase's (read-only tenant); NULL for request and call */
    const json_t *input; /* the step's input, valid against its fields */
    const json_t *state; /* {"<step>": its keep, ...} of the steps done */
    const json_t *outs;  /* {"<step>": its out, ...} of the steps done, in step order */
    const char *kind;    /* the business's kind (struct wf_kind name) */
    int64_t biz_id;
    int64_t customer_id; /* apply may set it: the business's customer */
    const char *serial;  /* the downstream serial of this attempt */
    char msg[160];       /* WF_BAD / WF_FAIL: why, Simplified Chinese, no personal data */
};

struct wf_step {
    const char *name;
    const struct tx_field *fields;
    size_t nfields;
    int (*check)(struct wf_call *w);
    const char *egress;
    bool serial;
    int (*request)(struct wf_call *w, json_t *req);
    enum egress_kind (*call)(struct wf_call *w, struct egress *eg, json_t *req, json_t **reply,
                             struct egress_error *err);
    int (*prepare)(struct wf_call *w, json_t **made);
    int (*apply)(struct wf_call *w, const json_t *reply, json_t *out, json_t *keep);
    const char *undo;
};

struct wf_kind {
    const char *name;            /* [a-z_]: the kind of BIZ_START and of perf's business:<name> */
    bool needs_customer;         /* BIZ_START requires customer_id */
    const struct wf_step *steps; /* NULL: declared, not defined yet */
    size_t nsteps;
    /* optional: the amount (fen) the completed business counts in perf's
     * business:<name> (perf_business), from the state of its steps; NULL: 0 */
    int64_t (*amount)(const json_t *state);
};

/* The kinds BIZ_START knows (wf.c), and lookup by name (NULL: unknown). */
const struct wf_kind *wf_kind_find(const char *name);
const struct wf_kind *const *wf_kinds(size_t *n);
/* The index of the step named name in k, or -1. */
int wf_step_index(const struct wf_kind *k, const char *name);

/* Checks a kind's table: 0, or -1 with the reason in err (names non-empty
 * [a-z_]{1,16} and unique, at most WF_MAX_STEPS steps, the last one
 * "voucher" and local, apply set, an egress step has request or call, an
 * undo only on an egress step, a local step without request, call or
 * serial), a prepare only on a local step, the voucher step with a
 * prepare. Every kind with steps passes it (a unit test runs it), and
 * BIZ_START refuses a kind that does not. */
int wf_kind_check(const struct wf_kind *k, char *err, size_t errcap);

/* The business number of a business: bank (5 digits) + id (9 digits). */
void wf_biz_no(int64_t bank_id, int64_t biz_id, char out[WF_BIZ_NO_LEN + 1]);
/* The downstream serial of a call (see above); dir 'F' or 'C'. */
void wf_serial(const char *biz_no, int step, char dir, int attempt, char out[WF_SERIAL_LEN + 1]);

/* Helpers for step handlers: the Luhn check of a card number (13..19
 * digits, the last one the check digit); an ID card's date "YYYYMMDD". */
bool wf_luhn_ok(const char *pan);
bool wf_date_ok(const char *s);

/* The kinds: debit card opening (wf_debit.c), e-banking sign-up
 * (wf_ebank.c), loan application (wf_loan.c), credit card application
 * with face-to-face signing (wf_credit.c), social-security card
 * application and activation (wf_social.c), agency sign-up (wf_agency.c);
 * their shared steps in wf_common.h. */
extern const struct wf_kind WF_DEBIT_CARD;
extern const struct wf_kind WF_EBANK;
extern const struct wf_kind WF_LOAN;
extern const struct wf_kind WF_CREDIT_CARD;
extern const struct wf_kind WF_SOCIAL_CARD;
extern const struct wf_kind WF_AGENCY;

/* The transactions (wf_tx.c). */
extern const struct tx_def TX_BIZ_START;
extern const struct tx_def TX_BIZ_STEP;
extern const struct tx_def TX_BIZ_GET;
extern const struct tx_def TX_BIZ_LIST;
extern const struct tx_def TX_BIZ_CANCEL;

#endif
