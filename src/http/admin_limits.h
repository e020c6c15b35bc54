/* admin_limits — what the console's limit editors share (h_admin_flow.c's
 * flow rules, h_admin_egress.c's downstream limits): the limits in force
 * with the source of each value, and setting or removing the console's
 * overrides of them (app/overrides.h). Province admins only (others 403
 * forbidden). Every change is validated exactly as zhanye.conf's values
 * (config_named_set: a bad value is 400 bad_request naming the member),
 * stored with its audit record in one transaction (event flow.rule_changed
 * or egress.limits_changed, target the rule or system, detail {"old":{..},
 * "new":{..}}), then applied on this node at once (app_overrides_apply: the
 * flow reload path, all-or-nothing) and on the other nodes by their poller
 * within OVERRIDES_POLL_MS. Should the apply fail after the commit (e.g.
 * the process's rule table is full) the answer is 500 reload_failed with the
 * reason; the running limits stay as they were. */
#ifndef ZHANYE_HTTP_ADMIN_LIMITS_H
#define ZHANYE_HTTP_ADMIN_LIMITS_H

#include "http/server.h"

/* area: "flow" (member naming the section: "tx") or "egress" ("system"). */
void admin_limits_get(struct http_request *req, struct http_response *resp, const char *area);
void admin_limits_set(struct http_request *req, struct http_response *resp, const char *area);
/* {NAME_MEMBER, "keys"?: [..]}: removes the console's overrides of those keys
 * (all when absent); the section's values come from zhanye.conf again. */
void admin_limits_reset(struct http_request *req, struct http_response *resp, const char *area);

#endif
