/* The remote video agent's console endpoints (docs/api.md §2.3 "video"),
 * role video_agent (data/tenant.h) of one bank; every call they touch is of
 * that bank (the tenant scope), so an agent of B02 never sees B01's:
 *
 *   GET  /api/v1/admin/video/queue
 *        -> {"waiting": n, "calls": [call + position, context], "mine": call|null}
 *   POST /api/v1/admin/video/take {} -> {"call", "context", "ice_servers"}
 *        the oldest waiting call becomes the agent's (ringing); 409
 *        video_queue_empty, 409 video_agent_busy; a call with `record`
 *        gets its recording started (h_admin_video_record.c), or is ended
 *        and answered 503 media_unavailable
 *   POST /api/v1/admin/video/signal {"call_id", "kind", "payload"} -> {"seq"}
 *   GET  /api/v1/admin/video/signals?call_id=N&after=S
 *        -> {"call", "signals": [{seq, kind, payload}]} (the tablet's)
 *   POST /api/v1/admin/video/end {"call_id", "reason"?} -> {"call"}
 *   GET  /api/v1/admin/video/calls?bank=&state=&limit= -> {"calls": [...]}
 *        the call records; also for branch managers (their branch's),
 *        bank admins and province admins (every bank, or ?bank=)
 *
 * Each request of the agent counts as the agent being alive on their call
 * (the reconnect window), as does their event stream
 * (h_admin_video_stream.c), and first ends the bank's silent calls
 * (business/video_call.h video_call_sweep). A call of another agent, or of
 * another bank, is 404 video_call_not_found. Writes are audited in the
 * bank's shard by the business layer. */
#include "app/app.h"
#include "business/video_call.h"
#include "business/video_context.h"
#include "business/video_signal.h"
#include "business/video_turn.h"
#include "business/vrec.h"
#include "business/wf_db.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/admin_bank.h"
#include "http/admin_video.h"
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A call with its parties' codes and names, for the console. */
static json_t *call_out(struct admin_req *ar, const struct video_call *c)
{
    char tc[TELLER_CODE_MAX + 1], tn[TELLER_NAME_MAX + 1];
    char ac[TELLER_CODE_MAX + 1] = "", an[TELLER_NAME_MAX + 1] = "";
    json_t *j = video_call_json(c);
    if (!j)
        return NULL;
    admin_bank_teller(ar, c->teller_id, tc, tn);
    if (c->agent_id)
        admin_bank_teller(ar, c->agent_id, ac, an);
    json_object_set_new(j, "teller", json_string(tc));
    json_object_set_new(j, "teller_name", json_string(tn));
    json_object_set_new(j, "agent", c->agent_id ? json_string(ac) : json_null());
    json_object_set_new(j, "agent_name", c->agent_id ? json_string(an) : json_null());
    return j;
}

static json_t *ice_of(struct admin_req *ar)
{
    char who[24];
    snprintf(who, sizeof who, "%lld", (long long)ar->who.teller_id);
    json_t *ice = video_ice_servers(&ar->app->video, who, clock_wall_ms() / 1000);
    return ice ? ice : json_array();
}

/* ---- queue ------------------------------------------------------------------------ */

struct queue {
    struct admin_req *ar;
    json_t *calls; /* [{call..., position, context}] */
    struct video_call mine;
    bool has_mine;
};

