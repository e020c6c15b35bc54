/* Customers end to end: CUSTOMER_CREATE, CUSTOMER_UPDATE, CUSTOMER_GET and
 * CUSTOMER_SEARCH over HTTP with real ZY1 envelopes against a real daemon.
 * For every input member a bad value (bad_request naming the member, and
 * nothing written); one customer per ID number per bank; field-level
 * history; masked search answers and full values only from the audited
 * CUSTOMER_GET; the record sealed at rest (no ID number, phone or address
 * in the database's bytes); bank B02 can neither see nor change B01's
 * customers (the matrix of test_isolation.c covers the rest). */
#include "data/store.h"
#include "tablet.h"
#include "testd.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PW "Demo@1234"

/* The standard's example numbers and built ones (valid check characters). */
#define ID_A "11010519491231002X"
#define ID_B "330102199001011234"
#define ID_C "520102197805050024"
#define ID_D "330102198511300015"
#define USCC_A "91350100M000100Y43"
#define USCC_B "913101157895123458"
#define PHONE_A "13812345678"
#define ADDR_A "青山县城关镇幸福路18号"

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct tablet T2; /* demo02, B01 (another branch) */
static struct tablet T3; /* demo03, B02 */
static struct store *DB;

/* ---- helpers -------------------------------------------------------------------- */

/* Calls tx with data (printf-style); the sealed answer (never NULL). */
static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
{
    char data[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    return tablet_must(t, tx, data, NULL);
}

static int64_t int_of(json_t *a, const char *key)
{
    return json_integer_value(json_object_get(answer_data(a), key));
}

static const char *str_of(json_t *a, const char *key)
{
    const char *s = json_string_value(json_object_get(answer_data(a), key));
    return s ? s : "";
}

/* Creates a person; returns the customer id. */
static int64_t create_person(struct tablet *t, const char *name, const char *id_no,
                             const char *phone)
{
    json_t *a =
        call(t, "CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"%s\",\"id_no\":\"%s\"%s%s%s}",
             name, id_no, phone ? ",\"phone\":\"" : "", phone ? phone : "", phone ? "\"" : "");
    answer_expect(a, "OK");
    int64_t id = int_of(a, "customer_id");
    assert_true(id > 0);
    json_decref(a);
    return id;
}

/* One integer from the daemon's database. */
static int64_t db_int(const char *sql, const char *arg)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    assert_int_equal(store_prepare(c, sql, &s), STORE_OK);
    if (arg)
        store_bind_text(s, 1, arg);
    assert_int_equal(store_step(s), STORE_ROW);
    int64_t v = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return v;
}

/* Every byte of the customer tables and (with_audit) the audit log, as one buffer. */
static char *dump_of(size_t *len, bool with_audit)
{
    static const char *const q[] = {
        "SELECT bank_id, id, version, branch_id, teller_id, created_at, updated_at, kind, name, "
        "id_index, id_masked, phone_index, phone_masked, sealed FROM customers "
        "ORDER BY bank_id, id",
        "SELECT bank_id, customer_id, version, field, old_value, new_value, teller_id, "
        "branch_id, changed_at FROM customer_history ORDER BY bank_id, customer_id, version, "
        "field",
        "SELECT seq, bank_id, actor, event, target, detail FROM audit_log ORDER BY seq",
    };
    static const int ncols[] = {14, 9, 6};
    struct store_conn *c = NULL;
    char *buf = NULL;
    *len = 0;
    assert_int_equal(store_acquire(DB, &c), STORE_OK);
    for (size_t i = 0; i < (with_audit ? 3 : 2); i++) {
        struct store_stmt *s = NULL;
        assert_int_equal(store_prepare(c, q[i], &s), STORE_OK);
        int rc;
        while ((rc = store_step(s)) == STORE_ROW) {
            for (int k = 0; k < ncols[i]; k++) {
                size_t n = 0;
                const void *v = store_col_blob(s, k, &n);
                char *nb = realloc(buf, *len + n + 2);
                assert_non_null(nb);
                buf = nb;
                if (n)
                    memcpy(buf + *len, v, n);
                *len += n;
                buf[(*len)++] = '|';
            }
        }
        assert_int_equal(rc, STORE_DONE);
        store_finish(s);
    }
    store_release(c);
    char *nb = realloc(buf, *len + 1);
    assert_non_null(nb);
    nb[*len] = '\0';
    return nb;
}

