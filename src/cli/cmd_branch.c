/* zhanye branch add --data DIR --bank B --code C --name N
 * zhanye branch list --data DIR [--bank B]
 *
 * Branch codes are unique within their bank. */
#include "cli/cli_admin.h"
#include "identity/org.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int print_branch(const struct branch *b, void *arg)
{
    struct cli_admin *d = arg;
    struct bank bank;
    int rc = org_find_bank_id(d->conn, b->bank_id, &bank);
    printf("%-8s %-8s %-9s %s\n", rc == ID_OK ? bank.code : "?", b->code,
           b->active ? "active" : "disabled", b->name);
    return 0;
}

static int list(struct cli_admin *d, const char *bank_code)
{
    struct bank b = {0};
    int rc = bank_code ? org_find_bank(d->conn, bank_code, &b) : ID_OK;
    if (rc == ID_OK) {
        printf("%-8s %-8s %-9s %s\n", "BANK", "CODE", "STATUS", "NAME");
        rc = org_list_branches(d->conn, b.id, print_branch, d);
    }
    if (rc != ID_OK)
        fprintf(stderr, "zhanye branch: %s: %s\n", bank_code ? bank_code : "listing",
                id_rc_name(rc));
    return rc == ID_OK ? EXIT_OK : EXIT_FAIL;
}

struct add_args {
    const char *actor, *bank_code, *code, *name;
    int64_t id; /* out */
};

/* store_run callback: the branch under its bank. */
static int add_txn(struct store_conn *c, void *arg)
{
    struct add_args *a = arg;
    struct bank b;
    a->id = 0;
    int rc = org_find_bank(c, a->bank_code, &b);
    if (rc == ID_OK)
        rc = org_add_branch(c, a->actor, b.id, a->code, a->name, &a->id);
    return rc;
}

static int add(struct cli_admin *d, const char *bank_code, const char *code, const char *name)
{
    char actor[64], what[64];
    snprintf(what, sizeof what, "bank %s branch %s", bank_code, code);
    struct add_args a = {.actor = cli_admin_actor(actor, sizeof actor),
                         .bank_code = bank_code,
                         .code = code,
                         .name = name};
    if (cli_admin_run(d, "cli.branch_add", add_txn, &a, what) != ID_OK)
        return EXIT_FAIL;
    printf("zhanye: added branch %s of bank %s (id %" PRId64 ")\n", code, bank_code, a.id);
    return EXIT_OK;
}

int cmd_branch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"bank", required_argument, NULL, 'b'},
        {"code", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *bank = NULL, *code = NULL, *name = NULL;
    const char *sub = argc > 1 ? argv[1] : "";
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'b':
            bank = optarg;
            break;
        case 'c':
            code = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        default:
            goto usage;
        }
    }
    bool is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0;
    if (!data || optind != argc - 1 || !(is_add || is_list) ||
        (is_add && (!bank || !code || !name)) || (is_list && (code || name)))
        goto usage;
    struct cli_admin d;
    int rc = cli_admin_open("branch", data, false, &d);
    if (rc == EXIT_OK)
        rc = is_add ? add(&d, bank, code, name) : list(&d, bank);
    cli_admin_close(&d);
    return rc;
usage:
    fprintf(stderr, "usage: zhanye branch add --data DIR --bank B --code C --name N\n"
                    "       zhanye branch list --data DIR [--bank B]\n");
    return EXIT_USAGE;
}
