/* Visits end to end: the grid simulator (zhanye-sim grid) started as a
 * process on loopback, `zhanye grid sync` run as a process through the
 * egress gateway, then VISIT_TASKS and VISIT_CHECKIN over HTTP with real
 * ZY1 envelopes against a real daemon, and a branch manager's assignment
 * through the console (POST /api/v1/admin/visits/tasks):
 * tasks appear once however often the sync runs, nearest first from the
 * tablet's position; a check-in near the household is not far, one far
 * from it is flagged and still recorded; a check-in closes its task and may
 * open a lead; the same cseq twice is one visit; every input member with a
 * bad value is bad_request naming it and writes nothing; bank B02 neither
 * sees nor changes B01's tasks (test_isolation.c has the matrix rows). */
#include "console.h"
#include "data/store.h"
#include "tablet.h"
#include "simproc.h"
#include "testd.h"

#include <math.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"

static struct testd D;
static struct tablet T1;  /* demo01, B01/01 */
static struct tablet T3;  /* demo03, B02/01 */
static struct console BM; /* bm01, branch manager of B01/01 */
static struct console A1; /* admin01, bank admin of B01 */
static struct store *DB;
static struct simproc SIM = {.mode = "grid"};
static char SIM_DIR[64]; /* its work directory */

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

/* Every byte of the visit tables and the audit log, as one string. */
static char *dump(void)
{
    static const struct {
        const char *sql;
        int ncols;
    } q[] = {
        {"SELECT * FROM visit_tasks ORDER BY bank_id, id", 18},
        {"SELECT * FROM visits ORDER BY bank_id, id", 16},
        {"SELECT * FROM visit_leads ORDER BY bank_id, id", 11},
        {"SELECT seq, bank_id, actor, event, target, detail FROM audit_log ORDER BY seq", 6},
    };
    struct store_conn *c = NULL;
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        struct store_stmt *s = NULL;
        assert_int_equal(store_prepare(c, q[i].sql, &s), STORE_OK);
        int rc;
        while ((rc = store_step(s)) == STORE_ROW)
            for (int k = 0; k < q[i].ncols; k++) {
                size_t n = 0;
                const void *v = store_col_blob(s, k, &n);
                char *nb = realloc(buf, len + n + 2);
                assert_non_null(nb);
                buf = nb;
                if (n)
                    memcpy(buf + len, v, n);
                len += n;
                buf[len++] = '|';
            }
        assert_int_equal(rc, STORE_DONE);
        store_finish(s);
    }
    store_release(c);
    char *nb = realloc(buf, len + 1);
    assert_non_null(nb);
    nb[len] = '\0';
    return nb;
}

/* `zhanye grid sync --data DIR ARGS...`: its exit status, stdout into out. */
static int grid_sync(char **out, const char *a1, const char *a2)
{
    char *err = NULL;
    int st = run_zhanye(out, &err, "grid", "sync", "--data", D.dir, a1, a2, (char *)NULL);
    if (st != 0)
        fprintf(stderr, "grid sync: %s\n", err ? err : "");
    free(err);
    return st;
}

/* The tablet's open tasks of today (position: "" or ",\"lat\":..,\"lon\":.."). */
static json_t *tasks(struct tablet *t, const char *position)
{
    json_t *a = call(t, "VISIT_TASKS", "{%s}", position[0] == ',' ? position + 1 : position);
    answer_expect(a, "OK");
    return a;
}

