/* Bank shards with a real daemon: B01's business data lives in shard s1,
 * B02's in the directory (main); `zhanye shard move` (the real CLI, another
 * process) moves B01 to s2 while the daemon serves, and the daemon follows
 * without a restart: the customer made before is read from s2, a retried
 * cseq gets its stored answer there (nothing runs twice), new customers go
 * to s2 and nothing of B01 is left in s1. While a bank's fence says a move
 * is copying it, its business transactions are answered `unavailable` and
 * write nothing; another bank is not held up. The console's customer
 * report reads every shard and merges: the province sees each bank's
 * count wherever its data lives, a bank admin only their own. Runs on
 * SQLite files and, as
 * it_shards_mariadb, on databases of a private MariaDB server. */
#include "data/shard.h"
#include "console.h"
#include "data/store.h"
#include "mariadb.h"
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
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define ID_A "11010519491231002X"
#define ID_B "330102199001011234"
#define ID_C "520102197805050024"
#define ID_D "330102198511300015"

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct tablet T3; /* demo03, B02 */
static struct store *MAIN, *S1, *S2;
static char DB1[64], DB2[64]; /* the shards' database names */
static int64_t B01;           /* the bank's id */
static char B01_ROWS[96], B02_ROWS[96];

static struct store *open_shard(const char *db)
{
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s.db", D.dir, db);
    const struct mariadb_srv *m = testd_mariadb_server();
    struct store_config cfg = {.backend = "sqlite", .path = path, .pool_size = 2};
    if (m)
        cfg = (struct store_config){.backend = "mariadb",
                                    .pool_size = 2,
                                    .servers = m->servers,
                                    .database = db,
                                    .user = m->user,
                                    .password = m->password};
    struct store *st = NULL;
    if (store_open(&cfg, &st) != STORE_OK) {
        fprintf(stderr, "open shard %s: %s\n", db, store_errmsg(NULL));
        return NULL;
    }
    return st;
}

static int64_t count(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int64_t n = -1;
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    if (store_prepare(c, sql, &s) == STORE_OK && store_step(s) == STORE_ROW)
        n = store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    return n;
}

static int fence_txn(struct store_conn *c, void *arg)
{
    return shard_fence_set(c, B01, arg, 1);
}

static void set_fence(struct store *st, const char *state)
{
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    assert_int_equal(store_run(c, "test.fence", fence_txn, (void *)state), STORE_OK);
    store_release(c);
}

static json_t *create(struct tablet *t, const char *name, const char *id_no, const char *cseq)
{
    char data[256];
    snprintf(data, sizeof data, "{\"kind\":\"person\",\"name\":\"%s\",\"id_no\":\"%s\"}", name,
             id_no);
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(t, "CUSTOMER_CREATE", data, cseq, &st, &plain);
    if (!a)
        fail_msg("CUSTOMER_CREATE: no sealed answer (%ld)", st);
    json_decref(plain);
    return a;
}

static int64_t created_id(json_t *a)
{
    if (strcmp(answer_code(a), "OK") != 0)
        fail_msg("CUSTOMER_CREATE answered %s", answer_code(a));
    int64_t id = json_integer_value(json_object_get(json_object_get(a, "data"), "customer_id"));
    json_decref(a);
    return id;
}

static const char *get_name(struct tablet *t, int64_t id, char *out, size_t cap)
{
    char data[64];
    snprintf(data, sizeof data, "{\"customer_id\":%lld}", (long long)id);
    long st = 0;
    json_t *a = tablet_call(t, "CUSTOMER_GET", data, NULL, &st, NULL);
    assert_non_null(a);
    const char *code = answer_code(a);
    json_t *d = json_object_get(a, "data");
    const char *name = json_string_value(json_object_get(json_object_get(d, "customer"), "name"));
    if (!name)
        name = json_string_value(json_object_get(d, "name"));
    snprintf(out, cap, "%s", strcmp(code, "OK") == 0 && name ? name : code);
    json_decref(a);
    return out;
}

/* ---- the tests ------------------------------------------------------------------ */

