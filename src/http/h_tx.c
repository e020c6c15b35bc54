/* POST /api/v1/tx/{TX} — the ZY1 pipeline: the spec's 14 checks in order,
 * then the transaction's handler, then the sealed answer.
 *
 * Until step 10 has passed, failures are plain JSON errors with the spec's
 * status; after it, every answer is sealed with the request's keys (except a
 * replay found when the nonce is made durable, which is step 11's plain 409).
 *
 * Where each piece commits (spec v1.1, amendments 3 and 4):
 *  - a TX that writes runs in ONE store_run transaction with its durable
 *    nonce record, its audit records and its stored answer;
 *  - an own_transaction TX (LOGIN, PASSWORD_CHANGE: a counted wrong password
 *    must persist) first commits its nonce and a claim on its cseq, then runs,
 *    then stores its answer on the claim;
 *  - a read-only TX keeps its nonce in memory only (a next process refuses
 *    read-only envelopes sealed before it started), unless it was sealed in
 *    our future; that one, and every refusal after step 11, hand their nonce
 *    to the batch journal (channel/nonce_db.h); a read-only TX's stored
 *    answer (with a cseq) goes there too, and is found there until written.
 * A TX with a prepare function (channel/tx.h) runs it after the checks and
 * before its transaction, with at most a read-only tenant scope on the
 * bank's shard outside any transaction: what it fetches from the bank's
 * other systems (a slow remote call) never holds a shard's writer lock. A retry of a cseq whose
 * answer is stored (Redis, or the database: one read, outside any transaction) skips it. Stored
 * answers are sealed under the KEK: they may carry a device secret or a session id. Plaintexts
 * holding secrets are wiped before they are freed.
 *
 * With Redis, a copy of each stored answer goes there once its transaction
 * committed (channel/answer_cache.h), and a retry of an answered cseq that
 * passed every check up to step 13 is answered from the copy without a
 * database transaction (its nonce then goes to the journal, as a read's);
 * a miss, or Redis not answering, takes the database path as without it.
 *
 * The cluster's change generation comes with the nonce at step 11, after
 * the device was taken from the cache at step 7: when another node changed
 * identity records since the cached device was validated, step 7 runs again
 * on the database (and 9-10 with a new DS) before anything else happens. */
#include "app/app.h"
#include "business/mdm_policy.h"
#include "channel/answer_cache.h"
#include "channel/idem.h"
#include "channel/nonce_db.h"
#include "channel/tx.h"
#include "channel/zy1.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/secmem.h"
#include "http/handlers.h"
#include "http/txauth.h"
#include "identity/audit.h"
#include "identity/binding.h"
#include "identity/org.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A claim on a cseq older than this is taken over: its holder died. */
#define CLAIM_STALE_MS 60000
/* How long a duplicate waits for the claim holder's answer. */
#define CLAIM_WAIT_MS 5000
#define CLAIM_POLL_MS 20

/* Everything one request holds; released by req_free on every path. */
struct txreq {
    struct app *app;
    const char *tx;
    const struct tx_def *def;
    zy1_envelope env;
    struct store_conn *conn;
    struct txauth auth;
    zy1_keys keys;
    zy1_payload payload;
    char dev[ZY1_DEV_LEN + 1];
    char nonce_b64[ZY1_NONCE_B64_LEN + 1];
    char cseq[ZY1_CSEQ_MAX + 1];
    char srvseq[SEQ_LEN + 1];
    int64_t nonce_expires; /* when the durable nonce record may go */
    uint64_t cluster_gen;  /* every node's changes, read with the nonce (0: no Redis) */
    bool nonce_pending;    /* recorded in memory, not yet durably */
    const char *client_ip;
    json_t *fetched;                  /* what the TX's prepare function fetched (tx_ctx.fetched) */
    char bank_name[ORG_NAME_MAX + 1]; /* tx_def org_names: the session's (tx_ctx) */
    char branch_name[ORG_NAME_MAX + 1];
    enum tx_after after; /* the handler's identity effect (tx_ctx), run once committed */
    bool gated;          /* the MDM gate refused it: its answer is not stored */
};

static void req_free(struct txreq *r)
{
    zy1_payload_free(&r->payload);
    zy1_envelope_free(&r->env);
    zy1_keys_wipe(&r->keys);
    txauth_wipe(&r->auth);
    if (r->fetched) {
        zy1_json_wipe(r->fetched); /* a customer's data from the bank's systems */
        json_decref(r->fetched);
    }
    if (r->conn)
        store_release(r->conn);
}

/* A plaintext answer: wiped, then freed. */
static void free_text(char *text)
{
    if (text) {
        secmem_wipe(text, strlen(text));
        free(text);
    }
}

static void count(const char *tx, const char *code)
{
    char labels[96];
    snprintf(labels, sizeof labels, "tx=\"%s\",code=\"%s\"", tx, code);
    metric_inc(metrics_counter("zhanye_tx_total", labels));
}

/* A plain error before step 10 (and step 11's replay), with the table's
 * status and message (foundation/errcode.h); stale carries server_ts. */
static void plain_error(struct txreq *r, struct http_response *resp, enum ze e)
{
    json_t *extra =
        e == ZE_STALE ? json_pack("{s:I}", "server_ts", (json_int_t)clock_wall_ms()) : NULL;
    http_error_ex(resp, e, NULL, extra);
    count(r->def ? r->tx : "unknown", ze_code(e));
}

/* A code txauth hands over as text, as the table's enum (unknown: internal). */
static enum ze code_of(const char *code)
{
    enum ze e;
    (void)ze_parse(code, &e);
    return e;
}

