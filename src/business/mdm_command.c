/* mdm_command.c — the command queue of managed devices; see mdm_command.h. */
#include "business/mdm_command.h"

#include "identity/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const KINDS[] = {"lock", "wipe", "refresh_policy", "update_app", "unbind"};

bool mdm_command_kind_valid(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(kind, KINDS[i]) == 0)
            return true;
    return false;
}

static void target_of(char out[32], int64_t id)
{
    snprintf(out, 32, "mdm_command:%lld", (long long)id);
}

static int audit_state(struct tenant_conn *t, const char *actor, const char *event, int64_t id,
                       const char *dev, const char *kind, const char *reason)
{
    char target[32];
    target_of(target, id);
    return audit_tenantf(t, actor, event, target, "{s:s, s:s, s:s}", "dev", dev, "kind", kind,
                         "reason", reason ? reason : "") == ID_OK
               ? MDMC_OK
               : MDMC_ERR;
}

/* Sets id's state (and delivered_at when delivered, else closed_at; reason),
 * from an open state. */
static int set_state(struct tenant_conn *t, int64_t id, const char *state, bool delivered,
                     const char *reason, int64_t now_ms)
{
    struct tenant_stmt *s = NULL;
    const char *sql = delivered
                          ? "UPDATE mdm_commands SET state = ?, reason = ?, delivered_at = ? WHERE "
                            "bank_id = ? AND id = ? AND state IN ('queued', 'delivered')"
                          : "UPDATE mdm_commands SET state = ?, reason = ?, closed_at = ? WHERE "
                            "bank_id = ? AND id = ? AND state IN ('queued', 'delivered')";
    int rc = tenant_prepare(t, sql, &s);
    if (rc == STORE_OK && tenant_bind_text(s, 1, state) == STORE_OK &&
        tenant_bind_text(s, 2, reason ? reason : "") == STORE_OK &&
        tenant_bind_int64(s, 3, now_ms) == STORE_OK && tenant_bind_int64(s, 5, id) == STORE_OK &&
        tenant_step(s) == STORE_DONE) {
        tenant_finish(s);
        return MDMC_OK;
    }
    if (s)
        tenant_finish(s);
    return MDMC_ERR;
}

/* One open command of a device, as read for a state change. */
struct open_cmd {
    int64_t id;
    char kind[MDMC_KIND_MAX + 1];
    int64_t expires_at;
    char *args; /* malloc'd */
};

struct open_list {
    struct open_cmd *v;
    size_t n;
};

static void open_list_free(struct open_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].args);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* dev's commands in state (queued, or queued and delivered when both). */
static int open_of(struct tenant_conn *t, const char *dev, bool with_delivered, struct open_list *l)
{
    struct tenant_stmt *s = NULL;
    const char *sql = with_delivered
                          ? "SELECT id, kind, expires_at, args FROM mdm_commands WHERE bank_id = "
                            "? AND dev = ? AND state IN ('queued', 'delivered') ORDER BY id"
                          : "SELECT id, kind, expires_at, args FROM mdm_commands WHERE bank_id = "
                            "? AND dev = ? AND state = 'queued' ORDER BY id";
    l->v = NULL;
    l->n = 0;
    if (tenant_prepare(t, sql, &s) != STORE_OK || tenant_bind_text(s, 2, dev) != STORE_OK) {
        if (s)
            tenant_finish(s);
        return MDMC_ERR;
    }
    int rc;
    while ((rc = tenant_step(s)) == STORE_ROW) {
        struct open_cmd *v = realloc(l->v, (l->n + 1) * sizeof *v);
        if (!v)
            break;
        l->v = v;
        struct open_cmd *o = &v[l->n++];
        o->id = tenant_col_int64(s, 0);
        snprintf(o->kind, sizeof o->kind, "%s", tenant_col_text(s, 1) ? tenant_col_text(s, 1) : "");
        o->expires_at = tenant_col_int64(s, 2);
        const char *a = tenant_col_text(s, 3);
        o->args = strdup(a ? a : "{}");
        if (!o->args)
            break;
    }
    tenant_finish(s);
    if (rc != STORE_DONE) {
        open_list_free(l);
        return MDMC_ERR;
    }
    return MDMC_OK;
}

/* Writes (and audits) the expiry of dev's open commands past expires_at. */
static int expire_due(struct tenant_conn *t, const char *dev, int64_t now_ms)
{
    struct open_list l;
    if (open_of(t, dev, true, &l) != MDMC_OK)
        return MDMC_ERR;
    int rc = MDMC_OK;
    for (size_t i = 0; rc == MDMC_OK && i < l.n; i++)
        if (l.v[i].expires_at <= now_ms) {
            rc = set_state(t, l.v[i].id, "expired", false, "", now_ms);
            if (rc == MDMC_OK)
                rc = audit_state(t, "system", "mdm.command_expired", l.v[i].id, dev, l.v[i].kind,
                                 NULL);
        }
    open_list_free(&l);
    return rc;
}

