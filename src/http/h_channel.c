/* GET /api/v1/pubkey — the live server keys a tablet pins at activation.
 * GET /api/v1/time — the server clock, so a tablet can correct its ts. */
#include "app/app.h"
#include "foundation/clock.h"
#include "http/handlers.h"

void h_pubkey(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->app;
    json_t *keys = json_array();
    for (int i = 0; keys && i < a->keys.n; i++)
        json_array_append_new(keys, json_pack("{s:s,s:s,s:s}", "kid", a->keys.keys[i].kid, "alg",
                                              "SM2", "pub", a->keys.keys[i].pub_b64));
    http_json(resp, 200, json_pack("{s:o*}", "keys", keys));
}

void h_time(struct http_request *req, struct http_response *resp)
{
    http_json(resp, 200, json_pack("{s:I}", "ts", (json_int_t)clock_wall_ms()));
}
