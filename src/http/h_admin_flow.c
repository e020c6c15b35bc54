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

struct reload_args {
    const char *actor;
    bool ok;         /* the reload took */
    const char *err; /* why not */
};

/* store_run callback: the audit record of the reload, whatever its outcome. */
static int audit_txn(struct store_conn *c, void *arg)
{
    const struct reload_args *a = arg;
    return a->ok
               ? audit_append(c, 0, a->actor, "flow.reloaded", "", NULL)
               : audit_appendf(c, 0, a->actor, "flow.reload_failed", "", "{s:s}", "error", a->err);
}

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
    struct reload_args a = {
        .actor = ar.actor, .ok = app_flow_reload(ar.app, err, sizeof err) == 0, .err = err};
    if (!admin_run(&ar, "audit flow reload", audit_txn, &a, NULL))
        goto out;
    if (a.ok)
        http_json(resp, 200, json_pack("{s:s}", "status", "reloaded"));
    else
        http_error_ex(resp, ZE_RELOAD_FAILED, NULL, json_pack("{s:s}", "detail", err));
out:
    admin_close(&ar);
}
