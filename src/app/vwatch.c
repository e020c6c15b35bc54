/* vwatch.c — the recorded calls' watcher thread (vwatch.h). */
#include "app/vwatch.h"

#include "app/vrec_run.h"
#include "business/video_call.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/ticker.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BANKS_MAX 4096
#define ACTOR "system"

struct vwatch {
    struct vwatch_config cfg;
    struct ticker *ticker; /* the thread running scan() every cfg.scan_ms */
    struct metric *m_stored, *m_empty, *m_failed;
};

/* One recording under way, and what to do with it. */
struct live {
    char call_id[65];
    int64_t started_at;
    bool finish, ping;
};

struct lives {
    struct live rows[VWATCH_ROWS_MAX];
    int n;
};

static int banks(struct store *dir, int64_t *ids)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int n = 0;
    if (store_acquire(dir, &c) != STORE_OK)
        return -1;
    int rc = store_prepare(c, "SELECT id FROM banks WHERE kind = 'bank' ORDER BY id", &s);
    while (rc == STORE_OK && n < BANKS_MAX) {
        rc = store_step(s);
        if (rc == STORE_ROW) {
            ids[n++] = store_col_int64(s, 0);
            rc = STORE_OK;
        }
    }
    store_finish(s);
    store_release(c);
    return rc == STORE_DONE || rc == STORE_OK ? n : -1;
}

static int collect(const struct vdb_row *r, void *arg)
{
    struct lives *l = arg;
    if (strcmp(r->state, VDB_RECORDING) != 0 || l->n >= VWATCH_ROWS_MAX)
        return 0;
    struct live *x = &l->rows[l->n++];
    *x = (struct live){0};
    snprintf(x->call_id, sizeof x->call_id, "%s", r->call_id);
    x->started_at = r->started_at;
    return 0;
}

/* The call of a recording: its id is the call's in decimal. */
static int64_t call_of(const char *call_id)
{
    char *end = NULL;
    long long id = strtoll(call_id, &end, 10);
    return end && *end == '\0' && id > 0 ? (int64_t)id : 0;
}

struct sweep {
    int64_t bank, window_ms;
};

static int sweep_txn(struct store_conn *c, void *arg)
{
    struct sweep *s = arg;
    struct scope sc = {.bank_id = s->bank, .role = ROLE_BANK_ADMIN};
    struct tenant_conn *tc = NULL;
    int rc = shard_fence(c, s->bank);
    if (rc != SHARD_HERE)
        return rc < 0 ? rc : STORE_ERR;
    if ((rc = tenant_open(c, &sc, &tc)) != STORE_OK)
        return rc;
    rc = video_call_sweep(tc, s->window_ms, clock_wall_ms(), NULL);
    tenant_close(tc);
    return rc;
}

/* The bank's recordings under way into l, each with what to do; -1 when
 * the bank is not readable here now. */
static int look(struct vwatch *w, int64_t bank, struct lives *l)
{
    struct store *st = shards_route(w->cfg.shards, bank, NULL);
    struct store_conn *c = NULL;
    struct tenant_conn *tc = NULL;
    struct scope sc = {.bank_id = bank, .role = ROLE_BANK_ADMIN};
    l->n = 0;
    if (!st || store_acquire(st, &c) != STORE_OK)
        return -1;
    int rc = shard_fence(c, bank) == SHARD_HERE ? tenant_open_readonly(c, &sc, &tc) : -1;
    if (rc == STORE_OK)
        rc = vdb_list(tc, 0, 0, 200, collect, l);
    tenant_close(tc);
    tc = NULL;
    if (rc == VDB_OK && l->n > 0) {
        struct sweep s = {bank, w->cfg.window_ms};
        if (store_run(c, "vwatch.sweep", sweep_txn, &s) != STORE_OK)
            log_warn("vwatch", "bank %" PRId64 ": cannot end the silent calls now", bank);
        rc = tenant_open_readonly(c, &sc, &tc);
    }
    int64_t now = clock_wall_ms();
    for (int i = 0; rc == STORE_OK && i < l->n; i++) {
        struct live *x = &l->rows[i];
        struct video_call vc;
        int64_t id = call_of(x->call_id);
        int vrc = id ? video_call_get(tc, id, &vc) : VC_NOT_FOUND;
        if (vrc == VC_OK)
            x->finish = strcmp(vc.state, "ended") == 0;
        else if (vrc != VC_NOT_FOUND)
            rc = vrc;
        x->ping = vrc == VC_OK && !x->finish;
        if (now - x->started_at > w->cfg.crash_bound_ms)
            x->finish = true;
    }
    tenant_close(tc);
    store_release(c);
    return rc == STORE_OK ? 0 : -1;
}

static void act(struct vwatch *w, int64_t bank, const struct live *x)
{
    struct scope sc = {.bank_id = bank, .role = ROLE_BANK_ADMIN};
    if (x->finish) {
        struct vrec_result res;
        int rc = vrec_run_finish(w->cfg.vrec, w->cfg.shards, &sc, x->call_id, ACTOR, &res);
        if (rc == VREC_OK || res.id > 0) {
            metric_inc(strcmp(res.state, VDB_STORED) == 0  ? w->m_stored
                       : strcmp(res.state, VDB_EMPTY) == 0 ? w->m_empty
                                                           : w->m_failed);
        } else if (rc != VREC_NONE && rc != VREC_STATE) {
            log_warn("vwatch", "bank %" PRId64 " call %s: cannot finish the recording now (%d)",
                     bank, x->call_id, rc);
        }
    } else if (x->ping) {
        int rc = vrec_run_keepalive(w->cfg.vrec, w->cfg.shards, &sc, x->call_id);
        if (rc != VREC_OK && rc != VREC_NONE && rc != VREC_STATE)
            log_warn("vwatch", "bank %" PRId64 " call %s: keepalive failed (%d)", bank, x->call_id,
                     rc);
    }
}

static void scan(void *arg, const struct ticker *t)
{
    struct vwatch *w = arg;
    int64_t *ids = malloc(BANKS_MAX * sizeof *ids);
    struct lives *l = calloc(1, sizeof *l);
    int nb = ids && l ? banks(w->cfg.dir, ids) : -1;
    for (int b = 0; b < nb && !ticker_stopping(t); b++) {
        if (look(w, ids[b], l) != 0)
            continue;
        for (int i = 0; i < l->n && !ticker_stopping(t); i++)
            act(w, ids[b], &l->rows[i]);
    }
    free(l);
    free(ids);
}

int vwatch_start(const struct vwatch_config *cfg, struct vwatch **out)
{
    struct vwatch *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return -1;
    w->cfg = *cfg;
    if (w->cfg.scan_ms <= 0)
        w->cfg.scan_ms = 5000;
    if (w->cfg.window_ms <= 0)
        w->cfg.window_ms = 20000;
    if (w->cfg.crash_bound_ms <= 0)
        w->cfg.crash_bound_ms = VWATCH_CRASH_BOUND_MS;
    metrics_describe("zhanye_recordings_finished_total", "counter",
                     "Recorded calls finished by the watcher, by the recording's state");
    w->m_stored = metrics_counter("zhanye_recordings_finished_total", "state=\"stored\"");
    w->m_empty = metrics_counter("zhanye_recordings_finished_total", "state=\"empty\"");
    w->m_failed = metrics_counter("zhanye_recordings_finished_total", "state=\"failed\"");
    if (ticker_start("vwatch", w->cfg.scan_ms, scan, w, &w->ticker) != 0) {
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void vwatch_stop(struct vwatch *w)
{
    if (!w)
        return;
    ticker_stop(w->ticker);
    free(w);
}
