#include "egress/conn_http.h"

#include "foundation/clock.h"
#include "foundation/thread.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One call; lives on the caller's stack until done is set. */
struct http_job {
    CURL *easy;
    uint64_t deadline_ns;
    char *resp;
    size_t len, cap;
    bool too_big;
    bool timed_out;
    CURLcode cc;
    bool done; /* under io->mu; the caller owns the job again once set */
    pthread_cond_t cv;
    struct http_job *next;
};

struct http_io {
    pthread_t th;
    CURLM *multi;
    pthread_mutex_t mu;
    struct http_job *pending; /* handed over, not yet added (under mu) */
    struct http_job *active;  /* added to multi (I/O thread only) */
    bool stop;                /* under mu */
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *user)
{
    struct http_job *j = user;
    size_t n = size * nmemb;
    if (j->len + n > HTTP_REPLY_MAX) {
        j->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 4096;
        while (cap < j->len + n + 1)
            cap *= 2;
        char *p = realloc(j->resp, cap);
        if (!p)
            return 0;
        j->resp = p;
        j->cap = cap;
    }
    memcpy(j->resp + j->len, data, n);
    j->len += n;
    j->resp[j->len] = '\0';
    return n;
}

/* I/O thread: takes the job out of the multi handle and wakes its caller. */
static void finish(struct http_io *io, struct http_job *j, CURLcode cc, bool timed_out)
{
    struct http_job **pp = &io->active;
    while (*pp && *pp != j)
        pp = &(*pp)->next;
    if (*pp)
        *pp = j->next;
    curl_multi_remove_handle(io->multi, j->easy);
    pthread_mutex_lock(&io->mu);
    j->cc = cc;
    j->timed_out = timed_out;
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&io->mu);
}

/* Moves handed-over jobs into the multi handle; false once stopping. */
static bool take_pending(struct http_io *io)
{
    pthread_mutex_lock(&io->mu);
    struct http_job *list = io->pending;
    io->pending = NULL;
    bool stop = io->stop;
    pthread_mutex_unlock(&io->mu);
    while (list) {
        struct http_job *j = list;
        list = j->next;
        j->next = io->active;
        io->active = j;
        if (curl_multi_add_handle(io->multi, j->easy) != CURLM_OK) {
            io->active = j->next;
            pthread_mutex_lock(&io->mu);
            j->cc = CURLE_FAILED_INIT;
            j->done = true;
            pthread_cond_signal(&j->cv);
            pthread_mutex_unlock(&io->mu);
        }
    }
    return !stop;
}

/* Ends transfers past their deadline; returns ms until the next one (max 100). */
static int expire(struct http_io *io)
{
    uint64_t now = clock_mono_ns(), next = now + 100000000u;
    struct http_job *j = io->active;
    while (j) {
        struct http_job *nx = j->next;
        if (now >= j->deadline_ns)
            finish(io, j, CURLE_OPERATION_TIMEDOUT, true);
        else if (j->deadline_ns < next)
            next = j->deadline_ns;
        j = nx;
    }
    return (int)((next - now + 999999) / 1000000);
}

static void *io_main(void *arg)
{
    struct http_io *io = arg;
    while (take_pending(io)) {
        int running = 0;
        curl_multi_perform(io->multi, &running);
        int q;
        CURLMsg *m;
        while ((m = curl_multi_info_read(io->multi, &q))) {
            char *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            if (m->msg == CURLMSG_DONE && priv)
                finish(io, (struct http_job *)(void *)priv, m->data.result, false);
        }
        int ms = expire(io);
        curl_multi_poll(io->multi, NULL, 0, ms, NULL);
    }
    while (io->active)
        finish(io, io->active, CURLE_ABORTED_BY_CALLBACK, false);
    /* Jobs handed over after the last take are failed too. */
    pthread_mutex_lock(&io->mu);
    for (struct http_job *j = io->pending; j; j = j->next) {
        j->cc = CURLE_ABORTED_BY_CALLBACK;
        j->done = true;
        pthread_cond_signal(&j->cv);
    }
    io->pending = NULL;
    pthread_mutex_unlock(&io->mu);
    return NULL;
}

int http_io_start(struct http_io **out)
{
    struct http_io *io = calloc(1, sizeof *io);
    *out = NULL;
    if (!io)
        return -1;
    pthread_mutex_init(&io->mu, NULL);
    io->multi = curl_multi_init();
    /* Signals stay with the main thread's sigwait(), also in the resolver
     * threads curl starts from this one. */
    if (!io->multi || thread_start(&io->th, NULL, io_main, io, "zhanye-egress") != 0) {
        if (io->multi)
            curl_multi_cleanup(io->multi);
        pthread_mutex_destroy(&io->mu);
        free(io);
        return -1;
    }
    *out = io;
    return 0;
}

