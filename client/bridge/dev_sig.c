/* dev_sig — see dev_sig.h. */
#include "dev_sig.h"

#include <cairo.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct membuf {
    unsigned char *p;
    size_t n, cap;
    bool failed;
};

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int len)
{
    struct membuf *b = closure;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return CAIRO_STATUS_NO_MEMORY;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

pad_status dev_sig_render_png(int width, int height, const struct dev_sig_point *points, size_t n,
                              unsigned char **png, size_t *png_len)
{
    if (width < 1 || height < 1 || width > 4096 || height > 4096 || (n && !points) || !png ||
        !png_len)
        return PAD_EPARAM;
    *png = NULL;
    *png_len = 0;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return PAD_ENOMEM;
    }
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (size_t i = 0; i < n; i++) {
        /* A segment from the previous sample of the same stroke, its width
         * by the pressure at both ends; a lone sample is a dot. */
        const struct dev_sig_point *a =
            i > 0 && points[i - 1].stroke == points[i].stroke ? &points[i - 1] : &points[i];
        const struct dev_sig_point *b = &points[i];
        double p = (a->pressure + b->pressure) / 2.0 / DEV_SIG_PRESSURE_MAX;
        cairo_set_line_width(cr, 0.5 + 3.5 * p);
        cairo_move_to(cr, a->x + 0.5, a->y + 0.5);
        cairo_line_to(cr, b->x + 0.5, b->y + 0.5);
        cairo_stroke(cr);
    }
    cairo_destroy(cr);
    struct membuf b = {0};
    cairo_status_t st = cairo_surface_write_to_png_stream(s, png_write, &b);
    cairo_surface_destroy(s);
    if (st != CAIRO_STATUS_SUCCESS || b.failed) {
        free(b.p);
        return PAD_ENOMEM;
    }
    *png = b.p;
    *png_len = b.n;
    return PAD_OK;
}

static char *strokes_json(int width, int height, const struct dev_sig_point *pt, size_t n)
{
    json_t *strokes = json_array();
    json_t *cur = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cur || (i > 0 && pt[i].stroke != pt[i - 1].stroke)) {
            cur = json_array();
            json_array_append_new(strokes, cur);
        }
        json_array_append_new(
            cur, json_pack("[iiiI]", pt[i].x, pt[i].y, pt[i].pressure, (json_int_t)pt[i].t_ms));
    }
    json_t *o = json_pack("{s:i,s:i,s:o}", "width", width, "height", height, "strokes", strokes);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

void dev_sig_result_free(struct dev_sig_result *r)
{
    if (!r)
        return;
    free(r->points);
    free(r->png);
    free(r->json);
    memset(r, 0, sizeof *r);
}

static pad_status fail(struct dev_sig_result *out, pad_status s)
{
    dev_sig_result_free(out);
    return s;
}

/* Appends the samples of one PAD_EV_SIG_POINTS frame. */
static pad_status take_points(struct dev_sig_result *out, const struct pad_frame *f, dev_sig_cb cb,
                              void *arg)
{
    if (f->len == 0 || f->len % 12 != 0)
        return PAD_EFRAME;
    size_t k = f->len / 12;
    if (out->npoints + k > DEV_SIG_MAX_POINTS)
        return PAD_EFRAME;
    struct dev_sig_point *np = realloc(out->points, (out->npoints + k) * sizeof *np);
    if (!np)
        return PAD_ENOMEM;
    out->points = np;
    for (size_t i = 0; i < k; i++) {
        const uint8_t *d = f->data + 12 * i;
        struct dev_sig_point p = {.stroke = pad_get16(d),
                                  .x = pad_get16(d + 2),
                                  .y = pad_get16(d + 4),
                                  .pressure = pad_get16(d + 6),
                                  .t_ms = pad_get32(d + 8)};
        if (p.x >= out->width || p.y >= out->height || p.pressure > DEV_SIG_PRESSURE_MAX)
            return PAD_EFRAME;
        if (out->npoints > 0) {
            const struct dev_sig_point *q = &out->points[out->npoints - 1];
            if (p.stroke < q->stroke || p.t_ms < q->t_ms)
                return PAD_EFRAME;
        }
        out->points[out->npoints++] = p;
        if (cb)
            cb(arg, DEV_SIG_POINT, &p);
    }
    return PAD_OK;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pad_status dev_sig_capture(struct pad_link *l, int width, int height, int timeout_s, dev_sig_cb cb,
                           void *arg, struct dev_sig_result *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!l || !out || width < 1 || height < 1 || width > 4096 || height > 4096 || timeout_s < 1 ||
        timeout_s > 255)
        return PAD_EPARAM;
    out->width = width;
    out->height = height;
    uint8_t start[5];
    pad_put16(start, (uint16_t)width);
    pad_put16(start + 2, (uint16_t)height);
    start[4] = (uint8_t)timeout_s;
    pad_status s = pad_link_send(l, PAD_CMD_SIG_START, start, sizeof start);
    if (s != PAD_OK)
        return fail(out, s);
    long long deadline = now_ms() + (timeout_s + 3) * 1000LL;
    for (;;) {
        long long left = deadline - now_ms();
        struct pad_frame f;
        s = left > 0 ? pad_link_recv(l, (int)left, &f) : PAD_ETIMEOUT;
        if (s != PAD_OK)
            return fail(out, s);
        if (f.cmd == PAD_EV_SIG_POINTS) {
            s = take_points(out, &f, cb, arg);
            if (s != PAD_OK)
                return fail(out, s);
        } else if (f.cmd == PAD_EV_SIG_CLEAR) {
            out->npoints = 0;
            if (cb)
                cb(arg, DEV_SIG_CLEAR, NULL);
        } else if (f.cmd == (PAD_CMD_SIG_START | PAD_REPLY) && f.len >= 1) {
            s = pad_status_of(f.data[0]);
            if (s != PAD_OK)
                return fail(out, s);
            break;
        } else {
            return fail(out, PAD_EFRAME);
        }
    }
    if (out->npoints == 0)
        return fail(out, PAD_ENOINPUT);
    s = dev_sig_render_png(width, height, out->points, out->npoints, &out->png, &out->png_len);
    if (s != PAD_OK)
        return fail(out, s);
    out->json = strokes_json(width, height, out->points, out->npoints);
    if (!out->json)
        return fail(out, PAD_ENOMEM);
    return PAD_OK;
}
