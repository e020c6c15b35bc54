#include "mariadb.h"
#include "proc.h"

#include <mysql.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 20000
#define PORT_ATTEMPTS 5

/* Server options given to both mariadb-install-db (its bootstrap server) and
 * mariadbd: the InnoDB files must agree between the two. */
#define SMALL_OPTS                                                                                 \
    "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M", "--performance-schema=OFF"

static const char *find_mariadbd(void)
{
    static const char *const CANDIDATES[] = {"/usr/sbin/mariadbd", "/usr/libexec/mariadbd",
                                             "/usr/bin/mariadbd"};
    const char *env = getenv("ZHANYE_MARIADBD");
    if (env && *env)
        return env;
    for (size_t i = 0; i < sizeof CANDIDATES / sizeof *CANDIDATES; i++)
        if (access(CANDIDATES[i], X_OK) == 0)
            return CANDIDATES[i];
    return NULL;
}

static const char *os_user(void)
{
    const struct passwd *pw = getpwuid(geteuid());
    return pw ? pw->pw_name : "root";
}

/* A connection as the OS user through the socket (unix_socket auth), or NULL. */
static MYSQL *admin_connect(const struct mariadb_srv *m, bool quiet)
{
    MYSQL *my = mysql_init(NULL);
    if (!my)
        return NULL;
    unsigned int timeout = 2;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (!mysql_real_connect(my, "localhost", os_user(), NULL, NULL, 0, m->socket, 0)) {
        if (!quiet)
            fprintf(stderr, "mariadb: cannot connect to %s as %s: %s\n", m->socket, os_user(),
                    mysql_error(my));
        mysql_close(my);
        return NULL;
    }
    return my;
}

static int query(MYSQL *my, const char *sql)
{
    if (mysql_query(my, sql) != 0) {
        fprintf(stderr, "mariadb: %s: %s\n", sql, mysql_error(my));
        return -1;
    }
    return 0;
}

/* Runs argv to completion with its output in log; its exit status or -1. */
static int run(char *const argv[], const char *log)
{
    pid_t pid = proc_spawn(argv, log, true);
    int st;
    if (pid < 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int install(struct mariadb_srv *m)
{
    char datadir[sizeof m->dir + 40], log[sizeof m->dir + 40], sockuser[128],
        tmpdir[sizeof m->dir + 40];
    snprintf(datadir, sizeof datadir, "--datadir=%s/data", m->dir);
    /* Its own tmpdir: bootstraps running at once in a shared /tmp collide on
     * their temporary tables ("Unknown table 'mysql.tmp_user_sys'"). */
    snprintf(tmpdir, sizeof tmpdir, "--tmpdir=%s", m->dir);
    snprintf(log, sizeof log, "%s/install.log", m->dir);
    snprintf(sockuser, sizeof sockuser, "--auth-root-socket-user=%s", os_user());
    char *argv[16] = {"mariadb-install-db",
                      "--no-defaults",
                      datadir,
                      "--auth-root-authentication-method=socket",
                      sockuser,
                      "--skip-test-db",
                      tmpdir,
                      SMALL_OPTS};
    int n = 0;
    while (argv[n])
        n++;
    if (geteuid() == 0)
        argv[n++] = "--user=root";
    argv[n] = NULL;
    double t0 = proc_now_ms();
    int rc = run(argv, log);
    m->install_ms = proc_now_ms() - t0;
    if (rc != 0) {
        fprintf(stderr, "mariadb: mariadb-install-db failed (exit %d)\n", rc);
        proc_print_tail("mariadb", log, 0);
        return -1;
    }
    return 0;
}

/* Waits until the server accepts a connection on its socket: 0; 1 when it
 * exited before (its status reaped, pid cleared); -1 after the timeout. */
static int wait_ready(struct mariadb_srv *m)
{
    double deadline = proc_now_ms() + READY_TIMEOUT_MS;
    for (;;) {
        int st;
        if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
            m->pid = 0;
            return 1;
        }
        MYSQL *my = admin_connect(m, true);
        if (my) {
            mysql_close(my);
            return 0;
        }
        if (proc_now_ms() > deadline)
            return -1;
        proc_sleep_ms(25);
    }
}

/* Starts mariadbd on a free port; retries a port clash. 0 or -1. */
static int launch(struct mariadb_srv *m, const char *mariadbd)
{
    char datadir[sizeof m->dir + 40], sock[sizeof m->socket + 16], pidf[sizeof m->dir + 40],
        errlog[sizeof m->dir + 40], logerr[sizeof errlog + 16], tmpdir[sizeof m->dir + 40],
        port[32], sid[32];
    snprintf(sid, sizeof sid, "--server-id=%d", m->server_id > 0 ? m->server_id : 1);
    snprintf(datadir, sizeof datadir, "--datadir=%s/data", m->dir);
    snprintf(sock, sizeof sock, "--socket=%s", m->socket);
    snprintf(pidf, sizeof pidf, "--pid-file=%s/mariadbd.pid", m->dir);
    snprintf(errlog, sizeof errlog, "%s/error.log", m->dir);
    snprintf(logerr, sizeof logerr, "--log-error=%s", errlog);
    snprintf(tmpdir, sizeof tmpdir, "--tmpdir=%s", m->dir);
    char *argv[40] = {(char *)mariadbd,
                      "--no-defaults",
                      datadir,
                      sock,
                      port,
                      "--bind-address=127.0.0.1",
                      pidf,
                      logerr,
                      tmpdir,
                      "--skip-name-resolve",
                      "--log-bin=binlog",
                      sid,
                      "--gtid-strict-mode=1",
                      "--binlog-format=ROW",
                      "--character-set-server=utf8mb4",
                      "--collation-server=utf8mb4_bin",
                      "--innodb-flush-log-at-trx-commit=2",
                      "--sync-binlog=0",
                      SMALL_OPTS};
    int n = 0;
    while (argv[n])
        n++;
    if (geteuid() == 0)
        argv[n++] = "--user=root";
    argv[n] = NULL;

    for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
        if ((m->port = proc_pick_port()) <= 0) {
            fprintf(stderr, "mariadb: no free port on 127.0.0.1: %s\n", strerror(errno));
            return -1;
        }
        snprintf(port, sizeof port, "--port=%d", m->port);
        long from = proc_file_size(errlog);
        double t0 = proc_now_ms();
        m->pid = proc_spawn(argv, errlog, true);
        if (m->pid < 0) {
            m->pid = 0;
            fprintf(stderr, "mariadb: cannot start %s: %s\n", mariadbd, strerror(errno));
            return -1;
        }
        int rc = wait_ready(m);
        m->start_ms = proc_now_ms() - t0;
        if (rc == 0)
            return 0;
        if (rc == 1 && attempt < PORT_ATTEMPTS &&
            (proc_log_has(errlog, from, "Address already in use") ||
             proc_log_has(errlog, from, "Do you already have another server running"))) {
            fprintf(stderr, "mariadb: port %d was taken; retrying with another\n", m->port);
            continue;
        }
        fprintf(stderr, "mariadb: %s %s within %d s\n", mariadbd,
                rc == 1 ? "exited before accepting connections" : "did not accept connections",
                READY_TIMEOUT_MS / 1000);
        proc_print_tail("mariadb", errlog, from);
        return -1;
    }
    return -1;
}

