/* GET and HEAD of a web app's file (http/static.h; docs/api.md "Web apps").
 * The server routes here only the paths static_has() knows. */
#include "http/handlers.h"
#include "http/static.h"

#include <string.h>

/* The apps' pages: scripts and workers from the origin only; the
 * peripherals bridge (zhanye-bridge) listens on loopback; a voucher's PDF is
 * shown from a blob: URL in a frame (the tablet's voucher view, the
 * console's business drawer), and photos and video are previewed from
 * blob: URLs; the UI libraries' icon fonts are inlined as data: URLs. */
#define APP_CSP                                                                                    \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                    \
    "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' blob:; "                  \
    "worker-src 'self' blob:; "                                                                    \
    "frame-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "             \
    "connect-src 'self' blob: http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'"

void h_static(struct http_request *req, struct http_response *resp)
{
    struct static_query q = {
        .path = req->url,
        .v = http_query(req, "v"),
        .if_none_match = http_header(req, "If-None-Match"),
        .accept_encoding = http_header(req, "Accept-Encoding"),
    };
    struct static_answer a;
    if (!req->web || static_answer(req->web, &q, &a) != 0) {
        http_error(resp, ZE_INTERNAL, NULL);
        return;
    }
    if (a.status == 404) {
        http_error(resp, ZE_NOT_FOUND, NULL);
        return;
    }
    resp->status = a.status;
    resp->body = a.body;
    resp->body_len = a.len;
    resp->content_type = a.content_type;
    resp->cache_control = a.immutable ? "public, max-age=31536000, immutable" : "no-cache";
    if (a.page)
        resp->csp = APP_CSP;
    http_add_header(resp, "ETag", a.etag);
    http_add_header(resp, "Vary", "Accept-Encoding");
    if (a.gzip)
        http_add_header(resp, "Content-Encoding", "gzip");
    if (a.signature[0])
        http_add_header(resp, "X-Manifest-Signature", a.signature);
}
