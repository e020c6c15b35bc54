/* errcode — every error code an answer of the platform can carry, in one
 * table: the code clients branch on, the HTTP status of a plain answer, the
 * default user-facing message (Simplified Chinese) and what it means
 * (English; docs/api.md "Error codes" lists the same rows).
 *
 * Two kinds of answer carry a code:
 *   - plain answers, {"error":{"code","message",...}}: the HTTP front, the
 *     ZY1 pipeline before step 10 (and step 11's replay), the management
 *     API. Their HTTP status is the entry's `http`;
 *   - sealed answers of the ZY1 pipeline (after step 10), HTTP 200 whatever
 *     the code, {"code","message","data","srvseq"} in the plaintext. Their
 *     entries give the status a plain answer would have; sealed answers
 *     ignore it.
 * Some codes are answered both ways (internal, bad_request, teller_locked...).
 *
 * Every layer names a code by its enum; the answer builders (http_error in
 * http/server.h, the ZY1 pipeline's plain_error / sealed_error, tx_fail in
 * channel/tx.h, the front's refusals) turn it into code, status and text.
 * A message that needs a detail (the member a bad_request names, the
 * length bounds of weak_password) passes it as an override: the table's
 * message is the default. No code is spelled as a string literal outside
 * errcode.c: tests/unit/foundation/test_errcode.c scans src/ for it, checks
 * the table, and checks docs/api.md against it.
 *
 * A new code: an enumerator here, its row in errcode.c (designated
 * initializer, every field set), its row in docs/api.md. */
#ifndef ZHANYE_ERRCODE_H
#define ZHANYE_ERRCODE_H

#include <stdbool.h>

enum ze {
    /* Anywhere: a server fault, and the database busy or unreachable.
     * ZE_INTERNAL is 0, so a zeroed code fails closed. */
    ZE_INTERNAL = 0,
    ZE_UNAVAILABLE,
    /* The HTTP front, before the body (http/server.h). */
    ZE_NOT_FOUND,
    ZE_METHOD_NOT_ALLOWED,
    ZE_FORBIDDEN,
    ZE_TOO_LARGE,
    ZE_OVERLOADED,
    ZE_BUSY,
    /* The ZY1 pipeline before step 10 (spec/secure-channel.md), plain. */
    ZE_BAD_ENVELOPE,
    ZE_UNKNOWN_TX,
    ZE_STALE,
    ZE_UNKNOWN_KEY,
    ZE_DEVICE_UNKNOWN,
    ZE_DEVICE_BLOCKED,
    ZE_REPLAY,
    ZE_BAD_MAC,
    /* The ZY1 pipeline after step 10 and the transactions, sealed. */
    ZE_BAD_PAYLOAD,
    ZE_SESSION_INVALID,
    ZE_SESSION_EXPIRED,
    ZE_BAD_REQUEST,
    ZE_IN_PROGRESS,
    ZE_DEVICE_CONFLICT,
    ZE_ACTIVATION_INVALID,
    ZE_DEVICE_NOT_BOUND,
    ZE_BAD_PASSWORD,
    ZE_TELLER_LOCKED,
    ZE_TELLER_DISABLED,
    ZE_WEAK_PASSWORD,
    /* Business transactions, sealed. */
    ZE_CUSTOMER_EXISTS,
    ZE_CUSTOMER_NOT_FOUND,
    ZE_VISIT_TASK_NOT_FOUND,
    ZE_VISIT_TASK_CLOSED,
    ZE_VISIT_NOT_FOUND,
    ZE_ATTACH_NOT_FOUND,
    ZE_ATTACH_TOO_LARGE,
    ZE_ATTACH_BAD_TYPE,
    ZE_ATTACH_MISMATCH,
    ZE_ATTACH_INCOMPLETE,
    /* Electronic vouchers (business/voucher.h). */
    ZE_VOUCHER_NOT_FOUND,
    ZE_BIZ_NOT_FOUND,
    ZE_BIZ_KIND_UNAVAILABLE,
    ZE_BIZ_STEP_OUT_OF_ORDER,
    ZE_BIZ_CLOSED,
    ZE_BIZ_CHECK_FAILED,
    ZE_DOWNSTREAM_REFUSED,
    ZE_DOWNSTREAM_UNAVAILABLE,
    /* Mobile device management (business/mdm_policy.h). */
    ZE_DEVICE_NONCOMPLIANT,
    /* Remote video calls (business/video_call.h). */
    ZE_VIDEO_CALL_NOT_FOUND,
    ZE_VIDEO_CALL_ENDED,
    ZE_VIDEO_QUEUE_EMPTY,
    ZE_VIDEO_AGENT_BUSY,
    /* The app store's downloads (appstore/dltoken.h, http/h_store_download.c);
     * a byte range also for the recordings' playback (http/h_admin_vrec.c). */
    ZE_STORE_TOKEN_INVALID,
    ZE_RANGE_NOT_SATISFIABLE,
    /* The management API (http/admin.h). */
    ZE_BAD_ORIGIN,
    ZE_UNAUTHENTICATED,
    ZE_CSRF,
    ZE_UNSUPPORTED_MEDIA_TYPE,
    ZE_EXISTS,
    ZE_CONFLICT,
    ZE_NOT_ACTIVE,
    ZE_RELOAD_FAILED,
    /* Recorded video calls (business/vrec.h, egress/janus.h). */
    ZE_VREC_NO_CONSENT,
    ZE_MEDIA_UNAVAILABLE,
    ZE_COUNT
};

struct ze_def {
    const char *code;    /* what clients branch on: lowercase, [a-z_] */
    int http;            /* the status of a plain answer (400..599) */
    const char *message; /* the default user-facing text, Simplified Chinese */
    const char *meaning; /* when it is answered and what the client does (docs) */
};

/* The entry of e; an e outside the enum gives ZE_INTERNAL's. Never NULL. */
const struct ze_def *ze_get(enum ze e);
const char *ze_code(enum ze e);
int ze_http(enum ze e);
/* The message of one answer: detail when it is non-NULL and non-empty (the
 * override), else the table's. */
const char *ze_message(enum ze e, const char *detail);
/* The enum of a code spelled as text (a code handed between layers as a
 * string, http/txauth.h): true with *out set, false for a code not in the
 * table (*out then ZE_INTERNAL). */
bool ze_parse(const char *code, enum ze *out);

#endif
