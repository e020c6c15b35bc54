/* console — a test web console: the management API over real HTTP with
 * the session cookie and CSRF token a browser would hold. */
#ifndef ZHANYE_CONSOLE_H
#define ZHANYE_CONSOLE_H

#include "testd.h"

#include <jansson.h>

struct console {
    const struct testd *d;
    char cookie[64]; /* the zs cookie's value */
    char csrf[64];
};

/* A raw request to base+path: the given header lines (NULL-terminated list,
 * may be NULL) and body (NULL: none). Returns the status (0: no answer);
 * *out (may be NULL) gets the parsed body, set_cookie (cap bytes, may be
 * NULL) the Set-Cookie line. */
long console_raw(const struct testd *d, const char *method, const char *path,
                 const char *const *headers, const char *body, char *set_cookie, size_t cap,
                 json_t **out);
/* POST /api/v1/admin/login; keeps cookie and CSRF token. Returns the status. */
long console_login(struct console *c, const struct testd *d, const char *teller, const char *pw);
/* GET path with the session cookie. */
long console_get(struct console *c, const char *path, json_t **out);
/* POST path with cookie, JSON Content-Type and X-CSRF-Token; body NULL: "{}". */
long console_post(struct console *c, const char *path, const char *body, json_t **out);
/* The error.code of an answer, or "". */
const char *console_err(json_t *answer);

#endif
