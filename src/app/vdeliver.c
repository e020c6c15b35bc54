/* vdeliver.c — the voucher deliverer thread (vdeliver.h). */
#include "app/vdeliver.h"

#include "business/voucher.h"
#include "business/voucher_db.h"
#include "business/voucher_out.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "foundation/log.h"
#include "foundation/metrics.h"
#include "foundation/secmem.h"
#include "foundation/ticker.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DUE_MAX 16
#define BANKS_MAX 4096
#define ACTOR "system"
#define STEP "voucher_deliver"

struct vdeliver {
    struct vdeliver_config cfg;
    struct ticker *ticker; /* the thread running scan() every cfg.scan_ms */
    struct metric *m_delivered, *m_retry, *m_failed;
};

/* The banks of the directory into ids (at most BANKS_MAX); their number, or -1. */
static int banks(struct store *dir, int64_t *ids)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int n = 0;
    if (store_acquire(dir, &c) != STORE_OK)
        return -1;
    int rc = store_prepare(c, "SELECT id FROM banks WHERE kind = 'bank' ORDER BY id", &s);
    while (rc == STORE_OK && n < BANKS_MAX) {
        rc = store_step(s);
        if (rc == STORE_ROW) {
            ids[n++] = store_col_int64(s, 0);
            rc = STORE_OK;
        }
    }
    store_finish(s);
    store_release(c);
    return rc == STORE_DONE || rc == STORE_OK ? n : -1;
}

/* A tenant scope of bank on a connection of its shard, when the bank is
 * there now (not fenced for a move). STORE_OK, SHARD_MOVING, or an error. */
static int open_bank(struct vdeliver *d, int64_t bank, struct store_conn **c,
                     struct tenant_conn **tc)
{
    struct store *st = shards_route(d->cfg.shards, bank, NULL);
    *c = NULL;
    *tc = NULL;
    int rc = store_acquire(st, c);
    if (rc != STORE_OK)
        return rc;
    rc = shard_fence(*c, bank);
    if (rc == SHARD_HERE) {
        struct scope sc = {.bank_id = bank, .role = ROLE_BANK_ADMIN};
        rc = tenant_open(*c, &sc, tc);
    } else if (rc == SHARD_GONE) {
        rc = SHARD_MOVING;
    }
    if (rc != STORE_OK) {
        store_release(*c);
        *c = NULL;
    }
    return rc;
}

static void close_bank(struct store_conn *c, struct tenant_conn *tc)
{
    tenant_close(tc);
    if (c)
        store_release(c);
}

/* What one upload came to, recorded by record_txn. */
struct outcome {
    int64_t bank, voucher_id, now;
    bool delivered, give_up;
    int attempts; /* after this one */
    int64_t next_try_at;
    char receipt_no[VOUT_RECEIPT_MAX + 1];
    char error[VOUT_ERROR_MAX + 1];
    int recorded; /* VOUT_OK, VOUT_NONE (another node did) */
};

static int record_txn(struct store_conn *c, void *arg)
{
    struct outcome *o = arg;
    struct scope sc = {.bank_id = o->bank, .role = ROLE_BANK_ADMIN};
    struct tenant_conn *tc = NULL;
    char target[16 + VOUCHER_ID_MAX], id[VOUCHER_ID_MAX + 1];
    int rc = shard_fence(c, o->bank);
    if (rc != SHARD_HERE)
        return rc < 0 ? rc : STORE_ERR;
    if ((rc = tenant_open(c, &sc, &tc)) != STORE_OK)
        return rc;
    vcdb_id_format(o->bank, o->voucher_id, id, sizeof id);
    snprintf(target, sizeof target, "voucher:%s", id);
    rc = o->delivered ? vout_delivered(tc, o->voucher_id, o->receipt_no, o->now)
                      : vout_retry(tc, o->voucher_id, o->error, o->give_up, o->next_try_at, o->now);
    o->recorded = rc;
    if (rc == VOUT_OK && o->delivered)
        rc = audit_tenantf(tc, ACTOR, "voucher.delivered", target, "{s:s,s:i}", "receipt_no",
                           o->receipt_no, "attempts", o->attempts) == ID_OK
                 ? STORE_OK
                 : STORE_ERR;
    else if (rc == VOUT_OK)
        rc = audit_tenantf(tc, ACTOR, "voucher.delivery_failed", target, "{s:i,s:b,s:s}", "attempt",
                           o->attempts, "final", o->give_up, "reason", o->error) == ID_OK
                 ? STORE_OK
                 : STORE_ERR;
    else if (rc == VOUT_NONE)
        rc = STORE_OK;
    tenant_close(tc);
    return rc;
}

static int64_t backoff(const struct vdeliver_config *cfg, int attempts)
{
    int64_t w = cfg->retry_ms;
    for (int i = 1; i < attempts && w < cfg->retry_max_ms; i++)
        w *= 2;
    return w > cfg->retry_max_ms ? cfg->retry_max_ms : w;
}

