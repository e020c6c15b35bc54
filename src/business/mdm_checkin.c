/* mdm_checkin.c — DEVICE_CHECKIN; see mdm_checkin.h. */
#include "business/mdm_checkin.h"

#include "business/biz.h"
#include "business/mdm_command.h"
#include "business/mdm_device.h"
#include "business/mdm_eval.h"
#include "business/mdm_policy.h"
#include "foundation/clock.h"
#include "identity/audit.h"

static json_t *rules_of(const json_t *violations)
{
    json_t *rules = json_array();
    size_t i;
    const json_t *v;
    json_array_foreach(violations, i, v)
    {
        if (rules && json_array_append(rules, json_object_get(v, "rule")) != 0) {
            json_decref(rules);
            return NULL;
        }
    }
    return rules;
}

static enum tx_result tx_checkin(struct tx_ctx *c)
{
    json_t *policy = NULL, *violations = NULL, *rules = NULL, *commands = NULL;
    bool lock = false;
    int64_t version = 0;
    char actor[AUDIT_ACTOR_MAX + 1];
    enum tx_result res = TX_ROLLBACK;
    if (mdm_policy_get(c->tenant, c->branch_id, &policy, &version) != MDM_OK)
        goto out;
    violations = mdm_evaluate(policy, c->in);
    if (!violations || !(rules = rules_of(violations)) ||
        mdm_verdict_put(c->tenant, c->dev, violations, version, clock_wall_ms()) != MDM_OK ||
        mdm_device_facts_put(c->tenant, c->dev, json_string_value(json_object_get(c->in, "os")),
                             json_string_value(json_object_get(c->in, "app_version"))) != MDM_OK)
        goto out;
    bool compliant = json_array_size(violations) == 0;
    biz_actor(c, actor);
    if (audit_tenantf(c->tenant, actor, "mdm.checkin", c->dev, "{s:b, s:I, s:O}", "compliant",
                      compliant, "policy_version", (json_int_t)version, "violations",
                      rules) != ID_OK)
        goto out;
    if (mdm_command_deliver(c->tenant, c->dev, actor, clock_wall_ms(), &commands, &lock) != MDMC_OK)
        goto out;
    if (lock) /* its sessions end once this commits: the teller logs in again */
        c->after = TX_AFTER_LOCK;
    json_object_set_new(c->out, "compliant", json_boolean(compliant));
    json_object_set(c->out, "violations", violations);
    json_object_set(c->out, "policy", policy);
    json_object_set_new(c->out, "policy_version", json_integer(version));
    json_object_set_new(c->out, "commands", commands);
    commands = NULL;
    res = TX_COMMIT;
out:
    json_decref(policy);
    json_decref(violations);
    json_decref(rules);
    return res;
}

static const struct tx_field F_CHECKIN[] = {
    {.name = "os", .type = TXF_STRING, .required = true, .max = 64},
    {.name = "app_version", .type = TXF_STRING, .required = true, .max = 32},
    {.name = "apps", .type = TXF_ARRAY, .max = 500},
    {.name = "security", .type = TXF_OBJECT, .required = true},
    {.name = "network", .type = TXF_OBJECT},
    {.name = "position", .type = TXF_OBJECT},
};

/* mdm_open: the MDM gate (mdm_policy.h) never refuses it. */
const struct tx_def TX_DEVICE_CHECKIN = {.code = "DEVICE_CHECKIN",
                                         .fn = tx_checkin,
                                         .needs_session = true,
                                         .bank_data = true,
                                         .mdm_open = true,
                                         .fields = F_CHECKIN,
                                         .nfields = sizeof F_CHECKIN / sizeof F_CHECKIN[0]};
