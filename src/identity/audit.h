/* audit — the append-only audit log, a hash chain keyed outside the database.
 *
 * Record n carries seq = n (1, 2, 3 ... strictly consecutive, so a deleted
 * record leaves a gap), prev_hash = hash of record n-1 (32 zero bytes for
 * the first) and
 *     hash = HMAC-SM3(audit key, prev_hash || canonical text of the record),
 * the canonical text being "zhanye audit v2\n" and then seq, ts, bank_id,
 * actor, event, target and detail, each as "<byte length>:<bytes>". Hashes
 * are stored as lowercase hex. detail is a JSON object stored in canonical
 * form (compact, keys sorted), so the hashed text is exactly what is stored.
 * Databases from before the key used hash = SM3(prev_hash || "zhanye audit
 * v1\n" || the same fields) ("legacy"); audit_prepare re-chains them once.
 *
 * audit_append must run inside the caller's transaction on the same
 * connection, so a business write and its record commit or vanish together.
 * Appends serialise on the database write lock: SQLite's BEGIN IMMEDIATE
 * holds it from the start; on MariaDB the read of the last record must be
 * `SELECT ... FOR UPDATE` (the seq primary key turns a lost race into
 * STORE_CONSTRAINT, never a forked chain).
 *
 * What the chain proves, against someone who can write the database but
 * cannot read the key files:
 *   - no record can be altered, inserted, deleted or appended without
 *     audit_verify finding it: he cannot compute the HMAC of a record;
 *   - cutting off the tail is found below the last signed checkpoint
 *     (audit_checkpoint.h: SM2 signatures over the head's seq and hash, at
 *     least every [audit] checkpoint_every records, by `zhanye audit
 *     checkpoint` and at a clean shutdown, kept in the database and in a file
 *     to ship elsewhere); records after the last checkpoint can be cut off
 *     unnoticed, and deleting checkpoints from the database is only seen
 *     against the file (audit_verify's checkpoint_file).
 * Whoever can read keys/audit.key can rewrite the chain; only checkpoints
 * already shipped elsewhere (and signed before) still show it.
 *
 * The audit context. The keys live in [channel] key_dir beside the KEK,
 * never in the database and never in the log:
 *   audit.key       32 random bytes as 64 hex digits, mode 0600 (HMAC key);
 *   audit-sign.key  the SM2 checkpoint signing key, PKCS#8 PEM, mode 0600;
 *   audit-sign.pub  its public key 04||x||y as 130 hex digits (0644), all a
 *                   verifier of checkpoints needs.
 * audit_open() loads them into ONE process-wide context that every append,
 * verification and checkpoint uses; the 30-odd call sites of audit_append
 * keep their signature, and the identity layer needs nothing from app/.
 * Contract: audit_open() is called once at start-up, before any thread that
 * appends, verifies or checkpoints starts; the context is read-only
 * afterwards (no lock); audit_close() wipes the key after every such thread
 * has been joined. Without an open context audit_append fails (ID_ERR,
 * logged as audit.no_key): a record is never written unkeyed.
 *
 * actor, event and target are 1..64, 1..64 and 0..128 bytes without control
 * characters; actor names who acted: "cli:<os user>", "teller:<code>",
 * "dev:<hex>" or "system". No secret (password, code, DS, KEK, audit key)
 * ever goes into a record. */
#ifndef ZHANYE_AUDIT_H
#define ZHANYE_AUDIT_H

#include "data/shard.h"
#include "data/store.h"
#include "identity/identity.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_ACTOR_MAX 64
#define AUDIT_EVENT_MAX 64
#define AUDIT_TARGET_MAX 128
#define AUDIT_DETAIL_MAX 4096 /* bytes of canonical JSON */
#define AUDIT_HASH_HEX 64
#define AUDIT_KEY_LEN 32
#define AUDIT_PUB_HEX 130
#define AUDIT_SIG_HEX 144 /* hex of a DER SM2 signature, at most */

#define AUDIT_KEY_FILE "audit.key"
#define AUDIT_SIGN_FILE "audit-sign.key"
#define AUDIT_PUB_FILE "audit-sign.pub"

/* ---- the context ---------------------------------------------------------- */

struct audit_options {
    const char *key_dir;         /* where the three key files are */
    const char *checkpoint_file; /* the JSON-lines copy of the checkpoints */
    int64_t checkpoint_every;    /* >= 1: a checkpoint is due every this many records */
    bool verify_only;            /* do not load the private signing key (verifiers) */
};

/* Creates key_dir (0700) if needed and each missing key file: audit.key
 * (O_EXCL, 0600), audit-sign.key (0600) and, from it, audit-sign.pub
 * (0644). Existing files are never overwritten. ID_OK if it created one or
 * more, ID_EXISTS if all three were there, ID_ERR on an I/O or RNG failure
 * (err says which file). */
