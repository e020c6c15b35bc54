/* wf_tx.c — BIZ_START, BIZ_STEP, BIZ_GET, BIZ_LIST, BIZ_CANCEL: the
 * workflow engine's transactions (wf.h; docs/api.md §1.31-1.35).
 *
 * BIZ_STEP and BIZ_CANCEL call the bank's systems in their prepare phase
 * (channel/tx.h): it reads the business through the read-only tenant scope
 * it is given, decides whether the step may run, makes the downstream call
 * and leaves the outcome in c->fetched:
 *   {"biz_id", "idx", "attempt", "outcome": "ok" | "refused" | "unknown",
 *    "reply"?, "system_code"?, "message"?}              (BIZ_STEP)
 *   {"biz_id", "compensated": [idx...], "failed"?: idx}  (BIZ_CANCEL)
 * A local step with a prepare (the voucher: wf.h) runs it there instead of
 * a call: {"biz_id", "idx", "attempt", "outcome": "ok" | "failed" |
 * "unknown", "reply"?, "message"}; the voucher's PDF is rendered and signed
 * there, and the transaction only stores it.
 * The handler, in the transaction, reads the business again and decides:
 * a step done meanwhile (another request, another cseq) is answered with
 * its recorded result; an outcome of another attempt than the one recorded
 * now is not used (downstream_unavailable: the tablet runs the step again). */
#include "business/biz.h"
#include "business/customer_db.h"
#include "business/perf.h"
#include "business/wf.h"
#include "business/wf_db.h"

#include "channel/zy1.h"
#include "foundation/clock.h"
#include "foundation/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define LIST_DEFAULT 20
#define LIST_MAX 50

static const char *str(const json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static void drop(json_t *j)
{
    biz_drop(j);
}

static const struct kek *kek_of(const struct tx_ctx *c)
{
    return c->env->kek;
}

/* The audit record of a change of business b. ID_OK or an error. */
static int audit_biz(struct tx_ctx *c, const struct wdb_biz *b, const char *event, const char *step,
                     int attempt)
{
    char actor[AUDIT_ACTOR_MAX + 1], target[40];
    biz_actor(c, actor);
    biz_target(target, sizeof target, "biz", b->id);
    if (step)
        return audit_tenantf(c->tenant, actor, event, target, "{s:s,s:s,s:i}", "kind", b->kind,
                             "step", step, "attempt", attempt);
    return audit_tenantf(c->tenant, actor, event, target, "{s:s,s:s}", "kind", b->kind, "status",
                         b->status);
}

static const char *next_name(const struct wf_kind *k, const struct wdb_biz *b)
{
    return b->next_step >= 0 && (size_t)b->next_step < k->nsteps ? k->steps[b->next_step].name
                                                                 : NULL;
}

/* {"<step>": keep} of the steps done. New reference (NULL: memory). */
static json_t *state_of(const struct wf_kind *k, const struct wdb_step steps[WF_MAX_STEPS])
{
    json_t *st = json_object();
    for (size_t i = 0; st && i < k->nsteps; i++)
        if (strcmp(steps[i].state, "done") == 0 && steps[i].keep)
            json_object_set(st, k->steps[i].name, steps[i].keep);
    return st;
}

/* {"<step>": out} of the steps done, in step order. New reference (NULL: memory). */
static json_t *outs_of(const struct wf_kind *k, const struct wdb_step steps[WF_MAX_STEPS])
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < k->nsteps; i++)
        if (strcmp(steps[i].state, "done") == 0 && steps[i].out)
            json_object_set(o, k->steps[i].name, steps[i].out);
    return o;
}

/* Validates a step's input against its fields; WF_OK or WF_BAD with msg. */
static int input_ok(const struct wf_step *s, json_t *input, char *msg, size_t cap)
{
    struct tx_def def = {.code = s->name, .fields = s->fields, .nfields = s->nfields};
    char err[128];
    if (!json_is_object(input)) {
        snprintf(msg, cap, "data.input: must be an object");
        return WF_BAD;
    }
    if (tx_validate(&def, input, err, sizeof err) != 0) {
        snprintf(msg, cap, "data.input.%s", err + (strncmp(err, "data.", 5) == 0 ? 5 : 0));
        return WF_BAD;
    }
    return WF_OK;
}

