/* zhanye grid sync --data DIR [--bank CODE] [--date YYYY-MM-DD]
 *
 * The nightly pull from the digital grid platform (数字网格): for every
 * active branch of every bank (or of the one bank named), asks the grid,
 * through the egress gateway's step grid_cells (conf/routes.conf,
 * conf/mappings/grid_cells.json, [egress.grid] in zhanye.conf), for the
 * branch's territory cells with their households and marketing leads, and
 * turns every household with a lead into a visit task of the day
 * (business/visit_grid.h) in the bank's shard (data/shard.h), cell by cell
 * to the branch's active client managers in turn. Idempotent: a second run
 * of the same day adds nothing. Each branch's work is one transaction with
 * its audit record (visit.grid_synced, actor cli:<os user>). A branch the
 * grid does not answer for, or answers badly, is reported and skipped; the
 * others go on, and the exit status is then 1. */
#include "business/visit.h"
#include "business/visit_grid.h"
#include "cli/cli_admin.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "egress/egress.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BRANCHES_MAX 1024
#define MANAGERS_MAX 256

struct branch_work {
    int64_t bank_id, branch_id;
    char bank[ORG_CODE_MAX + 1], branch[ORG_CODE_MAX + 1];
    int64_t managers[MANAGERS_MAX];
    size_t nmanagers;
};

struct plan {
    const char *only; /* --bank, or NULL */
    struct bank banks[64];
    size_t nbanks;
    struct branch_work *b;
    size_t n;
    const struct bank *cur;
};

static int add_bank(const struct bank *b, void *arg)
{
    struct plan *p = arg;
    if (b->kind != ORG_BANK || !b->active || (p->only && strcmp(p->only, b->code) != 0) ||
        p->nbanks == sizeof p->banks / sizeof p->banks[0])
        return 0;
    p->banks[p->nbanks++] = *b;
    return 0;
}

static int add_branch(const struct branch *br, void *arg)
{
    struct plan *p = arg;
    if (!br->active || p->n == BRANCHES_MAX)
        return 0;
    struct branch_work *w = &p->b[p->n++];
    memset(w, 0, sizeof *w);
    w->bank_id = br->bank_id;
    w->branch_id = br->id;
    snprintf(w->bank, sizeof w->bank, "%s", p->cur->code);
    snprintf(w->branch, sizeof w->branch, "%s", br->code);
    return 0;
}

static int add_manager(const struct teller *t, void *arg)
{
    struct branch_work *w = arg;
    if (t->role == ROLE_CLIENT_MANAGER && t->active && w->nmanagers < MANAGERS_MAX)
        w->managers[w->nmanagers++] = t->id;
    return 0;
}

/* Every active branch of the banks asked for, with its client managers
 * (by teller code). Each list is read to its end before the next. */
static int make_plan(struct cli_admin *d, struct plan *p)
{
    int rc = org_list_banks(d->conn, add_bank, p);
    for (size_t i = 0; rc == ID_OK && i < p->nbanks; i++) {
        p->cur = &p->banks[i];
        rc = org_list_branches(d->conn, p->banks[i].id, add_branch, p);
    }
    for (size_t i = 0; rc == ID_OK && i < p->n; i++)
        rc = teller_list(d->conn, p->b[i].bank_id, p->b[i].branch_id, add_manager, &p->b[i]);
    return rc;
}

/* ---- one branch ------------------------------------------------------------ */

struct sync_args {
    const struct branch_work *w;
    const struct vgrid *g;
    int32_t day;
    const char *actor;
    struct vgrid_result res;
    bool moving;
};

/* store_run callback on the bank's shard: the fence, the tasks, the audit. */
static int sync_txn(struct store_conn *c, void *arg)
{
    struct sync_args *a = arg;
    a->moving = false;
    int rc = shard_fence(c, a->w->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE) {
        a->moving = true;
        return STORE_ERR;
    }
    if (rc != SHARD_HERE)
        return rc;
    struct scope sc = {a->w->bank_id, a->w->branch_id, 0, ROLE_BANK_ADMIN};
    struct tenant_conn *tc = NULL;
    rc = tenant_open(c, &sc, &tc);
    if (rc == STORE_OK)
        rc = vgrid_apply(tc, a->g, a->day, a->w->managers, a->w->nmanagers, a->actor, &a->res);
    tenant_close(tc);
    return rc;
}

