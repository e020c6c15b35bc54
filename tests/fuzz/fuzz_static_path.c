/* fuzz_static_path — the web apps' path handling and lookup (http/static.h)
 * on outside input. The input's lines are the URL path, the `v` argument,
 * If-None-Match and Accept-Encoding. A web root with a few files is written
 * once to a temp directory. Contracts checked against an oracle (the table
 * of files below):
 *   - the status is 200, 304 or 404; it is 404 exactly when the path is not
 *     one of the table's (a trailing '/' meaning index.html) or holds "..",
 *     '%', '\\' or a control byte; static_has agrees;
 *   - a 200 carries exactly the file's bytes, or its gzip sibling's when
 *     gzip was accepted and it has one; a 304 no body;
 *   - the ETag is the file's hash; immutable exactly when v equals it. */
#include "http/static.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static const struct {
    const char *url, *file, *body, *gz;
} FILES[] = {
    {.url = "/index.html", .file = "tablet/index.html", .body = "<!doctype html>tablet"},
    {.url = "/assets/app.js",
     .file = "tablet/assets/app.js",
     .body = "console.log(1)",
     .gz = "GZ-app"},
    {.url = "/assets/a b.css", .file = "tablet/assets/a b.css", .body = "p{}"},
    {.url = "/manifest.json", .file = "tablet/manifest.json", .body = "{}"},
    {.url = "/console/index.html", .file = "console/index.html", .body = "console"},
    {.url = "/console/x.js", .file = "console/x.js", .body = "x"},
};
#define NFILES (sizeof FILES / sizeof FILES[0])

static struct static_site *site;
static char hashes[NFILES][STATIC_HASH_LEN + 1];

static void put(const char *dir, const char *rel, const char *body)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (char *s = path + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    CHECK(f);
    fputs(body, f);
    fclose(f);
}

static void init(void)
{
    char dir[] = "/tmp/zhanye-fuzz-static-XXXXXX";
    CHECK(mkdtemp(dir));
    char gz[512];
    for (size_t i = 0; i < NFILES; i++) {
        put(dir, FILES[i].file, FILES[i].body);
        if (FILES[i].gz) {
            snprintf(gz, sizeof gz, "%s.gz", FILES[i].file);
            put(dir, gz, FILES[i].gz);
        }
        CHECK(static_hash(FILES[i].body, strlen(FILES[i].body), hashes[i]) == 0);
    }
    char err[256];
    CHECK(static_open(dir, &site, err, sizeof err) == 0);
    CHECK(static_count(site) == NFILES);
}

/* The next line of the input (NUL-terminated copy), or NULL at the end. */
static char *line(const uint8_t **p, const uint8_t *end)
{
    if (*p > end)
        return NULL;
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    char *s = malloc(n + 1);
    CHECK(s);
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end + 1;
    return s;
}

static int oracle(const char *path)
{
    if (strstr(path, "..") || strlen(path) > STATIC_PATH_MAX)
        return -1;
    for (const char *c = path; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '%' || *c == '\\')
            return -1;
    size_t n = strlen(path);
    for (size_t i = 0; i < NFILES; i++) {
        const char *u = FILES[i].url;
        if (strcmp(u, path) == 0)
            return (int)i;
        if (n && path[n - 1] == '/' && strncmp(u, path, n) == 0 && strcmp(u + n, "index.html") == 0)
            return (int)i;
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!site)
        init();
    const uint8_t *p = data, *end = data + size;
    char *path = line(&p, end);
    char *v = line(&p, end);
    char *inm = line(&p, end);
    char *ae = line(&p, end);
    struct static_query q = {.path = path, .v = v, .if_none_match = inm, .accept_encoding = ae};
    struct static_answer a;
    CHECK(static_answer(site, &q, &a) == 0);
    int want = oracle(path);
    CHECK(static_has(site, path) == (want >= 0));
    if (want < 0) {
        CHECK(a.status == 404 && !a.body);
    } else {
        CHECK(a.status == 200 || a.status == 304);
        CHECK(strlen(a.etag) == STATIC_HASH_LEN + 2);
        CHECK(memcmp(a.etag + 1, hashes[want], STATIC_HASH_LEN) == 0);
        CHECK(a.immutable == (v && strcmp(v, hashes[want]) == 0));
        if (a.status == 304) {
            CHECK(!a.body && inm);
        } else {
            CHECK(a.gzip == (FILES[want].gz && static_accepts_gzip(ae)));
            const char *body = a.gzip ? FILES[want].gz : FILES[want].body;
            CHECK(a.len == strlen(body) && memcmp(a.body, body, a.len) == 0);
        }
    }
    free(a.body);
    free(path);
    free(v);
    free(inm);
    free(ae);
    return 0;
}
