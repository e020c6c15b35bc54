/* cli_admin.c — shared by the identity commands (see cli_admin.h).
 *
 * These commands write to the same database a running server uses: SQLite
 * serialises the writers, and the server's busy timeout applies. */
#include "cli/cli_admin.h"

#include "identity/audit_checkpoint.h"
#include "identity/kek.h"

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_admin_audit_options(const struct app *a, bool verify_only, struct audit_options *o,
                            char *buf, size_t cap)
{
    *o = (struct audit_options){
        .key_dir = a->cfg.channel.key_dir,
        .checkpoint_file = buf,
        .checkpoint_every = a->cfg.audit.checkpoint_every,
        .verify_only = verify_only,
    };
    return audit_checkpoint_path(a->cfg.data_dir, buf, cap);
}

/* The audit context; for appenders also the start-up check (and upgrade). */
static int open_audit(struct cli_admin *d, bool verify_only)
{
    char err[768], file[PATH_MAX], actor[96];
    struct audit_options o;
    struct audit_upgrade up;
    int rc = ID_BAD_INPUT;
    snprintf(err, sizeof err, "data directory path too long");
    if (cli_admin_audit_options(&d->app, verify_only, &o, file, sizeof file) == 0)
        rc = audit_open(&o, err, sizeof err);
    if (rc != ID_OK) {
        fprintf(stderr, "zhanye %s: audit key: %s%s\n", d->cmd, err,
                rc == ID_NOT_FOUND ? " (`zhanye init` creates it; for a data directory from "
                                     "before keyed audit: `zhanye audit keygen --data DIR`)"
                                   : "");
        return EXIT_FAIL;
    }
    d->have_audit = true;
    if (verify_only)
        return EXIT_OK;
    rc = audit_prepare(d->app.store, cli_admin_actor(actor, sizeof actor), &up, err, sizeof err);
    if (rc != ID_OK) {
        fprintf(stderr, "zhanye %s: %s\n", d->cmd, err);
        return EXIT_FAIL;
    }
    if (up.rekeyed)
        fprintf(stderr, "zhanye: re-chained %lld audit records under the audit key\n",
                (long long)up.rekeyed);
    return EXIT_OK;
}

static int open_common(const char *cmd, const char *data, bool need_kek, bool verify_only,
                       struct cli_admin *d)
{
    char err[512], path[PATH_MAX];
    memset(d, 0, sizeof *d);
    d->cmd = cmd;
    if (app_load_config(&d->app, data, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    d->config_loaded = true;
    if (app_store_open(&d->app, 1, false, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye %s: %s\n", cmd, err);
        return EXIT_FAIL;
    }
    int rc;
    if ((rc = open_audit(d, verify_only)) != EXIT_OK)
        return rc;
    if ((rc = store_acquire(d->app.store, &d->conn)) != STORE_OK) {
        fprintf(stderr, "zhanye %s: %s: %s\n", cmd, d->app.cfg.store.path, store_errmsg(NULL));
        return EXIT_FAIL;
    }
    if (!need_kek)
        return EXIT_OK;
    if (kek_path(d->app.cfg.channel.key_dir, path, sizeof path) != 0 ||
        (rc = kek_load(path, &d->kek)) != ID_OK) {
        fprintf(stderr, "zhanye %s: key-encryption key %s: %s\n", cmd, path,
                rc == ID_NOT_FOUND   ? "missing (zhanye init creates it)"
                : rc == ID_BAD_INPUT ? "malformed, or readable by group/others (must be 0600)"
                                     : "cannot be read");
        return EXIT_FAIL;
    }
    d->have_kek = true;
    return EXIT_OK;
}

int cli_admin_open(const char *cmd, const char *data, bool need_kek, struct cli_admin *d)
{
    return open_common(cmd, data, need_kek, false, d);
}

int cli_admin_open_verify(const char *cmd, const char *data, struct cli_admin *d)
{
    return open_common(cmd, data, false, true, d);
}

void cli_admin_close(struct cli_admin *d)
{
    if (d->have_kek)
        kek_wipe(&d->kek);
    store_release(d->conn);
    d->conn = NULL;
    if (d->have_audit) {
        /* A checkpoint that came due in this command; it takes the (only) connection. */
        if (d->app.store && audit_checkpoint_if_due(d->app.store) != ID_OK)
            fprintf(stderr, "zhanye %s: a due audit checkpoint failed (see above)\n", d->cmd);
        audit_close();
    }
    app_store_close(&d->app);
    if (d->config_loaded)
        config_free(&d->app.cfg);
    memset(d, 0, sizeof *d);
}

const char *cli_admin_actor(char *buf, size_t cap)
{
    const struct passwd *pw = getpwuid(geteuid());
    int n = snprintf(buf, cap, "cli:%s", pw && pw->pw_name ? pw->pw_name : "?");
    if (n < 0 || (size_t)n >= cap)
        snprintf(buf, cap, "cli:uid%u", (unsigned)geteuid());
    return buf;
}

int cli_admin_run(struct cli_admin *d, const char *name, store_txn_fn fn, void *arg,
                  const char *what)
{
    int rc = store_run(d->conn, name, fn, arg);
    if (rc != ID_OK)
        fprintf(stderr, "zhanye %s: %s: %s%s%s\n", d->cmd, what, id_rc_name(rc), rc < 0 ? ": " : "",
                rc < 0 ? store_errmsg(d->conn) : "");
    return rc;
}

int cli_admin_read_password(const char *cmd, char *buf, size_t cap)
{
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "password: ");
    if (!fgets(buf, (int)cap, stdin)) {
        fprintf(stderr, "zhanye %s: no password on stdin\n", cmd);
        return -1;
    }
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (n + 1 == cap) {
        fprintf(stderr, "zhanye %s: password longer than %zu bytes\n", cmd, cap - 2);
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return 0;
}