/* ---- BIZ_START -------------------------------------------------------------------------- */

static enum tx_result tx_start(struct tx_ctx *c)
{
    const struct wf_kind *k = wf_kind_find(str(c->in, "kind"));
    json_t *cid = json_object_get(c->in, "customer_id");
    char err[160];
    if (!k) {
        tx_failf(c, ZE_BAD_REQUEST, "data.kind: unknown business kind");
        return TX_COMMIT;
    }
    if (!k->steps || wf_kind_check(k, err, sizeof err) != 0) {
        if (k->steps)
            log_error("biz.kind", "%s", err);
        tx_fail(c, ZE_BIZ_KIND_UNAVAILABLE);
        return TX_COMMIT;
    }
    if (k->needs_customer && !cid) {
        tx_failf(c, ZE_BAD_REQUEST, "data.customer_id: required");
        return TX_COMMIT;
    }
    const struct scope *sc = tenant_scope(c->tenant);
    struct wdb_biz b = {.customer_id = json_integer_value(cid),
                        .branch_id = sc->branch_id,
                        .teller_id = sc->teller_id,
                        .created_at = clock_wall_ms()};
    b.updated_at = b.created_at;
    snprintf(b.kind, sizeof b.kind, "%s", k->name);
    snprintf(b.status, sizeof b.status, "open");
    if (cid) {
        struct cdb_row row = {0};
        int rc = cdb_get(c->tenant, b.customer_id, &row);
        cdb_row_free(&row);
        if (rc == CDB_NONE) {
            tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
            return TX_COMMIT;
        }
        if (rc != CDB_OK)
            return TX_ROLLBACK;
    }
    if (wdb_insert(c->tenant, &b) != WDB_OK || audit_biz(c, &b, "biz.started", NULL, 0) != ID_OK)
        return TX_ROLLBACK;
    json_t *names = json_array();
    for (size_t i = 0; names && i < k->nsteps; i++)
        json_array_append_new(names, json_string(k->steps[i].name));
    json_object_set_new(c->out, "biz_id", json_integer(b.id));
    json_object_set_new(c->out, "biz_no", json_string(b.biz_no));
    json_object_set_new(c->out, "kind", json_string(k->name));
    json_object_set_new(c->out, "status", json_string(b.status));
    json_object_set_new(c->out, "next_step", json_string(k->steps[0].name));
    json_object_set_new(c->out, "steps", names ? names : json_array());
    return TX_COMMIT;
}

/* ---- BIZ_STEP: the prepare phase ------------------------------------------------------ */

/* The business and its steps as prepare and the handler both read them. */
struct loaded {
    struct wdb_biz b;
    const struct wf_kind *k;
    struct wdb_step steps[WF_MAX_STEPS];
    bool have_steps;
};

static int load(struct tenant_conn *tc, const struct kek *kek, int64_t id, struct loaded *l)
{
    memset(l, 0, sizeof *l);
    int rc = wdb_get(tc, id, &l->b);
    if (rc != WDB_OK)
        return rc;
    l->k = wf_kind_find(l->b.kind);
    if (!l->k || !l->k->steps)
        return STORE_ERR;
    rc = wdb_steps(tc, kek, &l->b, l->steps);
    l->have_steps = rc == WDB_OK;
    return rc;
}

static void unload(struct loaded *l)
{
    if (l->have_steps)
        wdb_steps_free(l->steps);
    l->have_steps = false;
}

/* A definite refusal: the system said no (the work was not done). */
static bool refusal(enum egress_kind k)
{
    return k == EGRESS_E_BUSINESS || k == EGRESS_E_REJECTED;
}

/* A local step's prepare (wf.h): outcome "ok" with its reply, "failed"
 * with its message (a recorded failed attempt), or "unknown" (nothing
 * recorded: answered unavailable). */
