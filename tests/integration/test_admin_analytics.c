/* The console's analytics end to end (docs/api.md §2.3): a real daemon with
 * the core, ID-check and face simulators, real ZY1 envelopes, the real
 * console over HTTP.
 *
 *  - after known work of B01's demo01 (a customer, a visit, a debit card
 *    opened end to end) and demo02 (a customer), the drill-down
 *    /reports/performance?branch=01 answers per teller, each teller's
 *    figures equal to their own counter rows, and the existing members
 *    unchanged;
 *  - scope: a branch of another bank, a branch manager's other branch, a
 *    province administrator without bank=: 404 not_found;
 *  - the today board: today's totals and the debit card among the latest
 *    completed businesses (kind, amount, branch; no customer data), nothing
 *    of B01 for B02's administrator;
 *  - exports: the CSV (BOM, RFC 4180, the headers) holds exactly the JSON
 *    rows; the XLSX is a zip whose sheet holds the same cells (read back
 *    with python3's zipfile); Content-Disposition has both file names; a
 *    branch named "=HYPERLINK(..)" is neutralised in CSV and a plain
 *    string in XLSX; B01's administrator's exports never name B02; the
 *    table's own 404 passes through; a bad table or format is 400; every
 *    export is audited report.exported with its row count. */
#include "bizflow.h"
#include "console.h"
#include "data/store.h"
#include "simproc.h"
#include "simrig.h"
#include "tablet.h"
#include "testd.h"

#include <curl/curl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define ID_A "11010519491231002X"

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct tablet T2; /* demo02, B01 branch 02 */
static struct console A1, A2, P0, BM;
static struct store *DB;
enum { CORE, IDCHECK, FACE, NSIMS };
static struct simproc SIMS[NSIMS] = {{.mode = "core"}, {.mode = "idcheck"}, {.mode = "face"}};
static struct simrig RIG;
static char BIZ_NO[16];

/* ---- helpers -------------------------------------------------------------------- */

static json_t *call(struct tablet *t, const char *tx, const char *data)
{
    return tablet_must(t, tx, data, NULL);
}

static void expect_ok(json_t *a)
{
    if (strcmp(answer_code(a), "OK") != 0) {
        char *t = json_dumps(a, JSON_COMPACT);
        fail_msg("want OK, got %s", t);
    }
}

static int64_t db_int(const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return v;
}

/* The day's counter of metric for one teller (code), from the table itself. */
static int64_t teller_counter(const char *teller, const char *metric, int amount)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(SUM(p.%s), 0) FROM perf_counters p JOIN tellers t ON t.id = "
             "p.teller_id WHERE t.code = '%s' AND p.metric = '%s' AND p.period_kind = 'd'",
             amount ? "amount" : "qty", teller, metric);
    return db_int(sql);
}

struct download {
    long status;
    char *body;
    size_t len;
    char type[128];
    char disposition[256];
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct download *d = arg;
    char *b = realloc(d->body, d->len + sz * n + 1);
    if (!b)
        return 0;
    memcpy(b + d->len, p, sz * n);
    d->body = b;
    d->len += sz * n;
    d->body[d->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct download *d = arg;
    size_t len = sz * n;
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "Content-Type: ", 14) == 0)
        snprintf(d->type, sizeof d->type, "%.127s", line + 14);
    if (strncasecmp(line, "Content-Disposition: ", 21) == 0)
        snprintf(d->disposition, sizeof d->disposition, "%.255s", line + 21);
    return len;
}

/* GET path with c's session cookie, the raw bytes and the headers kept. */
static void get_raw(const struct console *c, const char *path, struct download *d)
{
    memset(d, 0, sizeof *d);
    char url[1024], cookie[128];
    snprintf(url, sizeof url, "%s%s", D.base, path);
    snprintf(cookie, sizeof cookie, "zs=%s", c->cookie);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, d);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &d->status);
    curl_easy_cleanup(h);
}

