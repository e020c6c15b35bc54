/* voucher_sign.c — the voucher key and signatures (see voucher_sign.h). */
#include "business/voucher_sign.h"

#include "foundation/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "zhanye voucher v1\n"
#define MARK "/Keywords (zhanye-voucher:"
#define REC " recording-sm3:" /* a recorded business's voucher: the hash after the id */

static int path_of(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int write_pub(const sm2_key *k, const char *path)
{
    uint8_t pub[SM2_PUB_LEN];
    char text[2 * SM2_PUB_LEN + 2];
    if (sm2_key_export_pub(k, pub) != SM_OK)
        return VS_ERR;
    hex_encode(pub, sizeof pub, text, sizeof text);
    size_t n = strlen(text);
    text[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? VS_EXISTS : VS_ERR;
    int rc = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? VS_OK : VS_ERR;
    if (close(fd) != 0)
        rc = VS_ERR;
    if (rc != VS_OK)
        unlink(path);
    return rc;
}

int vsign_key_create(const char *key_dir)
{
    char key[PATH_MAX], pub[PATH_MAX];
    if (!key_dir || path_of(key_dir, VOUCHER_KEY_FILE, key, sizeof key) != 0 ||
        path_of(key_dir, VOUCHER_PUB_FILE, pub, sizeof pub) != 0)
        return VS_ERR;
    if (mkdir(key_dir, 0700) != 0 && errno != EEXIST)
        return VS_ERR;
    int created = 0;
    sm2_key *k = NULL;
    if (access(key, F_OK) != 0) {
        if (sm2_key_generate(&k) != SM_OK || sm2_key_write_pem(k, key) != SM_OK) {
            sm2_key_free(k);
            return VS_ERR;
        }
        created = 1;
    }
    if (access(pub, F_OK) != 0) {
        if (!k && vsign_key_load(key_dir, &k) != VS_OK)
            return VS_ERR;
        int rc = write_pub(k, pub);
        if (rc == VS_ERR) {
            sm2_key_free(k);
            return VS_ERR;
        }
        created = 1;
    }
    sm2_key_free(k);
    return created ? VS_OK : VS_EXISTS;
}

int vsign_key_load(const char *key_dir, sm2_key **out)
{
    char key[PATH_MAX];
    struct stat st;
    *out = NULL;
    if (!key_dir || path_of(key_dir, VOUCHER_KEY_FILE, key, sizeof key) != 0)
        return VS_BAD;
    if (lstat(key, &st) != 0)
        return errno == ENOENT ? VS_BAD : VS_ERR;
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077))
        return VS_BAD;
    sm_status s = sm2_key_load_pem(key, out);
    return s == SM_OK ? VS_OK : s == SM_BAD ? VS_BAD : VS_ERR;
}

static void parts_of(sm_part p[4], const char *id, const uint8_t sm3[SM3_LEN])
{
    p[0] = (sm_part){MAGIC, sizeof MAGIC - 1};
    p[1] = (sm_part){id, strlen(id)};
    p[2] = (sm_part){"\n", 1};
    p[3] = (sm_part){sm3, SM3_LEN};
}

int vsign_sign(const sm2_key *k, const char *id, const uint8_t sm3[SM3_LEN], uint8_t *sig,
               size_t cap, size_t *siglen)
{
    sm_part p[4];
    if (!k || !id || !*id)
        return VS_BAD;
    parts_of(p, id, sm3);
    return sm2_sign(k, p, 4, sig, cap, siglen) == SM_OK ? VS_OK : VS_ERR;
}

int vsign_verify(const sm2_key *k, const char *id, const uint8_t sm3[SM3_LEN], const uint8_t *sig,
                 size_t siglen)
{
    sm_part p[4];
    if (!k || !id || !*id || !sig || !siglen)
        return VS_BAD;
    parts_of(p, id, sm3);
    sm_status s = sm2_verify(k, p, 4, sig, siglen);
    return s == SM_OK ? VS_OK : s == SM_BAD ? VS_BAD : VS_ERR;
}

static int id_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '-';
}

int vsign_find_id(const uint8_t *pdf, size_t n, char id[VOUCHER_ID_MAX + 1])
{
    const size_t mlen = sizeof MARK - 1;
    id[0] = '\0';
    if (!pdf || n < mlen)
        return VS_BAD;
    const uint8_t *p = pdf, *end = pdf + n;
    while ((size_t)(end - p) >= mlen) {
        const uint8_t *hit = memmem(p, (size_t)(end - p), MARK, mlen);
        if (!hit)
            break;
        const uint8_t *q = hit + mlen;
        size_t len = 0;
        while (q + len < end && len <= VOUCHER_ID_MAX && id_char(q[len]))
            len++;
        if (len && len <= VOUCHER_ID_MAX && q + len < end &&
            (q[len] == ')' || ((size_t)(end - (q + len)) > sizeof REC - 1 &&
                               memcmp(q + len, REC, sizeof REC - 1) == 0))) {
            memcpy(id, q, len);
            id[len] = '\0';
            return VS_OK;
        }
        p = hit + 1;
    }
    return VS_BAD;
}
