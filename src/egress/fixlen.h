/* fixlen — fixed-length record codec, the message format of core banking.
 *
 * A layout is a record length and fields at explicit byte offsets: name,
 * offset, length, type, alignment, pad character and text encoding (GBK or
 * UTF-8). Bytes not covered by a field are filler (spaces on encode,
 * ignored on decode).
 *
 * Types and their JSON side:
 *   text    JSON string; converted to the field's encoding; control
 *           characters and text the encoding cannot represent are errors
 *   int     JSON integer >= 0 or a string of digits; decoded to an integer
 *   amount  decimal string "123.45" or an integer (whole units); written
 *           with `scale` implied decimals ("12345"); decoded to a string
 *
 * Nothing is ever cut: a value whose bytes do not fit its field, an amount
 * with more decimals than the scale, bad UTF-8/GBK, a non-digit in a number
 * are all errors whose message names the field (never its value: values
 * may be customer data). Decoding strips the pad character from the padded
 * side only (left-aligned: trailing; right-aligned: leading), which is safe
 * for GBK because pad characters are ASCII and no GBK trail byte is below
 * 0x40. Layouts are plain data (built by mapping.c from conf/mappings or
 * written as C tables by the simulators); a layout must pass fixlen_check()
 * before use. All functions are thread-safe. */
#ifndef ZHANYE_EGRESS_FIXLEN_H
#define ZHANYE_EGRESS_FIXLEN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIXLEN_MAX_RECORD 65536
#define FIXLEN_NAME_MAX 48
#define FIXLEN_CONST_MAX 64

enum fixlen_type { FIXLEN_TEXT = 0, FIXLEN_INT, FIXLEN_AMOUNT };
enum fixlen_align { FIXLEN_LEFT = 0, FIXLEN_RIGHT };
enum fixlen_encoding { FIXLEN_UTF8 = 0, FIXLEN_GBK };

struct fixlen_field {
    char name[FIXLEN_NAME_MAX]; /* the downstream name; errors name it */
    char key[FIXLEN_NAME_MAX];  /* JSON key on the platform side ("" = same as name) */
    size_t offset, length;
    enum fixlen_type type;
    enum fixlen_align align;
    char pad; /* printable ASCII; 0 = default (' ' for text, '0' for numbers) */
    enum fixlen_encoding enc;
    int scale; /* amount: implied decimals, 0..9 */
    bool required;
    bool has_const; /* encode: always konst, whatever the input */
    char konst[FIXLEN_CONST_MAX];
    bool skip; /* for mapping.c: decoded, but not handed to the platform */
    /* request: the value is a secret (a PIN block): an error names the field
     * and says nothing of its value (not even its length); the buffers
     * that held it are wiped (docs/egress.md "secret") */
    bool secret;
};

struct fixlen_layout {
    char name[64]; /* for messages: "MAPPING request" or "MAPPING response" */
    size_t length;
    size_t nfields;
    struct fixlen_field *fields;
};

struct fixlen_error {
    char field[FIXLEN_NAME_MAX]; /* "" when the record as a whole is wrong */
    char msg[320];               /* one sentence naming the layout and field */
};

/* The JSON key of a field. */
const char *fixlen_key(const struct fixlen_field *f);
/* Validates a layout (bounds, order, overlaps, types). 0 or -1 with e filled. */
int fixlen_check(const struct fixlen_layout *l, struct fixlen_error *e);
/* Writes exactly l->length bytes into out (cap >= l->length). 0 or -1. */
int fixlen_encode(const struct fixlen_layout *l, json_t *in, uint8_t *out, size_t cap,
                  struct fixlen_error *e);
/* Decodes a record into a new JSON object (every field under its key). With
 * partial, a record shorter than the layout is accepted and the fields it
 * does not fully cover are left out; otherwise len must equal l->length. */
int fixlen_decode(const struct fixlen_layout *l, const uint8_t *in, size_t len, bool partial,
                  json_t **out, struct fixlen_error *e);

/* Converts n bytes between UTF-8 and GBK into a malloc'd NUL-terminated
 * string (*outlen bytes). -1 on an invalid or unrepresentable sequence. */
int fixlen_convert(enum fixlen_encoding from, enum fixlen_encoding to, const char *in, size_t n,
                   char **out, size_t *outlen);

#endif
