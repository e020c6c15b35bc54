/* admin_video.c — what the video agent's handlers share (see admin_video.h). */
#include "http/admin_video.h"

#include "app/app.h"
#include "business/video_call.h"

bool admin_video_open(struct http_request *req, struct http_response *resp, enum admin_access acc,
                      const struct tx_field *fields, size_t n, struct admin_req *ar)
{
    if (!admin_open(req, resp, acc, fields, n, ar))
        return false;
    if (ar->who.role == ROLE_VIDEO_AGENT)
        return true;
    admin_forbidden(ar);
    admin_close(ar);
    return false;
}

int64_t admin_video_window_ms(const struct app *a)
{
    return (int64_t)(a->video.window_s > 0 ? a->video.window_s : 20) * 1000;
}

void admin_video_fail(struct admin_req *ar, int rc, const char *what)
{
    switch (rc) {
    case VC_NOT_FOUND:
        http_error(ar->resp, ZE_VIDEO_CALL_NOT_FOUND, NULL);
        break;
    case VC_ENDED:
        http_error(ar->resp, ZE_VIDEO_CALL_ENDED, NULL);
        break;
    case VC_EMPTY:
        http_error(ar->resp, ZE_VIDEO_QUEUE_EMPTY, NULL);
        break;
    case VC_BUSY:
        http_error(ar->resp, ZE_VIDEO_AGENT_BUSY, NULL);
        break;
    case VC_BAD:
        http_error(ar->resp, ZE_BAD_REQUEST, "通话尚未接通或信令格式不正确");
        break;
    default:
        admin_fail(ar, rc, what);
    }
}
