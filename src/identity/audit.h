/* audit — the append-only, hash-chained audit log.
 *
 * Record n carries seq = n (1, 2, 3 ... strictly consecutive, so a deleted
 * record leaves a gap), prev_hash = hash of record n-1 (32 zero bytes for
 * the first) and hash = SM3(prev_hash || canonical text of the record), the
 * canonical text being "zhanye audit v1\n" and then seq, ts, bank_id, actor,
 * event, target and detail, each as "<byte length>:<bytes>". Hashes are
 * stored as lowercase hex. detail is a JSON object stored in canonical form
 * (compact, keys sorted), so the hashed text is exactly what is stored.
 *
 * audit_append must run inside the caller's transaction on the same
 * connection, so a business write and its record commit or vanish together.
 * Appends serialise on the database write lock: SQLite's BEGIN IMMEDIATE
 * holds it from the start; on MariaDB the read of the last record must be
 * `SELECT ... FOR UPDATE` (the seq primary key turns a lost race into
 * STORE_CONSTRAINT, never a forked chain).
 *
 * What the chain proves: any change, deletion or insertion inside the log
 * is found by audit_verify. The hash is unkeyed, so someone who can write
 * the database could truncate the tail or append records with correct
 * hashes: record the head (seq and hash, printed by `zhanye audit verify`)
 * somewhere else to anchor it.
 *
 * actor, event and target are 1..64, 1..64 and 0..128 bytes without control
 * characters; actor names who acted: "cli:<os user>", "teller:<code>",
 * "dev:<hex>" or "system". No secret (password, code, DS, KEK) ever goes
 * into a record. */
#ifndef ZHANYE_AUDIT_H
#define ZHANYE_AUDIT_H

#include "data/store.h"
#include "identity/identity.h"

#include <stdint.h>

#define AUDIT_ACTOR_MAX 64
#define AUDIT_EVENT_MAX 64
#define AUDIT_TARGET_MAX 128
#define AUDIT_DETAIL_MAX 4096 /* bytes of canonical JSON */
#define AUDIT_HASH_HEX 64

/* Appends one record. bank_id is the bank the event concerns (0: none, a
 * platform-level event). detail_json: a JSON object, or NULL for {}.
 * ID_BAD_INPUT for malformed fields, ID_CORRUPT if the last record's hash
 * is unreadable, or a store status. */
int audit_append(struct store_conn *c, int64_t bank_id, const char *actor, const char *event,
                 const char *target, const char *detail_json);
/* The same with detail built by jansson's json_pack(fmt, ...), e.g.
 * audit_appendf(c, bank, actor, "teller.added", code, "{s:s, s:s}", "role", r, "bank", b). */
int audit_appendf(struct store_conn *c, int64_t bank_id, const char *actor, const char *event,
                  const char *target, const char *fmt, ...);

struct audit_report {
    int64_t records;               /* records checked and found intact */
    int64_t first_bad;             /* seq of the first bad (or missing) record; 0 if intact */
    char head[AUDIT_HASH_HEX + 1]; /* hash of the last intact record */
    char reason[256];              /* what is wrong with record first_bad */
};

/* One record as audit_list hands it over; the strings live only during the call. */
struct audit_record {
    int64_t seq, ts, bank_id;
    const char *actor, *event, *target, *detail;
};

#define AUDIT_LIST_MAX 500

/* The newest records first, at most limit (1..AUDIT_LIST_MAX) of them, of
 * seq < before_seq (0: from the newest):
 *   bank_id 0                every record, platform-level ones included;
 *   bank_id > 0              the records of that bank;
 *   and branch_id > 0        of those, the ones whose target is a teller of
 *                            that branch or a device of such a teller.
 * fn returns non-zero to stop (that value is returned). Reads only. */
int audit_list(struct store_conn *c, int64_t bank_id, int64_t branch_id, int64_t before_seq,
               int limit, int (*fn)(const struct audit_record *r, void *arg), void *arg);

/* Walks the whole chain. ID_OK if intact, ID_CORRUPT with the report naming
 * the first altered, inserted or deleted record, or a store status. */
int audit_verify(struct store *st, struct audit_report *out);

#endif
