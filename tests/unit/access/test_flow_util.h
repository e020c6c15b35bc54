/* test_flow_util — shared by the access/flow unit tests: configs from INI
 * text, a fake clock, and requests whose hooks record what happened. */
#ifndef ZHANYE_TEST_FLOW_UTIL_H
#define ZHANYE_TEST_FLOW_UTIL_H

#include "access/flow.h"
#include "foundation/config.h"
#include "foundation/metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>

#include <cmocka.h>

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)

/* Loads INI text (may be "") into *cfg via a temp file, as zhanye would. */
static inline void load_conf(struct config *cfg, const char *ini)
{
    char dir[] = "/tmp/flowtestXXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/zhanye.conf", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(ini, fp);
    assert_int_equal(fclose(fp), 0);
    char err[256];
    int rc = config_load(cfg, dir, path, err, sizeof err);
    if (rc)
        fail_msg("config_load: %s", err);
    unlink(path);
    rmdir(dir);
}

/* A request as the HTTP server would keep it. */
struct req {
    struct flow_ticket t;
    int id;
    int hooks;                 /* hooks fired for it; must end at most 1 */
    enum flow_verdict outcome; /* as seen by the hook */
    uint64_t hook_at;          /* fake time when its hook fired */
};

/* What the hooks saw, in order (single-threaded tests). */
static struct {
    uint64_t now; /* the fake clock, as last passed to flow */
    int order[4096];
    int n;
    int queued_hooks;
} H;

static inline void on_queued_hook(struct flow_ticket *t, void *cookie)
{
    H.queued_hooks++;
}

static inline void on_decided_hook(struct flow_ticket *t, void *cookie)
{
    struct req *q = cookie;
    assert_ptr_equal(&q->t, t);
    q->hooks++;
    q->outcome = t->verdict;
    q->hook_at = H.now;
    if (H.n < (int)(sizeof H.order / sizeof H.order[0]))
        H.order[H.n++] = q->id;
}

static const struct flow_hooks TEST_HOOKS = {on_queued_hook, on_decided_hook, on_decided_hook};

static inline struct flow *make_flow(struct config *cfg, const char *ini,
                                     const struct flow_caps *caps)
{
    load_conf(cfg, ini);
    struct flow *f = NULL;
    char err[256];
    if (flow_from_config(cfg, caps, &TEST_HOOKS, &f, err, sizeof err))
        fail_msg("flow_from_config: %s", err);
    memset(&H, 0, sizeof H);
    return f;
}

/* As the server would, from client address addr (NULL: none). */
static inline enum flow_verdict admit_from(struct flow *f, const char *tx, const char *addr,
                                           uint64_t now, struct req *q, int id)
{
    memset(q, 0, sizeof *q);
    q->id = id;
    q->t.cookie = q;
    H.now = now;
    return flow_admit(f, tx, addr, now, &q->t);
}

static inline enum flow_verdict admit(struct flow *f, const char *tx, uint64_t now, struct req *q,
                                      int id)
{
    return admit_from(f, tx, NULL, now, q, id);
}

static inline uint64_t tick(struct flow *f, uint64_t now)
{
    H.now = now;
    return flow_tick(f, now);
}

static inline int done(struct req *q, uint64_t now)
{
    H.now = now;
    return flow_done(&q->t, now);
}

/* offered == admitted + refused + queued, exactly, for tx's rule. */
static inline void check_books(struct flow *f, const char *tx)
{
    struct flow_stats s;
    assert_int_equal(flow_stats(f, tx, &s), 0);
    assert_int_equal(s.offered, s.admitted + s.refused_total + (uint64_t)s.queued);
}

#endif
