#include "http/admin_limits.h"

#include "access/flow.h"
#include "app/app.h"
#include "app/overrides.h"
#include "data/tenant.h"
#include "foundation/log.h"
#include "http/admin.h"
#include "identity/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct tx_field F_FLOW[] = {
    {"tx", TXF_STRING, true, 39},         {"rate", TXF_INT, false, 0},
    {"burst", TXF_INT, false, 0},         {"max_concurrent", TXF_INT, false, 0},
    {"queue", TXF_INT, false, 0},         {"max_wait_ms", TXF_INT, false, 0},
    {"per_addr_rate", TXF_INT, false, 0}, {"per_addr_burst", TXF_INT, false, 0},
    {"scope", TXF_STRING, false, 8},
};

static const struct tx_field F_EGRESS[] = {
    {"system", TXF_STRING, true, 39},       {"max_concurrent", TXF_INT, false, 0},
    {"queue", TXF_INT, false, 0},           {"max_wait_ms", TXF_INT, false, 0},
    {"call_timeout_ms", TXF_INT, false, 0},
};

static const struct tx_field F_FLOW_RESET[] = {
    {"tx", TXF_STRING, true, 39},
    {"keys", TXF_ARRAY, false, 16},
};

static const struct tx_field F_EGRESS_RESET[] = {
    {"system", TXF_STRING, true, 39},
    {"keys", TXF_ARRAY, false, 16},
};

static bool is_flow(const char *area)
{
    return strcmp(area, "flow") == 0;
}

static const char *member(const char *area)
{
    return is_flow(area) ? "tx" : "system";
}

/* [area.name] sets key in the file itself. */
static bool file_has(const struct config *file, const char *area, const char *name, const char *key)
{
    for (int i = 0; i < file->nnamed; i++) {
        const struct config_named *s = &file->named[i];
        if (strcmp(s->area, area) != 0 || strcmp(s->name, name) != 0)
            continue;
        for (int j = 0; j < CONFIG_NAMED_KEYS && s->keys[j]; j++)
            if (strcmp(s->keys[j], key) == 0)
                return true;
    }
    return false;
}

static const char *source(json_t *ovr, const struct config *file, const char *area,
                          const char *name, const char *key)
{
    if (json_object_get(json_object_get(json_object_get(ovr, area), name), key))
        return "console";
    if (file_has(file, area, name, key))
        return "zhanye.conf";
    if (is_flow(area) && strcmp(name, "ADMIN_LOGIN") != 0 && file_has(file, "flow", "default", key))
        return "zhanye.conf";
    return "built-in";
}

/* The values in force: flow's from flow_stats (what the rules run with),
 * egress's from the effective configuration (what egress_set_limits got). */
static json_t *values_of(struct app *a, const struct config *eff, const char *area,
                         const char *name)
{
    if (is_flow(area)) {
        struct flow_stats st;
        if (!a->flow || flow_stats(a->flow, name, &st) != 0)
            return NULL;
        const char *scope = config_named_get(eff, "flow", name, "scope");
        return json_pack(
            "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s}", "rate", (json_int_t)st.rate, "burst",
            (json_int_t)st.burst, "max_concurrent", (json_int_t)st.max_concurrent, "queue",
            (json_int_t)st.queue, "max_wait_ms", (json_int_t)st.max_wait_ms, "per_addr_rate",
            (json_int_t)st.per_addr_rate, "per_addr_burst", (json_int_t)st.per_addr_burst, "scope",
            scope ? scope : "cluster", "rule", st.rule);
    }
    json_t *v = json_object();
    for (const char *const *k = overrides_keys(area); *k; k++) {
        const char *s = config_named_get(eff, "egress", name, *k);
        json_object_set_new(v, *k, json_integer(s ? atoll(s) : 0));
    }
    return v;
}

/* Names shown: for flow the fixed rules, the file's sections and the
 * console's; for egress the systems this process runs (from its start). */
static json_t *names_of(struct app *a, const struct config *eff, const char *area)
{
    json_t *names = json_array();
    if (is_flow(area)) {
        static const char *const FIXED[] = {"default", "LOGIN", "LOGOUT", "ADMIN_LOGIN"};
        for (size_t i = 0; i < sizeof FIXED / sizeof FIXED[0]; i++)
            json_array_append_new(names, json_string(FIXED[i]));
    }
    const struct config *from = is_flow(area) ? eff : &a->cfg;
    for (int i = 0; i < from->nnamed; i++) {
        if (strcmp(from->named[i].area, area) != 0)
            continue;
        bool dup = false;
        size_t j;
        json_t *n;
        json_array_foreach(names, j, n) dup |=
            strcmp(json_string_value(n), from->named[i].name) == 0;
        if (!dup)
            json_array_append_new(names, json_string(from->named[i].name));
    }
    return names;
}

