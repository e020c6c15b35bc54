/* idcard_frame — see idcard_frame.h. */
#include "idcard_frame.h"

#include <string.h>

const uint8_t IDF_PREAMBLE_BYTES[IDF_PREAMBLE_LEN] = {0xAA, 0xAA, 0xAA, 0x96, 0x69};

const char *idf_rc_name(enum idf_rc rc)
{
    static const char *const names[] = {
        [IDF_OK] = "ok",         [IDF_TRUNCATED] = "truncated", [IDF_PREAMBLE] = "preamble",
        [IDF_LENGTH] = "length", [IDF_OVERSIZE] = "oversize",   [IDF_CHECKSUM] = "checksum",
        [IDF_STATUS] = "status", [IDF_TRAILING] = "trailing",
    };
    if ((unsigned)rc < sizeof names / sizeof names[0] && names[rc])
        return names[rc];
    return "?";
}

static uint8_t xor_over(const uint8_t *p, size_t n)
{
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= p[i];
    return x;
}

static int build(const uint8_t *body, size_t n, uint8_t *out, size_t cap)
{
    size_t len = n + 1;
    if (len > IDF_MAX_LEN || cap < IDF_HEADER_LEN + len)
        return -1;
    memcpy(out, IDF_PREAMBLE_BYTES, IDF_PREAMBLE_LEN);
    out[5] = (uint8_t)(len >> 8);
    out[6] = (uint8_t)len;
    if (n)
        memcpy(out + IDF_HEADER_LEN, body, n);
    out[IDF_HEADER_LEN + n] = xor_over(out + 5, 2 + n);
    return (int)(IDF_HEADER_LEN + len);
}

int idf_build_command(enum idcard_cmd cmd, uint8_t *out, size_t cap)
{
    const uint8_t body[2] = {(uint8_t)((unsigned)cmd >> 8), (uint8_t)cmd};
    return build(body, 2, out, cap);
}

int idf_build_reply(uint8_t sw, const uint8_t *data, size_t n, uint8_t *out, size_t cap)
{
    if (n + 4 > IDF_MAX_LEN || cap < IDF_HEADER_LEN + n + 4)
        return -1;
    out[IDF_HEADER_LEN] = 0;
    out[IDF_HEADER_LEN + 1] = 0;
    out[IDF_HEADER_LEN + 2] = sw;
    if (n)
        memmove(out + IDF_HEADER_LEN + 3, data, n);
    size_t len = n + 4;
    memcpy(out, IDF_PREAMBLE_BYTES, IDF_PREAMBLE_LEN);
    out[5] = (uint8_t)(len >> 8);
    out[6] = (uint8_t)len;
    out[IDF_HEADER_LEN + 3 + n] = xor_over(out + 5, 2 + 3 + n);
    return (int)(IDF_HEADER_LEN + len);
}

enum idf_rc idf_frame_total(const uint8_t *buf, size_t n, size_t *total)
{
    size_t k = n < IDF_PREAMBLE_LEN ? n : IDF_PREAMBLE_LEN;
    if (memcmp(buf, IDF_PREAMBLE_BYTES, k) != 0)
        return IDF_PREAMBLE;
    if (n < IDF_HEADER_LEN)
        return IDF_TRUNCATED;
    size_t len = (size_t)buf[5] << 8 | buf[6];
    if (len > IDF_MAX_LEN)
        return IDF_OVERSIZE;
    if (len < 3)
        return IDF_LENGTH;
    *total = IDF_HEADER_LEN + len;
    return IDF_OK;
}

static int status_known(uint8_t sw)
{
    switch (sw) {
    case IDSW_OK:
    case IDSW_FOUND:
    case IDSW_NO_CARD:
    case IDSW_SELECT_FAILED:
    case IDSW_READ_FAILED:
    case IDSW_CARD_TYPE:
    case IDSW_AUTH_FAILED:
    case IDSW_DATA_CHECKSUM:
    case IDSW_DATA_LENGTH:
    case IDSW_RX_CHECKSUM:
    case IDSW_RX_LENGTH:
    case IDSW_UNKNOWN_CMD:
    case IDSW_UNAUTHORISED:
    case IDSW_UNKNOWN_ERROR:
    case IDSW_SAM_SELFTEST:
    case IDSW_SAM_UNAUTHORISED:
    case IDSW_NO_ITEM:
        return 1;
    default:
        return 0;
    }
}

/* Shared checks of a frame of at least min_len LEN. */
static enum idf_rc frame_check(const uint8_t *buf, size_t n, size_t min_len, size_t *need)
{
    size_t total = 0;
    if (need)
        *need = IDF_HEADER_LEN;
    enum idf_rc rc = idf_frame_total(buf, n, &total);
    if (rc != IDF_OK)
        return rc;
    if (total - IDF_HEADER_LEN < min_len)
        return IDF_LENGTH;
    if (need)
        *need = total;
    if (n < total)
        return IDF_TRUNCATED;
    if (n > total)
        return IDF_TRAILING;
    if (xor_over(buf + 5, total - 6) != buf[total - 1])
        return IDF_CHECKSUM;
    return IDF_OK;
}

