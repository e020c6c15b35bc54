#include "testd.h"

#include "app/app.h"
#include "data/store.h"
#include "foundation/config.h"
#include "mariadb.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *zhanye_bin(void)
{
    const char *b = getenv("ZHANYE_BIN");
    return b ? b : "build/zhanye";
}

const char *src_path(const char *rel, char *out, size_t cap)
{
    const char *root = getenv("ZHANYE_SRC");
    snprintf(out, cap, "%s/%s", root ? root : ".", rel);
    return out;
}

/* Reads all of fd into a malloc'd string. */
static char *slurp_fd(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

int run_zhanye(char **out, char **err, const char *arg, ...)
{
    const char *argv[64] = {zhanye_bin()};
    int argc = 1;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    int po[2], pe[2];
    if (pipe(po) || pipe(pe))
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    /* stderr is small; read stdout first, then stderr. */
    char *o = slurp_fd(po[0]);
    char *e = slurp_fd(pe[0]);
    close(po[0]);
    close(pe[0]);
    int status;
    waitpid(pid, &status, 0);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int rm_rf(const char *dir)
{
    const char *argv[] = {"rm", "-rf", dir, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "rm", NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
    int st;
    waitpid(pid, &st, 0);
    return 0;
}

/* ---- the store under test ---- */

bool testd_mariadb(void)
{
    const char *v = getenv("ZHANYE_TEST_STORE");
    return v && strcmp(v, "mariadb") == 0;
}

static struct mariadb_srv mdb;

static void mdb_stop_at_exit(void)
{
    mariadb_stop(&mdb);
}

/* The process's MariaDB server, started on first use; NULL if it cannot start
 * (not retried: every later testd_init fails at once). */
static const struct mariadb_srv *test_mariadb(void)
{
    static int state; /* 0 not tried, 1 running, -1 failed */
    if (state == 0) {
        state = mariadb_start(&mdb) == 0 ? 1 : -1;
        if (state == 1) {
            atexit(mdb_stop_at_exit);
            fprintf(stderr,
                    "testd: private MariaDB at %s (install %.0f ms, start %.0f ms, "
                    "account %.0f ms)\n",
                    mdb.servers, mdb.install_ms, mdb.start_ms, mdb.setup_ms);
        }
    }
    return state == 1 ? &mdb : NULL;
}

const struct mariadb_srv *testd_mariadb_server(void)
{
    return testd_mariadb() ? test_mariadb() : NULL;
}

/* A fresh database on the process's server, and DIR/zhanye.conf and
 * DIR/keys/db.password that point the daemon at it. 0 or -1. */
static int prepare_mariadb(const char *dir)
{
    static unsigned serial;
    const struct mariadb_srv *m = test_mariadb();
    char db[65], path[PATH_MAX + 32];
    snprintf(db, sizeof db, "zt_%d_%u", (int)getpid(), ++serial);
    if (!m || mariadb_create_db(m, db) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/zhanye.conf", dir);
    if (config_write_default(path) != 0)
        return -1;
    FILE *f = fopen(path, "a");
    if (!f)
        return -1;
    fprintf(f, "\n[store]\nbackend = mariadb\nservers = %s\ndatabase = %s\nuser = %s\n", m->servers,
            db, m->user);
    if (fclose(f) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/keys", dir);
    if (mkdir(path, 0700) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/keys/db.password", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t n = strlen(m->password);
    int rc = write(fd, m->password, n) == (ssize_t)n && write(fd, "\n", 1) == 1 ? 0 : -1;
    return close(fd) == 0 ? rc : -1;
}

static int init_with(struct testd *d, const char *extra_conf, const char *demo);

int testd_init(struct testd *d, const char *extra_conf)
{
    return init_with(d, extra_conf, "--demo-org");
}

int testd_init_demo(struct testd *d, const char *extra_conf)
{
    return init_with(d, extra_conf, "--demo");
}

static int init_with(struct testd *d, const char *extra_conf, const char *demo)
{
    memset(d, 0, sizeof *d);
    const char *store = getenv("ZHANYE_TEST_STORE");
    if (store && *store && strcmp(store, "sqlite") != 0 && !testd_mariadb()) {
        fprintf(stderr, "testd: ZHANYE_TEST_STORE=%s: want sqlite or mariadb\n", store);
        return -1;
    }
    snprintf(d->dir, sizeof d->dir, "/tmp/zhanye-test-XXXXXX");
    if (!mkdtemp(d->dir))
        return -1;
    if (testd_mariadb() && prepare_mariadb(d->dir) != 0) {
        fprintf(stderr, "testd: cannot prepare a MariaDB database for %s\n", d->dir);
        return -1;
    }
    char *err = NULL;
    int rc = run_zhanye(NULL, &err, "init", "--data", d->dir, demo, "--demo-password", "Demo@1234",
                        NULL);
    if (rc != 0) {
        fprintf(stderr, "testd: zhanye init failed (%d): %s\n", rc, err ? err : "");
        free(err);
        return -1;
    }
    free(err);
    if (extra_conf) {
        char conf[PATH_MAX + 16];
        snprintf(conf, sizeof conf, "%s/zhanye.conf", d->dir);
        FILE *f = fopen(conf, "a");
        if (!f)
            return -1;
        fprintf(f, "\n%s\n", extra_conf);
        fclose(f);
    }
    return 0;
}

int testd_store_open(const struct testd *d, struct store **out)
{
    char err[PATH_MAX + 512];
    *out = NULL;
    struct app *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    int rc = app_load_config(a, d->dir, err, sizeof err);
    if (rc == APP_OK)
        rc = app_store_open(a, 2, false, err, sizeof err);
    if (rc == APP_OK) { /* the directory is the caller's; the rest is closed */
        *out = a->store;
        a->store = NULL;
    } else {
        fprintf(stderr, "testd: cannot open the database of %s: %s\n", d->dir, err);
    }
    app_store_close(a);
    config_free(&a->cfg);
    free(a);
    return rc == APP_OK ? 0 : -1;
}

/* Waits for "zhanye: listening on http://HOST:PORT" on the child's stdout. */
static int read_port(int fd, int *port)
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
        char *nl = strchr(buf, '\n');
        const char *at = strstr(buf, "listening on http://");
        if (nl && at) {
            const char *colon = strrchr(at + 20, ':');
            *port = colon ? atoi(colon + 1) : 0;
            return *port > 0 ? 0 : -1;
        }
    }
    return -1;
}

int testd_start(struct testd *d)
{
    int po[2];
    if (pipe(po))
        return -1;
    const char *argv[] = {zhanye_bin(),
                          "serve",
                          "--data",
                          d->dir,
                          "--listen",
                          "127.0.0.1:0",
                          d->web[0] ? "--web" : NULL,
                          d->web,
                          NULL};
    /* fork + exec rather than posix_spawn: the daemon must die with the test
     * (PR_SET_PDEATHSIG). A test that fails an assert, or crashes, before
     * its cleanup would otherwise leave it running, holding the test's
     * stderr open, and meson would wait for the test's timeout. The test
     * thread that starts a daemon outlives it (none starts one from a
     * thread of its own). */
    pid_t parent = getpid();
    int rc = 0;
    d->pid = fork();
    if (d->pid == 0) { /* the child: async-signal-safe calls only */
        if (dup2(po[1], 1) < 0 || close(po[0]) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
            getppid() != parent)
            _exit(126);
        execve(argv[0], (char *const *)argv, environ);
        _exit(127);
    }
    if (d->pid < 0)
        rc = -1;
    close(po[1]);
    if (rc != 0) {
        close(po[0]);
        d->pid = 0;
        return -1;
    }
    rc = read_port(po[0], &d->port);
    close(po[0]); /* the server writes nothing else to stdout */
    if (rc != 0) {
        testd_stop(d);
        return -1;
    }
    snprintf(d->base, sizeof d->base, "http://127.0.0.1:%d", d->port);
    return 0;
}

int testd_stop(struct testd *d)
{
    if (d->pid <= 0)
        return -1;
    kill(d->pid, SIGTERM);
    int status;
    while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
        ;
    d->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void testd_cleanup(struct testd *d)
{
    if (d->pid > 0)
        testd_stop(d);
    if (d->dir[0])
        rm_rf(d->dir);
    d->dir[0] = '\0';
}

struct buf {
    char *p;
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct buf *b = user;
    size_t n = size * nmemb;
    char *np = realloc(b->p, b->len + n + 1);
    if (!np)
        return 0;
    memcpy(np + b->len, data, n);
    b->len += n;
    np[b->len] = '\0';
    b->p = np;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    struct http_result *r = user;
    size_t n = size * nmemb;
    if (n > 13 && strncasecmp(data, "Retry-After:", 12) == 0) {
        const char *v = data + 12;
        while (*v == ' ')
            v++;
        size_t vl = strcspn(v, "\r\n");
        if (vl < sizeof r->retry_after) {
            memcpy(r->retry_after, v, vl);
            r->retry_after[vl] = '\0';
        }
    }
    return n;
}

int http_do(const char *method, const char *url, const char *body, size_t len,
            struct http_result *out)
{
    return http_do_hdr(method, url, NULL, body, len, out);
}

int http_do_hdr(const char *method, const char *url, const char *header, const char *body,
                size_t len, struct http_result *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    struct buf b = {0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:");
    if (header)
        h = curl_slist_append(h, header);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &out->seconds);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    out->body = b.p;
    out->len = b.len;
    return cc == CURLE_OK ? 0 : -1;
}

void http_result_free(struct http_result *r)
{
    free(r->body);
    r->body = NULL;
}

json_t *http_get_json(const struct testd *d, const char *path, long *status)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", d->base, path);
    struct http_result r;
    json_t *j = NULL;
    if (http_do("GET", url, NULL, 0, &r) == 0 && r.body)
        j = json_loads(r.body, 0, NULL);
    if (status)
        *status = r.status;
    http_result_free(&r);
    return j;
}
