/* mariadb_admin.c — survey and failover of the MariaDB servers (see
 * mariadb_admin.h for the steps and their order).
 *
 * Every statement runs over the text protocol on the server's admin session;
 * a statement that fails names the server and the step, never the SQL (a
 * CHANGE MASTER carries the replication password). Waits poll every 100 ms
 * or use MASTER_GTID_WAIT, each bounded by options.wait_s. */
#include "data/mariadb_admin.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DOMAINS 64
#define POLL_MS 100

struct gtid {
    unsigned long long domain, server, seq;
};

static void set_err(struct mdba_cluster *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(struct mdba_cluster *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

static void say(struct mdba_cluster *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct mdba_cluster *c, const char *fmt, ...)
{
    char line[MDBA_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->o.say)
        c->o.say(c->o.say_arg, line);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- GTID positions ------------------------------------------------------- */

/* "D-S-N,D-S-N" into out[max]; the count, or -1 if malformed. */
static int parse_gtids(const char *pos, struct gtid *out, int max)
{
    int n = 0;
    for (const char *p = pos ? pos : ""; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t')
            p++;
        if (!*p)
            break;
        unsigned long long v[3];
        for (int k = 0; k < 3; k++) {
            if (*p < '0' || *p > '9')
                return -1;
            char *end;
            errno = 0;
            v[k] = strtoull(p, &end, 10);
            if (errno || end == p || (k < 2 && *end != '-'))
                return -1;
            p = k < 2 ? end + 1 : end;
        }
        if ((*p && *p != ',' && *p != ' ' && *p != '\n' && *p != '\t') || n == max)
            return -1;
        out[n++] = (struct gtid){.domain = v[0], .server = v[1], .seq = v[2]};
    }
    return n;
}

int mdba_gtid_lacks(const char *have, const char *want, char *what, size_t cap)
{
    struct gtid h[MAX_DOMAINS], w[MAX_DOMAINS];
    int nh = parse_gtids(have, h, MAX_DOMAINS), nw = parse_gtids(want, w, MAX_DOMAINS);
    if (nh < 0 || nw < 0)
        return -1;
    for (int i = 0; i < nw; i++) {
        const struct gtid *got = NULL;
        for (int j = 0; j < nh && !got; j++)
            if (h[j].domain == w[i].domain)
                got = &h[j];
        if (got && got->seq >= w[i].seq)
            continue;
        if (what && cap) {
            char g[80] = "none";
            if (got)
                snprintf(g, sizeof g, "%llu-%llu-%llu", got->domain, got->server, got->seq);
            snprintf(what, cap, "domain %llu: has %s, lacks up to %llu-%llu-%llu", w[i].domain, g,
                     w[i].domain, w[i].server, w[i].seq);
        }
        return 1;
    }
    return 0;
}

/* ---- sessions ------------------------------------------------------------- */

static MYSQL *db_of(const struct mdba_cluster *c, int i)
{
    return (MYSQL *)c->db[i];
}

static void drop(struct mdba_cluster *c, int i)
{
    if (c->db[i])
        mysql_close(db_of(c, i));
    c->db[i] = NULL;
}

static bool connect_one(struct mdba_cluster *c, int i)
{
    struct mdba_server *s = &c->s[i];
    MYSQL *db = mysql_init(NULL);
    if (!db) {
        snprintf(s->error, sizeof s->error, "out of memory");
        return false;
    }
    unsigned ct = (unsigned)c->o.connect_timeout_s, rw = (unsigned)c->o.wait_s + 30;
    my_bool off = 0;
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &rw);
    mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &rw);
    mysql_options(db, MYSQL_OPT_RECONNECT, &off);
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db, s->host, c->o.admin_user, c->o.admin_password, NULL, s->port, NULL,
                            0)) {
        snprintf(s->error, sizeof s->error, "%s (mariadb error %u)", mysql_error(db),
                 mysql_errno(db));
        mysql_close(db);
        return false;
    }
    c->db[i] = db;
    /* A fence (SET GLOBAL read_only) waits for locks at most this long. */
    char sql[64];
    snprintf(sql, sizeof sql, "SET SESSION lock_wait_timeout = %d", c->o.wait_s);
    if (mysql_real_query(db, sql, (unsigned long)strlen(sql)) != 0) {
        snprintf(s->error, sizeof s->error, "%s (mariadb error %u)", mysql_error(db),
                 mysql_errno(db));
        drop(c, i);
        return false;
    }
    return true;
}

