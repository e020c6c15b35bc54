/* bridge — the HTTP side of zhanye-bridge: auth, origins, routing, device
 * slots, SSE (bridge.h, device.h). */
#include "bridge.h"

#include "foundation/log.h"
#include "foundation/secmem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY_MAX (64 * 1024)
#define EVENT_RING 64
#define SSE_PING_MS 15000

struct slot {
    const struct bridge_device *dev;
    void *ctx;
    atomic_bool busy;
    bool opened;
};

struct event {
    unsigned long long id;
    char *text; /* the whole SSE record */
};

struct bridge {
    int port;
    uint8_t token_hash[SHA256_DIGEST_LENGTH];
    char origins[BRIDGE_MAX_ORIGINS][256];
    size_t n_origins;
    int op_timeout_ms;
    struct slot slots[BRIDGE_MAX_DEVICES];
    size_t n_slots;
    struct MHD_Daemon *mhd;
    bool started;
    atomic_bool stopping;
    pthread_mutex_t ev_mu;
    pthread_cond_t ev_cv;
    struct event ring[EVENT_RING];
    unsigned long long next_id; /* id of the next event posted */
};

/* ---- errors ---- */

static const struct {
    const char *code;
    const char *msg;
    int http;
} ERRS[] = {
    [BRIDGE_OK] = {"ok", "成功", 200},
    [BRIDGE_ABSENT] = {"absent", "设备未连接", 503},
    [BRIDGE_BUSY] = {"busy", "设备正忙，请稍后再试", 409},
    [BRIDGE_TIMEOUT] = {"timeout", "设备响应超时", 504},
    [BRIDGE_BAD_FRAME] = {"bad_frame", "设备通信数据错误，请重试", 502},
    [BRIDGE_NO_CARD] = {"no_card", "未检测到卡片，请放置证件或插卡", 404},
    [BRIDGE_READ_FAILED] = {"read_failed", "读卡失败，请重新放置卡片", 502},
    [BRIDGE_BAD_DATA] = {"bad_data", "卡片信息校验失败", 502},
    [BRIDGE_DEVICE] = {"device_error", "设备故障", 502},
    [BRIDGE_BAD_REQUEST] = {"bad_request", "请求参数错误", 400},
    [BRIDGE_INTERNAL] = {"internal", "外设服务内部错误", 500},
    [BRIDGE_CANCELLED] = {"cancelled", "客户已取消操作", 409},
    [BRIDGE_NO_INPUT] = {"no_input", "客户未在规定时间内操作", 408},
    [BRIDGE_PIN_SHORT] = {"pin_too_short", "密码位数不足，请重新输入", 422},
    [BRIDGE_NO_KEY] = {"no_key", "密码键盘未加载密钥", 503},
    [BRIDGE_KEY_CHECK] = {"key_check", "密钥校验值不符，未加载", 422},
    [BRIDGE_NO_FINGER] = {"no_finger", "未检测到手指，请按压指纹仪", 408},
    [BRIDGE_POOR_QUALITY] = {"poor_quality", "指纹图像质量不佳，请重新按压", 422},
    [BRIDGE_BAD_CARD] = {"bad_card", "银行卡数据无效，请更换银行卡", 422},
    [BRIDGE_REMOVED] = {"removed", "读卡过程中银行卡被拔出，请重新插卡", 409},
    [BRIDGE_UNSUPPORTED] = {"unsupported", "不支持该银行卡的应用", 422},
};

static enum bridge_err err_ok(enum bridge_err e)
{
    return (unsigned)e < sizeof ERRS / sizeof ERRS[0] ? e : BRIDGE_INTERNAL;
}

const char *bridge_err_code(enum bridge_err e)
{
    return ERRS[err_ok(e)].code;
}

const char *bridge_err_message(enum bridge_err e)
{
    return ERRS[err_ok(e)].msg;
}

int bridge_err_http(enum bridge_err e)
{
    return ERRS[err_ok(e)].http;
}

long bridge_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *bridge_call_arg(const struct bridge_call *c, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)c->conn, MHD_GET_ARGUMENT_KIND,
                                       key);
}

