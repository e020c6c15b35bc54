/* zhanye — one binary, subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command COMMANDS[] = {
    {"init", cmd_init, "create a data directory: config, database, keys [--demo]"},
    {"serve", cmd_serve, "run the platform until SIGTERM"},
    {"keygen", cmd_keygen, "write a new SM2 server key: --data DIR --kid K"},
    {"call", cmd_call, "a command-line tablet: activate, log in, call transactions"},
    {"bank", cmd_bank, "banks: add (--province for the root), list"},
    {"branch", cmd_branch, "branches of a bank: add, list"},
    {"teller", cmd_teller, "tellers: add, reset-password, disable, enable"},
    {"activation", cmd_activation, "issue a one-time device activation code for a teller"},
    {"device", cmd_device, "tablets: list, revoke, unbind"},
    {"audit", cmd_audit, "the audit chain: verify, checkpoint, pubkey, keygen"},
    {"db", cmd_db, "MariaDB servers: status, failover --to HOST:PORT"},
    {"shard", cmd_shard, "bank shards: list, move --bank CODE --to SHARD"},
    {"grid", cmd_grid, "digital grid: sync --data DIR [--bank CODE] [--date D] (visit tasks)"},
    {"voucher", cmd_voucher, "electronic vouchers: list, export --id ID --out FILE, verify FILE"},
    {"vrec", cmd_vrec, "a recorded call (双录): start, join, keepalive, finish --call ID"},
    {"reconcile", cmd_reconcile,
     "the day's businesses against the core's journal: --data DIR --date YYYY-MM-DD [--bank CODE]"},
    {"purge", cmd_purge, "delete ended sessions and old stored answers: --data DIR [--days N]"},
};

static int usage(FILE *f)
{
    fprintf(f, "usage: zhanye COMMAND [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(f, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].help);
    return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int main(int argc, char **argv)
{
    /* Keys, the database and the log hold secrets and customer data. */
    umask(077);
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
        return usage(stdout);
    if (strcmp(argv[1], "--version") == 0) {
        printf("zhanye %s\n", ZHANYE_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(argv[1], COMMANDS[i].name) == 0)
            return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "zhanye: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