/* Runs sql on server i, discarding a result. 0, or -1 with the error in
 * c->err as "ADDR: what: message". */
static int run(struct mdba_cluster *c, int i, const char *what, const char *sql)
{
    MYSQL *db = db_of(c, i);
    if (!db) {
        set_err(c, "%s: %s: no session", c->s[i].addr, what);
        return -1;
    }
    if (mysql_real_query(db, sql, (unsigned long)strlen(sql)) == 0) {
        MYSQL_RES *r = mysql_store_result(db);
        if (r)
            mysql_free_result(r);
        if (r || mysql_field_count(db) == 0)
            return 0;
    }
    set_err(c, "%s: %s: %s (mariadb error %u)", c->s[i].addr, what, mysql_error(db),
            mysql_errno(db));
    return -1;
}

/* The result of sql on server i, or NULL with c->err set (as run). */
static MYSQL_RES *query(struct mdba_cluster *c, int i, const char *what, const char *sql)
{
    MYSQL *db = db_of(c, i);
    if (!db) {
        set_err(c, "%s: %s: no session", c->s[i].addr, what);
        return NULL;
    }
    MYSQL_RES *r = NULL;
    if (mysql_real_query(db, sql, (unsigned long)strlen(sql)) == 0 &&
        (r = mysql_store_result(db)) != NULL)
        return r;
    set_err(c, "%s: %s: %s (mariadb error %u)", c->s[i].addr, what, mysql_error(db),
            mysql_errno(db));
    return NULL;
}

/* sql quoted as a string literal for server i into out[cap]; -1 if too long. */
static int quote(struct mdba_cluster *c, int i, const char *v, char *out, size_t cap)
{
    size_t n = strlen(v);
    if (!db_of(c, i) || cap < 2 * n + 3)
        return -1;
    out[0] = '\'';
    unsigned long m = mysql_real_escape_string(db_of(c, i), out + 1, v, (unsigned long)n);
    out[m + 1] = '\'';
    out[m + 2] = '\0';
    return 0;
}

/* ---- survey ---------------------------------------------------------------- */

/* dst := v, cut to fit cap (memcpy: the cut is meant, unlike snprintf's). */
static void copy_field(char *dst, size_t cap, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, v, n);
    dst[n] = '\0';
}

/* Appends v to the list in buf[cap] ("; " between), cut to fit. */
static void append(char *buf, size_t cap, const char *v)
{
    size_t l = strlen(buf);
    if (l && l + 2 < cap) {
        memcpy(buf + l, "; ", 2);
        l += 2;
    }
    copy_field(buf + l, cap - l, v);
}

