/* dev_card_http — see dev_card_http.h. */
#include "dev_card_http.h"

#include "dev_card.h"

#include "foundation/log.h"
#include "foundation/mask.h"
#include "foundation/secmem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct card_dev {
    char reader[256];
    bool any; /* the first reader */
    struct bridge *br;
    pthread_t poller;
    bool polling;
    atomic_bool stopping;
    atomic_int absent;
};

struct card_dev *card_dev_new(const char *reader)
{
    if (reader && strlen(reader) >= 256)
        return NULL;
    struct card_dev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->any = reader == NULL;
    if (reader)
        memcpy(d->reader, reader, strlen(reader) + 1);
    return d;
}

void card_dev_free(struct card_dev *d)
{
    free(d);
}

static const char *reader_of(const struct card_dev *d)
{
    return d->any ? NULL : d->reader;
}

enum bridge_err card_bridge_err(int code)
{
    switch (code) {
    case CARD_OK:
        return BRIDGE_OK;
    case CARD_ERR_ABSENT:
        return BRIDGE_ABSENT;
    case CARD_ERR_NO_CARD:
        return BRIDGE_NO_CARD;
    case CARD_ERR_TIMEOUT:
        return BRIDGE_TIMEOUT;
    case CARD_ERR_BAD_CARD:
        return BRIDGE_BAD_CARD;
    case CARD_ERR_REMOVED:
        return BRIDGE_REMOVED;
    case CARD_ERR_UNSUPPORTED:
        return BRIDGE_UNSUPPORTED;
    default:
        return BRIDGE_DEVICE;
    }
}

static enum bridge_err answer(const struct card_info *ci, json_t **out)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "pan", ci->pan, "expiry", ci->expiry, "source",
                          ci->source == CARD_SRC_MSR ? "msr" : "ic");
    if (!o)
        return BRIDGE_INTERNAL;
    const struct {
        const char *key, *val;
    } opt[] = {
        {.key = "seq", .val = ci->seq},
        {.key = "name", .val = ci->name},
        {.key = "aid", .val = ci->aid},
        {.key = "label", .val = ci->label},
    };
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if (opt[i].val[0] && json_object_set_new(o, opt[i].key, json_string(opt[i].val)) != 0) {
            json_decref(o);
            return BRIDGE_INTERNAL;
        }
    *out = o;
    return BRIDGE_OK;
}

static void log_read(const char *what, const struct card_info *ci)
{
    char masked[32];
    if (mask_card(ci->pan, masked, sizeof masked) < 0)
        snprintf(masked, sizeof masked, "****");
    log_info("card.read", "%s card %s", what, masked);
}

/* ---- GET /v1/bankcard ---- */

static enum bridge_err handle_read(void *ctx, const struct bridge_call *c, json_t **out)
{
    struct card_dev *d = ctx;
    long left = c->deadline_ms - bridge_now_ms();
    if (left <= 0)
        return BRIDGE_TIMEOUT;
    long wait = left;
    const char *arg = bridge_call_arg(c, "timeout_ms");
    if (arg) {
        char *end;
        long v = strtol(arg, &end, 10);
        if (!*arg || *end || v < 0 || v > 600000)
            return BRIDGE_BAD_REQUEST;
        if (v < wait)
            wait = v;
    }
    struct card_info ci;
    char err[128];
    int rc = card_read(reader_of(d), (int)wait, &ci, err, sizeof err);
    atomic_store(&d->absent, rc == CARD_ERR_ABSENT);
    enum bridge_err e = card_bridge_err(rc);
    if (rc == CARD_OK) {
        log_read("chip", &ci);
        e = answer(&ci, out);
    } else if (rc != CARD_ERR_NO_CARD)
        log_warn("card.error", "read: %s", card_err_name(rc));
    secmem_wipe(&ci, sizeof ci);
    return e;
}

/* ---- POST /v1/bankcard/track2 ---- */

static enum bridge_err handle_track2(void *ctx, const struct bridge_call *c, json_t **out)
{
    (void)ctx;
    const char *t2 = json_string_value(json_object_get(c->body, "track2"));
    if (!t2 || strlen(t2) > 64)
        return BRIDGE_BAD_REQUEST;
    struct card_info ci;
    memset(&ci, 0, sizeof ci);
    int rc = card_from_track2(t2, &ci);
    enum bridge_err e = card_bridge_err(rc);
    if (rc == CARD_OK) {
        log_read("stripe", &ci);
        e = answer(&ci, out);
    } else
        log_warn("card.error", "track2: %s", card_err_name(rc));
    secmem_wipe(&ci, sizeof ci);
    return e;
}

/* ---- the poller ---- */

static void *poll_main(void *arg)
{
    struct card_dev *d = arg;
    enum card_presence st = CARD_STATE_UNKNOWN;
    bool known = false;
    while (!atomic_load(&d->stopping)) {
        enum card_presence was = st;
        int rc = card_wait(reader_of(d), known ? CARD_HTTP_POLL_MS : 0, &st, NULL, 0);
        if (rc == CARD_OK) {
            atomic_store(&d->absent, 0);
            if (known && st != was)
                bridge_post_event(d->br,
                                  st == CARD_STATE_PRESENT ? "card.inserted" : "card.removed",
                                  json_pack("{s:b}", "present", st == CARD_STATE_PRESENT));
            known = true;
        } else if (rc == CARD_ERR_TIMEOUT) {
            continue;
        } else {
            /* no reader / pcscd: look again later; a card found then is news */
            if (!atomic_exchange(&d->absent, 1))
                log_warn("card.absent", "reader: %s", card_err_name(rc));
            if (known && st == CARD_STATE_PRESENT)
                bridge_post_event(d->br, "card.removed", json_pack("{s:b}", "present", 0));
            st = known ? CARD_STATE_EMPTY : CARD_STATE_UNKNOWN;
            for (int i = 0; i < 10 && !atomic_load(&d->stopping); i++) {
                struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000000L};
                nanosleep(&ts, NULL);
            }
        }
    }
    return NULL;
}

static int dev_open(void *ctx, struct bridge *br)
{
    struct card_dev *d = ctx;
    d->br = br;
    if (pthread_create(&d->poller, NULL, poll_main, d) != 0)
        return -1;
    d->polling = true;
    return 0;
}

static void dev_close(void *ctx)
{
    struct card_dev *d = ctx;
    atomic_store(&d->stopping, true);
    if (d->polling) {
        pthread_join(d->poller, NULL);
        d->polling = false;
    }
}

static const char *dev_state(void *ctx)
{
    struct card_dev *d = ctx;
    return atomic_load(&d->absent) ? "absent" : "ready";
}

static const struct bridge_route CARD_ROUTES[] = {
    {.method = "GET", .path = "/v1/bankcard", .handle = handle_read},
    {.method = "POST", .path = "/v1/bankcard/track2", .handle = handle_track2},
};

const struct bridge_device CARD_DEVICE = {
    .name = "card",
    .open = dev_open,
    .close = dev_close,
    .state = dev_state,
    .routes = CARD_ROUTES,
    .n_routes = sizeof CARD_ROUTES / sizeof CARD_ROUTES[0],
};
