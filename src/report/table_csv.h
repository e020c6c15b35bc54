/* table_csv — a table (table.h) as CSV: RFC 4180 (CRLF line ends, a field
 * quoted when it holds a comma, a quote, CR or LF, quotes doubled), UTF-8
 * with a byte-order mark so that Excel reads the Chinese headers right;
 * the header row first; numbers unquoted (integers as such, RT_NUM with up
 * to 4 decimals); a text cell that would start a formula (rt_formula_like)
 * prefixed with an apostrophe, so a spreadsheet shows it as text. */
#ifndef ZHANYE_REPORT_TABLE_CSV_H
#define ZHANYE_REPORT_TABLE_CSV_H

#include "report/table.h"

/* The CSV in *out (malloc'd, NUL-terminated, *len bytes without the NUL).
 * RT_OK or RT_NOMEM. */
int rt_csv(const struct rt_table *t, char **out, size_t *len);

#endif
