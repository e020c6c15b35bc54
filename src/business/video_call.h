/* video_call — remote video assistance calls (issue 17): the queue of a
 * bank, each call's life, and its record.
 *
 * A client manager's tablet asks for a call (VIDEO_CALL_REQUEST,
 * business/video_tx.h); it waits `queued` in its bank's queue, first come
 * first served. A video agent of the same bank (data/tenant.h
 * ROLE_VIDEO_AGENT; the console, http/h_admin_video*.c) takes the next one:
 * `ringing`. The two browsers exchange WebRTC signals through zhanye
 * (business/video_signal.h); the first `answer` makes the call
 * `connected`. Either side ends it: `ended` with an outcome:
 *   completed  ended by either side after it was connected
 *   abandoned  the tablet gave up before it was connected
 *   rejected   the agent ended it before it was connected
 *   dropped    one side went silent for the reconnect window (no status
 *              poll from the tablet, no stream or request from the agent):
 *              video_call_sweep ends it, whoever looks next
 *
 * Table video_calls (the bank's shard, migration 24). Every function works
 * inside the caller's transaction (the tenant scope: one bank, which is
 * how an agent of B02 never sees a call of B01), writes its audit record
 * (video.call_requested, video.call_taken, video.call_connected,
 * video.call_ended) there, and returns VC_OK or a status below, or a
 * negative store status (the transaction then rolls back).
 *
 * RECORDING (the recording side, business/vrec*): a call has `record` (set
 * by the tablet when the business requires a recording) and an optional
 * `recording_id`. The recording side registers hooks (video_call_hooks_set)
 * called, inside the transaction, when a call with record set becomes
 * connected and when it ends; it stores its id with
 * video_call_set_recording. */
#ifndef ZHANYE_VIDEO_CALL_H
#define ZHANYE_VIDEO_CALL_H

#include "data/tenant.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    VC_OK = 0,
    VC_NOT_FOUND = 1, /* no such call in the scope's bank (for this teller or agent) */
    VC_ENDED = 2,     /* the call has ended */
    VC_EMPTY = 3,     /* video_call_take_next: nobody waits */
    VC_BUSY = 4,      /* video_call_take_next: the agent has a call open */
    VC_BAD = 5,       /* a malformed argument */
};

#define VC_REASON_MAX 200
#define VC_RECORDING_ID_MAX 64
#define VC_CONSENT_VERSION_MAX 32

enum video_side { VIDEO_TABLET, VIDEO_AGENT };

struct video_call {
    int64_t id, teller_id, branch_id, customer_id, biz_id, agent_id; /* 0: none */
    char state[12];   /* queued | ringing | connected | ended */
    char outcome[12]; /* "" until ended */
    char end_reason[41];
    char dev[33];
    char reason[VC_REASON_MAX + 1];
    char recording_id[VC_RECORDING_ID_MAX + 1];
    bool record;
    int64_t created_at, answered_at, connected_at, ended_at, tablet_seen, agent_seen;
    /* The customer's consent to the recording (migration 26): the consent
     * text's version, who captured it (the teller's actor) and when; "", 0
     * without one. */
    char consent_version[VC_CONSENT_VERSION_MAX + 1];
    char consent_by[65];
    int64_t consent_at;
};

struct video_call_new {
    int64_t teller_id, branch_id, customer_id, biz_id; /* customer, biz 0: none */
    const char *dev;
    const char *reason; /* 1..VC_REASON_MAX bytes */
    bool record;
    /* The customer's consent captured on the tablet (NULL or "": none):
     * the consent text's version, ≤ VC_CONSENT_VERSION_MAX bytes; stored
     * with consent_by (NULL: actor; ≤ 64 bytes) as who captured it and
     * now_ms as when. */
    const char *consent_version;
    const char *consent_by;
    const char *actor; /* the audit record's */
};

/* Queues a new call; *id gets its id. */
int video_call_create(struct tenant_conn *tc, const struct video_call_new *n, int64_t now_ms,
                      int64_t *id);
/* The call id of the scope's bank; VC_NOT_FOUND. */
int video_call_get(struct tenant_conn *tc, int64_t id, struct video_call *out);
/* Its place in the queue (1: next), 0 when not queued. */
int video_call_position(struct tenant_conn *tc, const struct video_call *c, int64_t *pos);
/* The expected wait of a call at position pos: pos times the average queue
 * wait of the bank's last 20 answered calls (60 s without any), seconds. */
int video_call_expected_wait(struct tenant_conn *tc, int64_t pos, int64_t *wait_s);
/* Records that side is alive on the call (a poll, a stream tick). */
int video_call_touch(struct tenant_conn *tc, int64_t id, enum video_side side, int64_t now_ms);
/* The agent takes the oldest queued call of the bank: it becomes ringing,
 * agent_id the agent, both sides seen now; *out the call. VC_EMPTY,
 * VC_BUSY (the agent already has one ringing or connected). */
int video_call_take_next(struct tenant_conn *tc, int64_t agent_id, const char *actor,
                         int64_t now_ms, struct video_call *out);
/* A ringing call becomes connected (the first `answer` signal). VC_OK also
 * when it already is. */
int video_call_connected(struct tenant_conn *tc, int64_t id, const char *actor, int64_t now_ms);
/* side ends the call: the outcome follows the table above (a call ended
 * already: VC_ENDED). reason: a short word for the record ("hangup",
 * "cancel", ...). *out (may be NULL) gets the ended call. Counts the
 * performance metrics video_calls and video_calls_<outcome> of the call's
 * teller (business/perf.h). */
int video_call_end(struct tenant_conn *tc, int64_t id, enum video_side side, const char *reason,
                   const char *actor, int64_t now_ms, struct video_call *out);
/* Ends, as `dropped`, every open call of the bank whose tablet (any state)
 * or agent (ringing, connected) was last seen more than window_ms ago;
 * *ended (may be NULL) gets how many. */
int video_call_sweep(struct tenant_conn *tc, int64_t window_ms, int64_t now_ms, int *ended);
/* The agent's open (ringing or connected) call, VC_NOT_FOUND when none. */
int video_call_of_agent(struct tenant_conn *tc, int64_t agent_id, struct video_call *out);

/* The call's record as the API shows it: {call_id, state, outcome,
 * end_reason, record, recording_id, customer_id, biz_id, reason, times,
 * queue_wait_ms, talk_ms, teller_id, branch_id} (the caller names the
 * teller; video_call_list adds agent_id). NULL out of memory. */
json_t *video_call_json(const struct video_call *c);
/* The bank's calls, newest first: state "" all, "open" (not ended), or one
 * state; at most limit (1..500). *out a JSON array of video_call_json. */
int video_call_list(struct tenant_conn *tc, const char *state, int limit, json_t **out);

/* ---- the recording side's hook --------------------------------------------- */

struct video_hooks {
    /* A call with record set became connected / ended; inside the
     * transaction (write only to the database); non-zero rolls it back. */
    int (*recorded_call_started)(struct tenant_conn *tc, const struct video_call *c);
    int (*recorded_call_ended)(struct tenant_conn *tc, const struct video_call *c);
};
/* Registers the hooks (NULL: none), once at start-up before any request. */
void video_call_hooks_set(const struct video_hooks *h);
/* Stores the recording's id with the call (audited video.call_recording). */
int video_call_set_recording(struct tenant_conn *tc, int64_t id, const char *recording_id,
                             const char *actor);

#endif
