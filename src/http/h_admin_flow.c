/* POST /api/v1/admin/flow/reload — re-reads the [flow.*] rules and [server]
 * caps of zhanye.conf under traffic (as SIGHUP does), with the console's
 * overrides laid over them. Province admins only: the rules are the whole
 * platform's. On a bad file the old rules stay and the answer says why.
 * Audited either way.
 * GET  /api/v1/admin/flow/rules       — every rule's values in force and where each comes from
 * POST /api/v1/admin/flow/rules       — {tx, rate?, burst?, ...}: the console's override
 * POST /api/v1/admin/flow/rules/reset — {tx, keys?}: back to zhanye.conf's values
 * (http/admin_limits.h has the rules of these three.) */
#include "app/app.h"
#include "data/tenant.h"
#include "foundation/log.h"
#include "http/admin.h"
#include "http/admin_limits.h"
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

void h_admin_flow_rules(struct http_request *req, struct http_response *resp)
{
    admin_limits_get(req, resp, "flow");
}

void h_admin_flow_rule_set(struct http_request *req, struct http_response *resp)
{
    admin_limits_set(req, resp, "flow");
}

void h_admin_flow_rule_reset(struct http_request *req, struct http_response *resp)
{
    admin_limits_reset(req, resp, "flow");
}
