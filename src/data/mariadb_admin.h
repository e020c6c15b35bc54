/* mariadb_admin — the operator's view of a province's MariaDB servers, and
 * a failover that promotes one of them (`zhanye db status|failover`).
 *
 * Not part of the store: each server gets one admin session of its own
 * (libmariadb, text protocol, no database selected), with an account that
 * holds global privileges (docs/deploy.md, "Accounts": the failover
 * account). The nodes' account is not enough: it may read the positions
 * but not SHOW SLAVE STATUS, fence, promote or repoint.
 *
 * mdba_open parses the server list, connects to every server (one that does
 * not answer is recorded, not a failure) and surveys each: read_only, the
 * three GTID positions, its replication (SHOW SLAVE STATUS) and semi-sync.
 *
 * mdba_failover(c, target) makes target the one writable server, in this
 * order; every step is reported through options.say as it happens:
 *
 *  1. Refuses (MDBA_REFUSED, nothing changed) unless target is one of the
 *     listed servers, answers, and shows the admin account its replication
 *     (the nodes' account does not: it lacks the privileges).
 *  2. Lets every replica apply what it has received (MASTER_GTID_WAIT on
 *     its own Gtid_IO_Pos, at most wait_s); where target lacks a position
 *     another server holds and target's replication is connected, waits
 *     for target to apply it (at most wait_s). Refuses (MDBA_REFUSED,
 *     nothing changed) if target lacks, in some GTID domain, what another
 *     answering server holds (a writable server that target still
 *     replicates from excepted: step 4 settles it).
 *  3. Fences every other writable server: SET GLOBAL read_only = 1, then
 *     KILL CONNECTION of each session of options.app_user there, so no
 *     write lands on it afterwards; its final gtid_binlog_pos is reported.
 *     A fence that fails is MDBA_FAILED before anything is promoted.
 *  4. Step 2's waits again, now that nothing new arrives; then refuses
 *     (MDBA_REFUSED) unless target holds, in every GTID domain, a sequence
 *     number >= every other answering server's gtid_current_pos. Every
 *     refusal names each server target lacks and both positions, says
 *     which server was fenced (then no server takes writes) and which
 *     server holds everything (the one to fail over to instead).
 *  5. Target: STOP SLAVE, RESET SLAVE ALL, semi-sync master on.
 *  6. Every other answering server (the fenced old primary included):
 *     STOP SLAVE; gtid_slave_pos := gtid_binlog_pos where its binlog holds
 *     more (a former primary); CHANGE MASTER TO target with the replication
 *     account, MASTER_USE_GTID = slave_pos; read_only = 1, semi-sync master
 *     off, slave on; START SLAVE; then waits (at most wait_s) until its
 *     replication runs. Done before step 7 so that the new primary's first
 *     commits find semi-sync acknowledgers.
 *  7. Target: SET GLOBAL read_only = 0.
 * Then surveys every server again (c->s).
 *
 * Run again after a failure, it finishes the job: each step is idempotent
 * (a target that is writable already is simply kept writable).
 *
 * Return codes of every function: MDBA_OK; MDBA_REFUSED (a precondition
 * does not hold; mdba_error says which); MDBA_FAILED (a statement failed on
 * a server, or a replica could not be repointed after the promotion:
 * mdba_error says where and whether target was promoted); MDBA_USAGE (a
 * malformed server list or target). Not thread-safe: one cluster value per
 * thread. Passwords are referenced, not copied (libmariadb keeps its own
 * copy per session until mdba_close): the caller keeps them until
 * mdba_close, then wipes them. Nothing is logged; options.say never sees a
 * password. */
#ifndef ZHANYE_MARIADB_ADMIN_H
#define ZHANYE_MARIADB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#define MDBA_MAX_SERVERS 8
#define MDBA_ADDR_MAX 80
#define MDBA_GTID_MAX 512
#define MDBA_MSG_MAX 1024

enum { MDBA_OK = 0, MDBA_REFUSED = 1, MDBA_FAILED = 2, MDBA_USAGE = 3 };

/* What one server is, as last surveyed. */
struct mdba_server {
    char addr[MDBA_ADDR_MAX]; /* "HOST:PORT" as listed */
    char host[64];
    unsigned port;
    bool reachable;
    char error[256]; /* why it does not answer, or what a survey query said */
    bool read_only;
    char gtid_current[MDBA_GTID_MAX]; /* @@gtid_current_pos */
    char gtid_slave[MDBA_GTID_MAX];   /* @@gtid_slave_pos */
    char gtid_binlog[MDBA_GTID_MAX];  /* @@gtid_binlog_pos */
    /* Replication (SHOW SLAVE STATUS); slave_denied: the account may not see it. */
    bool slave_denied;
    bool has_master;
    char master[MDBA_ADDR_MAX];  /* Master_Host:Master_Port */
    char io_state[16];           /* Slave_IO_Running: Yes, No, Connecting */
    char sql_state[16];          /* Slave_SQL_Running: Yes, No */
    char gtid_io[MDBA_GTID_MAX]; /* Gtid_IO_Pos: what it has received */
    char slave_error[256];       /* Last_IO_Error, else Last_SQL_Error */
    /* Rpl_semi_sync_master_status / _slave_status: 1 ON, 0 OFF, -1 unknown. */
    int semi_master, semi_slave;
    int semi_clients; /* Rpl_semi_sync_master_clients, -1 unknown */
};

struct mdba_options {
    const char *admin_user, *admin_password; /* the failover account */
    const char *repl_user, *repl_password;   /* CHANGE MASTER TO ... (failover only) */
    const char *app_user;                    /* the nodes' account: its sessions are killed */
    int connect_timeout_s;                   /* per server, >= 1 */
    int wait_s;                              /* the bound of every wait, >= 1 */
    /* Each step as it happens, one line without newline; may be NULL. */
    void (*say)(void *arg, const char *line);
    void *say_arg;
};

struct mdba_cluster {
    int n;
    struct mdba_server s[MDBA_MAX_SERVERS];
    /* private */
    void *db[MDBA_MAX_SERVERS]; /* MYSQL *, NULL when the server does not answer */
    struct mdba_options o;
    char err[MDBA_MSG_MAX];
};

/* Parses servers ("HOST:PORT,...") and surveys each. MDBA_OK even when no
 * server answers (see c->s[i].reachable); MDBA_USAGE for a malformed list
 * or options. Close c in any case. */
int mdba_open(struct mdba_cluster *c, const char *servers, const struct mdba_options *o);
/* Surveys every server again (reconnecting to those that did not answer). */
void mdba_survey(struct mdba_cluster *c);
/* The failover described above. target is "HOST:PORT". */
int mdba_failover(struct mdba_cluster *c, const char *target);
/* The message of the last MDBA_REFUSED, MDBA_FAILED or MDBA_USAGE. */
const char *mdba_error(const struct mdba_cluster *c);
void mdba_close(struct mdba_cluster *c);

/* Whether GTID position have lacks something of want: for some domain of
 * want, have has no GTID or a lower sequence number (server ids are not
 * compared: gtid_strict_mode keeps sequence numbers rising across a
 * promotion). 1 if it lacks (what: "domain D: has HAVE_GTID, lacks up to
 * WANT_GTID", HAVE_GTID "none" when have has no GTID of D), 0 if not, -1 if a
 * position is malformed. Positions are "D-S-N" lists, comma-separated; ""
 * is the empty position. */
int mdba_gtid_lacks(const char *have, const char *want, char *what, size_t cap);

#endif
