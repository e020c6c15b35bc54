/* GET /api/v1/admin/video/stream — the video agent's events, as Server-Sent
 * Events (text/event-stream), role video_agent only (others 403):
 *
 *   event: queue   data: {"waiting": n}                 when it changes
 *   event: call    data: {"call": {...}|null}           the agent's call, when
 *                                                       its state changes
 *                                                       (ended: once, with its
 *                                                       outcome)
 *   event: signal  data: {"call_id", "seq", "kind", "payload"}  the tablet's
 *                                                       signals, in order
 *   event: end     data: {"reason"}                     the session ended
 *
 * The machinery is the live view's (h_admin_live.c): the server suspends the
 * connection while there is nothing to send (server.h STREAMS); one thread
 * of this module (started with the first stream, joined with the last)
 * ticks every VIDEO_TICK_MS and, for each stream, checks its console
 * session, then in one transaction on the agent's bank ends the bank's
 * silent calls (video_call_sweep), keeps the agent's open call alive (an
 * open stream is the agent being there: when the stream goes, the call is
 * `dropped` after [video] reconnect_window_s), and reads what is new. A
 * comment line keeps the connection alive for proxies. A client that does
 * not read is ended. */
#include "app/app.h"
#include "business/video_call.h"
#include "business/video_signal.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "foundation/thread.h"
#include "http/admin.h"
#include "http/admin_bank.h"
#include "http/admin_video.h"
#include "http/handlers.h"
#include "identity/identity.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VIDEO_TICK_MS 400
#define VIDEO_HEARTBEAT_TICKS 30
#define VIDEO_BUF (512 * 1024)

struct vstream {
    int64_t id;
    char token[ADMIN_TOKEN_LEN + 1];
    char *buf;
    size_t off, len;
    bool ended;
    /* what the client has been told (the thread's) */
    int64_t call_id, seq, waiting;
    char state[12];
    struct vstream *prev, *next;
};

static struct {
    pthread_mutex_t life;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct vstream *head;
    int n;
    int64_t next_id;
    bool running, stop;
    pthread_t th;
    struct app *app;
    unsigned ticks;
} V = {.life = PTHREAD_MUTEX_INITIALIZER,
       .mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER};

/* Appends under V.mu; a stream whose buffer would overflow is ended. */
static void push(struct vstream *s, const char *text, size_t n)
{
    if (s->ended)
        return;
    if (s->len + n > VIDEO_BUF) {
        s->ended = true;
        return;
    }
    if (s->off > 0 && s->off == s->len)
        s->off = s->len = 0;
    memcpy(s->buf + s->len, text, n);
    s->len += n;
}

static void push_event(struct vstream *s, const char *event, json_t *data)
{
    char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    if (!text)
        return;
    size_t cap = strlen(text) + strlen(event) + 32;
    char *ev = malloc(cap);
    if (ev) {
        int m = snprintf(ev, cap, "event: %s\ndata: %s\n\n", event, text);
        push(s, ev, (size_t)m);
    }
    free(ev);
    free(text);
}

/* ---- one stream's tick ------------------------------------------------------------- */

/* What one tick learnt for a stream; the thread's copy of its state. */
struct look {
    struct admin_req *ar;
    int64_t call_id, seq, waiting;
    char state[12];
    struct video_call call;
    bool has_call;
    json_t *signals;
};

static int look_txn(struct tenant_conn *tc, void *arg)
{
    struct look *l = arg;
    int64_t now = clock_wall_ms();
    json_decref(l->signals);
    l->signals = NULL;
    l->has_call = false;
    int rc = video_call_sweep(tc, admin_video_window_ms(l->ar->app), now, NULL);
    if (rc == VC_OK) {
        rc = video_call_of_agent(tc, l->ar->who.teller_id, &l->call);
        if (rc == VC_NOT_FOUND && l->call_id)
            rc = video_call_get(tc, l->call_id, &l->call); /* the one it had: now ended */
        l->has_call = rc == VC_OK;
        if (rc == VC_NOT_FOUND)
            rc = VC_OK;
    }
    if (rc == VC_OK && l->has_call && strcmp(l->call.state, "ended") != 0)
        rc = video_call_touch(tc, l->call.id, VIDEO_AGENT, now);
    if (rc == VC_OK && l->has_call)
        rc = video_signal_read(tc, l->call.id, VIDEO_AGENT, l->call.id == l->call_id ? l->seq : 0,
                               &l->signals);
    json_t *queued = NULL;
    if (rc == VC_OK)
        rc = video_call_list(tc, "queued", 500, &queued);
    l->waiting = (int64_t)json_array_size(queued);
    json_decref(queued);
    return rc;
}

