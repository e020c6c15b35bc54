/* POST /api/v1/tx/{TX} — placeholder until the pipeline lands. */
#include "http/handlers.h"

void h_tx(struct http_request *req, struct http_response *resp)
{
    http_error(resp, 404, "unknown_tx", "未知交易");
}
