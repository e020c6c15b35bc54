/* janus.c — the Janus HTTP API client (see janus.h). */
#include "egress/janus.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLY_MAX (1u << 20)
#define ROOM_MAX ((1ULL << 53) - 1)

struct buf {
    char *p;
    size_t n;
    bool over;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct buf *b = arg;
    size_t len = size * nmemb;
    if (b->n + len > REPLY_MAX) {
        b->over = true;
        return 0;
    }
    char *np = realloc(b->p, b->n + len + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, ptr, len);
    b->p = np;
    b->n += len;
    b->p[b->n] = 0;
    return len;
}

static void say(char *msg, size_t cap, const char *fmt, const char *a, const char *b)
{
    if (msg && cap)
        snprintf(msg, cap, fmt, a, b);
}

/* One transaction id: 12 random hex digits. */
static void new_tid(char out[13])
{
    uint8_t r[6] = {0};
    if (RAND_bytes(r, sizeof r) != 1) {
        uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;
        memcpy(r, &t, sizeof r);
    }
    for (int i = 0; i < 6; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* One request: POST body (a JSON object; "transaction" and "apisecret"
 * added) to url + suffix, or GET url + suffix when body is NULL. The
 * parsed reply into *out. Checks "janus":"error" (JANUS_REFUSED). */
static int request(const struct janus *j, const char *suffix, json_t *body, long wait_ms,
                   json_t **out, char *msg, size_t cap)
{
    *out = NULL;
    if (!j || !j->url || !j->url[0]) {
        say(msg, cap, "janus: no url%s%s", "", "");
        json_decref(body);
        return JANUS_BAD_INPUT;
    }
    char url[512], *text = NULL, tid[13];
    const char *secret = j->secret ? j->secret : "";
    if (body) {
        new_tid(tid);
        json_object_set_new(body, "transaction", json_string(tid));
        if (secret[0])
            json_object_set_new(body, "apisecret", json_string(secret));
        text = json_dumps(body, JSON_COMPACT);
        if (!text) {
            say(msg, cap, "janus: out of memory%s%s", "", "");
            json_decref(body);
            return JANUS_BAD_INPUT;
        }
    }
    CURL *h = curl_easy_init();
    char *esc = secret[0] && h ? curl_easy_escape(h, secret, 0) : NULL;
    if (body || !secret[0])
        snprintf(url, sizeof url, "%s%s", j->url, suffix);
    else
        snprintf(url, sizeof url, "%s%s%sapisecret=%s", j->url, suffix,
                 strchr(suffix, '?') ? "&" : "?", esc ? esc : "");
    curl_free(esc);
    struct buf b = {0};
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    int rc = JANUS_UNREACHABLE;
    if (h && hdr) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)j->timeout_ms);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms + wait_ms);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        if (text)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        CURLcode cc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (cc == CURLE_OPERATION_TIMEDOUT) {
            rc = JANUS_TIMEOUT;
            say(msg, cap, "janus: no answer in time (%s)%s", suffix[0] ? suffix : "/", "");
        } else if (cc != CURLE_OK) {
            rc = JANUS_UNREACHABLE;
            say(msg, cap, "janus: %s%s", curl_easy_strerror(cc), "");
        } else if (status != 200 || !b.p) {
            rc = JANUS_BAD_REPLY;
            say(msg, cap, "janus: HTTP status not 200 (%s)%s", suffix[0] ? suffix : "/", "");
        } else {
            json_error_t e;
            *out = json_loads(b.p, 0, &e);
            const char *kind = json_string_value(json_object_get(*out, "janus"));
            if (!json_is_object(*out) || !kind) {
                rc = JANUS_BAD_REPLY;
                say(msg, cap, "janus: an answer that is not a Janus message%s%s", "", "");
            } else if (strcmp(kind, "error") == 0) {
                json_t *err = json_object_get(*out, "error");
                char code[24];
                snprintf(code, sizeof code, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(err, "code")));
                const char *why = json_string_value(json_object_get(err, "reason"));
                say(msg, cap, "janus: error %s: %s", code, why ? why : "?");
                rc = JANUS_REFUSED;
            } else {
                rc = JANUS_OK;
            }
        }
    }
    if (rc != JANUS_OK) {
        json_decref(*out);
        *out = NULL;
    }
    curl_slist_free_all(hdr);
    if (h)
        curl_easy_cleanup(h);
    free(b.p);
    free(text);
    json_decref(body);
    return rc;
}

