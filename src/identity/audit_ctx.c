/* audit_ctx.c — the audit key files and the process-wide context (audit.h).
 *
 * Secret files are refused, like ssh refuses its keys, when group or others
 * may read them; every buffer that held key text is wiped. */
#include "identity/audit_int.h"

#include "foundation/codec.h"
#include "foundation/secmem.h"
#include "foundation/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_HEX (2 * AUDIT_KEY_LEN)

static struct audit_ctx g;
static uint64_t opens; /* audit_open calls so far: g.epoch */

const struct audit_ctx *audit_ctx(void)
{
    return g.open ? &g : NULL;
}

bool audit_is_open(void)
{
    return g.open;
}

int audit_pubkey_hex(char out[AUDIT_PUB_HEX + 1])
{
    if (!g.open)
        return ID_ERR;
    memcpy(out, g.pub_hex, AUDIT_PUB_HEX + 1);
    return ID_OK;
}

void audit_close(void)
{
    sm2_key_free(g.sign);
    sm2_key_free(g.pub);
    secmem_wipe(&g, sizeof g);
}

static int path_of(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- creating ------------------------------------------------------------- */

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* A new file with exactly text (n bytes); ID_EXISTS if it exists. */
static int write_new(const char *path, mode_t mode, const char *text, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST ? ID_EXISTS : ID_ERR;
    int rc = write_all(fd, text, n) == 0 && fsync(fd) == 0 ? ID_OK : ID_ERR;
    if (close(fd) != 0)
        rc = ID_ERR;
    if (rc != ID_OK)
        unlink(path); /* never leave a half-written key behind */
    return rc;
}

static int create_hmac_key(const char *path)
{
    uint8_t key[AUDIT_KEY_LEN];
    char text[KEY_HEX + 2];
    if (access(path, F_OK) == 0)
        return ID_EXISTS;
    int rc = ID_ERR;
    if (secmem_random(key, sizeof key) == 0) {
        hex_encode(key, sizeof key, text, sizeof text);
        text[KEY_HEX] = '\n';
        rc = write_new(path, 0600, text, KEY_HEX + 1);
    }
    secmem_wipe(key, sizeof key);
    secmem_wipe(text, sizeof text);
    return rc;
}

static int write_pub(const sm2_key *k, const char *path)
{
    uint8_t pub[SM2_PUB_LEN];
    char text[AUDIT_PUB_HEX + 2];
    if (sm2_key_export_pub(k, pub) != SM_OK)
        return ID_ERR;
    hex_encode(pub, sizeof pub, text, sizeof text);
    text[AUDIT_PUB_HEX] = '\n';
    return write_new(path, 0644, text, AUDIT_PUB_HEX + 1);
}

/* The signing key and, from it, the public file (each only if missing). */
static int create_sign_key(const char *sign_path, const char *pub_path, bool *created)
{
    sm2_key *k = NULL;
    int rc = ID_OK;
    if (access(sign_path, F_OK) != 0) {
        if (sm2_key_generate(&k) != SM_OK || sm2_key_write_pem(k, sign_path) != SM_OK)
            rc = ID_ERR;
        else
            *created = true;
    } else if (access(pub_path, F_OK) != 0 && sm2_key_load_pem(sign_path, &k) != SM_OK) {
        rc = ID_ERR;
    }
    if (rc == ID_OK && access(pub_path, F_OK) != 0) {
        rc = write_pub(k, pub_path);
        if (rc == ID_OK)
            *created = true;
    }
    sm2_key_free(k);
    return rc;
}

int audit_keys_create(const char *key_dir, char *err, size_t errcap)
{
    char key[PATH_MAX], sign[PATH_MAX], pub[PATH_MAX];
    bool created = false;
    if (!key_dir || path_of(key_dir, AUDIT_KEY_FILE, key, sizeof key) ||
        path_of(key_dir, AUDIT_SIGN_FILE, sign, sizeof sign) ||
        path_of(key_dir, AUDIT_PUB_FILE, pub, sizeof pub)) {
        snprintf(err, errcap, "key directory path too long");
        return ID_ERR;
    }
    if (mkdir(key_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "%s: %s", key_dir, strerror(errno));
        return ID_ERR;
    }
    int rc = create_hmac_key(key);
    if (rc == ID_OK)
        created = true;
    else if (rc != ID_EXISTS) {
        snprintf(err, errcap, "%s: cannot create: %s", key, strerror(errno));
        return ID_ERR;
    }
    if (create_sign_key(sign, pub, &created) != ID_OK) {
        snprintf(err, errcap, "%s: cannot create the signing key or its public file", sign);
        return ID_ERR;
    }
    sync_dir(key_dir);
    return created ? ID_OK : ID_EXISTS;
}

/* ---- loading -------------------------------------------------------------- */

/* The whole small file at path into buf (NUL-terminated): ID_OK,
 * ID_NOT_FOUND, ID_BAD_INPUT (not a regular file, larger than cap - 1, or
 * a secret readable by group/others), ID_ERR. */
static int read_key_file(const char *path, bool secret, char *buf, size_t cap, size_t *n)
{
    struct stat st;
    size_t got = 0;
    int rc = ID_BAD_INPUT;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ID_NOT_FOUND : errno == ELOOP ? ID_BAD_INPUT : ID_ERR;
    if (fstat(fd, &st) != 0) {
        rc = ID_ERR;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || (secret && (st.st_mode & 077) != 0))
        goto out;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ID_ERR;
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
        if (got == cap - 1)
            goto out; /* larger than any such file */
    }
    buf[got] = '\0';
    *n = got;
    rc = ID_OK;
out:
    close(fd);
    return rc;
}

