/* Shared by the business transactions (business/biz.h). */
#include "business/biz.h"

#include "channel/zy1.h"

#include <inttypes.h>
#include <stdio.h>

void biz_actor(const struct tx_ctx *c, char out[AUDIT_ACTOR_MAX + 1])
{
    snprintf(out, AUDIT_ACTOR_MAX + 1, "dev:%s", c->dev ? c->dev : "");
}

void biz_target(char *out, size_t cap, const char *kind, int64_t id)
{
    snprintf(out, cap, "%s:%" PRId64, kind, id);
}

void biz_drop(json_t *j)
{
    if (j) {
        zy1_json_wipe(j);
        json_decref(j);
    }
}
