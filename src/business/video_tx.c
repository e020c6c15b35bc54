/* video_tx.c — the tablet's video TXs; see video_tx.h. */
#include "business/video_tx.h"

#include "business/biz.h"
#include "business/customer_db.h"
#include "business/video_call.h"
#include "business/video_signal.h"
#include "business/video_turn.h"
#include "business/wf_db.h"
#include "foundation/clock.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_WINDOW_S 20

static int64_t window_ms(const struct tx_ctx *c)
{
    int w = c->env && c->env->video ? c->env->video->window_s : 0;
    return (int64_t)(w > 0 ? w : DEFAULT_WINDOW_S) * 1000;
}

/* Maps a VC_* or store status to the answer; TX_ROLLBACK for a store failure. */
static enum tx_result answer_rc(struct tx_ctx *c, int rc)
{
    switch (rc) {
    case VC_OK:
        return TX_COMMIT;
    case VC_NOT_FOUND:
        tx_fail(c, ZE_VIDEO_CALL_NOT_FOUND);
        return TX_COMMIT;
    case VC_ENDED:
        tx_fail(c, ZE_VIDEO_CALL_ENDED);
        return TX_COMMIT;
    case VC_BAD:
        tx_failf(c, ZE_BAD_REQUEST, "通话尚未接通或信令格式不正确");
        return TX_COMMIT;
    default:
        return TX_ROLLBACK;
    }
}

static json_t *ice_for(const struct tx_ctx *c, int64_t who)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)who);
    json_t *ice = video_ice_servers(c->env ? c->env->video : NULL, id, clock_wall_ms() / 1000);
    return ice ? ice : json_array();
}

/* The call of this teller, after the bank's silent calls were ended. */
static int my_call(struct tx_ctx *c, int64_t now, struct video_call *vc)
{
    int rc = video_call_sweep(c->tenant, window_ms(c), now, NULL);
    if (rc == VC_OK)
        rc = video_call_get(c->tenant, json_integer_value(json_object_get(c->in, "call_id")), vc);
    if (rc == VC_OK && vc->teller_id != c->teller_id)
        rc = VC_NOT_FOUND;
    return rc;
}

static int queue_place(struct tx_ctx *c, const struct video_call *vc)
{
    int64_t pos = 0, wait = 0;
    int rc = video_call_position(c->tenant, vc, &pos);
    if (rc == VC_OK)
        rc = video_call_expected_wait(c->tenant, pos, &wait);
    json_object_set_new(c->out, "position", json_integer(pos));
    json_object_set_new(c->out, "expected_wait_s", json_integer(wait));
    return rc;
}

/* Sales of agency products (代理保险、理财) are recorded by regulation (双录):
 * a call about such a business is recorded whatever the tablet says. */
static bool needs_recording(const char *kind)
{
    return strcmp(kind, "agency") == 0;
}

