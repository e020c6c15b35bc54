/* video_turn — time-limited TURN credentials for a video call, in the
 * TURN REST API scheme that coturn implements with `use-auth-secret` and
 * `static-auth-secret` (docs/architecture.md "Remote video"):
 *
 *   username   = "<expiry as Unix seconds>:<who>"   (who: "t<teller id>")
 *   credential = base64(HMAC-SHA1(secret, username))
 *
 * coturn recomputes the credential from the username and its copy of the
 * secret and refuses a username whose expiry has passed. SHA-1 here is
 * coturn's scheme, not a choice of ours (nothing else of zhanye uses it).
 *
 * The secret is a file (default keys/turn.secret, mode 0600, 64 hex
 * characters of random) created when missing, like the other keys; the
 * same value goes in turnserver.conf as static-auth-secret. It is never
 * logged and wiped after use. */
#ifndef ZHANYE_VIDEO_TURN_H
#define ZHANYE_VIDEO_TURN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIDEO_SECRET_MAX 128
#define VIDEO_URLS_MAX 512
#define VIDEO_USER_MAX 64
#define VIDEO_CRED_MAX 32 /* base64 of 20 bytes: 28 characters */

/* What the video transactions and endpoints need (struct tx_env video). */
struct video_env {
    char secret[VIDEO_SECRET_MAX + 1]; /* "" : no TURN (ice_servers is then []) */
    char urls[VIDEO_URLS_MAX + 1];     /* comma-separated turn:/stun: URLs */
    int ttl_s;                         /* credential lifetime */
    int window_s;                      /* reconnect window (video_call.h) */
};

enum { VT_OK = 0, VT_EXISTS = 1, VT_ERR = -1 };

/* Creates the secret file (32 random bytes as hex, 0600) when missing.
 * VT_OK created, VT_EXISTS already there, VT_ERR. */
int video_secret_create(const char *path);
/* Reads the secret file (a regular file, no group/other access, one line
 * of 16..VIDEO_SECRET_MAX printable characters). VT_OK or VT_ERR. */
int video_secret_load(const char *path, char out[VIDEO_SECRET_MAX + 1]);

/* The credential of who at now_s for ttl_s seconds: user gets
 * "<now_s+ttl_s>:<who>", cred the base64 HMAC-SHA1. VT_OK, or VT_ERR (an
 * empty secret, a who that does not fit or holds ':'). */
int video_turn_cred(const char *secret, const char *who, int64_t now_s, int ttl_s,
                    char user[VIDEO_USER_MAX + 1], char cred[VIDEO_CRED_MAX + 1]);

/* The RTCPeerConnection iceServers for who: [{"urls":[...],"username",
 * "credential"}] for the configured URLs (turn: and turns: ones get the
 * credential; stun: ones are listed apart without it); [] when none are
 * configured. NULL on failure. */
json_t *video_ice_servers(const struct video_env *env, const char *who, int64_t now_s);

#endif
