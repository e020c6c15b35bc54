/* video_signal.c — a call's signalling messages; see video_signal.h. */
#include "business/video_signal.h"

#include <string.h>

bool video_signal_kind_ok(const char *kind)
{
    static const char *const KINDS[] = {"offer", "answer", "candidate", "bye"};
    for (size_t i = 0; kind && i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(kind, KINDS[i]) == 0)
            return true;
    return false;
}

static const char *side_name(enum video_side side)
{
    return side == VIDEO_TABLET ? "tablet" : "agent";
}

int video_signal_post(struct tenant_conn *tc, const struct video_call *c, enum video_side side,
                      const char *kind, const char *payload, const char *actor, int64_t now_ms,
                      int64_t *seq)
{
    if (!video_signal_kind_ok(kind) || !payload || strlen(payload) > VS_PAYLOAD_MAX)
        return VC_BAD;
    if (strcmp(c->state, "ended") == 0)
        return VC_ENDED;
    if (strcmp(c->state, "queued") == 0)
        return VC_BAD;
    struct tenant_stmt *s = NULL;
    int64_t next = 0;
    int rc = tenant_prepare(tc,
                            "SELECT COALESCE(MAX(seq), 0) + 1 FROM video_signals WHERE "
                            "bank_id = ? AND call_id = ?",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, c->id);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (rc == STORE_ROW)
        next = tenant_col_int64(s, 0);
    if (s)
        tenant_finish(s);
    s = NULL;
    if (rc != STORE_ROW)
        return rc == STORE_DONE ? STORE_ERR : rc;
    rc = tenant_prepare(tc,
                        "INSERT INTO video_signals (bank_id, call_id, seq, side, kind, payload, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, c->id);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 3, next);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 4, side_name(side));
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 5, kind);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 6, payload);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 7, now_ms);
    if (rc == STORE_OK)
        rc = tenant_step(s);
    if (s)
        tenant_finish(s);
    if (rc != STORE_DONE)
        return rc == STORE_OK ? STORE_ERR : rc;
    if (seq)
        *seq = next;
    rc = video_call_touch(tc, c->id, side, now_ms);
    if (rc == VC_OK && strcmp(kind, "answer") == 0)
        rc = video_call_connected(tc, c->id, actor, now_ms);
    return rc;
}

int video_signal_read(struct tenant_conn *tc, int64_t call_id, enum video_side reader,
                      int64_t after, json_t **out)
{
    struct tenant_stmt *s = NULL;
    *out = NULL;
    int rc = tenant_prepare(tc,
                            "SELECT seq, kind, payload FROM video_signals WHERE bank_id = ? AND "
                            "call_id = ? AND side = ? AND seq > ? ORDER BY seq LIMIT 200",
                            &s);
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 2, call_id);
    if (rc == STORE_OK)
        rc = tenant_bind_text(s, 3, side_name(reader == VIDEO_TABLET ? VIDEO_AGENT : VIDEO_TABLET));
    if (rc == STORE_OK)
        rc = tenant_bind_int64(s, 4, after);
    json_t *list = json_array();
    while (rc == STORE_OK && (rc = tenant_step(s)) == STORE_ROW) {
        json_t *j = json_pack("{s:I,s:s,s:s}", "seq", (json_int_t)tenant_col_int64(s, 0), "kind",
                              tenant_col_text(s, 1), "payload", tenant_col_text(s, 2));
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
