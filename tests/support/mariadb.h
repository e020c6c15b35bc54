/* mariadb — test support: a private MariaDB server for one test process.
 *
 * mariadb_start() makes a temp directory /tmp/zhanye-mdb-XXXXXX, installs a
 * fresh data directory into DIR/data (`mariadb-install-db --no-defaults`)
 * and starts `mariadbd --no-defaults` on it, listening on 127.0.0.1 at a
 * free port and on the unix socket DIR/mysqld.sock, with its error log in
 * DIR/error.log. Never a system service: nothing outside DIR is read or
 * written (no my.cnf), and the server dies with the process that started it
 * (PR_SET_PDEATHSIG), even when that one is killed before mariadb_stop().
 * What such a killed server leaves in /tmp is removed by the next
 * mariadb_start() of the same user.
 *
 * The server is set up as a replication source will be (binary log in ROW
 * format, server_id 1, gtid_strict_mode) but tuned small and fast for tests:
 * 16 MB buffer pool, 8 MB redo log, no performance schema, and the redo log
 * and binary log are not synced at each commit (a crash of the test's own
 * server is not what is tested).
 *
 * An account `user` ('zhanye') exists for '127.0.0.1' (TCP) and 'localhost'
 * (the socket) with the random `password` and ALL PRIVILEGES on *.*, so it
 * may CREATE DATABASE. The harness itself administers the server through the
 * socket as the calling OS user (unix_socket authentication, no password).
 *
 * Tools: mariadb-install-db from PATH; mariadbd from $ZHANYE_MARIADBD, else
 * the first of /usr/sbin, /usr/libexec, /usr/bin that has it. As root,
 * mariadbd runs with --user=root.
 *
 * Not thread-safe; call from one thread (the one that lives as long as the
 * server: the server is killed when the thread that started it ends). */
#ifndef ZHANYE_TEST_MARIADB_H
#define ZHANYE_TEST_MARIADB_H

#include <limits.h>
#include <sys/types.h>

struct mariadb_srv {
    char dir[64];     /* the temp directory (data/, socket, logs); "" when stopped */
    char socket[108]; /* DIR/mysqld.sock */
    char host[16];    /* "127.0.0.1" */
    int port;
    char servers[32];  /* "127.0.0.1:PORT", as [store] servers takes it */
    char user[16];     /* "zhanye" */
    char password[33]; /* 32 random hex digits */
    pid_t pid;         /* mariadbd; 0 when stopped */
    int server_id;     /* 1 for mariadb_start; the caller's for a replica */
    pid_t owner;       /* the process that started it; only it stops it */
    /* What startup cost, in milliseconds: mariadb-install-db, then mariadbd
     * until it accepted a connection, then the account set-up. */
    double install_ms, start_ms, setup_ms;
};

/* Installs and starts a server as above and creates the account. A clash on
 * the picked port (another process took it in between) is retried with a
 * new one, a few times. Waits at most 30 s for the server to accept
 * connections. 0 on success; -1 on any failure, with the reason (and the
 * tail of the server's error log) on stderr, and nothing left running. */
int mariadb_start(struct mariadb_srv *m);

/* CREATE DATABASE name CHARACTER SET utf8mb4 COLLATE utf8mb4_bin on a
 * started server. name: 1 to 64 of [A-Za-z0-9_]. 0, or -1 with the reason on
 * stderr (bad name, no connection, the database exists, ...). */
int mariadb_create_db(const struct mariadb_srv *m, const char *name);

/* A replica of primary (GTID replication from its first transaction, so it
 * gets the zhanye account and every database), read_only, with the given
 * server_id (> 1), caught up before it returns. Its user and password are
 * the primary's. 0, or -1 with the reason on stderr and nothing running. */
int mariadb_start_replica(const struct mariadb_srv *primary, int server_id, struct mariadb_srv *r);

/* Runs sql as the server's administrator (the OS user, over the socket):
 * e.g. SET GLOBAL read_only = 1. 0, or -1 with the reason on stderr. */
int mariadb_admin_exec(const struct mariadb_srv *m, const char *sql);

/* SIGTERM, waits up to 20 s, then SIGKILL; removes DIR. Does nothing for a
 * server that is not running, or when called by any process but the one that
 * started it (a forked child's atexit must not stop its parent's server).
 * Safe to call twice. */
void mariadb_stop(struct mariadb_srv *m);

#endif
