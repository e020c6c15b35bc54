/* mask — masking of customer data (PII) for logs and displays.
 *
 * Formats (fixed by the bank's rules):
 *   ID-card number (18 chars)  330102199001011234 -> 330102********1234
 *   bank card number           6222021234567891234 -> 6222 **** **** 1234
 *   mobile phone (11 digits)   13812345678 -> 138****5678
 *   name (UTF-8)               张三 -> 张*, 欧阳娜娜 -> 欧***
 * Each writes a NUL-terminated result into out (cap bytes) and returns its
 * length, or -1 if out is too small or the input is not of that kind (then
 * out holds "***" if it fits, so a caller that ignores the error still leaks
 * nothing). mask_id_no() also takes the old 15-digit ID (330102900101123 ->
 * 330102*****1123); an 18-char ID may end in X or x. mask_card() takes 16-19
 * digits, no spaces. mask_name() rejects invalid UTF-8 and control chars;
 * a one-character name becomes "*".
 *
 * mask_text() scans free text and masks every ID-card number, card number
 * and mobile number it finds; the logger applies it to every line. A
 * candidate is a digit run with no ASCII letter or digit on either side
 * (CJK text and punctuation are boundaries; "tx13812345678" is left alone):
 *   11 digits starting 1[3-9]       mobile, keep 3 + 4   138****5678
 *   13 digits starting 861[3-9]     mobile, keep 5 + 4   86138****5678
 *   15 or 18 digits, or 17 + X/x    ID, keep 6 + 4       330102********1234
 *   16, 17 or 19 digits             card, keep 4 + 4     6222***********1234
 * and the same numbers written in groups joined by one kind of separator
 * (' ' or '-'): phone 3-4-4, ID 6-8-4, card 4-4-4-4[-1..3]; the digits are
 * starred and the separators kept (138-****-5678). Other runs (order
 * numbers, 20+ digit ids, dates) pass unchanged. Every replacement is one
 * byte for one byte, so the result is exactly as long as the input and
 * cap = strlen(in) + 1 always suffices; in and out must not overlap.
 * Fullwidth digits and numbers glued to ASCII letters are not detected. */
#ifndef ZHANYE_MASK_H
#define ZHANYE_MASK_H

#include <stddef.h>

long mask_id_no(const char *in, char *out, size_t cap);
long mask_card(const char *in, char *out, size_t cap);
long mask_phone(const char *in, char *out, size_t cap);
long mask_name(const char *in, char *out, size_t cap);
/* Copies text to out with every PII-looking digit run masked. Returns length or -1. */
long mask_text(const char *in, char *out, size_t cap);

#endif
