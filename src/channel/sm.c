#include "channel/sm.h"
#include "foundation/text.h"

#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

/* Largest C2 we parse or build: far above ZY1's 32 bytes, small enough that
 * every DER length fits the two-byte long form. */
#define SM2_C2_MAX 4096
#define SM2_COORD 32

struct sm2_key {
    EVP_PKEY *pkey;
};

/* Fetched once: explicit fetch objects make each SM3/SM4/HMAC call skip the
 * provider lookup that OpenSSL 3 otherwise does on every init. */
static struct {
    EVP_MD *sm3;
    EVP_MAC *hmac;
    EVP_MAC_CTX *hmac_sm3; /* digest already set; duplicated per call */
    EVP_CIPHER *sm4_cbc;
    sm_status status;
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void g_init(void)
{
    char digest[] = "SM3";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    g.status = SM_ERR;
    g.sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    g.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    g.sm4_cbc = EVP_CIPHER_fetch(NULL, "SM4-CBC", NULL);
    if (!g.sm3 || !g.hmac || !g.sm4_cbc)
        return;
    g.hmac_sm3 = EVP_MAC_CTX_new(g.hmac);
    if (!g.hmac_sm3 || EVP_MAC_CTX_set_params(g.hmac_sm3, params) != 1)
        return;
    g.status = SM_OK;
}

sm_status sm_init(void)
{
    if (pthread_once(&g_once, g_init) != 0)
        return SM_ERR;
    return g.status;
}

/* Maps a failed OpenSSL call to a status and drops the thread's error queue,
 * so attacker-triggered failures do not linger for an unrelated caller. */
static sm_status ossl_fail(sm_status st)
{
    ERR_clear_error();
    return st;
}

/* ---- SM3 and HMAC-SM3 ---------------------------------------------------- */

sm_status sm3_digest(const sm_part *parts, size_t nparts, uint8_t out[SM3_LEN])
{
    sm_status st = sm_init();
    EVP_MD_CTX *ctx = NULL;
    unsigned int outl = 0;
    if (st != SM_OK)
        goto out;
    st = SM_NOMEM;
    if (!(ctx = EVP_MD_CTX_new()))
        goto out;
    st = SM_ERR;
    if (EVP_DigestInit_ex2(ctx, g.sm3, NULL) != 1)
        goto out;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].n && EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1)
            goto out;
    if (EVP_DigestFinal_ex(ctx, out, &outl) != 1 || outl != SM3_LEN)
        goto out;
    st = SM_OK;
out:
    EVP_MD_CTX_free(ctx);
    return st == SM_OK ? st : ossl_fail(st);
}

struct sm3_stream {
    EVP_MD_CTX *ctx;
};

sm_status sm3_stream_new(sm3_stream **out)
{
    *out = NULL;
    sm_status st = sm_init();
    if (st != SM_OK)
        return st;
    sm3_stream *s = calloc(1, sizeof *s);
    if (!s || !(s->ctx = EVP_MD_CTX_new())) {
        free(s);
        return SM_NOMEM;
    }
    if (EVP_DigestInit_ex2(s->ctx, g.sm3, NULL) != 1) {
        sm3_stream_free(s);
        return ossl_fail(SM_ERR);
    }
    *out = s;
    return SM_OK;
}

sm_status sm3_stream_update(sm3_stream *s, const void *p, size_t n)
{
    if (!s)
        return SM_BAD;
    return !n || EVP_DigestUpdate(s->ctx, p, n) == 1 ? SM_OK : ossl_fail(SM_ERR);
}

sm_status sm3_stream_final(sm3_stream *s, uint8_t out[SM3_LEN])
{
    if (!s)
        return SM_BAD;
    unsigned int outl = 0;
    sm_status st =
        EVP_DigestFinal_ex(s->ctx, out, &outl) == 1 && outl == SM3_LEN ? SM_OK : ossl_fail(SM_ERR);
    sm3_stream_free(s);
    return st;
}