static enum tx_result prepare_local(struct tx_ctx *c, const struct loaded *l, int idx,
                                    struct wf_call *w)
{
    json_t *made = NULL;
    w->tx = c; /* its tenant is the read-only scope */
    int rc = l->k->steps[idx].prepare(w, &made);
    const char *outcome = rc == WF_OK && made ? "ok" : rc == WF_FAIL ? "failed" : "unknown";
    if (rc != WF_OK && rc != WF_FAIL)
        log_warn("biz.prepare", "biz=%" PRId64 " step=%s: the prepare phase's work failed", l->b.id,
                 l->k->steps[idx].name);
    c->fetched = json_pack("{s:I,s:i,s:i,s:s,s:s}", "biz_id", (json_int_t)l->b.id, "idx", idx,
                           "attempt", l->steps[idx].attempt, "outcome", outcome, "message",
                           rc == WF_FAIL ? w->msg : "");
    if (c->fetched && made) { /* fetched takes it (the pipeline wipes it) */
        json_object_set_new(c->fetched, "reply", made);
        made = NULL;
    }
    drop(made);
    return c->fetched ? TX_COMMIT : TX_ROLLBACK;
}

static enum tx_result prepare_step(struct tx_ctx *c)
{
    struct loaded l;
    int64_t id = json_integer_value(json_object_get(c->in, "biz_id"));
    if (!c->tenant || load(c->tenant, kek_of(c), id, &l) != WDB_OK) {
        if (c->tenant)
            unload(&l);
        return TX_COMMIT; /* the handler answers (not found, or the store's failure) */
    }
    int idx = wf_step_index(l.k, str(c->in, "step"));
    json_t *input = json_object_get(c->in, "input");
    struct wf_call w = {.env = c->env, .input = input, .biz_id = l.b.id};
    if (idx < 0 || idx != l.b.next_step || strcmp(l.b.status, "open") != 0 ||
        strcmp(l.steps[idx].state, "done") == 0 ||
        (!l.k->steps[idx].egress && !l.k->steps[idx].prepare)) {
        unload(&l);
        return TX_COMMIT; /* nothing to call: the handler answers */
    }
    const struct wf_step *s = &l.k->steps[idx];
    if (input_ok(s, input, w.msg, sizeof w.msg) != WF_OK || (s->check && s->check(&w) != WF_OK)) {
        unload(&l);
        return TX_COMMIT; /* bad input: the handler answers bad_request */
    }
    char serial[WF_SERIAL_LEN + 1];
    int attempt = l.steps[idx].attempt;
    wf_serial(l.b.biz_no, idx, 'F', attempt, serial);
    json_t *state = state_of(l.k, l.steps), *outs = outs_of(l.k, l.steps), *req = json_object(),
           *reply = NULL;
    w.state = state;
    w.outs = outs;
    w.kind = l.k->name;
    w.serial = serial;
    w.customer_id = l.b.customer_id;
    if (!s->egress) { /* a local step's slow work (the voucher's rendering) */
        enum tx_result res = state && outs ? prepare_local(c, &l, idx, &w) : TX_ROLLBACK;
        drop(req);
        drop(state);
        drop(outs);
        unload(&l);
        return res;
    }
    enum tx_result res = TX_ROLLBACK;
    struct egress_error e = {0};
    enum egress_kind ek = EGRESS_E_ROUTE;
    int rq = state && outs && req ? s->request ? s->request(&w, req) : WF_OK : WF_ERR;
    if (rq == WF_OK && s->serial)
        json_object_set_new(req, "serial", json_string(serial));
    if (rq == WF_OK && !c->env->egress)
        snprintf(e.message, sizeof e.message, "no egress gateway");
    else if (rq == WF_OK && s->call)
        ek = s->call(&w, c->env->egress, req, &reply, &e);
    else if (rq == WF_OK)
        ek = egress_call(c->env->egress, s->egress, req, &reply, &e);
    if (rq == WF_BAD) {
        res = TX_COMMIT; /* the handler answers bad_request */
        goto out;
    }
    if (rq != WF_OK)
        goto out;
    const char *outcome = ek == EGRESS_OK ? "ok" : refusal(ek) ? "refused" : "unknown";
    if (ek != EGRESS_OK)
        log_warn("biz.downstream", "biz=%" PRId64 " step=%s serial=%s: %s (%s)", l.b.id, s->name,
                 serial, egress_kind_name(ek), e.message);
    c->fetched =
        json_pack("{s:I,s:i,s:i,s:s,s:s,s:s}", "biz_id", (json_int_t)l.b.id, "idx", idx, "attempt",
                  attempt, "outcome", outcome, "system_code", e.code, "message", e.message);
    if (c->fetched && ek == EGRESS_OK) { /* fetched takes the reply (the pipeline wipes it) */
        json_object_set_new(c->fetched, "reply", reply);
        reply = NULL;
    }
    res = c->fetched ? TX_COMMIT : TX_ROLLBACK;
out:
    drop(req); /* may hold a PIN block: wiped */
    drop(reply);
    drop(state);
    drop(outs);
    unload(&l);
    return res;
}

