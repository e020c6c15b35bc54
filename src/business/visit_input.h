/* visit_input — the rules of the visit transactions' input members, apart
 * from the handlers so that they can be tested alone. The schema (types,
 * lengths: tx.h) is checked by the pipeline before; these are the rules
 * of values:
 *   date       "YYYY-MM-DD", a real date from 2000-01-01 to 2099-12-31
 *   lat, lon   numbers, latitude -90..90, longitude -180..180; VISIT_TASKS
 *              takes both or neither
 *   task_id,
 *   customer_id  integers >= 1; a check-in names at least one
 *   at         Unix ms of the visit: not more than 5 minutes ahead of the
 *              server's clock nor more than 7 days behind it (default: now)
 *   outcome    met, not_home, refused, interested, done
 *   notes      0..2000 bytes of text (UTF-8, no control characters but
 *              newline; spaces at either end trimmed)
 *   photos     up to 9 distinct attachment ids, each 1..64 bytes of
 *              [A-Za-z0-9._:-]
 *   next_step  0..300 bytes of text
 *   open_lead  {"product": [a-z0-9_]{1,32}, "note"?: 0..300 bytes of text}
 * Each function returns VI_OK, or VI_BAD with err naming the member by its
 * path under data ("open_lead.product") and saying what is wrong in
 * Simplified Chinese. */
#ifndef ZHANYE_VISIT_INPUT_H
#define ZHANYE_VISIT_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum { VI_OK = 0, VI_BAD = 1 };

#define VI_NOTES_MAX 2000
#define VI_STEP_MAX 300
#define VI_PHOTOS_MAX 9
#define VI_PHOTO_ID_MAX 64
#define VI_PRODUCT_MAX 32
#define VI_AHEAD_MS (5 * 60 * 1000)
#define VI_BEHIND_MS (7 * 86400 * 1000LL)

struct vi_error {
    char field[64];
    char msg[160];
};

/* "YYYY-MM-DD" -> YYYYMMDD. */
int vi_date(json_t *v, const char *path, int32_t *day, struct vi_error *err);
/* The day as "YYYY-MM-DD" (out of 11 bytes). */
void vi_day_text(int32_t day, char out[11]);
/* The members lat and lon of in: both (*has true) or neither (*has false). */
int vi_position(json_t *in, bool both_required, double *lat, double *lon, bool *has,
                struct vi_error *err);
/* A text member by the text rule, trimmed, into a new string *out ("" when
 * absent). */
int vi_text(json_t *v, const char *path, size_t max, bool newlines, char **out,
            struct vi_error *err);
/* A product code [a-z0-9_]{1,32}. */
int vi_product(json_t *v, const char *path, struct vi_error *err);

struct vi_checkin {
    int64_t task_id, customer_id; /* 0: not given */
    double lat, lon;
    int64_t at;
    const char *outcome; /* static */
    char *notes, *next_step;
    json_t *photos; /* a new array (maybe empty) */
    bool open_lead;
    char product[VI_PRODUCT_MAX + 1];
    char *lead_note;
};

/* VISIT_CHECKIN's data. On VI_OK out owns its strings (vi_checkin_free);
 * on VI_BAD nothing is left to free. */
int vi_checkin(json_t *in, int64_t now_ms, struct vi_checkin *out, struct vi_error *err);
void vi_checkin_free(struct vi_checkin *c);

#endif
