/* mdm_ack.c — DEVICE_COMMAND_ACK; see mdm_ack.h. */
#include "business/mdm_ack.h"

#include "business/biz.h"
#include "business/mdm_command.h"
#include "foundation/clock.h"
#include "identity/audit.h"

#include <string.h>

static enum tx_result tx_ack(struct tx_ctx *c)
{
    const char *result = json_string_value(json_object_get(c->in, "result"));
    const char *reason = json_string_value(json_object_get(c->in, "reason"));
    json_int_t id = json_integer_value(json_object_get(c->in, "id"));
    char actor[AUDIT_ACTOR_MAX + 1], kind[MDMC_KIND_MAX + 1], state[MDMC_STATE_MAX + 1];
    bool again = false;
    if (strcmp(result, "done") != 0 && strcmp(result, "failed") != 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.result: 应为 done 或 failed");
        return TX_COMMIT;
    }
    biz_actor(c, actor);
    bool done = strcmp(result, "done") == 0;
    int rc = mdm_command_ack(c->tenant, c->dev, id, done, reason, actor, clock_wall_ms(), kind,
                             state, &again);
    switch (rc) {
    case MDMC_OK:
        json_object_set_new(c->out, "id", json_integer(id));
        json_object_set_new(c->out, "kind", json_string(kind));
        json_object_set_new(c->out, "state", json_string(state));
        if (done && !again && strcmp(kind, "unbind") == 0)
            c->after = TX_AFTER_UNBIND;
        return TX_COMMIT;
    case MDMC_NOT_FOUND:
        tx_fail(c, ZE_NOT_FOUND);
        return TX_COMMIT;
    case MDMC_CLOSED:
        tx_failf(c, ZE_CONFLICT, "该指令已%s，不能再确认",
                 strcmp(state, "expired") == 0 ? "过期" : "确认过");
        json_object_set_new(c->out, "state", json_string(state));
        return TX_COMMIT;
    case MDMC_INVALID:
        tx_failf(c, ZE_BAD_REQUEST, "data.id 或 data.reason 不合法");
        return TX_COMMIT;
    default:
        return TX_ROLLBACK;
    }
}

static const struct tx_field F_ACK[] = {
    {.name = "id", .type = TXF_INT, .required = true},
    {.name = "result", .type = TXF_STRING, .required = true, .max = 8},
    {.name = "reason", .type = TXF_STRING, .max = MDMC_REASON_MAX},
};

/* mdm_open: a device the gate refuses must still be able to acknowledge. */
const struct tx_def TX_DEVICE_COMMAND_ACK = {.code = "DEVICE_COMMAND_ACK",
                                             .fn = tx_ack,
                                             .needs_session = true,
                                             .bank_data = true,
                                             .mdm_open = true,
                                             .fields = F_ACK,
                                             .nfields = sizeof F_ACK / sizeof F_ACK[0]};
