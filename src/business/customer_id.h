/* customer_id — the identifiers a customer is known by, checked to their
 * national standards. Pure functions: no I/O, no clock, no allocation.
 *
 * Resident ID number (居民身份证号码, GB 11643-1999), 18 characters:
 *   positions 1-6    address code (GB/T 2260): the first two digits must be
 *                    a province-level code of the table (11..15, 21..23,
 *                    31..37, 41..46, 50..54, 61..65, 71) and the code must
 *                    name more than the province (positions 3-6 not
 *                    "0000"); or exactly 810000, 820000 or 830000 (the
 *                    residence permits of Hong Kong, Macao and Taiwan
 *                    residents, which share the format). Foreigners'
 *                    permanent residence cards are not taken. The full
 *                    county table is not embedded:
 *                    it changes every year and old codes stay valid on the
 *                    cards issued under them;
 *   positions 7-14   birth date YYYYMMDD, a real calendar date from
 *                    1850-01-01 (the standard's own example is of 1880)
 *                    up to `today` (so 0230 and 0931 fail);
 *   positions 15-17  sequence code (digits);
 *   position 18      check character, ISO 7064 MOD 11-2 over the first 17
 *                    (weights 2^(17-i) mod 11), '0'..'9' or 'X'. A lowercase
 *                    'x' is accepted and normalised to 'X'.
 * The 15-digit first-generation number is refused: cards carrying it
 * expired long ago.
 *
 * Unified social credit code (统一社会信用代码, GB 32100-2015), 18
 * characters of "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, S, V, Z):
 *   position 1       registration authority: 1-9, A, N or Y;
 *   positions 3-8    the registering authority's address code: digits;
 *   position 18      check character: 31 - (sum of value(c_i) * 3^i mod 31
 *                    over the first 17) mod 31, with 31 written '0'.
 * Lowercase letters are accepted and normalised to uppercase. The GB 11714
 * check of the organisation code inside (positions 9-17) is not applied:
 * the standard of the whole code is GB 32100's check character.
 *
 * Mobile number: 11 digits, 1 then 3..9 (the numbering plan of mainland
 * mobile networks). Landlines are not customers' contact numbers here.
 *
 * Every function writes the normalised form to out (NUL-terminated, at most
 * CID_LEN + 1 bytes) only on CID_OK, and returns CID_OK or the first fault
 * found, in the order length, characters, region, date, check. */
#ifndef ZHANYE_CUSTOMER_ID_H
#define ZHANYE_CUSTOMER_ID_H

#include <stdint.h>

#define CID_LEN 18 /* ID number and USCC */
#define CID_PHONE_LEN 11

enum cid_rc {
    CID_OK = 0,
    CID_LENGTH,    /* not exactly 18 (11 for a phone) characters */
    CID_CHARS,     /* a character outside the format's alphabet at its position */
    CID_REGION,    /* the address code is not a known province-level one, or is the province */
    CID_DATE,      /* the birth date is no calendar date, before 1900 or after today */
    CID_CHECK,     /* the check character does not match */
    CID_AUTHORITY, /* USCC: the registration authority code is unknown */
};

/* today is YYYYMMDD (the bank's local date). in may be NULL (CID_LENGTH). */
int cid_resident(const char *in, int32_t today, char out[CID_LEN + 1]);
int cid_uscc(const char *in, char out[CID_LEN + 1]);
int cid_mobile(const char *in, char out[CID_PHONE_LEN + 1]);

/* From a number cid_resident accepted: the birth date as YYYYMMDD, and the
 * sex ('M' odd sequence code, 'F' even). */
int32_t cid_birth(const char *id_no);
char cid_sex(const char *id_no);

/* What is wrong, for the user (Simplified Chinese, static). */
const char *cid_message(int rc);

#endif
