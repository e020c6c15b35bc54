/* kek.c — the KEK file and SM4-CBC + HMAC-SM3 sealing (see kek.h). */
#include "identity/kek.h"

#include "channel/sm.h"
#include "foundation/codec.h"
#include "foundation/text.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEAL_VERSION 0x01
#define SEAL_LABEL "zhanye kek seal v1"
#define HEX_LEN (2 * KEK_LEN)
#define IV_LEN SM4_BLOCK
#define MAC_LEN SM3_LEN

int kek_path(const char *key_dir, char *out, size_t cap)
{
    if (!key_dir || !out)
        return -1;
    int n = snprintf(out, cap, "%s/%s", key_dir, KEK_FILE);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

void kek_wipe(struct kek *k)
{
    secmem_wipe(k, sizeof *k);
}

/* ---- the file ------------------------------------------------------------ */

/* The new file's name must survive a crash too, not just its bytes. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int kek_create(const char *key_dir)
{
    char path[PATH_MAX], text[HEX_LEN + 2];
    uint8_t key[KEK_LEN];
    int rc = ID_ERR, fd = -1;
    if (kek_path(key_dir, path, sizeof path) != 0) {
        errno = ENAMETOOLONG;
        return ID_BAD_INPUT;
    }
    if (mkdir(key_dir, 0700) != 0 && errno != EEXIST)
        return ID_ERR;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? ID_EXISTS : ID_ERR;
    if (secmem_random(key, sizeof key) != 0) {
        errno = EIO;
        goto out;
    }
    hex_encode(key, sizeof key, text, sizeof text);
    text[HEX_LEN] = '\n';
    if (write_all(fd, text, HEX_LEN + 1) != 0 || fsync(fd) != 0)
        goto out;
    rc = ID_OK;
out:
    secmem_wipe(key, sizeof key);
    secmem_wipe(text, sizeof text);
    if (close(fd) != 0)
        rc = ID_ERR;
    if (rc != ID_OK)
        unlink(path); /* never leave a half-written key behind */
    else
        sync_dir(key_dir);
    return rc;
}

/* Reads at most cap bytes of fd; the count or -1. */
static ssize_t read_small(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int derive(const uint8_t master[KEK_LEN], struct kek *out)
{
    uint8_t enc[SM3_LEN];
    sm_part enc_label = {"zhanye kek enc", 14}, mac_label = {"zhanye kek mac", 14};
    int rc = ID_ERR;
    if (sm_hmac(master, KEK_LEN, &enc_label, 1, enc) == SM_OK &&
        sm_hmac(master, KEK_LEN, &mac_label, 1, out->mac) == SM_OK) {
        memcpy(out->enc, enc, sizeof out->enc);
        rc = ID_OK;
    }
    secmem_wipe(enc, sizeof enc);
    return rc;
}

/* Parses the file text (64 hex digits, optional newline) and derives. */
static int parse_key(const char *text, size_t n, struct kek *out)
{
    uint8_t master[KEK_LEN];
    if (n == HEX_LEN + 1 && text[HEX_LEN] == '\n')
        n = HEX_LEN;
    if (n != HEX_LEN || hex_decode(text, n, master, sizeof master) != KEK_LEN)
        return ID_BAD_INPUT;
    int rc = derive(master, out);
    secmem_wipe(master, sizeof master);
    return rc;
}

int kek_load(const char *path, struct kek *out)
{
    char text[HEX_LEN + 8];
    struct stat st;
    int rc = ID_BAD_INPUT;
    if (!path || !out)
        return ID_BAD_INPUT;
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ID_NOT_FOUND : ID_ERR;
    if (fstat(fd, &st) != 0) {
        rc = ID_ERR;
        goto out;
    }
    /* Like ssh with its keys: a key others can read is refused, not used. */
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0)
        goto out;
    ssize_t n = read_small(fd, text, sizeof text);
    if (n < 0)
        rc = ID_ERR;
    else
        rc = parse_key(text, (size_t)n, out);
out:
    secmem_wipe(text, sizeof text);
    close(fd);
    if (rc != ID_OK)
        kek_wipe(out);
    return rc;
}

/* ---- sealing -------------------------------------------------------------- */

size_t kek_sealed_len(size_t n)
{
    return 1 + IV_LEN + sm4_cbc_padded_len(n) + MAC_LEN;
}

/* HMAC over label, context and body (version || IV || ciphertext). */
static int seal_mac(const struct kek *k, const char *context, const uint8_t *body, size_t n,
                    uint8_t mac[MAC_LEN])
{
    size_t clen = strlen(context);
    uint8_t len4[4] = {(uint8_t)(clen >> 24), (uint8_t)(clen >> 16), (uint8_t)(clen >> 8),
                       (uint8_t)clen};
    sm_part parts[] = {{SEAL_LABEL, sizeof SEAL_LABEL - 1}, {len4, 4}, {context, clen}, {body, n}};
    return sm_hmac(k->mac, sizeof k->mac, parts, 4, mac) == SM_OK ? ID_OK : ID_ERR;
}

int kek_seal(const struct kek *k, const char *context, const uint8_t *plain, size_t n, uint8_t *out,
             size_t cap, size_t *outlen)
{
    size_t ctlen = 0;
    if (!k || !context || (!plain && n) || !out || !outlen || strlen(context) > UINT32_MAX ||
        cap < kek_sealed_len(n))
        return ID_BAD_INPUT;
    out[0] = SEAL_VERSION;
    if (secmem_random(out + 1, IV_LEN) != 0)
        return ID_ERR;
    uint8_t *ct = out + 1 + IV_LEN;
    sm_status st =
        sm4_cbc_encrypt(k->enc, out + 1, plain, n, ct, cap - 1 - IV_LEN - MAC_LEN, &ctlen);
    if (st != SM_OK)
        return st == SM_BAD ? ID_BAD_INPUT : ID_ERR;
    int rc = seal_mac(k, context, out, 1 + IV_LEN + ctlen, ct + ctlen);
    if (rc == ID_OK)
        *outlen = 1 + IV_LEN + ctlen + MAC_LEN;
    return rc;
}

int kek_open(const struct kek *k, const char *context, const uint8_t *in, size_t n, uint8_t *out,
             size_t cap, size_t *outlen)
{
    uint8_t mac[MAC_LEN];
    if (!k || !context || !in || !out || !outlen || strlen(context) > UINT32_MAX)
        return ID_BAD_INPUT;
    if (n < 1 + IV_LEN + SM4_BLOCK + MAC_LEN || (n - 1 - IV_LEN - MAC_LEN) % SM4_BLOCK != 0 ||
        in[0] != SEAL_VERSION)
        return ID_BAD_INPUT;
    size_t body = n - MAC_LEN;
    if (cap < body - 1 - IV_LEN)
        return ID_BAD_INPUT;
    int rc = seal_mac(k, context, in, body, mac);
    if (rc != ID_OK)
        return rc;
    if (!secmem_equal(mac, in + body, MAC_LEN))
        return ID_CORRUPT;
    sm_status st =
        sm4_cbc_decrypt(k->enc, in + 1, in + 1 + IV_LEN, body - 1 - IV_LEN, out, cap, outlen);
    /* The MAC held, so a bad padding means a sealer bug, not an attack. */
    if (st != SM_OK)
        return st == SM_BAD ? ID_CORRUPT : ID_ERR;
    return ID_OK;
}
