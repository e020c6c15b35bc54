/* A zhanye-sim process for the tests (support/simproc.h). */
#include "simproc.h"

#include "testd.h"

#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

/* "zhanye-sim MODE: listening on SCHEME://HOST:PORT admin http://HOST:PORT". */
static int read_ports(int fd, struct simproc *s)
{
    char buf[512];
    size_t len = 0;
    while (len < sizeof buf - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20000) <= 0)
            return -1;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        const char *on = strstr(buf, "listening on "), *ad = strstr(buf, " admin ");
        if (on && ad && strchr(ad, '\n') && strstr(on, "://")) {
            const char *colon = strchr(strstr(on, "://") + 3, ':');
            s->port = colon ? atoi(colon + 1) : 0;
            const char *files = strstr(on, " files ftp://");
            colon = files ? strchr(files + 13, ':') : NULL;
            s->ftp_port = colon && colon < ad ? atoi(colon + 1) : 0;
            if (s->ftp && s->ftp_port <= 0)
                return -1;
            snprintf(s->admin, sizeof s->admin, "%.*s", (int)strcspn(ad + 7, "\n"), ad + 7);
            return s->port > 0 ? 0 : -1;
        }
    }
    return -1;
}

int simproc_start(struct simproc *s, const char *workdir)
{
    const char *bin = getenv("ZHANYE_SIM_BIN");
    snprintf(s->dir, sizeof s->dir, "%s/%s", workdir, s->mode);
    int po[2];
    if (!bin || pipe(po))
        return -1;
    char me[16];
    snprintf(me, sizeof me, "%d", (int)getpid());
    const char *argv[] = {bin,           s->mode,  "--listen", "127.0.0.1:0", "--admin",
                          "127.0.0.1:0", "--data", s->dir,     "--watch-pid", me,
                          NULL,          NULL,     NULL};
    if (s->ftp) {
        argv[10] = "--ftp";
        argv[11] = "127.0.0.1:0";
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    int rc = posix_spawn(&s->pid, bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    if (rc == 0)
        rc = read_ports(po[0], s);
    close(po[0]);
    return rc;
}

int simproc_stop(struct simproc *s)
{
    int st = 0;
    if (s->pid <= 0)
        return 0;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

json_t *simproc_admin(struct simproc *s, const char *method, const char *path, const char *body)
{
    char url[192];
    struct http_result r;
    snprintf(url, sizeof url, "%s%s", s->admin, path);
    json_t *j = NULL;
    if (http_do(method, url, body, body ? strlen(body) : 0, &r) == 0 && r.status == 200)
        j = json_loads(r.body, 0, NULL);
    http_result_free(&r);
    assert_non_null(j);
    return j;
}

void simproc_fault(struct simproc *s, const char *fault)
{
    json_decref(simproc_admin(s, "POST", "/admin/fault", fault));
}

void simproc_reset(struct simproc *s)
{
    simproc_fault(s, "{}");
    json_decref(simproc_admin(s, "POST", "/admin/stats/reset", "{}"));
}

long long simproc_stat(struct simproc *s, const char *key)
{
    json_t *j = simproc_admin(s, "GET", "/admin/stats", NULL);
    long long v = json_integer_value(json_object_get(j, key));
    json_decref(j);
    return v;
}
