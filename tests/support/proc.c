/* proc.c — see proc.h. */
#include "proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double proc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void proc_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* A port that was free a moment ago: bind 127.0.0.1:0, read it, release it. */
int proc_pick_port(void)
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

/* fork + exec of argv (argv[0] searched in PATH), stdout and stderr appended
 * to log, stdin from /dev/null, no other descriptor inherited. With
 * die_with_parent the child gets SIGKILL when this thread ends. The child's
 * pid, or -1. */
pid_t proc_spawn(char *const argv[], const char *log, bool die_with_parent)
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

long proc_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* The last bytes of path, from byte from on, to stderr. */
void proc_print_tail(const char *tag, const char *path, long from)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: (no %s)\n", tag, path);
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
    fprintf(stderr, "%s: --- tail of %s ---\n%s\n%s: ---\n", tag, path, buf, tag);
}

/* Whether path from byte from on contains needle. */
bool proc_log_has(const char *path, long from, const char *needle)
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

void proc_rm_rf(const char *dir)
{
    char *const argv[] = {"rm", "-rf", (char *)dir, NULL};
    pid_t pid = proc_spawn(argv, "/dev/null", false);
    int st;
    if (pid > 0)
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
}

/* Whether pid is a live process (a zombie is not: nobody may reap a
 * reparented server soon in a container). */
bool proc_alive(long pid)
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
 * named PREFIX + 6 characters (mkdtemp) whose pid file names a process that
 * is gone. A directory without the file (still starting, or stopped
 * cleanly) is left alone. */
void proc_sweep_stale(const char *prefix, const char *pidfile)
{
    DIR *tmp = opendir("/tmp");
    if (!tmp)
        return;
    size_t plen = strlen(prefix);
    for (const struct dirent *e; (e = readdir(tmp));) {
        char dir[128], pidf[192];
        struct stat st;
        if (strncmp(e->d_name, prefix, plen) != 0 || strlen(e->d_name) != plen + 6)
            continue;
        snprintf(dir, sizeof dir, "/tmp/%.*s", (int)(plen + 6), e->d_name);
        snprintf(pidf, sizeof pidf, "%s/%s", dir, pidfile);
        FILE *f = fopen(pidf, "r");
        long pid = 0;
        bool ours = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
        if (f) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        if (ours && pid > 0 && !proc_alive(pid))
            proc_rm_rf(dir);
    }
    closedir(tmp);
}

int proc_wait_line(const char *tag, const char *log, const char *needle, char *line, size_t cap)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(log, "r");
        if (f) {
            char b[1024];
            while (fgets(b, sizeof b, f))
                if (strstr(b, needle)) {
                    snprintf(line, cap, "%s", b);
                    fclose(f);
                    return 0;
                }
            fclose(f);
        }
        proc_sleep_ms(50);
    }
    proc_print_tail(tag, log, 0);
    return -1;
}

int proc_stop(pid_t pid)
{
    if (pid <= 0)
        return 0;
    kill(pid, SIGTERM);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}
