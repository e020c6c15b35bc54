/* vrec — recorded video calls (双录): the lifecycle of one call's
 * recording, from the customer's consent to sealed, hashed files.
 *
 * The recording is made by Janus (egress/janus.h), the VideoRoom plugin
 * with `record: true`: every participant of the call publishes into one
 * private room; Janus writes each one's audio and video as .mjr files into
 * the room's spool folder; at the end janus-pp-rec turns them into
 * playable files (video → WebM (VP8), audio → Opus in Ogg; the Debian
 * version cannot mux both into one file), each is hashed (SM3) and sealed
 * at rest with the KEK (business/vrec_seal.h), and the clear files are
 * deleted. The recording's hash (`sm3`) is SM3 over its manifest, one line
 * "<kind> <sm3> <size>\n" per track in order; each track keeps its own.
 *
 * The call side uses, in this order (each call blocks for a few Janus
 * requests; none may run inside a database transaction: each runs its own,
 * on the bank's shard, with the shard's fence, and audits there):
 *   vrec_start      once per recorded call, after the customer consented:
 *                   the room and the row (state recording); audited
 *                   vrec.consented and vrec.started;
 *   vrec_join       once per participant (browser): its SDP offer (ICE
 *                   candidates gathered, no trickle) in, Janus's SDP answer
 *                   out; the browser then sends its media to Janus;
 *                   audited vrec.joined;
 *   vrec_keepalive  at least every 25 s while the call lasts (Janus drops
 *                   a session idle for 60 s, and the participants with it);
 *   vrec_finish     once, when the call ended: the room closed, the tracks
 *                   processed, sealed and stored; audited vrec.stored (or
 *                   vrec.empty: nothing reached Janus; vrec.failed).
 *
 * Every function returns VREC_OK or:
 *   VREC_BAD_INPUT   an argument out of range (ids, lengths);
 *   VREC_NO_CONSENT  vrec_start without a complete consent (ZE_VREC_NO_CONSENT);
 *   VREC_EXISTS      vrec_start for a call that has a recording already;
 *   VREC_NONE        no recording of that call in the scope's bank;
 *   VREC_STATE       the recording is no longer under way (finished);
 *   VREC_MEDIA       Janus unreachable or refusing, janus-pp-rec or sealing
 *                    failed (ZE_MEDIA_UNAVAILABLE; logged with the reason);
 *   or a store status (STORE_BUSY: 503 unavailable; the bank moving is
 *   STORE_BUSY too).
 * vrec_ze maps them to the one error table. */
#ifndef ZHANYE_VREC_H
#define ZHANYE_VREC_H

#include "data/shard.h"
#include "data/tenant.h"
#include "egress/janus.h"
#include "foundation/config.h"
#include "foundation/errcode.h"
#include "identity/kek.h"

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

/* The outcome of vrec_finish. */
struct vrec_result {
    int64_t id;
    char state[12]; /* stored, empty or failed */
    char sm3[65];   /* the recording's hash ("" unless stored) */
    int64_t size, duration_ms;
    int tracks;
};

/* sc: the bank (and the branch and teller the recording is made in: the
 * row keeps sc->branch_id and sc->teller_id). */
int vrec_start(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
               const struct vrec_start_req *r, struct vrec_room *out);
/* *answer: malloc'd SDP; display: the participant's name in the room
 * (e.g. "customer", "manager", "agent"), recorded in the track names. */
int vrec_join(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
              const char *call_id, const char *display, const char *offer_sdp, char **answer,
              const char *actor);
int vrec_keepalive(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                   const char *call_id);
int vrec_finish(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                const char *call_id, const char *actor, struct vrec_result *out);

/* The error-table code of a status (ZE_INTERNAL for VREC_OK). */
enum ze vrec_ze(int rc);

#endif