static int create_account(struct mariadb_srv *m)
{
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return -1;
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(m->password + 2 * i, 3, "%02x", rnd[i]);
    MYSQL *my = admin_connect(m, false);
    if (!my)
        return -1;
    static const char *const HOSTS[] = {"127.0.0.1", "localhost"};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < 2; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", m->user, HOSTS[i],
                 m->password);
        rc = query(my, sql);
        /* As in production: everything on its own databases, nothing global,
         * so a server's read_only binds it (no READ_ONLY ADMIN). */
        snprintf(sql, sizeof sql, "GRANT ALL PRIVILEGES ON `zt\\_%%`.* TO '%s'@'%s'", m->user,
                 HOSTS[i]);
        if (rc == 0)
            rc = query(my, sql);
    }
    mysql_close(my);
    return rc;
}

/* Install, launch and (account) the account; m->server_id set by the caller. */
static int start_generic(struct mariadb_srv *m, bool account)
{
    proc_sweep_stale("zhanye-mdb-", "mariadbd.pid");
    m->owner = getpid();
    snprintf(m->host, sizeof m->host, "127.0.0.1");
    snprintf(m->user, sizeof m->user, "zhanye");
    const char *mariadbd = find_mariadbd();
    if (!mariadbd) {
        fprintf(stderr, "mariadb: no mariadbd (install mariadb-server, or set ZHANYE_MARIADBD)\n");
        return -1;
    }
    snprintf(m->dir, sizeof m->dir, "/tmp/zhanye-mdb-XXXXXX");
    if (!mkdtemp(m->dir)) {
        fprintf(stderr, "mariadb: mkdtemp: %s\n", strerror(errno));
        m->dir[0] = '\0';
        return -1;
    }
    snprintf(m->socket, sizeof m->socket, "%s/mysqld.sock", m->dir);
    if (install(m) != 0 || launch(m, mariadbd) != 0) {
        mariadb_stop(m);
        return -1;
    }
    double t0 = proc_now_ms();
    if (account && create_account(m) != 0) {
        mariadb_stop(m);
        return -1;
    }
    m->setup_ms = proc_now_ms() - t0;
    snprintf(m->servers, sizeof m->servers, "%s:%d", m->host, m->port);
    return 0;
}

