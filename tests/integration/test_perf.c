/* Performance figures end to end, over HTTP with real ZY1 envelopes and the
 * real console against a real daemon: customers created and updated, visits
 * checked in (one of them twice with the same cseq), recommendations listed
 * and answered; then PERF_SUMMARY (a client manager's own figures, a branch
 * manager's branch) and GET /api/v1/admin/reports/performance (branch
 * manager, bank admin, province admin, narrowed to a bank) show exactly
 * those counts, for the day, the week and the month, with the previous
 * period empty; the counters agree with the rows of the work they count
 * (the same transaction); refused work counts nothing; another bank sees
 * nothing of it; bad periods, dates and scopes are bad_request. Isolation
 * between banks: test_isolation.c's rows too. */
#include "console.h"
#include "data/store.h"
#include "tablet.h"
#include "testd.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PW "Demo@1234"

static struct testd D;
static struct tablet T1;  /* demo01, B01/01 client manager */
static struct tablet T3;  /* demo03, B02/01 client manager */
static struct tablet TB;  /* bm01, B01/01 branch manager */
static struct console A1; /* admin01, bank admin of B01 */
static struct console A2; /* admin02, bank admin of B02 */
static struct console P0; /* prov01, province admin */
static struct console BM; /* bm01 on the console */
static struct store *DB;

/* What the work of B01's demo01 comes to (filled by do_the_work). */
static int64_t MADE;

/* ---- helpers -------------------------------------------------------------------- */

static json_t *call_cseq(struct tablet *t, const char *tx, const char *cseq, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static json_t *call_cseq(struct tablet *t, const char *tx, const char *cseq, const char *fmt, ...)
{
    char data[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    return tablet_must(t, tx, data, cseq);
}

#define call(t, tx, ...) call_cseq(t, tx, NULL, __VA_ARGS__)

static int64_t int_of(json_t *a, const char *key)
{
    return json_integer_value(json_object_get(answer_data(a), key));
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

/* The day's counter of metric for bank (code), summed over its tellers
 * (not the branches' sums, teller_id 0). */
static int64_t counter(const char *bank, const char *metric)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT COALESCE(SUM(p.qty), 0) FROM perf_counters p JOIN banks b ON b.id = "
             "p.bank_id WHERE b.code = '%s' AND p.metric = '%s' AND p.period_kind = 'd' AND "
             "p.teller_id > 0",
             bank, metric);
    return db_int(sql);
}

static int64_t num(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v)) {
        char *t = json_dumps(obj, JSON_COMPACT);
        fail_msg("%s is not an integer in %s", key, t);
    }
    return json_integer_value(v);
}

static double real(json_t *obj, const char *key)
{
    return json_number_value(json_object_get(obj, key));
}

static json_t *summary(struct tablet *t, const char *data)
{
    json_t *a = call(t, "PERF_SUMMARY", "%s", data);
    answer_expect(a, "OK");
    return a;
}

/* Figures F show exactly what demo01 did in do_the_work. */
static void is_the_work(json_t *f)
{
    assert_non_null(f);
    assert_int_equal(num(f, "customers_created"), 2);
    assert_int_equal(num(f, "profiles_written"), 3);
    /* 3 of 7, 0 of 7, then 1 of 7 optional members filled */
    assert_true(fabs(real(f, "info_completeness") - round(4.0 / 21.0 * 10000) / 10000) < 1e-9);
    assert_int_equal(num(f, "visits"), 2);
    json_t *o = json_object_get(f, "visits_by_outcome");
    assert_int_equal(num(o, "met"), 1);
    assert_int_equal(num(o, "interested"), 1);
    assert_int_equal(num(o, "not_home"), 0);
    assert_int_equal(num(f, "leads_opened"), 1);
    assert_int_equal(num(f, "recommendations_made"), MADE);
    assert_int_equal(num(f, "recommendations_accepted"), 1);
    assert_int_equal(num(f, "recommendations_declined"), 1);
    assert_int_equal(num(f, "recommendations_later"), 0);
    assert_true(fabs(real(f, "conversion") - round(1.0 / (double)MADE * 10000) / 10000) < 1e-9);
    json_t *b = json_object_get(f, "business");
    assert_int_equal(num(b, "count"), 0);
    assert_int_equal(num(b, "amount"), 0);
    assert_int_equal(json_object_size(json_object_get(b, "by_type")), 0);
}

