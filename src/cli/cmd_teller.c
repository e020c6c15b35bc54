/* zhanye teller add --data DIR --bank B [--branch BR] --code T --name N --role R [--password P]
 * zhanye teller reset-password --data DIR --code T [--password P]
 * zhanye teller disable|enable --data DIR --code T
 *
 * Without --password the password is read as one line from stdin, which
 * keeps it out of the process list and shell history. Roles:
 * client_manager, branch_manager (both need --branch), bank_admin,
 * province_admin (--bank is then the province's code). */
#include "cli/cli_admin.h"
#include "foundation/secmem.h"
#include "identity/admin_session.h"
#include "identity/org.h"
#include "identity/session.h"
#include "identity/teller.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

struct args {
    const char *sub, *data, *bank, *branch, *code, *name, *role;
    char *password; /* argv memory: wiped once used */
};

struct add_args {
    const char *actor, *bank, *branch; /* branch NULL: none */
    struct teller_new t;               /* bank_id and branch_id filled in by add_txn */
};

/* store_run callback: the teller under its bank (and branch). */
static int add_txn(struct store_conn *c, void *arg)
{
    struct add_args *a = arg;
    struct bank b;
    struct branch br = {0};
    int rc = org_find_bank(c, a->bank, &b);
    if (rc == ID_OK && a->branch)
        rc = org_find_branch(c, b.id, a->branch, &br);
    if (rc != ID_OK)
        return rc;
    a->t.bank_id = b.id;
    a->t.branch_id = br.id;
    return teller_add(c, a->actor, &a->t, NULL);
}

static int add(struct cli_admin *d, const struct args *a, const char *password)
{
    char actor[64];
    struct add_args x = {
        .actor = cli_admin_actor(actor, sizeof actor),
        .bank = a->bank,
        .branch = a->branch,
        .t = {.code = a->code, .name = a->name, .role = role_parse(a->role), .password = password},
    };
    int rc = cli_admin_run(d, "cli.teller_add", add_txn, &x, a->code);
    if (rc == ID_BAD_INPUT)
        fprintf(stderr,
                "zhanye teller: check the code ([A-Za-z0-9_-]{1,32}), the role, the "
                "password (%d..%d bytes) and --branch for managers\n",
                TELLER_PW_MIN, TELLER_PW_MAX);
    else if (rc == ID_CONFLICT)
        fprintf(stderr,
                "zhanye teller: the branch is not %s's, or the role does not fit the "
                "bank (province_admin only in the province)\n",
                a->bank);
    if (rc != ID_OK)
        return EXIT_FAIL;
    printf("zhanye: added teller %s (%s) to %s%s%s\n", a->code, a->role, a->bank,
           a->branch ? "/" : "", a->branch ? a->branch : "");
    return EXIT_OK;
}

struct reset_args {
    const char *actor, *code, *password;
    int64_t sessions, consoles; /* sessions ended */
};

/* store_run callback: the new password, and with it the end of the
 * teller's tablet and console sessions (reason "password_reset"). */
static int reset_txn(struct store_conn *c, void *arg)
{
    struct reset_args *a = arg;
    struct teller t;
    a->sessions = a->consoles = 0;
    int rc = teller_reset_password(c, a->actor, a->code, a->password);
    if (rc == ID_OK)
        rc = teller_find(c, a->code, &t);
    if (rc == ID_OK)
        rc = session_end_teller(c, t.id, "password_reset", &a->sessions);
    if (rc == ID_OK)
        rc = admin_session_end_teller(c, t.id, "password_reset", &a->consoles);
    return rc;
}

static int reset(struct cli_admin *d, const struct args *a, const char *password)
{
    char actor[64];
    struct reset_args r = {
        .actor = cli_admin_actor(actor, sizeof actor), .code = a->code, .password = password};
    int rc = store_run(d->conn, "cli.teller_reset", reset_txn, &r);
    if (rc == ID_BAD_INPUT)
        fprintf(stderr, "zhanye teller: the password must be %d..%d bytes\n", TELLER_PW_MIN,
                TELLER_PW_MAX);
    if (rc != ID_OK) {
        fprintf(stderr, "zhanye teller: %s: %s%s%s\n", a->code, id_rc_name(rc), rc < 0 ? ": " : "",
                rc < 0 ? store_errmsg(d->conn) : "");
        return EXIT_FAIL;
    }
    printf("zhanye: password of %s reset; any lock cleared; %lld tablet and %lld console "
           "session(s) ended\n",
           a->code, (long long)r.sessions, (long long)r.consoles);
    return EXIT_OK;
}

