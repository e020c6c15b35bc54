/* GET /api/v1/admin/live — the console's live view of flow control and the
 * downstream systems, as a Server-Sent Events stream (text/event-stream).
 * Province admins only (others: 403 forbidden, like the rest of the
 * platform-wide screens).
 *
 * Every LIVE_TICK_MS one `event: tick` whose data is one JSON line
 * (docs/api.md §2.3 "live"): per flow rule its cumulative counters
 * (flow_stats) and what changed since the previous tick ("delta"), the p99
 * queue wait over that interval (from the histogram
 * zhanye_flow_queue_wait_seconds), and per downstream system its breaker,
 * bulkhead and counters (egress_status) with the interval's error and slow
 * rates. A comment line (": keep-alive") opens the stream and follows every
 * LIVE_HEARTBEAT_TICKS ticks, for proxies that close quiet connections.
 *
 * THREADS. No request thread waits: the server's stream machinery
 * (server.h STREAMS) suspends the connection while there is nothing to send.
 * One thread of this module (started with the first stream, joined when the
 * last one ends) builds each tick once for every stream, and checks every
 * stream's console session on each tick (admin_session_check: a logged-out,
 * expired or disabled administrator, or one who is no longer a province
 * admin, gets `event: end` with the reason and the stream closes). The
 * session check counts as activity: an open live screen keeps its session
 * from the idle timeout (not from the absolute one). A client that does not
 * read (its buffer fills) is ended. */
#include "access/flow.h"
#include "app/app.h"
#include "app/overrides.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/secmem.h"
#include "foundation/thread.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/identity.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVE_TICK_MS 1000
#define LIVE_HEARTBEAT_TICKS 15
#define LIVE_BUF (256 * 1024) /* unsent bytes a stream may hold; more: the client is too slow */
#define LIVE_MAX_RULES 64
#define LIVE_MAX_SYSTEMS 32
#define LIVE_WAIT_BUCKETS 32

struct live {
    int64_t id;
    char token[ADMIN_TOKEN_LEN + 1];
    char *buf;
    size_t off, len;
    bool ended;
    struct live *prev, *next;
};

/* The previous tick's counters, for the deltas. */
struct prev_rule {
    char name[40];
    uint64_t offered, admitted, refused;
    uint64_t wait[LIVE_WAIT_BUCKETS];
};
struct prev_sys {
    char name[40];
    int64_t calls, errors, slow;
};

static struct {
    pthread_mutex_t life; /* start and join of the thread */
    pthread_mutex_t mu;   /* the list, the buffers, stop */
    pthread_cond_t cv;
    struct live *head;
    int n;
    int64_t next_id;
    bool running, stop;
    pthread_t th;
    struct app *app;
    /* the thread's own */
    struct prev_rule rules[LIVE_MAX_RULES];
    int nrules;
    struct prev_sys sys[LIVE_MAX_SYSTEMS];
    int nsys;
    int64_t prev_ms;
    unsigned ticks;
} L = {.life = PTHREAD_MUTEX_INITIALIZER,
       .mu = PTHREAD_MUTEX_INITIALIZER,
       .cv = PTHREAD_COND_INITIALIZER};

/* Appends under L.mu; a stream whose buffer would overflow is ended. */
static void push(struct live *s, const char *text, size_t n)
{
    if (s->ended)
        return;
    if (s->len + n > LIVE_BUF) {
        s->ended = true;
        return;
    }
    if (s->off > 0 && s->off == s->len)
        s->off = s->len = 0;
    memcpy(s->buf + s->len, text, n);
    s->len += n;
}

/* ---- one tick's JSON --------------------------------------------------------- */