/* ---- BIZ_STEP: the handler --------------------------------------------------------------- */

/* The answer of step idx done: its out, the business's next step and status. */
static void answer_done(struct tx_ctx *c, const struct loaded *l, int idx, const json_t *out,
                        bool replayed)
{
    const char *next = next_name(l->k, &l->b);
    json_object_set_new(c->out, "biz_id", json_integer(l->b.id));
    json_object_set_new(c->out, "step", json_string(l->k->steps[idx].name));
    json_object_set_new(c->out, "result", out ? json_deep_copy(out) : json_object());
    json_object_set_new(c->out, "status", json_string(l->b.status));
    json_object_set_new(c->out, "next_step", next ? json_string(next) : json_null());
    json_object_set_new(c->out, "replayed", json_boolean(replayed));
}

/* Records a failed attempt of step idx (message: the system's or the check's). */
static enum tx_result record_failure(struct tx_ctx *c, struct loaded *l, int idx, enum ze e,
                                     const char *message, const char *system_code)
{
    struct wdb_step st = {.attempt = l->steps[idx].attempt + 1, .updated_at = clock_wall_ms()};
    snprintf(st.state, sizeof st.state, "failed");
    snprintf(st.message, sizeof st.message, "%s", message ? message : "");
    l->b.updated_at = st.updated_at;
    if (wdb_step_put(c->tenant, kek_of(c), &l->b, idx, l->k->steps[idx].name, &st) != WDB_OK ||
        wdb_update(c->tenant, &l->b) != WDB_OK ||
        audit_biz(c, &l->b, "biz.step_failed", l->k->steps[idx].name, st.attempt) != ID_OK)
        return TX_ROLLBACK;
    if (message && message[0])
        tx_failf(c, e, "%s", message);
    else
        tx_fail(c, e);
    json_object_set_new(c->out, "biz_id", json_integer(l->b.id));
    json_object_set_new(c->out, "step", json_string(l->k->steps[idx].name));
    json_object_set_new(c->out, "attempt", json_integer(st.attempt));
    if (system_code && system_code[0])
        json_object_set_new(c->out, "system_code", json_string(system_code));
    return TX_COMMIT;
}

/* Step idx done with out and keep: recorded, the business advanced (and
 * completed after its last step). */
static enum tx_result record_done(struct tx_ctx *c, struct loaded *l, int idx, json_t *out,
                                  json_t *keep, int64_t customer_id, const json_t *state)
{
    struct wdb_step st = {
        .attempt = l->steps[idx].attempt, .out = out, .keep = keep, .updated_at = clock_wall_ms()};
    snprintf(st.state, sizeof st.state, "done");
    l->b.next_step = idx + 1;
    l->b.updated_at = st.updated_at;
    if (customer_id > 0)
        l->b.customer_id = customer_id;
    bool completed = (size_t)l->b.next_step == l->k->nsteps;
    if (completed)
        snprintf(l->b.status, sizeof l->b.status, "completed");
    if (wdb_step_put(c->tenant, kek_of(c), &l->b, idx, l->k->steps[idx].name, &st) != WDB_OK ||
        wdb_update(c->tenant, &l->b) != WDB_OK ||
        audit_biz(c, &l->b, "biz.step_done", l->k->steps[idx].name, st.attempt) != ID_OK)
        return TX_ROLLBACK;
    if (completed && (audit_biz(c, &l->b, "biz.completed", NULL, 0) != ID_OK ||
                      perf_business(c->tenant, l->k->name, l->k->amount ? l->k->amount(state) : 0,
                                    st.updated_at) != PERF_OK))
        return TX_ROLLBACK;
    answer_done(c, l, idx, out, false);
    return TX_COMMIT;
}

/* What prepare fetched for step idx at its current attempt: the outcome
 * ("ok", "refused", "unknown"), or NULL when it is not for this attempt. */
