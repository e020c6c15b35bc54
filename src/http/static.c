#include "http/static.h"

#include "channel/sm.h"
#include "foundation/codec.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The apps under a web root and where each is served; the longest prefix
 * comes first. An absent directory is no app. */
static const struct {
    const char *dir, *prefix;
} MOUNTS[] = {
    {.dir = "console", .prefix = "/console/"},
    {.dir = "tablet", .prefix = "/"},
};
#define NMOUNTS (sizeof MOUNTS / sizeof MOUNTS[0])

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {.ext = ".html", .type = "text/html; charset=utf-8"},
    {.ext = ".js", .type = "text/javascript; charset=utf-8"},
    {.ext = ".mjs", .type = "text/javascript; charset=utf-8"},
    {.ext = ".css", .type = "text/css; charset=utf-8"},
    {.ext = ".json", .type = "application/json"},
    {.ext = ".webmanifest", .type = "application/manifest+json"},
    {.ext = ".svg", .type = "image/svg+xml"},
    {.ext = ".png", .type = "image/png"},
    {.ext = ".ico", .type = "image/x-icon"},
    {.ext = ".woff2", .type = "font/woff2"},
    {.ext = ".wasm", .type = "application/wasm"},
    {.ext = ".txt", .type = "text/plain; charset=utf-8"},
};

struct file {
    char *path; /* the URL path, e.g. "/assets/index.js" */
    unsigned char *data, *gz;
    size_t len, gzlen;
    char hash[STATIC_HASH_LEN + 1];
    const char *type;
    bool gone;                          /* a .gz sibling taken by its file */
    char signature[STATIC_SIG_MAX + 1]; /* a signed manifest's (static.h SIGNED MANIFESTS) */
};

/* One loaded root: sorted by path. Shared by the requests that took it. */
struct map {
    struct file *files;
    size_t n, cap;
    int refs;
};

struct static_site {
    char root[PATH_MAX];
    const sm2_key *key; /* signs the manifests; NULL: none */
    pthread_mutex_t mu;
    struct map *cur;
};

const char *static_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
            if (strcmp(dot, TYPES[i].ext) == 0)
                return TYPES[i].type;
    return "application/octet-stream";
}

int static_hash(const void *p, size_t len, char out[STATIC_HASH_LEN + 1])
{
    uint8_t d[SM3_LEN];
    sm_part part = {.p = p, .n = len};
    if (sm3_digest(&part, 1, d) != SM_OK)
        return -1;
    static const char HEX[] = "0123456789abcdef";
    for (int i = 0; i < STATIC_HASH_LEN / 2; i++) {
        out[2 * i] = HEX[d[i] >> 4];
        out[2 * i + 1] = HEX[d[i] & 15];
    }
    out[STATIC_HASH_LEN] = '\0';
    return 0;
}

static void map_free(struct map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->files[i].path);
        free(m->files[i].data);
        free(m->files[i].gz);
    }
    free(m->files);
    free(m);
}

