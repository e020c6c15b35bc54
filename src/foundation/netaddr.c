#include "foundation/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void from_v4(const void *in4, struct netaddr *out)
{
    memcpy(out->b, V4_MAPPED, sizeof V4_MAPPED);
    memcpy(out->b + 12, in4, 4);
}

bool netaddr_is_v4(const struct netaddr *a)
{
    return memcmp(a->b, V4_MAPPED, sizeof V4_MAPPED) == 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

int netaddr_parse(const char *s, size_t n, struct netaddr *out)
{
    char buf[NETADDR_STR_MAX];
    if (!s || n == 0 || n >= sizeof buf || memchr(s, '\0', n))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    uint8_t raw[16];
    if (inet_pton(AF_INET, buf, raw) == 1) {
        from_v4(raw, out);
        return 0;
    }
    if (inet_pton(AF_INET6, buf, raw) == 1) {
        memcpy(out->b, raw, sizeof raw);
        return 0;
    }
    return -1;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
    if (!sa)
        return -1;
    if (sa->sa_family == AF_INET) {
        from_v4(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, out);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        memcpy(out->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

char *netaddr_format(const struct netaddr *a, char *out, size_t cap)
{
    if (!out || cap == 0)
        return out;
    out[0] = '\0';
    if (cap < NETADDR_STR_MAX)
        return out;
    bool v4 = netaddr_is_v4(a);
    if (!inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? a->b + 12 : a->b, out, (socklen_t)cap))
        out[0] = '\0';
    return out;
}

/* Zeroes the bits of a past the first `bits`. */
static void mask_host(struct netaddr *a, unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
        a->b[i] &= (uint8_t)(0xff00u >> keep);
    }
}

static bool in_prefix(const struct netaddr_prefix *p, const struct netaddr *a)
{
    struct netaddr m = *a;
    mask_host(&m, p->bits);
    return memcmp(m.b, p->addr.b, sizeof m.b) == 0;
}

/* One item of a list: ADDR or ADDR/BITS, exactly n bytes. */
static int parse_prefix(const char *s, size_t n, struct netaddr_prefix *out)
{
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;
    if (netaddr_parse(s, alen, &out->addr) != 0)
        return -1;
    unsigned max = netaddr_is_v4(&out->addr) ? 32 : 128;
    unsigned bits = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dn = n - alen - 1;
        if (dn == 0 || dn > 3)
            return -1;
        bits = 0;
        for (size_t i = 0; i < dn; i++) {
            if (d[i] < '0' || d[i] > '9')
                return -1;
            bits = bits * 10 + (unsigned)(d[i] - '0');
        }
        if (bits > max)
            return -1;
    }
    out->bits = bits + (max == 32 ? 96 : 0);
    mask_host(&out->addr, out->bits);
    return 0;
}

int netaddr_list_parse(const char *s, struct netaddr_list *out, char *err, size_t errcap)
{
    char dummy[1];
    if (!err)
        err = dummy, errcap = sizeof dummy;
    if (!s || !out) {
        snprintf(err, errcap, "no list");
        return -1;
    }
    struct netaddr_list l = {.n = 0};
    const char *p = s;
    while (blank(*p))
        p++;
    if (*p == '\0') {
        *out = l;
        return 0;
    }
    for (;;) {
        while (blank(*p))
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && blank(p[t - 1]))
            t--;
        if (t == 0) {
            snprintf(err, errcap, "an empty item");
            return -1;
        }
        if (l.n == NETADDR_LIST_MAX) {
            snprintf(err, errcap, "more than %d items", NETADDR_LIST_MAX);
            return -1;
        }
        if (parse_prefix(p, t, &l.p[l.n]) != 0) {
            snprintf(err, errcap, "'%.*s' is not an IP address or CIDR prefix",
                     (int)(t > 64 ? 64 : t), p);
            return -1;
        }
        l.n++;
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    *out = l;
    return 0;
}

bool netaddr_list_match(const struct netaddr_list *l, const struct netaddr *a)
{
    for (int i = 0; l && i < l->n; i++)
        if (in_prefix(&l->p[i], a))
            return true;
    return false;
}

int netaddr_forwarded_client(const char *s, size_t n, const struct netaddr_list *trusted,
                             struct netaddr *out)
{
    if (!s)
        return -1;
    struct netaddr first = {{0}}, last_untrusted = {{0}}, a;
    bool have_first = false, have_untrusted = false;
    size_t i = 0;
    for (;;) {
        while (i < n && blank(s[i]))
            i++;
        size_t start = i;
        while (i < n && s[i] != ',')
            i++;
        size_t end = i;
        while (end > start && blank(s[end - 1]))
            end--;
        if (netaddr_parse(s + start, end - start, &a) != 0)
            return -1;
        if (!have_first) {
            first = a;
            have_first = true;
        }
        if (!netaddr_list_match(trusted, &a)) {
            last_untrusted = a;
            have_untrusted = true;
        }
        if (i == n)
            break;
        i++; /* the comma */
    }
    *out = have_untrusted ? last_untrusted : first;
    return 0;
}
