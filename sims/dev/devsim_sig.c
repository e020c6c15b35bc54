/* devsim_sig — the signature pad simulator (devsim.h), playing the pad and
 * the customer's pen.
 *
 * Script members: "strokes": [[[x,y,p],...],...] (what the customer draws
 * at every capture, then presses confirm; samples 10 ms apart, sent in
 * frames of up to 40), "clear_first": true (one-shot: the first stroke is
 * drawn, then clear is pressed, then all strokes), "cancel": true (one-shot:
 * the customer presses cancel). With neither strokes nor cancel the pad
 * answers PAD_ST_TIMEOUT after the request's timeout. */
#include "devsim.h"

#define BATCH 40

struct pen {
    struct devsim *d;
    const struct pad_frame *f;
    uint8_t buf[BATCH * 12];
    size_t n;
    uint32_t t;
};

static void flush(struct pen *p)
{
    if (p->n)
        devsim_send(p->d, p->f->seq, PAD_EV_SIG_POINTS, p->buf, p->n * 12);
    p->n = 0;
}

static void draw(struct pen *p, const json_t *strokes, size_t upto)
{
    for (size_t s = 0; s < upto && s < json_array_size(strokes); s++) {
        const json_t *st = json_array_get(strokes, s);
        for (size_t i = 0; i < json_array_size(st); i++) {
            const json_t *pt = json_array_get(st, i);
            uint8_t *b = p->buf + 12 * p->n;
            pad_put16(b, (uint16_t)s);
            pad_put16(b + 2, (uint16_t)json_integer_value(json_array_get(pt, 0)));
            pad_put16(b + 4, (uint16_t)json_integer_value(json_array_get(pt, 1)));
            pad_put16(b + 6, (uint16_t)json_integer_value(json_array_get(pt, 2)));
            pad_put32(b + 8, p->t);
            p->t += 10;
            if (++p->n == BATCH)
                flush(p);
        }
        p->t += 200; /* the pen lifted */
    }
    flush(p);
}

static void handle(struct devsim *d, const struct pad_frame *f)
{
    if (f->cmd != PAD_CMD_SIG_START) {
        uint8_t reason = 0xFF;
        devsim_send(d, f->seq, PAD_CMD_NAK, &reason, 1);
        return;
    }
    if (f->len != 5) {
        devsim_reply(d, f, PAD_ST_BAD_PARAM, NULL, 0);
        return;
    }
    static const char *const keys[] = {"strokes", "cancel", NULL};
    if (!devsim_wait_for(d, f->data[4] * 1000L, keys)) {
        devsim_reply(d, f, PAD_ST_TIMEOUT, NULL, 0);
        return;
    }
    if (devsim_script_take(d, "cancel")) {
        devsim_reply(d, f, PAD_ST_CANCELLED, NULL, 0);
        return;
    }
    json_t *strokes = devsim_script_get(d, "strokes");
    struct pen p = {.d = d, .f = f};
    if (devsim_script_take(d, "clear_first")) {
        draw(&p, strokes, 1);
        devsim_send(d, f->seq, PAD_EV_SIG_CLEAR, NULL, 0);
    }
    draw(&p, strokes, json_array_size(strokes));
    json_decref(strokes);
    devsim_reply(d, f, PAD_ST_OK, NULL, 0);
}

int devsim_sig_main(int argc, char **argv)
{
    return devsim_pad_run(argc, argv, handle);
}
