/* audit.c — appending to and verifying the hash chain (see audit.h).
 *
 * Length-prefixed fields make the hashed text unambiguous: no choice of
 * actor or detail can make two different records hash the same text. */
#include "identity/audit.h"

#include "channel/sm.h"
#include "foundation/clock.h"
#include "foundation/codec.h"
#include "foundation/log.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL "zhanye audit v1\n"
#define NFIELDS 7

struct record {
    int64_t seq, ts, bank_id;
    const char *actor, *event, *target, *detail;
};

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

/* SM3(prev || LABEL || each field as "<len>:<bytes>"). */
static int record_hash(const uint8_t prev[SM3_LEN], const struct record *r, uint8_t out[SM3_LEN])
{
    char nums[3][24], heads[NFIELDS][24];
    snprintf(nums[0], sizeof nums[0], "%" PRId64, r->seq);
    snprintf(nums[1], sizeof nums[1], "%" PRId64, r->ts);
    snprintf(nums[2], sizeof nums[2], "%" PRId64, r->bank_id);
    const char *fields[NFIELDS] = {nums[0],  nums[1],   nums[2],  r->actor,
                                   r->event, r->target, r->detail};
    sm_part parts[2 + 2 * NFIELDS] = {{prev, SM3_LEN}, {LABEL, sizeof LABEL - 1}};
    for (int i = 0; i < NFIELDS; i++) {
        size_t n = strlen(fields[i]);
        int h = snprintf(heads[i], sizeof heads[i], "%zu:", n);
        parts[2 + 2 * i] = (sm_part){heads[i], (size_t)h};
        parts[3 + 2 * i] = (sm_part){fields[i], n};
    }
    return sm3_digest(parts, sizeof parts / sizeof parts[0], out) == SM_OK ? ID_OK : ID_ERR;
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

static int insert(struct store_conn *c, const struct record *r, const char *prev_hex,
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
    struct record r = {.bank_id = bank_id, .actor = actor, .event = event, .target = target};
    char *detail = NULL;
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
    rc = record_hash(prev, &r, hash);
    if (rc == ID_OK) {
        hex_encode(prev, SM3_LEN, prev_hex, sizeof prev_hex);
        hex_encode(hash, SM3_LEN, hash_hex, sizeof hash_hex);
        rc = insert(c, &r, prev_hex, hash_hex);
    }
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

/* ---- listing ------------------------------------------------------------- */

#define LIST_COLS "SELECT seq, ts, bank_id, actor, event, target, detail FROM audit_log "
#define LIST_TAIL "AND (seq < ? OR ? = 0) ORDER BY seq DESC LIMIT ?"

/* The query for the scope and its first free parameter. */
static const char *list_sql(int64_t bank_id, int64_t branch_id, int *next)
{
    if (bank_id == 0) {
        *next = 1;
        return LIST_COLS "WHERE 1 = 1 " LIST_TAIL;
    }
    *next = branch_id ? 4 : 2;
    return branch_id ? LIST_COLS
               "WHERE bank_id = ? AND (target IN (SELECT code FROM tellers WHERE branch_id = ?) "
               "OR target IN (SELECT d.dev FROM devices d JOIN tellers t ON t.id = d.teller_id "
               "WHERE t.branch_id = ?)) " LIST_TAIL
                     : LIST_COLS "WHERE bank_id = ? " LIST_TAIL;
}

static int bind_list(struct store_stmt *s, int64_t bank_id, int64_t branch_id, int next,
                     int64_t before_seq, int limit)
{
    int rc = bank_id ? store_bind_int64(s, 1, bank_id) : STORE_OK;
    if (rc == STORE_OK && branch_id)
        rc = store_bind_int64(s, 2, branch_id);
    if (rc == STORE_OK && branch_id)
        rc = store_bind_int64(s, 3, branch_id);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, next, before_seq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, next + 1, before_seq);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, next + 2, limit);
    return rc;
}

static const char *col(struct store_stmt *s, int i);

