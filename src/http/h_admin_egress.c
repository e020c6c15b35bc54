/* GET /api/v1/admin/egress — every connector to the bank's other systems:
 * addresses, breaker state and transitions, in flight, waiting, errors by
 * kind (egress_status). Province admins only: the connectors are shared by
 * every bank of the deployment.
 * GET  /api/v1/admin/egress/limits       — the live limits of every system, with their sources
 * POST /api/v1/admin/egress/limits       — {system, max_concurrent?, queue?, max_wait_ms?,
 *                                           call_timeout_ms?}: the console's override
 * POST /api/v1/admin/egress/limits/reset — {system, keys?}: back to zhanye.conf's values
 * (http/admin_limits.h; what cannot change live: docs/egress.md.) */
#include "app/app.h"
#include "data/tenant.h"
#include "http/admin.h"
#include "http/admin_limits.h"
#include "http/handlers.h"

void h_admin_egress(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN) {
        admin_forbidden(&ar);
    } else {
        json_t *status = egress_status(ar.app->egress); /* {"ready":..,"systems":{..}} */
        if (status)
            http_json(resp, 200, status);
        else
            http_error(resp, ZE_INTERNAL, NULL);
    }
    admin_close(&ar);
}

void h_admin_egress_limits(struct http_request *req, struct http_response *resp)
{
    admin_limits_get(req, resp, "egress");
}

void h_admin_egress_limits_set(struct http_request *req, struct http_response *resp)
{
    admin_limits_set(req, resp, "egress");
}

void h_admin_egress_limits_reset(struct http_request *req, struct http_response *resp)
{
    admin_limits_reset(req, resp, "egress");
}
