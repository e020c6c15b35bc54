/* bridge — the zhanye-bridge daemon: the peripherals of the back-clip
 * terminal, served to the web app on 127.0.0.1 as JSON over HTTP, plus an
 * SSE stream of device events (docs/peripherals.md).
 *
 * Every request needs "Authorization: Bearer TOKEN" (the pairing token,
 * compared in constant time) -> else 401 unauthorized; a request with an
 * Origin header needs an allowed origin (exact match) -> else 403
 * forbidden_origin. CORS preflights (OPTIONS) need no token: an allowed
 * origin gets 204 with the CORS headers, any other 403.
 *   GET /v1/health   {"status":"ok","version","devices":[{"name","state"}]}
 *   GET /v1/events   text/event-stream: first "event: hello", then every
 *                    event posted (device.h), ": ping" every 15 s
 *   each device's routes (device.h)
 * Device modules: device.h. Threads: one per connection (libmicrohttpd). */
#ifndef ZHANYE_BRIDGE_H
#define ZHANYE_BRIDGE_H

#include "device.h"

#include <stddef.h>

#define BRIDGE_MAX_DEVICES 8
#define BRIDGE_MAX_ORIGINS 8

struct bridge_config {
    int port;                   /* on 127.0.0.1; 0 picks a free one */
    const char *token;          /* the pairing token (copied, wiped at free) */
    const char *const *origins; /* allowed Origin values, exact ("http://127.0.0.1:8080") */
    size_t n_origins;           /* at most BRIDGE_MAX_ORIGINS */
    int op_timeout_ms;          /* deadline of every device call (> 0) */
};

/* A bridge not yet serving, or NULL (bad config, memory). */
struct bridge *bridge_new(const struct bridge_config *cfg);
/* Adds a device before bridge_start. 0, or -1 (full, started, or a route
 * path already taken). */
int bridge_add(struct bridge *br, const struct bridge_device *dev, void *ctx);
/* Opens every device, binds 127.0.0.1:port and serves. 0, or -1 (a device
 * failed to open, or the port cannot be bound; logged). */
int bridge_start(struct bridge *br);
/* The port served (after bridge_start). */
int bridge_port(const struct bridge *br);
/* Stops serving (SSE streams end), then closes every device. Safe twice. */
void bridge_stop(struct bridge *br);
/* Stops if needed and frees; NULL is fine. */
void bridge_free(struct bridge *br);

/* Parses --listen: exactly "127.0.0.1:PORT" (PORT 0..65535). 0 with *port
 * set, or -1 for anything else (another address, a name, IPv6, no port). */
int bridge_parse_listen(const char *s, int *port);

/* The pairing token from path: read (first line, trimmed) when the file
 * exists, else created (O_EXCL, mode 0600) with 32 random bytes in hex.
 * Refuses (-1, reason in err) a file readable or writable by group/others,
 * an empty token or one under 16 characters, a read error. *created tells
 * which. out holds at least 65 bytes. */
int bridge_token_load(const char *path, char *out, size_t cap, int *created, char *err,
                      size_t errcap);

#endif