static int next_id(struct tenant_conn *t, int64_t *id)
{
    struct tenant_stmt *s = NULL;
    int rc = tenant_prepare(
        t, "SELECT COALESCE(MAX(id), 0) + 1 FROM mdm_commands WHERE bank_id = ?", &s);
    if (rc == STORE_OK && tenant_step(s) == STORE_ROW) {
        *id = tenant_col_int64(s, 0);
        tenant_finish(s);
        return MDMC_OK;
    }
    if (s)
        tenant_finish(s);
    return MDMC_ERR;
}

int mdm_command_queue(struct tenant_conn *t, const char *dev, int64_t branch_id, const char *kind,
                      const json_t *args, int64_t ttl_s, const char *actor, int64_t now_ms,
                      int64_t *id)
{
    if (!dev || !dev[0] || strlen(dev) > 32 || !mdm_command_kind_valid(kind) ||
        (args && !json_is_object(args)) || ttl_s < 0 || ttl_s > MDMC_TTL_MAX_S || branch_id < 0)
        return MDMC_INVALID;
    if (ttl_s == 0)
        ttl_s = MDMC_TTL_DEFAULT_S;
    char *text = args ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    struct tenant_stmt *s = NULL;
    int rc = MDMC_ERR;
    if (!text || strlen(text) > 2000) {
        rc = text ? MDMC_INVALID : MDMC_ERR;
        goto out;
    }
    if (expire_due(t, dev, now_ms) != MDMC_OK || next_id(t, id) != MDMC_OK)
        goto out;
    if (tenant_prepare(t,
                       "INSERT INTO mdm_commands (bank_id, id, branch_id, dev, kind, args, state, "
                       "reason, actor, created_at, expires_at, delivered_at, closed_at) VALUES "
                       "(?, ?, ?, ?, ?, ?, 'queued', '', ?, ?, ?, 0, 0)",
                       &s) != STORE_OK ||
        tenant_bind_int64(s, 2, *id) != STORE_OK ||
        tenant_bind_int64(s, 3, branch_id) != STORE_OK || tenant_bind_text(s, 4, dev) != STORE_OK ||
        tenant_bind_text(s, 5, kind) != STORE_OK || tenant_bind_text(s, 6, text) != STORE_OK ||
        tenant_bind_text(s, 7, actor) != STORE_OK || tenant_bind_int64(s, 8, now_ms) != STORE_OK ||
        tenant_bind_int64(s, 9, now_ms + ttl_s * 1000) != STORE_OK || tenant_step(s) != STORE_DONE)
        goto out;
    char target[32];
    target_of(target, *id);
    if (audit_tenantf(t, actor, "mdm.command_queued", target, "{s:s, s:s, s:I}", "dev", dev, "kind",
                      kind, "ttl_s", (json_int_t)ttl_s) != ID_OK)
        goto out;
    rc = MDMC_OK;
out:
    if (s)
        tenant_finish(s);
    free(text);
    return rc;
}