static json_t *get_ok(struct console *c, const char *path)
{
    json_t *a = NULL;
    long st = console_get(c, path, &a);
    if (st != 200) {
        char *t = json_dumps(a, JSON_COMPACT);
        fail_msg("GET %s: %ld %s", path, st, t ? t : "");
    }
    return a;
}

static json_t *find_code(json_t *list, const char *code)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (strcmp(json_string_value(json_object_get(v, "code")), code) == 0)
            return v;
    }
    fail_msg("%s not in the list", code);
    return NULL;
}

static int64_t fig(json_t *f, const char *a, const char *b)
{
    json_t *v = json_object_get(f, a);
    return json_integer_value(b ? json_object_get(v, b) : v);
}

/* The CSV's rows (after the header) as arrays of strings; fields unquoted. */
static json_t *parse_csv(const char *text, json_t **header)
{
    json_t *rows = json_array(), *row = json_array();
    char field[1024];
    size_t n = 0;
    bool quoted = false;
    for (const char *p = text;; p++) {
        if (quoted) {
            if (*p == '"' && p[1] == '"') {
                field[n++] = '"';
                p++;
            } else if (*p == '"')
                quoted = false;
            else
                field[n++] = *p;
            continue;
        }
        if (*p == '"') {
            quoted = true;
            continue;
        }
        if (*p == ',' || *p == '\r' || *p == '\0') {
            field[n] = '\0';
            json_array_append_new(row, json_string(field));
            n = 0;
            if (*p == '\r' || *p == '\0') {
                if (*p == '\r')
                    p++; /* the LF */
                if (json_array_size(rows) == 0 && !*header)
                    *header = row;
                else
                    json_array_append_new(rows, row);
                row = json_array();
                if (*p == '\0' || p[1] == '\0')
                    break;
            }
            continue;
        }
        field[n++] = *p;
    }
    json_decref(row);
    return rows;
}

/* The first sheet of an XLSX file as rows of strings (python3's zipfile
 * and a minimal reading of the sheet and shared strings). */
static json_t *read_xlsx(const struct download *d, char *formulas, size_t cap)
{
    char path[] = "/tmp/zt-xlsx-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, d->body, d->len), (ssize_t)d->len);
    close(fd);
    char cmd[4096];
    snprintf(
        cmd, sizeof cmd,
        "python3 -c '\n"
        "import zipfile, json, re, sys, xml.etree.ElementTree as ET\n"
        "z = zipfile.ZipFile(sys.argv[1])\n"
        "ns = {\"m\": \"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"}\n"
        "ss = []\n"
        "if \"xl/sharedStrings.xml\" in z.namelist():\n"
        "    for si in ET.fromstring(z.read(\"xl/sharedStrings.xml\")).findall(\"m:si\", ns):\n"
        "        ss.append(\"\".join(t.text or \"\" for t in si.iter(\"{%%s}t\" %% ns[\"m\"])))\n"
        "sh = ET.fromstring(z.read(\"xl/worksheets/sheet1.xml\"))\n"
        "rows = []; f = 0\n"
        "for r in sh.iter(\"{%%s}row\" %% ns[\"m\"]):\n"
        "    out = []\n"
        "    for c in r.findall(\"m:c\", ns):\n"
        "        col = 0\n"
        "        for ch in re.match(\"[A-Z]+\", c.get(\"r\")).group(0): col = col * 26 + "
        "ord(ch) - 64\n"
        "        out += [\"\"] * (col - 1 - len(out))\n"
        "        if c.find(\"m:f\", ns) is not None: f += 1\n"
        "        v = c.find(\"m:v\", ns)\n"
        "        if v is None: out.append(\"\")\n"
        "        elif c.get(\"t\") == \"s\": out.append(ss[int(v.text)])\n"
        "        else:\n"
        "            x = float(v.text); out.append(str(int(x)) if x == int(x) else "
        "(\"%%.4f\" %% x).rstrip(\"0\"))\n"
        "    if rows: out += [\"\"] * (len(rows[0]) - len(out))\n"
        "    rows.append(out)\n"
        "print(json.dumps({\"rows\": rows, \"formulas\": f}))\n"
        "' %s",
        path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(path);
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    snprintf(formulas, cap, "%lld", (long long)json_integer_value(json_object_get(j, "formulas")));
    json_t *rows = json_incref(json_object_get(j, "rows"));
    json_decref(j);
    return rows;
}

