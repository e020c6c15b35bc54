/* attach.c — ATTACH_BEGIN, ATTACH_CHUNK, ATTACH_STATUS, ATTACH_END,
 * ATTACH_GET and ATTACH_LIST (see attach.h). Everything goes through
 * c->tenant. */
#include "business/attach.h"
#include "business/biz.h"

#include "business/attach_check.h"
#include "business/attach_db.h"
#include "business/attach_limit.h"
#include "business/customer_db.h"
#include "business/visit_db.h"
#include "channel/sm.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "foundation/secmem.h"
#include "identity/audit.h"
#include "identity/kek.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTEXT_MAX 128
#define LIST_DEFAULT 20
#define LIST_MAX 100

/* ---- common ------------------------------------------------------------------------- */

static const struct scope *scope_of(const struct tx_ctx *c)
{
    return tenant_scope(c->tenant);
}

/* The size limit of a content in the session's bank: the bank's own
 * (attach_limit.h), else the deployment's. 0 or a store status. */
static int limit_of(struct tx_ctx *c, int64_t *limit)
{
    int rc = attach_limit_get(c->tenant, limit);
    if (rc == AL_NONE)
        *limit = c->env->attach_max_bytes > 0 ? c->env->attach_max_bytes : ATTACH_MAX_BYTES_DEFAULT;
    return rc == AL_OK || rc == AL_NONE ? 0 : rc;
}

static void chunk_context(const struct tx_ctx *c, const char *sm3, int64_t idx,
                          char out[CONTEXT_MAX])
{
    snprintf(out, CONTEXT_MAX, "attc|%" PRId64 "|%s|%" PRId64, scope_of(c)->bank_id, sm3, idx);
}

static void name_context(const struct tx_ctx *c, int64_t id, char out[CONTEXT_MAX])
{
    snprintf(out, CONTEXT_MAX, "attn|%" PRId64 "|%" PRId64, scope_of(c)->bank_id, id);
}

/* Seals p[0..n) under context into *out (malloc'd, *len bytes). 0 or -1. */
static int seal(const struct tx_ctx *c, const char *context, const uint8_t *p, size_t n,
                uint8_t **out, size_t *len)
{
    size_t cap = kek_sealed_len(n);
    *out = malloc(cap);
    if (*out && kek_seal(c->env->kek, context, p, n, *out, cap, len) == ID_OK)
        return 0;
    free(*out);
    *out = NULL;
    return -1;
}

/* Opens a sealed value into out (cap bytes): its length, or -1 (logged: a
 * sealed value that does not open is tampered, moved or of another KEK). */
static long open_sealed(const struct tx_ctx *c, const char *context, const uint8_t *in, size_t n,
                        uint8_t *out, size_t cap)
{
    size_t len = 0;
    if (!in || n <= KEK_OVERHEAD ||
        kek_open(c->env->kek, context, in, n, out, cap, &len) != ID_OK) {
        log_error("attach.unreadable", "a sealed value (%s) does not open", context);
        return -1;
    }
    return (long)len;
}

/* The file name of row r into out (ATTACH_NAME_MAX + 1 bytes). 0 or -1. */
static int open_name(const struct tx_ctx *c, const struct adb_row *r, char *out)
{
    char ctx[CONTEXT_MAX];
    uint8_t buf[ATTACH_NAME_MAX + 16];
    name_context(c, r->id, ctx);
    long n = open_sealed(c, ctx, r->name_sealed, r->name_len, buf, sizeof buf);
    if (n < 0 || n > ATTACH_NAME_MAX) {
        secmem_wipe(buf, sizeof buf);
        return -1;
    }
    memcpy(out, buf, (size_t)n);
    out[n] = '\0';
    secmem_wipe(buf, sizeof buf);
    return 0;
}

/* A positive integer member; 1 with *v, 0 when answered bad_request. */
static int positive(struct tx_ctx *c, const char *member, int64_t *v)
{
    json_t *j = json_object_get(c->in, member);
    *v = json_integer_value(j);
    if (*v > 0)
        return 1;
    tx_failf(c, ZE_BAD_REQUEST, "data.%s: 须为正整数", member);
    return 0;
}

/* The upload or attachment id (not abandoned); ADB_NONE answered. */
static int load(struct tx_ctx *c, int64_t id, struct adb_row *r)
{
    int rc = adb_get(c->tenant, id, r);
    if (rc == ADB_OK && strcmp(r->state, ADB_ABANDONED) == 0) {
        adb_row_free(r);
        rc = ADB_NONE;
    }
    if (rc == ADB_NONE)
        tx_fail(c, ZE_ATTACH_NOT_FOUND);
    return rc;
}

/* ---- subjects: what an attachment is linked to ---------------------------------------- */

