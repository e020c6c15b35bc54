/* CUSTOMER_PREFILL end to end: the CIS simulator (zhanye-sim cis) started as
 * a process on loopback, a real daemon whose [egress.cis] points at it, and
 * real ZY1 envelopes: with the CIS up the form's fields come back as the
 * record's members; an unknown person is found false (not manual); a person
 * the bank has already comes with customer_id; a bad id_no is bad_request
 * naming it and the CIS is never asked; a cseq retry is answered from the
 * stored answer without asking the CIS again; with the CIS slower than
 * call_timeout_ms the answer is manual, well before the CIS would have
 * answered; with the CIS refusing connections the answer is manual, and once
 * the breaker has opened the CIS is not even asked. Nothing is written but
 * the audit record, which holds the result and no value of the person. */
#include "data/store.h"
#include "tablet.h"
#include "simproc.h"
#include "testd.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define ID_A "11010519491231002X" /* in the CIS: 王秀英 */
#define ID_B "330102199001011234" /* in the CIS: 陈志强 */
#define ID_UNKNOWN "110101198001010010"
#define MANUAL "客户信息系统暂不可用，请手工填写"
#define CALL_TIMEOUT_MS 1000
#define SLOW_MS 6000

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct store *DB;
static struct simproc SIM = {.mode = "cis"};
static char SIM_DIR[64]; /* its work directory */

/* ---- helpers -------------------------------------------------------------------- */

static json_t *prefill_cseq(const char *cseq, const char *id_no)
{
    char data[128];
    snprintf(data, sizeof data, "{\"id_no\":\"%s\"}", id_no);
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(&T1, "CUSTOMER_PREFILL", data, cseq, &st, &plain);
    if (!a) {
        char *p = json_dumps(plain, JSON_COMPACT);
        fail_msg("CUSTOMER_PREFILL %s: no sealed answer (%ld %s)", data, st, p ? p : "");
    }
    json_decref(plain);
    return a;
}

static json_t *prefill(const char *id_no)
{
    return prefill_cseq(NULL, id_no);
}

static bool flag(json_t *a, const char *key)
{
    json_t *v = json_object_get(answer_data(a), key);
    if (!json_is_boolean(v))
        fail_msg("data.%s is not a boolean", key);
    return json_is_true(v);
}

static const char *field(json_t *a, const char *key)
{
    return json_string_value(json_object_get(json_object_get(answer_data(a), "fields"), key));
}

/* The answer of the CIS being out of reach: OK, manual, nothing found. */
static void expect_manual(json_t *a)
{
    answer_expect(a, "OK");
    assert_true(flag(a, "manual"));
    assert_false(flag(a, "found"));
    assert_int_equal(json_object_size(json_object_get(answer_data(a), "fields")), 0);
    assert_string_equal(json_string_value(json_object_get(answer_data(a), "message")), MANUAL);
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

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void sim_fault(const char *fault)
{
    simproc_fault(&SIM, fault);
}

static long long sim_requests(void)
{
    return simproc_stat(&SIM, "requests");
}

/* The value of one series of the daemon's /metrics (0 when absent). */
static long metric(const char *series)
{
    char url[128];
    struct http_result r;
    snprintf(url, sizeof url, "%s/metrics", D.base);
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    long v = 0;
    for (const char *p = r.body; p && (p = strstr(p, series)) != NULL; p += strlen(series))
        if ((p == r.body || p[-1] == '\n') && p[strlen(series)] == ' ')
            v = strtol(p + strlen(series) + 1, NULL, 10);
    http_result_free(&r);
    return v;
}

#define REFUSED_OPEN "zhanye_egress_errors_total{system=\"cis\",kind=\"open\"}"

/* ---- the CIS up ------------------------------------------------------------------- */

static void cis_up_fills_the_form(void **state)
{
    (void)state;
    int64_t customers = db_int("SELECT COUNT(*) FROM customers");
    json_t *a = prefill(ID_A);
    answer_expect(a, "OK");
    assert_true(flag(a, "found"));
    assert_false(flag(a, "manual"));
    assert_string_equal(field(a, "name"), "王秀英");
    assert_string_equal(field(a, "phone"), "13700137000");
    assert_string_equal(field(a, "address"), "北京市朝阳区和平街十一区8号楼");
    assert_string_equal(field(a, "occupation"), "retired");
    assert_null(json_object_get(answer_data(a), "customer_id"));
    assert_null(json_object_get(answer_data(a), "message"));
    json_decref(a);
    /* The lower-case check character is the same person. */
    a = prefill("11010519491231002x");
    answer_expect(a, "OK");
    assert_string_equal(field(a, "name"), "王秀英");
    json_decref(a);
    /* Nothing written but the audit records, which hold no value of the person. */
    assert_int_equal(db_int("SELECT COUNT(*) FROM customers"), customers);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'customer.prefilled' "
                            "AND detail LIKE '%\"result\":\"found\"%'"),
                     2);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%王秀英%' OR "
                            "detail LIKE '%13700137000%' OR detail LIKE '%" ID_A "%' OR "
                            "target LIKE '%" ID_A "%'"),
                     0);
}

