/* attach_read — a stored attachment's whole content, opened, for readers
 * outside the ZY1 transactions (the console's back office, docs/api.md
 * §2.3). Through a tenant scope only: the attachment is the scope's bank's.
 *
 * attach_read: attachment id's row into *r and its content into *bytes
 * (malloc'd, r->size bytes; the caller wipes and frees it). ADB_OK;
 * ADB_NONE when the bank has no stored attachment id (an upload under way
 * or abandoned is none); STORE_ERR when a chunk is missing or does not open
 * under k (tampered, moved, another KEK: logged); other store statuses. */
#ifndef ZHANYE_ATTACH_READ_H
#define ZHANYE_ATTACH_READ_H

#include "business/attach_db.h"
#include "identity/kek.h"

int attach_read(struct tenant_conn *tc, const struct kek *k, int64_t id, struct adb_row *r,
                uint8_t **bytes);

#endif
