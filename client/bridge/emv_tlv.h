/* emv_tlv: BER-TLV parsing and the PBOC 3.0 / EMV record logic of the bank
 * card reader, as pure functions over byte buffers (no I/O, no allocation),
 * so that they can be unit-tested on hand-built data and fuzzed.
 *
 * The APDU flow that calls these lives in dev_card.c; the card's data model
 * (struct card_info) and the error codes (enum card_err) are defined here so
 * that both the flow and the magnetic-stripe fallback share them.
 *
 * Contract common to every function: pointers may be NULL only where stated;
 * a buffer is (pointer, length) and is never read past its length; nothing
 * here keeps a pointer past the call except struct tlv.val, which points into
 * the caller's buffer. */
#ifndef ZHANYE_BRIDGE_EMV_TLV_H
#define ZHANYE_BRIDGE_EMV_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes of the bank card reader. CARD_OK is 0, every error positive.
 * card_err_name() gives the stable English name (API), card_err_message()
 * the Chinese message shown to the teller. */
enum card_err {
    CARD_OK = 0,
    CARD_ERR_ABSENT,   /* "absent": no PC/SC service, no reader, or the named reader is not there */
    CARD_ERR_NO_CARD,  /* "no_card": no card inserted within the timeout */
    CARD_ERR_TIMEOUT,  /* "timeout": a wait ended without the expected event */
    CARD_ERR_BAD_CARD, /* "bad_card": card answered but its data is malformed or fails Luhn */
    CARD_ERR_UNSUPPORTED, /* "unsupported": no known payment application on the card */
    CARD_ERR_IO,          /* "io": the reader or the card stopped answering */
    CARD_ERR_REMOVED,     /* "removed": the card was pulled out during the read */
};

/* Stable name of an error code ("ok", "absent", ...); "io" for unknown codes. */
const char *card_err_name(int code);
/* Chinese message for an error code; never NULL. */
const char *card_err_message(int code);

enum card_source {
    CARD_SRC_IC = 1,  /* contact IC chip, PBOC/EMV records */
    CARD_SRC_MSR = 2, /* magnetic stripe track 2 */
};

/* What a read yields. All strings are NUL-terminated; absent optional fields
 * are "". The PAN is PII: callers mask it in logs (foundation/mask.h). */
struct card_info {
    char pan[20];   /* 12..19 digits, Luhn-checked */
    char expiry[5]; /* YYMM (from 5F24 YYMMDD, or from track 2) */
    char seq[3];    /* 2 digits from 5F34, "" if absent */
    char name[27];  /* 5F20 cardholder name, printable ASCII, trimmed, "" if absent */
    char aid[33];   /* selected AID in upper-case hex, "" for a swipe */
    char label[17]; /* application label (tag 50), "" if absent */
    enum card_source source;
};

/* One parsed BER-TLV element. tag holds the tag bytes big-endian (5F24 ->
 * 0x5F24); val points into the parsed buffer. */
struct tlv {
    uint32_t tag;
    bool constructed;
    const uint8_t *val;
    size_t len;
};

/* Parses the element at *off in buf[0..len). Padding bytes 0x00 and 0xFF
 * between elements are skipped. Tags of up to 3 bytes, lengths in the short
 * form or 81/82/83 long forms.
 * Returns 1 with *out filled and *off advanced past the element, 0 at the end
 * of the buffer, -1 if the data is malformed (truncated tag or length, length
 * past the end, indefinite length). */
int tlv_next(const uint8_t *buf, size_t len, size_t *off, struct tlv *out);

/* Finds the first element with the given tag, searching depth-first into
 * constructed elements (at most 8 levels). Returns 1 if found, 0 if not,
 * -1 if a malformed element is met before it. */
int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out);

/* --- PBOC/EMV application selection --- */

#define EMV_AID_MAX 16 /* AID is 5..16 bytes */
#define EMV_MAX_APPS 8

struct emv_app {
    uint8_t aid[EMV_AID_MAX];
    size_t aid_len;
    uint8_t priority; /* tag 87 low nibble; 0 = none given */
    char label[17];
};

struct emv_app_list {
    struct emv_app app[EMV_MAX_APPS];
    size_t n;
};

/* The AIDs this reader supports, in our order of preference (UnionPay debit,
 * credit, quasi-credit, e-cash; then the international schemes a Chinese
 * terminal accepts). Terminated by an entry with len 0. */
struct emv_known_aid {
    const char *hex;
    const char *name;
};
extern const struct emv_known_aid emv_known_aids[];

/* Whether aid (len bytes) starts with one of emv_known_aids (partial-name
 * match as EMV allows: the card's AID may be longer). */
bool emv_aid_known(const uint8_t *aid, size_t len);

/* From the FCI of the PSE (6F ... A5 ... 88 SFI): the directory SFI (1..30).
 * Returns 0 with *sfi, CARD_ERR_BAD_CARD if absent/malformed. */
