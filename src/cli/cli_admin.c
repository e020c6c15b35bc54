/* cli_admin.c — shared by the identity commands (see cli_admin.h).
 *
 * These commands write to the same database a running server uses: SQLite
 * serialises the writers, and the server's busy timeout applies. */
#include "cli/cli_admin.h"

#include "identity/kek.h"

#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cli_admin_open(const char *cmd, const char *data, bool need_kek, struct cli_admin *d)
{
    char err[512], path[PATH_MAX];
    memset(d, 0, sizeof *d);
    d->cmd = cmd;
    if (app_load_config(&d->app, data, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    d->config_loaded = true;
    if (access(d->app.cfg.store.path, F_OK) != 0) {
        fprintf(stderr, "zhanye %s: %s: no database; run `zhanye init --data %s` first\n", cmd,
                d->app.cfg.store.path, data);
        return EXIT_FAIL;
    }
    struct store_config sc = {
        .backend = d->app.cfg.store.backend,
        .path = d->app.cfg.store.path,
        .pool_size = 1,
        .busy_timeout_ms = d->app.cfg.store.busy_timeout_ms,
    };
    int rc = store_open(&sc, &d->app.store);
    if (rc == STORE_OK)
        rc = store_migrate(d->app.store);
    if (rc == STORE_OK)
        rc = store_acquire(d->app.store, &d->conn);
    if (rc != STORE_OK) {
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

void cli_admin_close(struct cli_admin *d)
{
    if (d->have_kek)
        kek_wipe(&d->kek);
    store_release(d->conn);
    if (d->app.store)
        store_close(d->app.store);
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

int cli_admin_begin(struct cli_admin *d)
{
    int rc = store_begin(d->conn);
    if (rc != STORE_OK)
        fprintf(stderr, "zhanye %s: cannot begin a transaction: %s\n", d->cmd,
                store_errmsg(d->conn));
    return rc;
}

int cli_admin_end(struct cli_admin *d, int rc, const char *what)
{
    if (rc == ID_OK)
        rc = store_commit(d->conn);
    if (rc == ID_OK)
        return EXIT_OK;
    store_rollback(d->conn);
    fprintf(stderr, "zhanye %s: %s: %s%s%s\n", d->cmd, what, id_rc_name(rc), rc < 0 ? ": " : "",
            rc < 0 ? store_errmsg(d->conn) : "");
    return EXIT_FAIL;
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
