#include "http/handlers.h"

/* The management API runs on the executor: login and password resets run
 * Argon2id, audit verification walks the whole chain. Its writes take a small
 * JSON body ([server] admin_body_limit); its reads none. */
#define ADMIN_GET(p, handler)                                                                      \
    {                                                                                              \
        .method = "GET", .path = "/api/v1/admin" p, .label = "/api/v1/admin" p, .fn = handler,     \
        .offload = true,                                                                           \
    }
#define ADMIN_POST(p, handler)                                                                     \
    {                                                                                              \
        .method = "POST", .path = "/api/v1/admin" p, .label = "/api/v1/admin" p, .fn = handler,    \
        .offload = true, .body = HTTP_BODY_ADMIN,                                                  \
    }

/* Fields left out are the safe choice (server.h): no body, inline, no flow
 * control, every peer. */
static const struct http_route ROUTES[] = {
    {.method = "GET", .path = "/healthz", .label = "/healthz", .fn = h_healthz},
    {.method = "GET", .path = "/readyz", .label = "/readyz", .fn = h_readyz},
    /* Only [server] metrics_allow may read it. */
    {.method = "GET", .path = "/metrics", .label = "/metrics", .fn = h_metrics, .restricted = true},
    {.method = "GET", .path = "/api/v1/pubkey", .label = "/api/v1/pubkey", .fn = h_pubkey},
    {.method = "GET", .path = "/api/v1/time", .label = "/api/v1/time", .fn = h_time},
    /* Every tablet transaction: CPU-bound and possibly blocking, so on the
     * executor, but for the read-only ones on the embedded database
     * (h_tx_inline); flow control decides it under its TX, the path remainder. */
    {
        .method = "POST",
        .path = "/api/v1/tx/",
        .prefix = true,
        .label = "/api/v1/tx",
        .fn = h_tx,
        .offload = true,
        .inline_if = h_tx_inline,
        .body = HTTP_BODY_TX,
        .flow_arg = true,
    },
    /* The console's password check (Argon2id): flow control's ADMIN_LOGIN
     * rule bounds how many run at once (docs/flow-control.md). */
    {
        .method = "POST",
        .path = "/api/v1/admin/login",
        .label = "/api/v1/admin/login",
        .fn = h_admin_login,
        .offload = true,
        .body = HTTP_BODY_ADMIN,
        .flow_key = "ADMIN_LOGIN",
    },
    ADMIN_POST("/logout", h_admin_logout),
    ADMIN_GET("/me", h_admin_me),
    ADMIN_GET("/banks", h_admin_banks),
    ADMIN_POST("/banks", h_admin_bank_add),
    ADMIN_GET("/branches", h_admin_branches),
    ADMIN_POST("/branches", h_admin_branch_add),
    ADMIN_GET("/tellers", h_admin_tellers),
    ADMIN_POST("/tellers", h_admin_teller_add),
    ADMIN_POST("/tellers/disable", h_admin_teller_disable),
    ADMIN_POST("/tellers/enable", h_admin_teller_enable),
    ADMIN_POST("/tellers/reset-password", h_admin_teller_reset),
    ADMIN_GET("/devices", h_admin_devices),
    ADMIN_POST("/devices/revoke", h_admin_device_revoke),
    ADMIN_POST("/devices/unbind", h_admin_device_unbind),
    ADMIN_POST("/tickets", h_admin_ticket_issue),
    ADMIN_POST("/tickets/cancel", h_admin_ticket_cancel),
    ADMIN_GET("/audit/verify", h_admin_audit_verify),
    ADMIN_GET("/audit/records", h_admin_audit_records),
    ADMIN_POST("/flow/reload", h_admin_flow_reload),
    ADMIN_GET("/flow/rules", h_admin_flow_rules),
    ADMIN_POST("/flow/rules", h_admin_flow_rule_set),
    ADMIN_POST("/flow/rules/reset", h_admin_flow_rule_reset),
    ADMIN_GET("/egress/limits", h_admin_egress_limits),
    ADMIN_POST("/egress/limits", h_admin_egress_limits_set),
    ADMIN_POST("/egress/limits/reset", h_admin_egress_limits_reset),
    ADMIN_GET("/live", h_admin_live),
    ADMIN_GET("/egress", h_admin_egress),
    ADMIN_GET("/reports/customers", h_admin_report_customers),
    ADMIN_GET("/reports/performance", h_admin_report_performance),
    ADMIN_GET("/reports/today", h_admin_report_today),
    ADMIN_GET("/export", h_admin_export),
    ADMIN_GET("/catalog", h_admin_catalog),
    ADMIN_POST("/catalog", h_admin_catalog_load),
    ADMIN_POST("/visits/tasks", h_admin_visit_assign),
    ADMIN_POST("/visits/tasks/reassign", h_admin_visit_reassign),
    ADMIN_GET("/visits", h_admin_visits),
    ADMIN_GET("/customers", h_admin_customers),
    ADMIN_GET("/customers/get", h_admin_customer_get),
    ADMIN_GET("/businesses", h_admin_businesses),
    ADMIN_GET("/businesses/get", h_admin_business_get),
    ADMIN_GET("/vouchers/get", h_admin_voucher_get),
    ADMIN_GET("/attachments/get", h_admin_attachment_get),
    ADMIN_GET("/recordings", h_admin_recordings),
    ADMIN_GET("/recordings/play", h_admin_recording_play),
    ADMIN_POST("/banks/settings", h_admin_bank_settings),
    ADMIN_GET("/video/queue", h_admin_video_queue),
    ADMIN_POST("/video/take", h_admin_video_take),
    ADMIN_POST("/video/signal", h_admin_video_signal),
    ADMIN_GET("/video/signals", h_admin_video_signals),
    ADMIN_POST("/video/end", h_admin_video_end),
    ADMIN_POST("/video/record-join", h_admin_video_record_join),
    ADMIN_GET("/video/calls", h_admin_video_calls),
    ADMIN_GET("/video/stream", h_admin_video_stream),
    /* The app store: a package's bytes are spooled to disk as they arrive
     * ([appstore] max_package_bytes, server.h HTTP_BODY_FILE). */
    {
        .method = "POST",
        .path = "/api/v1/admin/store/packages",
        .label = "/api/v1/admin/store/packages",
        .fn = h_admin_store_upload,
        .offload = true,
        .body = HTTP_BODY_FILE,
    },
    ADMIN_GET("/store/packages", h_admin_store_packages),
    ADMIN_POST("/store/packages/withdraw", h_admin_store_withdraw),
    /* A package's download (the token is the credential), from its file. */
    {
        .method = "GET",
        .path = "/api/v1/store/packages/",
        .prefix = true,
        .label = "/api/v1/store/packages",
        .fn = h_store_download,
        .offload = true,
    },
    {
        .method = "HEAD",
        .path = "/api/v1/store/packages/",
        .prefix = true,
        .label = "/api/v1/store/packages",
        .fn = h_store_download,
        .offload = true,
    },
    ADMIN_GET("/mdm/policy", h_admin_mdm_policy),
    ADMIN_POST("/mdm/policy", h_admin_mdm_policy_set),
    ADMIN_GET("/mdm/devices", h_admin_mdm_devices),
    ADMIN_GET("/mdm/commands", h_admin_mdm_commands),
    ADMIN_POST("/mdm/commands", h_admin_mdm_command),
};
#undef ADMIN_GET
#undef ADMIN_POST

const struct http_route *routes_table(size_t *n)
{
    *n = sizeof ROUTES / sizeof ROUTES[0];
    return ROUTES;
}