struct active_args {
    const char *actor, *code;
    bool active;
};

/* store_run callback: enable or disable the teller. */
static int active_txn(struct store_conn *c, void *arg)
{
    const struct active_args *a = arg;
    return teller_set_active(c, a->actor, a->code, a->active);
}

static int set_active(struct cli_admin *d, const struct args *a, bool active)
{
    char actor[64];
    struct active_args x = {
        .actor = cli_admin_actor(actor, sizeof actor), .code = a->code, .active = active};
    if (cli_admin_run(d, "cli.teller_set_active", active_txn, &x, a->code) != ID_OK)
        return EXIT_FAIL;
    printf("zhanye: teller %s %s\n", a->code, active ? "enabled" : "disabled");
    return EXIT_OK;
}

/* Runs the subcommand with the password from --password or stdin. */
static int run(struct cli_admin *d, struct args *a)
{
    char pw[TELLER_PW_MAX + 2];
    bool needs_pw = strcmp(a->sub, "add") == 0 || strcmp(a->sub, "reset-password") == 0;
    int rc = EXIT_FAIL;
    pw[0] = '\0';
    if (needs_pw && a->password) {
        if (snprintf(pw, sizeof pw, "%s", a->password) >= (int)sizeof pw) {
            fprintf(stderr, "zhanye teller: password longer than %d bytes\n", TELLER_PW_MAX);
            goto out;
        }
    } else if (needs_pw && cli_admin_read_password("teller", pw, sizeof pw) != 0) {
        goto out;
    }
    if (strcmp(a->sub, "add") == 0)
        rc = add(d, a, pw);
    else if (strcmp(a->sub, "reset-password") == 0)
        rc = reset(d, a, pw);
    else
        rc = set_active(d, a, strcmp(a->sub, "enable") == 0);
out:
    secmem_wipe(pw, sizeof pw);
    return rc;
}

static bool args_ok(const struct args *a, int extra)
{
    if (!a->data || !a->code || extra)
        return false;
    if (strcmp(a->sub, "add") == 0)
        return a->bank && a->name && a->role;
    bool other = strcmp(a->sub, "reset-password") == 0 || strcmp(a->sub, "enable") == 0 ||
                 strcmp(a->sub, "disable") == 0;
    bool pw_ok = !a->password || strcmp(a->sub, "reset-password") == 0;
    return other && pw_ok && !a->bank && !a->branch && !a->name && !a->role;
}

int cmd_teller(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},     {"bank", required_argument, NULL, 'b'},
        {"branch", required_argument, NULL, 'r'},   {"code", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},     {"role", required_argument, NULL, 'o'},
        {"password", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0},
    };
    struct args a = {.sub = argc > 1 ? argv[1] : ""};
    int ch, rc = EXIT_USAGE;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            a.data = optarg;
            break;
        case 'b':
            a.bank = optarg;
            break;
        case 'r':
            a.branch = optarg;
            break;
        case 'c':
            a.code = optarg;
            break;
        case 'n':
            a.name = optarg;
            break;
        case 'o':
            a.role = optarg;
            break;
        case 'p':
            a.password = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (!args_ok(&a, optind != argc - 1))
        goto usage;
    struct cli_admin d;
    rc = cli_admin_open("teller", a.data, false, &d);
    if (rc == EXIT_OK)
        rc = run(&d, &a);
    cli_admin_close(&d);
    goto out;
usage:
    fprintf(stderr, "usage: zhanye teller add --data DIR --bank B [--branch BR] --code T --name N "
                    "--role R [--password P]\n"
                    "       zhanye teller reset-password --data DIR --code T [--password P]\n"
                    "       zhanye teller disable|enable --data DIR --code T\n"
                    "roles: client_manager, branch_manager, bank_admin, province_admin\n");
out:
    if (a.password)
        secmem_wipe(a.password, strlen(a.password));
    return rc;
}
