/* log: every line is valid JSON with masked PII, the ring drops instead of
 * blocking, and close loses no accepted line. */
#include "foundation/log.h"

#include "foundation/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
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

#define THREADS 8
#define PER_THREAD 20000
#define MARK "\xE2\x80\xA6[truncated]"

struct tmpfile {
    char path[256];
};

static int setup(void **state)
{
    struct tmpfile *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    const char *dir = getenv("TMPDIR");
    snprintf(t->path, sizeof t->path, "%s/zhanye-log-XXXXXX", dir ? dir : "/tmp");
    int fd = mkstemp(t->path);
    if (fd < 0) {
        free(t);
        return -1;
    }
    close(fd);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct tmpfile *t = *state;
    log_close();
    unlink(t->path);
    free(t);
    return 0;
}

static void open_log(const char *path, size_t ring_lines, enum log_level level)
{
    struct log_config cfg = {.path = path, .ring_lines = ring_lines, .level = level};
    assert_int_equal(log_open(&cfg), 0);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            char *bigger = realloc(buf, cap);
            assert_non_null(bigger);
            buf = bigger;
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Splits the file into lines, asserting each is one JSON object ending in \n. */
static json_t *read_lines(const char *path)
{
    size_t len;
    char *buf = slurp(path, &len);
    json_t *lines = json_array();
    assert_true(len == 0 || buf[len - 1] == '\n');
    for (char *p = buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        json_error_t err;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &err);
        if (!j)
            fail_msg("bad JSON line: %s: %.*s", err.text, (int)(nl - p), p);
        assert_true(json_is_object(j));
        assert_true(nl - p < 4096);
        json_array_append_new(lines, j);
    }
    free(buf);
    return lines;
}

static const char *field(json_t *line, const char *key)
{
    const char *s = json_string_value(json_object_get(line, key));
    assert_non_null(s);
    return s;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static void assert_ts_is_utc_now(const char *ts)
{
    struct tm tm = {0};
    int ms = -1, used = 0;
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &used),
                     7);
    assert_int_equal(used, 24);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t when = (int64_t)timegm(&tm) * 1000 + ms;
    int64_t now = clock_wall_ms();
    assert_true(when <= now && now - when < 60000);
}

static void lines_are_json(void **state)
{
    struct tmpfile *t = *state;
    static const char *msgs[] = {
        "plain",
        "quote \" backslash \\ slash /",
        "ctl \x01\x02\x1f del \x7f nl \n cr \r tab \t",
        "中文 ✓ emoji 😀",
        "",
    };
    open_log(t->path, 1024, LOG_DEBUG);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(log_info("test.json", "%s", msgs[i]), 0);
    assert_int_equal(log_error("ev \"quoted\"\n", "bad bytes \xff\xfe end \xE4\xB8"), 0);
    log_close();

    json_t *lines = read_lines(t->path);
    assert_int_equal(json_array_size(lines), 6);
    for (size_t i = 0; i < 5; i++) {
        json_t *l = json_array_get(lines, i);
        assert_ts_is_utc_now(field(l, "ts"));
        assert_string_equal(field(l, "level"), "info");
        assert_string_equal(field(l, "event"), "test.json");
        assert_string_equal(field(l, "msg"), msgs[i]);
        assert_int_equal(json_object_size(l), 4);
    }
    json_t *l = json_array_get(lines, 5);
    assert_string_equal(field(l, "level"), "error");
    assert_string_equal(field(l, "event"), "ev \"quoted\"\n");
    assert_string_equal(field(l, "msg"), "bad bytes \xEF\xBF\xBD\xEF\xBF\xBD end "
                                         "\xEF\xBF\xBD\xEF\xBF\xBD");
    json_decref(lines);
    assert_int_equal(log_accepted(), 6);
    assert_int_equal(log_written(), 6);
    assert_int_equal(log_drops(), 0);
}

static void pii_is_masked_in_file(void **state)
{
    struct tmpfile *t = *state;
    open_log(t->path, 64, LOG_INFO);
    log_info("customer.bind", "客户手机%s 身份证%s 卡号%s", "13812345678", "330102199001011234",
             "6222021234567891234");
    log_close();

    size_t len;
    char *raw = slurp(t->path, &len);
    assert_null(strstr(raw, "13812345678"));
    assert_null(strstr(raw, "330102199001011234"));
    assert_null(strstr(raw, "6222021234567891234"));
    free(raw);
    json_t *lines = read_lines(t->path);
    assert_string_equal(field(json_array_get(lines, 0), "msg"),
                        "客户手机138****5678 身份证330102********1234 卡号6222***********1234");
    json_decref(lines);
}