enum idf_rc idf_parse_reply(const uint8_t *buf, size_t n, struct idf_reply *out, size_t *need)
{
    enum idf_rc rc = frame_check(buf, n, 4, need);
    if (rc != IDF_OK)
        return rc;
    const uint8_t *b = buf + IDF_HEADER_LEN;
    if (b[0] != 0 || b[1] != 0 || !status_known(b[2]))
        return IDF_STATUS;
    out->sw = b[2];
    out->data = b + 3;
    out->data_len = n - IDF_HEADER_LEN - 4;
    return IDF_OK;
}

enum idf_rc idf_parse_command(const uint8_t *buf, size_t n, uint16_t *cmd)
{
    enum idf_rc rc = frame_check(buf, n, 3, NULL);
    if (rc != IDF_OK)
        return rc;
    if (n != IDF_HEADER_LEN + 3)
        return IDF_LENGTH;
    *cmd = (uint16_t)(buf[IDF_HEADER_LEN] << 8 | buf[IDF_HEADER_LEN + 1]);
    return IDF_OK;
}

enum idf_rc idf_check_reply(enum idcard_cmd cmd, const struct idf_reply *r)
{
    switch (cmd) {
    case IDC_FIND:
        if (r->sw == IDSW_FOUND && r->data_len != 4)
            return IDF_LENGTH;
        return IDF_OK;
    case IDC_SELECT:
        if (r->sw == IDSW_OK && r->data_len != 8)
            return IDF_LENGTH;
        return IDF_OK;
    case IDC_READ:
        if (r->sw != IDSW_OK)
            return IDF_OK;
        if (r->data_len != IDF_READ_DATA_LEN)
            return IDF_LENGTH;
        if (((size_t)r->data[0] << 8 | r->data[1]) != IDF_TEXT_LEN ||
            ((size_t)r->data[2] << 8 | r->data[3]) != IDF_PHOTO_LEN)
            return IDF_LENGTH;
        return IDF_OK;
    }
    return IDF_LENGTH;
}

/* ---- text ---- */

const char *idt_rc_name(enum idt_rc rc)
{
    static const char *const names[] = {
        [IDT_OK] = "ok",       [IDT_LENGTH] = "length", [IDT_CHARS] = "chars",
        [IDT_SEX] = "sex",     [IDT_NATION] = "nation", [IDT_DATE] = "date",
        [IDT_ID_NO] = "id_no", [IDT_EMPTY] = "empty",
    };
    if ((unsigned)rc < sizeof names / sizeof names[0] && names[rc])
        return names[rc];
    return "?";
}

/* GB 3304 codes 01..56, then 97 and 98. */
static const char *const NATIONS[] = {
    [1] = "汉",        [2] = "蒙古",
    [3] = "回",        [4] = "藏",
    [5] = "维吾尔",    [6] = "苗",
    [7] = "彝",        [8] = "壮",
    [9] = "布依",      [10] = "朝鲜",
    [11] = "满",       [12] = "侗",
    [13] = "瑶",       [14] = "白",
    [15] = "土家",     [16] = "哈尼",
    [17] = "哈萨克",   [18] = "傣",
    [19] = "黎",       [20] = "傈僳",
    [21] = "佤",       [22] = "畲",
    [23] = "高山",     [24] = "拉祜",
    [25] = "水",       [26] = "东乡",
    [27] = "纳西",     [28] = "景颇",
    [29] = "柯尔克孜", [30] = "土",
    [31] = "达斡尔",   [32] = "仫佬",
    [33] = "羌",       [34] = "布朗",
    [35] = "撒拉",     [36] = "毛南",
    [37] = "仡佬",     [38] = "锡伯",
    [39] = "阿昌",     [40] = "普米",
    [41] = "塔吉克",   [42] = "怒",
    [43] = "乌孜别克", [44] = "俄罗斯",
    [45] = "鄂温克",   [46] = "德昂",
    [47] = "保安",     [48] = "裕固",
    [49] = "京",       [50] = "塔塔尔",
    [51] = "独龙",     [52] = "鄂伦春",
    [53] = "赫哲",     [54] = "门巴",
    [55] = "珞巴",     [56] = "基诺",
    [97] = "其他",     [98] = "外国血统中国籍人士",
};

const char *idcard_nation_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof NATIONS / sizeof NATIONS[0])
        return NULL;
    return NATIONS[code];
}

int idcard_id_no_valid(const char *id)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char chk[] = "10X98765432";
    if (strlen(id) != 18)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (id[i] < '0' || id[i] > '9')
            return 0;
        sum += (id[i] - '0') * w[i];
    }
    return id[17] == chk[sum % 11];
}

