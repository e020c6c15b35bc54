/* Two nodes and one Redis: the cseq fast path (channel/answer_cache.h) and
 * devices changed on another node (http/txauth.h, txauth_cluster_check).
 *
 * - A cseq answered on node a is answered on node b from its KEK-sealed
 *   copy in Redis while the database cannot read tx_answers at all (the
 *   table renamed away): the same srvseq, while a new cseq fails there.
 * - After an unbind and a re-activation of the device, the same cseq runs
 *   again on both nodes, though node b had served it from Redis before.
 * - Redis down: the retry is unavailable; Redis back empty: the retry gets
 *   the same answer from the database, and the copy is written again.
 * - A device revoked on node a (management API) is refused by node b at
 *   once on LOGIN (no session), though b has it cached for a minute.
 * - MariaDB only, last: with the database server stopped, node b still
 *   answers a retry of a cseq (device and session cached, the copy in
 *   Redis): no database round trip at all.
 * The nodes are two `zhanye serve` on one data directory, as in
 * test_redis.c. */
#include "data/store.h"
#include "console.h"
#include "mariadb.h"
#include "redis.h"
#include "tablet.h"
#include "testd.h"

#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"

struct fx {
    struct redis_srv rs;
    struct testd a, b; /* b: a second `zhanye serve` on a's data directory */
    struct tablet t;   /* demo01, activated and logged in on a */
};

static int write_password(const struct fx *f)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/keys/redis.password", f->a.dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, f->rs.password, strlen(f->rs.password));
    close(fd);
    return n == (ssize_t)strlen(f->rs.password) ? 0 : -1;
}

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    if (redis_srv_start(&f.rs, NULL) != 0)
        return -1;
    char conf[256];
    /* Devices and sessions cached for a minute: only the cluster's change
     * generation can tell node b what node a changed. */
    snprintf(conf, sizeof conf,
             "\n[redis]\nservers = %s\ncommand_timeout_ms = 1000\n[identity]\ncache_ttl_ms = "
             "60000\n",
             f.rs.servers);
    if (testd_init(&f.a, conf) || write_password(&f) || testd_start(&f.a))
        return -1;
    f.b = f.a;
    f.b.pid = 0;
    if (testd_start(&f.b))
        return -1;
    if (tablet_activate(&f.t, &f.a, "demo01") || tablet_login(&f.t, "demo01", PW))
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tablet_free(&f->t);
    testd_stop(&f->b);
    testd_cleanup(&f->a);
    redis_srv_stop(&f->rs);
    return 0;
}

static void to_node(struct tablet *t, const struct testd *d)
{
    snprintf(t->st.url, sizeof t->st.url, "%s", d->base);
}

/* SESSION_INFO with cseq: its code into code, its srvseq into srvseq
 * ("" for a plain error, whose code then goes to code). */
static void info(struct tablet *t, const char *cseq, char *code, char *srvseq)
{
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(t, "SESSION_INFO", NULL, cseq, &st, &plain);
    const char *c = a ? answer_code(a)
                      : json_string_value(json_object_get(json_object_get(plain, "error"), "code"));
    const char *s = a ? json_string_value(json_object_get(a, "srvseq")) : NULL;
    snprintf(code, 64, "%s", c ? c : "");
    snprintf(srvseq, 64, "%s", s ? s : "");
    json_decref(a);
    json_decref(plain);
}