int emv_pse_sfi(const uint8_t *fci, size_t len, uint8_t *sfi);

/* Adds the applications of one PSE directory record (70 { 61 { 4F 50 87 } ... })
 * to list (known AIDs only; duplicates and overflow ignored).
 * Returns 0, or CARD_ERR_BAD_CARD if the record is malformed. */
int emv_dir_record(const uint8_t *rec, size_t len, struct emv_app_list *list);

/* Sorts list into selection order: cardholder priority (87, 1 first, none
 * last), then our order of emv_known_aids. */
void emv_apps_order(struct emv_app_list *list);

/* From an application's FCI: the PDOL (9F38) and label (50). *pdol may be set
 * to NULL/0 when there is none. label may be NULL. Returns 0, or
 * CARD_ERR_BAD_CARD if the FCI is not a 6F template. */
int emv_app_fci(const uint8_t *fci, size_t len, const uint8_t **pdol, size_t *pdol_len, char *label,
                size_t labelcap);

/* Terminal data used to fill a PDOL. */
struct emv_terminal {
    uint8_t country[2];  /* 9F1A, n4 BCD: 01 56 (China) */
    uint8_t currency[2]; /* 5F2A, n4 BCD: 01 56 (CNY) */
    uint8_t date[3];     /* 9A, YYMMDD BCD */
    uint8_t un[4];       /* 9F37 unpredictable number (random) */
    uint8_t ttq[4];      /* 9F66 terminal transaction qualifiers */
    uint8_t type;        /* 9F35 terminal type: 0x22 attended, offline with online capability */
    uint8_t caps[3];     /* 9F33 terminal capabilities */
    uint8_t txn_type; /* 9C: 0x31 balance inquiry... we use 0x00 goods/services as cards expect */
};

/* Fills t with the defaults documented in docs/peripherals.md, date from
 * the given calendar date (year 2000..2099) and un from the caller's random
 * bytes. */
void emv_terminal_defaults(struct emv_terminal *t, int year, int month, int day,
                           const uint8_t un[4]);

/* Builds the GPO command data "83 L <values>" for a PDOL (may be empty: then
 * "83 00"). Each DOL entry is filled from t when known (right-aligned
 * truncation/zero padding per EMV Book 3 5.4), zeros otherwise.
 * Returns 0 with *outlen, or CARD_ERR_BAD_CARD if the PDOL is malformed or
 * the data would exceed cap (cap must allow at least 2 bytes). */
int emv_pdol_data(const uint8_t *pdol, size_t pdol_len, const struct emv_terminal *t, uint8_t *out,
                  size_t cap, size_t *outlen);

/* Parses a GPO response (format 1: 80 AIP AFL; format 2: 77 { 82 AIP, 94 AFL })
 * and validates the AFL (4-byte entries, SFI 1..30, 1 <= first <= last).
 * On success *afl points into resp. Returns 0 or CARD_ERR_BAD_CARD. */
int emv_gpo_afl(const uint8_t *resp, size_t len, const uint8_t **afl, size_t *afl_len);

/* Collects the fields of one application record (70 template) into out:
 * 5A PAN, 57 track-2 equivalent, 5F24 expiry, 5F34 sequence, 5F20 name.
 * A field already set is kept (first record wins). pan57/exp57 receive the
 * PAN and expiry found in 57 (so that a 5A and a 57 that disagree can be
 * caught, and a card without 5A still yields its number); both must be ""
 * or earlier values on entry. Returns 0, or CARD_ERR_BAD_CARD for a
 * malformed record or field. */
int emv_record(const uint8_t *rec, size_t len, struct card_info *out, char pan57[20],
               char exp57[5]);

/* Completes a read: PAN from pan57 when 5A was absent, expiry from track 2
 * when 5F24 was absent; checks that a PAN is present, 12..19 digits, agrees
 * with the 57 one when both exist, and passes Luhn.
 * Returns 0 or CARD_ERR_BAD_CARD. */
int emv_finish(struct card_info *out, const char *pan57, const char *exp57);

/* Luhn check of a string of 2..19 decimal digits; false for any other input. */
bool luhn_ok(const char *digits);

/* Parses a magnetic-stripe track 2 as a swipe reader sends it:
 * ";PAN=YYMM<service code><discretionary>?" (sentinels optional, 'D' accepted
 * for '=' as in chip track-2 equivalents). Fills pan and expiry of *out,
 * source CARD_SRC_MSR, other fields "".
 * Returns CARD_OK, or CARD_ERR_BAD_CARD for any malformed input or a PAN
 * failing Luhn. track2 must not be NULL. */
int card_from_track2(const char *track2, struct card_info *out);

/* Decodes the BCD track-2 equivalent data of tag 57 into pan and expiry
 * (YYMM). Returns 0 or CARD_ERR_BAD_CARD. */
int emv_track2_eq(const uint8_t *v, size_t len, char pan[20], char exp[5]);

#endif
