/* The audit chains of bank shards with a real daemon: B01's business data
 * lives in shard s1 (later moved to s2), B02's in the directory (main).
 * Each database has its own chain: the customer records of B01 are in
 * s1's; the server's checkpointer signs s1's chain into s1's own table and
 * DATA/audit-checkpoints-s1.jsonl; `zhanye audit verify` (the real CLI)
 * and GET /api/v1/admin/audit/verify report main, s1 and s2; a record of
 * s1 altered, s1's tail cut below its checkpoint or s1's checkpoints
 * deleted is found in s1 while main stays intact; `zhanye audit
 * checkpoint` signs every chain; the console's records of B01's bank
 * admin merge the shards B01 lived in, never another bank's, and page
 * across chains without repeating or skipping; a clean shutdown signs each
 * chain's head. Runs on SQLite files and, as it_shard_audit_mariadb, on
 * databases of a private MariaDB server. */
#include "console.h"
#include "data/shard.h"
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

static const char *const IDS[] = {
    "110105198001010016", "110105198001010024", "110105198001010032", "110105198001010040",
    "110105198001010059", "110105198001010067", "110105198001010075", "110105198001010083",
    "110105198001010091", "110105198001010104",
};
static size_t next_id;

static struct testd D;
static struct tablet T1; /* demo01, B01 */
static struct tablet T3; /* demo03, B02 */
static struct store *MAIN, *S1, *S2;
static char DB1[64], DB2[64];
static int64_t B01;

/* ---- helpers ------------------------------------------------------------------- */

static struct store *open_shard(const char *db)
{
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s.db", D.dir, db);
    const struct mariadb_srv *m = testd_mariadb_server();
    struct store_config cfg = {
        .backend = "sqlite", .path = path, .pool_size = 2, .busy_timeout_ms = 5000};
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

/* sql (one or more statements, each committing on its own) on st. */
static void exec_on(struct store *st, const char *sql)
{
    struct store_conn *c = NULL;
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    if (store_exec(c, sql) != STORE_OK)
        fail_msg("%s: %s", sql, store_errmsg(c));
    store_release(c);
}

static void create(struct tablet *t, const char *name)
{
    char data[256];
    assert_true(next_id < sizeof IDS / sizeof IDS[0]);
    snprintf(data, sizeof data, "{\"kind\":\"person\",\"name\":\"%s\",\"id_no\":\"%s\"}", name,
             IDS[next_id++]);
    long st = 0;
    json_t *a = tablet_call(t, "CUSTOMER_CREATE", data, NULL, &st, NULL);
    if (!a || strcmp(answer_code(a), "OK") != 0)
        fail_msg("CUSTOMER_CREATE: %s (%ld)", a ? answer_code(a) : "no answer", st);
    json_decref(a);
}

static int64_t file_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    int64_t n = 0;
    if (!fp)
        return -1;
    for (int ch; (ch = fgetc(fp)) != EOF;)
        n += ch == '\n';
    fclose(fp);
    return n;
}

static const char *cp_file(const char *shard, char *out, size_t cap)
{
    snprintf(out, cap, "%s/audit-checkpoints-%s.jsonl", D.dir, shard);
    return out;
}

/* `zhanye audit verify --data DIR [--checkpoints ARG]`: exit status, stdout+stderr into out. */
static int verify(const char *checkpoints, char *out, size_t cap)
{
    char *o = NULL, *e = NULL;
    int rc = checkpoints ? run_zhanye(&o, &e, "audit", "verify", "--data", D.dir, "--checkpoints",
                                      checkpoints, NULL)
                         : run_zhanye(&o, &e, "audit", "verify", "--data", D.dir, NULL);
    snprintf(out, cap, "%s%s", o ? o : "", e ? e : "");
    free(o);
    free(e);
    return rc;
}