static enum tx_result tx_request(struct tx_ctx *c)
{
    bool record = json_is_true(json_object_get(c->in, "record"));
    char actor[AUDIT_ACTOR_MAX + 1];
    int64_t now = clock_wall_ms(), id = 0;
    int64_t cust = json_integer_value(json_object_get(c->in, "customer_id"));
    int64_t biz = json_integer_value(json_object_get(c->in, "biz_id"));
    if (cust < 0 || biz < 0) {
        tx_failf(c, ZE_BAD_REQUEST, "客户或业务编号不正确");
        return TX_COMMIT;
    }
    if (cust > 0) {
        struct cdb_row r = {0};
        int rc = cdb_get(c->tenant, cust, &r);
        cdb_row_free(&r);
        if (rc == CDB_NONE) {
            tx_fail(c, ZE_CUSTOMER_NOT_FOUND);
            return TX_COMMIT;
        }
        if (rc != CDB_OK)
            return TX_ROLLBACK;
    }
    if (biz > 0) {
        struct wdb_biz b;
        int rc = wdb_get(c->tenant, biz, &b);
        if (rc == WDB_NONE) {
            tx_fail(c, ZE_BIZ_NOT_FOUND);
            return TX_COMMIT;
        }
        if (rc != WDB_OK)
            return TX_ROLLBACK;
        if (cust == 0)
            cust = b.customer_id;
        record = record || needs_recording(b.kind);
    }
    /* 双录: the customer's consent, shown and confirmed on the tablet, comes
     * with the request; the recording starts from it when an agent takes
     * the call (docs/architecture.md "Recording a call"). */
    const char *consent =
        json_string_value(json_object_get(json_object_get(c->in, "consent"), "text_version"));
    if (consent && (!consent[0] || strlen(consent) > VC_CONSENT_VERSION_MAX)) {
        tx_failf(c, ZE_BAD_REQUEST, "同意书版本不正确");
        return TX_COMMIT;
    }
    if (record && !consent) {
        tx_fail(c, ZE_VREC_NO_CONSENT);
        return TX_COMMIT;
    }
    if (record && cust == 0) {
        tx_failf(c, ZE_BAD_REQUEST, "录音录像的通话须关联客户或业务");
        return TX_COMMIT;
    }
    biz_actor(c, actor);
    char by[40];
    snprintf(by, sizeof by, "teller:%lld", (long long)c->teller_id);
    struct video_call_new n = {
        .teller_id = c->teller_id,
        .branch_id = c->branch_id,
        .customer_id = cust,
        .biz_id = biz,
        .dev = c->dev,
        .reason = json_string_value(json_object_get(c->in, "reason")),
        .record = record,
        .consent_version = record ? consent : NULL,
        .consent_by = by,
        .actor = actor,
    };
    struct video_call vc;
    int rc = video_call_sweep(c->tenant, window_ms(c), now, NULL);
    if (rc == VC_OK)
        rc = video_call_create(c->tenant, &n, now, &id);
    if (rc == VC_OK)
        rc = video_call_get(c->tenant, id, &vc);
    if (rc == VC_OK)
        rc = queue_place(c, &vc);
    if (rc != VC_OK)
        return answer_rc(c, rc);
    json_object_set_new(c->out, "call_id", json_integer(id));
    json_object_set_new(c->out, "state", json_string(vc.state));
    json_object_set_new(c->out, "record", json_boolean(vc.record));
    json_object_set_new(c->out, "ice_servers", ice_for(c, c->teller_id));
    return TX_COMMIT;
}

static enum tx_result tx_status(struct tx_ctx *c)
{
    int64_t now = clock_wall_ms();
    struct video_call vc;
    json_t *signals = NULL;
    int rc = my_call(c, now, &vc);
    if (rc == VC_OK && strcmp(vc.state, "ended") != 0)
        rc = video_call_touch(c->tenant, vc.id, VIDEO_TABLET, now);
    if (rc == VC_OK)
        rc = queue_place(c, &vc);
    if (rc == VC_OK)
        rc = video_signal_read(c->tenant, vc.id, VIDEO_TABLET,
                               json_integer_value(json_object_get(c->in, "after")), &signals);
    if (rc != VC_OK)
        return answer_rc(c, rc);
    json_object_set_new(c->out, "call_id", json_integer(vc.id));
    json_object_set_new(c->out, "state", json_string(vc.state));
    json_object_set_new(c->out, "outcome", vc.outcome[0] ? json_string(vc.outcome) : json_null());
    json_object_set_new(c->out, "end_reason",
                        vc.end_reason[0] ? json_string(vc.end_reason) : json_null());
    json_object_set_new(c->out, "signals", signals);
    if (strcmp(vc.state, "ringing") == 0 || strcmp(vc.state, "connected") == 0)
        json_object_set_new(c->out, "ice_servers", ice_for(c, c->teller_id));
    return TX_COMMIT;
}