static void survey_slave(struct mdba_cluster *c, int i)
{
    struct mdba_server *s = &c->s[i];
    MYSQL *db = db_of(c, i);
    static const char SQL[] = "SHOW SLAVE STATUS";
    MYSQL_RES *r = NULL;
    if (mysql_real_query(db, SQL, (unsigned long)strlen(SQL)) != 0 ||
        !(r = mysql_store_result(db))) {
        unsigned e = mysql_errno(db);
        if (e == ER_SPECIFIC_ACCESS_DENIED_ERROR || e == ER_ACCESS_DENIED_ERROR ||
            e == ER_DBACCESS_DENIED_ERROR)
            s->slave_denied = true;
        else
            snprintf(s->error, sizeof s->error, "SHOW SLAVE STATUS: %s (mariadb error %u)",
                     mysql_error(db), e);
        return;
    }
    MYSQL_ROW row = mysql_fetch_row(r);
    if (row) {
        const char *host = NULL, *port = NULL, *ioerr = NULL, *sqlerr = NULL;
        unsigned nf = mysql_num_fields(r);
        const MYSQL_FIELD *f = mysql_fetch_fields(r);
        for (unsigned k = 0; k < nf; k++) {
            const char *name = f[k].name, *v = row[k];
            if (strcmp(name, "Master_Host") == 0)
                host = v;
            else if (strcmp(name, "Master_Port") == 0)
                port = v;
            else if (strcmp(name, "Slave_IO_Running") == 0)
                copy_field(s->io_state, sizeof s->io_state, v);
            else if (strcmp(name, "Slave_SQL_Running") == 0)
                copy_field(s->sql_state, sizeof s->sql_state, v);
            else if (strcmp(name, "Gtid_IO_Pos") == 0)
                copy_field(s->gtid_io, sizeof s->gtid_io, v);
            else if (strcmp(name, "Last_IO_Error") == 0)
                ioerr = v;
            else if (strcmp(name, "Last_SQL_Error") == 0)
                sqlerr = v;
        }
        s->has_master = host && *host;
        snprintf(s->master, sizeof s->master, "%s:%s", host ? host : "?", port ? port : "?");
        copy_field(s->slave_error, sizeof s->slave_error, ioerr && *ioerr ? ioerr : sqlerr);
    }
    mysql_free_result(r);
}

static void survey_semi(struct mdba_cluster *c, int i)
{
    struct mdba_server *s = &c->s[i];
    MYSQL_RES *r = query(c, i, "semi-sync status",
                         "SHOW GLOBAL STATUS WHERE Variable_name IN ('Rpl_semi_sync_master_status',"
                         " 'Rpl_semi_sync_slave_status', 'Rpl_semi_sync_master_clients')");
    if (!r)
        return;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r))) {
        if (!row[0] || !row[1])
            continue;
        int on = strcmp(row[1], "ON") == 0 ? 1 : 0;
        if (strcmp(row[0], "Rpl_semi_sync_master_status") == 0)
            s->semi_master = on;
        else if (strcmp(row[0], "Rpl_semi_sync_slave_status") == 0)
            s->semi_slave = on;
        else if (strcmp(row[0], "Rpl_semi_sync_master_clients") == 0)
            s->semi_clients = atoi(row[1]);
    }
    mysql_free_result(r);
}

