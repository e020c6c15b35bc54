/* netaddr: address and CIDR list parsing, matching across the IPv4 and
 * IPv4-mapped forms, formatting, and the X-Forwarded-For client rule. */
#include "foundation/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

static struct netaddr addr(const char *s)
{
    struct netaddr a;
    if (netaddr_parse(s, strlen(s), &a) != 0)
        fail_msg("not an address: %s", s);
    return a;
}

static struct netaddr_list list(const char *s)
{
    struct netaddr_list l;
    char err[128];
    if (netaddr_list_parse(s, &l, err, sizeof err) != 0)
        fail_msg("list '%s': %s", s, err);
    return l;
}

static bool in(const char *lst, const char *a)
{
    struct netaddr_list l = list(lst);
    struct netaddr x = addr(a);
    return netaddr_list_match(&l, &x);
}

static const char *fmt(const char *a)
{
    static char out[NETADDR_STR_MAX];
    struct netaddr x = addr(a);
    return netaddr_format(&x, out, sizeof out);
}

static void parses_and_formats(void **state)
{
    assert_string_equal(fmt("127.0.0.1"), "127.0.0.1");
    assert_string_equal(fmt("::ffff:10.1.2.3"), "10.1.2.3"); /* mapped = IPv4 */
    assert_string_equal(fmt("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
    assert_string_equal(fmt("::1"), "::1");
    assert_true(netaddr_is_v4((struct netaddr[]){addr("0.0.0.0")}));
    assert_false(netaddr_is_v4((struct netaddr[]){addr("::")}));
    /* Exactly the bytes given: a prefix of a longer string parses alone. */
    struct netaddr a;
    assert_int_equal(netaddr_parse("10.0.0.1, 10.0.0.2", 8, &a), 0);
    assert_string_equal(netaddr_format(&a, (char[NETADDR_STR_MAX]){0}, NETADDR_STR_MAX),
                        "10.0.0.1");
    static const char *bad[] = {"",           "1.2.3",      "1.2.3.4.5",    "256.1.1.1",
                                "01.2.3.4",   " 1.2.3.4",   "1.2.3.4 ",     "[::1]",
                                "::1%eth0",   "1.2.3.4:80", "unknown",      "1.2.3.4/8",
                                "fe80::1::1", "12345::",    "::ffff:1.2.3", "0x7f.0.0.1",
                                "1.2.3.-4",   "+1.2.3.4",   "::g",          "1.2.3.4\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (netaddr_parse(bad[i], strlen(bad[i]), &a) == 0)
            fail_msg("accepted '%s'", bad[i]);
    /* An embedded NUL, and a string longer than any address. */
    assert_int_equal(netaddr_parse("1.2.3.4\0", 8, &a), -1);
    assert_int_equal(netaddr_parse("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa", 49, &a),
                     -1);
    /* Too small an output buffer: "" rather than a cut address. */
    char small[8] = "x";
    struct netaddr v6 = addr("2001:db8::1");
    assert_string_equal(netaddr_format(&v6, small, sizeof small), "");
}

static void from_sockaddr(void **state)
{
    struct sockaddr_in s4 = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
    struct netaddr a, b;
    assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&s4, &a), 0);
    assert_int_equal(netaddr_from_sockaddr((struct sockaddr *)&s6, &b), 0);
    assert_memory_equal(a.b, b.b, 16); /* one address whichever socket saw it */
    struct sockaddr other = {.sa_family = AF_UNIX};
    assert_int_equal(netaddr_from_sockaddr(&other, &a), -1);
    assert_int_equal(netaddr_from_sockaddr(NULL, &a), -1);
}

static void lists_and_prefixes(void **state)
{
    assert_true(in("127.0.0.1,::1", "127.0.0.1"));
    assert_true(in("127.0.0.1,::1", "::1"));
    assert_true(in("127.0.0.1", "::ffff:127.0.0.1"));
    assert_false(in("127.0.0.1,::1", "127.0.0.2"));
    assert_true(in(" 10.0.0.0/8 ,\t192.168.1.0/24", "10.255.0.1"));
    assert_true(in("10.0.0.0/8, 192.168.1.0/24", "192.168.1.200"));
    assert_false(in("10.0.0.0/8, 192.168.1.0/24", "192.168.2.1"));
    assert_false(in("10.0.0.0/8", "11.0.0.0"));
    assert_true(in("192.168.1.77/24", "192.168.1.3")); /* host bits ignored */
    assert_true(in("0.0.0.0/0", "203.0.113.9"));
    assert_false(in("0.0.0.0/0", "2001:db8::1")); /* an IPv4 prefix holds IPv4 only */
    assert_true(in("::/0", "203.0.113.9"));       /* ::/0 holds every address */
    assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(in("2001:db8::/32", "2001:db9::1"));
    assert_true(in("10.1.2.3/32", "10.1.2.3"));
    assert_false(in("10.1.2.3/32", "10.1.2.4"));
    assert_true(in("10.1.2.0/25", "10.1.2.127"));
    assert_false(in("10.1.2.0/25", "10.1.2.128"));
    assert_true(in("fe80::/10", "febf::1"));
    assert_false(in("fe80::/10", "fec0::1"));
    struct netaddr_list l = list("   ");
    assert_int_equal(l.n, 0);
    struct netaddr lo = addr("127.0.0.1");
    assert_false(netaddr_list_match(&l, &lo));
    assert_false(netaddr_list_match(NULL, &lo));

    char err[128];
    static const char *bad[] = {"1.2.3.4,",      ",1.2.3.4",  "1.2.3.4,,5.6.7.8", "10.0.0.0/33",
                                "::/129",        "10.0.0.0/", "10.0.0.0/-1",      "10.0.0.0/08x",
                                "10.0.0.0/1000", "localhost", "10.0.0.0/8/8",     "1.2.3.4 5.6.7.8",
                                "10.0.0.0 / 8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (netaddr_list_parse(bad[i], &l, err, sizeof err) == 0)
            fail_msg("accepted list '%s'", bad[i]);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(netaddr_list_parse("localhost", &l, NULL, 0), -1);
    /* At most NETADDR_LIST_MAX items. */
    char many[NETADDR_LIST_MAX * 16 + 16] = "";
    for (int i = 0; i <= NETADDR_LIST_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s10.0.0.%d", i ? "," : "", i);
    assert_int_equal(netaddr_list_parse(many, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
    *strrchr(many, ',') = '\0';
    assert_int_equal(netaddr_list_parse(many, &l, err, sizeof err), 0);
    assert_int_equal(l.n, NETADDR_LIST_MAX);
}

/* The client named by header xff when the trusted proxies are lst; NULL if malformed. */
static const char *client(const char *lst, const char *xff)
{
    static char out[NETADDR_STR_MAX];
    struct netaddr_list l = list(lst);
    struct netaddr a;
    if (netaddr_forwarded_client(xff, strlen(xff), &l, &a) != 0)
        return NULL;
    return netaddr_format(&a, out, sizeof out);
}

static void forwarded_for(void **state)
{
    /* One hop: the entry the proxy appended. */
    assert_string_equal(client("127.0.0.1", "203.0.113.7"), "203.0.113.7");
    /* A spoofed entry before it is ignored: the rightmost untrusted wins. */
    assert_string_equal(client("127.0.0.1", "6.6.6.6, 203.0.113.7"), "203.0.113.7");
    /* Chained trusted proxies are skipped from the right. */
    assert_string_equal(client("10.0.0.0/8", "198.51.100.1,10.0.0.5, 10.0.0.6"), "198.51.100.1");
    assert_string_equal(client("10.0.0.0/8", "1.1.1.1, 198.51.100.1, 10.0.0.5"), "198.51.100.1");
    /* Every entry trusted: the leftmost. */
    assert_string_equal(client("10.0.0.0/8", "10.0.0.1, 10.0.0.2"), "10.0.0.1");
    assert_string_equal(client("127.0.0.1", " 2001:db8::7 "), "2001:db8::7");
    /* Malformed: the caller keeps the peer. */
    static const char *bad[] = {"",
                                " ",
                                "unknown",
                                "203.0.113.7,",
                                ",203.0.113.7",
                                "1.1.1.1,,2.2.2.2",
                                "203.0.113.7:443",
                                "[2001:db8::1]",
                                "_hidden, 203.0.113.7",
                                "203.0.113.7 198.51.100.1",
                                "10.0.0.0/8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (client("127.0.0.1", bad[i]))
            fail_msg("accepted X-Forwarded-For '%s'", bad[i]);
    struct netaddr a;
    struct netaddr_list none = list("");
    assert_int_equal(netaddr_forwarded_client(NULL, 0, &none, &a), -1);
    /* Only n bytes are read. */
    assert_int_equal(netaddr_forwarded_client("192.0.2.1,garbage", 9, &none, &a), 0);
    assert_string_equal(netaddr_format(&a, (char[NETADDR_STR_MAX]){0}, NETADDR_STR_MAX),
                        "192.0.2.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_and_formats),
        cmocka_unit_test(from_sockaddr),
        cmocka_unit_test(lists_and_prefixes),
        cmocka_unit_test(forwarded_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
