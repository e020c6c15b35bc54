/* The recorded calls (双录) in the console (docs/api.md §2.3, docs/console.md
 * "双录记录"):
 *
 *   GET /api/v1/admin/recordings?bank=&before=
 *     -> 200 {"recordings": [{"bank", "id", "call_id", "biz_no",
 *             "customer_id", "customer" (the name, masked), "state",
 *             "consent": {"by", "at", "text_version"}, "started_at",
 *             "ended_at", "duration_ms", "size", "sm3", "branch",
 *             "tracks": [{"n", "kind", "mime", "sm3", "size"}]}]}
 *     newest first, at most 100 per bank; a province admin without ?bank=
 *     gets every bank's.
 *   GET /api/v1/admin/recordings/play?bank=&id=&track=
 *     -> 200 (or 206 with a Range) the track, decrypted as it is read:
 *        video/webm or audio/ogg; `Accept-Ranges: bytes`; one range
 *        `bytes=A-B` / `bytes=A-` (at most 4 MiB answered at once, the
 *        Content-Range says which), a whole answer of at most 4 MiB without
 *        one (else 206 from byte 0). 416 range_not_satisfiable for a range
 *        past the end.
 *     Audited vrec.viewed in the bank's shard (target vrec:<id>, detail
 *     {"found", "track", "range", "channel":"console"}) before a byte leaves.
 *
 * Roles: bank_admin (their bank) and province_admin (any bank); the video
 * agents' role (issue 17) joins when it exists. Others: 403 forbidden. A
 * recording of another bank, a missing one, one not stored or a missing
 * track: 404 not_found. */
#include "app/app.h"
#include "business/customer_db.h"
#include "business/vrec.h"
#include "business/vrec_db.h"
#include "business/vrec_seal.h"
#include "channel/zy1.h"
#include "foundation/mask.h"
#include "foundation/secmem.h"
#include "http/admin_bank.h"
#include "http/handlers.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_BANK 100
#define PART_MAX (4 << 20)

static bool may_see(struct admin_req *ar)
{
    if (ar->who.role == ROLE_BANK_ADMIN || ar->who.role == ROLE_PROVINCE_ADMIN)
        return true;
    admin_forbidden(ar);
    return false;
}

/* ---- list -------------------------------------------------------------------- */

struct list {
    struct admin_req *ar;
    struct tenant_conn *tc;
    const char *bank;
    int64_t before;
    json_t *rows;
};

/* The customer's name, masked, into out ("" when it cannot be read). */
static void customer_masked(struct list *l, int64_t id, char *out, size_t cap)
{
    json_t *rec = NULL;
    out[0] = 0;
    if (cdb_load(l->tc, &l->ar->app->kek, id, &rec) != CDB_OK)
        return;
    const char *name = json_string_value(json_object_get(rec, "name"));
    if (!name || mask_name(name, out, cap) < 0)
        out[0] = 0;
    zy1_json_wipe(rec);
    json_decref(rec);
}

/* The tracks without their paths. */
static json_t *tracks_of(const char *files)
{
    json_t *all = json_loads(files ? files : "[]", 0, NULL), *out = json_array(), *f;
    size_t i;
    json_array_foreach(all, i, f)
    {
        json_t *one = json_deep_copy(f);
        json_object_del(one, "path");
        json_array_append_new(out, one);
    }
    json_decref(all);
    return out;
}

