/* customer_profile — what a customer record is: the members of each kind,
 * the rule of each member, and the record's normalised form.
 *
 * A record is a JSON object. Members (P: person only, B: business only):
 *   kind          "person" | "business"; fixed once created
 *   name          1..200 bytes of text (UTF-8, no control characters;
 *                 leading and trailing spaces are trimmed)
 *   id_no    P    required; GB 11643 (customer_id.h), normalised ('X')
 *   uscc     B    required; GB 32100, normalised (uppercase)
 *   phone         a mobile number (customer_id.h)
 *   address       0..300 bytes of text
 *   household P   up to 20 objects {"name", "relation", "id_no"?, "phone"?};
 *                 relation one of spouse, child, parent, sibling,
 *                 grandparent, grandchild, in_law, other
 *   occupation P  farmer, migrant_worker, self_employed, employee,
 *                 civil_servant, teacher, medical, student, retired,
 *                 unemployed, other
 *   income_band P annual household income: below_30k, 30k_100k,
 *                 100k_300k, 300k_1m, above_1m (yuan)
 *   assets        up to 20 objects {"type", "value", "note"?}: type one of
 *                 deposit, wealth, house, land, vehicle, machinery,
 *                 livestock, crops, other; value the estimate in yuan,
 *                 0..10^13; note 0..100 bytes of text
 *   products      up to 50 distinct product codes [a-z0-9_]{1,32} (the
 *                 bank's catalog; what the customer holds)
 *   legal_person B {"name", "id_no"?, "phone"?}
 *   industry  B   GB/T 4754 code: a section letter A..T, then 0, 2, 3 or 4
 *                 digits ("A", "A01", "A011", "A0111")
 *   turnover  B   annual turnover in yuan, 0..10^13
 *   lat, lon      the customer's own position (home, shop), WGS-84
 *                 degrees: lat -90..90, lon -180..180 (numbers, stored as
 *                 reals); given together or not at all, replaced together,
 *                 never removed once set (a position is corrected, not
 *                 unknown again). VISIT_CHECKIN measures `far` from it.
 * Nested objects take only the members named; strings nested inside follow
 * the same text rule (name 1..100 bytes).
 *
 * cp_apply() applies the members of a CUSTOMER_CREATE / CUSTOMER_UPDATE
 * data object to rec: each given member is checked and stored normalised;
 * an empty string or empty array removes an optional member (it cannot
 * remove a required one). "customer_id" and "version" are skipped (the
 * caller's); lat and lon must come together. Then the
 * whole record is checked: kind known and unchanged, the kind's required
 * members present, no member of the other kind.
 * Returns CP_OK (rec updated), CP_BAD with err naming the member by its
 * path ("household[1].id_no") and saying what is wrong (rec then holds a
 * partial update: work on a copy), or CP_NOMEM. */
#ifndef ZHANYE_CUSTOMER_PROFILE_H
#define ZHANYE_CUSTOMER_PROFILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum { CP_OK = 0, CP_BAD = 1, CP_NOMEM = 2 };

#define CP_NAME_MAX 200

struct cp_error {
    char field[64]; /* the member's path under data */
    char msg[160];  /* Simplified Chinese */
};

/* today is YYYYMMDD (ID numbers' birth dates may not be later). */
int cp_apply(json_t *rec, json_t *in, int32_t today, struct cp_error *err);

/* A name (or a name prefix) by the name rule above, trimmed, into out
 * (cap > CP_NAME_MAX). CP_OK, or CP_BAD with err naming path. */
int cp_name(json_t *v, const char *path, char *out, size_t cap, struct cp_error *err);

/* The record's kind is a person's. */
int cp_is_person(const json_t *rec);

#endif
