/* vrec_run.c — a recorded call's steps, each write in its own transaction
 * (see vrec_run.h). */
#include "app/vrec_run.h"

#include "foundation/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MOVING = 90 }; /* positive: store_run rolls back */

struct bank_txn {
    const struct scope *sc;
    int (*fn)(struct tenant_conn *tc, void *arg);
    void *arg;
};

static int bank_cb(struct store_conn *c, void *arg)
{
    struct bank_txn *x = arg;
    int rc = shard_fence(c, x->sc->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE)
        return MOVING;
    if (rc != SHARD_HERE)
        return rc;
    struct tenant_conn *tc = NULL;
    rc = tenant_open(c, x->sc, &tc);
    if (rc == STORE_OK)
        rc = x->fn(tc, x->arg);
    tenant_close(tc);
    return rc;
}

/* fn in one transaction on the bank's shard. */
static int on_bank(struct shards *sh, const struct scope *sc, const char *name,
                   int (*fn)(struct tenant_conn *tc, void *arg), void *arg)
{
    struct bank_txn x = {sc, fn, arg};
    struct store *st = shards_route(sh, sc->bank_id, NULL);
    struct store_conn *c = NULL;
    if (!st)
        return STORE_ERR;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, name, bank_cb, &x);
    if (c)
        store_release(c);
    return rc == MOVING ? STORE_BUSY : rc;
}

/* The call's row, recording, through a read-only scope. */
static int row_of(struct shards *sh, const struct scope *sc, const char *call_id,
                  struct vdb_row *row)
{
    memset(row, 0, sizeof *row);
    struct store *st = sc && sc->bank_id > 0 ? shards_route(sh, sc->bank_id, NULL) : NULL;
    struct store_conn *c = NULL;
    struct tenant_conn *tc = NULL;
    if (!st)
        return VREC_BAD_INPUT;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = tenant_open_readonly(c, sc, &tc);
    if (rc == STORE_OK)
        rc = vrec_get(tc, call_id, row);
    tenant_close(tc);
    if (c)
        store_release(c);
    return rc;
}

/* ---- start ----------------------------------------------------------------------- */

struct start {
    const struct vrec_start_req *r;
    struct vrec_pending *p;
    struct vrec_room *out;
};

static int start_txn(struct tenant_conn *tc, void *arg)
{
    struct start *s = arg;
    return vrec_begin(tc, s->r, s->p, s->out);
}

int vrec_run_start(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                   const struct vrec_start_req *r, struct vrec_room *out)
{
    struct vrec_pending p;
    memset(out, 0, sizeof *out);
    int rc = vrec_open(e, sc, r, &p);
    if (rc != VREC_OK)
        return rc;
    struct start s = {r, &p, out};
    rc = on_bank(sh, sc, "vrec.start", start_txn, &s);
    if (rc != VREC_OK) {
        vrec_abandon(e, &p, rc == VREC_EXISTS);
        memset(out, 0, sizeof *out);
        return rc;
    }
    log_info("vrec.started", "call %s: recording %" PRId64 " in room %" PRIu64, r->call_id, out->id,
             out->room);
    return VREC_OK;
}

/* ---- join, keepalive -------------------------------------------------------------- */

struct joined {
    const struct vdb_row *row;
    const char *display, *actor;
    uint64_t handle;
};

static int join_txn(struct tenant_conn *tc, void *arg)
{
    struct joined *j = arg;
    return vrec_joined(tc, j->row, j->display, j->handle, j->actor);
}

int vrec_run_join(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                  const char *call_id, const char *display, const char *offer_sdp, char **answer,
                  const char *actor)
{
    struct vdb_row row;
    *answer = NULL;
    if (!actor || !actor[0])
        return VREC_BAD_INPUT;
    int rc = row_of(sh, sc, call_id, &row);
    uint64_t handle = 0;
    if (rc == VREC_OK)
        rc = vrec_publish(e, &row, display, offer_sdp, answer, &handle);
    if (rc == VREC_OK) {
        struct joined j = {&row, display, actor, handle};
        rc = on_bank(sh, sc, "vrec.join", join_txn, &j);
    }
    if (rc != VREC_OK) {
        free(*answer);
        *answer = NULL;
    }
    vdb_row_free(&row);
    return rc;
}

int vrec_run_keepalive(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                       const char *call_id)
{
    struct vdb_row row;
    int rc = row_of(sh, sc, call_id, &row);
    if (rc == VREC_OK)
        rc = vrec_ping(e, &row);
    vdb_row_free(&row);
    return rc;
}

/* ---- finish ---------------------------------------------------------------------- */

struct finish {
    const struct vdb_row *row;
    int tracks;
    const char *actor;
};

static int finish_txn(struct tenant_conn *tc, void *arg)
{
    struct finish *f = arg;
    return vrec_end(tc, f->row, f->tracks, f->actor);
}

int vrec_run_finish(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                    const char *call_id, const char *actor, struct vrec_result *out)
{
    struct vdb_row row;
    int tracks = 0;
    memset(out, 0, sizeof *out);
    if (!actor || !actor[0])
        return VREC_BAD_INPUT;
    int rc = row_of(sh, sc, call_id, &row);
    if (rc == VREC_OK)
        rc = vrec_close(e, sc->bank_id, &row, &tracks);
    if (rc == VREC_OK) {
        struct finish f = {&row, tracks, actor};
        rc = on_bank(sh, sc, "vrec.finish", finish_txn, &f);
    }
    if (rc == VREC_OK) {
        vrec_discard(e, sc->bank_id, call_id);
        out->id = row.id;
        snprintf(out->state, sizeof out->state, "%s", row.state);
        snprintf(out->sm3, sizeof out->sm3, "%s", row.sm3);
        out->size = row.size;
        out->duration_ms = row.duration_ms;
        out->tracks = tracks;
        log_info("vrec.finished", "call %s: recording %" PRId64 " %s, %d tracks", call_id, row.id,
                 row.state, tracks);
        if (strcmp(row.state, VDB_FAILED) == 0)
            rc = VREC_MEDIA;
    }
    vdb_row_free(&row);
    return rc;
}