/* ---- the work ------------------------------------------------------------------- */

static void do_the_work(void **state)
{
    (void)state;
    json_t *a = call(&T1, "CUSTOMER_CREATE",
                     "{\"kind\":\"person\",\"name\":\"张三\",\"id_no\":\"330102198511300015\","
                     "\"phone\":\"13812345678\"}");
    expect_ok(a);
    int64_t c1 = json_integer_value(json_object_get(json_object_get(a, "data"), "customer_id"));
    json_decref(a);
    char data[512];
    snprintf(
        data, sizeof data,
        "{\"customer_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\",\"notes\":\"x\"}",
        (long long)c1);
    a = call(&T1, "VISIT_CHECKIN", data);
    expect_ok(a);
    json_decref(a);
    a = call(&T2, "CUSTOMER_CREATE",
             "{\"kind\":\"person\",\"name\":\"李四\",\"id_no\":\"330102199001011234\"}");
    expect_ok(a);
    json_decref(a);
}

/* A debit card opened end to end by demo01 (support/bizflow.h). */
static void complete_a_business(void)
{
    json_t *a = call(&T1, "BIZ_START", "{\"kind\":\"debit_card\"}");
    expect_ok(a);
    int64_t id = json_integer_value(json_object_get(json_object_get(a, "data"), "biz_id"));
    snprintf(BIZ_NO, sizeof BIZ_NO, "%s",
             json_string_value(json_object_get(json_object_get(a, "data"), "biz_no")));
    json_decref(a);
    char card[20];
    bizflow_new_card(1, card);
    for (size_t i = 0; i < BIZFLOW_NSTEPS; i++) {
        char *in = bizflow_input(BIZFLOW_STEPS[i], ID_A, "王秀英", card);
        assert_non_null(in);
        size_t n = strlen(in) + 128;
        char *d = malloc(n);
        snprintf(d, n, "{\"biz_id\":%lld,\"step\":\"%s\",\"input\":%s}", (long long)id,
                 BIZFLOW_STEPS[i], in);
        a = call(&T1, "BIZ_STEP", d);
        expect_ok(a);
        json_decref(a);
        free(d);
        free(in);
    }
}

/* ---- the today board ------------------------------------------------------------- */

static void today_board_shows_the_business(void **state)
{
    (void)state;
    json_t *before = get_ok(&A1, "/api/v1/admin/reports/today");
    int64_t n0 = fig(json_object_get(before, "total"), "business", "count");
    assert_int_equal(json_array_size(json_object_get(before, "latest")), 0);
    json_decref(before);

    complete_a_business();

    json_t *t = get_ok(&A1, "/api/v1/admin/reports/today");
    assert_string_equal(json_string_value(json_object_get(t, "level")), "branch");
    assert_int_equal(fig(json_object_get(t, "total"), "business", "count"), n0 + 1);
    json_t *latest = json_object_get(t, "latest");
    assert_int_equal(json_array_size(latest), 1);
    json_t *b = json_array_get(latest, 0);
    assert_string_equal(json_string_value(json_object_get(b, "biz_no")), BIZ_NO);
    assert_string_equal(json_string_value(json_object_get(b, "kind")), "debit_card");
    assert_true(json_string_length(json_object_get(b, "branch")) > 0);
    assert_true(json_integer_value(json_object_get(b, "completed_at")) > 0);
    assert_int_equal(json_integer_value(json_object_get(b, "amount")),
                     teller_counter("demo01", "business:debit_card", 1));
    /* No customer data on the board. */
    char *text = json_dumps(t, JSON_COMPACT);
    assert_null(strstr(text, "王秀英"));
    assert_null(strstr(text, ID_A));
    assert_null(strstr(text, "张三"));
    free(text);
    /* The branch's unit holds the same business. */
    json_t *u = find_code(json_object_get(t, "units"), "01");
    assert_int_equal(fig(u, "business", "count"), n0 + 1);
    json_decref(t);

    /* B02 sees none of it; the province sees it in B01's row. */
    t = get_ok(&A2, "/api/v1/admin/reports/today");
    text = json_dumps(t, JSON_COMPACT);
    assert_null(strstr(text, BIZ_NO));
    assert_null(strstr(text, "B01"));
    free(text);
    json_decref(t);
    t = get_ok(&P0, "/api/v1/admin/reports/today");
    assert_string_equal(json_string_value(json_object_get(t, "level")), "bank");
    assert_int_equal(fig(find_code(json_object_get(t, "units"), "B01"), "business", "count"),
                     n0 + 1);
    assert_int_equal(json_array_size(json_object_get(t, "latest")), 1);
    json_decref(t);
}