static json_t *items_of(json_t *a)
{
    return json_object_get(answer_data(a), "items");
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

/* ---- the grid ------------------------------------------------------------------- */

static void sync_makes_tasks_once(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(grid_sync(&out, "--bank", "B01"), 0);
    assert_non_null(strstr(out, "B01/01: 3 cells, 9 tasks created, 0 already there"));
    assert_non_null(strstr(out, "B01/02: 3 cells, 9 tasks created"));
    free(out);
    int64_t n = db_int("SELECT COUNT(*) FROM visit_tasks");
    assert_int_equal(n, 18);
    /* Again the same day: nothing new. */
    assert_int_equal(grid_sync(&out, "--bank", "B01"), 0);
    assert_non_null(strstr(out, "B01/01: 3 cells, 0 tasks created, 9 already there"));
    free(out);
    assert_int_equal(db_int("SELECT COUNT(*) FROM visit_tasks"), 18);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'visit.grid_synced'"), 4);
    /* Every bank: B02 gets its own. */
    assert_int_equal(grid_sync(&out, NULL, NULL), 0);
    assert_non_null(strstr(out, "B02/01: 3 cells, 9 tasks created"));
    free(out);
    /* demo01's list: nine households of B01/01 with their leads, best first. */
    json_t *a = tasks(&T1, "");
    json_t *items = items_of(a);
    assert_int_equal(json_array_size(items), 9);
    json_t *first = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(first, "source")), "grid");
    json_t *hh = json_object_get(first, "household");
    assert_non_null(json_string_value(json_object_get(hh, "name")));
    assert_non_null(strstr(json_string_value(json_object_get(hh, "address")), "青山县"));
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(first, "cell"), "ref")), "B01-01-C"));
    json_t *leads = json_object_get(first, "leads");
    assert_int_equal(json_array_size(leads), 2);
    assert_true(num(json_array_get(leads, 0), "score") >= num(json_array_get(leads, 1), "score"));
    /* By id without a position. */
    for (size_t i = 1; i < json_array_size(items); i++)
        assert_true(json_integer_value(json_object_get(json_array_get(items, i - 1), "task_id")) <
                    json_integer_value(json_object_get(json_array_get(items, i), "task_id")));
    json_decref(a);
    /* Another day has none. */
    a = call(&T1, "VISIT_TASKS", "{\"date\":\"2030-01-02\"}");
    answer_expect(a, "OK");
    assert_int_equal(json_array_size(items_of(a)), 0);
    json_decref(a);
}

static void sorted_by_distance(void **state)
{
    (void)state;
    json_t *a = tasks(&T1, "");
    json_t *pick = json_array_get(items_of(a), 6); /* a household of the third cell */
    char pos[128];
    snprintf(pos, sizeof pos, ",\"lat\":%.6f,\"lon\":%.6f", num(pick, "lat"), num(pick, "lon"));
    int64_t want = json_integer_value(json_object_get(pick, "task_id"));
    json_decref(a);
    a = tasks(&T1, pos);
    json_t *items = items_of(a);
    assert_int_equal(json_array_size(items), 9);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "task_id")),
                     want);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "distance_m")),
                     0);
    for (size_t i = 1; i < json_array_size(items); i++)
        assert_true(
            json_integer_value(json_object_get(json_array_get(items, i - 1), "distance_m")) <=
            json_integer_value(json_object_get(json_array_get(items, i), "distance_m")));
    /* The cells are kilometres apart: the last is not in the first one's cell. */
    assert_true(json_integer_value(json_object_get(json_array_get(items, 8), "distance_m")) > 1000);
    json_decref(a);
}

/* ---- check-in ----------------------------------------------------------------------- */

static json_t *task_at(size_t i)
{
    json_t *a = tasks(&T1, "");
    json_t *t = json_incref(json_array_get(items_of(a), i));
    json_decref(a);
    assert_non_null(t);
    return t;
}