int bridge_parse_listen(const char *s, int *port)
{
    static const char pfx[] = "127.0.0.1:";
    if (!s || strncmp(s, pfx, sizeof pfx - 1) != 0)
        return -1;
    const char *p = s + sizeof pfx - 1;
    if (!*p || strlen(p) > 5)
        return -1;
    long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

/* ---- lifecycle ---- */

struct bridge *bridge_new(const struct bridge_config *cfg)
{
    if (!cfg || !cfg->token || strlen(cfg->token) < 16 || cfg->n_origins > BRIDGE_MAX_ORIGINS ||
        cfg->op_timeout_ms <= 0 || cfg->port < 0 || cfg->port > 65535)
        return NULL;
    struct bridge *br = calloc(1, sizeof *br);
    if (!br)
        return NULL;
    br->port = cfg->port;
    SHA256((const unsigned char *)cfg->token, strlen(cfg->token), br->token_hash);
    for (size_t i = 0; i < cfg->n_origins; i++) {
        if (strlen(cfg->origins[i]) >= sizeof br->origins[i]) {
            free(br);
            return NULL;
        }
        snprintf(br->origins[i], sizeof br->origins[i], "%s", cfg->origins[i]);
    }
    br->n_origins = cfg->n_origins;
    br->op_timeout_ms = cfg->op_timeout_ms;
    br->next_id = 1;
    pthread_mutex_init(&br->ev_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&br->ev_cv, &ca);
    pthread_condattr_destroy(&ca);
    return br;
}

int bridge_add(struct bridge *br, const struct bridge_device *dev, void *ctx)
{
    if (br->started || br->n_slots >= BRIDGE_MAX_DEVICES)
        return -1;
    for (size_t i = 0; i < br->n_slots; i++)
        for (size_t a = 0; a < br->slots[i].dev->n_routes; a++)
            for (size_t b = 0; b < dev->n_routes; b++)
                if (strcmp(br->slots[i].dev->routes[a].path, dev->routes[b].path) == 0 &&
                    strcmp(br->slots[i].dev->routes[a].method, dev->routes[b].method) == 0)
                    return -1;
    br->slots[br->n_slots].dev = dev;
    br->slots[br->n_slots].ctx = ctx;
    atomic_init(&br->slots[br->n_slots].busy, false);
    br->n_slots++;
    return 0;
}

void bridge_post_event(struct bridge *br, const char *type, json_t *data)
{
    if (!data)
        data = json_object();
    char *js = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    if (!js)
        return;
    pthread_mutex_lock(&br->ev_mu);
    unsigned long long id = br->next_id++;
    struct event *e = &br->ring[id % EVENT_RING];
    free(e->text);
    size_t n = strlen(js) + strlen(type) + 64;
    e->text = malloc(n);
    if (e->text)
        snprintf(e->text, n, "id: %llu\nevent: %s\ndata: %s\n\n", id, type, js);
    e->id = id;
    pthread_cond_broadcast(&br->ev_cv);
    pthread_mutex_unlock(&br->ev_mu);
    free(js);
}

/* ---- responses ---- */

static bool origin_allowed(const struct bridge *br, const char *origin)
{
    for (size_t i = 0; i < br->n_origins; i++)
        if (strcmp(br->origins[i], origin) == 0)
            return true;
    return false;
}

static void add_cors(struct MHD_Response *r, const char *origin)
{
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (!origin)
        return;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
    MHD_add_response_header(r, "Vary", "Origin");
}

static enum MHD_Result send_json(struct MHD_Connection *c, int status, json_t *body,
                                 const char *origin)
{
    char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!txt)
        txt = strdup("{\"error\":\"internal\",\"message\":\"外设服务内部错误\"}");
    if (!txt)
        return MHD_NO;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(txt), txt, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(txt);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
    add_cors(r, origin);
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_err(struct MHD_Connection *c, int status, const char *code,
                                const char *msg, const char *origin)
{
    return send_json(c, status, json_pack("{s:s,s:s}", "error", code, "message", msg), origin);
}

static enum MHD_Result send_bridge_err(struct MHD_Connection *c, enum bridge_err e,
                                       const char *origin)
{
    return send_err(c, bridge_err_http(e), bridge_err_code(e), bridge_err_message(e), origin);
}

/* ---- SSE ---- */

struct sse {
    struct bridge *br;
    unsigned long long next; /* next event id to send */
    char *pending;           /* text not yet handed to MHD */
    size_t off, len;
    long last_ms;
};

static void sse_set(struct sse *s, char *text)
{
    free(s->pending);
    s->pending = text;
    s->off = 0;
    s->len = text ? strlen(text) : 0;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse *s = cls;
    struct bridge *br = s->br;
    while (!s->pending || s->off == s->len) {
        if (atomic_load(&br->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        pthread_mutex_lock(&br->ev_mu);
        if (s->next < br->next_id) {
            /* the oldest still in the ring, if the client fell behind */
            if (br->next_id - s->next > EVENT_RING)
                s->next = br->next_id - EVENT_RING;
            struct event *e = &br->ring[s->next % EVENT_RING];
            char *t = e->text ? strdup(e->text) : NULL;
            s->next++;
            pthread_mutex_unlock(&br->ev_mu);
            if (t)
                sse_set(s, t);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&br->ev_cv, &br->ev_mu, &ts);
        pthread_mutex_unlock(&br->ev_mu);
        if (bridge_now_ms() - s->last_ms >= SSE_PING_MS) {
            char *t = strdup(": ping\n\n");
            if (t)
                sse_set(s, t);
        }
    }
    size_t n = s->len - s->off;
    if (n > max)
        n = max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    s->last_ms = bridge_now_ms();
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    struct sse *s = cls;
    free(s->pending);
    free(s);
}

static enum MHD_Result serve_events(struct bridge *br, struct MHD_Connection *c, const char *origin)
{
    struct sse *s = calloc(1, sizeof *s);
    if (!s)
        return send_bridge_err(c, BRIDGE_INTERNAL, origin);
    s->br = br;
    s->last_ms = bridge_now_ms();
    pthread_mutex_lock(&br->ev_mu);
    s->next = br->next_id;
    pthread_mutex_unlock(&br->ev_mu);
    json_t *devs = json_array();
    for (size_t i = 0; i < br->n_slots; i++)
        json_array_append_new(devs, json_string(br->slots[i].dev->name));
    json_t *hello = json_pack("{s:o}", "devices", devs);
    char *js = hello ? json_dumps(hello, JSON_COMPACT) : NULL;
    json_decref(hello);
    char *t = NULL;
    if (js && asprintf(&t, "event: hello\ndata: %s\n\n", js) < 0)
        t = NULL;
    free(js);
    sse_set(s, t);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, s, sse_free);
    if (!r) {
        sse_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
    add_cors(r, origin);
    enum MHD_Result rc = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---- requests ---- */

struct req {
    char *body;
    size_t len;
    bool too_big;
};

static bool token_ok(const struct bridge *br, const char *auth)
{
    static const char pfx[] = "Bearer ";
    if (!auth || strncmp(auth, pfx, sizeof pfx - 1) != 0)
        return false;
    const char *tok = auth + sizeof pfx - 1;
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)tok, strlen(tok), h);
    bool ok = secmem_equal(h, br->token_hash, sizeof h);
    secmem_wipe(h, sizeof h);
    return ok;
}

static enum MHD_Result serve_health(struct bridge *br, struct MHD_Connection *c, const char *origin)
{
    json_t *devs = json_array();
    for (size_t i = 0; i < br->n_slots; i++) {
        struct slot *s = &br->slots[i];
        const char *st = atomic_load(&s->busy) ? "busy" : s->dev->state(s->ctx);
        json_array_append_new(devs, json_pack("{s:s,s:s}", "name", s->dev->name, "state", st));
    }
    return send_json(
        c, 200,
        json_pack("{s:s,s:s,s:o}", "status", "ok", "version", ZHANYE_VERSION, "devices", devs),
        origin);
}

static enum MHD_Result dispatch(struct bridge *br, struct MHD_Connection *c, const char *url,
                                const char *method, struct req *rq, const char *origin)
{
    if (strcmp(url, "/v1/health") == 0)
        return strcmp(method, "GET") == 0
                   ? serve_health(br, c, origin)
                   : send_err(c, 405, "method_not_allowed", "不支持的请求方法", origin);
    if (strcmp(url, "/v1/events") == 0)
        return strcmp(method, "GET") == 0
                   ? serve_events(br, c, origin)
                   : send_err(c, 405, "method_not_allowed", "不支持的请求方法", origin);
    bool path_known = false;
    for (size_t i = 0; i < br->n_slots; i++) {
        struct slot *s = &br->slots[i];
        for (size_t k = 0; k < s->dev->n_routes; k++) {
            const struct bridge_route *rt = &s->dev->routes[k];
            if (strcmp(rt->path, url) != 0)
                continue;
            path_known = true;
            if (strcmp(rt->method, method) != 0)
                continue;
            json_t *body = NULL;
            if (rq->len) {
                body = json_loadb(rq->body, rq->len, 0, NULL);
                if (!json_is_object(body)) {
                    json_decref(body);
                    return send_bridge_err(c, BRIDGE_BAD_REQUEST, origin);
                }
            }
            bool expect = false;
            if (!atomic_compare_exchange_strong(&s->busy, &expect, true)) {
                json_decref(body);
                return send_bridge_err(c, BRIDGE_BUSY, origin);
            }
            struct bridge_call call = {
                .method = method,
                .path = url,
                .body = body,
                .deadline_ms = bridge_now_ms() + br->op_timeout_ms,
                .conn = c,
            };
            json_t *out = NULL;
            enum bridge_err e = rt->handle(s->ctx, &call, &out);
            atomic_store(&s->busy, false);
            json_decref(body);
            if (e != BRIDGE_OK) {
                json_decref(out);
                log_info("bridge.device", "%s %s: %s", s->dev->name, url, bridge_err_code(e));
                return send_bridge_err(c, e, origin);
            }
            return send_json(c, 200, out ? out : json_object(), origin);
        }
    }
    if (path_known)
        return send_err(c, 405, "method_not_allowed", "不支持的请求方法", origin);
    return send_err(c, 404, "not_found", "没有这个接口", origin);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct bridge *br = cls;
    struct req *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->len + *upload_size > BODY_MAX) {
            rq->too_big = true;
        } else {
            char *nb = realloc(rq->body, rq->len + *upload_size + 1);
            if (!nb)
                return MHD_NO;
            rq->body = nb;
            memcpy(rq->body + rq->len, upload, *upload_size);
            rq->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (origin && !origin_allowed(br, origin))
        return send_err(c, 403, "forbidden_origin", "来源不被允许", NULL);
    if (strcmp(method, "OPTIONS") == 0) {
        if (!origin)
            return send_err(c, 403, "forbidden_origin", "来源不被允许", NULL);
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        add_cors(r, origin);
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        MHD_add_response_header(r, "Access-Control-Max-Age", "600");
        enum MHD_Result rc = MHD_queue_response(c, 204, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (!token_ok(br, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization")))
        return send_err(c, 401, "unauthorized", "配对令牌无效，请重新配对", origin);
    if (rq->too_big)
        return send_err(c, 413, "too_large", "请求过大", origin);
    return dispatch(br, c, url, method, rq, origin);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct req *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

int bridge_start(struct bridge *br)
{
    if (br->started)
        return -1;
    for (size_t i = 0; i < br->n_slots; i++) {
        struct slot *s = &br->slots[i];
        if (s->dev->open(s->ctx, br) != 0) {
            log_error("bridge.start", "device %s failed to open", s->dev->name);
            bridge_stop(br);
            return -1;
        }
        s->opened = true;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        bridge_stop(br);
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)br->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 32) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        log_error("bridge.start", "cannot listen on 127.0.0.1:%d: %s", br->port, strerror(errno));
        close(fd);
        bridge_stop(br);
        return -1;
    }
    br->port = ntohs(sa.sin_port);
    br->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
        NULL, on_request, br, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_done,
        br, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_END);
    if (!br->mhd) {
        log_error("bridge.start", "libmicrohttpd did not start");
        close(fd);
        bridge_stop(br);
        return -1;
    }
    br->started = true;
    return 0;
}

int bridge_port(const struct bridge *br)
{
    return br->port;
}

void bridge_stop(struct bridge *br)
{
    atomic_store(&br->stopping, true);
    pthread_mutex_lock(&br->ev_mu);
    pthread_cond_broadcast(&br->ev_cv);
    pthread_mutex_unlock(&br->ev_mu);
    if (br->mhd) {
        MHD_stop_daemon(br->mhd);
        br->mhd = NULL;
    }
    for (size_t i = 0; i < br->n_slots; i++) {
        if (br->slots[i].opened) {
            br->slots[i].dev->close(br->slots[i].ctx);
            br->slots[i].opened = false;
        }
    }
}

void bridge_free(struct bridge *br)
{
    if (!br)
        return;
    bridge_stop(br);
    for (size_t i = 0; i < EVENT_RING; i++)
        free(br->ring[i].text);
    secmem_wipe(br->token_hash, sizeof br->token_hash);
    pthread_mutex_destroy(&br->ev_mu);
    pthread_cond_destroy(&br->ev_cv);
    free(br);
}
