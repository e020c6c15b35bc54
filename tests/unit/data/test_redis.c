/* Unit tests for data/redis against real servers (tests/support/redis.h):
 * one private redis-server for the command semantics, and fixtures of
 * their own for a stopped server, a manual primary switch and a Sentinel
 * failover. */
#include "data/redis.h"
#include "redis.h"

#include <hiredis/hiredis.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define PREFIX "t:"
#define BOUND_MS 60000 /* generous bound for anything that waits on a server */

static struct redis_srv srv; /* node 0 alone, for the command semantics */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct redis *open_direct(const struct redis_srv *s, const char *servers,
                                 const char *password)
{
    struct redis_config cfg = {.servers = servers,
                               .password = password ? password : s->password,
                               .connect_timeout_ms = 1000,
                               .command_timeout_ms = 2000,
                               .pool_size = 2,
                               .prefix = PREFIX};
    struct redis *r = NULL;
    char err[200] = "";
    assert_int_equal(redis_open(&cfg, &r, err, sizeof err), REDIS_DONE);
    assert_non_null(r);
    return r;
}

/* A raw command on node i of s; the reply (freeReplyObject it). */
static redisReply *raw(const struct redis_srv *s, int i, const char *fmt, ...)
{
    redisContext *c = redis_srv_connect(s, i);
    assert_non_null(c);
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    assert_non_null(rep);
    return rep;
}

static int group_setup(void **state)
{
    if (redis_srv_start(&srv, NULL) != 0)
        return -1;
    fprintf(stderr, "redis: one server ready in %.0f ms\n", srv.start_ms);
    return 0;
}

static int group_teardown(void **state)
{
    redis_srv_stop(&srv);
    return 0;
}

static void open_refuses_bad_config(void **state)
{
    static const struct redis_config BAD[] = {
        {.servers = NULL, .sentinels = NULL},                                       /* neither */
        {.servers = "127.0.0.1:1", .sentinels = "127.0.0.1:2", .master_name = "m"}, /* both */
        {.servers = "127.0.0.1"},                                                   /* no port */
        {.servers = "127.0.0.1:0"},                                                 /* port 0 */
        {.servers = "::1:6379"},                                /* v6 without [] */
        {.servers = "127.0.0.1:6379,"},                         /* empty item */
        {.sentinels = "127.0.0.1:26379"},                       /* no master_name */
        {.sentinels = "127.0.0.1:26379", .master_name = "a b"}, /* bad name */
        {.sentinels = "/tmp/s.sock", .master_name = "m"},       /* sentinels by TCP */
        {.servers = "127.0.0.1:6379", .command_timeout_ms = -1},
        {.servers = "127.0.0.1:6379", .pool_size = 1000},
        {.servers = "127.0.0.1:6379",
         .prefix = "0123456789012345678901234567890123456789012345678901234567890123456789"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        struct redis *r = (struct redis *)&srv; /* must be reset to NULL */
        char err[200] = "";
        assert_int_equal(redis_open(&BAD[i], &r, err, sizeof err), REDIS_FAIL);
        assert_null(r);
        assert_true(strncmp(err, "redis: ", 7) == 0);
    }
    struct redis_config ok = {.servers = " [::1]:6379 , /tmp/x.sock,127.0.0.1:1 "};
    struct redis *r = NULL;
    assert_int_equal(redis_open(&ok, &r, NULL, 0), REDIS_DONE);
    redis_close(r);
}

/* SET NX PX: the second write is refused and changes nothing; after the TTL
 * the key is gone and may be written again; keys carry the prefix. */
static void set_nx_and_ttl(void **state)
{
    struct redis *r = open_direct(&srv, srv.servers, NULL);
    assert_int_equal(redis_ping(r), REDIS_DONE);
    char where[300], want[32];
    assert_string_equal(redis_primary(r, where, sizeof where),
                        redis_srv_addr(&srv, 0, want, sizeof want));

    assert_int_equal(redis_set_nx(r, "nx:1", "first", 5, 400), REDIS_DONE);
    assert_int_equal(redis_set_nx(r, "nx:1", "second", 6, 400), REDIS_EXISTS);
    char buf[16];
    size_t len;
    assert_int_equal(redis_get(r, "nx:1", buf, sizeof buf, &len), REDIS_DONE);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "first", 5);

    /* stored under the prefix, with a time to live of at most 400 ms */
    redisReply *rep = raw(&srv, 0, "PTTL %s", PREFIX "nx:1");
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    assert_true(rep->integer > 0 && rep->integer <= 400);
    freeReplyObject(rep);
    rep = raw(&srv, 0, "EXISTS %s", "nx:1");
    assert_int_equal(rep->integer, 0);
    freeReplyObject(rep);

    double deadline = now_ms() + BOUND_MS;
    int rc;
    while ((rc = redis_set_nx(r, "nx:1", "third", 5, 60000)) == REDIS_EXISTS && now_ms() < deadline)
        sleep_ms(50);
    assert_int_equal(rc, REDIS_DONE);
    assert_int_equal(redis_get(r, "nx:1", buf, sizeof buf, &len), REDIS_DONE);
    assert_memory_equal(buf, "third", 5);

    assert_int_equal(redis_set_nx(r, "nx:2", "v", 1, 0), REDIS_FAIL); /* NX needs a TTL */
    assert_int_equal(redis_set_nx(r, "", "v", 1, 10), REDIS_FAIL);
    redis_close(r);
}

