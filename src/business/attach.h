/* attach — the attachment transactions of ZY1 (docs/api.md §1.22-1.28):
 * photos (JPEG, PNG) and documents (PDF) a client manager takes in the
 * field, uploaded in chunks, one envelope each, and linked to a customer, a
 * visit or a business (办理业务) reference.
 *
 *   ATTACH_BEGIN   {"kind","name","size","sm3","link":{"customer_id" |
 *                  "visit_id" | "business"}}: sm3 is the whole content's
 *                  SM3 as the client computed it, and the content's address
 *                  in the bank: at most one upload or attachment per
 *                  (bank, sm3).
 *                    - content new to the bank: an upload is begun;
 *                    - an upload of it is under way (a tablet that lost the
 *                      network, or another one): that upload, with the
 *                      chunks the server has in data.received, so the
 *                      client sends only the others (resume);
 *                    - the bank has it stored already: answered at once
 *                      (dedup) with data.attachment_id; nothing to send;
 *                  in every case the link is added (once). data: upload_id,
 *                  state ("uploading" | "stored"), chunk_size
 *                  (ATTACH_CHUNK_BYTES), chunks, received[], and when
 *                  stored attachment_id and mime. The declared size above
 *                  the limit is attach_too_large (nothing written).
 *   ATTACH_CHUNK   {"upload_id","index","data","sm3"?}: chunk index
 *                  (0..chunks-1) as base64; its length is fixed by (size,
 *                  index) (attach_check.h). Idempotent per (upload, index):
 *                  a chunk the server has is answered OK again with
 *                  duplicate true and not written again, so a resend after
 *                  a dropped network is harmless. The optional sm3 is the
 *                  chunk's own (attach_mismatch if it differs: nothing
 *                  written); chunk 0 is checked by its magic bytes against
 *                  the kind at once (attach_bad_type, nothing written).
 *   ATTACH_STATUS  {"upload_id"}: state, chunks, received[], missing[].
 *   ATTACH_END     {"upload_id"}: every chunk there (else attach_incomplete
 *                  with data.missing[], nothing written), the whole
 *                  content's SM3 equal to the declared one and its type
 *                  fitting the kind (magic bytes of the whole content), its
 *                  size within the limit; then stored, data.attachment_id
 *                  (= upload_id) and mime. A content that fails is refused
 *                  (attach_mismatch, attach_bad_type, attach_too_large) and
 *                  the upload abandoned: its chunks deleted; begin again.
 *                  END of a stored attachment answers it again.
 *   ATTACH_GET     {"attachment_id","index"?}: the attachment's description
 *                  (kind, mime, name, size, sm3, chunks, links) and chunk
 *                  index (default 0) as base64 in data.data; the client
 *                  reads the others by index.
 *   ATTACH_LIST    {"customer_id" | "visit_id" | "business", "limit"?}: the
 *                  stored attachments linked to it, newest first.
 *
 * Every one needs a session and works in the session's bank only, through
 * tx_ctx.tenant (attach_db.h); another bank's upload or attachment is
 * answered exactly as one that does not exist (attach_not_found), another
 * bank's customer as customer_not_found and another bank's visit as
 * visit_not_found (a link's customer and visit are looked up in the bank;
 * the message names the member), and the same content in two banks
 * is two attachments (dedup never crosses a bank). Every one is audited in
 * its transaction (actor "dev:<dev>", target "attachment:<id>"; never the
 * content or the name): attach.begun, attach.linked, attach.chunk,
 * attach.checked (STATUS), attach.stored, attach.refused, attach.viewed,
 * attach.listed. A bad member is bad_request "data.<path>: ..." and nothing
 * written.
 *
 * WHERE THE CONTENT LIVES. In the database of the bank's shard, one row per
 * chunk (attach_chunks), not in files: a bank's attachments then move with
 * it when `zhanye shard move` copies its bank tables, are in its backups
 * and replicas, commit atomically with their rows, audit record and stored
 * answer, and need no second storage to run, secure and clean. The price
 * (a 10 MiB photo is 40 rows of 256 KiB) is well within what SQLite and
 * MariaDB hold; a file or object store would be a later step with its own
 * move.
 *
 * AT REST. Every chunk is sealed on its own under the KEK (identity/kek.h:
 * SM4-CBC + HMAC-SM3) with the context "attc|<bank>|<sm3>|<index>", bound
 * to the bank and the content's address, so a chunk copied to another
 * position, content or bank does not open; the file name is sealed under
 * "attn|<bank>|<id>". Clear in the database: the SM3 (the address, which
 * tells nothing of a content one does not already have), kind, mime type,
 * sizes, links. Plaintext buffers are wiped before they are freed.
 *
 * LIMITS. Chunks are ATTACH_CHUNK_BYTES (256 KiB) of raw content: about
 * 342 KiB of base64 in the payload, about 460 KiB of envelope, well under
 * [server] body_limit (8M). A content is 1..the bank's limit bytes: its
 * own (attach_limit.h: bank_settings in its shard, set by its
 * administrator), else tx_env.attach_max_bytes ([business]
 * attach_max_bytes, 10M). Uploads left uploading for a day are
 * abandoned by `zhanye purge` (src/cli/cmd_purge.c). */
#ifndef ZHANYE_ATTACH_H
#define ZHANYE_ATTACH_H

#include "channel/tx.h"

/* The limit when tx_env.attach_max_bytes is 0. */
#define ATTACH_MAX_BYTES_DEFAULT (10 * 1024 * 1024)

extern const struct tx_def TX_ATTACH_BEGIN;
extern const struct tx_def TX_ATTACH_CHUNK;
extern const struct tx_def TX_ATTACH_STATUS;
extern const struct tx_def TX_ATTACH_END;
extern const struct tx_def TX_ATTACH_GET;
extern const struct tx_def TX_ATTACH_LIST;

#endif
