#include "redis.h"

#include <hiredis/hiredis.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
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
#define STOP_TIMEOUT_MS 10000
#define PORT_ATTEMPTS 5
#define MASTER_NAME "zt"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *find_redis_server(void)
{
    const char *env = getenv("ZHANYE_REDIS_SERVER");
    if (env && *env)
        return env;
    return access("/usr/bin/redis-server", X_OK) == 0 ? "/usr/bin/redis-server" : NULL;
}

/* A port that was free a moment ago: bind 127.0.0.1:0, read it, release it. */
static int pick_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* fork + exec of argv, stdout and stderr appended to log, stdin from
 * /dev/null, no other descriptor inherited. With die_with_parent the child
 * gets SIGKILL when this thread ends. The child's pid, or -1. */
static pid_t spawn(char *const argv[], const char *log, bool die_with_parent)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* the child: async-signal-safe calls only */
    int in = open("/dev/null", O_RDONLY);
    int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(126);
    close_range(3, ~0U, 0);
    if (die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
        _exit(126);
    execvp(argv[0], argv);
    _exit(127);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The last bytes of path, from byte from on, to stderr. */
static void print_tail(const char *path, long from)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "redis: (no %s)\n", path);
        return;
    }
    char buf[3000];
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    long start = end - (long)sizeof buf + 1 > from ? end - (long)sizeof buf + 1 : from;
    fseek(f, start, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "redis: --- tail of %s ---\n%s\nredis: ---\n", path, buf);
}

/* Whether path from byte from on contains needle. */
static bool log_has(const char *path, long from, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    fseek(f, from, SEEK_SET);
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void rm_rf(const char *dir)
{
    char *const argv[] = {"rm", "-rf", (char *)dir, NULL};
    pid_t pid = spawn(argv, "/dev/null", false);
    int st;
    if (pid > 0)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
}

/* Whether pid is a live process (not a zombie). */
static bool alive(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return !(paren && paren[1] == ' ' && paren[2] == 'Z');
}

/* Removes what killed test processes left in /tmp: a directory of ours
 * whose owner.pid names a process that is gone (its servers died with it). */
static void sweep_stale(void)
{
    DIR *tmp = opendir("/tmp");
    if (!tmp)
        return;
    for (const struct dirent *e; (e = readdir(tmp));) {
        char dir[64], pidf[96];
        struct stat st;
        if (strncmp(e->d_name, "zhanye-rds-", 11) != 0 || strlen(e->d_name) != 17)
            continue;
        snprintf(dir, sizeof dir, "/tmp/%.17s", e->d_name);
        snprintf(pidf, sizeof pidf, "%s/owner.pid", dir);
        FILE *f = fopen(pidf, "r");
        long pid = 0;
        bool ours = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (ours && pid > 0 && !alive(pid))
            rm_rf(dir);
    }
    closedir(tmp);
}

/* Waits up to ms for pid to end; SIGKILL after. */
static void reap(pid_t pid, int ms)
{
    int st;
    double deadline = now_ms() + ms;
    pid_t r;
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && now_ms() < deadline)
        sleep_ms(10);
    if (r == 0) {
        fprintf(stderr, "redis: process %d ignored SIGTERM for %d s; killing it\n", (int)pid,
                ms / 1000);
        kill(pid, SIGKILL);
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
}

/* ---- talking to the servers -------------------------------------------- */

static redisContext *dial(int port, const char *password)
{
    struct timeval tv = {.tv_sec = 1};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        if (c)
            redisFree(c);
        return NULL;
    }
    if (password) {
        redisReply *rep = redisCommand(c, "AUTH %s", password);
        bool ok = rep && rep->type == REDIS_REPLY_STATUS;
        if (rep)
            freeReplyObject(rep);
        if (!ok) {
            redisFree(c);
            return NULL;
        }
    }
    return c;
}

/* Whether the reply to cmd on c is a string (or status) containing needle. */
static bool reply_has(redisContext *c, const char *cmd, const char *needle)
{
    redisReply *rep = redisCommand(c, cmd);
    bool ok = rep && (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_STATUS) &&
              strstr(rep->str, needle) != NULL;
    if (rep)
        freeReplyObject(rep);
    return ok;
}

