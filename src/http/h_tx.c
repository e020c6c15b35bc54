/* POST /api/v1/tx/{TX} — the ZY1 pipeline: the spec's 14 checks in order,
 * then the transaction's handler, then the sealed answer.
 *
 * Until step 10 has passed, failures are plain JSON errors with the spec's
 * status; after it, every answer is sealed with the request's keys. The
 * handler, its audit records and the stored idempotent answer commit in one
 * database transaction. */
#include "app/app.h"
#include "channel/idem.h"
#include "channel/tx.h"
#include "channel/zy1.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/secmem.h"
#include "http/handlers.h"
#include "http/txauth.h"

#include <stdlib.h>
#include <string.h>

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
    char srvseq[SEQ_LEN + 1];
    const char *client_ip;
};

static void req_free(struct txreq *r)
{
    zy1_payload_free(&r->payload);
    zy1_envelope_free(&r->env);
    zy1_keys_wipe(&r->keys);
    txauth_wipe(&r->auth);
    if (r->conn)
        store_release(r->conn);
}

static void count(const char *tx, const char *code)
{
    char labels[96];
    snprintf(labels, sizeof labels, "tx=\"%s\",code=\"%s\"", tx, code);
    metric_inc(metrics_counter("zhanye_tx_total", labels));
}

/* A plain error before step 10. */
static void plain_error(struct txreq *r, struct http_response *resp, int status, const char *code,
                        const char *message)
{
    if (strcmp(code, "stale") == 0)
        http_json(resp, status,
                  json_pack("{s:{s:s,s:s,s:I}}", "error", "code", code, "message", message,
                            "server_ts", (json_int_t)clock_wall_ms()));
    else
        http_error(resp, status, code, message);
    count(r->def ? r->tx : "unknown", code);
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
        http_error(resp, 500, "internal", "内部错误");
        return;
    }
    http_text(resp, 200, "application/json", body, len);
}

static void sealed_error(struct txreq *r, struct http_response *resp, const char *code,
                         const char *message, const char *reason)
{
    json_t *data = reason ? json_pack("{s:s}", "reason", reason) : json_object();
    char *text = reply_text(code, message, data, r->srvseq);
    json_decref(data);
    seal_text(r, resp, text);
    free(text);
    count(r->tx, code);
}

/* Steps 2 and 3: a well-formed envelope for a known TX. */
static bool check_envelope(struct txreq *r, const struct http_request *req,
                           struct http_response *resp)
{
    if (!req->body || zy1_envelope_parse(req->body, req->body_len, &r->env) != ZY1_OK ||
        (zy1_tx_valid(r->tx) && zy1_envelope_check_tx(&r->env, r->tx) != ZY1_OK)) {
        plain_error(r, resp, 400, "bad_envelope", "报文格式错误");
        return false;
    }
    r->def = tx_find(r->tx);
    if (!r->def) {
        plain_error(r, resp, 404, "unknown_tx", "未知交易");
        return false;
    }
    memcpy(r->dev, r->env.dev.p, ZY1_DEV_LEN);
    memcpy(r->nonce_b64, r->env.nonce_b64.p, r->env.nonce_b64.n);
    r->nonce_b64[r->env.nonce_b64.n] = '\0';
    return true;
}

