/* GET /api/v1/admin/export?table=T&format=csv|xlsx&<the table's own filters>
 * — one table of the console as a download (report/table*.h): the table's
 * own endpoint runs on the same request (so the same filters, the same
 * scope, the same answers: a bank outside the scope is that endpoint's 404),
 * its rows become a table of fixed columns with Chinese headers, written as
 * CSV or XLSX, answered with Content-Disposition: attachment and a file name
 * in ASCII plus filename* in UTF-8. Audited report.exported (the table, the
 * format, the filters given, the row count). An unknown table or format is
 * 400 bad_request; whatever the table's endpoint refuses is answered as it
 * answered it.
 *
 * Each table is one line of EXPORTS (its endpoint, the member holding its
 * rows, its columns); the work is export_table's, shared by all. */
#include "app/app.h"
#include "business/perf.h"
#include "foundation/clock.h"
#include "http/admin.h"
#include "http/handlers.h"
#include "identity/audit.h"
#include "report/table.h"
#include "report/table_csv.h"
#include "report/table_xlsx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct export_def {
    const char *table; /* ?table= */
    const char *file;  /* the file name's ASCII base */
    const char *utf8;  /* the file name in Chinese, percent-encoded (filename*) */
    const char *sheet; /* the workbook's sheet */
    http_handler fn;   /* the table's own endpoint */
    const char *key;   /* the answer's member holding the rows */
    const struct rt_column *cols;
    size_t ncols;
    /* optional: the rows when they are not simply ans[key] */
    int (*rows)(const json_t *ans, struct rt_table *t);
};

#define COLS(a) .cols = (a), .ncols = sizeof(a) / sizeof((a)[0])

/* The performance figures (business/perf_summary.h F), current period. */
#define FIGURES(p)                                                                                 \
    {.path = p "visits", .title = "走访", .type = RT_INT},                                         \
        {.path = p "customers_created", .title = "新建客户", .type = RT_INT},                      \
        {.path = p "profiles_written", .title = "建档更新", .type = RT_INT},                       \
        {.path = p "info_completeness", .title = "信息完整度", .type = RT_NUM},                    \
        {.path = p "recommendations_made", .title = "推荐次数", .type = RT_INT},                   \
        {.path = p "recommendations_accepted", .title = "推荐成功", .type = RT_INT},               \
        {.path = p "conversion", .title = "转化率", .type = RT_NUM},                               \
        {.path = p "business.count", .title = "业务笔数", .type = RT_INT},                         \
    {                                                                                              \
        .path = p "business.amount", .title = "业务金额(元)", .type = RT_NUM, .div = 100           \
    }

static const struct rt_column C_PERF[] = {
    {.path = "code", .title = "代码", .type = RT_TEXT},
    {.path = "name", .title = "名称", .type = RT_TEXT},
    FIGURES("current."),
};
static const struct rt_column C_TODAY[] = {
    {.path = "code", .title = "代码", .type = RT_TEXT},
    {.path = "name", .title = "名称", .type = RT_TEXT},
    FIGURES(""),
};
static const struct rt_column C_CUSTOMERS[] = {
    {.path = "code", .title = "代码", .type = RT_TEXT},
    {.path = "name", .title = "法人行", .type = RT_TEXT},
    {.path = "persons", .title = "个人客户", .type = RT_INT},
    {.path = "businesses", .title = "企业客户", .type = RT_INT},
};
static const struct rt_column C_BANKS[] = {
    {.path = "code", .title = "代码", .type = RT_TEXT},
    {.path = "name", .title = "名称", .type = RT_TEXT},
    {.path = "kind", .title = "类型", .type = RT_TEXT},
    {.path = "active", .title = "启用", .type = RT_INT},
};
static const struct rt_column C_BRANCHES[] = {
    {.path = "bank", .title = "法人行", .type = RT_TEXT},
    {.path = "code", .title = "代码", .type = RT_TEXT},
    {.path = "name", .title = "名称", .type = RT_TEXT},
    {.path = "active", .title = "启用", .type = RT_INT},
};
static const struct rt_column C_TELLERS[] = {
    {.path = "code", .title = "工号", .type = RT_TEXT},
    {.path = "name", .title = "姓名", .type = RT_TEXT},
    {.path = "role", .title = "角色", .type = RT_TEXT},
    {.path = "bank", .title = "法人行", .type = RT_TEXT},
    {.path = "branch", .title = "网点", .type = RT_TEXT},
    {.path = "active", .title = "启用", .type = RT_INT},
    {.path = "locked", .title = "锁定", .type = RT_INT},
};
static const struct rt_column C_DEVICES[] = {
    {.path = "dev", .title = "设备", .type = RT_TEXT},
    {.path = "status", .title = "状态", .type = RT_TEXT},
    {.path = "bank", .title = "法人行", .type = RT_TEXT},
    {.path = "teller", .title = "柜员", .type = RT_TEXT},
    {.path = "model", .title = "型号", .type = RT_TEXT},
    {.path = "app", .title = "应用版本", .type = RT_TEXT},
    {.path = "last_seen", .title = "最近在线(ms)", .type = RT_INT},
};
static const struct rt_column C_AUDIT[] = {
    {.path = "chain", .title = "链", .type = RT_TEXT},
    {.path = "seq", .title = "序号", .type = RT_INT},
    {.path = "ts", .title = "时间(ms)", .type = RT_INT},
    {.path = "actor", .title = "操作人", .type = RT_TEXT},
    {.path = "event", .title = "事件", .type = RT_TEXT},
    {.path = "target", .title = "对象", .type = RT_TEXT},
};

