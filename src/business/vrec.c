/* vrec.c — a recorded call's lifecycle (see vrec.h). */
#include "business/vrec.h"

#include "business/vrec_db.h"
#include "business/vrec_seal.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "identity/audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define PUBLISHERS 6
#define SPOOL_MAX (PATH_MAX + 96)  /* recordings_dir/spool/<bank>-<call> */
#define FILE_MAX (SPOOL_MAX + 320) /* a file in it, or recordings_dir/<rel> */
#define MAX_TRACKS 16

enum { MOVING = 90 }; /* positive: store_run rolls back */

/* ---- helpers ----------------------------------------------------------- */

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

static void spool_dir(const struct vrec_env *e, int64_t bank, const char *call_id, char *out,
                      size_t cap)
{
    snprintf(out, cap, "%s/spool/%" PRId64 "-%s", e->recordings_dir, bank, call_id);
}

static int mkdir_p(const char *path)
{
    char tmp[FILE_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* Removes every file of dir and dir itself. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[FILE_MAX];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < (int)sizeof p)
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

struct bank_txn {
    const struct scope *sc;
    int (*fn)(struct tenant_conn *tc, void *arg);
    void *arg;
};

static int bank_cb(struct store_conn *c, void *arg)
{
    struct bank_txn *x = arg;
    int rc = shard_fence(c, x->sc->bank_id);
    if (rc == SHARD_MOVING || rc == SHARD_GONE)
        return MOVING;
    if (rc != SHARD_HERE)
        return rc;
    struct tenant_conn *tc = NULL;
    rc = tenant_open(c, x->sc, &tc);
    if (rc == STORE_OK)
        rc = x->fn(tc, x->arg);
    tenant_close(tc);
    return rc;
}

/* fn in one transaction on the bank's shard. */
static int on_bank(struct shards *sh, const struct scope *sc, const char *name,
                   int (*fn)(struct tenant_conn *tc, void *arg), void *arg)
{
    struct bank_txn x = {sc, fn, arg};
    struct store *st = shards_route(sh, sc->bank_id, NULL);
    struct store_conn *c = NULL;
    if (!st)
        return STORE_ERR;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, name, bank_cb, &x);
    if (c)
        store_release(c);
    return rc == MOVING ? STORE_BUSY : rc;
}

struct get {
    const char *call_id;
    struct vdb_row *row;
};

static int get_txn(struct tenant_conn *tc, void *arg)
{
    struct get *g = arg;
    int rc = vdb_get_call(tc, g->call_id, g->row);
    return rc == VDB_NONE ? VREC_NONE : rc;
}

