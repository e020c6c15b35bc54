/* video_call.c — the calls' queue and life; see video_call.h. */
#include "business/video_call.h"

#include "business/perf.h"
#include "identity/audit.h"

#include <stdio.h>
#include <string.h>

#define COLS                                                                                       \
    "id, state, COALESCE(outcome, ''), COALESCE(end_reason, ''), teller_id, branch_id, dev, "      \
    "COALESCE(customer_id, 0), COALESCE(biz_id, 0), reason, record, COALESCE(recording_id, ''), "  \
    "COALESCE(agent_id, 0), created_at, answered_at, connected_at, ended_at, tablet_seen, "        \
    "agent_seen, consent_version, consent_by, consent_at"

#define DEFAULT_WAIT_S 60
#define WAIT_SAMPLE 20

static const struct video_hooks *hooks;

void video_call_hooks_set(const struct video_hooks *h)
{
    hooks = h;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void read_row(struct tenant_stmt *s, struct video_call *c)
{
    memset(c, 0, sizeof *c);
    c->id = tenant_col_int64(s, 0);
    copy(c->state, sizeof c->state, tenant_col_text(s, 1));
    copy(c->outcome, sizeof c->outcome, tenant_col_text(s, 2));
    copy(c->end_reason, sizeof c->end_reason, tenant_col_text(s, 3));
    c->teller_id = tenant_col_int64(s, 4);
    c->branch_id = tenant_col_int64(s, 5);
    copy(c->dev, sizeof c->dev, tenant_col_text(s, 6));
    c->customer_id = tenant_col_int64(s, 7);
    c->biz_id = tenant_col_int64(s, 8);
    copy(c->reason, sizeof c->reason, tenant_col_text(s, 9));
    c->record = tenant_col_int64(s, 10) != 0;
    copy(c->recording_id, sizeof c->recording_id, tenant_col_text(s, 11));
    c->agent_id = tenant_col_int64(s, 12);
    c->created_at = tenant_col_int64(s, 13);
    c->answered_at = tenant_col_int64(s, 14);
    c->connected_at = tenant_col_int64(s, 15);
    c->ended_at = tenant_col_int64(s, 16);
    c->tablet_seen = tenant_col_int64(s, 17);
    c->agent_seen = tenant_col_int64(s, 18);
    copy(c->consent_version, sizeof c->consent_version, tenant_col_text(s, 19));
    copy(c->consent_by, sizeof c->consent_by, tenant_col_text(s, 20));
    c->consent_at = tenant_col_int64(s, 21);
}

/* Runs a prepared statement to its end (writes). */
static int done(struct tenant_stmt *s, int rc)
{
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (s)
        tenant_finish(s);
    return rc == STORE_DONE ? VC_OK : rc == STORE_OK ? STORE_ERR : rc;
}

/* One row of sql (its one parameter after the bank's: id) into out. */
static int one(struct tenant_conn *tc, const char *sql, int64_t arg, struct video_call *out)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc, sql, &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, arg);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        read_row(s, out);
        rc = VC_OK;
    } else if (rc == STORE_DONE) {
        rc = VC_NOT_FOUND;
    }
    if (s)
        tenant_finish(s);
    return rc;
}

int video_call_get(struct tenant_conn *tc, int64_t id, struct video_call *out)
{
    return one(tc, "SELECT " COLS " FROM video_calls WHERE bank_id = ? AND id = ?", id, out);
}

int video_call_of_agent(struct tenant_conn *tc, int64_t agent_id, struct video_call *out)
{
    return one(tc,
               "SELECT " COLS " FROM video_calls WHERE bank_id = ? AND agent_id = ? AND "
               "state IN ('ringing', 'connected') ORDER BY id LIMIT 1",
               agent_id, out);
}

static int next_id(struct tenant_conn *tc, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        tc, "SELECT COALESCE(MAX(id), 0) + 1 FROM video_calls WHERE bank_id = ?", &s);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        rc = VC_OK;
    } else if (rc == STORE_DONE) {
        rc = STORE_ERR;
    }
    if (s)
        tenant_finish(s);
    return rc;
}