/* UCS-2LE field -> UTF-8, trailing spaces/NULs trimmed. 0, or -1. */
static int field_utf8(const uint8_t *p, size_t bytes, char *out, size_t cap)
{
    size_t units = bytes / 2;
    while (units > 0) {
        unsigned u = p[2 * (units - 1)] | (unsigned)p[2 * (units - 1) + 1] << 8;
        if (u != 0x20 && u != 0)
            break;
        units--;
    }
    size_t o = 0;
    for (size_t i = 0; i < units; i++) {
        unsigned u = p[2 * i] | (unsigned)p[2 * i + 1] << 8;
        if (u < 0x20 || u == 0x7F || (u >= 0xD800 && u <= 0xDFFF))
            return -1;
        char tmp[3];
        size_t k;
        if (u < 0x80) {
            tmp[0] = (char)u;
            k = 1;
        } else if (u < 0x800) {
            tmp[0] = (char)(0xC0 | u >> 6);
            tmp[1] = (char)(0x80 | (u & 0x3F));
            k = 2;
        } else {
            tmp[0] = (char)(0xE0 | u >> 12);
            tmp[1] = (char)(0x80 | ((u >> 6) & 0x3F));
            tmp[2] = (char)(0x80 | (u & 0x3F));
            k = 3;
        }
        if (o + k + 1 > cap)
            return -1;
        memcpy(out + o, tmp, k);
        o += k;
    }
    out[o] = '\0';
    return 0;
}

static int all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

enum idt_rc idcard_text_decode(const uint8_t *text, size_t n, struct idcard_info *out)
{
    memset(out, 0, sizeof *out);
    if (!text || n != IDF_TEXT_LEN)
        return IDT_LENGTH;
    char nation[8] = {0};
    struct {
        size_t bytes;
        char *dst;
        size_t cap;
    } f[] = {
        {30, out->name, sizeof out->name},
        {2, out->sex_code, sizeof out->sex_code},
        {4, nation, sizeof nation},
        {16, out->birth, sizeof out->birth},
        {70, out->address, sizeof out->address},
        {36, out->id_no, sizeof out->id_no},
        {30, out->issuer, sizeof out->issuer},
        {16, out->valid_from, sizeof out->valid_from},
        {16, out->valid_to, sizeof out->valid_to},
    };
    size_t off = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (field_utf8(text + off, f[i].bytes, f[i].dst, f[i].cap) != 0)
            return IDT_CHARS;
        off += f[i].bytes;
    }
    if (strcmp(out->sex_code, "1") == 0)
        memcpy(out->sex, "男", sizeof "男");
    else if (strcmp(out->sex_code, "2") == 0)
        memcpy(out->sex, "女", sizeof "女");
    else
        return IDT_SEX;
    if (!all_digits(nation, 2))
        return IDT_NATION;
    const char *nn = idcard_nation_name((nation[0] - '0') * 10 + (nation[1] - '0'));
    if (!nn)
        return IDT_NATION;
    memcpy(out->nation_code, nation, 3);
    strncpy(out->nation, nn, sizeof out->nation - 1);
    if (!all_digits(out->birth, 8) || !all_digits(out->valid_from, 8))
        return IDT_DATE;
    if (!all_digits(out->valid_to, 8) && strcmp(out->valid_to, "长期") != 0)
        return IDT_DATE;
    if (!idcard_id_no_valid(out->id_no))
        return IDT_ID_NO;
    if (!out->name[0] || !out->address[0])
        return IDT_EMPTY;
    return IDT_OK;
}

/* UTF-8 (BMP) -> UCS-2LE into bytes (space padded). 0, or -1. */
static int field_ucs2(const char *s, uint8_t *dst, size_t bytes)
{
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned u;
        if (p[0] < 0x80) {
            u = p[0];
            p += 1;
        } else if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80) {
            u = (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
            p += 2;
        } else if ((p[0] & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
            u = (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
            p += 3;
        } else {
            return -1;
        }
        if (o + 2 > bytes)
            return -1;
        dst[o] = (uint8_t)u;
        dst[o + 1] = (uint8_t)(u >> 8);
        o += 2;
    }
    for (; o + 1 < bytes; o += 2) {
        dst[o] = 0x20;
        dst[o + 1] = 0;
    }
    return 0;
}

int idcard_text_encode(const struct idcard_info *in, uint8_t out[IDF_TEXT_LEN])
{
    const struct {
        const char *src;
        size_t bytes;
    } f[] = {
        {in->name, 30},     {in->sex_code, 2}, {in->nation_code, 4}, {in->birth, 16},
        {in->address, 70},  {in->id_no, 36},   {in->issuer, 30},     {in->valid_from, 16},
        {in->valid_to, 16}, {"", 36},
    };
    size_t off = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (field_ucs2(f[i].src, out + off, f[i].bytes) != 0)
            return -1;
        off += f[i].bytes;
    }
    return 0;
}