/* The call's row, which must be recording. */
static int recording_row(struct shards *sh, const struct scope *sc, const char *call_id,
                         struct vdb_row *row)
{
    memset(row, 0, sizeof *row);
    if (!valid_call_id(call_id) || !sc || sc->bank_id < 1)
        return VREC_BAD_INPUT;
    struct get g = {call_id, row};
    int rc = on_bank(sh, sc, "vrec.get", get_txn, &g);
    if (rc == VREC_OK && strcmp(row->state, VDB_RECORDING) != 0)
        rc = VREC_STATE;
    if (rc != VREC_OK)
        vdb_row_free(row);
    return rc;
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

/* ---- start ----------------------------------------------------------- */

struct start {
    const struct vrec_start_req *r;
    struct vdb_row *row;
};

static int start_txn(struct tenant_conn *tc, void *arg)
{
    struct start *s = arg;
    struct vdb_row old;
    int rc = vdb_get_call(tc, s->r->call_id, &old);
    vdb_row_free(&old);
    if (rc == VDB_OK)
        return VREC_EXISTS;
    if (rc != VDB_NONE)
        return rc;
    if ((rc = vdb_insert(tc, s->row)) != VDB_OK)
        return rc;
    char target[40];
    snprintf(target, sizeof target, "vrec:%" PRId64, s->row->id);
    rc = audit_tenantf(tc, s->r->actor, "vrec.consented", target, "{s:s, s:s, s:I, s:s, s:I, s:s}",
                       "call_id", s->r->call_id, "biz_no", s->r->biz_no, "customer_id",
                       (json_int_t)s->r->customer_id, "by", s->r->consent.by, "at",
                       (json_int_t)s->r->consent.at_ms, "text_version", s->r->consent.text_version);
    if (rc == ID_OK)
        rc = audit_tenantf(tc, s->r->actor, "vrec.started", target, "{s:s, s:I}", "call_id",
                           s->r->call_id, "room", (json_int_t)s->row->room);
    return rc == ID_OK ? VREC_OK : rc;
}

int vrec_start(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
               const struct vrec_start_req *r, struct vrec_room *out)
{
    memset(out, 0, sizeof *out);
    if (!e || !r || !sc || sc->bank_id < 1 || !valid_call_id(r->call_id) ||
        !text_ok(r->biz_no, 32) || r->customer_id < 1 || !text_ok(r->actor, 64))
        return VREC_BAD_INPUT;
    if (!text_ok(r->consent.by, 64) || r->consent.at_ms <= 0 ||
        !text_ok(r->consent.text_version, 32))
        return VREC_NO_CONSENT;
    struct vdb_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.call_id, sizeof row.call_id, "%s", r->call_id);
    snprintf(row.biz_no, sizeof row.biz_no, "%s", r->biz_no);
    snprintf(row.consent_by, sizeof row.consent_by, "%s", r->consent.by);
    snprintf(row.consent_version, sizeof row.consent_version, "%s", r->consent.text_version);
    row.consent_at = r->consent.at_ms;
    row.customer_id = r->customer_id;
    row.branch_id = sc->branch_id;
    row.teller_id = sc->teller_id;
    row.room = (int64_t)rand_room();
    if (row.room < 1 || rand_hex(row.room_pin, 8) != 0 || rand_hex(row.room_secret, 16) != 0)
        return VREC_MEDIA;
    char spool[SPOOL_MAX], msg[256] = "";
    spool_dir(e, sc->bank_id, r->call_id, spool, sizeof spool);
    if (mkdir_p(spool) != 0) {
        log_error("vrec.spool", "cannot create the spool folder %s: %s", spool, strerror(errno));
        return VREC_MEDIA;
    }
    uint64_t sid = 0, hid = 0;
    struct janus_room room = {.id = (uint64_t)row.room,
                              .pin = row.room_pin,
                              .secret = row.room_secret,
                              .rec_dir = spool,
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
        rmdir(spool);
        return VREC_MEDIA;
    }
    row.janus_session = (int64_t)sid;
    row.janus_handle = (int64_t)hid;
    row.started_at = clock_wall_ms();
    struct start s = {r, &row};
    int rc = on_bank(sh, sc, "vrec.start", start_txn, &s);
    if (rc != VREC_OK) {
        janus_room_destroy(&e->janus, sid, hid, (uint64_t)row.room, row.room_secret, msg,
                           sizeof msg);
        janus_session_destroy(&e->janus, sid, msg, sizeof msg);
        if (rc != VREC_EXISTS)
            rmdir(spool);
        return rc;
    }
    out->id = row.id;
    out->room = (uint64_t)row.room;
    snprintf(out->pin, sizeof out->pin, "%s", row.room_pin);
    log_info("vrec.started", "call %s: recording %" PRId64 " in room %" PRId64, r->call_id, row.id,
             row.room);
    return VREC_OK;
}

/* ---- join, keepalive ------------------------------------------------------ */

struct joined {
    int64_t id;
    const char *actor, *display;
    uint64_t hid;
};

static int join_txn(struct tenant_conn *tc, void *arg)
{
    struct joined *j = arg;
    char target[40];
    snprintf(target, sizeof target, "vrec:%" PRId64, j->id);
    int rc = audit_tenantf(tc, j->actor, "vrec.joined", target, "{s:s, s:I}", "display", j->display,
                           "handle", (json_int_t)j->hid);
    return rc == ID_OK ? VREC_OK : rc;
}

int vrec_join(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
              const char *call_id, const char *display, const char *offer_sdp, char **answer,
              const char *actor)
{
    *answer = NULL;
    if (!text_ok(display, 64) || !offer_sdp || !offer_sdp[0] || !text_ok(actor, 64))
        return VREC_BAD_INPUT;
    struct vdb_row row;
    int rc = recording_row(sh, sc, call_id, &row);
    if (rc != VREC_OK)
        return rc;
    char msg[256] = "";
    uint64_t hid = 0;
    int jr = janus_publish(&e->janus, (uint64_t)row.janus_session, (uint64_t)row.room, row.room_pin,
                           display, offer_sdp, &hid, answer, msg, sizeof msg);
    if (jr != JANUS_OK) {
        log_error("vrec.janus", "call %s: a participant could not join: %s", call_id, msg);
        vdb_row_free(&row);
        return VREC_MEDIA;
    }
    struct joined j = {row.id, actor, display, hid};
    rc = on_bank(sh, sc, "vrec.join", join_txn, &j);
    vdb_row_free(&row);
    if (rc != VREC_OK) {
        free(*answer);
        *answer = NULL;
    }
    return rc;
}

