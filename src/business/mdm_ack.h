/* mdm_ack — DEVICE_COMMAND_ACK (docs/api.md §1.21d): the device acknowledges
 * a command it was delivered (business/mdm_command.h), done or failed with
 * a reason. A business TX (the bank's shard), session required, that the
 * MDM gate leaves open (mdm_open), so a refused device can acknowledge.
 *
 * Input {"id","result":"done"|"failed","reason"}. Answers OK with
 * {"id","kind","state"} (also for the same acknowledgement again);
 * `not_found` for a command that is not this device's (another device's, another
 * bank's, none); `conflict` for one that expired or was acknowledged the
 * other way; `bad_request` for a result other than done/failed or a reason
 * longer than 200 bytes; `internal` on a store failure. An unbind
 * acknowledged done unbinds the device once committed (tx_ctx after: its
 * sessions end, its stored answers go, audited). */
#ifndef ZHANYE_MDM_ACK_H
#define ZHANYE_MDM_ACK_H

#include "channel/tx.h"

extern const struct tx_def TX_DEVICE_COMMAND_ACK;

#endif