static struct prev_rule *prev_rule(const char *name)
{
    for (int i = 0; i < L.nrules; i++)
        if (strcmp(L.rules[i].name, name) == 0)
            return &L.rules[i];
    if (L.nrules == LIVE_MAX_RULES)
        return NULL;
    struct prev_rule *p = &L.rules[L.nrules++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    return p;
}

static struct prev_sys *prev_sys(const char *name, bool *fresh)
{
    *fresh = false;
    for (int i = 0; i < L.nsys; i++)
        if (strcmp(L.sys[i].name, name) == 0)
            return &L.sys[i];
    if (L.nsys == LIVE_MAX_SYSTEMS)
        return NULL;
    struct prev_sys *p = &L.sys[L.nsys++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    *fresh = true;
    return p;
}

/* The p99 of the waits that left the queue since the previous tick: the upper
 * bound of the bucket holding it, in ms (the last finite bound for +Inf);
 * null when none left. */
static json_t *p99_since(const char *rule, uint64_t *prev, bool first)
{
    char labels[80];
    snprintf(labels, sizeof labels, "tx=\"%s\"", rule);
    uint64_t now[LIVE_WAIT_BUCKETS];
    double bounds[LIVE_WAIT_BUCKETS];
    size_t n = metric_histogram_read(metrics_find("zhanye_flow_queue_wait_seconds", labels), now,
                                     bounds, LIVE_WAIT_BUCKETS);
    if (n > LIVE_WAIT_BUCKETS)
        n = LIVE_WAIT_BUCKETS;
    uint64_t d[LIVE_WAIT_BUCKETS], total = 0;
    for (size_t i = 0; i < n; i++) {
        d[i] = now[i] >= prev[i] ? now[i] - prev[i] : 0;
        total += d[i];
        prev[i] = now[i];
    }
    if (first || total == 0)
        return json_null();
    uint64_t want = (total * 99 + 99) / 100, seen = 0;
    for (size_t i = 0; i < n; i++) {
        seen += d[i];
        if (seen >= want) {
            double b = isinf(bounds[i]) ? (i > 0 ? bounds[i - 1] : 0) : bounds[i];
            return json_real(b * 1000.0);
        }
    }
    return json_null();
}

static json_t *rule_json(struct flow *f, const char *tx, json_t *seen)
{
    struct flow_stats st;
    if (flow_stats(f, tx, &st) != 0 || json_object_get(seen, st.rule))
        return NULL;
    json_object_set_new(seen, st.rule, json_true());
    json_t *refused = json_object();
    for (int r = FLOW_R_NONE + 1; r < FLOW_NREASONS; r++)
        if (st.refused[r])
            json_object_set_new(refused, flow_reason_name((enum flow_reason)r),
                                json_integer((json_int_t)st.refused[r]));
    struct prev_rule *p = prev_rule(st.rule);
    bool first = !p || L.prev_ms == 0;
    struct prev_rule scratch = {0};
    if (!p)
        p = &scratch;
    json_t *delta =
        json_pack("{s:I,s:I,s:I}", "offered", (json_int_t)(first ? 0 : st.offered - p->offered),
                  "admitted", (json_int_t)(first ? 0 : st.admitted - p->admitted), "refused",
                  (json_int_t)(first ? 0 : st.refused_total - p->refused));
    json_t *p99 = p99_since(st.rule, p->wait, first);
    p->offered = st.offered;
    p->admitted = st.admitted;
    p->refused = st.refused_total;
    return json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:o,s:I,s:o,s:o,s:{s:I,s:I,s:I,s:I,s:I}}", "tx",
                     st.rule, "priority", st.priority != 0, "offered", (json_int_t)st.offered,
                     "admitted", (json_int_t)st.admitted, "queued", (json_int_t)st.queued,
                     "in_flight", (json_int_t)st.in_flight, "refused", refused, "refused_total",
                     (json_int_t)st.refused_total, "p99_wait_ms", p99, "delta", delta, "limits",
                     "rate", (json_int_t)st.rate, "burst", (json_int_t)st.burst, "max_concurrent",
                     (json_int_t)st.max_concurrent, "queue", (json_int_t)st.queue, "max_wait_ms",
                     (json_int_t)st.max_wait_ms);
}

/* The rules to show: the fixed ones, then every [flow.X] of the file and
 * the console's overrides. */
static json_t *flow_json(struct app *a, json_t *ovr)
{
    json_t *out = json_array(), *seen = json_object();
    if (a->flow) {
        static const char *const FIXED[] = {"default", "LOGIN", "LOGOUT", "ADMIN_LOGIN"};
        for (size_t i = 0; i < sizeof FIXED / sizeof FIXED[0]; i++) {
            json_t *r = rule_json(a->flow, FIXED[i], seen);
            if (r)
                json_array_append_new(out, r);
        }
        for (int i = 0; i < a->cfg.nnamed; i++) {
            if (strcmp(a->cfg.named[i].area, "flow") != 0)
                continue;
            json_t *r = rule_json(a->flow, a->cfg.named[i].name, seen);
            if (r)
                json_array_append_new(out, r);
        }
        const char *name;
        json_t *v;
        json_object_foreach(json_object_get(ovr, "flow"), name, v)
        {
            json_t *r = rule_json(a->flow, name, seen);
            if (r)
                json_array_append_new(out, r);
        }
    }
    json_decref(seen);
    return out;
}

static json_t *rate_of(int64_t part, int64_t whole)
{
    return whole > 0 ? json_real((double)part / (double)whole) : json_null();
}