static int read_all(const char *file, unsigned char **out, size_t *len, char *err, size_t errcap)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errcap, "cannot read %s: %s", file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > STATIC_FILE_MAX) {
        snprintf(err, errcap, "%s is larger than %u bytes", file, STATIC_FILE_MAX);
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(n ? n : 1);
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!buf || got != n) {
        snprintf(err, errcap, "cannot read %s", file);
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int add_file(struct map *m, const char *url, const char *file, char *err, size_t errcap)
{
    if (strlen(url) > STATIC_PATH_MAX) {
        snprintf(err, errcap, "%s: path too long", file);
        return -1;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        struct file *f = realloc(m->files, cap * sizeof *f);
        if (!f)
            goto oom;
        m->files = f;
        m->cap = cap;
    }
    struct file *f = &m->files[m->n];
    memset(f, 0, sizeof *f);
    if (read_all(file, &f->data, &f->len, err, errcap) != 0)
        return -1;
    f->path = strdup(url);
    if (!f->path || static_hash(f->data, f->len, f->hash) != 0) {
        free(f->path);
        free(f->data);
        goto oom;
    }
    f->type = static_content_type(url);
    m->n++;
    return 0;
oom:
    snprintf(err, errcap, "out of memory loading %s", file);
    return -1;
}

static int walk(struct map *m, const char *dir, const char *url, char *err, size_t errcap)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errcap, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char file[PATH_MAX], sub[STATIC_PATH_MAX + 2];
        struct stat st;
        if (snprintf(file, sizeof file, "%s/%s", dir, e->d_name) >= (int)sizeof file ||
            snprintf(sub, sizeof sub, "%s%s", url, e->d_name) >= (int)sizeof sub) {
            snprintf(err, errcap, "%s/%s: path too long", dir, e->d_name);
            rc = -1;
        } else if (lstat(file, &st) != 0) {
            snprintf(err, errcap, "cannot read %s: %s", file, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            size_t n = strlen(sub);
            sub[n] = '/';
            sub[n + 1] = '\0';
            rc = walk(m, file, sub, err, errcap);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(m, sub, file, err, errcap);
        }
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

static struct file *find(const struct map *m, const char *path)
{
    struct file key = {.path = (char *)path};
    return m->n ? bsearch(&key, m->files, m->n, sizeof *m->files, by_path) : NULL;
}

/* NAME.gz next to NAME becomes NAME's gzip form and leaves the map. */
static void pair_gzip(struct map *m)
{
    size_t w = 0;
    for (size_t i = 0; i < m->n; i++) {
        struct file *f = &m->files[i];
        size_t n = strlen(f->path);
        struct file *base = NULL;
        if (n > 3 && n - 3 <= STATIC_PATH_MAX && strcmp(f->path + n - 3, ".gz") == 0) {
            char key[STATIC_PATH_MAX + 1];
            memcpy(key, f->path, n - 3);
            key[n - 3] = '\0';
            base = find(m, key);
        }
        if (base && base != f && !base->gone && !base->gz) {
            base->gz = f->data;
            base->gzlen = f->len;
            f->data = NULL;
            f->gone = true;
        }
    }
    for (size_t i = 0; i < m->n; i++) {
        if (m->files[i].gone) {
            free(m->files[i].path);
            free(m->files[i].gz);
        } else
            m->files[w++] = m->files[i];
    }
    m->n = w;
}

/* Signs every app's manifest.json (static.h SIGNED MANIFESTS). */
static int sign_manifests(struct map *m, const sm2_key *key, char *err, size_t errcap)
{
    size_t ml = strlen(STATIC_MANIFEST);
    for (size_t i = 0; key && i < m->n; i++) {
        struct file *f = &m->files[i];
        size_t n = strlen(f->path);
        if (n <= ml || f->path[n - ml - 1] != '/' || strcmp(f->path + n - ml, STATIC_MANIFEST))
            continue;
        uint8_t h[SM3_LEN], sig[SM2_SIG_MAX];
        size_t siglen = 0;
        sm_part part = {f->data, f->len}, hp = {h, SM3_LEN};
        if (sm3_digest(&part, 1, h) != SM_OK ||
            sm2_sign(key, &hp, 1, sig, sizeof sig, &siglen) != SM_OK ||
            b64_encode(sig, siglen, f->signature, sizeof f->signature) < 0) {
            snprintf(err, errcap, "cannot sign %s", f->path);
            return -1;
        }
    }
    return 0;
}

static struct map *load(const char *root, const sm2_key *key, char *err, size_t errcap)
{
    struct stat st;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode) || access(root, R_OK | X_OK) != 0) {
        snprintf(err, errcap, "web root %s is missing or unreadable", root);
        return NULL;
    }
    struct map *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < NMOUNTS; i++) {
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s/%s", root, MOUNTS[i].dir) >= (int)sizeof dir) {
            snprintf(err, errcap, "web root %s: path too long", root);
            map_free(m);
            return NULL;
        }
        if (stat(dir, &st) != 0 && errno == ENOENT)
            continue;
        if (walk(m, dir, MOUNTS[i].prefix, err, errcap) != 0) {
            map_free(m);
            return NULL;
        }
    }
    if (m->n)
        qsort(m->files, m->n, sizeof *m->files, by_path);
    pair_gzip(m);
    if (sign_manifests(m, key, err, errcap) != 0) {
        map_free(m);
        return NULL;
    }
    m->refs = 1;
    return m;
}

int static_open(const char *root, struct static_site **out, char *err, size_t errcap)
{
    return static_open_signed(root, NULL, out, err, errcap);
}