struct subject {
    const char *kind;             /* "customer", "visit", "business" */
    char ref[ATTACH_REF_MAX + 1]; /* the id in decimal, or the reference */
    const char *member;           /* the member that named it */
};

/* The one subject in obj (path "link." or ""), checked; a link's customer
 * or visit must be one of the bank's. 1: *s set; 0: answered (bad_request,
 * customer_not_found, visit_not_found, the message naming the member);
 * negative: a store failure. */
static int subject_of(struct tx_ctx *c, json_t *obj, const char *path, bool only_subject,
                      struct subject *s)
{
    static const char *const keys[] = {"customer_id", "visit_id", "business"};
    static const char *const kinds[] = {"customer", "visit", "business"};
    const char *given = NULL, *key;
    json_t *v;
    size_t which = 0;
    if (only_subject) {
        json_object_foreach(obj, key, v)
        {
            size_t i = 0;
            while (i < 3 && strcmp(key, keys[i]) != 0)
                i++;
            if (i == 3) {
                tx_failf(c, ZE_BAD_REQUEST, "data.%s%s: 未知成员", path, key);
                return 0;
            }
        }
    }
    for (size_t i = 0; i < 3; i++) {
        if (!json_object_get(obj, keys[i]))
            continue;
        if (given) {
            tx_failf(c, ZE_BAD_REQUEST,
                     "data.%s%s: 只能关联 customer_id、visit_id、business 中的一项", path, keys[i]);
            return 0;
        }
        given = keys[i];
        which = i;
    }
    if (!given) {
        tx_failf(c, ZE_BAD_REQUEST,
                 "data.%scustomer_id: 须给出 customer_id、visit_id、business 中的一项", path);
        return 0;
    }
    s->kind = kinds[which];
    s->member = given;
    v = json_object_get(obj, given);
    if (which == 2) {
        if (!json_is_string(v) || !ac_ref_ok(json_string_value(v))) {
            tx_failf(c, ZE_BAD_REQUEST, "data.%sbusiness: 须为1到%d位字母、数字、_或-", path,
                     ATTACH_REF_MAX);
            return 0;
        }
        snprintf(s->ref, sizeof s->ref, "%s", json_string_value(v));
        return 1;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.%s%s: 须为正整数", path, given);
        return 0;
    }
    int64_t id = json_integer_value(v);
    snprintf(s->ref, sizeof s->ref, "%" PRId64, id);
    if (!path[0])
        return 1; /* a listing: what is linked to an unknown subject is nothing */
    /* A link: its customer or visit is one of the bank's (another bank's
     * is answered as one that does not exist). */
    int rc;
    if (which == 0) {
        struct cdb_row row = {0};
        rc = cdb_get(c->tenant, id, &row);
        cdb_row_free(&row);
    } else {
        rc = vdb_visit_exists(c->tenant, id);
    }
    if (rc == CDB_NONE) { /* VDB_NONE too */
        tx_failf(c, which == 0 ? ZE_CUSTOMER_NOT_FOUND : ZE_VISIT_NOT_FOUND, "data.%s%s: %s", path,
                 given, which == 0 ? "客户不存在" : "走访记录不存在");
        return 0;
    }
    return rc == CDB_OK ? 1 : (rc < 0 ? rc : STORE_ERR);
}

/* ---- answers ------------------------------------------------------------------------ */

struct received {
    json_t *list;
    int64_t count;
};

static int add_index(int64_t idx, void *arg)
{
    struct received *r = arg;
    r->count++;
    return json_array_append_new(r->list, json_integer(idx)) == 0 ? 0 : STORE_NOMEM;
}

/* data.received[] (and with missing data.missing[]) of upload r; the count
 * received into *count. */
static int put_received(struct tx_ctx *c, const struct adb_row *r, bool missing, int64_t *count)
{
    struct received got = {.list = json_array()};
    if (!got.list)
        return STORE_NOMEM;
    int rc = adb_chunk_each(c->tenant, r->id, add_index, &got);
    if (rc == ADB_OK && missing) {
        json_t *miss = json_array();
        size_t k = 0;
        for (int64_t i = 0; miss && i < r->chunks; i++) {
            if (k < json_array_size(got.list) &&
                json_integer_value(json_array_get(got.list, k)) == i)
                k++;
            else
                json_array_append_new(miss, json_integer(i));
        }
        rc = miss ? ADB_OK : STORE_NOMEM;
        json_object_set_new(c->out, "missing", miss);
    }
    json_object_set_new(c->out, "received", got.list);
    if (count)
        *count = got.count;
    return rc;
}

