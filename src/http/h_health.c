/* GET /healthz — the process is alive and serving (no dependencies checked).
 * GET /readyz — the database and every required backend answer; a load
 * balancer sends traffic only while this is 200. */
#include "app/app.h"
#include "foundation/clock.h"
#include "http/handlers.h"

void h_healthz(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->app;
    http_json(resp, 200,
              json_pack("{s:s,s:s,s:I}", "status", "ok", "version", ZHANYE_VERSION, "uptime_ms",
                        (json_int_t)(clock_wall_ms() - a->started_ms)));
}

void h_readyz(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->app;
    int db_ok = store_ping(a->store) == STORE_OK;
    json_t *checks = json_pack("{s:s}", "database", db_ok ? "ok" : "down");
    http_json(resp, db_ok ? 200 : 503,
              json_pack("{s:s,s:o}", "status", db_ok ? "ready" : "not_ready", "checks", checks));
}