static const char *fetched_for(const struct tx_ctx *c, const struct loaded *l, int idx)
{
    const json_t *f = c->fetched;
    if (!f || json_integer_value(json_object_get(f, "biz_id")) != l->b.id ||
        json_integer_value(json_object_get(f, "idx")) != idx ||
        json_integer_value(json_object_get(f, "attempt")) != l->steps[idx].attempt)
        return NULL;
    return str(f, "outcome");
}

static enum tx_result run_step(struct tx_ctx *c, struct loaded *l, int idx, json_t *input)
{
    const struct wf_step *s = &l->k->steps[idx];
    struct wf_call w = {.env = c->env, .tx = c, .input = input, .biz_id = l->b.id};
    if (input_ok(s, input, w.msg, sizeof w.msg) != WF_OK || (s->check && s->check(&w) != WF_OK)) {
        tx_failf(c, ZE_BAD_REQUEST, "%s", w.msg);
        return TX_COMMIT;
    }
    const json_t *reply = NULL;
    if (s->egress || s->prepare) {
        const char *outcome = fetched_for(c, l, idx);
        if (!outcome || strcmp(outcome, "unknown") == 0) {
            tx_fail(c, s->egress ? ZE_DOWNSTREAM_UNAVAILABLE : ZE_UNAVAILABLE);
            json_object_set_new(c->out, "biz_id", json_integer(l->b.id));
            json_object_set_new(c->out, "step", json_string(s->name));
            return TX_COMMIT; /* nothing recorded: the same serial next time */
        }
        if (strcmp(outcome, "refused") == 0)
            return record_failure(c, l, idx, ZE_DOWNSTREAM_REFUSED, str(c->fetched, "message"),
                                  str(c->fetched, "system_code"));
        if (strcmp(outcome, "failed") == 0)
            return record_failure(c, l, idx, ZE_BIZ_CHECK_FAILED, str(c->fetched, "message"), NULL);
        reply = json_object_get(c->fetched, "reply");
    }
    char serial[WF_SERIAL_LEN + 1];
    wf_serial(l->b.biz_no, idx, 'F', l->steps[idx].attempt, serial);
    json_t *state = state_of(l->k, l->steps), *outs = outs_of(l->k, l->steps), *out = json_object(),
           *keep = json_object();
    w.state = state;
    w.outs = outs;
    w.kind = l->k->name;
    w.serial = serial;
    w.customer_id = l->b.customer_id;
    enum tx_result res = TX_ROLLBACK;
    int rc = state && outs && out && keep ? s->apply(&w, reply, out, keep) : WF_ERR;
    if (rc == WF_OK)
        res = record_done(c, l, idx, out, keep, w.customer_id, state);
    else if (rc == WF_FAIL)
        res = record_failure(c, l, idx, ZE_BIZ_CHECK_FAILED, w.msg, NULL);
    else if (rc == WF_BAD) {
        tx_failf(c, ZE_BAD_REQUEST, "%s", w.msg);
        res = TX_COMMIT;
    }
    drop(state);
    drop(outs);
    drop(out);
    drop(keep);
    return res;
}

static enum tx_result tx_step(struct tx_ctx *c)
{
    struct loaded l;
    int64_t id = json_integer_value(json_object_get(c->in, "biz_id"));
    int rc = load(c->tenant, kek_of(c), id, &l);
    if (rc == WDB_NONE) {
        tx_fail(c, ZE_BIZ_NOT_FOUND);
        return TX_COMMIT;
    }
    if (rc != WDB_OK)
        return TX_ROLLBACK;
    enum tx_result res = TX_COMMIT;
    int idx = wf_step_index(l.k, str(c->in, "step"));
    const char *next = next_name(l.k, &l.b);
    if (idx < 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.step: not a step of %s", l.k->name);
    } else if (strcmp(l.steps[idx].state, "done") == 0) {
        answer_done(c, &l, idx, l.steps[idx].out, true); /* the same step again: its result */
    } else if (strcmp(l.b.status, "open") != 0) {
        tx_fail(c, ZE_BIZ_CLOSED);
        json_object_set_new(c->out, "status", json_string(l.b.status));
    } else if (idx != l.b.next_step) {
        tx_fail(c, ZE_BIZ_STEP_OUT_OF_ORDER);
        json_object_set_new(c->out, "next_step", next ? json_string(next) : json_null());
    } else {
        res = run_step(c, &l, idx, json_object_get(c->in, "input"));
    }
    unload(&l);
    return res;
}

