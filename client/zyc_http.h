/* zyc_http — the client's transport: one POST or GET over libcurl.
 *
 * Kept apart from zyc.h so the sealing code has no network dependency. A
 * zyc_http handle keeps its connection alive between calls (one handle per
 * thread). */
#ifndef ZHANYE_ZYC_HTTP_H
#define ZHANYE_ZYC_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct zyc_http;

struct zyc_http *zyc_http_new(void);
void zyc_http_free(struct zyc_http *h);
/* Sends from local address addr (an IP literal such as "127.0.0.2"; NULL =
 * the system's choice) from the next call on; the open connection, if any,
 * is closed. 0, or -1 with h unchanged. */
int zyc_http_set_local_addr(struct zyc_http *h, const char *addr);
/* body NULL means GET. *resp is malloc'd and NUL-terminated. 0 when an
 * HTTP answer arrived (any status), -1 on a transport failure. */
int zyc_http_do(struct zyc_http *h, const char *url, const char *body, size_t len, long *status,
                char **resp, size_t *resp_len);

/* GET url into the file at path, resuming: when the file already has N
 * bytes, asks for the rest (Range: bytes=N-) and appends them on 206; a
 * 200 rewrites the file whole; any other status leaves it as it was.
 * stop_after > 0 drops the connection after that many body bytes (a cut
 * download, for tests). *status gets the HTTP status, *from the offset the
 * answer started at. 0 when a whole answer arrived (a 2xx one is then in
 * the file), -1 on a transport failure or a cut answer (what arrived of a
 * 2xx one is kept, to resume). */
int zyc_http_download(struct zyc_http *h, const char *url, const char *path, int64_t stop_after,
                      long *status, int64_t *from);

#endif