static void checkin_near_and_far(void **state)
{
    (void)state;
    json_t *t = task_at(0);
    int64_t id = json_integer_value(json_object_get(t, "task_id"));
    /* ~100 m north of the household. */
    json_t *a = call(&T1, "VISIT_CHECKIN",
                     "{\"task_id\":%lld,\"lat\":%.6f,\"lon\":%.6f,\"outcome\":\"interested\","
                     "\"notes\":\"户主在家，对贷款有兴趣\",\"photos\":[\"att-1\",\"att-2\"],"
                     "\"next_step\":\"下周带资料再访\",\"open_lead\":{\"product\":\"agri_loan\","
                     "\"note\":\"种植大户\"}}",
                     (long long)id, num(t, "lat") + 0.0009, num(t, "lon"));
    answer_expect(a, "OK");
    assert_false(json_is_true(json_object_get(answer_data(a), "far")));
    int64_t d = int_of(a, "distance_m");
    assert_true(d >= 90 && d <= 110);
    assert_true(int_of(a, "visit_id") > 0);
    assert_true(int_of(a, "lead_id") > 0);
    int64_t visit = int_of(a, "visit_id");
    json_decref(a);
    json_decref(t);
    assert_int_equal(db_int("SELECT COUNT(*) FROM visit_leads WHERE product = 'agri_loan'"), 1);
    /* The task is closed: gone from the list, a second check-in refused. */
    a = tasks(&T1, "");
    assert_int_equal(json_array_size(items_of(a)), 8);
    json_decref(a);
    a = call(&T1, "VISIT_CHECKIN",
             "{\"task_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\",\"notes\":\"\"}",
             (long long)id);
    answer_expect(a, "visit_task_closed");
    assert_int_equal(int_of(a, "visit_id"), visit);
    json_decref(a);
    /* ~1.1 km away: flagged, recorded all the same. */
    t = task_at(0);
    a = call(&T1, "VISIT_CHECKIN",
             "{\"task_id\":%lld,\"lat\":%.6f,\"lon\":%.6f,\"outcome\":\"not_home\","
             "\"notes\":\"无人\"}",
             (long long)json_integer_value(json_object_get(t, "task_id")), num(t, "lat") + 0.01,
             num(t, "lon"));
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "far")));
    assert_true(int_of(a, "distance_m") > 1000);
    json_decref(a);
    json_decref(t);
    assert_int_equal(db_int("SELECT COUNT(*) FROM visits WHERE far = 1"), 1);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'visit.checked_in' AND "
                            "detail LIKE '%\"far\":true%'"),
                     1);
}

static void same_cseq_is_one_visit(void **state)
{
    (void)state;
    json_t *t = task_at(0);
    int64_t id = json_integer_value(json_object_get(t, "task_id"));
    json_decref(t);
    int64_t before = db_int("SELECT COUNT(*) FROM visits");
    json_t *a[2];
    for (int i = 0; i < 2; i++) {
        a[i] = call_cseq(&T1, "VISIT_CHECKIN", "c-visit-1",
                         "{\"task_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\","
                         "\"notes\":\"见到户主\"}",
                         (long long)id);
        answer_expect(a[i], "OK");
    }
    assert_int_equal(int_of(a[0], "visit_id"), int_of(a[1], "visit_id"));
    assert_int_equal(db_int("SELECT COUNT(*) FROM visits"), before + 1);
    json_decref(a[0]);
    json_decref(a[1]);
}

/* ---- every input member with a bad value -------------------------------------------- */

struct bad_case {
    const char *tx, *data, *field;
};

#define OKPOS "\"lat\":30.2,\"lon\":120.1"
#define OKREST OKPOS ",\"outcome\":\"met\",\"notes\":\"x\""

static const struct bad_case BAD[] = {
    {"VISIT_TASKS", "{\"date\":\"2026-02-30\"}", "date"},
    {"VISIT_TASKS", "{\"date\":\"20260201\"}", "date"},
    {"VISIT_TASKS", "{\"date\":5}", "date"},
    {"VISIT_TASKS", "{\"lat\":91,\"lon\":120}", "lat"},
    {"VISIT_TASKS", "{\"lat\":30,\"lon\":181}", "lon"},
    {"VISIT_TASKS", "{\"lat\":30}", "lon"},
    {"VISIT_TASKS", "{\"lat\":\"30\",\"lon\":120}", "lat"},
    {"VISIT_TASKS", "{\"where\":1}", "where"},
    {"VISIT_CHECKIN", "{" OKREST "}", "task_id"},
    {"VISIT_CHECKIN", "{\"task_id\":0," OKREST "}", "task_id"},
    {"VISIT_CHECKIN", "{\"task_id\":\"1\"," OKREST "}", "task_id"},
    {"VISIT_CHECKIN", "{\"customer_id\":-1," OKREST "}", "customer_id"},
    {"VISIT_CHECKIN", "{\"task_id\":1,\"lat\":-91,\"lon\":120,\"outcome\":\"met\",\"notes\":\"x\"}",
     "lat"},
    {"VISIT_CHECKIN", "{\"task_id\":1,\"lon\":120,\"outcome\":\"met\",\"notes\":\"x\"}", "lat"},
    {"VISIT_CHECKIN", "{\"task_id\":1,\"lat\":30,\"lon\":200,\"outcome\":\"met\",\"notes\":\"x\"}",
     "lon"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"at\":1}", "at"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"at\":99999999999999}", "at"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKPOS ",\"outcome\":\"gone\",\"notes\":\"x\"}", "outcome"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKPOS ",\"notes\":\"x\"}", "outcome"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKPOS ",\"outcome\":\"met\"}", "notes"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKPOS ",\"outcome\":\"met\",\"notes\":\"a\\u0001b\"}",
     "notes"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"photos\":[\"a b\"]}", "photos[0]"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"photos\":[\"a\",\"a\"]}", "photos[1]"},
    {"VISIT_CHECKIN",
     "{\"task_id\":1," OKREST ",\"photos\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
     "\"9\",\"10\"]}",
     "photos"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"photos\":[7]}", "photos[0]"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"next_step\":\"a\\tb\"}", "next_step"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"open_lead\":{\"note\":\"x\"}}",
     "open_lead.product"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"open_lead\":{\"product\":\"Loan\"}}",
     "open_lead.product"},
    {"VISIT_CHECKIN",
     "{\"task_id\":1," OKREST ",\"open_lead\":{\"product\":\"loan\",\"note\":\"\\u0007\"}}",
     "open_lead.note"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"open_lead\":{\"product\":\"loan\",\"x\":1}}",
     "open_lead.x"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"open_lead\":\"loan\"}", "open_lead"},
    {"VISIT_CHECKIN", "{\"task_id\":1," OKREST ",\"extra\":1}", "extra"},
};

