/* bridgehttp — see bridgehttp.h. */
#include "bridgehttp.h"

#include "proc.h"

#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

struct buf {
    char *p;
    size_t n;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
    struct buf *b = u;
    char *np = realloc(b->p, b->n + sz * nm + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->n, d, sz * nm);
    b->n += sz * nm;
    b->p[b->n] = '\0';
    return sz * nm;
}

static size_t on_header(char *d, size_t sz, size_t nm, void *u)
{
    struct bh_resp *r = u;
    static const char h[] = "access-control-allow-origin:";
    size_t n = sz * nm;
    if (n > sizeof h && strncasecmp(d, h, sizeof h - 1) == 0)
        snprintf(r->acao, sizeof r->acao, "%.*s", (int)strcspn(d + sizeof h, "\r\n"), d + sizeof h);
    return n;
}

/* A header line "Name: value" added to h when value is not NULL. */
static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
    char line[256];
    if (!value)
        return h;
    snprintf(line, sizeof line, "%s: %s", name, value);
    return curl_slist_append(h, line);
}

struct bh_resp bh_http(const char *method, const char *url, const char *auth, const char *origin,
                       const char *body)
{
    struct bh_resp r = {0};
    struct buf b = {0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = add_header(add_header(NULL, "Authorization", auth), "Origin", origin);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    if (b.p)
        r.body = json_loads(b.p, 0, NULL);
    free(b.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return r;
}

struct bh_resp bh_http_at(const char *base, const char *method, const char *path, const char *auth,
                          const char *body)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    return bh_http(method, url, auth, NULL, body);
}

/* Prints what came when it is not what was expected. */
static void show(const struct bh_resp *r, long status, const char *code)
{
    if (r->status == status)
        return;
    char *t = r->body ? json_dumps(r->body, 0) : NULL;
    fprintf(stderr, "expected %ld %s, got %ld %s\n", status, code, r->status, t ? t : "-");
    free(t);
}

void bh_expect_error(struct bh_resp r, long status, const char *code)
{
    show(&r, status, code);
    assert_int_equal(r.status, status);
    assert_string_equal(json_string_value(json_object_get(r.body, "error")), code);
    const char *msg = json_string_value(json_object_get(r.body, "message"));
    assert_non_null(msg);
    assert_true((unsigned char)msg[0] >= 0xE4); /* a Chinese message */
    json_decref(r.body);
}

json_t *bh_expect_ok(struct bh_resp r)
{
    show(&r, 200, "");
    assert_int_equal(r.status, 200);
    assert_non_null(r.body);
    return r.body;
}

const char *bh_str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "(none)";
}

/* ---- the event stream ---- */

struct bh_sse {
    char url[256];
    char auth[200];
    struct buf b;
    pthread_mutex_t mu;
    pthread_t thread;
    volatile int stop;
};

static size_t sse_data(char *d, size_t sz, size_t nm, void *u)
{
    struct bh_sse *s = u;
    pthread_mutex_lock(&s->mu);
    size_t n = on_data(d, sz, nm, &s->b);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int sse_progress(void *u, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return ((struct bh_sse *)u)->stop ? 1 : 0;
}

static void *sse_thread(void *arg)
{
    struct bh_sse *s = arg;
    struct curl_slist *h = add_header(NULL, "Authorization", s->auth[0] ? s->auth : NULL);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, s->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, sse_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    curl_easy_perform(c);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

struct bh_sse *bh_sse_open(const char *base, const char *auth)
{
    struct bh_sse *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->url, sizeof s->url, "%s/v1/events", base);
    snprintf(s->auth, sizeof s->auth, "%s", auth ? auth : "");
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, sse_thread, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

bool bh_sse_has(struct bh_sse *s, const char *needle, long wait_ms)
{
    for (long w = 0; w <= wait_ms; w += 50) {
        pthread_mutex_lock(&s->mu);
        bool has = s->b.p && strstr(s->b.p, needle);
        pthread_mutex_unlock(&s->mu);
        if (has)
            return true;
        proc_sleep_ms(50);
    }
    return false;
}

char *bh_sse_text(struct bh_sse *s)
{
    pthread_mutex_lock(&s->mu);
    char *text = strdup(s->b.p ? s->b.p : "");
    pthread_mutex_unlock(&s->mu);
    return text;
}

void bh_sse_close(struct bh_sse *s)
{
    if (!s)
        return;
    s->stop = 1;
    pthread_join(s->thread, NULL);
    pthread_mutex_destroy(&s->mu);
    free(s->b.p);
    free(s);
}
