/* customer_id.c — GB 11643 ID numbers, GB 32100 credit codes, mobile
 * numbers (see customer_id.h). */
#include "business/customer_id.h"

#include <stdbool.h>
#include <string.h>

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* ---- GB 11643 ------------------------------------------------------------------ */

static bool province(int p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
           (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71;
}

static bool region_ok(const char *s)
{
    int p = num(s, 2);
    bool whole_province = memcmp(s + 2, "0000", 4) == 0;
    if (p == 81 || p == 82 || p == 83) /* HK, Macao, Taiwan residence permits */
        return whole_province;
    return province(p) && !whole_province;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_ok(const char *s, int32_t today)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = num(s, 4), m = num(s + 4, 2), d = num(s + 6, 2);
    if (y < 1850 || m < 1 || m > 12 || d < 1)
        return false;
    int max = days[m - 1] + (m == 2 && leap(y));
    return d <= max && (int32_t)num(s, 8) <= today;
}

/* ISO 7064 MOD 11-2 over the first 17 digits. */
static char mod11_2(const char *s)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s[i] - '0') * w[i];
    return check[sum % 11];
}

int cid_resident(const char *in, int32_t today, char out[CID_LEN + 1])
{
    if (!in || strlen(in) != CID_LEN)
        return CID_LENGTH;
    char id[CID_LEN + 1];
    memcpy(id, in, sizeof id);
    if (id[17] == 'x')
        id[17] = 'X';
    for (int i = 0; i < 17; i++)
        if (!digit(id[i]))
            return CID_CHARS;
    if (!digit(id[17]) && id[17] != 'X')
        return CID_CHARS;
    if (!region_ok(id))
        return CID_REGION;
    if (!date_ok(id + 6, today))
        return CID_DATE;
    if (mod11_2(id) != id[17])
        return CID_CHECK;
    memcpy(out, id, sizeof id);
    return CID_OK;
}

int32_t cid_birth(const char *id_no)
{
    return (int32_t)num(id_no + 6, 8);
}

char cid_sex(const char *id_no)
{
    return (id_no[16] - '0') % 2 ? 'M' : 'F';
}

/* ---- GB 32100 ------------------------------------------------------------------- */

static const char USCC_ALPHABET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* The value of c in the alphabet (0..30), or -1. */
static int uscc_value(char c)
{
    const char *p = c ? strchr(USCC_ALPHABET, c) : NULL;
    return p ? (int)(p - USCC_ALPHABET) : -1;
}

int cid_uscc(const char *in, char out[CID_LEN + 1])
{
    if (!in || strlen(in) != CID_LEN)
        return CID_LENGTH;
    char code[CID_LEN + 1];
    int v[CID_LEN];
    for (int i = 0; i < CID_LEN; i++) {
        char c = in[i];
        code[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        v[i] = uscc_value(code[i]);
        if (v[i] < 0)
            return CID_CHARS;
    }
    code[CID_LEN] = '\0';
    for (int i = 2; i < 8; i++)
        if (!digit(code[i]))
            return CID_CHARS;
    if (!strchr("123456789ANY", code[0]))
        return CID_AUTHORITY;
    int sum = 0, w = 1;
    for (int i = 0; i < 17; i++) {
        sum += v[i] * w;
        w = w * 3 % 31;
    }
    int c18 = (31 - sum % 31) % 31;
    if (v[17] != c18)
        return CID_CHECK;
    memcpy(out, code, sizeof code);
    return CID_OK;
}

/* ---- mobile --------------------------------------------------------------------- */

int cid_mobile(const char *in, char out[CID_PHONE_LEN + 1])
{
    if (!in || strlen(in) != CID_PHONE_LEN)
        return CID_LENGTH;
    for (int i = 0; i < CID_PHONE_LEN; i++)
        if (!digit(in[i]))
            return CID_CHARS;
    if (in[0] != '1' || in[1] < '3')
        return CID_REGION;
    memcpy(out, in, CID_PHONE_LEN + 1);
    return CID_OK;
}

const char *cid_message(int rc)
{
    switch (rc) {
    case CID_OK:
        return "正确";
    case CID_LENGTH:
        return "长度不正确";
    case CID_CHARS:
        return "含有不允许的字符";
    case CID_REGION:
        return "地区代码或号段不正确";
    case CID_DATE:
        return "出生日期不正确";
    case CID_CHECK:
        return "校验码不正确";
    case CID_AUTHORITY:
        return "登记管理部门代码不正确";
    default:
        return "格式不正确";
    }
}
