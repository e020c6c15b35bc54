/* Tags and recommendations end to end, over HTTP with real ZY1 envelopes
 * and the real console against a real daemon: the built-in catalogs; rule
 * tags stored by CUSTOMER_CREATE / CUSTOMER_UPDATE in their transaction
 * (read from the database before any TAG_LIST) and current in TAG_LIST;
 * manual tags set and cleared; every input member with a bad value
 * (bad_request naming it, nothing written); RECOMMEND_LIST ranking with a
 * readable reason and held products left out; RECOMMEND_FEEDBACK recorded
 * once per cseq and shifting the ranking of a similar customer; a catalog
 * loaded through the console (a bad rule refused with its line and column,
 * nothing loaded) and used at once. Isolation between banks:
 * test_isolation.c's rows. */
#include "console.h"
#include "data/store.h"
#include "tablet.h"
#include "testd.h"

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

/* Valid resident ID numbers (check characters computed); birth years far
 * enough from the age bounds of the built-in rules (18, 35, 60). */
#define ID_1985 "330102198511300015"
#define ID_1990A "330102199001011234"
#define ID_1990B "330102199002280014"
#define ID_1980 "330102198003150014"
#define ID_1982 "330102198206200026"
#define ID_1987 "330102198709090033"

static struct testd D;
static struct tablet T1;  /* demo01, B01 */
static struct tablet T3;  /* demo03, B02 */
static struct console A1; /* admin01, bank admin of B01 */
static struct store *DB;

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

static const char *message_of(json_t *a)
{
    const char *m = json_string_value(json_object_get(a, "message"));
    return m ? m : "";
}

static int64_t create(const char *name, const char *id_no, const char *extra)
{
    json_t *a =
        call(&T1, "CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"%s\",\"id_no\":\"%s\"%s}",
             name, id_no, extra);
    answer_expect(a, "OK");
    int64_t id = int_of(a, "customer_id");
    json_decref(a);
    return id;
}

/* The stored tags of a customer of B01 as "code:source,..." (by code). */
static char *stored_tags(int64_t customer)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    static char buf[1024];
    size_t len = 0;
    buf[0] = '\0';
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c,
                                   "SELECT t.code, t.source FROM customer_tags t JOIN banks b ON "
                                   "b.id = t.bank_id WHERE b.code = 'B01' AND t.customer_id = ? "
                                   "ORDER BY t.code",
                                   &s),
                     STORE_OK);
    store_bind_int64(s, 1, customer);
    while (store_step(s) == STORE_ROW)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s:%s", len ? "," : "",
                                store_col_text(s, 0), store_col_text(s, 1));
    store_finish(s);
    store_release(c);
    return buf;
}

static int64_t db_count(const char *table)
{
    char sql[128];
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

/* The codes of data.tags as "a,b,c". */
static char *tag_codes(json_t *a)
{
    static char buf[1024];
    size_t len = 0, i;
    json_t *t;
    buf[0] = '\0';
    json_array_foreach(json_object_get(answer_data(a), "tags"), i, t) len +=
        (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", len ? "," : "",
                         json_string_value(json_object_get(t, "code")));
    return buf;
}

/* The rank (0 best, -1 absent) and score of product in a RECOMMEND_LIST answer. */
static int rank_of(json_t *a, const char *product, int64_t *score)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(answer_data(a), "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "product")), product) == 0) {
            if (score)
                *score = json_integer_value(json_object_get(it, "score"));
            return (int)i;
        }
    }
    return -1;
}

/* ---- catalogs and rule tags ----------------------------------------------------- */

static void builtin_catalog(void **state)
{
    (void)state;
    json_t *a = call(&T1, "TAG_CATALOG", "{}");
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "builtin")));
    assert_non_null(strstr(tag_codes(a), "farmer"));
    assert_non_null(strstr(tag_codes(a), "vip"));
    json_decref(a);
}

/* CUSTOMER_CREATE and CUSTOMER_UPDATE store the rule tags in their own
 * transaction: read from the database, no TAG_LIST in between. */