void sm3_stream_free(sm3_stream *s)
{
    if (!s)
        return;
    EVP_MD_CTX_free(s->ctx);
    free(s);
}

/* One message of ctx (keyed): update with its parts, then the tag. */
static sm_status hmac_one(EVP_MAC_CTX *ctx, const sm_hmac_msg *m, uint8_t out[SM3_LEN])
{
    size_t outl = 0;
    for (size_t i = 0; i < m->nparts; i++)
        if (m->parts[i].n && EVP_MAC_update(ctx, m->parts[i].p, m->parts[i].n) != 1)
            return SM_ERR;
    if (EVP_MAC_final(ctx, out, &outl, SM3_LEN) != 1 || outl != SM3_LEN)
        return SM_ERR;
    return SM_OK;
}

/* The key is set once (its inner and outer pads hashed once); every message
 * but the last runs on a copy of that keyed state, the last on the state. */
sm_status sm_hmac_each(const uint8_t *key, size_t klen, const sm_hmac_msg *msgs, size_t nmsgs,
                       uint8_t (*out)[SM3_LEN])
{
    static const uint8_t empty[1];
    sm_status st = sm_init();
    EVP_MAC_CTX *keyed = NULL, *one = NULL;
    if (st != SM_OK)
        goto out;
    st = SM_BAD;
    if (nmsgs == 0 || !msgs || !out)
        goto out;
    st = SM_NOMEM;
    if (!(keyed = EVP_MAC_CTX_dup(g.hmac_sm3)))
        goto out;
    st = SM_ERR;
    if (EVP_MAC_init(keyed, klen ? key : empty, klen, NULL) != 1)
        goto out;
    for (size_t i = 0; i + 1 < nmsgs; i++) {
        st = SM_NOMEM;
        if (!(one = EVP_MAC_CTX_dup(keyed)))
            goto out;
        if ((st = hmac_one(one, &msgs[i], out[i])) != SM_OK)
            goto out;
        EVP_MAC_CTX_free(one);
        one = NULL;
    }
    st = hmac_one(keyed, &msgs[nmsgs - 1], out[nmsgs - 1]);
out:
    EVP_MAC_CTX_free(one); /* cleanses the keyed HMAC state */
    EVP_MAC_CTX_free(keyed);
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm_hmac(const uint8_t *key, size_t klen, const sm_part *parts, size_t nparts,
                  uint8_t out[SM3_LEN])
{
    const sm_hmac_msg m = {parts, nparts};
    return sm_hmac_each(key, klen, &m, 1, (uint8_t(*)[SM3_LEN])out);
}

/* ---- SM4-CBC ------------------------------------------------------------ */

size_t sm4_cbc_padded_len(size_t n)
{
    return (n / SM4_BLOCK + 1) * SM4_BLOCK;
}

sm_status sm4_cbc_encrypt(const uint8_t key[SM4_KEY_LEN], const uint8_t iv[SM4_BLOCK],
                          const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    sm_status st = sm_init();
    EVP_CIPHER_CTX *ctx = NULL;
    int l1 = 0, l2 = 0;
    if (st != SM_OK)
        goto out;
    st = SM_BAD;
    if (n > INT_MAX - 2 * SM4_BLOCK || cap < sm4_cbc_padded_len(n))
        goto out;
    st = SM_NOMEM;
    if (!(ctx = EVP_CIPHER_CTX_new()))
        goto out;
    st = SM_ERR;
    if (EVP_EncryptInit_ex2(ctx, g.sm4_cbc, key, iv, NULL) != 1 ||
        EVP_EncryptUpdate(ctx, out, &l1, in, (int)n) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + l1, &l2) != 1)
        goto out;
    *outlen = (size_t)l1 + (size_t)l2;
    st = SM_OK;
out:
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm4_cbc_decrypt(const uint8_t key[SM4_KEY_LEN], const uint8_t iv[SM4_BLOCK],
                          const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
    sm_status st = sm_init();
    EVP_CIPHER_CTX *ctx = NULL;
    int l1 = 0, l2 = 0;
    if (st != SM_OK)
        goto out;
    st = SM_BAD;
    if (n == 0 || n % SM4_BLOCK || n > INT_MAX - 2 * SM4_BLOCK || cap < n)
        goto out;
    st = SM_NOMEM;
    if (!(ctx = EVP_CIPHER_CTX_new()))
        goto out;
    st = SM_ERR;
    if (EVP_DecryptInit_ex2(ctx, g.sm4_cbc, key, iv, NULL) != 1 ||
        EVP_DecryptUpdate(ctx, out, &l1, in, (int)n) != 1)
        goto out;
    st = SM_BAD;
    if (EVP_DecryptFinal_ex(ctx, out + l1, &l2) != 1)
        goto out;
    *outlen = (size_t)l1 + (size_t)l2;
    st = SM_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return st == SM_OK ? st : ossl_fail(st);
}

/* ---- SM2 ciphertext encodings ------------------------------------------ */

/* A ciphertext split into its parts; c3/c2 point into the caller's text. */
typedef struct {
    uint8_t x[SM2_COORD], y[SM2_COORD];
    const uint8_t *c3, *c2;
    size_t c2n;
} sm2_ct;

/* One strict DER TLV with the given tag: minimal length form, in bounds. */
static int der_take(const uint8_t **pp, const uint8_t *end, uint8_t tag, const uint8_t **val,
                    size_t *vlen)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p), len, hdr;
    if (avail < 2 || p[0] != tag)
        return -1;
    if (p[1] < 0x80) {
        len = p[1], hdr = 2;
    } else if (p[1] == 0x81 && avail >= 3 && p[2] >= 0x80) {
        len = p[2], hdr = 3;
    } else if (p[1] == 0x82 && avail >= 4 && p[2] != 0) {
        len = (size_t)p[2] << 8 | p[3], hdr = 4;
    } else {
        return -1;
    }
    if (avail - hdr < len)
        return -1;
    *val = p + hdr;
    *vlen = len;
    *pp = p + hdr + len;
    return 0;
}

