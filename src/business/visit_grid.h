/* visit_grid — what the digital-grid platform (数字网格, the big-data
 * platform) says about a branch's territory, and turning it into visit
 * tasks (`zhanye grid sync`, docs/operations.md).
 *
 * The platform's answer (through the egress step grid_cells,
 * conf/mappings/grid_cells.json) carries `cells`, outside input checked
 * strictly by vgrid_parse:
 *   cells       array of at most VGRID_CELLS_MAX objects:
 *     cellId      1..24 bytes of [A-Za-z0-9_-], unique in the answer
 *     name        1..100 bytes of text
 *     lat, lon    the cell's centre (numbers in range)
 *     radiusM     integer 1..100000
 *     households  at most VGRID_HOUSEHOLDS_MAX objects:
 *       householdId 1..32 bytes of [A-Za-z0-9_-], unique in the cell
 *       name        1..100 bytes of text (the head of the household)
 *       idMasked    0..24 bytes of text (a masked ID number; never a full one)
 *       address     0..300 bytes of text
 *       lat, lon    numbers in range
 *     leads       at most VGRID_LEADS_MAX objects:
 *       householdId one of the cell's households
 *       product     a product code [a-z0-9_]{1,32}
 *       score       number 0..100
 * Other members are ignored (the platform may add some). Returns VI_OK
 * with *out (vgrid_free), or VI_BAD with err naming the member by its path
 * ("cells[2].households[0].lat"); VI_BAD also when out of memory.
 *
 * vgrid_apply makes one task per household that has a lead, for the day,
 * in the cell's client manager's name (cell i of the answer goes to
 * tellers[i % ntellers]): grid_ref "<cellId>/<householdId>", the household
 * and the cell as the task's target, the household's position, its leads
 * best score first. A household that has its task of the day already is
 * skipped, so a second sync of the day adds nothing. One audit record
 * visit.grid_synced ({"date","cells","created","skipped"}, target
 * "branch:<id>") per call, created or not. Runs inside the caller's
 * transaction on tc (scope: the bank and branch, teller 0). VI_OK, or a
 * negative store status. */
#ifndef ZHANYE_VISIT_GRID_H
#define ZHANYE_VISIT_GRID_H

#include "data/tenant.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "business/visit_input.h"

#define VGRID_CELLS_MAX 200
#define VGRID_HOUSEHOLDS_MAX 500
#define VGRID_LEADS_MAX 1000

struct vgrid_lead {
    char product[VI_PRODUCT_MAX + 1];
    double score;
};

struct vgrid_household {
    char ref[33];
    char name[101];
    char id_masked[25];
    char address[301];
    double lat, lon;
    struct vgrid_lead *leads;
    size_t nleads;
};

struct vgrid_cell {
    char ref[25];
    char name[101];
    double lat, lon;
    int64_t radius_m;
    struct vgrid_household *households;
    size_t nhouseholds;
};

struct vgrid {
    struct vgrid_cell *cells;
    size_t ncells;
};

int vgrid_parse(json_t *cells, struct vgrid **out, struct vi_error *err);
/* The same from the text of a JSON document {"cells": [...]}. */
int vgrid_parse_text(const char *text, size_t len, struct vgrid **out, struct vi_error *err);
void vgrid_free(struct vgrid *g);

struct vgrid_result {
    int64_t created, skipped;
};

int vgrid_apply(struct tenant_conn *tc, const struct vgrid *g, int32_t day, const int64_t *tellers,
                size_t ntellers, const char *actor, struct vgrid_result *res);

#endif
