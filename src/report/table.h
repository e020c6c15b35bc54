/* table — the model of one exported table (the console's "export every
 * table to CSV and XLSX"): columns with their Chinese headers and types,
 * and rows of cells, written by table_csv.h and table_xlsx.h. The same
 * model feeds both writers, so a CSV and a workbook of one table hold the
 * same cells in the same order.
 *
 * A column names the member of a JSON row it shows by a dot path
 * ("current.business.amount"), so a table is filled from the very rows an
 * endpoint answers (rt_fill), never from a query of its own.
 *
 * Cells are JSON values: a string (RT_TEXT), an integer (RT_INT), a number
 * (RT_NUM); anything else (absent, null, an object) is an empty cell.
 * Functions returning int return RT_OK or RT_NOMEM. */
#ifndef ZHANYE_REPORT_TABLE_H
#define ZHANYE_REPORT_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum { RT_OK = 0, RT_NOMEM = -1, RT_IO = -2 };

enum rt_type {
    RT_TEXT, /* a string cell; never a formula */
    RT_INT,  /* an integer */
    RT_NUM,  /* a number (ratios: 4 decimals) */
};

struct rt_column {
    const char *path;  /* dot path of the member in a source row */
    const char *title; /* the header, Simplified Chinese */
    enum rt_type type;
    int div; /* RT_NUM: the source divided by this (100: fen to yuan); 0: as is */
};

struct rt_table {
    const char *sheet; /* the workbook's sheet name (<= 31 chars, no []:*?/\) */
    const struct rt_column *cols;
    size_t ncols;
    json_t *rows; /* array of arrays, ncols cells each; owned */
};

/* An empty table of these columns (rows an empty array). RT_OK or RT_NOMEM. */
int rt_init(struct rt_table *t, const char *sheet, const struct rt_column *cols, size_t ncols);
void rt_free(struct rt_table *t);
/* Appends a row per object of src (an array of JSON objects): each
 * column's member by its path, converted to its type (a string that is not
 * a number becomes an empty RT_INT/RT_NUM cell; a number of an RT_TEXT
 * column becomes its text). prefix (NULL: none) is an object whose
 * members stand before the row's for paths starting with "^." (a parent's
 * code in a drill-down). */
int rt_fill(struct rt_table *t, const json_t *src, const json_t *prefix);
/* The member of obj at a dot path, or NULL. */
const json_t *rt_path(const json_t *obj, const char *path);
/* Rows of the table. */
size_t rt_rows(const struct rt_table *t);
/* True when a text cell would start a formula in a spreadsheet (first
 * character = + - @, or a tab or carriage return): the CSV writer prefixes
 * it with an apostrophe; the XLSX writer writes every text cell as a
 * string anyway. */
bool rt_formula_like(const char *s);

#endif
