/* video_context — what the agent sees of a call (business/video_call.h):
 * the customer (name masked, foundation/mask.h; the masked ID number and
 * kind) and the business (its number, kind, status), read in the caller's
 * transaction from the bank's customer and business tables. */
#ifndef ZHANYE_VIDEO_CONTEXT_H
#define ZHANYE_VIDEO_CONTEXT_H

#include "business/video_call.h"

/* {"customer": {...} or null, "business": {...} or null} into *out: VC_OK
 * or a negative store status. A customer or business no longer found is
 * null. */
int video_context(struct tenant_conn *tc, const struct video_call *c, json_t **out);

#endif
