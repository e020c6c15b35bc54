#include "zyc_http.h"

#include <curl/curl.h>
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
