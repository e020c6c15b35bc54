#include "egress/conn_ftp.h"

#include "foundation/clock.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ftp_session {
    CURL *easy;
    char base[256];
    uint64_t deadline_ns;
};

struct upload {
    const uint8_t *p;
    size_t left;
};

struct download {
    uint8_t *p;
    size_t len, cap, max;
    bool too_big;
};

bool ftp_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > FTP_NAME_MAX || name[0] == '.' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\')
            return false;
    }
    return true;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *user)
{
    struct upload *u = user;
    size_t n = size * nitems;
    if (n > u->left)
        n = u->left;
    memcpy(buf, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *user)
{
    struct download *d = user;
    size_t n = size * nmemb;
    if (d->len + n > d->max) {
        d->too_big = true;
        return 0;
    }
    if (d->len + n + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n + 1)
            cap *= 2;
        uint8_t *p = realloc(d->p, cap);
        if (!p)
            return 0;
        d->p = p;
        d->cap = cap;
    }
    memcpy(d->p + d->len, data, n);
    d->len += n;
    d->p[d->len] = '\0';
    return n;
}

/* Aborts the transfer once the deadline has passed, whatever curl waits for. */
static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const struct ftp_session *s = user;
    return clock_mono_ns() >= s->deadline_ns;
}

static long left_ms(const struct ftp_session *s)
{
    uint64_t now = clock_mono_ns();
    return now >= s->deadline_ns ? 1L : (long)((s->deadline_ns - now) / 1000000u) + 1;
}

struct ftp_session *ftp_open(const char *base_url, const char *user, const char *password,
                             int connect_timeout_ms, uint64_t deadline_ns)
{
    struct ftp_session *s = calloc(1, sizeof *s);
    if (!s || !(s->easy = curl_easy_init())) {
        free(s);
        return NULL;
    }
    snprintf(s->base, sizeof s->base, "%s", base_url);
    s->deadline_ns = deadline_ns;
    CURL *e = s->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "ftp") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_USERNAME, user ? user : "anonymous") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PASSWORD, password ? password : "") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_FTP_USE_EPSV, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_XFERINFODATA, s) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    if (bad) {
        ftp_close(s);
        return NULL;
    }
    return s;
}

void ftp_close(struct ftp_session *s)
{
    if (!s)
        return;
    /* The cached control connection is closed with QUIT, waiting at most this long. */
    long ms = left_ms(s);
    curl_easy_setopt(s->easy, CURLOPT_SERVER_RESPONSE_TIMEOUT, ms / 1000 > 0 ? ms / 1000 : 1L);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_cleanup(s->easy);
    free(s);
}

static enum egress_kind classify(const struct ftp_session *s, CURLcode cc, bool download,
                                 bool too_big, char *msg, size_t cap)
{
    enum egress_kind k;
    bool late = clock_mono_ns() >= s->deadline_ns;
    switch (cc) {
    case CURLE_OK:
        return EGRESS_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        k = EGRESS_E_CONNECT;
        break;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_ABORTED_BY_CALLBACK:
        k = late                             ? EGRESS_E_TIMEOUT
            : cc == CURLE_OPERATION_TIMEDOUT ? EGRESS_E_CONNECT
                                             : EGRESS_E_INTERNAL;
        break;
    case CURLE_LOGIN_DENIED:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_REMOTE_FILE_NOT_FOUND:
        k = EGRESS_E_REJECTED;
        break;
    case CURLE_UPLOAD_FAILED:
    case CURLE_FTP_COULDNT_RETR_FILE:
    case CURLE_QUOTE_ERROR:
    case CURLE_FTP_COULDNT_SET_TYPE:
    case CURLE_FTP_ACCEPT_FAILED:
    case CURLE_FTP_CANT_GET_HOST:
        k = EGRESS_E_REMOTE;
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_FTP_WEIRD_PASV_REPLY:
    case CURLE_FTP_WEIRD_227_FORMAT:
    case CURLE_FTP_WEIRD_PASS_REPLY:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_DOWNLOAD_RESUME:
        k = EGRESS_E_PROTOCOL;
        break;
    case CURLE_WRITE_ERROR:
        k = too_big ? EGRESS_E_PROTOCOL : EGRESS_E_INTERNAL;
        break;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
        k = EGRESS_E_INTERNAL;
        break;
    default:
        k = late ? EGRESS_E_TIMEOUT : EGRESS_E_IO;
        break;
    }
    if (k == EGRESS_E_TIMEOUT)
        snprintf(msg, cap, "no complete %s before the deadline", download ? "download" : "upload");
    else if (too_big)
        snprintf(msg, cap, "file larger than the limit");
    else
        snprintf(msg, cap, "%s", curl_easy_strerror(cc));
    return k;
}