/* A non-negative, minimally encoded INTEGER of at most 32 significant bytes,
 * left-padded to 32 bytes. */
static int der_coord(const uint8_t **pp, const uint8_t *end, uint8_t out[SM2_COORD])
{
    const uint8_t *v;
    size_t n;
    if (der_take(pp, end, 0x02, &v, &n) != 0 || n == 0 || (v[0] & 0x80))
        return -1;
    if (n > 1 && v[0] == 0) {
        if (!(v[1] & 0x80))
            return -1; /* a leading zero that is not needed is not DER */
        v++, n--;
    }
    if (n > SM2_COORD)
        return -1;
    memset(out, 0, SM2_COORD - n);
    memcpy(out + SM2_COORD - n, v, n);
    return 0;
}

static int ct_parse_der(const uint8_t *ct, size_t n, sm2_ct *c)
{
    const uint8_t *p = ct, *end = ct + n, *seq, *c3;
    size_t seqn, c3n;
    if (der_take(&p, end, 0x30, &seq, &seqn) != 0 || p != end)
        return -1;
    p = seq;
    end = seq + seqn;
    if (der_coord(&p, end, c->x) != 0 || der_coord(&p, end, c->y) != 0 ||
        der_take(&p, end, 0x04, &c3, &c3n) != 0 || der_take(&p, end, 0x04, &c->c2, &c->c2n) != 0)
        return -1;
    if (p != end || c3n != SM3_LEN || c->c2n == 0 || c->c2n > SM2_C2_MAX)
        return -1;
    c->c3 = c3;
    return 0;
}

static void ct_parse_raw(const uint8_t *ct, size_t n, size_t c1n, sm2_ct *c)
{
    const uint8_t *p = ct + (c1n - 2 * SM2_COORD);
    memcpy(c->x, p, SM2_COORD);
    memcpy(c->y, p + SM2_COORD, SM2_COORD);
    c->c3 = p + 2 * SM2_COORD;
    c->c2 = c->c3 + SM3_LEN;
    c->c2n = n - c1n - SM3_LEN;
}

