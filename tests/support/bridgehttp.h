/* bridgehttp — the integration tests' client of zhanye-bridge's HTTP API and
 * of its event stream (GET /v1/events, text/event-stream), shared by the
 * it_bridge_* tests instead of a copy in each.
 *
 * bh_http answers whatever the peer said: a transport failure is status 0
 * and no body; a body that is not JSON is no body. The bh_expect_* helpers
 * assert with cmocka (a failed one ends the test), after printing what came.
 * Not thread-safe per stream: one thread opens, polls and closes a
 * bh_sse; its own thread only appends. */
#ifndef ZHANYE_TESTS_BRIDGEHTTP_H
#define ZHANYE_TESTS_BRIDGEHTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct bh_resp {
    long status;    /* 0: no answer */
    json_t *body;   /* owned by the caller; NULL when none or not JSON */
    char acao[128]; /* its Access-Control-Allow-Origin, "" when absent */
};

/* One request. auth (the Authorization header's value), origin and body
 * may be NULL. A 30 s timeout. */
struct bh_resp bh_http(const char *method, const char *url, const char *auth, const char *origin,
                       const char *body);
/* bh_http of base + path. */
struct bh_resp bh_http_at(const char *base, const char *method, const char *path, const char *auth,
                          const char *body);

/* The bridge's error answer: the status, {"error": code} and a message in
 * Chinese. Frees the body. */
void bh_expect_error(struct bh_resp r, long status, const char *code);
/* A 200 with a JSON body, which is returned (the caller's). */
json_t *bh_expect_ok(struct bh_resp r);
/* o's string member k, "(none)" when absent (for assertions and messages). */
const char *bh_str(json_t *o, const char *k);

/* The event stream of the bridge at base, read by a thread of its own into
 * memory. NULL when the thread cannot start. */
struct bh_sse *bh_sse_open(const char *base, const char *auth);
/* Whether needle has come within wait_ms (polled every 50 ms). */
bool bh_sse_has(struct bh_sse *s, const char *needle, long wait_ms);
/* A copy of what has come so far (the caller frees it); never NULL unless
 * out of memory. */
char *bh_sse_text(struct bh_sse *s);
/* Ends the stream, joins its thread, frees. NULL is a no-op. */
void bh_sse_close(struct bh_sse *s);

#endif
