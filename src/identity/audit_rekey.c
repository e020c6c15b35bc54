/* audit_rekey.c — the start-up check of the chain and the one-time upgrade
 * of a legacy (unkeyed) chain (see audit_prepare in audit.h).
 *
 * The upgrade rewrites prev_hash and hash of every record, in order, with
 * the keyed hash; the records' content stays as it was. It runs inside one
 * store_run transaction that first verifies the legacy chain again, so two
 * processes starting at once cannot both re-chain, and a chain that does
 * not verify is never blessed with the key. */
#include "identity/audit_checkpoint.h"
#include "identity/audit_int.h"

#include "foundation/codec.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct rekey {
    const char *actor;
    struct audit_upgrade *out;
    struct audit_report rep; /* of the legacy walk */
};

static int update_hashes(struct store_conn *c, int64_t seq, const char *prev_hex,
                         const char *hash_hex)
{
    struct store_stmt *s = NULL;
    int rc = store_prepare(c, "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, prev_hex);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 2, hash_hex);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 3, seq);
    if (rc == STORE_OK)
        rc = store_step(s);
    store_finish(s);
    return rc == STORE_DONE ? STORE_OK : rc;
}

/* Record seq re-chained after prev (which becomes its hash). */
static int rechain_one(struct store_conn *c, int64_t seq, uint8_t prev[SM3_LEN])
{
    struct store_stmt *s = NULL;
    struct audit_row row;
    uint8_t hash[SM3_LEN];
    char prev_hex[AUDIT_HASH_HEX + 1], hash_hex[AUDIT_HASH_HEX + 1];
    int rc = store_prepare(c, "SELECT " AUDIT_ROW_COLS " FROM audit_log WHERE seq = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_int64(s, 1, seq);
    if (rc == STORE_OK)
        rc = store_step(s);
    if (rc == STORE_ROW) {
        audit_row_read(s, &row);
        rc = audit_record_hash(AUDIT_KEYED, prev, &row.r, hash);
    } else if (rc == STORE_DONE) {
        rc = ID_CORRUPT; /* verified a moment ago in this transaction */
    }
    store_finish(s);
    if (rc != ID_OK)
        return rc;
    hex_encode(prev, SM3_LEN, prev_hex, sizeof prev_hex);
    hex_encode(hash, SM3_LEN, hash_hex, sizeof hash_hex);
    memcpy(prev, hash, SM3_LEN);
    return update_hashes(c, seq, prev_hex, hash_hex);
}

static int rekey_txn(struct store_conn *c, void *arg)
{
    struct rekey *job = arg;
    uint8_t prev[SM3_LEN] = {0};
    enum audit_mode mode = AUDIT_KEYED;
    int64_t head = 0;
    memset(job->out, 0, sizeof *job->out);
    memset(&job->rep, 0, sizeof job->rep);
    int rc = audit_end_mode(c, false, &head, &mode);
    if (rc == ID_NOT_FOUND || (rc == ID_OK && mode == AUDIT_KEYED))
        return STORE_OK; /* another process upgraded it meanwhile */
    if (rc != ID_OK)
        return rc;
    rc = audit_walk(c, AUDIT_LEGACY, &job->rep, NULL, NULL);
    if (rc != ID_OK)
        return rc;
    for (int64_t seq = 1; rc == ID_OK && seq <= job->rep.records; seq++)
        rc = rechain_one(c, seq, prev);
    if (rc == ID_OK)
        rc = audit_appendf(c, 0, job->actor, "audit.rekeyed", "", "{s:I,s:s}", "records",
                           (json_int_t)job->rep.records, "legacy_head", job->rep.head);
    if (rc == ID_OK) {
        job->out->rekeyed = job->rep.records;
        memcpy(job->out->legacy_head, job->rep.head, sizeof job->out->legacy_head);
    }
    return rc;
}

/* The legacy chain re-chained, then the file created and a first checkpoint. */
static int upgrade(struct store *st, struct store_conn **c, struct rekey *job, char *err,
                   size_t errcap)
{
    const struct audit_ctx *x = audit_ctx();
    int64_t ncp = audit_checkpoint_count(*c);
    if (ncp < 0)
        return (int)ncp;
    if (ncp > 0 || access(x->checkpoint_file, F_OK) == 0) {
        snprintf(err, errcap,
                 "the audit chain is unkeyed, as from before keyed audit, but this data "
                 "directory has been keyed (%s): the log was replaced; refusing to re-chain it "
                 "(run zhanye audit verify)",
                 ncp > 0 ? "checkpoints in the database" : x->checkpoint_file);
        return ID_CORRUPT;
    }
    int rc = store_run(*c, "audit.rekey", rekey_txn, job);
    if (rc == ID_CORRUPT) {
        snprintf(err, errcap,
                 "the unkeyed audit chain (from before keyed audit) is broken at record %" PRId64
                 ": %s; refusing to re-chain it under the key (run zhanye audit verify)",
                 job->rep.first_bad, job->rep.reason);
        return rc;
    }
    if (rc != STORE_OK) {
        snprintf(err, errcap, "re-chaining the audit log: %s: %s", store_rc_name(rc),
                 store_errmsg(*c));
        return rc;
    }
    if (job->out->rekeyed == 0)
        return ID_OK;
    store_release(*c); /* audit_checkpoint takes a connection of its own */
    *c = NULL;
    struct audit_checkpoint cp;
    rc = audit_checkpoint_file_create(x->checkpoint_file);
    if (rc == ID_OK || rc == ID_EXISTS)
        rc = audit_checkpoint(st, &cp);
    if (rc != ID_OK)
        snprintf(err, errcap, "re-chained the audit log, but its first checkpoint failed (%s)",
                 id_rc_name(rc));
    return rc;
}

int audit_prepare(struct store *st, const char *actor, struct audit_upgrade *out, char *err,
                  size_t errcap)
{
    const struct audit_ctx *x = audit_ctx();
    struct audit_upgrade none = {0};
    struct rekey job = {.actor = actor, .out = out ? out : &none};
    struct store_conn *c = NULL;
    enum audit_mode mode = AUDIT_KEYED;
    int64_t head = 0;
    memset(job.out, 0, sizeof *job.out);
    if (!x || !x->sign || !st || !actor) {
        snprintf(err, errcap, "the audit context is not open with its signing key");
        return ID_ERR;
    }
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = audit_end_mode(c, false, &head, &mode);
    if (rc == ID_NOT_FOUND || (rc == ID_OK && mode == AUDIT_KEYED))
        rc = ID_OK;
    else if (rc == ID_OK) /* legacy */
        rc = upgrade(st, &c, &job, err, errcap);
    else if (rc == ID_CORRUPT)
        snprintf(err, errcap,
                 "the audit chain's last record (seq %" PRId64 ") does not verify under the "
                 "audit key %s: the key is not the one this log was written with, or the "
                 "record was tampered with (run zhanye audit verify)",
                 head, AUDIT_KEY_FILE);
    else
        snprintf(err, errcap, "reading the audit log: %s: %s", store_rc_name(rc), store_errmsg(c));
    store_release(c);
    return rc;
}
