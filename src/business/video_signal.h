/* video_signal — the WebRTC signalling of a call (business/video_call.h),
 * relayed by zhanye between the tablet (ZY1, VIDEO_SIGNAL and
 * VIDEO_CALL_STATUS) and the agent's console (its event stream and
 * POST /api/v1/admin/video/signal).
 *
 * Table video_signals (the bank's shard, migration 24): each message is
 * numbered (seq, ascending per call) and kept with the call; a side reads
 * the other side's messages after the last seq it has. Kinds: offer,
 * answer, candidate (payload: the SDP or the ICE candidate, opaque JSON
 * text up to VS_PAYLOAD_MAX bytes), bye. The first `answer` makes the call
 * connected. Only the call's two parties post, only on a ringing or
 * connected call. Every function works in the caller's transaction and
 * returns VC_OK, a VC_* status (video_call.h) or a negative store status. */
#ifndef ZHANYE_VIDEO_SIGNAL_H
#define ZHANYE_VIDEO_SIGNAL_H

#include "business/video_call.h"

#define VS_PAYLOAD_MAX 16384
#define VS_READ_MAX 200 /* messages one read returns */

/* "offer", "answer", "candidate", "bye". */
bool video_signal_kind_ok(const char *kind);
/* Posts a message of side on call c (read by the caller in this
 * transaction): VC_ENDED when it has ended, VC_BAD when not yet taken or a
 * bad kind or payload; an `answer` connects the call (actor for its audit
 * record); *seq (may be NULL) gets its number. */
int video_signal_post(struct tenant_conn *tc, const struct video_call *c, enum video_side side,
                      const char *kind, const char *payload, const char *actor, int64_t now_ms,
                      int64_t *seq);
/* The messages of the other side than `reader` with seq > after, oldest
 * first, at most VS_READ_MAX, as [{seq, kind, payload}] into *out. */
int video_signal_read(struct tenant_conn *tc, int64_t call_id, enum video_side reader,
                      int64_t after, json_t **out);

#endif
