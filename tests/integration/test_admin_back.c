/* The console's back office end to end, on the demo's business data (`zhanye
 * init --demo`: customers, visits, completed businesses with vouchers) and
 * a real daemon, per role:
 *   - a bank admin (admin01, B01) lists and opens B01's customers,
 *     businesses, vouchers and visits, and never gets B02's: ?bank=B02, a
 *     B02 business number, a B02 voucher id, a B02 teller are 404 like a
 *     missing id, and no answer carries B02's code, bank or branch names;
 *   - a branch manager (mgr01, B01 branch 01, from the demo organisation)
 *     sees only what their branch created / holds: another branch's
 *     customer is 404;
 *   - the province admin lists every bank, names the bank of a record;
 *   - lists mask ID numbers and phones, the customer's page shows them;
 *   - a business shows its steps and its voucher's verification (intact),
 *     the voucher's PDF is served; no answer carries a PIN block or a
 *     tablet's device secret;
 *   - reassigning a task: branch managers only, to an active client manager
 *     of the branch, never a done task; the visit list shows the new one;
 *   - customer.viewed, biz.viewed, voucher.viewed and visit.reassigned are
 *     in the audit log with the administrator as actor. */
#include "channel/sm.h"
#include "console.h"
#include "foundation/codec.h"
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

static struct testd D;
static struct tablet T1; /* demo01 (B01 branch 01) */
static struct console P0, A1, A2, M1;
static char DS_HEX[2 * ZYC_DS_LEN + 1];

/* Every answer this test got, for the secret scan. */
static char *SEEN;
static size_t SEEN_LEN;

static void remember(json_t *a)
{
    char *t = a ? json_dumps(a, JSON_COMPACT) : NULL;
    if (!t)
        return;
    size_t n = strlen(t);
    char *p = realloc(SEEN, SEEN_LEN + n + 2);
    if (p) {
        memcpy(p + SEEN_LEN, t, n);
        SEEN_LEN += n;
        p[SEEN_LEN++] = '\n';
        p[SEEN_LEN] = '\0';
        SEEN = p;
    }
    free(t);
}

