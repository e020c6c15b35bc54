/* zhanye bank add --data DIR --code C --name N [--province]
 * zhanye bank list --data DIR
 *
 * `add --province` creates the root (省联社), once; every other bank (法人行社)
 * hangs under it. Codes are [A-Za-z0-9_-]{1,16}. */
#include "cli/cli_admin.h"
#include "identity/org.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
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

int cmd_bank(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"code", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"province", no_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *code = NULL, *name = NULL;
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
        default:
            goto usage;
        }
    }
    bool is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0;
    if (!data || optind != argc - 1 || !(is_add || is_list) || (is_add && (!code || !name)) ||
        (is_list && (code || name || province)))
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("bank", data, false, &d);
    if (rc == EXIT_OK)
        rc = is_add ? add(&d, code, name, province) : list(&d);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye bank add --data DIR --code C --name N [--province]\n"
                    "       zhanye bank list --data DIR\n");
    return EXIT_USAGE;
}
