/* cli — the subcommands of the `zhanye` binary.
 *
 * Exit codes, relied on by scripts and tests: 0 success, 1 runtime failure,
 * 2 usage or configuration error. Each command prints errors as one line on
 * stderr starting with "zhanye <command>: ". */
#ifndef ZHANYE_CLI_H
#define ZHANYE_CLI_H

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_call(int argc, char **argv);

/* Identity administration, one file each (helpers in cli_admin.h). */
int cmd_bank(int argc, char **argv);
int cmd_branch(int argc, char **argv);
int cmd_teller(int argc, char **argv);
int cmd_activation(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_purge(int argc, char **argv);
/* The MariaDB servers: status, failover (data/mariadb_admin.h). */
int cmd_db(int argc, char **argv);
/* Bank shards: list, move --bank CODE --to SHARD (data/shard.h). */
int cmd_shard(int argc, char **argv);
/* The digital grid: sync (visit tasks from the grid platform). */
int cmd_grid(int argc, char **argv);
/* Electronic vouchers: list, export --id ID --out FILE, verify FILE (business/voucher.h). */
int cmd_voucher(int argc, char **argv);
/* Recorded calls (双录): start, join, keepalive, finish (business/vrec.h). */
int cmd_vrec(int argc, char **argv);
/* Reconciliation with the core's journal file (business/recon.h); exit 0
 * no difference, 1 differences, 2 usage or the journal unreachable/invalid. */
int cmd_reconcile(int argc, char **argv);

#endif
