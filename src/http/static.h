/* static — the web apps' files (docs/api.md "Web apps"), held in memory.
 *
 * MOUNTS. A web root holds one directory per app; the mount table (static.c)
 * serves `tablet/` at `/` and, when present, `console/` at `/console/`.
 * static_open() loads every regular file under each present app directory
 * (symbolic links and names starting with '.' are skipped) into memory, with
 * its `NAME.gz` sibling when the build wrote one (the sibling is then not a
 * file of its own). A request never touches the disk: only URL paths present
 * in the loaded map exist, so no path can reach outside the root.
 *
 * HASH. A file's hash is the first 16 hex characters (lower case) of the SM3
 * of its bytes; the build's manifest.json uses the same (web/build/
 * resources.js). It is the file's strong ETag ("<hash>" with the quotes).
 *
 * ANSWERS (static_answer):
 *   - a path that is not acceptable (empty, not starting with '/', longer
 *     than STATIC_PATH_MAX, containing "..", '\\', '%', or a control byte)
 *     or not in the map: 404;
 *   - a path ending in '/' means its index.html;
 *   - If-None-Match naming the current ETag (or `*`): 304, no body;
 *   - else 200 with the bytes (gzip ones when Accept-Encoding allows gzip and
 *     a .gz exists: gzip true).
 * immutable is true only when `?v=` equals the file's current hash (the
 * service worker asks that way): the caller sends Cache-Control public,
 * max-age=31536000, immutable; else no-cache. page is true for HTML.
 *
 * SIGNED MANIFESTS. A site opened with a key (static_open_signed) signs
 * every app's manifest.json as it loads it: the SM2 signature (GB/T 32918.2,
 * default identifier, DER, base64) of the 32-byte SM3 of the file's bytes,
 * made with the server's first live key (the one tablets pin at
 * activation). Every 200 answer of that file carries it (static_answer
 * signature; the header X-Manifest-Signature, docs/api.md "Web apps"), so a
 * client verifies exactly the bytes it got. A reload signs the new files.
 *
 * RELOAD. static_reload() reads the root again; on success the new map
 * replaces the old one atomically (requests in progress finish with the copy
 * they took), on failure the old map stays. Lookups and reloads may run
 * concurrently from any threads. */
#ifndef ZHANYE_HTTP_STATIC_H
#define ZHANYE_HTTP_STATIC_H

#include <stdbool.h>
#include <stddef.h>

struct sm2_key;

#define STATIC_PATH_MAX 1024
#define STATIC_HASH_LEN 16
/* A file larger than this fails the load (the apps' files are small). */
#define STATIC_FILE_MAX (32u << 20)
/* base64 of a DER SM2 signature (<= 72 bytes). */
#define STATIC_SIG_MAX 96
#define STATIC_MANIFEST "manifest.json"

struct static_site;

/* Loads root. 0, or -1 with a one-line err (root missing or unreadable, an
 * unreadable or too large file, out of memory) and *out NULL. */
int static_open(const char *root, struct static_site **out, char *err, size_t errcap);
/* static_open, and every manifest.json signed with key (a private key the
 * caller keeps alive as long as the site; NULL: unsigned, as static_open).
 * A manifest that cannot be signed fails the load like an unreadable file. */
int static_open_signed(const char *root, const struct sm2_key *key, struct static_site **out,
                       char *err, size_t errcap);
/* 0 (new map in place), or -1 with err (old map kept). */
int static_reload(struct static_site *s, char *err, size_t errcap);
/* Number of files served (the .gz siblings not counted). */
size_t static_count(struct static_site *s);
void static_free(struct static_site *s);

/* True when path (no query) is acceptable and names a served file. */
bool static_has(struct static_site *s, const char *path);

struct static_query {
    const char *path;            /* the URL's path, decoded, no query */
    const char *v;               /* the `v` query argument, or NULL */
    const char *if_none_match;   /* or NULL */
    const char *accept_encoding; /* or NULL */
};

struct static_answer {
    int status; /* 200, 304 or 404 */
    char *body; /* malloc'd copy (200 only; NULL when empty) */
    size_t len;
    const char *content_type;       /* static string */
    char etag[STATIC_HASH_LEN + 3]; /* "\"<hash>\"" (200 and 304) */
    bool immutable;
    bool gzip;
    bool page; /* an HTML page: the apps' Content-Security-Policy applies */
    /* A signed manifest.json's signature (base64; 200 and 304), else "". */
    char signature[STATIC_SIG_MAX + 1];
};

/* Fills a (its body is the caller's to free). 0, or -1 out of memory. */
int static_answer(struct static_site *s, const struct static_query *q, struct static_answer *a);

/* The content type of a file name by its extension (application/octet-stream
 * when unknown). */
const char *static_content_type(const char *name);
/* The hash of len bytes into out (STATIC_HASH_LEN hex + NUL). 0 or -1. */
int static_hash(const void *p, size_t len, char out[STATIC_HASH_LEN + 1]);
/* True when an Accept-Encoding value allows gzip (a q=0 refuses it). */
bool static_accepts_gzip(const char *accept_encoding);

#endif