static void survey_one(struct mdba_cluster *c, int i)
{
    struct mdba_server *s = &c->s[i];
    struct mdba_server keep = *s;
    *s = (struct mdba_server){
        .port = keep.port, .semi_master = -1, .semi_slave = -1, .semi_clients = -1};
    memcpy(s->addr, keep.addr, sizeof s->addr);
    memcpy(s->host, keep.host, sizeof s->host);
    /* A session the server ended (a restart) is opened again, once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!c->db[i] && !connect_one(c, i))
            return;
        MYSQL_RES *r = query(c, i, "survey",
                             "SELECT @@global.read_only, @@global.gtid_current_pos, "
                             "@@global.gtid_slave_pos, @@global.gtid_binlog_pos");
        if (!r) {
            unsigned e = mysql_errno(db_of(c, i));
            copy_field(s->error, sizeof s->error, c->err);
            drop(c, i);
            if (e == 2006 || e == 2013 || e == ER_CONNECTION_KILLED)
                continue;
            return;
        }
        MYSQL_ROW row = mysql_fetch_row(r);
        if (row) {
            s->reachable = true;
            s->error[0] = '\0';
            s->read_only = row[0] && strcmp(row[0], "0") != 0;
            copy_field(s->gtid_current, sizeof s->gtid_current, row[1]);
            copy_field(s->gtid_slave, sizeof s->gtid_slave, row[2]);
            copy_field(s->gtid_binlog, sizeof s->gtid_binlog, row[3]);
        }
        mysql_free_result(r);
        break;
    }
    if (!s->reachable)
        return;
    survey_slave(c, i);
    survey_semi(c, i);
}

void mdba_survey(struct mdba_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        survey_one(c, i);
}

static int parse_addr(const char *p, size_t n, struct mdba_server *s)
{
    const char *colon = memrchr(p, ':', n);
    size_t hn = colon ? (size_t)(colon - p) : 0;
    char port[8];
    size_t pn = colon ? n - hn - 1 : 0;
    if (!colon || hn == 0 || hn >= sizeof s->host || pn == 0 || pn >= sizeof port ||
        n >= sizeof s->addr)
        return -1;
    memcpy(port, colon + 1, pn);
    port[pn] = '\0';
    char *end;
    long v = strtol(port, &end, 10);
    if (*end || v < 1 || v > 65535 || strspn(port, "0123456789") != pn)
        return -1;
    memcpy(s->host, p, hn);
    s->host[hn] = '\0';
    s->port = (unsigned)v;
    snprintf(s->addr, sizeof s->addr, "%.*s", (int)n, p);
    return 0;
}

int mdba_open(struct mdba_cluster *c, const char *servers, const struct mdba_options *o)
{
    memset(c, 0, sizeof *c);
    c->o = *o;
    if (c->o.connect_timeout_s < 1)
        c->o.connect_timeout_s = 1;
    if (c->o.wait_s < 1)
        c->o.wait_s = 1;
    if (!c->o.admin_user || !*c->o.admin_user) {
        set_err(c, "no admin account");
        return MDBA_USAGE;
    }
    for (const char *p = servers ? servers : ""; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (c->n == MDBA_MAX_SERVERS || parse_addr(p, n, &c->s[c->n]) != 0) {
            set_err(c, "servers: \"%.*s\" is not HOST:PORT (at most %d servers)", (int)n, p,
                    MDBA_MAX_SERVERS);
            return MDBA_USAGE;
        }
        c->n++;
        p += n;
    }
    if (c->n == 0) {
        set_err(c, "servers: the list is empty");
        return MDBA_USAGE;
    }
    mdba_survey(c);
    return MDBA_OK;
}

void mdba_close(struct mdba_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        drop(c, i);
    memset(c, 0, sizeof *c);
}

const char *mdba_error(const struct mdba_cluster *c)
{
    return c->err[0] ? c->err : "no error";
}

/* ---- failover steps ------------------------------------------------------- */

/* Waits at most wait_s for server i to have applied pos. 0 reached, 1 not
 * (timeout), -1 error (c->err). */
static int gtid_wait(struct mdba_cluster *c, int i, const char *pos)
{
    char q[2 * MDBA_GTID_MAX + 3], sql[2 * MDBA_GTID_MAX + 64];
    if (quote(c, i, pos, q, sizeof q) != 0) {
        set_err(c, "%s: GTID position too long", c->s[i].addr);
        return -1;
    }
    snprintf(sql, sizeof sql, "SELECT MASTER_GTID_WAIT(%s, %d)", q, c->o.wait_s);
    MYSQL_RES *r = query(c, i, "MASTER_GTID_WAIT", sql);
    if (!r)
        return -1;
    MYSQL_ROW row = mysql_fetch_row(r);
    int rc = row && row[0] && strcmp(row[0], "0") == 0 ? 0 : 1;
    mysql_free_result(r);
    return rc;
}

/* Step 2: read_only, then the nodes' sessions killed, then the final position. */
static int fence(struct mdba_cluster *c, int i)
{
    const char *a = c->s[i].addr;
    say(c, "fence %s: it is writable: SET GLOBAL read_only = 1", a);
    if (run(c, i, "fence (SET GLOBAL read_only = 1)", "SET GLOBAL read_only = 1") != 0)
        return -1;
    char user[2 * 65 + 3], sql[256];
    const char *app = c->o.app_user && *c->o.app_user ? c->o.app_user : "zhanye";
    if (strlen(app) > 64 || quote(c, i, app, user, sizeof user) != 0) {
        set_err(c, "%s: fence: account name too long", a);
        return -1;
    }
    snprintf(sql, sizeof sql,
             "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s AND ID <> "
             "CONNECTION_ID()",
             user);
    MYSQL_RES *r = query(c, i, "fence (the nodes' sessions)", sql);
    if (!r)
        return -1;
    int killed = 0, rc = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r)) && rc == 0) {
        if (!row[0] || strspn(row[0], "0123456789") != strlen(row[0]))
            continue;
        snprintf(sql, sizeof sql, "KILL CONNECTION %s", row[0]);
        if (run(c, i, "fence (KILL CONNECTION)", sql) == 0)
            killed++;
        else if (mysql_errno(db_of(c, i)) != ER_NO_SUCH_THREAD)
            rc = -1;
    }
    mysql_free_result(r);
    if (rc != 0)
        return -1;
    say(c, "fence %s: killed %d session%s of account %s", a, killed, killed == 1 ? "" : "s", app);
    survey_one(c, i);
    if (!c->s[i].reachable) {
        set_err(c, "%s: fence: %s", a, c->s[i].error);
        return -1;
    }
    say(c, "fence %s: read-only now; final gtid_binlog_pos %s", a,
        c->s[i].gtid_binlog[0] ? c->s[i].gtid_binlog : "(empty)");
    return 0;
}