static json_t *get(struct console *c, long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *get(struct console *c, long want, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *a = NULL;
    long st = console_get(c, path, &a);
    if (st != want)
        fail_msg("GET %s: got %ld %s, want %ld", path, st, console_err(a), want);
    remember(a);
    return a;
}

static json_t *post(struct console *c, long want, const char *path, const char *body)
{
    json_t *a = NULL;
    long st = console_post(c, path, body, &a);
    if (st != want)
        fail_msg("POST %s %s: got %ld %s, want %ld", path, body, st, console_err(a), want);
    remember(a);
    return a;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static int64_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* No B02 code, bank name or branch name in the answer. */
static void no_b02(json_t *a)
{
    char *t = json_dumps(a, JSON_COMPACT);
    assert_non_null(t);
    if (strstr(t, "\"B02\"") || strstr(t, "绿水农信社") || strstr(t, "南湖支行") ||
        strstr(t, "北岭支行") || strstr(t, "demo03") || strstr(t, "demo04"))
        fail_msg("B02 shows in %s", t);
    free(t);
}

/* Every item of the array key has member k equal to v. */
static void all_are(json_t *a, const char *key, const char *k, const char *v)
{
    size_t i;
    json_t *it;
    assert_true(json_array_size(json_object_get(a, key)) > 0);
    json_array_foreach(json_object_get(a, key), i, it)
    {
        if (strcmp(str(it, k), v) != 0)
            fail_msg("%s[%zu].%s is %s, want %s", key, i, k, str(it, k), v);
    }
}

/* The first item of key whose k is v (borrowed), or NULL. */
static json_t *find(json_t *a, const char *key, const char *k, const char *v)
{
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(a, key), i, it)
    {
        if (strcmp(str(it, k), v) == 0)
            return it;
    }
    return NULL;
}

/* ---- bank admin ------------------------------------------------------------------ */

static void bank_admin_sees_only_their_bank(void **state)
{
    (void)state;
    json_t *a = get(&A1, 200, "/api/v1/admin/customers");
    all_are(a, "customers", "bank", "B01");
    no_b02(a);
    json_t *first = json_array_get(json_object_get(a, "customers"), 0);
    int64_t id = num(first, "customer_id");
    char name[256];
    snprintf(name, sizeof name, "%s", str(first, "name"));
    /* masked in the list */
    if (strcmp(str(first, "kind"), "person") == 0)
        assert_non_null(strstr(str(first, "id_masked"), "****"));
    json_decref(a);

    /* B02 by every door: 404 like a missing id */
    json_decref(get(&A1, 404, "/api/v1/admin/customers?bank=B02"));
    json_decref(get(&A1, 404, "/api/v1/admin/customers/get?id=%lld&bank=B02", (long long)id));
    json_decref(get(&A1, 404, "/api/v1/admin/customers/get?id=999999"));
    json_decref(get(&A1, 404, "/api/v1/admin/businesses?bank=B02"));
    json_decref(get(&A1, 404, "/api/v1/admin/visits?bank=B02"));
    json_decref(get(&A1, 404, "/api/v1/admin/visits?teller=demo03"));

    /* the same id in B01: B01's customer, in full */
    a = get(&A1, 200, "/api/v1/admin/customers/get?id=%lld", (long long)id);
    json_t *c = json_object_get(a, "customer");
    assert_string_equal(str(c, "name"), name);
    assert_string_equal(str(c, "bank"), "B01");
    if (json_object_get(c, "id_no"))
        assert_null(strchr(str(c, "id_no"), '*'));
    assert_non_null(json_object_get(a, "visits"));
    assert_non_null(json_object_get(a, "businesses"));
    assert_non_null(json_object_get(a, "attachments"));
    no_b02(a);
    json_decref(a);
    /* B02's customer of that id is another one (the ids are per bank) */
    a = get(&A2, 200, "/api/v1/admin/customers/get?id=%lld", (long long)id);
    assert_string_equal(str(json_object_get(a, "customer"), "bank"), "B02");
    json_decref(a);

    /* businesses: B01's only; B02's number is 404 */
    a = get(&A1, 200, "/api/v1/admin/businesses");
    all_are(a, "businesses", "bank", "B01");
    no_b02(a);
    json_decref(a);
    a = get(&A2, 200, "/api/v1/admin/businesses");
    json_t *b2 = json_array_get(json_object_get(a, "businesses"), 0);
    assert_non_null(b2);
    json_decref(get(&A1, 404, "/api/v1/admin/businesses/get?biz_no=%s", str(b2, "biz_no")));
    json_t *b2v = get(&A2, 200, "/api/v1/admin/businesses/get?biz_no=%s", str(b2, "biz_no"));
    const char *v2 = str(json_object_get(b2v, "voucher"), "voucher_id");
    assert_true(v2[0] == 'V');
    json_decref(get(&A1, 404, "/api/v1/admin/vouchers/get?id=%s", v2));
    json_decref(b2v);
    json_decref(a);

    /* visits */
    a = get(&A1, 200, "/api/v1/admin/visits");
    all_are(a, "visits", "bank", "B01");
    no_b02(a);
    json_decref(a);
}

/* ---- branch manager ------------------------------------------------------------------ */

static void branch_manager_sees_only_their_branch(void **state)
{
    (void)state;
    json_t *all = get(&A1, 200, "/api/v1/admin/customers?limit=200");
    json_t *other = find(all, "customers", "branch", "02");
    assert_non_null(other); /* demo02's customers, 河东支行 */
    int64_t other_id = num(other, "customer_id");

    json_t *a = get(&M1, 200, "/api/v1/admin/customers?limit=200");
    all_are(a, "customers", "branch", "01");
    no_b02(a);
    assert_true(json_array_size(json_object_get(a, "customers")) <
                json_array_size(json_object_get(all, "customers")));
    json_decref(a);
    json_decref(get(&M1, 404, "/api/v1/admin/customers/get?id=%lld", (long long)other_id));
    json_decref(get(&M1, 404, "/api/v1/admin/customers?bank=B02"));

    a = get(&M1, 200, "/api/v1/admin/businesses");
    all_are(a, "businesses", "branch", "01");
    json_decref(a);
    a = get(&M1, 200, "/api/v1/admin/visits");
    all_are(a, "visits", "branch", "01");
    no_b02(a);
    json_decref(a);
    json_decref(get(&M1, 404, "/api/v1/admin/visits?teller=demo02"));
    json_decref(all);
}

/* ---- province ---------------------------------------------------------------------- */

static void province_sees_every_bank(void **state)
{
    (void)state;
    json_t *a = get(&P0, 200, "/api/v1/admin/customers?limit=200");
    assert_non_null(find(a, "customers", "bank", "B01"));
    assert_non_null(find(a, "customers", "bank", "B02"));
    json_decref(a);
    a = get(&P0, 400, "/api/v1/admin/customers/get?id=1");
    assert_string_equal(console_err(a), "bad_request");
    json_decref(a);
    a = get(&P0, 200, "/api/v1/admin/customers/get?id=1&bank=B02");
    assert_string_equal(str(json_object_get(a, "customer"), "bank"), "B02");
    json_decref(a);
}

/* ---- a business and its voucher ------------------------------------------------------ */

static void business_steps_and_voucher(void **state)
{
    (void)state;
    json_t *a = get(&A1, 200, "/api/v1/admin/businesses?kind=debit_card&status=completed");
    json_t *b = json_array_get(json_object_get(a, "businesses"), 0);
    assert_non_null(b);
    json_t *v = get(&A1, 200, "/api/v1/admin/businesses/get?biz_no=%s", str(b, "biz_no"));
    json_t *steps = json_object_get(json_object_get(v, "business"), "steps");
    assert_true(json_array_size(steps) >= 8);
    json_t *card = NULL;
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st)
    {
        assert_string_equal(str(st, "state"), "done");
        if (strcmp(str(st, "step"), "card") == 0)
            card = json_object_get(json_object_get(st, "result"), "card_no");
    }
    assert_non_null(card);
    if (!strchr(json_string_value(card), '*')) /* masked */
        fail_msg("card_no in clear: %s", json_string_value(card));
    json_t *vc = json_object_get(v, "voucher");
    assert_true(json_is_true(json_object_get(vc, "intact")));
    assert_string_equal(str(vc, "verdict"), "intact");
    assert_non_null(strstr(str(vc, "reason"), "验签通过"));
    /* the PDF */
    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/vouchers/get?id=%s", str(vc, "voucher_id"));
    assert_int_equal(console_get(&A1, path, NULL), 200);
    json_decref(get(&A1, 404, "/api/v1/admin/vouchers/get?id=V1-999999"));
    json_decref(get(&A1, 404, "/api/v1/admin/businesses/get?biz_no=12"));
    json_decref(v);
    json_decref(a);
}