static void get_set_del(void **state)
{
    struct redis *r = open_direct(&srv, srv.servers, NULL);
    static const char BIN[] = {'a', '\0', 'b', '\n', (char)0xff};
    char buf[8];
    size_t len;
    assert_int_equal(redis_get(r, "gsd", buf, sizeof buf, &len), REDIS_NOTFOUND);
    assert_int_equal(redis_set(r, "gsd", BIN, sizeof BIN, 0), REDIS_DONE);
    assert_int_equal(redis_get(r, "gsd", buf, sizeof buf, &len), REDIS_DONE);
    assert_int_equal(len, sizeof BIN);
    assert_memory_equal(buf, BIN, sizeof BIN);
    /* too small a buffer: REDIS_FAIL, the length told */
    assert_int_equal(redis_get(r, "gsd", buf, 2, &len), REDIS_FAIL);
    assert_int_equal(len, sizeof BIN);
    redisReply *rep = raw(&srv, 0, "PTTL %s", PREFIX "gsd");
    assert_int_equal(rep->integer, -1); /* no expiry */
    freeReplyObject(rep);
    /* set overwrites, with a TTL this time */
    assert_int_equal(redis_set(r, "gsd", "x", 1, 60000), REDIS_DONE);
    assert_int_equal(redis_get(r, "gsd", buf, sizeof buf, &len), REDIS_DONE);
    assert_int_equal(len, 1);
    assert_int_equal(redis_del(r, "gsd"), REDIS_DONE);
    assert_int_equal(redis_del(r, "gsd"), REDIS_NOTFOUND);
    assert_int_equal(redis_get(r, "gsd", buf, sizeof buf, &len), REDIS_NOTFOUND);
    redis_close(r);
}

static void incrby(void **state)
{
    struct redis *r = open_direct(&srv, srv.servers, NULL);
    int64_t v = 0;
    assert_int_equal(redis_incrby(r, "ctr", 5, &v), REDIS_DONE);
    assert_int_equal(v, 5);
    assert_int_equal(redis_incrby(r, "ctr", -2, &v), REDIS_DONE);
    assert_int_equal(v, 3);
    assert_int_equal(redis_incrby(r, "ctr", INT64_MAX, NULL), REDIS_FAIL); /* overflow */
    assert_int_equal(redis_set(r, "ctr.s", "abc", 3, 0), REDIS_DONE);
    assert_int_equal(redis_incrby(r, "ctr.s", 1, &v), REDIS_FAIL); /* not an integer */
    redis_close(r);
}

/* A lease: take it if free (SET NX PX), 1 taken / 0 held by someone else. */
static const char LEASE[] =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end return 0";

/* The Lua path: integer results, nil, errors, and a server that lost its
 * script cache (EVALSHA's NOSCRIPT answered with EVAL). */
