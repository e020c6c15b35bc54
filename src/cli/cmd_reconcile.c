/* zhanye reconcile --data DIR --date YYYY-MM-DD [--bank CODE]
 *
 * The day's reconciliation (对账) of the on-the-spot businesses
 * (business/wf.h) with the core system's journal:
 *   1. downloads the core's journal file of the date, journal-YYYYMMDD.txt,
 *      through the egress gateway's file step core_journal (conf/routes.conf,
 *      [egress.core_files] in zhanye.conf, an ftp:// system), and checks it
 *      (business/recon.h: header, count, the trailer's SM3, the date);
 *   2. reads, on every bank's shard (or the one bank's), the businesses
 *      started that day (China time) and those the journal names, and from
 *      their step rows what core should have recorded of every call made to
 *      a system named RECON_CORE_SYSTEM ("core") in routes.conf;
 *   3. prints every difference, one a line, in serial order (recon.h):
 *        core_only SERIAL TXCODE rc=RC status=STATUS key1=K1 key2=K2
 *        local_only SERIAL KIND/STEP expect=done|compensated|undo
 *        status SERIAL local=done core=reversed (local=compensated core=normal)
 *        rc SERIAL local=done|undo|failed core=RC
 *      then "N matched, M differences";
 *   4. appends the audit record reconcile.run (target the date, detail
 *      {"bank", "lines", "matched", "differences"}, actor cli:<os user>).
 * With --bank only the journal's lines of that bank's businesses are
 * compared; without it every line is, and one of no business of ours is
 * core_only. A business counts on the day it was started: a step carried
 * across midnight shows as local_only on that day (its serial is in the
 * next day's file) and matches on the next day.
 *
 * Exit: 0 no difference, 1 differences (or a bank that could not be read),
 * 2 usage, configuration, or the journal unreachable or invalid, with one
 * line on stderr saying why. */
#include "business/recon.h"
#include "business/wf.h"
#include "business/wf_db.h"
#include "cli/cli_admin.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "egress/egress.h"
#include "egress/mapping.h"
#include "egress/route.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define RECON_CORE_SYSTEM "core"
#define RECON_STEP "core_journal"
#define BANKS_MAX 4096

struct routes {
    struct mapping_set maps;
    struct route_table t;
};

static bool is_core(const char *step, void *arg)
{
    const struct route *r = route_find(&((struct routes *)arg)->t, step);
    return r && strcmp(r->system, RECON_CORE_SYSTEM) == 0;
}

struct bank_ref {
    int64_t id;
    char code[17];
};

/* What one bank's transaction reads. */
struct bank_job {
    const struct bank_ref *bank;
    const struct kek *kek;
    const struct recon_journal *j;
    struct routes *routes;
    int64_t from_ms, to_ms;
    struct recon_locals *locals;
    struct wdb_biz *biz; /* the bank's businesses of interest */
    size_t nbiz, capbiz;
    bool moving;
};

static bool named_by_journal(const struct recon_journal *j, int64_t bank, int64_t id)
{
    for (size_t i = 0; i < j->n; i++) {
        int64_t b, x;
        if (recon_serial_parse(j->lines[i].serial, &b, &x) && b == bank && x == id)
            return true;
    }
    return false;
}

static int pick_biz(const struct wdb_biz *b, void *arg)
{
    struct bank_job *a = arg;
    bool today = b->created_at >= a->from_ms && b->created_at < a->to_ms;
    if (!today && !named_by_journal(a->j, a->bank->id, b->id))
        return 0;
    if (a->nbiz == a->capbiz) {
        size_t cap = a->capbiz ? 2 * a->capbiz : 64;
        struct wdb_biz *v = realloc(a->biz, cap * sizeof *v);
        if (!v)
            return STORE_ERR;
        a->biz = v;
        a->capbiz = cap;
    }
    a->biz[a->nbiz++] = *b;
    return 0;
}

/* store_run callback on the bank's shard: reads only. */
static int bank_txn(struct store_conn *c, void *arg)
{
    struct bank_job *a = arg;
    a->moving = false;
    a->nbiz = 0;
    int rc = shard_fence(c, a->bank->id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE) {
        a->moving = true;
        return STORE_ERR;
    }
    if (rc != SHARD_HERE)
        return rc;
    struct scope sc = {.bank_id = a->bank->id, .role = ROLE_BANK_ADMIN};
    struct tenant_conn *tc = NULL;
    if ((rc = tenant_open(c, &sc, &tc)) != STORE_OK)
        return rc;
    size_t mark = a->locals->n;
    rc = wdb_list(tc, 0, "", "", 0, 100000000, pick_biz, a);
    for (size_t i = 0; rc == WDB_OK && i < a->nbiz; i++) {
        const struct wf_kind *k = wf_kind_find(a->biz[i].kind);
        struct wdb_step steps[WF_MAX_STEPS];
        if (!k || !k->steps)
            continue;
        rc = wdb_steps(tc, a->kek, &a->biz[i], steps);
        if (rc == WDB_OK &&
            recon_business(k, &a->biz[i], steps, is_core, a->routes, a->locals) != RECON_OK)
            rc = STORE_ERR;
        wdb_steps_free(steps);
    }
    tenant_close(tc);
    if (rc != WDB_OK)
        a->locals->n = mark; /* a retried transaction starts the bank again */
    return rc == WDB_OK ? STORE_OK : rc;
}