/* The grid's cells of one branch, checked. EXIT_OK or EXIT_FAIL (said). */
static int pull(struct egress *eg, const struct branch_work *w, const char *date, struct vgrid **g)
{
    struct egress_error e = {0};
    json_t *out = NULL,
           *in = json_pack("{s:s, s:s, s:s}", "bank", w->bank, "branch", w->branch, "date", date);
    enum egress_kind k = in ? egress_call(eg, "grid_cells", in, &out, &e) : EGRESS_E_INTERNAL;
    json_decref(in);
    if (k != EGRESS_OK) {
        fprintf(stderr, "zhanye grid: %s/%s: the grid platform: %s: %s\n", w->bank, w->branch,
                egress_kind_name(k), e.message);
        json_decref(out);
        return EXIT_FAIL;
    }
    struct vi_error ve = {0};
    int rc = vgrid_parse(json_object_get(out, "cells"), g, &ve);
    json_decref(out);
    if (rc != VI_OK) {
        fprintf(stderr, "zhanye grid: %s/%s: a malformed answer of the grid platform: %s: %s\n",
                w->bank, w->branch, ve.field, ve.msg);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int sync_branch(struct cli_admin *d, struct egress *eg, const struct branch_work *w,
                       int32_t day, const char *date, const char *actor)
{
    if (w->nmanagers == 0) {
        printf("%s/%s: no active client manager, skipped\n", w->bank, w->branch);
        return EXIT_OK;
    }
    struct vgrid *g = NULL;
    if (pull(eg, w, date, &g) != EXIT_OK)
        return EXIT_FAIL;
    struct sync_args a = {.w = w, .g = g, .day = day, .actor = actor};
    struct store *st = shards_route(d->app.shards, w->bank_id, NULL);
    struct store_conn *c = st == d->app.store ? d->conn : NULL;
    int rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "cli.grid_sync", sync_txn, &a);
    if (rc != STORE_OK)
        fprintf(stderr, "zhanye grid: %s/%s: %s\n", w->bank, w->branch,
                a.moving ? "the bank is being moved to another shard; run again later"
                         : store_errmsg(c));
    else
        printf("%s/%s: %zu cells, %lld tasks created, %lld already there\n", w->bank, w->branch,
               g->ncells, (long long)a.res.created, (long long)a.res.skipped);
    if (c && c != d->conn)
        store_release(c);
    vgrid_free(g);
    return rc == STORE_OK ? EXIT_OK : EXIT_FAIL;
}

static int open_egress(struct cli_admin *d, struct egress **eg)
{
    struct stat sb;
    char err[512];
    const char *dir =
        stat(d->app.cfg.server.conf_dir, &sb) == 0 ? d->app.cfg.server.conf_dir : NULL;
    if (egress_open(&d->app.cfg, dir, eg, err, sizeof err) != 0) {
        fprintf(stderr, "zhanye grid: egress: %s\n", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int sync_all(struct cli_admin *d, const char *bank, int32_t day)
{
    char actor[64], date[11];
    struct plan *p = calloc(1, sizeof *p);
    struct egress *eg = NULL;
    int rc = p && (p->b = calloc(BRANCHES_MAX, sizeof *p->b)) ? EXIT_OK : EXIT_FAIL;
    if (rc == EXIT_OK) {
        p->only = bank;
        if (make_plan(d, p) != ID_OK) {
            fprintf(stderr, "zhanye grid: reading the branches: %s\n", store_errmsg(d->conn));
            rc = EXIT_FAIL;
        } else if (bank && p->nbanks == 0) {
            fprintf(stderr, "zhanye grid: no active bank %s\n", bank);
            rc = EXIT_FAIL;
        }
    }
    if (rc == EXIT_OK)
        rc = open_egress(d, &eg);
    vi_day_text(day, date);
    cli_admin_actor(actor, sizeof actor);
    int failed = 0;
    for (size_t i = 0; rc == EXIT_OK && i < p->n; i++)
        failed += sync_branch(d, eg, &p->b[i], day, date, actor) != EXIT_OK;
    if (rc == EXIT_OK)
        printf("grid sync %s: %zu branches, %d failed\n", date, p->n, failed);
    egress_close(eg);
    if (p)
        free(p->b);
    free(p);
    return rc != EXIT_OK ? rc : failed ? EXIT_FAIL : EXIT_OK;
}

int cmd_grid(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"bank", required_argument, NULL, 'b'},
        {"date", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *bank = NULL;
    int32_t day = visit_today();
    int c;
    if (argc < 2 || strcmp(argv[1], "sync") != 0)
        goto usage;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'b':
            bank = optarg;
            break;
        case 't': {
            struct vi_error e = {0};
            json_t *v = json_string(optarg);
            int ok = v && vi_date(v, "date", &day, &e) == VI_OK;
            json_decref(v);
            if (!ok)
                goto usage;
            break;
        }
        default:
            goto usage;
        }
    }
    if (!data || optind != argc)
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("grid", data, false, &d);
    if (rc == EXIT_OK)
        rc = sync_all(&d, bank, day);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye grid sync --data DIR [--bank CODE] [--date YYYY-MM-DD]\n");
    return EXIT_USAGE;
}