int static_open_signed(const char *root, const sm2_key *key, struct static_site **out, char *err,
                       size_t errcap)
{
    *out = NULL;
    struct static_site *s = calloc(1, sizeof *s);
    if (!s || snprintf(s->root, sizeof s->root, "%s", root) >= (int)sizeof s->root) {
        snprintf(err, errcap, "web root %s: path too long", root);
        free(s);
        return -1;
    }
    s->key = key;
    s->cur = load(s->root, key, err, errcap);
    if (!s->cur) {
        free(s);
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    *out = s;
    return 0;
}

static struct map *take(struct static_site *s)
{
    pthread_mutex_lock(&s->mu);
    struct map *m = s->cur;
    m->refs++;
    pthread_mutex_unlock(&s->mu);
    return m;
}

static void drop(struct static_site *s, struct map *m)
{
    pthread_mutex_lock(&s->mu);
    bool last = --m->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (last)
        map_free(m);
}

int static_reload(struct static_site *s, char *err, size_t errcap)
{
    struct map *m = load(s->root, s->key, err, errcap);
    if (!m)
        return -1;
    pthread_mutex_lock(&s->mu);
    struct map *old = s->cur;
    s->cur = m;
    pthread_mutex_unlock(&s->mu);
    drop(s, old);
    return 0;
}

size_t static_count(struct static_site *s)
{
    struct map *m = take(s);
    size_t n = m->n;
    drop(s, m);
    return n;
}

void static_free(struct static_site *s)
{
    if (!s)
        return;
    map_free(s->cur);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* The map key of an acceptable path ("/x/" -> "/x/index.html"), or false. */
static bool key_of(const char *path, char *key, size_t cap)
{
    size_t n = path ? strnlen(path, STATIC_PATH_MAX + 1) : 0;
    if (n == 0 || n > STATIC_PATH_MAX || path[0] != '/' || strstr(path, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || c == '%')
            return false;
    }
    const char *index = path[n - 1] == '/' ? "index.html" : "";
    return snprintf(key, cap, "%s%s", path, index) < (int)cap;
}

bool static_has(struct static_site *s, const char *path)
{
    char key[STATIC_PATH_MAX + 16];
    if (!key_of(path, key, sizeof key))
        return false;
    struct map *m = take(s);
    bool has = find(m, key) != NULL;
    drop(s, m);
    return has;
}

bool static_accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p + strcspn(p, ",");
        size_t tok = strcspn(p, " ;,");
        if ((tok == 4 && strncasecmp(p, "gzip", 4) == 0) || (tok == 1 && *p == '*')) {
            const char *q = strstr(p, ";");
            bool zero = false;
            if (q && q < end) {
                q++;
                while (*q == ' ')
                    q++;
                if (q[0] == 'q' && q[1] == '=') {
                    char *e;
                    double v = strtod(q + 2, &e);
                    zero = e != q + 2 && v <= 0.0;
                }
            }
            if (!zero && tok == 4)
                return true;
        }
        p = end;
    }
    return false;
}

/* If-None-Match names etag (a list of entity tags, W/ allowed, or *). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    size_t el = strlen(etag);
    for (const char *p = inm; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        size_t n = strcspn(p, ", ");
        if (n == el && strncmp(p, etag, el) == 0)
            return true;
        p += n;
    }
    return false;
}

int static_answer(struct static_site *s, const struct static_query *q, struct static_answer *a)
{
    memset(a, 0, sizeof *a);
    a->status = 404;
    char key[STATIC_PATH_MAX + 16];
    if (!key_of(q->path, key, sizeof key))
        return 0;
    struct map *m = take(s);
    const struct file *f = find(m, key);
    int rc = 0;
    if (f) {
        a->content_type = f->type;
        a->page = strcmp(f->type, TYPES[0].type) == 0;
        a->immutable = q->v && strcmp(q->v, f->hash) == 0;
        snprintf(a->etag, sizeof a->etag, "\"%s\"", f->hash);
        snprintf(a->signature, sizeof a->signature, "%s", f->signature);
        if (etag_matches(q->if_none_match, a->etag)) {
            a->status = 304;
        } else {
            a->gzip = f->gz && static_accepts_gzip(q->accept_encoding);
            const unsigned char *src = a->gzip ? f->gz : f->data;
            a->len = a->gzip ? f->gzlen : f->len;
            a->body = a->len ? malloc(a->len) : NULL;
            if (a->len && !a->body) {
                a->len = 0;
                rc = -1;
            } else {
                if (a->len)
                    memcpy(a->body, src, a->len);
                a->status = 200;
            }
        }
    }
    drop(s, m);
    return rc;
}
