/* devsim card: a PBOC 3.0 contact bank card for vsmartcard's vpcd reader.
 *
 *   zhanye-devsim card --vpcd HOST:PORT [--script FILE|--control ADDR]
 *       [--pan DIGITS] [--expiry YYMM] [--seq NN] [--name TEXT]
 *       [--aids HEX[,HEX...]] [--fault NAME]...
 *
 * Connecting to vpcd is inserting the card; closing the connection (exit,
 * SIGTERM, "remove") is removing it. Without --script/--control the card is
 * inserted at start and stays until the process ends. With --script FILE
 * (or --control ADDR, a TCP port taking the same commands one per line,
 * each answered "ok" or "error") the card starts outside the reader and the
 * commands drive it: insert, remove, sleep MS (serving the card meanwhile),
 * quit, and the options by name (pan, expiry, seq, name, aids, fault
 * NAME|none). vpicc protocol: every message is a 2-byte
 * big-endian length and its bytes; a 1-byte message is a control code
 * (0 power off, 1 power on, 2 reset, 4 ATR request: answered with the ATR);
 * anything longer is a command APDU, answered with the response APDU.
 *
 * Faults: luhn (the PAN's last digit changed, in 5A and 57), no5a (no tag
 * 5A: the number only in the track-2 equivalent 57), chain (SELECT and GPO
 * answer 61xx, READ RECORD with the wrong Le answers 6Cxx), remove (the
 * card disappears at the second application READ RECORD). */
#include "devsim.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    F_LUHN = 1,
    F_NO5A = 2,
    F_CHAIN = 4,
    F_REMOVE = 8,
};

struct simcard {
    char pan[20];
    char expiry[5];
    char seq[3];
    char name[27];
    uint8_t aid[4][16];
    size_t aid_len[4];
    size_t naids;
    unsigned faults;
    int selected; /* -1 none, -2 PSE, else app index */
    uint8_t pending[512];
    size_t npending;
    int app_reads;
};

static const uint8_t ATR[] = {0x3B, 0x80, 0x80, 0x01, 0x01};
static const uint8_t PSE[] = "1PAY.SYS.DDF01";
/* PDOL: TTQ, amount, other amount, country, TVR, currency, date, type, UN. */
static const uint8_t PDOL[] = {0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x03,
                               0x06, 0x9F, 0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A,
                               0x02, 0x9A, 0x03, 0x9C, 0x01, 0x9F, 0x37, 0x04};
#define PDOL_DATA_LEN 33

static size_t put(uint8_t *b, size_t w, uint32_t tag, const void *v, size_t len)
{
    if (tag > 0xFF)
        b[w++] = (uint8_t)(tag >> 8);
    b[w++] = (uint8_t)tag;
    if (len > 127)
        b[w++] = 0x81;
    b[w++] = (uint8_t)len;
    memcpy(b + w, v, len);
    return w + len;
}

/* Packs decimal digits (and 'D') into BCD, F-padded. */
static size_t bcd(uint8_t *out, const char *s)
{
    size_t n = strlen(s), k = 0;
    for (size_t i = 0; i < n; i += 2) {
        int hi = s[i] == 'D' ? 0xD : s[i] - '0';
        int lo = i + 1 < n ? (s[i + 1] == 'D' ? 0xD : s[i + 1] - '0') : 0xF;
        out[k++] = (uint8_t)(hi << 4 | lo);
    }
    return k;
}

static void card_pan(const struct simcard *s, char *pan)
{
    snprintf(pan, 20, "%s", s->pan);
    if (s->faults & F_LUHN) {
        size_t n = strlen(pan);
        pan[n - 1] = (char)('0' + (pan[n - 1] - '0' + 1) % 10);
    }
}

