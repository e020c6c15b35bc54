/* dev_card: PBOC read flow over an APDU transport, and its PC/SC transport
 * (contract in dev_card.h). */
#include "dev_card.h"

#include "foundation/secmem.h"

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RESP_CAP 1024 /* one response after GET RESPONSE chaining */

static int fail(int code, char *err, size_t errcap)
{
    if (err && errcap)
        snprintf(err, errcap, "%s", code ? card_err_message(code) : "");
    return code;
}

/* One exchange with 61xx/6Cxx handled. data receives the response data
 * (without SW), *dlen its length; *sw the final status word. */
static int xfer(const struct card_transport *t, const uint8_t *cmd, size_t clen, uint8_t *data,
                size_t *dlen, uint16_t *sw)
{
    uint8_t c[264], r[258];
    size_t n = 0;
    if (clen > sizeof c - 1)
        return CARD_ERR_IO;
    memcpy(c, cmd, clen);
    for (int round = 0; round < 16; round++) {
        size_t rl = sizeof r;
        int rc = t->transmit(t->ctx, c, clen, r, &rl);
        if (rc != CARD_OK) {
            secmem_wipe(r, sizeof r);
            return rc;
        }
        if (rl < 2)
            return CARD_ERR_IO;
        uint8_t sw1 = r[rl - 2], sw2 = r[rl - 1];
        if (sw1 == 0x6C) {
            /* Wrong Le: resend the same command with Le = SW2. A command
             * without Le (case 1/3) gets one appended. */
            bool has_le = clen == 5 || (clen > 5 && clen == 5u + c[4] + 1u);
            if (!has_le)
                clen++;
            c[clen - 1] = sw2;
            continue;
        }
        size_t dl = rl - 2;
        if (n + dl > RESP_CAP) {
            secmem_wipe(r, sizeof r);
            return CARD_ERR_BAD_CARD;
        }
        memcpy(data + n, r, dl);
        n += dl;
        secmem_wipe(r, sizeof r);
        if (sw1 == 0x61) {
            /* More data: GET RESPONSE with Le = SW2 (00 = 256). */
            const uint8_t gr[5] = {0x00, 0xC0, 0x00, 0x00, sw2};
            memcpy(c, gr, sizeof gr);
            clen = sizeof gr;
            continue;
        }
        *dlen = n;
        *sw = (uint16_t)(sw1 << 8 | sw2);
        return CARD_OK;
    }
    return CARD_ERR_BAD_CARD;
}

static int select_df(const struct card_transport *t, const uint8_t *name, size_t len, uint8_t *data,
                     size_t *dlen, uint16_t *sw)
{
    uint8_t c[5 + 16 + 1] = {0x00, 0xA4, 0x04, 0x00, (uint8_t)len};
    memcpy(c + 5, name, len);
    c[5 + len] = 0x00;
    return xfer(t, c, 6 + len, data, dlen, sw);
}

static int read_record(const struct card_transport *t, uint8_t sfi, uint8_t rec, uint8_t *data,
                       size_t *dlen, uint16_t *sw)
{
    const uint8_t c[5] = {0x00, 0xB2, rec, (uint8_t)(sfi << 3 | 4), 0x00};
    return xfer(t, c, sizeof c, data, dlen, sw);
}

/* Applications from the PSE directory; an empty list if the card has no PSE. */
static int read_pse(const struct card_transport *t, struct emv_app_list *list, uint8_t *buf)
{
    static const uint8_t pse[] = "1PAY.SYS.DDF01";
    size_t n;
    uint16_t sw;
    int rc = select_df(t, pse, sizeof pse - 1, buf, &n, &sw);
    if (rc != CARD_OK || sw != 0x9000)
        return rc;
    uint8_t sfi;
    if (emv_pse_sfi(buf, n, &sfi) != 0)
        return CARD_ERR_BAD_CARD;
    for (uint8_t rec = 1; rec <= 16; rec++) {
        rc = read_record(t, sfi, rec, buf, &n, &sw);
        if (rc != CARD_OK)
            return rc;
        if (sw == 0x6A83)
            break; /* no more records */
        if (sw != 0x9000 || emv_dir_record(buf, n, list) != 0)
            return CARD_ERR_BAD_CARD;
    }
    return CARD_OK;
}