/* The description of r common to several answers. */
static void put_upload(struct tx_ctx *c, const struct adb_row *r)
{
    json_object_set_new(c->out, "upload_id", json_integer(r->id));
    json_object_set_new(c->out, "state", json_string(r->state));
    json_object_set_new(c->out, "kind", json_string(r->kind));
    json_object_set_new(c->out, "size", json_integer(r->size));
    json_object_set_new(c->out, "sm3", json_string(r->sm3));
    json_object_set_new(c->out, "chunk_size", json_integer(ATTACH_CHUNK_BYTES));
    json_object_set_new(c->out, "chunks", json_integer(r->chunks));
    if (strcmp(r->state, ADB_STORED) == 0) {
        json_object_set_new(c->out, "attachment_id", json_integer(r->id));
        json_object_set_new(c->out, "mime", json_string(r->mime));
    }
}

/* ---- ATTACH_BEGIN ------------------------------------------------------------------- */

struct begin_in {
    enum attach_kind kind;
    const char *name;
    int64_t size;
    char sm3[ATTACH_SM3_HEX + 1];
    struct subject link;
};

/* The members of ATTACH_BEGIN, checked in order. 1, 0 (answered), or < 0. */
static int begin_input(struct tx_ctx *c, struct begin_in *b)
{
    b->kind = ac_kind_parse(json_string_value(json_object_get(c->in, "kind")));
    if (b->kind == AK_NONE) {
        tx_failf(c, ZE_BAD_REQUEST, "data.kind: 须为 photo 或 document");
        return 0;
    }
    b->name = json_string_value(json_object_get(c->in, "name"));
    if (!ac_name_ok(b->name)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.name: 须为1到%d字节的文字，不含控制字符",
                 ATTACH_NAME_MAX);
        return 0;
    }
    if (!positive(c, "size", &b->size))
        return 0;
    if (!ac_sm3_norm(json_string_value(json_object_get(c->in, "sm3")), b->sm3)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.sm3: 须为64位十六进制的SM3摘要");
        return 0;
    }
    int64_t limit = 0;
    int rc = limit_of(c, &limit);
    if (rc != 0)
        return rc < 0 ? rc : STORE_ERR;
    if (b->size > limit) {
        tx_failf(c, ZE_ATTACH_TOO_LARGE, "附件超过上限（%" PRId64 "字节）", limit);
        json_object_set_new(c->out, "max_bytes", json_integer(limit));
        return 0;
    }
    return subject_of(c, json_object_get(c->in, "link"), "link.", true, &b->link);
}

/* A new upload row of b (new id, or the abandoned row of the same content). */
static int begin_row(struct tx_ctx *c, const struct begin_in *b, struct adb_row *r, bool restart)
{
    char ctx[CONTEXT_MAX];
    const struct scope *sc = scope_of(c);
    int rc = restart ? ADB_OK : adb_next_id(c->tenant, &r->id);
    if (rc != ADB_OK)
        return rc;
    snprintf(r->sm3, sizeof r->sm3, "%s", b->sm3);
    snprintf(r->kind, sizeof r->kind, "%s", ac_kind_name(b->kind));
    snprintf(r->state, sizeof r->state, "%s", ADB_UPLOADING);
    r->mime[0] = '\0';
    r->size = b->size;
    r->chunks = ac_chunks(b->size);
    r->branch_id = sc->branch_id;
    r->teller_id = sc->teller_id;
    r->created_at = clock_wall_ms();
    r->stored_at = 0;
    free(r->name_sealed);
    r->name_sealed = NULL;
    name_context(c, r->id, ctx);
    if (seal(c, ctx, (const uint8_t *)b->name, strlen(b->name), &r->name_sealed, &r->name_len))
        return STORE_ERR;
    return restart ? adb_restart(c->tenant, r) : adb_insert(c->tenant, r);
}