static sm2_ct_form ct_parse(const uint8_t *ct, size_t n, size_t c2_len, sm2_ct *c)
{
    if (!ct || c2_len > SM2_C2_MAX)
        return SM2_CT_INVALID;
    if (n > 0 && ct[0] == 0x30 && ct_parse_der(ct, n, c) == 0 && (!c2_len || c->c2n == c2_len))
        return SM2_CT_DER;
    if (c2_len ? n == SM2_C1C3_LEN + c2_len : n > SM2_C1C3_LEN && n <= SM2_C1C3_LEN + SM2_C2_MAX) {
        if (ct[0] != 0x04)
            return SM2_CT_INVALID;
        ct_parse_raw(ct, n, 1 + 2 * SM2_COORD, c);
        return SM2_CT_RAW65;
    }
    if (c2_len && n == SM2_C1C3_LEN - 1 + c2_len) {
        ct_parse_raw(ct, n, 2 * SM2_COORD, c);
        return SM2_CT_RAW64;
    }
    return SM2_CT_INVALID;
}

sm2_ct_form sm2_ct_classify(const uint8_t *ct, size_t n, size_t c2_len)
{
    sm2_ct c;
    return ct_parse(ct, n, c2_len, &c);
}

static size_t ct_raw_len(const sm2_ct *c)
{
    return SM2_C1C3_LEN + c->c2n;
}

static void ct_put_raw(const sm2_ct *c, uint8_t *out)
{
    out[0] = 0x04;
    memcpy(out + 1, c->x, SM2_COORD);
    memcpy(out + 1 + SM2_COORD, c->y, SM2_COORD);
    memcpy(out + 1 + 2 * SM2_COORD, c->c3, SM3_LEN);
    memcpy(out + SM2_C1C3_LEN, c->c2, c->c2n);
}

/* Writes a DER header for a value of len bytes at out (NULL: only measure). */
static size_t der_hdr(uint8_t *out, uint8_t tag, size_t len)
{
    size_t h = len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
    if (out) {
        out[0] = tag;
        if (h == 2)
            out[1] = (uint8_t)len;
        else if (h == 3)
            out[1] = 0x81, out[2] = (uint8_t)len;
        else
            out[1] = 0x82, out[2] = (uint8_t)(len >> 8), out[3] = (uint8_t)len;
    }
    return h;
}

/* Minimal two's-complement INTEGER of an unsigned 32-byte big-endian value. */
static size_t der_put_coord(uint8_t *out, const uint8_t v[SM2_COORD])
{
    size_t skip = 0;
    while (skip < SM2_COORD - 1 && v[skip] == 0)
        skip++;
    size_t pad = (v[skip] & 0x80) ? 1 : 0, n = SM2_COORD - skip + pad;
    size_t h = der_hdr(out, 0x02, n);
    if (out) {
        if (pad)
            out[h] = 0;
        memcpy(out + h + pad, v + skip, SM2_COORD - skip);
    }
    return h + n;
}

static size_t der_put_octets(uint8_t *out, const uint8_t *v, size_t n)
{
    size_t h = der_hdr(out, 0x04, n);
    if (out)
        memcpy(out + h, v, n);
    return h + n;
}

/* Two passes: measure with out == NULL, then write. */
static size_t ct_put_der(const sm2_ct *c, uint8_t *out)
{
    size_t body = der_put_coord(NULL, c->x) + der_put_coord(NULL, c->y) +
                  der_put_octets(NULL, c->c3, SM3_LEN) + der_put_octets(NULL, c->c2, c->c2n);
    size_t h = der_hdr(out, 0x30, body);
    if (out) {
        uint8_t *p = out + h;
        p += der_put_coord(p, c->x);
        p += der_put_coord(p, c->y);
        p += der_put_octets(p, c->c3, SM3_LEN);
        der_put_octets(p, c->c2, c->c2n);
    }
    return h + body;
}