/* Response body of a command, without SW. Returns the SW. */
static uint16_t answer(struct simcard *s, const uint8_t *c, size_t n, uint8_t *d, size_t *dl)
{
    *dl = 0;
    if (n < 4)
        return 0x6700;
    uint8_t cla = c[0], ins = c[1], p1 = c[2], p2 = c[3];
    if (ins == 0xA4 && p1 == 0x04 && n >= 5) {
        size_t lc = c[4];
        if (n < 5 + lc)
            return 0x6700;
        const uint8_t *name = c + 5;
        uint8_t a5[256], in[256];
        size_t w = 0, aw = 0;
        if (lc == sizeof PSE - 1 && !memcmp(name, PSE, lc)) {
            s->selected = -2;
            uint8_t sfi = 1;
            aw = put(a5, 0, 0x88, &sfi, 1);
            aw = put(a5, aw, 0x5F2D, "zh", 2);
            w = put(in, 0, 0x84, PSE, lc);
            w = put(in, w, 0xA5, a5, aw);
            *dl = put(d, 0, 0x6F, in, w);
            return 0x9000;
        }
        for (size_t k = 0; k < s->naids; k++) {
            if (lc != s->aid_len[k] || memcmp(name, s->aid[k], lc))
                continue;
            s->selected = (int)k;
            uint8_t pri = (uint8_t)(k + 1);
            aw = put(a5, 0, 0x50, "PBOC DEBIT", 10);
            aw = put(a5, aw, 0x87, &pri, 1);
            aw = put(a5, aw, 0x9F38, PDOL, sizeof PDOL);
            w = put(in, 0, 0x84, s->aid[k], lc);
            w = put(in, w, 0xA5, a5, aw);
            *dl = put(d, 0, 0x6F, in, w);
            return 0x9000;
        }
        return 0x6A82;
    }
    if (cla == 0x80 && ins == 0xA8) {
        if (s->selected < 0)
            return 0x6985;
        if (n < 5 + 2 || c[4] != 2 + PDOL_DATA_LEN || c[5] != 0x83 || c[6] != PDOL_DATA_LEN)
            return 0x6700;
        /* Terminal country (9F1A, offset 16) and currency (5F2A, offset 23) must be China's. */
        if (c[7 + 16] != 0x01 || c[7 + 17] != 0x56 || c[7 + 23] != 0x01 || c[7 + 24] != 0x56)
            return 0x6985;
        uint8_t in[32];
        const uint8_t aip[2] = {0x7C, 0x00};
        const uint8_t afl[8] = {0x10, 0x01, 0x01, 0x00, 0x18, 0x01, 0x02, 0x00};
        size_t w = put(in, 0, 0x82, aip, 2);
        w = put(in, w, 0x94, afl, sizeof afl);
        *dl = put(d, 0, 0x77, in, w);
        return 0x9000;
    }
    if (ins == 0xB2 && (p2 & 7) == 4) {
        uint8_t sfi = p2 >> 3, rec = p1;
        uint8_t in[256], b[32];
        size_t w = 0;
        char pan[20], t2[48];
        card_pan(s, pan);
        if (s->selected == -2 && sfi == 1) {
            if (rec != 1)
                return 0x6A83;
            for (size_t k = 0; k < s->naids; k++) {
                uint8_t e[300], pri = (uint8_t)(k + 1);
                size_t ew = put(e, 0, 0x4F, s->aid[k], s->aid_len[k]);
                ew = put(e, ew, 0x50, "PBOC DEBIT", 10);
                ew = put(e, ew, 0x87, &pri, 1);
                w = put(in, w, 0x61, e, ew);
            }
        } else if (s->selected >= 0 && sfi == 2 && rec == 1) {
            snprintf(t2, sizeof t2, "%sD%s22000000000", pan, s->expiry);
            w = put(in, 0, 0x57, b, bcd(b, t2));
            if (s->name[0])
                w = put(in, w, 0x5F20, s->name, strlen(s->name));
            w = put(in, w, 0x9F1F, "0000", 4);
        } else if (s->selected >= 0 && sfi == 3 && rec == 1) {
            if (!(s->faults & F_NO5A))
                w = put(in, 0, 0x5A, b, bcd(b, pan));
            char ed[7];
            snprintf(ed, sizeof ed, "%s31", s->expiry);
            w = put(in, w, 0x5F24, b, bcd(b, ed));
            w = put(in, w, 0x5F25, b, bcd(b, "210101"));
            w = put(in, w, 0x5F34, b, bcd(b, s->seq));
            w = put(in, w, 0x5F28, b, bcd(b, "0156"));
        } else if (s->selected >= 0 && sfi == 3 && rec == 2) {
            memset(b, 0, 5);
            w = put(in, 0, 0x9F0D, b, 5);
            w = put(in, w, 0x9F0E, b, 5);
        } else {
            return 0x6A83;
        }
        *dl = put(d, 0, 0x70, in, w);
        return 0x9000;
    }
    return 0x6D00;
}