/* Step 3, first half: each replica applies what it has received. */
static void apply_relay_logs(struct mdba_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        const struct mdba_server *s = &c->s[i];
        if (!s->reachable || strcmp(s->sql_state, "Yes") != 0 || !s->gtid_io[0] ||
            mdba_gtid_lacks(s->gtid_current, s->gtid_io, NULL, 0) != 1)
            continue;
        say(c, "catch up %s: applying its relay log up to %s (at most %d s)", s->addr, s->gtid_io,
            c->o.wait_s);
        int rc = gtid_wait(c, i, s->gtid_io);
        say(c, "catch up %s: %s", s->addr,
            rc == 0   ? "applied"
            : rc == 1 ? "NOT applied within the wait"
                      : mdba_error(c));
    }
    mdba_survey(c);
}

/* Step 3, second half: target still replicates (from a fenced primary)
 * and lacks what another holds: it may yet receive it. */
static void target_catch_up(struct mdba_cluster *c, int t)
{
    for (int i = 0; i < c->n; i++) {
        const struct mdba_server *s = &c->s[i], *ts = &c->s[t];
        if (i == t || !s->reachable || strcmp(ts->io_state, "Yes") != 0 ||
            mdba_gtid_lacks(ts->gtid_current, s->gtid_current, NULL, 0) != 1)
            continue;
        say(c, "catch up %s: waiting for %s's position %s (at most %d s)", ts->addr, s->addr,
            s->gtid_current, c->o.wait_s);
        int rc = gtid_wait(c, t, s->gtid_current);
        say(c, "catch up %s: %s", ts->addr,
            rc == 0   ? "applied"
            : rc == 1 ? "NOT applied within the wait"
                      : mdba_error(c));
        survey_one(c, t);
    }
}

/* Step 4: what target lacks, into c->err; 0 if nothing. following: a
 * writable server is skipped while target's replication runs (before the
 * fence: target may still receive what it lacks). */
static int lacks_any(struct mdba_cluster *c, int t, bool say_ok, bool following)
{
    size_t off = 0;
    int lacking = 0;
    c->err[0] = '\0';
    for (int i = 0; i < c->n; i++) {
        const struct mdba_server *s = &c->s[i], *ts = &c->s[t];
        if (i == t || !s->reachable ||
            (following && !s->read_only && strcmp(ts->io_state, "Yes") == 0))
            continue;
        char what[160];
        int l = mdba_gtid_lacks(ts->gtid_current, s->gtid_current, what, sizeof what);
        if (l == 0) {
            if (say_ok)
                say(c, "check: %s holds everything %s holds (%s >= %s)", ts->addr, s->addr,
                    ts->gtid_current[0] ? ts->gtid_current : "(empty)",
                    s->gtid_current[0] ? s->gtid_current : "(empty)");
            continue;
        }
        int n = l < 0 ? snprintf(c->err + off, sizeof c->err - off,
                                 "%s%s: cannot compare GTID positions %s and %s of %s",
                                 lacking ? "; " : "", ts->addr, ts->gtid_current, s->gtid_current,
                                 s->addr)
                      : snprintf(c->err + off, sizeof c->err - off,
                                 "%s%s lacks transactions that %s holds (%s): %s",
                                 lacking ? "; " : "", ts->addr, s->addr, s->gtid_current, what);
        lacking++;
        if (n > 0)
            off = off + (size_t)n < sizeof c->err ? off + (size_t)n : sizeof c->err - 1;
    }
    return lacking;
}

