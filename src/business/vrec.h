/* vrec — recorded video calls (双录): one call's recording, from the
 * customer's consent to sealed, hashed files.
 *
 * The recording is made by Janus (egress/janus.h), the VideoRoom plugin
 * with `record: true`: every participant of the call publishes into one
 * private room; Janus writes each one's audio and video as .mjr files into
 * the room's spool folder; at the end janus-pp-rec turns them into
 * playable files (video → WebM (VP8), audio → Opus in Ogg; the Debian
 * version cannot mux both into one file), each is hashed (SM3) and sealed
 * at rest with the KEK (business/vrec_seal.h), and the clear files are
 * deleted (business/vrec_process.h). The recording's hash (`sm3`) is SM3
 * over its manifest, one line "<kind> <sm3> <size>\n" per track in order;
 * each track keeps its own.
 *
 * Like every business module this one never opens a transaction: each
 * step is split into what talks to Janus or the disk (outside any
 * transaction, no database) and what writes (in the caller's transaction,
 * through its tenant scope, with its audit records). app/vrec_run.h
 * composes them (a transaction of its own per write, on the bank's shard)
 * for callers that hold no transaction: the CLI, the call side's handlers.
 *
 *   start    vrec_open (checks, consent, Janus room) → vrec_begin (in the
 *            transaction: the row, audited vrec.consented, vrec.started) →
 *            on a rollback vrec_abandon (the room destroyed);
 *   join     vrec_get → vrec_publish (the participant's SDP offer to Janus,
 *            its answer back) → vrec_joined (audited vrec.joined);
 *   alive    vrec_get → vrec_ping, at least every 25 s while the call lasts
 *            (Janus drops a session idle for 60 s, and the participants);
 *   finish   vrec_get → vrec_close (room destroyed, tracks processed,
 *            sealed, hashed: the row's outcome) → vrec_end (in the
 *            transaction: stored / empty / failed, audited vrec.<state>) →
 *            after the commit vrec_discard (the spool folder removed).
 *
 * Every function returns VREC_OK or:
 *   VREC_BAD_INPUT   an argument out of range (ids, lengths);
 *   VREC_NO_CONSENT  vrec_open without a complete consent (ZE_VREC_NO_CONSENT);
 *   VREC_EXISTS      vrec_begin for a call that has a recording already;
 *   VREC_NONE        no recording of that call in the scope's bank;
 *   VREC_STATE       the recording is no longer under way (finished);
 *   VREC_MEDIA       Janus unreachable or refusing, janus-pp-rec or sealing
 *                    failed (ZE_MEDIA_UNAVAILABLE; logged with the reason);
 *   or a store status from the tenant scope.
 * vrec_ze maps them to the one error table. */
#ifndef ZHANYE_VREC_H
#define ZHANYE_VREC_H

#include "business/vrec_db.h"
#include "data/tenant.h"
#include "egress/janus.h"
#include "foundation/config.h"
#include "foundation/errcode.h"
#include "identity/kek.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

enum {
    VREC_OK = 0,
    VREC_BAD_INPUT = 40,
    VREC_NO_CONSENT,
    VREC_EXISTS,
    VREC_NONE,
    VREC_STATE,
    VREC_MEDIA,
};

#define VREC_SPOOL_MAX (PATH_MAX + 96) /* recordings_dir/spool/<bank>-<call> */

struct vrec_env {
    const struct kek *kek;
    struct janus janus;         /* [video] janus_url, janus_api_secret, janus_timeout_ms */
    const char *recordings_dir; /* [video] recordings_dir: spool/ (Janus's) and <bank>/ (sealed) */
    const char *pp_rec;         /* the janus-pp-rec program (NULL: "janus-pp-rec" on PATH) */
};

/* e from cfg's [video] section and the process's KEK (borrowed: e lives as
 * long as cfg and k). */
void vrec_env_init(struct vrec_env *e, const struct config *cfg, const struct kek *k);