int video_call_create(struct tenant_conn *tc, const struct video_call_new *n, int64_t now_ms,
                      int64_t *id)
{
    struct tenant_stmt *s = NULL;
    if (!n || !n->dev || !n->reason || !*n->reason || strlen(n->reason) > VC_REASON_MAX ||
        !n->actor || n->teller_id <= 0 || n->customer_id < 0 || n->biz_id < 0 ||
        (n->consent_version && strlen(n->consent_version) > VC_CONSENT_VERSION_MAX) ||
        (n->consent_by && strlen(n->consent_by) > 64))
        return VC_BAD;
    int rc = next_id(tc, id);
    if (rc != VC_OK)
        return rc;
    rc = tenant_prepare(tc,
                        "INSERT INTO video_calls (bank_id, id, state, teller_id, branch_id, dev, "
                        "customer_id, biz_id, reason, record, created_at, answered_at, "
                        "connected_at, ended_at, tablet_seen, agent_seen, consent_version, "
                        "consent_by, consent_at) VALUES (?, ?, 'queued', "
                        "?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, 0, ?, ?, ?)",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, *id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, n->teller_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 4, n->branch_id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 5, n->dev);
    if (rc == STORE_OK)
        rc = n->customer_id ? tenant_bind_int64(s, 6, n->customer_id) : tenant_bind_null(s, 6);
    if (rc == STORE_OK)
        rc = n->biz_id ? tenant_bind_int64(s, 7, n->biz_id) : tenant_bind_null(s, 7);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 8, n->reason);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 9, n->record ? 1 : 0);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 10, now_ms);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 11, now_ms);
    bool consent = n->consent_version && n->consent_version[0];
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 12, consent ? n->consent_version : "");
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 13, !consent ? "" : n->consent_by ? n->consent_by : n->actor);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 14, consent ? now_ms : 0);
    rc = done(s, rc);
    char target[24];
    snprintf(target, sizeof target, "call:%lld", (long long)*id);
    if (rc == VC_OK)
        rc = audit_tenantf(tc, n->actor, "video.call_requested", target, "{s:I,s:I,s:b,s:s,s:s?}",
                           "customer_id", (json_int_t)n->customer_id, "biz_id",
                           (json_int_t)n->biz_id, "record", n->record, "reason", n->reason,
                           "consent_version", consent ? n->consent_version : NULL) == ID_OK
                 ? VC_OK
                 : STORE_ERR;
    return rc;
}

int video_call_position(struct tenant_conn *tc, const struct video_call *c, int64_t *pos)
{
    struct tenant_stmt *s = NULL;
    *pos = 0;
    if (strcmp(c->state, "queued") != 0)
        return VC_OK;
    int rc = tenant_prepare(tc,
                            "SELECT COUNT(*) FROM video_calls WHERE bank_id = ? AND "
                            "state = 'queued' AND id <= ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, c->id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW) {
        *pos = tenant_col_int64(s, 0);
        rc = VC_OK;
    }
    if (s)
        tenant_finish(s);
    return rc;
}

int video_call_expected_wait(struct tenant_conn *tc, int64_t pos, int64_t *wait_s)
{
    struct tenant_stmt *s = NULL;
    int64_t sum = 0, n = 0;
    *wait_s = 0;
    if (pos <= 0)
        return VC_OK;
    int rc = tenant_prepare(tc,
                            "SELECT answered_at - created_at FROM video_calls WHERE bank_id = ? "
                            "AND answered_at > 0 ORDER BY id DESC LIMIT 20",
                            &s);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        sum += tenant_col_int64(s, 0);
        n++;
        rc = STORE_OK;
    }
    if (s)
        tenant_finish(s);
    if (rc != STORE_DONE)
        return rc;
    int64_t avg_s = n ? (sum / n + 999) / 1000 : DEFAULT_WAIT_S;
    *wait_s = pos * (avg_s > 0 ? avg_s : 1);
    return VC_OK;
}

int video_call_touch(struct tenant_conn *tc, int64_t id, enum video_side side, int64_t now_ms)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            side == VIDEO_TABLET
                                ? "UPDATE video_calls SET tablet_seen = ? WHERE bank_id = ? AND "
                                  "id = ? AND state <> 'ended'"
                                : "UPDATE video_calls SET agent_seen = ? WHERE bank_id = ? AND "
                                  "id = ? AND state <> 'ended'",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 1, now_ms);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, id);
    return done(s, rc);
}

static int audit_call(struct tenant_conn *tc, const char *actor, const char *event,
                      const struct video_call *c, const char *extra_key, const char *extra)
{
    char target[24];
    snprintf(target, sizeof target, "call:%lld", (long long)c->id);
    int rc = extra_key
                 ? audit_tenantf(tc, actor, event, target, "{s:I,s:I,s:s}", "call_teller",
                                 (json_int_t)c->teller_id, "agent_id", (json_int_t)c->agent_id,
                                 extra_key, extra)
                 : audit_tenantf(tc, actor, event, target, "{s:I,s:I}", "call_teller",
                                 (json_int_t)c->teller_id, "agent_id", (json_int_t)c->agent_id);
    return rc == ID_OK ? VC_OK : STORE_ERR;
}

