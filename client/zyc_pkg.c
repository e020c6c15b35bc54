#include "zyc_pkg.h"
#include "channel/sm.h"
#include "foundation/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* The announced SM3 and the signature against the digest computed. */
static zyc_pkg_status check(const char *pub_b64, const uint8_t got[SM3_LEN], const char *sm3_hex,
                            const char *sig_b64)
{
    uint8_t want[SM3_LEN], pub[SM2_PUB_LEN], sig[SM2_SIG_MAX + 8];
    if (!pub_b64 || !sm3_hex || !sig_b64 || strlen(sm3_hex) != 2 * SM3_LEN ||
        hex_decode(sm3_hex, 2 * SM3_LEN, want, sizeof want) != SM3_LEN ||
        b64_decode(pub_b64, strlen(pub_b64), pub, sizeof pub) != SM2_PUB_LEN)
        return ZYC_PKG_BAD_ARG;
    long siglen = b64_decode(sig_b64, strlen(sig_b64), sig, sizeof sig);
    if (siglen <= 0)
        return ZYC_PKG_BAD_SIGNATURE;
    if (memcmp(want, got, SM3_LEN) != 0)
        return ZYC_PKG_HASH_MISMATCH;
    sm2_key *k = NULL;
    if (sm2_key_from_pub(pub, &k) != SM_OK)
        return ZYC_PKG_BAD_ARG;
    sm_part part = {got, SM3_LEN};
    sm_status st = sm2_verify(k, &part, 1, sig, (size_t)siglen);
    sm2_key_free(k);
    return st == SM_OK ? ZYC_PKG_OK : st == SM_BAD ? ZYC_PKG_BAD_SIGNATURE : ZYC_PKG_INTERNAL;
}

zyc_pkg_status zyc_pkg_verify_mem(const char *pub_b64, const uint8_t *p, size_t n,
                                  const char *sm3_hex, const char *sig_b64)
{
    uint8_t got[SM3_LEN];
    sm_part part = {p, n};
    if (!p && n)
        return ZYC_PKG_BAD_ARG;
    if (sm3_digest(&part, 1, got) != SM_OK)
        return ZYC_PKG_INTERNAL;
    return check(pub_b64, got, sm3_hex, sig_b64);
}

zyc_pkg_status zyc_pkg_verify_file(const char *pub_b64, const char *path, const char *sm3_hex,
                                   const char *sig_b64)
{
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0)
        return ZYC_PKG_IO;
    sm3_stream *s = NULL;
    if (sm3_stream_new(&s) != SM_OK) {
        close(fd);
        return ZYC_PKG_INTERNAL;
    }
    uint8_t buf[64 * 1024], got[SM3_LEN];
    bool ok = true;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            ok = r == 0;
            break;
        }
        if (sm3_stream_update(s, buf, (size_t)r) != SM_OK) {
            ok = false;
            break;
        }
    }
    int saved = errno;
    close(fd);
    if (!ok) {
        sm3_stream_free(s);
        errno = saved;
        return ZYC_PKG_IO;
    }
    if (sm3_stream_final(s, got) != SM_OK)
        return ZYC_PKG_INTERNAL;
    return check(pub_b64, got, sm3_hex, sig_b64);
}

const char *zyc_pkg_status_name(zyc_pkg_status s)
{
    switch (s) {
    case ZYC_PKG_OK:
        return "verified";
    case ZYC_PKG_IO:
        return "cannot read the package";
    case ZYC_PKG_BAD_ARG:
        return "malformed key, hash or signature";
    case ZYC_PKG_HASH_MISMATCH:
        return "the package's SM3 is not the announced one";
    case ZYC_PKG_BAD_SIGNATURE:
        return "the signature does not verify under the pinned server key";
    default:
        return "the crypto library failed";
    }
}
