/* emv_tlv: BER-TLV and PBOC/EMV record logic (contract in emv_tlv.h). */
#include "emv_tlv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const err_names[] = {
    [CARD_OK] = "ok",
    [CARD_ERR_ABSENT] = "absent",
    [CARD_ERR_NO_CARD] = "no_card",
    [CARD_ERR_TIMEOUT] = "timeout",
    [CARD_ERR_BAD_CARD] = "bad_card",
    [CARD_ERR_UNSUPPORTED] = "unsupported",
    [CARD_ERR_IO] = "io",
    [CARD_ERR_REMOVED] = "removed",
};

static const char *const err_msgs[] = {
    [CARD_OK] = "读卡成功",
    [CARD_ERR_ABSENT] = "未找到读卡器，请检查读卡器连接",
    [CARD_ERR_NO_CARD] = "未检测到银行卡，请插入银行卡",
    [CARD_ERR_TIMEOUT] = "读卡器操作超时",
    [CARD_ERR_BAD_CARD] = "银行卡数据无效，请更换银行卡",
    [CARD_ERR_UNSUPPORTED] = "不支持该银行卡的应用",
    [CARD_ERR_IO] = "读卡器通信失败，请重试",
    [CARD_ERR_REMOVED] = "读卡过程中银行卡被拔出，请重新插卡",
};

const char *card_err_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof err_names / sizeof err_names[0])
        return "io";
    return err_names[code];
}

const char *card_err_message(int code)
{
    if (code < 0 || (size_t)code >= sizeof err_msgs / sizeof err_msgs[0])
        return err_msgs[CARD_ERR_IO];
    return err_msgs[code];
}

int tlv_next(const uint8_t *buf, size_t len, size_t *off, struct tlv *out)
{
    size_t i = *off;
    while (i < len && (buf[i] == 0x00 || buf[i] == 0xFF))
        i++;
    if (i >= len) {
        *off = i;
        return 0;
    }
    uint32_t tag = buf[i];
    bool constructed = (buf[i] & 0x20) != 0;
    i++;
    if ((tag & 0x1F) == 0x1F) {
        int n = 0;
        do {
            if (i >= len || n == 2)
                return -1;
            tag = (tag << 8) | buf[i];
            n++;
        } while (buf[i++] & 0x80);
    }
    if (i >= len)
        return -1;
    size_t l = buf[i++];
    if (l & 0x80) {
        size_t nb = l & 0x7F;
        if (nb == 0 || nb > 3 || len - i < nb)
            return -1;
        l = 0;
        for (size_t k = 0; k < nb; k++)
            l = (l << 8) | buf[i++];
    }
    if (l > len - i)
        return -1;
    out->tag = tag;
    out->constructed = constructed;
    out->val = buf + i;
    out->len = l;
    *off = i + l;
    return 1;
}

static int find_depth(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out, int depth)
{
    size_t off = 0;
    struct tlv t;
    int rc;
    while ((rc = tlv_next(buf, len, &off, &t)) == 1) {
        if (t.tag == tag) {
            *out = t;
            return 1;
        }
        if (t.constructed && depth < 8) {
            int r = find_depth(t.val, t.len, tag, out, depth + 1);
            if (r != 0)
                return r;
        }
    }
    return rc;
}

int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out)
{
    return find_depth(buf, len, tag, out, 0);
}

