/* secmem — handling of secrets: zeroize and compare in constant time.
 *
 * Every buffer that held a key, a device secret, S or a password is passed to
 * secmem_wipe() before it goes out of scope; MACs and tokens are compared
 * with secmem_equal() only. Both are thin wrappers over OpenSSL so that the
 * compiler cannot elide or short-circuit them. */
#ifndef ZHANYE_SECMEM_H
#define ZHANYE_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

void secmem_wipe(void *p, size_t n);
/* True when the n bytes at a and b are equal; time depends on n only. */
bool secmem_equal(const void *a, const void *b, size_t n);
/* Fills buf with n bytes from the CSPRNG; 0 on success, -1 on failure. */
int secmem_random(void *buf, size_t n);

#endif
