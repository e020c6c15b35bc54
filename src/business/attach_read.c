/* attach_read.c — an attachment's content, opened (see attach_read.h). The
 * sealing contexts are attach.c's: "attc|<bank>|<sm3>|<index>". */
#include "business/attach_read.h"

#include "business/attach_check.h"
#include "foundation/log.h"
#include "foundation/secmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chunk idx of r appended at all + *off; 0 or -1. */
static int read_chunk(struct tenant_conn *tc, const struct kek *k, const struct adb_row *r,
                      int64_t idx, uint8_t *all, size_t *off)
{
    uint8_t *sealed = NULL;
    size_t n = 0, len = 0, want = ac_chunk_len(r->size, idx);
    char ctx[128];
    snprintf(ctx, sizeof ctx, "attc|%" PRId64 "|%s|%" PRId64, tenant_scope(tc)->bank_id, r->sm3,
             idx);
    if (adb_chunk_get(tc, r->id, idx, &sealed, &n) != ADB_OK || n <= KEK_OVERHEAD) {
        free(sealed);
        return -1;
    }
    uint8_t *tmp = malloc(n - KEK_OVERHEAD);
    int rc = tmp && kek_open(k, ctx, sealed, n, tmp, n - KEK_OVERHEAD, &len) == ID_OK &&
                     len == want && *off + want <= (size_t)r->size
                 ? 0
                 : -1;
    if (rc == 0) {
        memcpy(all + *off, tmp, want);
        *off += want;
    } else {
        log_error("attach.unreadable", "a sealed value (%s) does not open", ctx);
    }
    if (tmp) {
        secmem_wipe(tmp, n - KEK_OVERHEAD);
        free(tmp);
    }
    free(sealed);
    return rc;
}

int attach_read(struct tenant_conn *tc, const struct kek *k, int64_t id, struct adb_row *r,
                uint8_t **bytes)
{
    *bytes = NULL;
    int rc = adb_get(tc, id, r);
    if (rc != ADB_OK)
        return rc;
    if (strcmp(r->state, ADB_STORED) != 0 || r->size < 1) {
        adb_row_free(r);
        return ADB_NONE;
    }
    uint8_t *all = malloc((size_t)r->size);
    size_t off = 0;
    rc = all ? ADB_OK : STORE_NOMEM;
    for (int64_t i = 0; rc == ADB_OK && i < r->chunks; i++)
        rc = read_chunk(tc, k, r, i, all, &off) == 0 ? ADB_OK : STORE_ERR;
    if (rc == ADB_OK && off != (size_t)r->size)
        rc = STORE_ERR;
    if (rc != ADB_OK) {
        if (all) {
            secmem_wipe(all, (size_t)r->size);
            free(all);
        }
        adb_row_free(r);
        return rc;
    }
    *bytes = all;
    return ADB_OK;
}