static int list_row(const struct vdb_row *r, void *arg)
{
    struct list *l = arg;
    char cust[64], bc[ORG_CODE_MAX + 1], bn[ORG_NAME_MAX + 1];
    customer_masked(l, r->customer_id, cust, sizeof cust);
    admin_bank_branch(l->ar, r->branch_id, bc, bn);
    json_t *row = json_pack(
        "{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:{s:s, s:I, s:s}, s:I, s:I, s:I, s:I, s:s, s:s, "
        "s:o}",
        "bank", l->bank, "id", (json_int_t)r->id, "call_id", r->call_id, "biz_no", r->biz_no,
        "customer_id", (json_int_t)r->customer_id, "customer", cust, "state", r->state, "consent",
        "by", r->consent_by, "at", (json_int_t)r->consent_at, "text_version", r->consent_version,
        "started_at", (json_int_t)r->started_at, "ended_at", (json_int_t)r->ended_at, "duration_ms",
        (json_int_t)r->duration_ms, "size", (json_int_t)r->size, "sm3", r->sm3, "branch", bc,
        "tracks", tracks_of(r->files));
    return row && json_array_append_new(l->rows, row) == 0 ? 0 : STORE_NOMEM;
}

static int list_read(struct tenant_conn *tc, void *arg)
{
    struct list *l = arg;
    l->tc = tc;
    int rc = vdb_list(tc, 0, l->before, PER_BANK, list_row, l);
    return rc == VDB_OK ? STORE_OK : rc;
}

void h_admin_recordings(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (!may_see(&ar)) {
        admin_close(&ar);
        return;
    }
    int64_t ids[ADMIN_BANKS_MAX];
    size_t n = 0;
    int rc = admin_bank_ids(&ar, ids, &n);
    if (rc == ID_NOT_FOUND) {
        http_error(resp, ZE_NOT_FOUND, NULL);
        admin_close(&ar);
        return;
    }
    const char *before = admin_query(req, "before");
    json_t *rows = json_array();
    for (size_t i = 0; rc == ID_OK && i < n; i++) {
        char code[ORG_CODE_MAX + 1], name[ORG_NAME_MAX + 1];
        admin_bank_names(&ar, ids[i], code, name);
        struct list l = {&ar, NULL, code, before ? atoll(before) : 0, rows};
        rc = admin_bank_read(&ar, ids[i], list_read, &l);
    }
    if (rc == ID_OK)
        http_json(resp, 200, json_pack("{s:o}", "recordings", rows));
    else {
        json_decref(rows);
        admin_fail(&ar, rc, "list recordings");
    }
    admin_close(&ar);
}

/* ---- play ------------------------------------------------------------------ */

struct play {
    struct admin_req *ar;
    int64_t id;
    int track;
    bool found;
    int64_t size;
    char path[PATH_MAX + 320];
    char mime[16];
    char range[48];
};

static int play_read(struct tenant_conn *tc, void *arg)
{
    struct play *p = arg;
    struct vdb_row r;
    int rc = vdb_get(tc, p->id, &r);
    if (rc == VDB_NONE)
        return STORE_OK;
    if (rc != VDB_OK)
        return rc;
    json_t *files = json_loads(r.files, 0, NULL), *f;
    size_t i;
    json_array_foreach(files, i, f)
    {
        const char *rel = json_string_value(json_object_get(f, "path"));
        const char *kind = json_string_value(json_object_get(f, "kind"));
        if (json_integer_value(json_object_get(f, "n")) != p->track || !rel || !kind ||
            strstr(rel, ".."))
            continue;
        p->size = json_integer_value(json_object_get(f, "size"));
        snprintf(p->path, sizeof p->path, "%s/%s", p->ar->app->cfg.video.recordings_dir, rel);
        snprintf(p->mime, sizeof p->mime, "%s", strcmp(kind, "audio") == 0 ? "audio" : "video");
        p->found = strcmp(r.state, VDB_STORED) == 0 && p->size > 0;
    }
    json_decref(files);
    vdb_row_free(&r);
    return STORE_OK;
}

static int play_audit(struct tenant_conn *tc, void *arg)
{
    struct play *p = arg;
    char target[40];
    snprintf(target, sizeof target, "vrec:%" PRId64, p->id);
    int rc = audit_tenantf(tc, p->ar->actor, "vrec.viewed", p->found ? target : "vrec:-",
                           "{s:b, s:i, s:s, s:s}", "found", p->found, "track", p->track, "range",
                           p->range, "channel", "console");
    return rc == ID_OK ? STORE_OK : rc;
}

