/* visit_geo.c — haversine, coordinate checks, ordering (see visit_geo.h). */
#include "business/visit_geo.h"

#include <math.h>
#include <stdlib.h>

#define DEG2RAD (3.14159265358979323846 / 180.0)

double vg_distance_m(double lat1, double lon1, double lat2, double lon2)
{
    double p1 = lat1 * DEG2RAD, p2 = lat2 * DEG2RAD;
    double dp = (lat2 - lat1) * DEG2RAD, dl = (lon2 - lon1) * DEG2RAD;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    if (a > 1)
        a = 1; /* rounding near the antipode */
    return 2 * VG_EARTH_RADIUS_M * atan2(sqrt(a), sqrt(1 - a));
}

bool vg_lat_ok(double lat)
{
    return isfinite(lat) && lat >= -90 && lat <= 90;
}

bool vg_lon_ok(double lon)
{
    return isfinite(lon) && lon >= -180 && lon <= 180;
}

int64_t vg_e6(double deg)
{
    return (int64_t)llround(deg * 1e6);
}

double vg_deg(int64_t e6)
{
    return (double)e6 / 1e6;
}

static int cmp(const void *a, const void *b)
{
    const struct vg_item *x = a, *y = b;
    if (x->has_pos != y->has_pos)
        return x->has_pos ? -1 : 1;
    if (x->has_pos && x->distance_m != y->distance_m)
        return x->distance_m < y->distance_m ? -1 : 1;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

void vg_sort(struct vg_item *items, size_t n, double lat, double lon)
{
    for (size_t i = 0; i < n; i++)
        items[i].distance_m =
            items[i].has_pos ? vg_distance_m(lat, lon, items[i].lat, items[i].lon) : -1;
    if (n > 1)
        qsort(items, n, sizeof *items, cmp);
}
