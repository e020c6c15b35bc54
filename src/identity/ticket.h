/* ticket — one-time activation tickets (table activation_tickets).
 *
 * An administrator issues a one-time activation code for a teller (8
 * characters of 23456789ABCDEFGHJKMNPQRSTUVWXYZ, shown as K7QX-9PRM, about
 * 40 bits), valid 24 h; a new code supersedes the teller's unused ones. The
 * code is stored sealed with the KEK, never in clear. The tablet proves it
 * knows the code by MACing its DEVICE_ACTIVATE envelope with F = SM3("ZY1
 * act" || tlr || "|" || code), the code exactly as issued (upper case, with
 * the dash); ACT_MAX_ATTEMPTS wrong MACs lock the ticket.
 *
 * A ticket's life: issued -> used (ticket_consume, by an activation; see
 * binding.h), superseded (a newer code), cancelled (activation_cancel: an
 * administrator withdrew it, e.g. the slip was lost; stored as superseded,
 * audited activation.cancelled), or locked (too many
 * wrong codes).
 * Only an issued, unexpired, unlocked ticket is live.
 *
 * This module reads and writes activation_tickets only (and tellers, to
 * find the teller); it knows nothing of devices or sessions. Writes run in
 * the caller's transaction with their audit records, except
 * activation_fail, which runs its own (a wrong code must count even if the
 * request fails) and must be called outside one. struct ticket holds
 * secrets: wipe it with ticket_wipe. */
#ifndef ZHANYE_TICKET_H
#define ZHANYE_TICKET_H

#include "channel/sm.h"
#include "data/store.h"
#include "identity/identity.h"
#include "identity/kek.h"
#include "identity/org.h"
#include "identity/teller.h"

#include <stdint.h>

#define ACT_CODE_LEN 9 /* "K7QX-9PRM" */
#define ACT_TTL_MS (24LL * 3600 * 1000)
#define ACT_MAX_ATTEMPTS 5

struct ticket {
    int64_t id;
    int64_t bank_id;
    int64_t teller_id;
    int64_t expires_at;
    int attempts;
    char teller_code[TELLER_CODE_MAX + 1];
    char bank_code[ORG_CODE_MAX + 1];
    char code[ACT_CODE_LEN + 1]; /* secret */
    uint8_t f[SM3_LEN];          /* secret: the ZY1 binding factor F */
};

void ticket_wipe(struct ticket *t);

/* Issues a code for the teller (audited "activation.issued"): ID_OK with
 * code_out and *expires_ms, ID_NOT_FOUND, ID_DISABLED (teller disabled),
 * ID_BAD_INPUT (NULL argument). Caller's transaction. */
int activation_issue(struct store_conn *c, const struct kek *k, const char *actor,
                     const char *teller_code, char code_out[ACT_CODE_LEN + 1], int64_t *expires_ms);
/* Cancels the teller's issued codes (audited "activation.cancelled" with how
 * many, also 0): ID_OK with *cancelled, ID_NOT_FOUND (no such teller),
 * ID_BAD_INPUT (NULL argument). Caller's transaction. */
int activation_cancel(struct store_conn *c, const char *actor, const char *teller_code,
                      int64_t *cancelled);
/* The teller's live ticket with its code and F: ID_OK, ID_NOT_FOUND (no
 * ticket, used, or unknown/disabled teller), ID_LOCKED, ID_EXPIRED, or
 * ID_CORRUPT if the sealed code does not open. Reads only. */
int activation_lookup(struct store_conn *c, const struct kek *k, const char *teller_code,
                      struct ticket *out);
/* Counts a wrong code (a bad MAC) against the ticket; dev_hex, who tried,
 * for the audit record (may be NULL; else 32 lowercase hex digits). ID_OK,
 * ID_LOCKED when this failure locked it, ID_NOT_FOUND if it is no longer
 * live, ID_BAD_INPUT. Own transaction: call it outside one. */
int activation_fail(struct store_conn *c, int64_t ticket_id, const char *dev_hex);
/* Marks t used by dev_hex, if it is still live, and audits
 * "activation.used" (actor "dev:<dev_hex>"). ID_OK; ID_EXPIRED or
 * ID_NOT_FOUND when it is no longer live (nothing written); ID_BAD_INPUT.
 * Caller's transaction. */
int ticket_consume(struct store_conn *c, const struct ticket *t, const char *dev_hex);

#endif