static enum tx_result tx_signal(struct tx_ctx *c)
{
    char actor[AUDIT_ACTOR_MAX + 1];
    int64_t now = clock_wall_ms(), seq = 0;
    struct video_call vc;
    biz_actor(c, actor);
    int rc = my_call(c, now, &vc);
    if (rc == VC_OK)
        rc = video_signal_post(
            c->tenant, &vc, VIDEO_TABLET, json_string_value(json_object_get(c->in, "kind")),
            json_string_value(json_object_get(c->in, "payload")), actor, now, &seq);
    if (rc != VC_OK)
        return answer_rc(c, rc);
    json_object_set_new(c->out, "seq", json_integer(seq));
    return TX_COMMIT;
}

static enum tx_result tx_end(struct tx_ctx *c)
{
    char actor[AUDIT_ACTOR_MAX + 1];
    int64_t now = clock_wall_ms();
    struct video_call vc;
    const char *reason = json_string_value(json_object_get(c->in, "reason"));
    biz_actor(c, actor);
    int rc = my_call(c, now, &vc);
    if (rc == VC_OK)
        rc = video_call_end(c->tenant, vc.id, VIDEO_TABLET, reason ? reason : "hangup", actor, now,
                            &vc);
    if (rc != VC_OK)
        return answer_rc(c, rc);
    json_object_set_new(c->out, "call_id", json_integer(vc.id));
    json_object_set_new(c->out, "state", json_string(vc.state));
    json_object_set_new(c->out, "outcome", json_string(vc.outcome));
    return TX_COMMIT;
}

static const struct tx_field F_REQUEST[] = {
    {.name = "customer_id", .type = TXF_INT},
    {.name = "biz_id", .type = TXF_INT},
    {.name = "reason", .type = TXF_STRING, .required = true, .max = VC_REASON_MAX},
    {.name = "record", .type = TXF_BOOL},
    {.name = "consent", .type = TXF_OBJECT},
};
static const struct tx_field F_STATUS[] = {
    {.name = "call_id", .type = TXF_INT, .required = true},
    {.name = "after", .type = TXF_INT},
};
static const struct tx_field F_SIGNAL[] = {
    {.name = "call_id", .type = TXF_INT, .required = true},
    {.name = "kind", .type = TXF_STRING, .required = true, .max = 10},
    {.name = "payload", .type = TXF_STRING, .required = true, .max = VS_PAYLOAD_MAX},
};
static const struct tx_field F_END[] = {
    {.name = "call_id", .type = TXF_INT, .required = true},
    {.name = "reason", .type = TXF_STRING, .max = 40},
};

const struct tx_def TX_VIDEO_CALL_REQUEST = {.code = "VIDEO_CALL_REQUEST",
                                             .fn = tx_request,
                                             .needs_session = true,
                                             .bank_data = true,
                                             .fields = F_REQUEST,
                                             .nfields = sizeof F_REQUEST / sizeof F_REQUEST[0]};
const struct tx_def TX_VIDEO_CALL_STATUS = {.code = "VIDEO_CALL_STATUS",
                                            .fn = tx_status,
                                            .needs_session = true,
                                            .bank_data = true,
                                            .fields = F_STATUS,
                                            .nfields = sizeof F_STATUS / sizeof F_STATUS[0]};
const struct tx_def TX_VIDEO_SIGNAL = {.code = "VIDEO_SIGNAL",
                                       .fn = tx_signal,
                                       .needs_session = true,
                                       .bank_data = true,
                                       .fields = F_SIGNAL,
                                       .nfields = sizeof F_SIGNAL / sizeof F_SIGNAL[0]};
const struct tx_def TX_VIDEO_CALL_END = {.code = "VIDEO_CALL_END",
                                         .fn = tx_end,
                                         .needs_session = true,
                                         .bank_data = true,
                                         .fields = F_END,
                                         .nfields = sizeof F_END / sizeof F_END[0]};
