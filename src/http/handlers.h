/* handlers — one function per HTTP endpoint, each in its own h_*.c file,
 * and the route table that binds them (routes.c). */
#ifndef ZHANYE_HTTP_HANDLERS_H
#define ZHANYE_HTTP_HANDLERS_H

#include "http/server.h"

#include <stdbool.h>

void h_healthz(struct http_request *req, struct http_response *resp);
void h_readyz(struct http_request *req, struct http_response *resp);
void h_metrics(struct http_request *req, struct http_response *resp);
void h_pubkey(struct http_request *req, struct http_response *resp);
void h_time(struct http_request *req, struct http_response *resp);
void h_tx(struct http_request *req, struct http_response *resp);
/* The ZY1 route's inline_if (server.h): whether TX runs on the HTTP thread. */
bool h_tx_inline(void *app, const char *tx);
/* A web app's file (static.h): the server routes here itself (server.h, web). */
void h_static(struct http_request *req, struct http_response *resp);

/* The management API of the web console (admin.h, docs/api.md). */
void h_admin_login(struct http_request *req, struct http_response *resp);
void h_admin_logout(struct http_request *req, struct http_response *resp);
void h_admin_me(struct http_request *req, struct http_response *resp);
void h_admin_banks(struct http_request *req, struct http_response *resp);
void h_admin_bank_add(struct http_request *req, struct http_response *resp);
void h_admin_branches(struct http_request *req, struct http_response *resp);
void h_admin_branch_add(struct http_request *req, struct http_response *resp);
void h_admin_tellers(struct http_request *req, struct http_response *resp);
void h_admin_teller_add(struct http_request *req, struct http_response *resp);
void h_admin_teller_disable(struct http_request *req, struct http_response *resp);
void h_admin_teller_enable(struct http_request *req, struct http_response *resp);
void h_admin_teller_reset(struct http_request *req, struct http_response *resp);
void h_admin_devices(struct http_request *req, struct http_response *resp);
void h_admin_device_revoke(struct http_request *req, struct http_response *resp);
void h_admin_device_unbind(struct http_request *req, struct http_response *resp);
void h_admin_ticket_issue(struct http_request *req, struct http_response *resp);
void h_admin_ticket_cancel(struct http_request *req, struct http_response *resp);
void h_admin_audit_verify(struct http_request *req, struct http_response *resp);
void h_admin_audit_records(struct http_request *req, struct http_response *resp);
void h_admin_flow_reload(struct http_request *req, struct http_response *resp);
void h_admin_egress(struct http_request *req, struct http_response *resp);
void h_admin_egress_limits(struct http_request *req, struct http_response *resp);
void h_admin_egress_limits_set(struct http_request *req, struct http_response *resp);
void h_admin_egress_limits_reset(struct http_request *req, struct http_response *resp);
void h_admin_flow_rules(struct http_request *req, struct http_response *resp);
void h_admin_flow_rule_set(struct http_request *req, struct http_response *resp);
void h_admin_flow_rule_reset(struct http_request *req, struct http_response *resp);
void h_admin_live(struct http_request *req, struct http_response *resp);
void h_admin_video_queue(struct http_request *req, struct http_response *resp);
void h_admin_video_take(struct http_request *req, struct http_response *resp);
void h_admin_video_signal(struct http_request *req, struct http_response *resp);
void h_admin_video_signals(struct http_request *req, struct http_response *resp);
void h_admin_video_end(struct http_request *req, struct http_response *resp);
void h_admin_video_record_join(struct http_request *req, struct http_response *resp);
void h_admin_video_calls(struct http_request *req, struct http_response *resp);
void h_admin_video_stream(struct http_request *req, struct http_response *resp);
void h_admin_report_customers(struct http_request *req, struct http_response *resp);
void h_admin_report_performance(struct http_request *req, struct http_response *resp);
void h_admin_report_today(struct http_request *req, struct http_response *resp);
void h_admin_export(struct http_request *req, struct http_response *resp);
void h_admin_catalog(struct http_request *req, struct http_response *resp);
void h_admin_catalog_load(struct http_request *req, struct http_response *resp);
void h_admin_visit_assign(struct http_request *req, struct http_response *resp);
void h_admin_visit_reassign(struct http_request *req, struct http_response *resp);
void h_admin_visits(struct http_request *req, struct http_response *resp);
void h_admin_customers(struct http_request *req, struct http_response *resp);
void h_admin_customer_get(struct http_request *req, struct http_response *resp);
void h_admin_businesses(struct http_request *req, struct http_response *resp);
void h_admin_business_get(struct http_request *req, struct http_response *resp);
void h_admin_voucher_get(struct http_request *req, struct http_response *resp);
void h_admin_attachment_get(struct http_request *req, struct http_response *resp);
/* The recorded calls (双录): list and play (h_admin_vrec.c). */
void h_admin_recordings(struct http_request *req, struct http_response *resp);
void h_admin_recording_play(struct http_request *req, struct http_response *resp);
void h_admin_bank_settings(struct http_request *req, struct http_response *resp);
/* The app store (docs/api.md §2.3 "App store"). */
void h_admin_store_upload(struct http_request *req, struct http_response *resp);
void h_admin_store_packages(struct http_request *req, struct http_response *resp);
void h_admin_store_withdraw(struct http_request *req, struct http_response *resp);
void h_store_download(struct http_request *req, struct http_response *resp);
/* Device management (h_admin_mdm*.c). */
void h_admin_mdm_policy(struct http_request *req, struct http_response *resp);
void h_admin_mdm_policy_set(struct http_request *req, struct http_response *resp);
void h_admin_mdm_devices(struct http_request *req, struct http_response *resp);
void h_admin_mdm_command(struct http_request *req, struct http_response *resp);
void h_admin_mdm_commands(struct http_request *req, struct http_response *resp);

/* The platform's routes, in match order. */
const struct http_route *routes_table(size_t *n);

#endif
