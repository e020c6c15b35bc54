/* The MariaDB test harness (support/mariadb.h) on a real mariadbd:
 *  - mariadb_start gives a running server on 127.0.0.1 with binary logging
 *    as replication needs it; the 'zhanye' account works over TCP and the
 *    socket with its password only, has every privilege (creates a database
 *    of its own), and mariadb_create_db makes utf8mb4/utf8mb4_bin databases
 *    and refuses bad names and duplicates;
 *  - mariadb_stop from a forked child leaves the parent's server alone, and
 *    from its owner ends the server and removes its directory; a process
 *    killed outright takes its server with it, and the next start removes
 *    the directory it left;
 *  - testd on ZHANYE_TEST_STORE=mariadb writes a zhanye.conf and a 0600
 *    password file that reach a fresh database of the process's server. */
#include "app/app.h"
#include "data/store.h"
#include "mariadb.h"
#include "testd.h"

#include <errno.h>
#include <mysql.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static MYSQL *connect_as(const char *host, int port, const char *sock, const char *user,
                         const char *password, const char *db)
{
    MYSQL *my = mysql_init(NULL);
    assert_non_null(my);
    unsigned int timeout = 5;
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    if (!mysql_real_connect(my, host, user, password, db, (unsigned)port, sock, 0)) {
        mysql_close(my);
        return NULL;
    }
    return my;
}