static void bad_members_write_nothing(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        char *before = dump();
        long st;
        json_t *a = tablet_call(&T1, BAD[i].tx, BAD[i].data, NULL, &st, NULL);
        char *after = dump();
        char want[80];
        snprintf(want, sizeof want, "data.%s:", BAD[i].field);
        const char *msg = json_string_value(json_object_get(a, "message"));
        if (!a || strcmp(answer_code(a), "bad_request") != 0 || !msg || !strstr(msg, want))
            fail_msg("%s %s: want bad_request naming %s, got %s: %s", BAD[i].tx, BAD[i].data, want,
                     a ? answer_code(a) : "(plain)", msg ? msg : "");
        if (strcmp(before, after) != 0)
            fail_msg("%s %s: a refused request wrote something", BAD[i].tx, BAD[i].data);
        free(before);
        free(after);
        json_decref(a);
    }
}

/* ---- assignment by a branch manager ------------------------------------------------- */

static int64_t create_customer(struct tablet *t, const char *name, const char *id_no)
{
    json_t *a = call(t, "CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"%s\",\"id_no\":\"%s\"}",
                     name, id_no);
    answer_expect(a, "OK");
    int64_t id = int_of(a, "customer_id");
    json_decref(a);
    return id;
}

static void manager_assigns(void **state)
{
    (void)state;
    int64_t cust = create_customer(&T1, "钱大山", "330102198511300015");
    char body[512];
    json_t *a = NULL;
    snprintf(body, sizeof body,
             "{\"teller\":\"demo01\",\"customer_id\":%lld,\"lat\":30.3,\"lon\":120.3,"
             "\"product\":\"deposit\",\"note\":\"到期存款续存\"}",
             (long long)cust);
    assert_int_equal(console_post(&BM, "/api/v1/admin/visits/tasks", body, &a), 201);
    int64_t task = json_integer_value(json_object_get(json_object_get(a, "task"), "task_id"));
    assert_true(task > 0);
    json_decref(a);
    /* Another branch's teller, another bank's, a bank admin: as if nobody. */
    static const char *const others[] = {"demo02", "demo03", "ghost99"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof body, "{\"teller\":\"%s\",\"customer_id\":%lld}", others[i],
                 (long long)cust);
        assert_int_equal(console_post(&BM, "/api/v1/admin/visits/tasks", body, &a), 404);
        assert_string_equal(console_err(a), "not_found");
        json_decref(a);
    }
    /* Only branch managers assign. */
    snprintf(body, sizeof body, "{\"teller\":\"demo01\",\"customer_id\":%lld}", (long long)cust);
    assert_int_equal(console_post(&A1, "/api/v1/admin/visits/tasks", body, &a), 403);
    json_decref(a);
    /* No such customer in the bank; bad values. */
    assert_int_equal(console_post(&BM, "/api/v1/admin/visits/tasks",
                                  "{\"teller\":\"demo01\",\"customer_id\":98765}", &a),
                     404);
    assert_string_equal(console_err(a), "customer_not_found");
    json_decref(a);
    static const char *const bad[][2] = {
        {"{\"teller\":\"demo01\",\"customer_id\":1,\"date\":\"2026-13-01\"}", "date"},
        {"{\"teller\":\"demo01\",\"customer_id\":1,\"product\":\"A B\"}", "product"},
        {"{\"teller\":\"demo01\",\"customer_id\":1,\"lat\":100,\"lon\":1}", "lat"},
        {"{\"teller\":\"demo01\",\"customer_id\":0}", "customer_id"},
        {"{\"teller\":\"demo01\",\"customer_id\":1,\"note\":\"\\u0001\"}", "note"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *before = dump();
        assert_int_equal(console_post(&BM, "/api/v1/admin/visits/tasks", bad[i][0], &a), 400);
        const char *msg =
            json_string_value(json_object_get(json_object_get(a, "error"), "message"));
        if (!msg || strncmp(msg, bad[i][1], strlen(bad[i][1])) != 0)
            fail_msg("%s: want bad_request naming %s, got %s", bad[i][0], bad[i][1],
                     msg ? msg : "");
        char *after = dump();
        assert_string_equal(before, after);
        free(before);
        free(after);
        json_decref(a);
    }
    /* demo01 sees it, with the customer. */
    a = tasks(&T1, "");
    bool found = false;
    for (size_t i = 0; i < json_array_size(items_of(a)); i++) {
        json_t *it = json_array_get(items_of(a), i);
        if (json_integer_value(json_object_get(it, "task_id")) != task)
            continue;
        found = true;
        assert_string_equal(json_string_value(json_object_get(it, "source")), "manager");
        assert_int_equal(json_integer_value(json_object_get(it, "customer_id")), cust);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(it, "customer"), "name")), "钱大山");
    }
    assert_true(found);
    json_decref(a);
    /* A check-in naming only the customer: measured from the customer's
     * known position (the task's), and far from it. */
    a = call(&T1, "VISIT_CHECKIN",
             "{\"customer_id\":%lld,\"lat\":30.3,\"lon\":120.31,\"outcome\":\"met\","
             "\"notes\":\"路遇\"}",
             (long long)cust);
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "far")));
    assert_true(int_of(a, "distance_m") > 900 && int_of(a, "distance_m") < 1000);
    json_decref(a);
    /* A customer without any known position: no distance, not far. */
    int64_t other = create_customer(&T1, "孙小河", "330102199001011234");
    a = call(&T1, "VISIT_CHECKIN",
             "{\"customer_id\":%lld,\"lat\":30.3,\"lon\":120.31,\"outcome\":\"met\","
             "\"notes\":\"\"}",
             (long long)other);
    answer_expect(a, "OK");
    assert_false(json_is_true(json_object_get(answer_data(a), "far")));
    assert_null(json_object_get(answer_data(a), "distance_m"));
    json_decref(a);
}