static void customers_live_in_their_shard(void **state)
{
    (void)state;
    created_id(create(&T1, "张三", ID_A, NULL));
    created_id(create(&T3, "李四", ID_A, NULL)); /* the same person, another bank */
    assert_int_equal(count(S1, B01_ROWS), 1);
    assert_int_equal(count(MAIN, B01_ROWS), 0);
    assert_int_equal(count(MAIN, B02_ROWS), 1);
    assert_int_equal(count(S1, B02_ROWS), 0);
    assert_int_equal(count(S2, "SELECT COUNT(*) FROM customers"), 0);
}

static void moving_bank_is_unavailable(void **state)
{
    (void)state;
    int64_t before = count(S1, B01_ROWS);
    set_fence(S1, "moving");
    json_t *a = create(&T1, "王五", ID_B, NULL);
    assert_string_equal(answer_code(a), "unavailable");
    json_decref(a);
    assert_int_equal(count(S1, B01_ROWS), before);
    /* Another bank goes on. */
    created_id(create(&T3, "赵六", ID_B, NULL));
    set_fence(S1, NULL);
    created_id(create(&T1, "王五", ID_B, NULL));
    assert_int_equal(count(S1, B01_ROWS), before + 1);
}

static void move_while_serving(void **state)
{
    (void)state;
    json_t *first = create(&T1, "孙七", ID_C, "cseq-move-1");
    int64_t id = created_id(json_incref(first));
    int64_t b01 = count(S1, B01_ROWS);
    char *out = NULL, *err = NULL;
    int rc = run_zhanye(&out, &err, "shard", "move", "--data", D.dir, "--bank", "B01", "--to", "s2",
                        NULL);
    if (rc != 0)
        fail_msg("zhanye shard move: %d %s %s", rc, out ? out : "", err ? err : "");
    assert_non_null(strstr(out, "verified"));
    free(out);
    free(err);
    assert_int_equal(count(S2, B01_ROWS), b01);
    assert_int_equal(count(S1, B01_ROWS), 0);
    char gone[96];
    snprintf(gone, sizeof gone,
             "SELECT COUNT(*) FROM shard_banks WHERE bank_id = %lld AND state = 'gone'",
             (long long)B01);
    assert_int_equal(count(S1, gone), 1);
    /* The daemon follows without a restart. */
    char name[64];
    assert_string_equal(get_name(&T1, id, name, sizeof name), "孙七");
    /* The retried cseq is answered from its stored answer, in s2 now. */
    json_t *again = create(&T1, "孙七", ID_C, "cseq-move-1");
    assert_int_equal(created_id(again), id);
    assert_int_equal(count(S2, B01_ROWS), b01);
    json_decref(first);
    /* New work goes to s2; B02 stays in main. */
    created_id(create(&T1, "周八", ID_D, NULL));
    assert_int_equal(count(S2, B01_ROWS), b01 + 1);
    assert_int_equal(count(S1, B01_ROWS), 0);
    /* Both ends are in the directory's audit log. */
    assert_int_equal(count(MAIN, "SELECT COUNT(*) FROM audit_log WHERE event IN "
                                 "('shard.move_started', 'shard.moved')"),
                     2);
    /* `list` says where it is now. */
    rc = run_zhanye(&out, &err, "shard", "list", "--data", D.dir, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "B01              s2"));
    free(out);
    free(err);
}

static void move_back_to_main(void **state)
{
    (void)state;
    int64_t b01 = count(S2, B01_ROWS);
    char *out = NULL, *err = NULL;
    int rc = run_zhanye(&out, &err, "shard", "move", "--data", D.dir, "--bank", "B01", "--to",
                        SHARD_MAIN, NULL);
    if (rc != 0)
        fail_msg("zhanye shard move: %d %s %s", rc, out ? out : "", err ? err : "");
    free(out);
    free(err);
    assert_int_equal(count(MAIN, B01_ROWS), b01);
    assert_int_equal(count(S2, B01_ROWS), 0);
    long st = 0;
    json_t *s = tablet_call(&T1, "CUSTOMER_SEARCH", "{\"name\":\"孙\"}", NULL, &st, NULL);
    assert_non_null(s);
    assert_string_equal(answer_code(s), "OK");
    assert_int_equal(json_array_size(json_object_get(json_object_get(s, "data"), "items")), 1);
    json_decref(s);
    /* A move to where it is already is refused, and says so. */
    rc = run_zhanye(&out, &err, "shard", "move", "--data", D.dir, "--bank", "B01", "--to",
                    SHARD_MAIN, NULL);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "already"));
    free(out);
    free(err);
}