/* Steps 5 to 11: time, key, device, nonce, MAC, nonce recorded. */
static bool authenticate(struct txreq *r, struct http_response *resp)
{
    struct app *a = r->app;
    int64_t now = clock_wall_ms();
    int64_t skew = now > r->env.ts ? now - r->env.ts : r->env.ts - now;
    if (skew > a->cfg.channel.window_ms) {
        plain_error(r, resp, 401, "stale", "终端时间与服务器相差过大");
        return false;
    }
    const sm2_key *key = keyring_find(&a->keys, r->env.kid.p, r->env.kid.n);
    if (!key) {
        plain_error(r, resp, 401, "unknown_key", "服务器密钥已更换，请更新");
        return false;
    }
    if (store_acquire(a->store, &r->conn) != STORE_OK) {
        plain_error(r, resp, 503, "unavailable", "服务暂不可用");
        return false;
    }
    int status = 0;
    const char *code = txauth_resolve(a, r->conn, r->tx, r->dev, &r->env, &r->auth, &status);
    if (code) {
        plain_error(r, resp, status, code, status == 403 ? "设备未激活或已停用" : "服务暂不可用");
        return false;
    }
    uint8_t devb[16];
    hex_decode(r->dev, ZY1_DEV_LEN, devb, sizeof devb);
    if (nonce_seen(a->nonces, devb, r->env.nonce, now)) {
        plain_error(r, resp, 409, "replay", "重复的请求");
        return false;
    }
    zy1_status st = zy1_authenticate(key, r->tx, &r->env, r->auth.F, &r->keys);
    if (st == ZY1_BAD_MAC) {
        txauth_failed(a, r->conn, &r->auth, r->dev);
        plain_error(r, resp, 401, "bad_mac", "报文校验失败");
        return false;
    }
    if (st != ZY1_OK) {
        plain_error(r, resp, 500, "internal", "内部错误");
        return false;
    }
    if (nonce_record(a->nonces, devb, r->env.nonce, now) != NONCE_OK) {
        plain_error(r, resp, 409, "replay", "重复的请求");
        return false;
    }
    return true;
}

/* Steps 12 and 13, and the input schema. */
static bool open_payload(struct txreq *r, struct http_response *resp)
{
    char err[160];
    zy1_status st = zy1_decrypt_payload(&r->env, &r->keys, &r->payload);
    if (st != ZY1_OK) {
        if (st == ZY1_BAD_PAYLOAD)
            sealed_error(r, resp, "bad_payload", "报文内容无法解析", NULL);
        else
            sealed_error(r, resp, "internal", "内部错误", NULL);
        return false;
    }
    if (!r->auth.is_activation)
        device_touch(r->conn, r->dev, r->client_ip);
    if (r->def->needs_session) {
        const char *code = txauth_session(r->app, r->conn, &r->payload, &r->auth);
        if (code && strcmp(code, "internal") == 0) {
            sealed_error(r, resp, code, "内部错误，请稍后重试", NULL);
            return false;
        }
        if (code) {
            sealed_error(r, resp, code,
                         strcmp(code, "session_expired") == 0 ? "会话已超时，请重新登录"
                         : strcmp(r->auth.reason, "signed_in_elsewhere") == 0
                             ? "该柜员已在其他设备登录"
                             : "会话无效，请重新登录",
                         r->auth.reason);
            return false;
        }
    }
    if (tx_validate(r->def, r->payload.data, err, sizeof err) != 0) {
        sealed_error(r, resp, "bad_request", err, NULL);
        return false;
    }
    return true;
}

/* The session's bank scope over the request's connection: the only door
 * business handlers get to the database. */
static bool open_scope(struct txreq *r, struct tenant_conn **out)
{
    const struct session *s = &r->auth.session;
    struct scope sc = {s->bank_id, s->branch_id, s->teller_id, s->role};
    *out = NULL;
    return !r->def->needs_session || tenant_open(r->conn, &sc, out) == STORE_OK;
}

static void text_of(const zy1_text *t, char *out, size_t cap)
{
    size_t n = t->p && t->n < cap ? t->n : 0;
    memcpy(out, t->p ? t->p : "", n);
    out[n] = '\0';
}

struct answer {
    struct txreq *r;
    const char *cseq, *reply;
};

static int store_answer(struct store_conn *c, void *arg)
{
    const struct answer *a = arg;
    return idem_put(c, a->r->auth.bank_id, a->r->dev, a->r->tx, a->cseq, a->reply, clock_wall_ms());
}

