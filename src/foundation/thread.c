/* thread.c — threads started with every signal blocked (see thread.h). */
#include "foundation/thread.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* What the new thread needs before it runs fn: its name is set by the
 * thread itself, so fn never runs unnamed (a name set by the creator after
 * pthread_create could come after fn had already looked). */
struct start {
    void *(*fn)(void *);
    void *arg;
    char name[16];
};

static void *trampoline(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    if (s.name[0])
        pthread_setname_np(pthread_self(), s.name);
    return s.fn(s.arg);
}

int thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
                 const char *name)
{
    struct start *s = malloc(sizeof *s);
    if (!s)
        return ENOMEM;
    s->fn = fn;
    s->arg = arg;
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    sigset_t all, old;
    sigfillset(&all);
    int err = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (err) {
        free(s);
        return err;
    }
    err = pthread_create(th, attr, trampoline, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        free(s);
    return err;
}