/* The value of one series of node d's /metrics (0 when absent). */
static long metric(const struct testd *d, const char *series)
{
    char url[128];
    struct http_result r;
    snprintf(url, sizeof url, "%s/metrics", d->base);
    assert_int_equal(http_do("GET", url, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    long v = 0;
    for (const char *p = r.body; p && (p = strstr(p, series)) != NULL; p += strlen(series))
        if ((p == r.body || p[-1] == '\n') && p[strlen(series)] == ' ')
            v = strtol(p + strlen(series) + 1, NULL, 10);
    http_result_free(&r);
    return v;
}

#define HITS "zhanye_tx_answer_cache_total{result=\"hit\"}"
#define MISSES "zhanye_tx_answer_cache_total{result=\"miss\"}"

/* Runs sql on the nodes' database, outside any transaction (DDL). */
static void db_exec(const struct testd *d, const char *sql)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    assert_int_equal(testd_store_open(d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    assert_int_equal(store_exec(c, sql), STORE_OK);
    store_release(c);
    store_close(st);
}

/* Stored answers of cseq in the database. */
static long answers_for(const struct testd *d, const char *cseq)
{
    struct store *st = NULL;
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    long n = -1;
    assert_int_equal(testd_store_open(d, &st), 0);
    assert_int_equal(store_acquire(st, &c), STORE_OK);
    assert_int_equal(store_prepare(c, "SELECT COUNT(*) FROM tx_answers WHERE cseq = ?", &s),
                     STORE_OK);
    assert_int_equal(store_bind_text(s, 1, cseq), STORE_OK);
    if (store_step(s) == STORE_ROW)
        n = (long)store_col_int64(s, 0);
    store_finish(s);
    store_release(c);
    store_close(st);
    return n;
}

/* answers_for once the journal wrote it: a read-only TX's answer is stored
 * by the next batch (channel/nonce_db.h), within a few tens of ms. */
static long answers_written(const struct testd *d, const char *cseq, long want)
{
    long n = answers_for(d, cseq);
    for (int i = 0; i < 100 && n != want; i++) {
        struct timespec nap = {0, 20 * 1000000L};
        nanosleep(&nap, NULL);
        n = answers_for(d, cseq);
    }
    return n;
}

/* The copies in Redis of dev's SESSION_INFO answers to cseq hold no
 * plaintext: not the answer's code member, nor the teller's code. Returns
 * how many there are (one per binding that answered it). */
static int copies_of(const struct fx *f, const char *dev, const char *cseq)
{
    redisContext *rc = redis_srv_connect(&f->rs, 0);
    assert_non_null(rc);
    redisReply *keys = redisCommand(rc, "KEYS zy:a:%s:*:SESSION_INFO:%s", dev, cseq);
    assert_non_null(keys);
    assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
    int n = (int)keys->elements;
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *v = redisCommand(rc, "GET %s", keys->element[i]->str);
        assert_non_null(v);
        assert_int_equal(v->type, REDIS_REPLY_STRING);
        assert_null(memmem(v->str, v->len, "demo01", 6));
        assert_null(memmem(v->str, v->len, "\"code\"", 6));
        freeReplyObject(v);
    }
    freeReplyObject(keys);
    redisFree(rc);
    return n;
}

/* A retry on node b is answered from Redis while the database cannot read
 * tx_answers: without the copy it could only be `internal` (as a new cseq
 * is then), or a new run with another srvseq. */
static void retry_answered_from_redis(void **state)
{
    struct fx *f = *state;
    char code[64], s1[64], s2[64];
    to_node(&f->t, &f->a);
    info(&f->t, "fp-1", code, s1);
    assert_string_equal(code, "OK");
    assert_true(s1[0]);
    assert_int_equal(answers_written(&f->a, "fp-1", 1), 1);
    assert_int_equal(copies_of(f, f->t.st.dev, "fp-1"), 1);

    long hits_b = metric(&f->b, HITS), hits_a = metric(&f->a, HITS);
    db_exec(&f->a, "ALTER TABLE tx_answers RENAME TO tx_answers_away");
    to_node(&f->t, &f->b);
    info(&f->t, "fp-1", code, s2);
    assert_string_equal(code, "OK");
    assert_string_equal(s2, s1); /* the stored answer, not a new run */
    assert_int_equal(metric(&f->b, HITS), hits_b + 1);
    to_node(&f->t, &f->a);
    info(&f->t, "fp-1", code, s2);
    assert_string_equal(s2, s1);
    assert_int_equal(metric(&f->a, HITS), hits_a + 1);
    /* The database really cannot answer a cseq now. */
    info(&f->t, "fp-2", code, s2);
    assert_string_not_equal(code, "OK");
    db_exec(&f->a, "ALTER TABLE tx_answers_away RENAME TO tx_answers");

    assert_int_equal(answers_for(&f->a, "fp-1"), 1); /* nothing written by the retries */
    assert_int_equal(answers_for(&f->a, "fp-2"), 0);
    info(&f->t, "fp-2", code, s2); /* and the refused one runs now */
    assert_string_equal(code, "OK");
    assert_int_equal(answers_written(&f->a, "fp-2", 1), 1);
}

/* Unbind and re-activation: the old binding's answers died with it, in
 * the database and in Redis, so the same cseq runs again on either node. */
static void cseq_runs_again_after_reactivation(void **state)
{
    struct fx *f = *state;
    char code[64], s1[64], s2[64], s3[64], act[64], out_code[16];
    to_node(&f->t, &f->a);
    info(&f->t, "rb-1", code, s1);
    assert_string_equal(code, "OK");
    long hits_b = metric(&f->b, HITS);
    to_node(&f->t, &f->b);
    info(&f->t, "rb-1", code, s2);
    assert_string_equal(s2, s1);
    assert_int_equal(metric(&f->b, HITS), hits_b + 1); /* b holds a copy */
    /* a's journal writes the read's answer within 50 ms: wait for it, so
     * that the unbind below finds it to drop (one written after the unbind
     * would stay, unused: idem_get_since ignores it) */
    assert_int_equal(answers_written(&f->a, "rb-1", 1), 1);

    char *out = NULL;
    assert_int_equal(
        run_zhanye(&out, NULL, "device", "unbind", "--data", f->a.dir, "--dev", f->t.st.dev, NULL),
        0);
    free(out);
    assert_int_equal(tablet_issue_code(&f->a, "demo01", out_code, sizeof out_code), 0);
    to_node(&f->t, &f->a);
    assert_int_equal(tablet_reactivate(&f->t, "demo01", out_code, act, sizeof act), 0);
    assert_string_equal(act, "OK");
    assert_int_equal(tablet_login(&f->t, "demo01", PW), 0);
    assert_int_equal(answers_for(&f->a, "rb-1"), 0);

    /* b: its cached device has the old DS, Redis the old binding's copy. */
    hits_b = metric(&f->b, HITS);
    long misses_b = metric(&f->b, MISSES);
    to_node(&f->t, &f->b);
    info(&f->t, "rb-1", code, s2);
    assert_string_equal(code, "OK");
    assert_string_not_equal(s2, s1); /* run again */
    assert_int_equal(metric(&f->b, HITS), hits_b);
    assert_int_equal(metric(&f->b, MISSES), misses_b + 1);
    assert_int_equal(answers_written(&f->a, "rb-1", 1), 1);
    /* From now on the new binding's answer, from either node. */
    to_node(&f->t, &f->a);
    info(&f->t, "rb-1", code, s3);
    assert_string_equal(s3, s2);
}

/* Redis down: unavailable (the nonce cannot be recorded); Redis back with
 * nothing in it: the same answer, from the database, and its copy again. */
static void redis_outage_keeps_answers(void **state)
{
    struct fx *f = *state;
    char code[64], s1[64], s2[64];
    to_node(&f->t, &f->a);
    info(&f->t, "ro-1", code, s1);
    assert_string_equal(code, "OK");
    /* in the database once the journal's batch is written (a read's answer) */
    assert_int_equal(answers_written(&f->a, "ro-1", 1), 1);

    assert_int_equal(redis_srv_halt(&f->rs, 0), 0);
    to_node(&f->t, &f->b);
    info(&f->t, "ro-1", code, s2);
    assert_string_equal(code, "unavailable");
    assert_int_equal(redis_srv_restart(&f->rs, 0), 0); /* persists nothing: empty */
    assert_int_equal(copies_of(f, f->t.st.dev, "ro-1"), 0);

    long hits_b = metric(&f->b, HITS), misses_b = metric(&f->b, MISSES);
    info(&f->t, "ro-1", code, s2);
    assert_string_equal(code, "OK");
    assert_string_equal(s2, s1);
    assert_int_equal(metric(&f->b, HITS), hits_b);
    assert_int_equal(metric(&f->b, MISSES), misses_b + 1);
    assert_int_equal(copies_of(f, f->t.st.dev, "ro-1"), 1); /* written again from the database */

    long hits_a = metric(&f->a, HITS);
    to_node(&f->t, &f->a);
    info(&f->t, "ro-1", code, s2);
    assert_string_equal(s2, s1);
    assert_int_equal(metric(&f->a, HITS), hits_a + 1);
}

/* Revoked on the console of node a: node b, which has the device cached
 * for a minute, refuses it at once on LOGIN (a transaction without a
 * session, so no session check stands in): 403 device_blocked, as for any
 * revoked device, before the handler runs. */
static void revoked_elsewhere_refused_at_once(void **state)
{
    struct fx *f = *state;
    struct tablet t;
    char code[64], s[64], body[128];
    long st = 0;
    assert_int_equal(tablet_activate(&t, &f->a, "demo02"), 0);
    assert_int_equal(tablet_login(&t, "demo02", PW), 0);
    to_node(&t, &f->b);
    info(&t, NULL, code, s); /* b caches the device */
    assert_string_equal(code, "OK");
    info(&t, NULL, code, s);
    assert_string_equal(code, "OK");

    struct console c;
    assert_int_equal(console_login(&c, &f->a, "admin01", PW), 200);
    snprintf(body, sizeof body, "{\"dev\":\"%s\"}", t.st.dev);
    json_t *a = NULL;
    assert_int_equal(console_post(&c, "/api/v1/admin/devices/revoke", body, &a), 200);
    json_decref(a);

    json_t *plain = NULL;
    a = tablet_call(&t, "LOGIN", "{\"teller\":\"demo02\",\"password\":\"" PW "\"}", NULL, &st,
                    &plain);
    assert_null(a); /* not a sealed answer: refused at step 7 */
    assert_int_equal(st, 403);
    assert_string_equal(json_string_value(json_object_get(json_object_get(plain, "error"), "code")),
                        "device_blocked");
    json_decref(plain);
    plain = NULL;
    to_node(&t, &f->a);
    assert_null(tablet_call(&t, "LOGIN", "{\"teller\":\"demo02\",\"password\":\"" PW "\"}", NULL,
                            &st, &plain));
    assert_int_equal(st, 403);
    json_decref(plain);
    tablet_free(&t);
}

/* The database server stopped (MariaDB; it does not come back, so this
 * runs last): a retry whose device and session node b has cached is still
 * answered, from Redis, with the stored answer. */
static void retry_answered_with_database_down(void **state)
{
    struct fx *f = *state;
    const struct mariadb_srv *m = testd_mariadb_server();
    if (!m)
        skip(); /* SQLite is a file in the node's own process */
    struct tablet t;
    char code[64], s1[64], s2[64];
    assert_int_equal(tablet_activate(&t, &f->a, "demo03"), 0);
    assert_int_equal(tablet_login(&t, "demo03", PW), 0);
    to_node(&t, &f->b);
    for (int i = 0; i < 2; i++) { /* b caches the device and the session */
        info(&t, NULL, code, s1);
        assert_string_equal(code, "OK");
    }
    info(&t, "dd-1", code, s1);
    assert_string_equal(code, "OK");

    mariadb_stop((struct mariadb_srv *)m);
    long hits_b = metric(&f->b, HITS);
    info(&t, "dd-1", code, s2);
    assert_string_equal(code, "OK");
    assert_string_equal(s2, s1);
    assert_int_equal(metric(&f->b, HITS), hits_b + 1);
    info(&t, "dd-2", code, s2); /* a new cseq needs the database */
    assert_string_not_equal(code, "OK");
    tablet_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_answered_from_redis),
        cmocka_unit_test(cseq_runs_again_after_reactivation),
        cmocka_unit_test(redis_outage_keeps_answers),
        cmocka_unit_test(revoked_elsewhere_refused_at_once),
        cmocka_unit_test(retry_answered_with_database_down),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
