/* thread.c — threads started with every signal blocked (see thread.h). */
#include "foundation/thread.h"

#include <signal.h>
#include <stdio.h>

int thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
                 const char *name)
{
    sigset_t all, old;
    sigfillset(&all);
    int err = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (err)
        return err;
    err = pthread_create(th, attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err == 0 && name) {
        char short_name[16];
        snprintf(short_name, sizeof short_name, "%s", name);
        pthread_setname_np(*th, short_name);
    }
    return err;
}
