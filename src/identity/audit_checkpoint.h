/* audit_checkpoint — signed checkpoints of the audit chain's head.
 *
 * A checkpoint is (seq, hash) of the chain's last committed record and the
 * time ts (Unix ms) it was signed at, with an SM2 signature (SM3, default
 * identifier, channel/sm.h) by the audit signing key over the text
 *     "zhanye audit checkpoint v1|<seq>|<hash, 64 lowercase hex>|<ts>"
 * It is stored in the table audit_checkpoints of the chain's own database
 * and, after that commits, appended as one line to the chain's checkpoint
 * file (DATA/audit-checkpoints.jsonl for the directory's chain,
 * DATA/audit-checkpoints-<shard>.jsonl for a shard's; audit.h "chains"),
 *     {"seq":1000,"ts":1767225600000,"hash":"<64 hex>","sig":"<hex of DER>"}
 * for the operator to ship elsewhere (docs/operations.md). Whoever holds
 * the public key (audit-sign.pub, `zhanye audit pubkey`) can check a line.
 * The file only ever holds committed checkpoints: each append first adds
 * every database checkpoint newer than the file's last complete line, under
 * an exclusive flock, so a crash between commit and file costs nothing; a
 * line cut short by a crash is dropped and rewritten.
 *
 * When: audit_append marks a checkpoint due each time a chain's seq
 * reaches a multiple of [audit] checkpoint_every. In the server the
 * checkpointer thread (audit_checkpointer_start; one thread for every
 * chain) takes it at once, in a transaction of its own after the appending
 * one ended: the mark does not say which chain, so it signs the head of
 * each chain that reached a multiple of checkpoint_every since its last
 * checkpoint. A CLI command, which appends to the directory's chain only,
 * takes it when it closes (audit_checkpoint_if_due). Since a checkpoint
 * signs the head committed by then, there are at most checkpoint_every
 * records between a chain's checkpoints, plus those appended while one is
 * signed. Also by `zhanye audit checkpoint` and at a clean shutdown
 * (app_close), for every chain (audit_checkpoint_all). A checkpoint is only
 * signed over a head that verifies under the audit key. */
#ifndef ZHANYE_AUDIT_CHECKPOINT_H
#define ZHANYE_AUDIT_CHECKPOINT_H

#include "data/store.h"
#include "identity/audit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct audit_checkpoint {
    int64_t seq, ts;
    char hash[AUDIT_HASH_HEX + 1];
    char sig[AUDIT_SIG_HEX + 1];
};

/* audit_checkpoint_path(_of), the names of the checkpoint files: with the
 * chains, in identity/audit.h. */
/* Creates an empty checkpoint file (O_EXCL, 0644): the mark of a data
 * directory keyed from the start (see audit_prepare). ID_OK, ID_EXISTS,
 * or ID_ERR (errno set). */
int audit_checkpoint_file_create(const char *path);

/* Signs the committed head in a store_run transaction of its own, then
 * appends to the checkpoint file. Must be called outside a transaction.
 *   ID_OK         a new checkpoint, in out;
 *   ID_EXISTS     no record since the last checkpoint (out: that one);
 *   ID_NOT_FOUND  the log is empty;
 *   ID_CORRUPT    the head does not verify under the key: nothing signed;
 *   ID_ERR        no signing key in the context, signing failed, or the
 *                 checkpoint committed but the file could not be written
 *                 (logged; the next checkpoint ships it);
 *   or a store status. */
int audit_checkpoint(struct store *st, struct audit_checkpoint *out);
/* The same on chain ch (st, into ch->file; an empty file name: the
 * context's). Returns as audit_checkpoint. */
int audit_checkpoint_chain(const struct audit_chain *ch, struct audit_checkpoint *out);
/* audit_checkpoint_chain on every chain of cs (a clean shutdown). ID_OK if
 * each was signed, had nothing new or is empty; else the first failure
 * (the other chains are still signed). */
int audit_checkpoint_all(const struct audit_chains *cs);
/* audit_checkpoint (the directory's chain) if one is due (and clears the
 * mark); ID_OK when none was. For the CLI, which appends there only. */
int audit_checkpoint_if_due(struct store *st);

/* The server's checkpointer thread, one for all the chains of cs (copied;
 * their stores must outlive the thread): waits for a due mark and
 * checkpoints each chain it is due in; a busy database is retried a second
 * later, other failures are logged and wait for the next mark. Start after
 * audit_open and audit_prepare (all signals are blocked in it); 0, or -1
 * if it could not start (cs empty, no context, already running). */
int audit_checkpointer_start(const struct audit_chains *cs);
/* Stops and joins it; a due checkpoint is left for the caller. true if it was running. */
bool audit_checkpointer_stop(void);

/* True if cp's signature verifies under the context's public key. */
bool audit_checkpoint_sig_ok(const struct audit_checkpoint *cp);

/* Reads a checkpoint file: fn for each line, in order, with its line
 * number; fn returns non-zero to stop (that value is returned). ID_OK;
 * ID_NOT_FOUND if the file does not exist; ID_BAD_INPUT for a malformed
 * line (*bad_line = its number); ID_ERR on I/O. */
int audit_checkpoint_read_file(const char *path,
                               int (*fn)(const struct audit_checkpoint *cp, int line, void *arg),
                               void *arg, int *bad_line);

#endif
