/* visit_grid.c — the grid platform's cells, checked, and the tasks made of
 * them (see visit_grid.h). */
#include "business/visit_grid.h"

#include "business/visit_db.h"
#include "business/visit_geo.h"
#include "foundation/clock.h"
#include "identity/audit.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(struct vi_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct vi_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->field, sizeof err->field, "%s", path);
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return VI_BAD;
}

/* A reference: 1..max bytes of [A-Za-z0-9_-] into out (max + 1 bytes). */
static int ref(json_t *v, const char *path, size_t max, char *out, struct vi_error *err)
{
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    if (!s || n < 1 || n > max)
        return bad(err, path, "须为1到%zu个字符的编号", max);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return bad(err, path, "编号含有不允许的字符");
    }
    memcpy(out, s, n + 1);
    return VI_OK;
}

/* Text by the text rule of visit_input.h into out (max + 1 bytes). */
static int text(json_t *v, const char *path, size_t max, bool required, char *out,
                struct vi_error *err)
{
    char *t = NULL;
    if (!v && required)
        return bad(err, path, "必须给出");
    if (vi_text(v, path, max, false, &t, err) != VI_OK)
        return VI_BAD;
    int rc = VI_OK;
    if (required && !t[0])
        rc = bad(err, path, "不能为空");
    else
        snprintf(out, max + 1, "%s", t);
    free(t);
    return rc;
}

static int position(json_t *o, const char *path, double *lat, double *lon, struct vi_error *err)
{
    char p[96];
    json_t *a = json_object_get(o, "lat"), *b = json_object_get(o, "lon");
    snprintf(p, sizeof p, "%.64s.lat", path);
    if (!json_is_number(a) || !vg_lat_ok(json_number_value(a)))
        return bad(err, p, "纬度须为-90到90之间的数");
    snprintf(p, sizeof p, "%.64s.lon", path);
    if (!json_is_number(b) || !vg_lon_ok(json_number_value(b)))
        return bad(err, p, "经度须为-180到180之间的数");
    *lat = json_number_value(a);
    *lon = json_number_value(b);
    return VI_OK;
}

static int household(json_t *o, const char *path, struct vgrid_cell *c, struct vi_error *err)
{
    char p[96];
    struct vgrid_household *h = &c->households[c->nhouseholds];
    memset(h, 0, sizeof *h);
    if (!json_is_object(o))
        return bad(err, path, "须为对象");
    snprintf(p, sizeof p, "%.64s.householdId", path);
    if (ref(json_object_get(o, "householdId"), p, sizeof h->ref - 1, h->ref, err) != VI_OK)
        return VI_BAD;
    for (size_t i = 0; i < c->nhouseholds; i++)
        if (strcmp(c->households[i].ref, h->ref) == 0)
            return bad(err, p, "编号重复");
    snprintf(p, sizeof p, "%.64s.name", path);
    if (text(json_object_get(o, "name"), p, sizeof h->name - 1, true, h->name, err) != VI_OK)
        return VI_BAD;
    snprintf(p, sizeof p, "%.64s.idMasked", path);
    if (text(json_object_get(o, "idMasked"), p, sizeof h->id_masked - 1, false, h->id_masked,
             err) != VI_OK)
        return VI_BAD;
    snprintf(p, sizeof p, "%.64s.address", path);
    if (text(json_object_get(o, "address"), p, sizeof h->address - 1, false, h->address, err) !=
        VI_OK)
        return VI_BAD;
    if (position(o, path, &h->lat, &h->lon, err) != VI_OK)
        return VI_BAD;
    c->nhouseholds++;
    return VI_OK;
}

static int lead(json_t *o, const char *path, struct vgrid_cell *c, struct vi_error *err)
{
    char p[96], hid[33];
    if (!json_is_object(o))
        return bad(err, path, "须为对象");
    snprintf(p, sizeof p, "%.64s.householdId", path);
    if (ref(json_object_get(o, "householdId"), p, sizeof hid - 1, hid, err) != VI_OK)
        return VI_BAD;
    struct vgrid_household *h = NULL;
    for (size_t i = 0; i < c->nhouseholds && !h; i++)
        if (strcmp(c->households[i].ref, hid) == 0)
            h = &c->households[i];
    if (!h)
        return bad(err, p, "不是本网格的住户");
    snprintf(p, sizeof p, "%.64s.product", path);
    json_t *prod = json_object_get(o, "product");
    if (vi_product(prod, p, err) != VI_OK)
        return VI_BAD;
    json_t *sc = json_object_get(o, "score");
    snprintf(p, sizeof p, "%.64s.score", path);
    if (!json_is_number(sc) || !(json_number_value(sc) >= 0 && json_number_value(sc) <= 100))
        return bad(err, p, "评分须为0到100之间的数");
    struct vgrid_lead *nl = realloc(h->leads, (h->nleads + 1) * sizeof *nl);
    if (!nl)
        return bad(err, path, "内存不足");
    h->leads = nl;
    snprintf(nl[h->nleads].product, sizeof nl->product, "%s", json_string_value(prod));
    nl[h->nleads].score = json_number_value(sc);
    h->nleads++;
    return VI_OK;
}