static char *dump(size_t *len)
{
    return dump_of(len, true);
}

static bool contains(const char *buf, size_t len, const char *needle)
{
    return memmem(buf, len, needle, strlen(needle)) != NULL;
}

/* ---- create and get ------------------------------------------------------------- */

static void create_person_and_get(void **state)
{
    (void)state;
    json_t *a = call(&T1, "CUSTOMER_CREATE",
                     "{\"kind\":\"person\",\"name\":\"张晓红\",\"id_no\":\"%s\",\"phone\":\"%s\","
                     "\"address\":\"%s\",\"household\":[{\"name\":\"李建\",\"relation\":"
                     "\"spouse\",\"id_no\":\"%s\"}],\"occupation\":\"farmer\",\"income_band\":"
                     "\"30k_100k\",\"assets\":[{\"type\":\"land\",\"value\":150000,\"note\":"
                     "\"承包地8亩\"}],\"products\":[\"deposit\",\"debit_card\"]}",
                     "11010519491231002x", PHONE_A, ADDR_A, ID_D);
    answer_expect(a, "OK");
    int64_t id = int_of(a, "customer_id");
    assert_true(id > 0);
    assert_int_equal(int_of(a, "version"), 1);
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    /* The full values, normalised (x -> X), and what the number says. */
    assert_string_equal(str_of(a, "id_no"), ID_A);
    assert_string_equal(str_of(a, "phone"), PHONE_A);
    assert_string_equal(str_of(a, "address"), ADDR_A);
    assert_string_equal(str_of(a, "kind"), "person");
    assert_string_equal(str_of(a, "birth_date"), "1949-12-31");
    assert_string_equal(str_of(a, "sex"), "F");
    assert_string_equal(str_of(a, "occupation"), "farmer");
    json_t *hh = json_array_get(json_object_get(answer_data(a), "household"), 0);
    assert_string_equal(json_string_value(json_object_get(hh, "id_no")), ID_D);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "products")), 2);
    json_decref(a);
    /* Both audited in B01's bank, with the teller; no value of the record. */
    char target[32];
    snprintf(target, sizeof target, "customer:%lld", (long long)id);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'customer.created' AND "
                            "target = ? AND bank_id = (SELECT id FROM banks WHERE code = 'B01')",
                            target),
                     1);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'customer.viewed' AND "
                            "target = ? AND detail LIKE '%\"teller_id\":%'",
                            target),
                     1);
    size_t len;
    char *all = dump(&len);
    assert_false(contains(all, len, ID_A));
    assert_false(contains(all, len, PHONE_A));
    free(all);
}

static void create_business(void **state)
{
    (void)state;
    json_t *a = call(&T1, "CUSTOMER_CREATE",
                     "{\"kind\":\"business\",\"name\":\"青山果蔬专业合作社\",\"uscc\":\"%s\","
                     "\"legal_person\":{\"name\":\"王建军\",\"id_no\":\"%s\",\"phone\":"
                     "\"13912345678\"},\"industry\":\"A01\",\"turnover\":3600000,\"phone\":"
                     "\"13912345678\"}",
                     "91350100m000100y43", ID_C);
    answer_expect(a, "OK");
    int64_t id = int_of(a, "customer_id");
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    assert_string_equal(str_of(a, "uscc"), USCC_A);
    assert_string_equal(str_of(a, "industry"), "A01");
    assert_int_equal(int_of(a, "turnover"), 3600000);
    assert_null(json_object_get(answer_data(a), "birth_date"));
    json_decref(a);
    /* One customer per USCC per bank. */
    a = call(&T1, "CUSTOMER_CREATE",
             "{\"kind\":\"business\",\"name\":\"另一个名字\",\"uscc\":\"%s\"}", USCC_A);
    answer_expect(a, "customer_exists");
    assert_int_equal(int_of(a, "customer_id"), id);
    json_decref(a);
}

/* One customer per ID number per bank; the answer names the existing one
 * and nothing is written. */
static void one_customer_per_id_no(void **state)
{
    (void)state;
    int64_t id = create_person(&T1, "赵一", ID_B, NULL);
    size_t l1, l2;
    char *before = dump(&l1);
    json_t *a = call(&T1, "CUSTOMER_CREATE",
                     "{\"kind\":\"person\",\"name\":\"赵一二\",\"id_no\":\"%s\"}", ID_B);
    answer_expect(a, "customer_exists");
    assert_int_equal(int_of(a, "customer_id"), id);
    json_decref(a);
    char *after = dump(&l2);
    assert_true(l1 == l2 && memcmp(before, after, l1) == 0);
    free(before);
    free(after);
    /* The same number is a customer of its own in another bank. */
    int64_t other = create_person(&T3, "赵一", ID_B, NULL);
    assert_true(other > 0);
}

