/* The node and a primary that stops taking writes (MariaDB only).
 *
 * A failover leaves the old primary read-only (or gone) and makes another
 * server writable. Here the one server is switched read-only under a running
 * node and back: while it refuses writes, a transaction that writes is
 * answered `unavailable` and leaves nothing behind, reads go on; once it is
 * writable again the node writes without a restart, and the refused request
 * sent again runs once. A session the server killed (the fence of a
 * failover) fails once and is opened again. */
#include "data/store.h"
#include "mariadb.h"
#include "tablet.h"
#include "testd.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define PW "Demo@1234"

/* Stored answers of cseq on the daemon's database. */
static int64_t answers_for(const struct testd *d, const char *cseq)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = -1;
    assert_int_equal(testd_store_open(d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    assert_int_equal(store_prepare(c, "SELECT COUNT(*) FROM tx_answers WHERE cseq = ?", &s),
                     STORE_OK);
    assert_int_equal(store_bind_text(s, 1, cseq), STORE_OK);
    if (store_step(s) == STORE_ROW)
        n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    store_close(st);
    return n;
}

/* With a cseq a write (DEVICE_CHECKIN: its answer is stored in the
 * transaction of its work), without one a read (SESSION_INFO). */
static const char *call_code(struct tablet *t, const char *cseq)
{
    static char code[64];
    long status = 0;
    json_t *a = cseq ? tablet_call(t, "DEVICE_CHECKIN",
                                   "{\"os\":\"Android 13\",\"app_version\":\"1.0.0\","
                                   "\"security\":{\"rooted\":false}}",
                                   cseq, &status, NULL)
                     : tablet_call(t, "SESSION_INFO", NULL, NULL, &status, NULL);
    snprintf(code, sizeof code, "%s", a ? answer_code(a) : "(no sealed answer)");
    json_decref(a);
    return code;
}

static void writes_refused_while_read_only_then_followed(void **state)
{
    (void)state;
    const struct mariadb_srv *m = testd_mariadb_server();
    if (!m)
        skip(); /* SQLite has no primary to lose */
    struct testd d;
    struct tablet t;
    assert_int_equal(testd_init(&d, NULL), 0);
    assert_int_equal(testd_start(&d), 0);
    assert_int_equal(tablet_activate(&t, &d, "demo01"), 0);
    assert_int_equal(tablet_login(&t, "demo01", PW), 0);
    assert_string_equal(call_code(&t, "before-1"), "OK"); /* a write, its answer stored */

    assert_int_equal(mariadb_admin_exec(m, "SET GLOBAL read_only = 1"), 0);
    assert_string_equal(call_code(&t, "during-1"), "unavailable");
    assert_string_equal(call_code(&t, NULL), "OK"); /* a read without cseq writes nothing */
    assert_string_equal(call_code(&t, "during-2"), "unavailable");

    assert_int_equal(mariadb_admin_exec(m, "SET GLOBAL read_only = 0"), 0);
    assert_int_equal(answers_for(&d, "during-1"), 0); /* the refusal left nothing */
    assert_string_equal(call_code(&t, "during-1"), "OK");
    assert_string_equal(call_code(&t, "after-1"), "OK");
    assert_int_equal(answers_for(&d, "during-1"), 1);
    assert_int_equal(answers_for(&d, "after-1"), 1);
    assert_int_equal(testd_stop(&d), 0);
    tablet_free(&t);
    testd_cleanup(&d);
}

static int64_t connection_id(struct store_conn *c)
{
    struct store_stmt *s = NULL;
    int64_t id = -1;
    assert_int_equal(store_prepare(c, "SELECT CONNECTION_ID()", &s), STORE_OK);
    if (store_step(s) == STORE_ROW)
        id = store_col_int64(s, 0);
    store_finish(s);
    return id;
}

/* A failover's fence kills the nodes' sessions on the old primary: a killed
 * session fails its next statement with STORE_BUSY, a statement never
 * prepared before included (that one crashed the node), and the next use
 * opens a new session. */
static void killed_session_fails_once_then_reopens(void **state)
{
    (void)state;
    const struct mariadb_srv *m = testd_mariadb_server();
    if (!m)
        skip(); /* SQLite has no sessions to kill */
    struct testd d;
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    char sql[64];
    assert_int_equal(testd_init(&d, NULL), 0);
    assert_int_equal(testd_store_open(&d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    int64_t id = connection_id(c);
    assert_true(id > 0);
    snprintf(sql, sizeof sql, "KILL CONNECTION %lld", (long long)id);
    assert_int_equal(mariadb_admin_exec(m, sql), 0);
    assert_int_equal(store_prepare(c, "SELECT 'never prepared on this session'", &s), STORE_BUSY);
    assert_null(s);
    int64_t id2 = connection_id(c);
    assert_true(id2 > 0);
    assert_true(id2 != id);
    store_release(c);
    store_close(st);
    testd_cleanup(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(writes_refused_while_read_only_then_followed),
        cmocka_unit_test(killed_session_fails_once_then_reopens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