/* A field of SENTINEL MASTER's flat array, as a number; -1 if absent. */
static long sentinel_field(const redisReply *rep, const char *name)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY)
        return -1;
    for (size_t i = 0; i + 1 < rep->elements; i += 2)
        if (rep->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(rep->element[i]->str, name) == 0 &&
            rep->element[i + 1]->type == REDIS_REPLY_STRING)
            return strtol(rep->element[i + 1]->str, NULL, 10);
    return -1;
}

enum readiness {
    ANSWERS,    /* PING answered */
    LINKED,     /* a replica: its link to the primary is up */
    KNOWS_PEERS /* a Sentinel: it knows the replica and the other Sentinels */
};

static bool ready(const struct redis_srv *s, const struct redis_srv_proc *p, bool sentinel,
                  enum readiness want)
{
    redisContext *c = dial(p->port, sentinel ? NULL : s->password);
    if (!c)
        return false;
    bool ok;
    if (want == KNOWS_PEERS) {
        redisReply *rep = redisCommand(c, "SENTINEL MASTER %s", MASTER_NAME);
        ok = sentinel_field(rep, "num-slaves") >= s->nnodes - 1 &&
             sentinel_field(rep, "num-other-sentinels") >= s->nsentinels - 1;
        if (rep)
            freeReplyObject(rep);
    } else if (want == LINKED) {
        ok = reply_has(c, "INFO replication", "master_link_status:up");
    } else {
        ok = reply_has(c, "PING", "PONG");
    }
    redisFree(c);
    return ok;
}

/* ---- configs and processes ---------------------------------------------- */

static int write_node_conf(const struct redis_srv *s, int i)
{
    const struct redis_srv_proc *p = &s->node[i];
    char path[sizeof p->sub + 16];
    snprintf(path, sizeof path, "%s/redis.conf", p->sub);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "redis: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# generated by tests/support/redis.c\n"
            "bind 127.0.0.1\n"
            "port %d\n"
            "unixsocket %s\n"
            "unixsocketperm 700\n"
            "dir %s\n"
            "daemonize no\n"
            "logfile \"\"\n"
            "save \"\"\n"
            "appendonly no\n"
            "requirepass %s\n"
            "masterauth %s\n"
            "repl-diskless-sync yes\n"
            "repl-diskless-sync-delay 0\n"
            "repl-diskless-load on-empty-db\n"
            "maxmemory 64mb\n"
            "maxmemory-policy noeviction\n",
            p->port, p->socket, p->sub, s->password, s->password);
    if (i > 0)
        fprintf(f, "replicaof 127.0.0.1 %d\n", s->node[0].port);
    return fclose(f) == 0 ? 0 : -1;
}

static int write_sentinel_conf(const struct redis_srv *s, int i)
{
    const struct redis_srv_proc *p = &s->sentinel[i];
    char path[sizeof p->sub + 16];
    snprintf(path, sizeof path, "%s/sentinel.conf", p->sub);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "redis: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# generated by tests/support/redis.c\n"
            "bind 127.0.0.1\n"
            "port %d\n"
            "dir %s\n"
            "daemonize no\n"
            "logfile \"\"\n"
            "sentinel monitor %s 127.0.0.1 %d 2\n"
            "sentinel auth-pass %s %s\n"
            "sentinel down-after-milliseconds %s 1000\n"
            "sentinel failover-timeout %s 2000\n"
            "sentinel parallel-syncs %s 1\n",
            p->port, p->sub, MASTER_NAME, s->node[0].port, MASTER_NAME, s->password, MASTER_NAME,
            MASTER_NAME, MASTER_NAME);
    return fclose(f) == 0 ? 0 : -1;
}

/* Starts p from its config file (already written), waits until it is as
 * ready as want. 0;
 * 1 when it exited with its port taken (the caller picks another); -1. */
