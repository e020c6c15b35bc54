/* vrec_run — a recorded call's steps (business/vrec.h) for callers that
 * hold no transaction: the CLI (`zhanye vrec`), the console, the call
 * side's handlers. Each function runs the Janus and disk work outside any
 * transaction and each write in a transaction of its own (store_run) on
 * the bank's shard (shards_route), with the shard's fence, through a
 * tenant scope of sc; reads go through a read-only scope.
 *
 * When to call what (the call side):
 *   vrec_run_start      once per recorded call, after the customer's
 *                       consent was captured: the room and the row;
 *   vrec_run_join       once per participant (browser) of the call: its
 *                       SDP offer (all ICE candidates gathered: no trickle)
 *                       in, Janus's SDP answer out;
 *   vrec_run_keepalive  at least every 25 s while the call lasts;
 *   vrec_run_finish     once, when the call ended (hung up, or dropped for
 *                       good): the tracks processed, sealed and stored;
 *                       out->sm3 is the hash to keep with the call record.
 * Each blocks for a few Janus requests (finish also for janus-pp-rec and
 * the sealing: seconds for a long call): run them on an executor thread,
 * never inline on an HTTP thread. Returns as business/vrec.h (a bank being
 * moved is STORE_BUSY); vrec_ze maps a status to the error table. */
#ifndef ZHANYE_APP_VREC_RUN_H
#define ZHANYE_APP_VREC_RUN_H

#include "business/vrec.h"
#include "data/shard.h"

/* The outcome of vrec_run_finish. */
struct vrec_result {
    int64_t id;
    char state[12]; /* stored, empty or failed */
    char sm3[65];   /* the recording's hash ("" unless stored) */
    int64_t size, duration_ms;
    int tracks;
};

/* sc: the bank, and the branch and teller the recording is made in. */
int vrec_run_start(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                   const struct vrec_start_req *r, struct vrec_room *out);
/* *answer: malloc'd SDP. */
int vrec_run_join(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                  const char *call_id, const char *display, const char *offer_sdp, char **answer,
                  const char *actor);
int vrec_run_keepalive(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                       const char *call_id);
/* VREC_MEDIA when the recording was stored as failed (out filled). */
int vrec_run_finish(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                    const char *call_id, const char *actor, struct vrec_result *out);

#endif
