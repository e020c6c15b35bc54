/* video_tx — the tablet's side of a remote video call (docs/api.md §1.22),
 * business TXs on the bank's shard, session required:
 *
 *   VIDEO_CALL_REQUEST {customer_id?, biz_id?, reason, record?,
 *                       consent?: {text_version}}
 *       -> {call_id, state, position, expected_wait_s, ice_servers}
 *       queues a call (business/video_call.h); customer_not_found,
 *       biz_not_found for an id not of the bank. A call about an agency
 *       sale (biz kind agency: 双录) is recorded whatever `record` says; a
 *       recorded call needs the customer's consent (vrec_no_consent
 *       without it; bad_request without customer and business), kept with
 *       the call (its version, teller:<id>, now) for the recording that
 *       starts when an agent takes it (http/h_admin_video_record.c).
 *   VIDEO_CALL_STATUS {call_id, after?}
 *       -> {call_id, state, outcome, end_reason, position, expected_wait_s,
 *           signals: [{seq, kind, payload}] (the agent's, seq > after),
 *           ice_servers (while ringing or connected)}
 *       the tablet's poll: it keeps the call alive (the reconnect window,
 *       [video] reconnect_window_s) and first ends the bank's silent calls.
 *   VIDEO_SIGNAL {call_id, kind, payload} -> {seq}
 *       relays an offer, answer, candidate or bye to the agent
 *       (business/video_signal.h); video_call_ended, bad_request (not yet
 *       taken, bad kind).
 *   VIDEO_CALL_END {call_id, reason?} -> {call_id, state, outcome}
 *       video_call_ended when it has ended already.
 *
 * A call is the client manager's own: another teller's id answers
 * video_call_not_found. Not read-only: every one of them writes (the
 * tablet's last-seen time at least). */
#ifndef ZHANYE_VIDEO_TX_H
#define ZHANYE_VIDEO_TX_H

#include "channel/tx.h"

extern const struct tx_def TX_VIDEO_CALL_REQUEST;
extern const struct tx_def TX_VIDEO_CALL_STATUS;
extern const struct tx_def TX_VIDEO_SIGNAL;
extern const struct tx_def TX_VIDEO_CALL_END;

#endif
