#include "foundation/secmem.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

void secmem_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

bool secmem_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

int secmem_random(void *buf, size_t n)
{
    if (n > 0x7fffffff)
        return -1;
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}