int audit_keys_create(const char *key_dir, char *err, size_t errcap);
/* Loads the keys and sets the context (see the contract above). ID_OK;
 * ID_NOT_FOUND if a key file is missing; ID_BAD_INPUT if one is not a
 * regular file, a secret one is readable by group or others, or is
 * malformed, or audit-sign.pub is not the signing key's public half, or an
 * option is out of range; ID_EXISTS if the context is already open; ID_ERR
 * on I/O. err names the file and the fault, never key material. */
int audit_open(const struct audit_options *o, char *err, size_t errcap);
/* Wipes the key and frees the signing keys; safe when not open. */
void audit_close(void);
bool audit_is_open(void);
/* The public checkpoint key as 130 hex digits; ID_ERR when not open. */
int audit_pubkey_hex(char out[AUDIT_PUB_HEX + 1]);

/* ---- chains: one per database --------------------------------------------
 *
 * audit_append continues the chain of the database its connection belongs
 * to, so each database has a chain of its own: the directory's ("main")
 * holds the identity layer's records and whatever the CLI and the console
 * audit; each bank shard's (data/shard.h) holds the business records of the
 * banks while they lived there (a bank moved away leaves its old records
 * where they were written). Each chain is verified and checkpointed on its
 * own, with its own checkpoint file (audit_checkpoint.h):
 *   main        DATA/audit-checkpoints.jsonl
 *   shard NAME  DATA/audit-checkpoints-NAME.jsonl */

#define AUDIT_CHAIN_MAIN SHARD_MAIN
#define AUDIT_CHAINS_MAX (SHARD_MAX + 1)

struct audit_chain {
    char name[SHARD_NAME_MAX + 1]; /* "main" or the shard's name */
    struct store *st;              /* the database (the caller's; outlives the chain) */
    char file[PATH_MAX];           /* its checkpoint file ("": the context's) */
};

/* Every chain of a province, main first, then the shards in shards_each()
 * order; v is malloc'd (audit_chains_free). */
struct audit_chains {
    size_t n;
    struct audit_chain *v;
};

/* The chains of sh's databases with their checkpoint files in data_dir.
 * ID_OK; ID_BAD_INPUT if a path does not fit; STORE_NOMEM. out is empty
 * (and freeable) on failure. */
int audit_chains_collect(struct shards *sh, const char *data_dir, struct audit_chains *out);
void audit_chains_free(struct audit_chains *cs);
/* The chain called name, or NULL. */
const struct audit_chain *audit_chains_find(const struct audit_chains *cs, const char *name);

/* Each chain's checkpoint file (identity/audit_checkpoint.h). */
#define AUDIT_CHECKPOINT_FILE "audit-checkpoints.jsonl"
#define AUDIT_CHECKPOINT_PREFIX "audit-checkpoints-" /* + shard name + ".jsonl" */
/* data_dir/audit-checkpoints.jsonl (the directory's chain) into out; -1 if
 * it does not fit. */
int audit_checkpoint_path(const char *data_dir, char *out, size_t cap);
/* The checkpoint file of the chain called name (AUDIT_CHAIN_MAIN or a
 * shard's name): data_dir/audit-checkpoints.jsonl for main,
 * data_dir/audit-checkpoints-<name>.jsonl for a shard; -1 if it does not fit. */
int audit_checkpoint_path_of(const char *data_dir, const char *name, char *out, size_t cap);

/* ---- appending and listing --------------------------------------------- */

/* Appends one record. bank_id is the bank the event concerns (0: none, a
 * platform-level event). detail_json: a JSON object, or NULL for {}.
 * ID_BAD_INPUT for malformed fields, ID_CORRUPT if the last record's hash
 * is unreadable, ID_ERR if the context is not open, or a store status.
 * Marks a checkpoint due when seq reaches a multiple of checkpoint_every
 * (audit_checkpoint.h). */
int audit_append(struct store_conn *c, int64_t bank_id, const char *actor, const char *event,
                 const char *target, const char *detail_json);
/* The same with detail built by jansson's json_pack(fmt, ...), e.g.
 * audit_appendf(c, bank, actor, "teller.added", code, "{s:s, s:s}", "role", r, "bank", b). */
int audit_appendf(struct store_conn *c, int64_t bank_id, const char *actor, const char *event,
                  const char *target, const char *fmt, ...);

struct tenant_conn;
/* For business transactions, which hold only a tenant scope (data/tenant.h):
 * appends one record on the scope's connection, inside the request's
 * transaction, with bank_id the scope's bank (the caller cannot name
 * another) and the scope's "teller_id" and "branch_id" added to detail
 * (given members of those names are replaced). actor is who acted, as
 * above ("dev:<hex>" for a tablet). Returns as audit_append; ID_BAD_INPUT
 * also for a NULL scope or a detail that is not a JSON object. */
int audit_tenant(struct tenant_conn *tc, const char *actor, const char *event, const char *target,
                 const char *detail_json);
