/* cli_admin — what the identity administration commands (bank, branch,
 * teller, activation, device, audit) share: the data directory's database
 * and KEK, the audit context, the audit actor, one transaction per command
 * (cli_admin_run).
 *
 * Every command that may append audit records opens the audit context with
 * its signing key (identity/audit.h) and runs audit_prepare (which
 * re-chains a legacy log once); on close it signs a checkpoint if one came
 * due, then wipes the key. */
#ifndef ZHANYE_CLI_ADMIN_H
#define ZHANYE_CLI_ADMIN_H

#include "app/app.h"
#include "cli/cli.h"
#include "identity/audit.h"
#include "identity/kek.h"

#include <stdbool.h>
#include <stddef.h>

/* The data directory an administration command works on: config, store,
 * one connection, and the KEK if asked for. */
struct cli_admin {
    const char *cmd; /* for messages: "zhanye <cmd>: ..." */
    struct app app;
    struct store_conn *conn;
    struct kek kek;
    bool have_kek;
    bool have_audit;
    bool config_loaded;
};

/* Returns an exit code; on failure the message is printed. Close in any case. */
int cli_admin_open(const char *cmd, const char *data, bool need_kek, struct cli_admin *d);
/* The same for a command that only verifies the audit log: the audit
 * context without the private signing key, and no audit_prepare. */
int cli_admin_open_verify(const char *cmd, const char *data, struct cli_admin *d);
/* The data directory's audit options (key_dir, checkpoint file, every) into
 * o, path into buf[cap]. -1 if the path does not fit. */
int cli_admin_audit_options(const struct app *a, bool verify_only, struct audit_options *o,
                            char *buf, size_t cap);
void cli_admin_close(struct cli_admin *d);
/* "cli:<os user>", the audit actor of these commands. */
const char *cli_admin_actor(char *buf, size_t cap);
/* The command's write transaction: store_run(d->conn, name, fn, arg) (see
 * data/store.h for the callback's contract). Returns what store_run returns
 * (ID_OK after the commit); on failure prints "zhanye <cmd>: what: <status>"
 * first. */
int cli_admin_run(struct cli_admin *d, const char *name, store_txn_fn fn, void *arg,
                  const char *what);
/* One line from stdin without its newline; -1 (message printed) if none or too long. */
int cli_admin_read_password(const char *cmd, char *buf, size_t cap);

#endif
