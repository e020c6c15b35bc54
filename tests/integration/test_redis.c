/* Two nodes and one Redis ([redis] servers): an envelope one node took is
 * refused by the other at once, also a read-only one (whose database
 * record comes later, through the journal); with Redis down a transaction
 * answers 503 unavailable and records nothing, so the same envelope runs
 * once Redis is back. The nodes are two `zhanye serve` on one data
 * directory: one database, one config, as two machines of a province. */
#include "redis.h"
#include "tablet.h"
#include "testd.h"

#include <fcntl.h>
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
    /* Caches trusted for a minute: only the cluster's change generation can
     * tell node b that node a ended a session (sso_holds_across_nodes). */
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

static char *seal(struct tablet *t, const char *tx, zy1_call *call)
{
    char *body = NULL, text[sizeof t->sid + 32];
    size_t len;
    snprintf(text, sizeof text, "{\"sid\":\"%s\",\"data\":{}}", t->sid);
    assert_int_equal(tablet_seal(t, tx, NULL, text, call, &body, &len), 0);
    return body;
}

/* Posts body; the status, and the plain error code or the sealed answer's code. */
static long post(struct tablet *t, const char *tx, const char *body, const zy1_call *call,
                 char *code, size_t cap)
{
    long status = 0;
    char *resp = NULL;
    assert_int_equal(tablet_post(t, tx, body, strlen(body), &status, &resp), 0);
    json_t *ans = status == 200 ? tablet_open(call, resp) : NULL;
    json_t *j = ans ? NULL : json_loads(resp, 0, NULL);
    const char *c = ans ? answer_code(ans)
                        : json_string_value(json_object_get(json_object_get(j, "error"), "code"));
    snprintf(code, cap, "%s", c ? c : "");
    json_decref(j);
    json_decref(ans);
    free(resp);
    return status;
}

/* A read-only envelope answered by node a is refused by node b at once
 * (without Redis, b would answer it: its own memory has not seen the nonce,
 * and a read-only transaction writes no nonce row of its own). */
static void replay_to_another_node(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    char code[64];
    to_node(&f->t, &f->a);
    char *body = seal(&f->t, "SESSION_INFO", &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 200);
    assert_string_equal(code, "OK");
    to_node(&f->t, &f->b);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 409);
    assert_string_equal(code, "replay");
    free(body);
    zy1_call_wipe(&call);

    /* b serves the device's fresh envelopes, and then a refuses b's */
    body = seal(&f->t, "SESSION_INFO", &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 200);
    assert_string_equal(code, "OK");
    to_node(&f->t, &f->a);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 409);
    assert_string_equal(code, "replay");
    free(body);
    zy1_call_wipe(&call);
}

/* Redis stopped: 503 unavailable and nothing recorded; Redis back (the
 * nodes not restarted): the very same envelope is answered. */
static void redis_down_is_unavailable(void **state)
{
    struct fx *f = *state;
    zy1_call call;
    char code[64];
    to_node(&f->t, &f->a);
    char *body = seal(&f->t, "SESSION_INFO", &call);
    long st = 0;
    json_t *ready = http_get_json(&f->a, "/readyz", &st);
    assert_int_equal(st, 200);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ready, "checks"), "redis")), "ok");
    json_decref(ready);
    assert_int_equal(redis_srv_halt(&f->rs, 0), 0);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 503);
    assert_string_equal(code, "unavailable");
    /* Not ready while Redis is out of reach: the load balancer routes elsewhere. */
    ready = http_get_json(&f->b, "/readyz", &st);
    assert_int_equal(st, 503);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ready, "checks"), "redis")), "down");
    json_decref(ready);
    assert_int_equal(redis_srv_restart(&f->rs, 0), 0);
    ready = http_get_json(&f->b, "/readyz", &st);
    assert_int_equal(st, 200); /* ready again by itself */
    json_decref(ready);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 200);
    assert_string_equal(code, "OK");
    to_node(&f->t, &f->b);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 409);
    assert_string_equal(code, "replay");
    free(body);
    zy1_call_wipe(&call);
}

/* Single sign-on across nodes: a new login on node a ends the teller's
 * earlier session on node b at once, though b had it cached (for a minute
 * here): node a raised the cluster's change generation in Redis, and b read
 * it with the envelope's anti-replay record. */
static void sso_holds_across_nodes(void **state)
{
    struct fx *f = *state;
    char code[64], old_sid[sizeof f->t.sid];
    zy1_call call;
    to_node(&f->t, &f->b);
    char *body = seal(&f->t, "SESSION_INFO", &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 200);
    assert_string_equal(code, "OK"); /* b has the session cached now */
    free(body);
    zy1_call_wipe(&call);
    snprintf(old_sid, sizeof old_sid, "%s", f->t.sid);

    to_node(&f->t, &f->a);
    assert_int_equal(tablet_login(&f->t, "demo01", PW), 0); /* ends old_sid */
    assert_string_not_equal(f->t.sid, old_sid);

    char new_sid[sizeof f->t.sid];
    snprintf(new_sid, sizeof new_sid, "%s", f->t.sid);
    snprintf(f->t.sid, sizeof f->t.sid, "%s", old_sid);
    to_node(&f->t, &f->b);
    body = seal(&f->t, "SESSION_INFO", &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 200);
    assert_string_equal(code, "session_invalid"); /* not served from b's cache */
    free(body);
    zy1_call_wipe(&call);

    snprintf(f->t.sid, sizeof f->t.sid, "%s", new_sid);
    body = seal(&f->t, "SESSION_INFO", &call);
    assert_int_equal(post(&f->t, "SESSION_INFO", body, &call, code, sizeof code), 200);
    assert_string_equal(code, "OK");
    free(body);
    zy1_call_wipe(&call);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(replay_to_another_node),
        cmocka_unit_test(redis_down_is_unavailable),
        cmocka_unit_test(sso_holds_across_nodes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