int vrec_keepalive(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                   const char *call_id)
{
    struct vdb_row row;
    int rc = recording_row(sh, sc, call_id, &row);
    if (rc != VREC_OK)
        return rc;
    char msg[256] = "";
    int jr = janus_keepalive(&e->janus, (uint64_t)row.janus_session, msg, sizeof msg);
    vdb_row_free(&row);
    if (jr != JANUS_OK) {
        log_warn("vrec.janus", "call %s: keepalive: %s", call_id, msg);
        return VREC_MEDIA;
    }
    return VREC_OK;
}

/* ---- finish ------------------------------------------------------------ */

struct track {
    char name[256]; /* the .mjr file */
    bool audio;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct track *)a)->name, ((const struct track *)b)->name);
}

/* The .mjr files of spool, audio and video only, by name. */
static int list_tracks(const char *spool, struct track *t, int max)
{
    DIR *d = opendir(spool);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < max) {
        size_t len = strlen(de->d_name);
        if (len < 5 || len >= sizeof t[n].name || strcmp(de->d_name + len - 4, ".mjr") != 0)
            continue;
        bool audio = strstr(de->d_name, "-audio") != NULL;
        if (!audio && !strstr(de->d_name, "-video"))
            continue;
        snprintf(t[n].name, sizeof t[n].name, "%s", de->d_name);
        t[n].audio = audio;
        n++;
    }
    closedir(d);
    qsort(t, (size_t)n, sizeof *t, by_name);
    return n;
}

/* janus-pp-rec src dst; 0 when it exits 0 and dst is not empty. */
static int pp_rec(const struct vrec_env *e, const char *src, const char *dst)
{
    const char *prog = e->pp_rec && e->pp_rec[0] ? e->pp_rec : "janus-pp-rec";
    char *argv[] = {(char *)prog, "-o", "-d", "1", (char *)src, (char *)dst, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        log_error("vrec.pp_rec", "cannot run %s: %s", prog, strerror(rc));
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct stat st;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || stat(dst, &st) != 0 || st.st_size < 1) {
        log_error("vrec.pp_rec", "%s failed on %s", prog, src);
        return -1;
    }
    return 0;
}

struct finish {
    struct vdb_row *row;
    const char *actor;
    int tracks;
};

static int finish_txn(struct tenant_conn *tc, void *arg)
{
    struct finish *f = arg;
    int rc = vdb_finish(tc, f->row);
    if (rc == VDB_NONE)
        return VREC_STATE;
    if (rc != VDB_OK)
        return rc;
    char target[40], event[24];
    snprintf(target, sizeof target, "vrec:%" PRId64, f->row->id);
    snprintf(event, sizeof event, "vrec.%s", f->row->state);
    rc = audit_tenantf(tc, f->actor, event, target, "{s:s, s:s, s:s, s:i, s:I, s:I, s:s}",
                       "call_id", f->row->call_id, "biz_no", f->row->biz_no, "sm3", f->row->sm3,
                       "tracks", f->tracks, "size", (json_int_t)f->row->size, "duration_ms",
                       (json_int_t)f->row->duration_ms, "error", f->row->error);
    return rc == ID_OK ? VREC_OK : rc;
}

/* Processes, seals and hashes the tracks of spool into row (files, sm3,
 * size, state, error). */
