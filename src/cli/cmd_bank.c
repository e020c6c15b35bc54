/* zhanye bank add --data DIR --code C --name N [--province]
 * zhanye bank list --data DIR
 * zhanye bank set --data DIR --code C --attach-max-bytes N
 *
 * `add --province` creates the root (省联社), once; every other bank (法人行社)
 * hangs under it. Codes are [A-Za-z0-9_-]{1,16}. `set` writes a bank's own
 * settings in its shard (business/attach_limit.h): --attach-max-bytes N
 * (1024..64M bytes; 0 removes the bank's own, [business] attach_max_bytes
 * applies again), audited on the shard's chain. */
#include "business/attach_limit.h"
#include "cli/cli_admin.h"
#include "data/shard.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "identity/org.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_bank(const struct bank *b, void *arg)
{
    (void)arg;
    printf("%-8s %-9s %-9s %s\n", b->code, b->kind == ORG_PROVINCE ? "province" : "bank",
           b->active ? "active" : "disabled", b->name);
    return 0;
}

static int list(struct cli_admin *d)
{
    printf("%-8s %-9s %-9s %s\n", "CODE", "KIND", "STATUS", "NAME");
    int rc = org_list_banks(d->conn, print_bank, NULL);
    if (rc != ID_OK)
        fprintf(stderr, "zhanye bank: listing: %s\n", id_rc_name(rc));
    return rc == ID_OK ? EXIT_OK : EXIT_FAIL;
}

struct add_args {
    const char *actor, *code, *name;
    bool province;
    int64_t id; /* out */
};

/* store_run callback: the province (the root) or a bank under it. */
static int add_txn(struct store_conn *c, void *arg)
{
    struct add_args *a = arg;
    a->id = 0;
    return a->province ? org_add_province(c, a->actor, a->code, a->name, &a->id)
                       : org_add_bank(c, a->actor, a->code, a->name, &a->id);
}

static int add(struct cli_admin *d, const char *code, const char *name, bool province)
{
    char actor[64];
    struct add_args a = {.actor = cli_admin_actor(actor, sizeof actor),
                         .code = code,
                         .name = name,
                         .province = province};
    int rc = cli_admin_run(d, "cli.bank_add", add_txn, &a, code);
    if (rc == ID_NOT_FOUND)
        fprintf(stderr, "zhanye bank: no province yet; add it first with --province\n");
    if (rc != ID_OK)
        return EXIT_FAIL;
    printf("zhanye: added %s %s (id %" PRId64 ")\n", province ? "province" : "bank", code, a.id);
    return EXIT_OK;
}

struct set_args {
    int64_t bank_id, max_bytes;
    const char *actor;
    bool moving; /* out */
};

/* store_run callback on the bank's shard: the fence, the setting, the audit. */
static int set_txn(struct store_conn *c, void *arg)
{
    struct set_args *a = arg;
    a->moving = false;
    int rc = shard_fence(c, a->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE) {
        a->moving = true;
        return STORE_ERR;
    }
    if (rc != SHARD_HERE)
        return rc;
    struct scope sc = {a->bank_id, 0, 0, ROLE_BANK_ADMIN};
    struct tenant_conn *tc = NULL;
    rc = tenant_open(c, &sc, &tc);
    if (rc == STORE_OK)
        rc = attach_limit_set(tc, a->actor, a->max_bytes, clock_wall_ms());
    tenant_close(tc);
    return rc;
}

static int set(struct cli_admin *d, const char *code, const char *max)
{
    char actor[64], *end = NULL;
    struct bank b;
    errno = 0;
    long long v = strtoll(max, &end, 10);
    if (errno || end == max || *end || v < 0 || (v && v < ATTACH_LIMIT_MIN) ||
        v > ATTACH_LIMIT_MAX) {
        fprintf(stderr,
                "zhanye bank: --attach-max-bytes: %lld..%lld bytes, or 0 for the deployment's "
                "limit\n",
                (long long)ATTACH_LIMIT_MIN, (long long)ATTACH_LIMIT_MAX);
        return EXIT_USAGE;
    }
    int rc = org_find_bank(d->conn, code, &b);
    if (rc != ID_OK || b.kind != ORG_BANK) {
        fprintf(stderr, "zhanye bank: %s: no such bank\n", code);
        return EXIT_FAIL;
    }
    struct set_args a = {
        .bank_id = b.id, .max_bytes = v, .actor = cli_admin_actor(actor, sizeof actor)};
    struct store *st = shards_route(d->app.shards, b.id, NULL);
    struct store_conn *c = st == d->app.store ? d->conn : NULL;
    rc = c ? STORE_OK : store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "cli.bank_set", set_txn, &a);
    if (rc != STORE_OK)
        fprintf(stderr, "zhanye bank: %s: %s\n", code,
                a.moving ? "the bank is being moved to another shard; run again later"
                : c      ? store_errmsg(c)
                         : "its shard is unavailable");
    else if (v)
        printf("zhanye: %s attach_max_bytes %lld\n", code, v);
    else
        printf("zhanye: %s attach_max_bytes: the deployment's\n", code);
    if (c && c != d->conn)
        store_release(c);
    return rc == STORE_OK ? EXIT_OK : EXIT_FAIL;
}

int cmd_bank(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"code", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"province", no_argument, NULL, 'p'},
        {"attach-max-bytes", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *code = NULL, *name = NULL, *max = NULL;
    const char *sub = argc > 1 ? argv[1] : "";
    bool province = false;
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'c':
            code = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'p':
            province = true;
            break;
        case 'm':
            max = optarg;
            break;
        default:
            goto usage;
        }
    }
    bool is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0,
         is_set = strcmp(sub, "set") == 0;
    if (!data || optind != argc - 1 || !(is_add || is_list || is_set) ||
        (is_add && (!code || !name || max)) || (is_list && (code || name || province || max)) ||
        (is_set && (!code || !max || name || province)))
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("bank", data, false, &d);
    if (rc == EXIT_OK)
        rc = is_add ? add(&d, code, name, province) : is_set ? set(&d, code, max) : list(&d);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye bank add --data DIR --code C --name N [--province]\n"
                    "       zhanye bank list --data DIR\n"
                    "       zhanye bank set --data DIR --code C --attach-max-bytes N\n");
    return EXIT_USAGE;
}