static int queue_txn(struct tenant_conn *tc, void *arg)
{
    struct queue *q = arg;
    int64_t now = clock_wall_ms();
    json_decref(q->calls);
    q->calls = NULL;
    q->has_mine = false;
    int rc = video_call_sweep(tc, admin_video_window_ms(q->ar->app), now, NULL);
    if (rc == VC_OK) {
        rc = video_call_of_agent(tc, q->ar->who.teller_id, &q->mine);
        q->has_mine = rc == VC_OK;
        if (rc == VC_OK)
            rc = video_call_touch(tc, q->mine.id, VIDEO_AGENT, now);
        else if (rc == VC_NOT_FOUND)
            rc = VC_OK;
    }
    json_t *list = NULL;
    if (rc == VC_OK)
        rc = video_call_list(tc, "queued", 100, &list);
    size_t i, n = json_array_size(list);
    /* oldest first: the list is newest first */
    q->calls = json_array();
    for (i = n; rc == VC_OK && i-- > 0;) {
        json_t *row = json_array_get(list, i), *ctx = NULL;
        struct video_call c;
        rc = video_call_get(tc, json_integer_value(json_object_get(row, "call_id")), &c);
        if (rc == VC_OK)
            rc = video_context(tc, &c, &ctx);
        if (rc == VC_OK) {
            json_object_set_new(row, "position", json_integer((json_int_t)(n - i)));
            json_object_set_new(row, "context", ctx);
            json_array_append(q->calls, row);
        }
    }
    json_decref(list);
    return rc;
}

void h_admin_video_queue(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_video_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    struct queue q = {.ar = &ar};
    int rc = admin_bank_txn(&ar, ar.who.bank_id, "admin.video_queue", queue_txn, &q);
    if (rc == VC_OK) {
        size_t i;
        json_t *row;
        json_array_foreach(q.calls, i, row)
        {
            char tc[TELLER_CODE_MAX + 1], tn[TELLER_NAME_MAX + 1];
            admin_bank_teller(&ar, json_integer_value(json_object_get(row, "teller_id")), tc, tn);
            json_object_set_new(row, "teller", json_string(tc));
            json_object_set_new(row, "teller_name", json_string(tn));
        }
        http_json(resp, 200,
                  json_pack("{s:I,s:O,s:o}", "waiting", (json_int_t)json_array_size(q.calls),
                            "calls", q.calls, "mine",
                            q.has_mine ? call_out(&ar, &q.mine) : json_null()));
    } else {
        admin_video_fail(&ar, rc, "video queue");
    }
    json_decref(q.calls);
    admin_close(&ar);
}

/* ---- take -------------------------------------------------------------------------- */

struct take {
    struct admin_req *ar;
    struct video_call call;
    json_t *ctx;
    char biz_no[33]; /* a recorded call's business */
};

static int take_txn(struct tenant_conn *tc, void *arg)
{
    struct take *t = arg;
    int64_t now = clock_wall_ms();
    json_decref(t->ctx);
    t->ctx = NULL;
    int rc = video_call_sweep(tc, admin_video_window_ms(t->ar->app), now, NULL);
    if (rc == VC_OK)
        rc = video_call_take_next(tc, t->ar->who.teller_id, t->ar->actor, now, &t->call);
    if (rc == VC_OK)
        rc = video_context(tc, &t->call, &t->ctx);
    t->biz_no[0] = '\0';
    if (rc == VC_OK && t->call.record && t->call.biz_id > 0) {
        struct wdb_biz b;
        int brc = wdb_get(tc, t->call.biz_id, &b);
        if (brc == WDB_OK)
            snprintf(t->biz_no, sizeof t->biz_no, "%s", b.biz_no);
        else if (brc != WDB_NONE)
            rc = brc;
    }
    return rc;
}

void h_admin_video_take(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_video_open(req, resp, ADMIN_WRITE, NULL, 0, &ar))
        return;
    struct take t = {.ar = &ar};
    int rc = admin_bank_txn(&ar, ar.who.bank_id, "admin.video_take", take_txn, &t);
    /* 双录: a recorded call's recording starts now (this runs on the executor) */
    int vrc = rc == VC_OK && t.call.record ? admin_video_record_start(&ar, &t.call, t.biz_no) : 0;
    if (vrc != 0) {
        http_error(resp, vrec_ze(vrc), NULL);
    } else if (rc == VC_OK) {
        http_json(resp, 200,
                  json_pack("{s:o,s:O,s:o}", "call", call_out(&ar, &t.call), "context", t.ctx,
                            "ice_servers", ice_of(&ar)));
    } else {
        admin_video_fail(&ar, rc, "take a video call");
    }
    json_decref(t.ctx);
    admin_close(&ar);
}