static void long_lines_are_cut_visibly(void **state)
{
    struct tmpfile *t = *state;
    char *big = malloc(20000);
    if (!big) {
        fail_msg("out of memory");
        return;
    }
    /* Room for every line even if the writer never runs: no drops here. */
    open_log(t->path, 4096, LOG_INFO);

    memset(big, 'a', 19999);
    big[19999] = '\0';
    log_info("test.long", "%s", big);
    /* Escapes expand six-fold: the cut must fall between escapes. */
    memset(big, '\x01', 19999);
    log_info("test.long", "%s", big);
    /* 3-byte characters: the cut must not split one. */
    for (size_t i = 0; i + 3 < 20000; i += 3)
        memcpy(big + i, "中", 3);
    big[19998] = '\0';
    log_info("test.long", "%s", big);
    /* A phone straddling the cut: what survives must still be masked. */
    memset(big, 'b', 20000);
    for (size_t at = 3950; at < 4030; at++) {
        memset(big, 'b', at);
        snprintf(big + at, 64, " 13812345678 end");
        log_info("test.long", "%s", big);
    }
    char event[300];
    memset(event, 'e', sizeof event - 1);
    event[sizeof event - 1] = '\0';
    log_info(event, "short");
    log_close();
    assert_int_equal(log_drops(), 0);

    json_t *lines = read_lines(t->path);
    size_t n = json_array_size(lines);
    assert_int_equal(n, 3 + 80 + 1);
    for (size_t i = 0; i < 3; i++)
        assert_true(ends_with(field(json_array_get(lines, i), "msg"), MARK));
    for (size_t i = 3; i < n - 1; i++) {
        const char *msg = field(json_array_get(lines, i), "msg");
        assert_null(strstr(msg, "1381"));
        assert_null(strstr(msg, "2345"));
    }
    const char *ev = field(json_array_get(lines, n - 1), "event");
    assert_int_equal(strlen(ev), 128 + strlen(MARK));
    assert_true(ends_with(ev, MARK));
    assert_string_equal(field(json_array_get(lines, n - 1), "msg"), "short");
    json_decref(lines);
    free(big);
}

static void level_filter(void **state)
{
    struct tmpfile *t = *state;
    assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
    assert_int_equal(log_level_parse("info"), LOG_INFO);
    assert_int_equal(log_level_parse("WARN"), LOG_WARN);
    assert_int_equal(log_level_parse("error"), LOG_ERROR);
    assert_int_equal(log_level_parse("verbose"), -1);
    assert_int_equal(log_level_parse(NULL), -1);

    open_log(t->path, 64, LOG_WARN);
    assert_int_equal(log_debug("lvl", "d"), 0);
    assert_int_equal(log_info("lvl", "i"), 0);
    assert_int_equal(log_warn("lvl", "w"), 0);
    assert_int_equal(log_error("lvl", "e"), 0);
    log_close();
    assert_int_equal(log_accepted(), 2);
    assert_int_equal(log_drops(), 0);

    json_t *lines = read_lines(t->path);
    assert_int_equal(json_array_size(lines), 2);
    assert_string_equal(field(json_array_get(lines, 0), "level"), "warn");
    assert_string_equal(field(json_array_get(lines, 1), "level"), "error");
    json_decref(lines);
}

