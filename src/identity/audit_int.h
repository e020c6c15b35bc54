/* audit_int — what the audit_*.c files share; not for other modules.
 *
 * audit_ctx.c owns the context (keys, options), audit.c appends and lists,
 * audit_chain.c hashes records and walks the chain, audit_verify.c checks
 * chain and checkpoints, audit_checkpoint.c signs and ships checkpoints,
 * audit_rekey.c upgrades a legacy chain. */
#ifndef ZHANYE_AUDIT_INT_H
#define ZHANYE_AUDIT_INT_H

#include "channel/sm.h"
#include "identity/audit.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct audit_ctx {
    bool open;
    uint8_t key[AUDIT_KEY_LEN]; /* the chain's HMAC-SM3 key */
    sm2_key *sign;              /* private; NULL when opened verify_only */
    sm2_key *pub;               /* public half, for checking checkpoints */
    char pub_hex[AUDIT_PUB_HEX + 1];
    int64_t every;
    uint64_t epoch; /* which audit_open this is: a due checkpoint mark belongs to one */
    char checkpoint_file[PATH_MAX];
};

/* The context, or NULL when it is not open. */
const struct audit_ctx *audit_ctx(void);

/* ---- records (audit_chain.c) --------------------------------------------- */

enum audit_mode {
    AUDIT_KEYED,  /* HMAC-SM3 under the key, label "zhanye audit v2\n" */
    AUDIT_LEGACY, /* SM3, label "zhanye audit v1\n": databases from before the key */
};

/* The columns audit_row reads, in its order. */
#define AUDIT_ROW_COLS "seq, ts, bank_id, actor, event, target, detail, prev_hash, hash"

/* A row of AUDIT_ROW_COLS; the strings live until the statement steps. */
struct audit_row {
    struct audit_record r;
    const char *prev_hex, *hash_hex;
};

void audit_row_read(struct store_stmt *s, struct audit_row *out);
/* The hash of r after prev; ID_OK, or ID_ERR (context closed, library). */
int audit_record_hash(enum audit_mode m, const uint8_t prev[SM3_LEN], const struct audit_record *r,
                      uint8_t out[SM3_LEN]);
/* Whether the row's stored hash is its hash after its own stored prev_hash. */
bool audit_row_verifies(enum audit_mode m, const struct audit_row *row);

/* The last record (first: the first one): ID_OK with its seq and the mode
 * its hash verifies in; ID_NOT_FOUND for an empty log; ID_CORRUPT (seq
 * set) if it verifies in neither; or a store status. start-up looks at the
 * head (cheap); verification at the first record, so that a tail rehashed
 * as SM3 is reported where it starts, not as a whole legacy chain. */
int audit_end_mode(struct store_conn *c, bool first, int64_t *seq, enum audit_mode *mode);

/* Walks the chain in order under mode. rep->records, head, first_bad and
 * reason as in struct audit_report; at(seq, hash_hex, arg) is called for
 * each intact record and may stop the walk by returning non-zero (that
 * value is returned). ID_OK, ID_CORRUPT, or a store status. */
int audit_walk(struct store_conn *c, enum audit_mode m, struct audit_report *rep,
               int (*at)(int64_t seq, const char *hash_hex, void *arg), void *arg);

/* ---- checkpoints (audit_checkpoint.c) ------------------------------------ */

/* Called by audit_append after each record: marks a checkpoint due when seq
 * is a multiple of checkpoint_every. */
void audit_checkpoint_note(int64_t seq);
/* The number of rows of audit_checkpoints, or a store status (< 0). */
int64_t audit_checkpoint_count(struct store_conn *c);

#endif