static json_t *egress_json(struct app *a)
{
    json_t *out = json_array();
    json_t *status = a->egress ? egress_status(a->egress) : NULL;
    const char *name;
    json_t *c;
    json_object_foreach(json_object_get(status, "systems"), name, c)
    {
        int64_t calls = json_integer_value(json_object_get(c, "attempts"));
        int64_t errors = json_integer_value(json_object_get(c, "failed"));
        int64_t slow = json_integer_value(json_object_get(c, "slow"));
        bool fresh;
        struct prev_sys *p = prev_sys(name, &fresh);
        bool first = !p || fresh || L.prev_ms == 0;
        int64_t dc = first ? 0 : calls - p->calls, de = first ? 0 : errors - p->errors,
                ds = first ? 0 : slow - p->slow;
        if (p) {
            p->calls = calls;
            p->errors = errors;
            p->slow = slow;
        }
        json_array_append_new(
            out, json_pack(
                     "{s:s,s:O,s:O,s:O,s:O,s:O,s:O,s:O,s:I,s:I,s:o,s:I,s:o,s:{s:I,s:I,s:I}}",
                     "system", name, "breaker", json_object_get(c, "breaker"), "in_flight",
                     json_object_get(c, "in_flight"), "waiting", json_object_get(c, "waiting"),
                     "limit", json_object_get(c, "max_concurrent"), "queue",
                     json_object_get(c, "queue"), "max_wait_ms", json_object_get(c, "max_wait_ms"),
                     "call_timeout_ms", json_object_get(c, "call_timeout_ms"), "calls",
                     (json_int_t)calls, "errors", (json_int_t)errors, "error_rate", rate_of(de, dc),
                     "slow", (json_int_t)slow, "slow_rate", rate_of(ds, dc), "delta", "calls",
                     (json_int_t)dc, "errors", (json_int_t)de, "slow", (json_int_t)ds));
    }
    json_decref(status);
    return out;
}

/* One tick as an SSE event (malloc'd), or NULL. */
static char *tick_event(struct app *a, json_t *ovr, size_t *n)
{
    int64_t now = clock_wall_ms();
    json_t *j = json_pack("{s:I,s:I,s:o,s:o}", "ts", (json_int_t)now, "interval_ms",
                          (json_int_t)(L.prev_ms ? now - L.prev_ms : 0), "flow", flow_json(a, ovr),
                          "egress", egress_json(a));
    L.prev_ms = now;
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!data)
        return NULL;
    size_t len = strlen(data) + 32;
    char *ev = malloc(len);
    if (ev)
        *n = (size_t)snprintf(ev, len, "event: tick\ndata: %s\n\n", data);
    free(data);
    return ev;
}

/* ---- the thread ---------------------------------------------------------------- */

struct check {
    int64_t id;
    char token[ADMIN_TOKEN_LEN + 1];
    const char *end; /* NULL: still good; else the reason */
};

/* Each stream's session, on its own connection: ended, expired, disabled, or
 * no longer a province admin. A database that cannot answer now ends nothing. */
static void check_sessions(struct app *a, struct check *cs, int n, json_t **ovr)
{
    struct store_conn *c = NULL;
    if (store_acquire(a->store, &c) != STORE_OK)
        return;
    for (int i = 0; i < n; i++) {
        struct admin_session who;
        int rc = admin_session_check(c, cs[i].token, &who);
        if (rc == ID_INVALID || rc == ID_EXPIRED)
            cs[i].end = rc == ID_EXPIRED ? "expired" : "logged_out";
        else if (rc == ID_OK && who.role != ROLE_PROVINCE_ADMIN)
            cs[i].end = "role_revoked";
    }
    int src;
    *ovr = overrides_read(c, &src);
    store_release(c);
}

static void tick(struct app *a)
{
    struct check cs[HTTP_MAX_STREAMS * 2];
    int n = 0;
    pthread_mutex_lock(&L.mu);
    for (struct live *s = L.head; s && n < (int)(sizeof cs / sizeof cs[0]); s = s->next)
        if (!s->ended) {
            cs[n].id = s->id;
            memcpy(cs[n].token, s->token, sizeof cs[n].token);
            cs[n].end = NULL;
            n++;
        }
    pthread_mutex_unlock(&L.mu);
    json_t *ovr = NULL;
    check_sessions(a, cs, n, &ovr);
    size_t len = 0;
    char *ev = tick_event(a, ovr, &len);
    json_decref(ovr);
    bool beat = ++L.ticks % LIVE_HEARTBEAT_TICKS == 0;
    pthread_mutex_lock(&L.mu);
    for (struct live *s = L.head; s; s = s->next)
        for (int i = 0; i < n; i++) {
            if (cs[i].id != s->id)
                continue;
            if (cs[i].end) {
                char end[96];
                int m = snprintf(end, sizeof end, "event: end\ndata: {\"reason\":\"%s\"}\n\n",
                                 cs[i].end);
                push(s, end, (size_t)m);
                s->ended = true;
            } else {
                if (beat)
                    push(s, ": keep-alive\n\n", 14);
                if (ev)
                    push(s, ev, len);
            }
        }
    pthread_mutex_unlock(&L.mu);
    free(ev);
    for (int i = 0; i < n; i++)
        secmem_wipe(cs[i].token, sizeof cs[i].token);
}

