/* conn_http — HTTP/JSON calls multiplexed on one curl multi handle.
 *
 * One I/O thread drives every HTTP transfer of the process (no thread per
 * call): a caller hands over its request and sleeps on a condition
 * variable until the I/O thread completes it. The I/O thread also enforces
 * each call's deadline itself (removing the transfer when it passes), so a
 * call returns within about a millisecond of its deadline whatever curl is
 * doing. Connections are kept alive and reused through the multi handle's
 * cache; the bulkhead in front bounds how many a system sees. Thread-safe. */
#ifndef ZHANYE_EGRESS_CONN_HTTP_H
#define ZHANYE_EGRESS_CONN_HTTP_H

#include "egress/egress.h"

#include <stddef.h>
#include <stdint.h>

#define HTTP_REPLY_MAX (4u << 20)

struct http_io;

int http_io_start(struct http_io **out);
/* Fails every call still in progress with EGRESS_E_INTERNAL and stops the thread. */
void http_io_stop(struct http_io *io);

/* Sends body (JSON) with method to url; *resp gets the reply body (malloc'd,
 * NUL-terminated) and *status the HTTP status. EGRESS_OK means a complete
 * HTTP response arrived, whatever its status; otherwise an error kind with
 * msg filled. */
enum egress_kind http_io_call(struct http_io *io, const char *url, const char *method,
                              const char *body, size_t len, int connect_timeout_ms,
                              uint64_t deadline_ns, char **resp, size_t *resp_len, long *status,
                              char *msg, size_t msgcap);

#endif
