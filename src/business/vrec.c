/* vrec.c — a recorded call's lifecycle in phases (see vrec.h). */
#include "business/vrec.h"

#include "business/vrec_process.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "identity/audit.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUBLISHERS 6

static bool valid_call_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool text_ok(const char *s, size_t max)
{
    return s && s[0] && strlen(s) <= max;
}

static int rand_hex(char *out, size_t nbytes)
{
    uint8_t r[32];
    if (nbytes > sizeof r || RAND_bytes(r, (int)nbytes) != 1)
        return -1;
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    return 0;
}

static uint64_t rand_room(void)
{
    uint64_t v = 0;
    if (RAND_bytes((uint8_t *)&v, sizeof v) != 1)
        return 0;
    v &= (1ULL << 53) - 1;
    return v ? v : 1;
}

static void target_of(int64_t id, char out[40])
{
    snprintf(out, 40, "vrec:%" PRId64, id);
}

void vrec_env_init(struct vrec_env *e, const struct config *cfg, const struct kek *k)
{
    *e = (struct vrec_env){.kek = k,
                           .janus = {.url = cfg->video.janus_url,
                                     .secret = cfg->video.janus_api_secret,
                                     .timeout_ms = cfg->video.janus_timeout_ms},
                           .recordings_dir = cfg->video.recordings_dir,
                           .pp_rec = NULL};
}

/* ---- start ----------------------------------------------------------------------- */

int vrec_open(const struct vrec_env *e, const struct scope *sc, const struct vrec_start_req *r,
              struct vrec_pending *p)
{
    memset(p, 0, sizeof *p);
    if (!e || !r || !sc || sc->bank_id < 1 || !valid_call_id(r->call_id) ||
        !text_ok(r->biz_no, 32) || r->customer_id < 1 || !text_ok(r->actor, 64))
        return VREC_BAD_INPUT;
    if (!text_ok(r->consent.by, 64) || r->consent.at_ms <= 0 ||
        !text_ok(r->consent.text_version, 32))
        return VREC_NO_CONSENT;
    struct vdb_row *row = &p->row;
    snprintf(row->call_id, sizeof row->call_id, "%s", r->call_id);
    snprintf(row->biz_no, sizeof row->biz_no, "%s", r->biz_no);
    snprintf(row->consent_by, sizeof row->consent_by, "%s", r->consent.by);
    snprintf(row->consent_version, sizeof row->consent_version, "%s", r->consent.text_version);
    row->consent_at = r->consent.at_ms;
    row->customer_id = r->customer_id;
    row->branch_id = sc->branch_id;
    row->teller_id = sc->teller_id;
    row->room = (int64_t)rand_room();
    if (row->room < 1 || rand_hex(row->room_pin, 8) != 0 || rand_hex(row->room_secret, 16) != 0)
        return VREC_MEDIA;
    char msg[256] = "";
    vrec_spool_dir(e->recordings_dir, sc->bank_id, r->call_id, p->spool, sizeof p->spool);
    if (vrec_mkdir(p->spool) != 0) {
        log_error("vrec.spool", "cannot create the spool folder %s: %s", p->spool, strerror(errno));
        return VREC_MEDIA;
    }
    uint64_t sid = 0, hid = 0;
    struct janus_room room = {.id = (uint64_t)row->room,
                              .pin = row->room_pin,
                              .secret = row->room_secret,
                              .rec_dir = p->spool,
                              .record = true,
                              .publishers = PUBLISHERS};
    int jr = janus_session_create(&e->janus, &sid, msg, sizeof msg);
    if (jr == JANUS_OK)
        jr = janus_attach_videoroom(&e->janus, sid, &hid, msg, sizeof msg);
    if (jr == JANUS_OK)
        jr = janus_room_create(&e->janus, sid, hid, &room, msg, sizeof msg);
    if (jr != JANUS_OK) {
        log_error("vrec.janus", "call %s: the recorded room was not created: %s", r->call_id, msg);
        if (sid)
            janus_session_destroy(&e->janus, sid, msg, sizeof msg);
        rmdir(p->spool);
        return VREC_MEDIA;
    }
    row->janus_session = (int64_t)sid;
    row->janus_handle = (int64_t)hid;
    row->started_at = clock_wall_ms();
    return VREC_OK;
}

int vrec_begin(struct tenant_conn *tc, const struct vrec_start_req *r, struct vrec_pending *p,
               struct vrec_room *out)
{
    memset(out, 0, sizeof *out);
    struct vdb_row old;
    int rc = vdb_get_call(tc, r->call_id, &old);
    vdb_row_free(&old);
    if (rc == VDB_OK)
        return VREC_EXISTS;
    if (rc != VDB_NONE)
        return rc;
    if ((rc = vdb_insert(tc, &p->row)) != VDB_OK)
        return rc;
    char target[40];
    target_of(p->row.id, target);
    rc = audit_tenantf(tc, r->actor, "vrec.consented", target, "{s:s, s:s, s:I, s:s, s:I, s:s}",
                       "call_id", r->call_id, "biz_no", r->biz_no, "customer_id",
                       (json_int_t)r->customer_id, "by", r->consent.by, "at",
                       (json_int_t)r->consent.at_ms, "text_version", r->consent.text_version);
    if (rc == ID_OK)
        rc = audit_tenantf(tc, r->actor, "vrec.started", target, "{s:s, s:I}", "call_id",
                           r->call_id, "room", (json_int_t)p->row.room);
    if (rc != ID_OK)
        return rc;
    out->id = p->row.id;
    out->room = (uint64_t)p->row.room;
    snprintf(out->pin, sizeof out->pin, "%s", p->row.room_pin);
    return VREC_OK;
}

