#include "zyc_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zyc_http {
    CURL *curl;
    struct curl_slist *headers;
};

struct sink {
    char *p;
    size_t n;
    int oom;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *s = user;
    size_t n = size * nmemb;
    char *np = realloc(s->p, s->n + n + 1);
    if (!np) {
        s->oom = 1;
        return 0;
    }
    memcpy(np + s->n, data, n);
    s->n += n;
    np[s->n] = '\0';
    s->p = np;
    return n;
}

struct zyc_http *zyc_http_new(void)
{
    struct zyc_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->curl = curl_easy_init();
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (h->headers)
        h->headers = curl_slist_append(h->headers, "Expect:");
    if (!h->curl || !h->headers) {
        zyc_http_free(h);
        return NULL;
    }
    return h;
}

void zyc_http_free(struct zyc_http *h)
{
    if (!h)
        return;
    curl_slist_free_all(h->headers);
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h);
}

int zyc_http_set_local_addr(struct zyc_http *h, const char *addr)
{
    char dev[80];
    if (addr && (size_t)snprintf(dev, sizeof dev, "host!%s", addr) >= sizeof dev)
        return -1;
    CURL *c = curl_easy_init(); /* a new handle: no connection from the old address */
    if (!c)
        return -1;
    if (addr && curl_easy_setopt(c, CURLOPT_INTERFACE, dev) != CURLE_OK) {
        curl_easy_cleanup(c);
        return -1;
    }
    curl_easy_cleanup(h->curl);
    h->curl = c;
    return 0;
}

int zyc_http_do(struct zyc_http *h, const char *url, const char *body, size_t len, long *status,
                char **resp, size_t *resp_len)
{
    struct sink s = {0};
    CURL *c = h->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK || s.oom) {
        free(s.p);
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (!s.p)
        s.p = calloc(1, 1);
    if (!s.p)
        return -1;
    *resp = s.p;
    *resp_len = s.n;
    return 0;
}

/* Where a download's body goes: decided at its first byte by the status. */
struct file_sink {
    CURL *c;
    const char *path;
    FILE *f;
    int64_t have, stop_after, got;
    bool decided, failed;
};

static size_t on_file(char *data, size_t size, size_t nmemb, void *user)
{
    struct file_sink *s = user;
    size_t n = size * nmemb;
    if (!s->decided) {
        long st = 0;
        curl_easy_getinfo(s->c, CURLINFO_RESPONSE_CODE, &st);
        s->decided = true;
        if (st == 206 || st == 200)
            s->f = fopen(s->path, st == 206 ? "ab" : "wb");
        if ((st == 206 || st == 200) && !s->f)
            s->failed = true;
    }
    if (s->failed)
        return 0;
    if (s->stop_after > 0 && s->got + (int64_t)n > s->stop_after)
        n = (size_t)(s->stop_after - s->got);
    if (s->f && n && fwrite(data, 1, n, s->f) != n) {
        s->failed = true;
        return 0;
    }
    s->got += (int64_t)n;
    return s->stop_after > 0 && s->got >= s->stop_after ? 0 : size * nmemb;
}

int zyc_http_download(struct zyc_http *h, const char *url, const char *path, int64_t stop_after,
                      long *status, int64_t *from)
{
    struct stat st;
    struct file_sink s = {.c = h->curl, .path = path, .stop_after = stop_after};
    s.have = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
    CURL *c = h->curl;
    *status = 0;
    *from = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
    curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)s.have);
    CURLcode cc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)0);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (s.f && fclose(s.f) != 0)
        s.failed = true;
    *from = *status == 206 ? s.have : 0;
    return cc == CURLE_OK && !s.failed ? 0 : -1;
}
