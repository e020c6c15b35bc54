/* vrec_seal.c — recording tracks sealed chunk by chunk (see vrec_seal.h). */
#include "business/vrec_seal.h"

#include "foundation/log.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "ZYVREC01"
#define HDR 16

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t read_full(int fd, uint8_t *p, size_t n, off_t at)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, at + (off_t)got);
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

static void chunk_ctx(char *out, size_t cap, const char *ctx, int64_t size, int64_t i)
{
    snprintf(out, cap, "%s|%" PRId64 "|%" PRId64, ctx, size, i);
}

int vrec_seal_file(const struct kek *k, const char *ctx, const char *src, const char *dst,
                   char sm3_hex[65], int64_t *size, char *msg, size_t cap)
{
    struct stat st;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &st) != 0 || st.st_size < 1 || st.st_size > VREC_SEAL_MAX) {
        snprintf(msg, cap, "track %s is missing, empty or too large", src);
        if (in >= 0)
            close(in);
        return -1;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        snprintf(msg, cap, "cannot create %s: %s", dst, strerror(errno));
        close(in);
        return -1;
    }
    const size_t sealed_cap = kek_sealed_len(VREC_CHUNK);
    uint8_t *plain = malloc(VREC_CHUNK), *sealed = malloc(sealed_cap);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t hdr[HDR], dig[32];
    unsigned dlen = 0;
    memcpy(hdr, MAGIC, 8);
    put64(hdr + 8, (uint64_t)st.st_size);
    int rc = plain && sealed && md && EVP_DigestInit_ex(md, EVP_sm3(), NULL) == 1 &&
                     write_all(out, hdr, HDR) == 0
                 ? 0
                 : -1;
    int64_t done = 0;
    for (int64_t i = 0; rc == 0 && done < st.st_size; i++) {
        size_t want = (size_t)(st.st_size - done < VREC_CHUNK ? st.st_size - done : VREC_CHUNK);
        size_t outlen = 0;
        char cctx[192];
        chunk_ctx(cctx, sizeof cctx, ctx, st.st_size, i);
        if (read_full(in, plain, want, (off_t)done) != (ssize_t)want ||
            EVP_DigestUpdate(md, plain, want) != 1 ||
            kek_seal(k, cctx, plain, want, sealed, sealed_cap, &outlen) != ID_OK ||
            write_all(out, sealed, outlen) != 0)
            rc = -1;
        done += (int64_t)want;
    }
    if (rc == 0 && (EVP_DigestFinal_ex(md, dig, &dlen) != 1 || dlen != 32 || fsync(out) != 0))
        rc = -1;
    if (rc == 0) {
        for (int i = 0; i < 32; i++)
            snprintf(sm3_hex + 2 * i, 3, "%02x", dig[i]);
        *size = st.st_size;
    } else {
        snprintf(msg, cap, "sealing %s failed", src);
    }
    if (plain) {
        secmem_wipe(plain, VREC_CHUNK);
        free(plain);
    }
    free(sealed);
    EVP_MD_CTX_free(md);
    close(in);
    if (close(out) != 0)
        rc = -1;
    if (rc != 0)
        unlink(dst);
    return rc;
}

int vrec_open_range(const struct kek *k, const char *ctx, const char *path, int64_t size,
                    int64_t off, size_t len, uint8_t **out)
{
    *out = NULL;
    if (size < 1 || off < 0 || len < 1 || off >= size || (int64_t)len > size - off)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    const size_t sealed_cap = kek_sealed_len(VREC_CHUNK);
    uint8_t hdr[HDR];
    uint8_t *sealed = malloc(sealed_cap), *plain = malloc(VREC_CHUNK + 32), *all = malloc(len);
    int rc = sealed && plain && all && read_full(fd, hdr, HDR, 0) == HDR &&
                     memcmp(hdr, MAGIC, 8) == 0 && get64(hdr + 8) == (uint64_t)size
                 ? 0
                 : -1;
    size_t put = 0;
    int64_t last = (size - 1) / VREC_CHUNK;
    for (int64_t i = off / VREC_CHUNK; rc == 0 && put < len; i++) {
        size_t want = i == last ? (size_t)(size - last * VREC_CHUNK) : VREC_CHUNK;
        size_t slen = kek_sealed_len(want), got = 0;
        char cctx[192];
        chunk_ctx(cctx, sizeof cctx, ctx, size, i);
        if (read_full(fd, sealed, slen, (off_t)(HDR + (uint64_t)i * sealed_cap)) != (ssize_t)slen ||
            kek_open(k, cctx, sealed, slen, plain, slen - KEK_OVERHEAD, &got) != ID_OK ||
            got != want) {
            log_error("vrec.unreadable", "a sealed recording chunk (%s) does not open", cctx);
            rc = -1;
            break;
        }
        int64_t from = i * VREC_CHUNK;
        size_t skip = off > from ? (size_t)(off - from) : 0;
        size_t take = want - skip < len - put ? want - skip : len - put;
        memcpy(all + put, plain + skip, take);
        put += take;
    }
    if (plain) {
        secmem_wipe(plain, VREC_CHUNK + 32);
        free(plain);
    }
    free(sealed);
    close(fd);
    if (rc != 0) {
        if (all) {
            secmem_wipe(all, len);
            free(all);
        }
        return -1;
    }
    *out = all;
    return 0;
}
