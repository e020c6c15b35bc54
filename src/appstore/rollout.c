#include "appstore/rollout.h"
#include "channel/sm.h"

#include <stdio.h>
#include <string.h>

int pkg_bucket(int64_t pkg_id, const char *dev)
{
    char id[24];
    int n = snprintf(id, sizeof id, "%lld", (long long)pkg_id);
    uint8_t h[SM3_LEN];
    sm_part parts[] = {{id, (size_t)n}, {dev, dev ? strlen(dev) : 0}};
    if (sm3_digest(parts, 2, h) != SM_OK)
        return -1;
    uint32_t v = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    return (int)(v % 100);
}

bool pkg_rollout_includes(int64_t pkg_id, const char *dev, int percent)
{
    if (percent >= 100)
        return true;
    if (percent <= 0)
        return false;
    int b = pkg_bucket(pkg_id, dev);
    return b >= 0 && b < percent;
}