static void lifecycle(void **state)
{
    struct tmpfile *t = *state;
    struct log_config bad = {.path = "/nonexistent-dir/x.log", .level = LOG_INFO};
    assert_int_equal(log_open(&bad), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(log_open(NULL), -1);
    assert_int_equal(errno, EINVAL);

    open_log(t->path, 0, LOG_INFO);
    struct log_config again = {.path = t->path, .level = LOG_INFO};
    assert_int_equal(log_open(&again), -1);
    assert_int_equal(errno, EBUSY);
    /* The refused open must leave the running logger alone. */
    assert_int_equal(log_info("still", "first"), 0);
    log_close();
    log_close();
    assert_int_equal(log_written(), 1);
    open_log(t->path, 16, LOG_INFO);
    log_info("reopen", "second");
    log_close();
    json_t *lines = read_lines(t->path);
    assert_int_equal(json_array_size(lines), 2);
    assert_string_equal(field(json_array_get(lines, 0), "msg"), "first");
    assert_string_equal(field(json_array_get(lines, 1), "msg"), "second");
    json_decref(lines);
}

/* Before open and after close, lines go straight to stderr, still masked. */
static void stderr_when_closed(void **state)
{
    struct tmpfile *t = *state;
    int fd = open(t->path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    assert_int_equal(log_warn("closed", "phone 13812345678"), 0);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    json_t *lines = read_lines(t->path);
    assert_int_equal(json_array_size(lines), 1);
    assert_string_equal(field(json_array_get(lines, 0), "msg"), "phone 138****5678");
    json_decref(lines);
}

struct worker {
    int id;
    bool *accepted;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++)
        w->accepted[i] = log_info("load", "t=%d i=%d", w->id, i) == 0;
    return NULL;
}

static void many_threads_small_ring(void **state)
{
    struct tmpfile *t = *state;
    pthread_t th[THREADS];
    struct worker w[THREADS];
    bool *accepted = calloc(THREADS * PER_THREAD, sizeof *accepted);
    assert_non_null(accepted);
    open_log(t->path, 64, LOG_INFO);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.id = i, .accepted = accepted + (size_t)i * PER_THREAD};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    log_close();

    uint64_t ok = 0;
    for (size_t i = 0; i < THREADS * PER_THREAD; i++)
        ok += accepted[i];
    assert_int_equal(log_accepted(), ok);
    assert_int_equal(log_accepted() + log_drops(), THREADS * PER_THREAD);
    assert_int_equal(log_written(), log_accepted());

    uint8_t *seen = calloc(THREADS * PER_THREAD, 1);
    assert_non_null(seen);
    json_t *lines = read_lines(t->path);
    assert_int_equal(json_array_size(lines), ok);
    for (size_t i = 0; i < json_array_size(lines); i++) {
        int tid, idx;
        assert_int_equal(sscanf(field(json_array_get(lines, i), "msg"), "t=%d i=%d", &tid, &idx),
                         2);
        assert_true(tid >= 0 && tid < THREADS && idx >= 0 && idx < PER_THREAD);
        seen[(size_t)tid * PER_THREAD + (size_t)idx]++;
    }
    for (size_t i = 0; i < THREADS * PER_THREAD; i++)
        assert_int_equal(seen[i], accepted[i] ? 1 : 0);
    json_decref(lines);
    free(seen);
    free(accepted);
}

/* Polls log_written() for up to 5 s; true once it reaches n. */
static bool written_reaches(uint64_t n)
{
    struct timespec nap = {0, 1000000L};
    for (int i = 0; i < 5000 && log_written() < n; i++)
        nanosleep(&nap, NULL);
    return log_written() >= n;
}

/* Lines reach the file while the log stays open: the first after a quiet
 * spell wakes the writer; those that come while it lingers after a write go
 * out when the linger ends, with no close and no further line to push them. */
static void lines_reach_the_file_without_close(void **state)
{
    struct tmpfile *t = *state;
    open_log(t->path, 1000, LOG_INFO);
    log_info("first", "one");
    assert_true(written_reaches(1));
    for (int i = 0; i < 3; i++)
        log_info("during_linger", "line %d", i);
    assert_true(written_reaches(4));
    json_t *lines = read_lines(t->path);
    assert_int_equal(json_array_size(lines), 4);
    assert_string_equal(field(json_array_get(lines, 3), "msg"), "line 2");
    json_decref(lines);
}

static void *drain_pipe(void *arg)
{
    int fd = *(int *)arg;
    char buf[65536];
    uint64_t lines = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < r; i++)
            lines += buf[i] == '\n';
    return (void *)(uintptr_t)lines;
}

/* A writer stuck on output (a full pipe) must not stall callers: the ring
 * fills, further lines are dropped, and close still delivers the rest. */
static void full_ring_drops_instead_of_blocking(void **state)
{
    int p[2];
    char path[64];
    assert_int_equal(pipe(p), 0);
    snprintf(path, sizeof path, "/dev/fd/%d", p[1]);
    open_log(path, 1000, LOG_INFO);
    close(p[1]);
    uint64_t offered = 0;
    while (log_drops() < 100 && offered < 10000000) {
        log_info("flood", "line %llu padding padding padding", (unsigned long long)offered);
        offered++;
    }
    assert_int_equal(log_drops(), 100);
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, drain_pipe, &p[0]), 0);
    log_close();
    void *got;
    pthread_join(reader, &got);
    close(p[0]);
    assert_int_equal(log_accepted() + log_drops(), offered);
    assert_int_equal(log_written(), log_accepted());
    assert_int_equal((uint64_t)(uintptr_t)got, log_accepted());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lines_are_json, setup, teardown),
        cmocka_unit_test_setup_teardown(pii_is_masked_in_file, setup, teardown),
        cmocka_unit_test_setup_teardown(long_lines_are_cut_visibly, setup, teardown),
        cmocka_unit_test_setup_teardown(level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(stderr_when_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(many_threads_small_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(lines_reach_the_file_without_close, setup, teardown),
        cmocka_unit_test_setup_teardown(full_ring_drops_instead_of_blocking, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