/* A cseq sent twice creates one customer and answers the same. */
static void create_is_idempotent(void **state)
{
    (void)state;
    long st;
    const char *data = "{\"kind\":\"person\",\"name\":\"钱多多\",\"id_no\":\"" ID_C "\"}";
    json_t *a = tablet_call(&T1, "CUSTOMER_CREATE", data, "c-cust-1", &st, NULL);
    json_t *b = tablet_call(&T1, "CUSTOMER_CREATE", data, "c-cust-1", &st, NULL);
    answer_expect(a, "OK");
    answer_expect(b, "OK");
    assert_int_equal(int_of(a, "customer_id"), int_of(b, "customer_id"));
    json_decref(a);
    json_decref(b);
}

/* ---- every input member with a bad value ------------------------------------------ */

struct bad_case {
    const char *tx, *data, *field;
};

static const struct bad_case BAD[] = {
    /* CUSTOMER_CREATE: every member. */
    {"CUSTOMER_CREATE", "{\"kind\":\"alien\",\"name\":\"甲\",\"id_no\":\"" ID_D "\"}", "kind"},
    {"CUSTOMER_CREATE", "{\"name\":\"甲\",\"id_no\":\"" ID_D "\"}", "kind"},
    {"CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"\",\"id_no\":\"" ID_D "\"}", "name"},
    {"CUSTOMER_CREATE", "{\"kind\":\"person\",\"id_no\":\"" ID_D "\"}", "name"},
    {"CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"330102198511300016\"}",
     "id_no"},
    {"CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"330102198502300015\"}",
     "id_no"},
    {"CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"990102198511300015\"}",
     "id_no"},
    {"CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"甲\"}", "id_no"},
    {"CUSTOMER_CREATE", "{\"kind\":\"business\",\"name\":\"甲\",\"uscc\":\"91350100M000100Y44\"}",
     "uscc"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"uscc\":\"" USCC_B "\"}",
     "uscc"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"phone\":\"1381234567\"}",
     "phone"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"address\":\"a\\tb\"}",
     "address"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D
     "\",\"household\":[{\"name\":\"乙\",\"relation\":\"friend\"}]}",
     "household[0].relation"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"occupation\":\"pirate\"}",
     "occupation"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"income_band\":\"rich\"}",
     "income_band"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D
     "\",\"assets\":[{\"type\":\"land\",\"value\":-3}]}",
     "assets[0].value"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"products\":[\"LOAN\"]}",
     "products[0]"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"business\",\"name\":\"甲\",\"uscc\":\"" USCC_B
     "\",\"legal_person\":{\"name\":\"乙\",\"id_no\":\"123\"}}",
     "legal_person.id_no"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"business\",\"name\":\"甲\",\"uscc\":\"" USCC_B "\",\"industry\":\"Z9\"}",
     "industry"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"business\",\"name\":\"甲\",\"uscc\":\"" USCC_B "\",\"turnover\":-1}", "turnover"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"business\",\"name\":\"甲\",\"uscc\":\"" USCC_B "\",\"turnover\":\"很多\"}",
     "turnover"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"nickname\":\"x\"}", "nickname"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"lat\":-90.5,\"lon\":120}",
     "lat"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"lat\":30,\"lon\":180.01}",
     "lon"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"lat\":\"30\",\"lon\":120}",
     "lat"},
    {"CUSTOMER_CREATE", "{\"kind\":\"person\",\"name\":\"甲\",\"id_no\":\"" ID_D "\",\"lon\":120}",
     "lat"},
    {"CUSTOMER_CREATE",
     "{\"kind\":\"business\",\"name\":\"甲\",\"uscc\":\"" USCC_B "\",\"lat\":30,\"lon\":-181}",
     "lon"},
    /* CUSTOMER_UPDATE (customer 1 of B01 exists). */
    {"CUSTOMER_UPDATE", "{\"name\":\"甲\"}", "customer_id"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":\"1\"}", "customer_id"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"name\":\"甲\"}", "version"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":0,\"name\":\"甲\"}", "version"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":\"1\",\"name\":\"甲\"}", "version"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":1,\"kind\":\"business\"}", "kind"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":1,\"name\":\"  \"}", "name"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":1,\"id_no\":\"\"}", "id_no"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":1,\"phone\":\"02112345678\"}", "phone"},
    {"CUSTOMER_UPDATE",
     "{\"customer_id\":1,\"version\":1,\"household\":[{\"relation\":\"child\"}]}",
     "household[0].name"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":1,\"turnover\":5}", "turnover"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":1,\"lat\":91,\"lon\":120}", "lat"},
    {"CUSTOMER_UPDATE", "{\"customer_id\":1,\"version\":1,\"lat\":30}", "lon"},
    /* CUSTOMER_GET. */
    {"CUSTOMER_GET", "{}", "customer_id"},
    {"CUSTOMER_GET", "{\"customer_id\":1,\"history\":\"yes\"}", "history"},
    /* CUSTOMER_SEARCH: every key and the limit. */
    {"CUSTOMER_SEARCH", "{}", "name"},
    {"CUSTOMER_SEARCH", "{\"name\":\" \"}", "name"},
    {"CUSTOMER_SEARCH", "{\"name\":\"张\",\"phone\":\"" PHONE_A "\"}", "phone"},
    {"CUSTOMER_SEARCH", "{\"id_no\":\"11010519491231002Y\"}", "id_no"},
    {"CUSTOMER_SEARCH", "{\"uscc\":\"91350100M000100Y4\"}", "uscc"},
    {"CUSTOMER_SEARCH", "{\"phone\":\"1381234567x\"}", "phone"},
    {"CUSTOMER_SEARCH", "{\"name\":\"张\",\"limit\":0}", "limit"},
    {"CUSTOMER_SEARCH", "{\"name\":\"张\",\"limit\":51}", "limit"},
};

