/* executor — a fixed pool of threads running jobs from two bounded FIFO
 * queues: a priority lane (LOGIN, LOGOUT) and the normal lane.
 *
 * The HTTP server hands it the handlers that may take long (the ZY1 pipeline:
 * SM2, the database, LOGIN's Argon2id, calls through the egress gateway), so
 * that libmicrohttpd's own threads only parse, route and send, and a cheap
 * request (/healthz, /metrics) never waits behind an expensive one.
 *
 * Each lane's capacity is fixed at start and allocated once: submit never
 * allocates and never blocks; a full lane is refused, not waited on. Jobs of
 * a lane start in submission order, priority jobs before normal ones; with
 * several threads they may finish in any order. With two threads or more,
 * one is reserved for the priority lane, so normal jobs — however many, or
 * however long they wait on the bank's other systems — never hold every
 * thread. Idle threads sleep on a condition variable. No thread is detached:
 * executor_stop() joins every one. */
#ifndef ZHANYE_HTTP_EXECUTOR_H
#define ZHANYE_HTTP_EXECUTOR_H

#include <stddef.h>

typedef void (*executor_fn)(void *arg);

struct executor;

/* Starts nthreads (>= 1) threads and two lanes of capacity (>= 1) jobs
 * waiting to start. 0, or -1 with nothing left running. */
int executor_start(int nthreads, size_t capacity, struct executor **out);
/* Queues fn(arg) to run on a pool thread. 0, or -1 when the queue is full or
 * the executor is draining; fn is then not called. Any thread. */
int executor_submit(struct executor *e, executor_fn fn, void *arg);
/* The same on the priority lane. */
int executor_submit_priority(struct executor *e, executor_fn fn, void *arg);
/* Jobs submitted and not yet finished (queued + running). */
size_t executor_pending(struct executor *e);
/* Refuses every later submit, then waits until every job submitted before has
 * finished. Idempotent. Not from a job. */
void executor_drain(struct executor *e);
/* Drains, joins the threads and frees. NULL is a no-op. Not from a job. */
void executor_stop(struct executor *e);

#endif