/* The first column of the first row of sql, as text (static buffer). */
static const char *scalar(MYSQL *my, const char *sql)
{
    static char v[256];
    if (mysql_query(my, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(my));
    MYSQL_RES *r = mysql_store_result(my);
    assert_non_null(r);
    MYSQL_ROW row = mysql_fetch_row(r);
    assert_non_null(row);
    snprintf(v, sizeof v, "%s", row[0] ? row[0] : "NULL");
    mysql_free_result(r);
    return v;
}

static void exec_ok(MYSQL *my, const char *sql)
{
    if (mysql_query(my, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(my));
}

static void start_account_db_stop(void **state)
{
    (void)state;
    struct mariadb_srv m;
    assert_int_equal(mariadb_start(&m), 0);
    fprintf(stderr,
            "harness: mariadb-install-db %.0f ms, mariadbd ready %.0f ms, account %.0f ms\n",
            m.install_ms, m.start_ms, m.setup_ms);
    assert_true(m.pid > 0 && m.port > 0);
    assert_int_equal(kill(m.pid, 0), 0);
    char servers[32];
    snprintf(servers, sizeof servers, "127.0.0.1:%d", m.port);
    assert_string_equal(m.servers, servers);
    assert_int_equal(strlen(m.password), 32);

    /* the server is set up as a replication source */
    MYSQL *my = connect_as(m.host, m.port, NULL, m.user, m.password, NULL);
    assert_non_null(my);
    assert_string_equal(scalar(my, "SELECT @@log_bin"), "1");
    assert_string_equal(scalar(my, "SELECT @@binlog_format"), "ROW");
    assert_string_equal(scalar(my, "SELECT @@server_id"), "1");
    assert_string_equal(scalar(my, "SELECT @@gtid_strict_mode"), "1");
    assert_string_equal(scalar(my, "SELECT @@bind_address"), "127.0.0.1");
    /* every privilege: the account creates (and drops) a database of its own */
    exec_ok(my, "CREATE DATABASE zt_own_db");
    exec_ok(my, "DROP DATABASE zt_own_db");
    mysql_close(my);

    /* the harness's databases: utf8mb4 with binary collation */
    assert_int_equal(mariadb_create_db(&m, "zt_harness"), 0);
    assert_int_equal(mariadb_create_db(&m, "zt_harness"), -1); /* exists */
    assert_int_equal(mariadb_create_db(&m, "zt-bad"), -1);
    assert_int_equal(mariadb_create_db(&m, "x`; DROP DATABASE mysql; --"), -1);
    assert_int_equal(mariadb_create_db(&m, ""), -1);
    my = connect_as(m.host, m.port, NULL, m.user, m.password, "zt_harness");
    assert_non_null(my);
    assert_string_equal(scalar(my, "SELECT @@character_set_database"), "utf8mb4");
    assert_string_equal(scalar(my, "SELECT @@collation_database"), "utf8mb4_bin");
    exec_ok(my, "CREATE TABLE t (s VARCHAR(16) NOT NULL)");
    exec_ok(my, "INSERT INTO t VALUES ('a'), ('A'), ('展业')");
    assert_string_equal(scalar(my, "SELECT COUNT(*) FROM t WHERE s = 'a'"), "1"); /* binary */
    assert_string_equal(scalar(my, "SELECT s FROM t WHERE s LIKE '展%'"), "展业");
    mysql_close(my);

    /* the account through the socket; a wrong password is refused both ways */
    my = connect_as("localhost", 0, m.socket, m.user, m.password, "zt_harness");
    assert_non_null(my);
    assert_string_equal(scalar(my, "SELECT COUNT(*) FROM t"), "3");
    mysql_close(my);
    assert_null(connect_as(m.host, m.port, NULL, m.user, "wrong", NULL));
    assert_null(connect_as("localhost", 0, m.socket, m.user, "wrong", NULL));

    /* a forked child's stop (as its atexit would) leaves the server running */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        mariadb_stop(&m);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_int_equal(kill(m.pid, 0), 0);
    struct stat sb;
    assert_int_equal(stat(m.dir, &sb), 0);
    my = connect_as(m.host, m.port, NULL, m.user, m.password, NULL);
    assert_non_null(my);
    mysql_close(my);

    /* the owner's stop ends the server and removes its directory */
    pid_t pid = m.pid;
    char dir[sizeof m.dir];
    snprintf(dir, sizeof dir, "%s", m.dir);
    int port = m.port;
    double t0 = now_ms();
    mariadb_stop(&m);
    fprintf(stderr, "harness: mariadb_stop %.0f ms\n", now_ms() - t0);
    assert_int_equal(m.pid, 0);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(stat(dir, &sb), -1);
    assert_null(connect_as("127.0.0.1", port, NULL, "zhanye", "x", NULL));
    mariadb_stop(&m); /* twice is harmless */
}

static bool proc_gone(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[2] == 'Z'; /* a zombie nobody reaped yet */
}

/* A test process killed outright (SIGKILL: no atexit) takes its server with
 * it, and the next mariadb_start removes the directory it left. */
static void killed_owner_leaves_nothing_running(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        struct mariadb_srv m;
        close(p[0]);
        if (mariadb_start(&m) != 0)
            _exit(1);
        ssize_t w = write(p[1], &m, sizeof m);
        (void)w;
        pause();
        _exit(0);
    }
    close(p[1]);
    struct mariadb_srv m;
    ssize_t got = 0;
    for (ssize_t n;
         got < (ssize_t)sizeof m && (n = read(p[0], (char *)&m + got, sizeof m - (size_t)got)) > 0;)
        got += n;
    close(p[0]);
    assert_int_equal(got, sizeof m);
    assert_false(proc_gone(m.pid));
    assert_int_equal(kill(child, SIGKILL), 0);
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    for (int i = 0; i < 200 && !proc_gone(m.pid); i++)
        usleep(50 * 1000);
    assert_true(proc_gone(m.pid)); /* PR_SET_PDEATHSIG */
    struct stat sb;
    assert_int_equal(stat(m.dir, &sb), 0); /* left behind */

    struct mariadb_srv next;
    assert_int_equal(mariadb_start(&next), 0);
    assert_int_equal(stat(m.dir, &sb), -1); /* swept */
    assert_int_equal(errno, ENOENT);
    mariadb_stop(&next);
}

/* testd's MariaDB set-up: whatever `zhanye init` makes of it (it fails while
 * the backend is missing), DIR/zhanye.conf and DIR/keys/db.password lead to
 * a database of the process's server that the account may use. */
static void testd_points_at_a_fresh_database(void **state)
{
    (void)state;
    assert_int_equal(setenv("ZHANYE_TEST_STORE", "mariadb", 1), 0);
    assert_true(testd_mariadb());
    struct testd d;
    double t0 = now_ms();
    int init_rc = testd_init(&d, NULL);
    fprintf(stderr, "harness: testd_init on MariaDB %.0f ms (the server's start included)\n",
            now_ms() - t0);
    t0 = now_ms();
    struct testd d2;
    assert_int_equal(testd_init(&d2, NULL), init_rc);
    fprintf(stderr, "harness: testd_init on MariaDB %.0f ms (server running)\n", now_ms() - t0);
    testd_cleanup(&d2);

    struct app *a = calloc(1, sizeof *a);
    assert_non_null(a);
    char err[512], path[PATH_MAX + 32], pw[64] = "";
    assert_int_equal(app_load_config(a, d.dir, err, sizeof err), APP_OK);
    assert_string_equal(a->cfg.store.backend, "mariadb");
    assert_int_equal(strncmp(a->cfg.store.database, "zt_", 3), 0);
    snprintf(path, sizeof path, "%s/keys/db.password", d.dir);
    assert_string_equal(a->cfg.store.password_file, path);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(pw, sizeof pw, f));
    fclose(f);
    pw[strcspn(pw, "\n")] = '\0';
    assert_int_equal(strlen(pw), 32);

    char host[sizeof a->cfg.store.servers];
    snprintf(host, sizeof host, "%s", a->cfg.store.servers);
    char *colon = strrchr(host, ':');
    assert_non_null(colon);
    *colon = '\0';
    MYSQL *my =
        connect_as(host, atoi(colon + 1), NULL, a->cfg.store.user, pw, a->cfg.store.database);
    assert_non_null(my);
    assert_string_equal(scalar(my, "SELECT @@collation_database"), "utf8mb4_bin");
    mysql_close(my);
    config_free(&a->cfg);
    free(a);

    /* once the backend exists, init succeeds and testd_store_open reads the
     * demo organisation it seeded */
    if (init_rc == 0) {
        struct store *st = NULL;
        struct store_conn *c = NULL;
        struct store_stmt *s = NULL;
        assert_int_equal(testd_store_open(&d, &st), 0);
        assert_int_equal(store_acquire(st, &c), STORE_OK);
        assert_int_equal(store_prepare(c, "SELECT COUNT(*) FROM banks", &s), STORE_OK);
        assert_int_equal(store_step(s), STORE_ROW);
        assert_true(store_col_int64(s, 0) > 0);
        store_finish(s);
        store_release(c);
        store_close(st);
    } else {
        fprintf(stderr, "harness: zhanye init on MariaDB failed (backend not there yet?)\n");
    }
    testd_cleanup(&d);
    unsetenv("ZHANYE_TEST_STORE");
}

/* On SQLite, testd_store_open opens DIR/zhanye.db: the demo banks are there. */
static void testd_store_open_sqlite(void **state)
{
    (void)state;
    struct testd d;
    assert_false(testd_mariadb());
    double t0 = now_ms();
    assert_int_equal(testd_init(&d, NULL), 0);
    fprintf(stderr, "harness: testd_init on SQLite %.0f ms\n", now_ms() - t0);
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(testd_store_open(&d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    assert_int_equal(store_prepare(c, "SELECT COUNT(*) FROM banks", &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    assert_true(store_col_int64(s, 0) > 0);
    store_finish(s);
    store_release(c);
    store_close(st);
    testd_cleanup(&d);
    assert_int_equal(testd_store_open(&d, &st), -1); /* gone */
    assert_null(st);
}

int main(void)
{
    unsetenv("ZHANYE_TEST_STORE");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_account_db_stop),
        cmocka_unit_test(killed_owner_leaves_nothing_running),
        cmocka_unit_test(testd_store_open_sqlite),
        cmocka_unit_test(testd_points_at_a_fresh_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