static void bad_members_write_nothing(void **state)
{
    (void)state;
    create_person(&T1, "孙甲", "330102199001011242", NULL); /* so that id 1 exists */
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        size_t l1, l2;
        char *before = dump(&l1);
        long st;
        json_t *a = tablet_call(&T1, BAD[i].tx, BAD[i].data, NULL, &st, NULL);
        char *after = dump(&l2);
        char want[80];
        snprintf(want, sizeof want, "data.%s", BAD[i].field);
        const char *msg = json_string_value(json_object_get(a, "message"));
        if (!a || strcmp(answer_code(a), "bad_request") != 0 || !msg || !strstr(msg, want))
            fail_msg("%s %s: want bad_request naming %s, got %s: %s", BAD[i].tx, BAD[i].data, want,
                     a ? answer_code(a) : "(plain)", msg ? msg : "");
        if (l1 != l2 || memcmp(before, after, l1) != 0)
            fail_msg("%s %s: a refused request wrote something", BAD[i].tx, BAD[i].data);
        free(before);
        free(after);
        json_decref(a);
    }
}

/* ---- update and history ----------------------------------------------------------- */

static void update_keeps_history(void **state)
{
    (void)state;
    int64_t id = create_person(&T1, "周大福", "330102198511300015", "13700001111");
    json_t *a = call(
        &T1, "CUSTOMER_UPDATE",
        "{\"customer_id\":%lld,\"version\":1,\"phone\":\"13700002222\",\"address\":\"河东村5组\","
        "\"products\":[\"loan\"],\"name\":\"周大福\"}",
        (long long)id);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "version"), 2);
    char *changed = json_dumps(json_object_get(answer_data(a), "changed"), JSON_COMPACT);
    assert_string_equal(changed, "[\"address\",\"phone\",\"products\"]");
    free(changed);
    json_decref(a);
    /* The same values again: nothing changes, nothing is written. */
    size_t l1, l2;
    char *before = dump(&l1);
    a = call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":2,\"phone\":\"13700002222\"}", (long long)id);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "version"), 2);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "changed")), 0);
    json_decref(a);
    char *after = dump(&l2);
    assert_true(l1 == l2 && memcmp(before, after, l1) == 0);
    free(before);
    free(after);
    /* Remove the address: a third version. */
    a = call(&T1, "CUSTOMER_UPDATE", "{\"customer_id\":%lld,\"version\":2,\"address\":\"\"}",
             (long long)id);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "version"), 3);
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld,\"history\":true}", (long long)id);
    answer_expect(a, "OK");
    assert_string_equal(str_of(a, "phone"), "13700002222");
    assert_null(json_object_get(answer_data(a), "address"));
    json_t *h = json_object_get(answer_data(a), "history");
    assert_int_equal(json_array_size(h), 4);
    /* version 2: address (absent -> set), phone (old -> new), products. */
    json_t *phone = json_array_get(h, 1);
    assert_string_equal(json_string_value(json_object_get(phone, "field")), "phone");
    assert_int_equal(json_integer_value(json_object_get(phone, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(phone, "old")), "13700001111");
    assert_string_equal(json_string_value(json_object_get(phone, "new")), "13700002222");
    assert_true(json_integer_value(json_object_get(phone, "teller_id")) > 0);
    json_t *addr = json_array_get(h, 0);
    assert_null(json_object_get(addr, "old"));
    assert_string_equal(json_string_value(json_object_get(addr, "new")), "河东村5组");
    json_t *gone = json_array_get(h, 3);
    assert_int_equal(json_integer_value(json_object_get(gone, "version")), 3);
    assert_null(json_object_get(gone, "new"));
    json_decref(a);
    /* The old phone is sealed in the history too, never clear. */
    before = dump(&l1);
    assert_false(contains(before, l1, "13700001111"));
    assert_false(contains(before, l1, "河东村5组"));
    free(before);
    assert_int_equal(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'customer.updated' AND "
                            "detail LIKE '%\"fields\":[\"address\",\"phone\",\"products\"]%'",
                            NULL),
                     1);
}

