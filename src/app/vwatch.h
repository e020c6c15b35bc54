/* vwatch — the recorded calls' watcher: one background thread of the
 * serving process that keeps every recording under way alive in Janus and
 * finishes it, off the request path, once its call has ended.
 *
 * A recorded call (business/video_call.h `record`) gets its recording when
 * an agent takes it (http/h_admin_video_record.c: vrec_run_start, the
 * row's call_id the call's id in decimal). Every scan_ms the watcher reads
 * the banks of the directory and, for each bank on the shard that holds it
 * now (a bank fenced for a move is skipped this round), the recordings
 * still `recording` (the newest VWATCH_ROWS_MAX). If there are any, it
 * first ends the bank's silent calls (video_call_sweep with window_ms, in a
 * transaction of its own), so a call whose sides both went away ends as
 * `dropped` without anyone looking. Then, for each recording, with no
 * connection held:
 *   its call ended (any outcome)      vrec_run_finish (actor "system"):
 *                                     the tracks processed, sealed, hashed,
 *                                     stored, audited vrec.<state>;
 *   its call still open               vrec_run_keepalive (Janus drops a
 *                                     session idle for 60 s);
 *   started more than crash_bound_ms  vrec_run_finish whatever the call:
 *   ago                               left by a crash, or a recording of
 *                                     no call (`zhanye vrec`);
 *   otherwise (no call: a recording   left alone (its caller keeps it).
 *   made through `zhanye vrec`)
 * A failure is logged and the row tried again next round (a recording
 * finished meanwhile by another node is VREC_NONE/VREC_STATE: skipped).
 * Metric zhanye_recordings_finished_total{state="stored"|"empty"|"failed"}. */
#ifndef ZHANYE_APP_VWATCH_H
#define ZHANYE_APP_VWATCH_H

#include "business/vrec.h"
#include "data/shard.h"
#include "data/store.h"

#define VWATCH_ROWS_MAX 64
#define VWATCH_CRASH_BOUND_MS (4LL * 3600 * 1000)

struct vwatch_config {
    struct store *dir;     /* the directory: its banks */
    struct shards *shards; /* where each bank's data is */
    const struct vrec_env *vrec;
    int64_t window_ms;      /* the calls' reconnect window ([video] reconnect_window_s); 0: 20 s */
    int64_t crash_bound_ms; /* 0: VWATCH_CRASH_BOUND_MS */
    int scan_ms;            /* 0: 5000 (keepalives must come within 25 s) */
};

struct vwatch;

/* Starts the thread (the config's pointers must outlive it). 0, or -1. */
int vwatch_start(const struct vwatch_config *cfg, struct vwatch **out);
/* Stops and joins it (a recording being finished completes first). NULL is
 * ignored. */
void vwatch_stop(struct vwatch *w);

#endif
