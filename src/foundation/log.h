/* log — asynchronous JSON-lines logging.
 *
 * Request threads never block on disk: log_write() formats into a bounded
 * ring buffer and returns; one writer thread drains it to the file. Under a
 * steady flow of lines the writer writes at most every 10 ms (sooner once a
 * quarter of the ring is waiting), so a line reaches the file within about
 * 10 ms and a busy server costs one writev per batch, not a wake-up per line. When the
 * ring is full the line is dropped and counted (log_drops()), never waited
 * for. log_close() drains everything accepted and fsyncs, so a clean
 * shutdown loses no accepted line. Every message passes through
 * mask_text() so customer data cannot reach the file unmasked.
 *
 * Line format: {"ts":"2026-11-26T02:18:59.123Z","level":"info","event":"...",
 *               "msg":"..."}\n
 * ts is UTC. A line is at most 4096 bytes: a longer msg (or an event name
 * over 128 bytes) is cut on a character boundary and ends in "…[truncated]".
 * Invalid UTF-8 in event or msg is replaced by U+FFFD, so every line is
 * valid JSON. */
#ifndef ZHANYE_LOG_H
#define ZHANYE_LOG_H

#include <stdint.h>
#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

struct log_config {
    const char *path;     /* file to append to; NULL or "-" means stderr */
    size_t ring_lines;    /* capacity of the ring in lines (e.g. 65536); 0 means 65536.
                           * The ring holds up to 256 bytes a line on average
                           * (at least 64 KiB, at most 64 MiB). */
    enum log_level level; /* lines below this level are discarded (not counted as drops) */
};

/* Starts the writer thread. 0 on success, -1 (errno set) if the file cannot be
 * opened (EINVAL: bad config; EBUSY: already open or still closing). */
int log_open(const struct log_config *cfg);
/* Drains every accepted line, fsyncs, stops the writer. Safe to call twice. */
void log_close(void);
/* Parses "debug|info|warn|error"; -1 if unknown. */
int log_level_parse(const char *s);

/* Queues one line. event is a short dotted name ("http.request"); fmt is a
 * printf format for "msg". Returns 0 if accepted, -1 if dropped. A line
 * below the level filter returns 0 and is not counted anywhere. Before
 * log_open() and after log_close(), lines go synchronously to stderr (level
 * filter: the last configured one, info before any log_open()). */
int log_write(enum log_level lvl, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_write(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_write(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_write(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_write(LOG_ERROR, ev, __VA_ARGS__)

/* Counters since log_open(): lines accepted into the ring, lines written, lines dropped. */
uint64_t log_accepted(void);
uint64_t log_written(void);
uint64_t log_drops(void);

#endif
