/* POST /api/v1/admin/flow/reload — re-reads the [flow.*] rules and [server]
 * caps of zhanye.conf under traffic (as SIGHUP does). Province admins only:
 * the rules are the whole platform's. On a bad file the old rules stay and
 * the answer says why. Audited either way. */
#include "app/app.h"
#include "data/tenant.h"
#include "foundation/log.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/audit.h"

void h_admin_flow_reload(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    char err[256] = "";
    if (!admin_open(req, resp, ADMIN_WRITE, NULL, 0, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN) {
        admin_forbidden(&ar);
        goto out;
    }
    bool ok = app_flow_reload(ar.app, err, sizeof err) == 0;
    if (!admin_begin(&ar))
        goto out;
    int rc =
        ok ? audit_append(ar.conn, 0, ar.actor, "flow.reloaded", "", NULL)
           : audit_appendf(ar.conn, 0, ar.actor, "flow.reload_failed", "", "{s:s}", "error", err);
    if (!admin_commit(&ar, rc))
        admin_fail(&ar, rc, "audit flow reload");
    else if (ok)
        http_json(resp, 200, json_pack("{s:s}", "status", "reloaded"));
    else
        http_error_ex(resp, ZE_RELOAD_FAILED, NULL, json_pack("{s:s}", "detail", err));
out:
    admin_close(&ar);
}