int video_call_take_next(struct tenant_conn *tc, int64_t agent_id, const char *actor,
                         int64_t now_ms, struct video_call *out)
{
    struct video_call mine;
    int rc = video_call_of_agent(tc, agent_id, &mine);
    if (rc == VC_OK)
        return VC_BUSY;
    if (rc != VC_NOT_FOUND)
        return rc;
    rc = one(tc,
             "SELECT " COLS " FROM video_calls WHERE bank_id = ? AND state = 'queued' AND id > ? "
             "ORDER BY id LIMIT 1",
             0, out);
    if (rc == VC_NOT_FOUND)
        return VC_EMPTY;
    if (rc != VC_OK)
        return rc;
    struct tenant_stmt *s = NULL;
    rc = tenant_prepare(tc,
                        "UPDATE video_calls SET state = 'ringing', agent_id = ?, answered_at = ?, "
                        "agent_seen = ? WHERE bank_id = ? AND id = ? AND state = 'queued'",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 1, agent_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, now_ms);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, now_ms);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, out->id);
    rc = done(s, rc);
    if (rc == VC_OK)
        rc = video_call_get(tc, out->id, out);
    if (rc == VC_OK)
        rc = audit_call(tc, actor, "video.call_taken", out, NULL, NULL);
    return rc;
}

int video_call_connected(struct tenant_conn *tc, int64_t id, const char *actor, int64_t now_ms)
{
    struct video_call c;
    int rc = video_call_get(tc, id, &c);
    if (rc != VC_OK)
        return rc;
    if (strcmp(c.state, "ended") == 0)
        return VC_ENDED;
    if (strcmp(c.state, "ringing") != 0)
        return VC_OK;
    struct tenant_stmt *s = NULL;
    rc = tenant_prepare(tc,
                        "UPDATE video_calls SET state = 'connected', connected_at = ? WHERE "
                        "bank_id = ? AND id = ? AND state = 'ringing'",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 1, now_ms);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, id);
    rc = done(s, rc);
    if (rc == VC_OK)
        rc = video_call_get(tc, id, &c);
    if (rc == VC_OK)
        rc = audit_call(tc, actor, "video.call_connected", &c, NULL, NULL);
    if (rc == VC_OK && c.record && hooks && hooks->recorded_call_started &&
        hooks->recorded_call_started(tc, &c) != 0)
        rc = STORE_ERR;
    return rc;
}

static const char *outcome_of(const struct video_call *c, enum video_side side, bool dropped)
{
    if (dropped)
        return "dropped";
    if (strcmp(c->state, "connected") == 0)
        return "completed";
    return side == VIDEO_TABLET ? "abandoned" : "rejected";
}

static int end_call(struct tenant_conn *tc, struct video_call *c, const char *outcome,
                    const char *reason, const char *actor, int64_t now_ms)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(tc,
                            "UPDATE video_calls SET state = 'ended', outcome = ?, end_reason = ?, "
                            "ended_at = ? WHERE bank_id = ? AND id = ? AND state <> 'ended'",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, outcome);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, reason);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, now_ms);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 5, c->id);
    rc = done(s, rc);
    if (rc == VC_OK)
        rc = video_call_get(tc, c->id, c);
    if (rc == VC_OK)
        rc = audit_call(tc, actor, "video.call_ended", c, "outcome", outcome);
    char metric[PERF_METRIC_MAX + 1];
    snprintf(metric, sizeof metric, "video_calls_%s", outcome);
    if (rc == VC_OK)
        rc = perf_add(tc, c->branch_id, c->teller_id, "video_calls", 1, 0, now_ms);
    if (rc == VC_OK)
        rc = perf_add(tc, c->branch_id, c->teller_id, metric, 1, 0, now_ms);
    if (rc == VC_OK && c->record && c->connected_at > 0 && hooks && hooks->recorded_call_ended &&
        hooks->recorded_call_ended(tc, c) != 0)
        rc = STORE_ERR;
    return rc;
}

int video_call_end(struct tenant_conn *tc, int64_t id, enum video_side side, const char *reason,
                   const char *actor, int64_t now_ms, struct video_call *out)
{
    struct video_call c;
    if (!reason || !*reason || strlen(reason) > 40 || !actor)
        return VC_BAD;
    int rc = video_call_get(tc, id, &c);
    if (rc != VC_OK)
        return rc;
    if (strcmp(c.state, "ended") == 0)
        return VC_ENDED;
    rc = end_call(tc, &c, outcome_of(&c, side, false), reason, actor, now_ms);
    if (rc == VC_OK && out)
        *out = c;
    return rc;
}

