/* mapping — declarative conversion between the platform's JSON and one
 * downstream message, loaded from conf/mappings/NAME.json.
 *
 * A mapping is "fixlen" (a fixed-length request and response record, see
 * fixlen.h) or "json" (an HTTP method + path and lists of JSON fields,
 * renamed and type-checked). Either way its response may declare a status
 * field: values listed in "ok" are success, values in "fault" mean the
 * system itself failed (counted by the circuit breaker), any other value
 * is a business refusal carrying the code and the system's message. The
 * file format is documented in docs/egress.md; loading is strict (an
 * unknown key is an error) and every error names the file and the field.
 *
 * Two files implement this header: mapping_load.c reads and validates the
 * files (mapping_load_file, mapping_load_dir, mapping_free, mapping_find)
 * and mapping.c is the pure conversion engine (mapping_encode,
 * mapping_decode): it reads no file and only trusts a struct mapping that
 * the loader built.
 *
 * Loaded mappings are immutable and shared by all threads. */
#ifndef ZHANYE_EGRESS_MAPPING_H
#define ZHANYE_EGRESS_MAPPING_H

#include "egress/fixlen.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define MAPPING_NAME_MAX 48
#define MAPPING_MAX_CODES 16
#define MAPPING_SERIAL_KEY "$serial"

enum mapping_format { MAPPING_FIXLEN = 0, MAPPING_JSON };
enum mapping_jtype {
    JT_ANY = 0,
    JT_STRING,
    JT_INTEGER,
    JT_NUMBER,
    JT_BOOLEAN,
    JT_OBJECT,
    JT_ARRAY
};

/* "any", "string", ... indexed by enum mapping_jtype, NULL-terminated:
 * the names of the file format and of conversion errors. */
extern const char *const MAPPING_JTYPE_NAMES[];

struct json_field {
    char name[MAPPING_NAME_MAX]; /* downstream key */
    char key[MAPPING_NAME_MAX];  /* platform key */
    enum mapping_jtype type;
    bool required;
    int max_length; /* strings: characters; 0 = no limit */
    json_t *konst;  /* request: sent whatever the input; NULL if none */
    bool skip;      /* response: not handed to the platform */
    bool secret;    /* request: as struct fixlen_field secret */
};

struct json_layout {
    size_t nfields;
    struct json_field *fields;
};

struct mapping_status {
    bool present;
    char field[MAPPING_NAME_MAX];   /* downstream field name */
    char message[MAPPING_NAME_MAX]; /* downstream field with the text; "" if none */
    int nok, nfault;
    char ok[MAPPING_MAX_CODES][32];
    char fault[MAPPING_MAX_CODES][32];
};

struct mapping {
    char name[MAPPING_NAME_MAX];
    enum mapping_format format;
    struct fixlen_layout req_fix, resp_fix; /* format fixlen */
    char method[8];                         /* format json */
    char path[256];
    struct json_layout req_json, resp_json;
    struct mapping_status status;
    /* The request has a "secret" field (the loader sets it): every buffer
     * of the encoded request is wiped (secmem_wipe) once the call is done,
     * by mapping_encode on its failures and by the gateway (egress.c) after
     * the last attempt. */
    bool secret;
};

struct mapping_set {
    size_t n;
    struct mapping *m;
};

/* ---- loading (mapping_load.c) ---- */

/* Loads one file into m (name = the file's base name). 0 or -1 with err. */
int mapping_load_file(const char *path, struct mapping *m, char *err, size_t errcap);
void mapping_free(struct mapping *m);
/* Loads every *.json in dir (a missing dir is an empty set). 0 or -1. */
int mapping_load_dir(const char *dir, struct mapping_set *set, char *err, size_t errcap);
void mapping_set_free(struct mapping_set *set);
const struct mapping *mapping_find(const struct mapping_set *set, const char *name);

/* ---- conversion (mapping.c) ---- */

enum mapping_verdict {
    MAPPING_REPLY_OK = 0,
    MAPPING_REPLY_BUSINESS,  /* status not ok and not a fault: code + message */
    MAPPING_REPLY_FAULT,     /* the system says it failed */
    MAPPING_REPLY_MALFORMED, /* the reply does not fit the mapping */
};

struct mapping_result {
    enum mapping_verdict verdict;
    char field[MAPPING_NAME_MAX]; /* the field at fault, if any */
    char code[32];                /* the status value, if any */
    char message[320]; /* the system's message, or what is malformed; cut at a char with "…" */
};

/* Builds the downstream request into a malloc'd buffer (*out, *outlen bytes;
 * NUL-terminated for convenience; with m->secret the caller wipes it before
 * freeing it). Every intermediate buffer that held a value is wiped. serial fills fields marked
 * "auto": "serial". 0, or -1 with r->field and r->message saying which
 * field is wrong and why. */
int mapping_encode(const struct mapping *m, json_t *in, const char *serial, char **out,
                   size_t *outlen, struct mapping_result *r);
/* Converts a reply. *out is set (platform JSON) for OK and BUSINESS. Returns r->verdict. */
enum mapping_verdict mapping_decode(const struct mapping *m, const char *buf, size_t len,
                                    json_t **out, struct mapping_result *r);

#endif
