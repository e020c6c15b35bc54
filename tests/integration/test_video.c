/* Remote video calls (docs/api.md §1.22, §2.3 "video"), on the real daemon
 * with real ZY1 envelopes and the real console API:
 *   - the queue of a bank is first come first served: positions 1, 2, 3 and
 *     the expected wait; an agent takes the oldest; positions move up; an
 *     agent with an open call cannot take another;
 *   - signalling goes both ways in order; the tablet's `answer` connects
 *     the call; the agent's hang-up completes it; the call record says who,
 *     how long and the outcome, and the performance counters count it;
 *   - an agent of B02 never sees nor takes B01's calls (and the reverse),
 *     not even by id; a video agent can use nothing else of the console,
 *     and no other role can take calls;
 *   - the TURN credentials are the TURN REST API's (recomputed here with
 *     OpenSSL from the secret file), expire after [video] turn_ttl_s, and
 *     coturn itself (when installed) accepts a fresh one and refuses an
 *     expired one;
 *   - a tablet that stops polling ends its call `dropped` after the
 *     reconnect window (seen by the agent), and so does a silent agent
 *     (seen by the tablet). */
#include "console.h"
#include "tablet.h"
#include "testd.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define PW "Demo@1234"
#define TTL 60

static struct testd D;  /* long reconnect window */
static struct testd D2; /* 2 s reconnect window */
static struct tablet T1, T2, T3, U1;
static struct console A1, A2, ADM1, ADM2, B1;

