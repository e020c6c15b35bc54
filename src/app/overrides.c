#include "app/overrides.h"

#include "access/flow.h"
#include "app/app.h"
#include "egress/egress.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const FLOW_KEYS[] = {"rate",           "burst",       "max_concurrent",
                                        "queue",          "max_wait_ms", "per_addr_rate",
                                        "per_addr_burst", "scope",       NULL};
static const char *const EGRESS_KEYS[] = {"max_concurrent", "queue", "max_wait_ms",
                                          "call_timeout_ms", NULL};

const char *const *overrides_keys(const char *area)
{
    if (area && strcmp(area, "flow") == 0)
        return FLOW_KEYS;
    if (area && strcmp(area, "egress") == 0)
        return EGRESS_KEYS;
    return NULL;
}

bool overrides_key_live(const char *area, const char *key)
{
    const char *const *k = overrides_keys(area);
    for (; k && *k && key; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

json_t *overrides_read(struct store_conn *c, int *rc)
{
    struct store_stmt *st = NULL;
    *rc = store_prepare(c,
                        "SELECT area, name, k, v, actor, updated_at FROM console_overrides "
                        "ORDER BY area, name, k",
                        &st);
    if (*rc != STORE_OK)
        return NULL;
    json_t *out = json_pack("{s:{},s:{}}", "flow", "egress");
    int n = 0;
    while ((*rc = store_step(st)) == STORE_ROW && n++ < OVERRIDES_MAX) {
        const char *area = store_col_text(st, 0), *name = store_col_text(st, 1);
        json_t *a = json_object_get(out, area ? area : "");
        if (!a || !name)
            continue;
        json_t *sec = json_object_get(a, name);
        if (!sec) {
            sec = json_object();
            json_object_set_new(a, name, sec);
        }
        json_object_set_new(sec, store_col_text(st, 2),
                            json_pack("{s:s,s:s,s:I}", "value", store_col_text(st, 3), "actor",
                                      store_col_text(st, 4), "updated_at",
                                      (json_int_t)store_col_int64(st, 5)));
    }
    store_finish(st);
    if (*rc == STORE_ROW || *rc == STORE_DONE) {
        *rc = STORE_OK;
        return out;
    }
    json_decref(out);
    return NULL;
}

int overrides_put(struct store_conn *c, const char *area, const char *name, const char *key,
                  const char *value, const char *actor)
{
    int rc = overrides_remove(c, area, name, key);
    struct store_stmt *st = NULL;
    if (rc == STORE_OK)
        rc = store_prepare(c,
                           "INSERT INTO console_overrides (area, name, k, v, actor, updated_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)",
                           &st);
    if (rc != STORE_OK)
        return rc;
    store_bind_text(st, 1, area);
    store_bind_text(st, 2, name);
    store_bind_text(st, 3, key);
    store_bind_text(st, 4, value);
    store_bind_text(st, 5, actor);
    store_bind_int64(st, 6, clock_wall_ms());
    rc = store_step(st);
    store_finish(st);
    return rc == STORE_DONE ? STORE_OK : rc;
}

int overrides_remove(struct store_conn *c, const char *area, const char *name, const char *key)
{
    struct store_stmt *st = NULL;
    int rc =
        store_prepare(c,
                      key ? "DELETE FROM console_overrides WHERE area = ? AND name = ? AND k = ?"
                          : "DELETE FROM console_overrides WHERE area = ? AND name = ?",
                      &st);
    if (rc != STORE_OK)
        return rc;
    store_bind_text(st, 1, area);
    store_bind_text(st, 2, name);
    if (key)
        store_bind_text(st, 3, key);
    rc = store_step(st);
    store_finish(st);
    return rc == STORE_DONE ? STORE_OK : rc;
}

int overrides_lay(struct config *cfg, json_t *ovr, char *err, size_t errcap)
{
    const char *area;
    json_t *secs;
    json_object_foreach(ovr, area, secs)
    {
        const char *name;
        json_t *keys;
        json_object_foreach(secs, name, keys)
        {
            const char *key;
            json_t *v;
            json_object_foreach(keys, key, v)
            {
                char why[256];
                const char *val = json_string_value(json_object_get(v, "value"));
                if (!overrides_key_live(area, key)) {
                    snprintf(err, errcap, "[%s.%s] %s cannot be changed live", area, name, key);
                    return -1;
                }
                if (config_named_set(cfg, area, name, key, val ? val : "", why, sizeof why)) {
                    snprintf(err, errcap, "%s", why);
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* ---- applying ------------------------------------------------------------ */

static pthread_mutex_t apply_mu = PTHREAD_MUTEX_INITIALIZER;

struct sig {
    int64_t n, max, sum;
};
static struct sig applied_sig; /* under apply_mu */

static int read_sig(struct store_conn *c, struct sig *out)
{
    struct store_stmt *st = NULL;
    int rc = store_prepare(c,
                           "SELECT COUNT(*), COALESCE(MAX(updated_at), 0), "
                           "COALESCE(SUM(updated_at), 0) FROM console_overrides",
                           &st);
    if (rc != STORE_OK)
        return rc;
    rc = store_step(st);
    if (rc == STORE_ROW) {
        out->n = store_col_int64(st, 0);
        out->max = store_col_int64(st, 1);
        out->sum = store_col_int64(st, 2);
        rc = STORE_OK;
    }
    store_finish(st);
    return rc;
}

static int get_int(const struct config *cfg, const char *sys, const char *key)
{
    const char *v = config_named_get(cfg, "egress", sys, key);
    return v ? atoi(v) : -1; /* validated by config.c */
}

/* Every configured system's live limits from cfg (file + overrides). */
static void apply_egress(struct app *a, const struct config *cfg)
{
    for (int i = 0; a->egress && i < cfg->nnamed; i++) {
        if (strcmp(cfg->named[i].area, "egress") != 0)
            continue;
        const char *n = cfg->named[i].name;
        struct egress_limits l = {
            .max_concurrent = get_int(cfg, n, "max_concurrent"),
            .queue = get_int(cfg, n, "queue"),
            .max_wait_ms = get_int(cfg, n, "max_wait_ms"),
            .call_timeout_ms = get_int(cfg, n, "call_timeout_ms"),
        };
        char err[160];
        if (egress_set_limits(a->egress, n, &l, err, sizeof err) != 0)
            log_warn("overrides.egress", "[egress.%s]: %s (a new system needs a restart)", n, err);
    }
}

/* The [server] caps; 0 stays 0, which flow derives from connection_limit. */
static struct flow_caps caps_of(const struct config *cfg)
{
    struct flow_caps c = {
        .max_connections = cfg->server.max_connections,
        .max_in_flight = cfg->server.max_in_flight,
        .max_queued = cfg->server.max_queued,
    };
    return c;
}

int app_overrides_apply(struct app *a, char *err, size_t errcap)
{
    int rc = -1;
    struct store_conn *c = NULL;
    struct config *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    pthread_mutex_lock(&apply_mu);
    json_t *ovr = NULL;
    struct sig sig = {0};
    int src = store_acquire(a->store, &c);
    if (src == STORE_OK) {
        ovr = overrides_read(c, &src);
        if (src == STORE_OK)
            src = read_sig(c, &sig);
        store_release(c);
    }
    if (src != STORE_OK) {
        snprintf(err, errcap, "cannot read the console's overrides: %s", store_rc_name(src));
    } else if (config_load(cfg, a->cfg.data_dir, a->cfg.file, err, errcap) == 0) {
        if (overrides_lay(cfg, ovr, err, errcap) == 0) {
            struct flow_caps caps = caps_of(cfg);
            rc = a->flow ? flow_reload(a->flow, cfg, &caps, clock_mono_ns(), err, errcap) : 0;
            if (rc == 0) {
                apply_egress(a, cfg);
                applied_sig = sig;
            }
        }
        config_free(cfg);
    }
    pthread_mutex_unlock(&apply_mu);
    json_decref(ovr);
    free(cfg);
    return rc;
}

/* ---- the poller -------------------------------------------------------------- */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    bool running, stop;
    struct app *app;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static bool changed(struct app *a)
{
    struct store_conn *c = NULL;
    struct sig s = {0};
    if (store_acquire(a->store, &c) != STORE_OK)
        return false;
    int rc = read_sig(c, &s);
    store_release(c);
    pthread_mutex_lock(&apply_mu);
    bool ch = rc == STORE_OK &&
              (s.n != applied_sig.n || s.max != applied_sig.max || s.sum != applied_sig.sum);
    pthread_mutex_unlock(&apply_mu);
    return ch;
}

static void *watch_main(void *arg)
{
    struct app *a = arg;
    pthread_mutex_lock(&W.mu);
    while (!W.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += OVERRIDES_POLL_MS / 1000;
        ts.tv_nsec += (long)(OVERRIDES_POLL_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!W.stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&W.cv, &W.mu, &ts);
        if (W.stop)
            break;
        pthread_mutex_unlock(&W.mu);
        char err[256];
        if (changed(a)) {
            if (app_overrides_apply(a, err, sizeof err) == 0)
                log_info("overrides.apply", "applied the console's changed limits");
            else
                log_warn("overrides.apply", "kept the running limits: %s", err);
        }
        pthread_mutex_lock(&W.mu);
    }
    pthread_mutex_unlock(&W.mu);
    return NULL;
}

int app_overrides_watch(struct app *a)
{
    pthread_mutex_lock(&W.mu);
    int rc = 0;
    if (!W.running) {
        W.stop = false;
        W.app = a;
        rc = thread_start(&W.th, NULL, watch_main, a, "zhanye-ovr") == 0 ? 0 : -1;
        W.running = rc == 0;
    }
    pthread_mutex_unlock(&W.mu);
    return rc;
}

void app_overrides_unwatch(struct app *a)
{
    pthread_mutex_lock(&W.mu);
    bool join = W.running && W.app == a;
    if (join) {
        W.stop = true;
        pthread_cond_broadcast(&W.cv);
    }
    pthread_mutex_unlock(&W.mu);
    if (!join)
        return;
    pthread_join(W.th, NULL);
    pthread_mutex_lock(&W.mu);
    W.running = false;
    W.app = NULL;
    pthread_mutex_unlock(&W.mu);
}
