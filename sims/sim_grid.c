/* The digital-grid platform (数字网格): POST /grid/cells
 *   {"bankCode":"B01","branchCode":"01","date":"2026-05-01"}
 * answers {"code":"0000","message":"成功","cells":[...]}: the branch's
 * territory cells, each with its centre, radius, households (head of the
 * household, a masked ID number, address, position) and marketing leads
 * (household, product, score 0..100) — the shape src/business/visit_grid.h
 * reads. The data is generated from the bank and branch codes, so the same
 * branch gets the same cells every time (the date changes nothing); a
 * missing code is 400 with code 4000. Runs in the HTTP simulator (sim_http.c),
 * with its faults. */
#include "sim.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define CELLS 3
#define HOUSEHOLDS 4

static const char *const SURNAMES[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"};
static const char *const GIVEN[] = {"建国", "秀英", "桂兰", "志强", "海燕",
                                    "玉梅", "德明", "春生", "丽华", "国庆"};
static const char *const VILLAGES[] = {"河东", "杨柳", "石桥", "青山", "桃园", "新民"};
static const char *const PRODUCTS[] = {"deposit",     "agri_loan", "debit_card",
                                       "social_card", "ebank",     "insurance"};

static uint32_t hash(const char *a, const char *b)
{
    uint32_t h = 2166136261u;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (const char *p = b; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

static json_t *household(uint32_t h, int c, int k, double lat, double lon, char *id, size_t cap)
{
    uint32_t x = h + (uint32_t)(c * 31 + k * 7);
    char name[32], masked[24], addr[128];
    snprintf(id, cap, "H%02d%02d", c + 1, k + 1);
    snprintf(name, sizeof name, "%s%s", SURNAMES[x % 10], GIVEN[(x / 10) % 10]);
    snprintf(masked, sizeof masked, "330102********%04u", (x % 9000) + 1000);
    snprintf(addr, sizeof addr, "青山县城关镇%s村%d组%d号", VILLAGES[(x / 7) % 6], c + 1,
             k * 3 + 2);
    /* Households lie 100..700 m from the cell's centre, in different directions. */
    double dlat = ((k % 2) ? 1 : -1) * (0.001 + 0.0015 * k);
    double dlon = ((k / 2) ? 1 : -1) * (0.001 + 0.001 * k);
    return json_pack("{s:s, s:s, s:s, s:s, s:f, s:f}", "householdId", id, "name", name, "idMasked",
                     masked, "address", addr, "lat", lat + dlat, "lon", lon + dlon);
}

static json_t *cell(uint32_t h, const char *bank, const char *branch, int c)
{
    char id[32], name[64];
    snprintf(id, sizeof id, "%s-%s-C%d", bank, branch, c + 1);
    snprintf(name, sizeof name, "%s网格%d", VILLAGES[(h + (uint32_t)c) % 6], c + 1);
    double lat = 30.20 + (h % 100) / 1000.0 + c * 0.02;
    double lon = 120.10 + ((h / 100) % 100) / 1000.0 + c * 0.02;
    json_t *hs = json_array(), *ls = json_array();
    for (int k = 0; k < HOUSEHOLDS; k++) {
        char hid[16];
        json_array_append_new(hs, household(h, c, k, lat, lon, hid, sizeof hid));
        if (k == HOUSEHOLDS - 1)
            continue; /* the last household has no lead: no task */
        uint32_t x = h + (uint32_t)(c * 13 + k * 5);
        json_array_append_new(ls, json_pack("{s:s, s:s, s:i}", "householdId", hid, "product",
                                            PRODUCTS[x % 6], "score", (int)(60 + x % 40)));
        if (k == 0) /* the first has a second lead */
            json_array_append_new(ls,
                                  json_pack("{s:s, s:s, s:i}", "householdId", hid, "product",
                                            PRODUCTS[(x + 1) % 6], "score", (int)(30 + x % 30)));
    }
    return json_pack("{s:s, s:s, s:f, s:f, s:i, s:o, s:o}", "cellId", id, "name", name, "lat", lat,
                     "lon", lon, "radiusM", 800, "households", hs, "leads", ls);
}

json_t *sim_grid_cells(json_t *in, unsigned *status)
{
    const char *bank = json_string_value(json_object_get(in, "bankCode"));
    const char *branch = json_string_value(json_object_get(in, "branchCode"));
    if (!bank || !branch || strlen(bank) > 16 || strlen(branch) > 16) {
        *status = 400;
        return json_pack("{s:s,s:s}", "code", "4000", "message", "参数错误");
    }
    uint32_t h = hash(bank, branch);
    json_t *cells = json_array();
    for (int c = 0; c < CELLS; c++)
        json_array_append_new(cells, cell(h, bank, branch, c));
    return json_pack("{s:s, s:s, s:o}", "code", "0000", "message", "成功", "cells", cells);
}
