/* shard — bank shards (分库): which database holds a bank's business data.
 *
 * THE DIRECTORY is the [store] database. It holds what is needed before a
 * bank is known or across banks — banks, branches, tellers, devices,
 * sessions, the identity layer's audit chain — and the map of banks to
 * shards. A bank's business data (the tables migrations_bank_tables() names:
 * customers, ...) lives in the bank's shard: a database of the same schema
 * (every migration runs on every shard), named by a [shard.NAME] section. The
 * directory's own database is the shard "main"; a one-machine install has no
 * [shard.*] and every bank is in main. Business tables never join identity
 * tables, so the two may live on different servers.
 *
 * PLACEMENT of bank B: the directory's row of B in bank_shards, if there is
 * one (shard_move writes it); else the [shard.NAME] whose `banks` lists B's
 * code; else main.
 *
 * THE FENCE. Each database keeps, in its table shard_banks, the banks that
 * left it ('moving' while a move copies them out, 'gone' after) and the
 * banks moved into it ('active'); a bank with no row there is where its
 * placement says. Every business transaction calls shard_fence() on its own
 * connection inside its own transaction, before its first statement:
 *   SHARD_HERE    the bank's data is here: go on;
 *   SHARD_MOVING  a move is copying it out: refuse the write for now
 *                 (answer `unavailable`, Retry-After); reads may go on;
 *   SHARD_GONE    it moved away: roll back, shards_reload(), and run again on
 *                 the shard shards_route() names now.
 * Since writers of a database are serialised (SQLite's write lock; the
 * MariaDB backend's writer lock taken at BEGIN), a move's 'moving' commits
 * only after every transaction that saw the bank here has ended, and every
 * later one sees it: no write can slip in behind the copy. A read outside a
 * transaction checks the fence before and after it (a move may delete the
 * rows in between).
 *
 * Nodes learn of a move through the fence, without any message: a node with
 * the old map meets SHARD_GONE on the old shard and reloads.
 *
 * Threads: route, reload and each are safe from any thread (a read-write
 * lock); shards_add only before the struct is shared. */
#ifndef ZHANYE_DATA_SHARD_H
#define ZHANYE_DATA_SHARD_H

#include "data/store.h"

#include <stdbool.h>
#include <stdint.h>

#define SHARD_MAIN "main"
#define SHARD_NAME_MAX 39 /* bytes of a shard's name: [A-Za-z0-9_-] */
#define SHARD_MAX 64      /* shards besides main */

enum shard_rc {
    SHARD_HERE = 0,    /* (also STORE_OK) */
    SHARD_MOVING = 20, /* a move is copying the bank out of this database */
    SHARD_GONE = 21,   /* the bank left this database */
};

struct shards;

/* A map with only main = dir (which stays the caller's and must outlive
 * it). STORE_OK, STORE_NOMEM. */
int shards_new(struct store *dir, struct shards **out);
void shards_free(struct shards *sh);

/* Adds shard name on store st (the caller's; it must outlive sh), placing
 * the banks whose codes are listed in banks ("B01, B02"; NULL or "" = none).
 * STORE_OK; STORE_ERR for a bad or taken name, a bank code listed twice
 * (here or in another shard), more than SHARD_MAX shards. */
int shards_add(struct shards *sh, const char *name, struct store *st, const char *banks);

/* Reads the placement: bank codes to ids and the bank_shards rows of the
 * directory. A bank code of a `banks` list that no bank has yet is kept and
 * placed once it exists (next reload). STORE_OK or a store status (the map
 * in use is then unchanged); STORE_ERR if a row names an unknown shard. */
int shards_reload(struct shards *sh);

/* The store holding bank_id's business data now, and its name into name
 * (SHARD_NAME_MAX + 1 bytes; may be NULL). Never NULL: main by default. */
struct store *shards_route(struct shards *sh, int64_t bank_id, char *name);
/* The store of the shard called name, or NULL. */
struct store *shards_store(struct shards *sh, const char *name);
/* How many shards besides main. */
int shards_count(const struct shards *sh);

/* Calls fn once per database, main first, then the shards in the order they
 * were added; stops at the first non-zero return and returns it. For
 * province-wide reads that merge every shard. */
int shards_each(struct shards *sh, int (*fn)(const char *name, struct store *st, void *arg),
                void *arg);

/* On c (a connection of the database the caller routed to, inside its
 * transaction or just before and after a read): SHARD_HERE, SHARD_MOVING,
 * SHARD_GONE, or a store status. */
int shard_fence(struct store_conn *c, int64_t bank_id);

/* Sets (state "moving", "gone", "active") or clears (state NULL) bank_id's
 * fence row on c, inside the caller's transaction. For shard_move. */
int shard_fence_set(struct store_conn *c, int64_t bank_id, const char *state, int64_t now_ms);

#endif