/* Full response APDU; 0 means: remove the card now. */
static size_t card_apdu(struct simcard *s, const uint8_t *c, size_t n, uint8_t *r)
{
    if (n >= 5 && c[1] == 0xC0) {
        if (!s->npending)
            return r[0] = 0x69, r[1] = 0x85, 2;
        size_t le = c[4] ? c[4] : 256, k = le < s->npending ? le : s->npending;
        memcpy(r, s->pending, k);
        memmove(s->pending, s->pending + k, s->npending - k);
        s->npending -= k;
        r[k] = s->npending ? 0x61 : 0x90;
        r[k + 1] = s->npending ? (uint8_t)(s->npending > 255 ? 0 : s->npending) : 0x00;
        return k + 2;
    }
    s->npending = 0;
    if (n >= 4 && c[1] == 0xB2 && s->selected >= 0 && ++s->app_reads == 2 && (s->faults & F_REMOVE))
        return 0;
    uint8_t d[512];
    size_t dl;
    uint16_t sw = answer(s, c, n, d, &dl);
    if (sw == 0x9000 && (s->faults & F_CHAIN) && dl > 0) {
        if (c[1] == 0xB2) {
            /* Case 2: Le must be exact, else 6Cxx. */
            if (n == 5 && c[4] != dl)
                return r[0] = 0x6C, r[1] = (uint8_t)dl, 2;
        } else {
            memcpy(s->pending, d, dl);
            s->npending = dl;
            return r[0] = 0x61, r[1] = (uint8_t)(dl > 255 ? 0 : dl), 2;
        }
    }
    memcpy(r, d, dl);
    r[dl] = (uint8_t)(sw >> 8);
    r[dl + 1] = (uint8_t)sw;
    return dl + 2;
}

/* The exchange on stderr (the test's log): a simulated card, no real data. */
static void trace(const char *dir, const uint8_t *b, size_t n)
{
    fprintf(stderr, "%s", dir);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %02X", b[i]);
    fprintf(stderr, "\n");
}

