/* thread — how the platform starts its threads.
 *
 * Process signals (SIGTERM, SIGINT, SIGHUP) belong to the main thread, which
 * takes them synchronously with sigwait() (cli/cmd_serve.c). A thread that
 * leaves them unblocked would take one itself whenever the main thread has
 * them blocked, and the default action ends the whole process: a SIGTERM
 * would kill `zhanye serve` instead of draining it. So every thread of
 * src/ is started with thread_start(), which blocks every signal in the new
 * thread (its mask is set at creation; the caller's is restored before
 * thread_start returns), whatever the caller's mask is. Threads the new
 * thread creates (libcurl's resolver, say) inherit the full mask. */
#ifndef ZHANYE_THREAD_H
#define ZHANYE_THREAD_H

#include <pthread.h>

/* pthread_create(th, attr, fn, arg) with every signal blocked in the new
 * thread; name (NULL: none; at most 15 bytes, else cut) goes to
 * pthread_setname_np for ps and debuggers. Returns 0, or the error number
 * pthread_create or pthread_sigmask gave (nothing was started). */
int thread_start(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg,
                 const char *name);

#endif