/* ---- BIZ_GET ------------------------------------------------------------------------------ */

static json_t *summary(const struct wdb_biz *b)
{
    const struct wf_kind *k = wf_kind_find(b->kind);
    const char *next = k && k->steps ? next_name(k, b) : NULL;
    return json_pack("{s:I,s:s,s:s,s:s,s:o,s:I,s:I,s:I}", "biz_id", (json_int_t)b->id, "biz_no",
                     b->biz_no, "kind", b->kind, "status", b->status, "next_step",
                     next && strcmp(b->status, "open") == 0 ? json_string(next) : json_null(),
                     "customer_id", (json_int_t)b->customer_id, "created_at",
                     (json_int_t)b->created_at, "updated_at", (json_int_t)b->updated_at);
}

static enum tx_result tx_get(struct tx_ctx *c)
{
    struct loaded l;
    int rc = load(c->tenant, kek_of(c), json_integer_value(json_object_get(c->in, "biz_id")), &l);
    if (rc == WDB_NONE) {
        tx_fail(c, ZE_BIZ_NOT_FOUND);
        return TX_COMMIT;
    }
    if (rc != WDB_OK)
        return TX_ROLLBACK;
    json_t *sum = summary(&l.b), *steps = json_array();
    int vi = wf_step_index(l.k, WF_VOUCHER_STEP);
    const json_t *vid =
        vi >= 0 && l.steps[vi].out ? json_object_get(l.steps[vi].out, "voucher_id") : NULL;
    if (sum)
        json_object_set_new(sum, "voucher_id", vid ? json_deep_copy(vid) : json_null());
    for (size_t i = 0; sum && steps && i < l.k->nsteps; i++) {
        const struct wdb_step *st = &l.steps[i];
        json_t *one = json_pack("{s:s,s:s,s:i}", "step", l.k->steps[i].name, "state",
                                st->ran ? st->state : "pending", "attempt", st->attempt);
        if (one && st->out)
            json_object_set_new(one, "result", json_deep_copy(st->out));
        if (one && st->message[0])
            json_object_set_new(one, "message", json_string(st->message));
        if (one && st->ran)
            json_object_set_new(one, "updated_at", json_integer(st->updated_at));
        json_array_append_new(steps, one);
    }
    unload(&l);
    if (!sum || !steps) {
        json_decref(sum);
        json_decref(steps);
        return TX_ROLLBACK;
    }
    json_object_update(c->out, sum);
    json_decref(sum);
    json_object_set_new(c->out, "steps", steps);
    return TX_COMMIT;
}

/* ---- BIZ_LIST ----------------------------------------------------------------------------- */

struct list_acc {
    json_t *items;
    int limit, n;
    bool more;
};

static int list_item(const struct wdb_biz *b, void *arg)
{
    struct list_acc *a = arg;
    if (a->n++ == a->limit) {
        a->more = true;
        return STORE_OK;
    }
    json_t *one = summary(b);
    return one && json_array_append_new(a->items, one) == 0 ? STORE_OK : STORE_NOMEM;
}

static enum tx_result tx_list(struct tx_ctx *c)
{
    const char *status = str(c->in, "status"), *kind = str(c->in, "kind");
    json_t *lim = json_object_get(c->in, "limit");
    int64_t before = json_integer_value(json_object_get(c->in, "before_id"));
    int limit = lim ? (int)json_integer_value(lim) : LIST_DEFAULT;
    if (limit < 1 || limit > LIST_MAX) {
        tx_failf(c, ZE_BAD_REQUEST, "data.limit: 1..%d", LIST_MAX);
        return TX_COMMIT;
    }
    if (status && strcmp(status, "open") != 0 && strcmp(status, "completed") != 0 &&
        strcmp(status, "cancelling") != 0 && strcmp(status, "cancelled") != 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.status: open, completed, cancelling or cancelled");
        return TX_COMMIT;
    }
    if (kind && !wf_kind_find(kind)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.kind: unknown business kind");
        return TX_COMMIT;
    }
    struct list_acc a = {.items = json_array(), .limit = limit};
    if (!a.items || wdb_list(c->tenant, tenant_scope(c->tenant)->teller_id, status ? status : "",
                             kind ? kind : "", before, limit + 1, list_item, &a) != WDB_OK) {
        json_decref(a.items);
        return TX_ROLLBACK;
    }
    json_object_set_new(c->out, "items", a.items);
    json_object_set_new(c->out, "more", json_boolean(a.more));
    return TX_COMMIT;
}