static void expect_all_intact(void)
{
    char out[8192];
    int rc = verify(NULL, out, sizeof out);
    if (rc != 0 || strncmp(out, "audit chain intact: ", 20) != 0 ||
        !strstr(out, "shard s1: audit chain intact: ") ||
        !strstr(out, "shard s2: audit chain intact: ") || !strstr(out, "all 3 audit chains intact"))
        fail_msg("audit verify: exit %d: %s", rc, out);
}

/* s1 broken at seq (why in the reason), main intact, exit 1. */
static void expect_s1_broken(const char *checkpoints, int64_t seq, const char *why)
{
    char out[8192], want[96];
    int rc = verify(checkpoints, out, sizeof out);
    snprintf(want, sizeof want, "shard s1: audit chain BROKEN at record %lld: ", (long long)seq);
    if (rc != 1 || strncmp(out, "audit chain intact: ", 20) != 0 || !strstr(out, want) ||
        !strstr(out, why) || !strstr(out, "shard s2: audit chain intact: ") ||
        !strstr(out, "1 of 3 audit chains NOT intact"))
        fail_msg("audit verify: exit %d, want s1 broken at %lld (%s): %s", rc, (long long)seq, why,
                 out);
}

static json_t *shard_report(json_t *v, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(v, "shards"), i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
            return r;
    }
    return NULL;
}

static int64_t member(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* ---- the tests ------------------------------------------------------------------- */

static void records_in_their_shard(void **state)
{
    (void)state;
    create(&T1, "张一");
    create(&T1, "张二");
    create(&T1, "张三");
    create(&T1, "张四");
    create(&T3, "李一"); /* B02: main */
    assert_int_equal(count(S1, "SELECT COUNT(*) FROM audit_log WHERE event = 'customer.created'"),
                     4);
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM audit_log WHERE event = 'customer.created' AND bank_id <> %lld",
             (long long)B01);
    assert_int_equal(count(S1, sql), 0);
    assert_int_equal(count(MAIN, "SELECT COUNT(*) FROM audit_log WHERE event = 'customer.created'"),
                     1);
    assert_int_equal(count(S2, "SELECT COUNT(*) FROM audit_log"), 0);
    /* s1's own chain: 1, 2, 3, ... */
    assert_int_equal(count(S1, "SELECT MIN(seq) FROM audit_log"), 1);
    assert_int_equal(count(S1, "SELECT MAX(seq) FROM audit_log"),
                     count(S1, "SELECT COUNT(*) FROM audit_log"));
}

/* [audit] checkpoint_every = 3: the server's thread signs s1's chain too. */
static void checkpointer_signs_shard(void **state)
{
    (void)state;
    char file[PATH_MAX + 64];
    cp_file("s1", file, sizeof file);
    int64_t rows = 0;
    for (int i = 0; i < 400; i++) {
        rows = count(S1, "SELECT COUNT(*) FROM audit_checkpoints");
        if (rows >= 1 && file_lines(file) == rows)
            break;
        usleep(50000);
    }
    assert_true(rows >= 1);
    assert_int_equal(file_lines(file), rows);
    assert_true(count(S1, "SELECT MAX(seq) FROM audit_checkpoints") >= 3);
    /* Each signs a hash s1's chain holds. */
    assert_int_equal(count(S1, "SELECT COUNT(*) FROM audit_checkpoints c JOIN audit_log l ON "
                               "l.seq = c.seq AND l.hash = c.hash"),
                     rows);
    /* s2 has no record, so nothing to sign. */
    assert_int_equal(count(S2, "SELECT COUNT(*) FROM audit_checkpoints"), 0);
}