static enum tx_result tx_begin(struct tx_ctx *c)
{
    struct begin_in b;
    struct adb_row r = {0};
    char actor[AUDIT_ACTOR_MAX + 1], target[40], linked[60];
    enum tx_result res = TX_ROLLBACK;
    int rc = begin_input(c, &b);
    if (rc <= 0) {
        res = rc == 0 ? TX_COMMIT : TX_ROLLBACK;
        goto out;
    }
    rc = adb_find_sm3(c->tenant, b.sm3, &r);
    const char *event = "attach.begun";
    bool resumed = false;
    if (rc == ADB_NONE) {
        rc = begin_row(c, &b, &r, false);
    } else if (rc == ADB_OK && strcmp(r.state, ADB_ABANDONED) == 0) {
        rc = begin_row(c, &b, &r, true);
    } else if (rc == ADB_OK) {
        /* The same content under way or stored: the same size; a stored
         * one's kind too (an upload's may be declared anew: its chunk 0
         * is checked against the kind when it comes). */
        resumed = strcmp(r.state, ADB_UPLOADING) == 0;
        event = resumed ? "attach.begun" : "attach.linked";
        if (r.size != b.size) {
            tx_failf(c, ZE_BAD_REQUEST, "data.size: 与同一SM3内容的大小不符");
            res = TX_COMMIT;
            goto out;
        }
        if (strcmp(r.kind, ac_kind_name(b.kind)) != 0 && !resumed) {
            tx_failf(c, ZE_ATTACH_BAD_TYPE, "该内容已按 %s 保存，种类不符", r.kind);
            res = TX_COMMIT;
            goto out;
        }
        if (strcmp(r.kind, ac_kind_name(b.kind)) != 0) {
            rc = adb_set_kind(c->tenant, r.id, ac_kind_name(b.kind));
            snprintf(r.kind, sizeof r.kind, "%s", ac_kind_name(b.kind));
        }
    }
    if (rc != ADB_OK)
        goto out;
    rc = adb_link_add(c->tenant, r.id, b.link.kind, b.link.ref, scope_of(c)->teller_id,
                      clock_wall_ms());
    bool new_link = rc == ADB_OK;
    if (rc != ADB_OK && rc != ADB_NONE)
        goto out;
    put_upload(c, &r);
    if (put_received(c, &r, false, NULL) != ADB_OK)
        goto out;
    biz_actor(c, actor);
    biz_target(target, sizeof target, "attachment", r.id);
    snprintf(linked, sizeof linked, "%s:%s", b.link.kind, b.link.ref);
    if (audit_tenantf(c->tenant, actor, event, target, "{s:s, s:I, s:I, s:s, s:b, s:b}", "kind",
                      r.kind, "size", (json_int_t)r.size, "chunks", (json_int_t)r.chunks, "link",
                      linked, "new_link", new_link, "resumed", resumed) != ID_OK)
        goto out;
    res = TX_COMMIT;
out:
    adb_row_free(&r);
    return res;
}

/* ---- ATTACH_CHUNK ------------------------------------------------------------------- */

/* The chunk's checks before anything is written. 1: go on, with the bytes
 * in buf[0..*n); 0: answered. */
static int chunk_check(struct tx_ctx *c, const struct adb_row *r, int64_t idx, uint8_t *buf,
                       size_t *n)
{
    if (idx >= r->chunks) {
        tx_failf(c, ZE_BAD_REQUEST, "data.index: 须在0到%" PRId64 "之间", r->chunks - 1);
        return 0;
    }
    const char *text = json_string_value(json_object_get(c->in, "data"));
    size_t len = json_string_length(json_object_get(c->in, "data"));
    int rc = ac_chunk_decode(text, len, r->size, idx, buf, ATTACH_CHUNK_BYTES, n);
    if (rc == AC_BAD_LENGTH) {
        tx_failf(c, ZE_BAD_REQUEST, "data.data: 第%" PRId64 "块应为%zu字节", idx,
                 ac_chunk_len(r->size, idx));
        return 0;
    }
    if (rc != AC_OK) {
        tx_failf(c, ZE_BAD_REQUEST, "data.data: 不是合规的base64");
        return 0;
    }
    json_t *want = json_object_get(c->in, "sm3");
    if (want) {
        char hex[ATTACH_SM3_HEX + 1], got[ATTACH_SM3_HEX + 1];
        uint8_t d[SM3_LEN];
        sm_part p = {buf, *n};
        if (!ac_sm3_norm(json_string_value(want), hex)) {
            tx_failf(c, ZE_BAD_REQUEST, "data.sm3: 须为64位十六进制的SM3摘要");
            return 0;
        }
        if (sm3_digest(&p, 1, d) != SM_OK || hex_encode(d, sizeof d, got, sizeof got) < 0)
            return -1;
        if (strcmp(hex, got) != 0) {
            tx_failf(c, ZE_ATTACH_MISMATCH, "第%" PRId64 "块的SM3与内容不符，请重发该块", idx);
            return 0;
        }
    }
    enum attach_kind k = ac_kind_parse(r->kind);
    if (idx == 0 && !ac_type_fits(k, ac_sniff(buf, *n))) {
        tx_failf(c, ZE_ATTACH_BAD_TYPE, "内容不是%s允许的类型（%s）", r->kind,
                 k == AK_PHOTO ? "JPEG、PNG" : "PDF");
        return 0;
    }
    return 1;
}