const struct emv_known_aid emv_known_aids[] = {
    {.hex = "A000000333010101", .name = "UnionPay debit"},
    {.hex = "A000000333010102", .name = "UnionPay credit"},
    {.hex = "A000000333010103", .name = "UnionPay quasi-credit"},
    {.hex = "A000000333010106", .name = "UnionPay e-cash"},
    {.hex = "A0000000031010", .name = "Visa"},
    {.hex = "A0000000041010", .name = "Mastercard"},
    {.hex = "A0000000651010", .name = "JCB"},
    {.hex = "A00000002501", .name = "American Express"},
    {.hex = "A0000001523010", .name = "Discover/Diners"},
    {.hex = NULL, .name = NULL},
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Index of the known AID that aid starts with, or -1. */
static int known_index(const uint8_t *aid, size_t len)
{
    for (int k = 0; emv_known_aids[k].hex; k++) {
        const char *h = emv_known_aids[k].hex;
        size_t n = strlen(h) / 2;
        if (len < n)
            continue;
        size_t j = 0;
        for (; j < n; j++) {
            int v = hexval(h[2 * j]) << 4 | hexval(h[2 * j + 1]);
            if (aid[j] != v)
                break;
        }
        if (j == n)
            return k;
    }
    return -1;
}

bool emv_aid_known(const uint8_t *aid, size_t len)
{
    return known_index(aid, len) >= 0;
}

int emv_pse_sfi(const uint8_t *fci, size_t len, uint8_t *sfi)
{
    struct tlv t6f, ta5, t88;
    if (tlv_find(fci, len, 0x6F, &t6f) != 1 || tlv_find(t6f.val, t6f.len, 0xA5, &ta5) != 1 ||
        tlv_find(ta5.val, ta5.len, 0x88, &t88) != 1)
        return CARD_ERR_BAD_CARD;
    if (t88.len != 1 || t88.val[0] < 1 || t88.val[0] > 30)
        return CARD_ERR_BAD_CARD;
    *sfi = t88.val[0];
    return 0;
}

/* Copies printable ASCII of v into dst (cap bytes), trimming trailing spaces. */
static void copy_text(char *dst, size_t cap, const uint8_t *v, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        dst[n++] = (v[i] >= 0x20 && v[i] < 0x7F) ? (char)v[i] : '?';
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

int emv_dir_record(const uint8_t *rec, size_t len, struct emv_app_list *list)
{
    struct tlv t70, e;
    if (tlv_find(rec, len, 0x70, &t70) != 1)
        return CARD_ERR_BAD_CARD;
    size_t off = 0;
    int rc;
    while ((rc = tlv_next(t70.val, t70.len, &off, &e)) == 1) {
        if (e.tag != 0x61)
            continue;
        struct tlv a, p, l;
        if (tlv_find(e.val, e.len, 0x4F, &a) != 1 || a.len < 5 || a.len > EMV_AID_MAX)
            continue;
        if (!emv_aid_known(a.val, a.len) || list->n >= EMV_MAX_APPS)
            continue;
        bool dup = false;
        for (size_t k = 0; k < list->n; k++)
            dup |= list->app[k].aid_len == a.len && !memcmp(list->app[k].aid, a.val, a.len);
        if (dup)
            continue;
        struct emv_app *app = &list->app[list->n++];
        memset(app, 0, sizeof *app);
        memcpy(app->aid, a.val, a.len);
        app->aid_len = a.len;
        if (tlv_find(e.val, e.len, 0x87, &p) == 1 && p.len == 1)
            app->priority = p.val[0] & 0x0F;
        if (tlv_find(e.val, e.len, 0x50, &l) == 1)
            copy_text(app->label, sizeof app->label, l.val, l.len);
    }
    return rc < 0 ? CARD_ERR_BAD_CARD : 0;
}

static int app_rank(const struct emv_app *a)
{
    int pri = a->priority ? a->priority : 16;
    return pri * 64 + known_index(a->aid, a->aid_len);
}

void emv_apps_order(struct emv_app_list *list)
{
    /* Insertion sort: at most EMV_MAX_APPS entries, stable. */
    for (size_t i = 1; i < list->n; i++) {
        struct emv_app cur = list->app[i];
        size_t j = i;
        while (j > 0 && app_rank(&list->app[j - 1]) > app_rank(&cur)) {
            list->app[j] = list->app[j - 1];
            j--;
        }
        list->app[j] = cur;
    }
}

int emv_app_fci(const uint8_t *fci, size_t len, const uint8_t **pdol, size_t *pdol_len, char *label,
                size_t labelcap)
{
    struct tlv t6f, t;
    *pdol = NULL;
    *pdol_len = 0;
    if (label && labelcap)
        label[0] = '\0';
    if (tlv_find(fci, len, 0x6F, &t6f) != 1)
        return CARD_ERR_BAD_CARD;
    int rc = tlv_find(t6f.val, t6f.len, 0x9F38, &t);
    if (rc < 0)
        return CARD_ERR_BAD_CARD;
    if (rc == 1) {
        *pdol = t.val;
        *pdol_len = t.len;
    }
    if (label && labelcap && tlv_find(t6f.val, t6f.len, 0x50, &t) == 1)
        copy_text(label, labelcap, t.val, t.len);
    return 0;
}

static uint8_t bcd2(int v)
{
    return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

void emv_terminal_defaults(struct emv_terminal *t, int year, int month, int day,
                           const uint8_t un[4])
{
    *t = (struct emv_terminal){
        .country = {0x01, 0x56},
        .currency = {0x01, 0x56},
        .date = {bcd2(year % 100), bcd2(month), bcd2(day)},
        /* Contact chip, online capable, CVM online PIN/signature supported. */
        .ttq = {0x26, 0x00, 0x00, 0x80},
        .type = 0x22,
        .caps = {0xE0, 0xE1, 0xC8},
        .txn_type = 0x00,
    };
    memcpy(t->un, un, 4);
}

/* Terminal value for a PDOL tag, or NULL (then zeros are sent). */
static const uint8_t *term_value(const struct emv_terminal *t, uint32_t tag, size_t *n)
{
    switch (tag) {
    case 0x9F1A:
        *n = 2;
        return t->country;
    case 0x5F2A:
        *n = 2;
        return t->currency;
    case 0x9A:
        *n = 3;
        return t->date;
    case 0x9F37:
        *n = 4;
        return t->un;
    case 0x9F66:
        *n = 4;
        return t->ttq;
    case 0x9F35:
        *n = 1;
        return &t->type;
    case 0x9F33:
        *n = 3;
        return t->caps;
    case 0x9C:
        *n = 1;
        return &t->txn_type;
    default:
        return NULL;
    }
}

int emv_pdol_data(const uint8_t *pdol, size_t pdol_len, const struct emv_terminal *t, uint8_t *out,
                  size_t cap, size_t *outlen)
{
    if (cap < 2)
        return CARD_ERR_BAD_CARD;
    size_t w = 2, i = 0;
    while (i < pdol_len) {
        /* A DOL is tag + one-byte length, no values. */
        uint32_t tag = pdol[i++];
        if ((tag & 0x1F) == 0x1F) {
            int nb = 0;
            do {
                if (i >= pdol_len || nb == 2)
                    return CARD_ERR_BAD_CARD;
                tag = (tag << 8) | pdol[i];
                nb++;
            } while (pdol[i++] & 0x80);
        }
        if (i >= pdol_len)
            return CARD_ERR_BAD_CARD;
        size_t l = pdol[i++];
        if (l > cap - w || w + l > 2 + 127)
            return CARD_ERR_BAD_CARD;
        size_t vn = 0;
        const uint8_t *v = term_value(t, tag, &vn);
        memset(out + w, 0, l);
        if (v) {
            /* Numeric values are right-aligned; ours all have their exact
             * size in practice, and a shorter field keeps the leftmost bytes. */
            size_t c = vn < l ? vn : l;
            if (vn <= l)
                memcpy(out + w + (l - vn), v, c);
            else
                memcpy(out + w, v, c);
        }
        w += l;
    }
    out[0] = 0x83;
    out[1] = (uint8_t)(w - 2);
    *outlen = w;
    return 0;
}

static bool afl_valid(const uint8_t *afl, size_t n)
{
    if (n == 0 || n % 4)
        return false;
    for (size_t i = 0; i < n; i += 4) {
        uint8_t sfi = afl[i] >> 3;
        if ((afl[i] & 7) || sfi < 1 || sfi > 30 || afl[i + 1] < 1 || afl[i + 2] < afl[i + 1])
            return false;
    }
    return true;
}

int emv_gpo_afl(const uint8_t *resp, size_t len, const uint8_t **afl, size_t *afl_len)
{
    struct tlv t;
    size_t off = 0;
    if (tlv_next(resp, len, &off, &t) != 1)
        return CARD_ERR_BAD_CARD;
    if (t.tag == 0x80) {
        if (t.len < 6)
            return CARD_ERR_BAD_CARD;
        *afl = t.val + 2;
        *afl_len = t.len - 2;
    } else if (t.tag == 0x77) {
        struct tlv a;
        if (tlv_find(t.val, t.len, 0x82, &a) != 1 || a.len != 2 ||
            tlv_find(t.val, t.len, 0x94, &a) != 1)
            return CARD_ERR_BAD_CARD;
        *afl = a.val;
        *afl_len = a.len;
    } else {
        return CARD_ERR_BAD_CARD;
    }
    return afl_valid(*afl, *afl_len) ? 0 : CARD_ERR_BAD_CARD;
}

/* Decodes BCD digits of v into dst, stopping at an F pad nibble.
 * Returns digits written or -1 for a non-digit nibble / overflow. */
static int bcd_digits(const uint8_t *v, size_t len, char *dst, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len * 2; i++) {
        int nib = (i & 1) ? (v[i / 2] & 0x0F) : (v[i / 2] >> 4);
        if (nib == 0x0F) {
            /* Only trailing pad is allowed. */
            for (size_t k = i + 1; k < len * 2; k++)
                if (((k & 1) ? (v[k / 2] & 0x0F) : (v[k / 2] >> 4)) != 0x0F)
                    return -1;
            break;
        }
        if (nib > 9 || n + 1 >= cap)
            return -1;
        dst[n++] = (char)('0' + nib);
    }
    dst[n] = '\0';
    return (int)n;
}

int emv_track2_eq(const uint8_t *v, size_t len, char pan[20], char exp[5])
{
    char digits[80];
    size_t n = 0;
    if (len == 0 || len > 19)
        return CARD_ERR_BAD_CARD;
    for (size_t i = 0; i < len * 2; i++) {
        int nib = (i & 1) ? (v[i / 2] & 0x0F) : (v[i / 2] >> 4);
        if (nib == 0x0F)
            break;
        digits[n++] = nib == 0x0D ? '=' : (nib <= 9 ? (char)('0' + nib) : '?');
    }
    digits[n] = '\0';
    const char *sep = strchr(digits, '=');
    if (!sep || strchr(digits, '?'))
        return CARD_ERR_BAD_CARD;
    size_t pl = (size_t)(sep - digits);
    if (pl < 12 || pl > 19 || strlen(sep + 1) < 4)
        return CARD_ERR_BAD_CARD;
    memcpy(pan, digits, pl);
    pan[pl] = '\0';
    memcpy(exp, sep + 1, 4);
    exp[4] = '\0';
    return 0;
}

static bool valid_yymm(const char *e)
{
    if (strlen(e) != 4 || strspn(e, "0123456789") != 4)
        return false;
    int mm = (e[2] - '0') * 10 + (e[3] - '0');
    return mm >= 1 && mm <= 12;
}

int emv_record(const uint8_t *rec, size_t len, struct card_info *out, char pan57[20], char exp57[5])
{
    struct tlv t70, e;
    if (tlv_find(rec, len, 0x70, &t70) != 1)
        return CARD_ERR_BAD_CARD;
    size_t off = 0;
    int rc;
    while ((rc = tlv_next(t70.val, t70.len, &off, &e)) == 1) {
        switch (e.tag) {
        case 0x5A:
            if (!out->pan[0]) {
                int n = bcd_digits(e.val, e.len, out->pan, sizeof out->pan);
                if (n < 12) {
                    out->pan[0] = '\0';
                    return CARD_ERR_BAD_CARD;
                }
            }
            break;
        case 0x57:
            if (!pan57[0] && emv_track2_eq(e.val, e.len, pan57, exp57) != 0) {
                pan57[0] = exp57[0] = '\0';
                return CARD_ERR_BAD_CARD;
            }
            break;
        case 0x5F24:
            if (!out->expiry[0]) {
                char d[8];
                if (e.len != 3 || bcd_digits(e.val, 3, d, sizeof d) != 6)
                    return CARD_ERR_BAD_CARD;
                memcpy(out->expiry, d, 4);
                out->expiry[4] = '\0';
                if (!valid_yymm(out->expiry)) {
                    out->expiry[0] = '\0';
                    return CARD_ERR_BAD_CARD;
                }
            }
            break;
        case 0x5F34:
            if (!out->seq[0]) {
                if (e.len != 1 || bcd_digits(e.val, 1, out->seq, sizeof out->seq) != 2) {
                    out->seq[0] = '\0';
                    return CARD_ERR_BAD_CARD;
                }
            }
            break;
        case 0x5F20:
            if (!out->name[0])
                copy_text(out->name, sizeof out->name, e.val, e.len);
            break;
        default:
            break;
        }
    }
    return rc < 0 ? CARD_ERR_BAD_CARD : 0;
}

bool luhn_ok(const char *digits)
{
    size_t n = strlen(digits);
    if (n < 2 || n > 19 || strspn(digits, "0123456789") != n)
        return false;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digits[n - 1 - i] - '0';
        if (i & 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

int emv_finish(struct card_info *out, const char *pan57, const char *exp57)
{
    if (!out->pan[0] && pan57[0])
        snprintf(out->pan, sizeof out->pan, "%s", pan57);
    if (!out->expiry[0] && exp57[0]) {
        snprintf(out->expiry, sizeof out->expiry, "%s", exp57);
        if (!valid_yymm(out->expiry))
            return CARD_ERR_BAD_CARD;
    }
    size_t n = strlen(out->pan);
    if (n < 12 || n > 19 || !out->expiry[0])
        return CARD_ERR_BAD_CARD;
    if (pan57[0] && strcmp(pan57, out->pan) != 0)
        return CARD_ERR_BAD_CARD;
    return luhn_ok(out->pan) ? 0 : CARD_ERR_BAD_CARD;
}

int card_from_track2(const char *track2, struct card_info *out)
{
    memset(out, 0, sizeof *out);
    out->source = CARD_SRC_MSR;
    const char *p = track2;
    if (*p == ';')
        p++;
    size_t pl = strspn(p, "0123456789");
    if (pl < 12 || pl > 19 || (p[pl] != '=' && p[pl] != 'D'))
        return CARD_ERR_BAD_CARD;
    const char *rest = p + pl + 1;
    size_t rl = strspn(rest, "0123456789");
    if (rl < 4)
        return CARD_ERR_BAD_CARD;
    /* The rest must be digits up to an optional end sentinel (and LRC). */
    if (rest[rl] != '\0' && rest[rl] != '?')
        return CARD_ERR_BAD_CARD;
    if (rest[rl] == '?' && strlen(rest + rl) > 2)
        return CARD_ERR_BAD_CARD;
    memcpy(out->pan, p, pl);
    out->pan[pl] = '\0';
    memcpy(out->expiry, rest, 4);
    out->expiry[4] = '\0';
    if (!valid_yymm(out->expiry) || !luhn_ok(out->pan)) {
        int rc = CARD_ERR_BAD_CARD;
        memset(out, 0, sizeof *out);
        out->source = CARD_SRC_MSR;
        return rc;
    }
    return CARD_OK;
}