static int read_bank(struct cli_admin *d, struct bank_job *a)
{
    struct store *st = shards_route(d->app.shards, a->bank->id, NULL);
    struct store_conn *c = st == d->app.store ? d->conn : NULL;
    int rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "cli.reconcile", bank_txn, a);
    if (rc != STORE_OK)
        fprintf(stderr, "zhanye reconcile: bank %s: %s\n", a->bank->code,
                a->moving ? "the bank is being moved to another shard; run again later"
                          : store_errmsg(c));
    if (c && c != d->conn)
        store_release(c);
    free(a->biz);
    a->biz = NULL;
    a->nbiz = a->capbiz = 0;
    return rc == STORE_OK ? EXIT_OK : EXIT_FAIL;
}

static int list_banks(struct cli_admin *d, const char *only, struct bank_ref *v, size_t *n)
{
    struct store_stmt *s = NULL;
    *n = 0;
    int rc =
        store_prepare(d->conn, "SELECT id, code FROM banks WHERE kind = 'bank' ORDER BY id", &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        const char *code = store_col_text(s, 1);
        if (*n < BANKS_MAX && (!only || strcmp(only, code) == 0)) {
            v[*n].id = store_col_int64(s, 0);
            snprintf(v[*n].code, sizeof v[*n].code, "%s", code);
            (*n)++;
        }
        rc = STORE_OK;
    }
    store_finish(s);
    if (rc != STORE_DONE) {
        fprintf(stderr, "zhanye reconcile: reading the banks: %s\n", store_errmsg(d->conn));
        return EXIT_FAIL;
    }
    if (only && !*n) {
        fprintf(stderr, "zhanye reconcile: no bank %s\n", only);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The journal of day (YYYYMMDD) through the gateway, checked. */
static int fetch_journal(struct cli_admin *d, const char *day, struct recon_journal *j)
{
    struct stat sb;
    char err[512], name[64];
    struct egress *eg = NULL;
    const char *dir =
        stat(d->app.cfg.server.conf_dir, &sb) == 0 ? d->app.cfg.server.conf_dir : NULL;
    if (egress_open(&d->app.cfg, dir, &eg, err, sizeof err) != 0) {
        fprintf(stderr, "zhanye reconcile: egress: %s\n", err);
        return EXIT_USAGE;
    }
    snprintf(name, sizeof name, "journal-%s.txt", day);
    uint8_t *data = NULL;
    size_t n = 0;
    struct egress_error e = {0};
    enum egress_kind k = egress_get_file(eg, RECON_STEP, name, &data, &n, &e);
    egress_close(eg);
    if (k != EGRESS_OK) {
        fprintf(stderr, "zhanye reconcile: the core journal %s is unreachable: %s: %s\n", name,
                egress_kind_name(k), e.message);
        return EXIT_USAGE;
    }
    int rc = recon_parse(data, n, j, err, sizeof err);
    free(data);
    if (rc == RECON_OK && strcmp(j->date, day) != 0) {
        snprintf(err, sizeof err, "its header is of another date");
        recon_journal_free(j);
        rc = RECON_BAD;
    }
    if (rc != RECON_OK) {
        fprintf(stderr, "zhanye reconcile: the core journal %s is invalid: %s\n", name,
                rc == RECON_ERR ? "out of memory" : err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

static int load_routes(struct cli_admin *d, struct routes *r)
{
    char path[PATH_MAX + 32], err[512];
    snprintf(path, sizeof path, "%s/mappings", d->app.cfg.server.conf_dir);
    if (mapping_load_dir(path, &r->maps, err, sizeof err) != 0) {
        fprintf(stderr, "zhanye reconcile: mappings: %s\n", err);
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "%s/routes.conf", d->app.cfg.server.conf_dir);
    if (route_load(path, &r->maps, &r->t, err, sizeof err) != 0) {
        fprintf(stderr, "zhanye reconcile: routes: %s\n", err);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

struct keep_arg {
    int64_t bank; /* 0: every line */
};

static bool keep_line(const struct recon_line *l, void *arg)
{
    const struct keep_arg *k = arg;
    int64_t b, id;
    return k->bank == 0 || (recon_serial_parse(l->serial, &b, &id) && b == k->bank);
}

static void print_line(const char *line, void *arg)
{
    (void)arg;
    printf("%s\n", line);
}

struct audit_args {
    int64_t bank;
    const char *actor, *date, *bank_code;
    const struct recon_counts *counts;
    size_t lines;
};

static int audit_txn(struct store_conn *c, void *arg)
{
    const struct audit_args *a = arg;
    return audit_appendf(c, a->bank, a->actor, "reconcile.run", a->date, "{s:s,s:I,s:I,s:I}",
                         "bank", a->bank_code, "lines", (json_int_t)a->lines, "matched",
                         (json_int_t)a->counts->matched, "differences",
                         (json_int_t)a->counts->differences);
}

/* [from, to) in Unix ms of the China-time day YYYYMMDD. */
static void day_range(const char *day, int64_t *from, int64_t *to)
{
    struct tm tm = {0};
    tm.tm_year = atoi((char[5]){day[0], day[1], day[2], day[3], 0}) - 1900;
    tm.tm_mon = atoi((char[3]){day[4], day[5], 0}) - 1;
    tm.tm_mday = atoi((char[3]){day[6], day[7], 0});
    int64_t t = (int64_t)timegm(&tm) - 8 * 3600;
    *from = t * 1000;
    *to = (t + 86400) * 1000;
}

static int reconcile(struct cli_admin *d, const char *day, const char *date, const char *only)
{
    struct recon_journal j = {0};
    struct routes r = {0};
    struct recon_locals locals = {0};
    struct bank_ref *banks = calloc(BANKS_MAX, sizeof *banks);
    size_t nbanks = 0;
    int rc = banks ? list_banks(d, only, banks, &nbanks) : EXIT_FAIL;
    if (rc == EXIT_OK)
        rc = load_routes(d, &r);
    if (rc == EXIT_OK)
        rc = fetch_journal(d, day, &j);
    int64_t from, to;
    day_range(day, &from, &to);
    bool unread = false;
    for (size_t i = 0; rc == EXIT_OK && i < nbanks; i++) {
        struct bank_job a = {.bank = &banks[i],
                             .kek = &d->kek,
                             .j = &j,
                             .routes = &r,
                             .from_ms = from,
                             .to_ms = to,
                             .locals = &locals};
        unread = read_bank(d, &a) != EXIT_OK || unread;
    }
    struct recon_counts counts = {0};
    struct keep_arg keep = {.bank = only && nbanks ? banks[0].id : 0};
    if (rc == EXIT_OK && recon_compare(j.lines, j.n, locals.v, locals.n, keep_line, &keep,
                                       print_line, NULL, &counts) != RECON_OK) {
        fprintf(stderr, "zhanye reconcile: out of memory\n");
        rc = EXIT_FAIL;
    }
    if (rc == EXIT_OK) {
        printf("%ld matched, %ld differences\n", counts.matched, counts.differences);
        fflush(stdout);
        char actor[64];
        struct audit_args aa = {.bank = keep.bank,
                                .actor = cli_admin_actor(actor, sizeof actor),
                                .date = date,
                                .bank_code = only ? only : "",
                                .counts = &counts,
                                .lines = j.n};
        if (cli_admin_run(d, "cli.reconcile_audit", audit_txn, &aa, "audit") != ID_OK)
            rc = EXIT_FAIL;
        else if (counts.differences > 0 || unread)
            rc = EXIT_FAIL;
    }
    recon_locals_free(&locals);
    recon_journal_free(&j);
    route_free(&r.t);
    mapping_set_free(&r.maps);
    free(banks);
    return rc;
}

/* YYYY-MM-DD into day (YYYYMMDD); false if malformed. */
static bool parse_date(const char *s, char day[9])
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    snprintf(day, 9, "%.4s%.2s%.2s", s, s + 5, s + 8);
    if (strspn(day, "0123456789") != 8)
        return false;
    int m = atoi(day + 4) / 100, dd = atoi(day + 6);
    return m >= 1 && m <= 12 && dd >= 1 && dd <= 31;
}

int cmd_reconcile(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"date", required_argument, NULL, 't'},
        {"bank", required_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *date = NULL, *bank = NULL;
    char day[9];
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 't':
            date = optarg;
            break;
        case 'b':
            bank = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!data || !date || optind != argc || !parse_date(date, day))
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("reconcile", data, true, &d);
    if (rc == EXIT_OK)
        rc = reconcile(&d, day, date, bank);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye reconcile --data DIR --date YYYY-MM-DD [--bank CODE]\n");
    return EXIT_USAGE;
}