/* A customer with a position of their own (CUSTOMER_CREATE lat, lon): a
 * check-in is measured from it, before any task's position. */
static void checkin_measured_from_customer(void **state)
{
    (void)state;
    json_t *a = call(&T1, "CUSTOMER_CREATE",
                     "{\"kind\":\"person\",\"name\":\"冯定位\",\"id_no\":\"330102197103030031\","
                     "\"lat\":30.1,\"lon\":120.1}");
    answer_expect(a, "OK");
    int64_t cust = int_of(a, "customer_id");
    json_decref(a);
    /* No task at all: near the customer is not far, far from them is. */
    a = call(&T1, "VISIT_CHECKIN",
             "{\"customer_id\":%lld,\"lat\":30.1001,\"lon\":120.1,\"outcome\":\"met\","
             "\"notes\":\"近\"}",
             (long long)cust);
    answer_expect(a, "OK");
    assert_false(json_is_true(json_object_get(answer_data(a), "far")));
    assert_true(int_of(a, "distance_m") >= 5 && int_of(a, "distance_m") <= 20);
    json_decref(a);
    a = call(&T1, "VISIT_CHECKIN",
             "{\"customer_id\":%lld,\"lat\":30.12,\"lon\":120.1,\"outcome\":\"met\","
             "\"notes\":\"远\"}",
             (long long)cust);
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "far")));
    assert_true(int_of(a, "distance_m") > 2000 && int_of(a, "distance_m") < 2500);
    json_decref(a);
    /* A task placed elsewhere: the customer's own position still counts. */
    char body[256];
    snprintf(body, sizeof body,
             "{\"teller\":\"demo01\",\"customer_id\":%lld,\"lat\":30.5,\"lon\":120.5}",
             (long long)cust);
    assert_int_equal(console_post(&BM, "/api/v1/admin/visits/tasks", body, &a), 201);
    int64_t task = json_integer_value(json_object_get(json_object_get(a, "task"), "task_id"));
    json_decref(a);
    a = call(&T1, "VISIT_CHECKIN",
             "{\"task_id\":%lld,\"lat\":30.5,\"lon\":120.5,\"outcome\":\"met\","
             "\"notes\":\"任务地点\"}",
             (long long)task);
    answer_expect(a, "OK");
    assert_true(json_is_true(json_object_get(answer_data(a), "far")));
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM visits WHERE far = 1 AND notes = '任务地点'"), 1);
}

