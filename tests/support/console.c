#include "console.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sink {
    char *p;
    size_t len;
    char *cookie;
    size_t cap;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *s = user;
    size_t n = size * nmemb;
    char *np = realloc(s->p, s->len + n + 1);
    if (!np)
        return 0;
    memcpy(np + s->len, data, n);
    s->len += n;
    np[s->len] = '\0';
    s->p = np;
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    struct sink *s = user;
    size_t n = size * nmemb;
    if (s->cookie && n > 11 && strncasecmp(data, "Set-Cookie:", 11) == 0) {
        const char *v = data + 11;
        while (*v == ' ')
            v++;
        size_t vl = strcspn(v, "\r\n");
        if (vl < s->cap) {
            memcpy(s->cookie, v, vl);
            s->cookie[vl] = '\0';
        }
    }
    return n;
}

long console_raw(const struct testd *d, const char *method, const char *path,
                 const char *const *headers, const char *body, char *set_cookie, size_t cap,
                 json_t **out)
{
    char url[512];
    long status = 0;
    struct sink s = {NULL, 0, set_cookie, cap};
    if (set_cookie && cap)
        set_cookie[0] = '\0';
    if (out)
        *out = NULL;
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; headers && headers[i]; i++)
        h = curl_slist_append(h, headers[i]);
    snprintf(url, sizeof url, "%s%s", d->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (out && s.p)
        *out = json_loads(s.p, 0, NULL);
    free(s.p);
    return status;
}

long console_login(struct console *c, const struct testd *d, const char *teller, const char *pw)
{
    char body[256], line[256];
    const char *const hdrs[] = {"Content-Type: application/json", NULL};
    json_t *ans = NULL;
    memset(c, 0, sizeof *c);
    c->d = d;
    snprintf(body, sizeof body, "{\"teller\":\"%s\",\"password\":\"%s\"}", teller, pw);
    long st = console_raw(d, "POST", "/api/v1/admin/login", hdrs, body, line, sizeof line, &ans);
    const char *csrf = json_string_value(json_object_get(ans, "csrf_token"));
    if (st == 200 && csrf && strncmp(line, "zs=", 3) == 0) {
        size_t n = strcspn(line + 3, ";");
        if (n < sizeof c->cookie)
            memcpy(c->cookie, line + 3, n);
        snprintf(c->csrf, sizeof c->csrf, "%s", csrf);
    }
    json_decref(ans);
    return st;
}

long console_get(struct console *c, const char *path, json_t **out)
{
    char cookie[128];
    snprintf(cookie, sizeof cookie, "Cookie: zs=%s", c->cookie);
    const char *const hdrs[] = {cookie, NULL};
    return console_raw(c->d, "GET", path, hdrs, NULL, NULL, 0, out);
}

long console_post(struct console *c, const char *path, const char *body, json_t **out)
{
    char cookie[128], csrf[128];
    snprintf(cookie, sizeof cookie, "Cookie: zs=%s", c->cookie);
    snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", c->csrf);
    const char *const hdrs[] = {cookie, csrf, "Content-Type: application/json", NULL};
    return console_raw(c->d, "POST", path, hdrs, body ? body : "{}", NULL, 0, out);
}

const char *console_err(json_t *answer)
{
    const char *code = json_string_value(json_object_get(json_object_get(answer, "error"), "code"));
    return code ? code : "";
}