/* The reply's data.id into *id. */
static int data_id(json_t *reply, uint64_t *id, char *msg, size_t cap)
{
    json_int_t v = json_integer_value(json_object_get(json_object_get(reply, "data"), "id"));
    if (v <= 0) {
        say(msg, cap, "janus: no id in the answer%s%s", "", "");
        return JANUS_BAD_REPLY;
    }
    *id = (uint64_t)v;
    return JANUS_OK;
}

int janus_session_create(const struct janus *j, uint64_t *sid, char *msg, size_t cap)
{
    json_t *reply = NULL;
    int rc = request(j, "", json_pack("{s:s}", "janus", "create"), 0, &reply, msg, cap);
    if (rc == JANUS_OK)
        rc = data_id(reply, sid, msg, cap);
    json_decref(reply);
    return rc;
}

static int session_op(const struct janus *j, uint64_t sid, const char *op, char *msg, size_t cap)
{
    char path[40];
    json_t *reply = NULL;
    snprintf(path, sizeof path, "/%" PRIu64, sid);
    int rc = request(j, path, json_pack("{s:s}", "janus", op), 0, &reply, msg, cap);
    json_decref(reply);
    return rc;
}

int janus_keepalive(const struct janus *j, uint64_t sid, char *msg, size_t cap)
{
    return session_op(j, sid, "keepalive", msg, cap);
}

int janus_session_destroy(const struct janus *j, uint64_t sid, char *msg, size_t cap)
{
    return session_op(j, sid, "destroy", msg, cap);
}

int janus_attach_videoroom(const struct janus *j, uint64_t sid, uint64_t *hid, char *msg,
                           size_t cap)
{
    char path[40];
    json_t *reply = NULL;
    snprintf(path, sizeof path, "/%" PRIu64, sid);
    int rc = request(j, path,
                     json_pack("{s:s, s:s}", "janus", "attach", "plugin", "janus.plugin.videoroom"),
                     0, &reply, msg, cap);
    if (rc == JANUS_OK)
        rc = data_id(reply, hid, msg, cap);
    json_decref(reply);
    return rc;
}

/* A synchronous VideoRoom request (create, destroy, exists): body to the
 * handle; the plugin's data into *data (a new reference). A plugin error
 * (error_code) is JANUS_REFUSED. */
