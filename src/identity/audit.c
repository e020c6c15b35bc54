/* audit.c — appending to the keyed chain (see audit.h; the hashing is in
 * audit_chain.c, listing in audit_list.c, verification in audit_verify.c). */
#include "identity/audit.h"

#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"
#include "identity/audit_int.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool plain_text(const char *s, size_t min, size_t max)
{
    if (!s)
        return false;
    size_t n = strnlen(s, max + 1);
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

/* The canonical form of detail_json (malloc'd) or NULL if it is not a JSON
 * object or too long. */
static char *canonical_detail(const char *detail_json)
{
    json_error_t jerr;
    json_t *j = json_loads(detail_json ? detail_json : "{}", JSON_REJECT_DUPLICATES, &jerr);
    char *out = NULL;
    if (j && json_is_object(j))
        out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (out && strlen(out) > AUDIT_DETAIL_MAX) {
        free(out);
        out = NULL;
    }
    return out;
}

/* seq and hash of the last record; seq 0 and a zero hash for an empty log. */
static int read_head(struct store_conn *c, int64_t *seq, uint8_t hash[SM3_LEN])
{
    struct store_stmt *s = NULL;
    *seq = 0;
    memset(hash, 0, SM3_LEN);
    int rc = store_prepare(c, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &s);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        *seq = store_col_int64(s, 0);
        const char *h = store_col_text(s, 1);
        rc = h && hex_decode(h, strlen(h), hash, SM3_LEN) == SM3_LEN ? ID_OK : ID_CORRUPT;
        if (rc == ID_CORRUPT)
            log_error("audit.head_corrupt",
                      "the last audit record's hash is unreadable; run zhanye audit verify");
    } else if (rc == STORE_DONE) {
        rc = ID_OK;
    }
    store_finish(s);
    return rc;
}

static int insert(struct store_conn *c, const struct audit_record *r, const char *prev_hex,
                  const char *hash_hex)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c,
                           "INSERT INTO audit_log (seq, ts, bank_id, actor, event, target, "
                           "detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, r->seq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 2, r->ts);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, r->bank_id);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 4, r->actor);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 5, r->event);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 6, r->target);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 7, r->detail);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 8, prev_hex);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 9, hash_hex);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_DONE)
        rc = ID_OK;
    store_finish(s);
    return rc;
}

int audit_append(struct store_conn *c, int64_t bank_id, const char *actor, const char *event,
                 const char *target, const char *detail_json)
{
    uint8_t prev[SM3_LEN], hash[SM3_LEN];
    char prev_hex[AUDIT_HASH_HEX + 1], hash_hex[AUDIT_HASH_HEX + 1];
    struct audit_record r = {.bank_id = bank_id, .actor = actor, .event = event, .target = target};
    char *detail = NULL;
    if (!audit_is_open()) {
        log_error("audit.no_key", "%s: the audit key is not loaded; no record written",
                  event ? event : "(null)");
        return ID_ERR;
    }
    int rc = ID_BAD_INPUT;
    if (!c || bank_id < 0 || !plain_text(actor, 1, AUDIT_ACTOR_MAX) ||
        !plain_text(event, 1, AUDIT_EVENT_MAX) || !plain_text(target, 0, AUDIT_TARGET_MAX))
        goto out;
    detail = canonical_detail(detail_json);
    if (!detail)
        goto out;
    r.detail = detail;
    rc = read_head(c, &r.seq, prev);
    if (rc != ID_OK)
        goto out;
    r.seq++;
    r.ts = clock_wall_ms();
    rc = audit_record_hash(AUDIT_KEYED, prev, &r, hash);
    if (rc == ID_OK) {
        hex_encode(prev, SM3_LEN, prev_hex, sizeof prev_hex);
        hex_encode(hash, SM3_LEN, hash_hex, sizeof hash_hex);
        rc = insert(c, &r, prev_hex, hash_hex);
    }
    if (rc == ID_OK)
        audit_checkpoint_note(r.seq);
out:
    if (rc != ID_OK)
        log_error("audit.append_failed", "%s %s: %s", event ? event : "(null)", id_rc_name(rc),
                  rc < 0 ? store_errmsg(c) : "malformed record");
    free(detail);
    return rc;
}

int audit_appendf(struct store_conn *c, int64_t bank_id, const char *actor, const char *event,
                  const char *target, const char *fmt, ...)
{
    va_list ap;
    json_error_t jerr;
    va_start(ap, fmt);
    json_t *j = json_vpack_ex(&jerr, 0, fmt, ap);
    va_end(ap);
    char *detail = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    int rc = ID_BAD_INPUT;
    if (detail)
        rc = audit_append(c, bank_id, actor, event, target, detail);
    else
        log_error("audit.append_failed", "%s: detail does not pack: %s", event ? event : "(null)",
                  jerr.text);
    free(detail);
    return rc;
}

/* ---- business transactions, through their tenant scope ------------------ */

static int tenant_append(struct tenant_conn *tc, const char *actor, const char *event,
                         const char *target, json_t *detail)
{
    const struct scope *sc = tenant_scope(tc);
    int rc = ID_BAD_INPUT;
    char *text = NULL;
    if (sc && json_is_object(detail) &&
        json_object_set_new(detail, "teller_id", json_integer(sc->teller_id)) == 0 &&
        json_object_set_new(detail, "branch_id", json_integer(sc->branch_id)) == 0)
        text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    if (text && !tenant_audit_conn(tc)) {
        rc = ID_ERR;
        log_error("audit.append_failed", "%s: a read-only scope writes no record", event);
    } else if (text)
        rc = audit_append(tenant_audit_conn(tc), sc->bank_id, actor, event, target, text);
    else
        log_error("audit.append_failed", "%s: no scope or a malformed detail",
                  event ? event : "(null)");
    free(text);
    return rc;
}

int audit_tenant(struct tenant_conn *tc, const char *actor, const char *event, const char *target,
                 const char *detail_json)
{
    json_error_t jerr;
    json_t *detail = json_loads(detail_json ? detail_json : "{}", JSON_REJECT_DUPLICATES, &jerr);
    int rc = tenant_append(tc, actor, event, target, detail);
    json_decref(detail);
    return rc;
}

int audit_tenantf(struct tenant_conn *tc, const char *actor, const char *event, const char *target,
                  const char *fmt, ...)
{
    va_list ap;
    json_error_t jerr;
    va_start(ap, fmt);
    json_t *detail = json_vpack_ex(&jerr, 0, fmt, ap);
    va_end(ap);
    int rc = tenant_append(tc, actor, event, target, detail);
    json_decref(detail);
    return rc;
}
