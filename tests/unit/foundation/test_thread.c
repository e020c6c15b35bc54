/* thread_start: the new thread has every signal blocked whatever the
 * caller's mask, the caller's mask is as it was, and the name is set; and
 * src/ starts no thread any other way (a scan: pthread_create only in
 * foundation/thread.c, thread_start's call sites found). */
#include "foundation/thread.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "srcscan.h"

struct seen {
    sigset_t mask;
    char name[16];
};

static void *probe(void *arg)
{
    struct seen *s = arg;
    pthread_sigmask(SIG_SETMASK, NULL, &s->mask);
    pthread_getname_np(pthread_self(), s->name, sizeof s->name);
    return NULL;
}

static void blocks_every_signal(void **state)
{
    (void)state;
    sigset_t none, before, after;
    struct seen s;
    pthread_t th;
    sigemptyset(&none);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &none, &before), 0);
    assert_int_equal(thread_start(&th, NULL, probe, &s, "zhanye-test-long-name"), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    /* The caller's (empty) mask is back. */
    for (int sig = 1; sig < SIGRTMIN; sig++)
        assert_false(sigismember(&after, sig));
    /* Every signal the kernel lets a thread block is blocked in the thread. */
    int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGCHLD};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        assert_true(sigismember(&s.mask, sigs[i]));
    /* The name, cut to what the kernel keeps (15 bytes). */
    assert_string_equal(s.name, "zhanye-test-lon");
    pthread_sigmask(SIG_SETMASK, &before, NULL);
}

static void without_name(void **state)
{
    (void)state;
    struct seen s;
    pthread_t th;
    assert_int_equal(thread_start(&th, NULL, probe, &s, NULL), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(sigismember(&s.mask, SIGTERM));
}

struct starts {
    int bare;  /* pthread_create outside foundation/thread.c */
    int calls; /* thread_start calls */
};

static void scan(const char *rel, const char *text, void *arg)
{
    struct starts *st = arg;
    char *t = srcscan_blank(text, true);
    assert_non_null(t);
    bool home = strncmp(rel, "src/foundation/thread.", 22) == 0;
    for (size_t i = 0; t[i]; i++) {
        if (!home && srcscan_word_at(t, i, "pthread_create")) {
            print_error("%s:%d: pthread_create: use thread_start (foundation/thread.h)\n", rel,
                        srcscan_line(t, i));
            st->bare++;
        }
        st->calls += !home && srcscan_word_at(t, i, "thread_start");
    }
    free(t);
}

static void src_starts_threads_with_thread_start(void **state)
{
    (void)state;
    struct starts st = {0, 0};
    int files = srcscan_walk(srcscan_root(), "src", scan, &st);
    assert_true(files >= 100);
    assert_int_equal(st.bare, 0);
    assert_true(st.calls >= 6); /* log, audit, nonce, egress, executor, flow timer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blocks_every_signal),
        cmocka_unit_test(without_name),
        cmocka_unit_test(src_starts_threads_with_thread_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