/* ---- a customer's history -------------------------------------------------------------- */

/* VISIT_HISTORY lists every check-in of the customer, newest first, marks
 * the session's own, is refused for a customer of another bank like one that
 * does not exist, checks its limit, and is audited. */
static void history_of_a_customer(void **state)
{
    (void)state;
    int64_t cust =
        db_int("SELECT customer_id FROM visits WHERE customer_id IS NOT NULL AND bank_id "
               "= (SELECT id FROM banks WHERE code = 'B01') ORDER BY id DESC LIMIT 1");
    char where[160];
    snprintf(where, sizeof where,
             "FROM visits WHERE customer_id = %lld AND bank_id = (SELECT id FROM banks WHERE code "
             "= 'B01')",
             (long long)cust);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) %s", where);
    int64_t n = db_int(sql);
    snprintf(sql, sizeof sql, "SELECT MAX(id) %s", where);
    int64_t newest = db_int(sql);
    assert_true(n >= 1);
    int64_t audits = db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'visit.history_listed'");

    json_t *a = call(&T1, "VISIT_HISTORY", "{\"customer_id\":%lld}", (long long)cust);
    answer_expect(a, "OK");
    json_t *items = json_object_get(answer_data(a), "items");
    assert_int_equal((int64_t)json_array_size(items), n < 20 ? n : 20);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "visit_id")),
                     newest);
    for (size_t i = 1; i < json_array_size(items); i++)
        assert_true(json_integer_value(json_object_get(json_array_get(items, i), "visit_id")) <
                    json_integer_value(json_object_get(json_array_get(items, i - 1), "visit_id")));
    assert_true(json_is_true(json_object_get(json_array_get(items, 0), "mine")));
    assert_non_null(json_string_value(json_object_get(json_array_get(items, 0), "outcome")));
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'visit.history_listed'"),
                     audits + 1);

    a = call(&T1, "VISIT_HISTORY", "{\"customer_id\":%lld,\"limit\":1}", (long long)cust);
    answer_expect(a, "OK");
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 1);
    json_decref(a);
    a = call(&T1, "VISIT_HISTORY", "{\"customer_id\":%lld,\"limit\":0}", (long long)cust);
    answer_expect(a, "bad_request");
    json_decref(a);
    /* B02 has no such customer: answered as one that exists nowhere. */
    a = call(&T3, "VISIT_HISTORY", "{\"customer_id\":%lld}", (long long)cust);
    answer_expect(a, "customer_not_found");
    json_decref(a);
    a = call(&T1, "VISIT_HISTORY", "{\"customer_id\":987654}");
    answer_expect(a, "customer_not_found");
    json_decref(a);
}

/* ---- isolation ------------------------------------------------------------------------ */