/* Without a PSE: the list of AIDs method, each known AID tried in turn. */
static int probe_aids(const struct card_transport *t, struct emv_app_list *list, uint8_t *buf)
{
    for (int k = 0; emv_known_aids[k].hex && list->n < EMV_MAX_APPS; k++) {
        struct emv_app *a = &list->app[list->n];
        memset(a, 0, sizeof *a);
        const char *h = emv_known_aids[k].hex;
        a->aid_len = strlen(h) / 2;
        for (size_t j = 0; j < a->aid_len; j++)
            sscanf(h + 2 * j, "%2hhx", &a->aid[j]);
        size_t n;
        uint16_t sw;
        int rc = select_df(t, a->aid, a->aid_len, buf, &n, &sw);
        if (rc != CARD_OK)
            return rc;
        if (sw == 0x9000)
            list->n++;
    }
    return CARD_OK;
}

/* SELECT + GPO of one application. Returns CARD_OK with the AFL copied into
 * afl, CARD_ERR_UNSUPPORTED if the card refuses it, or an error. */
static int start_app(const struct card_transport *t, const struct emv_app *app, uint8_t *buf,
                     uint8_t *afl, size_t *afl_len, char *label, size_t labelcap)
{
    size_t n;
    uint16_t sw;
    int rc = select_df(t, app->aid, app->aid_len, buf, &n, &sw);
    if (rc != CARD_OK)
        return rc;
    if (sw != 0x9000)
        return CARD_ERR_UNSUPPORTED;
    const uint8_t *pdol;
    size_t pdol_len;
    if (emv_app_fci(buf, n, &pdol, &pdol_len, label, labelcap) != 0)
        return CARD_ERR_BAD_CARD;

    uint8_t un[4];
    if (secmem_random(un, sizeof un) != 0)
        return CARD_ERR_IO;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    struct emv_terminal term;
    emv_terminal_defaults(&term, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, un);

    uint8_t c[5 + 2 + 127 + 1] = {0x80, 0xA8, 0x00, 0x00};
    size_t dl;
    if (emv_pdol_data(pdol, pdol_len, &term, c + 5, 2 + 127, &dl) != 0)
        return CARD_ERR_BAD_CARD;
    c[4] = (uint8_t)dl;
    c[5 + dl] = 0x00;
    rc = xfer(t, c, 6 + dl, buf, &n, &sw);
    if (rc != CARD_OK)
        return rc;
    if (sw != 0x9000)
        return CARD_ERR_UNSUPPORTED;
    const uint8_t *a;
    if (emv_gpo_afl(buf, n, &a, afl_len) != 0 || *afl_len > 252)
        return CARD_ERR_BAD_CARD;
    memcpy(afl, a, *afl_len);
    return CARD_OK;
}

static int read_afl(const struct card_transport *t, const uint8_t *afl, size_t afl_len,
                    uint8_t *buf, struct card_info *out, char *pan57, char *exp57)
{
    for (size_t i = 0; i + 4 <= afl_len; i += 4) {
        uint8_t sfi = afl[i] >> 3;
        for (unsigned rec = afl[i + 1]; rec <= afl[i + 2]; rec++) {
            size_t n;
            uint16_t sw;
            int rc = read_record(t, sfi, (uint8_t)rec, buf, &n, &sw);
            if (rc != CARD_OK)
                return rc;
            if (sw != 0x9000)
                return CARD_ERR_BAD_CARD;
            rc = emv_record(buf, n, out, pan57, exp57);
            secmem_wipe(buf, n);
            if (rc != 0)
                return rc;
        }
    }
    return CARD_OK;
}

static int read_flow(const struct card_transport *t, struct card_info *out, uint8_t *buf)
{
    struct emv_app_list list = {.n = 0};
    int rc = read_pse(t, &list, buf);
    if (rc != CARD_OK)
        return rc;
    if (list.n == 0 && (rc = probe_aids(t, &list, buf)) != CARD_OK)
        return rc;
    if (list.n == 0)
        return CARD_ERR_UNSUPPORTED;
    emv_apps_order(&list);

    uint8_t afl[252];
    size_t afl_len = 0;
    const struct emv_app *app = NULL;
    for (size_t k = 0; k < list.n && !app; k++) {
        rc = start_app(t, &list.app[k], buf, afl, &afl_len, out->label, sizeof out->label);
        if (rc == CARD_OK)
            app = &list.app[k];
        else if (rc != CARD_ERR_UNSUPPORTED)
            return rc;
    }
    if (!app)
        return CARD_ERR_UNSUPPORTED;
    if (!out->label[0])
        snprintf(out->label, sizeof out->label, "%s", app->label);
    for (size_t j = 0; j < app->aid_len; j++)
        snprintf(out->aid + 2 * j, sizeof out->aid - 2 * j, "%02X", app->aid[j]);

    char pan57[20] = "", exp57[5] = "";
    rc = read_afl(t, afl, afl_len, buf, out, pan57, exp57);
    if (rc == CARD_OK)
        rc = emv_finish(out, pan57, exp57);
    secmem_wipe(pan57, sizeof pan57);
    out->source = CARD_SRC_IC;
    return rc;
}