static enum tx_result tx_chunk(struct tx_ctx *c)
{
    struct adb_row r = {0};
    char ctx[CONTEXT_MAX], actor[AUDIT_ACTOR_MAX + 1], target[40];
    uint8_t *buf = NULL, *sealed = NULL;
    size_t n = 0, sealed_len = 0;
    int64_t id, idx, count = 0;
    enum tx_result res = TX_COMMIT;
    if (!positive(c, "upload_id", &id))
        return TX_COMMIT;
    idx = json_integer_value(json_object_get(c->in, "index"));
    if (idx < 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.index: 须为非负整数");
        return TX_COMMIT;
    }
    int rc = load(c, id, &r);
    if (rc != ADB_OK)
        return rc == ADB_NONE ? TX_COMMIT : TX_ROLLBACK;
    res = TX_ROLLBACK;
    if (!(buf = malloc(ATTACH_CHUNK_BYTES)))
        goto out;
    rc = chunk_check(c, &r, idx, buf, &n);
    if (rc <= 0) {
        res = rc == 0 ? TX_COMMIT : TX_ROLLBACK;
        goto out;
    }
    bool duplicate = strcmp(r.state, ADB_STORED) == 0;
    if (!duplicate) {
        rc = adb_chunk_has(c->tenant, id, idx);
        if (rc != ADB_OK && rc != ADB_NONE)
            goto out;
        duplicate = rc == ADB_OK;
    }
    if (!duplicate) {
        chunk_context(c, r.sm3, idx, ctx);
        if (seal(c, ctx, buf, n, &sealed, &sealed_len) ||
            adb_chunk_put(c->tenant, id, idx, n, sealed, sealed_len) != ADB_OK)
            goto out;
        biz_actor(c, actor);
        biz_target(target, sizeof target, "attachment", id);
        if (audit_tenantf(c->tenant, actor, "attach.chunk", target, "{s:I, s:I}", "index",
                          (json_int_t)idx, "len", (json_int_t)n) != ID_OK)
            goto out;
    }
    json_object_set_new(c->out, "upload_id", json_integer(id));
    json_object_set_new(c->out, "index", json_integer(idx));
    json_object_set_new(c->out, "duplicate", json_boolean(duplicate));
    json_object_set_new(c->out, "state", json_string(r.state));
    json_object_set_new(c->out, "chunks", json_integer(r.chunks));
    if (put_received(c, &r, false, &count) != ADB_OK)
        goto out;
    /* The list is the STATUS answer's; here only how many. */
    json_object_del(c->out, "received");
    json_object_set_new(c->out, "received", json_integer(count));
    res = TX_COMMIT;
out:
    if (buf)
        secmem_wipe(buf, ATTACH_CHUNK_BYTES);
    free(buf);
    free(sealed);
    adb_row_free(&r);
    return res;
}

/* ---- ATTACH_STATUS ------------------------------------------------------------------ */