/* The sealed answer {code, message, data, srvseq} as plaintext JSON. */
static char *reply_text(const char *code, const char *message, json_t *data, const char *srvseq)
{
    json_t *j = json_pack("{s:s,s:s,s:O*,s:s}", "code", code, "message", message, "data", data,
                          "srvseq", srvseq);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

static void seal_text(struct txreq *r, struct http_response *resp, const char *text)
{
    char *body = NULL;
    size_t len = 0;
    if (!text || zy1_seal_response(&r->keys, r->tx, r->nonce_b64, clock_wall_ms(), text,
                                   strlen(text), NULL, &body, &len) != ZY1_OK) {
        http_error(resp, ZE_INTERNAL, NULL);
        return;
    }
    http_text(resp, 200, "application/json", body, len);
}

/* store_run callback: the request's nonce, durably. */
static int record_nonce(struct store_conn *c, void *arg)
{
    const struct txreq *r = arg;
    int rc = nonce_db_insert(c, r->dev, r->env.nonce, r->nonce_expires);
    return rc == STORE_CONSTRAINT ? STORE_OK : rc; /* recorded already: as good */
}

/* The nonce of a request that ends without a write transaction of its own:
 * to the journal, or (journal full) durably right here. */
static void nonce_to_journal(struct txreq *r)
{
    if (!r->nonce_pending)
        return;
    r->nonce_pending = false;
    if (nonce_journal_add(r->app->journal, r->dev, r->env.nonce, r->nonce_expires) == 0)
        return;
    if (store_run(r->conn, "tx_nonce", record_nonce, r) != STORE_OK)
        log_error("tx.nonce", "cannot record a nonce durably: %s", store_errmsg(r->conn));
}

/* A sealed error: e's code, detail or the table's message, data.reason
 * when given (HTTP 200: the table's status is not used). */
static void sealed_error(struct txreq *r, struct http_response *resp, enum ze e, const char *detail,
                         const char *reason)
{
    nonce_to_journal(r);
    json_t *data = reason ? json_pack("{s:s}", "reason", reason) : json_object();
    char *text = reply_text(ze_code(e), ze_message(e, detail), data, r->srvseq);
    json_decref(data);
    seal_text(r, resp, text);
    free(text);
    count(r->tx, ze_code(e));
}

/* Steps 2 and 3: a well-formed envelope for a known TX. */
static bool check_envelope(struct txreq *r, const struct http_request *req,
                           struct http_response *resp)
{
    if (!req->body || zy1_envelope_parse(req->body, req->body_len, &r->env) != ZY1_OK ||
        (zy1_tx_valid(r->tx) && zy1_envelope_check_tx(&r->env, r->tx) != ZY1_OK)) {
        plain_error(r, resp, ZE_BAD_ENVELOPE);
        return false;
    }
    r->def = tx_find(r->tx);
    if (!r->def) {
        plain_error(r, resp, ZE_UNKNOWN_TX);
        return false;
    }
    memcpy(r->dev, r->env.dev.p, ZY1_DEV_LEN);
    memcpy(r->nonce_b64, r->env.nonce_b64.p, r->env.nonce_b64.n);
    r->nonce_b64[r->env.nonce_b64.n] = '\0';
    return true;
}

/* Step 7 again when the cluster generation read at step 11 says another
 * node changed identity records since the cached device was validated
 * (txauth_cluster_check); with a new DS, steps 9-10 again. The common path
 * (the generation unchanged) costs one comparison. */
static bool recheck_device(struct txreq *r, const sm2_key *key, struct http_response *resp)
{
    bool rekey = false;
    int status = 0;
    const char *code =
        txauth_cluster_check(r->app, r->conn, r->dev, r->cluster_gen, &r->auth, &rekey, &status);
    if (code) {
        plain_error(r, resp, code_of(code));
        return false;
    }
    if (!rekey)
        return true;
    zy1_keys_wipe(&r->keys);
    zy1_status st = zy1_authenticate(key, r->tx, &r->env, r->auth.F, &r->keys);
    if (st != ZY1_OK) {
        plain_error(r, resp, st == ZY1_BAD_MAC ? ZE_BAD_MAC : ZE_INTERNAL);
        return false;
    }
    return true;
}

/* Steps 5 to 11: time, key, device, nonce, MAC, nonce recorded in memory. */
static bool authenticate(struct txreq *r, struct http_response *resp)
{
    struct app *a = r->app;
    int64_t now = clock_wall_ms();
    int64_t skew = now > r->env.ts ? now - r->env.ts : r->env.ts - now;
    /* ...and a read-only envelope sealed before this process vouches for
     * the nonces it keeps in memory only (channel/nonce_db.h) */
    if (skew > a->cfg.channel.window_ms || (r->def->read_only && r->env.ts < a->reads_from_ms)) {
        plain_error(r, resp, ZE_STALE);
        return false;
    }
    const sm2_key *key = keyring_find(&a->keys, r->env.kid.p, r->env.kid.n);
    if (!key) {
        plain_error(r, resp, ZE_UNKNOWN_KEY);
        return false;
    }
    if (store_acquire(a->store, &r->conn) != STORE_OK) {
        plain_error(r, resp, ZE_UNAVAILABLE);
        return false;
    }
    int status = 0; /* txauth's; the answer takes the table's, which agrees */
    const char *code = txauth_resolve(a, r->conn, r->tx, r->dev, &r->env, &r->auth, &status);
    if (code) {
        plain_error(r, resp, code_of(code));
        return false;
    }
    uint8_t devb[16];
    hex_decode(r->dev, ZY1_DEV_LEN, devb, sizeof devb);
    if (nonce_seen(a->nonces, devb, r->env.nonce, now)) {
        plain_error(r, resp, ZE_REPLAY);
        return false;
    }
    zy1_status st = zy1_authenticate(key, r->tx, &r->env, r->auth.F, &r->keys);
    /* A cached device re-activated elsewhere has a new DS: read it again. */
    if (st == ZY1_BAD_MAC && txauth_reload_on_bad_mac(a, r->conn, r->dev, &r->auth))
        st = zy1_authenticate(key, r->tx, &r->env, r->auth.F, &r->keys);
    if (st == ZY1_BAD_MAC) {
        txauth_failed(a, r->conn, &r->auth, r->dev);
        plain_error(r, resp, ZE_BAD_MAC);
        return false;
    }
    if (st != ZY1_OK) {
        plain_error(r, resp, ZE_INTERNAL);
        return false;
    }
    int nrc = nonce_record_gen(a->nonces, devb, r->env.nonce, now, &r->cluster_gen);
    if (nrc != NONCE_OK) {
        /* shared through Redis and Redis did not answer: nothing recorded,
         * the tablet may send the same envelope again */
        plain_error(r, resp, nrc == NONCE_UNAVAILABLE ? ZE_UNAVAILABLE : ZE_REPLAY);
        return false;
    }
    if (!recheck_device(r, key, resp))
        return false;
    /* A read-only envelope sealed no later than now needs no durable record:
     * a next process refuses it as sealed before it (channel/nonce_db.h). */
    r->nonce_pending = !(r->def->read_only && r->env.ts <= now);
    if (!r->nonce_pending)
        nonce_journal_vouch(a->journal, now);
    r->nonce_expires = now + 2 * a->cfg.channel.window_ms;
    /* Only an authenticated envelope costs a server serial number. */
    if (seq_next(a->seq, "srv", r->srvseq) != 0)
        r->srvseq[0] = '\0';
    return true;
}

static void text_of(const zy1_text *t, char *out, size_t cap)
{
    size_t n = t->p && t->n < cap ? t->n : 0;
    memcpy(out, t->p ? t->p : "", n);
    out[n] = '\0';
}

/* Steps 12 and 13, and the input schema. */
static bool open_payload(struct txreq *r, struct http_response *resp)
{
    char err[160];
    zy1_status st = zy1_decrypt_payload(&r->env, &r->keys, &r->payload);
    if (st != ZY1_OK) {
        sealed_error(r, resp, st == ZY1_BAD_PAYLOAD ? ZE_BAD_PAYLOAD : ZE_INTERNAL, NULL, NULL);
        return false;
    }
    text_of(&r->payload.cseq, r->cseq, sizeof r->cseq);
    if (!r->auth.is_activation)
        txauth_touch(r->app, r->conn, &r->auth, r->dev, r->client_ip);
    if (r->def->needs_session) {
        const char *code = txauth_session(r->app, r->conn, &r->payload, r->cluster_gen, &r->auth);
        enum ze e = code_of(code);
        if (code && (e == ZE_INTERNAL || e == ZE_UNAVAILABLE)) { /* the store failed: no verdict */
            sealed_error(r, resp, e, NULL, NULL);
            return false;
        }
        if (code) {
            sealed_error(r, resp, e,
                         e == ZE_SESSION_INVALID &&
                                 strcmp(r->auth.reason, "signed_in_elsewhere") == 0
                             ? "该柜员已在其他设备登录"
                             : NULL,
                         r->auth.reason);
            return false;
        }
    }
    if (tx_validate(r->def, r->payload.data, err, sizeof err) != 0) {
        sealed_error(r, resp, ZE_BAD_REQUEST, err, NULL);
        return false;
    }
    return true;
}

/* ---- the handler and its stored answer ----------------------------------- */

/* KEK context of a stored answer: it opens for this (dev, TX, cseq) only. */
static void answer_context(const struct txreq *r, char *out, size_t cap)
{
    snprintf(out, cap, "ans|%s|%s|%s", r->dev, r->tx, r->cseq);
}

/* The reply text sealed for storage; *out malloc'd. */
static int seal_answer(const struct txreq *r, const char *reply, uint8_t **out, size_t *len)
{
    char ctx[160];
    size_t n = strlen(reply), cap = kek_sealed_len(n);
    answer_context(r, ctx, sizeof ctx);
    *out = malloc(cap);
    if (!*out)
        return STORE_NOMEM;
    if (kek_seal(&r->app->kek, ctx, (const uint8_t *)reply, n, *out, cap, len) != ID_OK) {
        free(*out);
        *out = NULL;
        return STORE_ERR;
    }
    return STORE_OK;
}

/* A stored answer opened back into reply text (malloc'd), or NULL. */
static char *open_answer(const struct txreq *r, const uint8_t *sealed, size_t n)
{
    char ctx[160];
    answer_context(r, ctx, sizeof ctx);
    char *text = n > KEK_OVERHEAD ? malloc(n - KEK_OVERHEAD + 1) : NULL;
    size_t len = 0;
    if (text &&
        kek_open(&r->app->kek, ctx, sealed, n, (uint8_t *)text, n - KEK_OVERHEAD, &len) == ID_OK) {
        text[len] = '\0';
        return text;
    }
    free(text);
    log_error("tx.answer", "TX=%s dev=%s: a stored answer does not open (tampered or other KEK)",
              r->tx, r->dev);
    return NULL;
}

/* Runs the handler on conn; the reply text (malloc'd) or NULL on TX_ROLLBACK. */
/* What a handler (or a prepare function) learns of the request; tlr is the
 * caller's buffer for the envelope's tlr. conn, tenant, sid and out are the
 * caller's to set. */
static struct tx_ctx ctx_of(struct txreq *r, char tlr[ZY1_ID_MAX + 1])
{
    const struct session *s = &r->auth.session;
    text_of(&r->env.tlr, tlr, ZY1_ID_MAX + 1);
    return (struct tx_ctx){
        .env = &r->app->tx_env,
        .tx = r->tx,
        .dev = r->dev,
        .tlr = tlr,
        .client_ip = r->client_ip,
        .bank_id = r->auth.bank_id,
        .teller_id = r->auth.teller_id,
        .branch_id = s->branch_id,
        .role = s->role,
        .teller = s->teller_code[0] ? (struct tx_teller){.code = s->teller_code,
                                                         .name = s->teller_name,
                                                         .role = role_name(s->shown_role),
                                                         .bank = s->bank_code,
                                                         .branch = s->branch_code}
                                    : (struct tx_teller){0},
        .ticket = r->auth.is_activation ? &r->auth.ticket : NULL,
        .in = r->payload.data,
        .fetched = r->fetched,
        .bank_name = r->bank_name,
        .branch_name = r->branch_name,
        .code = "OK",
    };
}

/* The device-management gate (business/mdm_policy.h) of a business TX, in
 * its transaction on the bank's shard: MDM_CLOSED with c answering
 * device_noncompliant and the violations, MDM_OK to run the handler,
 * MDM_ERR (the store: the handler does not run). */
static bool gated_tx(const struct txreq *r)
{
    return r->def->bank_data && !r->def->mdm_open && r->def->needs_session;
}

static int device_gate(const struct txreq *r, struct tx_ctx *c)
{
    json_t *violations = NULL;
    if (!gated_tx(r) || !c->tenant)
        return MDM_OK;
    int rc = mdm_gate(c->tenant, c->branch_id, r->dev, clock_wall_ms(), &violations);
    if (rc == MDM_CLOSED) {
        tx_fail(c, ZE_DEVICE_NONCOMPLIANT);
        json_object_set_new(c->out, "violations", violations);
    }
    return rc;
}

static char *run_handler(struct txreq *r, struct store_conn *conn)
{
    const struct session *s = &r->auth.session;
    struct scope sc = {s->bank_id, s->branch_id, s->teller_id, s->role};
    struct tenant_conn *tenant = NULL;
    char sid[ZY1_SID_MAX + 1], tlr[ZY1_ID_MAX + 1];
    char *reply = NULL;
    /* A read-only TX gets a read-only scope: it cannot write, not even an
     * audit record (its work runs outside any transaction). */
    if (r->def->needs_session &&
        (r->def->read_only ? tenant_open_readonly : tenant_open)(conn, &sc, &tenant) != STORE_OK)
        return NULL;
    text_of(&r->payload.sid, sid, sizeof sid);
    struct tx_ctx c = ctx_of(r, tlr);
    c.conn = conn;
    c.tenant = tenant;
    c.sid = sid[0] ? sid : NULL;
    c.out = json_object();
    int gate = c.out ? device_gate(r, &c) : MDM_ERR;
    r->gated = gate == MDM_CLOSED;
    r->after = TX_AFTER_NONE;
    if (gate == MDM_CLOSED || (gate == MDM_OK && r->def->fn(&c) == TX_COMMIT))
        reply = reply_text(c.code, c.message, c.out, r->srvseq);
    if (reply && gate == MDM_OK)
        r->after = c.after;
    if (reply)
        count(r->tx, c.code);
    tenant_close(tenant);
    zy1_json_wipe(c.out); /* a session id, a device secret */
    json_decref(c.out);
    secmem_wipe(sid, sizeof sid);
    return reply;
}

/* What one store_run of the work produced. */
struct work {
    struct txreq *r;
    char *reply;     /* the answer's plaintext */
    uint8_t *sealed; /* the answer as stored (sealed under the KEK), for the Redis copy */
    size_t sealed_len;
    bool replay;  /* the durable nonce record was there already */
    bool failed;  /* the handler rolled back */
    bool pending; /* a concurrent duplicate holds the claim on the cseq */
    bool answered_before;
};

/* Positive outcomes that roll back (data/store.h): nothing of them may stay. */
enum { W_REPLAY = 1, W_FAILED, W_STORED, W_MOVING, W_GONE };

/* w keeps the stored form of its answer (taking sealed; NULL drops it). */
static void keep_sealed(struct work *w, uint8_t *sealed, size_t n)
{
    free(w->sealed);
    w->sealed = sealed;
    w->sealed_len = sealed ? n : 0;
}

static void work_reset(struct work *w)
{
    free_text(w->reply);
    w->reply = NULL;
    keep_sealed(w, NULL, 0);
    w->replay = w->failed = w->pending = w->answered_before = false;
}

/* The stored answer, if this cseq was answered before: W_STORED with w->reply. */
static int stored_answer(struct work *w, struct store_conn *c)
{
    uint8_t *sealed = NULL;
    size_t n = 0;
    int rc = idem_get(c, w->r->dev, w->r->tx, w->r->cseq, &sealed, &n);
    if (rc == IDEM_DONE) {
        w->reply = open_answer(w->r, sealed, n);
        w->answered_before = true;
        rc = w->reply ? W_STORED : STORE_ERR;
        if (w->reply) {
            keep_sealed(w, sealed, n);
            sealed = NULL;
        }
    }
    free(sealed);
    return rc;
}

/* store_run callback: nonce, stored answer, handler, answer stored — one transaction. */
static int work_in_txn(struct store_conn *c, void *arg)
{
    struct work *w = arg;
    struct txreq *r = w->r;
    work_reset(w);
    /* A business TX: first, is the bank's data (still) in this database? */
    int rc = r->def->bank_data ? shard_fence(c, r->auth.bank_id) : SHARD_HERE;
    if (rc != SHARD_HERE)
        return rc == SHARD_MOVING ? W_MOVING : rc == SHARD_GONE ? W_GONE : rc;
    rc = nonce_db_insert(c, r->dev, r->env.nonce, r->nonce_expires);
    if (rc == STORE_CONSTRAINT) {
        w->replay = true;
        return W_REPLAY;
    }
    if (rc == STORE_OK && r->cseq[0]) {
        rc = stored_answer(w, c);
        if (rc == STORE_DONE)
            rc = STORE_OK;
    }
    if (rc != STORE_OK)
        return rc;
    w->reply = run_handler(r, c);
    if (!w->reply) {
        w->failed = true;
        /* Locked or out of reach: store_run runs it again, then `unavailable`. */
        return store_last_error(c) == STORE_BUSY ? STORE_BUSY : W_FAILED;
    }
    /* A gate's refusal is not the cseq's answer: once the device is
     * compliant, the same cseq runs for real. */
    if (!r->cseq[0] || r->gated)
        return STORE_OK;
    uint8_t *sealed = NULL;
    size_t n = 0;
    rc = seal_answer(r, w->reply, &sealed, &n);
    if (rc == STORE_OK)
        rc = idem_put(c, r->auth.bank_id, r->dev, r->tx, r->cseq, sealed, n, clock_wall_ms());
    keep_sealed(w, sealed, n); /* copied to Redis only once this commits */
    /* A duplicate on another connection stored first: run again, and find it. */
    return rc == STORE_CONSTRAINT ? STORE_BUSY : rc;
}

/* store_run callback of an own_transaction TX: the nonce, and the claim on its cseq. */
static int claim(struct store_conn *c, void *arg)
{
    struct work *w = arg;
    struct txreq *r = w->r;
    work_reset(w);
    int rc = nonce_db_insert(c, r->dev, r->env.nonce, r->nonce_expires);
    if (rc == STORE_CONSTRAINT) {
        w->replay = true;
        return W_REPLAY;
    }
    if (rc != STORE_OK || !r->cseq[0])
        return rc;
    uint8_t *sealed = NULL;
    size_t n = 0;
    rc = idem_claim(c, r->auth.bank_id, r->dev, r->tx, r->cseq, clock_wall_ms(), CLAIM_STALE_MS,
                    &sealed, &n);
    if (rc == IDEM_DONE) {
        w->reply = open_answer(r, sealed, n);
        w->answered_before = true;
        rc = w->reply ? STORE_OK : STORE_ERR;
        if (w->reply) {
            keep_sealed(w, sealed, n);
            sealed = NULL;
        }
    } else if (rc == IDEM_NEW || rc == IDEM_PENDING) {
        w->pending = rc == IDEM_PENDING; /* not ours to run */
        rc = STORE_OK;
    }
    free(sealed);
    return rc;
}

/* store_run callback: the claim's answer, or the claim dropped (w->reply NULL). */
static int settle_claim(struct store_conn *c, void *arg)
{
    struct work *w = arg;
    struct txreq *r = w->r;
    if (!w->reply)
        return idem_release(c, r->dev, r->tx, r->cseq);
    uint8_t *sealed = NULL;
    size_t n = 0;
    int rc = seal_answer(r, w->reply, &sealed, &n);
    if (rc == STORE_OK)
        rc = idem_finish(c, r->dev, r->tx, r->cseq, sealed, n);
    /* Taken over as stale (STORE_DONE): ours stands anyway, but the row
     * may hold the other holder's answer, so ours is not copied. */
    keep_sealed(w, rc == STORE_OK ? sealed : NULL, n);
    if (rc != STORE_OK)
        free(sealed);
    return rc == STORE_DONE ? STORE_OK : rc;
}

/* A concurrent duplicate holds the claim: its answer, once stored. */
static int await_claim(struct work *w)
{
    struct timespec nap = {0, CLAIM_POLL_MS * 1000000L};
    for (int waited = 0; waited < CLAIM_WAIT_MS; waited += CLAIM_POLL_MS) {
        nanosleep(&nap, NULL);
        int rc = stored_answer(w, w->r->conn);
        if (rc == W_STORED)
            return STORE_OK;
        if (rc != IDEM_PENDING && rc != STORE_DONE)
            return rc;
    }
    return IDEM_PENDING;
}

/* The own_transaction path: claim, run, settle. */
static int work_own(struct work *w)
{
    struct txreq *r = w->r;
    int rc = store_run(r->conn, "tx_claim", claim, w);
    if (rc != STORE_OK || w->reply || w->replay)
        return rc;
    if (w->pending)
        return await_claim(w);
    w->reply = run_handler(r, r->conn);
    w->failed = !w->reply;
    /* The handler has committed: its answer is sent even if storing it fails,
     * so that `internal` keeps meaning "nothing was committed". The claim
     * then stays pending, abandoned: a retry of the cseq on this node runs
     * again at once, on another node once the claim is stale. */
    if (r->cseq[0] && store_run(r->conn, "tx_answer", settle_claim, w) != STORE_OK) {
        keep_sealed(w, NULL, 0); /* not stored: nothing to copy */
        idem_abandon(r->dev, r->tx, r->cseq);
        if (w->reply)
            log_warn("tx.answer_not_stored",
                     "TX=%s dev=%s: the committed answer is sent but not stored for a retry", r->tx,
                     r->dev);
    }
    return STORE_OK;
}

/* ---- the Redis copies of stored answers (channel/answer_cache.h) ------------ */

static void cache_count(const char *result)
{
    char labels[48];
    snprintf(labels, sizeof labels, "result=\"%s\"", result);
    metric_inc(metrics_counter("zhanye_tx_answer_cache_total", labels));
}

/* Whether r's answer may have a copy: a cseq, Redis, and a bound device
 * (not an activation: its binding is being made). */
static bool cacheable(const struct txreq *r, struct answer_key *k)
{
    if (!r->cseq[0] || !answer_cache_on(r->app->answers) || r->auth.is_activation ||
        !r->auth.device.has_ds)
        return false;
    *k = (struct answer_key){.dev = r->dev, .ds = r->auth.device.ds, .tx = r->tx, .cseq = r->cseq};
    return true;
}

/* Step 14 from the copy: true when answered (the nonce to the journal). */
static bool answer_from_copy(struct txreq *r, struct http_response *resp)
{
    struct answer_key k;
    if (!cacheable(r, &k))
        return false;
    uint8_t *sealed = NULL;
    size_t n = 0;
    int rc = answer_cache_get(r->app->answers, &k, &sealed, &n);
    if (rc != ANSWER_HIT) {
        cache_count(rc == ANSWER_MISS ? "miss" : "redis_unavailable");
        return false;
    }
    /* Opened in the stored answer's own context: a copy put under another
     * key does not open, and is dropped. */
    char *reply = open_answer(r, sealed, n);
    free(sealed);
    if (!reply) {
        cache_count("invalid");
        answer_cache_drop(r->app->answers, &k);
        return false;
    }
    cache_count("hit");
    nonce_to_journal(r);
    count(r->tx, "replayed_cseq");
    seal_text(r, resp, reply);
    free_text(reply);
    return true;
}

/* The committed answer of w, copied to Redis. */
static void copy_answer(struct txreq *r, const struct work *w)
{
    struct answer_key k;
    if (w->sealed && cacheable(r, &k))
        answer_cache_put(r->app->answers, &k, w->sealed, w->sealed_len);
}

/* A business TX reads or writes its bank's shard (data/shard.h): the
 * connection for it, which is r->conn when that is the directory. */
static int shard_conn(struct txreq *r, struct store_conn **c)
{
    struct store *st = shards_route(r->app->shards, r->auth.bank_id, NULL);
    *c = r->conn;
    return st == r->app->store ? STORE_OK : store_acquire(st, c);
}

static void shard_release(struct txreq *r, struct store_conn *c)
{
    if (c && c != r->conn)
        store_release(c);
}

/* A read-only TX without cseq runs outside any transaction. A read that
 * failed because the database is out of reach is `unavailable` (retry),
 * not `internal`. */
static int read_plain(struct txreq *r, struct store_conn *c, struct work *w)
{
    w->reply = run_handler(r, c);
    w->failed = !w->reply;
    return w->failed && store_last_error(c) == STORE_BUSY ? STORE_BUSY : STORE_OK;
}

/* The same for a business TX: the fence before and after the read (a move
 * may delete the rows in between); reads go on while a move copies. */
static int read_on_shard(struct txreq *r, struct store_conn *c, struct work *w)
{
    int rc = shard_fence(c, r->auth.bank_id);
    if (rc == SHARD_HERE || rc == SHARD_MOVING)
        rc = read_plain(r, c, w);
    if (rc == STORE_OK && shard_fence(c, r->auth.bank_id) == SHARD_GONE) {
        work_reset(w);
        rc = SHARD_GONE;
    }
    return rc == SHARD_GONE ? W_GONE : rc;
}

/* The work of a TX that does not open its own transactions, on the
 * directory or, for a business TX, on its bank's shard. A shard that says
 * the bank has gone makes the map reload and the work run once more where
 * the bank is now; one that says a move is copying it answers
 * `unavailable` (nothing was written: the tablet seals again). read: the
 * handler only reads, outside any transaction (nothing is stored). */
static int work_routed(struct txreq *r, struct work *w, bool read)
{
    int rc = W_GONE;
    for (int attempt = 0; rc == W_GONE && attempt < 2; attempt++) {
        struct store_conn *c = r->conn;
        if (attempt > 0 && shards_reload(r->app->shards) != STORE_OK)
            return STORE_BUSY;
        if (r->def->bank_data && shard_conn(r, &c) != STORE_OK)
            return STORE_BUSY; /* the shard is out of reach */
        if (!read)
            rc = store_run(c, "tx", work_in_txn, w);
        else if (r->def->bank_data)
            rc = read_on_shard(r, c, w);
        else
            rc = read_plain(r, c, w);
        shard_release(r, c);
    }
    if (rc == W_GONE) /* moved twice while it ran: the tablet tries again */
        log_warn("tx.shard", "TX=%s bank=%lld: its shard moved while it ran", r->tx,
                 (long long)r->auth.bank_id);
    return rc == W_GONE || rc == W_MOVING ? STORE_BUSY : rc;
}

/* Whether the cseq's answer is stored already: one read, outside any
 * transaction (the transaction that follows reads it again and answers). */
static bool answered_before(struct txreq *r)
{
    struct store_conn *c = r->conn;
    if (!r->cseq[0] || (r->def->bank_data && shard_conn(r, &c) != STORE_OK))
        return false;
    uint8_t *sealed = NULL;
    size_t n = 0;
    bool done = idem_get(c, r->dev, r->tx, r->cseq, &sealed, &n) == IDEM_DONE;
    free(sealed);
    shard_release(r, c);
    return done;
}

/* ---- read-only TXs with a cseq: answers through the journal -------------- */

/* A read-only TX's stored answers count from the device's current binding:
 * the journal may write one after an unbind or a new activation dropped
 * the device's answers (channel/nonce_db.h). */
static int64_t answers_since(const struct txreq *r)
{
    return r->auth.is_activation ? 0 : r->auth.device.activated_at;
}

/* w answers with a stored (or queued) answer of the cseq, taking sealed. */
static int reply_stored(struct work *w, uint8_t *sealed, size_t n)
{
    free_text(w->reply);
    w->reply = open_answer(w->r, sealed, n);
    w->answered_before = true;
    keep_sealed(w, w->reply ? sealed : NULL, n);
    if (!w->reply)
        free(sealed);
    return w->reply ? STORE_OK : STORE_ERR;
}

/* The read-only TX's answer stored on its database: STORE_OK with
 * w->reply, STORE_DONE (none), or an error. */
static int stored_read_answer(struct txreq *r, struct work *w)
{
    struct store_conn *c = r->conn;
    uint8_t *sealed = NULL;
    size_t n = 0;
    if (r->def->bank_data && shard_conn(r, &c) != STORE_OK)
        return STORE_BUSY;
    int rc = idem_get_since(c, r->dev, r->tx, r->cseq, answers_since(r), &sealed, &n);
    shard_release(r, c);
    if (rc == IDEM_DONE)
        return reply_stored(w, sealed, n);
    free(sealed);
    return rc == IDEM_PENDING ? STORE_DONE : rc; /* a read never claims */
}

/* store_run callback: the answer stored at once (the journal was full). A
 * duplicate that stored first keeps its row; this one, a read's, is sent. */
static int put_read_answer(struct store_conn *c, void *arg)
{
    const struct work *w = arg;
    const struct txreq *r = w->r;
    int rc = idem_put(c, r->auth.bank_id, r->dev, r->tx, r->cseq, w->sealed, w->sealed_len,
                      clock_wall_ms());
    return rc == STORE_CONSTRAINT ? STORE_OK : rc;
}

/* A read-only TX with a cseq: the answer stored or queued for it, else the
 * read, its sealed answer queued in the journal rather than stored by a
 * transaction of its own (nothing a read did needs the disk first). Of two
 * concurrent duplicates, both answer with the one queued first. */
static int work_read_cseq(struct txreq *r, struct work *w)
{
    int64_t since = answers_since(r);
    uint8_t *sealed = NULL, *winner = NULL;
    size_t n = 0, wn = 0;
    if (nonce_journal_answer_get(r->app->journal, r->dev, r->tx, r->cseq, since, &sealed, &n))
        return reply_stored(w, sealed, n);
    int rc = stored_read_answer(r, w);
    if (rc != STORE_DONE)
        return rc;
    rc = work_routed(r, w, true);
    if (rc != STORE_OK || !w->reply || r->gated) /* a gate's refusal is not the answer */
        return rc;
    if ((rc = seal_answer(r, w->reply, &sealed, &n)) != STORE_OK)
        return rc;
    keep_sealed(w, sealed, n);
    struct journal_answer a = {
        .st =
            r->def->bank_data ? shards_route(r->app->shards, r->auth.bank_id, NULL) : r->app->store,
        .bank_id = r->auth.bank_id,
        .dev = r->dev,
        .tx = r->tx,
        .cseq = r->cseq,
        .sealed = sealed,
        .len = n,
        .created_ms = clock_wall_ms(),
    };
    int q = nonce_journal_answer_put(r->app->journal, &a, since, &winner, &wn);
    if (q == 1)
        return reply_stored(w, winner, wn);
    if (q == 0)
        return STORE_OK;
    struct store_conn *c = r->conn;
    if (r->def->bank_data && shard_conn(r, &c) != STORE_OK)
        return STORE_BUSY;
    rc = store_run(c, "tx_answer", put_read_answer, w);
    shard_release(r, c);
    return rc;
}

/* The read-only scope a bank_data TX's prepare phase gets (channel/tx.h):
 * the bank's shard, outside any transaction, its fence checked as
 * read_on_shard does. STORE_OK (*t NULL for a TX without one), STORE_BUSY
 * (the shard out of reach, or the bank gone from it: `unavailable`). */
static int prepare_scope(struct txreq *r, struct store_conn **c, struct tenant_conn **t)
{
    const struct session *s = &r->auth.session;
    struct scope sc = {s->bank_id, s->branch_id, s->teller_id, s->role};
    *c = NULL;
    *t = NULL;
    if (!r->def->bank_data || !r->def->needs_session)
        return STORE_OK;
    if (shard_conn(r, c) != STORE_OK) {
        *c = NULL;
        return STORE_BUSY;
    }
    int f = shard_fence(*c, r->auth.bank_id);
    if ((f != SHARD_HERE && f != SHARD_MOVING) || tenant_open_readonly(*c, &sc, t) != STORE_OK) {
        shard_release(r, *c);
        *c = NULL;
        return STORE_BUSY;
    }
    return STORE_OK;
}

/* The MDM gate's refusal before the transaction: device_noncompliant with
 * the violations, sealed, not stored as the cseq's answer. */
static void gate_refusal(struct txreq *r, struct http_response *resp, json_t *violations)
{
    nonce_to_journal(r);
    json_t *data = json_pack("{s:O}", "violations", violations);
    char *text = reply_text(ze_code(ZE_DEVICE_NONCOMPLIANT),
                            ze_message(ZE_DEVICE_NONCOMPLIANT, NULL), data, r->srvseq);
    json_decref(data);
    seal_text(r, resp, text);
    free(text);
    count(r->tx, ze_code(ZE_DEVICE_NONCOMPLIANT));
}

/* The MDM gate on the prepare phase's read-only scope, so that a refused
 * device never makes the bank's other systems be called; the handler's
 * transaction runs the gate again (the verdict may change meanwhile). true
 * to go on; false when answered (device_noncompliant, `unavailable`). */
static bool gate_before_prepare(struct txreq *r, struct http_response *resp,
                                struct tenant_conn *tenant)
{
    json_t *violations = NULL;
    if (!gated_tx(r) || !tenant)
        return true;
    int rc = mdm_gate(tenant, r->auth.session.branch_id, r->dev, clock_wall_ms(), &violations);
    if (rc == MDM_CLOSED)
        gate_refusal(r, resp, violations);
    else if (rc != MDM_OK)
        sealed_error(r, resp, ZE_UNAVAILABLE, NULL, NULL);
    json_decref(violations);
    return rc == MDM_OK;
}

/* The TX's prepare phase (channel/tx.h): before the transaction, with a
 * read-only tenant scope at most, after the MDM gate; r->fetched for the
 * handler. false when answered (`device_noncompliant`, `internal`,
 * `unavailable`). */
static bool prepare(struct txreq *r, struct http_response *resp)
{
    if (!r->def->prepare || r->def->own_transaction || r->def->read_only || answered_before(r))
        return true;
    struct store_conn *sc = NULL;
    struct tenant_conn *tenant = NULL;
    if (prepare_scope(r, &sc, &tenant) != STORE_OK) {
        sealed_error(r, resp, ZE_UNAVAILABLE, NULL, NULL);
        return false;
    }
    if (!gate_before_prepare(r, resp, tenant)) {
        tenant_close(tenant);
        shard_release(r, sc);
        return false;
    }
    char tlr[ZY1_ID_MAX + 1];
    struct tx_ctx c = ctx_of(r, tlr); /* no transaction: the prepare phase reads at most */
    c.tenant = tenant;
    enum tx_result res = r->def->prepare(&c);
    r->fetched = c.fetched;
    tenant_close(tenant);
    bool gone = sc && shard_fence(sc, r->auth.bank_id) == SHARD_GONE;
    shard_release(r, sc);
    if (gone) { /* what it read has moved: the tablet sends the step again */
        sealed_error(r, resp, ZE_UNAVAILABLE, NULL, NULL);
        return false;
    }
    if (res == TX_COMMIT)
        return true;
    log_error("tx.failed", "TX=%s dev=%s: the prepare phase failed", r->tx, r->dev);
    sealed_error(r, resp, ZE_INTERNAL, NULL, NULL);
    return false;
}

/* store_run callback on the directory: the handler's identity effect. */
static int after_txn(struct store_conn *c, void *arg)
{
    const struct txreq *r = arg;
    char actor[AUDIT_ACTOR_MAX + 1];
    snprintf(actor, sizeof actor, "dev:%s", r->dev);
    int rc = r->after == TX_AFTER_LOCK ? binding_lock(c, actor, r->dev)
                                       : binding_unbind(c, actor, r->dev);
    /* Gone already (unbound or revoked meanwhile): nothing left to do. */
    return rc == ID_OK || rc == ID_NOT_FOUND || rc == ID_DISABLED ? STORE_OK : STORE_ERR;
}

/* The committed handler's identity effect (tx_ctx after), on the directory. */
static void run_after(struct txreq *r)
{
    if (r->after == TX_AFTER_NONE)
        return;
    if (store_run(r->conn, "tx_after", after_txn, r) != STORE_OK)
        log_error("tx.after", "TX=%s dev=%s: its device effect failed: %s", r->tx, r->dev,
                  store_errmsg(r->conn));
}

/* Step 14, the prepare phase and the handler. */
static void execute(struct txreq *r, struct http_response *resp)
{
    struct work w = {.r = r};
    int rc;
    if (answer_from_copy(r, resp))
        return;
    if (r->def->org_names && r->def->needs_session &&
        org_names(r->conn, r->auth.bank_id, r->auth.session.branch_id, r->bank_name,
                  r->branch_name) != ID_OK) { /* the directory out of reach */
        sealed_error(r, resp, ZE_UNAVAILABLE, NULL, NULL);
        return;
    }
    if (!prepare(r, resp))
        return;
    if (r->def->own_transaction) {
        r->nonce_pending = false;
        rc = work_own(&w);
    } else if (r->def->read_only) {
        nonce_to_journal(r);
        rc = r->cseq[0] ? work_read_cseq(r, &w) : work_routed(r, &w, true);
    } else {
        r->nonce_pending = false;
        rc = work_routed(r, &w, false);
    }
    if (w.replay) {
        plain_error(r, resp, ZE_REPLAY);
    } else if (rc == IDEM_PENDING) {
        sealed_error(r, resp, ZE_IN_PROGRESS, NULL, NULL);
    } else if (w.reply && (rc == STORE_OK || rc == W_STORED)) {
        if (w.answered_before)
            count(r->tx, "replayed_cseq");
        seal_text(r, resp, w.reply);
        copy_answer(r, &w); /* committed: stored now, or found stored */
        if (!w.answered_before)
            run_after(r);
    } else {
        log_error("tx.failed", "TX=%s dev=%s: %s", r->tx, r->dev,
                  w.failed ? "the handler failed" : store_rc_name(rc));
        sealed_error(r, resp, rc == STORE_BUSY ? ZE_UNAVAILABLE : ZE_INTERNAL, NULL, NULL);
    }
    work_reset(&w);
}

/* A read-only TX runs on libmicrohttpd's thread when the database is the
 * embedded one and no Redis is shared ([server] inline_reads): all it may
 * wait for is a short SQLite transaction of this process (a device's or a
 * session's activity, a failed MAC counted) and its reads. A TX with a
 * prepare phase (the bank's other systems), an own_transaction TX (LOGIN's
 * Argon2id) and every writing TX go to the executor (http/server.h). */
bool h_tx_inline(void *app, const char *tx)
{
    const struct app *a = app;
    const struct tx_def *def = tx_find(tx);
    return def && def->read_only && !def->prepare && !def->own_transaction &&
           a->cfg.server.inline_reads && !a->redis && strcmp(a->cfg.store.backend, "sqlite") == 0;
}

void h_tx(struct http_request *req, struct http_response *resp)
{
    struct txreq r = {.app = req->app, .tx = req->arg, .client_ip = req->client_ip};
    if (check_envelope(&r, req, resp) && authenticate(&r, resp) && open_payload(&r, resp))
        execute(&r, resp);
    req_free(&r);
}