static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *call(struct tablet *t, const char *tx, const char *fmt, ...)
{
    char data[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(data, sizeof data, fmt, ap);
    va_end(ap);
    long st = 0;
    json_t *plain = NULL;
    json_t *a = tablet_call(t, tx, data, NULL, &st, &plain);
    if (!a) {
        char *p = json_dumps(plain, JSON_COMPACT);
        fail_msg("%s: no sealed answer (%ld %s)", tx, st, p ? p : "");
    }
    json_decref(plain);
    return a;
}

static json_t *data_of(json_t *a)
{
    return json_object_get(a, "data");
}

static int64_t num(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void expect_ok(json_t *a, const char *what)
{
    if (strcmp(answer_code(a), "OK") != 0) {
        char *text = json_dumps(a, JSON_COMPACT);
        fail_msg("%s: %s", what, text);
    }
}

/* VIDEO_CALL_REQUEST; the call id. */
static int64_t request(struct tablet *t, const char *extra)
{
    json_t *a = call(t, "VIDEO_CALL_REQUEST", "{\"reason\":\"远程协助\"%s}", extra ? extra : "");
    expect_ok(a, "VIDEO_CALL_REQUEST");
    int64_t id = num(data_of(a), "call_id");
    assert_true(id > 0);
    assert_string_equal(str(data_of(a), "state"), "queued");
    json_decref(a);
    return id;
}

static json_t *status(struct tablet *t, int64_t id, int64_t after)
{
    json_t *a = call(t, "VIDEO_CALL_STATUS", "{\"call_id\":%lld,\"after\":%lld}", (long long)id,
                     (long long)after);
    return a;
}

static json_t *cget(struct console *c, long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *cget(struct console *c, long want, const char *fmt, ...)
{
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    json_t *a = NULL;
    long st = console_get(c, path, &a);
    if (st != want) {
        char *text = json_dumps(a, JSON_COMPACT);
        fail_msg("GET %s: want %ld, got %ld %s", path, want, st, text ? text : "");
    }
    return a;
}

static json_t *cpost(struct console *c, long want, const char *path, const char *body)
{
    json_t *a = NULL;
    long st = console_post(c, path, body, &a);
    if (st != want) {
        char *text = json_dumps(a, JSON_COMPACT);
        fail_msg("POST %s: want %ld, got %ld %s", path, want, st, text ? text : "");
    }
    return a;
}

/* ---- queue, signalling, record ---------------------------------------------------- */

static void queue_order_and_call(void **state)
{
    (void)state;
    int64_t a = request(&T1, ",\"customer_id\":1");
    int64_t b = request(&T2, NULL);
    int64_t c = request(&T1, NULL);
    json_t *s = status(&T1, a, 0), *sb = status(&T2, b, 0), *sc = status(&T1, c, 0);
    assert_int_equal(num(data_of(s), "position"), 1);
    assert_int_equal(num(data_of(sb), "position"), 2);
    assert_int_equal(num(data_of(sc), "position"), 3);
    /* no answered call yet: a minute per place */
    assert_int_equal(num(data_of(sc), "expected_wait_s"), 180);
    json_decref(s);
    json_decref(sb);
    json_decref(sc);
    /* another teller's call is not the tablet's */
    s = status(&T2, a, 0);
    assert_string_equal(answer_code(s), "video_call_not_found");
    json_decref(s);

    /* The agent sees the three, oldest first, with the context. */
    json_t *q = cget(&A1, 200, "/api/v1/admin/video/queue");
    json_t *calls = json_object_get(q, "calls");
    assert_int_equal(json_array_size(calls), 3);
    assert_int_equal(num(json_array_get(calls, 0), "call_id"), a);
    assert_int_equal(num(json_array_get(calls, 1), "call_id"), b);
    assert_int_equal(num(json_array_get(calls, 2), "call_id"), c);
    assert_string_equal(str(json_array_get(calls, 0), "teller"), "demo01");
    assert_string_equal(str(json_array_get(calls, 1), "teller"), "demo02");
    json_t *cust =
        json_object_get(json_object_get(json_array_get(calls, 0), "context"), "customer");
    assert_true(json_is_object(cust));
    assert_non_null(strchr(str(cust, "name_masked"), '*'));
    json_decref(q);

    /* Take: the oldest; the others move up; one call at a time. */
    json_t *t = cpost(&A1, 200, "/api/v1/admin/video/take", NULL);
    json_t *tc = json_object_get(t, "call");
    assert_int_equal(num(tc, "call_id"), a);
    assert_string_equal(str(tc, "state"), "ringing");
    assert_string_equal(str(tc, "agent"), "agent01");
    assert_true(json_array_size(json_object_get(t, "ice_servers")) > 0);
    json_decref(t);
    t = cpost(&A1, 409, "/api/v1/admin/video/take", NULL);
    assert_string_equal(console_err(t), "video_agent_busy");
    json_decref(t);
    sb = status(&T2, b, 0);
    assert_int_equal(num(data_of(sb), "position"), 1);
    json_decref(sb);
    sc = status(&T1, c, 0);
    assert_int_equal(num(data_of(sc), "position"), 2);
    json_decref(sc);

    /* Signals: offer (agent) -> tablet; answer (tablet) connects. */
    char body[256];
    snprintf(body, sizeof body,
             "{\"call_id\":%lld,\"kind\":\"offer\",\"payload\":\"{\\\"sdp\\\":\\\"v=0\\\"}\"}",
             (long long)a);
    json_t *p = cpost(&A1, 200, "/api/v1/admin/video/signal", body);
    json_decref(p);
    s = status(&T1, a, 0);
    assert_string_equal(str(data_of(s), "state"), "ringing");
    json_t *sig = json_object_get(data_of(s), "signals");
    assert_int_equal(json_array_size(sig), 1);
    assert_string_equal(str(json_array_get(sig, 0), "kind"), "offer");
    assert_string_equal(str(json_array_get(sig, 0), "payload"), "{\"sdp\":\"v=0\"}");
    int64_t seq = num(json_array_get(sig, 0), "seq");
    json_decref(s);
    s = status(&T1, a, seq); /* nothing new after it */
    assert_int_equal(json_array_size(json_object_get(data_of(s), "signals")), 0);
    json_decref(s);
    s = call(&T1, "VIDEO_SIGNAL", "{\"call_id\":%lld,\"kind\":\"answer\",\"payload\":\"x\"}",
             (long long)a);
    expect_ok(s, "VIDEO_SIGNAL");
    json_decref(s);
    s = call(&T1, "VIDEO_SIGNAL", "{\"call_id\":%lld,\"kind\":\"shout\",\"payload\":\"x\"}",
             (long long)a);
    assert_string_equal(answer_code(s), "bad_request");
    json_decref(s);
    json_t *g = cget(&A1, 200, "/api/v1/admin/video/signals?call_id=%lld&after=0", (long long)a);
    assert_string_equal(str(json_object_get(g, "call"), "state"), "connected");
    assert_int_equal(json_array_size(json_object_get(g, "signals")), 1);
    assert_string_equal(str(json_array_get(json_object_get(g, "signals"), 0), "kind"), "answer");
    json_decref(g);

    /* Hang up: completed, for both sides; no more signals. */
    snprintf(body, sizeof body, "{\"call_id\":%lld}", (long long)a);
    json_t *e = cpost(&A1, 200, "/api/v1/admin/video/end", body);
    assert_string_equal(str(json_object_get(e, "call"), "outcome"), "completed");
    json_decref(e);
    e = cpost(&A1, 409, "/api/v1/admin/video/end", body);
    assert_string_equal(console_err(e), "video_call_ended");
    json_decref(e);
    s = status(&T1, a, 0);
    assert_string_equal(str(data_of(s), "state"), "ended");
    assert_string_equal(str(data_of(s), "outcome"), "completed");
    json_decref(s);
    s = call(&T1, "VIDEO_SIGNAL", "{\"call_id\":%lld,\"kind\":\"candidate\",\"payload\":\"x\"}",
             (long long)a);
    assert_string_equal(answer_code(s), "video_call_ended");
    json_decref(s);

    /* The tablet gives up on c while queued: abandoned. The agent takes b
     * and rejects it before it connects: rejected. */
    s = call(&T1, "VIDEO_CALL_END", "{\"call_id\":%lld}", (long long)c);
    expect_ok(s, "VIDEO_CALL_END");
    assert_string_equal(str(data_of(s), "outcome"), "abandoned");
    json_decref(s);
    t = cpost(&A1, 200, "/api/v1/admin/video/take", NULL);
    assert_int_equal(num(json_object_get(t, "call"), "call_id"), b);
    json_decref(t);
    snprintf(body, sizeof body, "{\"call_id\":%lld,\"reason\":\"busy\"}", (long long)b);
    e = cpost(&A1, 200, "/api/v1/admin/video/end", body);
    assert_string_equal(str(json_object_get(e, "call"), "outcome"), "rejected");
    json_decref(e);
    t = cpost(&A1, 409, "/api/v1/admin/video/take", NULL);
    assert_string_equal(console_err(t), "video_queue_empty");
    json_decref(t);

    /* The records: the bank admin sees the three, with the parties. */
    json_t *r = cget(&ADM1, 200, "/api/v1/admin/video/calls");
    json_t *rows = json_object_get(r, "calls");
    bool seen_a = false;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (num(row, "call_id") == a) {
            seen_a = true;
            assert_string_equal(str(row, "teller"), "demo01");
            assert_string_equal(str(row, "agent"), "agent01");
            assert_string_equal(str(row, "bank"), "B01");
            assert_string_equal(str(row, "outcome"), "completed");
            assert_int_equal(num(row, "customer_id"), 1);
            assert_true(num(row, "queue_wait_ms") >= 0);
            assert_true(num(row, "talk_ms") >= 0);
            assert_true(num(row, "connected_at") > 0);
        }
    }
    assert_true(seen_a);
    json_decref(r);
    /* B02's admin sees none of them */
    r = cget(&ADM2, 200, "/api/v1/admin/video/calls");
    json_array_foreach(json_object_get(r, "calls"), i, row)
    {
        assert_string_not_equal(str(row, "bank"), "B01");
    }
    json_decref(r);

    /* Counted: demo01's video_calls this month (a completed and an abandoned). */
    json_t *perf = call(&T1, "PERF_SUMMARY", "{\"period\":\"month\"}");
    expect_ok(perf, "PERF_SUMMARY");
    json_t *fig = json_object_get(data_of(perf), "current");
    assert_int_equal(num(fig, "video_calls"), 2);
    assert_int_equal(num(json_object_get(fig, "video_calls_by_outcome"), "completed"), 1);
    assert_int_equal(num(json_object_get(fig, "video_calls_by_outcome"), "abandoned"), 1);
    json_decref(perf);
}

/* ---- isolation and roles ------------------------------------------------------------- */

static void banks_apart(void **state)
{
    (void)state;
    /* B01 has more calls than B02, so x is an id B02 has not */
    int64_t x0 = request(&T1, NULL);
    json_decref(call(&T1, "VIDEO_CALL_END", "{\"call_id\":%lld}", (long long)x0));
    int64_t x = request(&T1, NULL); /* B01 */
    int64_t y = request(&T3, NULL); /* B02 */
    assert_true(x > y);
    /* B02's agent: only B02's call */
    json_t *q = cget(&A2, 200, "/api/v1/admin/video/queue");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(q, "calls"), i, row)
    {
        assert_string_not_equal(str(row, "teller"), "demo01");
        assert_string_not_equal(str(row, "teller"), "demo02");
    }
    json_decref(q);
    json_t *t = cpost(&A2, 200, "/api/v1/admin/video/take", NULL);
    assert_string_equal(str(json_object_get(t, "call"), "teller"), "demo03");
    assert_int_equal(num(json_object_get(t, "call"), "call_id"), y);
    json_decref(t);
    /* nothing else for B02, while B01's x still waits */
    char body[128];
    snprintf(body, sizeof body, "{\"call_id\":%lld}", (long long)y);
    json_decref(cpost(&A2, 200, "/api/v1/admin/video/end", body));
    t = cpost(&A2, 409, "/api/v1/admin/video/take", NULL);
    assert_string_equal(console_err(t), "video_queue_empty");
    json_decref(t);
    /* B02's agent cannot reach x by its id, nor end it */
    json_decref(cget(&A2, 404, "/api/v1/admin/video/signals?call_id=%lld", (long long)x));
    snprintf(body, sizeof body, "{\"call_id\":%lld}", (long long)x);
    json_decref(cpost(&A2, 404, "/api/v1/admin/video/end", body));
    /* B01's agent gets x */
    t = cpost(&A1, 200, "/api/v1/admin/video/take", NULL);
    assert_int_equal(num(json_object_get(t, "call"), "call_id"), x);
    json_decref(t);
    json_decref(cpost(&A1, 200, "/api/v1/admin/video/end", body));
    /* B02's tablet cannot read B01's call (its id may exist in B02: not its own) */
    json_t *s = status(&T3, x, 0);
    assert_string_not_equal(answer_code(s), "OK");
    json_decref(s);

    /* Roles: an agent uses nothing else; nobody else takes calls. */
    json_decref(cget(&A1, 403, "/api/v1/admin/tellers"));
    json_decref(cget(&A1, 403, "/api/v1/admin/customers"));
    json_decref(cget(&A1, 200, "/api/v1/admin/me"));
    json_decref(cpost(&ADM1, 403, "/api/v1/admin/video/take", NULL));
    json_decref(cget(&ADM1, 403, "/api/v1/admin/video/queue"));
    json_decref(cpost(&A1, 403, "/api/v1/admin/tellers",
                      "{\"code\":\"x01\",\"name\":\"x\",\"role\":\"client_manager\","
                      "\"branch\":\"01\",\"password\":\"" PW "\"}"));

    /* A bank admin adds an agent (a lower role), who can log in and work,
     * and manages them like any lower teller. */
    json_t *n = cpost(&ADM1, 201, "/api/v1/admin/tellers",
                      "{\"code\":\"agent09\",\"name\":\"新坐席\",\"role\":\"video_agent\","
                      "\"password\":\"" PW "\"}");
    assert_string_equal(str(json_object_get(n, "teller"), "role"), "video_agent");
    json_decref(n);
    struct console a9;
    assert_int_equal(console_login(&a9, &D, "agent09", PW), 200);
    json_decref(cget(&a9, 200, "/api/v1/admin/video/queue"));
    json_decref(cpost(&ADM1, 200, "/api/v1/admin/tellers/disable", "{\"teller\":\"agent09\"}"));
    json_decref(cget(&a9, 401, "/api/v1/admin/video/queue"));
}

/* ---- TURN credentials ---------------------------------------------------------------- */

static void read_secret(const struct testd *d, char *out, size_t cap)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/keys/turn.secret", d->dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, (int)cap, f));
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    assert_true(strlen(out) >= 32);
}

