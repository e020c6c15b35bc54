/* metrics — process-wide counters, gauges and histograms, rendered in the
 * Prometheus text exposition format (version 0.0.4) for GET /metrics.
 *
 * Metrics are registered once (at start, or lazily on first use of a label
 * set) and updated lock-free with atomics on the hot path. A metric is a
 * family name plus a fixed label string, e.g.
 *   metrics_counter("zhanye_http_requests_total", "route=\"/healthz\",status=\"200\"")
 * returns a handle that stays valid until metrics_shutdown().
 *
 * The label string is pasted verbatim between braces: callers quote and
 * escape label values themselves. Misuse is a programming error and aborts
 * with a message: an invalid family name, a family asked for with two types,
 * one series as both plain and callback gauge, descending histogram bounds.
 * Updating a series of the wrong kind (metric_set on a counter) is ignored
 * (and asserts in debug builds). metrics_render() lists families sorted by
 * name and series sorted by label string. */
#ifndef ZHANYE_METRICS_H
#define ZHANYE_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metric;

/* Declares a family's HELP text and type ("counter", "gauge", "histogram").
 * Optional; families without it are rendered without HELP. */
void metrics_describe(const char *family, const char *type, const char *help);

/* Finds or creates the series; labels may be "" or NULL. Never returns NULL
 * (aborts on out-of-memory: metrics are not optional state). */
struct metric *metrics_counter(const char *family, const char *labels);
struct metric *metrics_gauge(const char *family, const char *labels);
/* Histogram with the given upper bounds (seconds, ascending); +Inf is implicit.
 * An existing series keeps the bounds it was created with. NaN observations
 * are ignored. */
struct metric *metrics_histogram(const char *family, const char *labels, const double *bounds,
                                 size_t nbounds);

void metric_add(struct metric *m, uint64_t n);         /* counter */
void metric_set(struct metric *m, int64_t v);          /* gauge */
void metric_inc(struct metric *m);                     /* gauge or counter +1 */
void metric_dec(struct metric *m);                     /* gauge -1 */
void metric_observe(struct metric *m, double seconds); /* histogram */

/* Reading back (the management API's live view). metrics_find: the series
 * if it exists, else NULL (never creates one). metric_histogram_read: a
 * histogram's per-bucket counts (not cumulative; +Inf last) and upper
 * bounds into counts[] / bounds[] (bounds may be NULL), at most cap
 * entries; returns the number of buckets (nbounds + 1), 0 if m is not a
 * histogram. */
struct metric *metrics_find(const char *family, const char *labels);
size_t metric_histogram_read(struct metric *m, uint64_t *counts, double *bounds, size_t cap);

/* Callback gauges: value computed at render time (e.g. log drops). fn runs
 * under the registry lock and must not call metrics functions. Registering
 * the same series again replaces fn. */
void metrics_gauge_fn(const char *family, const char *labels, int64_t (*fn)(void));

/* Renders all families; returns a malloc'd NUL-terminated string (caller frees), NULL on OOM. */
char *metrics_render(size_t *len);
/* Frees every series (at shutdown and between tests). */
void metrics_shutdown(void);

/* Default latency buckets in seconds: 0.0005 .. 10. */
extern const double METRICS_LATENCY_BUCKETS[];
extern const size_t METRICS_LATENCY_NBUCKETS;

#endif