sm_status sm2_ct_to_raw(const uint8_t *ct, size_t n, size_t c2_len, uint8_t *out, size_t cap,
                        size_t *outlen)
{
    sm2_ct c;
    if (ct_parse(ct, n, c2_len, &c) == SM2_CT_INVALID || cap < ct_raw_len(&c))
        return SM_BAD;
    ct_put_raw(&c, out);
    *outlen = ct_raw_len(&c);
    return SM_OK;
}

sm_status sm2_ct_to_der(const uint8_t *ct, size_t n, size_t c2_len, uint8_t *out, size_t cap,
                        size_t *outlen)
{
    sm2_ct c;
    if (ct_parse(ct, n, c2_len, &c) == SM2_CT_INVALID || cap < ct_put_der(&c, NULL))
        return SM_BAD;
    *outlen = ct_put_der(&c, out);
    return SM_OK;
}

/* ---- SM2 keys ----------------------------------------------------------- */

static sm_status key_wrap(EVP_PKEY *pkey, sm2_key **out)
{
    sm2_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        return SM_NOMEM;
    }
    k->pkey = pkey;
    *out = k;
    return SM_OK;
}

/* OpenSSL 3.0 decodes a key on the SM2 curve as type SM2 already; a plain EC
 * key on another curve is refused rather than used with the wrong maths. */
static sm_status key_adopt(EVP_PKEY *pkey, sm2_key **out)
{
    char group[32] = "";
    size_t glen = 0;
    if (!pkey)
        return ossl_fail(SM_BAD);
    if (!EVP_PKEY_is_a(pkey, "SM2") ||
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &glen) != 1 ||
        strcmp(group, "SM2") != 0) {
        EVP_PKEY_free(pkey);
        return ossl_fail(SM_BAD);
    }
    return key_wrap(pkey, out);
}

static sm_status key_decode_der(const uint8_t *data, size_t n, sm2_key **out)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
    const unsigned char *p = data;
    size_t left = n;
    sm_status st = SM_NOMEM;
    if (!dctx)
        goto out;
    st = SM_BAD;
    if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || left != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
        goto out;
    }
    st = key_adopt(pkey, out);
out:
    OSSL_DECODER_CTX_free(dctx);
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm2_key_load_der(const uint8_t *der, size_t n, sm2_key **out)
{
    if (!der || n == 0)
        return SM_BAD;
    return key_decode_der(der, n, out);
}

/* Reads a whole small file; the buffer is wiped by the caller. */
static sm_status read_file(const char *path, uint8_t *buf, size_t cap, size_t *n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    sm_status st = SM_ERR;
    size_t got = 0;
    if (fd < 0)
        return SM_ERR;
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
            st = SM_BAD; /* larger than any SM2 key file */
            goto out;
        }
    }
    *n = got;
    st = SM_OK;
out:
    close(fd);
    return st;
}

/* Server keys are stored unencrypted (mode 0600); never prompt on a tty. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

sm_status sm2_key_load_pem(const char *path, sm2_key **out)
{
    uint8_t buf[8192];
    size_t n = 0;
    BIO *mem = NULL;
    sm_status st = read_file(path, buf, sizeof buf, &n);
    if (st != SM_OK)
        goto out;
    st = SM_NOMEM;
    if (!(mem = BIO_new_mem_buf(buf, (int)n)))
        goto out;
    /* Unlike a bare decoder, this skips blocks that are not a private key,
     * such as the parameters `openssl ecparam -genkey` writes first. */
    st = key_adopt(PEM_read_bio_PrivateKey(mem, NULL, no_passphrase, NULL), out);
out:
    BIO_free(mem);
    secmem_wipe(buf, sizeof buf);
    return st;
}

sm_status sm2_key_generate(sm2_key **out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    EVP_PKEY *pkey = NULL;
    sm_status st = SM_NOMEM;
    if (!ctx)
        goto out;
    st = SM_ERR;
    if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_generate(ctx, &pkey) != 1)
        goto out;
    st = key_adopt(pkey, out);
