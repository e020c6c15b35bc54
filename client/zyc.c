#include "zyc.h"
#include "foundation/text.h"

#include "foundation/codec.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FORMAT_TAG "zhanye-device-1"
#define STATE_FILE_MAX 4096

zyc_status zyc_device_id_new(char dev[ZY1_DEV_LEN + 1])
{
    uint8_t raw[ZY1_DEV_LEN / 2];
    if (!dev)
        return ZYC_BAD_ARG;
    if (secmem_random(raw, sizeof raw) != 0)
        return ZYC_INTERNAL;
    hex_encode(raw, sizeof raw, dev, ZY1_DEV_LEN + 1);
    return ZYC_OK;
}

/* ---- field checks ------------------------------------------------------- */

/* Printable ASCII without '"' and '\', so the state file needs no escaping. */
static bool url_valid(const char *s, size_t n)
{
    if (!s || n == 0 || n > ZYC_URL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
            return false;
    return true;
}

static bool pub_valid(const char *b64, size_t n)
{
    uint8_t pub[SM2_PUB_LEN];
    sm2_key *k = NULL;
    if (!b64 || n != ZYC_PUB_B64_LEN || b64_decode(b64, n, pub, sizeof pub) != SM2_PUB_LEN)
        return false;
    bool ok = sm2_key_from_pub(pub, &k) == SM_OK;
    sm2_key_free(k);
    return ok;
}

static zyc_status copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return ZYC_BAD_ARG;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return ZYC_OK;
}

/* ---- state -------------------------------------------------------------- */

void zyc_state_wipe(zyc_state *st)
{
    if (st)
        secmem_wipe(st, sizeof *st);
}

zyc_status zyc_state_init(zyc_state *st, const char *url, const char *kid, const char *pub_b64,
                          const char *tlr)
{
    zyc_status rc = ZYC_BAD_ARG;
    if (!st)
        return rc;
    zyc_state_wipe(st);
    if (!url || !url_valid(url, strlen(url)) || !kid || !zy1_kid_valid(kid, strlen(kid)) ||
        !pub_b64 || !pub_valid(pub_b64, strlen(pub_b64)) ||
        (tlr && !zy1_tlr_valid(tlr, strlen(tlr))))
        goto out;
    snprintf(st->url, sizeof st->url, "%s", url);
    snprintf(st->kid, sizeof st->kid, "%s", kid);
    snprintf(st->pub_b64, sizeof st->pub_b64, "%s", pub_b64);
    snprintf(st->tlr, sizeof st->tlr, "%s", tlr ? tlr : "");
    rc = zyc_device_id_new(st->dev);
out:
    if (rc != ZYC_OK)
        zyc_state_wipe(st);
    return rc;
}

zyc_status zyc_state_set_device_secret(zyc_state *st, const char *ds_b64)
{
    uint8_t ds[ZYC_DS_LEN];
    if (!st || !ds_b64)
        return ZYC_BAD_ARG;
    long n = b64_decode(ds_b64, strlen(ds_b64), ds, sizeof ds);
    zyc_status rc = n == ZYC_DS_LEN ? ZYC_OK : ZYC_BAD_ARG;
    if (rc == ZYC_OK) {
        memcpy(st->ds, ds, sizeof ds);
        st->has_ds = true;
    }
    secmem_wipe(ds, sizeof ds);
    return rc;
}

/* The file text; the DS in it is wiped by the caller. */
static zyc_status state_format(const zyc_state *st, char *buf, size_t cap, size_t *len)
{
    char tlr[ZY1_ID_MAX + 16] = "", ds[64] = "";
    char ds_b64[45]; /* base64 of 32 bytes */
    if (st->tlr[0])
        snprintf(tlr, sizeof tlr, ",\n  \"tlr\": \"%s\"", st->tlr);
    if (st->has_ds) {
        b64_encode(st->ds, sizeof st->ds, ds_b64, sizeof ds_b64);
        snprintf(ds, sizeof ds, ",\n  \"ds\": \"%s\"", ds_b64);
    }
    int n =
        snprintf(buf, cap,
                 "{\n  \"format\": \"" FORMAT_TAG "\",\n  \"url\": \"%s\",\n  \"kid\": \"%s\",\n"
                 "  \"pub\": \"%s\",\n  \"dev\": \"%s\"%s%s\n}\n",
                 st->url, st->kid, st->pub_b64, st->dev, tlr, ds);
    secmem_wipe(ds, sizeof ds);
    secmem_wipe(ds_b64, sizeof ds_b64);
    if (n < 0 || (size_t)n >= cap)
        return ZYC_INTERNAL;
    *len = (size_t)n;
    return ZYC_OK;
}

