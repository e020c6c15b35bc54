/* dev_pads_http — see dev_pads_http.h. */
#include "dev_pads_http.h"

#include "dev_finger.h"
#include "dev_sig.h"

#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/secmem.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct pad_dev {
    char port[256];
    enum dev_pin_format pin_format;
    struct pad_link l;
    bool linked;       /* l is open */
    atomic_int absent; /* the last open failed / the link went away */
    struct bridge *br;
    const char *name;
};

struct pad_dev *pad_dev_new(const char *port, enum dev_pin_format pin_format)
{
    if (!port || !*port || strlen(port) >= 256 ||
        (pin_format != DEV_PIN_ISO0 && pin_format != DEV_PIN_SM4_16))
        return NULL;
    struct pad_dev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    memcpy(d->port, port, strlen(port) + 1);
    d->pin_format = pin_format;
    d->l.fd = -1;
    return d;
}

void pad_dev_free(struct pad_dev *d)
{
    if (!d)
        return;
    if (d->linked)
        pad_link_close(&d->l);
    secmem_wipe(&d->l, sizeof d->l);
    free(d);
}

enum bridge_err pad_bridge_err(pad_status s)
{
    switch (s) {
    case PAD_OK:
        return BRIDGE_OK;
    case PAD_EABSENT:
        return BRIDGE_ABSENT;
    case PAD_ETIMEOUT:
        return BRIDGE_TIMEOUT;
    case PAD_EFRAME:
        return BRIDGE_BAD_FRAME;
    case PAD_ECANCELLED:
        return BRIDGE_CANCELLED;
    case PAD_ENOINPUT:
        return BRIDGE_NO_INPUT;
    case PAD_ESHORT:
        return BRIDGE_PIN_SHORT;
    case PAD_ENOFINGER:
        return BRIDGE_NO_FINGER;
    case PAD_EQUALITY:
        return BRIDGE_POOR_QUALITY;
    case PAD_ENOKEY:
        return BRIDGE_NO_KEY;
    case PAD_EKEYCHECK:
        return BRIDGE_KEY_CHECK;
    case PAD_EPARAM:
        return BRIDGE_BAD_REQUEST;
    case PAD_ENOMEM:
    default:
        return BRIDGE_INTERNAL;
    }
}

/* ---- the link (only ever touched by the request holding the slot, or
 * by open/close) ---- */

static pad_status ensure_link(struct pad_dev *d)
{
    if (d->linked)
        return PAD_OK;
    pad_status s = pad_link_open(&d->l, d->port);
    if (s != PAD_OK) {
        if (!atomic_exchange(&d->absent, 1))
            log_warn("pads.absent", "%s port %s cannot be opened", d->name, d->port);
        return s;
    }
    d->linked = true;
    if (atomic_exchange(&d->absent, 0))
        log_info("pads.connected", "%s port %s open", d->name, d->port);
    return PAD_OK;
}

/* After an operation: a link that went away is closed and reopened later. */
static enum bridge_err finish(struct pad_dev *d, pad_status s)
{
    if (s == PAD_EABSENT && d->linked) {
        pad_link_close(&d->l);
        d->linked = false;
        atomic_store(&d->absent, 1);
        log_warn("pads.absent", "%s port %s went away", d->name, d->port);
    }
    return pad_bridge_err(s);
}

/* An optional integer member in lo..hi, else def; -1 when present but not
 * an integer in range. */
