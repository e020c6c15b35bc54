/* video_record_tx.c — VIDEO_RECORD_JOIN; see video_record_tx.h. */
#include "business/video_record_tx.h"

#include "business/biz.h"
#include "business/video_call.h"
#include "business/vrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISPLAY "customer"

/* The teller's own open, recorded call: VC_OK, VC_NOT_FOUND, VC_ENDED,
 * VC_BAD (not recorded), or a store status. */
static int my_recorded_call(struct tx_ctx *c, struct video_call *vc)
{
    int rc = video_call_get(c->tenant, json_integer_value(json_object_get(c->in, "call_id")), vc);
    if (rc == VC_OK && vc->teller_id != c->teller_id)
        rc = VC_NOT_FOUND;
    if (rc == VC_OK && strcmp(vc->state, "ended") == 0)
        rc = VC_ENDED;
    if (rc == VC_OK && !vc->record)
        rc = VC_BAD;
    return rc;
}

/* Outside the transaction (a read-only scope): the offer to Janus. fetched:
 * {sdp, handle} or {error: a VREC_* status}; nothing when the call is not
 * the teller's open recorded call (the handler answers that). */
static enum tx_result prepare(struct tx_ctx *c)
{
    struct video_call vc;
    struct vdb_row row = {0};
    char call_id[24], *answer = NULL;
    uint64_t handle = 0;
    if (!c->tenant || my_recorded_call(c, &vc) != VC_OK)
        return TX_COMMIT;
    snprintf(call_id, sizeof call_id, "%lld", (long long)vc.id);
    int rc = c->env && c->env->vrec ? vrec_get(c->tenant, call_id, &row) : VREC_MEDIA;
    if (rc == VREC_OK)
        rc = vrec_publish(c->env->vrec, &row, DISPLAY,
                          json_string_value(json_object_get(c->in, "sdp")), &answer, &handle);
    vdb_row_free(&row);
    c->fetched = rc == VREC_OK ? json_pack("{s:s,s:I}", "sdp", answer, "handle", (json_int_t)handle)
                               : json_pack("{s:i}", "error", rc);
    free(answer);
    return c->fetched ? TX_COMMIT : TX_ROLLBACK;
}

static enum tx_result tx_join(struct tx_ctx *c)
{
    struct video_call vc;
    char actor[AUDIT_ACTOR_MAX + 1], call_id[24];
    int rc = my_recorded_call(c, &vc);
    switch (rc) {
    case VC_OK:
        break;
    case VC_NOT_FOUND:
        tx_fail(c, ZE_VIDEO_CALL_NOT_FOUND);
        return TX_COMMIT;
    case VC_ENDED:
        tx_fail(c, ZE_VIDEO_CALL_ENDED);
        return TX_COMMIT;
    case VC_BAD:
        tx_failf(c, ZE_BAD_REQUEST, "该通话不录音录像");
        return TX_COMMIT;
    default:
        return TX_ROLLBACK;
    }
    const char *sdp = json_string_value(json_object_get(c->fetched, "sdp"));
    if (!sdp) {
        json_t *e = json_object_get(c->fetched, "error");
        rc = e ? (int)json_integer_value(e) : VREC_NONE;
        if (rc == VREC_NONE || rc == VREC_STATE)
            tx_failf(c, ZE_NOT_FOUND, "录制尚未开始或已结束，请稍后再试");
        else
            tx_fail(c, vrec_ze(rc));
        return TX_COMMIT;
    }
    struct vdb_row row = {0};
    snprintf(call_id, sizeof call_id, "%lld", (long long)vc.id);
    biz_actor(c, actor);
    rc = vrec_get(c->tenant, call_id, &row);
    if (rc == VREC_OK)
        rc =
            vrec_joined(c->tenant, &row, DISPLAY,
                        (uint64_t)json_integer_value(json_object_get(c->fetched, "handle")), actor);
    vdb_row_free(&row);
    if (rc == VREC_NONE || rc == VREC_STATE) {
        tx_failf(c, ZE_NOT_FOUND, "录制尚未开始或已结束，请稍后再试");
        return TX_COMMIT;
    }
    if (rc != VREC_OK)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "call_id", json_integer(vc.id));
    json_object_set_new(c->out, "sdp", json_string(sdp));
    return TX_COMMIT;
}

static const struct tx_field F_JOIN[] = {
    {.name = "call_id", .type = TXF_INT, .required = true},
    {.name = "sdp", .type = TXF_STRING, .required = true, .max = VIDEO_SDP_MAX},
};

const struct tx_def TX_VIDEO_RECORD_JOIN = {.code = "VIDEO_RECORD_JOIN",
                                            .fn = tx_join,
                                            .prepare = prepare,
                                            .needs_session = true,
                                            .bank_data = true,
                                            .fields = F_JOIN,
                                            .nfields = sizeof F_JOIN / sizeof F_JOIN[0]};