static void refusal(struct mdba_cluster *c, int t, const bool *fenced)
{
    char msg[MDBA_MSG_MAX];
    size_t off = (size_t)snprintf(msg, sizeof msg, "refused: %s", c->err);
    bool any_fenced = false;
    for (int i = 0; i < c->n; i++)
        any_fenced = any_fenced || fenced[i];
    if (!any_fenced && off < sizeof msg)
        off += (size_t)snprintf(msg + off, sizeof msg - off, ". Nothing was changed");
    int best = -1;
    for (int i = 0; i < c->n && best < 0; i++) {
        if (i == t || !c->s[i].reachable)
            continue;
        if (lacks_any(c, i, false, false) == 0)
            best = i;
    }
    if (any_fenced && off < sizeof msg) {
        off += (size_t)snprintf(msg + off, sizeof msg - off,
                                ". Fenced (read-only now, no server takes writes):");
        for (int i = 0; i < c->n && off < sizeof msg; i++)
            if (fenced[i])
                off += (size_t)snprintf(msg + off, sizeof msg - off, " %s", c->s[i].addr);
    }
    if (best >= 0 && off < sizeof msg)
        snprintf(msg + off, sizeof msg - off,
                 ". %s holds every transaction of the answering servers: fail over to it",
                 c->s[best].addr);
    snprintf(c->err, sizeof c->err, "%s", msg);
}

/* Step 5: target stops replicating and becomes a semi-sync master. */
static int promote_prepare(struct mdba_cluster *c, int t)
{
    const char *a = c->s[t].addr;
    say(c, "promote %s: STOP SLAVE; RESET SLAVE ALL; semi-sync master on", a);
    if (run(c, t, "promote (STOP SLAVE)", "STOP SLAVE") != 0 ||
        run(c, t, "promote (RESET SLAVE ALL)", "RESET SLAVE ALL") != 0 ||
        run(c, t, "promote (semi-sync master on)",
            "SET GLOBAL rpl_semi_sync_master_enabled = ON") != 0)
        return -1;
    return 0;
}

