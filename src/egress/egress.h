/* egress — the gateway between the platform's services and the bank's
 * other systems (core banking, ID check, face, cards, social security,
 * loans).
 *
 * One connector per [egress.SYSTEM] section of zhanye.conf: its addresses
 * (the scheme is the protocol: tcp:// length-prefixed fixed-length records,
 * http(s):// JSON, ftp:// files), timeouts, a bulkhead (max_concurrent + bounded FIFO
 * wait), a circuit breaker (breaker.h) and a retry budget (retry.h). A
 * business step is routed (conf/routes.conf) to one system and one mapping
 * (conf/mappings/NAME.json) that converts the platform's JSON to the
 * system's message and back.
 *
 * egress_call() is thread-safe and blocks the calling thread until the
 * reply, an error, or the step's deadline (now + call_timeout_ms, covering
 * queueing, every attempt and the pauses between them; nothing outlives it
 * by more than a few ms). HTTP calls are multiplexed by one I/O thread on a
 * curl multi handle; TCP calls run on the caller's thread with poll()
 * deadlines. Per system, /metrics gets breaker state and transitions,
 * in-flight and waiting calls, a latency histogram and errors by kind;
 * egress_status() gives the same as JSON for the management API.
 * docs/egress.md has the configuration, file formats and exact semantics. */
#ifndef ZHANYE_EGRESS_H
#define ZHANYE_EGRESS_H

#include "foundation/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum egress_kind {
    EGRESS_OK = 0,
    EGRESS_E_ROUTE,    /* unknown step, or its system is not configured */
    EGRESS_E_MAPPING,  /* the input does not fit the request mapping (names the field) */
    EGRESS_E_OPEN,     /* refused at once: the system's circuit breaker is open */
    EGRESS_E_BUSY,     /* refused: max_concurrent reached and the wait queue full or too slow */
    EGRESS_E_TIMEOUT,  /* no complete reply before the deadline */
    EGRESS_E_CONNECT,  /* no connection (refused, unreachable) */
    EGRESS_E_IO,       /* the connection broke during the call */
    EGRESS_E_PROTOCOL, /* a malformed reply: framing, layout, encoding, JSON */
    EGRESS_E_REMOTE,   /* the system reported its own failure (fault code, HTTP 5xx) */
    EGRESS_E_REJECTED, /* the system refused the request as invalid (HTTP 4xx) */
    EGRESS_E_BUSINESS, /* a business refusal: code and message in the error, reply in *out */
    EGRESS_E_INTERNAL, /* out of memory or similar */
};
#define EGRESS_NKINDS (EGRESS_E_INTERNAL + 1)

struct egress_error {
    enum egress_kind kind;
    char step[64];
    char system[40];
    char field[48];    /* EGRESS_E_MAPPING / EGRESS_E_PROTOCOL: the field at fault, if any */
    char code[32];     /* EGRESS_E_BUSINESS / EGRESS_E_REMOTE: the system's status code */
    char message[384]; /* one line for logs and operators; never a customer's data */
    int attempts;      /* calls that went out (0 when refused before sending) */
};

struct egress;

/* Builds every connector from cfg's [egress.*] sections and loads
 * conf_dir/mappings/ *.json and conf_dir/routes.conf (conf_dir NULL: no
 * routes). Starts the HTTP I/O thread and registers the metrics. Steps
 * routed to a system without an [egress.*] section fail with
 * EGRESS_E_ROUTE at call time. 0, or -1 with a one-line err. */
int egress_open(const struct config *cfg, const char *conf_dir, struct egress **out, char *err,
                size_t errcap);
/* No call may be in progress. NULL is ignored. */
void egress_close(struct egress *eg);

/* Runs one business step: in (a JSON object, not modified; may be NULL) is
 * converted, sent, and the reply converted into *out (a new reference).
 * Returns EGRESS_OK, or the error kind (also in err->kind when err is not
 * NULL). *out is set for EGRESS_OK and EGRESS_E_BUSINESS, NULL otherwise. */
enum egress_kind egress_call(struct egress *eg, const char *step, json_t *in, json_t **out,
                             struct egress_error *err);

/* File transfer (an ftp:// system; the step is routed in routes.conf with
 * no mapping). Same breaker, bulkhead, deadline (call_timeout_ms) and
 * retry budget as egress_call; files are always retried within `retries`
 * (an upload of the same name overwrites). name must be 1..128 bytes with
 * no '/', '\\', "..", leading '.' or control character, else
 * EGRESS_E_MAPPING with err->field "name" (nothing is sent). A step that
 * is not a file step (or a file step to egress_call) is EGRESS_E_ROUTE.
 *
 * egress_put_file uploads n bytes as name (overwriting), then reads the
 * delivery receipt name.receipt the system writes ({"name","size","sm3",
 * "receipt_no","received_at"}, receipt.h) and checks its name, size and
 * SM3 against what was sent: no receipt, a malformed one or a mismatch is
 * EGRESS_E_PROTOCOL with err->field the member at fault ("receipt",
 * "size", "sm3", ...). On EGRESS_OK *receipt (when receipt is not NULL)
 * gets the receipt (a new reference); otherwise it is set to NULL. */
enum egress_kind egress_put_file(struct egress *eg, const char *step, const char *name,
                                 const uint8_t *data, size_t n, json_t **receipt,
                                 struct egress_error *err);
/* egress_get_file downloads name into *data (malloc'd, *n bytes, with a NUL
 * after them; at most 64 MiB); on any error *data is NULL and *n 0. A file
 * the system does not have is EGRESS_E_REJECTED (FTP 550). */
enum egress_kind egress_get_file(struct egress *eg, const char *step, const char *name,
                                 uint8_t **data, size_t *n, struct egress_error *err);

/* For /readyz: false when a system marked required = true has its breaker
 * open (it failed its recent calls and is not being probed yet). */
bool egress_ready(struct egress *eg);
/* Per system: protocol, addresses, breaker state and transitions, in
 * flight, waiting, calls, errors by kind, latency buckets. New reference. */
json_t *egress_status(struct egress *eg);

/* The limits that change under traffic (the console; docs/egress.md):
 * a field < 0 (max_concurrent, call_timeout_ms: <= 0) keeps its value.
 * The bulkhead takes new limits as bulkhead_set_limits() says; max_wait_ms
 * and call_timeout_ms apply to calls that start afterwards. Everything
 * else (addresses, breaker, retries) needs a restart. Values must have
 * been validated as zhanye.conf's (config_named_set). 0, or -1 with err
 * (no such system, bad bulkhead values) and nothing changed. */
struct egress_limits {
    int max_concurrent, queue, max_wait_ms, call_timeout_ms;
};
int egress_set_limits(struct egress *eg, const char *system, const struct egress_limits *l,
                      char *err, size_t errcap);

const char *egress_kind_name(enum egress_kind k);

#endif
