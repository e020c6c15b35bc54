/* GET /healthz — the process is alive and serving (no dependencies checked).
 * GET /readyz — the database, every required backend and (with [redis])
 * Redis answer; a load balancer sends traffic only while this is 200. */
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
    int eg_ok = egress_ready(a->egress);
    json_t *checks = json_pack("{s:s,s:s}", "database", db_ok ? "ok" : "down", "backends",
                               eg_ok ? "ok" : "down");
    /* With [redis] set, transactions need it (shared anti-replay records):
     * a node that cannot reach it takes no traffic until it can again. */
    bool rd_ok = !a->redis || redis_ping(a->redis) == REDIS_DONE;
    if (a->redis)
        json_object_set_new(checks, "redis", json_string(rd_ok ? "ok" : "down"));
    bool ok = db_ok && eg_ok && rd_ok;
    http_json(resp, ok ? 200 : 503,
              json_pack("{s:s,s:o}", "status", ok ? "ready" : "not_ready", "checks", checks));
}
