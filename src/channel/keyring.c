#include "channel/keyring.h"

#include "channel/envelope.h"
#include "foundation/codec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int keyring_path(const char *key_dir, const char *kid, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s.pem", key_dir, kid);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int load_one(struct keyring_entry *e, const char *kid, size_t n, const char *key_dir,
                    char *err, size_t errcap)
{
    char path[4096];
    uint8_t pub[SM2_PUB_LEN];
    memcpy(e->kid, kid, n);
    e->kid[n] = '\0';
    if (keyring_path(key_dir, e->kid, path, sizeof path) != 0) {
        snprintf(err, errcap, "key %s: path too long", e->kid);
        return -1;
    }
    if (sm2_key_load_pem(path, &e->key) != SM_OK) {
        snprintf(err, errcap, "key %s: cannot load %s (run `zhanye keygen --kid %s`)", e->kid, path,
                 e->kid);
        return -1;
    }
    if (sm2_key_export_pub(e->key, pub) != SM_OK ||
        b64_encode(pub, sizeof pub, e->pub_b64, sizeof e->pub_b64) < 0) {
        snprintf(err, errcap, "key %s: cannot export the public key", e->kid);
        return -1;
    }
    return 0;
}

int keyring_load(struct keyring *kr, const char *kids, const char *key_dir, char *err,
                 size_t errcap)
{
    memset(kr, 0, sizeof *kr);
    for (const char *p = kids; *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (!zy1_kid_valid(p, n) || kr->n == KEYRING_MAX) {
            snprintf(err, errcap, "bad or too many key ids in '%s'", kids);
            goto fail;
        }
        if (keyring_find(kr, p, n))
            goto next;
        if (load_one(&kr->keys[kr->n], p, n, key_dir, err, errcap) != 0)
            goto fail;
        kr->n++;
    next:
        p += n;
    }
    if (kr->n == 0) {
        snprintf(err, errcap, "no live server key configured");
        goto fail;
    }
    return 0;
fail:
    keyring_free(kr);
    return -1;
}

void keyring_free(struct keyring *kr)
{
    for (int i = 0; i < KEYRING_MAX; i++)
        sm2_key_free(kr->keys[i].key);
    memset(kr, 0, sizeof *kr);
}

const sm2_key *keyring_find(const struct keyring *kr, const char *kid, size_t n)
{
    for (int i = 0; i < kr->n; i++)
        if (strlen(kr->keys[i].kid) == n && memcmp(kr->keys[i].kid, kid, n) == 0)
            return kr->keys[i].key;
    return NULL;
}

int keyring_generate(const char *key_dir, const char *kid, char *err, size_t errcap)
{
    char path[4096];
    sm2_key *k = NULL;
    int rc = -1;
    if (!zy1_kid_valid(kid, strlen(kid))) {
        snprintf(err, errcap, "bad key id '%s': want [A-Za-z0-9._-]{1,32}", kid);
        return -1;
    }
    if (mkdir(key_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errcap, "%s: %s", key_dir, strerror(errno));
        return -1;
    }
    if (keyring_path(key_dir, kid, path, sizeof path) != 0) {
        snprintf(err, errcap, "key path too long");
        return -1;
    }
    if (sm2_key_generate(&k) != SM_OK) {
        snprintf(err, errcap, "cannot generate an SM2 key");
        goto out;
    }
    if (sm2_key_write_pem(k, path) != SM_OK) {
        snprintf(err, errcap, "%s: exists or cannot be written", path);
        goto out;
    }
    rc = 0;
out:
    sm2_key_free(k);
    return rc;
}
