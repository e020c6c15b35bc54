/* table_xlsx — a table (table.h) as an Excel workbook (XLSX) through
 * libxlsxwriter: one sheet named after the table, the header row in bold,
 * then the rows; RT_INT and RT_NUM cells are numbers, every RT_TEXT cell a
 * string (never a formula, whatever it starts with), an empty cell blank.
 *
 * libxlsxwriter writes to a file: the workbook is built in a private
 * temporary file under tmpdir (NULL: $TMPDIR, else /tmp), read back and
 * removed. */
#ifndef ZHANYE_REPORT_TABLE_XLSX_H
#define ZHANYE_REPORT_TABLE_XLSX_H

#include "report/table.h"

/* The workbook in *out (malloc'd, *len bytes). RT_OK, RT_NOMEM, or RT_IO
 * (the temporary file or the library failed). */
int rt_xlsx(const struct rt_table *t, const char *tmpdir, char **out, size_t *len);

#endif