static bool state_valid(const zyc_state *st)
{
    return url_valid(st->url, strlen(st->url)) && zy1_kid_valid(st->kid, strlen(st->kid)) &&
           pub_valid(st->pub_b64, strlen(st->pub_b64)) && zy1_dev_valid(st->dev, strlen(st->dev)) &&
           (!st->tlr[0] || zy1_tlr_valid(st->tlr, strlen(st->tlr)));
}

/* Written to a private temporary beside path and renamed over it, so a crash
 * leaves either the old state or the new one, never half of one. */
zyc_status zyc_state_save(const zyc_state *st, const char *path)
{
    char buf[STATE_FILE_MAX], tmp[4096];
    size_t len = 0;
    int fd;
    zyc_status rc = ZYC_BAD_ARG;
    if (!st || !path || !state_valid(st) ||
        snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        goto out;
    if ((rc = state_format(st, buf, sizeof buf, &len)) != ZYC_OK)
        goto out;
    rc = ZYC_IO;
    if ((fd = mkstemp(tmp)) < 0) /* mode 0600, O_EXCL */
        goto out;
    bool ok = fchmod(fd, 0600) == 0 && write_all(fd, buf, len) == 0 && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = false;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        goto out;
    }
    rc = ZYC_OK;
out:
    secmem_wipe(buf, sizeof buf);
    return rc;
}

/* ---- loading: a flat object of string members ---------------------------- */

/* The state file is read by a small strict reader rather than jansson, whose
 * lexer leaves copies of every string (DS among them) in freed heap memory.
 * Values may not contain escapes or control characters; this module never
 * writes any. */
typedef struct {
    const char *p, *end;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool take(cursor *c, char ch)
{
    skip_ws(c);
    if (c->p >= c->end || *c->p != ch)
        return false;
    c->p++;
    return true;
}

static bool take_string(cursor *c, const char **s, size_t *n)
{
    if (!take(c, '"'))
        return false;
    const char *start = c->p;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20 || ch == '\\' || ch > 0x7e)
            return false;
        c->p++;
    }
    if (c->p >= c->end)
        return false;
    *s = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return true;
}

enum { F_FORMAT, F_URL, F_KID, F_PUB, F_DEV, F_TLR, F_DS, F_COUNT };
static const char *const FIELD_NAMES[F_COUNT] = {"format", "url", "kid", "pub", "dev", "tlr", "ds"};

typedef struct {
    const char *p[F_COUNT];
    size_t n[F_COUNT];
} members;

static int field_index(const char *k, size_t n)
{
    for (int i = 0; i < F_COUNT; i++)
        if (strlen(FIELD_NAMES[i]) == n && memcmp(FIELD_NAMES[i], k, n) == 0)
            return i;
    return -1;
}

/* { "name": "value", ... } with known, unique names and nothing after. */
static bool read_members(const char *text, size_t len, members *m)
{
    cursor c = {text, text + len};
    memset(m, 0, sizeof *m);
    if (!take(&c, '{'))
        return false;
    do {
        const char *k, *v;
        size_t kn, vn;
        if (!take_string(&c, &k, &kn) || !take(&c, ':') || !take_string(&c, &v, &vn))
            return false;
        int i = field_index(k, kn);
        if (i < 0 || m->p[i])
            return false;
        m->p[i] = v;
        m->n[i] = vn;
    } while (take(&c, ','));
    if (!take(&c, '}'))
        return false;
    skip_ws(&c);
    return c.p == c.end;
}

static zyc_status state_from_members(const members *m, zyc_state *st)
{
    static const int required[] = {F_FORMAT, F_URL, F_KID, F_PUB, F_DEV};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!m->p[required[i]])
            return ZYC_BAD_FILE;
    if (m->n[F_FORMAT] != strlen(FORMAT_TAG) || memcmp(m->p[F_FORMAT], FORMAT_TAG, m->n[F_FORMAT]))
        return ZYC_BAD_FILE;
    if (copy_field(st->url, sizeof st->url, m->p[F_URL], m->n[F_URL]) ||
        copy_field(st->kid, sizeof st->kid, m->p[F_KID], m->n[F_KID]) ||
        copy_field(st->pub_b64, sizeof st->pub_b64, m->p[F_PUB], m->n[F_PUB]) ||
        copy_field(st->dev, sizeof st->dev, m->p[F_DEV], m->n[F_DEV]) ||
        (m->p[F_TLR] && copy_field(st->tlr, sizeof st->tlr, m->p[F_TLR], m->n[F_TLR])))
        return ZYC_BAD_FILE;
    if (m->p[F_DS]) {
        if (b64_decode(m->p[F_DS], m->n[F_DS], st->ds, sizeof st->ds) != ZYC_DS_LEN)
            return ZYC_BAD_FILE;
        st->has_ds = true;
    }
    return state_valid(st) ? ZYC_OK : ZYC_BAD_FILE;
}

