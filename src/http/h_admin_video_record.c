/* The console side of a recorded call (双录; docs/api.md §2.3 "video",
 * docs/architecture.md "Recording a call"):
 *
 *   admin_video_record_start  run by POST /api/v1/admin/video/take (on the
 *        executor: the route is offload) once the take of a call with
 *        `record` committed: vrec_run_start (the Janus room and the row,
 *        call_id the call's id in decimal, with the consent the tablet
 *        captured) and video_call_set_recording (the recording's id). If
 *        the recording cannot start (Janus unreachable) the call is ended
 *        (`rejected`, end_reason media_unavailable): a call that must be
 *        recorded does not go on unrecorded.
 *   POST /api/v1/admin/video/record-join {"call_id", "sdp"} -> {"sdp"}
 *        the agent's browser joins the call's recording: its SDP offer (a
 *        send-only peer connection, all ICE candidates gathered) to Janus
 *        (vrec_run_join, display "agent"), Janus's answer back; audited
 *        vrec.joined. Only the agent's own call of their bank: any other
 *        (another agent's, another bank's, none) is 404
 *        video_call_not_found; 409 video_call_ended; 400 bad_request for a
 *        call that is not recorded; 404 not_found when its recording is
 *        not under way; 503 media_unavailable. */
#include "app/app.h"
#include "app/vrec_run.h"
#include "business/video_call.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "http/admin.h"
#include "http/admin_bank.h"
#include "http/admin_video.h"
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SDP_MAX (14 * 1024)

/* ---- start --------------------------------------------------------------------------- */

struct rec_set {
    struct admin_req *ar;
    int64_t call_id;
    const char *recording_id;
    struct video_call call;
};

static int set_txn(struct tenant_conn *tc, void *arg)
{
    struct rec_set *s = arg;
    int rc = video_call_set_recording(tc, s->call_id, s->recording_id, s->ar->actor);
    if (rc == VC_OK)
        rc = video_call_get(tc, s->call_id, &s->call);
    return rc;
}

static int drop_txn(struct tenant_conn *tc, void *arg)
{
    struct rec_set *s = arg;
    int rc = video_call_end(tc, s->call_id, VIDEO_AGENT, ze_code(ZE_MEDIA_UNAVAILABLE),
                            s->ar->actor, clock_wall_ms(), &s->call);
    return rc == VC_ENDED ? VC_OK : rc;
}

int admin_video_record_start(struct admin_req *ar, struct video_call *c, const char *biz_no)
{
    char call_id[24], rid[24], own_biz[33];
    snprintf(call_id, sizeof call_id, "%lld", (long long)c->id);
    if (!biz_no || !biz_no[0]) {
        snprintf(own_biz, sizeof own_biz, "VC%lld", (long long)c->id);
        biz_no = own_biz;
    }
    struct scope sc = {.bank_id = ar->who.bank_id,
                       .branch_id = c->branch_id,
                       .teller_id = c->teller_id,
                       .role = ROLE_BANK_ADMIN};
    struct vrec_start_req r = {.call_id = call_id,
                               .biz_no = biz_no,
                               .customer_id = c->customer_id,
                               .consent = {.by = c->consent_by,
                                           .at_ms = c->consent_at,
                                           .text_version = c->consent_version},
                               .actor = ar->actor};
    struct vrec_room room;
    int rc = vrec_run_start(ar->app->vrec, ar->app->shards, &sc, &r, &room);
    struct rec_set s = {.ar = ar, .call_id = c->id};
    if (rc == VREC_OK) {
        snprintf(rid, sizeof rid, "%lld", (long long)room.id);
        s.recording_id = rid;
        int src = admin_bank_txn(ar, ar->who.bank_id, "admin.video_recording", set_txn, &s);
        if (src == VC_OK)
            *c = s.call;
        else
            log_warn("video.record", "call %s: recording %s started, not noted on the call (%d)",
                     call_id, rid, src);
        return VREC_OK;
    }
    log_warn("video.record", "call %s: the recording cannot start (%d); the call is ended", call_id,
             rc);
    if (admin_bank_txn(ar, ar->who.bank_id, "admin.video_unrecorded", drop_txn, &s) == VC_OK)
        *c = s.call;
    return rc;
}

/* ---- join ----------------------------------------------------------------------------- */

static const struct tx_field F_JOIN[] = {
    {.name = "call_id", .type = TXF_INT, .required = true},
    {.name = "sdp", .type = TXF_STRING, .required = true, .max = SDP_MAX},
};

struct rec_join {
    struct admin_req *ar;
    int64_t call_id;
    struct video_call call;
};

/* The agent's own open, recorded call (a read; touches the agent as alive). */
static int join_txn(struct tenant_conn *tc, void *arg)
{
    struct rec_join *j = arg;
    int rc = video_call_get(tc, j->call_id, &j->call);
    if (rc == VC_OK && j->call.agent_id != j->ar->who.teller_id)
        rc = VC_NOT_FOUND;
    if (rc == VC_OK && strcmp(j->call.state, "ended") == 0)
        rc = VC_ENDED;
    if (rc == VC_OK && (!j->call.record || !j->call.recording_id[0]))
        rc = VC_BAD;
    if (rc == VC_OK)
        rc = video_call_touch(tc, j->call_id, VIDEO_AGENT, clock_wall_ms());
    return rc;
}

void h_admin_video_record_join(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_video_open(req, resp, ADMIN_WRITE, F_JOIN, sizeof F_JOIN / sizeof F_JOIN[0], &ar))
        return;
    struct rec_join j = {.ar = &ar,
                         .call_id = json_integer_value(json_object_get(ar.in, "call_id"))};
    int rc = admin_bank_txn(&ar, ar.who.bank_id, "admin.video_record_check", join_txn, &j);
    if (rc == VC_BAD) {
        http_error(resp, ZE_BAD_REQUEST, "该通话不录音录像");
    } else if (rc != VC_OK) {
        admin_video_fail(&ar, rc, "join a recording");
    } else {
        char call_id[24], *answer = NULL;
        snprintf(call_id, sizeof call_id, "%lld", (long long)j.call_id);
        struct scope sc = {.bank_id = ar.who.bank_id, .role = ROLE_BANK_ADMIN};
        /* the connection is not needed while Janus answers */
        rc = vrec_run_join(ar.app->vrec, ar.app->shards, &sc, call_id, "agent",
                           admin_str(&ar, "sdp"), &answer, ar.actor);
        if (rc == VREC_OK)
            http_json(resp, 200, json_pack("{s:s}", "sdp", answer));
        else
            http_error(resp, vrec_ze(rc), NULL);
        free(answer);
    }
    admin_close(&ar);
}