static void verify_reports_every_chain(void **state)
{
    (void)state;
    char out[8192], want[96];
    expect_all_intact();
    assert_int_equal(verify(NULL, out, sizeof out), 0);
    fprintf(stderr, "PEEK\n%s\n", out);
    snprintf(want, sizeof want, "shard s1: audit chain intact: %lld records",
             (long long)count(S1, "SELECT COUNT(*) FROM audit_log"));
    if (!strstr(out, want) || !strstr(out, "shard s2: audit chain intact: 0 records") ||
        !strstr(out, "audit-checkpoints-s1.jsonl"))
        fail_msg("want \"%s\" in: %s", want, out);

    struct console prov;
    json_t *v = NULL;
    assert_int_equal(console_login(&prov, &D, "prov01", PW), 200);
    assert_int_equal(console_get(&prov, "/api/v1/admin/audit/verify", &v), 200);
    assert_true(json_is_true(json_object_get(v, "intact")));
    assert_true(member(v, "records") > 10); /* the directory's, as before */
    assert_int_equal(json_array_size(json_object_get(v, "broken")), 0);
    assert_int_equal(json_array_size(json_object_get(v, "shards")), 2);
    json_t *s1 = shard_report(v, "s1"), *s2 = shard_report(v, "s2");
    assert_non_null(s1);
    assert_non_null(s2);
    assert_true(json_is_true(json_object_get(s1, "intact")));
    assert_int_equal(member(s1, "records"), count(S1, "SELECT COUNT(*) FROM audit_log"));
    assert_true(member(s1, "checkpoints") >= 1);
    assert_true(member(s1, "file_checkpoints") >= 1);
    assert_int_equal(member(s2, "records"), 0);
    json_decref(v);
}

static void tampered_shard_record_found(void **state)
{
    (void)state;
    exec_on(S1, "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq = 2;"
                "UPDATE audit_log SET detail = '{\"kind\":\"business\"}' WHERE seq = 2");
    expect_s1_broken(NULL, 2, "altered");

    struct console prov;
    json_t *v = NULL;
    assert_int_equal(console_login(&prov, &D, "prov01", PW), 200);
    assert_int_equal(console_get(&prov, "/api/v1/admin/audit/verify", &v), 200);
    assert_false(json_is_true(json_object_get(v, "intact")));
    assert_int_equal(member(v, "first_bad"), 0); /* the directory's chain is intact */
    json_t *broken = json_object_get(v, "broken");
    assert_int_equal(json_array_size(broken), 1);
    assert_string_equal(json_string_value(json_array_get(broken, 0)), "s1");
    json_t *s1 = shard_report(v, "s1");
    assert_false(json_is_true(json_object_get(s1, "intact")));
    assert_int_equal(member(s1, "first_bad"), 2);
    assert_true(json_is_true(json_object_get(shard_report(v, "s2"), "intact")));
    json_decref(v);

    exec_on(S1, "DELETE FROM audit_log WHERE seq = 2; INSERT INTO audit_log SELECT * FROM saved;"
                "DROP TABLE saved");
    expect_all_intact();
}

/* `zhanye audit checkpoint` signs s1's head; s1's tail cut below it, or
 * s1's checkpoints deleted from its database, are found. */
