/* attach_limit — a bank's own limit on the size of one attachment (the
 * content of ATTACH_BEGIN / ATTACH_END, attach.h), kept in the bank's
 * shard so that it moves with the bank:
 *
 *   bank_settings  (bank_id) key (migration 18, src/data/migrations.c): one
 *                  row per bank that has a setting of its own;
 *                  attach_max_bytes (NULL: none, the deployment's
 *                  [business] attach_max_bytes applies), who set it
 *                  (actor) and when (updated_at, Unix ms).
 *
 * Set by a bank administrator (or the province) through the management
 * API (PUT /api/v1/admin/banks/settings, http/h_admin_org.c) or the CLI
 * (`zhanye bank set --code C --attach-max-bytes N`), both through
 * attach_limit_set in a write transaction on the bank's shard, audited
 * there (bank.settings_changed, target "bank:<id>", detail the old and the
 * new limit; 0 / null: none).
 *
 * Every function works through a tenant scope (data/tenant.h): the bank is
 * the scope's. Returns AL_OK, AL_NONE (no limit of the bank's own) or a
 * negative store status; attach_limit_set also ID_BAD_INPUT for a limit
 * other than 0 or ATTACH_LIMIT_MIN..ATTACH_LIMIT_MAX, and an audit status. */
#ifndef ZHANYE_ATTACH_LIMIT_H
#define ZHANYE_ATTACH_LIMIT_H

#include "data/tenant.h"

#include <stdint.h>

enum { AL_OK = 0, AL_NONE = 1 };

/* The limits a bank may set: those of [business] attach_max_bytes
 * (ATTACH_END holds one content in memory while it checks it). */
#define ATTACH_LIMIT_MIN 1024LL
#define ATTACH_LIMIT_MAX (64LL * 1024 * 1024)

/* The bank's own limit into *max_bytes, or AL_NONE. */
int attach_limit_get(struct tenant_conn *tc, int64_t *max_bytes);

/* Sets the bank's limit to max_bytes (ATTACH_LIMIT_MIN..MAX), or with 0
 * removes it (the deployment's applies again); audited as actor. Inside
 * the caller's write transaction. */
int attach_limit_set(struct tenant_conn *tc, const char *actor, int64_t max_bytes, int64_t now);

#endif
