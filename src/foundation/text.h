/* text — small byte-level helpers shared by the modules that validate or
 * write outside text: UTF-8 sequence checks, lowercase-hex checks, and a
 * write(2) loop that survives short writes and EINTR. */
#ifndef ZHANYE_TEXT_H
#define ZHANYE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the well-formed UTF-8 sequence at s (n bytes available), 0 if
 * malformed: overlong forms, surrogates and code points past U+10FFFF are
 * rejected, so nothing can smuggle bytes past a mask or into a log line. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* True when s[0..n) is exactly n lowercase hex digits. */
bool is_lower_hex(const char *s, size_t n);
/* Writes all n bytes to fd; 0, or -1 with errno set. */
int write_all(int fd, const void *p, size_t n);

#endif