static int plugin_sync(const struct janus *j, uint64_t sid, uint64_t hid, json_t *body,
                       json_t **data, char *msg, size_t cap)
{
    char path[64];
    json_t *reply = NULL;
    *data = NULL;
    snprintf(path, sizeof path, "/%" PRIu64 "/%" PRIu64, sid, hid);
    int rc = request(j, path, json_pack("{s:s, s:o}", "janus", "message", "body", body), 0, &reply,
                     msg, cap);
    if (rc != JANUS_OK)
        return rc;
    json_t *d = json_object_get(json_object_get(reply, "plugindata"), "data");
    if (!json_is_object(d)) {
        say(msg, cap, "janus: no plugin data in the answer%s%s", "", "");
        rc = JANUS_BAD_REPLY;
    } else if (json_object_get(d, "error_code")) {
        char code[24];
        snprintf(code, sizeof code, "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(d, "error_code")));
        const char *why = json_string_value(json_object_get(d, "error"));
        say(msg, cap, "janus: videoroom error %s: %s", code, why ? why : "?");
        rc = JANUS_REFUSED;
    } else {
        *data = json_incref(d);
    }
    json_decref(reply);
    return rc;
}

int janus_room_create(const struct janus *j, uint64_t sid, uint64_t hid, const struct janus_room *r,
                      char *msg, size_t cap)
{
    if (!r || r->id < 1 || r->id > ROOM_MAX || !r->secret || !r->rec_dir || r->publishers < 1)
        return JANUS_BAD_INPUT;
    json_t *body =
        json_pack("{s:s, s:I, s:b, s:b, s:s, s:s, s:i, s:s, s:s, s:b}", "request", "create", "room",
                  (json_int_t)r->id, "permanent", 0, "is_private", 1, "secret", r->secret,
                  "rec_dir", r->rec_dir, "publishers", r->publishers, "audiocodec", "opus",
                  "videocodec", "vp8", "record", r->record);
    if (body && r->pin && r->pin[0])
        json_object_set_new(body, "pin", json_string(r->pin));
    json_t *d = NULL;
    int rc = plugin_sync(j, sid, hid, body, &d, msg, cap);
    const char *what = json_string_value(json_object_get(d, "videoroom"));
    if (rc == JANUS_OK && (!what || strcmp(what, "created") != 0)) {
        say(msg, cap, "janus: the room was not created%s%s", "", "");
        rc = JANUS_BAD_REPLY;
    }
    json_decref(d);
    return rc;
}

int janus_room_exists(const struct janus *j, uint64_t sid, uint64_t hid, uint64_t room,
                      bool *exists, char *msg, size_t cap)
{
    json_t *d = NULL;
    *exists = false;
    int rc = plugin_sync(j, sid, hid,
                         json_pack("{s:s, s:I}", "request", "exists", "room", (json_int_t)room), &d,
                         msg, cap);
    if (rc == JANUS_OK)
        *exists = json_is_true(json_object_get(d, "exists"));
    json_decref(d);
    return rc;
}

int janus_room_destroy(const struct janus *j, uint64_t sid, uint64_t hid, uint64_t room,
                       const char *secret, char *msg, size_t cap)
{
    json_t *d = NULL;
    int rc = plugin_sync(j, sid, hid,
                         json_pack("{s:s, s:I, s:s}", "request", "destroy", "room",
                                   (json_int_t)room, "secret", secret ? secret : ""),
                         &d, msg, cap);
    json_decref(d);
    return rc;
}

/* Waits on session sid's event stream for the event of handle hid that
 * carries a jsep; other events (webrtcup, media, another handle's) are
 * passed over. The jsep's sdp into *answer. */
static int await_answer(const struct janus *j, uint64_t sid, uint64_t hid, char **answer, char *msg,
                        size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/%" PRIu64 "?maxev=1", sid);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        json_t *ev = NULL;
        int rc = request(j, path, NULL, 30000, &ev, msg, cap);
        if (rc != JANUS_OK)
            return rc;
        json_t *one = json_is_array(ev) ? json_array_get(ev, 0) : ev;
        const char *kind = json_string_value(json_object_get(one, "janus"));
        json_int_t sender = json_integer_value(json_object_get(one, "sender"));
        json_t *data = json_object_get(json_object_get(one, "plugindata"), "data");
        const char *sdp = json_string_value(json_object_get(json_object_get(one, "jsep"), "sdp"));
        if (kind && strcmp(kind, "event") == 0 && (uint64_t)sender == hid) {
            if (json_object_get(data, "error_code")) {
                const char *why = json_string_value(json_object_get(data, "error"));
                say(msg, cap, "janus: videoroom refused the publisher: %s%s", why ? why : "?", "");
                json_decref(ev);
                return JANUS_REFUSED;
            }
            if (sdp) {
                *answer = strdup(sdp);
                json_decref(ev);
                return *answer ? JANUS_OK : JANUS_BAD_INPUT;
            }
        }
        json_decref(ev);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long ms = (long)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms > j->timeout_ms) {
            say(msg, cap, "janus: no answer to the publisher's offer in time%s%s", "", "");
            return JANUS_TIMEOUT;
        }
    }
}

int janus_publish(const struct janus *j, uint64_t sid, uint64_t room, const char *pin,
                  const char *display, const char *offer_sdp, uint64_t *hid, char **answer,
                  char *msg, size_t cap)
{
    *answer = NULL;
    if (!offer_sdp || !offer_sdp[0] || room < 1 || room > ROOM_MAX)
        return JANUS_BAD_INPUT;
    int rc = janus_attach_videoroom(j, sid, hid, msg, cap);
    if (rc != JANUS_OK)
        return rc;
    json_t *body =
        json_pack("{s:s, s:I, s:s, s:s}", "request", "joinandconfigure", "room", (json_int_t)room,
                  "ptype", "publisher", "display", display ? display : "");
    if (body && pin && pin[0])
        json_object_set_new(body, "pin", json_string(pin));
    char path[64];
    json_t *reply = NULL;
    snprintf(path, sizeof path, "/%" PRIu64 "/%" PRIu64, sid, *hid);
    rc = request(j, path,
                 json_pack("{s:s, s:o, s:{s:s, s:s}}", "janus", "message", "body", body, "jsep",
                           "type", "offer", "sdp", offer_sdp),
                 0, &reply, msg, cap);
    json_decref(reply);
    if (rc == JANUS_OK)
        rc = await_answer(j, sid, *hid, answer, msg, cap);
    return rc;
}

enum ze janus_ze(int rc)
{
    switch (rc) {
    case JANUS_UNREACHABLE:
    case JANUS_TIMEOUT:
    case JANUS_REFUSED:
    case JANUS_BAD_REPLY:
        return ZE_MEDIA_UNAVAILABLE;
    default:
        return ZE_INTERNAL;
    }
}