static int launch(const struct redis_srv *s, struct redis_srv_proc *p, bool sentinel,
                  enum readiness want)
{
    const char *bin = find_redis_server();
    if (!bin) {
        fprintf(stderr, "redis: no redis-server (install redis-server, or set "
                        "ZHANYE_REDIS_SERVER)\n");
        return -1;
    }
    char conf[sizeof p->sub + 16], log[sizeof p->sub + 16];
    snprintf(conf, sizeof conf, "%s/%s.conf", p->sub, sentinel ? "sentinel" : "redis");
    snprintf(log, sizeof log, "%s/%s.log", p->sub, sentinel ? "sentinel" : "redis");
    char *argv[] = {(char *)bin, conf, sentinel ? "--sentinel" : NULL, NULL};
    long from = file_size(log);
    p->pid = spawn(argv, log, true);
    if (p->pid < 0) {
        p->pid = 0;
        fprintf(stderr, "redis: cannot start %s: %s\n", bin, strerror(errno));
        return -1;
    }
    double deadline = now_ms() + READY_TIMEOUT_MS;
    for (;;) {
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            if (log_has(log, from, "Address already in use"))
                return 1;
            fprintf(stderr, "redis: %s exited at start\n", conf);
            print_tail(log, from);
            return -1;
        }
        if (ready(s, p, sentinel, want))
            return 0;
        if (now_ms() > deadline) {
            fprintf(stderr, "redis: %s not ready within %d s\n", conf, READY_TIMEOUT_MS / 1000);
            print_tail(log, from);
            return -1;
        }
        sleep_ms(20);
    }
}

/* Creates p's subdirectory, then picks a port, writes the config and
 * starts it, retrying a port clash. 0 or -1. */
static int start_proc(struct redis_srv *s, struct redis_srv_proc *p, const char *name, int i,
                      bool sentinel)
{
    snprintf(p->sub, sizeof p->sub, "%s/%s%d", s->dir, name, i);
    if (mkdir(p->sub, 0700) != 0) {
        fprintf(stderr, "redis: mkdir %s: %s\n", p->sub, strerror(errno));
        return -1;
    }
    if (!sentinel)
        snprintf(p->socket, sizeof p->socket, "%s/redis.sock", p->sub);
    for (int attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
        if ((p->port = pick_port()) <= 0) {
            fprintf(stderr, "redis: no free port on 127.0.0.1: %s\n", strerror(errno));
            return -1;
        }
        if ((sentinel ? write_sentinel_conf(s, i) : write_node_conf(s, i)) != 0)
            return -1;
        int rc = launch(s, p, sentinel, !sentinel && i > 0 ? LINKED : ANSWERS);
        if (rc <= 0)
            return rc;
        fprintf(stderr, "redis: port %d was taken; retrying with another\n", p->port);
    }
    fprintf(stderr, "redis: no free port after %d attempts\n", PORT_ATTEMPTS);
    return -1;
}

int redis_srv_start(struct redis_srv *s, const struct redis_srv_opts *opts)
{
    double t0 = now_ms();
    memset(s, 0, sizeof *s);
    sweep_stale();
    s->owner = getpid();
    snprintf(s->host, sizeof s->host, "127.0.0.1");
    snprintf(s->master_name, sizeof s->master_name, MASTER_NAME);
    s->nnodes = opts && opts->replica ? 2 : 1;
    s->nsentinels = opts && opts->sentinels ? REDIS_SRV_SENTINELS : 0;
    if (s->nsentinels && s->nnodes < 2) {
        fprintf(stderr, "redis: sentinels need the replica\n");
        return -1;
    }
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return -1;
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(s->password + 2 * i, 3, "%02x", rnd[i]);
    snprintf(s->dir, sizeof s->dir, "/tmp/zhanye-rds-XXXXXX");
    if (!mkdtemp(s->dir)) {
        fprintf(stderr, "redis: mkdtemp: %s\n", strerror(errno));
        s->dir[0] = '\0';
        return -1;
    }
    char pidf[sizeof s->dir + 16];
    snprintf(pidf, sizeof pidf, "%s/owner.pid", s->dir);
    FILE *f = fopen(pidf, "w");
    if (f) {
        fprintf(f, "%ld\n", (long)s->owner);
        fclose(f);
    }
    for (int i = 0; i < s->nnodes; i++)
        if (start_proc(s, &s->node[i], "node", i, false) != 0)
            goto fail;
    for (int i = 0; i < s->nsentinels; i++)
        if (start_proc(s, &s->sentinel[i], "sentinel", i, true) != 0)
            goto fail;
    /* Each Sentinel's first check may have come before the others were up:
     * wait until every one knows the replica and its peers. */
    double deadline = now_ms() + READY_TIMEOUT_MS;
    for (int i = 0; i < s->nsentinels; i++)
        while (!ready(s, &s->sentinel[i], true, KNOWS_PEERS)) {
            if (now_ms() > deadline) {
                char log[sizeof s->sentinel[i].sub + 16];
                snprintf(log, sizeof log, "%s/sentinel.log", s->sentinel[i].sub);
                fprintf(stderr, "redis: sentinel %d does not see its peers\n", i);
                print_tail(log, 0);
                goto fail;
            }
            sleep_ms(50);
        }
    snprintf(s->servers, sizeof s->servers, "127.0.0.1:%d", s->node[0].port);
    snprintf(s->all_servers, sizeof s->all_servers, "%s", s->servers);
    if (s->nnodes > 1)
        snprintf(s->all_servers, sizeof s->all_servers, "127.0.0.1:%d,127.0.0.1:%d",
                 s->node[0].port, s->node[1].port);
    for (int i = 0; i < s->nsentinels; i++) {
        size_t n = strlen(s->sentinels);
        snprintf(s->sentinels + n, sizeof s->sentinels - n, "%s127.0.0.1:%d", i ? "," : "",
                 s->sentinel[i].port);
    }
    s->start_ms = now_ms() - t0;
    return 0;
fail:
    redis_srv_stop(s);
    return -1;
}

