/* Unit tests for identity/audit: the chain holds, and an attacker with the
 * sqlite3 shell who updates, deletes or inserts a record is caught. The
 * tampering goes through the SQLite C API on the file, not the store. */
#include "identity/audit.h"

#include "idtest.h"

#include <sqlite3.h>

static void raw_exec(struct fx *f, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static void append_n(struct fx *f, int n)
{
    for (int i = 0; i < n; i++) {
        char target[16];
        snprintf(target, sizeof target, "t%d", i);
        assert_int_equal(TX(f, audit_appendf(f->c, 1, ACTOR, "test.event", target, "{s:i, s:s}",
                                             "n", i, "note", "备注")),
                         ID_OK);
    }
}

static void test_intact(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    assert_int_equal(audit_verify(f->st, &r), ID_OK);
    assert_int_equal(r.records, 0);
    assert_string_equal(r.head, "0000000000000000000000000000000000000000000000000000000000000000");
    append_n(f, 5);
    assert_int_equal(audit_verify(f->st, &r), ID_OK);
    assert_int_equal(r.records, 5);
    assert_int_equal(r.first_bad, 0);
    assert_int_equal(q_int(f, "SELECT MIN(seq) FROM audit_log"), 1);
    assert_int_equal(q_int(f, "SELECT MAX(seq) FROM audit_log"), 5);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log a JOIN audit_log b "
                              "ON b.seq = a.seq + 1 WHERE b.prev_hash = a.hash"),
                     4);
}

static void test_detects_update(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    raw_exec(f, "UPDATE audit_log SET detail = '{\"n\":99,\"note\":\"x\"}' WHERE seq = 3");
    assert_int_equal(audit_verify(f->st, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 3);
    assert_int_equal(r.records, 2);
    assert_non_null(strstr(r.reason, "altered"));
}

static void test_detects_rehashed_update(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    /* Even with the record's own hash replaced, the next record's link breaks. */
    raw_exec(f, "UPDATE audit_log SET actor = 'someone', "
                "hash = '1111111111111111111111111111111111111111111111111111111111111111' "
                "WHERE seq = 2");
    assert_int_equal(audit_verify(f->st, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 2);
    raw_exec(f, "UPDATE audit_log SET prev_hash = "
                "'2222222222222222222222222222222222222222222222222222222222222222' WHERE seq = 1");
    assert_int_equal(audit_verify(f->st, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 1);
}

static void test_detects_delete(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    raw_exec(f, "DELETE FROM audit_log WHERE seq = 4");
    assert_int_equal(audit_verify(f->st, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 4);
    assert_non_null(strstr(r.reason, "missing"));
}

static void test_detects_delete_and_renumber(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 5);
    /* Closing the gap does not help: record 3's successor no longer links. */
    raw_exec(f, "DELETE FROM audit_log WHERE seq = 3; "
                "UPDATE audit_log SET seq = seq - 1 WHERE seq > 3");
    assert_int_equal(audit_verify(f->st, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 3);
}

static void test_detects_insert(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 3);
    raw_exec(f, "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, detail, "
                "prev_hash, hash) SELECT 4, ts, bank_id, 'cli:root', 'teller.added', 'ghost', "
                "'{}', hash, '3333333333333333333333333333333333333333333333333333333333333333' "
                "FROM audit_log WHERE seq = 3");
    assert_int_equal(audit_verify(f->st, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 4);
    assert_int_equal(r.records, 3);
}

static void test_detects_insert_between(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 4);
    /* A fractional seq sorts between 2 and 3. */
    raw_exec(f, "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, detail, "
                "prev_hash, hash) SELECT 2.5, ts, bank_id, actor, event, target, detail, "
                "prev_hash, hash FROM audit_log WHERE seq = 3");
    assert_int_equal(audit_verify(f->st, &r), ID_CORRUPT);
    assert_int_equal(r.first_bad, 3);
    assert_int_equal(r.records, 2);
}

static void test_rolls_back_with_the_write(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    append_n(f, 2);
    assert_int_equal(store_begin(f->c), STORE_OK);
    assert_int_equal(audit_append(f->c, 1, ACTOR, "test.gone", "", NULL), ID_OK);
    assert_int_equal(store_rollback(f->c), STORE_OK);
    append_n(f, 1);
    assert_int_equal(audit_verify(f->st, &r), ID_OK);
    assert_int_equal(r.records, 3);
    assert_int_equal(q_int(f, "SELECT COUNT(*) FROM audit_log WHERE event = 'test.gone'"), 0);
}

static void test_input(void **state)
{
    struct fx *f = *state;
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "e", "t", "{\"b\":1,\"a\":[2,3]}")), ID_OK);
    struct store_stmt *s = NULL;
    assert_int_equal(store_prepare(f->c, "SELECT detail FROM audit_log WHERE seq = 1", &s),
                     STORE_OK);
    assert_int_equal(store_step(s), STORE_ROW);
    assert_string_equal(store_col_text(s, 0), "{\"a\":[2,3],\"b\":1}");
    store_finish(s);
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "e", "t", "[1]")), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 1, ACTOR, "e", "t", "{bad")), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 1, "a\nb", "e", "t", NULL)), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 1, "", "e", "t", NULL)), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, -1, ACTOR, "e", "t", NULL)), ID_BAD_INPUT);
    assert_int_equal(TX(f, audit_append(f->c, 0, ACTOR, "platform.event", "", NULL)), ID_OK);
}

