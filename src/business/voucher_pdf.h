/* voucher_pdf — renders an electronic voucher (电子凭证) as a one-page A4
 * PDF with cairo and pango.
 *
 * The text is set in Noto Sans CJK SC (Debian fonts-noto-cjk, found through
 * fontconfig); cairo's PDF surface embeds the glyphs used as a font subset
 * (a FontFile3 stream, the font named "ABCDEF+NotoSansCJKsc-Regular"), so a
 * reader without the font shows the voucher as issued. The customer's
 * signature (a PNG) is drawn into the page, scaled to fit its box.
 *
 * The page holds, top to bottom: the bank's and branch's names (when
 * given), the business kind's title and "电子凭证", the voucher id, the
 * business serial number, the time in China time (UTC+8, computed, not
 * the process's time zone), the customer's name and masked ID number, the
 * business's fields in the caller's order, the teller, the signature.
 *
 * Determinism: the PDF's creation date is the voucher's time and its
 * keywords carry "zhanye-voucher:<id>" (voucher_sign.h finds the id there);
 * its title is the kind's title and its subject "<bank name> <branch
 * name>" (whichever are given; none: no subject), so the issuer can be read
 * from the metadata (the page's text is glyph-subset encoded);
 * the same input gives the same bytes with the same cairo, pango and font.
 *
 * Returns VPDF_OK with *pdf malloc'd (*n bytes), VPDF_BAD_INPUT (the
 * signature is not a PNG cairo can read, a field too long, a NULL member),
 * or VPDF_ERR (cairo or memory). */
#ifndef ZHANYE_VOUCHER_PDF_H
#define ZHANYE_VOUCHER_PDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { VPDF_ERR = -1, VPDF_OK = 0, VPDF_BAD_INPUT = 1 };

#define VPDF_FONT "Noto Sans CJK SC"

struct voucher_field {
    const char *label; /* UTF-8, 1..64 bytes */
    const char *value; /* UTF-8, 0..512 bytes */
};

struct voucher_doc {
    const char *id;          /* "V<bank>-<n>" */
    const char *bank_name;   /* "" or NULL: not shown */
    const char *branch_name; /* "" or NULL: not shown */
    const char *title;       /* the kind's Chinese title (voucher.h) */
    const char *serial;      /* the business serial number */
    int64_t time_ms;         /* Unix ms */
    const char *customer_name;
    const char *id_no_masked;
    const char *teller; /* code and name as shown */
    const struct voucher_field *fields;
    size_t nfields;
    const uint8_t *signature_png;
    size_t signature_len;
    const char *recording_sm3; /* NULL or "": none; else in the keywords (voucher.h) */
};

/* The time t (Unix ms) in China time: "YYYY-MM-DD HH:MM:SS" into out (20 bytes). */
void vpdf_china_time(int64_t t_ms, char out[20]);

/* Whether png decodes as the PNG a voucher can show (cairo reads it whole:
 * a valid header alone is not enough). The signature step checks it, so
 * that a business never reaches its voucher with an image that cannot be
 * drawn. Thread-safe. */
bool vpdf_png_ok(const uint8_t *png, size_t n);

/* Thread-safe: each call has its own pango font map. */
int vpdf_render(const struct voucher_doc *d, uint8_t **pdf, size_t *n);

/* Frees cairo's and fontconfig's process-wide caches. Only at exit, once
 * no thread renders any more (the composition root's close; tests). */
void vpdf_cleanup(void);

#endif