static void update_refusals(void **state)
{
    (void)state;
    int64_t a_id = create_person(&T1, "吴一", "330102199002280014", NULL);
    int64_t b_id = create_person(&T1, "吴二", "330102199003010016", NULL);
    /* Another customer's ID number: customer_exists naming that one. */
    json_t *a = call(&T1, "CUSTOMER_UPDATE",
                     "{\"customer_id\":%lld,\"version\":1,\"id_no\":\"330102199002280014\"}",
                     (long long)b_id);
    answer_expect(a, "customer_exists");
    assert_int_equal(int_of(a, "customer_id"), a_id);
    json_decref(a);
    /* Its own number again is no conflict. */
    a = call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":1,\"id_no\":\"330102199003010016\"}",
             (long long)b_id);
    answer_expect(a, "OK");
    json_decref(a);
    a = call(&T1, "CUSTOMER_UPDATE", "{\"customer_id\":987654,\"version\":1,\"name\":\"无此人\"}");
    answer_expect(a, "customer_not_found");
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":987654}");
    answer_expect(a, "customer_not_found");
    json_decref(a);
}

/* ---- search --------------------------------------------------------------------- */

static void search_masks(void **state)
{
    (void)state;
    int64_t z1 = create_person(&T1, "郑三", "330102199104050017", "15012345678");
    int64_t z2 = create_person(&T1, "郑三丰", "330102199104050025", NULL);
    create_person(&T1, "冯四", "330102199104050033", NULL);
    json_t *a = call(&T1, "CUSTOMER_SEARCH", "{\"name\":\"郑\"}");
    answer_expect(a, "OK");
    json_t *items = json_object_get(answer_data(a), "items");
    assert_int_equal(json_array_size(items), 2);
    json_t *first = json_array_get(items, 0);
    assert_int_equal(json_integer_value(json_object_get(first, "customer_id")), z1);
    assert_string_equal(json_string_value(json_object_get(first, "id_no")), "330102********0017");
    assert_string_equal(json_string_value(json_object_get(first, "phone")), "150****5678");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "customer_id")),
                     z2);
    assert_false(json_is_true(json_object_get(answer_data(a), "more")));
    char *text = json_dumps(a, JSON_COMPACT);
    assert_null(strstr(text, "330102199104050017"));
    assert_null(strstr(text, "15012345678"));
    free(text);
    json_decref(a);
    /* limit and more */
    a = call(&T1, "CUSTOMER_SEARCH", "{\"name\":\"郑\",\"limit\":1}");
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 1);
    assert_true(json_is_true(json_object_get(answer_data(a), "more")));
    json_decref(a);
    /* Exact by ID number, by phone; by USCC for a business. */
    a = call(&T1, "CUSTOMER_SEARCH", "{\"id_no\":\"330102199104050025\"}");
    items = json_object_get(answer_data(a), "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "customer_id")),
                     z2);
    json_decref(a);
    a = call(&T1, "CUSTOMER_SEARCH", "{\"phone\":\"15012345678\"}");
    items = json_object_get(answer_data(a), "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "customer_id")),
                     z1);
    json_decref(a);
    json_t *b = call(&T1, "CUSTOMER_CREATE",
                     "{\"kind\":\"business\",\"name\":\"郑氏农机维修部\",\"uscc\":\"%s\"}", USCC_B);
    answer_expect(b, "OK");
    json_decref(b);
    a = call(&T1, "CUSTOMER_SEARCH", "{\"uscc\":\"%s\"}", USCC_B);
    items = json_object_get(answer_data(a), "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "uscc")),
                        USCC_B);
    json_decref(a);
    /* Nothing matches: an empty list. */
    a = call(&T1, "CUSTOMER_SEARCH", "{\"name\":\"不存在的名字\"}");
    answer_expect(a, "OK");
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 0);
    json_decref(a);
    assert_true(db_int("SELECT COUNT(*) FROM audit_log WHERE event = 'customer.searched'", NULL) >=
                6);
}