static void rule_tags_follow_customer_changes(void **state)
{
    (void)state;
    int64_t id = create("田大有", ID_1985, ",\"occupation\":\"farmer\"");
    assert_string_equal(stored_tags(id), "farmer:rule,no_loan:rule,no_mobile_banking:rule");
    json_t *a =
        call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":1,\"occupation\":\"self_employed\",\"products\":"
             "[\"loan\"],\"assets\":[{\"type\":\"land\",\"value\":80000}]}",
             (long long)id);
    answer_expect(a, "OK");
    json_decref(a);
    assert_string_equal(stored_tags(id), "has_land:rule,no_mobile_banking:rule,self_employed:rule");
    a = call(&T1, "TAG_LIST", "{\"customer_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    /* Catalog order, names a person reads. */
    assert_string_equal(tag_codes(a), "self_employed,has_land,no_mobile_banking");
    json_t *first = json_array_get(json_object_get(answer_data(a), "tags"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "个体工商户");
    assert_string_equal(json_string_value(json_object_get(first, "kind")), "rule");
    json_decref(a);
}

static void manual_tags(void **state)
{
    (void)state;
    int64_t id = create("石敢当", ID_1980, "");
    json_t *a = call(&T1, "TAG_SET", "{\"customer_id\":%lld,\"tag\":\"vip\"}", (long long)id);
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "added")));
    json_decref(a);
    a = call(&T1, "TAG_SET", "{\"customer_id\":%lld,\"tag\":\"vip\"}", (long long)id);
    answer_expect(a, "OK");
    assert_true(json_is_false(json_object_get(answer_data(a), "added")));
    json_decref(a);
    a = call(&T1, "TAG_LIST", "{\"customer_id\":%lld}", (long long)id);
    assert_non_null(strstr(tag_codes(a), "vip"));
    json_decref(a);
    assert_non_null(strstr(stored_tags(id), "vip:manual"));
    a = call(&T1, "TAG_CLEAR", "{\"customer_id\":%lld,\"tag\":\"vip\"}", (long long)id);
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "cleared")));
    json_decref(a);
    a = call(&T1, "TAG_CLEAR", "{\"customer_id\":%lld,\"tag\":\"vip\"}", (long long)id);
    assert_true(json_is_false(json_object_get(answer_data(a), "cleared")));
    json_decref(a);
    assert_null(strstr(stored_tags(id), "vip"));
    /* No such customer; another bank's tablet on this customer. */
    a = call(&T1, "TAG_SET", "{\"customer_id\":999999,\"tag\":\"vip\"}");
    answer_expect(a, "customer_not_found");
    json_decref(a);
    a = call(&T3, "TAG_LIST", "{\"customer_id\":%lld}", (long long)id);
    answer_expect(a, "customer_not_found");
    json_decref(a);
}

/* ---- every input member with a bad value ------------------------------------------ */

struct bad_case {
    const char *tx, *data, *field;
};