/* ---- signals ------------------------------------------------------------------------ */

static const struct tx_field F_SIGNAL[] = {
    {.name = "call_id", .type = TXF_INT, .required = true},
    {.name = "kind", .type = TXF_STRING, .required = true, .max = 10},
    {.name = "payload", .type = TXF_STRING, .required = true, .max = VS_PAYLOAD_MAX},
};

struct sig {
    struct admin_req *ar;
    int64_t call_id, after, seq;
    const char *kind, *payload;
    struct video_call call;
    json_t *signals;
};

/* The agent's own call of the bank, after the bank's silent calls ended. */
static int agent_call(struct tenant_conn *tc, struct admin_req *ar, int64_t id, int64_t now,
                      struct video_call *c)
{
    int rc = video_call_sweep(tc, admin_video_window_ms(ar->app), now, NULL);
    if (rc == VC_OK)
        rc = video_call_get(tc, id, c);
    if (rc == VC_OK && c->agent_id != ar->who.teller_id)
        rc = VC_NOT_FOUND;
    return rc;
}

static int signal_txn(struct tenant_conn *tc, void *arg)
{
    struct sig *s = arg;
    int64_t now = clock_wall_ms();
    int rc = agent_call(tc, s->ar, s->call_id, now, &s->call);
    if (rc == VC_OK)
        rc = video_signal_post(tc, &s->call, VIDEO_AGENT, s->kind, s->payload, s->ar->actor, now,
                               &s->seq);
    return rc;
}

void h_admin_video_signal(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_video_open(req, resp, ADMIN_WRITE, F_SIGNAL, sizeof F_SIGNAL / sizeof F_SIGNAL[0],
                          &ar))
        return;
    struct sig s = {.ar = &ar,
                    .call_id = json_integer_value(json_object_get(ar.in, "call_id")),
                    .kind = admin_str(&ar, "kind"),
                    .payload = admin_str(&ar, "payload")};
    int rc = admin_bank_txn(&ar, ar.who.bank_id, "admin.video_signal", signal_txn, &s);
    if (rc == VC_OK)
        http_json(resp, 200, json_pack("{s:I}", "seq", (json_int_t)s.seq));
    else
        admin_video_fail(&ar, rc, "video signal");
    admin_close(&ar);
}

static int signals_txn(struct tenant_conn *tc, void *arg)
{
    struct sig *s = arg;
    int64_t now = clock_wall_ms();
    json_decref(s->signals);
    s->signals = NULL;
    int rc = agent_call(tc, s->ar, s->call_id, now, &s->call);
    if (rc == VC_OK && strcmp(s->call.state, "ended") != 0)
        rc = video_call_touch(tc, s->call_id, VIDEO_AGENT, now);
    if (rc == VC_OK)
        rc = video_signal_read(tc, s->call_id, VIDEO_AGENT, s->after, &s->signals);
    return rc;
}

void h_admin_video_signals(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_video_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    const char *id = admin_query(req, "call_id"), *after = admin_query(req, "after");
    struct sig s = {.ar = &ar, .call_id = id ? atoll(id) : 0, .after = after ? atoll(after) : 0};
    int rc = admin_bank_txn(&ar, ar.who.bank_id, "admin.video_signals", signals_txn, &s);
    if (rc == VC_OK)
        http_json(resp, 200,
                  json_pack("{s:o,s:O}", "call", call_out(&ar, &s.call), "signals", s.signals));
    else
        admin_video_fail(&ar, rc, "video signals");
    json_decref(s.signals);
    admin_close(&ar);
}

/* ---- end ---------------------------------------------------------------------------- */

static const struct tx_field F_END[] = {
    {.name = "call_id", .type = TXF_INT, .required = true},
    {.name = "reason", .type = TXF_STRING, .max = 40},
};