static void eval_script(void **state)
{
    struct redis *r = open_direct(&srv, srv.servers, NULL);
    const char *keys[] = {"lease"};
    const char *a1[] = {"owner1", "60000"}, *a2[] = {"owner2", "60000"};
    int64_t v = -1;
    assert_int_equal(redis_eval(r, LEASE, 1, keys, 2, a1, &v), REDIS_DONE);
    assert_int_equal(v, 1);
    assert_int_equal(redis_eval(r, LEASE, 1, keys, 2, a2, &v), REDIS_DONE);
    assert_int_equal(v, 0);
    char buf[16];
    size_t len;
    assert_int_equal(redis_get(r, "lease", buf, sizeof buf, &len), REDIS_DONE);
    assert_memory_equal(buf, "owner1", 6); /* the key got the prefix inside the script too */

    redisReply *rep = raw(&srv, 0, "SCRIPT FLUSH");
    freeReplyObject(rep);
    assert_int_equal(redis_del(r, "lease"), REDIS_DONE);
    assert_int_equal(redis_eval(r, LEASE, 1, keys, 2, a2, &v), REDIS_DONE);
    assert_int_equal(v, 1);

    assert_int_equal(redis_eval(r, "return nil", 0, NULL, 0, NULL, &v), REDIS_NOTFOUND);
    assert_int_equal(redis_eval(r, "return 'text'", 0, NULL, 0, NULL, &v), REDIS_FAIL);
    assert_int_equal(redis_eval(r, "return redis.call('NOPE')", 0, NULL, 0, NULL, &v), REDIS_FAIL);
    assert_int_equal(redis_eval(r, "this is not lua", 0, NULL, 0, NULL, &v), REDIS_FAIL);
    assert_int_equal(redis_eval(r, "return 1", 17, keys, 0, NULL, &v), REDIS_FAIL);
    redis_close(r);
}

struct incr_arg {
    struct redis *r;
    int n, failures;
};

static void *incr_thread(void *p)
{
    struct incr_arg *a = p;
    for (int i = 0; i < a->n; i++)
        if (redis_incrby(a->r, "mt", 1, NULL) != REDIS_DONE)
            a->failures++;
    return NULL;
}