/* The stream's tick on its own connection: NULL (go on) or why it ends. */
static const char *look(struct app *a, const char *token, struct look *l)
{
    struct admin_req ar = {.app = a};
    if (store_acquire(a->store, &ar.conn) != STORE_OK)
        return NULL;
    const char *end = NULL;
    int rc = admin_session_check(ar.conn, token, &ar.who);
    if (rc == ID_INVALID || rc == ID_EXPIRED)
        end = rc == ID_EXPIRED ? "expired" : "logged_out";
    else if (rc == ID_OK && ar.who.role != ROLE_VIDEO_AGENT)
        end = "role_revoked";
    if (rc == ID_OK && !end) {
        snprintf(ar.actor, sizeof ar.actor, "teller:%s", ar.who.teller_code);
        l->ar = &ar;
        if (admin_bank_txn(&ar, ar.who.bank_id, "admin.video_stream", look_txn, l) != VC_OK) {
            json_decref(l->signals);
            l->signals = NULL;
            l->has_call = false;
            l->waiting = -1; /* nothing learnt this time */
        }
        l->ar = NULL;
    }
    store_release(ar.conn);
    return end;
}

/* Pushes what changed since the stream was last told (under V.mu). */
static void tell(struct vstream *s, struct look *l)
{
    if (l->waiting >= 0 && l->waiting != s->waiting) {
        s->waiting = l->waiting;
        push_event(s, "queue", json_pack("{s:I}", "waiting", (json_int_t)l->waiting));
    }
    if (l->has_call) {
        if (l->call.id != s->call_id) {
            s->call_id = l->call.id;
            s->seq = 0;
            s->state[0] = '\0';
        }
        size_t i;
        json_t *sig;
        json_array_foreach(l->signals, i, sig)
        {
            int64_t seq = json_integer_value(json_object_get(sig, "seq"));
            if (seq <= s->seq)
                continue;
            s->seq = seq;
            json_object_set_new(sig, "call_id", json_integer(l->call.id));
            push_event(s, "signal", json_incref(sig));
        }
        if (strcmp(l->call.state, s->state) != 0) {
            snprintf(s->state, sizeof s->state, "%s", l->call.state);
            push_event(s, "call", json_pack("{s:o}", "call", video_call_json(&l->call)));
        }
        if (strcmp(l->call.state, "ended") == 0) {
            s->call_id = 0; /* told once */
            s->seq = 0;
            s->state[0] = '\0';
        }
    }
}

struct item {
    int64_t id;
    char token[ADMIN_TOKEN_LEN + 1];
    int64_t call_id, seq;
};

static void tick(struct app *a)
{
    struct item items[HTTP_MAX_STREAMS * 2];
    int n = 0;
    pthread_mutex_lock(&V.mu);
    for (struct vstream *s = V.head; s && n < (int)(sizeof items / sizeof items[0]); s = s->next)
        if (!s->ended) {
            items[n].id = s->id;
            memcpy(items[n].token, s->token, sizeof items[n].token);
            items[n].call_id = s->call_id;
            items[n].seq = s->seq;
            n++;
        }
    pthread_mutex_unlock(&V.mu);
    bool beat = ++V.ticks % VIDEO_HEARTBEAT_TICKS == 0;
    for (int i = 0; i < n; i++) {
        struct look l = {.call_id = items[i].call_id, .seq = items[i].seq};
        const char *end = look(a, items[i].token, &l);
        pthread_mutex_lock(&V.mu);
        for (struct vstream *s = V.head; s; s = s->next) {
            if (s->id != items[i].id)
                continue;
            if (end) {
                char text[96];
                int m =
                    snprintf(text, sizeof text, "event: end\ndata: {\"reason\":\"%s\"}\n\n", end);
                push(s, text, (size_t)m);
                s->ended = true;
            } else {
                tell(s, &l);
                if (beat)
                    push(s, ": keep-alive\n\n", 14);
            }
        }
        pthread_mutex_unlock(&V.mu);
        json_decref(l.signals);
        secmem_wipe(items[i].token, sizeof items[i].token);
    }
}