static int end_txn(struct tenant_conn *tc, void *arg)
{
    struct sig *s = arg;
    int64_t now = clock_wall_ms();
    int rc = agent_call(tc, s->ar, s->call_id, now, &s->call);
    if (rc == VC_OK)
        rc = video_call_end(tc, s->call_id, VIDEO_AGENT, s->kind ? s->kind : "hangup", s->ar->actor,
                            now, &s->call);
    return rc;
}

void h_admin_video_end(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_video_open(req, resp, ADMIN_WRITE, F_END, sizeof F_END / sizeof F_END[0], &ar))
        return;
    struct sig s = {.ar = &ar,
                    .call_id = json_integer_value(json_object_get(ar.in, "call_id")),
                    .kind = admin_str(&ar, "reason")};
    int rc = admin_bank_txn(&ar, ar.who.bank_id, "admin.video_end", end_txn, &s);
    if (rc == VC_OK)
        http_json(resp, 200, json_pack("{s:o}", "call", call_out(&ar, &s.call)));
    else
        admin_video_fail(&ar, rc, "end a video call");
    admin_close(&ar);
}

/* ---- records ------------------------------------------------------------------------- */

struct records {
    const char *state;
    int limit;
    json_t *list;
};

static int records_read(struct tenant_conn *tc, void *arg)
{
    struct records *r = arg;
    json_decref(r->list);
    r->list = NULL;
    return video_call_list(tc, r->state, r->limit, &r->list);
}

void h_admin_video_calls(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (ar.who.role == ROLE_CLIENT_MANAGER) {
        admin_forbidden(&ar);
        admin_close(&ar);
        return;
    }
    const char *state = admin_query(req, "state"), *lim = admin_query(req, "limit");
    int limit = lim ? atoi(lim) : 100;
    state = state ? state : "";
    if (limit < 1 || limit > 500 ||
        (state[0] && strcmp(state, "open") != 0 && strcmp(state, "queued") != 0 &&
         strcmp(state, "ringing") != 0 && strcmp(state, "connected") != 0 &&
         strcmp(state, "ended") != 0)) {
        http_error(resp, ZE_BAD_REQUEST, "state 或 limit 不正确");
        admin_close(&ar);
        return;
    }
    int64_t ids[ADMIN_BANKS_MAX];
    size_t n = 0;
    json_t *out = json_array();
    int rc = admin_bank_ids(&ar, ids, &n);
    for (size_t b = 0; rc == ID_OK && b < n; b++) {
        struct records r = {.state = state, .limit = limit};
        rc = admin_bank_read(&ar, ids[b], records_read, &r);
        char code[ORG_CODE_MAX + 1], name[ORG_NAME_MAX + 1];
        admin_bank_names(&ar, ids[b], code, name);
        size_t i;
        json_t *row;
        json_array_foreach(r.list, i, row)
        {
            struct video_call c = {
                .teller_id = json_integer_value(json_object_get(row, "teller_id")),
                .agent_id = json_integer_value(json_object_get(row, "agent_id")),
            };
            if (!admin_bank_row_visible(&ar, json_integer_value(json_object_get(row, "branch_id"))))
                continue;
            char tc[TELLER_CODE_MAX + 1], tn[TELLER_NAME_MAX + 1];
            admin_bank_teller(&ar, c.teller_id, tc, tn);
            json_object_set_new(row, "bank", json_string(code));
            json_object_set_new(row, "teller", json_string(tc));
            json_object_set_new(row, "teller_name", json_string(tn));
            if (c.agent_id) {
                admin_bank_teller(&ar, c.agent_id, tc, tn);
                json_object_set_new(row, "agent", json_string(tc));
                json_object_set_new(row, "agent_name", json_string(tn));
            } else {
                json_object_set_new(row, "agent", json_null());
                json_object_set_new(row, "agent_name", json_null());
            }
            json_array_append(out, row);
        }
        json_decref(r.list);
    }
    if (rc == ID_OK)
        http_json(resp, 200, json_pack("{s:O}", "calls", out));
    else
        admin_fail(&ar, rc, "list video calls");
    json_decref(out);
    admin_close(&ar);
}
