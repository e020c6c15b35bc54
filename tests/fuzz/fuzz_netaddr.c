/* fuzz_netaddr — the address parsers on outside input: the input up to its
 * first newline is an address list ([server] trusted_proxies, metrics_allow),
 * the rest an X-Forwarded-For value. Contracts checked against independent
 * oracles:
 *   - netaddr_parse accepts exactly what inet_pton accepts (IPv4 then IPv6)
 *     on the same bytes, and nothing with a NUL in it; the formatted result
 *     parses back to the same 16 bytes;
 *   - a parsed list has 0..NETADDR_LIST_MAX prefixes, each with bits <= 128
 *     (>= 96 for IPv4) and no host bit set; each matches its own address,
 *     and netaddr_list_match agrees with a bit-by-bit prefix compare;
 *   - netaddr_forwarded_client succeeds exactly when every comma-separated
 *     item, blanks trimmed, is an address; then it names the rightmost
 *     untrusted item, or the leftmost when all are trusted. */
#include "foundation/netaddr.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

/* inet_pton on the n bytes at s, in the 16-byte form netaddr.h describes. */
static bool oracle_parse(const char *s, size_t n, uint8_t out[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof buf || memchr(s, '\0', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    uint8_t v4[4];
    if (inet_pton(AF_INET, buf, v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, v4, 4);
        return true;
    }
    return inet_pton(AF_INET6, buf, out) == 1;
}

static bool bit(const uint8_t *b, unsigned i)
{
    return (b[i / 8] >> (7 - i % 8)) & 1;
}

static bool oracle_in(const struct netaddr_prefix *p, const struct netaddr *a)
{
    for (unsigned i = 0; i < p->bits; i++)
        if (bit(p->addr.b, i) != bit(a->b, i))
            return false;
    return true;
}

static bool oracle_match(const struct netaddr_list *l, const struct netaddr *a)
{
    for (int i = 0; i < l->n; i++)
        if (oracle_in(&l->p[i], a))
            return true;
    return false;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static void check_parse(const char *s, size_t n)
{
    uint8_t want[16];
    struct netaddr a;
    bool ok = oracle_parse(s, n, want);
    CHECK((netaddr_parse(s, n, &a) == 0) == ok);
    if (!ok)
        return;
    CHECK(memcmp(a.b, want, 16) == 0);
    char text[NETADDR_STR_MAX];
    netaddr_format(&a, text, sizeof text);
    struct netaddr back;
    CHECK(netaddr_parse(text, strlen(text), &back) == 0);
    CHECK(memcmp(back.b, a.b, 16) == 0);
}

static void check_list(const char *s, struct netaddr_list *l, const struct netaddr *probe)
{
    char err[128];
    if (netaddr_list_parse(s, l, err, sizeof err) != 0) {
        CHECK(memchr(err, '\0', sizeof err) != NULL && err[0]);
        l->n = 0;
        return;
    }
    CHECK(l->n >= 0 && l->n <= NETADDR_LIST_MAX);
    for (int i = 0; i < l->n; i++) {
        const struct netaddr_prefix *p = &l->p[i];
        CHECK(p->bits <= 128);
        CHECK(!netaddr_is_v4(&p->addr) || p->bits >= 96);
        for (unsigned k = p->bits; k < 128; k++)
            CHECK(!bit(p->addr.b, k));
        CHECK(netaddr_list_match(l, &p->addr));
    }
    CHECK(netaddr_list_match(l, probe) == oracle_match(l, probe));
}

static void check_forwarded(const char *s, size_t n, const struct netaddr_list *trusted)
{
    /* The oracle: split on commas, trim blanks, parse each item. */
    bool ok = true, have_untrusted = false;
    uint8_t first[16] = {0}, want[16] = {0};
    size_t i = 0;
    int items = 0;
    for (;;) {
        size_t start = i;
        while (i < n && s[i] != ',')
            i++;
        size_t a = start, b = i;
        while (a < b && blank(s[a]))
            a++;
        while (b > a && blank(s[b - 1]))
            b--;
        uint8_t x[16];
        if (!oracle_parse(s + a, b - a, x)) {
            ok = false;
            break;
        }
        if (items++ == 0)
            memcpy(first, x, 16);
        struct netaddr xa;
        memcpy(xa.b, x, 16);
        if (!oracle_match(trusted, &xa)) {
            memcpy(want, x, 16);
            have_untrusted = true;
        }
        if (i == n)
            break;
        i++;
    }
    struct netaddr got;
    int rc = netaddr_forwarded_client(s, n, trusted, &got);
    CHECK((rc == 0) == ok);
    if (ok)
        CHECK(memcmp(got.b, have_untrusted ? want : first, 16) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t ln = nl ? (size_t)(nl - in) : size;
    char *list_text = malloc(ln + 1);
    if (!list_text)
        abort();
    memcpy(list_text, in, ln);
    list_text[ln] = '\0';
    const char *rest = nl ? nl + 1 : in + size;
    size_t rn = size - (size_t)(rest - in);

    check_parse(in, ln);
    check_parse(rest, rn);
    struct netaddr probe = {{0}};
    memcpy(probe.b, rest, rn < 16 ? rn : 16);
    struct netaddr_list l;
    check_list(list_text, &l, &probe);
    check_forwarded(rest, rn, &l);
    free(list_text);
    return 0;
}