/* The report's row of bank code, or NULL. */
static json_t *report_row(json_t *rep, const char *code)
{
    json_t *banks = json_object_get(rep, "banks"), *b;
    size_t i;
    json_array_foreach(
        banks, i, b) if (strcmp(json_string_value(json_object_get(b, "code")), code) == 0) return b;
    return NULL;
}

static int64_t member(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void report_merges_shards(void **state)
{
    (void)state;
    struct console prov, adm;
    assert_int_equal(console_login(&prov, &D, "prov01", PW), 200);
    json_t *rep = NULL;
    assert_int_equal(console_get(&prov, "/api/v1/admin/reports/customers", &rep), 200);
    assert_int_equal(member(rep, "databases"), 3); /* main, s1, s2 */
    json_t *b01 = report_row(rep, "B01"), *b02 = report_row(rep, "B02");
    assert_non_null(b01);
    assert_non_null(b02);
    char shard[SHARD_NAME_MAX + 1];
    snprintf(shard, sizeof shard, "%s", json_string_value(json_object_get(b01, "shard")));
    struct store *where = strcmp(shard, "s1") == 0 ? S1 : strcmp(shard, "s2") == 0 ? S2 : MAIN;
    assert_int_equal(member(b01, "persons"), count(where, B01_ROWS));
    assert_true(member(b01, "persons") > 0);
    assert_int_equal(member(b02, "persons"), count(MAIN, B02_ROWS));
    assert_string_equal(json_string_value(json_object_get(b02, "shard")), SHARD_MAIN);
    assert_int_equal(member(json_object_get(rep, "total"), "persons"),
                     count(where, B01_ROWS) + count(MAIN, B02_ROWS));
    json_decref(rep);
    /* A bank admin reads their bank's shard only, and sees their bank only. */
    assert_int_equal(console_login(&adm, &D, "admin01", PW), 200);
    assert_int_equal(console_get(&adm, "/api/v1/admin/reports/customers", &rep), 200);
    assert_int_equal(member(rep, "databases"), 1);
    assert_int_equal(json_array_size(json_object_get(rep, "banks")), 1);
    assert_int_equal(member(report_row(rep, "B01"), "persons"), count(where, B01_ROWS));
    json_decref(rep);
}

static int setup(void **state)
{
    (void)state;
    static unsigned serial;
    snprintf(DB1, sizeof DB1, "zt_%d_%u_s1", (int)getpid(), ++serial);
    snprintf(DB2, sizeof DB2, "zt_%d_%u_s2", (int)getpid(), serial);
    char conf[512];
    snprintf(conf, sizeof conf,
             "[shard.s1]\ndatabase = %s\nbanks = B01\n[shard.s2]\ndatabase = %s\n", DB1, DB2);
    if (testd_init(&D, conf))
        return -1;
    const struct mariadb_srv *m = testd_mariadb_server();
    if (m && (mariadb_create_db(m, DB1) != 0 || mariadb_create_db(m, DB2) != 0))
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &MAIN) || !(S1 = open_shard(DB1)) ||
        !(S2 = open_shard(DB2)))
        return -1;
    B01 = count(MAIN, "SELECT id FROM banks WHERE code = 'B01'");
    snprintf(B01_ROWS, sizeof B01_ROWS, "SELECT COUNT(*) FROM customers WHERE bank_id = %lld",
             (long long)B01);
    snprintf(B02_ROWS, sizeof B02_ROWS, "SELECT COUNT(*) FROM customers WHERE bank_id <> %lld",
             (long long)B01);
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T3);
    store_close(MAIN);
    store_close(S1);
    store_close(S2);
    testd_cleanup(&D);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(customers_live_in_their_shard),
        cmocka_unit_test(moving_bank_is_unavailable),
        cmocka_unit_test(report_merges_shards),
        cmocka_unit_test(move_while_serving),
        cmocka_unit_test(move_back_to_main),
        cmocka_unit_test(report_merges_shards),
    };
    return cmocka_run_group_tests_name("shards", tests, setup, teardown);
}