static enum tx_result tx_status(struct tx_ctx *c)
{
    struct adb_row r = {0};
    char actor[AUDIT_ACTOR_MAX + 1], target[40];
    int64_t id, count = 0;
    if (!positive(c, "upload_id", &id))
        return TX_COMMIT;
    int rc = load(c, id, &r);
    if (rc != ADB_OK)
        return rc == ADB_NONE ? TX_COMMIT : TX_ROLLBACK;
    put_upload(c, &r);
    rc = put_received(c, &r, true, &count);
    biz_actor(c, actor);
    biz_target(target, sizeof target, "attachment", id);
    if (rc == ADB_OK)
        rc = audit_tenantf(c->tenant, actor, "attach.checked", target, "{s:s, s:I}", "state",
                           r.state, "received", (json_int_t)count);
    adb_row_free(&r);
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

/* ---- ATTACH_END --------------------------------------------------------------------- */

/* The whole content of upload r, opened, into *out (malloc'd, r->size
 * bytes). 0 or -1. */
static int assemble(struct tx_ctx *c, const struct adb_row *r, uint8_t **out)
{
    char ctx[CONTEXT_MAX];
    uint8_t *all = malloc((size_t)r->size), *sealed = NULL;
    size_t n = 0, off = 0;
    int rc = all ? 0 : -1;
    for (int64_t i = 0; rc == 0 && i < r->chunks; i++) {
        size_t want = ac_chunk_len(r->size, i);
        rc = adb_chunk_get(c->tenant, r->id, i, &sealed, &n) == ADB_OK ? 0 : -1;
        chunk_context(c, r->sm3, i, ctx);
        /* kek_open needs n - KEK_OVERHEAD bytes: the chunk and its padding. */
        uint8_t *tmp = rc == 0 && n > KEK_OVERHEAD ? malloc(n - KEK_OVERHEAD) : NULL;
        long got = tmp ? open_sealed(c, ctx, sealed, n, tmp, n - KEK_OVERHEAD) : -1;
        if (got < 0 || (size_t)got != want || off + want > (size_t)r->size)
            rc = -1;
        else
            memcpy(all + off, tmp, want);
        off += want;
        if (tmp)
            secmem_wipe(tmp, n - KEK_OVERHEAD);
        free(tmp);
        free(sealed);
        sealed = NULL;
    }
    if (rc != 0 && all) {
        secmem_wipe(all, (size_t)r->size);
        free(all);
        all = NULL;
    }
    *out = all;
    return rc;
}

/* Abandons upload r for reason, audited, answering e. */
static enum tx_result refuse(struct tx_ctx *c, const struct adb_row *r, const char *reason)
{
    char actor[AUDIT_ACTOR_MAX + 1], target[40];
    biz_actor(c, actor);
    biz_target(target, sizeof target, "attachment", r->id);
    if (adb_abandon(c->tenant, r->id) != ADB_OK ||
        audit_tenantf(c->tenant, actor, "attach.refused", target, "{s:s, s:s, s:I}", "reason",
                      reason, "kind", r->kind, "size", (json_int_t)r->size) != ID_OK)
        return TX_ROLLBACK;
    json_object_set_new(c->out, "upload_id", json_integer(r->id));
    json_object_set_new(c->out, "state", json_string(ADB_ABANDONED));
    return TX_COMMIT;
}

/* The checks of the whole content and the answer. */
static enum tx_result finish(struct tx_ctx *c, struct adb_row *r, const uint8_t *all)
{
    char hex[ATTACH_SM3_HEX + 1], actor[AUDIT_ACTOR_MAX + 1], target[40];
    uint8_t d[SM3_LEN];
    sm_part p = {all, (size_t)r->size};
    if (sm3_digest(&p, 1, d) != SM_OK || hex_encode(d, sizeof d, hex, sizeof hex) < 0)
        return TX_ROLLBACK;
    if (strcmp(hex, r->sm3) != 0) {
        tx_failf(c, ZE_ATTACH_MISMATCH, "内容的SM3与声明的不符，上传已作废，请重新上传");
        return refuse(c, r, "sm3");
    }
    enum attach_type t = ac_sniff(all, (size_t)r->size);
    if (!ac_type_fits(ac_kind_parse(r->kind), t)) {
        tx_failf(c, ZE_ATTACH_BAD_TYPE, "内容不是%s允许的类型，上传已作废", r->kind);
        return refuse(c, r, "type");
    }
    int64_t limit = 0;
    if (limit_of(c, &limit) != 0)
        return TX_ROLLBACK;
    if (r->size > limit) {
        tx_failf(c, ZE_ATTACH_TOO_LARGE, "附件超过上限（%" PRId64 "字节），上传已作废", limit);
        json_object_set_new(c->out, "max_bytes", json_integer(limit));
        return refuse(c, r, "size");
    }
    int64_t now = clock_wall_ms();
    if (adb_set_stored(c->tenant, r->id, ac_mime(t), now) != ADB_OK)
        return TX_ROLLBACK;
    snprintf(r->state, sizeof r->state, "%s", ADB_STORED);
    snprintf(r->mime, sizeof r->mime, "%s", ac_mime(t));
    biz_actor(c, actor);
    biz_target(target, sizeof target, "attachment", r->id);
    if (audit_tenantf(c->tenant, actor, "attach.stored", target, "{s:s, s:s, s:I, s:I}", "kind",
                      r->kind, "mime", r->mime, "size", (json_int_t)r->size, "chunks",
                      (json_int_t)r->chunks) != ID_OK)
        return TX_ROLLBACK;
    put_upload(c, r);
    return TX_COMMIT;
}

static enum tx_result tx_end(struct tx_ctx *c)
{
    struct adb_row r = {0};
    uint8_t *all = NULL;
    int64_t id, count = 0;
    enum tx_result res = TX_ROLLBACK;
    if (!positive(c, "upload_id", &id))
        return TX_COMMIT;
    int rc = load(c, id, &r);
    if (rc != ADB_OK)
        return rc == ADB_NONE ? TX_COMMIT : TX_ROLLBACK;
    if (strcmp(r.state, ADB_STORED) == 0) {
        put_upload(c, &r); /* ended before: the same answer, nothing written */
        res = TX_COMMIT;
        goto out;
    }
    if (put_received(c, &r, true, &count) != ADB_OK)
        goto out;
    if (count < r.chunks) {
        tx_failf(c, ZE_ATTACH_INCOMPLETE, "尚缺%" PRId64 "块，请补传后再结束", r.chunks - count);
        json_object_set_new(c->out, "upload_id", json_integer(id));
        res = TX_COMMIT;
        goto out;
    }
    json_object_clear(c->out);
    if (assemble(c, &r, &all) != 0)
        goto out;
    res = finish(c, &r, all);
out:
    if (all) {
        secmem_wipe(all, (size_t)r.size);
        free(all);
    }
    adb_row_free(&r);
    return res;
}

/* ---- ATTACH_GET --------------------------------------------------------------------- */

static int add_link(const char *kind, const char *ref, void *arg)
{
    json_t *item = json_pack("{s:s, s:s}", "kind", kind, "ref", ref);
    return item && json_array_append_new(arg, item) == 0 ? 0 : STORE_NOMEM;
}

/* The answer of ATTACH_GET for stored r: description, links, chunk idx. */
static int get_answer(struct tx_ctx *c, const struct adb_row *r, int64_t idx)
{
    char ctx[CONTEXT_MAX], name[ATTACH_NAME_MAX + 1];
    uint8_t *sealed = NULL;
    size_t n = 0;
    json_t *links = json_array();
    if (!links || open_name(c, r, name) != 0) {
        json_decref(links);
        return STORE_ERR;
    }
    put_upload(c, r);
    json_object_set_new(c->out, "name", json_string(name));
    json_object_set_new(c->out, "created_at", json_integer(r->created_at));
    json_object_set_new(c->out, "stored_at", json_integer(r->stored_at));
    json_object_set_new(c->out, "index", json_integer(idx));
    json_object_set_new(c->out, "links", links);
    secmem_wipe(name, sizeof name);
    int rc = adb_link_each(c->tenant, r->id, add_link, links);
    if (rc == ADB_OK)
        rc = adb_chunk_get(c->tenant, r->id, idx, &sealed, &n);
    if (rc != ADB_OK)
        return rc == ADB_NONE ? STORE_ERR : rc;
    size_t cap = n > KEK_OVERHEAD ? n - KEK_OVERHEAD : 0;
    uint8_t *plain = cap ? malloc(cap) : NULL;
    size_t tcap = plain ? b64_encoded_len(cap) + 1 : 0;
    char *text = tcap ? malloc(tcap) : NULL;
    chunk_context(c, r->sm3, idx, ctx);
    long got = text ? open_sealed(c, ctx, sealed, n, plain, cap) : -1;
    rc = STORE_ERR;
    if (got >= 0 && (size_t)got == ac_chunk_len(r->size, idx) &&
        b64_encode(plain, (size_t)got, text, tcap) >= 0) {
        json_object_set_new(c->out, "data", json_string(text));
        rc = ADB_OK;
    }
    if (plain)
        secmem_wipe(plain, cap);
    if (text)
        secmem_wipe(text, tcap);
    free(plain);
    free(text);
    free(sealed);
    return rc;
}

static enum tx_result tx_get(struct tx_ctx *c)
{
    struct adb_row r = {0};
    char actor[AUDIT_ACTOR_MAX + 1], target[40];
    int64_t id, idx = 0;
    json_t *jidx = json_object_get(c->in, "index");
    if (!positive(c, "attachment_id", &id))
        return TX_COMMIT;
    if (jidx && (idx = json_integer_value(jidx)) < 0) {
        tx_failf(c, ZE_BAD_REQUEST, "data.index: 须为非负整数");
        return TX_COMMIT;
    }
    int rc = adb_get(c->tenant, id, &r);
    if (rc == ADB_OK && strcmp(r.state, ADB_STORED) != 0)
        rc = ADB_NONE; /* an upload is not an attachment yet */
    biz_actor(c, actor);
    biz_target(target, sizeof target, "attachment", id);
    if (rc == ADB_OK && idx >= r.chunks) {
        tx_failf(c, ZE_BAD_REQUEST, "data.index: 须在0到%" PRId64 "之间", r.chunks - 1);
        adb_row_free(&r);
        return TX_COMMIT;
    }
    if (rc == ADB_OK)
        rc = get_answer(c, &r, idx);
    if (rc == ADB_NONE) {
        tx_fail(c, ZE_ATTACH_NOT_FOUND);
        rc = audit_tenantf(c->tenant, actor, "attach.viewed", target, "{s:b}", "found", 0);
    } else if (rc == ADB_OK) {
        rc = audit_tenantf(c->tenant, actor, "attach.viewed", target, "{s:b, s:I}", "found", 1,
                           "index", (json_int_t)idx);
    }
    adb_row_free(&r);
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

/* ---- ATTACH_LIST -------------------------------------------------------------------- */

struct list_out {
    struct tx_ctx *c;
    json_t *items;
    int limit, seen;
};

static int list_item(const struct adb_row *r, void *arg)
{
    struct list_out *l = arg;
    char name[ATTACH_NAME_MAX + 1];
    if (++l->seen > l->limit)
        return 0; /* the one past the limit only says there is more */
    if (open_name(l->c, r, name) != 0)
        return STORE_ERR;
    json_t *item = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s, s:I, s:I}", "attachment_id",
                             (json_int_t)r->id, "kind", r->kind, "mime", r->mime, "name", name,
                             "size", (json_int_t)r->size, "sm3", r->sm3, "chunks",
                             (json_int_t)r->chunks, "stored_at", (json_int_t)r->stored_at);
    secmem_wipe(name, sizeof name);
    return item && json_array_append_new(l->items, item) == 0 ? 0 : STORE_NOMEM;
}