static int read_full(int fd, uint8_t *b, size_t n)
{
    while (n) {
        ssize_t k = read(fd, b, n);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_msg(int fd, const uint8_t *b, size_t n)
{
    uint8_t m[2 + 600];
    m[0] = (uint8_t)(n >> 8);
    m[1] = (uint8_t)n;
    memcpy(m + 2, b, n);
    return write(fd, m, n + 2) == (ssize_t)(n + 2) ? 0 : -1;
}

static int connect_vpcd(const char *hostport)
{
    char host[256];
    snprintf(host, sizeof host, "%s", hostport);
    char *colon = strrchr(host, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    /* vpcd listens once pcscd has loaded it: retry for up to 10 s. */
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
            nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
        }
    }
    freeaddrinfo(ai);
    return fd;
}

static int parse_aids(struct simcard *s, const char *list)
{
    s->naids = 0;
    const char *p = list;
    while (*p && s->naids < 4) {
        size_t n = strcspn(p, ",");
        if (n % 2 || n < 10 || n > 32)
            return -1;
        for (size_t j = 0; j < n / 2; j++)
            if (sscanf(p + 2 * j, "%2hhx", &s->aid[s->naids][j]) != 1)
                return -1;
        s->aid_len[s->naids++] = n / 2;
        p += n;
        if (*p == ',')
            p++;
    }
    return s->naids ? 0 : -1;
}

/* The simulator: the card, its vpcd address and link (-1: not inserted). */
struct sim {
    struct simcard card;
    const char *vpcd;
    int fd;
};

static void pull(struct sim *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    m->card.selected = -1;
    m->card.npending = 0;
    m->card.app_reads = 0;
}

/* One message from vpcd. -1: the link is gone (or the card pulled itself). */
static int serve_one(struct sim *m)
{
    uint8_t hdr[2], c[600], r[600];
    if (read_full(m->fd, hdr, 2) != 0)
        return -1;
    size_t n = (size_t)hdr[0] << 8 | hdr[1];
    if (n > sizeof c || read_full(m->fd, c, n) != 0)
        return -1;
    if (n == 1) {
        if (c[0] == 4)
            return send_msg(m->fd, ATR, sizeof ATR);
        if (c[0] <= 2) {
            m->card.selected = -1;
            m->card.npending = 0;
        }
        return 0;
    }
    size_t rl = card_apdu(&m->card, c, n, r);
    trace(">>", c, n);
    trace("<<", r, rl);
    if (rl == 0)
        return -1; /* fault "remove": pulled out mid-read */
    return send_msg(m->fd, r, rl);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Serves the card for ms milliseconds (-1: until the link goes). */
static void serve_for(struct sim *m, long ms)
{
    long long end = mono_ms() + ms;
    while (m->fd >= 0) {
        long left = ms < 0 ? -1 : (long)(end - mono_ms());
        if (ms >= 0 && left <= 0)
            return;
        struct pollfd p = {.fd = m->fd, .events = POLLIN};
        int k = poll(&p, 1, (int)left);
        if (k > 0 && serve_one(m) != 0)
            pull(m);
    }
    if (ms > 0) {
        long left = (long)(end - mono_ms());
        if (left > 0)
            nanosleep(&(struct timespec){.tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000},
                      NULL);
    }
}

static int set_fault(struct simcard *s, const char *v)
{
    static const struct {
        const char *name;
        unsigned bit;
    } faults[] = {
        {.name = "luhn", .bit = F_LUHN},
        {.name = "no5a", .bit = F_NO5A},
        {.name = "chain", .bit = F_CHAIN},
        {.name = "remove", .bit = F_REMOVE},
    };
    if (!strcmp(v, "none")) {
        s->faults = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        if (!strcmp(v, faults[i].name)) {
            s->faults |= faults[i].bit;
            return 0;
        }
    }
    return -1;
}

/* A card option (command-line name without "--", or a script/control
 * command of the same name). 0 ok, -1 bad value or unknown option. */
static int set_option(struct simcard *s, const char *a, const char *v)
{
    size_t n = strlen(v);
    if (!strcmp(a, "pan") && n >= 12 && n <= 19 && strspn(v, "0123456789") == n)
        snprintf(s->pan, sizeof s->pan, "%s", v);
    else if (!strcmp(a, "expiry") && n == 4 && strspn(v, "0123456789") == 4)
        snprintf(s->expiry, sizeof s->expiry, "%s", v);
    else if (!strcmp(a, "seq") && n == 2 && strspn(v, "0123456789") == 2)
        snprintf(s->seq, sizeof s->seq, "%s", v);
    else if (!strcmp(a, "name"))
        snprintf(s->name, sizeof s->name, "%s", v);
    else if (!strcmp(a, "aids"))
        return parse_aids(s, v);
    else if (!strcmp(a, "fault"))
        return set_fault(s, v);
    else
        return -1;
    return 0;
}

/* One script or control command: insert, remove, sleep MS, quit, or an
 * option (pan, expiry, seq, name, aids, fault NAME|none). 0 ok, -1 error,
 * 1 quit. */
static int do_cmd(struct sim *m, char *line)
{
    line[strcspn(line, "\r\n")] = '\0';
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';
    if (!line[0] || line[0] == '#')
        return 0;
    if (!strcmp(line, "insert")) {
        if (m->fd < 0)
            m->fd = connect_vpcd(m->vpcd);
        return m->fd >= 0 ? 0 : -1;
    }
    if (!strcmp(line, "remove")) {
        pull(m);
        return 0;
    }
    if (!strcmp(line, "quit"))
        return 1;
    if (!strcmp(line, "sleep") && arg) {
        serve_for(m, atol(arg));
        return 0;
    }
    return arg ? set_option(&m->card, line, arg) : -1;
}

static int run_script(struct sim *m, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "devsim card: cannot open %s\n", path);
        return 1;
    }
    char line[256];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f))
        rc = do_cmd(m, line);
    fclose(f);
    if (rc < 0)
        return 1;
    serve_for(m, -1); /* a card left in stays until vpcd goes */
    return 0;
}

