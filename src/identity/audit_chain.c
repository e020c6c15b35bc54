/* audit_chain.c — a record's hash and the walk along the chain (audit_int.h).
 *
 * Length-prefixed fields make the hashed text unambiguous: no choice of
 * actor or detail can make two different records hash the same text. The
 * keyed and the legacy form differ in their label as well as in the key, so
 * an SM3 rehash can never pass for an HMAC by accident of the label. */
#include "identity/audit_int.h"

#include "foundation/codec.h"
#include "foundation/secmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define LABEL_KEYED "zhanye audit v2\n"
#define LABEL_LEGACY "zhanye audit v1\n"
#define NFIELDS 7

int audit_record_hash(enum audit_mode m, const uint8_t prev[SM3_LEN], const struct audit_record *r,
                      uint8_t out[SM3_LEN])
{
    const struct audit_ctx *x = audit_ctx();
    char nums[3][24], heads[NFIELDS][24];
    if (m == AUDIT_KEYED && !x)
        return ID_ERR;
    snprintf(nums[0], sizeof nums[0], "%" PRId64, r->seq);
    snprintf(nums[1], sizeof nums[1], "%" PRId64, r->ts);
    snprintf(nums[2], sizeof nums[2], "%" PRId64, r->bank_id);
    const char *fields[NFIELDS] = {nums[0],  nums[1],   nums[2],  r->actor,
                                   r->event, r->target, r->detail};
    const char *label = m == AUDIT_KEYED ? LABEL_KEYED : LABEL_LEGACY;
    sm_part parts[2 + 2 * NFIELDS] = {{prev, SM3_LEN}, {label, strlen(label)}};
    for (int i = 0; i < NFIELDS; i++) {
        size_t n = strlen(fields[i]);
        int h = snprintf(heads[i], sizeof heads[i], "%zu:", n);
        parts[2 + 2 * i] = (sm_part){heads[i], (size_t)h};
        parts[3 + 2 * i] = (sm_part){fields[i], n};
    }
    size_t np = sizeof parts / sizeof parts[0];
    sm_status st = m == AUDIT_KEYED ? sm_hmac(x->key, sizeof x->key, parts, np, out)
                                    : sm3_digest(parts, np, out);
    return st == SM_OK ? ID_OK : ID_ERR;
}

static const char *col(struct store_stmt *s, int i)
{
    const char *t = store_col_text(s, i);
    return t ? t : "";
}

void audit_row_read(struct store_stmt *s, struct audit_row *out)
{
    out->r = (struct audit_record){store_col_int64(s, 0),
                                   store_col_int64(s, 1),
                                   store_col_int64(s, 2),
                                   col(s, 3),
                                   col(s, 4),
                                   col(s, 5),
                                   col(s, 6)};
    out->prev_hex = col(s, 7);
    out->hash_hex = col(s, 8);
}

/* hash_hex gets the row's recomputed hash after prev_hex; false if it cannot be computed. */
static bool recompute(enum audit_mode m, const struct audit_record *r, const char *prev_hex,
                      char hash_hex[AUDIT_HASH_HEX + 1])
{
    uint8_t prev[SM3_LEN], hash[SM3_LEN];
    if (strlen(prev_hex) != AUDIT_HASH_HEX ||
        hex_decode(prev_hex, AUDIT_HASH_HEX, prev, SM3_LEN) != SM3_LEN ||
        audit_record_hash(m, prev, r, hash) != ID_OK)
        return false;
    hex_encode(hash, SM3_LEN, hash_hex, AUDIT_HASH_HEX + 1);
    return true;
}

/* MACs are compared in constant time, stored or not. */
static bool same_hash(const char *a, const char *b)
{
    return strlen(a) == AUDIT_HASH_HEX && strlen(b) == AUDIT_HASH_HEX &&
           secmem_equal(a, b, AUDIT_HASH_HEX);
}

bool audit_row_verifies(enum audit_mode m, const struct audit_row *row)
{
    char hex[AUDIT_HASH_HEX + 1];
    return recompute(m, &row->r, row->prev_hex, hex) && same_hash(hex, row->hash_hex);
}

int audit_end_mode(struct store_conn *c, bool first, int64_t *seq, enum audit_mode *mode)
{
    struct store_stmt *s = NULL;
    struct audit_row row;
    *seq = 0;
    int rc =
        store_prepare(c,
                      first ? "SELECT " AUDIT_ROW_COLS " FROM audit_log ORDER BY seq LIMIT 1"
                            : "SELECT " AUDIT_ROW_COLS " FROM audit_log ORDER BY seq DESC LIMIT 1",
                      &s);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        audit_row_read(s, &row);
        *seq = row.r.seq;
        rc = ID_CORRUPT;
        if (audit_row_verifies(AUDIT_KEYED, &row))
            *mode = AUDIT_KEYED, rc = ID_OK;
        else if (audit_row_verifies(AUDIT_LEGACY, &row))
            *mode = AUDIT_LEGACY, rc = ID_OK;
    } else if (rc == STORE_DONE) {
        rc = ID_NOT_FOUND;
    }
    store_finish(s);
    return rc;
}

/* Why the row at position expect does not continue the chain after
 * prev_hex, or NULL; hash_hex gets its recomputed hash. */
static const char *fault(enum audit_mode m, const struct audit_row *row, int64_t expect,
                         const char *prev_hex, char hash_hex[AUDIT_HASH_HEX + 1])
{
    if (row->r.seq > expect)
        return "missing (deleted)";
    if (row->r.seq < expect) /* e.g. seq 2.5, read as 2, sorts before 3 */
        return "a record with a forged sequence number was inserted in its place";
    if (!same_hash(row->prev_hex, prev_hex))
        return "prev_hash does not match the previous record's hash (this or the previous "
               "record was altered or forged)";
    if (!recompute(m, &row->r, prev_hex, hash_hex))
        return "hash cannot be recomputed";
    if (!same_hash(row->hash_hex, hash_hex))
        return m == AUDIT_KEYED ? "hash does not match the record's content under the audit key "
                                  "(altered, or rehashed without the key)"
                                : "hash does not match the record's content (altered)";
    return NULL;
}

int audit_walk(struct store_conn *c, enum audit_mode m, struct audit_report *rep,
               int (*at)(int64_t seq, const char *hash_hex, void *arg), void *arg)
{
    struct store_stmt *s = NULL;
    struct audit_row row;
    char hash_hex[AUDIT_HASH_HEX + 1];
    rep->records = 0;
    rep->first_bad = 0;
    memset(rep->head, '0', AUDIT_HASH_HEX);
    rep->head[AUDIT_HASH_HEX] = '\0';
    int rc = store_prepare(c, "SELECT " AUDIT_ROW_COLS " FROM audit_log ORDER BY seq", &s);
    while (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        audit_row_read(s, &row);
        int64_t expect = rep->records + 1;
        const char *why = fault(m, &row, expect, rep->head, hash_hex);
        if (why) {
            rep->first_bad = expect;
            snprintf(rep->reason, sizeof rep->reason, "%s", why);
            rc = ID_CORRUPT;
            break;
        }
        memcpy(rep->head, hash_hex, sizeof hash_hex);
        rep->records++;
        rc = at ? at(expect, hash_hex, arg) : STORE_OK;
    }
    if (rc == STORE_DONE)
        rc = ID_OK;
    if (rc < 0)
        snprintf(rep->reason, sizeof rep->reason, "reading audit_log: %s", store_errmsg(c));
    store_finish(s);
    return rc;
}