/* ---- reassignment ----------------------------------------------------------------------- */

static void reassign_rules(void **state)
{
    (void)state;
    /* a second client manager in branch 01 */
    json_decref(post(&M1, 201, "/api/v1/admin/tellers",
                     "{\"code\":\"demo05\",\"name\":\"钱小华\",\"role\":\"client_manager\","
                     "\"password\":\"" PW "\"}"));
    json_t *cs = get(&M1, 200, "/api/v1/admin/customers");
    int64_t cid = num(json_array_get(json_object_get(cs, "customers"), 0), "customer_id");
    json_decref(cs);
    char body[256];
    snprintf(body, sizeof body, "{\"teller\":\"demo01\",\"customer_id\":%lld}", (long long)cid);
    json_t *t = post(&M1, 201, "/api/v1/admin/visits/tasks", body);
    int64_t task = num(json_object_get(t, "task"), "task_id");
    json_decref(t);
    t = post(&M1, 201, "/api/v1/admin/visits/tasks", body);
    int64_t task2 = num(json_object_get(t, "task"), "task_id");
    json_decref(t);

    snprintf(body, sizeof body, "{\"task_id\":%lld,\"teller\":\"demo05\"}", (long long)task);
    json_decref(post(&A1, 403, "/api/v1/admin/visits/tasks/reassign", body));
    json_decref(post(&M1, 200, "/api/v1/admin/visits/tasks/reassign", body));
    json_t *l = get(&M1, 200, "/api/v1/admin/visits?teller=demo05");
    json_t *row = json_array_get(json_object_get(l, "tasks"), 0);
    assert_int_equal(num(row, "task_id"), task);
    assert_string_equal(str(row, "teller"), "demo05");
    json_decref(l);
    l = get(&M1, 200, "/api/v1/admin/visits?teller=demo01");
    json_t *it;
    size_t i;
    json_array_foreach(json_object_get(l, "tasks"), i, it)
    {
        assert_int_not_equal(num(it, "task_id"), task);
    }
    json_decref(l);

    /* not to another branch's or bank's teller, nor a stranger's task */
    snprintf(body, sizeof body, "{\"task_id\":%lld,\"teller\":\"demo02\"}", (long long)task);
    json_decref(post(&M1, 404, "/api/v1/admin/visits/tasks/reassign", body));
    snprintf(body, sizeof body, "{\"task_id\":%lld,\"teller\":\"demo03\"}", (long long)task);
    json_decref(post(&M1, 404, "/api/v1/admin/visits/tasks/reassign", body));
    snprintf(body, sizeof body, "{\"task_id\":%lld,\"teller\":\"demo01\"}", 999999LL);
    json_decref(post(&M1, 404, "/api/v1/admin/visits/tasks/reassign", body));

    /* a done task stays with who did it */
    char data[256];
    snprintf(
        data, sizeof data,
        "{\"task_id\":%lld,\"lat\":30.25,\"lon\":120.15,\"outcome\":\"met\",\"notes\":\"已走访\"}",
        (long long)task2);
    long st = 0;
    json_t *ans = tablet_call(&T1, "VISIT_CHECKIN", data, NULL, &st, NULL);
    assert_non_null(ans);
    assert_string_equal(answer_code(ans), "OK");
    json_decref(ans);
    snprintf(body, sizeof body, "{\"task_id\":%lld,\"teller\":\"demo05\"}", (long long)task2);
    json_t *e = post(&M1, 409, "/api/v1/admin/visits/tasks/reassign", body);
    assert_string_equal(console_err(e), "conflict");
    json_decref(e);
}