static int listen_on(const char *hostport)
{
    char host[256];
    snprintf(host, sizeof host, "%s", hostport);
    char *colon = strrchr(host, ':');
    if (!colon)
        return -1;
    *colon = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

/* Control port: one client at a time sends command lines, each answered
 * "ok" or "error"; "quit" ends the simulator. */
static int run_control(struct sim *m, const char *addr)
{
    int lfd = listen_on(addr), cfd = -1;
    if (lfd < 0) {
        fprintf(stderr, "devsim card: cannot listen on %s\n", addr);
        return 1;
    }
    char buf[512];
    size_t used = 0;
    for (;;) {
        struct pollfd p[3] = {{.fd = lfd, .events = POLLIN},
                              {.fd = cfd, .events = POLLIN},
                              {.fd = m->fd, .events = POLLIN}};
        if (poll(p, 3, -1) < 0)
            continue;
        if (p[2].revents && serve_one(m) != 0)
            pull(m);
        if (p[0].revents & POLLIN) {
            int nfd = accept(lfd, NULL, NULL);
            if (nfd >= 0) {
                if (cfd >= 0)
                    close(cfd);
                cfd = nfd;
                used = 0;
            }
        }
        if (cfd >= 0 && p[1].revents) {
            ssize_t k = read(cfd, buf + used, sizeof buf - 1 - used);
            if (k <= 0) {
                close(cfd);
                cfd = -1;
                continue;
            }
            used += (size_t)k;
            buf[used] = '\0';
            char *nl;
            while ((nl = strchr(buf, '\n'))) {
                *nl = '\0';
                int rc = do_cmd(m, buf);
                const char *ans = rc < 0 ? "error\n" : "ok\n";
                if (write(cfd, ans, strlen(ans)) < 0)
                    rc = 1;
                memmove(buf, nl + 1, used - (size_t)(nl + 1 - buf) + 1);
                used -= (size_t)(nl + 1 - buf);
                if (rc == 1) {
                    pull(m);
                    close(cfd);
                    close(lfd);
                    return 0;
                }
            }
            if (used == sizeof buf - 1)
                used = 0; /* an overlong line is dropped */
        }
    }
}

int devsim_card_main(int argc, char **argv)
{
    struct sim m = {.card = {.selected = -1}, .fd = -1};
    struct simcard *s = &m.card;
    snprintf(s->pan, sizeof s->pan, "%s", "6217000010001234569");
    snprintf(s->expiry, sizeof s->expiry, "%s", "3112");
    snprintf(s->seq, sizeof s->seq, "%s", "01");
    snprintf(s->name, sizeof s->name, "%s", "ZHANG/SAN");
    parse_aids(s, "A000000333010101");
    const char *script = NULL, *control = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v || strncmp(a, "--", 2) != 0)
            goto usage;
        if (!strcmp(a, "--vpcd"))
            m.vpcd = v;
        else if (!strcmp(a, "--script"))
            script = v;
        else if (!strcmp(a, "--control"))
            control = v;
        else if (set_option(s, a + 2, v) != 0)
            goto usage;
    }
    if (!m.vpcd || (script && control))
        goto usage;
    if (script)
        return run_script(&m, script);
    if (control)
        return run_control(&m, control);
    /* Neither: the card is inserted at start and stays until killed. */
    m.fd = connect_vpcd(m.vpcd);
    if (m.fd < 0) {
        fprintf(stderr, "devsim card: cannot connect to vpcd at %s\n", m.vpcd);
        return 1;
    }
    serve_for(&m, -1);
    return 0;
usage:
    fprintf(stderr, "usage: zhanye-devsim card --vpcd HOST:PORT [--script FILE|--control ADDR]"
                    " [--pan DIGITS] [--expiry YYMM] [--seq NN] [--name TEXT] [--aids HEX,...]"
                    " [--fault luhn|no5a|chain|remove]...\n"
                    "script/control commands: insert, remove, sleep MS, quit, pan D, expiry YYMM,"
                    " seq NN, name T, aids HEX,..., fault NAME|none\n");
    return 2;
}