/* The performance report's rows at the level it was asked: the tellers of
 * the drill-down, else the branches of the one bank, else the banks. */
static int perf_rows(const json_t *ans, struct rt_table *t)
{
    const json_t *tellers = json_object_get(ans, "tellers");
    if (tellers)
        return rt_fill(t, tellers, NULL);
    const json_t *banks = json_object_get(ans, "banks");
    const json_t *branches = json_object_get(json_array_get(banks, 0), "branches");
    if (json_array_size(banks) == 1 && json_array_size(branches) > 0)
        return rt_fill(t, branches, NULL);
    return rt_fill(t, banks, NULL);
}

/* The today board's rows: its units (banks or branches). */
static int today_rows(const json_t *ans, struct rt_table *t)
{
    return rt_fill(t, json_object_get(ans, "units"), NULL);
}

static const struct export_def EXPORTS[] = {
    {.table = "performance",
     .file = "performance",
     .utf8 = "%E4%B8%9A%E7%BB%A9", /* 业绩 */
     .sheet = "业绩",
     .fn = h_admin_report_performance,
     .rows = perf_rows,
     COLS(C_PERF)},
    {.table = "today",
     .file = "today",
     .utf8 = "%E4%BB%8A%E6%97%A5", /* 今日 */
     .sheet = "今日",
     .fn = h_admin_report_today,
     .rows = today_rows,
     COLS(C_TODAY)},
    {.table = "customers",
     .file = "customers",
     .utf8 = "%E5%AE%A2%E6%88%B7", /* 客户 */
     .sheet = "客户统计",
     .fn = h_admin_report_customers,
     .key = "banks",
     COLS(C_CUSTOMERS)},
    {.table = "banks",
     .file = "banks",
     .utf8 = "%E6%B3%95%E4%BA%BA%E8%A1%8C", /* 法人行 */
     .sheet = "法人行",
     .fn = h_admin_banks,
     .key = "banks",
     COLS(C_BANKS)},
    {.table = "branches",
     .file = "branches",
     .utf8 = "%E7%BD%91%E7%82%B9", /* 网点 */
     .sheet = "网点",
     .fn = h_admin_branches,
     .key = "branches",
     COLS(C_BRANCHES)},
    {.table = "tellers",
     .file = "tellers",
     .utf8 = "%E6%9F%9C%E5%91%98", /* 柜员 */
     .sheet = "柜员",
     .fn = h_admin_tellers,
     .key = "tellers",
     COLS(C_TELLERS)},
    {.table = "devices",
     .file = "devices",
     .utf8 = "%E8%AE%BE%E5%A4%87", /* 设备 */
     .sheet = "设备",
     .fn = h_admin_devices,
     .key = "devices",
     COLS(C_DEVICES)},
    {.table = "audit",
     .file = "audit",
     .utf8 = "%E5%AE%A1%E8%AE%A1", /* 审计 */
     .sheet = "审计日志",
     .fn = h_admin_audit_records,
     .key = "records",
     COLS(C_AUDIT)},
};

/* The filters an export records: those of any table's endpoint. */
static const char *const FILTERS[] = {"bank", "branch", "period", "date", "before", "limit"};

struct exported {
    const char *actor, *table, *format;
    int64_t bank_id;
    json_t *filters;
    size_t rows;
};