static void process(const struct vrec_env *e, const struct scope *sc, const char *spool,
                    struct vdb_row *row, int *ntracks)
{
    struct track t[MAX_TRACKS];
    int n = list_tracks(spool, t, MAX_TRACKS);
    char bankdir[PATH_MAX + 32];
    snprintf(bankdir, sizeof bankdir, "%s/%" PRId64, e->recordings_dir, sc->bank_id);
    json_t *files = json_array();
    char *manifest = NULL;
    size_t mlen = 0;
    FILE *mf = open_memstream(&manifest, &mlen);
    int done = 0;
    bool failed = !files || !mf || (n > 0 && mkdir_p(bankdir) != 0);
    for (int i = 0; i < n && !failed; i++) {
        char src[FILE_MAX], clear[FILE_MAX], dst[FILE_MAX], rel[256], ctx[128], sm3[65],
            msg[FILE_MAX + 64];
        const char *ext = t[i].audio ? "opus" : "webm";
        int64_t size = 0;
        snprintf(rel, sizeof rel, "%" PRId64 "/%" PRId64 "-%d.%s.zyv", sc->bank_id, row->id, done,
                 ext);
        snprintf(ctx, sizeof ctx, "vrec|%" PRId64 "|%" PRId64 "|%d", sc->bank_id, row->id, done);
        if (snprintf(src, sizeof src, "%s/%s", spool, t[i].name) >= (int)sizeof src ||
            snprintf(clear, sizeof clear, "%s/track-%d.%s", spool, done, ext) >=
                (int)sizeof clear ||
            snprintf(dst, sizeof dst, "%s/%s", e->recordings_dir, rel) >= (int)sizeof dst) {
            snprintf(row->error, sizeof row->error, "path");
            failed = true;
            break;
        }
        if (pp_rec(e, src, clear) != 0) {
            /* a track with no media decodable (e.g. a publisher that left at once) is skipped */
            unlink(clear);
            continue;
        }
        if (vrec_seal_file(e->kek, ctx, clear, dst, sm3, &size, msg, sizeof msg) != 0) {
            log_error("vrec.seal", "recording %" PRId64 ": %s", row->id, msg);
            snprintf(row->error, sizeof row->error, "seal");
            failed = true;
        } else {
            json_array_append_new(files, json_pack("{s:i, s:s, s:s, s:s, s:I, s:s}", "n", done,
                                                   "kind", t[i].audio ? "audio" : "video", "mime",
                                                   t[i].audio ? "audio/ogg" : "video/webm", "sm3",
                                                   sm3, "size", (json_int_t)size, "path", rel));
            fprintf(mf, "%s %s %" PRId64 "\n", t[i].audio ? "audio" : "video", sm3, size);
            row->size += size;
            done++;
        }
        unlink(clear);
    }
    if (mf)
        fclose(mf);
    if (!failed && done > 0) {
        uint8_t dig[32];
        unsigned dl = 0;
        if (EVP_Digest(manifest, mlen, dig, &dl, EVP_sm3(), NULL) == 1 && dl == 32) {
            for (int i = 0; i < 32; i++)
                snprintf(row->sm3 + 2 * i, 3, "%02x", dig[i]);
        } else {
            failed = true;
            snprintf(row->error, sizeof row->error, "hash");
        }
    }
    free(manifest);
    snprintf(row->state, sizeof row->state, "%s",
             failed ? VDB_FAILED : (done > 0 ? VDB_STORED : VDB_EMPTY));
    if (failed && !row->error[0])
        snprintf(row->error, sizeof row->error, "process");
    if (failed) {
        /* sealed tracks of a failed recording are not kept half */
        size_t i;
        json_t *f;
        json_array_foreach(files, i, f)
        {
            char p[FILE_MAX];
            snprintf(p, sizeof p, "%s/%s", e->recordings_dir,
                     json_string_value(json_object_get(f, "path")));
            unlink(p);
        }
        json_array_clear(files);
        row->size = 0;
        row->sm3[0] = 0;
        done = 0;
    }
    free(row->files);
    row->files = files ? json_dumps(files, JSON_COMPACT) : NULL;
    json_decref(files);
    *ntracks = done;
}

int vrec_finish(const struct vrec_env *e, struct shards *sh, const struct scope *sc,
                const char *call_id, const char *actor, struct vrec_result *out)
{
    memset(out, 0, sizeof *out);
    if (!text_ok(actor, 64))
        return VREC_BAD_INPUT;
    struct vdb_row row;
    int rc = recording_row(sh, sc, call_id, &row);
    if (rc != VREC_OK)
        return rc;
    char msg[256] = "", spool[SPOOL_MAX];
    uint64_t sid = (uint64_t)row.janus_session;
    int jr = janus_room_destroy(&e->janus, sid, (uint64_t)row.janus_handle, (uint64_t)row.room,
                                row.room_secret, msg, sizeof msg);
    if (jr != JANUS_OK)
        log_warn("vrec.janus", "call %s: closing the room: %s", call_id, msg);
    janus_session_destroy(&e->janus, sid, msg, sizeof msg);
    /* Janus closes each recorder as its publisher goes: give it a moment */
    usleep(300 * 1000);
    spool_dir(e, sc->bank_id, call_id, spool, sizeof spool);
    row.ended_at = clock_wall_ms();
    row.duration_ms = row.ended_at > row.started_at ? row.ended_at - row.started_at : 0;
    int tracks = 0;
    process(e, sc, spool, &row, &tracks);
    if (!row.files) {
        vdb_row_free(&row);
        return STORE_NOMEM;
    }
    struct finish f = {&row, actor, tracks};
    rc = on_bank(sh, sc, "vrec.finish", finish_txn, &f);
    if (rc == VREC_OK) {
        remove_dir(spool);
        out->id = row.id;
        snprintf(out->state, sizeof out->state, "%s", row.state);
        snprintf(out->sm3, sizeof out->sm3, "%s", row.sm3);
        out->size = row.size;
        out->duration_ms = row.duration_ms;
        out->tracks = tracks;
        log_info("vrec.finished", "call %s: recording %" PRId64 " %s, %d tracks", call_id, row.id,
                 row.state, tracks);
    }
    vdb_row_free(&row);
    if (rc == VREC_OK && strcmp(out->state, VDB_FAILED) == 0)
        return VREC_MEDIA;
    return rc;
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