static void hmac_b64(const char *secret, const char *user, char *out)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    assert_non_null(HMAC(EVP_sha1(), secret, (int)strlen(secret), (const unsigned char *)user,
                         strlen(user), mac, &n));
    assert_int_equal(n, 20);
    EVP_EncodeBlock((unsigned char *)out, mac, (int)n);
}

/* In a child: stdout and stderr to /dev/null. */
static void quiet(void)
{
    int nul = open("/dev/null", O_WRONLY);
    if (nul >= 0) {
        dup2(nul, 1);
        dup2(nul, 2);
        close(nul);
    }
}

/* Runs argv, quiet; its exit status (-1: could not run). */
static int run(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        quiet();
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool have(const char *prog)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

static int free_udp_port(void)
{
    return 20000 + (int)(getpid() % 20000);
}

static void turn_credentials(void **state)
{
    (void)state;
    char secret[256], want[64];
    read_secret(&D, secret, sizeof secret);
    json_t *a = call(&T1, "VIDEO_CALL_REQUEST", "{\"reason\":\"凭据\"}");
    expect_ok(a, "VIDEO_CALL_REQUEST");
    json_t *ice = json_object_get(data_of(a), "ice_servers");
    json_t *turn = NULL;
    size_t i;
    json_t *e;
    json_array_foreach(ice, i, e)
    {
        if (json_object_get(e, "username"))
            turn = e;
    }
    assert_non_null(turn);
    assert_string_equal(json_string_value(json_array_get(json_object_get(turn, "urls"), 0)),
                        "turn:127.0.0.1:3478?transport=udp");
    const char *user = str(turn, "username"), *cred = str(turn, "credential");
    long long exp = 0, who = 0;
    if (sscanf(user, "%lld:%lld", &exp, &who) != 2)
        fail_msg("username %s", user);
    long long now = (long long)time(NULL);
    assert_true(exp > now && exp <= now + TTL + 2); /* valid for turn_ttl_s */
    assert_true(who > 0);
    hmac_b64(secret, user, want);
    assert_string_equal(cred, want);
    /* The agent's is its own, same scheme. */
    int64_t id = num(data_of(a), "call_id");
    json_t *t = cpost(&A1, 200, "/api/v1/admin/video/take", NULL);
    assert_int_equal(num(json_object_get(t, "call"), "call_id"), id);
    json_array_foreach(json_object_get(t, "ice_servers"), i, e)
    {
        if (json_object_get(e, "username")) {
            hmac_b64(secret, str(e, "username"), want);
            assert_string_equal(str(e, "credential"), want);
            assert_string_not_equal(str(e, "username"), user);
        }
    }
    json_decref(t);
    char body[64];
    snprintf(body, sizeof body, "{\"call_id\":%lld}", (long long)id);
    json_decref(cpost(&A1, 200, "/api/v1/admin/video/end", body));

    /* After the ttl the expiry is in the past: what coturn refuses. */
    char old[64], oldcred[64];
    snprintf(old, sizeof old, "%lld:%lld", now - 1, who);
    hmac_b64(secret, old, oldcred);

    if (!have("turnserver") || !have("turnutils_uclient")) {
        printf("SKIP coturn check: turnserver/turnutils_uclient not installed (scripts/deps.sh "
               "installs the coturn package)\n");
        json_decref(a);
        return;
    }
    char dir[PATH_MAX + 16], port[16], sec[300], log[PATH_MAX + 32], pidf[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/turn", D.dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(port, sizeof port, "%d", free_udp_port());
    snprintf(sec, sizeof sec, "--static-auth-secret=%s", secret);
    snprintf(log, sizeof log, "%s/turn.log", dir);
    snprintf(pidf, sizeof pidf, "%s/turn.pid", dir);
    pid_t pid = fork();
    if (pid == 0) {
        quiet();
        execlp("turnserver", "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
               "--listening-port", port, "--use-auth-secret", sec, "--realm=zhanye.test",
               "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--log-file", log,
               "--pidfile", pidf, "--simple-log", (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    /* a fresh credential is accepted (retry while the server starts) */
    int ok = -1;
    for (int k = 0; k < 40 && ok != 0; k++) {
        usleep(250000);
        char *const good[] = {"turnutils_uclient",
                              "-y",
                              "-n",
                              "1",
                              "-m",
                              "1",
                              "-l",
                              "32",
                              "-p",
                              port,
                              "-u",
                              (char *)user,
                              "-w",
                              (char *)cred,
                              "127.0.0.1",
                              NULL};
        ok = run(good);
    }
    char *const bad[] = {"turnutils_uclient",
                         "-y",
                         "-n",
                         "1",
                         "-m",
                         "1",
                         "-l",
                         "32",
                         "-p",
                         port,
                         "-u",
                         old,
                         "-w",
                         oldcred,
                         "127.0.0.1",
                         NULL};
    int refused = run(bad);
    char wrong[64];
    snprintf(wrong, sizeof wrong, "%s", cred);
    wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
    char *const forged[] = {
        "turnutils_uclient", "-y", "-n",  "1",         "-m", "1", "-l", "32", "-p", port, "-u",
        (char *)user,        "-w", wrong, "127.0.0.1", NULL};
    int forged_rc = run(forged);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    json_decref(a);
    assert_int_equal(ok, 0);
    assert_int_not_equal(refused, 0);
    assert_int_not_equal(forged_rc, 0);
}

/* ---- a recorded business ------------------------------------------------------------ */

/* A call about an agency sale is recorded (双录) even when the tablet does
 * not ask, and takes the business's customer; another kind is not. */
static void agency_business_recorded(void **state)
{
    (void)state;
    json_t *l = call(&T1, "BIZ_LIST", "{\"kind\":\"agency\"}");
    expect_ok(l, "BIZ_LIST");
    json_t *b = json_array_get(json_object_get(data_of(l), "items"), 0);
    assert_non_null(b);
    int64_t biz = num(b, "biz_id"), cust = num(b, "customer_id");
    json_decref(l);
    /* without the customer's consent a recorded call is refused */
    json_t *a =
        call(&T1, "VIDEO_CALL_REQUEST", "{\"reason\":\"双录\",\"biz_id\":%lld}", (long long)biz);
    assert_string_equal(answer_code(a), "vrec_no_consent");
    json_decref(a);
    a = call(&T1, "VIDEO_CALL_REQUEST", "{\"reason\":\"远程\",\"record\":true}");
    assert_string_equal(answer_code(a), "vrec_no_consent");
    json_decref(a);
    a = call(&T1, "VIDEO_CALL_REQUEST",
             "{\"reason\":\"双录\",\"biz_id\":%lld,\"consent\":{\"text_version\":\"v1\"}}",
             (long long)biz);
    expect_ok(a, "VIDEO_CALL_REQUEST");
    assert_true(json_is_true(json_object_get(data_of(a), "record")));
    int64_t id = num(data_of(a), "call_id");
    json_decref(a);
    /* the recorded call is only its own teller's to join */
    a = call(&T2, "VIDEO_RECORD_JOIN", "{\"call_id\":%lld,\"sdp\":\"v=0\"}", (long long)id);
    assert_string_equal(answer_code(a), "video_call_not_found");
    json_decref(a);
    /* not taken yet: no recording under way */
    a = call(&T1, "VIDEO_RECORD_JOIN", "{\"call_id\":%lld,\"sdp\":\"v=0\"}", (long long)id);
    assert_string_equal(answer_code(a), "not_found");
    json_decref(a);
    /* an agent of B02 cannot join B01's call's recording */
    char body[96];
    snprintf(body, sizeof body, "{\"call_id\":%lld,\"sdp\":\"v=0\"}", (long long)id);
    json_decref(cpost(&A2, 404, "/api/v1/admin/video/record-join", body));
    /* this daemon has no Janus: the recording cannot start, so the take
     * ends the call (a call that must be recorded never runs unrecorded) */
    json_t *t = cpost(&A1, 503, "/api/v1/admin/video/take", NULL);
    assert_string_equal(str(json_object_get(t, "error"), "code"), "media_unavailable");
    json_decref(t);
    json_t *s = status(&T1, id, 0);
    assert_string_equal(str(data_of(s), "state"), "ended");
    assert_string_equal(str(data_of(s), "end_reason"), "media_unavailable");
    json_decref(s);
    json_t *l2 = cget(&ADM1, 200, "/api/v1/admin/video/calls?state=ended&limit=50");
    json_t *c = NULL, *it;
    size_t i;
    json_array_foreach(json_object_get(l2, "calls"), i, it) if (num(it, "call_id") == id) c = it;
    assert_non_null(c);
    assert_true(json_is_true(json_object_get(c, "record")));
    assert_int_equal(num(c, "customer_id"), cust);
    assert_string_equal(str(c, "consent_version"), "v1");
    json_decref(l2);
    snprintf(body, sizeof body, "{\"call_id\":%lld}", (long long)id);
    json_decref(cpost(&A1, 409, "/api/v1/admin/video/end", body));

    l = call(&T1, "BIZ_LIST", "{\"kind\":\"loan\"}");
    b = json_array_get(json_object_get(data_of(l), "items"), 0);
    assert_non_null(b);
    a = call(&T1, "VIDEO_CALL_REQUEST", "{\"reason\":\"贷款\",\"biz_id\":%lld}",
             (long long)num(b, "biz_id"));
    json_decref(l);
    expect_ok(a, "VIDEO_CALL_REQUEST");
    assert_true(json_is_false(json_object_get(data_of(a), "record")));
    json_decref(
        call(&T1, "VIDEO_CALL_END", "{\"call_id\":%lld}", (long long)num(data_of(a), "call_id")));
    json_decref(a);
}

/* ---- the reconnect window ------------------------------------------------------------ */

static void silent_side_drops(void **state)
{
    (void)state;
    json_t *a = call(&U1, "VIDEO_CALL_REQUEST", "{\"reason\":\"断网\"}");
    expect_ok(a, "VIDEO_CALL_REQUEST");
    int64_t id = num(data_of(a), "call_id");
    json_decref(a);
    json_t *t = cpost(&B1, 200, "/api/v1/admin/video/take", NULL);
    assert_int_equal(num(json_object_get(t, "call"), "call_id"), id);
    json_decref(t);
    json_t *s = call(&U1, "VIDEO_SIGNAL",
                     "{\"call_id\":%lld,\"kind\":\"answer\",\"payload\":\"x\"}", (long long)id);
    expect_ok(s, "VIDEO_SIGNAL");
    json_decref(s);
    /* The tablet goes silent; the agent keeps looking: dropped, within a
     * bound far above the 2 s window. */
    const char *state_now = "";
    json_t *g = NULL;
    for (int k = 0; k < 300; k++) {
        json_decref(g);
        g = cget(&B1, 200, "/api/v1/admin/video/signals?call_id=%lld", (long long)id);
        state_now = str(json_object_get(g, "call"), "state");
        if (strcmp(state_now, "ended") == 0)
            break;
        usleep(100000);
    }
    assert_string_equal(state_now, "ended");
    assert_string_equal(str(json_object_get(g, "call"), "outcome"), "dropped");
    assert_string_equal(str(json_object_get(g, "call"), "end_reason"), "tablet_silent");
    assert_true(num(json_object_get(g, "call"), "talk_ms") >= 0);
    json_decref(g);
    /* The tablet, back, learns it. */
    s = status(&U1, id, 0);
    assert_string_equal(str(data_of(s), "state"), "ended");
    assert_string_equal(str(data_of(s), "outcome"), "dropped");
    json_decref(s);

    /* The agent goes silent: the tablet's polls end it. */
    a = call(&U1, "VIDEO_CALL_REQUEST", "{\"reason\":\"坐席断网\"}");
    id = num(data_of(a), "call_id");
    json_decref(a);
    json_decref(cpost(&B1, 200, "/api/v1/admin/video/take", NULL));
    state_now = "";
    s = NULL;
    for (int k = 0; k < 300; k++) {
        json_decref(s);
        s = status(&U1, id, 0);
        state_now = str(data_of(s), "state");
        if (strcmp(state_now, "ended") == 0)
            break;
        usleep(100000);
    }
    assert_string_equal(state_now, "ended");
    assert_string_equal(str(data_of(s), "outcome"), "dropped");
    assert_string_equal(str(data_of(s), "end_reason"), "agent_silent");
    json_decref(s);
}

/* ---- setup ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    char conf[256];
    snprintf(conf, sizeof conf,
             "[video]\nturn_urls = turn:127.0.0.1:3478?transport=udp,stun:127.0.0.1:3478\n"
             "turn_ttl_s = %d\nreconnect_window_s = 600\n",
             TTL);
    if (testd_init_demo(&D, conf) || testd_start(&D))
        return -1;
    if (testd_init(&D2, "[video]\nreconnect_window_s = 2\n") || testd_start(&D2))
        return -1;
    if (tablet_activate(&T1, &D, "demo01") || tablet_login(&T1, "demo01", PW) ||
        tablet_activate(&T2, &D, "demo02") || tablet_login(&T2, "demo02", PW) ||
        tablet_activate(&T3, &D, "demo03") || tablet_login(&T3, "demo03", PW) ||
        tablet_activate(&U1, &D2, "demo01") || tablet_login(&U1, "demo01", PW))
        return -1;
    if (console_login(&A1, &D, "agent01", PW) != 200 ||
        console_login(&A2, &D, "agent02", PW) != 200 ||
        console_login(&ADM1, &D, "admin01", PW) != 200 ||
        console_login(&ADM2, &D, "admin02", PW) != 200 ||
        console_login(&B1, &D2, "agent01", PW) != 200)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tablet_free(&T1);
    tablet_free(&T2);
    tablet_free(&T3);
    tablet_free(&U1);
    testd_cleanup(&D);
    testd_cleanup(&D2);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_order_and_call), cmocka_unit_test(banks_apart),
        cmocka_unit_test(turn_credentials),     cmocka_unit_test(agency_business_recorded),
        cmocka_unit_test(silent_side_drops),
    };
    return cmocka_run_group_tests_name("video", tests, setup, teardown);
}
