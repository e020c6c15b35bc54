/* rollout — which devices a percentage rollout reaches, deterministically.
 *
 * A device's bucket for a package is the first 4 bytes (big-endian) of
 * SM3(decimal package id || device id), modulo 100; a package with
 * rollout_percent P reaches the devices whose bucket is < P. So a device
 * always gets the same answer for a package, raising P only adds devices,
 * and two packages split the fleet independently. Pure; thread-safe. */
#ifndef ZHANYE_APPSTORE_ROLLOUT_H
#define ZHANYE_APPSTORE_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>

/* 0..99; -1 if SM3 failed (the library). */
int pkg_bucket(int64_t pkg_id, const char *dev);
/* percent >= 100: every device; <= 0: none. SM3 failing: none. */
bool pkg_rollout_includes(int64_t pkg_id, const char *dev, int percent);

#endif
