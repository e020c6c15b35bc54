/* clock — wall and monotonic time.
 *
 * clock_wall_ms() is the Unix time in milliseconds (timestamps on the wire,
 * records). clock_mono_ns() never goes backwards (timeouts, latencies).
 * Tests may override the wall clock with clock_set_offset_ms(). */
#ifndef ZHANYE_CLOCK_H
#define ZHANYE_CLOCK_H

#include <stdint.h>

int64_t clock_wall_ms(void);
uint64_t clock_mono_ns(void);
/* Adds delta_ms to every later clock_wall_ms() (process-wide; for tests and skew). */
void clock_set_offset_ms(int64_t delta_ms);

#endif
