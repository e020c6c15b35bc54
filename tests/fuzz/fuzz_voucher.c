/* fuzz_voucher — vsign_find_id (business/voucher_sign.h) on arbitrary bytes
 * presented as a voucher (VOUCHER_VERIFY's pdf, `zhanye voucher verify
 * FILE`), and vcdb_id_parse on what it finds, checked against the
 * contract: an id found is 1..VOUCHER_ID_MAX of [0-9A-Z-], NUL-terminated,
 * and occurs in the input right after the marker and before a ')'; none
 * found leaves "". */
#include "business/voucher_db.h"
#include "business/voucher_sign.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

#define MARK "/Keywords (zhanye-voucher:"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char id[VOUCHER_ID_MAX + 1];
    memset(id, 'x', sizeof id);
    int rc = vsign_find_id(data, size, id);
    if (rc != VS_OK) {
        CHECK(rc == VS_BAD && id[0] == '\0');
        return 0;
    }
    size_t n = strlen(id);
    CHECK(n >= 1 && n <= VOUCHER_ID_MAX);
    for (size_t i = 0; i < n; i++)
        CHECK((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'Z') || id[i] == '-');
    char want[sizeof MARK + VOUCHER_ID_MAX + 1];
    memcpy(want, MARK, sizeof MARK - 1);
    memcpy(want + sizeof MARK - 1, id, n);
    want[sizeof MARK - 1 + n] = ')';
    CHECK(memmem(data, size, want, sizeof MARK + n) != NULL);
    int64_t bank = 0, num = 0;
    if (vcdb_id_parse(id, &bank, &num) == 0) {
        char again[VOUCHER_ID_MAX + 1];
        CHECK(bank > 0 && num > 0);
        vcdb_id_format(bank, num, again, sizeof again);
        int64_t b2 = 0, n2 = 0;
        CHECK(vcdb_id_parse(again, &b2, &n2) == 0 && b2 == bank && n2 == num);
    }
    return 0;
}
