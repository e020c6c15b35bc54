/* tablet — a test tablet: device state + session, speaking ZY1 to a testd
 * daemon through libzhanye-client, exactly as a real client would. Negative
 * tests seal with tablet_seal(), tamper with the body, and post it raw. */
#ifndef ZHANYE_TABLET_H
#define ZHANYE_TABLET_H

#include "testd.h"
#include "zyc.h"
#include "zyc_http.h"

#include <jansson.h>

struct tablet {
    zyc_state st;
    char sid[ZY1_SID_MAX + 1];
    struct zyc_http *http;
};

/* Issues an activation code with `zhanye activation issue` into code (cap >= 16). */
int tablet_issue_code(const struct testd *d, const char *teller, char *code, size_t cap);
/* A new device (fresh id) pinned to the daemon's first key; not yet activated. */
int tablet_new(struct tablet *t, const struct testd *d, const char *teller);
/* tablet_new + issue a code + DEVICE_ACTIVATE. 0 when the device secret is kept. */
int tablet_activate(struct tablet *t, const struct testd *d, const char *teller);
/* tablet_new + DEVICE_ACTIVATE with a code issued elsewhere (the console).
 * 0 when the device secret is kept; *answer (may be NULL) gets the code of
 * the answer ("OK", "device_conflict", ...) or the plain error's. */
int tablet_activate_code(struct tablet *t, const struct testd *d, const char *teller,
                         const char *code, char *answer, size_t cap);
/* DEVICE_ACTIVATE again from this tablet (its dev id) with code for teller. */
int tablet_reactivate(struct tablet *t, const char *teller, const char *code, char *answer,
                      size_t cap);
/* LOGIN with the password; keeps the sid. Returns 0 when the answer's code is OK. */
int tablet_login(struct tablet *t, const char *teller, const char *password);
void tablet_free(struct tablet *t);

/* Seals payload for tx (activation code for DEVICE_ACTIVATE, else DS). */
int tablet_seal(struct tablet *t, const char *tx, const char *code, const char *payload,
                zy1_call *call, char **body, size_t *len);
/* Posts a raw body to /api/v1/tx/TX. */
int tablet_post(struct tablet *t, const char *tx, const char *body, size_t len, long *status,
                char **resp);
/* Opens a sealed answer; NULL if it fails verification. */
json_t *tablet_open(const zy1_call *call, const char *resp);
/* Seal + post + open with {"sid":..,"cseq":..,"data":data}. data may be NULL
 * ({}), cseq NULL. Returns the opened answer, or NULL with *status set for a
 * plain (unsealed) error, whose body goes to *plain when plain is not NULL. */
json_t *tablet_call(struct tablet *t, const char *tx, const char *data, const char *cseq,
                    long *status, json_t **plain);
/* The answer's "code" member, or "" */
const char *answer_code(json_t *answer);

/* For cmocka tests: these fail the running test (naming what came) instead
 * of returning a failure. */
/* tablet_call that must get a sealed answer: the answer (the caller's). */
json_t *tablet_must(struct tablet *t, const char *tx, const char *data, const char *cseq);
/* The answer's code must be code. */
void answer_expect(json_t *answer, const char *code);
/* The answer's "data" member (borrowed), and a string member of it (NULL
 * when absent). */
json_t *answer_data(json_t *answer);
const char *answer_str(json_t *answer, const char *key);

#endif