static void bad_values_write_nothing(void **state)
{
    (void)state;
    int64_t id = create("闻不动", ID_1982, "");
    char data[512];
    const struct bad_case bad[] = {
        {"TAG_SET", "{\"customer_id\":\"x\",\"tag\":\"vip\"}", "customer_id"},
        {"TAG_SET", "{\"tag\":\"vip\"}", "customer_id"},
        {"TAG_SET", "{\"customer_id\":$ID,\"tag\":5}", "tag"},
        {"TAG_SET", "{\"customer_id\":$ID,\"tag\":\"Bad-Code\"}", "tag"},
        {"TAG_SET", "{\"customer_id\":$ID,\"tag\":\"nosuch\"}", "tag"},
        {"TAG_SET", "{\"customer_id\":$ID,\"tag\":\"farmer\"}", "tag"}, /* a rule tag */
        {"TAG_SET", "{\"customer_id\":$ID,\"tag\":\"vip\",\"extra\":1}", "extra"},
        {"TAG_CLEAR", "{\"customer_id\":[],\"tag\":\"vip\"}", "customer_id"},
        {"TAG_CLEAR", "{\"customer_id\":$ID,\"tag\":\"no_loan\"}", "tag"},
        {"TAG_LIST", "{\"customer_id\":\"1\"}", "customer_id"},
        {"TAG_CATALOG", "{\"bank\":\"B02\"}", "bank"},
        {"RECOMMEND_LIST", "{\"customer_id\":true}", "customer_id"},
        {"RECOMMEND_LIST", "{\"customer_id\":$ID,\"limit\":0}", "limit"},
        {"RECOMMEND_LIST", "{\"customer_id\":$ID,\"limit\":21}", "limit"},
        {"RECOMMEND_FEEDBACK", "{\"customer_id\":\"a\",\"product\":\"loan\",\"verdict\":\"later\"}",
         "customer_id"},
        {"RECOMMEND_FEEDBACK", "{\"customer_id\":$ID,\"product\":\"LOAN!\",\"verdict\":\"later\"}",
         "product"},
        {"RECOMMEND_FEEDBACK", "{\"customer_id\":$ID,\"product\":\"nosuch\",\"verdict\":\"later\"}",
         "product"},
        {"RECOMMEND_FEEDBACK", "{\"customer_id\":$ID,\"verdict\":\"later\"}", "product"},
        {"RECOMMEND_FEEDBACK", "{\"customer_id\":$ID,\"product\":\"loan\",\"verdict\":\"maybe\"}",
         "verdict"},
        {"RECOMMEND_FEEDBACK", "{\"customer_id\":$ID,\"product\":\"loan\"}", "verdict"},
    };
    int64_t tags0 = db_count("customer_tags"), fb0 = db_count("recommend_feedback"),
            st0 = db_count("recommend_stats");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *at = strstr(bad[i].data, "$ID");
        if (at)
            snprintf(data, sizeof data, "%.*s%lld%s", (int)(at - bad[i].data), bad[i].data,
                     (long long)id, at + 3);
        else
            snprintf(data, sizeof data, "%s", bad[i].data);
        json_t *a = call(&T1, bad[i].tx, "%s", data);
        if (strcmp(answer_code(a), "bad_request") != 0 || !strstr(message_of(a), bad[i].field))
            fail_msg("%s %s: want bad_request naming %s, got %s %s", bad[i].tx, data, bad[i].field,
                     answer_code(a), message_of(a));
        json_decref(a);
    }
    assert_int_equal(db_count("customer_tags"), tags0);
    assert_int_equal(db_count("recommend_feedback"), fb0);
    assert_int_equal(db_count("recommend_stats"), st0);
}

/* ---- recommendations ------------------------------------------------------------ */

static void recommend_ranks_with_reasons(void **state)
{
    (void)state;
    int64_t id =
        create("贾老板", ID_1990A, ",\"occupation\":\"self_employed\",\"products\":[\"deposit\"]");
    json_t *a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":%lld,\"limit\":20}", (long long)id);
    answer_expect(a, "OK");
    json_t *items = json_object_get(answer_data(a), "items");
    /* Held: not offered. Best: the loan (self-employed, no loan). */
    assert_int_equal(rank_of(a, "deposit", NULL), -1);
    assert_int_equal(rank_of(a, "loan", NULL), 0);
    assert_int_equal(json_array_size(items), 7);
    const char *reason = json_string_value(json_object_get(json_array_get(items, 0), "reason"));
    assert_non_null(strstr(reason, "客户有'个体工商户'"));
    assert_non_null(strstr(reason, "'无贷款'"));
    int64_t prev = INT64_MAX;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        int64_t s = json_integer_value(json_object_get(it, "score"));
        assert_true(s <= prev);
        prev = s;
        assert_non_null(json_object_get(it, "name"));
    }
    json_decref(a);
    a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":%lld}", (long long)id);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")),
                     5); /* the default */
    json_decref(a);
    a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":999999}");
    answer_expect(a, "customer_not_found");
    json_decref(a);
}

/* Enough declines from one tag profile move the product down for another
 * customer with the same tags; the same cseq twice is one record. */