static void shard_tail_cut_found(void **state)
{
    (void)state;
    create(&T1, "张五");
    char *out = NULL, want[96], sql[256], file[PATH_MAX + 64], copy[PATH_MAX + 80];
    assert_int_equal(run_zhanye(&out, NULL, "audit", "checkpoint", "--data", D.dir, NULL), 0);
    int64_t head = count(S1, "SELECT MAX(seq) FROM audit_log");
    snprintf(want, sizeof want, "seq %lld hash", (long long)head);
    const char *line = out ? strstr(out, "shard s1: ") : NULL;
    if (!line || !strstr(line, want) || !strstr(out, "shard s2: the audit log is empty"))
        fail_msg("audit checkpoint: want s1 %s in: %s", want, out ? out : "");
    free(out);
    assert_int_equal(count(S1, "SELECT MAX(seq) FROM audit_checkpoints"), head);
    cp_file("s1", file, sizeof file);
    assert_int_equal(file_lines(file), count(S1, "SELECT COUNT(*) FROM audit_checkpoints"));

    /* The file verifies, given as a shipped copy too. */
    snprintf(copy, sizeof copy, "s1=%s", file);
    char vout[8192];
    if (verify(copy, vout, sizeof vout) != 0)
        fail_msg("verify --checkpoints %s: %s", copy, vout);

    snprintf(sql, sizeof sql,
             "CREATE TABLE saved AS SELECT * FROM audit_log WHERE seq >= %lld;"
             "DELETE FROM audit_log WHERE seq >= %lld",
             (long long)head - 1, (long long)head - 1);
    exec_on(S1, sql);
    expect_s1_broken(NULL, head - 1, "tail was cut off");
    verify(NULL, vout, sizeof vout);
    fprintf(stderr, "PEEK\n%s\n", vout);
    exec_on(S1, "INSERT INTO audit_log SELECT * FROM saved; DROP TABLE saved");
    expect_all_intact();

    /* The checkpoints deleted from s1's database: s1's file still has them. */
    exec_on(S1, "CREATE TABLE saved AS SELECT * FROM audit_checkpoints;"
                "DELETE FROM audit_checkpoints");
    expect_s1_broken(NULL, count(S1, "SELECT MIN(seq) FROM saved"), "missing from the database");
    exec_on(S1, "DELETE FROM audit_checkpoints; INSERT INTO audit_checkpoints SELECT * FROM saved;"
                "DROP TABLE saved");
    expect_all_intact();
}

/* The (chain, seq) pairs of a records answer into keys; their count. */
static size_t keys_of(json_t *a, char keys[][64], size_t n, size_t cap)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(a, "records"), i, r)
    {
        assert_true(n < cap);
        snprintf(keys[n++], 64, "%s:%lld", json_string_value(json_object_get(r, "chain")),
                 (long long)member(r, "seq"));
    }
    return n;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The console's records: B01's bank admin sees B01's business records from
 * every shard B01 lived in, never another bank's; pages cover every chain. */
static void console_records_merge_shards(void **state)
{
    (void)state;
    /* B01 moves to s2 (its old records stay in s1's chain); a new customer's record goes to s2. */
    char *out = NULL, *err = NULL;
    int rc = run_zhanye(&out, &err, "shard", "move", "--data", D.dir, "--bank", "B01", "--to", "s2",
                        NULL);
    if (rc != 0)
        fail_msg("zhanye shard move: %d %s %s", rc, out ? out : "", err ? err : "");
    free(out);
    free(err);
    create(&T1, "张六");
    assert_int_equal(count(S2, "SELECT COUNT(*) FROM audit_log WHERE event = 'customer.created'"),
                     1);

    struct console adm, prov;
    json_t *a = NULL;
    assert_int_equal(console_login(&adm, &D, "admin01", PW), 200);
    assert_int_equal(console_get(&adm, "/api/v1/admin/audit/records?limit=500", &a), 200);
    size_t i, s1 = 0, s2 = 0, main_recs = 0;
    json_t *r;
    int64_t prev_ts = INT64_MAX;
    json_array_foreach(json_object_get(a, "records"), i, r)
    {
        const char *chain = json_string_value(json_object_get(r, "chain"));
        const char *event = json_string_value(json_object_get(r, "event"));
        assert_non_null(chain);
        assert_int_equal(member(r, "bank_id"), B01);
        assert_true(member(r, "ts") <= prev_ts); /* newest first across chains */
        prev_ts = member(r, "ts");
        if (strcmp(event, "customer.created") == 0) {
            s1 += strcmp(chain, "s1") == 0;
            s2 += strcmp(chain, "s2") == 0;
        }
        main_recs += strcmp(chain, "main") == 0;
    }
    assert_int_equal(s1, 5);
    assert_int_equal(s2, 1);
    assert_true(main_recs > 0); /* the identity records of B01, as before */
    assert_true(json_is_null(json_object_get(a, "next")));
    json_decref(a);

    /* The province pages through every chain: each record once. */
    assert_int_equal(console_login(&prov, &D, "prov01", PW), 200);
    assert_int_equal(console_get(&prov, "/api/v1/admin/audit/records?limit=500", &a), 200);
    static char all[600][64], paged[600][64];
    size_t n = keys_of(a, all, 0, 600), m = 0;
    json_decref(a);
    assert_true(n < 500);
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/admin/audit/records?limit=7");
    for (int pages = 0; pages < 200; pages++) {
        assert_int_equal(console_get(&prov, path, &a), 200);
        m = keys_of(a, paged, m, 600);
        json_t *next = json_object_get(a, "next");
        if (json_is_null(next)) {
            json_decref(a);
            break;
        }
        snprintf(path, sizeof path, "/api/v1/admin/audit/records?limit=7&before=%s",
                 json_string_value(next));
        json_decref(a);
    }
    assert_int_equal(m, n);
    qsort(all, n, sizeof all[0], by_text);
    qsort(paged, m, sizeof paged[0], by_text);
    for (size_t k = 0; k < n; k++)
        assert_string_equal(all[k], paged[k]);

    /* before=SEQ, the single database form: the directory's records below SEQ. */
    assert_int_equal(console_get(&prov, "/api/v1/admin/audit/records?before=6", &a), 200);
    assert_int_equal(json_array_size(json_object_get(a, "records")), 5);
    json_array_foreach(json_object_get(a, "records"), i, r)
    {
        assert_string_equal(json_string_value(json_object_get(r, "chain")), "main");
        assert_true(member(r, "seq") < 6);
    }
    json_decref(a);
    assert_int_equal(console_get(&prov, "/api/v1/admin/audit/records?before=s9:3", &a), 400);
    json_decref(a);
    expect_all_intact();
}