static enum tx_result tx_list(struct tx_ctx *c)
{
    struct subject s;
    char actor[AUDIT_ACTOR_MAX + 1];
    json_t *lim = json_object_get(c->in, "limit");
    if (lim && (json_integer_value(lim) < 1 || json_integer_value(lim) > LIST_MAX)) {
        tx_failf(c, ZE_BAD_REQUEST, "data.limit: 须为1到%d之间的整数", LIST_MAX);
        return TX_COMMIT;
    }
    int rc = subject_of(c, c->in, "", false, &s);
    if (rc <= 0)
        return rc == 0 ? TX_COMMIT : TX_ROLLBACK;
    struct list_out l = {
        .c = c, .items = json_array(), .limit = lim ? (int)json_integer_value(lim) : LIST_DEFAULT};
    if (!l.items)
        return TX_ROLLBACK;
    rc = adb_list_linked(c->tenant, s.kind, s.ref, l.limit + 1, list_item, &l);
    json_object_set_new(c->out, "items", l.items);
    json_object_set_new(c->out, "more", json_boolean(l.seen > l.limit));
    if (rc != ADB_OK)
        return TX_ROLLBACK;
    biz_actor(c, actor);
    rc = audit_tenantf(c->tenant, actor, "attach.listed", "", "{s:s, s:I}", "by", s.kind, "results",
                       (json_int_t)json_array_size(l.items));
    return rc == ID_OK ? TX_COMMIT : TX_ROLLBACK;
}