int mdm_command_deliver(struct tenant_conn *t, const char *dev, const char *actor, int64_t now_ms,
                        json_t **out, bool *lock)
{
    struct open_list l = {0};
    *out = json_array();
    *lock = false;
    int rc = *out ? expire_due(t, dev, now_ms) : MDMC_ERR;
    if (rc == MDMC_OK)
        rc = open_of(t, dev, false, &l);
    for (size_t i = 0; rc == MDMC_OK && i < l.n; i++) {
        const struct open_cmd *o = &l.v[i];
        json_t *args = json_loads(o->args, 0, NULL);
        rc = set_state(t, o->id, "delivered", true, "", now_ms);
        if (rc == MDMC_OK)
            rc = audit_state(t, actor, "mdm.command_delivered", o->id, dev, o->kind, NULL);
        if (rc == MDMC_OK &&
            json_array_append_new(*out,
                                  json_pack("{s:I, s:s, s:o, s:I}", "id", (json_int_t)o->id, "kind",
                                            o->kind, "args", args ? args : json_object(),
                                            "expires_at", (json_int_t)o->expires_at)) != 0)
            rc = MDMC_ERR;
        else if (rc != MDMC_OK)
            json_decref(args);
        if (strcmp(o->kind, "lock") == 0)
            *lock = true;
    }
    open_list_free(&l);
    if (rc != MDMC_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int mdm_command_ack(struct tenant_conn *t, const char *dev, int64_t id, bool done,
                    const char *reason, const char *actor, int64_t now_ms,
                    char kind[MDMC_KIND_MAX + 1], char state[MDMC_STATE_MAX + 1], bool *again)
{
    struct tenant_stmt *s = NULL;
    *again = false;
    kind[0] = state[0] = '\0';
    if (!reason)
        reason = "";
    if (strlen(reason) > MDMC_REASON_MAX || id <= 0)
        return MDMC_INVALID;
    if (expire_due(t, dev, now_ms) != MDMC_OK)
        return MDMC_ERR;
    if (tenant_prepare(t,
                       "SELECT kind, state FROM mdm_commands WHERE bank_id = ? AND id = ? AND "
                       "dev = ?",
                       &s) != STORE_OK ||
        tenant_bind_int64(s, 2, id) != STORE_OK || tenant_bind_text(s, 3, dev) != STORE_OK) {
        if (s)
            tenant_finish(s);
        return MDMC_ERR;
    }
    int rc = tenant_step(s);
    if (rc == STORE_ROW) {
        snprintf(kind, MDMC_KIND_MAX + 1, "%s", tenant_col_text(s, 0) ? tenant_col_text(s, 0) : "");
        snprintf(state, MDMC_STATE_MAX + 1, "%s",
                 tenant_col_text(s, 1) ? tenant_col_text(s, 1) : "");
    }
    tenant_finish(s);
    if (rc == STORE_DONE)
        return MDMC_NOT_FOUND;
    if (rc != STORE_ROW)
        return MDMC_ERR;
    const char *to = done ? "done" : "failed";
    if (strcmp(state, to) == 0) {
        *again = true;
        return MDMC_OK;
    }
    if (strcmp(state, "queued") != 0 && strcmp(state, "delivered") != 0)
        return MDMC_CLOSED;
    if (set_state(t, id, to, false, done ? "" : reason, now_ms) != MDMC_OK ||
        audit_state(t, actor, done ? "mdm.command_done" : "mdm.command_failed", id, dev, kind,
                    done ? NULL : reason) != MDMC_OK)
        return MDMC_ERR;
    snprintf(state, MDMC_STATE_MAX + 1, "%s", to);
    return MDMC_OK;
}

static json_t *row_json(struct tenant_stmt *s, int64_t now_ms)
{
    const char *state = tenant_col_text(s, 5);
    int64_t expires = tenant_col_int64(s, 9);
    if (state && (strcmp(state, "queued") == 0 || strcmp(state, "delivered") == 0) &&
        expires <= now_ms)
        state = "expired";
    const char *a = tenant_col_text(s, 4);
    json_t *args = json_loads(a ? a : "{}", 0, NULL);
    return json_pack(
        "{s:I, s:s, s:I, s:s, s:o, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "id",
        (json_int_t)tenant_col_int64(s, 0), "dev",
        tenant_col_text(s, 1) ? tenant_col_text(s, 1) : "", "branch_id",
        (json_int_t)tenant_col_int64(s, 2), "kind",
        tenant_col_text(s, 3) ? tenant_col_text(s, 3) : "", "args", args ? args : json_object(),
        "state", state ? state : "", "reason", tenant_col_text(s, 6) ? tenant_col_text(s, 6) : "",
        "actor", tenant_col_text(s, 7) ? tenant_col_text(s, 7) : "", "created_at",
        (json_int_t)tenant_col_int64(s, 8), "expires_at", (json_int_t)expires, "delivered_at",
        (json_int_t)tenant_col_int64(s, 10), "closed_at", (json_int_t)tenant_col_int64(s, 11));
}

int mdm_command_list(struct tenant_conn *t, const char *dev, int64_t branch_id, int64_t now_ms,
                     int limit, json_t **out)
{
    char sql[512];
    struct tenant_stmt *s = NULL;
    int idx = 2;
    snprintf(sql, sizeof sql,
             "SELECT id, dev, branch_id, kind, args, state, reason, actor, created_at, "
             "expires_at, delivered_at, closed_at FROM mdm_commands WHERE bank_id = ?%s%s "
             "ORDER BY id DESC LIMIT ?",
             dev ? " AND dev = ?" : "", branch_id > 0 ? " AND branch_id = ?" : "");
    *out = json_array();
    if (limit < 1 || limit > 500)
        limit = 500;
    if (!*out || tenant_prepare(t, sql, &s) != STORE_OK ||
        (dev && tenant_bind_text(s, idx++, dev) != STORE_OK) ||
        (branch_id > 0 && tenant_bind_int64(s, idx++, branch_id) != STORE_OK) ||
        tenant_bind_int64(s, idx, limit) != STORE_OK)
        goto fail;
    int rc;
    while ((rc = tenant_step(s)) == STORE_ROW)
        if (json_array_append_new(*out, row_json(s, now_ms)) != 0)
            goto fail;
    if (rc != STORE_DONE)
        goto fail;
    tenant_finish(s);
    return MDMC_OK;
fail:
    if (s)
        tenant_finish(s);
    json_decref(*out);
    *out = NULL;
    return MDMC_ERR;
}