int video_call_sweep(struct tenant_conn *tc, int64_t window_ms, int64_t now_ms, int *ended)
{
    enum { MAX_SWEEP = 32 };
    struct video_call stale[MAX_SWEEP];
    int n = 0;
    if (ended)
        *ended = 0;
    struct tenant_stmt *s = NULL;
    int64_t before = now_ms - window_ms;
    int rc = tenant_prepare(tc,
                            "SELECT " COLS " FROM video_calls WHERE bank_id = ? AND "
                            "state <> 'ended' AND (tablet_seen < ? OR (state <> 'queued' AND "
                            "agent_seen < ?)) ORDER BY id LIMIT 32",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, before);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, before);
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW && n < MAX_SWEEP) {
        read_row(s, &stale[n++]);
        rc = STORE_OK;
    }
    if (s)
        tenant_finish(s);
    if (rc != STORE_DONE && rc != STORE_ROW)
        return rc;
    for (int i = 0; i < n; i++) {
        const char *why = stale[i].tablet_seen < before ? "tablet_silent" : "agent_silent";
        rc = end_call(tc, &stale[i], outcome_of(&stale[i], VIDEO_TABLET, true), why, "system:video",
                      now_ms);
        if (rc != VC_OK)
            return rc;
    }
    if (ended)
        *ended = n;
    return VC_OK;
}

int video_call_set_recording(struct tenant_conn *tc, int64_t id, const char *recording_id,
                             const char *actor)
{
    struct video_call c;
    if (!recording_id || !*recording_id || strlen(recording_id) > VC_RECORDING_ID_MAX || !actor)
        return VC_BAD;
    int rc = video_call_get(tc, id, &c);
    if (rc != VC_OK)
        return rc;
    struct tenant_stmt *s = NULL;
    rc = tenant_prepare(tc, "UPDATE video_calls SET recording_id = ? WHERE bank_id = ? AND id = ?",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 1, recording_id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, id);
    rc = done(s, rc);
    if (rc == VC_OK)
        rc = audit_call(tc, actor, "video.call_recording", &c, "recording_id", recording_id);
    return rc;
}

json_t *video_call_json(const struct video_call *c)
{
    int64_t wait = (c->answered_at ? c->answered_at : c->ended_at) - c->created_at;
    int64_t talk = c->connected_at && c->ended_at ? c->ended_at - c->connected_at : 0;
    return json_pack(
        "{s:I,s:s,s:s?,s:s?,s:b,s:s?,s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s?}", "call_id",
        (json_int_t)c->id, "state", c->state, "outcome", c->outcome[0] ? c->outcome : NULL,
        "end_reason", c->end_reason[0] ? c->end_reason : NULL, "record", c->record, "recording_id",
        c->recording_id[0] ? c->recording_id : NULL, "customer_id", (json_int_t)c->customer_id,
        "biz_id", (json_int_t)c->biz_id, "reason", c->reason, "created_at",
        (json_int_t)c->created_at, "answered_at", (json_int_t)c->answered_at, "connected_at",
        (json_int_t)c->connected_at, "ended_at", (json_int_t)c->ended_at, "queue_wait_ms",
        (json_int_t)(wait > 0 ? wait : 0), "talk_ms", (json_int_t)talk, "teller_id",
        (json_int_t)c->teller_id, "branch_id", (json_int_t)c->branch_id, "consent_version",
        c->consent_version[0] ? c->consent_version : NULL);
}

int video_call_list(struct tenant_conn *tc, const char *state, int limit, json_t **out)
{
    struct tenant_stmt *s = NULL;
    *out = NULL;
    if (limit < 1 || limit > 500 || !state)
        return VC_BAD;
    bool open = strcmp(state, "open") == 0;
    int rc = tenant_prepare(
        tc,
        open ? "SELECT " COLS " FROM video_calls WHERE bank_id = ? AND state <> 'ended' AND "
               "'' = ? ORDER BY id DESC LIMIT ?"
             : "SELECT " COLS " FROM video_calls WHERE bank_id = ? AND (state = ? OR '' = ?) "
               "ORDER BY id DESC LIMIT ?",
        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 2, open ? "" : state);
    if (rc == STORE_OK && !open)
        rc = tenant_bind_text(s, 3, state);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, open ? 3 : 4, limit);
    json_t *list = json_array();
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        struct video_call c;
        read_row(s, &c);
        json_t *j = video_call_json(&c);
        if (j)
            json_object_set_new(j, "agent_id", json_integer(c.agent_id));
        rc = j && json_array_append_new(list, j) == 0 ? STORE_OK : STORE_NOMEM;
    }
    if (s)
        tenant_finish(s);
    if (rc != STORE_DONE) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return VC_OK;
}