static int cell(json_t *o, const char *path, struct vgrid *g, struct vi_error *err)
{
    char p[96], q[96];
    struct vgrid_cell *c = &g->cells[g->ncells];
    memset(c, 0, sizeof *c);
    if (!json_is_object(o))
        return bad(err, path, "须为对象");
    snprintf(p, sizeof p, "%.64s.cellId", path);
    if (ref(json_object_get(o, "cellId"), p, sizeof c->ref - 1, c->ref, err) != VI_OK)
        return VI_BAD;
    for (size_t i = 0; i < g->ncells; i++)
        if (strcmp(g->cells[i].ref, c->ref) == 0)
            return bad(err, p, "编号重复");
    snprintf(p, sizeof p, "%.64s.name", path);
    if (text(json_object_get(o, "name"), p, sizeof c->name - 1, true, c->name, err) != VI_OK)
        return VI_BAD;
    if (position(o, path, &c->lat, &c->lon, err) != VI_OK)
        return VI_BAD;
    json_t *r = json_object_get(o, "radiusM");
    snprintf(p, sizeof p, "%.64s.radiusM", path);
    if (!json_is_integer(r) || json_integer_value(r) < 1 || json_integer_value(r) > 100000)
        return bad(err, p, "半径须为1到100000之间的整数");
    c->radius_m = json_integer_value(r);
    json_t *hs = json_object_get(o, "households"), *ls = json_object_get(o, "leads");
    snprintf(p, sizeof p, "%.64s.households", path);
    if (!json_is_array(hs) || json_array_size(hs) > VGRID_HOUSEHOLDS_MAX)
        return bad(err, p, "须为至多%d项的数组", VGRID_HOUSEHOLDS_MAX);
    snprintf(p, sizeof p, "%.64s.leads", path);
    if (!json_is_array(ls) || json_array_size(ls) > VGRID_LEADS_MAX)
        return bad(err, p, "须为至多%d项的数组", VGRID_LEADS_MAX);
    g->ncells++; /* from here on vgrid_free frees what the cell holds */
    c->households = calloc(json_array_size(hs) + 1, sizeof *c->households);
    if (!c->households)
        return bad(err, path, "内存不足");
    for (size_t i = 0; i < json_array_size(hs); i++) {
        snprintf(q, sizeof q, "%.64s.households[%u]", path, (unsigned)i);
        if (household(json_array_get(hs, i), q, c, err) != VI_OK)
            return VI_BAD;
    }
    for (size_t i = 0; i < json_array_size(ls); i++) {
        snprintf(q, sizeof q, "%.64s.leads[%u]", path, (unsigned)i);
        if (lead(json_array_get(ls, i), q, c, err) != VI_OK)
            return VI_BAD;
    }
    return VI_OK;
}

int vgrid_parse(json_t *cells, struct vgrid **out, struct vi_error *err)
{
    char p[32];
    *out = NULL;
    if (!json_is_array(cells) || json_array_size(cells) > VGRID_CELLS_MAX)
        return bad(err, "cells", "须为至多%d项的数组", VGRID_CELLS_MAX);
    struct vgrid *g = calloc(1, sizeof *g);
    if (g)
        g->cells = calloc(json_array_size(cells) + 1, sizeof *g->cells);
    if (!g || !g->cells) {
        vgrid_free(g);
        return bad(err, "cells", "内存不足");
    }
    for (size_t i = 0; i < json_array_size(cells); i++) {
        snprintf(p, sizeof p, "cells[%zu]", i);
        if (cell(json_array_get(cells, i), p, g, err) != VI_OK) {
            vgrid_free(g);
            return VI_BAD;
        }
    }
    *out = g;
    return VI_OK;
}

