/* conn_tcp — one request/reply over a short TCP connection, the framing
 * of core banking.
 *
 * Frame: 6 ASCII decimal digits giving the length in bytes of the body
 * that follows (zero-padded, "000129"), then the body; at most 999999
 * bytes. Each call connects, writes one frame, reads one frame and closes
 * (the server may close after replying). Connect waits at most
 * connect_timeout_ms and everything at most until deadline_ns
 * (clock_mono_ns); poll() enforces both, so the call returns within about
 * a millisecond of the deadline. A reply whose prefix is not six digits,
 * that is cut short, or that carries bytes after the frame is
 * EGRESS_E_PROTOCOL; a connection closed before any reply byte is
 * EGRESS_E_IO. Thread-safe (no shared state). */
#ifndef ZHANYE_EGRESS_CONN_TCP_H
#define ZHANYE_EGRESS_CONN_TCP_H

#include "egress/egress.h"

#include <stddef.h>
#include <stdint.h>

#define TCP_FRAME_DIGITS 6
#define TCP_FRAME_MAX 999999

/* Writes the 6-digit prefix for len (and a NUL) into out. -1 if len > TCP_FRAME_MAX. */
int tcp_frame_prefix(size_t len, char out[TCP_FRAME_DIGITS + 1]);
/* Parses a 6-byte prefix. -1 unless all six are digits. */
int tcp_frame_parse(const char *p, size_t *len);

/* Connects to host:port (numeric or resolvable), sends req, reads the
 * reply into *resp (malloc'd, NUL-terminated, *resp_len bytes). Returns
 * EGRESS_OK or an error kind with msg filled. */
enum egress_kind tcp_call(const char *host, const char *port, int connect_timeout_ms,
                          uint64_t deadline_ns, const char *req, size_t len, char **resp,
                          size_t *resp_len, char *msg, size_t msgcap);

#endif