/* Step 14 and the handler, in one transaction with the stored answer.
 * Returns the reply text, or NULL after a rollback. A handler with its own
 * transactions has committed before its answer is stored: that answer is
 * sent even if storing it fails (a retry of the cseq then runs again), so
 * that `internal` keeps meaning "nothing was committed". */
static char *execute(struct txreq *r)
{
    char cseq[ZY1_CSEQ_MAX + 1], sid[ZY1_SID_MAX + 1], tlr[ZY1_ID_MAX + 1];
    char *reply = NULL;
    text_of(&r->payload.cseq, cseq, sizeof cseq);
    text_of(&r->payload.sid, sid, sizeof sid);
    text_of(&r->env.tlr, tlr, sizeof tlr);
    /* Outside a transaction: handlers that open their own, and pure reads
     * with no answer to store. */
    bool own = r->def->own_transaction || (r->def->read_only && !cseq[0]);
    if (!own && store_begin(r->conn) != STORE_OK)
        return NULL;
    int stored = cseq[0] ? idem_get(r->conn, r->dev, r->tx, cseq, &reply) : STORE_DONE;
    if (stored != STORE_DONE && !own)
        store_rollback(r->conn);
    if (stored == STORE_ROW) {
        count(r->tx, "replayed_cseq");
        return reply;
    }
    if (stored != STORE_DONE) /* not knowing is not "not answered yet" */
        return NULL;
    struct tenant_conn *tenant = NULL;
    bool scoped = open_scope(r, &tenant);
    struct tx_ctx c = {
        .app = r->app,
        .conn = r->conn,
        .tenant = tenant,
        .tx = r->tx,
        .dev = r->dev,
        .tlr = tlr,
        .client_ip = r->client_ip,
        .bank_id = r->auth.bank_id,
        .teller_id = r->auth.teller_id,
        .branch_id = r->auth.session.branch_id,
        .role = r->auth.session.role,
        .sid = sid[0] ? sid : NULL,
        .ticket = r->auth.is_activation ? &r->auth.ticket : NULL,
        .in = r->payload.data,
        .code = "OK",
        .out = json_object(),
    };
    if (c.out && scoped && r->def->fn(&c) == TX_COMMIT)
        reply = reply_text(c.code, c.message, c.out, r->srvseq);
    tenant_close(tenant);
    json_decref(c.out);
    secmem_wipe(sid, sizeof sid);
    if (own) {
        struct answer a = {r, cseq, reply};
        if (reply && cseq[0] && store_run(r->conn, "tx.answer", store_answer, &a) != STORE_OK)
            log_warn("tx.answer_not_stored",
                     "TX=%s dev=%s: the committed answer is sent but not stored for a retry", r->tx,
                     r->dev);
        if (reply)
            count(r->tx, c.code);
        return reply;
    }
    if (reply && cseq[0] &&
        idem_put(r->conn, r->auth.bank_id, r->dev, r->tx, cseq, reply, clock_wall_ms()) !=
            STORE_OK) {
        free(reply);
        reply = NULL;
    }
    if (!(reply && store_commit(r->conn) == STORE_OK)) {
        store_rollback(r->conn);
        free(reply);
        reply = NULL;
    }
    if (reply)
        count(r->tx, c.code);
    return reply;
}

void h_tx(struct http_request *req, struct http_response *resp)
{
    struct txreq r = {.app = req->app, .tx = req->arg, .client_ip = req->client_ip};
    if (seq_next(r.app->seq, "srv", r.srvseq) != 0)
        r.srvseq[0] = '\0';
    if (!check_envelope(&r, req, resp) || !authenticate(&r, resp) || !open_payload(&r, resp))
        goto out;
    char *reply = execute(&r);
    if (reply) {
        seal_text(&r, resp, reply);
        free(reply);
    } else {
        log_error("tx.failed", "TX=%s dev=%s: the handler or the database failed", r.tx, r.dev);
        sealed_error(&r, resp, "internal", "内部错误，请稍后重试", NULL);
    }
out:
    req_free(&r);
}