/* Uploads one due voucher of bank and records the outcome. */
static void deliver_one(struct vdeliver *d, int64_t bank, const struct vout_row *row)
{
    struct store_conn *c = NULL;
    struct tenant_conn *tc = NULL;
    uint8_t *pdf = NULL;
    size_t n = 0;
    enum vch_verdict v = VCH_UNREADABLE;
    struct outcome o = {.bank = bank, .voucher_id = row->voucher_id};
    char id[VOUCHER_ID_MAX + 1], name[VOUCHER_ID_MAX + 8];
    vcdb_id_format(bank, row->voucher_id, id, sizeof id);
    snprintf(name, sizeof name, "%s.pdf", id);
    if (open_bank(d, bank, &c, &tc) != STORE_OK)
        return;
    int rc = voucher_open(tc, d->cfg.kek, d->cfg.key, row->voucher_id, NULL, &pdf, &n, &v);
    close_bank(c, tc); /* nothing held during the upload */
    if (rc != VCH_OK && rc != VCH_NONE)
        return; /* the store's trouble: next round */
    o.attempts = row->attempts + 1;
    if (rc == VCH_NONE || v != VCH_INTACT) {
        snprintf(o.error, sizeof o.error, "voucher %s at rest: %s", id,
                 rc == VCH_NONE ? "missing" : voucher_verdict_name(v));
        o.give_up = true;
    } else {
        json_t *receipt = NULL;
        struct egress_error e = {0};
        enum egress_kind ek = d->cfg.egress
                                  ? egress_put_file(d->cfg.egress, STEP, name, pdf, n, &receipt, &e)
                                  : EGRESS_E_ROUTE;
        const char *no = json_string_value(json_object_get(receipt, "receipt_no"));
        if (ek == EGRESS_OK && no && no[0]) {
            o.delivered = true;
            o.attempts = row->attempts + 1;
            snprintf(o.receipt_no, sizeof o.receipt_no, "%s", no);
        } else {
            snprintf(o.error, sizeof o.error, "%.32s%s%.47s: %.100s", egress_kind_name(ek),
                     e.field[0] ? " " : "", e.field, ek == EGRESS_OK ? "no receipt_no" : e.message);
            o.give_up = o.attempts >= d->cfg.attempts;
        }
        json_decref(receipt);
    }
    if (pdf)
        secmem_wipe(pdf, n);
    free(pdf);
    o.now = clock_wall_ms();
    o.next_try_at = o.now + (o.give_up || o.delivered ? 0 : backoff(&d->cfg, o.attempts));
    struct store *st = shards_route(d->cfg.shards, bank, NULL);
    if (store_acquire(st, &c) != STORE_OK) {
        log_warn("voucher.deliver", "%s: cannot record the outcome now; it is sent again", id);
        return;
    }
    rc = store_run(c, "voucher.deliver", record_txn, &o);
    store_release(c);
    if (rc != STORE_OK || o.recorded != VOUT_OK) {
        if (rc != STORE_OK)
            log_warn("voucher.deliver", "%s: the outcome was not recorded; it is sent again", id);
        return;
    }
    if (o.delivered) {
        metric_inc(d->m_delivered);
        log_info("voucher.deliver", "%s delivered, receipt %s", id, o.receipt_no);
    } else if (o.give_up) {
        metric_inc(d->m_failed);
        log_error("voucher.deliver", "%s: delivery given up after %d attempts: %s", id, o.attempts,
                  o.error);
    } else {
        metric_inc(d->m_retry);
        log_warn("voucher.deliver", "%s: attempt %d failed (%s); next in %" PRId64 " ms", id,
                 o.attempts, o.error, o.next_try_at - o.now);
    }
}

/* One round over every bank. */
static void scan(void *arg, const struct ticker *t)
{
    struct vdeliver *d = arg;
    int64_t *ids = malloc(BANKS_MAX * sizeof *ids);
    int nb = ids ? banks(d->cfg.dir, ids) : -1;
    for (int b = 0; b < nb; b++) {
        struct store_conn *c = NULL;
        struct tenant_conn *tc = NULL;
        struct vout_row rows[DUE_MAX];
        int n = 0;
        if (open_bank(d, ids[b], &c, &tc) != STORE_OK)
            continue;
        int rc = vout_due(tc, clock_wall_ms(), rows, DUE_MAX, &n);
        close_bank(c, tc);
        for (int i = 0; rc == VOUT_OK && i < n; i++) {
            if (ticker_stopping(t))
                break;
            deliver_one(d, ids[b], &rows[i]);
        }
    }
    free(ids);
}

int vdeliver_start(const struct vdeliver_config *cfg, struct vdeliver **out)
{
    struct vdeliver *d = calloc(1, sizeof *d);
    *out = NULL;
    if (!d)
        return -1;
    d->cfg = *cfg;
    if (d->cfg.scan_ms <= 0)
        d->cfg.scan_ms = 2000;
    if (d->cfg.retry_ms <= 0)
        d->cfg.retry_ms = 5000;
    if (d->cfg.retry_max_ms < d->cfg.retry_ms)
        d->cfg.retry_max_ms = d->cfg.retry_ms;
    if (d->cfg.attempts <= 0)
        d->cfg.attempts = 10;
    metrics_describe("zhanye_voucher_deliveries_total", "counter",
                     "Voucher uploads to the paperless platform by outcome");
    d->m_delivered = metrics_counter("zhanye_voucher_deliveries_total", "outcome=\"delivered\"");
    d->m_retry = metrics_counter("zhanye_voucher_deliveries_total", "outcome=\"retry\"");
    d->m_failed = metrics_counter("zhanye_voucher_deliveries_total", "outcome=\"failed\"");
    if (ticker_start("vdeliver", d->cfg.scan_ms, scan, d, &d->ticker) != 0) {
        free(d);
        return -1;
    }
    *out = d;
    return 0;
}

void vdeliver_stop(struct vdeliver *d)
{
    if (!d)
        return;
    ticker_stop(d->ticker);
    free(d);
}