/* Exactly `len` hex digits, optionally followed by one newline. */
static bool hex_text(const char *text, size_t n, size_t len)
{
    if (n == len + 1 && text[len] == '\n')
        n = len;
    return n == len && is_lower_hex(text, len);
}

static const char *why(int rc)
{
    return rc == ID_NOT_FOUND   ? "missing"
           : rc == ID_BAD_INPUT ? "malformed, not a regular file, or readable by group/others "
                                  "(must be 0600)"
                                : "cannot be read";
}

static int load_hmac_key(const char *path, char *err, size_t errcap)
{
    char text[KEY_HEX + 8];
    size_t n = 0;
    int rc = read_key_file(path, true, text, sizeof text, &n);
    if (rc == ID_OK && (!hex_text(text, n, KEY_HEX) ||
                        hex_decode(text, KEY_HEX, g.key, sizeof g.key) != AUDIT_KEY_LEN))
        rc = ID_BAD_INPUT;
    secmem_wipe(text, sizeof text);
    if (rc != ID_OK)
        snprintf(err, errcap, "%s: %s", path, why(rc));
    return rc;
}

static int load_sign_key(const char *path, char *err, size_t errcap)
{
    struct stat st;
    int rc = ID_OK;
    if (lstat(path, &st) != 0)
        rc = errno == ENOENT ? ID_NOT_FOUND : ID_ERR;
    else if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
             sm2_key_load_pem(path, &g.sign) != SM_OK)
        rc = ID_BAD_INPUT;
    if (rc != ID_OK)
        snprintf(err, errcap, "%s: %s", path, why(rc));
    return rc;
}

/* The public file's key; with a signing key loaded, it must be its half. */
static int load_pub(const char *path, char *err, size_t errcap)
{
    char text[AUDIT_PUB_HEX + 8];
    uint8_t raw[SM2_PUB_LEN], mine[SM2_PUB_LEN];
    size_t n = 0;
    int rc = read_key_file(path, false, text, sizeof text, &n);
    if (rc == ID_NOT_FOUND && g.sign)
        rc = sm2_key_export_pub(g.sign, raw) == SM_OK ? ID_OK : ID_ERR; /* derive it */
    else if (rc == ID_OK && (!hex_text(text, n, AUDIT_PUB_HEX) ||
                             hex_decode(text, AUDIT_PUB_HEX, raw, sizeof raw) != SM2_PUB_LEN))
        rc = ID_BAD_INPUT;
    if (rc == ID_OK && g.sign &&
        (sm2_key_export_pub(g.sign, mine) != SM_OK || memcmp(mine, raw, sizeof raw) != 0)) {
        snprintf(err, errcap, "%s: not the public half of %s", path, AUDIT_SIGN_FILE);
        return ID_BAD_INPUT;
    }
    if (rc == ID_OK && sm2_key_from_pub(raw, &g.pub) != SM_OK)
        rc = ID_BAD_INPUT;
    if (rc != ID_OK) {
        snprintf(err, errcap, "%s: %s", path,
                 rc == ID_BAD_INPUT ? "not 130 hex digits of an SM2 public key" : why(rc));
        return rc;
    }
    hex_encode(raw, sizeof raw, g.pub_hex, sizeof g.pub_hex);
    return ID_OK;
}

/* The three files of key_dir into the context. */
static int load_keys(const struct audit_options *o, char *err, size_t errcap)
{
    char key[PATH_MAX], sign[PATH_MAX], pub[PATH_MAX];
    if (path_of(o->key_dir, AUDIT_KEY_FILE, key, sizeof key) ||
        path_of(o->key_dir, AUDIT_SIGN_FILE, sign, sizeof sign) ||
        path_of(o->key_dir, AUDIT_PUB_FILE, pub, sizeof pub)) {
        snprintf(err, errcap, "key directory path too long");
        return ID_BAD_INPUT;
    }
    int rc = load_hmac_key(key, err, errcap);
    if (rc == ID_OK && !o->verify_only)
        rc = load_sign_key(sign, err, errcap);
    if (rc != ID_OK)
        return rc;
    rc = load_pub(pub, err, errcap);
    /* A verifier without the public file derives it from the private key. */
    if (rc == ID_NOT_FOUND && o->verify_only) {
        if (load_sign_key(sign, err, errcap) == ID_OK)
            rc = load_pub(pub, err, errcap);
        else
            snprintf(err, errcap, "%s: missing (and no readable %s to derive it from)", pub,
                     AUDIT_SIGN_FILE);
    }
    return rc;
}

int audit_open(const struct audit_options *o, char *err, size_t errcap)
{
    if (g.open) {
        snprintf(err, errcap, "the audit context is already open");
        return ID_EXISTS;
    }
    if (!o || !o->key_dir || !o->checkpoint_file || o->checkpoint_every < 1 ||
        snprintf(g.checkpoint_file, sizeof g.checkpoint_file, "%s", o->checkpoint_file) >=
            (int)sizeof g.checkpoint_file) {
        snprintf(err, errcap, "bad audit options");
        audit_close();
        return ID_BAD_INPUT;
    }
    g.every = o->checkpoint_every;
    int rc = load_keys(o, err, errcap);
    if (rc != ID_OK) {
        audit_close();
        return rc;
    }
    g.epoch = ++opens;
    g.open = true;
    return ID_OK;
}