/* ---- isolation and session ------------------------------------------------------------ */

static void other_bank_sees_nothing(void **state)
{
    (void)state;
    int64_t id = create_person(&T1, "陈青山", "33010219880707001X", "18612345678");
    /* B02 has few customers: make sure it has none with this id. */
    int64_t b02 = db_int("SELECT COALESCE(MAX(id), 0) FROM customers WHERE bank_id = "
                         "(SELECT id FROM banks WHERE code = ?)",
                         "B02");
    assert_true(b02 < id);
    size_t l1, l2;
    char *before = dump_of(&l1, false);
    json_t *a = call(&T3, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)id);
    answer_expect(a, "customer_not_found");
    json_decref(a);
    a = call(&T3, "CUSTOMER_UPDATE", "{\"customer_id\":%lld,\"version\":1,\"name\":\"改名\"}",
             (long long)id);
    answer_expect(a, "customer_not_found");
    json_decref(a);
    static const char *const searches[] = {"{\"name\":\"陈青山\"}",
                                           "{\"id_no\":\"33010219880707001X\"}",
                                           "{\"phone\":\"18612345678\"}"};
    for (size_t i = 0; i < 3; i++) {
        a = call(&T3, "CUSTOMER_SEARCH", "%s", searches[i]);
        answer_expect(a, "OK");
        assert_int_equal(json_array_size(json_object_get(answer_data(a), "items")), 0);
        json_decref(a);
    }
    char *after = dump_of(&l2, false);
    /* Not a byte of the customer tables changed. */
    assert_true(l1 == l2 && memcmp(before, after, l1) == 0);
    free(before);
    free(after);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)id);
    assert_string_equal(str_of(a, "name"), "陈青山");
    assert_int_equal(int_of(a, "version"), 1);
    json_decref(a);
}

/* ---- position and edit conflicts --------------------------------------------------- */

static double real_of(json_t *a, const char *key)
{
    json_t *v = json_object_get(answer_data(a), key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* A customer's own position: stored, answered, replaced with history. */
static void position_kept_with_history(void **state)
{
    (void)state;
    json_t *a = call(&T1, "CUSTOMER_CREATE",
                     "{\"kind\":\"person\",\"name\":\"钱坐标\",\"id_no\":\"330102197001010013\","
                     "\"lat\":30.25,\"lon\":120}");
    answer_expect(a, "OK");
    int64_t id = int_of(a, "customer_id");
    assert_int_equal(int_of(a, "version"), 1);
    json_decref(a);
    /* A business (created by create_business) gets one too. */
    a = call(&T1, "CUSTOMER_SEARCH", "{\"uscc\":\"" USCC_B "\"}");
    int64_t biz = json_integer_value(json_object_get(
        json_array_get(json_object_get(answer_data(a), "items"), 0), "customer_id"));
    assert_true(biz > 0);
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)biz);
    int64_t bv = int_of(a, "version");
    json_decref(a);
    a = call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":%lld,\"lat\":-12.5,\"lon\":-77.25}", (long long)biz,
             (long long)bv);
    answer_expect(a, "OK");
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)biz);
    assert_true(real_of(a, "lat") == -12.5 && real_of(a, "lon") == -77.25);
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)id);
    answer_expect(a, "OK");
    assert_true(real_of(a, "lat") == 30.25 && real_of(a, "lon") == 120.0);
    json_decref(a);
    a = call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":1,\"lat\":30.5,\"lon\":120}", (long long)id);
    answer_expect(a, "OK");
    char *changed = json_dumps(json_object_get(answer_data(a), "changed"), JSON_COMPACT);
    assert_string_equal(changed, "[\"lat\"]");
    free(changed);
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld,\"history\":true}", (long long)id);
    assert_true(real_of(a, "lat") == 30.5);
    json_t *h = json_array_get(json_object_get(answer_data(a), "history"), 0);
    assert_string_equal(json_string_value(json_object_get(h, "field")), "lat");
    assert_true(json_number_value(json_object_get(h, "old")) == 30.25);
    assert_true(json_number_value(json_object_get(h, "new")) == 30.5);
    json_decref(a);
    /* The position is sealed with the record, never in clear. */
    size_t l;
    char *all = dump(&l);
    assert_false(contains(all, l, "30.5"));
    free(all);
}