/* store_run callback: the export's audit record. */
static int audit_txn(struct store_conn *c, void *arg)
{
    const struct exported *e = arg;
    return audit_appendf(c, e->bank_id, e->actor, "report.exported", e->table, "{s:s, s:O, s:I}",
                         "format", e->format, "filters", e->filters, "rows", (json_int_t)e->rows);
}

/* The table's own answer moved into resp (its status, body and headers). */
static void pass_on(struct http_response *resp, struct http_response *inner)
{
    http_text(resp, inner->status, inner->content_type, inner->body, inner->body_len);
    inner->body = NULL;
    for (int i = 0; i < inner->nheaders; i++)
        http_add_header(resp, inner->headers[i].name, inner->headers[i].value);
}

/* The download's headers; false when they do not fit. */
static bool disposition(struct http_response *resp, const struct export_def *d, const char *ext)
{
    char v[128];
    int day = (int)perf_day_of(clock_wall_ms()); /* YYYYMMDD, China Standard Time */
    int n = snprintf(v, sizeof v, "attachment; filename=\"%s-%d.%s\"; filename*=UTF-8''%s-%d.%s",
                     d->file, day, ext, d->utf8, day, ext);
    return n > 0 && n < (int)sizeof v && http_add_header(resp, "Content-Disposition", v) == 0;
}

/* The whole export of table d from the endpoint's answer ans. */
static void export_table(struct http_request *req, struct http_response *resp,
                         const struct export_def *d, bool xlsx, const json_t *ans)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    struct rt_table t;
    struct exported e = {.actor = ar.actor,
                         .table = d->table,
                         .format = xlsx ? "xlsx" : "csv",
                         .bank_id = ar.who.bank_id,
                         .filters = json_object()};
    char *body = NULL;
    size_t len = 0;
    int rc = rt_init(&t, d->sheet, d->cols, d->ncols);
    if (rc == RT_OK)
        rc = d->rows ? d->rows(ans, &t) : rt_fill(&t, json_object_get(ans, d->key), NULL);
    for (size_t i = 0; e.filters && i < sizeof FILTERS / sizeof FILTERS[0]; i++) {
        const char *v = admin_query(req, FILTERS[i]);
        if (v)
            json_object_set_new(e.filters, FILTERS[i], json_string(v));
    }
    if (rc == RT_OK && !e.filters)
        rc = RT_NOMEM;
    if (rc == RT_OK)
        rc = xlsx ? rt_xlsx(&t, ar.app->cfg.data_dir, &body, &len) : rt_csv(&t, &body, &len);
    e.rows = rt_rows(&t);
    if (rc != RT_OK)
        admin_fail(&ar, STORE_ERR, "export");
    else if (admin_run(&ar, "audit export", audit_txn, &e, NULL)) {
        if (disposition(resp, d, xlsx ? "xlsx" : "csv")) {
            http_text(resp, 200,
                      xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                           : "text/csv; charset=utf-8",
                      body, len);
            body = NULL;
        } else
            admin_fail(&ar, STORE_ERR, "export headers");
    }
    free(body);
    json_decref(e.filters);
    rt_free(&t);
    admin_close(&ar);
}

void h_admin_export(struct http_request *req, struct http_response *resp)
{
    const char *table = admin_query(req, "table"), *format = admin_query(req, "format");
    const struct export_def *d = NULL;
    for (size_t i = 0; table && i < sizeof EXPORTS / sizeof EXPORTS[0]; i++)
        if (strcmp(EXPORTS[i].table, table) == 0)
            d = &EXPORTS[i];
    bool csv = format && strcmp(format, "csv") == 0, xlsx = format && strcmp(format, "xlsx") == 0;
    if (!d || (!csv && !xlsx)) {
        /* The session first: a caller without one learns nothing of the tables. */
        struct admin_req ar;
        if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
            return;
        http_error(resp, ZE_BAD_REQUEST, !d ? "table: 未知的报表" : "format: 须为 csv 或 xlsx");
        admin_close(&ar);
        return;
    }
    /* The table's own endpoint, on this very request: its scope, its filters. */
    struct http_response inner = {.https = resp->https};
    d->fn(req, &inner);
    json_t *ans =
        inner.status == 200 && inner.body ? json_loadb(inner.body, inner.body_len, 0, NULL) : NULL;
    if (!ans)
        pass_on(resp, &inner);
    else
        export_table(req, resp, d, xlsx, ans);
    json_decref(ans);
    free(inner.body);
}
