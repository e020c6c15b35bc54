/* voucher_pdf.c — the voucher's page with cairo and pango (see voucher_pdf.h). */
#include "business/voucher_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_W 595.0 /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 56.0
#define LABEL_W 130.0
#define SIG_W 220.0
#define SIG_H 90.0
#define LABEL_MAX 64
#define VALUE_MAX 512

void vpdf_cleanup(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}

void vpdf_china_time(int64_t t_ms, char out[20])
{
    time_t t = (time_t)(t_ms / 1000) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

/* ---- output into memory ---------------------------------------------------- */

struct buf {
    uint8_t *p;
    size_t n, cap;
    int failed;
};

static cairo_status_t write_buf(void *arg, const unsigned char *data, unsigned int len)
{
    struct buf *b = arg;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + len)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

struct rd {
    const uint8_t *p;
    size_t n, off;
};

static cairo_status_t read_png(void *arg, unsigned char *data, unsigned int len)
{
    struct rd *r = arg;
    if (r->n - r->off < len)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(data, r->p + r->off, len);
    r->off += len;
    return CAIRO_STATUS_SUCCESS;
}

/* ---- drawing -------------------------------------------------------------------------- */

struct page {
    cairo_t *cr;
    PangoContext *pc;
    PangoFontDescription *font;
    double y;
};

/* Draws text at (x, y) within width w (wrapped); returns its height. */
static double text_at(struct page *pg, const char *text, double x, double w, double size, int bold)
{
    PangoLayout *l = pango_layout_new(pg->pc);
    pango_font_description_set_absolute_size(pg->font, size * PANGO_SCALE);
    pango_font_description_set_weight(pg->font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, pg->font);
    pango_layout_set_width(l, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_text(l, text, -1);
    int lw = 0, lh = 0;
    pango_layout_get_size(l, &lw, &lh);
    cairo_move_to(pg->cr, x, pg->y);
    pango_cairo_show_layout(pg->cr, l);
    g_object_unref(l);
    return (double)lh / PANGO_SCALE;
}

static void centered(struct page *pg, const char *text, double size, int bold)
{
    PangoLayout *l = pango_layout_new(pg->pc);
    pango_font_description_set_absolute_size(pg->font, size * PANGO_SCALE);
    pango_font_description_set_weight(pg->font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, pg->font);
    pango_layout_set_width(l, (int)((PAGE_W - 2 * MARGIN) * PANGO_SCALE));
    pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
    pango_layout_set_text(l, text, -1);
    int lw = 0, lh = 0;
    pango_layout_get_size(l, &lw, &lh);
    cairo_move_to(pg->cr, MARGIN, pg->y);
    pango_cairo_show_layout(pg->cr, l);
    g_object_unref(l);
    pg->y += (double)lh / PANGO_SCALE + 6;
}

/* One "label  value" row and a rule under it. */
static void row(struct page *pg, const char *label, const char *value)
{
    double hl = text_at(pg, label, MARGIN, LABEL_W - 8, 11, 1);
    double hv = text_at(pg, value, MARGIN + LABEL_W, PAGE_W - 2 * MARGIN - LABEL_W, 11, 0);
    pg->y += (hl > hv ? hl : hv) + 4;
    cairo_set_line_width(pg->cr, 0.5);
    cairo_move_to(pg->cr, MARGIN, pg->y);
    cairo_line_to(pg->cr, PAGE_W - MARGIN, pg->y);
    cairo_stroke(pg->cr);
    pg->y += 6;
}

/* The signature image scaled into its box below the rows. */
static void signature(struct page *pg, cairo_surface_t *img)
{
    double h0 = text_at(pg, "客户签名", MARGIN, LABEL_W - 8, 11, 1);
    int iw = cairo_image_surface_get_width(img), ih = cairo_image_surface_get_height(img);
    double s = SIG_W / iw;
    if (ih * s > SIG_H)
        s = SIG_H / ih;
    cairo_save(pg->cr);
    cairo_translate(pg->cr, MARGIN + LABEL_W, pg->y);
    cairo_scale(pg->cr, s, s);
    cairo_set_source_surface(pg->cr, img, 0, 0);
    cairo_paint(pg->cr);
    cairo_restore(pg->cr);
    cairo_set_line_width(pg->cr, 0.5);
    cairo_rectangle(pg->cr, MARGIN + LABEL_W - 2, pg->y - 2, SIG_W + 4, SIG_H + 4);
    cairo_stroke(pg->cr);
    pg->y += (SIG_H > h0 ? SIG_H : h0) + 12;
}

static int well_formed(const struct voucher_doc *d)
{
    if (!d->id || !d->title || !d->serial || !d->customer_name || !d->id_no_masked || !d->teller ||
        !d->signature_png || !d->signature_len || (d->nfields && !d->fields))
        return 0;
    for (size_t i = 0; i < d->nfields; i++) {
        const struct voucher_field *f = &d->fields[i];
        if (!f->label || !f->value || !*f->label || strlen(f->label) > LABEL_MAX ||
            strlen(f->value) > VALUE_MAX)
            return 0;
    }
    return 1;
}

static void draw(struct page *pg, const struct voucher_doc *d, cairo_surface_t *img)
{
    char line[512], when[20];
    cairo_set_source_rgb(pg->cr, 0, 0, 0);
    pg->y = MARGIN;
    if ((d->bank_name && *d->bank_name) || (d->branch_name && *d->branch_name)) {
        snprintf(line, sizeof line, "%s%s%s", d->bank_name ? d->bank_name : "",
                 d->bank_name && *d->bank_name && d->branch_name && *d->branch_name ? "  " : "",
                 d->branch_name ? d->branch_name : "");
        centered(pg, line, 13, 0);
    }
    snprintf(line, sizeof line, "%s 电子凭证", d->title);
    centered(pg, line, 20, 1);
    pg->y += 10;
    cairo_set_line_width(pg->cr, 1.2);
    cairo_move_to(pg->cr, MARGIN, pg->y);
    cairo_line_to(pg->cr, PAGE_W - MARGIN, pg->y);
    cairo_stroke(pg->cr);
    pg->y += 10;
    vpdf_china_time(d->time_ms, when);
    snprintf(line, sizeof line, "%s（北京时间）", when);
    row(pg, "凭证编号", d->id);
    row(pg, "业务流水号", d->serial);
    row(pg, "交易时间", line);
    row(pg, "客户姓名", d->customer_name);
    row(pg, "证件号码", d->id_no_masked);
    for (size_t i = 0; i < d->nfields; i++)
        row(pg, d->fields[i].label, d->fields[i].value);
    row(pg, "经办柜员", d->teller);
    pg->y += 6;
    signature(pg, img);
    pg->y = PAGE_H - MARGIN - 30;
    text_at(pg, "本凭证为电子凭证，其 SM3 摘要已由本行服务器以 SM2 私钥签名，可凭凭证编号验真。",
            MARGIN, PAGE_W - 2 * MARGIN, 9, 0);
}

/* The signature PNG decoded: a surface of positive size, or NULL. */
static cairo_surface_t *decode_png(const uint8_t *p, size_t n)
{
    struct rd r = {.p = p, .n = n};
    cairo_surface_t *img = cairo_image_surface_create_from_png_stream(read_png, &r);
    /* cairo 1.16 reports most PNG faults as CAIRO_STATUS_NO_MEMORY (its
     * error surfaces cover few statuses), so any failure is the input's. */
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS ||
        cairo_image_surface_get_width(img) <= 0 || cairo_image_surface_get_height(img) <= 0) {
        cairo_surface_destroy(img);
        return NULL;
    }
    return img;
}

bool vpdf_png_ok(const uint8_t *png, size_t n)
{
    cairo_surface_t *img = png && n ? decode_png(png, n) : NULL;
    cairo_surface_destroy(img);
    return img != NULL;
}

int vpdf_render(const struct voucher_doc *d, uint8_t **pdf, size_t *n)
{
    *pdf = NULL;
    *n = 0;
    if (!d || !well_formed(d))
        return VPDF_BAD_INPUT;
    cairo_surface_t *img = decode_png(d->signature_png, d->signature_len);
    if (!img)
        return VPDF_BAD_INPUT;
    struct buf b = {0};
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_buf, &b, PAGE_W, PAGE_H);
    char date[32], kw[192], when[20];
    vpdf_china_time(d->time_ms, when);
    /* "YYYY-MM-DD HH:MM:SS" -> ISO 8601 with the +08:00 offset */
    snprintf(date, sizeof date, "%.10sT%.8s+08:00", when, when + 11);
    /* 双录: the business's recording's hash, readable without the page's text */
    snprintf(kw, sizeof kw, "zhanye-voucher:%s%s%.64s", d->id,
             d->recording_sm3 && d->recording_sm3[0] ? " recording-sm3:" : "",
             d->recording_sm3 ? d->recording_sm3 : "");
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, date);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, date);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_KEYWORDS, kw);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, d->title);
    /* the issuing bank and branch, also readable without the page's glyph-subset text */
    char subject[2 * 101 + 2];
    snprintf(subject, sizeof subject, "%s%s%s", d->bank_name ? d->bank_name : "",
             d->bank_name && d->bank_name[0] && d->branch_name && d->branch_name[0] ? " " : "",
             d->branch_name ? d->branch_name : "");
    if (subject[0])
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, subject);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "zhanye");

    cairo_t *cr = cairo_create(s);
    /* A font map of the call's own: a pango font map is not to be shared
     * between threads, and one per call leaves nothing behind. */
    PangoFontMap *fm = pango_cairo_font_map_new();
    struct page pg = {.cr = cr,
                      .pc = pango_font_map_create_context(fm),
                      .font = pango_font_description_from_string(VPDF_FONT)};
    pango_cairo_update_context(cr, pg.pc);
    draw(&pg, d, img);
    pango_font_description_free(pg.font);
    g_object_unref(pg.pc);
    g_object_unref(fm);
    cairo_show_page(cr);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    cairo_surface_destroy(img);
    if (st != CAIRO_STATUS_SUCCESS || b.failed || !b.n) {
        free(b.p);
        return VPDF_ERR;
    }
    *pdf = b.p;
    *n = b.n;
    return VPDF_OK;
}
