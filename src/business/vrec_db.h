/* vrec_db — the table video_recordings (migration 25) through the tenant
 * scope only: one row per recorded call of the scope's bank.
 *
 * Every function returns VDB_OK, VDB_NONE (no such row in the scope's
 * bank), or a store status (STORE_CONSTRAINT: the call already has one). */
#ifndef ZHANYE_VREC_DB_H
#define ZHANYE_VREC_DB_H

#include "data/tenant.h"

#include <stdint.h>

enum { VDB_OK = 0, VDB_NONE = 1 };

/* state */
#define VDB_RECORDING "recording"
#define VDB_STORED "stored" /* the tracks sealed; sm3 and files set */
#define VDB_EMPTY "empty"   /* finished with nothing recorded (no media reached Janus) */
#define VDB_FAILED "failed" /* finishing failed; error says where */

struct vdb_row {
    int64_t id, customer_id, branch_id, teller_id;
    char call_id[65], biz_no[33];
    char consent_by[65], consent_version[33];
    int64_t consent_at;
    char state[12];
    int64_t room, janus_session, janus_handle;
    char room_pin[33], room_secret[65];
    int64_t started_at, ended_at, duration_ms, size;
    char sm3[65];
    char *files; /* JSON array text, malloc'd ("[]" until stored) */
    char error[201];
};

void vdb_row_free(struct vdb_row *r);
/* Inserts r (r->id set to the bank's next id), state recording. */
int vdb_insert(struct tenant_conn *tc, struct vdb_row *r);
/* The row of call_id / of id into r (vdb_row_free after). */
int vdb_get_call(struct tenant_conn *tc, const char *call_id, struct vdb_row *r);
int vdb_get(struct tenant_conn *tc, int64_t id, struct vdb_row *r);
/* Sets the outcome of a recording still in state recording: state,
 * ended_at, duration_ms, size, sm3, files, error. VDB_NONE when it is not
 * (finished by another process). */
int vdb_finish(struct tenant_conn *tc, const struct vdb_row *r);
/* Newest first, at most limit rows with id < before (0: from the newest);
 * branch_id > 0: only that branch's. fn returns non-zero to stop. */
int vdb_list(struct tenant_conn *tc, int64_t branch_id, int64_t before, int limit,
             int (*fn)(const struct vdb_row *r, void *arg), void *arg);
/* The hash of the newest stored recording of business biz_no into sm3 (for
 * the business and its voucher); VDB_NONE if it has none. */
int vdb_sm3_of_biz(struct tenant_conn *tc, const char *biz_no, char sm3[65]);

#endif
