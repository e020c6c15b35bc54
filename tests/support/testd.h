/* testd — test support: a real `zhanye` daemon in a temp data directory,
 * real HTTP through libcurl, and running the CLI as a child process.
 *
 * Nothing here imitates a platform component: tests start the binary named
 * by $ZHANYE_BIN and talk to it over loopback like any client would.
 *
 * The store: SQLite (DIR/zhanye.db) unless the environment has
 * ZHANYE_TEST_STORE=mariadb. Then the first testd_init of the process starts
 * a private MariaDB server (support/mariadb.h; stopped at exit), and each
 * testd_init creates a fresh database on it (zt_<pid>_<n>) for its daemon. */
#ifndef ZHANYE_TESTD_H
#define ZHANYE_TESTD_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct store;
struct mariadb_srv;

struct testd {
    char dir[PATH_MAX]; /* the data directory */
    char base[64];      /* "http://127.0.0.1:PORT" */
    int port;
    pid_t pid;
    /* Set after testd_init: testd_start passes `--web web` (the web apps'
     * root, http/static.h); "" = none. */
    char web[PATH_MAX];
};

/* mkdtemp + `zhanye init --data DIR --demo-org --demo-password Demo@1234` (the
 * demo organisation without business data), then
 * appends extra_conf (may be NULL) to DIR/zhanye.conf. On MariaDB, before
 * init: the database is created and DIR/zhanye.conf (the documented default
 * plus a [store] section: backend, servers, database, user) and
 * DIR/keys/db.password (0600) are written. 0 on success; -1 with the reason
 * on stderr (also for a ZHANYE_TEST_STORE other than "", sqlite, mariadb). */
int testd_init(struct testd *d, const char *extra_conf);
/* The same with `--demo`: the demo organisation and its business data
 * (customers, visits, completed businesses with vouchers: app/demo_business.h). */
int testd_init_demo(struct testd *d, const char *extra_conf);
/* True when the tests run on MariaDB (ZHANYE_TEST_STORE=mariadb). */
bool testd_mariadb(void);
/* The process's MariaDB server (started on first use), or NULL on SQLite. */
const struct mariadb_srv *testd_mariadb_server(void);
/* Opens, through zhanye's store API (data/store.h), the database the daemon
 * of d (after testd_init) uses, as its zhanye.conf says: the SQLite file or
 * the MariaDB database with the same servers, account and password. Pool of
 * 2 connections; the caller store_close()s *out. 0, or -1 with the reason on
 * stderr and *out NULL. */
int testd_store_open(const struct testd *d, struct store **out);
/* Starts `zhanye serve` on 127.0.0.1 with a free port; waits until it listens. */
int testd_start(struct testd *d);
/* SIGTERM and wait; returns the exit status (or -1 if it died of a signal). */
int testd_stop(struct testd *d);
/* Stops it if running and removes the data directory. */
void testd_cleanup(struct testd *d);

/* Runs $ZHANYE_BIN with the NULL-terminated args; captures stdout/stderr
 * (malloc'd, caller frees; either may be NULL). Returns the exit status. */
int run_zhanye(char **out, char **err, const char *arg, ...) __attribute__((sentinel));

struct http_result {
    long status;
    char *body;
    size_t len;
    char retry_after[32];
    double seconds;
};

/* One HTTP request on a fresh connection. body may be NULL. 0 if a response came. */
int http_do(const char *method, const char *url, const char *body, size_t len,
            struct http_result *out);
/* The same with one extra request header line ("Name: value"). */
int http_do_hdr(const char *method, const char *url, const char *header, const char *body,
                size_t len, struct http_result *out);
void http_result_free(struct http_result *r);
/* GET base+path and parse the body as JSON; NULL on failure. *status gets the status. */
json_t *http_get_json(const struct testd *d, const char *path, long *status);

/* Path of a file in the source tree ($ZHANYE_SRC/rel) into out. */
const char *src_path(const char *rel, char *out, size_t cap);

#endif