int card_read_transport(const struct card_transport *t, struct card_info *out, char *err,
                        size_t errcap)
{
    uint8_t buf[RESP_CAP];
    memset(out, 0, sizeof *out);
    int rc = read_flow(t, out, buf);
    secmem_wipe(buf, sizeof buf);
    if (rc != CARD_OK)
        secmem_wipe(out, sizeof *out);
    return fail(rc, err, errcap);
}

/* --- PC/SC --- */

struct pcsc_ctx {
    SCARDCONTEXT ctx;
    SCARDHANDLE card;
    DWORD proto;
    const char *reader;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Current state of a reader: SCARD_STATE_* event bits, or 0 on error. */
static DWORD reader_state(SCARDCONTEXT ctx, const char *reader, LONG *rv)
{
    SCARD_READERSTATE rs = {.szReader = reader, .dwCurrentState = SCARD_STATE_UNAWARE};
    *rv = SCardGetStatusChange(ctx, 0, &rs, 1);
    if (*rv != SCARD_S_SUCCESS && *rv != (LONG)SCARD_E_TIMEOUT)
        return 0;
    *rv = SCARD_S_SUCCESS;
    return rs.dwEventState;
}

/* After a failed exchange: was the card pulled out? The reader's polling may
 * lag the failure a little, so wait briefly for the state to turn empty. */
static bool card_gone(struct pcsc_ctx *p)
{
    LONG rv;
    DWORD st = reader_state(p->ctx, p->reader, &rv);
    if (rv != SCARD_S_SUCCESS || !(st & SCARD_STATE_PRESENT))
        return true;
    SCARD_READERSTATE rs = {.szReader = p->reader, .dwCurrentState = st & ~SCARD_STATE_CHANGED};
    long long end = now_ms() + 2000;
    while (now_ms() < end) {
        rv = SCardGetStatusChange(p->ctx, (DWORD)(end - now_ms()), &rs, 1);
        if (rv != SCARD_S_SUCCESS)
            return false;
        if (!(rs.dwEventState & SCARD_STATE_PRESENT))
            return true;
        rs.dwCurrentState = rs.dwEventState & ~SCARD_STATE_CHANGED;
    }
    return false;
}

static int pcsc_transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
    struct pcsc_ctx *p = ctx;
    DWORD rl = (DWORD)*rlen;
    const SCARD_IO_REQUEST *pci = p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
    LONG rv = SCardTransmit(p->card, pci, c, (DWORD)clen, NULL, r, &rl);
    if (rv == SCARD_S_SUCCESS && rl >= 2) {
        *rlen = rl;
        return CARD_OK;
    }
    /* An empty answer (vpcd gives one when the card's link drops) is a
     * failed exchange like the others. */
    if (rv == (LONG)SCARD_W_REMOVED_CARD || rv == (LONG)SCARD_E_NO_SMARTCARD ||
        rv == (LONG)SCARD_W_RESET_CARD)
        return CARD_ERR_REMOVED;
    return card_gone(p) ? CARD_ERR_REMOVED : CARD_ERR_IO;
}

static int map_rv(LONG rv)
{
    switch (rv) {
    case SCARD_E_NO_SERVICE:
    case SCARD_E_SERVICE_STOPPED:
    case SCARD_E_NO_READERS_AVAILABLE:
    case SCARD_E_UNKNOWN_READER:
    case SCARD_E_READER_UNAVAILABLE:
        return CARD_ERR_ABSENT;
    case SCARD_E_TIMEOUT:
        return CARD_ERR_TIMEOUT;
    case SCARD_E_NO_SMARTCARD:
    case SCARD_W_REMOVED_CARD:
        return CARD_ERR_NO_CARD;
    default:
        return CARD_ERR_IO;
    }
}

