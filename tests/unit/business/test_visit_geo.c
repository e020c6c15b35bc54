/* visit_geo: haversine distances against known values, coordinate checks,
 * micro-degrees, and the order of tasks by distance. */
#include "business/visit_geo.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void distances(void **state)
{
    (void)state;
    assert_true(vg_distance_m(30.2, 120.1, 30.2, 120.1) == 0);
    /* One thousandth of a degree of latitude: 111.2 m anywhere. */
    double d = vg_distance_m(30.0, 120.0, 30.001, 120.0);
    assert_true(fabs(d - 111.19) < 0.1);
    /* A degree of longitude shrinks with cos(latitude): ~96.3 km at 30°. */
    d = vg_distance_m(30.0, 120.0, 30.0, 121.0);
    assert_true(fabs(d - 96297) < 100);
    /* Beijing Tiananmen to Shanghai People's Square: ~1067 km. */
    d = vg_distance_m(39.9087, 116.3975, 31.2304, 121.4737);
    assert_true(d > 1060e3 && d < 1075e3);
    /* Symmetric, and across the antimeridian the short way. */
    assert_true(fabs(vg_distance_m(10, 20, 30, 40) - vg_distance_m(30, 40, 10, 20)) < 1e-6);
    d = vg_distance_m(0, 179.9995, 0, -179.9995);
    assert_true(d > 100 && d < 120);
    /* Antipodes: half the circumference, no NaN. */
    d = vg_distance_m(0, 0, 0, 180);
    assert_true(fabs(d - M_PI * VG_EARTH_RADIUS_M) < 1);
}

static void coordinates(void **state)
{
    (void)state;
    assert_true(vg_lat_ok(90) && vg_lat_ok(-90) && vg_lat_ok(0));
    assert_false(vg_lat_ok(90.000001) || vg_lat_ok(-91) || vg_lat_ok(NAN) || vg_lat_ok(INFINITY));
    assert_true(vg_lon_ok(180) && vg_lon_ok(-180));
    assert_false(vg_lon_ok(180.5) || vg_lon_ok(NAN));
    assert_int_equal(vg_e6(30.2741235), 30274124);
    assert_int_equal(vg_e6(-120.0000004), -120000000);
    assert_true(fabs(vg_deg(30274124) - 30.274124) < 1e-9);
}

static void sorting(void **state)
{
    (void)state;
    struct vg_item it[] = {
        {.id = 1, .has_pos = true, .lat = 30.010, .lon = 120.0, .index = 0},
        {.id = 2, .has_pos = false, .index = 1},
        {.id = 3, .has_pos = true, .lat = 30.001, .lon = 120.0, .index = 2},
        {.id = 4, .has_pos = true, .lat = 29.990, .lon = 120.0, .index = 3}, /* as far as 1 */
        {.id = 0, .has_pos = false, .index = 4},
        {.id = 5, .has_pos = true, .lat = 30.0, .lon = 120.0, .index = 5},
    };
    vg_sort(it, 6, 30.0, 120.0);
    static const int64_t want[] = {5, 3, 1, 4, 0, 2};
    for (int i = 0; i < 6; i++)
        assert_int_equal(it[i].id, want[i]);
    assert_true(it[0].distance_m == 0);
    assert_true(it[1].distance_m > 100 && it[1].distance_m < 120);
    assert_true(it[4].distance_m == -1 && it[5].distance_m == -1);
    /* Distances never decrease along the list of positioned items. */
    for (int i = 1; i < 4; i++)
        assert_true(it[i - 1].distance_m <= it[i].distance_m);
    vg_sort(it, 0, 0, 0); /* nothing to do */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(distances),
        cmocka_unit_test(coordinates),
        cmocka_unit_test(sorting),
    };
    return cmocka_run_group_tests_name("visit_geo", tests, NULL, NULL);
}
