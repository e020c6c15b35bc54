#include "foundation/clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t wall_offset_ms;

int64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&wall_offset_ms);
}

uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void clock_set_offset_ms(int64_t delta_ms)
{
    atomic_store(&wall_offset_ms, delta_ms);
}
