/* fuzz_grid — the grid platform's answer (outside input read by `zhanye
 * grid sync`, business/visit_grid.h) and VISIT_CHECKIN's value rules
 * (business/visit_input.h) on arbitrary bytes:
 *   - vgrid_parse_text never crashes, and what it accepts keeps its
 *     promises: limits, unique non-empty references, positions in range,
 *     scores 0..100, valid product codes, every lead on a household;
 *   - vi_checkin on the bytes as a JSON object never crashes, and what it
 *     accepts has a known outcome, a position in range, at most 9 photos
 *     and a time inside the window. */
#include "business/visit_geo.h"
#include "business/visit_grid.h"
#include "business/visit_input.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define NOW 1780000000000LL

static void check_grid(const struct vgrid *g)
{
    CHECK(g->ncells <= VGRID_CELLS_MAX);
    for (size_t i = 0; i < g->ncells; i++) {
        const struct vgrid_cell *c = &g->cells[i];
        CHECK(c->ref[0] && c->name[0]);
        CHECK(vg_lat_ok(c->lat) && vg_lon_ok(c->lon));
        CHECK(c->radius_m >= 1 && c->radius_m <= 100000);
        CHECK(c->nhouseholds <= VGRID_HOUSEHOLDS_MAX);
        for (size_t k = 0; k < i; k++)
            CHECK(strcmp(g->cells[k].ref, c->ref) != 0);
        for (size_t h = 0; h < c->nhouseholds; h++) {
            const struct vgrid_household *hh = &c->households[h];
            CHECK(hh->ref[0] && hh->name[0]);
            CHECK(vg_lat_ok(hh->lat) && vg_lon_ok(hh->lon));
            for (size_t k = 0; k < h; k++)
                CHECK(strcmp(c->households[k].ref, hh->ref) != 0);
            for (size_t l = 0; l < hh->nleads; l++) {
                struct vi_error e = {0};
                json_t *p = json_string(hh->leads[l].product);
                CHECK(p && vi_product(p, "p", &e) == VI_OK);
                json_decref(p);
                CHECK(hh->leads[l].score >= 0 && hh->leads[l].score <= 100);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vi_error e = {0};
    struct vgrid *g = NULL;
    if (vgrid_parse_text((const char *)data, size, &g, &e) == VI_OK) {
        CHECK(g);
        check_grid(g);
        vgrid_free(g);
    } else {
        CHECK(!g && e.field[0]);
    }
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(in)) {
        struct vi_checkin c;
        if (vi_checkin(in, NOW, &c, &e) == VI_OK) {
            CHECK(c.outcome && (c.task_id > 0 || c.customer_id > 0));
            CHECK(vg_lat_ok(c.lat) && vg_lon_ok(c.lon));
            CHECK(json_array_size(c.photos) <= VI_PHOTOS_MAX);
            CHECK(c.at <= NOW + VI_AHEAD_MS && c.at >= NOW - VI_BEHIND_MS);
            CHECK(strlen(c.notes) <= VI_NOTES_MAX && strlen(c.next_step) <= VI_STEP_MAX);
            vi_checkin_free(&c);
        }
    }
    json_decref(in);
    return 0;
}
