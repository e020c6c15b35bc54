/* ticker — a background thread that runs one round of work now and then
 * every period, until stopped (the voucher deliverer, app/vdeliver.h; the
 * recordings' watcher, app/vwatch.h).
 *
 * The round is fn(arg, t). It may take long; between items of its work it
 * asks ticker_stopping(t) to end early once a stop was asked. The wait
 * between rounds is on CLOCK_MONOTONIC and a stop ends it at once. The
 * thread is started with thread_start (foundation/thread.h). */
#ifndef ZHANYE_TICKER_H
#define ZHANYE_TICKER_H

#include <stdbool.h>

struct ticker;

typedef void (*ticker_fn)(void *arg, const struct ticker *t);

/* Starts the thread (name: at most 15 bytes, for ps) running fn(arg, t) at
 * once and then period_ms (> 0) after the end of each round. 0 with *out
 * set, or -1 (nothing started, *out NULL). */
int ticker_start(const char *name, int period_ms, ticker_fn fn, void *arg, struct ticker **out);
/* Whether a stop was asked; any thread. */
bool ticker_stopping(const struct ticker *t);
/* Asks the stop, waits for the round under way to return, joins, frees.
 * NULL is a no-op. Not from the round itself. */
void ticker_stop(struct ticker *t);

#endif
