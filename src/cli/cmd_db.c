/* zhanye db status --data DIR [admin options]
 * zhanye db failover --data DIR --to HOST:PORT --repl-password-file FILE
 *                    [--repl-user U] [admin options] [--wait-s N]
 *   admin options: [--admin-user U] [--admin-password-file FILE]
 *
 * The MariaDB servers of DIR/zhanye.conf ([store] servers, backend
 * mariadb). status prints what each server is: whether it answers,
 * read_only, its GTID positions (current, slave, binlog), its replication
 * and semi-sync; exit 0 when exactly one server is writable, 1 otherwise.
 * failover makes --to the primary (data/mariadb_admin.h: fence the old
 * primary if it answers, check that the target holds every transaction,
 * promote, repoint the others), printing each step; exit 0 done, 1 refused
 * or failed (the message names the server and what it lacks or what
 * failed), 2 usage or configuration.
 *
 * The admin account defaults to the nodes' ([store] user and password_file),
 * which may survey but not promote: a failover needs an account with the
 * privileges of docs/deploy.md (--admin-user, --admin-password-file). The
 * replication account (--repl-user, default repl) is what the repointed
 * servers connect to the new primary with. Password files follow the rule
 * of [store] password_file: a regular file only its owner can read, one
 * line. */
#include "app/app.h"
#include "cli/cli.h"
#include "data/mariadb_admin.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USAGE                                                                                      \
    "usage: zhanye db status --data DIR [--admin-user U] [--admin-password-file FILE]\n"           \
    "       zhanye db failover --data DIR --to HOST:PORT --repl-password-file FILE\n"              \
    "                          [--repl-user U] [--admin-user U] [--admin-password-file FILE]\n"    \
    "                          [--wait-s N]\n"

#define PW_MAX 256

struct db_opts {
    const char *data, *to, *admin_user, *admin_pw_file, *repl_user, *repl_pw_file;
    int wait_s;
};

/* A password file into pw[PW_MAX]. missing_ok: an absent file is no
 * password. 0, or -1 with the message printed. */
static int read_pw(const char *what, const char *path, bool missing_ok, char *pw)
{
    pw[0] = '\0';
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && missing_ok)
        return 0;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        fprintf(stderr, "zhanye db: %s %s: %s\n", what, path,
                fd < 0 ? strerror(errno) : "must be a regular file only its owner can read (0600)");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    ssize_t n = read(fd, pw, PW_MAX - 1);
    close(fd);
    if (n < 0 || n >= PW_MAX - 1) {
        secmem_wipe(pw, PW_MAX);
        fprintf(stderr, "zhanye db: %s %s: %s\n", what, path, n < 0 ? strerror(errno) : "too long");
        return -1;
    }
    while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
        n--;
    pw[n] = '\0';
    return 0;
}

static const char *or_empty(const char *s, const char *empty)
{
    return s && *s ? s : empty;
}

static void print_server(const struct mdba_server *s)
{
    if (!s->reachable) {
        printf("  %-21s DOWN      %s\n", s->addr, s->error);
        return;
    }
    const char *role = !s->read_only ? "PRIMARY" : s->has_master ? "replica" : "read-only";
    printf("  %-21s %-9s read_only=%d gtid_current_pos=%s gtid_slave_pos=%s "
           "gtid_binlog_pos=%s\n",
           s->addr, role, s->read_only ? 1 : 0, or_empty(s->gtid_current, "(empty)"),
           or_empty(s->gtid_slave, "(empty)"), or_empty(s->gtid_binlog, "(empty)"));
    if (s->slave_denied)
        printf("  %-21s replication: not visible to this account (it needs SLAVE MONITOR)\n", "");
    else if (s->has_master)
        printf("  %-21s replication from %s: io %s, sql %s, received %s%s%s\n", "", s->master,
               or_empty(s->io_state, "?"), or_empty(s->sql_state, "?"),
               or_empty(s->gtid_io, "(nothing)"), s->slave_error[0] ? "; last error: " : "",
               s->slave_error);
    else
        printf("  %-21s replication: none\n", "");
    if (s->semi_master >= 0 || s->semi_slave >= 0) {
        printf("  %-21s semi-sync: master %s", "", s->semi_master == 1 ? "ON" : "OFF");
        if (s->semi_master == 1 && s->semi_clients >= 0)
            printf(" (%d acknowledging)", s->semi_clients);
        printf(", slave %s\n", s->semi_slave == 1 ? "ON" : "OFF");
    }
}

static void print_survey(const struct mdba_cluster *c, const char *title)
{
    printf("%s\n", title);
    for (int i = 0; i < c->n; i++)
        print_server(&c->s[i]);
    fflush(stdout);
}

static void print_step(void *arg, const char *line)
{
    (void)arg;
    printf("  - %s\n", line);
    fflush(stdout);
}

/* The servers that take writes: how many, names into buf. */
static int writable(const struct mdba_cluster *c, char *buf, size_t cap)
{
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->n; i++)
        if (c->s[i].reachable && !c->s[i].read_only) {
            size_t l = strlen(buf);
            snprintf(buf + l, cap - l, "%s%s", n ? ", " : "", c->s[i].addr);
            n++;
        }
    return n;
}

