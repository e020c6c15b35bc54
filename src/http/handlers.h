/* handlers — one function per HTTP endpoint, each in its own h_*.c file,
 * and the route table that binds them (routes.c). */
#ifndef ZHANYE_HTTP_HANDLERS_H
#define ZHANYE_HTTP_HANDLERS_H

#include "http/server.h"

void h_healthz(struct http_request *req, struct http_response *resp);
void h_readyz(struct http_request *req, struct http_response *resp);
void h_metrics(struct http_request *req, struct http_response *resp);
void h_pubkey(struct http_request *req, struct http_response *resp);
void h_time(struct http_request *req, struct http_response *resp);
void h_tx(struct http_request *req, struct http_response *resp);

/* The platform's routes, in match order. */
const struct http_route *routes_table(size_t *n);

#endif
