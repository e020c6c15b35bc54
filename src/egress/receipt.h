/* receipt — the delivery receipt a receiving system writes after a file
 * upload (egress_put_file): NAME.receipt beside NAME, a JSON object
 *     {"name":"NAME","size":N,"sm3":"64 hex","receipt_no":"...","received_at":"..."}
 * saying what it received. receipt_check() compares it with what was sent.
 * Pure: reads no file, holds no state; thread-safe. */
#ifndef ZHANYE_EGRESS_RECEIPT_H
#define ZHANYE_EGRESS_RECEIPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum receipt_verdict {
    RECEIPT_OK = 0,
    RECEIPT_MALFORMED, /* not such an object: a member missing, mistyped or too long */
    RECEIPT_MISMATCH,  /* well-formed, but name, size or SM3 differ from what was sent */
};

/* The lowercase hex SM3 of data (out: 65 bytes). 0, or -1 if the library fails. */
int receipt_sm3_hex(const uint8_t *data, size_t n, char out[65]);

/* Checks the receipt text (len bytes, any content) against name, size and
 * sm3_hex (lowercase). RECEIPT_OK sets *out to the receipt (a new
 * reference); otherwise *out is NULL and field names the member at fault
 * ("receipt", "name", "size", "sm3", "receipt_no", "received_at") and msg
 * says why without quoting the receipt. */
enum receipt_verdict receipt_check(const char *text, size_t len, const char *name, size_t size,
                                   const char *sm3_hex, json_t **out, char *field, size_t fieldcap,
                                   char *msg, size_t msgcap);

#endif