/* Establishes a context and picks the reader (copied into name). */
static int open_reader(const char *want, SCARDCONTEXT *ctx, char *name, size_t cap)
{
    LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, ctx);
    if (rv != SCARD_S_SUCCESS)
        return CARD_ERR_ABSENT;
    char list[4096];
    DWORD len = sizeof list;
    rv = SCardListReaders(*ctx, NULL, list, &len);
    if (rv != SCARD_S_SUCCESS || len < 2) {
        SCardReleaseContext(*ctx);
        return rv == SCARD_S_SUCCESS ? CARD_ERR_ABSENT : map_rv(rv);
    }
    list[sizeof list - 1] = '\0';
    for (const char *r = list; r < list + len && *r; r += strlen(r) + 1) {
        size_t n = strlen(r);
        if ((!want || strcmp(r, want) == 0) && n < cap) {
            memcpy(name, r, n + 1);
            return CARD_OK;
        }
    }
    SCardReleaseContext(*ctx);
    return CARD_ERR_ABSENT;
}

/* Waits until the reader's presence differs from *state (see card_wait). */
static int wait_change(SCARDCONTEXT ctx, const char *reader, int timeout_ms,
                       enum card_presence *state)
{
    long long end = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    SCARD_READERSTATE rs = {.szReader = reader, .dwCurrentState = SCARD_STATE_UNAWARE};
    for (;;) {
        long long left = end - now_ms();
        /* The first call (UNAWARE) returns the current state at once. */
        DWORD wait = rs.dwCurrentState == SCARD_STATE_UNAWARE ? 0 : (DWORD)(left > 0 ? left : 0);
        LONG rv = SCardGetStatusChange(ctx, wait, &rs, 1);
        if (rv == (LONG)SCARD_E_TIMEOUT && rs.dwCurrentState != SCARD_STATE_UNAWARE)
            return CARD_ERR_TIMEOUT;
        if (rv != SCARD_S_SUCCESS && rv != (LONG)SCARD_E_TIMEOUT)
            return map_rv(rv);
        if (rs.dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE))
            return CARD_ERR_ABSENT;
        enum card_presence now =
            (rs.dwEventState & SCARD_STATE_PRESENT) ? CARD_STATE_PRESENT : CARD_STATE_EMPTY;
        if (*state == CARD_STATE_UNKNOWN || now != *state) {
            *state = now;
            return CARD_OK;
        }
        if (now_ms() >= end)
            return CARD_ERR_TIMEOUT;
        rs.dwCurrentState = rs.dwEventState & ~SCARD_STATE_CHANGED;
    }
}

int card_wait(const char *reader, int timeout_ms, enum card_presence *state, char *err,
              size_t errcap)
{
    SCARDCONTEXT ctx;
    char name[256];
    int rc = open_reader(reader, &ctx, name, sizeof name);
    if (rc != CARD_OK)
        return fail(rc, err, errcap);
    rc = wait_change(ctx, name, timeout_ms, state);
    SCardReleaseContext(ctx);
    return fail(rc, err, errcap);
}

int card_read(const char *reader, int timeout_ms, struct card_info *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    struct pcsc_ctx p = {.proto = 0};
    char name[256];
    int rc = open_reader(reader, &p.ctx, name, sizeof name);
    if (rc != CARD_OK)
        return fail(rc, err, errcap);
    p.reader = name;
    enum card_presence st = CARD_STATE_UNKNOWN;
    rc = wait_change(p.ctx, name, 0, &st);
    if (rc == CARD_OK && st != CARD_STATE_PRESENT) {
        rc = wait_change(p.ctx, name, timeout_ms, &st);
        if (rc == CARD_ERR_TIMEOUT)
            rc = CARD_ERR_NO_CARD;
    }
    if (rc == CARD_OK) {
        LONG rv = SCardConnect(p.ctx, name, SCARD_SHARE_SHARED,
                               SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p.card, &p.proto);
        if (rv != SCARD_S_SUCCESS) {
            rc = map_rv(rv);
        } else {
            const struct card_transport t = {.transmit = pcsc_transmit, .ctx = &p};
            rc = card_read_transport(&t, out, NULL, 0);
            SCardDisconnect(p.card, SCARD_LEAVE_CARD);
        }
    }
    SCardReleaseContext(p.ctx);
    return fail(rc, err, errcap);
}