int audit_list(struct store_conn *c, int64_t bank_id, int64_t branch_id, int64_t before_seq,
               int limit, int (*fn)(const struct audit_record *r, void *arg), void *arg)
{
    struct store_stmt *s = NULL;
    int next = 1;
    if (!c || !fn || bank_id < 0 || branch_id < 0 || (branch_id && !bank_id) || before_seq < 0 ||
        limit < 1 || limit > AUDIT_LIST_MAX)
        return ID_BAD_INPUT;
    int rc = store_prepare(c, list_sql(bank_id, branch_id, &next), &s);
    if (rc == STORE_OK)
        rc = bind_list(s, bank_id, branch_id, next, before_seq, limit);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        struct audit_record r = {store_col_int64(s, 0),
                                 store_col_int64(s, 1),
                                 store_col_int64(s, 2),
                                 col(s, 3),
                                 col(s, 4),
                                 col(s, 5),
                                 col(s, 6)};
        rc = fn(&r, arg);
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (s)
        store_finish(s);
    return rc;
}

/* ---- verification -------------------------------------------------------- */

static const char *col(struct store_stmt *s, int i)
{
    const char *t = store_col_text(s, i);
    return t ? t : "";
}

/* Why record r does not continue the chain after prev_hex, or NULL;
 * hash_hex gets its recomputed hash. */
static const char *content_fault(const struct record *r, const char *stored_prev,
                                 const char *stored_hash, const char *prev_hex,
                                 char hash_hex[AUDIT_HASH_HEX + 1])
{
    uint8_t prev[SM3_LEN], hash[SM3_LEN];
    if (strcmp(stored_prev, prev_hex) != 0)
        return "prev_hash does not match the previous record's hash (this or the previous "
               "record was altered or forged)";
    if (hex_decode(prev_hex, AUDIT_HASH_HEX, prev, SM3_LEN) != SM3_LEN ||
        record_hash(prev, r, hash) != ID_OK)
        return "hash cannot be recomputed";
    hex_encode(hash, SM3_LEN, hash_hex, AUDIT_HASH_HEX + 1);
    if (strcmp(stored_hash, hash_hex) != 0)
        return "hash does not match the record's content (altered)";
    return NULL;
}

/* Checks the row at position expect against the chain so far; ID_OK, or
 * ID_CORRUPT with the report naming the record and the fault. */
static int check_row(struct store_stmt *s, int64_t expect, const char *prev_hex,
                     struct audit_report *rep, char hash_hex[AUDIT_HASH_HEX + 1])
{
    struct record r = {store_col_int64(s, 0),
                       store_col_int64(s, 1),
                       store_col_int64(s, 2),
                       col(s, 3),
                       col(s, 4),
                       col(s, 5),
                       col(s, 6)};
    const char *why = NULL;
    if (r.seq > expect)
        why = "missing (deleted)";
    else if (r.seq < expect) /* e.g. seq 2.5, read as 2, sorts before 3 */
        why = "a record with a forged sequence number was inserted in its place";
    else
        why = content_fault(&r, col(s, 7), col(s, 8), prev_hex, hash_hex);
    if (!why)
        return ID_OK;
    rep->first_bad = expect;
    snprintf(rep->reason, sizeof rep->reason, "%s", why);
    return ID_CORRUPT;
}

int audit_verify(struct store *st, struct audit_report *rep)
{
    if (!st || !rep)
        return ID_ERR;
    memset(rep, 0, sizeof *rep);
    memset(rep->head, '0', AUDIT_HASH_HEX);
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    char hash_hex[AUDIT_HASH_HEX + 1];
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_prepare(c,
                           "SELECT seq, ts, bank_id, actor, event, target, detail, prev_hash, "
                           "hash FROM audit_log ORDER BY seq",
                           &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        rc = check_row(s, rep->records + 1, rep->head, rep, hash_hex);
        if (rc != ID_OK)
            break;
        memcpy(rep->head, hash_hex, sizeof hash_hex);
        rep->records++;
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (rc < 0)
        snprintf(rep->reason, sizeof rep->reason, "reading audit_log: %s", store_errmsg(c));
    if (s)
        store_finish(s);
    store_release(c);
    return rc;
}