void vrec_abandon(const struct vrec_env *e, const struct vrec_pending *p, bool keep_spool)
{
    char msg[256] = "";
    uint64_t sid = (uint64_t)p->row.janus_session;
    if (sid) {
        janus_room_destroy(&e->janus, sid, (uint64_t)p->row.janus_handle, (uint64_t)p->row.room,
                           p->row.room_secret, msg, sizeof msg);
        janus_session_destroy(&e->janus, sid, msg, sizeof msg);
    }
    if (!keep_spool && p->spool[0])
        rmdir(p->spool);
}

/* ---- under way ---------------------------------------------------------------------- */

int vrec_get(struct tenant_conn *tc, const char *call_id, struct vdb_row *row)
{
    memset(row, 0, sizeof *row);
    if (!valid_call_id(call_id))
        return VREC_BAD_INPUT;
    int rc = vdb_get_call(tc, call_id, row);
    if (rc == VDB_NONE)
        return VREC_NONE;
    if (rc != VDB_OK)
        return rc;
    if (strcmp(row->state, VDB_RECORDING) != 0) {
        vdb_row_free(row);
        return VREC_STATE;
    }
    return VREC_OK;
}

int vrec_publish(const struct vrec_env *e, const struct vdb_row *row, const char *display,
                 const char *offer_sdp, char **answer, uint64_t *handle)
{
    *answer = NULL;
    *handle = 0;
    if (!text_ok(display, 64) || !offer_sdp || !offer_sdp[0])
        return VREC_BAD_INPUT;
    char msg[256] = "";
    int jr = janus_publish(&e->janus, (uint64_t)row->janus_session, (uint64_t)row->room,
                           row->room_pin, display, offer_sdp, handle, answer, msg, sizeof msg);
    if (jr != JANUS_OK) {
        log_error("vrec.janus", "call %s: a participant could not join: %s", row->call_id, msg);
        free(*answer);
        *answer = NULL;
        return VREC_MEDIA;
    }
    return VREC_OK;
}

int vrec_joined(struct tenant_conn *tc, const struct vdb_row *row, const char *display,
                uint64_t handle, const char *actor)
{
    char target[40];
    target_of(row->id, target);
    int rc = audit_tenantf(tc, actor, "vrec.joined", target, "{s:s, s:s, s:I}", "call_id",
                           row->call_id, "display", display, "handle", (json_int_t)handle);
    return rc == ID_OK ? VREC_OK : rc;
}

int vrec_ping(const struct vrec_env *e, const struct vdb_row *row)
{
    char msg[256] = "";
    if (janus_keepalive(&e->janus, (uint64_t)row->janus_session, msg, sizeof msg) != JANUS_OK) {
        log_warn("vrec.janus", "call %s: keepalive: %s", row->call_id, msg);
        return VREC_MEDIA;
    }
    return VREC_OK;
}

/* ---- finish ---------------------------------------------------------------------- */

int vrec_close(const struct vrec_env *e, int64_t bank_id, struct vdb_row *row, int *tracks)
{
    char msg[256] = "", spool[VREC_SPOOL_MAX];
    uint64_t sid = (uint64_t)row->janus_session;
    *tracks = 0;
    int jr = janus_room_destroy(&e->janus, sid, (uint64_t)row->janus_handle, (uint64_t)row->room,
                                row->room_secret, msg, sizeof msg);
    if (jr != JANUS_OK)
        log_warn("vrec.janus", "call %s: closing the room: %s", row->call_id, msg);
    janus_session_destroy(&e->janus, sid, msg, sizeof msg);
    /* Janus closes each recorder as its publisher goes: give it a moment */
    usleep(300 * 1000);
    vrec_spool_dir(e->recordings_dir, bank_id, row->call_id, spool, sizeof spool);
    row->ended_at = clock_wall_ms();
    row->duration_ms = row->ended_at > row->started_at ? row->ended_at - row->started_at : 0;
    vrec_process(e, bank_id, spool, row, tracks);
    return row->files ? VREC_OK : STORE_NOMEM;
}

int vrec_end(struct tenant_conn *tc, const struct vdb_row *row, int tracks, const char *actor)
{
    int rc = vdb_finish(tc, row);
    if (rc == VDB_NONE)
        return VREC_STATE;
    if (rc != VDB_OK)
        return rc;
    char target[40], event[24];
    target_of(row->id, target);
    snprintf(event, sizeof event, "vrec.%s", row->state);
    rc = audit_tenantf(tc, actor, event, target, "{s:s, s:s, s:s, s:i, s:I, s:I, s:s}", "call_id",
                       row->call_id, "biz_no", row->biz_no, "sm3", row->sm3, "tracks", tracks,
                       "size", (json_int_t)row->size, "duration_ms", (json_int_t)row->duration_ms,
                       "error", row->error);
    return rc == ID_OK ? VREC_OK : rc;
}

void vrec_discard(const struct vrec_env *e, int64_t bank_id, const char *call_id)
{
    char spool[VREC_SPOOL_MAX];
    if (!valid_call_id(call_id))
        return;
    vrec_spool_dir(e->recordings_dir, bank_id, call_id, spool, sizeof spool);
    vrec_rmdir(spool);
}

enum ze vrec_ze(int rc)
{
    switch (rc) {
    case VREC_BAD_INPUT:
        return ZE_BAD_REQUEST;
    case VREC_NO_CONSENT:
        return ZE_VREC_NO_CONSENT;
    case VREC_EXISTS:
        return ZE_EXISTS;
    case VREC_NONE:
        return ZE_NOT_FOUND;
    case VREC_STATE:
        return ZE_CONFLICT;
    case VREC_MEDIA:
        return ZE_MEDIA_UNAVAILABLE;
    case STORE_BUSY:
        return ZE_UNAVAILABLE;
    default:
        return ZE_INTERNAL;
    }
}