/* The CUSTOMER_CREATE record (target) of the last customer t created, by
 * its id from CUSTOMER_SEARCH on the name. */
static void created_target(struct tablet *t, const char *name, char *out, size_t cap)
{
    char data[128];
    long st = 0;
    snprintf(data, sizeof data, "{\"name\":\"%s\"}", name);
    json_t *a = tablet_call(t, "CUSTOMER_SEARCH", data, NULL, &st, NULL);
    assert_non_null(a);
    json_t *item = json_array_get(json_object_get(json_object_get(a, "data"), "items"), 0);
    snprintf(out, cap, "customer:%lld", (long long)member(item, "customer_id"));
    json_decref(a);
}

/* How many customer.created records of target a console sees. */
static int seen(struct console *c, const char *target)
{
    json_t *a = NULL, *r;
    size_t i;
    int n = 0;
    assert_int_equal(console_get(c, "/api/v1/admin/audit/records?limit=500", &a), 200);
    json_array_foreach(json_object_get(a, "records"), i, r)
    {
        n += strcmp(json_string_value(json_object_get(r, "event")), "customer.created") == 0 &&
             strcmp(json_string_value(json_object_get(r, "target")), target) == 0;
    }
    json_decref(a);
    return n;
}

/* A branch manager sees the business records (in the shard's chain) made
 * in their branch, not another branch's; the bank admin sees both; another
 * bank's admin neither. */