/* ---- attachments --------------------------------------------------------------------- */

static json_t *tcall(const char *tx, const char *data)
{
    long st = 0;
    json_t *a = tablet_call(&T1, tx, data, NULL, &st, NULL);
    if (!a || strcmp(answer_code(a), "OK") != 0)
        fail_msg("%s: %ld %s", tx, st, a ? answer_code(a) : "no answer");
    return a;
}

static void attachment_bytes_in_scope(void **state)
{
    (void)state;
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 'z', 'h',
                                  'a',  'n', 'y', 'e', '-',  'b',  'a',  'c',  'k'};
    uint8_t d[SM3_LEN];
    char hex[65], b64[64], data[512];
    sm_part part = {png, sizeof png};
    assert_int_equal(sm3_digest(&part, 1, d), SM_OK);
    assert_int_equal(hex_encode(d, sizeof d, hex, sizeof hex), 64);
    assert_true(b64_encode(png, sizeof png, b64, sizeof b64) > 0);
    /* a customer of demo01's branch (01) */
    json_t *cs = get(&M1, 200, "/api/v1/admin/customers");
    int64_t cid = num(json_array_get(json_object_get(cs, "customers"), 0), "customer_id");
    json_decref(cs);
    snprintf(data, sizeof data,
             "{\"kind\":\"photo\",\"name\":\"门头.png\",\"size\":%zu,\"sm3\":\"%s\","
             "\"link\":{\"customer_id\":%lld}}",
             sizeof png, hex, (long long)cid);
    json_t *a = tcall("ATTACH_BEGIN", data);
    int64_t id = num(json_object_get(a, "data"), "upload_id");
    json_decref(a);
    snprintf(data, sizeof data, "{\"upload_id\":%lld,\"index\":0,\"data\":\"%s\"}", (long long)id,
             b64);
    json_decref(tcall("ATTACH_CHUNK", data));
    snprintf(data, sizeof data, "{\"upload_id\":%lld}", (long long)id);
    json_decref(tcall("ATTACH_END", data));

    /* listed on the customer's page, served to who may see it */
    a = get(&M1, 200, "/api/v1/admin/customers/get?id=%lld", (long long)cid);
    json_t *att = json_array_get(json_object_get(a, "attachments"), 0);
    assert_int_equal(num(att, "attachment_id"), id);
    assert_string_equal(str(att, "mime"), "image/png");
    json_decref(a);
    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/attachments/get?id=%lld", (long long)id);
    assert_int_equal(console_get(&A1, path, NULL), 200);
    assert_int_equal(console_get(&M1, path, NULL), 200);
    /* not to another bank (B02 has no such attachment: the id names B02's) */
    assert_int_equal(console_get(&A2, path, NULL), 404);
    snprintf(path, sizeof path, "/api/v1/admin/attachments/get?id=%lld&bank=B02", (long long)id);
    assert_int_equal(console_get(&A1, path, NULL), 404);
    /* the bytes as uploaded */
    char url[256], hdr[160];
    snprintf(url, sizeof url, "%s/api/v1/admin/attachments/get?id=%lld", D.base, (long long)id);
    snprintf(hdr, sizeof hdr, "Cookie: zs=%s", A1.cookie);
    struct http_result r;
    assert_int_equal(http_do_hdr("GET", url, hdr, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, sizeof png);
    assert_memory_equal(r.body, png, sizeof png);
    http_result_free(&r);
}