/* Two managers edit the same customer from the same version: the second is
 * refused with conflict and the current version, writes nothing, and the
 * first's change is kept. */
static void edit_conflict_loses_nothing(void **state)
{
    (void)state;
    int64_t id = create_person(&T1, "郑冲突", "330102197002020029", "13900001111");
    json_t *a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)id);
    int64_t v = int_of(a, "version");
    assert_int_equal(v, 1);
    json_decref(a);
    a = call(&T1, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":%lld,\"phone\":\"13900002222\"}", (long long)id,
             (long long)v);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "version"), 2);
    json_decref(a);
    size_t l1, l2;
    char *before = dump(&l1);
    a = call(&T2, "CUSTOMER_UPDATE",
             "{\"customer_id\":%lld,\"version\":%lld,\"phone\":\"13900003333\","
             "\"address\":\"河西村\"}",
             (long long)id, (long long)v);
    answer_expect(a, "conflict");
    assert_int_equal(int_of(a, "version"), 2);
    assert_int_equal(int_of(a, "customer_id"), id);
    json_decref(a);
    char *after = dump(&l2);
    assert_true(l1 == l2 && memcmp(before, after, l1) == 0);
    free(before);
    free(after);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld,\"history\":true}", (long long)id);
    assert_string_equal(str_of(a, "phone"), "13900002222");
    assert_null(json_object_get(answer_data(a), "address"));
    assert_int_equal(int_of(a, "version"), 2);
    assert_int_equal(json_array_size(json_object_get(answer_data(a), "history")), 1);
    json_decref(a);
    /* Re-read, the second manager's edit goes through on version 2. */
    a = call(&T2, "CUSTOMER_UPDATE", "{\"customer_id\":%lld,\"version\":2,\"address\":\"河西村\"}",
             (long long)id);
    answer_expect(a, "OK");
    assert_int_equal(int_of(a, "version"), 3);
    json_decref(a);
    a = call(&T1, "CUSTOMER_GET", "{\"customer_id\":%lld}", (long long)id);
    assert_string_equal(str_of(a, "phone"), "13900002222");
    assert_string_equal(str_of(a, "address"), "河西村");
    json_decref(a);
}

static void session_required(void **state)
{
    (void)state;
    struct tablet t = T1;
    t.sid[0] = '\0';
    long st;
    json_t *a = tablet_call(&t, "CUSTOMER_SEARCH", "{\"name\":\"张\"}", NULL, &st, NULL);
    answer_expect(a, "session_invalid");
    json_decref(a);
}

/* ---- fixture ------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    if (testd_init(&D, NULL) || testd_start(&D) || testd_store_open(&D, &DB))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T2, &D, "demo02") || tablet_login(&T2, "demo02", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T2);
    tablet_free(&T3);
    store_close(DB);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_person_and_get),
        cmocka_unit_test(create_business),
        cmocka_unit_test(one_customer_per_id_no),
        cmocka_unit_test(create_is_idempotent),
        cmocka_unit_test(bad_members_write_nothing),
        cmocka_unit_test(update_keeps_history),
        cmocka_unit_test(update_refusals),
        cmocka_unit_test(search_masks),
        cmocka_unit_test(other_bank_sees_nothing),
        cmocka_unit_test(position_kept_with_history),
        cmocka_unit_test(edit_conflict_loses_nothing),
        cmocka_unit_test(session_required),
    };
    return cmocka_run_group_tests_name("customers", tests, setup, teardown);
}