static void is_empty(json_t *f)
{
    assert_non_null(f);
    static const char *const keys[] = {
        "customers_created", "profiles_written",     "visits",
        "leads_opened",      "recommendations_made", "recommendations_accepted"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (num(f, keys[i]) != 0) {
            char *t = json_dumps(f, JSON_COMPACT);
            fail_msg("%s is not 0 in %s", keys[i], t);
        }
    assert_true(real(f, "conversion") == 0.0);
}

/* ---- the work -------------------------------------------------------------------- */

static void do_the_work(void **state)
{
    (void)state;
    /* B02 does some work of its own first: B01 must not see it. */
    json_t *a =
        call(&T3, "CUSTOMER_CREATE",
             "{\"kind\":\"person\",\"name\":\"绿水客户\",\"id_no\":\"330102199104050017\"}");
    answer_expect(a, "OK");
    json_decref(a);

    a = call(&T1, "CUSTOMER_CREATE",
             "{\"kind\":\"person\",\"name\":\"张三\",\"id_no\":\"330102198511300015\","
             "\"phone\":\"13812345678\",\"address\":\"城关镇1号\",\"occupation\":\"farmer\"}");
    answer_expect(a, "OK");
    int64_t c1 = int_of(a, "customer_id");
    json_decref(a);
    a = call(&T1, "CUSTOMER_CREATE",
             "{\"kind\":\"person\",\"name\":\"李四\",\"id_no\":\"330102199001011234\"}");
    answer_expect(a, "OK");
    int64_t c2 = int_of(a, "customer_id");
    json_decref(a);
    /* Refused work counts nothing: the same ID number again, a bad one. */
    a = call(&T1, "CUSTOMER_CREATE",
             "{\"kind\":\"person\",\"name\":\"李四\",\"id_no\":\"330102199001011234\"}");
    answer_expect(a, "customer_exists");
    json_decref(a);
    a = call(&T1, "CUSTOMER_CREATE",
             "{\"kind\":\"person\",\"name\":\"王五\",\"id_no\":\"330102199001011235\"}");
    answer_expect(a, "bad_request");
    json_decref(a);
    a = call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":1,\"income_band\":\"30k_100k\"}", (long long)c2);
    answer_expect(a, "OK");
    json_decref(a);
    /* An update that changes nothing writes nothing and counts nothing. */
    a = call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":2,\"income_band\":\"30k_100k\"}", (long long)c2);
    answer_expect(a, "OK");
    json_decref(a);

    /* Two visits; the first sent twice with the same cseq is one visit. */
    for (int i = 0; i < 2; i++) {
        a = call_cseq(&T1, "VISIT_CHECKIN", "perf-visit-1",
                      "{\"customer_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\","
                      "\"notes\":\"见到户主\"}",
                      (long long)c1);
        answer_expect(a, "OK");
        json_decref(a);
    }
    a = call(&T1, "VISIT_CHECKIN",
             "{\"customer_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"interested\","
             "\"notes\":\"有兴趣\",\"open_lead\":{\"product\":\"agri_loan\"}}",
             (long long)c2);
    answer_expect(a, "OK");
    json_decref(a);
    a = call(&T1, "VISIT_CHECKIN",
             "{\"customer_id\":999999,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\","
             "\"notes\":\"x\"}");
    answer_expect(a, "customer_not_found");
    json_decref(a);

    /* Recommendations: what was shown, and two answers (one sent twice). */
    a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":%lld,\"limit\":3}", (long long)c1);
    answer_expect(a, "OK");
    json_t *items = json_object_get(answer_data(a), "items");
    MADE = (int64_t)json_array_size(items);
    char product[64];
    snprintf(product, sizeof product, "%s",
             json_string_value(json_object_get(json_array_get(items, 0), "product")));
    json_decref(a);
    a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":%lld,\"limit\":2}", (long long)c2);
    answer_expect(a, "OK");
    MADE += (int64_t)json_array_size(json_object_get(answer_data(a), "items"));
    json_decref(a);
    assert_true(MADE >= 2);
    for (int i = 0; i < 2; i++) {
        a = call_cseq(&T1, "RECOMMEND_FEEDBACK", "perf-fb-1",
                      "{\"customer_id\":%lld,\"product\":\"%s\",\"verdict\":\"accepted\"}",
                      (long long)c1, product);
        answer_expect(a, "OK");
        json_decref(a);
    }
    a = call(&T1, "RECOMMEND_FEEDBACK",
             "{\"customer_id\":%lld,\"product\":\"%s\",\"verdict\":\"declined\"}", (long long)c2,
             product);
    answer_expect(a, "OK");
    json_decref(a);

    /* The counters agree with the rows of the work they count. */
    assert_int_equal(counter("B01", "customers_created"),
                     db_int("SELECT COUNT(*) FROM customers c JOIN banks b ON b.id = c.bank_id "
                            "WHERE b.code = 'B01'"));
    assert_int_equal(counter("B01", "visits"),
                     db_int("SELECT COUNT(*) FROM visits v JOIN banks b ON b.id = v.bank_id "
                            "WHERE b.code = 'B01'"));
    assert_int_equal(counter("B01", "recommendations_accepted") +
                         counter("B01", "recommendations_declined"),
                     db_int("SELECT COUNT(*) FROM recommend_feedback f JOIN banks b ON b.id = "
                            "f.bank_id WHERE b.code = 'B01'"));
    assert_int_equal(counter("B01", "visits"), 2);
    assert_int_equal(counter("B02", "customers_created"), 1);
}