/* The same with detail built by json_pack(fmt, ...). */
int audit_tenantf(struct tenant_conn *tc, const char *actor, const char *event, const char *target,
                  const char *fmt, ...);

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
 *                            that branch or a device of such a teller, and
 *                            the business records made in that branch
 *                            (audit_tenant's detail "branch_id"; in any
 *                            chain, the shards' included).
 * fn returns non-zero to stop (that value is returned). Reads only. */
int audit_list(struct store_conn *c, int64_t bank_id, int64_t branch_id, int64_t before_seq,
               int limit, int (*fn)(const struct audit_record *r, void *arg), void *arg);

/* The newest records of every chain of cs, merged newest first by ts
 * (equal ts: in the order of cs, main first), of the scope as in
 * audit_list, at most limit (1..AUDIT_LIST_MAX). fn gets the name of the
 * record's chain too. held: a connection of the database of cs->v[0] the
 * caller holds, used for that chain (NULL: one is acquired); every other
 * chain's database gets a connection of its own for the call.
 *
 * Paging across chains: a cursor names, for each chain that may hold more
 * records, the seq the next page continues below, "main:1204,s1:88"
 * (names of cs, each once; seq >= 1). before NULL or "": the first page,
 * every chain from its newest record; a chain the cursor does not name has
 * no more; a plain "SEQ" is "main:SEQ" (the form of a single database). next
 * (nextcap >= AUDIT_CURSOR_MAX) gets the cursor of the following page, ""
 * when no chain holds more. The seq bounds make pages neither repeat nor
 * skip a record, whatever the clocks did; records appended after the first
 * page come on no page of it.
 * ID_OK; ID_BAD_INPUT for a malformed cursor or argument; a store status
 * (STORE_BUSY: a database's pool is exhausted); or fn's non-zero value. */
#define AUDIT_CURSOR_MAX (AUDIT_CHAINS_MAX * (SHARD_NAME_MAX + 22) + 1)
int audit_list_chains(const struct audit_chains *cs, struct store_conn *held, int64_t bank_id,
                      int64_t branch_id, const char *before, int limit,
                      int (*fn)(const char *chain, const struct audit_record *r, void *arg),
                      void *arg, char *next, size_t nextcap);

/* ---- verifying ----------------------------------------------------------- */

struct audit_report {
    int64_t records;               /* records checked and found intact */
    int64_t first_bad;             /* seq of the first bad (or missing) record; 0 if intact */
    char head[AUDIT_HASH_HEX + 1]; /* hash of the last intact record */
    char reason[512];              /* what is wrong with record first_bad */
    bool legacy;                   /* the chain is unkeyed (not yet re-chained) */
    int64_t checkpoints;           /* database checkpoints whose signature verified */
    int64_t file_checkpoints;      /* lines of the checkpoint file checked; -1: no file */
    int64_t unshipped;             /* database checkpoints after the file's last line */
    struct {
        int64_t seq, ts; /* seq 0: none */
        char hash[AUDIT_HASH_HEX + 1];
    } last; /* the newest checkpoint, signature and chain both verified */
};

/* Walks the whole chain under the key (or, for a legacy chain, as SM3) and
 * checks every checkpoint: of the database and of checkpoint_file (NULL:
 * the context's file, skipped if it does not exist; a file named here must
 * exist). A checkpoint must carry a valid signature, the chain must hold
 * its (seq, hash) — so a tail cut below it is found — and every checkpoint
 * of the file must also be in the database. ID_OK if all holds;
 * ID_CORRUPT with first_bad the lowest seq found bad and reason one line;
 * ID_BAD_INPUT if the checkpoint file is malformed, ID_NOT_FOUND if a named
 * file is missing (reason says which line or file); ID_ERR if the context
 * is not open, or a store status. */
int audit_verify(struct store *st, const char *checkpoint_file, struct audit_report *out);
/* The same for one chain: checked against ch->file (an empty name: the
 * context's; skipped if it does not exist) or, when copy is not NULL,
 * against copy (which must exist). */
int audit_verify_chain(const struct audit_chain *ch, const char *copy, struct audit_report *out);

/* ---- start-up ----------------------------------------------------------- */

struct audit_upgrade {
    int64_t rekeyed;                      /* legacy records re-chained now; 0: none */
    char legacy_head[AUDIT_HASH_HEX + 1]; /* the unkeyed chain's head hash before */
};

/* Run once by every process that appends, after audit_open (with the
 * signing key) and before any other thread starts. Checks that the chain's
 * last record verifies under the key. A legacy (unkeyed) chain is verified
 * whole and, only if intact, re-chained under the key in one store_run
 * transaction that also appends "audit.rekeyed" (actor, {"records": n,
 * "legacy_head": hex}); then the checkpoint file is created and a first
 * checkpoint signed. A legacy chain is refused, never re-chained, when the
 * data directory has been keyed before (checkpoints in the database, or the
 * checkpoint file exists: `zhanye init` creates it): that is a replaced log.
 * ID_OK (out says whether it re-chained); ID_CORRUPT with err saying why
 * the process must not start (head does not verify: wrong key or tampered;
 * legacy chain broken at seq N; legacy log in a keyed directory); ID_ERR
 * if the context is not open, or a store status. */
int audit_prepare(struct store *st, const char *actor, struct audit_upgrade *out, char *err,
                  size_t errcap);

#endif