/* ---- the drill-down --------------------------------------------------------------- */

static void check_teller(json_t *tellers, const char *code)
{
    json_t *t = find_code(tellers, code);
    json_t *f = json_object_get(t, "current");
    assert_int_equal(fig(f, "visits", NULL), teller_counter(code, "visits", 0));
    assert_int_equal(fig(f, "customers_created", NULL),
                     teller_counter(code, "customers_created", 0));
    assert_int_equal(fig(f, "business", "count"), teller_counter(code, "business:debit_card", 0));
    assert_int_equal(fig(f, "business", "amount"), teller_counter(code, "business:debit_card", 1));
    assert_int_equal(fig(json_object_get(t, "previous"), "visits", NULL), 0);
}

static void drill_down_per_teller(void **state)
{
    (void)state;
    json_t *r = get_ok(&A1, "/api/v1/admin/reports/performance?period=day&branch=01");
    json_t *tellers = json_object_get(r, "tellers");
    assert_true(json_is_array(tellers));
    check_teller(tellers, "demo01");
    assert_int_equal(fig(json_object_get(find_code(tellers, "demo01"), "current"), "visits", NULL),
                     1);
    /* demo02 works in 02, not in 01. */
    size_t i;
    json_t *v;
    json_array_foreach(tellers, i, v)
    {
        assert_string_not_equal(json_string_value(json_object_get(v, "code")), "demo02");
    }
    /* The existing members are still there: the bank with that branch only. */
    json_t *banks = json_object_get(r, "banks");
    assert_int_equal(json_array_size(banks), 1);
    json_t *branches = json_object_get(json_array_get(banks, 0), "branches");
    assert_int_equal(json_array_size(branches), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(branches, 0), "code")),
                        "01");
    assert_non_null(json_object_get(r, "total"));
    assert_non_null(json_object_get(r, "period"));
    json_decref(r);
    r = get_ok(&A1, "/api/v1/admin/reports/performance?period=day&branch=02");
    check_teller(json_object_get(r, "tellers"), "demo02");
    assert_int_equal(
        fig(json_object_get(find_code(json_object_get(r, "tellers"), "demo02"), "current"),
            "customers_created", NULL),
        1);
    json_decref(r);
    /* Without branch= there is no "tellers" member. */
    r = get_ok(&A1, "/api/v1/admin/reports/performance?period=day");
    assert_null(json_object_get(r, "tellers"));
    json_decref(r);
    /* The province names the bank; the branch manager their branch. */
    r = get_ok(&P0, "/api/v1/admin/reports/performance?period=month&bank=B01&branch=01");
    check_teller(json_object_get(r, "tellers"), "demo01");
    json_decref(r);
    r = get_ok(&BM, "/api/v1/admin/reports/performance?period=week&branch=01");
    assert_non_null(find_code(json_object_get(r, "tellers"), "demo01"));
    json_decref(r);
}