/* ---- PERF_SUMMARY ----------------------------------------------------------------- */

static void summary_shows_the_work(void **state)
{
    (void)state;
    static const char *const periods[] = {"day", "week", "month"};
    for (size_t i = 0; i < 3; i++) {
        char data[64];
        snprintf(data, sizeof data, "{\"period\":\"%s\"}", periods[i]);
        json_t *a = summary(&T1, data);
        assert_string_equal(json_string_value(json_object_get(answer_data(a), "scope")), "mine");
        assert_string_equal(json_string_value(json_object_get(answer_data(a), "period")),
                            periods[i]);
        is_the_work(json_object_get(answer_data(a), "current"));
        is_empty(json_object_get(answer_data(a), "previous"));
        json_t *p = json_object_get(json_object_get(answer_data(a), "current"), "period");
        assert_string_equal(json_string_value(json_object_get(p, "kind")), periods[i]);
        json_decref(a);
    }
    /* A month long past: nothing. Its period is named. */
    json_t *a = summary(&T1, "{\"period\":\"week\",\"date\":\"2020-01-01\"}");
    is_empty(json_object_get(answer_data(a), "current"));
    json_t *p = json_object_get(json_object_get(answer_data(a), "current"), "period");
    assert_string_equal(json_string_value(json_object_get(p, "start")), "2019-12-30");
    assert_string_equal(json_string_value(json_object_get(p, "end")), "2020-01-05");
    p = json_object_get(json_object_get(answer_data(a), "previous"), "period");
    assert_string_equal(json_string_value(json_object_get(p, "start")), "2019-12-23");
    json_decref(a);
    a = summary(&T1, "{\"period\":\"month\",\"date\":\"2024-03-15\"}");
    p = json_object_get(json_object_get(answer_data(a), "previous"), "period");
    assert_string_equal(json_string_value(json_object_get(p, "start")), "2024-02-01");
    assert_string_equal(json_string_value(json_object_get(p, "end")), "2024-02-29");
    json_decref(a);
}

static void branch_scope(void **state)
{
    (void)state;
    /* The branch manager's own figures: they did nothing. */
    json_t *a = summary(&TB, "{\"period\":\"day\"}");
    is_empty(json_object_get(answer_data(a), "current"));
    json_decref(a);
    /* Their branch: demo01's work. */
    a = summary(&TB, "{\"period\":\"day\",\"scope\":\"branch\"}");
    assert_string_equal(json_string_value(json_object_get(answer_data(a), "scope")), "branch");
    is_the_work(json_object_get(answer_data(a), "current"));
    json_decref(a);
    /* A client manager may not ask for the branch. */
    a = call(&T1, "PERF_SUMMARY", "{\"period\":\"day\",\"scope\":\"branch\"}");
    answer_expect(a, "forbidden");
    json_decref(a);
}

static void other_bank_sees_nothing(void **state)
{
    (void)state;
    json_t *a = summary(&T3, "{\"period\":\"month\"}");
    json_t *f = json_object_get(answer_data(a), "current");
    assert_int_equal(num(f, "customers_created"), 1);
    assert_int_equal(num(f, "visits"), 0);
    assert_int_equal(num(f, "recommendations_made"), 0);
    json_decref(a);
}

static void bad_input(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"{\"period\":\"year\"}", "data.period"},
        {"{\"period\":\"\"}", "data.period"},
        {"{\"period\":\"day\",\"date\":\"2026-02-30\"}", "data.date"},
        {"{\"period\":\"day\",\"date\":\"20260201\"}", "data.date"},
        {"{\"period\":\"day\",\"scope\":\"bank\"}", "data.scope"},
        {"{}", "period"},
        {"{\"period\":5}", "period"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *a = call(&T1, "PERF_SUMMARY", "%s", bad[i][0]);
        answer_expect(a, "bad_request");
        const char *m = json_string_value(json_object_get(a, "message"));
        if (!m || !strstr(m, bad[i][1]))
            fail_msg("%s: message %s does not name %s", bad[i][0], m ? m : "", bad[i][1]);
        json_decref(a);
    }
    static const char *const paths[] = {
        "/api/v1/admin/reports/performance",
        "/api/v1/admin/reports/performance?period=year",
        "/api/v1/admin/reports/performance?period=day&date=2026-13-01",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        json_t *a = NULL;
        assert_int_equal(console_get(&A1, paths[i], &a), 400);
        assert_string_equal(console_err(a), "bad_request");
        json_decref(a);
    }
}

