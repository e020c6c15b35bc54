/* video_turn.c — TURN REST API credentials; see video_turn.h. */
#include "business/video_turn.h"

#include "foundation/codec.h"
#include "foundation/secmem.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int video_secret_create(const char *path)
{
    uint8_t raw[32];
    char hex[2 * sizeof raw + 2];
    if (!path || !*path)
        return VT_ERR;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? VT_EXISTS : VT_ERR;
    int rc = VT_ERR;
    if (secmem_random(raw, sizeof raw) == 0 &&
        hex_encode(raw, sizeof raw, hex, sizeof hex) == 2 * (long)sizeof raw) {
        size_t n = 2 * sizeof raw;
        hex[n++] = '\n';
        rc = write(fd, hex, n) == (ssize_t)n ? VT_OK : VT_ERR;
    }
    if (close(fd) != 0)
        rc = VT_ERR;
    if (rc != VT_OK)
        unlink(path);
    secmem_wipe(raw, sizeof raw);
    secmem_wipe(hex, sizeof hex);
    return rc;
}

int video_secret_load(const char *path, char out[VIDEO_SECRET_MAX + 1])
{
    struct stat st;
    char buf[VIDEO_SECRET_MAX + 2];
    out[0] = '\0';
    if (!path || lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077))
        return VT_ERR;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return VT_ERR;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) {
        secmem_wipe(buf, sizeof buf);
        return VT_ERR;
    }
    buf[n] = '\0';
    size_t len = strcspn(buf, "\r\n");
    bool ok = len >= 16 && len <= VIDEO_SECRET_MAX;
    for (size_t i = 0; ok && i < len; i++)
        ok = buf[i] > ' ' && buf[i] < 0x7f;
    if (ok) {
        memcpy(out, buf, len);
        out[len] = '\0';
    }
    secmem_wipe(buf, sizeof buf);
    return ok ? VT_OK : VT_ERR;
}

int video_turn_cred(const char *secret, const char *who, int64_t now_s, int ttl_s,
                    char user[VIDEO_USER_MAX + 1], char cred[VIDEO_CRED_MAX + 1])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;
    user[0] = cred[0] = '\0';
    if (!secret || !*secret || !who || !*who || strchr(who, ':') || ttl_s < 1)
        return VT_ERR;
    int n = snprintf(user, VIDEO_USER_MAX + 1, "%lld:%s", (long long)(now_s + ttl_s), who);
    if (n < 0 || n > VIDEO_USER_MAX) {
        user[0] = '\0';
        return VT_ERR;
    }
    /* HMAC-SHA1 through OpenSSL's EVP MAC interface: coturn's scheme. */
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, secret, strlen(secret),
                   (const unsigned char *)user, (size_t)n, mac, sizeof mac, &maclen) ||
        maclen != 20 || b64_encode(mac, maclen, cred, VIDEO_CRED_MAX + 1) <= 0) {
        user[0] = cred[0] = '\0';
        secmem_wipe(mac, sizeof mac);
        return VT_ERR;
    }
    secmem_wipe(mac, sizeof mac);
    return VT_OK;
}

/* The next URL of the comma-separated list at *p into url; false at the end. */
static bool next_url(const char **p, char *url, size_t cap)
{
    while (**p == ',' || **p == ' ')
        (*p)++;
    if (!**p)
        return false;
    size_t n = strcspn(*p, ", ");
    snprintf(url, cap, "%.*s", (int)(n < cap ? n : cap - 1), *p);
    *p += n;
    return true;
}

json_t *video_ice_servers(const struct video_env *env, const char *who, int64_t now_s)
{
    json_t *out = json_array(), *turn = json_array(), *stun = json_array();
    char url[VIDEO_URLS_MAX + 1], user[VIDEO_USER_MAX + 1], cred[VIDEO_CRED_MAX + 1];
    const char *p = env ? env->urls : "";
    bool ok = out && turn && stun;
    while (ok && next_url(&p, url, sizeof url)) {
        bool is_turn = strncmp(url, "turn:", 5) == 0 || strncmp(url, "turns:", 6) == 0;
        ok = json_array_append_new(is_turn ? turn : stun, json_string(url)) == 0;
    }
    if (ok && json_array_size(stun) > 0)
        ok = json_array_append_new(out, json_pack("{s:O}", "urls", stun)) == 0;
    if (ok && json_array_size(turn) > 0) {
        ok = video_turn_cred(env->secret, who, now_s, env->ttl_s, user, cred) == VT_OK &&
             json_array_append_new(out, json_pack("{s:O,s:s,s:s}", "urls", turn, "username", user,
                                                  "credential", cred)) == 0;
    }
    secmem_wipe(cred, sizeof cred);
    json_decref(turn);
    json_decref(stun);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}