static void branch_manager_sees_branch_business(void **state)
{
    (void)state;
    struct tablet t2 = {0}; /* demo02, B01 branch 02 */
    struct console adm, bm, adm2;
    char mine[48], other[48];
    assert_int_equal(console_login(&adm, &D, "admin01", PW), 200);
    assert_int_equal(console_post(&adm, "/api/v1/admin/tellers",
                                  "{\"branch\":\"01\",\"code\":\"bm01\",\"name\":\"城关负责人\","
                                  "\"role\":\"branch_manager\",\"password\":\"" PW "\"}",
                                  NULL),
                     201);
    assert_int_equal(console_login(&bm, &D, "bm01", PW), 200);
    assert_int_equal(console_login(&adm2, &D, "admin02", PW), 200);
    assert_int_equal(tablet_activate(&t2, &D, "demo02"), 0);
    assert_int_equal(tablet_login(&t2, "demo02", PW), 0);
    create(&T1, "城关客户");
    create(&t2, "河东客户");
    created_target(&T1, "城关客户", mine, sizeof mine);
    created_target(&t2, "河东客户", other, sizeof other);
    /* Both records are in the shard's chain (B01 lives in s2 now). */
    assert_int_equal(count(S2, "SELECT COUNT(*) FROM audit_log WHERE event = 'customer.created'"),
                     3);
    assert_int_equal(seen(&bm, mine), 1);
    assert_int_equal(seen(&bm, other), 0);
    assert_int_equal(seen(&adm, mine), 1);
    assert_int_equal(seen(&adm, other), 1);
    assert_int_equal(seen(&adm2, mine), 0);
    assert_int_equal(seen(&adm2, other), 0);
    /* Every record the branch manager sees is of B01, newest first. */
    json_t *a = NULL, *r;
    size_t i;
    int64_t prev_ts = INT64_MAX;
    assert_int_equal(console_get(&bm, "/api/v1/admin/audit/records?limit=500", &a), 200);
    json_array_foreach(json_object_get(a, "records"), i, r)
    {
        assert_int_equal(member(r, "bank_id"), B01);
        assert_true(member(r, "ts") <= prev_ts);
        prev_ts = member(r, "ts");
    }
    json_decref(a);
    tablet_free(&t2);
}

/* A clean shutdown signs the head of each chain. */
static void shutdown_signs_each_head(void **state)
{
    (void)state;
    create(&T1, "张七"); /* s2: B01 lives there now */
    assert_int_equal(testd_stop(&D), 0);
    assert_int_equal(count(S2, "SELECT MAX(seq) FROM audit_checkpoints"),
                     count(S2, "SELECT MAX(seq) FROM audit_log"));
    assert_int_equal(count(S1, "SELECT MAX(seq) FROM audit_checkpoints"),
                     count(S1, "SELECT MAX(seq) FROM audit_log"));
    assert_int_equal(count(MAIN, "SELECT MAX(seq) FROM audit_checkpoints"),
                     count(MAIN, "SELECT MAX(seq) FROM audit_log"));
    char file[PATH_MAX + 64];
    assert_int_equal(file_lines(cp_file("s2", file, sizeof file)),
                     count(S2, "SELECT COUNT(*) FROM audit_checkpoints"));
    expect_all_intact();
}

static int setup(void **state)
{
    (void)state;
    static unsigned serial;
    snprintf(DB1, sizeof DB1, "zt_%d_%u_a1", (int)getpid(), ++serial);
    snprintf(DB2, sizeof DB2, "zt_%d_%u_a2", (int)getpid(), serial);
    char conf[512];
    snprintf(conf, sizeof conf,
             "[audit]\ncheckpoint_every = 3\n[shard.s1]\ndatabase = %s\nbanks = B01\n"
             "[shard.s2]\ndatabase = %s\n",
             DB1, DB2);
    if (testd_init(&D, conf))
        return -1;
    const struct mariadb_srv *m = testd_mariadb_server();
    if (m && (mariadb_create_db(m, DB1) != 0 || mariadb_create_db(m, DB2) != 0))
        return -1;
    if (testd_start(&D) || testd_store_open(&D, &MAIN) || !(S1 = open_shard(DB1)) ||
        !(S2 = open_shard(DB2)))
        return -1;
    B01 = count(MAIN, "SELECT id FROM banks WHERE code = 'B01'");
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
        cmocka_unit_test(records_in_their_shard),
        cmocka_unit_test(checkpointer_signs_shard),
        cmocka_unit_test(verify_reports_every_chain),
        cmocka_unit_test(tampered_shard_record_found),
        cmocka_unit_test(shard_tail_cut_found),
        cmocka_unit_test(console_records_merge_shards),
        cmocka_unit_test(branch_manager_sees_branch_business),
        cmocka_unit_test(shutdown_signs_each_head),
    };
    return cmocka_run_group_tests_name("shard_audit", tests, setup, teardown);
}