int vgrid_parse_text(const char *text, size_t len, struct vgrid **out, struct vi_error *err)
{
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    int rc = json_is_object(doc) ? vgrid_parse(json_object_get(doc, "cells"), out, err)
                                 : bad(err, "cells", "应答不是JSON对象");
    json_decref(doc);
    return rc;
}

void vgrid_free(struct vgrid *g)
{
    if (!g)
        return;
    for (size_t i = 0; g->cells && i < g->ncells; i++) {
        for (size_t k = 0; g->cells[i].households && k < g->cells[i].nhouseholds; k++)
            free(g->cells[i].households[k].leads);
        free(g->cells[i].households);
    }
    free(g->cells);
    free(g);
}

/* ---- tasks ---------------------------------------------------------------------------- */

static int by_score(const void *a, const void *b)
{
    const struct vgrid_lead *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return strcmp(x->product, y->product);
}

/* One household's task. */
static int household_task(struct tenant_conn *tc, const struct vgrid_cell *c,
                          struct vgrid_household *h, int32_t day, int64_t teller,
                          struct vgrid_result *res)
{
    char grid_ref[VDB_REF_MAX + 1];
    int64_t id = 0;
    snprintf(grid_ref, sizeof grid_ref, "%s/%s", c->ref, h->ref);
    int rc = vdb_task_find_grid(tc, day, grid_ref, &id);
    if (rc == VDB_OK) {
        res->skipped++;
        return VI_OK;
    }
    if (rc != VDB_NONE)
        return rc;
    qsort(h->leads, h->nleads, sizeof *h->leads, by_score);
    json_t *leads = json_array();
    for (size_t i = 0; leads && i < h->nleads; i++)
        json_array_append_new(leads, json_pack("{s:s, s:f}", "product", h->leads[i].product,
                                               "score", h->leads[i].score));
    json_t *target = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s}}", "household", "ref", h->ref,
                               "name", h->name, "id_masked", h->id_masked, "address", h->address,
                               "cell", "ref", c->ref, "name", c->name);
    struct vdb_task t = {.teller_id = teller,
                         .branch_id = tenant_scope(tc)->branch_id,
                         .day = day,
                         .has_pos = true,
                         .lat_e6 = vg_e6(h->lat),
                         .lon_e6 = vg_e6(h->lon),
                         .assigned_by = 0,
                         .created_at = clock_wall_ms()};
    t.updated_at = t.created_at;
    snprintf(t.source, sizeof t.source, "grid");
    snprintf(t.status, sizeof t.status, "open");
    snprintf(t.grid_ref, sizeof t.grid_ref, "%s", grid_ref);
    t.target = target ? json_dumps(target, JSON_COMPACT) : NULL;
    t.leads = leads ? json_dumps(leads, JSON_COMPACT) : NULL;
    json_decref(target);
    json_decref(leads);
    rc = t.target && t.leads ? vdb_next_id(tc, VDB_TASKS, &t.id) : STORE_NOMEM;
    if (rc == VDB_OK)
        rc = vdb_task_insert(tc, &t);
    if (rc == VDB_OK)
        res->created++;
    vdb_task_free(&t);
    return rc;
}

int vgrid_apply(struct tenant_conn *tc, const struct vgrid *g, int32_t day, const int64_t *tellers,
                size_t ntellers, const char *actor, struct vgrid_result *res)
{
    int rc = VI_OK;
    res->created = res->skipped = 0;
    for (size_t i = 0; ntellers && rc == VI_OK && i < g->ncells; i++) {
        const struct vgrid_cell *c = &g->cells[i];
        for (size_t k = 0; rc == VI_OK && k < c->nhouseholds; k++)
            if (c->households[k].nleads)
                rc = household_task(tc, c, &c->households[k], day, tellers[i % ntellers], res);
    }
    if (rc != VI_OK)
        return rc;
    char target[32], date[11];
    snprintf(target, sizeof target, "branch:%" PRId64, tenant_scope(tc)->branch_id);
    vi_day_text(day, date);
    rc = audit_tenantf(tc, actor, "visit.grid_synced", target, "{s:s, s:I, s:I, s:I, s:I}", "date",
                       date, "cells", (json_int_t)g->ncells, "managers", (json_int_t)ntellers,
                       "created", (json_int_t)res->created, "skipped", (json_int_t)res->skipped);
    return rc == ID_OK ? VI_OK : STORE_ERR;
}