/* Step 6 for server i: replicate from target. */
static int repoint(struct mdba_cluster *c, int i, int t)
{
    struct mdba_server *s = &c->s[i];
    const struct mdba_server *ts = &c->s[t];
    say(c, "repoint %s: STOP SLAVE", s->addr);
    if (run(c, i, "repoint (STOP SLAVE)", "STOP SLAVE") != 0)
        return -1;
    survey_one(c, i); /* the positions after the stop */
    char sql[2 * MDBA_GTID_MAX + 1024];
    if (mdba_gtid_lacks(s->gtid_slave, s->gtid_binlog, NULL, 0) == 1) {
        char q[2 * MDBA_GTID_MAX + 3];
        if (quote(c, i, s->gtid_binlog, q, sizeof q) != 0) {
            set_err(c, "%s: repoint: GTID position too long", s->addr);
            return -1;
        }
        say(c,
            "repoint %s: its binlog holds more than it replicated (a former primary): "
            "gtid_slave_pos = %s",
            s->addr, s->gtid_binlog);
        snprintf(sql, sizeof sql, "SET GLOBAL gtid_slave_pos = %s", q);
        if (run(c, i, "repoint (SET GLOBAL gtid_slave_pos)", sql) != 0)
            return -1;
    }
    char host[2 * sizeof ts->host + 3], user[2 * 65 + 3], pw[2 * 256 + 3];
    const char *ru = c->o.repl_user ? c->o.repl_user : "";
    const char *rp = c->o.repl_password ? c->o.repl_password : "";
    if (strlen(ru) > 64 || strlen(rp) > 255 || quote(c, i, ts->host, host, sizeof host) != 0 ||
        quote(c, i, ru, user, sizeof user) != 0 || quote(c, i, rp, pw, sizeof pw) != 0) {
        set_err(c, "%s: repoint: replication account or password too long", s->addr);
        return -1;
    }
    say(c, "repoint %s: CHANGE MASTER TO %s (user %s, MASTER_USE_GTID = slave_pos)", s->addr,
        ts->addr, ru);
    snprintf(sql, sizeof sql,
             "CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %u, MASTER_USER = %s, "
             "MASTER_PASSWORD = %s, MASTER_USE_GTID = slave_pos",
             host, ts->port, user, pw);
    int rc = run(c, i, "repoint (CHANGE MASTER TO)", sql);
    secmem_wipe(sql, sizeof sql); /* it held the replication password */
    secmem_wipe(pw, sizeof pw);
    if (rc != 0)
        return -1;
    say(c, "repoint %s: read_only = 1; semi-sync master off, slave on; START SLAVE", s->addr);
    if (run(c, i, "repoint (read_only = 1)", "SET GLOBAL read_only = 1") != 0 ||
        run(c, i, "repoint (semi-sync master off)",
            "SET GLOBAL rpl_semi_sync_master_enabled = OFF") != 0 ||
        run(c, i, "repoint (semi-sync slave on)", "SET GLOBAL rpl_semi_sync_slave_enabled = ON") !=
            0 ||
        run(c, i, "repoint (START SLAVE)", "START SLAVE") != 0)
        return -1;
    return 0;
}

/* Waits until every repointed server's replication is connected. The
 * number that are not (each named in c->err). */
static int wait_connected(struct mdba_cluster *c, const bool *repointed)
{
    double until = now_s() + c->o.wait_s;
    for (;;) {
        int missing = 0;
        for (int i = 0; i < c->n; i++) {
            if (!repointed[i])
                continue;
            survey_one(c, i);
            if (strcmp(c->s[i].io_state, "Yes") != 0 || strcmp(c->s[i].sql_state, "Yes") != 0)
                missing++;
        }
        if (missing == 0 || now_s() >= until)
            break;
        sleep_ms(POLL_MS);
    }
    size_t off = 0;
    int missing = 0;
    c->err[0] = '\0';
    for (int i = 0; i < c->n; i++) {
        const struct mdba_server *s = &c->s[i];
        if (!repointed[i])
            continue;
        if (strcmp(s->io_state, "Yes") == 0 && strcmp(s->sql_state, "Yes") == 0) {
            say(c, "repoint %s: replicating from %s", s->addr, s->master);
            continue;
        }
        int n = snprintf(c->err + off, sizeof c->err - off,
                         "%s%s: replication not running after %d s (io %s, sql %s%s%s)",
                         missing ? "; " : "", s->addr, c->o.wait_s, s->io_state, s->sql_state,
                         s->slave_error[0] ? ": " : "", s->slave_error);
        missing++;
        if (n > 0)
            off = off + (size_t)n < sizeof c->err ? off + (size_t)n : sizeof c->err - 1;
    }
    return missing;
}

static int find_target(struct mdba_cluster *c, const char *target)
{
    struct mdba_server want = {0};
    if (!target || parse_addr(target, strlen(target), &want) != 0) {
        set_err(c, "target \"%s\" is not HOST:PORT", target ? target : "");
        return -MDBA_USAGE;
    }
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->s[i].host, want.host) == 0 && c->s[i].port == want.port)
            return i;
    char list[MDBA_MAX_SERVERS * MDBA_ADDR_MAX] = "";
    for (int i = 0; i < c->n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 c->s[i].addr);
    set_err(c, "refused: %s is not one of the configured servers (%s)", target, list);
    return -MDBA_REFUSED;
}

