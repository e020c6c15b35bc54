/* bench_voucher — how long the voucher step holds a bank shard's writer
 * lock (make bench).
 *
 * usage: bench_voucher DIR  (a scratch directory: keys, a SQLite database)
 *
 * Prints, in milliseconds per voucher (median of ROUNDS), the time spent
 * INSIDE the write transaction (store_run) that stores a business's
 * voucher:
 *   voucher_txn_render_ms  the old design, still voucher_issue's: render,
 *                          sign, seal and insert in the transaction;
 *   voucher_txn_store_ms   the workflow's design: voucher_render before
 *                          the transaction, which only seals and inserts
 *                          (voucher_store);
 *   voucher_render_ms      the rendering and signing alone (outside).
 * SQLite serialises a shard's writers: the first two are what every other
 * write of the bank waits for behind one completing business. */
#include "business/voucher.h"
#include "data/store.h"
#include "data/tenant.h"
#include "foundation/clock.h"
#include "identity/audit.h"
#include "identity/audit_checkpoint.h"
#include "identity/kek.h"

#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS 15

static struct tx_env ENV;
static const struct scope SC = {.bank_id = 1, .branch_id = 1, .teller_id = 1, .role = 1};

struct wbuf {
    uint8_t *p;
    size_t n;
};

static cairo_status_t wr(void *arg, const unsigned char *d, unsigned int n)
{
    struct wbuf *b = arg;
    uint8_t *p = realloc(b->p, b->n + n);
    if (!p)
        return CAIRO_STATUS_WRITE_ERROR;
    memcpy(p + b->n, d, n);
    b->p = p;
    b->n += n;
    return CAIRO_STATUS_SUCCESS;
}

static int png(struct wbuf *b)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 240, 80);
    cairo_t *cr = cairo_create(s);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, 20, 60);
    cairo_curve_to(cr, 70, 5, 120, 75, 220, 20);
    cairo_stroke(cr);
    cairo_destroy(cr);
    cairo_status_t st = cairo_surface_write_to_png_stream(s, wr, b);
    cairo_surface_destroy(s);
    return st == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

struct job {
    const struct voucher_input *in;
    const struct voucher_ready *ready; /* NULL: voucher_issue (renders inside) */
    int rc;
};

static int txn(struct store_conn *c, void *arg)
{
    struct job *j = arg;
    struct tenant_conn *tc = NULL;
    char id[VOUCHER_ID_MAX + 1];
    int rc = tenant_open(c, &SC, &tc);
    if (rc != STORE_OK)
        return rc;
    j->rc = j->ready ? voucher_store(tc, &ENV, j->in, j->ready, id)
                     : voucher_issue(tc, &ENV, j->in, clock_wall_ms(), id);
    tenant_close(tc);
    return j->rc == VCH_OK ? STORE_OK : j->rc < 0 ? j->rc : STORE_ERR;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double ms_since(uint64_t t0)
{
    return (double)(clock_mono_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_voucher DIR\n");
        return 2;
    }
    char keys[4096], path[4096], cp[4096], err[512];
    snprintf(keys, sizeof keys, "%s/keys", argv[1]);
    snprintf(cp, sizeof cp, "%s/checkpoints.jsonl", argv[1]);
    static struct kek k;
    sm2_key *vk = NULL;
    struct store *st = NULL;
    struct wbuf sig = {0};
    snprintf(path, sizeof path, "%s/voucher.db", argv[1]);
    remove(path);
    struct store_config cfg = {
        .backend = "sqlite", .path = path, .pool_size = 1, .busy_timeout_ms = 5000};
    struct audit_options o = {.key_dir = keys, .checkpoint_file = cp, .checkpoint_every = 1000};
    char kp[4096];
    if (kek_create(keys) < 0 || kek_path(keys, kp, sizeof kp) != 0 || kek_load(kp, &k) != ID_OK ||
        vsign_key_create(keys) < 0 || vsign_key_load(keys, &vk) != VS_OK ||
        audit_keys_create(keys, err, sizeof err) < 0 || audit_open(&o, err, sizeof err) != ID_OK ||
        store_open(&cfg, &st) != STORE_OK || store_migrate(st) != STORE_OK || png(&sig) != 0) {
        fprintf(stderr, "bench_voucher: cannot set up in %s\n", argv[1]);
        return 1;
    }
    ENV = (struct tx_env){.kek = &k, .voucher_key = vk};
    const struct voucher_field fields[] = {{.label = "账号", .value = "6228480000000012345"},
                                           {.label = "卡号", .value = "6228 **** **** 9999"}};
    double inside_old[ROUNDS], inside_new[ROUNDS], render[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        for (int pass = 0; pass < 2; pass++) {
            char serial[16];
            snprintf(serial, sizeof serial, "%05d%09d", 1, 2 * r + pass + 1);
            struct voucher_input in = {.kind = "debit_card",
                                       .serial = serial,
                                       .customer_id = 1,
                                       .customer_name = "王秀英",
                                       .id_no = "11010519491231002X",
                                       .teller = "柜员 #1",
                                       .bank_name = "示范农村商业银行",
                                       .branch_name = "城关支行",
                                       .fields = fields,
                                       .nfields = 2,
                                       .signature_png = sig.p,
                                       .signature_len = sig.n,
                                       .actor = "system"};
            struct voucher_ready v;
            struct job j = {.in = &in};
            uint64_t t0 = clock_mono_ns();
            if (pass == 1) {
                if (voucher_render(&ENV, SC.bank_id, &in, clock_wall_ms(), &v) != VCH_OK) {
                    fprintf(stderr, "bench_voucher: render failed\n");
                    return 1;
                }
                render[r] = ms_since(t0);
                j.ready = &v;
                t0 = clock_mono_ns();
            }
            struct store_conn *c = NULL;
            int rc = store_acquire(st, &c);
            if (rc == STORE_OK)
                rc = store_run(c, "bench.voucher", txn, &j);
            store_release(c);
            double took = ms_since(t0);
            if (pass == 1)
                inside_new[r] = took;
            else
                inside_old[r] = took;
            if (pass == 1)
                voucher_ready_wipe(&v);
            if (rc != STORE_OK) {
                fprintf(stderr, "bench_voucher: the transaction failed (%d)\n", j.rc);
                return 1;
            }
        }
    }
    qsort(inside_old, ROUNDS, sizeof(double), cmp);
    qsort(inside_new, ROUNDS, sizeof(double), cmp);
    qsort(render, ROUNDS, sizeof(double), cmp);
    printf("voucher_txn_render_ms %.2f\n", inside_old[ROUNDS / 2]);
    printf("voucher_txn_store_ms %.2f\n", inside_new[ROUNDS / 2]);
    printf("voucher_render_ms %.2f\n", render[ROUNDS / 2]);
    free(sig.p);
    store_close(st);
    audit_close();
    sm2_key_free(vk);
    kek_wipe(&k);
    vpdf_cleanup();
    return 0;
}