static void *live_main(void *arg)
{
    struct app *a = arg;
    pthread_mutex_lock(&L.mu);
    while (!L.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += LIVE_TICK_MS / 1000;
        ts.tv_nsec += (long)(LIVE_TICK_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = 0;
        while (!L.stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&L.cv, &L.mu, &ts);
        if (L.stop)
            break;
        pthread_mutex_unlock(&L.mu);
        tick(a);
        pthread_mutex_lock(&L.mu);
    }
    pthread_mutex_unlock(&L.mu);
    return NULL;
}

static int start_thread(void)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&L.cv);
    pthread_cond_init(&L.cv, &ca);
    pthread_condattr_destroy(&ca);
    L.nrules = L.nsys = 0;
    L.prev_ms = 0;
    L.ticks = 0;
    return thread_start(&L.th, NULL, live_main, L.app, "zhanye-live");
}

/* ---- the stream's callbacks (server.h STREAMS) ----------------------------------- */

static long live_fill(void *cls, char *buf, size_t cap)
{
    struct live *s = cls;
    long n = 0;
    pthread_mutex_lock(&L.mu);
    if (s->off < s->len) {
        size_t k = s->len - s->off < cap ? s->len - s->off : cap;
        memcpy(buf, s->buf + s->off, k);
        s->off += k;
        n = (long)k;
    } else if (s->ended) {
        n = -1;
    }
    pthread_mutex_unlock(&L.mu);
    return n;
}

static void live_done(void *cls)
{
    struct live *s = cls;
    pthread_mutex_lock(&L.life);
    pthread_mutex_lock(&L.mu);
    if (s->prev)
        s->prev->next = s->next;
    else
        L.head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    bool last = --L.n == 0;
    if (last) {
        L.stop = true;
        pthread_cond_broadcast(&L.cv);
    }
    pthread_mutex_unlock(&L.mu);
    if (last && L.running) {
        pthread_join(L.th, NULL);
        L.running = false;
    }
    pthread_mutex_unlock(&L.life);
    secmem_wipe(s->token, sizeof s->token);
    free(s->buf);
    free(s);
}

void h_admin_live(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (ar.who.role != ROLE_PROVINCE_ADMIN) {
        admin_forbidden(&ar);
        admin_close(&ar);
        return;
    }
    struct live *s = calloc(1, sizeof *s);
    char *buf = s ? malloc(LIVE_BUF) : NULL;
    if (!buf) {
        free(s);
        http_error(resp, ZE_INTERNAL, NULL);
        admin_close(&ar);
        return;
    }
    s->buf = buf;
    memcpy(s->token, ar.token, sizeof s->token);
    static const char OPEN[] = ": keep-alive\nretry: 3000\n\n";
    memcpy(s->buf, OPEN, sizeof OPEN - 1);
    s->len = sizeof OPEN - 1;

    pthread_mutex_lock(&L.life);
    pthread_mutex_lock(&L.mu);
    s->id = ++L.next_id;
    s->next = L.head;
    if (L.head)
        L.head->prev = s;
    L.head = s;
    L.n++;
    L.stop = false;
    L.app = ar.app;
    pthread_mutex_unlock(&L.mu);
    if (!L.running)
        L.running = start_thread() == 0;
    if (!L.running) {
        pthread_mutex_lock(&L.mu);
        s->ended = true; /* the stream closes after its first line */
        pthread_mutex_unlock(&L.mu);
        log_error("admin.live", "cannot start the live thread");
    }
    pthread_mutex_unlock(&L.life);

    resp->status = 200;
    resp->content_type = "text/event-stream; charset=utf-8";
    (void)http_add_header(resp, "X-Accel-Buffering", "no");
    resp->stream = (struct http_stream){.fill = live_fill, .done = live_done, .cls = s};
    admin_close(&ar);
}
