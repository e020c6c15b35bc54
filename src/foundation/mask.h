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
 * nothing). mask_text() scans free text and masks every ID-card number,
 * card number and mobile number it finds; the logger applies it to every line. */
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