/* The whole file, which must be a regular file of the caller, private to it. */
static zyc_status read_private(const char *path, char *buf, size_t cap, size_t *len)
{
    struct stat sb;
    size_t got = 0;
    zyc_status rc = ZYC_IO;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return ZYC_IO;
    if (fstat(fd, &sb) != 0)
        goto out;
    rc = ZYC_INSECURE;
    if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) || sb.st_uid != geteuid())
        goto out;
    rc = ZYC_IO;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto out;
        if (r == 0)
            break;
        got += (size_t)r;
        if (got == cap) {
            rc = ZYC_BAD_FILE;
            goto out;
        }
    }
    *len = got;
    rc = ZYC_OK;
out:
    close(fd);
    return rc;
}

zyc_status zyc_state_load(const char *path, zyc_state *st)
{
    char buf[STATE_FILE_MAX];
    size_t len = 0;
    members m;
    zyc_status rc = ZYC_BAD_ARG;
    if (!path || !st)
        goto out;
    zyc_state_wipe(st);
    if ((rc = read_private(path, buf, sizeof buf, &len)) != ZYC_OK)
        goto out;
    rc = read_members(buf, len, &m) ? state_from_members(&m, st) : ZYC_BAD_FILE;
out:
    secmem_wipe(buf, sizeof buf);
    secmem_wipe(&m, sizeof m);
    if (rc != ZYC_OK && st)
        zyc_state_wipe(st);
    return rc;
}

/* ---- activation code ---------------------------------------------------- */

zyc_status zyc_activation_code(const char *typed, char out[ZYC_ACT_CODE_LEN + 1])
{
    enum { CHARS = ZYC_ACT_CODE_LEN - ZYC_ACT_CODE_LEN / (ZYC_ACT_GROUP + 1) };
    size_t n = 0;
    if (!out)
        return ZYC_BAD_ARG;
    out[0] = '\0';
    if (!typed)
        return ZYC_BAD_ARG;
    for (const char *p = typed; *p; p++) {
        char ch = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        if (ch == ' ' || ch == '-')
            continue;
        if (n == CHARS || !strchr(ZYC_ACT_ALPHABET, ch)) {
            secmem_wipe(out, ZYC_ACT_CODE_LEN + 1);
            return ZYC_BAD_ARG;
        }
        if (n > 0 && n % ZYC_ACT_GROUP == 0)
            out[n + n / ZYC_ACT_GROUP - 1] = '-';
        out[n + n / ZYC_ACT_GROUP] = ch;
        n++;
    }
    if (n != CHARS) {
        secmem_wipe(out, ZYC_ACT_CODE_LEN + 1);
        return ZYC_BAD_ARG;
    }
    out[ZYC_ACT_CODE_LEN] = '\0';
    return ZYC_OK;
}

/* ---- seal and open ------------------------------------------------------ */

static zy1_status server_key(const zyc_state *st, sm2_key **key)
{
    uint8_t pub[SM2_PUB_LEN];
    if (b64_decode(st->pub_b64, strlen(st->pub_b64), pub, sizeof pub) != SM2_PUB_LEN)
        return ZY1_BAD_ARG;
    sm_status s = sm2_key_from_pub(pub, key);
    return s == SM_OK ? ZY1_OK : s == SM_NOMEM ? ZY1_NOMEM : ZY1_BAD_ARG;
}

zy1_status zyc_seal(const zyc_state *st, const char *tx, const char *activation_code,
                    const char *payload, size_t n, int64_t ts, zy1_call *call, char **body,
                    size_t *body_len)
{
    uint8_t F[ZY1_F_LEN];
    char code[ZYC_ACT_CODE_LEN + 1] = "";
    sm2_key *key = NULL;
    zy1_status rc = ZY1_BAD_ARG;
    if (!st || !tx)
        goto out;
    bool activation = strcmp(tx, ZY1_ACTIVATE_TX) == 0;
    if (activation && st->tlr[0] && zyc_activation_code(activation_code, code) == ZYC_OK)
        rc = zy1_activation_factor(st->tlr, code, F);
    else if (!activation && st->has_ds) {
        memcpy(F, st->ds, sizeof F);
        rc = ZY1_OK;
    }
    if (rc != ZY1_OK || (rc = server_key(st, &key)) != ZY1_OK)
        goto out;
    zy1_request_params rp = {.tx = tx,
                             .kid = st->kid,
                             .dev = st->dev,
                             .tlr = activation ? st->tlr : NULL,
                             .F = F,
                             .ts = ts};
    rc = zy1_seal_request(key, &rp, payload, n, call, body, body_len);
out:
    secmem_wipe(F, sizeof F);
    secmem_wipe(code, sizeof code);
    sm2_key_free(key);
    return rc;
}

zy1_status zyc_open(const zy1_call *call, const char *body, size_t len, char **plaintext,
                    size_t *pt_len, int64_t *ts)
{
    return zy1_open_response(call, body, len, plaintext, pt_len, ts);
}