/* ---- the definitions ---------------------------------------------------------------- */

static const struct tx_field F_BEGIN[] = {
    {.name = "kind", .type = TXF_STRING, .required = true, .max = 16},
    {.name = "name", .type = TXF_STRING, .required = true, .max = ATTACH_NAME_MAX},
    {.name = "size", .type = TXF_INT, .required = true},
    {.name = "sm3", .type = TXF_STRING, .required = true, .max = ATTACH_SM3_HEX},
    {.name = "link", .type = TXF_OBJECT, .required = true},
};
static const struct tx_field F_CHUNK[] = {
    {.name = "upload_id", .type = TXF_INT, .required = true},
    {.name = "index", .type = TXF_INT, .required = true},
    {.name = "data", .type = TXF_STRING, .required = true, .max = ATTACH_CHUNK_B64},
    {.name = "sm3", .type = TXF_STRING, .max = ATTACH_SM3_HEX},
};
static const struct tx_field F_UPLOAD[] = {
    {.name = "upload_id", .type = TXF_INT, .required = true},
};
static const struct tx_field F_GET[] = {
    {.name = "attachment_id", .type = TXF_INT, .required = true},
    {.name = "index", .type = TXF_INT},
};
static const struct tx_field F_LIST[] = {
    {.name = "customer_id", .type = TXF_INT},
    {.name = "visit_id", .type = TXF_INT},
    {.name = "business", .type = TXF_STRING, .max = ATTACH_REF_MAX},
    {.name = "limit", .type = TXF_INT},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

const struct tx_def TX_ATTACH_BEGIN = {.code = "ATTACH_BEGIN",
                                       .fn = tx_begin,
                                       .needs_session = true,
                                       .bank_data = true,
                                       .fields = F_BEGIN,
                                       .nfields = NF(F_BEGIN)};
const struct tx_def TX_ATTACH_CHUNK = {.code = "ATTACH_CHUNK",
                                       .fn = tx_chunk,
                                       .needs_session = true,
                                       .bank_data = true,
                                       .fields = F_CHUNK,
                                       .nfields = NF(F_CHUNK)};
/* Not read_only: audited in its transaction, as every read here. */
const struct tx_def TX_ATTACH_STATUS = {.code = "ATTACH_STATUS",
                                        .fn = tx_status,
                                        .needs_session = true,
                                        .bank_data = true,
                                        .fields = F_UPLOAD,
                                        .nfields = NF(F_UPLOAD)};
const struct tx_def TX_ATTACH_END = {.code = "ATTACH_END",
                                     .fn = tx_end,
                                     .needs_session = true,
                                     .bank_data = true,
                                     .fields = F_UPLOAD,
                                     .nfields = NF(F_UPLOAD)};
const struct tx_def TX_ATTACH_GET = {.code = "ATTACH_GET",
                                     .fn = tx_get,
                                     .needs_session = true,
                                     .bank_data = true,
                                     .fields = F_GET,
                                     .nfields = NF(F_GET)};
const struct tx_def TX_ATTACH_LIST = {.code = "ATTACH_LIST",
                                      .fn = tx_list,
                                      .needs_session = true,
                                      .bank_data = true,
                                      .fields = F_LIST,
                                      .nfields = NF(F_LIST)};
