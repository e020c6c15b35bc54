/* serial — a serial port for device modules: termios raw 8N1, and reads
 * and writes with deadlines (CLOCK_MONOTONIC ms, bridge_now_ms()).
 * Works on real UARTs, USB serial adapters and pseudo-terminals. */
#ifndef ZHANYE_BRIDGE_SERIAL_H
#define ZHANYE_BRIDGE_SERIAL_H

#include <stddef.h>
#include <stdint.h>

/* Whether baud is one the module supports (9600 .. 921600 standard rates). */
int serial_baud_ok(int baud);
/* Opens path non-blocking, no controlling tty, raw 8N1 at baud, no flow
 * control, input flushed. The fd, or -1 with errno (ENOENT: no such port;
 * EINVAL: bad baud or not a tty). */
int serial_open(const char *path, int baud);
/* Writes all n bytes by deadline_ms. 0, or -1 (errno ETIMEDOUT, EIO, ...). */
int serial_write_all(int fd, const uint8_t *p, size_t n, long deadline_ms);
/* Reads up to n bytes, waiting until deadline_ms for the first. The count
 * (> 0), 0 at the deadline, or -1 on an error or hang-up (the device went). */
long serial_read_some(int fd, uint8_t *p, size_t n, long deadline_ms);
/* Discards input until quiet_ms pass without a byte (at most max_ms). */
void serial_drain(int fd, int quiet_ms, int max_ms);

#endif