/* ---- the console ------------------------------------------------------------------ */

static json_t *report(struct console *c, const char *query)
{
    char path[256];
    json_t *a = NULL;
    snprintf(path, sizeof path, "/api/v1/admin/reports/performance?%s", query);
    long st = console_get(c, path, &a);
    if (st != 200) {
        char *t = json_dumps(a, JSON_COMPACT);
        fail_msg("%s: %ld %s", path, st, t ? t : "");
    }
    return a;
}

static json_t *bank_in(json_t *a, const char *code)
{
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(a, "banks"), i, b)
    {
        if (strcmp(json_string_value(json_object_get(b, "code")), code) == 0)
            return b;
    }
    return NULL;
}

static json_t *branch_in(json_t *bank, const char *code)
{
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(bank, "branches"), i, b)
    {
        if (strcmp(json_string_value(json_object_get(b, "code")), code) == 0)
            return b;
    }
    return NULL;
}

static void console_bank_admin(void **state)
{
    (void)state;
    json_t *a = report(&A1, "period=week");
    assert_int_equal(json_array_size(json_object_get(a, "banks")), 1);
    json_t *b = bank_in(a, "B01");
    is_the_work(json_object_get(b, "current"));
    is_empty(json_object_get(b, "previous"));
    is_the_work(json_object_get(branch_in(b, "01"), "current"));
    is_empty(json_object_get(branch_in(b, "02"), "current"));
    is_the_work(json_object_get(json_object_get(a, "total"), "current"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(a, "period"), "kind")),
                        "week");
    char *text = json_dumps(a, JSON_COMPACT);
    assert_null(strstr(text, "\"B02\""));
    free(text);
    json_decref(a);
    /* Another bank is one that does not exist. */
    assert_int_equal(
        console_get(&A1, "/api/v1/admin/reports/performance?period=day&bank=B02", NULL), 404);
    /* B02's admin sees B02's one customer, nothing of B01's. */
    a = report(&A2, "period=day");
    b = bank_in(a, "B02");
    assert_int_equal(num(json_object_get(b, "current"), "customers_created"), 1);
    assert_int_equal(num(json_object_get(b, "current"), "visits"), 0);
    assert_null(bank_in(a, "B01"));
    json_decref(a);
}

static void console_branch_manager(void **state)
{
    (void)state;
    json_t *a = report(&BM, "period=month");
    json_t *b = bank_in(a, "B01");
    assert_int_equal(json_array_size(json_object_get(b, "branches")), 1);
    is_the_work(json_object_get(branch_in(b, "01"), "current"));
    is_the_work(json_object_get(b, "current"));
    json_decref(a);
}

static void console_province(void **state)
{
    (void)state;
    json_t *a = report(&P0, "period=day");
    is_the_work(json_object_get(bank_in(a, "B01"), "current"));
    assert_int_equal(num(json_object_get(bank_in(a, "B02"), "current"), "customers_created"), 1);
    json_t *total = json_object_get(json_object_get(a, "total"), "current");
    assert_int_equal(num(total, "customers_created"), 3);
    assert_int_equal(num(total, "visits"), 2);
    assert_true(json_integer_value(json_object_get(a, "databases")) >= 1);
    json_decref(a);
    /* Narrowed to a bank: that bank per branch. */
    a = report(&P0, "period=day&bank=B01");
    assert_int_equal(json_array_size(json_object_get(a, "banks")), 1);
    is_the_work(json_object_get(branch_in(bank_in(a, "B01"), "01"), "current"));
    json_decref(a);
    /* A client manager has no console report. */
}

/* ---- fixture ------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    if (testd_init(&D, NULL) || testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    if (console_login(&A1, &D, "admin01", PW) != 200 ||
        console_login(&A2, &D, "admin02", PW) != 200 || console_login(&P0, &D, "prov01", PW) != 200)
        return -1;
    if (console_post(&A1, "/api/v1/admin/tellers",
                     "{\"branch\":\"01\",\"code\":\"bm01\",\"name\":\"城关负责人\",\"role\":"
                     "\"branch_manager\",\"password\":\"" PW "\"}",
                     NULL) != 201 ||
        console_login(&BM, &D, "bm01", PW) != 200)
        return -1;
    return tablet_activate(&TB, &D, "bm01") || tablet_login(&TB, "bm01", PW) ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T3);
    tablet_free(&TB);
    store_close(DB);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(do_the_work),
        cmocka_unit_test(summary_shows_the_work),
        cmocka_unit_test(branch_scope),
        cmocka_unit_test(other_bank_sees_nothing),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(console_bank_admin),
        cmocka_unit_test(console_branch_manager),
        cmocka_unit_test(console_province),
    };
    return cmocka_run_group_tests_name("perf", tests, setup, teardown);
}
