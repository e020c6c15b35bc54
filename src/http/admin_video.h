/* admin_video — what the video agent's handlers (h_admin_video.c,
 * h_admin_video_record.c, h_admin_video_stream.c) share: admin_video.c,
 * and the recording's start in h_admin_video_record.c. */
#ifndef ZHANYE_HTTP_ADMIN_VIDEO_H
#define ZHANYE_HTTP_ADMIN_VIDEO_H

#include "http/admin.h"

struct app;

/* admin_open for the role video_agent only (others: 403 forbidden). false:
 * the answer is set and ar released. */
bool admin_video_open(struct http_request *req, struct http_response *resp, enum admin_access acc,
                      const struct tx_field *fields, size_t n, struct admin_req *ar);
/* [video] reconnect_window_s in ms. */
int64_t admin_video_window_ms(const struct app *a);
/* Answers a VC_* status (business/video_call.h) with its code, any other
 * with admin_fail. */
void admin_video_fail(struct admin_req *ar, int rc, const char *what);

struct video_call;
/* After the take of c (record set) committed: starts its recording
 * (h_admin_video_record.c; biz_no: the call's business, NULL or "" for
 * none) and notes it on the call; *c is then the call as stored. Blocks on
 * Janus: on the executor only. VREC_OK, or a business/vrec.h status: the
 * call has then been ended (the recording could not start). */
int admin_video_record_start(struct admin_req *ar, struct video_call *c, const char *biz_no);

#endif