static void unknown_person_is_not_found(void **state)
{
    (void)state;
    json_t *a = prefill(ID_UNKNOWN);
    answer_expect(a, "OK");
    assert_false(flag(a, "found"));
    assert_false(flag(a, "manual"));
    assert_int_equal(json_object_size(json_object_get(answer_data(a), "fields")), 0);
    assert_non_null(json_string_value(json_object_get(answer_data(a), "message")));
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'customer.prefilled' "
                            "AND detail LIKE '%\"result\":\"not_found\"%'"),
                     1);
}

static void existing_customer_is_named(void **state)
{
    (void)state;
    long st = 0;
    json_t *c = tablet_call(&T1, "CUSTOMER_CREATE",
                            "{\"kind\":\"person\",\"name\":\"陈志强\",\"id_no\":\"" ID_B "\"}",
                            NULL, &st, NULL);
    assert_non_null(c);
    answer_expect(c, "OK");
    json_int_t id = json_integer_value(json_object_get(answer_data(c), "customer_id"));
    json_decref(c);
    json_t *a = prefill(ID_B);
    answer_expect(a, "OK");
    assert_true(flag(a, "found"));
    assert_int_equal(json_integer_value(json_object_get(answer_data(a), "customer_id")), id);
    assert_string_equal(field(a, "name"), "陈志强");
    assert_non_null(json_string_value(json_object_get(answer_data(a), "message")));
    json_decref(a);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = 'customer.prefilled' AND "
             "target = 'customer:%lld'",
             (long long)id);
    assert_int_equal(db_int(sql), 1);
}

static void bad_id_no_never_asks_the_cis(void **state)
{
    (void)state;
    long long before = sim_requests();
    int64_t audits = db_int("SELECT COUNT(*) FROM audit_log");
    static const char *const BAD[] = {"11010519491231002Y", "1101051949123100", "abc",
                                      "110105194913310021", ""};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        json_t *a = prefill(BAD[i]);
        answer_expect(a, "bad_request");
        assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "data.id_no"));
        json_decref(a);
    }
    long st = 0;
    json_t *a = tablet_call(&T1, "CUSTOMER_PREFILL", "{}", NULL, &st, NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    a = tablet_call(&T1, "CUSTOMER_PREFILL", "{\"id_no\":\"" ID_A "\",\"name\":\"x\"}", NULL, &st,
                    NULL);
    answer_expect(a, "bad_request");
    json_decref(a);
    assert_int_equal(sim_requests(), before);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log"), audits);
}

/* A retry of the same cseq is the stored answer: the CIS is asked once. */
static void cseq_retry_asks_once(void **state)
{
    (void)state;
    long long before = sim_requests();
    json_t *a = prefill_cseq("c-prefill-1", ID_A);
    json_t *b = prefill_cseq("c-prefill-1", ID_A);
    answer_expect(a, "OK");
    char *ta = json_dumps(answer_data(a), JSON_COMPACT | JSON_SORT_KEYS);
    char *tb = json_dumps(answer_data(b), JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    json_decref(a);
    json_decref(b);
    assert_int_equal(sim_requests(), before + 1);
}

static void session_required(void **state)
{
    (void)state;
    struct tablet t = T1;
    t.sid[0] = '\0';
    long st;
    json_t *a = tablet_call(&t, "CUSTOMER_PREFILL", "{\"id_no\":\"" ID_A "\"}", NULL, &st, NULL);
    answer_expect(a, "session_invalid");
    json_decref(a);
}

/* ---- the CIS slow, and down ---------------------------------------------------------- */

static void cis_slow_within_deadline_still_fills(void **state)
{
    (void)state;
    sim_fault("{\"latency_ms\":200}");
    json_t *a = prefill(ID_A);
    sim_fault("{}");
    answer_expect(a, "OK");
    assert_true(flag(a, "found"));
    assert_false(flag(a, "manual"));
    json_decref(a);
}

static void cis_slower_than_deadline_is_manual(void **state)
{
    (void)state;
    sim_fault("{\"latency_ms\":6000}");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *a = prefill(ID_A);
    double took = ms_since(&t0);
    sim_fault("{}");
    expect_manual(a);
    json_decref(a);
    /* Answered at the step's deadline, not when the CIS would have. */
    if (took >= SLOW_MS - 1000)
        fail_msg("answered after %.0f ms: the CIS's %d ms were waited for", took, SLOW_MS);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'customer.prefilled' "
                            "AND detail LIKE '%\"result\":\"unavailable\"%'"),
                     1);
}