static void feedback_shifts_similar_customers(void **state)
{
    (void)state;
    int64_t x = create("甲老板", ID_1990B, ",\"occupation\":\"self_employed\"");
    int64_t y = create("乙老板", ID_1987, ",\"occupation\":\"self_employed\"");
    json_t *a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":%lld,\"limit\":20}", (long long)y);
    int64_t before = 0, after = 0;
    int rank_before = rank_of(a, "loan", &before);
    json_decref(a);
    assert_true(rank_before >= 0);
    int64_t rows = db_count("recommend_feedback");
    for (int i = 0; i < 6; i++) {
        char cseq[32];
        snprintf(cseq, sizeof cseq, "fb-%d", i);
        a = call_cseq(&T1, "RECOMMEND_FEEDBACK", cseq,
                      "{\"customer_id\":%lld,\"product\":\"loan\",\"verdict\":\"declined\"}",
                      (long long)x);
        answer_expect(a, "OK");
        json_decref(a);
    }
    assert_int_equal(db_count("recommend_feedback"), rows + 6);
    /* A retry of the last cseq: the stored answer, no new record. */
    a = call_cseq(&T1, "RECOMMEND_FEEDBACK", "fb-5",
                  "{\"customer_id\":%lld,\"product\":\"loan\",\"verdict\":\"declined\"}",
                  (long long)x);
    answer_expect(a, "OK");
    json_decref(a);
    assert_int_equal(db_count("recommend_feedback"), rows + 6);
    a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":%lld,\"limit\":20}", (long long)y);
    int rank_after = rank_of(a, "loan", &after);
    json_t *it = json_array_get(json_object_get(answer_data(a), "items"), (size_t)rank_after);
    const char *reason = json_string_value(json_object_get(it, "reason"));
    if (!(after < before && rank_after > rank_before))
        fail_msg("loan: score %lld -> %lld, rank %d -> %d", (long long)before, (long long)after,
                 rank_before, rank_after);
    assert_non_null(strstr(reason, "婉拒6次"));
    json_decref(a);
    /* An acceptance is recorded too, with its id. */
    a = call(&T1, "RECOMMEND_FEEDBACK",
             "{\"customer_id\":%lld,\"product\":\"mobile_banking\",\"verdict\":\"accepted\"}",
             (long long)x);
    answer_expect(a, "OK");
    assert_true(int_of(a, "feedback_id") > 0);
    json_decref(a);
}

/* ---- the catalog through the console -------------------------------------------- */

