/* The simulators of a test, together (support/simrig.h). */
#include "simrig.h"

#include "simproc.h"
#include "testd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FTP_USER "zhanye"
#define FTP_PASSWORD "paperless-demo" /* sims/sim.h: the FTP simulators' login */

int simrig_start(struct simrig *r, const char *tag, struct simproc *sims, size_t n)
{
    r->sims = sims;
    r->n = n;
    snprintf(r->dir, sizeof r->dir, "/tmp/zt_%s_%d", tag, (int)getpid());
    if (mkdir(r->dir, 0700) != 0 && errno != EEXIST)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (simproc_start(&sims[i], r->dir) != 0) {
            fprintf(stderr, "cannot start the %s simulator\n", sims[i].mode);
            return -1;
        }
    return 0;
}

/* One section appended to conf; -1 when it does not fit. */
static int section(char *conf, size_t cap, const char *name, const char *scheme, int port,
                   int timeout_ms)
{
    size_t used = strlen(conf);
    bool ftp = strcmp(scheme, "ftp") == 0;
    int w =
        snprintf(conf + used, cap - used,
                 "[egress.%s]\naddress = %s://127.0.0.1:%d\ncall_timeout_ms = %d\n"
                 "retries = 0\nbreaker_window = 1000\nbreaker_min_calls = 1000\n%s%s%s",
                 name, scheme, port, timeout_ms, ftp ? "user = " FTP_USER "\npassword_file = " : "",
                 ftp ? name : "", ftp ? ".password\n" : "");
    return w < 0 || (size_t)w >= cap - used ? -1 : 0;
}

int simrig_egress(const struct simrig *r, int call_timeout_ms, char *conf, size_t cap)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct simproc *s = &r->sims[i];
        bool core = strcmp(s->mode, "core") == 0, paperless = strcmp(s->mode, "paperless") == 0;
        if (section(conf, cap, s->mode,
                    core        ? "tcp"
                    : paperless ? "ftp"
                                : "http",
                    s->port, call_timeout_ms) != 0)
            return -1;
        if (core && s->ftp && section(conf, cap, "core_files", "ftp", s->ftp_port, 3000) != 0)
            return -1;
    }
    return 0;
}

static int password_file(const struct testd *d, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s.password", d->dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(FTP_PASSWORD "\n", f) < 0 ? -1 : 0;
    if (fclose(f) != 0 || chmod(path, 0600) != 0)
        rc = -1;
    return rc;
}

int simrig_daemon_files(const struct simrig *r, const struct testd *d)
{
    char src[PATH_MAX], link[PATH_MAX + 8];
    snprintf(link, sizeof link, "%s/conf", d->dir);
    if (symlink(src_path("conf", src, sizeof src), link) != 0)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        const struct simproc *s = &r->sims[i];
        if (strcmp(s->mode, "paperless") == 0 && password_file(d, "paperless") != 0)
            return -1;
        if (strcmp(s->mode, "core") == 0 && s->ftp && password_file(d, "core_files") != 0)
            return -1;
    }
    return 0;
}

int simrig_stop(struct simrig *r)
{
    int rc = 0;
    for (size_t i = 0; i < r->n; i++)
        if (simproc_stop(&r->sims[i]) != 0)
            rc = -1;
    if (r->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", r->dir);
        if (system(cmd) != 0)
            rc = -1;
    }
    return rc;
}
