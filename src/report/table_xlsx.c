/* table_xlsx.c — a table as an XLSX workbook (see table_xlsx.h). */
#include "report/table_xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

/* The sheet's rows into ws; false when the library refused a cell. */
static bool write_sheet(const struct rt_table *t, lxw_worksheet *ws, lxw_format *bold)
{
    for (size_t k = 0; k < t->ncols; k++)
        if (worksheet_write_string(ws, 0, (lxw_col_t)k, t->cols[k].title, bold) != LXW_NO_ERROR)
            return false;
    size_t i;
    json_t *row;
    json_array_foreach(t->rows, i, row)
    {
        lxw_row_t r = (lxw_row_t)(i + 1);
        for (size_t k = 0; k < t->ncols; k++) {
            const json_t *v = json_array_get(row, k);
            lxw_col_t c = (lxw_col_t)k;
            lxw_error e = LXW_NO_ERROR;
            if (json_is_string(v))
                e = worksheet_write_string(ws, r, c, json_string_value(v), NULL);
            else if (json_is_integer(v))
                e = worksheet_write_number(ws, r, c, (double)json_integer_value(v), NULL);
            else if (json_is_real(v))
                e = worksheet_write_number(ws, r, c, json_real_value(v), NULL);
            if (e != LXW_NO_ERROR)
                return false;
        }
    }
    worksheet_set_column(ws, 0, (lxw_col_t)(t->ncols ? t->ncols - 1 : 0), 14, NULL);
    return true;
}

static int slurp(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return RT_IO;
    int rc = RT_IO;
    char *p = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n > 0 && fseek(f, 0, SEEK_SET) == 0) {
        p = malloc((size_t)n);
        rc = !p ? RT_NOMEM : fread(p, 1, (size_t)n, f) == (size_t)n ? RT_OK : RT_IO;
    }
    fclose(f);
    if (rc != RT_OK) {
        free(p);
        return rc;
    }
    *out = p;
    *len = (size_t)n;
    return RT_OK;
}

int rt_xlsx(const struct rt_table *t, const char *tmpdir, char **out, size_t *len)
{
    const char *dir = tmpdir ? tmpdir : getenv("TMPDIR");
    char path[512];
    if (snprintf(path, sizeof path, "%s/zhanye-export-XXXXXX", dir && dir[0] ? dir : "/tmp") >=
        (int)sizeof path)
        return RT_IO;
    int fd = mkstemp(path);
    if (fd < 0)
        return RT_IO;
    close(fd); /* the library opens it by name and truncates it */
    lxw_workbook_options opt = {.tmpdir = (char *)(dir && dir[0] ? dir : "/tmp")};
    lxw_workbook *wb = workbook_new_opt(path, &opt);
    int rc = RT_IO;
    if (wb) {
        lxw_worksheet *ws = workbook_add_worksheet(wb, t->sheet);
        lxw_format *bold = workbook_add_format(wb);
        if (bold)
            format_set_bold(bold);
        bool ok = ws && write_sheet(t, ws, bold);
        if (workbook_close(wb) == LXW_NO_ERROR && ok)
            rc = slurp(path, out, len);
    }
    unlink(path);
    return rc;
}
