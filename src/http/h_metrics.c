/* GET /metrics — every registered metric in the Prometheus text format.
 * Restricted in routes.c: the server answers peers outside [server]
 * metrics_allow with 403 before this runs. */
#include "foundation/metrics.h"
#include "http/handlers.h"

void h_metrics(struct http_request *req, struct http_response *resp)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    if (!text) {
        http_error(resp, ZE_INTERNAL, NULL);
        return;
    }
    http_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