/* ---- BIZ_CANCEL --------------------------------------------------------------------------- */

/* Whether step i of l is to be compensated: a done step with an undo, or
 * the current step of an open business whose call may be outstanding. */
static bool to_undo(const struct loaded *l, size_t i)
{
    if (!l->k->steps[i].undo)
        return false;
    if (strcmp(l->steps[i].state, "done") == 0)
        return true;
    return (int)i == l->b.next_step && strcmp(l->steps[i].state, "compensated") != 0 &&
           strcmp(l->b.status, "completed") != 0 && strcmp(l->b.status, "cancelled") != 0;
}

static enum tx_result prepare_cancel(struct tx_ctx *c)
{
    struct loaded l;
    int64_t id = json_integer_value(json_object_get(c->in, "biz_id"));
    if (!c->tenant || load(c->tenant, kek_of(c), id, &l) != WDB_OK) {
        if (c->tenant)
            unload(&l);
        return TX_COMMIT;
    }
    json_t *done = json_array();
    json_int_t failed = -1;
    bool live = strcmp(l.b.status, "open") == 0 || strcmp(l.b.status, "cancelling") == 0;
    for (size_t n = l.k->nsteps; live && done && n-- > 0;) {
        if (!to_undo(&l, n))
            continue;
        char orig[WF_SERIAL_LEN + 1], serial[WF_SERIAL_LEN + 1];
        wf_serial(l.b.biz_no, (int)n, 'F', l.steps[n].attempt, orig);
        wf_serial(l.b.biz_no, (int)n, 'C', l.steps[n].attempt, serial);
        json_t *req = json_pack("{s:s,s:s}", "serial", serial, "orig_serial", orig), *out = NULL;
        struct egress_error e = {0};
        enum egress_kind ek = req && c->env->egress
                                  ? egress_call(c->env->egress, l.k->steps[n].undo, req, &out, &e)
                                  : EGRESS_E_ROUTE;
        json_decref(req);
        json_decref(out);
        if (ek != EGRESS_OK) {
            log_warn("biz.compensate", "biz=%" PRId64 " step=%s serial=%s: %s (%s)", l.b.id,
                     l.k->steps[n].name, serial, egress_kind_name(ek), e.message);
            failed = (json_int_t)n;
            break;
        }
        json_array_append_new(done, json_integer((json_int_t)n));
    }
    c->fetched = done ? json_pack("{s:I,s:o,s:I}", "biz_id", (json_int_t)l.b.id, "compensated",
                                  done, "failed", failed)
                      : NULL;
    unload(&l);
    return c->fetched ? TX_COMMIT : TX_ROLLBACK;
}

static bool in_list(const json_t *a, size_t i)
{
    size_t k;
    json_t *v;
    json_array_foreach(a, k, v)
    {
        if (json_integer_value(v) == (json_int_t)i)
            return true;
    }
    return false;
}