/* The URL of name under the base: ftp://host:port/NAME, the name escaped. */
static int file_url(struct ftp_session *s, const char *name, char *url, size_t cap)
{
    char *esc = curl_easy_escape(s->easy, name, 0);
    if (!esc)
        return -1;
    int w = snprintf(url, cap, "%s/%s", s->base, esc);
    curl_free(esc);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

static int set_common(struct ftp_session *s, const char *url)
{
    long ms = left_ms(s);
    int bad = 0;
    bad |= curl_easy_setopt(s->easy, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK;
    /* Past the deadline: the total timeout and the progress callback rule. */
    bad |= curl_easy_setopt(s->easy, CURLOPT_SERVER_RESPONSE_TIMEOUT, ms / 1000 + 2) != CURLE_OK;
    return bad ? -1 : 0;
}

enum egress_kind ftp_put(struct ftp_session *s, const char *name, const uint8_t *data, size_t n,
                         char *msg, size_t msgcap)
{
    char url[512];
    if (!ftp_name_ok(name) || file_url(s, name, url, sizeof url)) {
        snprintf(msg, msgcap, "a file name the connector may not write");
        return EGRESS_E_MAPPING;
    }
    if (clock_mono_ns() >= s->deadline_ns) {
        snprintf(msg, msgcap, "no time left before the deadline");
        return EGRESS_E_TIMEOUT;
    }
    struct upload u = {.p = data, .left = n};
    CURL *e = s->easy;
    int bad = set_common(s, url);
    bad |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_READDATA, &u) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)n) != CURLE_OK;
    if (bad) {
        snprintf(msg, msgcap, "cannot set up the FTP upload");
        return EGRESS_E_INTERNAL;
    }
    CURLcode cc = curl_easy_perform(e);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 0L);
    curl_easy_setopt(e, CURLOPT_READDATA, NULL);
    return classify(s, cc, false, false, msg, msgcap);
}

enum egress_kind ftp_get(struct ftp_session *s, const char *name, size_t max, uint8_t **data,
                         size_t *n, char *msg, size_t msgcap)
{
    char url[512];
    *data = NULL;
    *n = 0;
    if (!ftp_name_ok(name) || file_url(s, name, url, sizeof url)) {
        snprintf(msg, msgcap, "a file name the connector may not read");
        return EGRESS_E_MAPPING;
    }
    if (clock_mono_ns() >= s->deadline_ns) {
        snprintf(msg, msgcap, "no time left before the deadline");
        return EGRESS_E_TIMEOUT;
    }
    struct download d = {.max = max};
    CURL *e = s->easy;
    int bad = set_common(s, url);
    bad |= curl_easy_setopt(e, CURLOPT_UPLOAD, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &d) != CURLE_OK;
    if (bad) {
        snprintf(msg, msgcap, "cannot set up the FTP download");
        return EGRESS_E_INTERNAL;
    }
    CURLcode cc = curl_easy_perform(e);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
    enum egress_kind k = classify(s, cc, true, d.too_big, msg, msgcap);
    if (k != EGRESS_OK) {
        free(d.p);
        return k;
    }
    *data = d.p ? d.p : calloc(1, 1);
    *n = d.len;
    if (!*data) {
        snprintf(msg, msgcap, "out of memory");
        return EGRESS_E_INTERNAL;
    }
    return EGRESS_OK;
}
