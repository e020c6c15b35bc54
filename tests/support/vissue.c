/* vissue.c — issuing a voucher in a test (see vissue.h). */
#include "vissue.h"

#include "business/voucher.h"
#include "data/store.h"
#include "data/tenant.h"
#include "identity/audit.h"
#include "identity/audit_checkpoint.h"
#include "identity/kek.h"

#include <cairo.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct kek K;
static sm2_key *VK;
static struct tx_env ENV;

int vissue_open(const char *data_dir)
{
    char keys[PATH_MAX], path[PATH_MAX], cp[PATH_MAX], err[512];
    snprintf(keys, sizeof keys, "%s/keys", data_dir);
    if (kek_path(keys, path, sizeof path) != 0 || kek_load(path, &K) != ID_OK) {
        fprintf(stderr, "vissue: no KEK in %s\n", keys);
        return -1;
    }
    if (vsign_key_load(keys, &VK) != VS_OK) {
        fprintf(stderr, "vissue: no voucher key in %s\n", keys);
        return -1;
    }
    if (!audit_is_open()) {
        if (audit_checkpoint_path(data_dir, cp, sizeof cp) != 0)
            return -1;
        struct audit_options o = {.key_dir = keys, .checkpoint_file = cp, .checkpoint_every = 1000};
        if (audit_open(&o, err, sizeof err) != ID_OK) {
            fprintf(stderr, "vissue: audit: %s\n", err);
            return -1;
        }
    }
    ENV = (struct tx_env){.kek = &K, .voucher_key = VK};
    return 0;
}

void vissue_close(void)
{
    sm2_key_free(VK);
    VK = NULL;
    kek_wipe(&K);
    audit_close();
    vpdf_cleanup();
}

int vissue_teller(struct store *st, const char *teller, int64_t *bank_id, int64_t *branch_id,
                  int64_t *teller_id)
{
    struct store_conn *c = NULL;
    struct store_stmt *s = NULL;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_prepare(c, "SELECT bank_id, branch_id, id FROM tellers WHERE code = ?", &s);
    if (rc == STORE_OK)
        rc = store_bind_text(s, 1, teller);
    if (rc == STORE_OK && (rc = store_step(s)) == STORE_ROW) {
        *bank_id = store_col_int64(s, 0);
        *branch_id = store_col_int64(s, 1);
        *teller_id = store_col_int64(s, 2);
        rc = STORE_OK;
    }
    store_finish(s);
    store_release(c);
    return rc == STORE_OK ? 0 : -1;
}

struct wbuf {
    uint8_t *p;
    size_t n;
};

static cairo_status_t wr(void *arg, const unsigned char *d, unsigned int len)
{
    struct wbuf *b = arg;
    uint8_t *p = realloc(b->p, b->n + len);
    if (!p)
        return CAIRO_STATUS_WRITE_ERROR;
    memcpy(p + b->n, d, len);
    b->p = p;
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

int vissue_png(int w, int h, uint8_t **png, size_t *n)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0.05, 0.05, 0.3);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, w * 0.1, h * 0.7);
    cairo_curve_to(cr, w * 0.3, h * 0.1, w * 0.5, h * 0.9, w * 0.9, h * 0.3);
    cairo_stroke(cr);
    cairo_destroy(cr);
    struct wbuf b = {0};
    cairo_status_t st = cairo_surface_write_to_png_stream(s, wr, &b);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS) {
        free(b.p);
        return -1;
    }
    *png = b.p;
    *n = b.n;
    return 0;
}

struct args {
    struct scope sc;
    const struct voucher_input *in;
    int64_t now;
    char *id;
    int vrc;
};

static int issue_txn(struct store_conn *c, void *arg)
{
    struct args *a = arg;
    struct tenant_conn *tc = NULL;
    int rc = tenant_open(c, &a->sc, &tc);
    if (rc != STORE_OK)
        return rc;
    a->vrc = voucher_issue(tc, &ENV, a->in, a->now, a->id);
    tenant_close(tc);
    return a->vrc == VCH_OK || a->vrc == VCH_EXISTS ? STORE_OK : a->vrc < 0 ? a->vrc : STORE_ERR;
}