/* The customer's consent to being recorded, captured before the call's
 * recording starts: who captured it (the client manager's or agent's
 * actor), when (Unix ms), and the version of the consent text shown. */
struct vrec_consent {
    const char *by;
    int64_t at_ms;
    const char *text_version;
};

struct vrec_start_req {
    const char *call_id; /* the call's id, [A-Za-z0-9_-]{1,64}, once per bank */
    const char *biz_no;  /* the business it belongs to, 1..32 characters */
    int64_t customer_id; /* > 0 */
    struct vrec_consent consent;
    const char *actor; /* who starts it, for the audit */
};

/* What a participant needs to join: the room and its pin. */
struct vrec_room {
    int64_t id;    /* the recording's id in its bank */
    uint64_t room; /* Janus's room number */
    char pin[33];
};

/* A room opened, its row not yet written. */
struct vrec_pending {
    struct vdb_row row; /* files NULL */
    char spool[VREC_SPOOL_MAX];
};

/* ---- start ----------------------------------------------------------------------- */

/* Outside any transaction: checks r, its consent (VREC_NO_CONSENT), and
 * opens the recorded room in Janus with the spool folder of (bank_id,
 * call) (VREC_MEDIA). sc: the bank, branch and teller the row records. */
int vrec_open(const struct vrec_env *e, const struct scope *sc, const struct vrec_start_req *r,
              struct vrec_pending *p);
/* In the caller's transaction on tc (the same bank): the row, state
 * recording, and the audit records; VREC_EXISTS if the call has one. */
int vrec_begin(struct tenant_conn *tc, const struct vrec_start_req *r, struct vrec_pending *p,
               struct vrec_room *out);
/* vrec_begin's transaction did not commit: the room destroyed, the spool
 * folder removed unless keep_spool (another recording of the call uses it). */
void vrec_abandon(const struct vrec_env *e, const struct vrec_pending *p, bool keep_spool);

/* ---- under way ---------------------------------------------------------------------- */

/* The call's row into row (vdb_row_free after): VREC_NONE, or VREC_STATE
 * when it is no longer recording. Reads only (a read-only scope will do). */
int vrec_get(struct tenant_conn *tc, const char *call_id, struct vdb_row *row);
/* Outside any transaction: a participant joins row's room as a publisher
 * (display: "customer", "manager", "agent", ...) with its SDP offer (ICE
 * candidates gathered, no trickle); *answer (malloc'd) is Janus's SDP
 * answer, *handle the participant's Janus handle. */
int vrec_publish(const struct vrec_env *e, const struct vdb_row *row, const char *display,
                 const char *offer_sdp, char **answer, uint64_t *handle);
/* In the caller's transaction: audits the participant's joining. */
int vrec_joined(struct tenant_conn *tc, const struct vdb_row *row, const char *display,
                uint64_t handle, const char *actor);
/* Outside any transaction: keeps row's Janus session alive. */
int vrec_ping(const struct vrec_env *e, const struct vdb_row *row);

/* ---- finish ---------------------------------------------------------------------- */

/* Outside any transaction: destroys row's room and session in Janus (a
 * Janus that is gone is logged, not fatal), processes the spool folder's
 * tracks (business/vrec_process.h) and sets row's outcome: state, ended_at,
 * duration_ms, size, sm3, files, error; *tracks the stored ones. */
int vrec_close(const struct vrec_env *e, int64_t bank_id, struct vdb_row *row, int *tracks);
/* In the caller's transaction: writes row's outcome (VREC_STATE if it was
 * finished meanwhile) and audits vrec.stored / vrec.empty / vrec.failed. */
int vrec_end(struct tenant_conn *tc, const struct vdb_row *row, int tracks, const char *actor);
/* After vrec_end's commit: the call's spool folder removed. */
void vrec_discard(const struct vrec_env *e, int64_t bank_id, const char *call_id);

/* The error-table code of a status (ZE_INTERNAL for VREC_OK). */
enum ze vrec_ze(int rc);

#endif