static void cis_down_is_manual_and_opens_the_breaker(void **state)
{
    (void)state;
    sim_fault("{\"refuse\":true}");
    long opened = metric(REFUSED_OPEN);
    assert_int_equal(opened, 0);
    int calls = 0;
    for (; calls < 30 && metric(REFUSED_OPEN) == 0; calls++) {
        json_t *a = prefill(ID_A);
        expect_manual(a);
        json_decref(a);
    }
    if (metric(REFUSED_OPEN) == 0)
        fail_msg("the breaker did not open after %d refused calls", calls);
    /* The CIS is back, but the breaker (open 60 s) keeps it out of the path:
     * the answer is manual at once and the CIS sees nothing. */
    sim_fault("{}");
    json_decref(simproc_admin(&SIM, "POST", "/admin/stats/reset", "{}"));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *a = prefill(ID_A);
    double took = ms_since(&t0);
    expect_manual(a);
    json_decref(a);
    assert_int_equal(sim_requests(), 0);
    if (took >= CALL_TIMEOUT_MS)
        fail_msg("an open breaker took %.0f ms", took);
    /* The form is filled by hand all the same: CUSTOMER_CREATE works. */
    long st = 0;
    a = tablet_call(&T1, "CUSTOMER_CREATE",
                    "{\"kind\":\"person\",\"name\":\"王秀英\",\"id_no\":\"" ID_A "\"}", NULL, &st,
                    NULL);
    assert_non_null(a);
    answer_expect(a, "OK");
    json_decref(a);
}

/* ---- fixture -------------------------------------------------------------------------- */

/* zhanye-sim cis on free ports, in a work directory of its own. */
static int sim_start(void)
{
    snprintf(SIM_DIR, sizeof SIM_DIR, "/tmp/zt_cis_%d", (int)getpid());
    return mkdir(SIM_DIR, 0700) == 0 || errno == EEXIST ? simproc_start(&SIM, SIM_DIR) : -1;
}

static int setup(void **state)
{
    (void)state;
    char conf[512], src[PATH_MAX], link[PATH_MAX + 8];
    if (sim_start() != 0) {
        fprintf(stderr, "cannot start the CIS simulator (ZHANYE_SIM_BIN?)\n");
        return -1;
    }
    /* A short deadline, no retries, a breaker that opens after a few failures
     * and stays open for the rest of the run. */
    snprintf(conf, sizeof conf,
             "[egress.cis]\naddress = http://127.0.0.1:%d\ncall_timeout_ms = %d\nretries = 0\n"
             "breaker_window = 10\nbreaker_min_calls = 4\nbreaker_failure_rate = 50\n"
             "breaker_open_ms = 60000\n",
             SIM.port, CALL_TIMEOUT_MS);
    if (testd_init(&D, conf))
        return -1;
    snprintf(link, sizeof link, "%s/conf", D.dir);
    if (symlink(src_path("conf", src, sizeof src), link) != 0)
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    store_close(DB);
    testd_cleanup(&D);
    int rc = simproc_stop(&SIM);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", SIM_DIR);
    return system(cmd) == 0 ? rc : -1;
}

int main(void)
{
    /* In this order: the last two fail the CIS on purpose. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cis_up_fills_the_form),
        cmocka_unit_test(unknown_person_is_not_found),
        cmocka_unit_test(existing_customer_is_named),
        cmocka_unit_test(bad_id_no_never_asks_the_cis),
        cmocka_unit_test(cseq_retry_asks_once),
        cmocka_unit_test(session_required),
        cmocka_unit_test(cis_slow_within_deadline_still_fills),
        cmocka_unit_test(cis_slower_than_deadline_is_manual),
        cmocka_unit_test(cis_down_is_manual_and_opens_the_breaker),
    };
    return cmocka_run_group_tests_name("prefill", tests, setup, teardown);
}
