/* janus — a client of the Janus WebRTC server's HTTP API (the VideoRoom
 * plugin), for the recording of video calls (business/vrec.h).
 *
 * Janus runs beside zhanye, started by zhanye's scripts with a config of its
 * own (scripts/janus-run.sh): the plain HTTP transport on loopback, every
 * request carrying the API secret (`[video] janus_api_secret`). Each call
 * here is one blocking HTTP request with libcurl (an easy handle per call:
 * these are a few requests per video call, not the egress gateway's
 * traffic), bounded by timeout_ms; none holds a database connection, so the
 * callers run them outside any transaction.
 *
 * Every function returns a JANUS_* status and, on failure, fills msg (one
 * line, English, for the log; never a secret). janus_ze maps a status to
 * the one error table (foundation/errcode.h). */
#ifndef ZHANYE_EGRESS_JANUS_H
#define ZHANYE_EGRESS_JANUS_H

#include "foundation/errcode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum janus_rc {
    JANUS_OK = 0,
    JANUS_UNREACHABLE, /* no connection, or no complete HTTP answer */
    JANUS_TIMEOUT,     /* no answer within timeout_ms */
    JANUS_REFUSED,     /* Janus (or the plugin) answered an error: msg has its code and reason */
    JANUS_BAD_REPLY,   /* an answer that is not what the API documents */
    JANUS_BAD_INPUT,   /* an argument out of range (an empty url, a NULL) */
};

struct janus {
    const char *url;    /* http://127.0.0.1:PORT/janus */
    const char *secret; /* the api_secret, or "" / NULL for none */
    int timeout_ms;     /* each request's deadline (a long poll: its own wait plus this) */
};

/* A VideoRoom room as created here: recorded into rec_dir, private, a pin
 * to join and a secret to edit or destroy it. */
struct janus_room {
    uint64_t id;        /* 1..2^53-1 */
    const char *pin;    /* what a participant gives to join ("" none) */
    const char *secret; /* what destroying it takes */
    const char *rec_dir;
    bool record;
    int publishers; /* at most this many publishers at once */
};

/* A new session into *sid. */
int janus_session_create(const struct janus *j, uint64_t *sid, char *msg, size_t cap);
/* Keeps the session alive (Janus drops one idle for its session_timeout, 60 s). */
int janus_keepalive(const struct janus *j, uint64_t sid, char *msg, size_t cap);
/* Destroys the session and every handle in it. */
int janus_session_destroy(const struct janus *j, uint64_t sid, char *msg, size_t cap);
/* A handle on the VideoRoom plugin into *hid. */
int janus_attach_videoroom(const struct janus *j, uint64_t sid, uint64_t *hid, char *msg,
                           size_t cap);
/* Creates room r (not permanent: gone when Janus stops). JANUS_REFUSED if it exists. */
int janus_room_create(const struct janus *j, uint64_t sid, uint64_t hid, const struct janus_room *r,
                      char *msg, size_t cap);
/* Whether room exists into *exists. */
int janus_room_exists(const struct janus *j, uint64_t sid, uint64_t hid, uint64_t room,
                      bool *exists, char *msg, size_t cap);
/* Destroys room (its participants are kicked, their recordings closed). */
int janus_room_destroy(const struct janus *j, uint64_t sid, uint64_t hid, uint64_t room,
                       const char *secret, char *msg, size_t cap);
/* Joins room as a publisher on a new handle of session sid and sends the
 * browser's SDP offer (with its ICE candidates gathered: no trickle);
 * waits on the session's event stream for the VideoRoom's "joined" event
 * and returns its SDP answer in *answer (malloc'd) and the handle in *hid.
 * The peer's media then flows to Janus directly (ICE, DTLS-SRTP). */
int janus_publish(const struct janus *j, uint64_t sid, uint64_t room, const char *pin,
                  const char *display, const char *offer_sdp, uint64_t *hid, char **answer,
                  char *msg, size_t cap);

/* The error-table code of a status: ZE_INTERNAL for JANUS_OK and
 * JANUS_BAD_INPUT, ZE_MEDIA_UNAVAILABLE for the others. */
enum ze janus_ze(int rc);

#endif
