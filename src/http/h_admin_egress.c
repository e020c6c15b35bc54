/* GET /api/v1/admin/egress — every connector to the bank's other systems:
 * addresses, breaker state and transitions, in flight, waiting, errors by
 * kind (egress_status). Province admins only: the connectors are shared by
 * every bank of the deployment. */
#include "app/app.h"
#include "data/tenant.h"
#include "http/admin.h"
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
