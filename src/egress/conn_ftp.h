/* conn_ftp — file transfer over FTP (RFC 959, passive mode, binary), with
 * libcurl's easy interface on the caller's thread.
 *
 * One ftp_session is one control connection for one attempt of a step:
 * ftp_put uploads (STOR: a file of the same name is overwritten, so an
 * upload may be repeated) and ftp_get downloads (RETR) into memory, both
 * bounded by the step's deadline (curl's total timeout plus a progress
 * callback that aborts at the deadline). Errors map onto the egress kinds:
 * no connection -> EGRESS_E_CONNECT; the deadline -> EGRESS_E_TIMEOUT; the
 * server's 4xx/5xx to a transfer (other than 550 to a download) ->
 * EGRESS_E_REMOTE; login refused or 550 "no such file" ->
 * EGRESS_E_REJECTED; a reply curl cannot read -> EGRESS_E_PROTOCOL; a
 * broken connection -> EGRESS_E_IO. Not thread-safe per session; sessions
 * are independent. */
#ifndef ZHANYE_EGRESS_CONN_FTP_H
#define ZHANYE_EGRESS_CONN_FTP_H

#include "egress/egress.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FTP_NAME_MAX 128
#define FTP_FILE_MAX (64u << 20) /* the largest download kept in memory */

struct ftp_session;

/* A file name the connector may write: 1..FTP_NAME_MAX bytes, no '/', '\\',
 * "..", leading '.' or control character (CR/LF would inject commands). */
bool ftp_name_ok(const char *name);

/* base_url is ftp://HOST:PORT (no path); user and password are copied by
 * curl (password may be NULL: none). NULL when curl cannot start. */
struct ftp_session *ftp_open(const char *base_url, const char *user, const char *password,
                             int connect_timeout_ms, uint64_t deadline_ns);
/* Closes the control connection (QUIT, bounded by the deadline). NULL ignored. */
void ftp_close(struct ftp_session *s);

/* STOR name (ftp_name_ok) with n bytes of data. EGRESS_OK or a kind, msg filled. */
enum egress_kind ftp_put(struct ftp_session *s, const char *name, const uint8_t *data, size_t n,
                         char *msg, size_t msgcap);
/* RETR name into *data (malloc'd, *n bytes, NUL-terminated for convenience;
 * more than max bytes is EGRESS_E_PROTOCOL). */
enum egress_kind ftp_get(struct ftp_session *s, const char *name, size_t max, uint8_t **data,
                         size_t *n, char *msg, size_t msgcap);

#endif
