/* device — how a device module plugs into zhanye-bridge.
 *
 * A module (dev_idcard.c, later dev_card.c, dev_pin.c, dev_sig.c,
 * dev_finger.c) describes itself with one const struct bridge_device
 * (designated initializers), and bridge_main.c hands it to bridge_add()
 * with the module's own context. The daemon then:
 *   - calls open() once at start (a module that cannot reach its device
 *     still opens: it reports state "absent" and retries on each request);
 *   - serves each route of the table: for a request matching METHOD PATH it
 *     takes the device's request slot (a second request while one runs gets
 *     409 busy without reaching the module), then calls handle() with the
 *     call's deadline; handle answers BRIDGE_OK with *out a JSON object (the
 *     200 body; ownership passes to the bridge) or an error code, which the
 *     bridge turns into {"error","message"} and its HTTP status;
 *   - lists the device in GET /v1/health with state() ("ready", "absent",
 *     or a module's own word), "busy" while a request holds the slot;
 *   - calls close() once at shutdown, after the last request returned.
 * Events: a module posts SSE events with bridge_post_event() from any
 * thread (its own poller, or a handler), named "<device>.<what>"
 * ("idcard.present", "card.inserted", "signature.stroke").
 * Threads: handle() runs on the request's thread, one at a time per device
 * (the slot), but concurrently with the module's own threads: a module with
 * a poller guards its I/O with its own mutex and must give up waiting for
 * it at the deadline (BRIDGE_TIMEOUT). */
#ifndef ZHANYE_BRIDGE_DEVICE_H
#define ZHANYE_BRIDGE_DEVICE_H

#include <jansson.h>
#include <stddef.h>

struct bridge;

/* The device states of the API: {"error": code, "message": Chinese} with
 * the HTTP status of bridge_err_http(). */
enum bridge_err {
    BRIDGE_OK = 0,
    BRIDGE_ABSENT,      /* 503 absent: the device is not connected / port missing */
    BRIDGE_BUSY,        /* 409 busy: another request is using the device */
    BRIDGE_TIMEOUT,     /* 504 timeout: no (complete) answer within the deadline */
    BRIDGE_BAD_FRAME,   /* 502 bad_frame: a malformed frame from the device */
    BRIDGE_NO_CARD,     /* 404 no_card: no card on / in the reader */
    BRIDGE_READ_FAILED, /* 502 read_failed: the device reports the card could not be read */
    BRIDGE_BAD_DATA,    /* 502 bad_data: the card's data failed its checks */
    BRIDGE_DEVICE,      /* 502 device_error: the device reports an internal fault */
    BRIDGE_BAD_REQUEST, /* 400 bad_request: the request's parameters are wrong */
    BRIDGE_INTERNAL,    /* 500 internal: the bridge itself failed (memory, ...) */
    /* the pads (dev_pads_http.h) */
    BRIDGE_CANCELLED,    /* 409 cancelled: the customer pressed cancel on the pad */
    BRIDGE_NO_INPUT,     /* 408 no_input: the customer did nothing within the time given */
    BRIDGE_PIN_SHORT,    /* 422 pin_too_short: the PIN is shorter than the minimum */
    BRIDGE_NO_KEY,       /* 503 no_key: the PIN pad has no PIN key loaded */
    BRIDGE_KEY_CHECK,    /* 422 key_check: the PIN key's check value does not match */
    BRIDGE_NO_FINGER,    /* 408 no_finger: no finger on the sensor */
    BRIDGE_POOR_QUALITY, /* 422 poor_quality: the fingerprint image is too poor */
    /* the bank card reader (dev_card_http.h) */
    BRIDGE_BAD_CARD,    /* 422 bad_card: the card's data is malformed or its PAN fails Luhn */
    BRIDGE_REMOVED,     /* 409 removed: the card was pulled out during the read */
    BRIDGE_UNSUPPORTED, /* 422 unsupported: no known payment application on the card */
};

/* "absent", "busy", ... (static; "ok" for BRIDGE_OK). */
const char *bridge_err_code(enum bridge_err e);
/* The Chinese message for the user (static). */
const char *bridge_err_message(enum bridge_err e);
/* The HTTP status (200 for BRIDGE_OK). */
int bridge_err_http(enum bridge_err e);

/* One request as a module sees it. */
struct bridge_call {
    const char *method;
    const char *path;
    json_t *body;     /* the parsed JSON body of a POST/PUT, or NULL (borrowed) */
    long deadline_ms; /* CLOCK_MONOTONIC ms (bridge_now_ms) by which to answer */
    void *conn;       /* for bridge_call_arg */
};

/* A query argument of the call, or NULL. */
const char *bridge_call_arg(const struct bridge_call *c, const char *key);
/* CLOCK_MONOTONIC in milliseconds. */
long bridge_now_ms(void);

struct bridge_route {
    const char *method; /* "GET", "POST" */
    const char *path;   /* exact, e.g. "/v1/idcard" */
    enum bridge_err (*handle)(void *ctx, const struct bridge_call *c, json_t **out);
};

struct bridge_device {
    const char *name;                          /* "idcard": health, logs, event prefix */
    int (*open)(void *ctx, struct bridge *br); /* 0, or -1: the bridge does not start */
    void (*close)(void *ctx);
    const char *(*state)(void *ctx); /* a static word: "ready", "absent", ... */
    const struct bridge_route *routes;
    size_t n_routes;
};

/* Posts an event to every SSE client: type "idcard.present", data a JSON
 * object (stolen; NULL means {}). Never blocks on clients: events go into a
 * ring of the last 64; a client too slow to keep up misses the oldest. */
void bridge_post_event(struct bridge *br, const char *type, json_t *data);

#endif