/* Loads zhanye.conf and, in eff, lays the overrides over it. */
static int load_configs(struct app *a, json_t *ovr, struct config *file, struct config *eff,
                        char *err, size_t errcap)
{
    if (config_load(file, a->cfg.data_dir, a->cfg.file, err, errcap) != 0)
        return -1;
    if (config_load(eff, a->cfg.data_dir, a->cfg.file, err, errcap) != 0) {
        config_free(file);
        return -1;
    }
    if (overrides_lay(eff, ovr, err, errcap) != 0) {
        config_free(file);
        config_free(eff);
        return -1;
    }
    return 0;
}

/* {"flow"|"egress": [{name, values, source, overrides}], "keys": [..]} */
static json_t *listing(struct admin_req *ar, const char *area, char *err, size_t errcap)
{
    int rc;
    json_t *ovr = overrides_read(ar->conn, &rc);
    if (!ovr) {
        snprintf(err, errcap, "read overrides: %s", store_rc_name(rc));
        return NULL;
    }
    struct config *file = malloc(sizeof *file), *eff = malloc(sizeof *eff);
    json_t *out = NULL;
    if (file && eff && load_configs(ar->app, ovr, file, eff, err, errcap) == 0) {
        json_t *list = json_array(), *keys = json_array();
        for (const char *const *k = overrides_keys(area); *k; k++)
            json_array_append_new(keys, json_string(*k));
        json_t *names = names_of(ar->app, eff, area);
        size_t i;
        json_t *n;
        json_array_foreach(names, i, n)
        {
            const char *name = json_string_value(n);
            json_t *values = values_of(ar->app, eff, area, name);
            if (!values)
                continue;
            json_t *src = json_object();
            for (const char *const *k = overrides_keys(area); *k; k++)
                json_object_set_new(src, *k, json_string(source(ovr, file, area, name, *k)));
            json_t *o = json_object_get(json_object_get(ovr, area), name);
            json_array_append_new(list, json_pack("{s:s,s:o,s:o,s:o}", member(area), name, "values",
                                                  values, "source", src, "overrides",
                                                  o ? json_incref(o) : json_object()));
        }
        json_decref(names);
        out = json_pack("{s:o,s:o,s:i}", is_flow(area) ? "rules" : "systems", list, "keys", keys,
                        "poll_ms", OVERRIDES_POLL_MS);
        config_free(file);
        config_free(eff);
    }
    free(file);
    free(eff);
    json_decref(ovr);
    return out;
}

static bool province_only(struct admin_req *ar)
{
    if (ar->who.role == ROLE_PROVINCE_ADMIN)
        return true;
    admin_forbidden(ar);
    return false;
}

void admin_limits_get(struct http_request *req, struct http_response *resp, const char *area)
{
    struct admin_req ar;
    char err[256] = "";
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (province_only(&ar)) {
        json_t *out = listing(&ar, area, err, sizeof err);
        if (out)
            http_json(resp, 200, out);
        else
            http_error_ex(resp, ZE_RELOAD_FAILED, NULL, json_pack("{s:s}", "detail", err));
    }
    admin_close(&ar);
}

/* ---- writes ------------------------------------------------------------------ */

struct change {
    const char *area, *name, *actor;
    json_t *set;   /* key -> string value (set), or NULL */
    json_t *reset; /* keys removed (array), or NULL with set NULL: all */
    json_t *old;   /* key -> the value in force before */
};

static int change_txn(struct store_conn *c, void *arg)
{
    const struct change *ch = arg;
    int rc = STORE_OK;
    const char *key;
    json_t *v;
    if (ch->set) {
        json_object_foreach(ch->set, key, v)
        {
            if (rc == STORE_OK)
                rc = overrides_put(c, ch->area, ch->name, key, json_string_value(v), ch->actor);
        }
    } else if (ch->reset) {
        size_t i;
        json_array_foreach(ch->reset, i, v)
        {
            if (rc == STORE_OK)
                rc = overrides_remove(c, ch->area, ch->name, json_string_value(v));
        }
    } else {
        rc = overrides_remove(c, ch->area, ch->name, NULL);
    }
    if (rc != STORE_OK)
        return rc;
    json_t *newv = ch->set ? json_incref(ch->set) : json_null();
    rc = audit_appendf(c, 0, ch->actor,
                       is_flow(ch->area) ? "flow.rule_changed" : "egress.limits_changed", ch->name,
                       "{s:O,s:o,s:b}", "old", ch->old, "new", newv, "reset", ch->set == NULL);
    return rc;
}

/* The values in force for name now (before the change), or an empty object. */
static json_t *old_values(struct admin_req *ar, const char *area, const char *name)
{
    char err[256];
    json_t *all = listing(ar, area, err, sizeof err), *old = NULL;
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(all, is_flow(area) ? "rules" : "systems"), i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, member(area))), name) == 0)
            old = json_incref(json_object_get(row, "values"));
    }
    json_decref(all);
    return old ? old : json_object();
}

/* Applies after the commit and answers with the listing. */
static void apply_and_answer(struct admin_req *ar, const char *area)
{
    char err[256] = "";
    if (app_overrides_apply(ar->app, err, sizeof err) != 0) {
        log_warn("admin.limits", "a console change was stored but not applied: %s", err);
        http_error_ex(ar->resp, ZE_RELOAD_FAILED, NULL, json_pack("{s:s}", "detail", err));
        return;
    }
    json_t *out = listing(ar, area, err, sizeof err);
    if (out)
        http_json(ar->resp, 200, out);
    else
        http_error_ex(ar->resp, ZE_RELOAD_FAILED, NULL, json_pack("{s:s}", "detail", err));
}