struct seen {
    int n;
    int64_t last_seq;
    int64_t bank_id; /* -1: any */
    bool ordered;
};

static int see(const struct audit_record *r, void *arg)
{
    struct seen *s = arg;
    if (s->bank_id >= 0)
        assert_int_equal(r->bank_id, s->bank_id);
    s->ordered = s->ordered && (s->last_seq == 0 || r->seq < s->last_seq);
    s->last_seq = r->seq;
    assert_non_null(r->detail);
    s->n++;
    return 0;
}

static void test_list(void **state)
{
    struct fx *f = *state;
    int64_t b01 = bank_id(f, "B01"), b02 = bank_id(f, "B02");
    int64_t total = q_int(f, "SELECT COUNT(*) FROM audit_log");
    struct seen all = {0, 0, -1, true}, one = {0, 0, b01, true}, page = {0, 0, -1, true};
    assert_int_equal(audit_list(f->c, 0, 0, 0, AUDIT_LIST_MAX, see, &all), ID_OK);
    assert_int_equal(all.n, total);
    assert_true(all.ordered);
    assert_int_equal(audit_list(f->c, b01, 0, 0, 100, see, &one), ID_OK);
    assert_true(one.n > 0 && one.n < total);
    assert_int_equal(audit_list(f->c, 0, 0, 5, 2, see, &page), ID_OK);
    assert_int_equal(page.n, 2);
    assert_int_equal(page.last_seq, 3);
    /* A branch: the records about its tellers (demo03 is B02's branch 01). */
    struct teller t;
    struct seen br = {0, 0, b02, true};
    assert_int_equal(teller_find(f->c, "demo03", &t), ID_OK);
    assert_int_equal(audit_list(f->c, b02, t.branch_id, 0, 100, see, &br), ID_OK);
    assert_int_equal(br.n, 1); /* teller.added */
    assert_int_equal(audit_list(f->c, 0, t.branch_id, 0, 100, see, &br), ID_BAD_INPUT);
    assert_int_equal(audit_list(f->c, 0, 0, 0, 0, see, &br), ID_BAD_INPUT);
    assert_int_equal(audit_list(f->c, 0, 0, 0, AUDIT_LIST_MAX + 1, see, &br), ID_BAD_INPUT);
}

static void test_demo_chain(void **state)
{
    struct fx *f = *state;
    struct audit_report r;
    assert_int_equal(audit_verify(f->st, &r), ID_OK);
    assert_int_equal(r.records, q_int(f, "SELECT COUNT(*) FROM audit_log"));
    assert_true(r.records >= 14);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intact, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_update, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_rehashed_update, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_delete, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_delete_and_renumber, fx_setup_empty,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_insert, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_detects_insert_between, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_rolls_back_with_the_write, fx_setup_empty,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_input, fx_setup_empty, fx_teardown),
        cmocka_unit_test_setup_teardown(test_demo_chain, fx_setup_demo, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list, fx_setup_demo, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
