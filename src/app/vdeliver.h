/* vdeliver — the voucher deliverer: one background thread of the serving
 * process that uploads the issued vouchers to the paperless platform
 * (无纸化平台) and records the platform's receipts.
 *
 * Every voucher_scan_ms it reads the banks of the directory (banks, kind
 * 'bank'), and for each bank, on the shard that holds it now (shards_route;
 * a bank fenced for a move is skipped this round), the outbox rows due
 * (business/voucher_out.h: pending, next_try_at <= now). For each: the PDF
 * is opened (voucher_open, a read), the connection given back, and the
 * file "<voucher id>.pdf" uploaded through egress_put_file(egress,
 * "voucher_deliver", ...) which checks the receipt's name, size and SM3
 * (egress.h). No connection, and no writer lock, is held during the
 * upload. The outcome is then recorded in one store_run on the bank's
 * shard:
 *   delivered  status delivered, receipt_no, delivered_at; audit
 *              "voucher.delivered" (actor "system", detail receipt_no,
 *              attempts);
 *   a failure  attempts + 1, last_error (the egress error kind and its
 *              one-line message: no customer data); pending again after
 *              retry_ms * 2^(attempts-1), capped at retry_max_ms; at
 *              `attempts` failures (or a voucher that is not intact at
 *              rest) status failed; audit "voucher.delivery_failed"
 *              (detail attempt, final, reason).
 * Metric zhanye_voucher_deliveries_total{outcome="delivered"|"retry"|
 * "failed"}. A row another node recorded meanwhile is left as it is (the
 * upload overwrites the same name: harmless). */
#ifndef ZHANYE_APP_VDELIVER_H
#define ZHANYE_APP_VDELIVER_H

#include "data/shard.h"
#include "data/store.h"
#include "egress/egress.h"
#include "identity/kek.h"

struct sm2_key;

struct vdeliver_config {
    struct store *dir;         /* the directory: its banks */
    struct shards *shards;     /* where each bank's data is */
    const struct kek *kek;     /* opens the sealed PDFs */
    const struct sm2_key *key; /* the voucher key: checks a PDF is intact before sending it */
    struct egress *egress;
    int scan_ms, retry_ms, retry_max_ms, attempts; /* [business] voucher_* */
};

struct vdeliver;

/* Starts the thread (the config's pointers must outlive it). 0, or -1. */
int vdeliver_start(const struct vdeliver_config *cfg, struct vdeliver **out);
/* Stops and joins it (an upload in progress finishes first). NULL is ignored. */
void vdeliver_stop(struct vdeliver *d);

#endif