static void *video_main(void *arg)
{
    struct app *a = arg;
    pthread_mutex_lock(&V.mu);
    while (!V.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)VIDEO_TICK_MS * 1000000L;
        while (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!V.stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&V.cv, &V.mu, &ts);
        if (V.stop)
            break;
        pthread_mutex_unlock(&V.mu);
        tick(a);
        pthread_mutex_lock(&V.mu);
    }
    pthread_mutex_unlock(&V.mu);
    return NULL;
}

static int start_thread(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&V.cv);
    pthread_cond_init(&V.cv, &ca);
    pthread_condattr_destroy(&ca);
    V.ticks = 0;
    return thread_start(&V.th, NULL, video_main, V.app, "zhanye-video");
}

/* ---- the stream's callbacks (server.h STREAMS) --------------------------------------- */

static long video_fill(void *cls, char *buf, size_t cap)
{
    struct vstream *s = cls;
    long n = 0;
    pthread_mutex_lock(&V.mu);
    if (s->off < s->len) {
        size_t k = s->len - s->off < cap ? s->len - s->off : cap;
        memcpy(buf, s->buf + s->off, k);
        s->off += k;
        n = (long)k;
    } else if (s->ended) {
        n = -1;
    }
    pthread_mutex_unlock(&V.mu);
    return n;
}

static void video_done(void *cls)
{
    struct vstream *s = cls;
    pthread_mutex_lock(&V.life);
    pthread_mutex_lock(&V.mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        V.head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    bool last = --V.n == 0;
    if (last) {
        V.stop = true;
        pthread_cond_broadcast(&V.cv);
    }
    pthread_mutex_unlock(&V.mu);
    if (last && V.running) {
        pthread_join(V.th, NULL);
        V.running = false;
    }
    pthread_mutex_unlock(&V.life);
    secmem_wipe(s->token, sizeof s->token);
    free(s->buf);
    free(s);
}

void h_admin_video_stream(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_video_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    struct vstream *s = calloc(1, sizeof *s);
    char *buf = s ? malloc(VIDEO_BUF) : NULL;
    if (!buf) {
        free(s);
        http_error(resp, ZE_INTERNAL, NULL);
        admin_close(&ar);
        return;
    }
    s->buf = buf;
    s->waiting = -1;
    memcpy(s->token, ar.token, sizeof s->token);
    static const char OPEN[] = ": keep-alive\nretry: 2000\n\n";
    memcpy(s->buf, OPEN, sizeof OPEN - 1);
    s->len = sizeof OPEN - 1;

    pthread_mutex_lock(&V.life);
    pthread_mutex_lock(&V.mu);
    s->id = ++V.next_id;
    s->next = V.head;
    if (V.head)
        V.head->prev = s;
    V.head = s;
    V.n++;
    V.stop = false;
    V.app = ar.app;
    pthread_mutex_unlock(&V.mu);
    if (!V.running)
        V.running = start_thread() == 0;
    if (!V.running) {
        pthread_mutex_lock(&V.mu);
        s->ended = true;
        pthread_mutex_unlock(&V.mu);
        log_error("admin.video", "cannot start the video stream thread");
    }
    pthread_mutex_unlock(&V.life);

    resp->status = 200;
    resp->content_type = "text/event-stream; charset=utf-8";
    (void)http_add_header(resp, "X-Accel-Buffering", "no");
    resp->stream = (struct http_stream){.fill = video_fill, .done = video_done, .cls = s};
    admin_close(&ar);
}