/* The input vissue issues (png the caller's). */
static struct voucher_input input_of(const char *kind, const char *serial, int64_t customer_id,
                                     const uint8_t *png, size_t pn)
{
    static const struct voucher_field fields[] = {
        {.label = "账号", .value = "6228 4800 0000 1234"},
        {.label = "产品", .value = "丰收卡（IC借记卡）"},
    };
    return (struct voucher_input){.kind = kind,
                                  .serial = serial,
                                  .customer_id = customer_id,
                                  .customer_name = "张三丰",
                                  .id_no = "11010519491231002X",
                                  .teller = "demo01 演示客户经理",
                                  .bank_name = "演示农村商业银行",
                                  .branch_name = "城关支行",
                                  .fields = fields,
                                  .nfields = 2,
                                  .signature_png = png,
                                  .signature_len = pn,
                                  .actor = "system"};
}

int vissue(struct store *st, int64_t bank_id, int64_t branch_id, int64_t teller_id,
           const char *kind, const char *serial, int64_t customer_id, int64_t now_ms,
           char id_out[48])
{
    uint8_t *png = NULL;
    size_t pn = 0;
    if (vissue_png(300, 120, &png, &pn) != 0)
        return -1;
    const struct voucher_input in = input_of(kind, serial, customer_id, png, pn);
    struct args a = {.sc = {.bank_id = bank_id,
                            .branch_id = branch_id,
                            .teller_id = teller_id,
                            .role = ROLE_CLIENT_MANAGER},
                     .in = &in,
                     .now = now_ms,
                     .id = id_out};
    struct store_conn *c = NULL;
    int rc = store_acquire(st, &c);
    if (rc == STORE_OK)
        rc = store_run(c, "test.voucher_issue", issue_txn, &a);
    if (rc != STORE_OK)
        fprintf(stderr, "vissue: %d (voucher %d): %s\n", rc, a.vrc, store_errmsg(c));
    store_release(c);
    free(png);
    return rc == STORE_OK ? 0 : -1;
}

struct store_args {
    struct scope sc;
    const struct voucher_input *in;
    const struct voucher_ready *v;
    char *id;
    int vrc;
};

static int store_txn(struct store_conn *c, void *arg)
{
    struct store_args *a = arg;
    struct tenant_conn *tc = NULL;
    int rc = tenant_open(c, &a->sc, &tc);
    if (rc != STORE_OK)
        return rc;
    a->vrc = voucher_store(tc, &ENV, a->in, a->v, a->id);
    tenant_close(tc);
    return a->vrc == VCH_OK || a->vrc == VCH_EXISTS ? STORE_OK : a->vrc < 0 ? a->vrc : STORE_ERR;
}

int vissue_split(struct store *st, int64_t bank_id, int64_t branch_id, int64_t teller_id,
                 const char *kind, const char *serial, int64_t customer_id, int64_t now_ms,
                 bool alter, char id_out[48])
{
    uint8_t *png = NULL;
    size_t pn = 0;
    id_out[0] = '\0';
    if (vissue_png(300, 120, &png, &pn) != 0)
        return -1;
    const struct voucher_input in = input_of(kind, serial, customer_id, png, pn);
    struct voucher_ready v;
    int rc = voucher_render(&ENV, bank_id, &in, now_ms, &v);
    free(png);
    if (rc != VCH_OK)
        return rc;
    if (alter)
        v.pdf[v.n / 2] ^= 0x01;
    struct store_args a = {.sc = {.bank_id = bank_id,
                                  .branch_id = branch_id,
                                  .teller_id = teller_id,
                                  .role = ROLE_CLIENT_MANAGER},
                           .in = &in,
                           .v = &v,
                           .id = id_out};
    struct store_conn *c = NULL;
    rc = store_acquire(st, &c);
    if (rc == STORE_OK && store_run(c, "test.voucher_store", store_txn, &a) != STORE_OK &&
        a.vrc == VCH_OK)
        rc = STORE_ERR; /* the transaction failed after the voucher's part */
    store_release(c);
    voucher_ready_wipe(&v);
    return rc == STORE_OK ? a.vrc : rc;
}
