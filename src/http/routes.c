#include "http/handlers.h"

static const struct http_route ROUTES[] = {
    {"GET", "/healthz", false, "/healthz", h_healthz},
    {"GET", "/readyz", false, "/readyz", h_readyz},
    {"GET", "/metrics", false, "/metrics", h_metrics},
    {"GET", "/api/v1/pubkey", false, "/api/v1/pubkey", h_pubkey},
    {"GET", "/api/v1/time", false, "/api/v1/time", h_time},
    {"POST", "/api/v1/tx/", true, "/api/v1/tx", h_tx},
};

const struct http_route *routes_table(size_t *n)
{
    *n = sizeof ROUTES / sizeof ROUTES[0];
    return ROUTES;
}