/* Six threads share a pool of two connections: every increment lands once. */
static void threads_share_the_pool(void **state)
{
    struct redis *r = open_direct(&srv, srv.servers, NULL);
    pthread_t th[6];
    struct incr_arg a[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (struct incr_arg){.r = r, .n = 200};
        assert_int_equal(pthread_create(&th[i], NULL, incr_thread, &a[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(a[i].failures, 0);
    }
    int64_t v = 0;
    assert_int_equal(redis_incrby(r, "mt", 0, &v), REDIS_DONE);
    assert_int_equal(v, 1200);
    redis_close(r);
}

/* A refused password is a configuration error (REDIS_FAIL), not an outage;
 * the unix socket path works like TCP. */
static void password_and_socket(void **state)
{
    struct redis *r = open_direct(&srv, srv.servers, "wrong-password");
    assert_int_equal(redis_ping(r), REDIS_FAIL);
    assert_int_equal(redis_set(r, "pw", "v", 1, 0), REDIS_FAIL);
    redis_close(r);
    struct redis_config none = {.servers = srv.servers};
    assert_int_equal(redis_open(&none, &r, NULL, 0), REDIS_DONE);
    assert_int_equal(redis_ping(r), REDIS_FAIL); /* NOAUTH */
    redis_close(r);

    r = open_direct(&srv, srv.node[0].socket, NULL);
    assert_int_equal(redis_set(r, "sock", "v", 1, 0), REDIS_DONE);
    char where[300];
    assert_string_equal(redis_primary(r, where, sizeof where), srv.node[0].socket);
    redis_close(r);
}

/* A primary that cannot take writes for now (here: too few replicas) is
 * UNAVAILABLE, not FAIL, and stays the primary: reads still work. */
static void refusal_for_now_is_unavailable(void **state)
{
    struct redis *r = open_direct(&srv, srv.servers, NULL);
    assert_int_equal(redis_set(r, "nr", "v", 1, 0), REDIS_DONE);
    redisReply *rep = raw(&srv, 0, "CONFIG SET min-replicas-to-write 1");
    freeReplyObject(rep);
    assert_int_equal(redis_set(r, "nr", "w", 1, 0), REDIS_UNAVAILABLE);
    assert_int_equal(redis_incrby(r, "nr.c", 1, NULL), REDIS_UNAVAILABLE);
    char buf[4], where[300], want[32];
    size_t len;
    assert_int_equal(redis_get(r, "nr", buf, sizeof buf, &len), REDIS_DONE);
    assert_memory_equal(buf, "v", 1);
    assert_string_equal(redis_primary(r, where, sizeof where),
                        redis_srv_addr(&srv, 0, want, sizeof want));
    rep = raw(&srv, 0, "CONFIG SET min-replicas-to-write 0");
    freeReplyObject(rep);
    assert_int_equal(redis_set(r, "nr", "w", 1, 0), REDIS_DONE);
    redis_close(r);
}

/* The server stops: calls answer UNAVAILABLE (promptly: nothing listens);
 * it comes back: the same client object works again. */
static void unavailable_then_back(void **state)
{
    struct redis_srv s;
    assert_int_equal(redis_srv_start(&s, NULL), 0);
    struct redis *r = open_direct(&s, s.servers, NULL);
    assert_int_equal(redis_set_nx(r, "u:1", "v", 1, 60000), REDIS_DONE);

    assert_int_equal(redis_srv_halt(&s, 0), 0);
    assert_int_equal(redis_ping(r), REDIS_UNAVAILABLE);
    assert_int_equal(redis_set_nx(r, "u:2", "v", 1, 60000), REDIS_UNAVAILABLE);
    char buf[4];
    size_t len;
    assert_int_equal(redis_get(r, "u:1", buf, sizeof buf, &len), REDIS_UNAVAILABLE);
    assert_int_equal(redis_incrby(r, "u:3", 1, NULL), REDIS_UNAVAILABLE);
    char where[300];
    assert_string_equal(redis_primary(r, where, sizeof where), "");

    assert_int_equal(redis_srv_restart(&s, 0), 0);
    double deadline = now_ms() + BOUND_MS;
    int rc;
    while ((rc = redis_ping(r)) == REDIS_UNAVAILABLE && now_ms() < deadline)
        sleep_ms(50);
    assert_int_equal(rc, REDIS_DONE);
    /* nothing persisted: the restarted server is empty, and writable */
    assert_int_equal(redis_set_nx(r, "u:1", "w", 1, 60000), REDIS_DONE);
    redis_close(r);
    redis_srv_stop(&s);
}

/* servers lists both nodes; the operator swaps the roles by hand. The next
 * write meets the demoted node (READONLY, or a closed connection), forgets
 * it and lands on the new primary within the same call. */
static void follows_a_manual_switch(void **state)
{
    struct redis_srv s;
    struct redis_srv_opts o = {.replica = true};
    assert_int_equal(redis_srv_start(&s, &o), 0);
    fprintf(stderr, "redis: primary + replica ready in %.0f ms\n", s.start_ms);
    char a0[32], a1[32], where[300];
    redis_srv_addr(&s, 0, a0, sizeof a0);
    redis_srv_addr(&s, 1, a1, sizeof a1);
    /* the replica first in the list: ROLE makes the client pass it by */
    char servers[80];
    snprintf(servers, sizeof servers, "%s,%s", a1, a0);
    struct redis *r = open_direct(&s, servers, NULL);
    assert_int_equal(redis_set(r, "sw:1", "v", 1, 0), REDIS_DONE);
    assert_string_equal(redis_primary(r, where, sizeof where), a0);

    redisReply *rep = raw(&s, 1, "REPLICAOF NO ONE");
    freeReplyObject(rep);
    rep = raw(&s, 0, "REPLICAOF 127.0.0.1 %d", s.node[1].port);
    freeReplyObject(rep);
    assert_true(redis_srv_is_master(&s, 1));
    assert_false(redis_srv_is_master(&s, 0));

    assert_int_equal(redis_set(r, "sw:2", "v", 1, 0), REDIS_DONE);
    assert_string_equal(redis_primary(r, where, sizeof where), a1);
    rep = raw(&s, 1, "GET %s", PREFIX "sw:2");
    assert_int_equal(rep->type, REDIS_REPLY_STRING);
    freeReplyObject(rep);
    redis_close(r);
    redis_srv_stop(&s);
}

/* Sentinel: the primary is killed; the client, without a restart, writes to
 * the promoted replica once Sentinel has failed over, and what was
 * replicated before is there. */
static void follows_a_sentinel_failover(void **state)
{
    struct redis_srv s;
    struct redis_srv_opts o = {.replica = true, .sentinels = true};
    assert_int_equal(redis_srv_start(&s, &o), 0);
    fprintf(stderr, "redis: primary + replica + 3 sentinels ready in %.0f ms\n", s.start_ms);
    struct redis_config cfg = {.sentinels = s.sentinels,
                               .master_name = s.master_name,
                               .password = s.password,
                               .connect_timeout_ms = 500,
                               .command_timeout_ms = 1000,
                               .pool_size = 2,
                               .prefix = PREFIX};
    struct redis *r = NULL;
    char err[200] = "", a0[32], a1[32], where[300];
    assert_int_equal(redis_open(&cfg, &r, err, sizeof err), REDIS_DONE);
    redis_srv_addr(&s, 0, a0, sizeof a0);
    redis_srv_addr(&s, 1, a1, sizeof a1);

    assert_int_equal(redis_set_nx(r, "fo:1", "before", 6, 600000), REDIS_DONE);
    assert_string_equal(redis_primary(r, where, sizeof where), a0);
    const char *keys[] = {"fo:lease"};
    const char *args[] = {"me", "600000"};
    int64_t v = 0;
    assert_int_equal(redis_eval(r, LEASE, 1, keys, 2, args, &v), REDIS_DONE);
    assert_int_equal(v, 1);
    /* both writes on the replica before the crash */
    redisReply *rep = raw(&s, 0, "WAIT 1 10000");
    assert_int_equal(rep->integer, 1);
    freeReplyObject(rep);

    double t0 = now_ms();
    assert_int_equal(redis_srv_kill(&s, 0), 0);
    int rc, calls = 0;
    while ((rc = redis_set_nx(r, "fo:2", "after", 5, 600000)) == REDIS_UNAVAILABLE &&
           now_ms() - t0 < BOUND_MS) {
        calls++;
        sleep_ms(100);
    }
    fprintf(stderr, "redis: writable again %.0f ms after the kill (%d calls refused)\n",
            now_ms() - t0, calls);
    assert_int_equal(rc, REDIS_DONE);
    assert_true(calls > 0); /* the outage was seen: the kill did happen */
    assert_string_equal(redis_primary(r, where, sizeof where), a1);
    assert_true(redis_srv_is_master(&s, 1));

    char buf[16];
    size_t len;
    assert_int_equal(redis_get(r, "fo:1", buf, sizeof buf, &len), REDIS_DONE);
    assert_memory_equal(buf, "before", 6);
    assert_int_equal(redis_set_nx(r, "fo:1", "again", 5, 600000), REDIS_EXISTS);
    /* the script cache did not move with the role: EVAL again, same answer */
    assert_int_equal(redis_eval(r, LEASE, 1, keys, 2, args, &v), REDIS_DONE);
    assert_int_equal(v, 0);
    redis_close(r);
    redis_srv_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as `zhanye serve` does (redis.h) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(open_refuses_bad_config),
        cmocka_unit_test(set_nx_and_ttl),
        cmocka_unit_test(get_set_del),
        cmocka_unit_test(incrby),
        cmocka_unit_test(eval_script),
        cmocka_unit_test(threads_share_the_pool),
        cmocka_unit_test(password_and_socket),
        cmocka_unit_test(refusal_for_now_is_unavailable),
        cmocka_unit_test(unavailable_then_back),
        cmocka_unit_test(follows_a_manual_switch),
        cmocka_unit_test(follows_a_sentinel_failover),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