void http_io_stop(struct http_io *io)
{
    if (!io)
        return;
    pthread_mutex_lock(&io->mu);
    io->stop = true;
    pthread_mutex_unlock(&io->mu);
    curl_multi_wakeup(io->multi);
    pthread_join(io->th, NULL);
    curl_multi_cleanup(io->multi);
    pthread_mutex_destroy(&io->mu);
    free(io);
}

static enum egress_kind classify(const struct http_job *j, char *msg, size_t cap)
{
    enum egress_kind k;
    switch (j->cc) {
    case CURLE_OK:
        return EGRESS_OK;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        k = EGRESS_E_CONNECT;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        /* curl's connect timeout fires before the call's deadline: no connection. */
        k = j->timed_out || clock_mono_ns() >= j->deadline_ns ? EGRESS_E_TIMEOUT : EGRESS_E_CONNECT;
        break;
    case CURLE_WRITE_ERROR:
        k = j->too_big ? EGRESS_E_PROTOCOL : EGRESS_E_INTERNAL;
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_UNSUPPORTED_PROTOCOL:
        k = EGRESS_E_PROTOCOL;
        break;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_FAILED_INIT:
        k = EGRESS_E_INTERNAL;
        break;
    default:
        k = EGRESS_E_IO;
        break;
    }
    if (j->timed_out)
        snprintf(msg, cap, "no reply before the deadline");
    else if (j->too_big)
        snprintf(msg, cap, "reply larger than %u bytes", HTTP_REPLY_MAX);
    else
        snprintf(msg, cap, "%s", curl_easy_strerror(j->cc));
    return k;
}

/* Sets up the easy handle; -1 if curl refuses an option. */
static int setup_easy(struct http_job *j, struct curl_slist *hdrs, const char *url,
                      const char *method, const char *body, size_t len, int connect_timeout_ms)
{
    uint64_t now = clock_mono_ns();
    long left_ms = (long)((j->deadline_ns - now) / 1000000) + 50; /* backstop; expire() rules */
    CURL *e = j->easy;
    int bad = 0;
    bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, j) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, j) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left_ms > 1 ? left_ms : 1L) != CURLE_OK;
    return bad ? -1 : 0;
}

enum egress_kind http_io_call(struct http_io *io, const char *url, const char *method,
                              const char *body, size_t len, int connect_timeout_ms,
                              uint64_t deadline_ns, char **resp, size_t *resp_len, long *status,
                              char *msg, size_t msgcap)
{
    struct http_job j = {.deadline_ns = deadline_ns};
    *resp = NULL;
    *resp_len = 0;
    *status = 0;
    if (clock_mono_ns() >= deadline_ns) {
        snprintf(msg, msgcap, "no time left before the deadline");
        return EGRESS_E_TIMEOUT;
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    j.easy = curl_easy_init();
    if (!h2 || !j.easy || setup_easy(&j, h2, url, method, body, len, connect_timeout_ms)) {
        curl_slist_free_all(h2 ? h2 : hdrs);
        if (j.easy)
            curl_easy_cleanup(j.easy);
        snprintf(msg, msgcap, "cannot set up the HTTP request");
        return EGRESS_E_INTERNAL;
    }
    pthread_cond_init(&j.cv, NULL);
    pthread_mutex_lock(&io->mu);
    j.next = io->pending;
    /* The job lives on this stack until done is set: we wait for it below. */
    // cppcheck-suppress autoVariables
    io->pending = &j;
    pthread_mutex_unlock(&io->mu);
    curl_multi_wakeup(io->multi);
    pthread_mutex_lock(&io->mu);
    while (!j.done)
        pthread_cond_wait(&j.cv, &io->mu);
    pthread_mutex_unlock(&io->mu);
    pthread_cond_destroy(&j.cv);

    enum egress_kind k = classify(&j, msg, msgcap);
    if (k == EGRESS_OK) {
        curl_easy_getinfo(j.easy, CURLINFO_RESPONSE_CODE, status);
        *resp = j.resp ? j.resp : strdup("");
        *resp_len = j.len;
        k = *resp ? EGRESS_OK : EGRESS_E_INTERNAL;
    } else {
        free(j.resp);
    }
    curl_easy_cleanup(j.easy);
    curl_slist_free_all(h2);
    return k;
}
