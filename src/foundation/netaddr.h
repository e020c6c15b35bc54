/* netaddr — IP addresses and lists of CIDR prefixes, for the HTTP front's
 * address policy: who may read /metrics ([server] metrics_allow), which
 * peers are trusted proxies ([server] trusted_proxies), and the client
 * address a trusted proxy names in X-Forwarded-For.
 *
 * Every address is kept as 16 bytes: an IPv4 address as its IPv4-mapped
 * IPv6 form (::ffff:a.b.c.d), so that 127.0.0.1 and ::ffff:127.0.0.1 are the
 * same address and one list holds both families. Text is parsed with
 * inet_pton(): IPv4 as four decimal parts, IPv6 in RFC 4291 form without
 * brackets, zone ids or ports. Nothing here allocates; every parser takes
 * input from outside (the config file, request headers) and reads at most
 * the bytes it is given. */
#ifndef ZHANYE_NETADDR_H
#define ZHANYE_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

#define NETADDR_LIST_MAX 32 /* prefixes in one list */
#define NETADDR_STR_MAX 46  /* = INET6_ADDRSTRLEN: the longest text form + NUL */

struct netaddr {
    uint8_t b[16];
};

struct netaddr_prefix {
    struct netaddr addr; /* host bits past `bits` are zero */
    unsigned bits;       /* 0..128; an IPv4 /n is 96 + n */
};

struct netaddr_list {
    int n;
    struct netaddr_prefix p[NETADDR_LIST_MAX];
};

/* One address, exactly the n bytes at s (no surrounding blanks). 0, or -1
 * when they are not an IPv4 or IPv6 address. */
int netaddr_parse(const char *s, size_t n, struct netaddr *out);

/* The peer address of a socket (AF_INET or AF_INET6). 0, or -1 for any
 * other family or NULL. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);

/* True for an IPv4(-mapped) address. */
bool netaddr_is_v4(const struct netaddr *a);

/* The text form into out (cap >= NETADDR_STR_MAX): dotted quad for IPv4,
 * RFC 5952 for IPv6. Returns out; "" when cap is too small. */
char *netaddr_format(const struct netaddr *a, char *out, size_t cap);

/* A list: items separated by commas, blanks around an item ignored; each
 * item an address or ADDR/BITS (BITS 0..32 for IPv4, 0..128 for IPv6, host
 * bits past the prefix ignored). An empty or all-blank string is the empty
 * list. 0, or -1 with a one-line reason in err (err may be NULL): an item
 * that is empty or not an address or prefix, or more than NETADDR_LIST_MAX
 * items. *out is filled only on success. */
int netaddr_list_parse(const char *s, struct netaddr_list *out, char *err, size_t errcap);

/* True when a falls in one of the list's prefixes (never for the empty list). */
bool netaddr_list_match(const struct netaddr_list *l, const struct netaddr *a);

/* The client address of a request whose peer is a trusted proxy, from the
 * X-Forwarded-For value s (n bytes; several header lines joined with ","):
 * the rightmost entry that is not itself in trusted; when every entry is
 * trusted, the leftmost. 0, or -1 when the value is malformed (empty, an
 * empty item, an item that is not a plain address) — the caller then uses
 * the peer address. */
int netaddr_forwarded_client(const char *s, size_t n, const struct netaddr_list *trusted,
                             struct netaddr *out);

#endif