static int run_db(bool failover, const struct db_opts *o)
{
    struct app a;
    char err[768], admin_pw[PW_MAX] = "", repl_pw[PW_MAX] = "";
    if (app_load_config(&a, o->data, err, sizeof err) != APP_OK) {
        fprintf(stderr, "zhanye db: %s\n", err);
        return EXIT_USAGE;
    }
    int rc = EXIT_USAGE;
    const struct config *cfg = &a.cfg;
    if (strcmp(cfg->store.backend, "mariadb") != 0) {
        fprintf(stderr, "zhanye db: [store] backend is %s: only a MariaDB store has servers\n",
                cfg->store.backend);
        goto out;
    }
    rc = EXIT_FAIL;
    /* Without --admin-user: the nodes' account and its password file. */
    if (o->admin_user
            ? o->admin_pw_file &&
                  read_pw("--admin-password-file", o->admin_pw_file, false, admin_pw) != 0
            : read_pw("[store] password_file", cfg->store.password_file, true, admin_pw) != 0)
        goto out;
    if (failover && read_pw("--repl-password-file", o->repl_pw_file, false, repl_pw) != 0)
        goto out;
    struct mdba_options mo = {
        .admin_user = o->admin_user ? o->admin_user : cfg->store.user,
        .admin_password = admin_pw,
        .repl_user = o->repl_user ? o->repl_user : "repl",
        .repl_password = repl_pw,
        .app_user = cfg->store.user,
        .connect_timeout_s = (cfg->store.connect_timeout_ms + 999) / 1000,
        .wait_s = o->wait_s,
        .say = print_step,
    };
    struct mdba_cluster c;
    int mrc = mdba_open(&c, cfg->store.servers, &mo);
    if (mrc != MDBA_OK) {
        fprintf(stderr, "zhanye db: %s\n", mdba_error(&c));
        rc = EXIT_USAGE;
        mdba_close(&c);
        goto out;
    }
    char names[MDBA_MAX_SERVERS * MDBA_ADDR_MAX];
    if (!failover) {
        char title[128];
        snprintf(title, sizeof title,
                 "servers ([store] servers) as account %s sees them:", mo.admin_user);
        print_survey(&c, title);
        int n = writable(&c, names, sizeof names);
        if (n == 1) {
            printf("primary: %s\n", names);
            rc = EXIT_OK;
        } else if (n == 0)
            fprintf(stderr, "zhanye db: no server takes writes (no primary)\n");
        else
            fprintf(stderr, "zhanye db: %d servers take writes: %s (fence all but one)\n", n,
                    names);
    } else {
        printf("failover to %s (admin account %s, replication account %s, waits at most %d s)\n",
               o->to, mo.admin_user, mo.repl_user, mo.wait_s);
        print_survey(&c, "before:");
        printf("steps:\n");
        mrc = mdba_failover(&c, o->to);
        if (mrc == MDBA_OK || mrc == MDBA_FAILED)
            print_survey(&c, "after:");
        if (mrc == MDBA_OK) {
            printf("done: %s is the primary\n", o->to);
            rc = EXIT_OK;
        } else {
            fprintf(stderr, "zhanye db: %s\n", mdba_error(&c));
            rc = mrc == MDBA_USAGE ? EXIT_USAGE : EXIT_FAIL;
        }
    }
    mdba_close(&c);
out:
    secmem_wipe(admin_pw, sizeof admin_pw);
    secmem_wipe(repl_pw, sizeof repl_pw);
    config_free(&a.cfg);
    return rc;
}

int cmd_db(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"to", required_argument, NULL, 't'},
        {"admin-user", required_argument, NULL, 'u'},
        {"admin-password-file", required_argument, NULL, 'p'},
        {"repl-user", required_argument, NULL, 'r'},
        {"repl-password-file", required_argument, NULL, 'R'},
        {"wait-s", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    struct db_opts o = {.wait_s = 30};
    const char *sub = argc > 1 ? argv[1] : "";
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'd':
            o.data = optarg;
            break;
        case 't':
            o.to = optarg;
            break;
        case 'u':
            o.admin_user = optarg;
            break;
        case 'p':
            o.admin_pw_file = optarg;
            break;
        case 'r':
            o.repl_user = optarg;
            break;
        case 'R':
            o.repl_pw_file = optarg;
            break;
        case 'w':
            o.wait_s = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || o.wait_s < 1 || o.wait_s > 3600)
                goto usage;
            break;
        default:
            goto usage;
        }
    }
    bool is_status = strcmp(sub, "status") == 0, is_failover = strcmp(sub, "failover") == 0;
    if (!o.data || optind != argc - 1 || !(is_status || is_failover) ||
        (is_status && (o.to || o.repl_user || o.repl_pw_file)) ||
        (is_failover && (!o.to || !o.repl_pw_file)) || (o.admin_pw_file && !o.admin_user))
        goto usage;
    return run_db(is_failover, &o);
usage:
    fprintf(stderr, USAGE);
    return EXIT_USAGE;
}
