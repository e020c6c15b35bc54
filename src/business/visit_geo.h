/* visit_geo — positions on the earth for visits: the distance between two
 * GPS positions (haversine on the mean earth radius, good to ~0.5% — far
 * more than a phone's GPS needs), the check of a coordinate, micro-degree
 * integers (how positions are stored), and the order of tasks by distance.
 *
 * Pure functions, no I/O. */
#ifndef ZHANYE_VISIT_GEO_H
#define ZHANYE_VISIT_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_EARTH_RADIUS_M 6371008.8
/* A check-in farther than this from the known location is flagged `far`. */
#define VG_FAR_M 500

/* Great-circle distance in metres between (lat1, lon1) and (lat2, lon2),
 * degrees (WGS-84 as a phone reports it). */
double vg_distance_m(double lat1, double lon1, double lat2, double lon2);

/* A latitude is a finite number in [-90, 90], a longitude in [-180, 180]. */
bool vg_lat_ok(double lat);
bool vg_lon_ok(double lon);

/* Degrees <-> micro-degrees (rounded to nearest). */
int64_t vg_e6(double deg);
double vg_deg(int64_t e6);

/* One item to order: its position (has_pos false: unknown) and a tie-breaker. */
struct vg_item {
    int64_t id;
    bool has_pos;
    double lat, lon;
    double distance_m; /* set by vg_sort: from the origin, -1 without a position */
    size_t index;      /* the caller's (e.g. into a JSON array) */
};

/* Sorts items nearest first from (lat, lon), setting distance_m; items
 * without a position go last; equal distances by id. Stable for equal
 * (distance, id). */
void vg_sort(struct vg_item *items, size_t n, double lat, double lon);

#endif