out:
    EVP_PKEY_CTX_free(ctx);
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm2_key_write_pem(const sm2_key *k, const char *path)
{
    BIO *mem = BIO_new(BIO_s_secmem());
    char *pem = NULL;
    long n = 0;
    int fd = -1;
    sm_status st = SM_NOMEM;
    if (!mem)
        goto out;
    st = SM_ERR;
    if (PEM_write_bio_PrivateKey(mem, k->pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
        (n = BIO_get_mem_data(mem, &pem)) <= 0)
        goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        st = errno == EEXIST ? SM_BAD : SM_ERR;
        goto out;
    }
    if (write_all(fd, pem, (size_t)n) != 0 || fsync(fd) != 0) {
        unlink(path); /* never leave a truncated key behind */
        goto out;
    }
    st = SM_OK;
out:
    if (fd >= 0 && close(fd) != 0 && st == SM_OK) {
        unlink(path);
        st = SM_ERR;
    }
    BIO_free(mem); /* secure heap BIO: cleansed on free */
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm2_key_from_pub(const uint8_t pub[SM2_PUB_LEN], sm2_key **out)
{
    char group[] = "SM2";
    uint8_t point[SM2_PUB_LEN];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    sm_status st = SM_BAD;
    if (!pub || pub[0] != 0x04)
        goto out;
    memcpy(point, pub, sizeof point);
    st = SM_NOMEM;
    if (!(ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL)))
        goto out;
    st = SM_BAD; /* import checks that the point is on the curve */
    if (EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    st = key_adopt(pkey, out);
out:
    EVP_PKEY_CTX_free(ctx);
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm2_key_export_pub(const sm2_key *k, uint8_t pub[SM2_PUB_LEN])
{
    size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, SM2_PUB_LEN, &n) !=
            1 ||
        n != SM2_PUB_LEN || pub[0] != 0x04)
        return ossl_fail(SM_ERR);
    return SM_OK;
}