static void drill_down_scope(void **state)
{
    (void)state;
    json_t *a = NULL;
    /* B01's administrator, B02's branch: as if there were none. */
    assert_int_equal(
        console_get(&A1, "/api/v1/admin/reports/performance?period=day&bank=B02&branch=01", &a),
        404);
    assert_string_equal(console_err(a), "not_found");
    json_decref(a);
    assert_int_equal(
        console_get(&A1, "/api/v1/admin/reports/performance?period=day&branch=zz", NULL), 404);
    /* The branch manager of 01 asks for 02 (B01 has it in the demo). */
    assert_int_equal(
        console_get(&BM, "/api/v1/admin/reports/performance?period=day&branch=02", NULL), 404);
    /* The province without bank=. */
    assert_int_equal(
        console_get(&P0, "/api/v1/admin/reports/performance?period=day&branch=01", NULL), 404);
    /* B02's administrator: their own branch 01 holds none of B01's tellers. */
    json_t *r = get_ok(&A2, "/api/v1/admin/reports/performance?period=day&branch=01");
    char *text = json_dumps(r, JSON_COMPACT);
    assert_null(strstr(text, "demo01"));
    assert_null(strstr(text, "demo02"));
    free(text);
    json_decref(r);
}

/* ---- exports ---------------------------------------------------------------------- */

static void csv_matches_the_json(void **state)
{
    (void)state;
    json_t *r = get_ok(&A1, "/api/v1/admin/reports/performance?period=day&branch=01");
    json_t *tellers = json_object_get(r, "tellers");
    struct download d;
    get_raw(&A1, "/api/v1/admin/export?table=performance&format=csv&period=day&branch=01", &d);
    assert_int_equal(d.status, 200);
    assert_non_null(strstr(d.type, "text/csv"));
    assert_non_null(strstr(d.disposition, "attachment; filename=\"performance-"));
    assert_non_null(strstr(d.disposition, "filename*=UTF-8''%E4%B8%9A%E7%BB%A9-"));
    assert_memory_equal(d.body, "\xEF\xBB\xBF", 3);
    json_t *header = NULL;
    json_t *rows = parse_csv(d.body + 3, &header);
    assert_string_equal(json_string_value(json_array_get(header, 0)), "代码");
    assert_string_equal(json_string_value(json_array_get(header, 2)), "走访");
    assert_int_equal(json_array_size(rows), json_array_size(tellers));
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *t = json_array_get(tellers, i);
        json_t *f = json_object_get(t, "current");
        char want[64];
        assert_string_equal(json_string_value(json_array_get(row, 0)),
                            json_string_value(json_object_get(t, "code")));
        assert_string_equal(json_string_value(json_array_get(row, 1)),
                            json_string_value(json_object_get(t, "name")));
        snprintf(want, sizeof want, "%lld", (long long)fig(f, "visits", NULL));
        assert_string_equal(json_string_value(json_array_get(row, 2)), want);
        snprintf(want, sizeof want, "%lld", (long long)fig(f, "customers_created", NULL));
        assert_string_equal(json_string_value(json_array_get(row, 3)), want);
        snprintf(want, sizeof want, "%lld", (long long)fig(f, "business", "count"));
        assert_string_equal(json_string_value(json_array_get(row, 9)), want);
        double amount = strtod(json_string_value(json_array_get(row, 10)), NULL);
        assert_true(amount * 100 > (double)fig(f, "business", "amount") - 0.5 &&
                    amount * 100 < (double)fig(f, "business", "amount") + 0.5);
    }
    /* Numbers are unquoted. */
    assert_null(strstr(d.body, ",\"1\""));
    json_decref(rows);
    json_decref(header);
    free(d.body);
    json_decref(r);
    /* Audited with its row count. */
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'report.exported' AND "
                            "target = 'performance' AND actor = 'teller:admin01'"),
                     1);
}