static int opt_int(const json_t *body, const char *key, int def, int lo, int hi, int *out)
{
    json_t *v = json_object_get(body, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

static int dev_open_common(void *ctx, struct bridge *br, const char *name)
{
    struct pad_dev *d = ctx;
    d->br = br;
    d->name = name;
    ensure_link(d); /* absent is a state, not a failure */
    return 0;
}

static void dev_close(void *ctx)
{
    struct pad_dev *d = ctx;
    if (d->linked)
        pad_link_close(&d->l);
    d->linked = false;
}

static const char *dev_state(void *ctx)
{
    struct pad_dev *d = ctx;
    return atomic_load(&d->absent) ? "absent" : "ready";
}

/* ---- PIN pad ---- */

static int pin_open(void *ctx, struct bridge *br)
{
    return dev_open_common(ctx, br, "pin");
}

static enum bridge_err handle_pin(void *ctx, const struct bridge_call *c, json_t **out)
{
    struct pad_dev *d = ctx;
    const char *pan = json_string_value(json_object_get(c->body, "pan"));
    struct dev_pin_request rq = {.pan = pan, .format = d->pin_format};
    if (!pan || opt_int(c->body, "min", 4, 4, 12, &rq.min_len) != 0 ||
        opt_int(c->body, "max", 12, 4, 12, &rq.max_len) != 0 || rq.max_len < rq.min_len ||
        opt_int(c->body, "timeout_s", 30, 1, 120, &rq.timeout_s) != 0)
        return BRIDGE_BAD_REQUEST;
    pad_status s = ensure_link(d);
    char blk[DEV_PIN_BLOCK_HEX] = "";
    if (s == PAD_OK)
        s = dev_pin_block(&d->l, &rq, blk);
    enum bridge_err e = finish(d, s);
    if (e == BRIDGE_OK) {
        *out = json_pack("{s:s,s:s}", "pin_block", blk, "format",
                         d->pin_format == DEV_PIN_SM4_16 ? "sm4" : "iso0");
        if (!*out)
            e = BRIDGE_INTERNAL;
    }
    secmem_wipe(blk, sizeof blk);
    return e;
}

static enum bridge_err handle_pin_key(void *ctx, const struct bridge_call *c, json_t **out)
{
    struct pad_dev *d = ctx;
    const char *key = json_string_value(json_object_get(c->body, "key"));
    const char *kcv = json_string_value(json_object_get(c->body, "kcv"));
    uint8_t k[DEV_PIN_KEY_LEN], v[DEV_PIN_KCV_LEN];
    if (!key || !kcv || strlen(key) != 2 * DEV_PIN_KEY_LEN || strlen(kcv) != 2 * DEV_PIN_KCV_LEN ||
        hex_decode(key, strlen(key), k, sizeof k) != DEV_PIN_KEY_LEN ||
        hex_decode(kcv, strlen(kcv), v, sizeof v) != DEV_PIN_KCV_LEN) {
        secmem_wipe(k, sizeof k);
        return BRIDGE_BAD_REQUEST;
    }
    pad_status s = ensure_link(d);
    if (s == PAD_OK) {
        long left = c->deadline_ms - bridge_now_ms();
        s = dev_pin_load_key(&d->l, k, v, left > 0 ? (int)left : 1);
    }
    secmem_wipe(k, sizeof k);
    enum bridge_err e = finish(d, s);
    if (e == BRIDGE_OK) {
        log_info("pads.pin_key", "PIN key loaded");
        *out = json_pack("{s:b}", "loaded", 1);
        if (!*out)
            e = BRIDGE_INTERNAL;
    }
    return e;
}

static const struct bridge_route PIN_ROUTES[] = {
    {.method = "POST", .path = "/v1/pin", .handle = handle_pin},
    {.method = "POST", .path = "/v1/pin/key", .handle = handle_pin_key},
};

const struct bridge_device PIN_DEVICE = {
    .name = "pin",
    .open = pin_open,
    .close = dev_close,
    .state = dev_state,
    .routes = PIN_ROUTES,
    .n_routes = sizeof PIN_ROUTES / sizeof PIN_ROUTES[0],
};

/* ---- signature pad ---- */

static int sig_open(void *ctx, struct bridge *br)
{
    return dev_open_common(ctx, br, "signature");
}

struct sig_stream {
    struct bridge *br;
    json_t *batch; /* points not yet posted, or NULL */
};

static void sig_flush(struct sig_stream *st)
{
    if (!st->batch)
        return;
    bridge_post_event(st->br, "signature.stroke", json_pack("{s:o}", "points", st->batch));
    st->batch = NULL;
}

static void sig_on_point(void *arg, enum dev_sig_event ev, const struct dev_sig_point *p)
{
    struct sig_stream *st = arg;
    if (ev == DEV_SIG_CLEAR) {
        sig_flush(st);
        bridge_post_event(st->br, "signature.clear", NULL);
        return;
    }
    if (!st->batch && !(st->batch = json_array()))
        return;
    json_array_append_new(
        st->batch, json_pack("[iiiiI]", p->stroke, p->x, p->y, p->pressure, (json_int_t)p->t_ms));
    if (json_array_size(st->batch) >= PADS_HTTP_SIG_BATCH)
        sig_flush(st);
}

static enum bridge_err handle_sig(void *ctx, const struct bridge_call *c, json_t **out)
{
    struct pad_dev *d = ctx;
    int w, h, t;
    if (!json_is_integer(json_object_get(c->body, "width")) ||
        !json_is_integer(json_object_get(c->body, "height")) ||
        opt_int(c->body, "width", 0, 1, 4096, &w) != 0 ||
        opt_int(c->body, "height", 0, 1, 4096, &h) != 0 ||
        opt_int(c->body, "timeout_s", 60, 1, 120, &t) != 0)
        return BRIDGE_BAD_REQUEST;
    pad_status s = ensure_link(d);
    struct dev_sig_result r = {0};
    struct sig_stream st = {.br = d->br};
    if (s == PAD_OK)
        s = dev_sig_capture(&d->l, w, h, t, sig_on_point, &st, &r);
    sig_flush(&st);
    enum bridge_err e = finish(d, s);
    if (e != BRIDGE_OK)
        return e;
    size_t cap = b64_encoded_len(r.png_len) + 1;
    char *png = malloc(cap);
    json_t *strokes = json_loads(r.json, 0, NULL);
    if (png && strokes && b64_encode(r.png, r.png_len, png, cap) >= 0)
        *out = json_pack("{s:s,s:O}", "png", png, "strokes", strokes);
    e = *out ? BRIDGE_OK : BRIDGE_INTERNAL;
    json_decref(strokes);
    free(png);
    dev_sig_result_free(&r);
    return e;
}

static const struct bridge_route SIG_ROUTES[] = {
    {.method = "POST", .path = "/v1/signature", .handle = handle_sig},
};

const struct bridge_device SIG_DEVICE = {
    .name = "signature",
    .open = sig_open,
    .close = dev_close,
    .state = dev_state,
    .routes = SIG_ROUTES,
    .n_routes = sizeof SIG_ROUTES / sizeof SIG_ROUTES[0],
};

/* ---- fingerprint reader ---- */

static int finger_open(void *ctx, struct bridge *br)
{
    return dev_open_common(ctx, br, "finger");
}

static enum bridge_err handle_capture(void *ctx, const struct bridge_call *c, json_t **out)
{
    struct pad_dev *d = ctx;
    int t;
    if (opt_int(c->body, "timeout_s", 10, 1, 120, &t) != 0)
        return BRIDGE_BAD_REQUEST;
    uint8_t tpl[DEV_FINGER_TEMPLATE_MAX];
    size_t n = 0;
    pad_status s = ensure_link(d);
    if (s == PAD_OK)
        s = dev_finger_capture(&d->l, t, tpl, sizeof tpl, &n);
    enum bridge_err e = finish(d, s);
    if (e == BRIDGE_OK) {
        char b64[((DEV_FINGER_TEMPLATE_MAX + 2) / 3) * 4 + 1];
        b64_encode(tpl, n, b64, sizeof b64);
        *out = json_pack("{s:s}", "template", b64);
        secmem_wipe(b64, sizeof b64);
        if (!*out)
            e = BRIDGE_INTERNAL;
    }
    secmem_wipe(tpl, sizeof tpl);
    return e;
}

static enum bridge_err handle_match(void *ctx, const struct bridge_call *c, json_t **out)
{
    struct pad_dev *d = ctx;
    const char *b64 = json_string_value(json_object_get(c->body, "template"));
    int t;
    uint8_t tpl[DEV_FINGER_TEMPLATE_MAX];
    long n = b64 ? b64_decode(b64, strlen(b64), tpl, sizeof tpl) : -1;
    if (n <= 0 || opt_int(c->body, "timeout_s", 10, 1, 120, &t) != 0)
        return BRIDGE_BAD_REQUEST;
    int score = 0;
    pad_status s = ensure_link(d);
    if (s == PAD_OK)
        s = dev_finger_match(&d->l, t, tpl, (size_t)n, &score);
    secmem_wipe(tpl, sizeof tpl);
    enum bridge_err e = finish(d, s);
    if (e == BRIDGE_OK) {
        *out = json_pack("{s:i,s:b}", "score", score, "match", score >= DEV_FINGER_MATCH_THRESHOLD);
        if (!*out)
            e = BRIDGE_INTERNAL;
    }
    return e;
}

static const struct bridge_route FINGER_ROUTES[] = {
    {.method = "POST", .path = "/v1/finger/capture", .handle = handle_capture},
    {.method = "POST", .path = "/v1/finger/match", .handle = handle_match},
};

const struct bridge_device FINGER_DEVICE = {
    .name = "finger",
    .open = finger_open,
    .close = dev_close,
    .state = dev_state,
    .routes = FINGER_ROUTES,
    .n_routes = sizeof FINGER_ROUTES / sizeof FINGER_ROUTES[0],
};