int redis_srv_kill(struct redis_srv *s, int i)
{
    if (i < 0 || i >= s->nnodes || s->node[i].pid <= 0)
        return -1;
    int st;
    kill(s->node[i].pid, SIGKILL);
    while (waitpid(s->node[i].pid, &st, 0) < 0 && errno == EINTR)
        ;
    s->node[i].pid = 0;
    return 0;
}

int redis_srv_halt(struct redis_srv *s, int i)
{
    if (i < 0 || i >= s->nnodes || s->node[i].pid <= 0)
        return -1;
    kill(s->node[i].pid, SIGTERM);
    reap(s->node[i].pid, STOP_TIMEOUT_MS);
    s->node[i].pid = 0;
    return 0;
}

int redis_srv_restart(struct redis_srv *s, int i)
{
    if (i < 0 || i >= s->nnodes || s->node[i].pid > 0)
        return -1;
    /* The port was released a moment ago; redis-server binds with
     * SO_REUSEADDR, so only another process taking it stops us. */
    return launch(s, &s->node[i], false, ANSWERS) == 0 ? 0 : -1;
}

struct redisContext *redis_srv_connect(const struct redis_srv *s, int i)
{
    if (i < 0 || i >= s->nnodes)
        return NULL;
    return dial(s->node[i].port, s->password);
}

char *redis_srv_addr(const struct redis_srv *s, int i, char *out, int cap)
{
    snprintf(out, (size_t)cap, "127.0.0.1:%d", i >= 0 && i < s->nnodes ? s->node[i].port : 0);
    return out;
}

bool redis_srv_is_master(const struct redis_srv *s, int i)
{
    redisContext *c = redis_srv_connect(s, i);
    if (!c)
        return false;
    redisReply *rep = redisCommand(c, "ROLE");
    bool master = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 &&
                  rep->element[0]->type == REDIS_REPLY_STRING &&
                  strcmp(rep->element[0]->str, "master") == 0;
    if (rep)
        freeReplyObject(rep);
    redisFree(c);
    return master;
}

static void stop_proc(struct redis_srv_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        reap(p->pid, STOP_TIMEOUT_MS);
        p->pid = 0;
    }
}

void redis_srv_stop(struct redis_srv *s)
{
    if (s->owner != getpid())
        return;
    for (int i = 0; i < REDIS_SRV_SENTINELS; i++)
        stop_proc(&s->sentinel[i]);
    for (int i = 0; i < REDIS_SRV_NODES; i++)
        stop_proc(&s->node[i]);
    if (s->dir[0])
        rm_rf(s->dir);
    s->dir[0] = '\0';
    memset(s->password, 0, sizeof s->password);
}
