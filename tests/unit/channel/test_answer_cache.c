/* answer_cache against a private redis-server (support/redis.h): copies
 * found by (dev, binding, TX, cseq) only, a copy larger than the first read
 * read whole, the size bound, the TTL, off when ttl is 0, Redis down. */
#include "channel/answer_cache.h"
#include "data/redis.h"
#include "redis.h"

#include <hiredis/hiredis.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static struct redis_srv srv;

static struct redis *client(void)
{
    char err[200];
    struct redis_config cfg = {.servers = srv.servers,
                               .password = srv.password,
                               .connect_timeout_ms = 1000,
                               .command_timeout_ms = 2000,
                               .pool_size = 2,
                               .prefix = "ut:"};
    struct redis *r = NULL;
    assert_int_equal(redis_open(&cfg, &r, err, sizeof err), REDIS_DONE);
    return r;
}

static const char DEV[] = "0123456789abcdef0123456789abcdef";
static const uint8_t DS1[ANSWER_CACHE_DS_LEN] = {1, 2, 3};
static const uint8_t DS2[ANSWER_CACHE_DS_LEN] = {1, 2, 4};

static int get(struct answer_cache *ac, const uint8_t *ds, const char *tx, const char *cseq,
               uint8_t **out, size_t *n)
{
    struct answer_key k = {.dev = DEV, .ds = ds, .tx = tx, .cseq = cseq};
    return answer_cache_get(ac, &k, out, n);
}

static void put(struct answer_cache *ac, const uint8_t *ds, const char *tx, const char *cseq,
                const void *v, size_t n)
{
    struct answer_key k = {.dev = DEV, .ds = ds, .tx = tx, .cseq = cseq};
    answer_cache_put(ac, &k, v, n);
}

/* Found under its own key only: another binding (DS), TX or cseq misses. */
static void copy_by_its_key_only(void **state)
{
    (void)state;
    struct redis *r = client();
    struct answer_cache *ac = NULL;
    assert_int_equal(answer_cache_open(r, 60, &ac), 0);
    assert_true(answer_cache_on(ac));
    uint8_t *v = NULL;
    size_t n = 0;
    assert_int_equal(get(ac, DS1, "LOGIN", "c1", &v, &n), ANSWER_MISS);
    put(ac, DS1, "LOGIN", "c1", "sealed-bytes", 12);
    assert_int_equal(get(ac, DS1, "LOGIN", "c1", &v, &n), ANSWER_HIT);
    assert_int_equal(n, 12);
    assert_memory_equal(v, "sealed-bytes", 12);
    free(v);
    assert_int_equal(get(ac, DS2, "LOGIN", "c1", &v, &n), ANSWER_MISS); /* re-activated */
    assert_int_equal(get(ac, DS1, "LOGOUT", "c1", &v, &n), ANSWER_MISS);
    assert_int_equal(get(ac, DS1, "LOGIN", "c2", &v, &n), ANSWER_MISS);
    assert_null(v);

    /* The key names no secret: dev, 16 hex digits of binding, TX, cseq; with a TTL. */
    redisContext *c = redis_srv_connect(&srv, 0);
    assert_non_null(c);
    redisReply *keys = redisCommand(c, "KEYS ut:a:%s:*", DEV);
    assert_int_equal(keys->elements, 1);
    const char *k = keys->element[0]->str;
    assert_int_equal(strlen(k), strlen("ut:a:") + 32 + 1 + 16 + 1 + strlen("LOGIN:c1"));
    assert_non_null(strstr(k, ":LOGIN:c1"));
    redisReply *ttl = redisCommand(c, "PTTL %s", k);
    assert_true(ttl->integer > 50000 && ttl->integer <= 60000);
    freeReplyObject(ttl);
    freeReplyObject(keys);

    /* Dropped: a miss. */
    struct answer_key key = {.dev = DEV, .ds = DS1, .tx = "LOGIN", .cseq = "c1"};
    answer_cache_drop(ac, &key);
    assert_int_equal(get(ac, DS1, "LOGIN", "c1", &v, &n), ANSWER_MISS);
    redisFree(c);
    answer_cache_close(ac);
    redis_close(r);
}

/* A copy larger than the first read is read whole; one above
 * ANSWER_CACHE_MAX is not written (the database answers it). */
static void large_copies(void **state)
{
    (void)state;
    struct redis *r = client();
    struct answer_cache *ac = NULL;
    assert_int_equal(answer_cache_open(r, 60, &ac), 0);
    size_t big = 100000;
    uint8_t *in = malloc(ANSWER_CACHE_MAX + 1), *v = NULL;
    assert_non_null(in);
    for (size_t i = 0; i <= ANSWER_CACHE_MAX; i++)
        in[i] = (uint8_t)(i * 7);
    size_t n = 0;
    put(ac, DS1, "SESSION_INFO", "big", in, big);
    assert_int_equal(get(ac, DS1, "SESSION_INFO", "big", &v, &n), ANSWER_HIT);
    assert_int_equal(n, big);
    assert_memory_equal(v, in, big);
    free(v);
    put(ac, DS1, "SESSION_INFO", "huge", in, ANSWER_CACHE_MAX + 1);
    assert_int_equal(get(ac, DS1, "SESSION_INFO", "huge", &v, &n), ANSWER_MISS);
    free(in);
    answer_cache_close(ac);
    redis_close(r);
}

/* ttl 0 or no Redis: off, every call harmless. */
static void off(void **state)
{
    (void)state;
    struct redis *r = client();
    struct answer_cache *ac = (struct answer_cache *)1;
    assert_int_equal(answer_cache_open(r, 0, &ac), 0);
    assert_null(ac);
    assert_false(answer_cache_on(ac));
    assert_int_equal(answer_cache_open(NULL, 60, &ac), 0);
    assert_null(ac);
    uint8_t *v = NULL;
    size_t n = 0;
    put(NULL, DS1, "LOGIN", "off", "x", 1);
    assert_int_equal(get(NULL, DS1, "LOGIN", "off", &v, &n), ANSWER_MISS);
    answer_cache_close(NULL);
    redis_close(r);
}

/* Redis down: the lookup is unavailable, a write only fails; back: works. */
static void redis_down(void **state)
{
    (void)state;
    struct redis *r = client();
    struct answer_cache *ac = NULL;
    assert_int_equal(answer_cache_open(r, 60, &ac), 0);
    uint8_t *v = NULL;
    size_t n = 0;
    assert_int_equal(redis_srv_halt(&srv, 0), 0);
    assert_int_equal(get(ac, DS1, "LOGIN", "down", &v, &n), ANSWER_UNAVAILABLE);
    put(ac, DS1, "LOGIN", "down", "x", 1);
    assert_int_equal(redis_srv_restart(&srv, 0), 0);
    assert_int_equal(get(ac, DS1, "LOGIN", "down", &v, &n), ANSWER_MISS);
    put(ac, DS1, "LOGIN", "down", "x", 1);
    assert_int_equal(get(ac, DS1, "LOGIN", "down", &v, &n), ANSWER_HIT);
    free(v);
    answer_cache_close(ac);
    redis_close(r);
}

static int group_setup(void **state)
{
    (void)state;
    return redis_srv_start(&srv, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    redis_srv_stop(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(copy_by_its_key_only),
        cmocka_unit_test(large_copies),
        cmocka_unit_test(off),
        cmocka_unit_test(redis_down),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