static enum tx_result tx_cancel(struct tx_ctx *c)
{
    struct loaded l;
    int64_t id = json_integer_value(json_object_get(c->in, "biz_id"));
    int rc = load(c->tenant, kek_of(c), id, &l);
    if (rc == WDB_NONE) {
        tx_fail(c, ZE_BIZ_NOT_FOUND);
        return TX_COMMIT;
    }
    if (rc != WDB_OK)
        return TX_ROLLBACK;
    enum tx_result res = TX_ROLLBACK;
    if (strcmp(l.b.status, "completed") == 0 || strcmp(l.b.status, "cancelled") == 0) {
        tx_fail(c, ZE_BIZ_CLOSED);
        json_object_set_new(c->out, "status", json_string(l.b.status));
        res = TX_COMMIT;
        goto out;
    }
    bool mine = c->fetched && json_integer_value(json_object_get(c->fetched, "biz_id")) == l.b.id;
    const json_t *comp = mine ? json_object_get(c->fetched, "compensated") : NULL;
    json_t *names = json_array();
    bool left = false;
    int64_t now = clock_wall_ms();
    for (size_t i = 0; names && i < l.k->nsteps; i++) {
        if (!to_undo(&l, i))
            continue;
        if (!in_list(comp, i)) {
            left = true;
            continue;
        }
        struct wdb_step st = {.attempt = l.steps[i].attempt,
                              .out = l.steps[i].out,
                              .keep = l.steps[i].keep,
                              .updated_at = now};
        snprintf(st.state, sizeof st.state, "compensated");
        snprintf(st.message, sizeof st.message, "%s", l.steps[i].message);
        if (wdb_step_put(c->tenant, kek_of(c), &l.b, (int)i, l.k->steps[i].name, &st) != WDB_OK ||
            audit_biz(c, &l.b, "biz.compensated", l.k->steps[i].name, st.attempt) != ID_OK)
            goto out_names;
        json_array_append_new(names, json_string(l.k->steps[i].name));
    }
    if (!names)
        goto out;
    snprintf(l.b.status, sizeof l.b.status, "%s", left ? "cancelling" : "cancelled");
    l.b.updated_at = now;
    if (wdb_update(c->tenant, &l.b) != WDB_OK ||
        audit_biz(c, &l.b, left ? "biz.cancelling" : "biz.cancelled", NULL, 0) != ID_OK)
        goto out_names;
    if (left)
        tx_fail(c, ZE_DOWNSTREAM_UNAVAILABLE);
    json_object_set_new(c->out, "biz_id", json_integer(l.b.id));
    json_object_set_new(c->out, "status", json_string(l.b.status));
    json_object_set_new(c->out, "compensated", names);
    names = NULL;
    res = TX_COMMIT;
out_names:
    json_decref(names);
out:
    unload(&l);
    return res;
}

/* ---- the definitions ----------------------------------------------------------------------- */

static const struct tx_field F_START[] = {
    {.name = "kind", .type = TXF_STRING, .required = true, .max = 16},
    {.name = "customer_id", .type = TXF_INT},
};
static const struct tx_field F_STEP[] = {
    {.name = "biz_id", .type = TXF_INT, .required = true},
    {.name = "step", .type = TXF_STRING, .required = true, .max = WF_NAME_MAX},
    {.name = "input", .type = TXF_OBJECT, .required = true},
};
static const struct tx_field F_ID[] = {
    {.name = "biz_id", .type = TXF_INT, .required = true},
};
static const struct tx_field F_LIST[] = {
    {.name = "status", .type = TXF_STRING, .max = 12},
    {.name = "kind", .type = TXF_STRING, .max = 16},
    {.name = "before_id", .type = TXF_INT},
    {.name = "limit", .type = TXF_INT},
};

#define FIELDS(f) .fields = f, .nfields = sizeof f / sizeof f[0]

const struct tx_def TX_BIZ_START = {
    .code = "BIZ_START", .fn = tx_start, .needs_session = true, .bank_data = true, FIELDS(F_START)};
const struct tx_def TX_BIZ_STEP = {.code = "BIZ_STEP",
                                   .fn = tx_step,
                                   .prepare = prepare_step,
                                   .needs_session = true,
                                   .bank_data = true,
                                   .org_names = true,
                                   FIELDS(F_STEP)};
const struct tx_def TX_BIZ_GET = {.code = "BIZ_GET",
                                  .fn = tx_get,
                                  .needs_session = true,
                                  .read_only = true,
                                  .bank_data = true,
                                  FIELDS(F_ID)};
const struct tx_def TX_BIZ_LIST = {.code = "BIZ_LIST",
                                   .fn = tx_list,
                                   .needs_session = true,
                                   .read_only = true,
                                   .bank_data = true,
                                   FIELDS(F_LIST)};
const struct tx_def TX_BIZ_CANCEL = {.code = "BIZ_CANCEL",
                                     .fn = tx_cancel,
                                     .prepare = prepare_cancel,
                                     .needs_session = true,
                                     .bank_data = true,
                                     FIELDS(F_ID)};