static void other_bank_sees_nothing(void **state)
{
    (void)state;
    /* Ids are per bank: B01's newest task has an id B02 has not reached. */
    int64_t id = db_int("SELECT MAX(id) FROM visit_tasks WHERE bank_id = (SELECT id FROM banks "
                        "WHERE code = 'B01')");
    assert_true(id > db_int("SELECT MAX(id) FROM visit_tasks WHERE bank_id = (SELECT id FROM "
                            "banks WHERE code = 'B02')"));
    int64_t b01_visits = db_int("SELECT COUNT(*) FROM visits WHERE bank_id = (SELECT id FROM "
                                "banks WHERE code = 'B01')");
    int64_t b01_open = db_int("SELECT COUNT(*) FROM visit_tasks WHERE status = 'open' AND bank_id "
                              "= (SELECT id FROM banks WHERE code = 'B01')");
    json_t *a = call(&T3, "VISIT_CHECKIN",
                     "{\"task_id\":%lld,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\","
                     "\"notes\":\"x\"}",
                     (long long)id);
    answer_expect(a, "visit_task_not_found");
    json_decref(a);
    /* B02 has no customer at all: B01's customer 1 is nobody there. */
    a = call(&T3, "VISIT_CHECKIN",
             "{\"customer_id\":1,\"lat\":30.2,\"lon\":120.1,\"outcome\":\"met\",\"notes\":\"x\"}");
    answer_expect(a, "customer_not_found");
    json_decref(a);
    a = tasks(&T3, "");
    char *text = json_dumps(a, JSON_COMPACT);
    assert_null(strstr(text, "B01-"));
    assert_null(strstr(text, "钱大山"));
    assert_non_null(strstr(text, "B02-01-C"));
    free(text);
    json_decref(a);
    assert_int_equal(db_int("SELECT COUNT(*) FROM visits WHERE bank_id = (SELECT id FROM banks "
                            "WHERE code = 'B01')"),
                     b01_visits);
    assert_int_equal(db_int("SELECT COUNT(*) FROM visit_tasks WHERE status = 'open' AND bank_id = "
                            "(SELECT id FROM banks WHERE code = 'B01')"),
                     b01_open);
    assert_int_equal(db_int("SELECT COUNT(*) FROM visits WHERE bank_id = (SELECT id FROM banks "
                            "WHERE code = 'B02')"),
                     0);
}

static void session_required(void **state)
{
    (void)state;
    struct tablet t = T1;
    t.sid[0] = '\0';
    long st;
    json_t *a = tablet_call(&t, "VISIT_TASKS", "{}", NULL, &st, NULL);
    answer_expect(a, "session_invalid");
    json_decref(a);
}

/* ---- fixture -------------------------------------------------------------------------- */

/* zhanye-sim grid on free ports, in a work directory of its own. */
static int sim_start(void)
{
    snprintf(SIM_DIR, sizeof SIM_DIR, "/tmp/zt_grid_%d", (int)getpid());
    return mkdir(SIM_DIR, 0700) == 0 || errno == EEXIST ? simproc_start(&SIM, SIM_DIR) : -1;
}

static int setup(void **state)
{
    (void)state;
    char conf[256], src[PATH_MAX], link[PATH_MAX + 8];
    if (sim_start() != 0) {
        fprintf(stderr, "cannot start the grid simulator (ZHANYE_SIM_BIN?)\n");
        return -1;
    }
    snprintf(conf, sizeof conf, "[egress.grid]\naddress = http://127.0.0.1:%d\n", SIM.port);
    if (testd_init(&D, conf))
        return -1;
    snprintf(link, sizeof link, "%s/conf", D.dir);
    if (symlink(src_path("conf", src, sizeof src), link) != 0)
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    if (console_login(&A1, &D, "admin01", PW) != 200 ||
        console_post(&A1, "/api/v1/admin/tellers",
                     "{\"branch\":\"01\",\"code\":\"bm01\",\"name\":\"城关负责人\",\"role\":"
                     "\"branch_manager\",\"password\":\"" PW "\"}",
                     NULL) != 201 ||
        console_login(&BM, &D, "bm01", PW) != 200)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T3);
    store_close(DB);
    testd_cleanup(&D);
    int rc = simproc_stop(&SIM);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", SIM_DIR);
    return system(cmd) == 0 ? rc : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sync_makes_tasks_once),          cmocka_unit_test(sorted_by_distance),
        cmocka_unit_test(checkin_near_and_far),           cmocka_unit_test(same_cseq_is_one_visit),
        cmocka_unit_test(bad_members_write_nothing),      cmocka_unit_test(manager_assigns),
        cmocka_unit_test(checkin_measured_from_customer), cmocka_unit_test(history_of_a_customer),
        cmocka_unit_test(other_bank_sees_nothing),        cmocka_unit_test(session_required),
    };
    return cmocka_run_group_tests_name("visits", tests, setup, teardown);
}