static bool known_system(struct app *a, const char *name)
{
    for (int i = 0; i < a->cfg.nnamed; i++)
        if (strcmp(a->cfg.named[i].area, "egress") == 0 && strcmp(a->cfg.named[i].name, name) == 0)
            return true;
    return false;
}

/* The section named in the body: a name zhanye.conf would take (flow), a
 * system this process runs (egress: else 404). false with the answer set. */
static bool section_ok(struct admin_req *ar, const char *area, const char *name)
{
    if (!is_flow(area) && !known_system(ar->app, name)) {
        http_error(ar->resp, ZE_NOT_FOUND, "没有这个下游系统");
        return false;
    }
    struct config scratch;
    char err[256];
    config_defaults(&scratch, ar->app->cfg.data_dir);
    bool ok = config_named_set(&scratch, area, name, is_flow(area) ? "rate" : "queue", "1", err,
                               sizeof err) == 0;
    config_free(&scratch);
    if (!ok)
        http_error_ex(ar->resp, ZE_BAD_REQUEST,
                      is_flow(area) ? "tx：交易码格式不正确" : "system：名称格式不正确",
                      json_pack("{s:s,s:s}", "member", member(area), "detail", err));
    return ok;
}

void admin_limits_set(struct http_request *req, struct http_response *resp, const char *area)
{
    struct admin_req ar;
    bool flow = is_flow(area);
    if (!admin_open(req, resp, ADMIN_WRITE, flow ? F_FLOW : F_EGRESS,
                    flow ? sizeof F_FLOW / sizeof F_FLOW[0] : sizeof F_EGRESS / sizeof F_EGRESS[0],
                    &ar))
        return;
    const char *name = admin_str(&ar, member(area));
    if (!province_only(&ar) || !section_ok(&ar, area, name))
        goto out;
    /* Every value validated as zhanye.conf's, the first bad one named. */
    json_t *set = json_object();
    struct config scratch;
    config_defaults(&scratch, ar.app->cfg.data_dir);
    bool bad = false;
    for (const char *const *k = overrides_keys(area); *k && !bad; k++) {
        json_t *v = json_object_get(ar.in, *k);
        if (!v)
            continue;
        char val[64], err[256];
        if (json_is_integer(v))
            snprintf(val, sizeof val, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
            snprintf(val, sizeof val, "%s", json_string_value(v));
        bool ok = config_named_set(&scratch, area, name, *k, val, err, sizeof err) == 0;
        if (ok && strcmp(*k, "scope") == 0 && strcmp(val, "cluster") != 0 &&
            strcmp(val, "node") != 0) {
            ok = false;
            snprintf(err, sizeof err, "scope must be cluster or node");
        }
        if (!ok) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s：取值无效", *k);
            http_error_ex(resp, ZE_BAD_REQUEST, msg,
                          json_pack("{s:s,s:s}", "member", *k, "detail", err));
            bad = true;
        } else {
            json_object_set_new(set, *k, json_string(val));
        }
    }
    config_free(&scratch);
    if (!bad && json_object_size(set) == 0) {
        http_error_ex(resp, ZE_BAD_REQUEST, "没有要修改的值",
                      json_pack("{s:s}", "member", "values"));
        bad = true;
    }
    if (!bad) {
        struct change ch = {.area = area,
                            .name = name,
                            .actor = ar.actor,
                            .set = set,
                            .old = old_values(&ar, area, name)};
        if (admin_run(&ar, flow ? "change flow rule" : "change egress limits", change_txn, &ch,
                      NULL))
            apply_and_answer(&ar, area);
        json_decref(ch.old);
    }
    json_decref(set);
out:
    admin_close(&ar);
}

void admin_limits_reset(struct http_request *req, struct http_response *resp, const char *area)
{
    struct admin_req ar;
    bool flow = is_flow(area);
    if (!admin_open(req, resp, ADMIN_WRITE, flow ? F_FLOW_RESET : F_EGRESS_RESET, 2, &ar))
        return;
    const char *name = admin_str(&ar, member(area));
    if (!province_only(&ar) || !section_ok(&ar, area, name))
        goto out;
    json_t *keys = json_object_get(ar.in, "keys");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (!overrides_key_live(area, json_string_value(k))) {
            http_error_ex(resp, ZE_BAD_REQUEST, "keys：含有不能修改的项",
                          json_pack("{s:s}", "member", "keys"));
            goto out;
        }
    }
    struct change ch = {.area = area,
                        .name = name,
                        .actor = ar.actor,
                        .reset = keys,
                        .old = old_values(&ar, area, name)};
    if (admin_run(&ar, flow ? "reset flow rule" : "reset egress limits", change_txn, &ch, NULL))
        apply_and_answer(&ar, area);
    json_decref(ch.old);
out:
    admin_close(&ar);
}
