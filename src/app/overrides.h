/* overrides — limits changed from the management console over zhanye.conf:
 * a flow rule's keys ([flow.TX]) and the live limits of a downstream system
 * ([egress.SYSTEM]: max_concurrent, queue, max_wait_ms, call_timeout_ms).
 *
 * They live in the directory database (table console_overrides, migration
 * 20), so they survive a restart and reach every node: each serving node
 * polls the table every OVERRIDES_POLL_MS and applies a change it has not
 * applied yet. The effective value of a key is the console's override, else
 * zhanye.conf's (its own section, then [flow.default] for flow), else the
 * built-in default. Values are validated exactly as zhanye.conf's
 * (config_named_set). Applying re-reads zhanye.conf, lays the overrides
 * over it and swaps in the flow rules through flow_reload() (all-or-nothing,
 * nothing queued or running is dropped; access/flow.h RELOAD) and sets every
 * system's live limits (egress_set_limits); SIGHUP and the reload endpoint go
 * the same way, so a file reload keeps the console's overrides. At start an
 * override set that cannot be applied is logged and skipped (the file's
 * rules run): a bad row must never keep the server from starting. */
#ifndef ZHANYE_APP_OVERRIDES_H
#define ZHANYE_APP_OVERRIDES_H

#include "data/store.h"
#include "foundation/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app;

#define OVERRIDES_POLL_MS 2000
#define OVERRIDES_MAX 1024 /* rows applied at most (a refusal beyond) */

/* True when key of area ("flow" or "egress") may be changed from the console. */
bool overrides_key_live(const char *area, const char *key);
/* The keys that may be changed, NULL-terminated. */
const char *const *overrides_keys(const char *area);

/* The overrides as {"flow":{NAME:{KEY:{"value","actor","updated_at"}}},
 * "egress":{...}} (a new reference), read on c. NULL on a database error
 * (*rc the store status). */
json_t *overrides_read(struct store_conn *c, int *rc);

/* In the caller's transaction: sets (value non-NULL) or removes (value
 * NULL; key NULL: every key of name) overrides. STORE_OK or a store status. */
int overrides_put(struct store_conn *c, const char *area, const char *name, const char *key,
                  const char *value, const char *actor);
int overrides_remove(struct store_conn *c, const char *area, const char *name, const char *key);

/* Lays ovr (as overrides_read gives it; may be NULL) over cfg, validating
 * every value. 0, or -1 with err naming the section and key. */
int overrides_lay(struct config *cfg, json_t *ovr, char *err, size_t errcap);

/* Reads the overrides and applies them with zhanye.conf (see above), on this
 * node. 0, or -1 with err and the running rules unchanged. */
int app_overrides_apply(struct app *a, char *err, size_t errcap);
/* The poller of the serving process (app_flow_open starts it, app_close
 * stops it). */
int app_overrides_watch(struct app *a);
void app_overrides_unwatch(struct app *a);

#endif