static void catalog_load(void **state)
{
    (void)state;
    json_t *r = NULL;
    /* A bad rule (line 2) refuses the whole load. */
    long st =
        console_post(&A1, "/api/v1/admin/catalog",
                     "{\"tags\":[{\"code\":\"vip\",\"name\":\"重点客户\",\"kind\":\"manual\"},"
                     "{\"code\":\"tea\",\"name\":\"茶农\",\"kind\":\"rule\",\"rule\":"
                     "\"occupation = \\\"farmer\\\" and\\n  acres >= 10\"}]}",
                     &r);
    assert_int_equal(st, 400);
    assert_string_equal(console_err(r), "bad_request");
    const char *msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    if (!msg || !strstr(msg, "tags[1].rule") || !strstr(msg, "第2行第3列") ||
        !strstr(msg, "未知变量 acres"))
        fail_msg("message: %s", msg ? msg : "(none)");
    json_decref(r);
    /* A product aiming at a tag the catalog lacks. */
    st = console_post(&A1, "/api/v1/admin/catalog",
                      "{\"products\":[{\"code\":\"tea_loan\",\"name\":\"茶园贷\",\"category\":"
                      "\"loan\",\"targets\":{\"tea\":50}}]}",
                      &r);
    assert_int_equal(st, 400);
    msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
    assert_non_null(strstr(msg, "products[0].targets.tea"));
    json_decref(r);
    assert_int_equal(console_get(&A1, "/api/v1/admin/catalog", &r), 200);
    assert_true(json_is_true(json_object_get(r, "builtin_tags")));
    assert_true(json_is_true(json_object_get(r, "builtin_products")));
    json_decref(r);
    /* A good one: used at once. */
    st = console_post(&A1, "/api/v1/admin/catalog",
                      "{\"tags\":[{\"code\":\"tea\",\"name\":\"茶农\",\"kind\":\"rule\",\"rule\":"
                      "\"occupation = \\\"farmer\\\" and\\n  assets.crops >= 50000\"},"
                      "{\"code\":\"vip\",\"name\":\"重点客户\",\"kind\":\"manual\"}],"
                      "\"products\":[{\"code\":\"deposit\",\"name\":\"存款\",\"category\":"
                      "\"deposit\",\"base\":10},{\"code\":\"tea_loan\",\"name\":\"茶园贷\","
                      "\"category\":\"loan\",\"base\":5,\"targets\":{\"tea\":50}}]}",
                      &r);
    assert_int_equal(st, 200);
    json_decref(r);
    json_t *a = call(&T1, "TAG_CATALOG", "{}");
    assert_true(json_is_false(json_object_get(answer_data(a), "builtin")));
    assert_string_equal(tag_codes(a), "tea,vip");
    json_decref(a);
    int64_t id = create("茶大娘", "330102197501010044",
                        ",\"occupation\":\"farmer\",\"assets\":[{\"type\":\"crops\",\"value\":"
                        "60000}]");
    assert_string_equal(stored_tags(id), "tea:rule");
    a = call(&T1, "RECOMMEND_LIST", "{\"customer_id\":%lld}", (long long)id);
    assert_int_equal(rank_of(a, "tea_loan", NULL), 0);
    json_t *it = json_array_get(json_object_get(answer_data(a), "items"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(it, "reason")), "客户有'茶农'标签"));
    json_decref(a);
    /* B02 still has the built-in catalog. */
    a = call(&T3, "TAG_CATALOG", "{}");
    assert_true(json_is_true(json_object_get(answer_data(a), "builtin")));
    json_decref(a);
    /* Empty lists bring the built-in ones back. */
    assert_int_equal(
        console_post(&A1, "/api/v1/admin/catalog", "{\"tags\":[],\"products\":[]}", NULL), 200);
    a = call(&T1, "TAG_CATALOG", "{}");
    assert_true(json_is_true(json_object_get(answer_data(a), "builtin")));
    json_decref(a);
    /* The body's own members: bad ones are refused. */
    assert_int_equal(console_post(&A1, "/api/v1/admin/catalog", "{\"tags\":{}}", NULL), 400);
    assert_int_equal(console_post(&A1, "/api/v1/admin/catalog", "{}", NULL), 400);
    assert_int_equal(
        console_post(&A1, "/api/v1/admin/catalog", "{\"bank\":\"B99\",\"tags\":[]}", NULL), 404);
}

static void session_required(void **state)
{
    (void)state;
    static const char *const txs[] = {"TAG_CATALOG", "TAG_SET",        "TAG_CLEAR",
                                      "TAG_LIST",    "RECOMMEND_LIST", "RECOMMEND_FEEDBACK"};
    struct tablet t = T1;
    snprintf(t.sid, sizeof t.sid, "%064d", 3);
    for (size_t i = 0; i < sizeof txs / sizeof txs[0]; i++) {
        long st;
        json_t *a = tablet_call(&t, txs[i], "{}", NULL, &st, NULL);
        assert_non_null(a);
        assert_string_equal(answer_code(a), "session_invalid");
        json_decref(a);
    }
}

static int setup(void **state)
{
    (void)state;
    if (testd_init(&D, NULL) || testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    return console_login(&A1, &D, "admin01", PW) == 200 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T3);
    store_close(DB);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_catalog),
        cmocka_unit_test(rule_tags_follow_customer_changes),
        cmocka_unit_test(manual_tags),
        cmocka_unit_test(bad_values_write_nothing),
        cmocka_unit_test(recommend_ranks_with_reasons),
        cmocka_unit_test(feedback_shifts_similar_customers),
        cmocka_unit_test(catalog_load),
        cmocka_unit_test(session_required),
    };
    return cmocka_run_group_tests_name("tags", tests, setup, teardown);
}