int mariadb_start(struct mariadb_srv *m)
{
    memset(m, 0, sizeof *m);
    m->server_id = 1;
    return start_generic(m, true);
}

/* One integer of a query as the administrator; -2 when it failed. */
static long long admin_int(const struct mariadb_srv *m, const char *sql)
{
    MYSQL *my = admin_connect(m, false);
    long long v = -2;
    if (my && mysql_query(my, sql) == 0) {
        MYSQL_RES *r = mysql_store_result(my);
        MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
        if (row && row[0])
            v = strtoll(row[0], NULL, 10);
        if (r)
            mysql_free_result(r);
    } else if (my) {
        fprintf(stderr, "mariadb: %s: %s\n", sql, mysql_error(my));
    }
    if (my)
        mysql_close(my);
    return v;
}

int mariadb_start_replica(const struct mariadb_srv *primary, int server_id, struct mariadb_srv *r)
{
    char sql[512], pos[256] = "";
    memset(r, 0, sizeof *r);
    r->server_id = server_id;
    if (start_generic(r, false) != 0)
        return -1;
    /* The account comes from the primary's binlog, with everything else. */
    snprintf(r->password, sizeof r->password, "%s", primary->password);
    snprintf(sql, sizeof sql, "CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1' IDENTIFIED BY '%s'",
             primary->password);
    int rc = mariadb_admin_exec(primary, sql);
    if (rc == 0)
        rc = mariadb_admin_exec(primary, "GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'");
    snprintf(sql, sizeof sql,
             "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', "
             "MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos",
             primary->port, primary->password);
    if (rc == 0)
        rc = mariadb_admin_exec(r, sql);
    if (rc == 0)
        rc = mariadb_admin_exec(r, "START SLAVE");
    if (rc == 0)
        rc = mariadb_admin_exec(r, "SET GLOBAL read_only = 1");
    /* Caught up with everything the primary had. */
    MYSQL *my = rc == 0 ? admin_connect(primary, false) : NULL;
    if (my && mysql_query(my, "SELECT @@global.gtid_binlog_pos") == 0) {
        MYSQL_RES *res = mysql_store_result(my);
        MYSQL_ROW row = res ? mysql_fetch_row(res) : NULL;
        if (row && row[0])
            snprintf(pos, sizeof pos, "%s", row[0]);
        if (res)
            mysql_free_result(res);
    }
    if (my)
        mysql_close(my);
    snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT('%s', 30)", pos);
    if (rc == 0 && admin_int(r, sql) != 0) {
        fprintf(stderr, "mariadb: the replica did not catch up with %s within 30 s\n", pos);
        rc = -1;
    }
    if (rc != 0)
        mariadb_stop(r);
    return rc;
}

int mariadb_admin_exec(const struct mariadb_srv *m, const char *sql)
{
    MYSQL *my = admin_connect(m, false);
    if (!my)
        return -1;
    int rc = query(my, sql);
    mysql_close(my);
    return rc;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int mariadb_create_db(const struct mariadb_srv *m, const char *name)
{
    if (!valid_name(name)) {
        fprintf(stderr, "mariadb: bad database name '%s'\n", name);
        return -1;
    }
    if (m->pid <= 0) {
        fprintf(stderr, "mariadb: no server running\n");
        return -1;
    }
    MYSQL *my = admin_connect(m, false);
    if (!my)
        return -1;
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
             name);
    int rc = query(my, sql);
    mysql_close(my);
    return rc;
}

void mariadb_stop(struct mariadb_srv *m)
{
    if (m->owner != getpid())
        return;
    if (m->pid > 0) {
        int st;
        kill(m->pid, SIGTERM);
        double deadline = proc_now_ms() + STOP_TIMEOUT_MS;
        pid_t r;
        while ((r = waitpid(m->pid, &st, WNOHANG)) == 0 && proc_now_ms() < deadline)
            proc_sleep_ms(10);
        if (r == 0) {
            fprintf(stderr, "mariadb: server %d ignored SIGTERM for %d s; killing it\n",
                    (int)m->pid, STOP_TIMEOUT_MS / 1000);
            kill(m->pid, SIGKILL);
            while (waitpid(m->pid, &st, 0) < 0 && errno == EINTR)
                ;
        }
        m->pid = 0;
    }
    if (m->dir[0])
        proc_rm_rf(m->dir);
    m->dir[0] = '\0';
    memset(m->password, 0, sizeof m->password);
}