/* ---- secrets and audit -------------------------------------------------------------------- */

static void no_secrets_in_answers(void **state)
{
    (void)state;
    assert_non_null(SEEN);
    assert_null(strstr(SEEN, "pin_block"));
    assert_null(strstr(SEEN, DS_HEX));
    char b64[128];
    assert_true(b64_encode(T1.st.ds, ZYC_DS_LEN, b64, sizeof b64) > 0);
    assert_null(strstr(SEEN, b64));
}

static bool audited(json_t *recs, const char *event, const char *actor)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(recs, "records"), i, r)
    {
        if (strcmp(str(r, "event"), event) == 0 && strcmp(str(r, "actor"), actor) == 0)
            return true;
    }
    return false;
}

static void reads_are_audited(void **state)
{
    (void)state;
    json_t *a = get(&P0, 200, "/api/v1/admin/audit/records?limit=500");
    assert_true(audited(a, "customer.viewed", "teller:admin01"));
    assert_true(audited(a, "customer.viewed", "teller:mgr01")); /* the misses too */
    assert_true(audited(a, "biz.viewed", "teller:admin01"));
    assert_true(audited(a, "voucher.viewed", "teller:admin01"));
    assert_true(audited(a, "visit.reassigned", "teller:mgr01"));
    assert_true(audited(a, "attach.viewed", "teller:admin01"));
    json_decref(a);
}

/* ---- the demo's logins ------------------------------------------------------------------- */

static void demo_branch_managers_log_in(void **state)
{
    (void)state;
    json_t *a = get(&M1, 200, "/api/v1/admin/me");
    json_t *t = json_object_get(a, "teller");
    assert_string_equal(str(t, "role"), "branch_manager");
    assert_string_equal(str(t, "bank"), "B01");
    assert_string_equal(str(t, "branch"), "01");
    json_decref(a);
    struct console m2;
    assert_int_equal(console_login(&m2, &D, "mgr02", PW), 200);
    a = get(&m2, 200, "/api/v1/admin/me");
    assert_string_equal(str(json_object_get(a, "teller"), "bank"), "B02");
    json_decref(a);
}

/* ---- fixture ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    if (testd_init_demo(&D, NULL) || testd_start(&D))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW))
        return -1;
    for (size_t i = 0; i < ZYC_DS_LEN; i++)
        snprintf(DS_HEX + 2 * i, 3, "%02x", T1.st.ds[i]);
    if (console_login(&P0, &D, "prov01", PW) != 200 ||
        console_login(&A1, &D, "admin01", PW) != 200 ||
        console_login(&A2, &D, "admin02", PW) != 200 || console_login(&M1, &D, "mgr01", PW) != 200)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    testd_cleanup(&D);
    free(SEEN);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(demo_branch_managers_log_in),
        cmocka_unit_test(bank_admin_sees_only_their_bank),
        cmocka_unit_test(branch_manager_sees_only_their_branch),
        cmocka_unit_test(province_sees_every_bank),
        cmocka_unit_test(business_steps_and_voucher),
        cmocka_unit_test(reassign_rules),
        cmocka_unit_test(attachment_bytes_in_scope),
        cmocka_unit_test(no_secrets_in_answers),
        cmocka_unit_test(reads_are_audited),
    };
    return cmocka_run_group_tests_name("admin_back", tests, setup, teardown);
}
