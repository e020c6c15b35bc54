/* GET|HEAD /api/v1/store/packages/ID?token=T — a package's bytes, for the
 * device APP_LATEST minted T for (appstore/dltoken.h; docs/api.md §2.3
 * "App store"). No session: the token is the credential, bound to this
 * package and one device, short-lived ([appstore] token_ttl_s), checked in
 * constant time; a bad one is 403 store_token_invalid; a withdrawn or
 * unknown package 404 not_found.
 *
 * Served from the file DATA/store/<sm3> by libmicrohttpd (server.h FILE
 * ANSWERS), never read into memory. One byte range (Range: bytes=A-B,
 * A-, -N) is 206 with Content-Range; a range that starts past the end is
 * 416 range_not_satisfiable with Content-Range: bytes * /SIZE; several
 * ranges or a malformed header are ignored (200, the whole). ETag is the
 * SM3 ("<hex>"), Accept-Ranges: bytes on every answer. */
#include "app/app.h"
#include "appstore/dltoken.h"
#include "appstore/package.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "http/handlers.h"
#include "identity/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The package id of the path remainder: decimal, no sign, no leading zero. */
static int64_t parse_id(const char *s)
{
    int64_t v = 0;
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 18 || s[0] == '0')
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

enum range_kind { RANGE_NONE, RANGE_ONE, RANGE_UNSATISFIABLE };

static bool digits(const char *s, const char *e, uint64_t *out)
{
    uint64_t v = 0;
    if (s == e || e - s > 19)
        return false;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* RFC 9110 §14.1.2, one range only: [off, off+len) of size bytes. */
static enum range_kind parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return RANGE_NONE;
    const char *s = h + 6, *dash = strchr(s, '-');
    if (!dash)
        return RANGE_NONE;
    const char *end = dash + strlen(dash);
    uint64_t a, b;
    if (s == dash) { /* suffix: the last N bytes */
        if (!digits(dash + 1, end, &b))
            return RANGE_NONE;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *len = b < size ? b : size;
        *off = size - *len;
        return RANGE_ONE;
    }
    if (!digits(s, dash, &a))
        return RANGE_NONE;
    if (dash + 1 == end)
        b = UINT64_MAX;
    else if (!digits(dash + 1, end, &b) || b < a)
        return RANGE_NONE;
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    if (b >= size)
        b = size - 1;
    *off = a;
    *len = b - a + 1;
    return RANGE_ONE;
}

void h_store_download(struct http_request *req, struct http_response *resp)
{
    struct app *a = req->app;
    int64_t id = parse_id(req->arg);
    const char *token = http_query(req, "token");
    char dev[DLTOKEN_DEV_LEN + 1];
    if (id <= 0) {
        http_error(resp, ZE_NOT_FOUND, NULL);
        return;
    }
    if (dltoken_check(a->store_token_key, id, token, clock_wall_ms() / 1000, dev) != 0) {
        log_warn("store.download", "package %lld: a bad or expired token from %s", (long long)id,
                 req->client_ip);
        http_error(resp, ZE_STORE_TOKEN_INVALID, NULL);
        return;
    }
    struct store_conn *c = NULL;
    if (store_acquire(a->store, &c) != STORE_OK) {
        http_error(resp, ZE_UNAVAILABLE, NULL);
        return;
    }
    struct pkg *p = malloc(sizeof *p);
    int rc = p ? pkg_get(c, id, p) : STORE_NOMEM;
    store_release(c);
    char path[PATH_MAX];
    int fd = -1;
    struct stat st;
    if (rc == ID_OK && !p->active)
        rc = ID_NOT_FOUND;
    if (rc == ID_NOT_FOUND) {
        http_error(resp, ZE_NOT_FOUND, NULL);
        goto out;
    }
    if (rc != ID_OK || pkg_file_path(a->cfg.data_dir, p->sm3, path, sizeof path) != 0 ||
        (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0 ||
        (uint64_t)st.st_size != (uint64_t)p->size) {
        log_error("store.download", "package %lld: its file is missing or not its size (%s)",
                  (long long)id, rc == ID_OK ? strerror(errno) : store_rc_name(rc));
        http_error(resp, rc == STORE_BUSY ? ZE_UNAVAILABLE : ZE_INTERNAL, NULL);
        goto out;
    }
    uint64_t size = (uint64_t)p->size, off = 0, len = size;
    char v[128];
    enum range_kind rk = parse_range(http_header(req, "Range"), size, &off, &len);
    if (rk == RANGE_UNSATISFIABLE) {
        http_error(resp, ZE_RANGE_NOT_SATISFIABLE, NULL);
        snprintf(v, sizeof v, "bytes */%llu", (unsigned long long)size);
        (void)http_add_header(resp, "Content-Range", v);
        goto out;
    }
    resp->status = rk == RANGE_ONE ? 206 : 200;
    resp->content_type =
        strcmp(p->kind, "apk") == 0 ? "application/vnd.android.package-archive" : "application/zip";
    if (rk == RANGE_ONE) {
        snprintf(v, sizeof v, "bytes %llu-%llu/%llu", (unsigned long long)off,
                 (unsigned long long)(off + len - 1), (unsigned long long)size);
        (void)http_add_header(resp, "Content-Range", v);
    } else {
        off = 0;
        len = size;
    }
    (void)http_add_header(resp, "Accept-Ranges", "bytes");
    snprintf(v, sizeof v, "\"%s\"", p->sm3);
    (void)http_add_header(resp, "ETag", v);
    resp->has_fd = true;
    resp->fd = fd;
    resp->file_off = off;
    resp->file_len = len;
    fd = -1; /* the response's now */
    log_info("store.download", "package %lld to device %.8s…: %s %llu bytes from %llu",
             (long long)id, dev, req->method, (unsigned long long)len, (unsigned long long)off);
out:
    if (fd >= 0)
        close(fd);
    free(p);
}