static void xlsx_matches_the_csv(void **state)
{
    (void)state;
    struct download c, x;
    get_raw(&A1, "/api/v1/admin/export?table=tellers&format=csv", &c);
    get_raw(&A1, "/api/v1/admin/export?table=tellers&format=xlsx", &x);
    assert_int_equal(c.status, 200);
    assert_int_equal(x.status, 200);
    assert_non_null(strstr(x.type, "spreadsheetml"));
    assert_non_null(strstr(x.disposition, "tellers-"));
    assert_non_null(strstr(x.disposition, ".xlsx"));
    assert_memory_equal(x.body, "PK", 2);
    json_t *header = NULL;
    json_t *rows = parse_csv(c.body + 3, &header);
    char formulas[32];
    json_t *sheet = read_xlsx(&x, formulas, sizeof formulas);
    assert_int_equal(json_array_size(sheet), json_array_size(rows) + 1);
    assert_true(json_equal(json_array_get(sheet, 0), header));
    for (size_t i = 0; i < json_array_size(rows); i++)
        if (!json_equal(json_array_get(sheet, i + 1), json_array_get(rows, i))) {
            char *a = json_dumps(json_array_get(sheet, i + 1), 0);
            char *b = json_dumps(json_array_get(rows, i), 0);
            fail_msg("row %zu: xlsx %s, csv %s", i, a, b);
        }
    /* The tellers of B01 and nothing of B02. */
    assert_non_null(strstr(c.body, "demo01"));
    assert_null(strstr(c.body, "B02"));
    assert_null(strstr(c.body, "demo03"));
    json_decref(sheet);
    json_decref(rows);
    json_decref(header);
    free(c.body);
    free(x.body);
}

static void formulas_are_neutralised(void **state)
{
    (void)state;
    assert_int_equal(
        console_post(&A1, "/api/v1/admin/branches",
                     "{\"code\":\"f1\",\"name\":\"=HYPERLINK(\\\"http://x\\\",\\\"y\\\")\"}", NULL),
        201);
    struct download c, x;
    get_raw(&A1, "/api/v1/admin/export?table=branches&format=csv", &c);
    assert_int_equal(c.status, 200);
    /* Quoted (it holds quotes), the quotes doubled, an apostrophe first. */
    assert_non_null(strstr(c.body, ",\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","));
    get_raw(&A1, "/api/v1/admin/export?table=branches&format=xlsx", &x);
    assert_int_equal(x.status, 200);
    char formulas[32];
    json_t *sheet = read_xlsx(&x, formulas, sizeof formulas);
    assert_string_equal(formulas, "0");
    bool found = false;
    for (size_t i = 0; i < json_array_size(sheet); i++)
        found |= strcmp(json_string_value(json_array_get(json_array_get(sheet, i), 2)),
                        "=HYPERLINK(\"http://x\",\"y\")") == 0;
    assert_true(found);
    json_decref(sheet);
    free(c.body);
    free(x.body);
}

static void every_table_stays_in_scope(void **state)
{
    (void)state;
    static const char *const tables[] = {"performance", "customers", "tellers", "devices",
                                         "branches",    "banks",     "audit",   "today"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        for (int xl = 0; xl < 2; xl++) {
            char path[256];
            snprintf(path, sizeof path, "/api/v1/admin/export?table=%s&format=%s&period=month",
                     tables[i], xl ? "xlsx" : "csv");
            struct download d;
            get_raw(&A1, path, &d);
            if (d.status != 200)
                fail_msg("%s: %ld %s", path, d.status, d.body ? d.body : "");
            if (xl) {
                char formulas[32];
                json_t *sheet = read_xlsx(&d, formulas, sizeof formulas);
                char *text = json_dumps(sheet, 0);
                if (strstr(text, "B02") || strstr(text, "demo03") || strstr(text, "绿水"))
                    fail_msg("%s names B02: %s", path, text);
                free(text);
                json_decref(sheet);
            } else if (strstr(d.body, "B02") || strstr(d.body, "demo03") || strstr(d.body, "绿水"))
                fail_msg("%s names B02: %s", path, d.body);
            free(d.body);
        }
    /* The table's own refusal passes through; bad arguments; no session. */
    struct download d;
    get_raw(&A1, "/api/v1/admin/export?table=performance&format=csv&period=day&bank=B02", &d);
    assert_int_equal(d.status, 404);
    assert_non_null(strstr(d.body, "not_found"));
    free(d.body);
    get_raw(&A1, "/api/v1/admin/export?table=secrets&format=csv", &d);
    assert_int_equal(d.status, 400);
    free(d.body);
    get_raw(&A1, "/api/v1/admin/export?table=banks&format=pdf", &d);
    assert_int_equal(d.status, 400);
    free(d.body);
    struct console none = {.d = &D};
    get_raw(&none, "/api/v1/admin/export?table=banks&format=csv", &d);
    assert_int_equal(d.status, 401);
    free(d.body);
    /* Each export audited, with the filters and the rows. */
    assert_true(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'report.exported' AND "
                       "actor = 'teller:admin01'") >= 16);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'report.exported' AND "
                            "target = 'customers' AND detail LIKE '%\"rows\":1%' AND detail LIKE "
                            "'%\"period\":\"month\"%'"),
                     2);
}

