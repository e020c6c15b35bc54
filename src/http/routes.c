#include "http/handlers.h"

static const struct http_route ROUTES[] = {
    {"GET", "/healthz", false, "/healthz", h_healthz, false},
    {"GET", "/readyz", false, "/readyz", h_readyz, false},
    {"GET", "/metrics", false, "/metrics", h_metrics, false},
    {"GET", "/api/v1/pubkey", false, "/api/v1/pubkey", h_pubkey, false},
    {"GET", "/api/v1/time", false, "/api/v1/time", h_time, false},
    /* CPU-bound and possibly blocking: on the executor (server.h). */
    {"POST", "/api/v1/tx/", true, "/api/v1/tx", h_tx, true},
/* The management API too: login and password resets run Argon2id, audit
 * verification walks the whole chain. */
#define ADMIN(method, path, fn)                                                                    \
    {                                                                                              \
        method, "/api/v1/admin" path, false, "/api/v1/admin" path, fn, true                        \
    }
    ADMIN("POST", "/login", h_admin_login),
    ADMIN("POST", "/logout", h_admin_logout),
    ADMIN("GET", "/me", h_admin_me),
    ADMIN("GET", "/banks", h_admin_banks),
    ADMIN("POST", "/banks", h_admin_bank_add),
    ADMIN("GET", "/branches", h_admin_branches),
    ADMIN("POST", "/branches", h_admin_branch_add),
    ADMIN("GET", "/tellers", h_admin_tellers),
    ADMIN("POST", "/tellers", h_admin_teller_add),
    ADMIN("POST", "/tellers/disable", h_admin_teller_disable),
    ADMIN("POST", "/tellers/enable", h_admin_teller_enable),
    ADMIN("POST", "/tellers/reset-password", h_admin_teller_reset),
    ADMIN("GET", "/devices", h_admin_devices),
    ADMIN("POST", "/devices/revoke", h_admin_device_revoke),
    ADMIN("POST", "/devices/unbind", h_admin_device_unbind),
    ADMIN("POST", "/tickets", h_admin_ticket_issue),
    ADMIN("GET", "/audit/verify", h_admin_audit_verify),
    ADMIN("GET", "/audit/records", h_admin_audit_records),
    ADMIN("POST", "/flow/reload", h_admin_flow_reload),
    ADMIN("GET", "/egress", h_admin_egress),
#undef ADMIN
};

const struct http_route *routes_table(size_t *n)
{
    *n = sizeof ROUTES / sizeof ROUTES[0];
    return ROUTES;
}