/* The Range header into [*from, *to]; false if it is not one range of bytes. */
static bool parse_range(const char *h, int64_t size, int64_t *from, int64_t *to)
{
    long long a = 0, b = -1;
    char dash = 0;
    if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return false;
    const char *s = h + 6;
    if (*s == '-') { /* the last N bytes */
        long long nlast = atoll(s + 1);
        if (nlast < 1)
            return false;
        *from = size > nlast ? size - nlast : 0;
        *to = size - 1;
        return true;
    }
    int k = sscanf(s, "%lld%c%lld", &a, &dash, &b);
    if (k < 2 || dash != '-' || a < 0)
        return false;
    *from = a;
    *to = k == 3 ? b : size - 1;
    return *to >= *from;
}

void h_admin_recording_play(struct http_request *req, struct http_response *resp)
{
    struct admin_req ar;
    if (!admin_open(req, resp, ADMIN_READ, NULL, 0, &ar))
        return;
    if (!may_see(&ar)) {
        admin_close(&ar);
        return;
    }
    const char *id = admin_query(req, "id"), *track = admin_query(req, "track");
    struct play p = {.ar = &ar, .id = id ? atoll(id) : 0, .track = track ? atoi(track) : 0};
    int64_t bank = 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (!admin_bank_one(&ar, &bank))
        goto out;
    int rc = p.id > 0 && p.track >= 0 ? admin_bank_read(&ar, bank, play_read, &p) : STORE_OK;
    if (rc != STORE_OK) {
        admin_fail(&ar, rc, "read a recording");
        goto out;
    }
    int64_t from = 0, to = p.size - 1;
    const char *range = http_header(req, "Range");
    bool partial = false;
    if (p.found && range) {
        if (!parse_range(range, p.size, &from, &to) || from >= p.size) {
            char cr[48];
            snprintf(cr, sizeof cr, "bytes */%" PRId64, p.size);
            http_error(resp, ZE_RANGE_NOT_SATISFIABLE, NULL);
            http_add_header(resp, "Content-Range", cr);
            goto out;
        }
        partial = true;
    }
    if (p.found) {
        if (to >= p.size)
            to = p.size - 1;
        if (to - from + 1 > PART_MAX) {
            to = from + PART_MAX - 1;
            partial = true;
        }
        snprintf(p.range, sizeof p.range, "%" PRId64 "-%" PRId64, from, to);
        char ctx[128];
        snprintf(ctx, sizeof ctx, "vrec|%" PRId64 "|%" PRId64 "|%d", bank, p.id, p.track);
        len = (size_t)(to - from + 1);
        if (vrec_open_range(&ar.app->kek, ctx, p.path, p.size, from, len, &bytes) != 0) {
            p.found = false; /* unreadable (tampered, moved): logged; answered as missing */
            len = 0;
        }
    }
    rc = admin_bank_txn(&ar, bank, "admin.vrec_view", play_audit, &p);
    if (rc != STORE_OK) {
        admin_fail(&ar, rc, "view a recording");
    } else if (!p.found) {
        http_error(resp, ZE_NOT_FOUND, NULL);
    } else {
        http_text(resp, partial ? 206 : 200,
                  strcmp(p.mime, "audio") == 0 ? "audio/ogg" : "video/webm", (char *)bytes, len);
        bytes = NULL; /* the response's now */
        http_add_header(resp, "Accept-Ranges", "bytes");
        if (partial) {
            char cr[80];
            snprintf(cr, sizeof cr, "bytes %" PRId64 "-%" PRId64 "/%" PRId64, from, to, p.size);
            http_add_header(resp, "Content-Range", cr);
        }
        http_add_header(resp, "Cache-Control", "no-store");
    }
out:
    if (bytes) {
        secmem_wipe(bytes, len);
        free(bytes);
    }
    admin_close(&ar);
}