static void province_total_is_the_sum(void **state)
{
    (void)state;
    json_t *r = get_ok(&P0, "/api/v1/admin/reports/performance?period=day");
    json_t *banks = json_object_get(r, "banks");
    int64_t visits = 0, count = 0;
    size_t i;
    json_t *b;
    json_array_foreach(banks, i, b)
    {
        visits += fig(json_object_get(b, "current"), "visits", NULL);
        count += fig(json_object_get(b, "current"), "business", "count");
    }
    json_t *total = json_object_get(json_object_get(r, "total"), "current");
    assert_int_equal(fig(total, "visits", NULL), visits);
    assert_int_equal(fig(total, "business", "count"), count);
    assert_true(count >= 1);
    json_decref(r);
}

static int setup(void **state)
{
    (void)state;
    char conf[2048] = "[log]\nlevel = info\n";
    if (simrig_start(&RIG, "analytics", SIMS, NSIMS) != 0 ||
        simrig_egress(&RIG, 1500, conf, sizeof conf) != 0 || testd_init(&D, conf) != 0 ||
        simrig_daemon_files(&RIG, &D) != 0)
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T2, &D, "demo02") || tablet_login(&T2, "demo02", PW))
        return -1;
    if (console_login(&A1, &D, "admin01", PW) != 200 ||
        console_login(&A2, &D, "admin02", PW) != 200 || console_login(&P0, &D, "prov01", PW) != 200)
        return -1;
    if (console_post(&A1, "/api/v1/admin/tellers",
                     "{\"branch\":\"01\",\"code\":\"bm01\",\"name\":\"城关负责人\",\"role\":"
                     "\"branch_manager\",\"password\":\"" PW "\"}",
                     NULL) != 201)
        return -1;
    return console_login(&BM, &D, "bm01", PW) != 200 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T2);
    store_close(DB);
    testd_cleanup(&D);
    return simrig_stop(&RIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(do_the_work),
        cmocka_unit_test(today_board_shows_the_business),
        cmocka_unit_test(drill_down_per_teller),
        cmocka_unit_test(drill_down_scope),
        cmocka_unit_test(csv_matches_the_json),
        cmocka_unit_test(xlsx_matches_the_csv),
        cmocka_unit_test(formulas_are_neutralised),
        cmocka_unit_test(every_table_stays_in_scope),
        cmocka_unit_test(province_total_is_the_sum),
    };
    return cmocka_run_group_tests_name("admin_analytics", tests, setup, teardown);
}
