/* fuzz_emv_tlv — the bank card reader's byte logic (client/bridge/emv_tlv.h)
 * and its whole PBOC read flow (dev_card.h, card_read_transport) on
 * arbitrary card answers. The first byte picks the target:
 *   0  tlv_next/tlv_find walk: every element stays inside the buffer;
 *   1  application records + emv_finish: a successful result has a Luhn-valid
 *      12..19-digit PAN and a YYMM expiry;
 *   2  PDOL filling: the data object's length byte matches what was written;
 *   3  GPO response: the AFL is inside the response and well formed;
 *   4  card_from_track2 on the bytes as text;
 *   5+ the flow, each response APDU taken from the input as a length byte and
 *      that many bytes (the card's side of a hostile conversation). */
#include "dev_card.h"
#include "emv_tlv.h"

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

static void walk(const uint8_t *b, size_t n, int depth)
{
    size_t off = 0;
    struct tlv t;
    int rc;
    while ((rc = tlv_next(b, n, &off, &t)) == 1) {
        CHECK(t.val >= b && t.val + t.len <= b + n && off <= n);
        if (t.constructed && depth < 8)
            walk(t.val, t.len, depth + 1);
    }
    CHECK(rc == 0 || rc == -1);
}

static void check_result(const struct card_info *ci)
{
    size_t n = strlen(ci->pan);
    CHECK(n >= 12 && n <= 19 && luhn_ok(ci->pan));
    CHECK(strlen(ci->expiry) == 4 && strspn(ci->expiry, "0123456789") == 4);
}

struct feed {
    const uint8_t *p;
    size_t n;
};

static int feed_transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t *rlen)
{
    struct feed *f = ctx;
    CHECK(clen >= 4 && clen <= 261);
    if (f->n == 0)
        return CARD_ERR_REMOVED;
    size_t k = f->p[0];
    f->p++, f->n--;
    if (k > f->n)
        k = f->n;
    if (k > *rlen)
        k = *rlen;
    memcpy(r, f->p, k);
    f->p += k, f->n -= k;
    *rlen = k;
    return CARD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    struct card_info ci;
    switch (mode) {
    case 0: {
        walk(b, n, 0);
        struct tlv t;
        if (tlv_find(b, n, 0x5A, &t) == 1)
            CHECK(t.val >= b && t.val + t.len <= b + n);
        uint8_t sfi;
        if (emv_pse_sfi(b, n, &sfi) == 0)
            CHECK(sfi >= 1 && sfi <= 30);
        struct emv_app_list list = {.n = 0};
        emv_dir_record(b, n, &list);
        CHECK(list.n <= EMV_MAX_APPS);
        emv_apps_order(&list);
        for (size_t i = 0; i < list.n; i++)
            CHECK(emv_aid_known(list.app[i].aid, list.app[i].aid_len));
        break;
    }
    case 1: {
        char pan57[20] = "", exp57[5] = "";
        memset(&ci, 0, sizeof ci);
        /* Up to four records split at 0xEE bytes. */
        size_t start = 0;
        int rc = 0;
        for (size_t i = 0; i <= n && rc == 0; i++) {
            if (i == n || b[i] == 0xEE) {
                rc = emv_record(b + start, i - start, &ci, pan57, exp57);
                start = i + 1;
            }
        }
        if (rc == 0 && emv_finish(&ci, pan57, exp57) == 0)
            check_result(&ci);
        break;
    }
    case 2: {
        struct emv_terminal t;
        const uint8_t un[4] = {1, 2, 3, 4};
        emv_terminal_defaults(&t, 2026, 11, 30, un);
        uint8_t out[2 + 127];
        size_t ol = 0;
        if (emv_pdol_data(b, n, &t, out, sizeof out, &ol) == 0)
            CHECK(ol >= 2 && ol <= sizeof out && out[0] == 0x83 && out[1] == ol - 2);
        break;
    }
    case 3: {
        const uint8_t *afl;
        size_t al;
        if (emv_gpo_afl(b, n, &afl, &al) == 0)
            CHECK(afl >= b && afl + al <= b + n && al % 4 == 0 && al > 0);
        break;
    }
    case 4: {
        char *s = malloc(n + 1);
        if (!s)
            return 0;
        memcpy(s, b, n);
        s[n] = '\0';
        if (card_from_track2(s, &ci) == CARD_OK)
            check_result(&ci);
        else
            CHECK(ci.pan[0] == '\0');
        free(s);
        break;
    }
    default: {
        struct feed f = {.p = b, .n = n};
        const struct card_transport t = {.transmit = feed_transmit, .ctx = &f};
        int rc = card_read_transport(&t, &ci, NULL, 0);
        if (rc == CARD_OK) {
            check_result(&ci);
            CHECK(ci.source == CARD_SRC_IC && strlen(ci.aid) >= 10);
        } else {
            CHECK(rc > 0 && rc <= CARD_ERR_REMOVED && ci.pan[0] == '\0');
        }
        break;
    }
    }
    return 0;
}