void sm2_key_free(sm2_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

/* ---- SM2 encryption ----------------------------------------------------- */

/* A context per call: creating one costs about 1.5 us against about 330 us for
 * the decryption itself, and keeps a shared key free of locking. */
static sm_status pkey_ctx(const sm2_key *k, int decrypt, EVP_PKEY_CTX **out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (!ctx)
        return SM_NOMEM;
    if ((decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return SM_BAD; /* e.g. decrypting with a public key */
    }
    *out = ctx;
    return SM_OK;
}

sm_status sm2_encrypt(const sm2_key *pub, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                      size_t *outlen)
{
    size_t dcap = n + SM2_C1C3_LEN + SM2_DER_MAX_OVERHEAD, dlen = dcap;
    uint8_t *der = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    sm_status st = SM_BAD;
    if (n == 0 || n > SM2_C2_MAX || cap < SM2_C1C3_LEN + n)
        goto out;
    st = SM_NOMEM;
    if (!(der = malloc(dcap)) || (st = pkey_ctx(pub, 0, &ctx)) != SM_OK)
        goto out;
    st = SM_ERR;
    if (EVP_PKEY_encrypt(ctx, der, &dlen, in, n) != 1 ||
        sm2_ct_to_raw(der, dlen, n, out, cap, outlen) != SM_OK)
        goto out;
    st = SM_OK;
out:
    EVP_PKEY_CTX_free(ctx);
    free(der);
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm2_decrypt(const sm2_key *k, const uint8_t *ct, size_t n, size_t c2_len, uint8_t *out,
                      size_t cap, size_t *outlen)
{
    uint8_t stackbuf[256], *der = stackbuf;
    size_t dlen = 0, olen = cap;
    EVP_PKEY_CTX *ctx = NULL;
    sm2_ct c;
    sm_status st = SM_BAD;
    if (ct_parse(ct, n, c2_len, &c) == SM2_CT_INVALID || cap < c.c2n)
        goto out;
    /* OpenSSL only reads DER; re-encoding also canonicalises a DER input. */
    dlen = ct_put_der(&c, NULL);
    st = SM_NOMEM;
    if (dlen > sizeof stackbuf && !(der = malloc(dlen)))
        goto out;
    ct_put_der(&c, der);
    if ((st = pkey_ctx(k, 1, &ctx)) != SM_OK)
        goto out;
    st = SM_BAD;
    if (EVP_PKEY_decrypt(ctx, out, &olen, der, dlen) != 1 || olen != c.c2n)
        goto out;
    *outlen = olen;
    st = SM_OK;
out:
    if (st != SM_OK && out)
        secmem_wipe(out, cap); /* OpenSSL writes C2 xor key stream before checking C3 */
    EVP_PKEY_CTX_free(ctx);
    if (der != stackbuf)
        free(der);
    return st == SM_OK ? st : ossl_fail(st);
}

/* ---- SM2 signatures ----------------------------------------------------- */

/* A digest-sign/verify context with the default identifier set before the
 * init, so Z_A is computed with it (EVP_PKEY-SM2(7)). */
static sm_status sig_ctx(const sm2_key *k, int verify, EVP_MD_CTX **out)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    sm_status st = SM_NOMEM;
    if (!mctx || !pctx)
        goto fail;
    st = SM_ERR;
    if (EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID, sizeof SM2_DEFAULT_ID - 1) != 1)
        goto fail;
    EVP_MD_CTX_set_pkey_ctx(mctx, pctx); /* mctx borrows pctx: freed below, after mctx */
    st = SM_BAD;                         /* e.g. signing with a public key */
    if ((verify ? EVP_DigestVerifyInit_ex(mctx, NULL, "SM3", NULL, NULL, k->pkey, NULL)
                : EVP_DigestSignInit_ex(mctx, NULL, "SM3", NULL, NULL, k->pkey, NULL)) != 1)
        goto fail;
    *out = mctx;
    return SM_OK;
fail:
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    return st;
}

/* The pkey ctx set with EVP_MD_CTX_set_pkey_ctx is not freed with mctx. */
static void sig_ctx_free(EVP_MD_CTX *mctx)
{
    if (!mctx)
        return;
    EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(mctx);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
}

sm_status sm2_sign(const sm2_key *k, const sm_part *parts, size_t nparts, uint8_t *sig, size_t cap,
                   size_t *siglen)
{
    EVP_MD_CTX *mctx = NULL;
    size_t n = 0;
    sm_status st = SM_BAD;
    if (!k || (!parts && nparts) || !sig || !siglen || cap < SM2_SIG_MAX)
        goto out;
    if ((st = sm_init()) != SM_OK || (st = sig_ctx(k, 0, &mctx)) != SM_OK)
        goto out;
    st = SM_ERR;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].n && EVP_DigestSignUpdate(mctx, parts[i].p, parts[i].n) != 1)
            goto out;
    n = cap;
    if (EVP_DigestSignFinal(mctx, sig, &n) != 1 || n > SM2_SIG_MAX)
        goto out;
    *siglen = n;
    st = SM_OK;
out:
    sig_ctx_free(mctx);
    return st == SM_OK ? st : ossl_fail(st);
}

sm_status sm2_verify(const sm2_key *k, const sm_part *parts, size_t nparts, const uint8_t *sig,
                     size_t siglen)
{
    EVP_MD_CTX *mctx = NULL;
    sm_status st = SM_BAD;
    if (!k || (!parts && nparts) || !sig || siglen == 0 || siglen > SM2_SIG_MAX)
        goto out;
    if ((st = sm_init()) != SM_OK || (st = sig_ctx(k, 1, &mctx)) != SM_OK)
        goto out;
    st = SM_ERR;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].n && EVP_DigestVerifyUpdate(mctx, parts[i].p, parts[i].n) != 1)
            goto out;
    /* 1: valid; 0 or a negative value: invalid or malformed (a verdict, not a failure). */
    st = EVP_DigestVerifyFinal(mctx, sig, siglen) == 1 ? SM_OK : SM_BAD;
out:
    sig_ctx_free(mctx);
    return st == SM_OK ? st : ossl_fail(st);
}
