/* video_record_tx — the tablet joins its call's recording (双录; docs/api.md
 * §1.40), a business TX on the bank's shard, session required:
 *
 *   VIDEO_RECORD_JOIN {call_id, sdp} -> {call_id, sdp}
 *       the tablet's second, send-only peer connection (its camera and
 *       microphone, all ICE candidates gathered: no trickle) publishes into
 *       the call's Janus room: its prepare phase, outside the transaction,
 *       hands the SDP offer to Janus (vrec_publish, display "customer");
 *       the handler audits it (vrec.joined) and answers Janus's SDP answer.
 *       video_call_not_found (another teller's call, another bank's, none),
 *       video_call_ended, bad_request (the call is not recorded), not_found
 *       (its recording is not under way yet: the agent has not taken it, or
 *       it has finished), media_unavailable (Janus refused or is gone).
 *
 * The recording itself is started when the agent takes the call
 * (http/h_admin_video_record.c) and finished by the watcher (app/vwatch.h). */
#ifndef ZHANYE_VIDEO_RECORD_TX_H
#define ZHANYE_VIDEO_RECORD_TX_H

#include "channel/tx.h"

#define VIDEO_SDP_MAX (48 * 1024)

extern const struct tx_def TX_VIDEO_RECORD_JOIN;

#endif