int mdba_failover(struct mdba_cluster *c, const char *target)
{
    int t = find_target(c, target);
    if (t < 0)
        return -t;
    if (!c->o.repl_user || !*c->o.repl_user) {
        set_err(c, "no replication account");
        return MDBA_USAGE;
    }
    const char *ta = c->s[t].addr;
    mdba_survey(c);
    if (!c->s[t].reachable) {
        set_err(c, "refused: %s does not answer: %s", ta, c->s[t].error);
        return MDBA_REFUSED;
    }
    if (c->s[t].slave_denied) {
        set_err(c,
                "refused: the admin account may not see %s's replication (it needs the "
                "privileges of docs/deploy.md, not the nodes' account)",
                ta);
        return MDBA_REFUSED;
    }
    say(c, "target %s answers (%s)", ta, c->s[t].read_only ? "read-only" : "writable already");
    for (int i = 0; i < c->n; i++)
        if (i != t && !c->s[i].reachable)
            say(c, "skip %s: does not answer (%s)", c->s[i].addr, c->s[i].error);

    /* Before anything changes: could target hold everything? */
    bool fenced[MDBA_MAX_SERVERS] = {false}, repointed[MDBA_MAX_SERVERS] = {false};
    apply_relay_logs(c);
    target_catch_up(c, t);
    if (!c->s[t].reachable) {
        set_err(c, "failed: %s stopped answering: %s; nothing was changed", ta, c->s[t].error);
        return MDBA_FAILED;
    }
    if (lacks_any(c, t, false, true) != 0) {
        refusal(c, t, fenced);
        return MDBA_REFUSED;
    }

    for (int i = 0; i < c->n; i++) {
        if (i == t || !c->s[i].reachable || c->s[i].read_only)
            continue;
        if (fence(c, i) != 0) {
            char why[MDBA_MSG_MAX];
            copy_field(why, sizeof why, c->err);
            bool before = false;
            for (int k = 0; k < i; k++)
                before = before || fenced[k];
            set_err(c, "failed: %s; nothing was promoted%s", why,
                    before ? " (the servers fenced before it stay read-only)" : "");
            return MDBA_FAILED;
        }
        fenced[i] = true;
    }
    /* After the fence nothing new arrives: the final comparison. */
    apply_relay_logs(c);
    target_catch_up(c, t);
    if (!c->s[t].reachable) {
        set_err(c, "failed: %s stopped answering: %s; nothing was promoted", ta, c->s[t].error);
        return MDBA_FAILED;
    }
    if (lacks_any(c, t, true, false) != 0) {
        refusal(c, t, fenced);
        return MDBA_REFUSED;
    }

    if (promote_prepare(c, t) != 0) {
        char why[MDBA_MSG_MAX];
        copy_field(why, sizeof why, c->err);
        set_err(c, "failed: %s; %s is not writable (run the command again)", why, ta);
        return MDBA_FAILED;
    }
    char failures[MDBA_MSG_MAX] = "";
    for (int i = 0; i < c->n; i++) {
        if (i == t || !c->s[i].reachable)
            continue;
        if (repoint(c, i, t) == 0)
            repointed[i] = true;
        else
            append(failures, sizeof failures, c->err);
    }
    if (wait_connected(c, repointed) != 0)
        append(failures, sizeof failures, c->err);

    say(c, "promote %s: SET GLOBAL read_only = 0: it takes the writes now", ta);
    if (run(c, t, "promote (read_only = 0)", "SET GLOBAL read_only = 0") != 0) {
        char why[MDBA_MSG_MAX];
        copy_field(why, sizeof why, c->err);
        set_err(c, "failed: %s; %s is not writable (run the command again)", why, ta);
        return MDBA_FAILED;
    }
    mdba_survey(c);
    if (failures[0]) {
        set_err(c, "%s is the primary, but: %s (run the command again to retry)", ta, failures);
        return MDBA_FAILED;
    }
    c->err[0] = '\0';
    return MDBA_OK;
}
