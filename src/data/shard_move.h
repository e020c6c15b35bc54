/* shard_move — moving one bank's business data to another shard: copy,
 * verify, switch (the fence and the map: data/shard.h).
 *
 * shard_move(sh, bank, to, tables, n, now_ms, rep):
 *   1. source: the bank's fence becomes 'moving' (after every transaction
 *      that saw it here has ended; later writers are refused, readers go on);
 *   2. target: in one transaction, rows of the bank left there by an earlier
 *      attempt are deleted and every row of the bank in each table is copied
 *      (SELECT * WHERE bank_id = ? [AND where] on the source, INSERT on the
 *      target, values with their storage class);
 *   3. verify: per table, the row count and an SM3 digest of every row in a
 *      canonical form, read back from the target in its own transaction, must
 *      equal the source's; otherwise the copy is deleted, the source's fence
 *      cleared, and STORE_ERR says which table differs;
 *   4. switch: target fence 'active'; directory bank_shards row -> target;
 *      source fence 'gone' and the bank's rows deleted there, in one
 *      transaction; the caller's map is reloaded.
 * Each step is idempotent, so a move cut short (a crash, a database down)
 * is finished by running the same move again: before step 4 it starts over
 * from step 1; after the directory switched, the bank's route is already
 * the target, and shard_move finishes the source's step 4 (any shard whose
 * fence of the bank still says 'moving').
 *
 * tables: the bank-scoped tables to move (each has a bank_id column), with
 * an optional extra condition (e.g. only some rows of a shared table). The
 * copy of one table is held in memory by the MariaDB client (one bank's
 * rows at a time).
 *
 * Returns STORE_OK with rep filled; STORE_ERR with the reason in
 * store_errmsg(NULL) (an unknown shard, the bank already there, a verify
 * mismatch) or a store status of the failing step. */
#ifndef ZHANYE_DATA_SHARD_MOVE_H
#define ZHANYE_DATA_SHARD_MOVE_H

#include "data/shard.h"

#include <stddef.h>
#include <stdint.h>

#define SHARD_MOVE_TABLES 64

struct shard_table {
    const char *name;  /* [a-z_]+ */
    const char *where; /* NULL, or an extra condition ANDed to bank_id = ? */
};

struct shard_move_report {
    char from[SHARD_NAME_MAX + 1], to[SHARD_NAME_MAX + 1];
    bool resumed; /* the directory had already switched: only the source was finished */
    size_t ntables;
    struct {
        char name[64];
        int64_t rows;
        char digest[65]; /* SM3, hex */
    } table[SHARD_MOVE_TABLES];
    int64_t rows; /* all tables */
};

int shard_move(struct shards *sh, int64_t bank_id, const char *to, const struct shard_table *tables,
               size_t ntables, int64_t now_ms, struct shard_move_report *rep);

#endif
